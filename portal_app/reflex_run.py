"""`reflex run` as `make run` starts it (through portal_app/serve.py), without rebuilding an unchanged front end.

``python -m portal_app.reflex_run run --env prod ...`` takes `reflex run`'s arguments. When the fingerprint of
everything that feeds the front end (portal_app/build_fingerprint.py) is the one stored with the last successful
build, Reflex's two build steps are left out: compiling the pages into `.web` and the production bundle
(`npm run export`); the server then starts at once and serves that build. Otherwise the run is Reflex's own, and
the fingerprint is stored once the build has succeeded.

Reflex (pinned in requirements.txt) offers no switch for this, so the two steps are replaced on its modules
(``reflex.reflex._compile_app``, ``reflex.utils.build.setup_frontend_prod``) before its command line runs. If a
future Reflex no longer has them, every start builds as before and says so.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _say(message: str) -> None:
    print(f"portal: {message}", flush=True)


def _prod_frontend_run(argv: list[str]) -> bool:
    """Only `reflex run --env prod` with a front end builds it (other commands go to Reflex untouched)."""
    return (bool(argv) and argv[0] == "run" and "prod" in argv and "--backend-only" not in argv
            and not os.environ.get("REFLEX_BACKEND_ONLY"))


def install_build_skip(argv: list[str], root: Path) -> str:
    """Arrange for this process's `reflex run` to skip or record the build; returns what it decided."""
    from reflex import reflex as reflex_cli
    from reflex.utils import build, prerequisites

    from portal_app import build_fingerprint
    from portal_app.settings import settings

    compile_app: Callable[..., Any] | None = getattr(reflex_cli, "_compile_app", None)
    setup_frontend_prod: Callable[[Path], None] | None = getattr(build, "setup_frontend_prod", None)
    setup_frontend: Callable[[Path], None] | None = getattr(build, "setup_frontend", None)
    if compile_app is None or setup_frontend_prod is None or setup_frontend is None:
        _say("this Reflex version has no known build steps to skip: building the front end")
        return "unknown-reflex"
    web_dir = prerequisites.get_web_dir()
    environ = dict(os.environ)  # as given: Reflex adds variables of its own to the environment as it runs
    value = build_fingerprint.fingerprint(root, argv, environ, data_dir=settings.data_dir)
    if build_fingerprint.build_is_current(web_dir, value) and not prerequisites.needs_reinit():
        _say("the front end is unchanged since its last build: serving that build (no compile, no npm build)")

        def skip_compile(**_kwargs: Any) -> None:
            return None

        setattr(reflex_cli, "_compile_app", skip_compile)  # noqa: B010 (a private name of Reflex's)
        setattr(build, "setup_frontend_prod", setup_frontend)  # noqa: B010 (env.json as always; no npm build)
        return "skipped"

    build_fingerprint.forget(web_dir)  # a build that stops half-way must not look finished next time
    _use_npms_registry()

    def setup_and_record(project_root: Path) -> None:
        setup_frontend_prod(project_root)
        # A file changed while the build ran may or may not be in it: then record nothing (the next start builds).
        if build_fingerprint.fingerprint(root, argv, environ, data_dir=settings.data_dir) == value:
            build_fingerprint.store(web_dir, value)
        else:
            _say("a source file changed during the build: the next start builds the front end again")

    setattr(build, "setup_frontend_prod", setup_and_record)  # noqa: B010
    _say("the front end changed (or was never built here): compiling and building it")
    return "build"


def _use_npms_registry() -> None:
    """Point Reflex at npm's configured registry (NPM_CONFIG_REGISTRY, else `npm config get registry`): without
    it Reflex times requests to public registries to pick one. Only a build needs it."""
    if os.environ.get("NPM_CONFIG_REGISTRY"):
        return
    npm = Path(sys.executable).parent / "npm"
    try:
        found = subprocess.run([str(npm), "config", "get", "registry"], capture_output=True, text=True, timeout=60,
                               check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return
    if found.startswith(("http://", "https://")):
        os.environ["NPM_CONFIG_REGISTRY"] = found


def cache_bytecode(root: Path) -> None:
    """Write the bytecode of the app's own modules ahead (``__pycache__``), so the server's import of the app reads
    it instead of compiling some 300 modules from source on every start: two seconds of a start where
    PYTHONDONTWRITEBYTECODE is set or the sources were just copied. Up-to-date files are only looked at."""
    import compileall

    for package in ("portal_app", "models"):
        if (root / package).is_dir():
            compileall.compile_dir(root / package, quiet=2, workers=1)


def main(argv: list[str]) -> int:
    if _prod_frontend_run(argv):
        cache_bytecode(Path.cwd())
        install_build_skip(argv, Path.cwd())
    from reflex.reflex import cli

    sys.argv = ["reflex", *argv]
    result = cli(args=argv)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
