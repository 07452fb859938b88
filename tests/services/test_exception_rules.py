"""The rule engine: each rule opens its exception, does not open it twice, and resolves it by itself when the cause
clears, with time moved by hand; a full pass finds what the one-shipment evaluation finds; two evaluations racing
over one shipment make one exception (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models import (
    AuditLog,
    ChangeRequest,
    Document,
    ExceptionRule,
    Invoice,
    Milestone,
    Notification,
    OpsException,
    Shipment,
)
from portal_app.services import exception_rules as rules
from tests.ops_world import T0, make_shipment, user_id
from tests.quote_world import QuoteWorld

H = timedelta(hours=1)
D = timedelta(days=1)


def _excs(db: Session, shipment_id: int, kind: str) -> list[OpsException]:
    db.expire_all()
    return list(db.exec(select(OpsException).where(OpsException.shipment_id == shipment_id,
                                                   OpsException.kind == kind).order_by(OpsException.id)).all())


def _open(db: Session, shipment_id: int, kind: str) -> list[OpsException]:
    return [e for e in _excs(db, shipment_id, kind) if e.status != "resolved"]


def _set(db: Session, shipment: Shipment, **values) -> None:
    db.exec(sa.update(Shipment).where(Shipment.id == shipment.id).values(**values))
    db.commit()


def _assert_resolved_by_itself(db: Session, shipment_id: int, kind: str, at) -> OpsException:
    exc = _excs(db, shipment_id, kind)[-1]
    assert exc.status == "resolved" and exc.auto_resolved and exc.open_key is None
    assert exc.resolved_at == at and exc.resolution_note.startswith("Cleared automatically")
    assert db.exec(select(AuditLog).where(AuditLog.entity_type == "exception", AuditLog.entity_id == str(exc.id),
                                          AuditLog.action == "exception_auto_resolved")).first() is not None
    return exc


def test_eta_slip_opens_once_with_sla_and_owner_then_clears(oworld: QuoteWorld):
    with oworld.session() as db:
        s = make_shipment(db, delay_hours=30)
        calm = make_shipment(db, delay_hours=20)
        first = rules.evaluate_shipment(db, s.id, T0)
        assert first.opened == 1
        rules.evaluate_shipment(db, calm.id, T0)
        assert _excs(db, calm.id, "eta_slip") == []
        again = rules.evaluate_shipment(db, s.id, T0 + H)
        assert again.opened == 0
        [exc] = _open(db, s.id, "eta_slip")
        assert exc.created_by_rule and exc.severity == "medium" and exc.cause_key == "eta"
        assert exc.open_key == f"{s.id}|eta_slip|eta"
        assert exc.sla_due_at == T0 + 24 * H  # SlaPolicy exception/eta_slip/* = 24 h
        assert exc.owner_id == user_id(db, "agent@harborsky.example") and exc.team_id == s.team_id
        assert "30 hours" in exc.title
        note = db.exec(select(Notification).where(Notification.dedup_key == f"exception:{exc.id}")).one()
        assert note.user_id == exc.owner_id
        _set(db, s, delay_minutes=6 * 60, eta_estimated=s.eta_planned + 6 * H)
        assert rules.evaluate_shipment(db, s.id, T0 + 2 * H).resolved == 1
        _assert_resolved_by_itself(db, s.id, "eta_slip", T0 + 2 * H)
        # A new slip later is a new exception, not the old one reopened.
        _set(db, s, delay_minutes=50 * 60)
        assert rules.evaluate_shipment(db, s.id, T0 + 3 * H).opened == 1
        assert len(_excs(db, s.id, "eta_slip")) == 2


def test_missing_documents_follow_the_checklist_and_the_clock(oworld: QuoteWorld):
    with oworld.session() as db:
        # Departs in 4 days: commercial invoice and packing list (due 5 days before) are late; shipping
        # instructions (3 days before) not yet; the DG declaration is not required for this cargo.
        s = make_shipment(db, status="confirmed", etd=T0 + 4 * D)
        rules.evaluate_shipment(db, s.id, T0)
        assert {e.cause_key for e in _open(db, s.id, "document_missing")} == {"commercial_invoice", "packing_list"}
        rules.evaluate_shipment(db, s.id, T0 + H)
        assert len(_open(db, s.id, "document_missing")) == 2
        db.add(Document(company_id=s.company_id, shipment_id=s.id, doc_type="commercial_invoice", filename="ci.pdf",
                        content_type="application/pdf", size_bytes=10, sha256="0" * 64, storage_key=f"t/{s.id}/ci"))
        db.commit()
        rules.evaluate_shipment(db, s.id, T0 + 2 * H)
        assert {e.cause_key for e in _open(db, s.id, "document_missing")} == {"packing_list"}
        ci = next(e for e in _excs(db, s.id, "document_missing") if e.cause_key == "commercial_invoice")
        assert ci.auto_resolved and ci.resolved_at == T0 + 2 * H
        # Two days on, the shipping instructions are due too.
        rules.evaluate_shipment(db, s.id, T0 + 2 * D)
        assert {e.cause_key for e in _open(db, s.id, "document_missing")} == {"packing_list", "shipping_instructions"}
        # Cancelled: nothing is missing any more.
        _set(db, s, status="cancelled")
        rules.evaluate_shipment(db, s.id, T0 + 2 * D + H)
        assert _open(db, s.id, "document_missing") == []


def test_dangerous_goods_declaration_only_for_dangerous_cargo(oworld: QuoteWorld):
    with oworld.session() as db:
        s = make_shipment(db, status="booked", etd=T0 + 6 * D, dangerous=True)
        rules.evaluate_shipment(db, s.id, T0)
        assert {e.cause_key for e in _open(db, s.id, "document_missing")} == {"dangerous_goods_declaration"}


def test_no_tracking_update_after_the_threshold_then_clears(oworld: QuoteWorld):
    with oworld.session() as db:
        s = make_shipment(db, atd=T0 - 5 * D, last_tracking_at=T0 - 60 * H)
        rules.evaluate_shipment(db, s.id, T0)
        assert _excs(db, s.id, "no_tracking_update") == []
        rules.evaluate_shipment(db, s.id, T0 + 13 * H)  # 73 hours of silence > 72
        [exc] = _open(db, s.id, "no_tracking_update")
        assert exc.sla_due_at == T0 + 13 * H + 12 * H  # policy no_tracking_update/* = 12 h
        rules.evaluate_shipment(db, s.id, T0 + 14 * H)
        assert len(_excs(db, s.id, "no_tracking_update")) == 1
        _set(db, s, last_tracking_at=T0 + 15 * H)
        rules.evaluate_shipment(db, s.id, T0 + 15 * H)
        _assert_resolved_by_itself(db, s.id, "no_tracking_update", T0 + 15 * H)


def test_customs_hold_from_milestones_then_release(oworld: QuoteWorld):
    with oworld.session() as db:
        s = make_shipment(db, status="arrived", etd=T0 - 25 * D, ata=T0 - 50 * H)
        rules.evaluate_shipment(db, s.id, T0)
        [exc] = _open(db, s.id, "customs_hold")
        assert exc.severity == "high" and exc.sla_due_at == T0 + 8 * H  # customs_hold/* = 8 h
        rules.evaluate_shipment(db, s.id, T0 + H)
        assert len(_excs(db, s.id, "customs_hold")) == 1
        db.exec(sa.update(Milestone).where(Milestone.shipment_id == s.id, Milestone.code == "customs_released")
                .values(actual_at=T0 + H))
        db.commit()
        rules.evaluate_shipment(db, s.id, T0 + 2 * H)
        _assert_resolved_by_itself(db, s.id, "customs_hold", T0 + 2 * H)


def test_carrier_hold_only_when_an_admin_sets_its_threshold(oworld: QuoteWorld):
    with oworld.session() as db:
        s = make_shipment(db, status="arrived", etd=T0 - 25 * D, ata=T0 - 30 * H, customs_step=False)
        rules.evaluate_shipment(db, s.id, T0)
        assert _excs(db, s.id, "carrier_hold") == []
        db.exec(sa.update(ExceptionRule).where(ExceptionRule.kind == "carrier_hold").values(threshold_hours=24))
        db.commit()
        try:
            rules.evaluate_shipment(db, s.id, T0)
            assert len(_open(db, s.id, "carrier_hold")) == 1
            rules.evaluate_shipment(db, s.id, T0 + H)
            assert len(_excs(db, s.id, "carrier_hold")) == 1
            _set(db, s, status="delivered", delivered_at=T0 + 2 * H)
            rules.evaluate_shipment(db, s.id, T0 + 2 * H)
            _assert_resolved_by_itself(db, s.id, "carrier_hold", T0 + 2 * H)
        finally:
            db.exec(sa.update(ExceptionRule).where(ExceptionRule.kind == "carrier_hold").values(threshold_hours=None))
            db.commit()


def test_change_request_pending_then_decided(oworld: QuoteWorld):
    with oworld.session() as db:
        s = make_shipment(db, status="booked", etd=T0 + 30 * D)
        cr = ChangeRequest(shipment_id=s.id, company_id=s.company_id, kind="cancel", reason="Order cancelled",
                           requested_by_id=oworld.alice.user_id)
        db.add(cr)
        db.commit()
        rules.evaluate_shipment(db, s.id, T0)
        [exc] = _open(db, s.id, "change_requested")
        assert exc.cause_key == f"cr:{cr.id}" and exc.sla_due_at == T0 + 8 * H
        rules.evaluate_shipment(db, s.id, T0 + H)
        assert len(_excs(db, s.id, "change_requested")) == 1
        db.exec(sa.update(ChangeRequest).where(ChangeRequest.id == cr.id).values(status="rejected"))
        db.commit()
        rules.evaluate_shipment(db, s.id, T0 + 2 * H)
        _assert_resolved_by_itself(db, s.id, "change_requested", T0 + 2 * H)


def test_invoice_overdue_beyond_the_threshold_then_paid(oworld: QuoteWorld):
    with oworld.session() as db:
        s = make_shipment(db, status="delivered", etd=T0 - 40 * D, ata=T0 - 20 * D)
        inv = Invoice(number=f"INV-{s.id}", company_id=s.company_id, shipment_id=s.id, status="issued",
                      currency="EUR", issue_date=date(2026, 9, 1), due_date=T0.date() - timedelta(days=10),
                      subtotal=Decimal("100"), tax_total=Decimal("0"), total=Decimal("100"),
                      amount_paid=Decimal("0"), balance=Decimal("100"))
        db.add(inv)
        db.commit()
        rules.evaluate_shipment(db, s.id, T0)
        assert _excs(db, s.id, "invoice_overdue") == []  # 10 days late; the rule waits 14
        rules.evaluate_shipment(db, s.id, T0 + 5 * D)
        [exc] = _open(db, s.id, "invoice_overdue")
        assert exc.cause_key == inv.number and exc.severity == "low" and exc.sla_due_at == T0 + 5 * D + 120 * H
        rules.evaluate_shipment(db, s.id, T0 + 6 * D)
        assert len(_excs(db, s.id, "invoice_overdue")) == 1
        db.exec(sa.update(Invoice).where(Invoice.id == inv.id).values(status="paid", balance=0,
                                                                        amount_paid=Decimal("100")))
        db.commit()
        rules.evaluate_shipment(db, s.id, T0 + 7 * D)
        _assert_resolved_by_itself(db, s.id, "invoice_overdue", T0 + 7 * D)


def test_a_hand_raised_exception_of_the_same_kind_is_not_doubled_nor_resolved(oworld: QuoteWorld):
    with oworld.session() as db:
        s = make_shipment(db, status="arrived", etd=T0 - 25 * D, ata=T0 - 50 * H)
        db.add(OpsException(shipment_id=s.id, company_id=s.company_id, kind="customs_hold", cause_key="manual:1",
                            title="Inspection", open_key=f"{s.id}|customs_hold|manual:1", created_at=T0,
                            updated_at=T0))
        db.commit()
        rules.evaluate_shipment(db, s.id, T0)
        assert len(_excs(db, s.id, "customs_hold")) == 1
        db.exec(sa.update(Milestone).where(Milestone.shipment_id == s.id, Milestone.code == "customs_released")
                .values(actual_at=T0))
        db.commit()
        rules.evaluate_shipment(db, s.id, T0 + H)
        assert len(_open(db, s.id, "customs_hold")) == 1  # a person raised it; a person resolves it


def test_full_pass_matches_the_one_shipment_evaluation(oworld: QuoteWorld):
    with oworld.session() as db:
        slipped = make_shipment(db, delay_hours=48, last_tracking_at=T0 - 100 * H)
        held = make_shipment(db, status="arrived", etd=T0 - 25 * D, ata=T0 - 50 * H)
        fine = make_shipment(db, last_tracking_at=T0 - H)
        result = rules.evaluate_all(db, T0)
        assert result.opened >= 3
        assert len(_open(db, slipped.id, "eta_slip")) == 1 and len(_open(db, slipped.id, "no_tracking_update")) == 1
        assert len(_open(db, held.id, "customs_hold")) == 1
        assert _open(db, fine.id, "eta_slip") == [] and _open(db, fine.id, "no_tracking_update") == []
        again = rules.evaluate_all(db, T0)
        assert again.opened == 0 and again.resolved == 0
        for s in (slipped, held, fine):
            assert rules.evaluate_shipment(db, s.id, T0).opened == 0
        _set(db, slipped, delay_minutes=0, last_tracking_at=T0)
        assert rules.evaluate_all(db, T0 + H).resolved >= 2
        assert _open(db, slipped.id, "eta_slip") == [] and _open(db, slipped.id, "no_tracking_update") == []


def test_a_set_of_shipments_is_evaluated_as_each_one_would_be(oworld: QuoteWorld):
    """evaluate_shipments (a batch of carrier events) finds what evaluate_shipment finds for each shipment of the
    set, every rule included, and touches no shipment outside it."""
    with oworld.session() as db:
        slipped = make_shipment(db, delay_hours=48, last_tracking_at=T0 - 100 * H)
        held = make_shipment(db, status="arrived", etd=T0 - 25 * D, ata=T0 - 50 * H)
        papers = make_shipment(db, status="confirmed", etd=T0 + 4 * D)
        fine = make_shipment(db, last_tracking_at=T0 - H)
        outside = make_shipment(db, delay_hours=48)
        result = rules.evaluate_shipments(db, [slipped.id, held.id, papers.id, fine.id, slipped.id], T0)
        assert result.opened == 5
        assert len(_open(db, slipped.id, "eta_slip")) == 1 and len(_open(db, slipped.id, "no_tracking_update")) == 1
        assert len(_open(db, held.id, "customs_hold")) == 1
        assert {e.cause_key for e in _open(db, papers.id, "document_missing")} == {"commercial_invoice",
                                                                                    "packing_list"}
        assert _open(db, fine.id, "eta_slip") == [] and _open(db, outside.id, "eta_slip") == []
        for s in (slipped, held, papers, fine):
            assert rules.evaluate_shipment(db, s.id, T0).opened == 0
        _set(db, slipped, delay_minutes=0, last_tracking_at=T0)
        assert rules.evaluate_shipments(db, [slipped.id, held.id], T0 + H).resolved == 2
        assert _open(db, slipped.id, "eta_slip") == [] and len(_open(db, held.id, "customs_hold")) == 1


def _race(world: QuoteWorld, shipment_id: int, n: int = 6) -> list[BaseException]:
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with world.session() as db:
                barrier.wait()
                rules.evaluate_shipment(db, shipment_id, T0)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def _assert_race_makes_one(world: QuoteWorld) -> None:
    with world.session() as db:
        s = make_shipment(db, delay_hours=72)
    assert _race(world, s.id) == []
    with world.session() as db:
        assert len(_excs(db, s.id, "eta_slip")) == 1


def test_racing_evaluations_open_one_exception_on_sqlite(oworld: QuoteWorld):
    _assert_race_makes_one(oworld)


@pytest.mark.postgres
def test_racing_evaluations_open_one_exception_on_postgresql(pg_oworld: QuoteWorld):
    _assert_race_makes_one(pg_oworld)
    with pg_oworld.session() as db:
        s = make_shipment(db, status="arrived", etd=T0 - 25 * D, ata=T0 - 50 * H)
        assert rules.evaluate_all(db, T0).opened >= 1
        assert len(_open(db, s.id, "customs_hold")) == 1


def test_uploading_the_missing_document_resolves_its_exception(oworld: QuoteWorld, monkeypatch):
    from portal_app.services import clock, documents
    from tests.services.test_documents import pdf_bytes

    monkeypatch.setattr(clock, "now", lambda: T0 + H)
    with oworld.session() as db:
        s = make_shipment(db, status="confirmed", etd=T0 + 4 * D)
        rules.evaluate_shipment(db, s.id, T0)
        assert len(_open(db, s.id, "document_missing")) == 2
        documents.upload_document(db, oworld.alice, s.reference, "packing_list", "pl.pdf", pdf_bytes("pl"))
        assert {e.cause_key for e in _open(db, s.id, "document_missing")} == {"commercial_invoice"}
        _assert_resolved_by_itself(db, s.id, "document_missing", T0 + H)


def test_the_scheduled_pass_records_when_it_ran(oworld: QuoteWorld):
    from models import AppSetting
    from portal_app import maintenance

    with oworld.session() as db:
        s = make_shipment(db, delay_hours=40)
    result = maintenance.run_rule_pass(oworld.engine, T0)
    assert result is not None and result.opened >= 1
    with oworld.session() as db:
        assert len(_open(db, s.id, "eta_slip")) == 1
        assert T0.isoformat() in db.get(AppSetting, maintenance.RULES_LAST_PASS).value


@pytest.mark.postgres
def test_one_worker_runs_the_scheduled_pass_on_postgresql(pg_oworld: QuoteWorld):
    from portal_app import maintenance

    with pg_oworld.engine.connect() as other:
        other.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": maintenance.RULES_LOCK_KEY})
        assert maintenance.run_rule_pass(pg_oworld.engine, T0) is None  # another worker is running it
        other.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": maintenance.RULES_LOCK_KEY})
    assert maintenance.run_rule_pass(pg_oworld.engine, T0 + 2 * H) is not None
    assert maintenance.run_rule_pass(pg_oworld.engine, T0 + 2 * H + timedelta(minutes=1)) is None  # ran just now


def test_followers_hear_that_a_required_document_is_due(oworld: QuoteWorld):
    from models import Notification, ShipmentFollower

    with oworld.session() as db:
        s = make_shipment(db, status="confirmed", etd=T0 + 4 * D)
        db.add(ShipmentFollower(shipment_id=s.id, user_id=oworld.alice.user_id))
        db.commit()
        rules.evaluate_shipment(db, s.id, T0)
        rules.evaluate_shipment(db, s.id, T0 + H)  # still missing: no second notice
        notes = db.exec(select(Notification).where(Notification.user_id == oworld.alice.user_id,
                                                   Notification.event_kind == "document_required",
                                                   Notification.link == f"/portal/shipments/{s.reference}")).all()
        assert len(notes) == 2  # commercial invoice and packing list, once each
