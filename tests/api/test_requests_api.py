"""REST v1 for requests: raise, read, reply with files, staff actions, and tenancy (404 for another company)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from portal_app.api.app import build_api
from tests.api.test_api import client_for
from tests.factories import World
from tests.services.test_documents import pdf_bytes


@pytest.fixture()
def alfa(world: World) -> TestClient:
    return client_for("customer_user@alfa.test")


@pytest.fixture()
def agent(world: World) -> TestClient:
    return client_for("ops_agent@fwd.test")


def _raise(client: TestClient, world: World) -> dict:
    resp = client.post("/api/v1/requests", json={
        "category": "documents", "subject": "Which packing list do you need?", "body": "We sent two versions.",
        "shipment_reference": world.shipments["ALFA"][4], "context": {"page": "/portal/documents"}})
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_raise_reply_with_a_file_and_read_back(world, alfa, agent):
    created = _raise(alfa, world)
    ref = created["reference"]
    assert created["status"] == "open" and created["first_response"]["due_at"]
    resp = agent.post(f"/api/v1/requests/{ref}/messages", json={"body": "Internal: check with the warehouse",
                                                                "internal": True})
    assert resp.status_code == 201 and resp.json()["messages"][-1]["internal"] is True
    resp = alfa.post(f"/api/v1/requests/{ref}/messages", data={"body": "Here is the right one"},
                     files=[("files", ("list.pdf", pdf_bytes("packing list"), "application/pdf"))])
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert [m["internal"] for m in body["messages"]] == [False, False]  # the note is not in a customer's answer
    url = body["messages"][-1]["attachments"][0]["download_url"]
    assert alfa.get(url).content == pdf_bytes("packing list")
    assert client_for("customer_user@beta.test").get(url).status_code == 404
    staff_view = agent.get(f"/api/v1/requests/{ref}").json()
    assert staff_view["context"]["page"] == "/portal/documents" and len(staff_view["messages"]) == 3


def test_a_refused_file_leaves_no_message(world, alfa):
    ref = _raise(alfa, world)["reference"]
    resp = alfa.post(f"/api/v1/requests/{ref}/messages", data={"body": "Here"},
                     files=[("files", ("invoice.pdf", b"MZ" + b"\x00" * 100, "application/pdf"))])
    assert resp.status_code == 422 and "Nothing was stored" in resp.json()["error"]["message"]
    assert len(alfa.get(f"/api/v1/requests/{ref}").json()["messages"]) == 1


def test_staff_actions_and_their_refusals(world, alfa, agent):
    ref = _raise(alfa, world)["reference"]
    assert alfa.post(f"/api/v1/requests/{ref}/status", json={"status": "resolved"}).status_code == 403
    resp = agent.post(f"/api/v1/requests/{ref}/triage", json={"category": "documents", "priority": "high",
                                                               "team_id": None, "assignee_id": None})
    assert resp.status_code == 200 and resp.json()["priority"] == "high"
    stale = resp.json()["version"] - 1
    resp = agent.post(f"/api/v1/requests/{ref}/status", json={"status": "resolved", "expected_version": stale})
    assert resp.status_code == 409
    resp = agent.post(f"/api/v1/requests/{ref}/status", json={"status": "resolved", "note": "Sent you the list."})
    assert resp.status_code == 200 and resp.json()["status"] == "resolved"
    resp = alfa.post(f"/api/v1/requests/{ref}/rating", json={"score": 5})
    assert resp.status_code == 200 and resp.json()["status"] == "closed" and resp.json()["satisfaction"] == 5
    assert agent.get("/api/v1/canned-replies").status_code == 200
    assert alfa.get("/api/v1/canned-replies").status_code == 403


def test_another_companys_request_answers_404(world, alfa):
    ref = _raise(alfa, world)["reference"]
    beta = client_for("customer_user@beta.test")
    assert beta.get(f"/api/v1/requests/{ref}").status_code == 404
    assert beta.post(f"/api/v1/requests/{ref}/messages", json={"body": "hi"}).status_code == 404
    assert beta.put(f"/api/v1/requests/{ref}/follow").status_code == 404
    assert ref not in {r["reference"] for r in beta.get("/api/v1/requests?status=all&page_size=100").json()["items"]}
    assert TestClient(build_api()).get("/api/v1/requests").status_code == 401
