"""Portal: the company's requests (``/portal/requests``): everyone in the company sees them and who raised each,
filtered by status and category or found by reference, subject or shipment; newest activity first, or sorted by a
column header. Filters, sort and page live in the address (``components/sortable.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import fmt_datetime
from portal_app.components.layout import area_page
from portal_app.components.sortable import SortedListMixin, first, sort_headers
from portal_app.components.ui import (
    LABEL_STYLE,
    MUTED_TEXT,
    NATIVE_SELECT_STYLE,
    error_callout,
    pager,
    primary_button,
    table_caption,
)
from portal_app.components.work_queue import button_link
from portal_app.services import requests as svc
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.routes import link
from portal_app.ui.session import SessionState, page_event, run_db

PAGE_SIZE = 25
STATUS_CHOICES = [("active", "Open and waiting"), ("all", "All"), *svc.STATUS_LABELS.items()]
CATEGORY_CHOICES = [("", "Any category"), *svc.CATEGORY_LABELS.items()]
DEFAULT_SORT = "-updated"  # the newest activity first
# The table's columns and the service's sort key of each sortable one (``requests.LIST_SORTS``).
HEADERS: list[tuple[str, str | None]] = [("Request", "reference"), ("Subject", "subject"), ("Category", None),
                                         ("Status", "status"), ("About", None), ("Raised by", None),
                                         ("Last activity", "updated")]


@dataclass(frozen=True)
class RequestListRow:
    """One request in the list, as shown."""

    reference: str
    href: str
    subject: str
    category: str
    status: str
    raised_by: str
    about: str
    updated: str


def request_row_view(r: svc.RequestRow) -> RequestListRow:
    return RequestListRow(
        reference=r.reference, href=link(routes.PORTAL_REQUEST, reference=r.reference), subject=r.subject,
        category=r.category_label, status=r.status_label, raised_by=r.raised_by,
        about=r.shipment_reference or r.invoice_number or "—", updated=fmt_datetime(r.updated_at),
    )


class PortalRequestsState(SortedListMixin, SessionState):
    AREA: ClassVar[str] = "portal"
    SORTS: ClassVar[tuple[str, ...]] = tuple(key for _label, key in HEADERS if key)
    DEFAULT_SORT: ClassVar[str] = DEFAULT_SORT

    rows: list[RequestListRow] = []
    status: str = "active"
    category: str = ""
    search: str = ""
    sort: str = DEFAULT_SORT
    page: int = 1
    pages: int = 1
    total: int = 0
    error: str = ""

    def _list_path(self) -> str:
        return routes.PORTAL_REQUESTS

    def _list_params(self) -> dict[str, str]:
        return {"status": self.status if self.status != "active" else "", "category": self.category,
                "q": self.search}

    def _use_filters(self, raw: dict[str, Any]) -> None:
        """The filters from the address or the form; values the list does not offer fall back to the defaults."""
        status, category = first(raw, "status", 24), first(raw, "category", 24)
        self.status = status if status in dict(STATUS_CHOICES) else "active"
        self.category = category if category in svc.CATEGORY_LABELS else ""
        self.search = first(raw, "q", 100)

    @page_event()
    async def load(self, principal: Principal) -> None:
        query = parse_qs(self.router.url.query)
        self._use_filters(query)
        self._read_address(query)
        await self._fetch_kept_page(principal)

    @page_event()
    async def apply(self, principal: Principal, form: dict) -> Any:
        self._use_filters(form)
        self.page = 1
        await self._fetch(principal)
        return self._show_address()

    @page_event()
    async def go_to_page(self, principal: Principal, delta: int) -> Any:
        self.page = max(1, min(self.pages, self.page + int(delta)))
        await self._fetch(principal)
        return self._show_address()

    async def _fetch(self, principal: Principal) -> None:
        filters = svc.RequestFilters(status=self.status, category=self.category or None, search=self.search or None)
        result = await run_db(svc.list_requests, principal, filters, page=self.page, page_size=PAGE_SIZE,
                              sort=self.sort)
        self.error = ""
        self.rows = [request_row_view(r) for r in result.rows]
        self.total, self.pages = result.total, result.pages

    def _service_refused(self, exc: ServiceError) -> None:
        """The list could not be read: the message instead of any rows."""
        self.error, self.rows, self.total, self.pages = exc.message, [], 0, 1


S = PortalRequestsState


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(r.reference, href=r.href, weight="bold")),
        *[rx.table.cell(r[k]) for k in ("subject", "category", "status", "about", "raised_by", "updated")],
    )


def _select(label: str, name: str, field_id: str, choices: list[tuple[str, str]], value: rx.Var) -> rx.Component:
    return rx.box(
        rx.el.label(label, html_for=field_id, style=LABEL_STYLE),
        rx.el.select(*[rx.el.option(text, value=v) for v, text in choices], id=field_id, name=name,
                     default_value=value, key=value, style=NATIVE_SELECT_STYLE),
    )


@area_page("portal", routes.PORTAL_REQUESTS, "Requests", PortalRequestsState.load)
def portal_requests() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.heading("Requests", size="7", as_="h1"), rx.spacer(),
                  button_link("New request", routes.PORTAL_REQUEST_NEW), width="100%", align="center"),
        rx.text("Questions and changes you sent to our team, with every reply. Everyone in your company sees "
                "them.", color=MUTED_TEXT),
        rx.el.form(
            rx.hstack(
                _select("Status", "status", "requests-status", STATUS_CHOICES, S.status),
                _select("Category", "category", "requests-category", CATEGORY_CHOICES, S.category),
                rx.box(
                    rx.el.label("Reference, subject or shipment", html_for="requests-q", style=LABEL_STYLE),
                    rx.input(id="requests-q", name="q", default_value=S.search, max_length=100),
                ),
                primary_button("Show requests", type="submit"),
                align="end", wrap="wrap", spacing="3",
            ),
            on_submit=S.apply,
            aria_label="Filter requests",
        ),
        rx.cond(S.error != "", error_callout(S.error), rx.fragment()),
        rx.text(S.total, " requests", color=MUTED_TEXT, role="status"),
        rx.cond(
            S.rows.length() > 0,
            rx.table.root(
                table_caption("Your company's requests"),
                rx.table.header(rx.table.row(*sort_headers(S, HEADERS, rx.table.column_header_cell))),
                rx.table.body(rx.foreach(S.rows, _row)),
                size="1", width="100%",
            ),
            rx.text("No requests here. Select New request to ask our team something.", color=MUTED_TEXT),
        ),
        pager(S),
        spacing="4",
        width="100%",
    )
