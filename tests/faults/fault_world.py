"""Private database and Redis servers for the fault tests, and the app on them, started exactly as `make run` does.

The fault tests stop, restart and kill servers on purpose. They never touch the machine's own PostgreSQL (5432) or
Redis (6379), which other tests and people use: each run makes a PostgreSQL cluster of its own (``initdb`` in a
temporary folder, trust authentication, a free loopback port) and a ``redis-server`` of its own on a free port, and
removes both at the end. PostgreSQL refuses to run as root, so as root (CI, containers) the cluster belongs to the
``postgres`` account and its commands run through ``runuser``.

One app (PostgreSQL, Redis, two workers) serves every fault test of a run (``fault_world``); the crash test kills it
and starts it again, so later tests get the restarted app. The tests sort together (tests/conftest.py), and the app
and its servers stop after the last of them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from bench.app_server import AppStartError, RunningApp, free_port, start_app, stop
from portal_app.db import make_engine
from tests.browser_app import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, DEMO_CUSTOMER

DB_NAME = "portal"


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """A PostgreSQL cluster of its own in ``folder``, on a free loopback port."""

    def __init__(self, folder: Path) -> None:
        bindir = _postgres_bin()
        if bindir is None:
            pytest.fail("PostgreSQL's server programs are missing (apt-get install postgresql)")
        self.bin = bindir
        self.folder = folder
        self.data = folder / "cluster"
        self.port = free_port()
        self._as_root = os.geteuid() == 0
        folder.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            shutil.chown(folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def _run(self, program: str, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin / program), *args]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout,
                              cwd=self.folder)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stdout}\n{done.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"),
                  "-w", "-t", "60", "start")

    def stop(self) -> None:
        """Fast shutdown: open transactions are rolled back and every connection is cut, as in a restart."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def url(self, database: str = DB_NAME) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str = DB_NAME) -> None:
        engine = sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    """A ``redis-server`` of its own on a free loopback port, keeping nothing on disk: a restart empties it, as a
    Redis without persistence (or a new container) comes back."""

    def __init__(self, folder: Path) -> None:
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server is missing (apt-get install redis-server)")
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.folder / "redis.log", "a")  # noqa: SIM115 - the server keeps writing to it
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()
        import redis

        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(redis.RedisError, OSError):
                if redis.Redis.from_url(self.url, socket_timeout=1).ping():
                    return
            if time.monotonic() > deadline:
                raise RuntimeError("the private redis-server did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None

    def remove(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=20)
            self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class FaultWorld:
    """The app on its private servers, an engine on its database, and where its files are."""

    folder: Path
    postgres: PrivatePostgres
    redis: PrivateRedis
    app: RunningApp
    engine: sa.Engine

    @property
    def url(self) -> str:
        return self.app.url

    def customer(self, email: str = DEMO_CUSTOMER[0]) -> httpx.Client:
        """An API client signed in (a session cookie) as a demo customer; it sends the app's own Origin."""
        return signed_in_client(self.url, email)


# A new connection for every request: an idle kept-alive one may be closed by the server just as a request goes out
# (a reset that says nothing about the app), and new connections spread over both workers.
NO_KEEPALIVE = httpx.Limits(max_keepalive_connections=0)


def signed_in_client(url: str, email: str = DEMO_CUSTOMER[0]) -> httpx.Client:
    client = httpx.Client(base_url=url, headers={"Origin": url}, timeout=30, limits=NO_KEEPALIVE)
    resp = client.post("/api/auth/login", json={"email": email, "password": DEMO_CUSTOMER[1]})
    assert resp.status_code == 200, resp.text
    return client


def app_settings(postgres: PrivatePostgres, redis: PrivateRedis) -> dict[str, str]:
    """PostgreSQL and Redis with two workers: the production layout (docs/operations.md), on the private servers."""
    return {"REFLEX_DB_URL": postgres.url(), "REFLEX_REDIS_URL": redis.url, "PORTAL_WORKERS": "2"}


class FaultApp:
    """The fault tests' one app for a run: started by the first test that asks, stopped after the last."""

    def __init__(self) -> None:
        self.world: FaultWorld | None = None
        self.failure: str | None = None

    def get(self) -> FaultWorld:
        if self.failure:
            pytest.fail(self.failure)
        if self.world is None:
            folder = Path(tempfile.mkdtemp(prefix="portal-faults-"))
            os.chmod(folder, 0o755)  # the postgres account reaches its cluster folder through this one
            postgres = PrivatePostgres(folder / "postgres")
            redis = PrivateRedis(folder / "redis")
            try:
                postgres.start()
                postgres.create_database()
                redis.start()
                app = start_app(folder / "data", app_settings(postgres, redis))
            except (AppStartError, RuntimeError) as exc:
                postgres.remove()
                redis.remove()
                self.failure = f"the fault tests' app did not start: {exc}"
                pytest.fail(self.failure)
            self.world = FaultWorld(folder, postgres, redis, app, make_engine(postgres.url()))
        return self.world

    def stop(self) -> None:
        if self.world is None:
            return
        world, self.world = self.world, None
        world.engine.dispose()
        ARTIFACTS.mkdir(exist_ok=True)
        try:
            # The servers come back before the app stops, so a test that failed half-way still leaves a clean stop.
            with contextlib.suppress(RuntimeError):
                world.postgres.start()
            if world.redis.process is None:
                world.redis.start()
            stopped = stop(world.app)
        finally:
            # The logs outlive the run's folder, for a failure to be read afterwards.
            for log, name in ((world.app.log_path, "faults-make-run.log"),
                              (world.postgres.folder / "server.log", "faults-postgres.log")):
                with contextlib.suppress(OSError):
                    shutil.copyfile(log, ARTIFACTS / name)
            world.redis.remove()
            world.postgres.remove()
            shutil.rmtree(world.folder, ignore_errors=True)
        assert stopped, f"`make run` did not stop on SIGTERM:\n{world.app.log_tail()}"


FAULT_APP = FaultApp()


def uses_fault_world(item: pytest.Item) -> bool:
    return "fault_world" in getattr(item, "fixturenames", ())


def stop_after_last_fault_test(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if uses_fault_world(item) and (nextitem is None or not uses_fault_world(nextitem)):
        FAULT_APP.stop()


@pytest.fixture(scope="session")
def fault_app() -> Iterator[FaultApp]:
    """Stops the app at the end of the session too, when a run ends early."""
    yield FAULT_APP
    FAULT_APP.stop()


@pytest.fixture()
def fault_world(fault_app: FaultApp) -> FaultWorld:
    return fault_app.get()


@contextlib.contextmanager
def chromium_page(url: str) -> Iterator:
    """A Chromium tab on ``url`` (Debian's Chromium, like the browser tests)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian Chromium is missing: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=url, viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def _said_saved(resp: httpx.Response) -> bool:
    try:
        return resp.json()["error"]["saved"] is True
    except (ValueError, KeyError, TypeError):
        return False


@dataclass
class WriteBurst:
    """Threads raising requests through the API as fast as the app answers, until stopped; which were
    acknowledged (a 2xx answer) and which failed, by subject, and which of those the error said were saved."""

    url: str
    cookies: httpx.Cookies
    threads: int = 4
    acknowledged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    saved_anyway: list[str] = field(default_factory=list)  # refused, but the error says it was saved
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subject(self, worker: int, n: int) -> str:
        return f"Fault burst {self.tag} {worker}-{n}"

    def _run(self, worker: int) -> None:
        with httpx.Client(base_url=self.url, headers={"Origin": self.url}, cookies=self.cookies,
                          timeout=15, limits=NO_KEEPALIVE) as client:
            n = 0
            while not self._stop.is_set():
                n += 1
                subject = self.subject(worker, n)
                try:
                    resp = client.post("/api/v1/requests", json={
                        "category": "other", "subject": subject, "body": f"Burst message {n} from writer {worker}."})
                except httpx.HTTPError as exc:
                    with self._lock:
                        self.failed.append((subject, type(exc).__name__))
                    time.sleep(0.05)
                    continue
                with self._lock:
                    if 200 <= resp.status_code < 300:
                        self.acknowledged.append(subject)
                    else:
                        self.failed.append((subject, f"{resp.status_code} {resp.text[:300]}"))
                        if _said_saved(resp):
                            self.saved_anyway.append(subject)
                if resp.status_code >= 300:
                    time.sleep(0.05)

    def start(self) -> WriteBurst:
        self._workers = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(self.threads)]
        for t in self._workers:
            t.start()
        return self

    def wait_for(self, acknowledged: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < acknowledged:
            if time.monotonic() > deadline:
                self.finish()
                pytest.fail(f"only {len(self.acknowledged)} writes were acknowledged in {timeout:.0f} s; "
                            f"failures: {self.failed[:5]}")
            time.sleep(0.05)

    def finish(self) -> None:
        self._stop.set()
        for t in self._workers:
            t.join(timeout=30)


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.2) -> float:
    """Seconds until ``check()`` held; fails the test after ``timeout``."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            pytest.fail(f"not so after {timeout:.0f} s")
        time.sleep(interval)
    return time.monotonic() - start


def tickets_with_subjects(engine: sa.Engine, prefix: str) -> dict[str, int]:
    """Subject -> number of messages, for every request whose subject starts with ``prefix``."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT t.subject, count(m.id) FROM ticket t LEFT JOIN ticketmessage m ON m.ticket_id = t.id "
            "WHERE t.subject LIKE :p GROUP BY t.id, t.subject"), {"p": prefix + "%"}).all()
    return {str(subject): int(messages) for subject, messages in rows}
