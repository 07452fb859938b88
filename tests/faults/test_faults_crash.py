"""Every server process killed at once (SIGKILL: no clean-up, requests in flight cut off) during a burst of API
writes, on PostgreSQL and Redis with two workers: after `make run` starts again, every write that got a 2xx answer
is there, whole, and a signed-in client is still signed in.

The same on SQLite (one worker, the default installation) needs an app of its own, two more starts of `make run`:
it runs with ``PORTAL_FAULTS_SQLITE=1`` only."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import psutil
import pytest

from bench.app_server import kill_hard, running_app, server_processes, start_again
from portal_app.db import make_engine
from tests.faults.fault_world import FaultWorld, WriteBurst, signed_in_client, tickets_with_subjects

pytestmark = pytest.mark.faults


def _gunicorn(pids: list[int]) -> list[int]:
    found = []
    for pid in pids:
        try:
            if any("gunicorn" in part for part in psutil.Process(pid).cmdline()):
                found.append(pid)
        except psutil.NoSuchProcess:
            pass
    return found


def test_every_acknowledged_write_survives_kill_9_of_every_server_process(fault_world: FaultWorld):
    client = fault_world.customer()
    before = server_processes(fault_world.app)
    assert len(_gunicorn(before)) >= 3, "expected the gunicorn master and two workers"

    burst = WriteBurst(fault_world.url, client.cookies).start()
    burst.wait_for(acknowledged=40)
    killed = kill_hard(fault_world.app)
    burst.finish()
    assert set(before) <= set(killed)
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in killed), "a server process survived SIGKILL"
    assert burst.failed, "the kill did not cut off any write in flight"
    acknowledged = list(burst.acknowledged)

    start_again(fault_world.app)
    stored = tickets_with_subjects(fault_world.engine, f"Fault burst {burst.tag} ")
    missing = [subject for subject in acknowledged if subject not in stored]
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged writes are gone: {missing[:5]}"
    # All or nothing: a request is never there without its first message.
    assert all(messages == 1 for messages in stored.values()), stored

    # Sessions live in the database: the client signed in before the crash still is, and can write.
    resp = client.get("/api/v1/requests", params={"q": burst.tag, "page_size": 1})
    assert resp.status_code == 200, resp.text
    resp = client.post("/api/v1/requests", json={"category": "other", "subject": f"After the crash {burst.tag}",
                                                 "body": "Still signed in."})
    assert resp.status_code == 201, resp.text
    client.close()


@pytest.mark.skipif(os.environ.get("PORTAL_FAULTS_SQLITE") != "1",
                    reason="two more starts of the app; set PORTAL_FAULTS_SQLITE=1 to run it")
def test_every_acknowledged_write_survives_kill_9_on_sqlite():
    data = Path(tempfile.mkdtemp(prefix="portal-faults-sqlite-"))
    try:
        with running_app(data) as app:
            client = signed_in_client(app.url)
            burst = WriteBurst(app.url, client.cookies).start()
            burst.wait_for(acknowledged=40)
            kill_hard(app)
            burst.finish()
            assert burst.failed, "the kill did not cut off any write in flight"
            acknowledged = list(burst.acknowledged)
            start_again(app)
            engine = make_engine(f"sqlite:///{data / 'portal.db'}")
            stored = tickets_with_subjects(engine, f"Fault burst {burst.tag} ")
            engine.dispose()
            assert not [subject for subject in acknowledged if subject not in stored]
            assert all(messages == 1 for messages in stored.values()), stored
            assert client.get("/api/v1/requests", params={"page_size": 1}).status_code == 200
            client.close()
    finally:
        shutil.rmtree(data, ignore_errors=True)
