"""The invoice pages' shared pieces: money and day formatting, the typed rows of an invoice and of a currency's
aging, how an invoice service row and a currency's aging become those rows, the status badge and a table's header.

Amounts are formatted from Decimal with the currency code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import reflex as rx

from portal_app.components.formatting import status_label
from portal_app.services import display
from portal_app.services import finance as svc
from portal_app.ui import routes
from portal_app.ui.routes import link


def money(currency: str, amount: Decimal) -> str:
    """In the currency's decimals and the reader's language (services/display.py): "£1,234.50", "¥1,235"."""
    return display.money(amount, currency)


def day(value: date | None) -> str:
    return display.day(value)


def overdue_text(days: int) -> str:
    if days <= 0:
        return ""
    return "1 day overdue" if days == 1 else f"{days} days overdue"


@dataclass(frozen=True)
class InvoiceLine:
    """One invoice in the list, as shown."""

    number: str
    href: str
    shipment: str
    shipment_href: str
    issued: str
    due: str
    status: str
    status_label: str
    currency: str
    total: str
    balance: str
    overdue: str


@dataclass(frozen=True)
class AgingLine:
    """One currency's balance: the amount in each aging bucket (in ``svc.BUCKET_KEYS`` order) and the totals."""

    currency: str
    buckets: list[str]
    total: str
    overdue: str
    count: str


def invoice_row_view(row: svc.InvoiceRow) -> InvoiceLine:
    return InvoiceLine(
        number=row.number,
        href=link(routes.PORTAL_INVOICE, number=row.number),
        shipment=row.shipment_reference or "—",
        shipment_href=link(routes.PORTAL_SHIPMENT, reference=row.shipment_reference) if row.shipment_reference else "",
        issued=day(row.issue_date),
        due=day(row.due_date),
        status=row.status,
        status_label=status_label(row.status),
        currency=row.currency,
        total=money(row.currency, row.total),
        balance=money(row.currency, row.balance),
        overdue=overdue_text(row.days_overdue),
    )


def aging_row_view(c: svc.CurrencyAging) -> AgingLine:
    return AgingLine(
        currency=c.currency,
        buckets=[money(c.currency, c.buckets[key]) for key in svc.BUCKET_KEYS],
        total=money(c.currency, c.total),
        overdue=money(c.currency, c.overdue),
        count=str(c.count),
    )


def invoice_status_badge(status: rx.Var, label: rx.Var) -> rx.Component:
    return rx.badge(
        label,
        color_scheme=rx.match(
            status,
            ("draft", "gray"),
            ("issued", "blue"),
            ("partially_paid", "amber"),
            ("paid", "green"),
            ("overdue", "red"),
            ("disputed", "orange"),
            ("void", "gray"),
            "gray",
        ),
        variant="soft",
        high_contrast=True,
    )


def header_row(headers: list[str]) -> rx.Component:
    return rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in headers]))
