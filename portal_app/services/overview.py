"""Headline figures: the portal home for one customer company, the tower home across all companies."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import Invoice, Shipment
from models.enums import (
    ACTIVE_SHIPMENT_STATUSES,
    OPEN_INVOICE_STATUSES,
    InvoiceStatus,
    ShipmentStatus,
)
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import clock, exceptions, finance, requests, shipments, tasks
from portal_app.services.bookings import pending_bookings
from portal_app.services.paging import Page
from portal_app.services.shipments import ShipmentFilters


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


# ------------------------------------------------------------------------------- the lists the figures open
# Each figure is the total of the list its link opens, counted by that list's own query with the same filters
# (tests/services/test_figures.py opens every link over the demo data and compares).

ARRIVING_DAYS = 7


def active_filters() -> ShipmentFilters:
    return ShipmentFilters(statuses=shipments.ACTIVE_STATUS_VALUES)


def arriving_filters(today: date) -> ShipmentFilters:
    """Active shipments whose arrival falls in the next seven days (today included)."""
    return ShipmentFilters(statuses=shipments.ACTIVE_STATUS_VALUES, eta_from=today,
                           eta_to=today + timedelta(days=ARRIVING_DAYS - 1))


def delayed_filters() -> ShipmentFilters:
    return ShipmentFilters(delayed_only=True)


def query_string(filters: ShipmentFilters) -> str:
    """The list's address for these filters (``?status=active&delayed=1``)."""
    return "?" + urlencode(filters.to_params())


def shipment_count(db: Session, principal: Principal, filters: ShipmentFilters) -> int:
    """The total the shipment list (the customer's, or the tower board's for staff) shows for ``filters``."""
    return shipments.list_query(principal, filters, page=1, page_size=1, sort="updated").total(db)


def invoice_count(db: Session, principal: Principal, status: str) -> int:
    """The total the invoice list shows for ``status`` (``open``, ``overdue``: derived as the list derives it)."""
    return finance.list_invoices(db, principal, status=status, page_size=1).total


def portal_summary(db: Session, principal: Principal) -> PortalSummary:
    principal.require(Permission.USE_PORTAL)
    my_invoices = company_filter(col(Invoice.company_id), principal)
    balances = db.exec(
        select(Invoice.currency, sa.func.sum(Invoice.balance), sa.func.count())
        .where(my_invoices, col(Invoice.status).in_(OPEN_INVOICE_STATUSES))
        .group_by(Invoice.currency)
        .order_by(Invoice.currency)
    ).all()
    return PortalSummary(
        active_shipments=shipment_count(db, principal, active_filters()),
        arriving_this_week=shipment_count(db, principal, arriving_filters(clock.today())),
        delayed_shipments=shipment_count(db, principal, delayed_filters()),
        open_invoices=invoice_count(db, principal, finance.OPEN),
        overdue_invoices=invoice_count(db, principal, InvoiceStatus.OVERDUE.value),
        balances=[Balance(cur, Decimal(str(total or 0)).quantize(Decimal("0.01")), int(c))
                  for cur, total, c in balances],
    )


def tower_summary(db: Session, principal: Principal) -> TowerSummary:
    """The tower's headline figures, each the total of the list its tile opens (the board, the bookings queue, the
    exception queue, the request desk, the invoices), counted by that list's own query."""
    principal.require(Permission.USE_TOWER)
    open_exceptions = exceptions.ExceptionFilters(status="active")
    return TowerSummary(
        active_shipments=shipment_count(db, principal, active_filters()),
        awaiting_confirmation=pending_bookings(db, principal, page_size=1).total,
        in_transit=shipment_count(db, principal, ShipmentFilters(statuses=(ShipmentStatus.IN_TRANSIT.value,))),
        delayed_shipments=shipment_count(db, principal, delayed_filters()),
        open_exceptions=exceptions.list_exceptions(db, principal, open_exceptions, page_size=1).total,
        sla_breached=exceptions.list_exceptions(db, principal, replace(open_exceptions, breached=True),
                                                page_size=1).total,
        open_requests=requests.list_requests(db, principal, requests.RequestFilters(status="active"),
                                             page_size=1).total,
        overdue_invoices=invoice_count(db, principal, InvoiceStatus.OVERDUE.value),
        customers_with_active_shipments=int(
            db.exec(select(sa.func.count(sa.distinct(col(Shipment.company_id))))
                    .where(col(Shipment.status).in_(ACTIVE_SHIPMENT_STATUSES))).one()
        ),
    )


# ------------------------------------------------------------------------------------------------ my work

MY_WORK_ROWS = 5


@dataclass(frozen=True)
class MyWork:
    """What the signed-in staff member should look at first: the exceptions they own, their task queue (theirs
    and their team's untaken tasks) and the requests assigned to them that are past an SLA; each a short list
    (nearest due first) with the total of the list it opens."""

    exceptions: Page[exceptions.ExceptionRow]
    tasks: Page[tasks.TaskRow]
    breaching_requests: Page[requests.RequestRow]


def my_exception_filters(principal: Principal) -> exceptions.ExceptionFilters:
    return exceptions.ExceptionFilters(status="active", owner_id=principal.user_id)


def my_breaching_request_filters(principal: Principal) -> requests.RequestFilters:
    return requests.RequestFilters(status="active", assignee_id=principal.user_id, breached=True)


def my_work(db: Session, principal: Principal) -> MyWork:
    principal.require(Permission.USE_TOWER)
    return MyWork(
        exceptions=exceptions.list_exceptions(db, principal, my_exception_filters(principal),
                                              page_size=MY_WORK_ROWS),
        tasks=tasks.my_queue(db, principal, page_size=MY_WORK_ROWS),
        breaching_requests=requests.list_requests(db, principal, my_breaching_request_filters(principal),
                                                  page_size=MY_WORK_ROWS),
    )
