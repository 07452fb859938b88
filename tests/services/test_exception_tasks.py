"""Tasks follow their exception: resolving it (by a person or by the rules) closes the tasks made from it that are
still open, unless a person keeps one open with a reason; nothing is written when the choice is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models import AuditLog, OpsException, Shipment, Task
from portal_app.services import clock, tasks
from portal_app.services import exception_rules as rules
from portal_app.services import exceptions as svc
from portal_app.services.errors import ValidationFailed
from tests.ops_world import T0, make_shipment
from tests.quote_world import QuoteWorld

H = timedelta(hours=1)


@pytest.fixture(autouse=True)
def _at_t0(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: T0)


def _exception_with_tasks(db: Session, w: QuoteWorld, *titles: str) -> tuple[int, list[int]]:
    s = make_shipment(db, status="booked", etd=T0 + timedelta(days=30))
    exc = svc.create_exception(db, w.agent, svc.ExceptionInput(shipment_reference=s.reference, kind="other",
                                                               title="Wrong consignee address"))
    made = [tasks.create_task(db, w.agent, tasks.TaskInput(title=t, exception_id=exc.row.id)).id for t in titles]
    return exc.row.id, made


def _status(db: Session, task_id: int) -> str:
    db.expire_all()
    return db.get(Task, task_id).status


def test_resolving_closes_the_open_tasks_and_keeps_the_ones_said_why(oworld: QuoteWorld):
    with oworld.session() as db:
        xid, (call, mail, chase) = _exception_with_tasks(db, oworld, "Call the consignee", "Email the carrier",
                                                         "Chase the invoice")
        tasks.complete_task(db, oworld.agent, mail)
        svc.resolve_exception(db, oworld.manager, xid, "Consignee confirmed the address.",
                              keep_tasks={chase: "The invoice still needs correcting."})
        assert _status(db, call) == "cancelled"
        assert _status(db, mail) == "done"  # finished work stays finished
        assert _status(db, chase) == "open"
        kept = db.get(Task, chase)
        assert kept.detail.endswith(f"Kept open when exception #{xid} was resolved: The invoice still needs "
                                    "correcting.")
        actions = set(db.exec(select(AuditLog.action).where(AuditLog.entity_type == "task")).all())
        assert {"task_closed_with_exception", "task_kept_open"} <= actions


def test_a_refused_keep_saves_nothing(oworld: QuoteWorld):
    with oworld.session() as db:
        xid, (call, _other) = _exception_with_tasks(db, oworld, "Call the consignee", "Email the carrier")
        with pytest.raises(ValidationFailed) as no_reason:
            svc.resolve_exception(db, oworld.manager, xid, "Consignee confirmed the address.", keep_tasks={call: " "})
        assert no_reason.value.fields == {f"keep_reason_{call}": "Say why it stays open."}
        with pytest.raises(ValidationFailed):
            svc.resolve_exception(db, oworld.manager, xid, "Consignee confirmed the address.",
                                  keep_tasks={999999: "Not one of its tasks at all."})
        db.expire_all()
        assert db.get(OpsException, xid).status != "resolved"
        assert _status(db, call) == "open"


def test_the_rules_close_the_tasks_of_what_they_resolve(oworld: QuoteWorld):
    with oworld.session() as db:
        s = make_shipment(db, delay_hours=30)
        assert rules.evaluate_shipment(db, s.id, T0).opened == 1
        exc = db.exec(select(OpsException).where(OpsException.shipment_id == s.id)).one()
        task = tasks.create_task(db, oworld.agent, tasks.TaskInput(title="Ask the carrier", exception_id=exc.id))
        db.exec(sa.update(Shipment).where(Shipment.id == s.id)
                .values(delay_minutes=6 * 60, eta_estimated=s.eta_planned + 6 * H))
        db.commit()
        assert rules.evaluate_shipment(db, s.id, T0 + 2 * H).resolved == 1
        assert _status(db, task.id) == "cancelled"


def test_the_api_keeps_tasks_with_a_reason(oworld: QuoteWorld):
    with oworld.session() as db:
        xid, (call, keep) = _exception_with_tasks(db, oworld, "Call the consignee", "Email the carrier")
    manager = oworld.client("manager@harborsky.example")
    bad = manager.post(f"/api/v1/exceptions/{xid}/resolve",
                       json={"note": "Address confirmed by phone.", "keep_tasks": [{"task_id": keep, "reason": ""}]})
    assert bad.status_code == 422
    ok = manager.post(f"/api/v1/exceptions/{xid}/resolve",
                      json={"note": "Address confirmed by phone.",
                            "keep_tasks": [{"task_id": keep, "reason": "Carrier has not answered yet."}]})
    assert ok.status_code == 200, ok.text
    with oworld.session() as db:
        assert _status(db, call) == "cancelled" and _status(db, keep) == "open"
