"""Documents we still need from a customer: each required customer document of a shipment not yet departed (booked
or confirmed) that has no received or approved version. The portal home's figure is the total of this list, and
its link opens the list (``/portal/documents?status=missing``), so the two cannot disagree.

One SQL statement for both the count and a page: the company's booked and confirmed shipments (materialised first,
so the planner cannot start from the requirements and walk every shipment of a mode), x matching requirements,
minus those with a usable document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import Document, DocumentRequirement, Shipment
from models.enums import DocumentStatus, ShipmentStatus
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services.documents import doc_type_name
from portal_app.services.paging import Page, check_paging

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class MissingDocument:
    """One document still needed: for which shipment, what, and by when (days before the planned departure)."""

    shipment_reference: str
    doc_type: str
    doc_type_name: str
    due_date: date | None


def _owed(principal: Principal, *columns: Any) -> sa.Select:
    candidates = (
        sa.select(col(Shipment.id), col(Shipment.reference), col(Shipment.mode), col(Shipment.incoterm),
                  col(Shipment.is_dangerous_goods),
                  sa.func.coalesce(Shipment.etd_estimated, Shipment.etd_planned).label("departure"))
        .where(
            company_filter(col(Shipment.company_id), principal),
            col(Shipment.status).in_([ShipmentStatus.BOOKED, ShipmentStatus.CONFIRMED]),
        )
        .cte("owed_candidates")
        .prefix_with("MATERIALIZED")
    )
    usable = (
        select(Document.id)
        .where(
            Document.shipment_id == candidates.c.id,
            Document.doc_type == DocumentRequirement.doc_type,
            col(Document.status).in_([DocumentStatus.RECEIVED, DocumentStatus.APPROVED]),
        )
        .exists()
    )
    wanted = [c(candidates) if callable(c) else c for c in columns]
    return (
        sa.select(*wanted)
        .select_from(candidates)
        .join(
            DocumentRequirement,
            sa.and_(
                col(DocumentRequirement.mode) == candidates.c.mode,
                col(DocumentRequirement.is_active).is_(True),
                col(DocumentRequirement.provided_by) == "customer",
                sa.or_(col(DocumentRequirement.incoterm).is_(None),
                       col(DocumentRequirement.incoterm) == candidates.c.incoterm),
                sa.or_(col(DocumentRequirement.dangerous_goods_only).is_(False),
                       candidates.c.is_dangerous_goods.is_(True)),
            ),
        )
        .where(~usable)
    )


def count_missing(db: Session, principal: Principal) -> int:
    principal.require(Permission.VIEW_SHIPMENTS)
    return int(db.execute(_owed(principal, sa.func.count())).scalar_one())


def list_missing(db: Session, principal: Principal, *, page: int = 1, page_size: int = 25) -> Page[MissingDocument]:
    """One page of the documents still needed, the soonest due first."""
    principal.require(Permission.VIEW_SHIPMENTS)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    stmt = _owed(principal, lambda c: c.c.reference, col(DocumentRequirement.doc_type),
                 col(DocumentRequirement.due_days_before_departure), lambda c: c.c.departure)
    order = stmt.selected_columns
    rows = db.execute(stmt.order_by(order[3], order[0], order[1])
                      .offset((page - 1) * page_size).limit(page_size)).all()
    items = [MissingDocument(ref, doc_type, doc_type_name(doc_type),
                             (departure - timedelta(days=days or 0)).date() if departure else None)
             for ref, doc_type, days, departure in rows]
    return Page(items, count_missing(db, principal), page, page_size)
