"""The record's audit trail: the shipment and its documents, newest first, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    AuditLog,
    Document,
    User,
)
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import audit
from portal_app.services.paging import Page, check_paging
from portal_app.services.workspace.common import (
    _require_staff,
    load_shipment,
)

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    actor: str
    action: str
    entity: str
    changes: list[audit.FieldChange]


def audit_trail(db: Session, principal: Principal, reference: str, *, page: int = 1,
                page_size: int = 25) -> Page:
    """The record's audit trail (the shipment and its documents), newest first, one page at a time."""
    _require_staff(principal, Permission.VIEW_SHIPMENTS)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    shipment = load_shipment(db, principal, reference)
    doc_ids = select(sa.cast(Document.id, sa.String)).where(Document.shipment_id == shipment.id)
    where = sa.or_(
        sa.and_(col(AuditLog.entity_type) == "shipment", col(AuditLog.entity_id) == shipment.reference),
        sa.and_(col(AuditLog.entity_type) == "document", col(AuditLog.entity_id).in_(doc_ids)),
    )
    total = db.exec(select(sa.func.count()).select_from(AuditLog).where(where)).one()
    rows = db.exec(
        select(AuditLog, col(User.full_name)).outerjoin(User, col(User.id) == col(AuditLog.actor_id)).where(where)
        .order_by(col(AuditLog.created_at).desc(), col(AuditLog.id).desc())
        .offset((page - 1) * page_size).limit(page_size)
    ).all()
    out = [
        AuditRow(r.created_at, actor or "System", r.action,
                 f"{r.entity_type} {r.entity_id}", audit.field_changes(r, actor or "System"))
        for r, actor in rows
    ]
    return Page(rows=out, total=int(total), page=page, page_size=page_size)
