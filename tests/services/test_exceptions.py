"""The exception queue: filters and SLA order, timers across time zones, raising by hand, assignment rights,
severity changes recomputing the SLA, resolving with a message the customer then sees, reopening, the optimistic
lock, and customers refused everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from models import AuditLog, Notification, OpsException, Shipment, ShipmentFollower, User
from portal_app.services import clock, shipment_activity
from portal_app.services import exceptions as svc
from portal_app.services.errors import Conflict, PermissionDenied, ValidationFailed
from portal_app.services.exceptions import ExceptionFilters, ExceptionInput
from tests.ops_world import T0, make_shipment, team_id, user_id
from tests.quote_world import QuoteWorld

H = timedelta(hours=1)


@pytest.fixture(autouse=True)
def _at_t0(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: T0)


def _raise(world: QuoteWorld, kind: str = "other", severity: str = "medium", **kw) -> svc.ExceptionDetail:
    with world.session() as db:
        s = make_shipment(db, status="booked", etd=T0 + timedelta(days=30))
        if "created_by_id" in kw:
            db.exec(sa.update(Shipment).where(Shipment.id == s.id).values(created_by_id=kw.pop("created_by_id")))
            db.commit()
        return svc.create_exception(db, world.agent, ExceptionInput(shipment_reference=s.reference, kind=kind,
                                                                    title="Damaged cartons at pickup",
                                                                    severity=severity, **kw))


def test_sla_timer_reads_the_same_instant_in_every_time_zone():
    due = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # the Sunday US daylight saving time ends
    now = due - timedelta(hours=3, minutes=20)
    utc = svc.sla_timer(due, now, "UTC")
    chicago = svc.sla_timer(due, now, "America/Chicago")
    shanghai = svc.sla_timer(due, now, "Asia/Shanghai")
    assert utc.seconds_left == chicago.seconds_left == shanghai.seconds_left == 12000
    assert utc.due_at == chicago.due_at == due and not chicago.breached
    assert utc.label == chicago.label == "3 h 20 min left"
    assert utc.due_local == "2026-11-01 12:00 UTC"
    assert chicago.due_local == "2026-11-01 06:00 CST"
    assert shanghai.due_local == "2026-11-01 20:00 CST"
    # A day earlier Chicago was still on daylight time: the offset follows the date, not today's rule.
    assert svc.sla_timer(due - timedelta(days=1), now, "America/Chicago").due_local == "2026-10-31 07:00 CDT"
    late = svc.sla_timer(due, due + timedelta(hours=2, minutes=5), "Europe/Amsterdam")
    assert late.breached and late.seconds_left == -7500 and late.label == "Breached by 2 h 5 min"
    assert late.due_local == "2026-11-01 13:00 CET"
    met = svc.sla_timer(due, due + timedelta(days=3), "UTC", resolved_at=due - H)
    assert not met.breached and met.label == "Met (1 h 0 min to spare)"
    assert svc.sla_timer(None, now).label == "No SLA"
    assert svc.sla_timer(due, now, "Not/AZone").due_local.endswith("UTC")


def test_list_uses_the_viewers_time_zone(oworld: QuoteWorld):
    made = _raise(oworld)
    with oworld.session() as db:
        db.exec(sa.update(User).where(User.id == oworld.manager.user_id).values(timezone="Asia/Shanghai"))
        db.commit()
        try:
            [row] = svc.list_exceptions(db, oworld.manager, ExceptionFilters(
                shipment_reference=made.row.shipment_reference)).rows
            assert row.timer.due_at == made.row.timer.due_at and row.timer.due_local.endswith("CST")
        finally:
            db.exec(sa.update(User).where(User.id == oworld.manager.user_id).values(timezone="UTC"))
            db.commit()


def test_raise_by_hand_with_defaults_and_no_double(oworld: QuoteWorld):
    made = _raise(oworld, kind="customs_hold", severity="critical")
    row = made.row
    assert row.status == "open" and not row.created_by_rule and row.owner_name == "Olivia Agent"
    assert row.team_name == "Ocean Import"
    assert row.timer.due_at == T0 + 8 * H  # customs_hold/* = 8 h
    with oworld.session() as db:
        with pytest.raises(Conflict, match="already open"):
            svc.create_exception(db, oworld.agent, ExceptionInput(shipment_reference=row.shipment_reference,
                                                                   kind="customs_hold", title="Again"))
        with pytest.raises(ValidationFailed, match="kind"):
            svc.create_exception(db, oworld.agent, ExceptionInput(shipment_reference=row.shipment_reference,
                                                                   kind="volcano", title="Ash"))
        assert db.exec(select(AuditLog).where(AuditLog.entity_id == str(row.id),
                                              AuditLog.action == "exception_created")).first() is not None


def test_filters_breached_and_breaching_soon_in_sla_order(oworld: QuoteWorld):
    a = _raise(oworld, severity="critical")  # other/critical -> '*'/critical = 4 h
    b = _raise(oworld, severity="high")  # 12 h
    c = _raise(oworld, severity="low")  # 72 h
    ids = {a.row.id, b.row.id, c.row.id}
    with oworld.session() as db:
        def listed(**kw) -> list[int]:
            rows = svc.list_exceptions(db, oworld.manager, ExceptionFilters(kind="other", **kw), page_size=100).rows
            return [r.id for r in rows if r.id in ids]

        assert listed() == [a.row.id, b.row.id, c.row.id]
        assert listed(breaching_within_hours=5) == [a.row.id]
        assert listed(breaching_within_hours=24) == [a.row.id, b.row.id]
        assert listed(breached=True) == []
        assert listed(severity="high") == [b.row.id]
        assert listed(owner_id=user_id(db, "agent@harborsky.example")) == [a.row.id, b.row.id, c.row.id]
    with oworld.session() as db:
        later = T0 + 6 * H
        clock_now = clock.now
        try:
            clock.now = lambda: later
            rows = svc.list_exceptions(db, oworld.manager, ExceptionFilters(kind="other", breached=True),
                                       page_size=100).rows
            assert [r.id for r in rows if r.id in ids] == [a.row.id]
            assert next(r for r in rows if r.id == a.row.id).timer.label == "Breached by 2 h 0 min"
        finally:
            clock.now = clock_now
        with pytest.raises(ValidationFailed):
            svc.list_exceptions(db, oworld.manager, ExceptionFilters(status="maybe"))


def test_assignment_rights_notice_and_audit(oworld: QuoteWorld):
    made = _raise(oworld, owner_id=None)
    with oworld.session() as db:
        li = user_id(db, "li.wei@harborsky.example")
        with pytest.raises(PermissionDenied):
            svc.assign_exception(db, oworld.agent, made.row.id, owner_id=li, team_id=made.row.team_id)
        took = svc.assign_exception(db, oworld.agent, made.row.id, owner_id=oworld.agent.user_id,
                                    team_id=made.row.team_id)
        assert took.row.owner_id == oworld.agent.user_id
        moved = svc.assign_exception(db, oworld.manager, made.row.id, owner_id=li,
                                     team_id=team_id(db, "Ocean Export"), expected_version=took.row.version)
        assert moved.row.owner_name == "Li Wei" and moved.row.team_name == "Ocean Export"
        assert db.exec(select(Notification).where(Notification.user_id == li,
                                                  Notification.link == f"/tower/exceptions/{made.row.id}")).first()
        with pytest.raises(ValidationFailed, match="staff"):
            svc.assign_exception(db, oworld.manager, made.row.id, owner_id=oworld.alice.user_id, team_id=None)
        actions = db.exec(select(AuditLog.action).where(AuditLog.entity_id == str(made.row.id),
                                                        AuditLog.entity_type == "exception")).all()
        assert actions.count("exception_assigned") == 2


def test_severity_change_recomputes_the_sla_from_opening(oworld: QuoteWorld):
    made = _raise(oworld, severity="low")
    assert made.row.timer.due_at == T0 + 72 * H
    with oworld.session() as db:
        up = svc.change_severity(db, oworld.agent, made.row.id, "critical")
        assert up.row.severity == "critical" and up.row.timer.due_at == T0 + 4 * H


def test_a_stale_version_is_refused_and_nothing_changes(oworld: QuoteWorld):
    made = _raise(oworld)
    with oworld.session() as db:
        svc.change_severity(db, oworld.agent, made.row.id, "high", expected_version=made.row.version)
        with pytest.raises(Conflict, match="changed by someone else"):
            svc.resolve_exception(db, oworld.manager, made.row.id, "Done", expected_version=made.row.version)
        again = svc.get_exception(db, oworld.manager, made.row.id)
        assert again.row.status == "open" and again.row.severity == "high"


def test_resolve_with_a_message_the_customer_sees_then_reopen(oworld: QuoteWorld):
    made = _raise(oworld, created_by_id=oworld.bob.user_id)
    ref = made.row.shipment_reference
    with oworld.session() as db:
        sid = db.exec(select(Shipment.id).where(Shipment.reference == ref)).one()
        db.add(ShipmentFollower(shipment_id=sid, user_id=oworld.alice.user_id))
        db.commit()
        started = svc.start_exception(db, oworld.agent, made.row.id)
        assert started.row.status == "in_progress"
        done = svc.resolve_exception(db, oworld.agent, made.row.id, "Carrier confirmed re-packing",
                                     customer_message="Two cartons were re-packed at origin; no delay expected.")
        assert done.row.status == "resolved" and done.resolution_note == "Carrier confirmed re-packing"
        assert done.resolved_by == "Olivia Agent" and not done.auto_resolved and done.row.timer.label.startswith("Met")
        exc = db.get(OpsException, made.row.id)
        assert exc.open_key is None
        seen = shipment_activity.updates(db, oworld.bob, ref)
        assert any("re-packed at origin" in u.body for u in seen)
        told = db.exec(select(Notification.user_id).where(Notification.event_kind == "shipment_update",
                                                          Notification.link == f"/portal/shipments/{ref}")).all()
        assert set(told) == {oworld.alice.user_id, oworld.bob.user_id}
        with pytest.raises(Conflict):
            svc.resolve_exception(db, oworld.agent, made.row.id, "Again")
        back = svc.reopen_exception(db, oworld.manager, made.row.id, "Consignee reports more damage")
        assert back.row.status == "open" and back.row.timer.due_at == T0 + 24 * H
        assert db.get(OpsException, made.row.id).open_key is not None


def test_resolving_without_a_customer_message_tells_nobody(oworld: QuoteWorld):
    made = _raise(oworld, created_by_id=oworld.bob.user_id)
    with oworld.session() as db:
        svc.resolve_exception(db, oworld.agent, made.row.id, "Internal only")
        assert not db.exec(select(Notification).where(
            Notification.dedup_key.like(f"exception:{made.row.id}:resolved%"))).first()
        with pytest.raises(ValidationFailed, match="note"):
            svc.resolve_exception(db, oworld.agent, made.row.id, " ")


def test_customers_are_refused_every_exception_service(oworld: QuoteWorld):
    made = _raise(oworld)
    ref = made.row.shipment_reference
    with oworld.session() as db:
        for who in (oworld.alice, oworld.bob):
            calls = [
                lambda who=who: svc.list_exceptions(db, who),
                lambda who=who: svc.get_exception(db, who, made.row.id),
                lambda who=who: svc.create_exception(
                    db, who, ExceptionInput(shipment_reference=ref, kind="other", title="Hey")),
                lambda who=who: svc.assign_exception(db, who, made.row.id, owner_id=who.user_id, team_id=None),
                lambda who=who: svc.change_severity(db, who, made.row.id, "low"),
                lambda who=who: svc.start_exception(db, who, made.row.id),
                lambda who=who: svc.resolve_exception(db, who, made.row.id, "Resolved by me"),
                lambda who=who: svc.reopen_exception(db, who, made.row.id, "Reopened by me"),
            ]
            for call in calls:
                with pytest.raises(PermissionDenied):
                    call()


def test_a_timer_is_settled_once_measured_at_its_resolution_and_the_flag_stays_out_of_the_json():
    from datetime import UTC, datetime, timedelta

    from pydantic import TypeAdapter

    from portal_app.services.exceptions import SlaTimer, sla_timer

    due = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    running = sla_timer(due, due - timedelta(hours=1))
    met = sla_timer(due, due + timedelta(hours=5), resolved_at=due - timedelta(minutes=30))
    missed = sla_timer(due, due + timedelta(hours=5), resolved_at=due + timedelta(minutes=30))
    assert (running.settled, met.settled, missed.settled) == (False, True, True)
    assert met.label.startswith("Met") and missed.label.startswith("Missed")
    assert sla_timer(None, due).settled is False
    assert "settled" not in TypeAdapter(SlaTimer).dump_python(met, mode="json")
