"""REST v1 for the tower: exceptions, tasks and workload over HTTP for staff, and every route refused to a customer's
session and to a customer's API key."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session

from models import ApiKey
from portal_app.api import v1_ops
from portal_app.api.app import build_api
from portal_app.api.deps import get_db
from portal_app.auth.sessions import hash_token
from portal_app.services import clock, shipment_activity
from tests.ops_world import T0, make_shipment, user_id
from tests.quote_world import QuoteWorld


@pytest.fixture(autouse=True)
def _at_t0(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: T0)


def _key_client(world: QuoteWorld, principal) -> TestClient:
    raw = "pk_" + secrets.token_urlsafe(24)
    with world.session() as db:
        db.add(ApiKey(name="ERP", prefix=raw[:8], key_hash=hash_token(raw), user_id=principal.user_id,
                      company_id=principal.company_id, scopes="read_write"))
        db.commit()
    api = build_api()

    def _db() -> Iterator[Session]:
        with Session(world.engine, expire_on_commit=False) as s:
            yield s

    api.dependency_overrides[get_db] = _db
    return TestClient(api, headers={"Authorization": f"Bearer {raw}"})


def test_staff_work_an_exception_and_tasks_over_the_api(oworld: QuoteWorld):
    with oworld.session() as db:
        s = make_shipment(db, status="arrived", etd=T0 - timedelta(days=25), ata=T0 - timedelta(hours=50))
        s.created_by_id = oworld.bob.user_id
        db.add(s)
        db.commit()
        li = user_id(db, "li.wei@harborsky.example")
    agent = oworld.client("agent@harborsky.example")
    ran = agent.post("/api/v1/exceptions/evaluate", json={"shipment_reference": s.reference})
    assert ran.status_code == 200 and ran.json()["opened"] == 1
    page = agent.get("/api/v1/exceptions", params={"shipment": s.reference, "kind": "customs_hold"}).json()
    [row] = page["items"]
    assert row["timer"]["due_at"].startswith("2026-11-10T17:00") and row["timer"]["label"] == "8 h 0 min left"
    made = agent.post("/api/v1/tasks", json={"title": "Call the customs broker", "exception_id": row["id"]})
    assert made.status_code == 201, made.text
    task = made.json()
    assert task["assignee_name"] == "Olivia Agent" and task["due"]["due_at"] == row["timer"]["due_at"]
    mine = agent.get("/api/v1/tasks/mine").json()
    assert task["id"] in [t["id"] for t in mine["items"]]
    done = agent.post(f"/api/v1/tasks/{task['id']}/status", json={"status": "done",
                                                                  "expected_version": task["version"]})
    assert done.status_code == 200 and done.json()["status"] == "done"
    stale = agent.post(f"/api/v1/tasks/{task['id']}/status", json={"status": "open",
                                                                   "expected_version": task["version"]})
    assert stale.status_code == 409 and stale.json()["error"]["saved"] is False
    resolved = agent.post(f"/api/v1/exceptions/{row['id']}/resolve", json={
        "note": "Broker attended the inspection", "customer_message": "Customs released your cargo today.",
        "expected_version": row["version"]})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved" and resolved.json()["timer"]["label"].startswith("Met")
    with oworld.session() as db:
        assert any("released your cargo" in u.body for u in shipment_activity.updates(db, oworld.bob, s.reference))
    bad = agent.post(f"/api/v1/exceptions/{row['id']}/severity", json={"severity": "apocalyptic"})
    assert bad.status_code == 422 and "severity" in bad.json()["error"]["message"]
    assert agent.get("/api/v1/exceptions/999999").status_code == 404
    by_team = agent.get("/api/v1/workload", params={"by": "team"})
    assert by_team.status_code == 200 and any(r["name"] == "Ocean Import" for r in by_team.json())
    refused = agent.post("/api/v1/workload/reassign", json={"from_user_id": oworld.agent.user_id, "to_user_id": li})
    assert refused.status_code == 403
    manager = oworld.client("manager@harborsky.example")
    moved = manager.post("/api/v1/workload/reassign", json={"from_user_id": oworld.agent.user_id, "to_user_id": li,
                                                            "what": ["tasks"]})
    assert moved.status_code == 200 and moved.json()["shipments"] == 0


def _sample_calls(exception_id: int, task_id: int, reference: str) -> dict[tuple[str, str], tuple[str, dict | None]]:
    """Every route of the tower API with a valid request, keyed by (method, path template)."""
    e, t = f"/api/v1/exceptions/{exception_id}", f"/api/v1/tasks/{task_id}"
    return {
        ("GET", "/api/v1/exceptions"): ("/api/v1/exceptions", None),
        ("POST", "/api/v1/exceptions"): ("/api/v1/exceptions", {"shipment_reference": reference, "kind": "other",
                                                                "title": "Mine now"}),
        ("POST", "/api/v1/exceptions/evaluate"): ("/api/v1/exceptions/evaluate", {"shipment_reference": reference}),
        ("GET", "/api/v1/exceptions/{exception_id}"): (e, None),
        ("POST", "/api/v1/exceptions/{exception_id}/assign"): (f"{e}/assign", {"owner_id": None, "team_id": None}),
        ("POST", "/api/v1/exceptions/{exception_id}/severity"): (f"{e}/severity", {"severity": "low"}),
        ("POST", "/api/v1/exceptions/{exception_id}/start"): (f"{e}/start", {}),
        ("POST", "/api/v1/exceptions/{exception_id}/resolve"): (f"{e}/resolve", {"note": "Resolved it myself"}),
        ("POST", "/api/v1/exceptions/{exception_id}/reopen"): (f"{e}/reopen", {"reason": "Reopened it myself"}),
        ("GET", "/api/v1/tasks/mine"): ("/api/v1/tasks/mine", None),
        ("GET", "/api/v1/tasks"): ("/api/v1/tasks", None),
        ("POST", "/api/v1/tasks"): ("/api/v1/tasks", {"title": "My own task"}),
        ("GET", "/api/v1/tasks/{task_id}"): (t, None),
        ("POST", "/api/v1/tasks/{task_id}/status"): (f"{t}/status", {"status": "done"}),
        ("POST", "/api/v1/tasks/{task_id}/assign"): (f"{t}/assign", {"assignee_id": None, "team_id": None}),
        ("GET", "/api/v1/workload"): ("/api/v1/workload", None),
        ("POST", "/api/v1/workload/reassign"): ("/api/v1/workload/reassign", {"from_user_id": 1, "to_user_id": 2}),
    }


def test_customers_are_refused_on_every_tower_route(oworld: QuoteWorld):
    with oworld.session() as db:
        s = make_shipment(db, delay_hours=40)
    staff = oworld.client("agent@harborsky.example")
    staff.post("/api/v1/exceptions/evaluate", json={"shipment_reference": s.reference})
    exc = staff.get("/api/v1/exceptions", params={"shipment": s.reference}).json()["items"][0]
    task = staff.post("/api/v1/tasks", json={"title": "Tell the customer", "exception_id": exc["id"]}).json()
    calls = _sample_calls(exc["id"], task["id"], s.reference)
    routes = {(m, r.path) for r in v1_ops.router.routes if isinstance(r, APIRoute) for m in r.methods}
    assert routes == set(calls), "every tower route needs a refusal check"
    customers = {"session": oworld.client("alice@acme.example"), "api key": _key_client(oworld, oworld.alice),
                 "other company's key": _key_client(oworld, oworld.nina)}
    for who, client in customers.items():
        for (method, _template), (url, body) in calls.items():
            resp = client.request(method, url, json=body)
            assert resp.status_code in (403, 404), f"{who} {method} {url}: {resp.status_code} {resp.text}"
            assert resp.json()["error"]["saved"] is False
    after = staff.get(f"/api/v1/exceptions/{exc['id']}").json()
    assert after["status"] == "open" and after["version"] == exc["version"]
    assert staff.get(f"/api/v1/tasks/{task['id']}").json()["status"] == "open"
