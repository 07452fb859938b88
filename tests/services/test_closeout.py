"""Closing a shipment: the checklist once the last milestone has happened (each item flips), close refused item by
item then allowed, the manager's override with a reason (audited), customers refused, the version checked."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models import AuditLog
from portal_app.services import audit, clock, workspace
from portal_app.services.errors import Conflict, FormInvalid, PermissionDenied
from tests.closeout_world import (
    NOW,
    add_exception,
    add_invoice,
    add_task,
    delivered_shipment,
    ready_to_close,
    upload,
)
from tests.quote_world import QuoteWorld


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _done(state: workspace.Closeout) -> dict[str, bool]:
    return {i.key: i.done for i in state.items}


def test_the_checklist_waits_for_the_last_milestone(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        s = delivered_shipment(db, reached=False)
        state = workspace.closeout(db, w.agent, s.reference)
        assert not state.due and not state.can_close and state.items == []
        with pytest.raises(Conflict) as refused:
            workspace.close_shipment(db, w.agent, s.reference, workspace.CloseInput(expected_version=s.version))
        assert refused.value.code == "not_delivered"


def test_each_item_flips(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        s = delivered_shipment(db)
        state = workspace.closeout(db, w.agent, s.reference)
        assert state.due and not state.closed
        assert _done(state) == {"final_documents": False, "invoices": False, "tasks": True, "exceptions": True}
        docs = next(i for i in state.items if i.key == "final_documents")
        assert "Bill of lading" in docs.detail and "Proof of delivery" in docs.detail
        assert docs.fix_href == f"/tower/shipments/{s.reference}#documents"

        upload(db, w.agent, s, "bill_of_lading", "bl.pdf")
        upload(db, w.agent, s, "proof_of_delivery", "pod.pdf", visibility="internal")  # not handed over
        assert not _done(workspace.closeout(db, w.agent, s.reference))["final_documents"]
        upload(db, w.agent, s, "proof_of_delivery", "pod.pdf")
        assert _done(workspace.closeout(db, w.agent, s.reference))["final_documents"]

        add_invoice(db, s, status="draft")
        assert not _done(workspace.closeout(db, w.agent, s.reference))["invoices"]
        add_invoice(db, s, status="issued")
        assert _done(workspace.closeout(db, w.agent, s.reference))["invoices"]

        task = add_task(db, s, status="in_progress")
        tasks = next(i for i in workspace.closeout(db, w.agent, s.reference).items if i.key == "tasks")
        assert not tasks.done and "Chase the POD scan" in tasks.detail and "shipment=" in tasks.fix_href
        task.status = "done"
        db.add(task)
        db.commit()
        assert _done(workspace.closeout(db, w.agent, s.reference))["tasks"]

        exc = add_exception(db, s, status="in_progress")
        item = next(i for i in workspace.closeout(db, w.agent, s.reference).items if i.key == "exceptions")
        assert not item.done and item.fix_href == f"/tower/exceptions/{exc.id}"
        exc.status = "resolved"
        db.add(exc)
        db.commit()
        assert workspace.closeout(db, w.agent, s.reference).can_close


def test_close_is_refused_per_item_then_allowed_and_audited(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        s = delivered_shipment(db)
        add_task(db, s)
        with pytest.raises(Conflict) as refused:
            workspace.close_shipment(db, w.agent, s.reference, workspace.CloseInput(expected_version=s.version))
        err = refused.value
        assert err.code == "closeout_incomplete" and "Nothing was saved" in err.message
        assert set(err.fields) == {"final_documents", "invoices", "tasks"}
        db.refresh(s)
        assert s.status == "delivered"

        s = ready_to_close(db, w.agent)
        done = workspace.close_shipment(db, w.agent, s.reference, workspace.CloseInput(expected_version=s.version))
        db.refresh(s)
        assert s.status == "closed" and done.version == s.version
        state = workspace.closeout(db, w.agent, s.reference)
        assert state.closed and not state.can_close
        row = db.exec(select(AuditLog).where(AuditLog.entity_id == s.reference,
                                             AuditLog.action == "shipment_closed")).one()
        assert audit.load(row.after)["status"] == "closed" and audit.load(row.before)["status"] == "delivered"
        with pytest.raises(Conflict) as again:
            workspace.close_shipment(db, w.agent, s.reference, workspace.CloseInput(expected_version=s.version))
        assert again.value.code == "closed"


def test_a_stale_version_is_an_edit_conflict(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        s = ready_to_close(db, w.agent)
        with pytest.raises(workspace.EditConflict):
            workspace.close_shipment(db, w.agent, s.reference,
                                     workspace.CloseInput(expected_version=s.version - 1))
        db.refresh(s)
        assert s.status == "delivered"


def test_only_a_manager_overrides_and_only_with_a_reason(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        s = delivered_shipment(db)
        add_exception(db, s)
        reason = "Customer signed off by phone; POD follows by post."
        with pytest.raises(PermissionDenied):
            workspace.close_shipment(db, w.agent, s.reference,
                                     workspace.CloseInput(expected_version=s.version, override_reason=reason))
        with pytest.raises(FormInvalid) as short:
            workspace.close_shipment(db, w.manager, s.reference,
                                     workspace.CloseInput(expected_version=s.version, override_reason="ok"))
        assert "override_reason" in short.value.fields
        with pytest.raises(Conflict, match="close it anyway"):
            workspace.close_shipment(db, w.manager, s.reference, workspace.CloseInput(expected_version=s.version))
        done = workspace.close_shipment(db, w.manager, s.reference,
                                        workspace.CloseInput(expected_version=s.version, override_reason=reason))
        assert "overridden" in done.message
        db.refresh(s)
        assert s.status == "closed"
        row = db.exec(select(AuditLog).where(AuditLog.entity_id == s.reference,
                                             AuditLog.action == "shipment_closed")).one()
        after = audit.load(row.after)
        assert after["override_reason"] == reason
        assert "No open exception" in after["open_items"] and "Final documents" in after["open_items"]


def test_customers_may_neither_read_the_checklist_nor_close(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        s = ready_to_close(db, w.agent)
        with pytest.raises(PermissionDenied):
            workspace.closeout(db, w.alice, s.reference)
        with pytest.raises(PermissionDenied):
            workspace.close_shipment(db, w.alice, s.reference, workspace.CloseInput(expected_version=s.version))
        db.refresh(s)
        assert s.status == "delivered"
