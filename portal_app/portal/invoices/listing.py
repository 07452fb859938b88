"""Portal: the company's invoices, with the balance due in each currency, a status filter and sortable column
headers; the status, sort and page live in the address (``components/sortable.py``).

State holds one page of small string rows.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import parse_qs

import reflex as rx

from models.enums import InvoiceStatus
from portal_app.auth.principal import Principal
from portal_app.components.formatting import status_label
from portal_app.components.layout import area_page
from portal_app.components.sortable import SortedListMixin, first, sort_header
from portal_app.components.ui import (
    DANGER,
    MUTED_TEXT,
    NATIVE_SELECT_STYLE,
    data_table,
    error_callout,
    pager,
)
from portal_app.portal.invoices.rows import (
    AgingLine,
    InvoiceLine,
    aging_row_view,
    invoice_row_view,
    invoice_status_badge,
)
from portal_app.services import finance as svc
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

PAGE_SIZE = 25
ALL = "all"
DEFAULT_SORT = "-issued"  # the newest issue date first
# The table's columns and the service's sort key of each sortable one (``finance.LIST_SORTS``).
HEADERS: list[tuple[str, str | None]] = [("Invoice", "number"), ("Shipment", "shipment"), ("Issued", "issued"),
                                         ("Due", "due"), ("Status", None), ("Total", None), ("Balance", None)]


def _balances(items: rx.Var) -> rx.Component:
    return rx.cond(
        items.length() > 0,
        rx.hstack(
            rx.foreach(
                items,
                lambda b: rx.card(
                    rx.text("Balance due · ", b.currency, weight="bold"),
                    rx.text(b.total, size="6", data_testid="balance-amount"),
                    rx.text("Overdue: ", b.overdue, " · ", b.count, " open invoices", size="1", color=MUTED_TEXT),
                ),
            ),
            wrap="wrap",
        ),
        rx.text("Nothing is due. Thank you!", color=MUTED_TEXT),
    )


class PortalInvoicesState(SortedListMixin, SessionState):
    AREA: ClassVar[str] = "portal"
    SORTS: ClassVar[tuple[str, ...]] = tuple(key for _label, key in HEADERS if key)
    DEFAULT_SORT: ClassVar[str] = DEFAULT_SORT

    rows: list[InvoiceLine] = []
    balances: list[AgingLine] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    status: str = ALL
    sort: str = DEFAULT_SORT
    error: str = ""
    loading: bool = False

    def _list_path(self) -> str:
        return routes.PORTAL_INVOICES

    def _list_params(self) -> dict[str, str]:
        return {"status": self.status if self.status != ALL else ""}

    @page_event()
    async def load(self, principal: Principal) -> None:
        raw = parse_qs(self.router.url.query)
        status = first(raw, "status")
        self.status = status if status in svc.FILTER_STATUSES else ALL
        self._read_address(raw)
        try:  # the list below is read even when the balances are refused
            st = await run_db(svc.statement, principal)
        except ServiceError as exc:
            self.error, self.balances = exc.message, []
        else:
            self.balances = [aging_row_view(c) for c in st.currencies]
        await self._fetch_kept_page(principal)

    @page_event()
    async def set_status_filter(self, principal: Principal, value: str) -> Any:
        self.status = value if value in svc.FILTER_STATUSES else ALL
        self.page = 1
        await self._fetch(principal)
        return self._show_address()

    @page_event()
    async def go_to_page(self, principal: Principal, delta: int) -> Any:
        self.page = max(1, min(self.pages, self.page + int(delta)))
        await self._fetch(principal)
        return self._show_address()

    async def _fetch(self, principal: Principal) -> None:
        self.loading = True
        try:
            result = await run_db(
                svc.list_invoices, principal, status=None if self.status == ALL else self.status,
                page=self.page, page_size=PAGE_SIZE, sort=self.sort,
            )
        finally:
            self.loading = False
        self.error = ""
        self.rows = [invoice_row_view(r) for r in result.rows]
        self.total, self.pages = result.total, result.pages

    def _service_refused(self, exc: ServiceError) -> None:
        """The list could not be read: the message instead of any rows."""
        self.error, self.rows, self.total, self.pages = exc.message, [], 0, 1


_LIST_STATUSES = [s for s in InvoiceStatus if s != InvoiceStatus.DRAFT]  # customers never see drafts


def _status_filter() -> rx.Component:
    items = [(ALL, "All statuses"), (svc.OPEN, "Open (not yet paid)")] + [
        (s.value, status_label(s.value).capitalize()) for s in _LIST_STATUSES]
    return rx.box(
        rx.el.label("Status", html_for="invoice-status-filter", style={"font_weight": "600", "display": "block"}),
        rx.el.select(
            *[rx.el.option(label, value=value) for value, label in items],
            id="invoice-status-filter", value=PortalInvoicesState.status,
            on_change=PortalInvoicesState.set_status_filter,
            style={**NATIVE_SELECT_STYLE, "width": "auto"},
        ),
    )


def _invoice_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(row.number, href=row.href, weight="bold")),
        rx.table.cell(rx.cond(row.shipment_href != "", rx.link(row.shipment, href=row.shipment_href),
                              row.shipment)),
        rx.table.cell(row.issued),
        rx.table.cell(row.due),
        rx.table.cell(
            rx.vstack(
                invoice_status_badge(row.status, row.status_label),
                rx.cond(row.overdue != "", rx.text(row.overdue, size="1", color=DANGER, weight="medium"),
                        rx.fragment()),
                spacing="1",
            )
        ),
        rx.table.cell(row.total, text_align="right"),
        rx.table.cell(rx.text(row.balance, weight="medium"), text_align="right"),
        background_color=rx.cond(row.overdue != "", "var(--portal-alert)", "transparent"),
    )


@area_page("portal", routes.PORTAL_INVOICES, "Invoices", PortalInvoicesState.load)
def portal_invoices() -> rx.Component:
    s = PortalInvoicesState
    return rx.vstack(
        rx.heading("Your invoices", size="7", as_="h1"),
        _balances(s.balances),
        rx.hstack(
            _status_filter(),
            rx.spacer(),
            rx.link("Statement and aging", href=routes.PORTAL_STATEMENT, weight="medium"),
            align="end",
            width="100%",
            wrap="wrap",
        ),
        rx.cond(s.error != "", error_callout(s.error), rx.fragment()),
        rx.text(s.total, " invoices", rx.cond(s.loading, " · loading…", ""), color=MUTED_TEXT, role="status",
                data_testid="invoice-count"),
        data_table("Your invoices", [label for label, _ in HEADERS], s.rows, _invoice_row,
                   header=lambda h: sort_header(s, h, dict(HEADERS)[h], rx.table.column_header_cell),
                   variant="surface", size="2"),
        rx.cond(s.total == 0, rx.text("No invoices match this status. Choose another status.", color=MUTED_TEXT),
                rx.fragment()),
        pager(s),
        spacing="4",
        width="100%",
    )
