"""Start the app exactly as `make run` does, on a free loopback port, and stop it the way a service manager would.

Shared by the browser tests and `make bench`. Only one build of the front end can run at a time (they share .web).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


class AppStartError(RuntimeError):
    """`make run` exited or did not answer in time; the message carries the end of its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_tree_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@dataclass
class RunningApp:
    url: str
    process: subprocess.Popen
    log_path: Path
    stopped_cleanly: bool = False

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


def _wait_ready(app: RunningApp, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if app.process.poll() is not None:
            raise AppStartError(f"`make run` exited with {app.process.returncode}:\n{app.log_tail(4000)}")
        try:
            if httpx.get(f"{app.url}/api/health", timeout=2).status_code == 200 and \
                    httpx.get(f"{app.url}/login", timeout=5, follow_redirects=True).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AppStartError(f"the app did not start in {timeout:.0f} s:\n{app.log_tail(4000)}")
        time.sleep(2)


def stop(app: RunningApp) -> bool:
    """SIGTERM to `make run` alone; True when the whole process group went away (SIGKILL otherwise)."""
    proc = app.process
    proc.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)
    for _ in range(20):
        if proc.poll() is not None and not process_tree_alive(proc.pid):
            app.stopped_cleanly = True
            return True
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    return False


def start_app(data_dir: Path, env_overrides: dict[str, str] | None = None, timeout: float = 600) -> RunningApp:
    """`make run` with its own data directory and port, once /api/health and /login answer."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REFLEX_DB_URL", "PORTAL_DATA_DIR")}
    url = f"http://127.0.0.1:{port}"
    # The address it is browsed at is its public URL: only that origin may use a session.
    env.update(PORTAL_DATA_DIR=str(data_dir), PORTAL_PORT=str(port), PORTAL_PUBLIC_URL=url,
               PORTAL_LOGIN_IP_LIMIT="1000")
    env.update(env_overrides or {})
    log_path = data_dir / "make-run.log"
    with open(log_path, "w") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    app = RunningApp(url, proc, log_path)
    try:
        _wait_ready(app, timeout)
    except BaseException:
        stop(app)
        raise
    return app


@contextlib.contextmanager
def running_app(data_dir: Path, env_overrides: dict[str, str] | None = None, timeout: float = 600) -> Iterator[RunningApp]:
    app = start_app(data_dir, env_overrides, timeout)
    try:
        yield app
    finally:
        stop(app)
