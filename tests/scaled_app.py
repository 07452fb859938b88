"""The app as README's "Running on PostgreSQL and Redis" and "Behind a reverse proxy" run it, for tests/scaled/.

`make run` (bench/app_server.py, in a build directory of its own) with ``REFLEX_DB_URL`` on a new PostgreSQL
database (127.0.0.1:5432, dropped afterwards), ``REFLEX_REDIS_URL`` on a Redis server of its own (on a free loopback
port, so no other Redis's data is touched), ``PORTAL_WORKERS=2``, behind Debian's nginx configured with README's own
``location /`` block: the test reads it out of README.md, wraps it in a ``server`` on a free loopback port and changes
only the upstream port. The browser and every API call go through nginx, whose address is ``PORTAL_PUBLIC_URL``;
the app trusts it (``PORTAL_TRUSTED_PROXIES=127.0.0.1``).

Like tests/browser_app.py's app it starts once, when the first test asks for it, and stops after the last test that
uses it (tests/conftest.py runs those tests together). The helpers at the end tell which backend worker process
holds a page's websocket, so a test can make a page's next event land on another worker.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil
import pytest
import sqlalchemy as sa

from bench.app_server import AppStartError, RunningApp, free_port, start_app, stop
from portal_app.db import make_engine
from tests.browser_app import CHROMIUM
from tests.quote_world import PG_ADMIN_URL, postgres_available

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
UPSTREAM = re.compile(r"proxy_pass http://127\.0\.0\.1:3000;")


def readme_nginx_location() -> str:
    """The nginx ``location /`` block of README's "Behind a reverse proxy", exactly as written there."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Behind a reverse proxy", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```nginx\n(.*?)```", section, re.S)
    assert len(blocks) == 1 and blocks[0].startswith("location / {"), "README's nginx block is not where it was"
    assert len(UPSTREAM.findall(blocks[0])) == 1, "README's nginx block no longer proxies to 127.0.0.1:3000"
    return blocks[0]


def nginx_config(location: str, listen_port: int, upstream_port: int, prefix: Path) -> str:
    """A whole nginx configuration: README's block in a server on ``listen_port``, everything nginx writes (pid,
    logs, buffered request bodies) under ``prefix``."""
    block = UPSTREAM.sub(f"proxy_pass http://127.0.0.1:{upstream_port};", location)
    temp = "\n".join(f"    {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                           "uwsgi", "scgi"))
    # Run as root (CI), nginx's workers would switch to `nobody`, who may not write into the root-owned folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (f"{user}daemon off;\nworker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'};\n"
            f"events {{ worker_connections 512; }}\n"
            f"http {{\n    access_log {prefix / 'access.log'};\n{temp}\n"
            f"    server {{\n        listen 127.0.0.1:{listen_port};\n{block}    }}\n}}\n")


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if not found:
        pytest.fail("nginx is missing: `make test` installs it (apt-get install nginx)")
    return found


def _wait_port(port: int, process: subprocess.Popen, what: str, log: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AppStartError(f"{what} exited with {process.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        if any(c.laddr.port == port and c.status == psutil.CONN_LISTEN for c in psutil.net_connections("tcp4")):
            return
        time.sleep(0.1)
    raise AppStartError(f"{what} did not listen on {port} in {timeout:.0f} s")


def _end(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class ScaledApp:
    """One running scaled installation for a test run; ``url`` is nginx's address."""

    url: str = ""
    app: RunningApp | None = None
    engine: sa.Engine | None = None
    database: str = ""
    redis_url: str = ""
    failure: str | None = None
    started_in_seconds: float = 0.0
    _redis: subprocess.Popen | None = None
    _nginx: subprocess.Popen | None = None
    _dirs: dict[str, Path] = field(default_factory=dict)

    def start(self) -> str:
        if self.failure:
            pytest.fail(self.failure)
        if self.app is not None:
            self._check_alive()
            return self.url
        self._preconditions()
        began = time.monotonic()
        # Not under pytest's temporary folder: a concurrent pytest run may prune it while this app still runs.
        base = self._dirs["base"] = Path(tempfile.mkdtemp(prefix="portal-scaled-"))
        try:
            self._start_redis(base / "redis")
            self._create_database()
            nginx_port = free_port()
            self.url = f"http://127.0.0.1:{nginx_port}"
            self.app = start_app(base / "data", {
                "REFLEX_DB_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.database}",
                "REFLEX_REDIS_URL": self.redis_url, "PORTAL_WORKERS": str(WORKERS),
                "PORTAL_PUBLIC_URL": self.url, "PORTAL_TRUSTED_PROXIES": "127.0.0.1",
                "PORTAL_LOGIN_IP_LIMIT": "30",  # README's default: the address counting is under test
            })
            self._start_nginx(base / "nginx", nginx_port, urlsplit(self.app.url).port or 0)
            self.engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.database}")
        except (AppStartError, OSError, sa.exc.SQLAlchemyError) as exc:
            self.failure = f"the scaled app did not start: {exc}"
            self.stop()
            pytest.fail(self.failure)
        self.started_in_seconds = time.monotonic() - began
        return self.url

    def _check_alive(self) -> None:
        for name, process in (("nginx", self._nginx), ("redis-server", self._redis)):
            if process is None or process.poll() is not None:
                log = self._dirs["base"] / ("nginx/error.log" if name == "nginx" else "redis/redis.log")
                self.failure = f"{name} has stopped:\n{log.read_text(errors='replace')[-2000:] if log.exists() else ''}"
                pytest.fail(self.failure)

    def _preconditions(self) -> None:
        if not Path(CHROMIUM).exists():
            pytest.fail("Debian Chromium is missing: `make test` installs it (apt-get install chromium)")
        nginx_binary()
        required = os.environ.get("PORTAL_REQUIRE_POSTGRES")
        if not postgres_available():
            if required:
                pytest.fail("PostgreSQL is required (PORTAL_REQUIRE_POSTGRES) but 127.0.0.1:5432 does not answer")
            pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
        if not shutil.which("redis-server"):
            if required:
                pytest.fail("redis-server is required (PORTAL_REQUIRE_POSTGRES, as on CI) but is not installed")
            pytest.skip("redis-server is not installed")

    def _start_redis(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        port = free_port()
        log = folder / "redis.log"
        self._redis = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
             "--dir", str(folder), "--logfile", str(log)], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        log.touch()
        _wait_port(port, self._redis, "redis-server", log)
        self.redis_url = f"redis://127.0.0.1:{port}/0"

    def _create_database(self) -> None:
        self.database = f"portal_scaled_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.database}"'))
        admin.dispose()

    def _drop_database(self) -> None:
        if not self.database:
            return
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        admin.dispose()
        self.database = ""

    def _start_nginx(self, prefix: Path, port: int, upstream: int) -> None:
        prefix.mkdir(parents=True)
        self._dirs["nginx"] = prefix
        conf = prefix / "nginx.conf"
        conf.write_text(nginx_config(readme_nginx_location(), port, upstream, prefix))
        log = prefix / "error.log"
        log.touch()
        self._nginx = subprocess.Popen([nginx_binary(), "-p", str(prefix), "-c", str(conf), "-e", str(log)],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.STDOUT)
        _wait_port(port, self._nginx, "nginx", log)
        health = httpx.get(f"{self.url}/api/health", timeout=10)
        if health.status_code != 200:
            raise AppStartError(f"nginx answered {health.status_code} for /api/health:\n{log.read_text()[-2000:]}")

    def nginx_access_log(self) -> str:
        """What nginx has handed on so far, one request a line."""
        return (self._dirs["nginx"] / "access.log").read_text(errors="replace")

    def stop(self) -> None:
        """Stop everything, the app first (SIGTERM to `make run`, as a service manager does); drop the database."""
        app, self.app = self.app, None
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None
        stopped = stop(app) if app is not None else True
        _end(self._nginx)
        _end(self._redis)
        self._nginx = self._redis = None
        self._drop_database()
        if "base" in self._dirs:
            shutil.rmtree(self._dirs.pop("base"), ignore_errors=True)
        assert stopped, f"`make run` did not stop on SIGTERM:\n{app.log_tail() if app else ''}"

    # ---------------------------------------------------------------------------------------- backend workers

    def app_port(self) -> int:
        assert self.app is not None
        return urlsplit(self.app.url).port or 0

    def workers(self) -> list[int]:
        """The pids of the backend's worker processes: the children of gunicorn's master (the gunicorn process
        `make run` started), which replaces a worker that dies."""
        assert self.app is not None
        try:
            tree = psutil.Process(self.app.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        gunicorn = {p.pid: p for p in tree if _is_gunicorn(p)}
        workers = []
        for pid, process in gunicorn.items():
            try:
                if process.ppid() in gunicorn:
                    workers.append(pid)
            except psutil.NoSuchProcess:
                continue
        return sorted(workers)

    def sockets_by_worker(self) -> dict[int, set[int]]:
        """For each worker, the client ports (nginx's side) of the connections it holds open. A page's websocket
        is the one long-lived connection; plain requests are answered and closed."""
        port = self.app_port()
        held: dict[int, set[int]] = {}
        for pid in self.workers():
            try:
                connections = psutil.Process(pid).net_connections("tcp")
            except psutil.NoSuchProcess:
                continue
            held[pid] = {c.raddr.port for c in connections
                         if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port and c.raddr}
        return held

    def wait_for_workers(self, count: int = WORKERS, timeout: float = 120) -> list[int]:
        """The workers, once ``count`` of them listen and answer (a replaced one takes a while to load the app)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.workers()
            if len(found) == count:
                return found
            time.sleep(0.5)
        raise AssertionError(f"{count} workers expected, found {self.workers()}")

    def kill_worker(self, pid: int) -> None:
        """SIGKILL, as the kernel's out-of-memory killer or a crash ends a worker: nothing of it is saved."""
        assert pid in self.workers()
        os.kill(pid, signal.SIGKILL)


def _is_gunicorn(process: psutil.Process) -> bool:
    try:
        return "gunicorn" in " ".join(process.cmdline()[:3])
    except psutil.Error:
        return False


SCALED_APP = ScaledApp()


def uses_the_scaled_app(item: pytest.Item) -> bool:
    return "scaled_url" in getattr(item, "fixturenames", ())


def stop_scaled_after_last_user(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the scaled app once the next test does not need it (tests/conftest.py runs its users together)."""
    if uses_the_scaled_app(item) and (nextitem is None or not uses_the_scaled_app(nextitem)):
        SCALED_APP.stop()


@pytest.fixture(scope="session")
def scaled_app() -> Iterator[ScaledApp]:
    """Stops the app at the end of the session too, when a run ends early (-x, Ctrl-C)."""
    yield SCALED_APP
    if SCALED_APP.app is not None or SCALED_APP.database:
        SCALED_APP.stop()


@pytest.fixture()
def scaled_url(scaled_app: ScaledApp) -> str:
    return scaled_app.start()


@pytest.fixture()
def scaled_browser(scaled_url: str):
    """A Chromium on the scaled app's nginx address (a new browser context per ``new_context`` call)."""
    from playwright.sync_api import sync_playwright

    from tests.browser_app import CHROMIUM_ARGS

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
