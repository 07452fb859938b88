"""Headline figures: the portal home for one customer company, the tower home across all companies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import Invoice, OpsException, Shipment, Ticket
from models.enums import (
    ACTIVE_SHIPMENT_STATUSES,
    OPEN_INVOICE_STATUSES,
    ExceptionStatus,
    InvoiceStatus,
    ShipmentStatus,
    TicketStatus,
)
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import clock


@dataclass(frozen=True)
class Balance:
    currency: str
    amount: Decimal
    count: int


@dataclass(frozen=True)
class PortalSummary:
    active_shipments: int
    arriving_this_week: int
    delayed_shipments: int
    open_invoices: int
    overdue_invoices: int
    balances: list[Balance]


@dataclass(frozen=True)
class TowerSummary:
    active_shipments: int
    awaiting_confirmation: int
    in_transit: int
    delayed_shipments: int
    open_exceptions: int
    sla_breached: int
    open_requests: int
    overdue_invoices: int
    customers_with_active_shipments: int


def _count(db: Session, *where: sa.ColumnElement[bool], table=Shipment) -> int:  # noqa: ANN001
    return int(db.exec(select(sa.func.count()).select_from(table).where(*where)).one())


def portal_summary(db: Session, principal: Principal) -> PortalSummary:
    principal.require(Permission.USE_PORTAL)
    now = clock.now()
    mine = company_filter(col(Shipment.company_id), principal)
    active = col(Shipment.status).in_(ACTIVE_SHIPMENT_STATUSES)
    arriving = sa.and_(
        active,
        col(Shipment.ata).is_(None),
        col(Shipment.eta_estimated) >= now,
        col(Shipment.eta_estimated) < now + timedelta(days=7),
    )
    my_invoices = company_filter(col(Invoice.company_id), principal)
    balances = db.exec(
        select(Invoice.currency, sa.func.sum(Invoice.balance), sa.func.count())
        .where(my_invoices, col(Invoice.status).in_(OPEN_INVOICE_STATUSES))
        .group_by(Invoice.currency)
        .order_by(Invoice.currency)
    ).all()
    return PortalSummary(
        active_shipments=_count(db, mine, active),
        arriving_this_week=_count(db, mine, arriving),
        delayed_shipments=_count(db, mine, active, col(Shipment.delay_minutes) > 0),
        open_invoices=sum(int(c) for _, _, c in balances),
        overdue_invoices=_count(db, my_invoices, col(Invoice.status) == InvoiceStatus.OVERDUE, table=Invoice),
        balances=[Balance(cur, Decimal(str(total or 0)).quantize(Decimal("0.01")), int(c))
                  for cur, total, c in balances],
    )


def tower_summary(db: Session, principal: Principal) -> TowerSummary:
    principal.require(Permission.USE_TOWER)
    now = clock.now()
    active = col(Shipment.status).in_(ACTIVE_SHIPMENT_STATUSES)
    open_exc = col(OpsException.status) != ExceptionStatus.RESOLVED
    return TowerSummary(
        active_shipments=_count(db, active),
        awaiting_confirmation=_count(db, col(Shipment.status) == ShipmentStatus.BOOKED),
        in_transit=_count(db, col(Shipment.status) == ShipmentStatus.IN_TRANSIT),
        delayed_shipments=_count(db, active, col(Shipment.delay_minutes) > 0),
        open_exceptions=_count(db, open_exc, table=OpsException),
        sla_breached=_count(db, open_exc, col(OpsException.sla_due_at) < now, table=OpsException),
        open_requests=_count(
            db, col(Ticket.status).notin_([TicketStatus.RESOLVED, TicketStatus.CLOSED]), table=Ticket
        ),
        overdue_invoices=_count(db, col(Invoice.status) == InvoiceStatus.OVERDUE, table=Invoice),
        customers_with_active_shipments=int(
            db.exec(select(sa.func.count(sa.distinct(col(Shipment.company_id)))).where(active)).one()
        ),
    )
