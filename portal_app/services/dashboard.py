"""The customer dashboard: which widgets a user shows, in which order, and the figures behind them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    Document,
    DocumentRequirement,
    Shipment,
    ShipmentUpdate,
    Ticket,
    UserPreference,
)
from models.enums import (
    ACTIVE_SHIPMENT_STATUSES,
    DocumentStatus,
    ShipmentStatus,
    TicketStatus,
    Visibility,
)
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import clock
from portal_app.services.errors import ValidationFailed
from portal_app.services.overview import PortalSummary, portal_summary

WIDGETS: dict[str, str] = {
    "status": "Active shipments by status",
    "arriving": "Arriving in the next 7 days",
    "delayed": "Delayed shipments",
    "documents": "Documents we still need from you",
    "invoices": "Open and overdue invoices",
    "requests": "Open requests",
    "updates": "Latest updates",
}
PREF_KEY = "dashboard"


@dataclass(frozen=True)
class WidgetSetting:
    id: str
    title: str
    visible: bool


@dataclass(frozen=True)
class ShipmentLine:
    reference: str
    eta: object
    delay_minutes: int


@dataclass(frozen=True)
class UpdateLine:
    reference: str
    body: str
    created_at: object


@dataclass(frozen=True)
class Dashboard:
    summary: PortalSummary
    by_status: dict[str, int]
    arriving: list[ShipmentLine]
    delayed: list[ShipmentLine]
    open_requests: int
    documents_owed: int
    latest_updates: list[UpdateLine]


def get_layout(db: Session, principal: Principal) -> list[WidgetSetting]:
    """The user's widgets in their order; widgets added to the product later appear at the end, visible."""
    row = db.get(UserPreference, (principal.user_id, PREF_KEY))
    stored = json.loads(row.value) if row else {}
    order = [w for w in stored.get("order", []) if w in WIDGETS]
    order += [w for w in WIDGETS if w not in order]
    hidden = set(stored.get("hidden", []))
    return [WidgetSetting(w, WIDGETS[w], w not in hidden) for w in order]


def save_layout(db: Session, principal: Principal, order: list[str], hidden: list[str]) -> list[WidgetSetting]:
    unknown = [w for w in [*order, *hidden] if w not in WIDGETS]
    if unknown or len(set(order)) != len(order):
        raise ValidationFailed("The dashboard layout names unknown or repeated widgets. Reload the page; nothing was "
                               "saved.")
    value = json.dumps({"order": order, "hidden": sorted(set(hidden))})
    row = db.get(UserPreference, (principal.user_id, PREF_KEY))
    if row is None:
        row = UserPreference(user_id=principal.user_id, key=PREF_KEY, value=value)
    row.value = value
    db.add(row)
    db.commit()
    return get_layout(db, principal)


def dashboard(db: Session, principal: Principal) -> Dashboard:
    principal.require(Permission.USE_PORTAL)
    now = clock.now()
    mine = company_filter(col(Shipment.company_id), principal)
    active = col(Shipment.status).in_(ACTIVE_SHIPMENT_STATUSES)
    by_status = dict(
        db.exec(select(Shipment.status, sa.func.count()).where(mine, active).group_by(Shipment.status)).all()
    )
    arriving = db.exec(
        select(Shipment.reference, Shipment.eta_estimated, Shipment.delay_minutes)
        .where(mine, active, col(Shipment.ata).is_(None), col(Shipment.eta_estimated) >= now,
               col(Shipment.eta_estimated) < now + timedelta(days=7))
        .order_by(col(Shipment.eta_estimated))
        .limit(5)
    ).all()
    delayed = db.exec(
        select(Shipment.reference, Shipment.eta_estimated, Shipment.delay_minutes)
        .where(mine, active, Shipment.delay_minutes > 0)
        .order_by(col(Shipment.delay_minutes).desc())
        .limit(5)
    ).all()
    open_requests = db.exec(
        select(sa.func.count()).select_from(Ticket).where(
            company_filter(col(Ticket.company_id), principal),
            col(Ticket.status).notin_([TicketStatus.RESOLVED, TicketStatus.CLOSED]),
        )
    ).one()
    updates = db.exec(
        select(Shipment.reference, ShipmentUpdate.body, ShipmentUpdate.created_at)
        .join(Shipment, col(Shipment.id) == col(ShipmentUpdate.shipment_id))
        .where(company_filter(col(ShipmentUpdate.company_id), principal),
               col(ShipmentUpdate.visibility) == Visibility.CUSTOMER)
        .order_by(col(ShipmentUpdate.created_at).desc())
        .limit(5)
    ).all()
    return Dashboard(
        documents_owed=documents_owed(db, principal),
        summary=portal_summary(db, principal),
        by_status={str(k): int(v) for k, v in by_status.items()},
        arriving=[ShipmentLine(*r) for r in arriving],
        delayed=[ShipmentLine(*r) for r in delayed],
        open_requests=int(open_requests),
        latest_updates=[UpdateLine(*r) for r in updates],
    )


def documents_owed(db: Session, principal: Principal) -> int:
    """Required customer documents of not-yet-departed shipments with no received or approved version.

    One SQL statement: the company's booked and confirmed shipments (materialised first, so the planner cannot
    start from the requirements and walk every shipment of a mode), x matching requirements, minus those with a
    usable document.
    """
    candidates = (
        select(Shipment.id, Shipment.mode, Shipment.incoterm, Shipment.is_dangerous_goods)
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
    stmt = (
        select(sa.func.count())
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
    return int(db.exec(stmt).one())
