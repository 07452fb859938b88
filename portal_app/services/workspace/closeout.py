"""Closing a shipment: once its last milestone has happened, a checklist says what is still owed (final documents,
an issued invoice, open tasks, open exceptions) and "close" moves it to CLOSED, the customer's "completed".

Closing is a workspace edit like the others (``expected_version``, one conditional update, an audit row). It is
refused, item by item, while anything on the checklist is not done; an ops manager may close anyway with a written
reason, which the audit row keeps with the items that were still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

import sqlalchemy as sa
from pydantic import ConfigDict, Field
from sqlmodel import Session, col, select

from models import Document, Invoice, Milestone, OpsException, Shipment, Task
from models.enums import (
    DocumentStatus,
    ExceptionStatus,
    InvoiceStatus,
    ShipmentStatus,
    TaskStatus,
    Visibility,
)
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services.documents import doc_type_name
from portal_app.services.errors import Conflict, ErrorCode, FormInvalid, PermissionDenied
from portal_app.services.inputs import Body, Version
from portal_app.services.read_models import SERVED_WHOLE
from portal_app.services.workspace.common import (
    NOTHING_SAVED,
    EditResult,
    Planned,
    _edit,
    _require_staff,
    load_shipment,
)

# The documents a finished shipment hands over, per mode: its transport document and the proof of delivery.
# Written down here (not read from the required-documents configuration, which is about what is due before
# departure): a closed shipment's archive is these, whatever the Incoterm.
FINAL_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "ocean_fcl": ("bill_of_lading", "proof_of_delivery"),
    "ocean_lcl": ("bill_of_lading", "proof_of_delivery"),
    "air": ("air_waybill", "proof_of_delivery"),
    "road_ftl": ("cmr_consignment_note", "proof_of_delivery"),
    "road_ltl": ("cmr_consignment_note", "proof_of_delivery"),
}
NOT_INVOICED = (InvoiceStatus.DRAFT.value, InvoiceStatus.VOID.value)
OPEN_TASKS = (TaskStatus.OPEN.value, TaskStatus.IN_PROGRESS.value)
REASON_MIN = 10  # an override reason says why in a few words at least
REASON_MAX = 400
CLOSEOUT_ITEMS = ("final_documents", "invoices", "tasks", "exceptions")  # the checklist, in order


@dataclass(frozen=True)
class CloseoutItem:
    """One line of the checklist: done or not, what is missing, and the tower page where it is fixed."""

    __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

    key: str  # final_documents | invoices | tasks | exceptions
    label: str
    done: bool
    detail: str
    fix_href: str  # a tower page; "" when no page fixes it (the detail says how)


@dataclass(frozen=True)
class Closeout:
    """Where the shipment stands for closing. ``due`` is whether its last milestone has happened (the checklist
    applies from then on); ``can_close`` is whether "close" would succeed without an override."""

    __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

    reference: str
    status: str
    version: int  # what "close" sends back as expected_version
    due: bool
    closed: bool
    can_close: bool
    items: list[CloseoutItem]


class CloseInput(Body):
    """POST .../close: the version the closer saw and, for a manager closing with items open, why."""

    expected_version: Version = Field(description="The shipment version you saw")
    override_reason: str | None = Field(
        None, max_length=REASON_MAX,
        description="Ops managers only: close although checklist items are not done, saying why (audited)")


def _last_step_reached(db: Session, shipment: Shipment) -> bool:
    last = db.exec(select(Milestone.actual_at).where(Milestone.shipment_id == shipment.id)
                   .order_by(col(Milestone.sequence).desc()).limit(1)).first()
    return last is not None


def _documents_item(db: Session, shipment: Shipment, workspace: str) -> CloseoutItem:
    wanted = FINAL_DOCUMENTS.get(shipment.mode, ("proof_of_delivery",))
    have = set(db.exec(select(Document.doc_type).where(
        Document.shipment_id == shipment.id, col(Document.doc_type).in_(wanted),
        Document.visibility == Visibility.CUSTOMER.value,
        col(Document.status).in_((DocumentStatus.RECEIVED.value, DocumentStatus.APPROVED.value)),
    )).all())
    missing = [doc_type_name(t) for t in wanted if t not in have]
    names = ", ".join(doc_type_name(t) for t in wanted)
    detail = (f"{names}: all shared with the customer." if not missing else
              f"Missing (or rejected, or internal only): {', '.join(missing)}. Upload it for the customer.")
    return CloseoutItem("final_documents", "Final documents", not missing, detail, f"{workspace}#documents")


def _invoices_item(db: Session, shipment: Shipment) -> CloseoutItem:
    issued = db.exec(select(sa.func.count()).select_from(Invoice).where(
        Invoice.shipment_id == shipment.id, col(Invoice.status).notin_(NOT_INVOICED))).one()
    detail = (f"{issued} invoice{'s' if issued != 1 else ''} issued." if issued else
              "No invoice issued for this shipment yet. Accounting issues it (POST /api/v1/invoices with "
              f"shipment_reference {shipment.reference}); drafts and void invoices do not count.")
    return CloseoutItem("invoices", "Invoice issued", bool(issued), detail, "")


def _tasks_item(db: Session, shipment: Shipment) -> CloseoutItem:
    titles = db.exec(select(Task.title).where(Task.shipment_id == shipment.id, col(Task.status).in_(OPEN_TASKS))
                     .order_by(col(Task.id))).all()
    detail = "No open task." if not titles else f"{len(titles)} open: {'; '.join(titles[:3])}" + (
        "…" if len(titles) > 3 else "") + ". Finish or cancel them."
    href = f"/tower/tasks?view=all&shipment={shipment.reference}"
    return CloseoutItem("tasks", "Tasks closed", not titles, detail, href)


def _exceptions_item(db: Session, shipment: Shipment) -> CloseoutItem:
    found = db.exec(select(OpsException.id, OpsException.title).where(
        OpsException.shipment_id == shipment.id, OpsException.status != ExceptionStatus.RESOLVED.value)
        .order_by(col(OpsException.id))).all()
    if not found:
        return CloseoutItem("exceptions", "No open exception", True, "No open exception.", "")
    detail = f"{len(found)} open: {'; '.join(t for _, t in found[:3])}" + ("…" if len(found) > 3 else "") + \
        ". Resolve them."
    return CloseoutItem("exceptions", "No open exception", False, detail, f"/tower/exceptions/{found[0][0]}")


def _items(db: Session, shipment: Shipment) -> list[CloseoutItem]:
    workspace = f"/tower/shipments/{shipment.reference}"
    return [_documents_item(db, shipment, workspace), _invoices_item(db, shipment), _tasks_item(db, shipment),
            _exceptions_item(db, shipment)]


def _closeout_of(db: Session, shipment: Shipment) -> Closeout:
    closed = shipment.status == ShipmentStatus.CLOSED
    due = closed or (shipment.status != ShipmentStatus.CANCELLED and _last_step_reached(db, shipment))
    items = _items(db, shipment) if due else []
    return Closeout(shipment.reference, shipment.status, shipment.version, due, closed,
                    due and not closed and all(i.done for i in items), items)


def closeout(db: Session, principal: Principal, reference: str) -> Closeout:
    """The closeout checklist of one shipment (staff): empty until the last milestone has happened."""
    _require_staff(principal, Permission.VIEW_SHIPMENTS)
    return _closeout_of(db, load_shipment(db, principal, reference))


def _plan_close(db: Session, principal: Principal, shipment: Shipment, now: datetime, reason: str) -> Planned:
    if shipment.status == ShipmentStatus.CLOSED:
        raise Conflict(f"Shipment {shipment.reference} is already closed. {NOTHING_SAVED}", code=ErrorCode.CLOSED)
    state = _closeout_of(db, shipment)
    if not state.due:
        raise Conflict(f"Shipment {shipment.reference} cannot be closed before its last milestone has happened"
                       f"{' (it is cancelled)' if shipment.status == ShipmentStatus.CANCELLED else ''}. "
                       f"{NOTHING_SAVED}", code=ErrorCode.NOT_DELIVERED)
    open_items = [i for i in state.items if not i.done]
    if open_items and not reason:
        raise Conflict(
            f"Shipment {shipment.reference} cannot be closed yet: "
            + " ".join(f"{i.label}: {i.detail}" for i in open_items)
            + f" {NOTHING_SAVED}"
            + (" An ops manager may close it anyway with a written reason."
               if not principal.can(Permission.OVERRIDE_CLOSEOUT) else " Or close it anyway, giving the reason."),
            code=ErrorCode.CLOSEOUT_INCOMPLETE, fields={i.key: i.detail for i in open_items})
    after: dict[str, object] = {"status": ShipmentStatus.CLOSED.value}
    if reason:
        after["override_reason"] = reason
        after["open_items"] = ", ".join(i.label for i in open_items) or "none"
    return Planned("shipment_closed", {"status": ShipmentStatus.CLOSED.value}, {"status": shipment.status}, after)


def _override_reason(principal: Principal, text: str | None) -> str:
    reason = " ".join((text or "").split())
    if not reason:
        return ""
    if not principal.can(Permission.OVERRIDE_CLOSEOUT):
        raise PermissionDenied("Only an ops manager may close a shipment with checklist items open. Leave the "
                               f"reason empty and finish the checklist. {NOTHING_SAVED}")
    if len(reason) < REASON_MIN:
        raise FormInvalid(f"Say why the shipment is closed with items open, in {REASON_MIN} characters at least. "
                          f"{NOTHING_SAVED}",
                          {"override_reason": f"Give the reason in a few words at least ({REASON_MIN} characters)."})
    return reason


def close_shipment(db: Session, principal: Principal, reference: str, data: CloseInput) -> EditResult:
    """Close a shipment whose last milestone has happened and whose checklist is done (or, for an ops manager,
    with a written reason). Audited as ``shipment_closed``; a stale ``expected_version`` is an EditConflict."""
    _require_staff(principal, Permission.EDIT_SHIPMENTS)
    reason = _override_reason(principal, data.override_reason)
    your_input: dict[str, object] = {"close": True, "override_reason": reason or None}
    _edit(db, principal, reference, data.expected_version, your_input,
          lambda s, now: _plan_close(db, principal, s, now, reason))
    shipment = load_shipment(db, principal, reference)
    return EditResult(shipment.reference, shipment.version,
                      f"Shipment {shipment.reference} closed{' (checklist overridden)' if reason else ''}.")
