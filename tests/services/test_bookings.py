"""Accepting an option into a booking, exactly once (sequential repeats, the same Idempotency-Key, 20 concurrent
accepts on SQLite and on PostgreSQL); expired options; ops confirming or rejecting; amend and cancel requests
decided by ops; another company's option answering 404."""

from __future__ import annotations

import itertools
import json
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models import (
    AuditLog,
    IdempotencyKey,
    Milestone,
    MilestoneTemplate,
    MilestoneTemplateStep,
    Notification,
    OpsException,
    PortalEvent,
    QuoteOption,
    QuoteRequest,
    Shipment,
    ShipmentCharge,
    ShipmentUpdate,
)
from portal_app.services import bookings, clock, documents, quotes, shipments
from portal_app.services.bookings import BookingInput
from portal_app.services.errors import Conflict, FormInvalid, NotFound, PermissionDenied
from portal_app.services.quotes import CargoLineInput, QuoteInput
from portal_app.services.shipments import ShipmentFilters
from tests.quote_world import QuoteWorld, add_card, submitted

D = Decimal
BOOKING = BookingInput(shipper_name="Tianjin Bearings Co.", consignee_name="Acme Home Goods Ltd",
                       cargo_description="Steel ball bearings", cargo_confirmed=True,
                       consignee_address="Unit 4, Orwell Park, Ipswich")


def make_lane(world: QuoteWorld) -> None:
    """Ocean FCL Tianjin -> Gdansk with two carriers (idempotent: cards are added once per database)."""
    with world.session() as db:
        if quotes.candidate_cards(db, "ocean_fcl", _loc(db, "CNTXG"), _loc(db, "PLGDN"), clock.today()):
            return
        for carrier, gp20, doc in (("MAEU", "1500", "65.1234"), ("MSCU", "1600", "60")):
            add_card(db, world, "ocean_fcl", "CNTXG", "PLGDN", "USD", 38, [
                {"code": "FRT", "basis": "per_container", "rate": gp20, "size_type": "22G1"},
                {"code": "BAF", "basis": "per_container", "rate": "412.5"},
                {"code": "DOC", "basis": "per_shipment", "rate": doc},
            ], carrier=carrier)


def _loc(db: Session, code: str) -> int:
    from portal_app.services.locations import find_location

    return find_location(db, code).id


def fcl_quote(world: QuoteWorld, principal=None, *, dangerous: bool = False) -> quotes.QuoteView:
    make_lane(world)
    line = CargoLineInput(description="Bearings", container_size_type="22G1", container_count=2, weight_kg="30000",
                          is_dangerous_goods=dangerous, un_number="1263" if dangerous else None,
                          dg_class="3" if dangerous else None)
    with world.session() as db:
        view = submitted(db, principal or world.alice, QuoteInput(
            mode="ocean_fcl", origin="CNTXG", destination="PLGDN", ready_date=clock.today() + timedelta(days=10),
            incoterm="FOB", customer_reference="ACME-PO-4711", lines=(line,)))
    assert view.status == "quoted" and len(view.options) == 2
    return view


def test_accepting_an_option_makes_a_booking_ready_for_execution(qworld: QuoteWorld):
    quote = fcl_quote(qworld, dangerous=True)
    option = quote.options[0]  # cheapest: MAEU 2 x 1500 + 2 x 412.50 + 65.12 = 3890.12
    assert (option.carrier_code, option.total) == ("MAEU", D("3890.12"))
    with qworld.session() as db:
        result = bookings.accept_option(db, qworld.alice, option.id, BOOKING)
        assert result.created and result.status == "booked" and result.quote_reference == quote.reference
        ship = db.exec(select(Shipment).where(Shipment.reference == result.shipment_reference)).one()
        assert ship.quote_option_id == option.id and ship.company_id == qworld.alice.company_id
        assert (ship.mode, ship.incoterm, ship.customer_po, ship.shipper_name) == (
            "ocean_fcl", "FOB", "ACME-PO-4711", "Tianjin Bearings Co.")
        assert ship.is_dangerous_goods and ship.gross_weight_kg == D("30000.000") and ship.packages == 2
        # the mode's milestone template, planned from the ready date and transit time
        template = db.exec(select(MilestoneTemplate).where(MilestoneTemplate.mode == "ocean_fcl")).one()
        steps = db.exec(select(MilestoneTemplateStep).where(MilestoneTemplateStep.template_id == template.id)
                        .order_by(MilestoneTemplateStep.sequence)).all()
        ms = db.exec(select(Milestone).where(Milestone.shipment_id == ship.id).order_by(Milestone.sequence)).all()
        assert [m.code for m in ms] == [s.code for s in steps]
        assert all(a.planned_at <= b.planned_at for a, b in itertools.pairwise(ms))
        departure = next(m for m in ms if m.code == "vessel_departure")
        arrival = next(m for m in ms if m.code == "vessel_arrival")
        assert ship.etd_planned == departure.planned_at and ship.eta_planned == arrival.planned_at
        assert (arrival.planned_at - departure.planned_at).days == 38  # the option's transit days
        # the quote's charges carried forward, to the fourth decimal of the rate
        charges = db.exec(select(ShipmentCharge).where(ShipmentCharge.shipment_id == ship.id)
                          .order_by(ShipmentCharge.id)).all()
        assert sum(c.amount for c in charges) == option.total
        assert [(c.code, c.quantity, c.unit_price, c.amount, c.currency) for c in charges] == [
            ("FRT", D("2.000"), D("1500.0000"), D("3000.00"), "USD"),
            ("BAF", D("2.000"), D("412.5000"), D("825.00"), "USD"),
            ("DOC", D("1.000"), D("65.1234"), D("65.12"), "USD"),
        ]
        # the required-documents checklist, dangerous goods declaration included
        checklist = {i.doc_type for i in documents.document_checklist(db, qworld.alice, ship.reference)}
        assert {"commercial_invoice", "packing_list", "dangerous_goods_declaration"} <= checklist
        # found by its reference and by the customer's PO, in the customer's list and in the tower's queue
        for term in (ship.reference, "ACME PO 4711"):
            found = shipments.list_shipments(db, qworld.alice, ShipmentFilters(search=term), page_size=5)
            assert [r.reference for r in found.rows] == [ship.reference]
        pending = bookings.pending_bookings(db, qworld.agent, page_size=100)
        row = next(r for r in pending.rows if r.shipment_reference == ship.reference)
        assert row.quote_reference == quote.reference and row.total_text == "USD 3,890.12"
        with pytest.raises(PermissionDenied):
            bookings.pending_bookings(db, qworld.alice)
        # the quote is accepted, the other option declined, and the story starts
        again = quotes.get_quote(db, qworld.alice, quote.reference)
        assert again.status == "accepted"
        assert {o.id: o.status for o in again.options} == {option.id: "accepted", quote.options[1].id: "declined"}
        assert next(o for o in again.options if o.id == option.id).shipment_reference == ship.reference
        assert db.exec(select(ShipmentUpdate).where(ShipmentUpdate.shipment_id == ship.id,
                                                    ShipmentUpdate.visibility == "customer")).first()
        assert db.exec(select(AuditLog).where(AuditLog.action == "booking_requested",
                                              AuditLog.entity_id == ship.reference)).first()
        assert db.exec(select(PortalEvent).where(PortalEvent.kind == "booking_submitted",
                                                 PortalEvent.detail == f"option {option.id}")).first()


def test_repeats_return_the_first_booking(qworld: QuoteWorld):
    quote = fcl_quote(qworld)
    option_id = quote.options[0].id
    with qworld.session() as db:
        first = bookings.accept_option(db, qworld.alice, option_id, BOOKING, idempotency_key="tab-1")
        again = bookings.accept_option(db, qworld.alice, option_id, BOOKING, idempotency_key="tab-1")  # retry
        click = bookings.accept_option(db, qworld.alice, option_id, BOOKING)  # double click, no key
        colleague = bookings.accept_option(db, qworld.bob, option_id, BOOKING, idempotency_key="bob-1")  # 2nd tab
        assert first.created and not again.created and not click.created and not colleague.created
        assert {first.shipment_reference, again.shipment_reference, click.shipment_reference,
                colleague.shipment_reference} == {first.shipment_reference}
        assert "already booked" in again.message
        other = fcl_quote(qworld).options[0].id
        with pytest.raises(Conflict) as reused:
            bookings.accept_option(db, qworld.alice, other, BOOKING, idempotency_key="tab-1")
        assert reused.value.code == "idempotency_key_reused"
        assert db.exec(select(sa.func.count()).select_from(Shipment).where(Shipment.quote_option_id == option_id)
                       ).one() == 1


def concurrent_accepts(world: QuoteWorld, option_id: int, n: int = 20) -> list:
    """``n`` threads, each with its own database session, accept the same option at the same moment: half with
    one shared Idempotency-Key (a retried request), half with keys of their own (other tabs)."""
    barrier = threading.Barrier(n)
    results: list = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        principal = world.alice if i % 2 == 0 else world.bob
        key = "same-request" if i < n // 2 else f"tab-{i}"
        with Session(world.engine, expire_on_commit=False) as db:
            barrier.wait()
            try:
                outcome = bookings.accept_option(db, principal, option_id, BOOKING, idempotency_key=key)
            except Exception as exc:  # noqa: BLE001 (reported by the test)
                outcome = exc
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def _assert_exactly_one(world: QuoteWorld, option_id: int, results: list) -> None:
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == [], errors
    assert len(results) == 20
    assert sum(r.created for r in results) == 1
    assert len({r.shipment_reference for r in results}) == 1
    with world.session() as db:
        made = db.exec(select(Shipment).where(Shipment.quote_option_id == option_id)).all()
        assert len(made) == 1 and made[0].reference == results[0].shipment_reference
        assert db.exec(select(QuoteOption.status).where(QuoteOption.id == option_id)).one() == "accepted"
        assert db.exec(select(sa.func.count()).select_from(ShipmentCharge)
                       .where(ShipmentCharge.shipment_id == made[0].id)).one() == 3
        keys = db.exec(select(IdempotencyKey).where(IdempotencyKey.result_ref == made[0].reference)).all()
        assert len(keys) == 1


def test_twenty_concurrent_accepts_make_one_booking_on_sqlite(qworld: QuoteWorld):
    option_id = fcl_quote(qworld).options[0].id
    _assert_exactly_one(qworld, option_id, concurrent_accepts(qworld, option_id))


@pytest.mark.postgres
def test_twenty_concurrent_accepts_make_one_booking_on_postgresql(pg_qworld: QuoteWorld):
    option_id = fcl_quote(pg_qworld).options[0].id
    _assert_exactly_one(pg_qworld, option_id, concurrent_accepts(pg_qworld, option_id))


def test_an_expired_option_is_refused_with_what_to_do_instead(qworld: QuoteWorld, monkeypatch):
    quote = fcl_quote(qworld)
    option = quote.options[0]
    later = option.valid_until + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    with qworld.session() as db:
        with pytest.raises(Conflict) as refused:
            bookings.accept_option(db, qworld.alice, option.id, BOOKING, idempotency_key="late")
        assert refused.value.code == "option_expired"
        assert "Request a fresh quote" in refused.value.message and quote.reference in refused.value.message
        assert "Nothing was booked" in refused.value.message
        assert db.exec(select(Shipment).where(Shipment.quote_option_id == option.id)).first() is None
        assert db.exec(select(QuoteOption.status).where(QuoteOption.id == option.id)).one() == "offered"
        failed = db.exec(select(PortalEvent).where(PortalEvent.kind == "booking_failed",
                                                   PortalEvent.detail.like(f"option {option.id}:%"))).all()
        assert len(failed) == 1
    resp = qworld.client("alice@acme.example").post(f"/api/v1/quote-options/{option.id}/accept", json={
        "shipper_name": "A", "consignee_name": "B", "cargo_description": "Bearings", "cargo_confirmed": True})
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "option_expired"


def test_booking_details_are_checked_and_another_companys_option_is_not_found(qworld: QuoteWorld):
    option_id = fcl_quote(qworld).options[0].id
    with qworld.session() as db:
        with pytest.raises(FormInvalid) as bad:
            bookings.accept_option(db, qworld.alice, option_id, BookingInput(shipper_name="", consignee_name="B",
                                                                         cargo_description="x", cargo_confirmed=False))
        assert set(bad.value.fields) == {"shipper_name", "cargo_description", "cargo_confirmed"}
        with pytest.raises(NotFound):
            bookings.accept_option(db, qworld.nina, option_id, BOOKING)
        with pytest.raises(PermissionDenied):
            bookings.accept_option(db, qworld.agent, option_id, BOOKING)
        assert db.exec(select(QuoteOption.status).where(QuoteOption.id == option_id)).one() == "offered"


def test_accept_over_the_api_with_an_idempotency_key(qworld: QuoteWorld):
    quote = fcl_quote(qworld)
    option_id = quote.options[1].id
    alice = qworld.client("alice@acme.example")
    started = alice.post(f"/api/v1/quote-options/{option_id}/start-booking")
    assert started.status_code == 200 and started.json()["can_accept"] is True
    body = {"shipper_name": "Tianjin Bearings Co.", "consignee_name": "Acme", "cargo_description": "Bearings",
            "cargo_confirmed": True, "customer_reference": "ACME-PO-9"}
    first = alice.post(f"/api/v1/quote-options/{option_id}/accept", json=body, headers={"Idempotency-Key": "k-77"})
    second = alice.post(f"/api/v1/quote-options/{option_id}/accept", json=body, headers={"Idempotency-Key": "k-77"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["shipment_reference"] == second.json()["shipment_reference"]
    assert first.json()["created"] is True and second.json()["created"] is False
    ref = first.json()["shipment_reference"]
    detail = alice.get(f"/api/v1/shipments/{ref}").json()
    assert detail["status"] == "booked" and detail["customer_po"] == "ACME-PO-9"
    agent = qworld.client("agent@harborsky.example")
    assert ref in {i["shipment_reference"] for i in agent.get("/api/v1/bookings/pending",
                                                               params={"page_size": 100}).json()["items"]}
    assert alice.post(f"/api/v1/bookings/{ref}/confirm", json={}).status_code == 403
    confirmed = agent.post(f"/api/v1/bookings/{ref}/confirm", json={"carrier_booking_number": "MSC-88123"})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert qworld.client("nina@nordwind.example").post(f"/api/v1/shipments/{ref}/change-requests",
                                                       json={"kind": "cancel", "reason": "No longer needed"}
                                                       ).status_code == 404


def test_ops_confirm_or_reject_and_the_customer_is_told(qworld: QuoteWorld):
    with qworld.session() as db:
        one = bookings.accept_option(db, qworld.alice, fcl_quote(qworld).options[0].id, BOOKING)
        two = bookings.accept_option(db, qworld.alice, fcl_quote(qworld).options[0].id, BOOKING)
        with pytest.raises(PermissionDenied):
            bookings.confirm_booking(db, qworld.alice, one.shipment_reference)
        assert bookings.confirm_booking(db, qworld.agent, one.shipment_reference,
                                        carrier_booking_number="MAEU 240917") == "confirmed"
        with pytest.raises(Conflict):
            bookings.confirm_booking(db, qworld.agent, one.shipment_reference)
        ship = db.exec(select(Shipment).where(Shipment.reference == one.shipment_reference)).one()
        assert ship.booking_number == "MAEU 240917" and ship.version == 2
        first_step = db.exec(select(Milestone).where(Milestone.shipment_id == ship.id,
                                                     Milestone.code == "booking_confirmed")).one()
        assert first_step.actual_at is not None and first_step.source == "ops"
        found = shipments.list_shipments(db, qworld.alice, ShipmentFilters(search="MAEU240917"), page_size=5)
        assert [r.reference for r in found.rows] == [ship.reference]
        note = db.exec(select(Notification).where(Notification.dedup_key == f"booking_confirmed:{ship.id}")).one()
        assert note.user_id == qworld.alice.user_id
        with pytest.raises(Exception, match="reason"):
            bookings.reject_booking(db, qworld.agent, two.shipment_reference, "no")
        assert bookings.reject_booking(db, qworld.agent, two.shipment_reference,
                                       "No equipment on this sailing.") == "cancelled"
        ship2 = db.exec(select(Shipment).where(Shipment.reference == two.shipment_reference)).one()
        update = db.exec(select(ShipmentUpdate).where(ShipmentUpdate.shipment_id == ship2.id)
                         .order_by(ShipmentUpdate.id.desc())).first()
        assert "No equipment on this sailing." in update.body and update.visibility == "customer"
        assert db.exec(select(Notification).where(Notification.dedup_key == f"booking_rejected:{ship2.id}")).one()
        actions = {a.action for a in db.exec(select(AuditLog).where(AuditLog.entity_id.in_(
            [ship.reference, ship2.reference])))}
        assert {"booking_requested", "booking_confirmed", "booking_rejected"} <= actions


def test_amendment_changes_the_shipment_only_when_ops_approve(qworld: QuoteWorld):
    with qworld.session() as db:
        ref = bookings.accept_option(db, qworld.alice, fcl_quote(qworld).options[0].id, BOOKING).shipment_reference
        ship = db.exec(select(Shipment).where(Shipment.reference == ref)).one()
        old_ready, old_etd = ship.ready_date, ship.etd_planned
        new_ready = (old_ready + timedelta(days=3)).isoformat()
        with pytest.raises(FormInvalid):
            bookings.request_change(db, qworld.alice, ref, {"ready_date": "next week", "colour": "red"})
        with pytest.raises(NotFound):
            bookings.request_change(db, qworld.nina, ref, {"consignee_name": "Someone else"})
        cr = bookings.request_change(db, qworld.alice, ref, {"ready_date": new_ready,
                                                              "consignee_name": "Acme Distribution Ltd"},
                                     "Factory finishes later")
        assert cr.status == "pending" and cr.current == {"ready_date": old_ready.isoformat(),
                                                         "consignee_name": "Acme Home Goods Ltd"}
        with pytest.raises(Conflict):  # one open request at a time
            bookings.request_cancellation(db, qworld.alice, ref, "Changed our mind")
        db.expire_all()
        same = db.exec(select(Shipment).where(Shipment.reference == ref)).one()
        assert (same.ready_date, same.consignee_name) == (old_ready, "Acme Home Goods Ltd")  # not yet
        exc = db.exec(select(OpsException).where(OpsException.cause_key == f"cr:{cr.id}")).one()
        assert exc.kind == "change_requested" and exc.status == "open" and exc.sla_due_at is not None
        with pytest.raises(PermissionDenied):
            bookings.decide_change(db, qworld.alice, cr.id, True, "Approving my own request")
        decided = bookings.decide_change(db, qworld.agent, cr.id, True, "Carrier moved the booking to the next week")
        assert decided.status == "approved" and decided.decided_by == qworld.agent.full_name
        with pytest.raises(Conflict):
            bookings.decide_change(db, qworld.agent, cr.id, False, "Changed my mind")
        db.expire_all()
        ship = db.exec(select(Shipment).where(Shipment.reference == ref)).one()
        assert ship.ready_date.isoformat() == new_ready and ship.consignee_name == "Acme Distribution Ltd"
        assert ship.etd_planned == old_etd + timedelta(days=3)
        exc = db.exec(select(OpsException).where(OpsException.id == exc.id)).one()
        assert exc.status == "resolved" and exc.open_key is None
        audit = db.exec(select(AuditLog).where(AuditLog.entity_type == "change_request",
                                               AuditLog.entity_id == str(cr.id)).order_by(AuditLog.id)).all()
        assert [a.action for a in audit] == ["amend_requested", "change_approved"]
        assert json.loads(audit[1].before)["shipment"]["consignee_name"] == "Acme Home Goods Ltd"
        assert json.loads(audit[1].after)["shipment"]["consignee_name"] == "Acme Distribution Ltd"
        bodies = [u.body for u in db.exec(select(ShipmentUpdate).where(ShipmentUpdate.shipment_id == ship.id,
                                                                       ShipmentUpdate.visibility == "customer"))]
        assert any("requested" in b for b in bodies) and any("approved" in b for b in bodies)
        listed = bookings.list_change_requests(db, qworld.alice, shipment_reference=ref)
        assert [(c.id, c.status) for c in listed.rows] == [(cr.id, "approved")]


def test_cancellation_rejected_then_approved(qworld: QuoteWorld):
    with qworld.session() as db:
        ref = bookings.accept_option(db, qworld.alice, fcl_quote(qworld).options[0].id, BOOKING).shipment_reference
        with pytest.raises(Exception, match="why"):
            bookings.request_cancellation(db, qworld.alice, ref, "")
        first = bookings.request_cancellation(db, qworld.alice, ref, "Order cancelled by our buyer")
        rejected = bookings.decide_change(db, qworld.agent, first.id, False, "Cargo is already loaded")
        assert rejected.status == "rejected"
        assert db.exec(select(Shipment.status).where(Shipment.reference == ref)).one() == "booked"
        note = db.exec(select(Notification).where(Notification.dedup_key == f"change_request:{first.id}")).one()
        assert "rejected" in note.title and note.user_id == qworld.alice.user_id
        second = bookings.request_cancellation(db, qworld.alice, ref, "Order cancelled by our buyer")
        bookings.decide_change(db, qworld.agent, second.id, True, "Cancelled with the carrier, no fee")
        assert db.exec(select(Shipment.status).where(Shipment.reference == ref)).one() == "cancelled"
        with pytest.raises(Conflict):
            bookings.request_change(db, qworld.alice, ref, {"consignee_name": "Too late Ltd"})
        assert db.exec(select(QuoteRequest.status).join(QuoteOption, QuoteOption.quote_request_id == QuoteRequest.id)
                       .join(Shipment, Shipment.quote_option_id == QuoteOption.id)
                       .where(Shipment.reference == ref)).one() == "accepted"
