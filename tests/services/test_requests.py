"""Handing a problem to a person: a request with the context attached, inside the user's own company."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlmodel import select

from models import AuditLog, Document, Notification, SlaPolicy, Team, Ticket, TicketMessage
from portal_app.auth.sessions import _principal_for
from portal_app.services import clock
from portal_app.services import requests as svc
from portal_app.services.documents import get_document_for_download, upload_document
from portal_app.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from portal_app.services.exceptions import ExceptionInput, create_exception
from portal_app.services.requests import open_request
from tests.services.test_documents import pdf_bytes


def test_request_carries_the_context(world, db):
    alice = _principal_for(db, world.users["ALFA:customer_user"], None)
    ref = world.shipments["ALFA"][0]
    ticket = open_request(
        db, alice, category="documents", subject="Upload keeps failing", body="It says the file type is wrong.",
        context={"page": f"/portal/shipments/{ref}", "attempted": "upload packing_list", "error": "type not allowed"},
        shipment_reference=ref.lower(),
    )
    assert ticket.reference == f"REQ-{ticket.id:06d}"
    stored = db.exec(select(Ticket).where(Ticket.id == ticket.id)).one()
    assert stored.company_id == world.companies["ALFA"] and stored.raised_by_id == alice.user_id
    assert json.loads(stored.context)["attempted"] == "upload packing_list"
    assert db.exec(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)).one().body.startswith("It says")


def test_request_cannot_point_at_another_companys_shipment(world, db):
    alice = _principal_for(db, world.users["ALFA:customer_user"], None)
    before = len(db.exec(select(Ticket)).all())
    with pytest.raises(NotFound):
        open_request(db, alice, category="tracking", subject="Where is it", body="?",
                     shipment_reference=world.shipments["BETA"][0])
    with pytest.raises(ValidationFailed):
        open_request(db, alice, category="gossip", subject="Hello there", body="x")
    with pytest.raises(ValidationFailed):
        open_request(db, alice, category="other", subject="", body="")
    db.rollback()
    assert len(db.exec(select(Ticket)).all()) == before


# ------------------------------------------------------------------------------------------------ the desk

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _p(db, world, key: str):
    return _principal_for(db, world.users[key], None)


@pytest.fixture()
def at(monkeypatch):
    """Set the services' clock: ``at(hours)`` puts it that many hours after T0."""
    def move(hours: float = 0) -> datetime:
        when = T0 + timedelta(hours=hours)
        monkeypatch.setattr(clock, "now", lambda: when)
        return when
    move(0)
    return move


@pytest.fixture()
def desk(world, db, at):
    """A customer, a colleague, an agent and a fresh request of the customer's (on their first shipment)."""
    alice, colleague = _p(db, world, "ALFA:customer_user"), _p(db, world, "ALFA:customer_admin")
    agent, beta = _p(db, world, "FWD:ops_agent"), _p(db, world, "BETA:customer_user")
    ticket = open_request(db, alice, category="tracking", subject="Where is our container?",
                          body="It has not moved for days.", shipment_reference=world.shipments["ALFA"][1])
    return SimpleNamespace(alice=alice, colleague=colleague, agent=agent, beta=beta, ref=ticket.reference,
                           ticket_id=ticket.id)


def _notes(db, user_id: int, kind: str) -> list[Notification]:
    return list(db.exec(select(Notification).where(Notification.user_id == user_id,
                                                   Notification.event_kind == kind)).all())


def test_a_new_request_gets_sla_due_times_from_the_policy_and_the_routed_team(world, db, at):
    admin = _p(db, world, "FWD:admin")
    team = Team(name=f"Customer desk {uuid.uuid4().hex[:6]}")
    policy = SlaPolicy(subject="ticket", kind="billing", severity="urgent", first_response_hours=1,
                       resolution_hours=6)
    db.add_all([team, policy])
    db.commit()
    try:
        with pytest.raises(PermissionDenied):
            svc.save_desk_settings(db, _p(db, world, "ALFA:customer_admin"), routing={"billing": team.id},
                                   reopen_days=7)
        with pytest.raises(ValidationFailed):
            svc.save_desk_settings(db, admin, routing={"billing": 999999}, reopen_days=7)
        svc.save_desk_settings(db, admin, routing={"billing": team.id}, reopen_days=7)
        ticket = open_request(db, _p(db, world, "ALFA:customer_user"), category="billing", priority="urgent",
                              subject="Charge we do not recognise", body="Line 3 is not ours.")
        assert ticket.team_id == team.id
        assert ticket.first_response_due_at == T0 + timedelta(hours=1)
        assert ticket.resolution_due_at == T0 + timedelta(hours=6)
        other = open_request(db, _p(db, world, "ALFA:customer_user"), category="other", priority="low",
                             subject="A question", body="Hello")
        assert other.resolution_due_at == T0 + timedelta(hours=72)  # no policy for it: the default
        assert svc.desk_settings(db).reopen_days == 7
        audit = db.exec(select(AuditLog).where(AuditLog.action == "config_request_desk_saved")
                        .order_by(AuditLog.id.desc())).first()
        assert json.loads(audit.after)["routing"] == {"billing": team.id}
    finally:
        svc.save_desk_settings(db, admin, routing={}, reopen_days=14)
        db.delete(db.get(SlaPolicy, policy.id))
        db.commit()


def test_customers_never_see_internal_notes(world, db, desk, at):
    svc.post_message(db, desk.agent, desk.ref, "Carrier says the vessel skipped Singapore.", internal=True)
    svc.post_message(db, desk.agent, desk.ref, "The vessel was delayed; new ETA Friday.")
    mine = svc.get_request(db, desk.alice, desk.ref)
    assert [m.body for m in mine.messages] == ["It has not moved for days.", "The vessel was delayed; new ETA Friday."]
    assert mine.context == {}
    theirs = svc.get_request(db, desk.agent, desk.ref)
    assert [m.internal for m in theirs.messages] == [False, True, False]
    with pytest.raises(PermissionDenied):
        svc.post_message(db, desk.alice, desk.ref, "sneaky", internal=True)


def test_replies_move_the_status_answer_the_first_response_and_notify_the_right_people(world, db, desk, at):
    svc.set_following(db, desk.colleague, desk.ref, True)
    at(2)
    svc.post_message(db, desk.agent, desk.ref, "A note for the team only.", internal=True)
    assert not [n for n in _notes(db, desk.alice.user_id, "request_replied") if desk.ref in n.title]
    svc.post_message(db, desk.agent, desk.ref, "We are on it.")
    t = db.get(Ticket, desk.ticket_id)
    db.refresh(t)
    assert t.status == "waiting_on_customer" and t.first_responded_at == T0 + timedelta(hours=2)
    for user in (desk.alice, desk.colleague):
        notes = [n for n in _notes(db, user.user_id, "request_replied") if desk.ref in n.title]
        assert len(notes) == 1 and notes[0].link == f"/portal/requests/{desk.ref}"
    assert not [n for n in _notes(db, desk.beta.user_id, "request_replied") if desk.ref in n.title]
    svc.triage(db, desk.agent, desk.ref, category="tracking", priority="normal", team_id=None,
               assignee_id=desk.agent.user_id)
    svc.post_message(db, desk.alice, desk.ref, "Thanks, and the new ETA?")
    db.refresh(t)
    assert t.status == "waiting_on_us"
    assert [n.link for n in _notes(db, desk.agent.user_id, "request_customer_reply") if desk.ref in n.title] == [
        f"/tower/requests/{desk.ref}"]
    row = svc.get_request(db, desk.colleague, desk.ref).row
    assert row.raised_by == world.users["ALFA:customer_user"].full_name and row.first_response.label.startswith("Met")


def test_sla_timers_breach_and_breaching_soon_follow_the_clock(world, db, desk, at):
    # No policy in this data set: 8 hours to the first response, 72 to resolve.
    def queue(**f) -> set[str]:
        page = svc.list_requests(db, desk.agent, svc.RequestFilters(**f), page_size=100)
        return {r.reference for r in page.rows}

    at(7.5)
    assert desk.ref in queue(breaching_within_hours=1) and desk.ref not in queue(breached=True)
    at(9)
    assert desk.ref in queue(breached=True)
    row = next(r for r in svc.list_requests(db, desk.agent, svc.RequestFilters(search=desk.ref)).rows)
    assert row.first_response.breached and row.first_response.label == "Breached by 1 h 0 min"
    svc.post_message(db, desk.agent, desk.ref, "Sorry for the wait: here is the answer.")
    assert desk.ref not in queue(breached=True)  # answered; the resolution is due at 72 h
    at(71.5)
    assert desk.ref in queue(breaching_within_hours=1)
    at(73)
    assert desk.ref in queue(breached=True)


def test_resolve_reopen_within_the_window_and_not_after(world, db, desk, at):
    at(1)
    svc.set_status(db, desk.agent, desk.ref, "resolved", note="Delivered this morning.")
    assert [n for n in _notes(db, desk.alice.user_id, "request_resolved") if desk.ref in n.title]
    detail = svc.get_request(db, desk.alice, desk.ref)
    assert detail.row.status == "resolved" and detail.can_reopen and detail.can_rate
    at(24 * 3)
    svc.post_message(db, desk.alice, desk.ref, "Actually one pallet is missing.")  # a reply reopens it
    t = db.get(Ticket, desk.ticket_id)
    db.refresh(t)
    assert t.status == "waiting_on_us" and t.resolved_at is None
    assert t.resolution_due_at == T0 + timedelta(hours=24 * 3 + 72)
    svc.set_status(db, desk.agent, desk.ref, "resolved")
    at(24 * 3 + 24 * 15)
    with pytest.raises(Conflict):
        svc.reopen(db, desk.alice, desk.ref, "Still missing")
    with pytest.raises(Conflict):
        svc.post_message(db, desk.alice, desk.ref, "Hello?")


def test_rating_closes_a_resolved_request(world, db, desk, at):
    with pytest.raises(Conflict):
        svc.rate(db, desk.alice, desk.ref, 5)
    svc.set_status(db, desk.agent, desk.ref, "resolved")
    with pytest.raises(ValidationFailed):
        svc.rate(db, desk.alice, desk.ref, 9)
    with pytest.raises(PermissionDenied):
        svc.rate(db, desk.agent, desk.ref, 5)
    svc.rate(db, desk.alice, desk.ref, 4, "Quick and clear.")
    t = db.get(Ticket, desk.ticket_id)
    db.refresh(t)
    assert (t.status, t.satisfaction, t.satisfaction_comment) == ("closed", 4, "Quick and clear.")


def test_merge_keeps_one_thread_and_refuses_another_customer(world, db, desk, at):
    dup = open_request(db, desk.colleague, category="tracking", subject="Container not moving",
                       body="Same container as my colleague asked about.")
    theirs = open_request(db, desk.beta, category="tracking", subject="Ours too", body="?")
    with pytest.raises(ValidationFailed):
        svc.merge(db, desk.agent, dup.reference, theirs.reference)
    with pytest.raises(ValidationFailed):
        svc.merge(db, desk.agent, dup.reference, dup.reference)
    svc.merge(db, desk.agent, dup.reference, desk.ref)
    merged = svc.get_request(db, desk.colleague, dup.reference)
    assert merged.row.status == "closed" and merged.merged_into == desk.ref
    target = svc.get_request(db, desk.colleague, desk.ref)
    assert target.following and target.merged_from == [dup.reference]
    with pytest.raises(Conflict):
        svc.post_message(db, desk.colleague, dup.reference, "more")


def test_an_exception_of_another_shipment_cannot_be_linked(world, db, desk, at):
    ref = world.shipments["ALFA"][1]
    other = world.shipments["ALFA"][2]
    exc = create_exception(db, desk.agent, ExceptionInput(shipment_reference=ref, kind="carrier_hold",
                                                          title="Held by the carrier", cause=uuid.uuid4().hex))
    wrong = create_exception(db, desk.agent, ExceptionInput(shipment_reference=other, kind="carrier_hold",
                                                            title="Held by the carrier", cause=uuid.uuid4().hex))
    with pytest.raises(ValidationFailed):
        svc.link_exception(db, desk.agent, desk.ref, wrong.row.id)
    with pytest.raises(PermissionDenied):
        svc.link_exception(db, desk.alice, desk.ref, exc.row.id)
    svc.link_exception(db, desk.agent, desk.ref, exc.row.id)
    assert svc.get_request(db, desk.agent, desk.ref).exception_title == "Held by the carrier"


def test_attachments_are_checked_stored_privately_and_all_or_nothing(world, db, desk, at):
    messages = len(svc.get_request(db, desk.agent, desk.ref).messages)
    docs_before = db.exec(select(sa.func.count()).select_from(Document)).one()
    for name, data in (("photo.pdf", b""), ("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 200)):
        with pytest.raises(ValidationFailed):
            svc.post_message(db, desk.alice, desk.ref, "See attached", attachments=[("ok.pdf", pdf_bytes()),
                                                                                 (name, data)])
    assert len(svc.get_request(db, desk.agent, desk.ref).messages) == messages
    assert db.exec(select(sa.func.count()).select_from(Document)).one() == docs_before
    svc.post_message(db, desk.alice, desk.ref, "Photo of the seal", attachments=[("../../seal.pdf", pdf_bytes())])
    svc.post_message(db, desk.agent, desk.ref, "Carrier email", internal=True, attachments=[("mail.pdf", pdf_bytes())])
    mine = svc.get_request(db, desk.alice, desk.ref)
    files = [a for m in mine.messages for a in m.attachments]
    assert [f.filename for f in files] == ["seal.pdf"]
    staff_files = [a for m in svc.get_request(db, desk.agent, desk.ref).messages for a in m.attachments]
    internal = next(f for f in staff_files if f.filename == "mail.pdf")
    assert get_document_for_download(db, desk.alice, files[0].document_id).path.read_bytes() == pdf_bytes()
    with pytest.raises(NotFound):
        get_document_for_download(db, desk.alice, internal.document_id)
    with pytest.raises(NotFound):
        get_document_for_download(db, desk.beta, files[0].document_id)


def test_another_companys_request_is_not_found(world, db, desk):
    with pytest.raises(NotFound):
        svc.get_request(db, desk.beta, desk.ref)
    with pytest.raises(NotFound):
        svc.post_message(db, desk.beta, desk.ref, "hello")
    assert desk.ref not in {r.reference for r in svc.list_requests(db, desk.beta, svc.RequestFilters(status="all"),
                                                                    page_size=100).rows}
    with pytest.raises(PermissionDenied):
        svc.set_status(db, desk.alice, desk.ref, "resolved")


def test_a_failed_uploads_context_travels_into_the_request(world, db):
    """What the upload form hands over after a refusal: the request carries the page, the attempt and the draft."""
    alice = _p(db, world, "ALFA:customer_user")
    ref = world.shipments["ALFA"][3]
    with pytest.raises(ValidationFailed) as refused:
        upload_document(db, alice, ref, "packing_list", "list.pdf", b"")
    context = {"page": f"/portal/shipments/{ref}", "attempted": f"upload Packing list “list.pdf” to shipment {ref}",
               "error": refused.value.message, "draft": {"doc_type": "packing_list", "filename": "list.pdf"}}
    ticket = open_request(db, alice, category="documents", subject="Help needed: upload", body="It failed.",
                          context=context, shipment_reference=ref)
    detail = svc.get_request(db, _p(db, world, "FWD:ops_agent"), ticket.reference)
    assert detail.context["draft"] == {"doc_type": "packing_list", "filename": "list.pdf"}
    assert "empty" in detail.context["error"] and detail.row.shipment_reference == ref


def test_the_desk_on_sqlite_and_postgresql(any_world, monkeypatch):
    """The queue's SQL (timers, ordering, search) and a request's life on both databases."""
    from tests.tower_world import make_shipment

    w = any_world
    monkeypatch.setattr(clock, "now", lambda: T0)
    with w.session() as db:
        s = make_shipment(db)
        ticket = open_request(db, w.bob, category="tracking", priority="high", subject="Vessel skipped a port?",
                              body="Please check.", shipment_reference=s.reference)
        dup = open_request(db, w.alice, category="tracking", subject="Same question", body="Also asking.")
        svc.post_message(db, w.agent, ticket.reference, "Checking with the line.", internal=True)
        monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(hours=30))
        breached = svc.list_requests(db, w.agent, svc.RequestFilters(breached=True, search=s.reference))
        assert [r.reference for r in breached.rows] == [ticket.reference]
        svc.post_message(db, w.agent, ticket.reference, "The vessel calls next week.", status="resolved")
        svc.merge(db, w.agent, dup.reference, ticket.reference)
        mine = svc.get_request(db, w.alice, ticket.reference)
        assert [m.internal for m in mine.messages] == [False, False, False]
        assert mine.row.status == "resolved" and mine.following and mine.merged_from == [dup.reference]
        with pytest.raises(NotFound):
            svc.get_request(db, w.nina, ticket.reference)
