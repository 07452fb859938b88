"""The shipment workspace: milestone edits, ETA changes with reasons, notes versus updates, document review, the
audit trail, and optimistic locking on the shipment's version."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from models import Document, EtaChange, Milestone, Notification, ShipmentFollower, ShipmentUpdate
from portal_app.services import clock, shipment_activity, workspace
from portal_app.services.errors import NotFound, PermissionDenied, ValidationFailed
from tests.quote_world import QuoteWorld
from tests.tower_world import T0, make_shipment

NOW = T0 + timedelta(days=3)


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def test_stale_save_is_refused_with_what_changed_and_nothing_is_lost(any_world: QuoteWorld):
    w = any_world
    with w.session() as db:
        s = make_shipment(db, vessel="MAERSK ESSEN", voyage="612W")
        seen = s.version
        first = workspace.change_eta(db, w.agent, s.reference, T0 + timedelta(days=22), "WEATHER",
                                     expected_version=seen)
        assert first.version == seen + 1
        mine = {"actual_at": T0 + timedelta(hours=2), "location": "CNSHA"}
        with pytest.raises(workspace.EditConflict) as stale:
            workspace.edit_milestone(db, w.manager, s.reference, "vessel_departure", mine, expected_version=seen)
        err = stale.value
        assert err.status_code == 409 and "Nothing was saved" in err.message
        assert err.current_version == seen + 1
        fields = {c.field: c for c in err.changes}
        assert fields["eta_estimated"].changed_by == "Olivia Agent"
        assert "reason_code" in fields and fields["reason_code"].new == "WEATHER"
        assert err.your_input["milestone"] == "vessel_departure" and err.your_input["location"] == "CNSHA"
        body = err.to_dict()["error"]
        assert body["code"] == "edit_conflict" and body["changes"] and body["your_input"]["actual_at"]
        step = db.exec(select(Milestone).where(Milestone.shipment_id == s.id,
                                               Milestone.code == "vessel_departure")).one()
        assert step.actual_at is None  # the stale save wrote nothing
        # Re-applied on the current version, it goes through.
        again = workspace.edit_milestone(db, w.manager, s.reference, "vessel_departure", mine,
                                         expected_version=err.current_version)
        assert again.version == seen + 2


def test_milestone_edit_validates_and_mirrors_the_shipment(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        s = make_shipment(db, status="confirmed")
        v = s.version
        with pytest.raises(ValidationFailed, match="future"):
            workspace.edit_milestone(db, w.agent, s.reference, "vessel_departure",
                                     {"actual_at": NOW + timedelta(days=1)}, expected_version=v)
        with pytest.raises(ValidationFailed, match="time zone"):
            workspace.edit_milestone(db, w.agent, s.reference, "vessel_departure",
                                     {"actual_at": "2026-11-02T10:00:00"}, expected_version=v)
        with pytest.raises(ValidationFailed, match="not known"):
            workspace.edit_milestone(db, w.agent, s.reference, "vessel_departure", {"location": "XXNOPE"},
                                     expected_version=v)
        with pytest.raises(ValidationFailed, match="ETA change"):
            workspace.edit_milestone(db, w.agent, s.reference, "vessel_arrival",
                                     {"estimated_at": NOW + timedelta(days=30)}, expected_version=v)
        with pytest.raises(NotFound, match="no milestone"):
            workspace.edit_milestone(db, w.agent, s.reference, "nope", {"actual_at": NOW}, expected_version=v)
        departed = T0 + timedelta(hours=5)
        workspace.edit_milestone(db, w.agent, s.reference, "vessel_departure", {"actual_at": departed},
                                 expected_version=v)
        db.refresh(s)
        assert s.atd == departed and s.status == "in_transit" and s.version == v + 1
        # An earlier step cannot have happened after it.
        with pytest.raises(ValidationFailed, match="cannot have happened after"):
            workspace.edit_milestone(db, w.agent, s.reference, "gate_in_origin" if _has(db, s, "gate_in_origin")
                                     else _first_code(db, s), {"actual_at": departed + timedelta(hours=1)},
                                     expected_version=s.version)


def _has(db, s, code: str) -> bool:
    return db.exec(select(Milestone).where(Milestone.shipment_id == s.id, Milestone.code == code)).first() is not None


def _first_code(db, s) -> str:
    return db.exec(select(Milestone.code).where(Milestone.shipment_id == s.id).order_by(Milestone.sequence)).first()


def test_eta_change_reaches_history_timeline_and_followers(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        s = make_shipment(db)
        db.add(ShipmentFollower(shipment_id=s.id, user_id=w.bob.user_id))
        db.add(ShipmentFollower(shipment_id=s.id, user_id=w.alice.user_id))
        db.commit()
        new_eta = s.eta_planned + timedelta(days=3)
        with pytest.raises(ValidationFailed, match="Choose why the ETA changes"):
            workspace.change_eta(db, w.agent, s.reference, new_eta, "BECAUSE", expected_version=s.version)
        workspace.change_eta(db, w.agent, s.reference, new_eta, "PORT_CONGESTION", "Berth window moved",
                             expected_version=s.version)
        history = shipment_activity.eta_history(db, w.bob, s.reference)
        assert len(history) == 1 and history[0].new_eta == new_eta and history[0].shift_hours == 72.0
        assert history[0].reason_code == "PORT_CONGESTION"
        visible = shipment_activity.updates(db, w.bob, s.reference)
        assert any("Port congestion" in u.body and "Berth window moved" in u.body for u in visible)
        notes = db.exec(select(Notification).where(Notification.link == f"/portal/shipments/{s.reference}",
                                                   Notification.event_kind == "eta_changed")).all()
        assert sorted(n.user_id for n in notes) == sorted([w.bob.user_id, w.alice.user_id])  # one per follower
        change = db.exec(select(EtaChange).where(EtaChange.shipment_id == s.id)).one()
        assert {n.dedup_key for n in notes} == {f"eta_change:{change.id}"}
        step = db.exec(select(Milestone).where(Milestone.shipment_id == s.id,
                                               Milestone.code == "vessel_arrival")).one()
        db.refresh(s)
        assert step.estimated_at == new_eta and s.eta_estimated == new_eta and s.delay_minutes == 3 * 24 * 60


def test_internal_notes_never_reach_the_customer(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        s = make_shipment(db)
        workspace.add_note(db, w.agent, s.reference, "Carrier says the reefer plug failed; do not tell yet.")
        workspace.add_note(db, w.agent, s.reference, "Your container is on board.", visibility="customer")
        staff = [u.body for u in shipment_activity.updates(db, w.agent, s.reference)]
        customer = [u.body for u in shipment_activity.updates(db, w.alice, s.reference)]
        assert any("reefer" in b for b in staff) and any("on board" in b for b in staff)
        assert customer == ["Your container is on board."]
        with pytest.raises(PermissionDenied):
            workspace.add_note(db, w.alice, s.reference, "let me in", visibility="internal")
        with pytest.raises(ValidationFailed, match="Visibility"):
            workspace.add_note(db, w.agent, s.reference, "hello", visibility="public")


def test_document_review_reject_reason_reaches_the_customer(tworld: QuoteWorld):
    from portal_app.services import documents

    w = tworld
    with w.session() as db:
        s = make_shipment(db, status="confirmed", company="ACME")
        doc = Document(company_id=s.company_id, shipment_id=s.id, doc_type="commercial_invoice", filename="ci.pdf",
                       content_type="application/pdf", size_bytes=10, sha256="0" * 64,
                       storage_key=f"test/{s.reference}/ci.pdf", uploaded_by_id=w.bob.user_id)
        db.add(doc)
        db.commit()
        seen = doc.version
        with pytest.raises(ValidationFailed, match="reason"):
            workspace.review_document(db, w.agent, s.reference, doc.id, approve=False, reason="")
        with pytest.raises(PermissionDenied):
            workspace.review_document(db, w.alice, s.reference, doc.id, approve=True)
        done = workspace.review_document(db, w.agent, s.reference, doc.id, approve=False,
                                         reason="The invoice total does not match the packing list.",
                                         expected_version=seen)
        assert done.status == "rejected"
        checklist = {i.doc_type: i for i in documents.document_checklist(db, w.bob, s.reference)}
        item = checklist["commercial_invoice"]
        assert item.state == "rejected" and "does not match" in item.rejection_reason
        assert db.exec(select(Notification).where(Notification.user_id == w.bob.user_id,
                                                  Notification.event_kind == "document_rejected")).first()
        with pytest.raises(workspace.Conflict, match="reviewed or changed"):
            workspace.review_document(db, w.manager, s.reference, doc.id, approve=True, expected_version=seen)
        trail = workspace.audit_trail(db, w.agent, s.reference)
        assert trail.rows[0].action == "document_rejected"


def test_assign_and_audit_trail_pages(tworld: QuoteWorld):
    from models import Team

    w = tworld
    with w.session() as db:
        s = make_shipment(db)
        team = db.exec(select(Team)).first()
        with pytest.raises(PermissionDenied):
            workspace.assign(db, w.agent, s.reference, {"team_id": team.id}, expected_version=s.version)
        with pytest.raises(ValidationFailed, match="not an active staff"):
            workspace.assign(db, w.manager, s.reference, {"owner_id": w.alice.user_id}, expected_version=s.version)
        workspace.assign(db, w.manager, s.reference, {"owner_id": w.agent.user_id, "team_id": team.id},
                         expected_version=s.version)
        who = workspace.assignment(db, w.manager, s.reference)
        assert who.owner == "Olivia Agent" and who.team == team.name
        workspace.add_note(db, w.agent, s.reference, "internal one")
        trail = workspace.audit_trail(db, w.agent, s.reference, page=1, page_size=1)
        assert trail.total == 2 and len(trail.rows) == 1 and trail.rows[0].action == "internal_note"
        second = workspace.audit_trail(db, w.agent, s.reference, page=2, page_size=1).rows[0]
        assert second.action == "assigned" and {c.field for c in second.changes} == {"owner", "team"}
        with pytest.raises(PermissionDenied):
            workspace.audit_trail(db, w.alice, s.reference)


def test_customer_updates_are_written_for_the_customer_feed(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        s = make_shipment(db)
        workspace.add_note(db, w.agent, s.reference, "Customs cleared.", visibility="customer")
        row = db.exec(select(ShipmentUpdate).where(ShipmentUpdate.shipment_id == s.id)).one()
        assert row.visibility == "customer" and row.company_id == s.company_id


def test_workspace_over_the_api_with_a_409_carrying_the_changes(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        s = make_shipment(db)
    agent = w.client("agent@harborsky.example")
    manager = w.client("manager@harborsky.example")
    base = f"/api/v1/tower/shipments/{s.reference}"
    reasons = agent.get("/api/v1/tower/eta-reasons").json()
    assert {"code": "WEATHER", "label": "Weather"} in reasons
    ok = agent.post(f"{base}/eta", json={"expected_version": s.version, "new_eta": "2026-11-23T08:00:00Z",
                                         "reason_code": "WEATHER"})
    assert ok.status_code == 200, ok.text
    stale = manager.patch(f"{base}/milestones/vessel_departure",
                          json={"expected_version": s.version, "actual_at": "2026-11-01T14:00:00Z"})
    assert stale.status_code == 409
    err = stale.json()["error"]
    assert err["code"] == "edit_conflict" and err["saved"] is False and "Nothing was saved" in err["message"]
    assert {c["field"] for c in err["changes"]} >= {"eta_estimated", "reason_code"}
    assert err["changes"][0]["changed_by"] == "Olivia Agent"
    assert err["your_input"]["actual_at"].startswith("2026-11-01T14:00")
    again = manager.patch(f"{base}/milestones/vessel_departure",
                          json={"expected_version": err["current_version"], "actual_at": "2026-11-01T14:00:00Z"})
    assert again.status_code == 200, again.text
    note = agent.post(f"{base}/notes", json={"body": "Secret: carrier penalty pending", "visibility": "internal"})
    assert note.status_code == 201
    trail = agent.get(f"{base}/audit", params={"page_size": 2}).json()
    assert trail["total"] == 3 and trail["items"][0]["action"] == "internal_note"
    customer = w.client("alice@acme.example")
    seen = customer.get(f"/api/v1/shipments/{s.reference}/updates")
    assert seen.status_code == 200 and "Secret" not in seen.text
    assert any("Weather" in u["body"] for u in seen.json())
    assert "Secret" in agent.get(f"/api/v1/shipments/{s.reference}/updates").text
    assert customer.post(f"{base}/notes", json={"body": "x y z"}).status_code == 403
