"""Document review: approving or rejecting a received document, with the reason the customer reads."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    Document,
    ShipmentUpdate,
    User,
)
from models.enums import DocumentStatus, Visibility
from portal_app.auth.permissions import STAFF_ROLES, Permission
from portal_app.auth.principal import Principal
from portal_app.services import audit, clock, notifications
from portal_app.services.documents import doc_type_name
from portal_app.services.errors import Conflict, NotFound, ValidationFailed
from portal_app.services.workspace.common import (
    NOTHING_SAVED,
    _after_change,
    _require_staff,
    _text,
    load_shipment,
)

REASON_MIN = 5


@dataclass(frozen=True)
class ReviewResult:
    document_id: int
    status: str
    version: int
    message: str


def review_document(db: Session, principal: Principal, reference: str, document_id: int, *, approve: bool,
                    reason: str | None = None, expected_version: int | None = None) -> ReviewResult:
    """Approve or reject a received document. A rejection needs a reason; the customer sees it on the checklist,
    in the shipment's updates and in a notification to whoever uploaded it. ``expected_version`` is the
    document's version (409 when someone reviewed it meanwhile)."""
    _require_staff(principal, Permission.REVIEW_DOCUMENTS)
    shipment = load_shipment(db, principal, reference)
    doc = db.exec(select(Document).where(Document.id == int(document_id), Document.shipment_id == shipment.id)).first()
    if doc is None:
        raise NotFound(f"Shipment {shipment.reference} has no document {document_id}. {NOTHING_SAVED}")
    assert doc.id is not None and shipment.id is not None  # stored rows
    if doc.status == DocumentStatus.SUPERSEDED:
        raise Conflict(f"{doc_type_name(doc.doc_type)} v{doc.version_no} was replaced by a newer version; review "
                       f"that one instead. {NOTHING_SAVED}")
    text = _text(reason, 400)
    if not approve and len(text) < REASON_MIN:
        raise ValidationFailed(f"Write the reason the customer will read, so they know what to correct. "
                               f"{NOTHING_SAVED}")
    version = doc.version if expected_version is None else expected_version
    status = DocumentStatus.APPROVED.value if approve else DocumentStatus.REJECTED.value
    now = clock.now()
    before = {"status": doc.status, "rejection_reason": doc.rejection_reason}
    changed = db.exec(
        sa.update(Document).where(col(Document.id) == doc.id, col(Document.version) == version)
        .values(status=status, rejection_reason=None if approve else text, reviewed_by_id=principal.user_id,
                reviewed_at=now, version=Document.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.rollback()
        raise Conflict(f"{doc_type_name(doc.doc_type)} v{doc.version_no} was reviewed or changed by someone else "
                       f"after you opened it. {NOTHING_SAVED} Reload the documents and review it again.")
    db.expire(doc)
    name = f"{doc_type_name(doc.doc_type)} v{doc.version_no}"
    if not approve:
        body = f"{name} was not accepted: {text} Please upload a corrected version."
        db.add(ShipmentUpdate(shipment_id=shipment.id, company_id=shipment.company_id,
                              visibility=Visibility.CUSTOMER.value, body=body, author_id=principal.user_id,
                              created_at=now))
        uploader = db.get(User, doc.uploaded_by_id) if doc.uploaded_by_id else None
        customer = uploader.id if uploader is not None and uploader.role not in STAFF_ROLES else None
        notifications.notify(db, "document_rejected", [customer], f"{name} for {shipment.reference} needs a correction",
                             body, f"/portal/shipments/{shipment.reference}",
                             f"document_rejected:{doc.id}:{version + 1}",
                             shipment_id=shipment.id, company_id=shipment.company_id, skip=principal.user_id, at=now)
    audit.record(db, principal, "document_approved" if approve else "document_rejected", "document", str(doc.id),
                 shipment.company_id, before, {"status": status, "rejection_reason": None if approve else text,
                                               "document": name}, at=now)
    db.commit()
    _after_change(db, shipment, now)
    message = f"{name} approved." if approve else f"{name} rejected; the customer sees the reason."
    return ReviewResult(doc.id, status, version + 1, message)
