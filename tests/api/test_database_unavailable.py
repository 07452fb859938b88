"""A database that does not answer (restarting, failing over, a full pool) is a 503 `database_unavailable` in the
error shape with Retry-After, not a 500 with an error to report; a wrong statement is still a 500. The outage
itself, on a real server, is in tests/faults/test_faults_database.py."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from fastapi import Request
from fastapi.testclient import TestClient

from portal_app.api.app import build_api
from portal_app.api.deps import COMMITTED, get_db
from portal_app.db import database_unavailable


def _client_failing_with(exc: Exception, *, after_commit: bool = False) -> TestClient:
    api = build_api()

    def _db(request: Request):
        if after_commit:  # the request's session had committed before the database went
            request.state.db_session = SimpleNamespace(info={COMMITTED: True})
        raise exc
        yield  # a generator dependency, like the real one

    api.dependency_overrides[get_db] = _db
    return TestClient(api, raise_server_exceptions=False)


REFUSED = sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused\n\tIs the server running?"))


def test_an_unreachable_database_is_a_503_that_says_nothing_was_saved():
    resp = _client_failing_with(REFUSED).get("/api/v1/requests")
    assert resp.status_code == 503
    error = resp.json()["error"]
    assert error["code"] == "database_unavailable" and error["saved"] is False
    assert "nothing was saved" in error["message"] and "Try again" in error["message"]
    assert "connection refused" not in resp.text  # the driver's words go to the log only
    assert resp.headers["Retry-After"] == "5" and resp.headers["X-Request-ID"] in error["message"]


def test_a_request_that_had_committed_says_it_was_saved():
    """Committed, then the database went while the answer was read back: sending it again would repeat it."""
    resp = _client_failing_with(REFUSED, after_commit=True).post("/api/v1/requests", json={
        "category": "other", "subject": "Saved?", "body": "Yes."})
    assert resp.status_code == 503
    error = resp.json()["error"]
    assert error["code"] == "database_unavailable" and error["saved"] is True
    assert "was saved" in error["message"] and "before sending it again" in error["message"]


def test_a_wrong_statement_is_still_a_500():
    resp = _client_failing_with(sa.exc.ProgrammingError("SELECT x", {}, Exception("no such column"))).get(
        "/api/v1/requests")
    assert resp.status_code == 500 and resp.json()["error"]["code"] == "internal_error"


@pytest.mark.parametrize(("exc", "down"), [
    (REFUSED, True),
    (sa.exc.InterfaceError("SELECT 1", {}, Exception("connection already closed")), True),
    (sa.exc.TimeoutError("QueuePool limit reached"), True),
    (sa.exc.DBAPIError("SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True), True),
    (sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key")), False),
    (ValueError("not a database error"), False),
])
def test_which_errors_mean_the_database_is_unavailable(exc: Exception, down: bool):
    assert database_unavailable(exc) is down
