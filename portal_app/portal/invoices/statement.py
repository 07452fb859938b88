"""Portal: the aged statement: the aging by currency and one page of the open invoices behind it, with the CSV
and Excel downloads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import status_label
from portal_app.components.layout import area_page
from portal_app.components.ui import DANGER, MUTED_TEXT, data_table, download_link, error_callout, pager
from portal_app.portal.invoices.rows import (
    AgingLine,
    aging_row_view,
    day,
    invoice_status_badge,
    money,
    overdue_text,
)
from portal_app.services import finance as svc
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.routes import link
from portal_app.ui.session import SessionState, page_event, run_db

STATEMENT_PAGE_SIZE = 25


@dataclass(frozen=True)
class StatementInvoiceLine:
    """One open invoice on the statement, with its aging bucket."""

    number: str
    href: str
    shipment: str
    due: str
    status: str
    status_label: str
    balance: str
    bucket: str
    overdue: str


class PortalStatementState(SessionState):
    """The aging summary and one page of the open invoices behind it (all of them are in the exports)."""

    AREA: ClassVar[str] = "portal"

    as_of: str = ""
    aging: list[AgingLine] = []
    invoices: list[StatementInvoiceLine] = []
    open_count: int = 0
    page: int = 1
    pages: int = 1
    error: str = ""

    @page_event()
    async def load(self, principal: Principal) -> None:
        self.page = 1
        await self._fetch(principal)

    @page_event()
    async def go_to_page(self, principal: Principal, delta: int) -> None:
        self.page = max(1, min(self.pages, self.page + int(delta)))
        await self._fetch(principal)

    async def _fetch(self, principal: Principal) -> None:
        st = await run_db(svc.statement, principal, page=self.page, page_size=STATEMENT_PAGE_SIZE)
        self.error = ""
        self.open_count = st.open_invoices
        self.pages = max(1, -(-st.open_invoices // STATEMENT_PAGE_SIZE))
        self.as_of = day(st.as_of)
        self.aging = [aging_row_view(c) for c in st.currencies]
        self.invoices = [
            StatementInvoiceLine(
                number=i.number,
                href=link(routes.PORTAL_INVOICE, number=i.number),
                shipment=i.shipment_reference or "—",
                due=day(i.due_date),
                status=i.status,
                status_label=status_label(i.status),
                balance=money(i.currency, i.balance),
                bucket=svc.BUCKET_LABELS[i.bucket],
                overdue=overdue_text(i.days_past_due),
            )
            for i in st.invoices
        ]

    def _service_refused(self, exc: ServiceError) -> None:
        """The statement could not be read: the message instead of its tables."""
        self.error, self.aging, self.invoices = exc.message, [], []


def _aging_table() -> rx.Component:
    labels = [label for _, label in svc.BUCKETS]
    return data_table(
        "Aging by currency", ["Currency", *labels, "Total"], PortalStatementState.aging,
        lambda a: rx.table.row(
            rx.table.row_header_cell(a.currency),
            *[rx.table.cell(a.buckets[i], text_align="right") for i in range(len(svc.BUCKET_KEYS))],
            rx.table.cell(rx.text(a.total, weight="bold"), text_align="right"),
        ),
        variant="surface",
        size="2",
    )


def _open_invoices_table() -> rx.Component:
    return data_table(
        "Open invoices", ["Invoice", "Shipment", "Due", "Status", "Aging", "Balance"], PortalStatementState.invoices,
        lambda i: rx.table.row(
            rx.table.row_header_cell(rx.link(i.number, href=i.href, weight="bold")),
            rx.table.cell(i.shipment),
            rx.table.cell(i.due),
            rx.table.cell(invoice_status_badge(i.status, i.status_label)),
            rx.table.cell(rx.vstack(
                rx.text(i.bucket),
                rx.cond(i.overdue != "", rx.text(i.overdue, size="1", color=DANGER), rx.fragment()),
                spacing="0",
            )),
            rx.table.cell(i.balance, text_align="right"),
        ),
        variant="surface",
        size="2",
    )


@area_page("portal", routes.PORTAL_STATEMENT, "Statement", PortalStatementState.load)
def portal_statement() -> rx.Component:
    s = PortalStatementState
    return rx.vstack(
        rx.heading("Statement of account", size="7", as_="h1"),
        rx.text("Open balances as of ", s.as_of, " (UTC), aged by days past the due date.", color=MUTED_TEXT),
        rx.cond(s.error != "", error_callout(s.error), rx.fragment()),
        rx.hstack(
            download_link("Download CSV", "/api/v1/statement.csv"),
            download_link("Download Excel", "/api/v1/statement.xlsx"),
            rx.link("All invoices", href=routes.PORTAL_INVOICES),
            spacing="5",
        ),
        rx.heading("Aging", size="5", as_="h2"),
        rx.cond(
            s.aging.length() > 0,
            _aging_table(),
            rx.text("Nothing is open: you owe nothing today.", color=MUTED_TEXT),
        ),
        rx.heading("Open invoices", size="5", as_="h2"),
        rx.cond(
            s.invoices.length() > 0,
            rx.vstack(
                rx.text(s.open_count, " open invoices, the longest overdue first in each currency. The downloads hold "
                        "all of them.", color=MUTED_TEXT, data_testid="open-invoice-count"),
                _open_invoices_table(),
                pager(s),
                spacing="3",
                width="100%",
            ),
            rx.text("No open invoices.", color=MUTED_TEXT),
        ),
        spacing="4",
        width="100%",
    )
