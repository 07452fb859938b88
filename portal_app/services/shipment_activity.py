"""What happened to a shipment: ETA changes with reasons, the status narrative, related requests, followers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import EtaChange, ShipmentFollower, ShipmentUpdate, Ticket, User
from models.enums import Visibility
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services.shipments import resolve_shipment_id

REASON_LABELS = {
    "PORT_CONGESTION": "Port congestion",
    "WEATHER": "Weather",
    "ROLLED_OVER": "Cargo rolled to a later sailing",
    "CUSTOMS_INSPECTION": "Customs inspection",
    "MECHANICAL": "Mechanical problem",
    "SCHEDULE_CHANGE": "Carrier schedule change",
    "CARRIER_UPDATE": "Carrier update",
}


@dataclass(frozen=True)
class EtaChangeView:
    changed_at: datetime
    previous_eta: datetime | None
    new_eta: datetime
    shift_hours: float | None
    reason_code: str
    reason: str
    source: str


@dataclass(frozen=True)
class UpdateView:
    created_at: datetime
    body: str
    author: str
    visibility: str


@dataclass(frozen=True)
class RequestView:
    reference: str
    subject: str
    category: str
    status: str
    updated_at: datetime


def eta_history(db: Session, principal: Principal, reference: str) -> list[EtaChangeView]:
    shipment_id = resolve_shipment_id(db, principal, reference)
    rows = db.exec(select(EtaChange).where(EtaChange.shipment_id == shipment_id)
                   .order_by(col(EtaChange.created_at).desc())).all()
    return [
        EtaChangeView(
            changed_at=r.created_at,
            previous_eta=r.previous_eta,
            new_eta=r.new_eta,
            shift_hours=round((r.new_eta - r.previous_eta).total_seconds() / 3600, 1) if r.previous_eta else None,
            reason_code=r.reason_code,
            reason=r.reason_text or REASON_LABELS.get(r.reason_code, r.reason_code.replace("_", " ").capitalize()),
            source=r.source,
        )
        for r in rows
    ]


def updates(db: Session, principal: Principal, reference: str, *, limit: int = 50) -> list[UpdateView]:
    """The status narrative, newest first. Customers see only customer-visible updates, never internal notes."""
    shipment_id = resolve_shipment_id(db, principal, reference)
    stmt = (
        select(ShipmentUpdate, User.full_name)
        .outerjoin(User, col(User.id) == col(ShipmentUpdate.author_id))
        .where(ShipmentUpdate.shipment_id == shipment_id)
        .order_by(col(ShipmentUpdate.created_at).desc())
        .limit(limit)
    )
    if not principal.can(Permission.USE_TOWER):
        stmt = stmt.where(ShipmentUpdate.visibility == Visibility.CUSTOMER)
    return [UpdateView(u.created_at, u.body, name or "Operations", u.visibility) for u, name in db.exec(stmt).all()]


def requests_for(db: Session, principal: Principal, reference: str, *, limit: int = 20) -> list[RequestView]:
    shipment_id = resolve_shipment_id(db, principal, reference)
    rows = db.exec(
        select(Ticket).where(Ticket.shipment_id == shipment_id).order_by(col(Ticket.updated_at).desc()).limit(limit)
    ).all()
    return [RequestView(t.reference, t.subject, t.category, t.status, t.updated_at) for t in rows]


def is_following(db: Session, principal: Principal, reference: str) -> bool:
    shipment_id = resolve_shipment_id(db, principal, reference)
    return db.get(ShipmentFollower, (shipment_id, principal.user_id)) is not None


def set_following(db: Session, principal: Principal, reference: str, follow: bool) -> bool:
    """Follow or unfollow for the acting user; returns the new state. Idempotent."""
    shipment_id = resolve_shipment_id(db, principal, reference)
    if follow:
        if db.get(ShipmentFollower, (shipment_id, principal.user_id)) is None:
            db.add(ShipmentFollower(shipment_id=shipment_id, user_id=principal.user_id))
    else:
        db.exec(
            sa.delete(ShipmentFollower).where(
                col(ShipmentFollower.shipment_id) == shipment_id, col(ShipmentFollower.user_id) == principal.user_id
            )
        )
    db.commit()
    return follow
