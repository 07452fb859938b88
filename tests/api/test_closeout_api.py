"""Closeout over the API: the checklist, close refused then allowed, and a shipment's documents as one ZIP (its
listing: customers never get internal documents, names are safe and unique; another company's reference is 404)."""

from __future__ import annotations

import io
import zipfile

import pytest

from portal_app.services import clock
from tests.closeout_world import NOW, add_task, delivered_shipment, pdf_bytes, ready_to_close, upload
from tests.quote_world import QuoteWorld

AGENT = "agent@harborsky.example"
MANAGER = "manager@harborsky.example"


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def test_checklist_and_close_over_the_api(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        s = delivered_shipment(db)
        add_task(db, s)
    agent = w.client(AGENT)
    url = f"/api/v1/tower/shipments/{s.reference}"
    checklist = agent.get(f"{url}/closeout")
    assert checklist.status_code == 200, checklist.text
    body = checklist.json()
    assert body["due"] is True and body["can_close"] is False and body["version"] == s.version
    assert {i["key"]: i["done"] for i in body["items"]} == {
        "final_documents": False, "invoices": False, "tasks": False, "exceptions": True}
    refused = agent.post(f"{url}/close", json={"expected_version": s.version})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "closeout_incomplete" and set(error["fields"]) == {"final_documents", "invoices", "tasks"}
    assert agent.post(f"{url}/close", json={"expected_version": s.version, "override_reason": "Signed off by phone"}
                      ).status_code == 403
    manager = w.client(MANAGER)
    done = manager.post(f"{url}/close", json={"expected_version": s.version,
                                              "override_reason": "Signed off by phone; the rest follows"})
    assert done.status_code == 200, done.text
    assert manager.get(f"{url}/closeout").json()["closed"] is True
    stale = manager.post(f"{url}/close", json={"expected_version": s.version})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "edit_conflict"
    customer = w.client("alice@acme.example")
    assert customer.get(f"{url}/closeout").status_code == 403
    assert customer.post(f"{url}/close", json={"expected_version": s.version + 1}).status_code == 403


def _listing(response) -> dict[str, bytes]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_the_archive_holds_what_the_caller_may_read(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        s = ready_to_close(db, w.agent)
        upload(db, w.agent, s, "arrival_notice", "../../notes/pod.pdf", text="arrival")  # same name as the POD
        upload(db, w.agent, s, "other", "internal-costs.pdf", visibility="internal")
        upload(db, w.agent, s, "packing_list", "pl.pdf", text="old")
        upload(db, w.agent, s, "packing_list", "pl.pdf", text="new")  # supersedes the first
    url = f"/api/v1/shipments/{s.reference}/documents.zip"
    files = _listing(w.client("alice@acme.example").get(url))
    assert sorted(files) == ["bl.pdf", "pl.pdf", "pod (2).pdf", "pod.pdf"]
    assert all("/" not in name and "\\" not in name for name in files)
    assert files["pl.pdf"] == pdf_bytes("new")  # the current version, byte for byte
    staff = _listing(w.client(AGENT).get(url))
    assert "internal-costs.pdf" in staff and len(staff) == 5
    other = w.client("nina@nordwind.example").get(url)
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
    assert w.client("alice@acme.example").get("/api/v1/shipments/SH9999999/documents.zip").status_code == 404


def test_a_shipment_without_documents_has_no_archive(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        s = delivered_shipment(db)
    missing = w.client("alice@acme.example").get(f"/api/v1/shipments/{s.reference}/documents.zip")
    assert missing.status_code == 404 and "no documents" in missing.json()["error"]["message"]
