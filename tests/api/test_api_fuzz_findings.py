"""Regression tests for what the API fuzz test (tests/api/test_api_fuzz.py) found, each as a plain example."""

from __future__ import annotations

import uuid

import pytest

from portal_app.services.config import org
from portal_app.services.errors import Conflict
from tests.config_world import ConfigWorld


@pytest.mark.parametrize("first, again", [("Équipe Nord", "Équipe Nord"), ("Équipe Nord", "équipe nord"),
                                          ("Δρομολόγια", "ΔΡΟΜΟΛΌΓΙΑ")])
def test_a_team_name_taken_in_any_script_is_refused_not_a_500(cworld: ConfigWorld, first, again):
    """SQLite's lower() folds only ASCII letters: the same non-ASCII name twice reached the unique index (500)."""
    with cworld.session() as db:
        made = org.save_team(db, cworld.admin, name=f"{first} {uuid.uuid4().hex[:6]}", branch_id=None)
        with pytest.raises(Conflict) as refused:
            org.save_team(db, cworld.admin, name=made.name.replace(first, again), branch_id=None)
        assert refused.value.code == "duplicate_name"
        assert [t.name for t in org.list_teams(db, cworld.admin)].count(made.name) == 1


@pytest.mark.parametrize("path, body", [
    ("/api/v1/config/teams", {"name": "Ocean Export", "branch_id": True}),  # true was read as branch 1
    ("/api/v1/help/manage/articles/1/publish", {"published": 0, "expected_version": 1}),  # 0 was read as false
    ("/api/v1/help/manage/articles/1/publish", {"published": "yes", "expected_version": 1}),
    ("/api/v1/help/manage/articles/1/audience", {"audience": "public", "expected_version": "1"}),
    ("/api/v1/workload/reassign", {"from_user_id": 1.0, "to_user_id": 2}),
])
def test_a_json_value_of_the_wrong_type_is_refused_not_coerced(cworld: ConfigWorld, path, body):
    """JSON bodies take each value in its declared type: pydantic's lax mode read ``true`` as the id 1 and ``0`` as
    false, so a mixed-up field changed something else (a team landed in branch 1, an article was unpublished)."""
    admin = cworld.world.client("admin@harborsky.example")
    before = admin.get("/api/v1/config/teams").json()
    resp = admin.post(path, json=body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "invalid_input"
    assert admin.get("/api/v1/config/teams").json() == before


def test_a_reply_sent_as_a_form_still_reads_its_text_values(world):
    """Forms carry only text: a multipart reply's ``internal`` and ``expected_version`` are read from it."""
    from tests.api.test_api import client_for
    from tests.services.test_documents import pdf_bytes

    customer = client_for("customer_user@alfa.test")
    created = customer.post("/api/v1/requests", json={
        "category": "other", "subject": "A form reply", "body": "First message.",
        "shipment_reference": world.shipments["ALFA"][5]})
    assert created.status_code == 201, created.text
    reference, version = created.json()["reference"], created.json()["version"]
    agent = client_for("ops_agent@fwd.test")
    note = {"body": "Checking with the carrier", "internal": "true", "expected_version": str(version)}
    resp = agent.post(f"/api/v1/requests/{reference}/messages", data=note,
                      files=[("files", ("booking.pdf", pdf_bytes("booking"), "application/pdf"))])
    assert resp.status_code == 201, resp.text
    assert resp.json()["messages"][-1]["internal"] is True and resp.json()["messages"][-1]["attachments"]
    stale = agent.post(f"/api/v1/requests/{reference}/messages", data={"body": "Again", "expected_version": "0"},
                       files=[("files", ("booking.pdf", pdf_bytes("booking"), "application/pdf"))])
    assert stale.status_code == 409, stale.text
