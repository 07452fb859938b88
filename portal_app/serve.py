"""`make run`'s process: runs `reflex run` and hands a stop signal to every process it started.

`reflex run` goes through portal_app/reflex_run.py, which leaves out the front end's compile and build when
nothing that feeds them changed since the last successful build.

`reflex run --env prod` starts the backend (gunicorn and its uvicorn workers) as child processes and, when it gets
SIGTERM itself, exits without stopping them. A service manager or container runtime signals only the process it
started, so this wrapper puts Reflex and its children in a process group of their own, forwards SIGTERM, SIGINT
and SIGHUP to that whole group, and waits until the group is gone (killing what is left after a grace period).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

GRACE_SECONDS = 20.0
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap_group(pgid: int, grace: float) -> None:
    """Wait for every process of the group to exit; SIGKILL the rest after ``grace`` seconds."""
    deadline = time.monotonic() + grace
    while _group_alive(pgid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            return
        time.sleep(0.2)


def main(argv: list[str]) -> int:
    # Every worker writes its metrics to files in one directory (see portal_app/metrics.py); the files of an
    # earlier run are removed before any worker starts.
    from portal_app.metrics import ensure_multiproc_dir

    ensure_multiproc_dir(clear=True)
    # `reflex run` itself, except that an unchanged front end is not built again (portal_app/reflex_run.py).
    child = subprocess.Popen([sys.executable, "-m", "portal_app.reflex_run", *argv], process_group=0)
    stopping: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        stopping.append(signum)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signum)

    for sig in FORWARDED:
        signal.signal(sig, forward)
    code = child.wait()
    if not stopping:  # Reflex ended on its own (an error): stop whatever it left running
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
    _reap_group(child.pid, GRACE_SECONDS)
    return 0 if stopping and code in (0, -signal.SIGTERM, -signal.SIGINT, -signal.SIGHUP) else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
