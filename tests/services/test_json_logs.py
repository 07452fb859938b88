"""``PORTAL_LOG_FORMAT=json``: log lines are JSON objects carrying the request's id, and the error id shown to a
person (API 500 answer, page problem banner) is the id on the logged line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from portal_app import logs, request_context
from portal_app.api import app as api_app
from portal_app.api.app import build_api
from portal_app.ui import page_errors
from portal_app.ui.session import _observed


@pytest.fixture()
def json_lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The root logger's JSON handler as the app installs it, writing to a buffer."""
    monkeypatch.setenv("PORTAL_LOG_FORMAT", "json")
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    logs.configure_logging()
    added = [h for h in root.handlers if h not in before]
    assert len(added) == 1 and isinstance(added[0].formatter, logs.JsonFormatter), [
        (h, h.formatter) for h in root.handlers]
    buffer = io.StringIO()
    added[0].setStream(buffer)  # type: ignore[attr-defined]
    yield buffer
    for handler in added:
        root.removeHandler(handler)
    root.setLevel(level)


def _parsed(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_text_format_leaves_logging_alone(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("PORTAL_LOG_FORMAT", raising=False)
    before = list(logging.getLogger().handlers)
    logs.configure_logging()
    assert logging.getLogger().handlers == before


def test_lines_are_json_with_the_fields(json_lines: io.StringIO):
    token = request_context.request_id.set("REQ-ABC-123")
    try:
        logging.getLogger("portal_app.test").warning("hello %s", "there")
        try:
            raise ValueError("bad thing")
        except ValueError:
            logging.getLogger("portal_app.test").exception("it failed")
    finally:
        request_context.request_id.reset(token)
    first, second = _parsed(json_lines)[-2:]
    assert first["message"] == "hello there" and first["level"] == "WARNING"
    assert first["logger"] == "portal_app.test" and first["request_id"] == "REQ-ABC-123"
    assert first["timestamp"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: bad thing" in second["exception"]


def test_every_answer_has_a_request_id_and_a_safe_incoming_one_is_kept(world):
    client = TestClient(build_api())
    made = client.get("/api/health").headers["X-Request-ID"]
    assert request_context.SAFE_ID.match(made)
    assert client.get("/api/health", headers={"X-Request-ID": "lb-7f3a9c10"}).headers["X-Request-ID"] == \
        "lb-7f3a9c10"
    for unsafe in ("has spaces in it", "x" * 65, "<script>", "short"):
        answered = client.get("/api/health", headers={"X-Request-ID": unsafe}).headers["X-Request-ID"]
        assert answered != unsafe and request_context.SAFE_ID.match(answered)


def test_an_api_failure_quotes_the_logged_id(world, json_lines: io.StringIO, monkeypatch: pytest.MonkeyPatch):
    def broken() -> bool:
        raise RuntimeError("database driver exploded")

    monkeypatch.setattr(api_app, "database_ok", broken)
    resp = TestClient(build_api(), raise_server_exceptions=False).get("/api/health")
    assert resp.status_code == 500
    error_id = resp.headers["X-Request-ID"]
    assert resp.json()["error"]["code"] == "internal_error"
    assert f"quote error {error_id}" in resp.json()["error"]["message"]
    logged = [line for line in _parsed(json_lines) if line.get("error_id") == error_id]
    assert logged and logged[0]["request_id"] == error_id and error_id in logged[0]["message"]
    assert "RuntimeError: database driver exploded" in logged[0]["exception"]


def test_a_page_failure_shows_the_logged_event_id(json_lines: io.StringIO, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(page_errors, "EventContext", SimpleNamespace(get=lambda: SimpleNamespace(token="tab-1")))
    monkeypatch.setattr(page_errors, "ProblemState", SimpleNamespace(show=lambda error_id: error_id))
    page_errors._last_banner.clear()
    with pytest.raises(RuntimeError) as caught, _observed("SomeState.save"):
        logging.getLogger("portal_app.test").warning("saving")
        raise RuntimeError("page handler broke")
    shown = page_errors.on_backend_exception(caught.value)
    lines = _parsed(json_lines)
    during = next(line for line in lines if line["message"] == "saving")
    failure = next(line for line in lines if line.get("error_id") == shown)
    assert during["event_id"] == shown == failure["event_id"]
    assert page_errors.ERROR_ID.match(shown) and shown in failure["message"]
    assert "RuntimeError: page handler broke" in failure["exception"]
    assert request_context.event_id.get() is None  # the id ends with its event


def test_a_page_action_the_database_did_not_answer_names_the_database(json_lines: io.StringIO,
                                                                      monkeypatch: pytest.MonkeyPatch):
    """The banner says the database did not answer and nothing was saved; the log has one line, no traceback."""
    monkeypatch.setattr(page_errors, "EventContext", SimpleNamespace(get=lambda: SimpleNamespace(token="tab-2")))
    monkeypatch.setattr(page_errors, "ProblemState",
                        SimpleNamespace(show=lambda error_id, cause="": (error_id, cause)))
    page_errors._last_banner.clear()
    refused = sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused\nIs the server running?"))
    error_id, cause = page_errors.on_backend_exception(refused)
    assert cause == "database"
    failure = next(line for line in _parsed(json_lines) if line.get("error_id") == error_id)
    assert failure["level"] == "WARNING" and "exception" not in failure
    assert "the database did not answer" in failure["message"]
    assert "connection refused Is the server running?" in failure["message"]  # the driver's words, one line
