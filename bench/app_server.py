"""Start the app exactly as `make run` does, on a free loopback port, and stop it the way a service manager would.

Shared by the browser tests and `make bench`. The app is never built in the checkout it is started from: `make run`
compiles the front end into `.web` beside the sources, and an installation serving from this checkout would then
point every page at the test app's port. So each start copies the sources into a build directory of its own outside
the work tree (kept between runs, so the front end's packages are installed once) and runs `make run` there.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# Never copied into a build directory: local state, generated output and what each build makes for itself.
NOT_SOURCES_AT_TOP = {".git", ".venv", ".web", ".states", "data", "test-artifacts", "uploaded_files", ".lock"}
NOT_SOURCES_UNDER_BENCH = {"data", ".node"}
NOT_SOURCES_ANYWHERE = {"node_modules", "__pycache__", ".pytest_cache", ".hypothesis"}


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
    workdir: Path
    data_dir: Path | None = None
    env_overrides: dict[str, str] | None = None
    env: dict[str, str] | None = None  # the whole environment `make run` was given (start_again gives it again)
    stopped_cleanly: bool = False
    _lock: int | None = None

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


def _wait_ready(app: RunningApp, timeout: float, poll: float = 2.0) -> None:
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
        time.sleep(poll)


def stop(app: RunningApp) -> bool:
    """SIGTERM to `make run` alone; True when the whole process group went away (SIGKILL otherwise)."""
    try:
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
    finally:
        _release(app)


def _release(app: RunningApp) -> None:
    if app._lock is not None:
        os.close(app._lock)  # closing the descriptor releases the build directory's lock
        app._lock = None


def _ignore_local_state(directory: str, names: list[str]) -> set[str]:
    ignored = {n for n in names if n in NOT_SOURCES_ANYWHERE or n.endswith((".pyc", ".db", ".db-journal", ".db-wal"))}
    here = Path(directory).resolve()
    if here == ROOT:
        ignored |= NOT_SOURCES_AT_TOP & set(names)
    elif here == ROOT / "bench":
        ignored |= NOT_SOURCES_UNDER_BENCH & set(names)
    return ignored


def _lock_build_dir() -> tuple[Path, int]:
    """A build directory outside the work tree that no other running start holds, and its lock.

    The directory is named after the checkout, so each checkout keeps its own build between runs; a second
    start while the first is running (two test runs at once) takes the next free one.
    """
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    base = Path(os.environ.get("PORTAL_TEST_BUILD_DIR") or tempfile.gettempdir())
    for slot in range(16):
        workdir = base / f"portal-app-build-{checkout}-{slot}"
        workdir.mkdir(parents=True, exist_ok=True)
        fd = os.open(workdir / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return workdir, fd
    raise AppStartError(f"every build directory under {base} is in use by another running app")


def prepare_build_dir() -> tuple[Path, int]:
    """Copy the current sources (committed or not) into a locked build directory and return it with its lock.

    Everything but the front end's build (`.web`, reused so its packages are installed once) is replaced, so no
    file deleted from the checkout lingers. The virtualenv is the checkout's own, linked, not copied.
    """
    workdir, lock = _lock_build_dir()
    if workdir.resolve().is_relative_to(ROOT):
        os.close(lock)
        raise AppStartError(f"the build directory {workdir} is inside the checkout {ROOT}; choose another one")
    for entry in workdir.iterdir():
        if entry.name in {".web", ".lock"}:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    shutil.copytree(ROOT, workdir, ignore=_ignore_local_state, dirs_exist_ok=True, symlinks=True)
    (workdir / ".venv").symlink_to(ROOT / ".venv")
    return workdir, lock


def start_app(
    data_dir: Path,
    env_overrides: dict[str, str] | None = None,
    timeout: float = 600,
    *,
    port: int | None = None,
    build_dir: Path | None = None,
    poll: float = 2.0,
) -> RunningApp:
    """`make run` with its own data directory and port, from a build directory outside the checkout, once
    /api/health and /login answer.

    ``build_dir`` is one the caller prepared and holds the lock of (:func:`prepare_build_dir`; two starts in a row
    from the same build, as a restart measurement needs), ``port`` a port to reuse, ``poll`` how often to ask.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    lock: int | None = None
    if build_dir is None:
        build_dir, lock = prepare_build_dir()
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REFLEX_DB_URL", "PORTAL_DATA_DIR")}
    url = f"http://127.0.0.1:{port}"
    # The address it is browsed at is its public URL: only that origin may use a session.
    env.update(PORTAL_DATA_DIR=str(data_dir), PORTAL_PORT=str(port), PORTAL_PUBLIC_URL=url,
               PORTAL_LOGIN_IP_LIMIT="1000")
    env.update(env_overrides or {})
    log_path = data_dir / "make-run.log"
    app = RunningApp(url, _make_run(build_dir, env, log_path, "w"), log_path, build_dir, data_dir, env_overrides, env,
                     _lock=lock)
    try:
        _wait_ready(app, timeout, poll)
    except BaseException:
        stop(app)
        raise
    return app


def _make_run(workdir: Path, env: dict[str, str], log_path: Path, mode: str) -> subprocess.Popen:
    with open(log_path, mode) as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(["make", "run"], cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def server_processes(app: RunningApp) -> list[int]:
    """`make run` and every process under it. portal_app/serve.py runs Reflex in a process group of its own, so
    the tree, not one group, is what holds every server process."""
    import psutil

    try:
        root = psutil.Process(app.process.pid)
        return [root.pid, *(child.pid for child in root.children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


def kill_hard(app: RunningApp, timeout: float = 15) -> list[int]:
    """SIGKILL to every server process at once (as a machine losing power or the OOM killer would end them): no
    process gets to finish a request, flush or clean up. Returns the ids killed, once all are gone."""
    pids = server_processes(app)
    groups = {os.getpgid(pid) for pid in pids if _pgid_or_none(pid) is not None}
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        app.process.wait(timeout=timeout)
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return pids


def _pgid_or_none(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def start_again(app: RunningApp, timeout: float = 600, poll: float = 2.0) -> RunningApp:
    """`make run` once more in the same build directory, with the same settings, port and data directory (after a
    crash or a stop); the log goes on in the same file."""
    assert app.env is not None, "only an app started by start_app can be started again"
    app.process = _make_run(app.workdir, app.env, app.log_path, "a")
    app.stopped_cleanly = False
    try:
        _wait_ready(app, timeout, poll)
    except BaseException:
        stop(app)
        raise
    return app


def restart(app: RunningApp, timeout: float = 600, poll: float = 0.5) -> tuple[RunningApp, float]:
    """Stop ``app`` as a service manager would and start it again from the same build directory, port, data
    directory and settings (nothing changed); returns the new app and the seconds from `make run` to serving."""
    assert app.data_dir is not None, "only an app started by start_app can be restarted"
    lock, app._lock = app._lock, None  # the build directory stays this caller's between the two starts
    try:
        if not stop(app):
            raise AppStartError(f"`make run` did not stop cleanly on SIGTERM:\n{app.log_tail()}")
        started = time.monotonic()
        again = start_app(app.data_dir, app.env_overrides, timeout, port=app.port, build_dir=app.workdir, poll=poll)
    except BaseException:
        if lock is not None:
            os.close(lock)
        raise
    again._lock = lock
    return again, time.monotonic() - started


@contextlib.contextmanager
def running_app(
    data_dir: Path, env_overrides: dict[str, str] | None = None, timeout: float = 600
) -> Iterator[RunningApp]:
    app = start_app(data_dir, env_overrides, timeout)
    try:
        yield app
    finally:
        stop(app)
