"""The customer dashboard: which widgets a user shows, in which order, and the figures behind them."""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    Shipment,
    ShipmentUpdate,
    UserPreference,
)
from models.enums import (
    ACTIVE_SHIPMENT_STATUSES,
    Visibility,
)
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import clock, shipments
from portal_app.services import documents_owed as owed
from portal_app.services.errors import ValidationFailed
from portal_app.services.overview import PortalSummary, arriving_filters, delayed_filters, portal_summary
from portal_app.services.requests.reading import RequestFilters, list_requests

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
OPEN_REQUESTS = "active"  # the request list's filter for open and waiting requests


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
    """The home page's figures and short lists; each figure is the total of the list its link opens, and each
    short list is that list's first rows (see ``overview``)."""
    principal.require(Permission.USE_PORTAL)
    mine = company_filter(col(Shipment.company_id), principal)
    active = col(Shipment.status).in_(ACTIVE_SHIPMENT_STATUSES)
    by_status = dict(
        db.exec(select(Shipment.status, sa.func.count()).where(mine, active).group_by(Shipment.status)).all()
    )
    arriving = shipments.list_shipments(db, principal, arriving_filters(clock.today()), page_size=5, sort="eta")
    delayed = shipments.list_shipments(db, principal, delayed_filters(), page_size=5, sort="eta")
    open_requests = list_requests(db, principal, RequestFilters(status=OPEN_REQUESTS), page_size=1).total
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
        arriving=[ShipmentLine(r.reference, r.eta, r.delay_minutes) for r in arriving.rows],
        delayed=[ShipmentLine(r.reference, r.eta, r.delay_minutes) for r in delayed.rows],
        open_requests=int(open_requests),
        latest_updates=[UpdateLine(*r) for r in updates],
    )


def documents_owed(db: Session, principal: Principal) -> int:
    """Required customer documents of not-yet-departed shipments with no received or approved version (the total
    of the list the figure opens: ``documents_owed.list_missing``)."""
    return owed.count_missing(db, principal)
