"""``GET /api/ready``: 200 when the database (and Redis, when used) answer; 503 in the error shape otherwise.
``/api/health`` keeps its own contract."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from portal_app import db as database
from portal_app import probes
from portal_app.api import observability_routes
from portal_app.api.app import build_api
from portal_app.db import make_engine


def test_ready_when_the_database_answers(world):
    resp = TestClient(build_api()).get("/api/ready")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ready", "database": "ok", "redis": "not_used"}
    assert TestClient(build_api()).get("/api/health").json() == {"status": "ok", "database": "ok"}


def test_not_ready_when_the_database_is_unreachable(world, monkeypatch: pytest.MonkeyPatch, tmp_path):
    broken = make_engine(f"sqlite:///{tmp_path / 'missing-folder' / 'portal.db'}")
    monkeypatch.setattr(database, "get_engine", lambda url=None: broken)
    resp = TestClient(build_api()).get("/api/ready")
    assert resp.status_code == 503
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "saved"}
    assert body["error"]["code"] == "not_ready" and "database" in body["error"]["message"]
    assert body["error"]["saved"] is False
    health = TestClient(build_api()).get("/api/health")
    assert health.status_code == 503 and health.json() == {"status": "degraded", "database": "unavailable"}


def test_not_ready_when_redis_is_set_and_does_not_answer(world, monkeypatch: pytest.MonkeyPatch):
    settings = replace(observability_routes.settings, redis_url="redis://127.0.0.1:1/0")
    monkeypatch.setattr(observability_routes, "settings", settings)
    resp = TestClient(build_api()).get("/api/ready")
    assert resp.status_code == 503
    assert "Redis" in resp.json()["error"]["message"]


def test_ready_with_redis_answering(world, monkeypatch: pytest.MonkeyPatch):
    settings = replace(observability_routes.settings, redis_url="redis://redis.invalid:6379/0")
    monkeypatch.setattr(observability_routes, "settings", settings)
    monkeypatch.setattr(probes, "redis_ok", lambda url: True)
    resp = TestClient(build_api()).get("/api/ready")
    assert resp.status_code == 200 and resp.json()["redis"] == "ok"
