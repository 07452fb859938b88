"""``GET /api/metrics``: Prometheus text for the bearer of the metrics token, or for loopback when none is set;
route templates (never raw paths) in labels; queue depths read at scrape time; no customer data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session

from models import EmailMessage
from portal_app import metrics
from portal_app.api.app import build_api
from portal_app.api.errors import install_error_handlers
from portal_app.services import clock
from tests.factories import World, client_for

LOOPBACK = ("127.0.0.1", 50000)
TOKEN = "metrics-token-for-the-test-0123456789"


def _scrape(client: TestClient | None = None, **headers: str) -> str:
    client = client or TestClient(build_api(), client=LOOPBACK)
    resp = client.get("/api/metrics", headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain")
    return resp.text


def _value(text: str, sample: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


@pytest.fixture(autouse=True)
def _no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTAL_METRICS_TOKEN", raising=False)


def test_without_a_token_only_loopback_is_answered(world: World):
    assert "portal_queue_depth" in _scrape()
    resp = TestClient(build_api(), client=("203.0.113.7", 40000)).get("/api/metrics")
    assert resp.status_code == 404
    assert set(resp.json()["error"]) == {"code", "message", "saved"}


def test_a_forged_forwarded_for_is_not_loopback(world: World):
    client = TestClient(build_api(), client=("203.0.113.7", 40000))
    resp = client.get("/api/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert resp.status_code == 404


def test_with_a_token_only_its_bearer_is_answered(world: World, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PORTAL_METRICS_TOKEN", TOKEN)
    far = TestClient(build_api(), client=("203.0.113.7", 40000))
    near = TestClient(build_api(), client=LOOPBACK)
    for client, headers in ((far, {}), (near, {}), (far, {"Authorization": "Bearer wrong"}),
                            (far, {"Authorization": TOKEN})):
        resp = client.get("/api/metrics", headers=headers)
        assert resp.status_code == 401, headers
        assert resp.json()["error"]["code"] == "not_authenticated"
    assert "portal_queue_depth" in _scrape(far, Authorization=f"Bearer {TOKEN}")


def test_a_request_is_counted_under_its_route_template(world: World):
    reference = world.shipments["ALFA"][0]
    before = _value(_scrape(), "portal_http_request_duration_seconds_count",
                    route="/api/v1/shipments/{reference}", method="GET", status_class="2xx")
    assert client_for("customer_user@alfa.test").get(f"/api/v1/shipments/{reference}").status_code == 200
    text = _scrape()
    after = _value(text, "portal_http_request_duration_seconds_count",
                   route="/api/v1/shipments/{reference}", method="GET", status_class="2xx")
    assert after >= before + 1
    assert reference not in text


def test_an_unmatched_path_is_not_a_label(world: World):
    TestClient(build_api()).get("/api/v1/no-such-thing/SECRET-REF-42")
    text = _scrape()
    assert "SECRET-REF-42" not in text and "no-such-thing" not in text
    assert _value(text, "portal_http_request_duration_seconds_count", route=metrics.UNMATCHED) >= 1


def test_server_errors_are_counted_per_route(world: World):
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom/{thing}")
    def boom(thing: str) -> None:
        raise RuntimeError("broken on purpose")

    app.add_middleware(metrics.HttpMetricsMiddleware)
    before = _value(_scrape(), "portal_http_server_errors_total", route="/boom/{thing}", status="500")
    resp = TestClient(app, raise_server_exceptions=False).get("/boom/ACME-123")
    assert resp.status_code == 500
    text = _scrape()
    assert _value(text, "portal_http_server_errors_total", route="/boom/{thing}", status="500") == before + 1
    assert "ACME-123" not in text


def test_queue_depth_and_age_reflect_a_queued_email(world: World, db: Session):
    before = _value(_scrape(), "portal_queue_depth", queue="email")
    row = EmailMessage(to_address="queued-person@alfa.test", subject="Your shipment", body_text="hello",
                       status="queued", created_at=clock.now() - timedelta(hours=2))
    db.add(row)
    db.commit()
    try:
        text = _scrape()
        assert _value(text, "portal_queue_depth", queue="email") == before + 1
        assert _value(text, "portal_queue_oldest_age_seconds", queue="email") >= 7000
        assert "queued-person" not in text
    finally:
        db.delete(row)
        db.commit()


def test_no_customer_data_in_the_output(world: World):
    client_for("customer_user@alfa.test").get("/api/v1/shipments")
    text = _scrape()
    for user in world.users.values():
        assert user.email not in text
    for references in world.references.values():
        for value in references:
            assert f'"{value}"' not in text and f"/{value}" not in text
    assert _value(text, "portal_database_up") == 1
    assert _value(text, "portal_db_pool_size") >= 1
    assert "portal_sessions_open" in text


def test_a_scheduled_rule_pass_is_timed(world: World, tmp_path):
    from sqlmodel import SQLModel

    from portal_app.db import make_engine
    from portal_app.maintenance import run_rule_pass

    empty = make_engine(f"sqlite:///{tmp_path / 'rules.db'}")  # a database of its own: the pass changes nothing shared
    SQLModel.metadata.create_all(empty)
    before = _value(_scrape(), "portal_rule_pass_duration_seconds_count")
    assert run_rule_pass(empty) is not None
    empty.dispose()
    assert _value(_scrape(), "portal_rule_pass_duration_seconds_count") == before + 1
