"""Portal: the company's documents across shipments, filtered by status and sorted by a column header, one page at
a time, with the status, sort and page in the address (``components/sortable.py``); and the documents we still
need from the customer (``?status=missing``: the list the home page's figure opens, in its own order)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs

import reflex as rx

from models.enums import DocumentStatus
from portal_app.auth.principal import Principal
from portal_app.components.document_upload import DocumentLine, document_line, documents_table
from portal_app.components.formatting import fmt_date
from portal_app.components.layout import area_page
from portal_app.components.sortable import SortedListMixin, first, sort_header
from portal_app.components.ui import MUTED_TEXT, NATIVE_SELECT_STYLE, data_table, error_callout, pager
from portal_app.services import documents as docs
from portal_app.services import documents_owed as owed
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

PAGE_SIZE = 25
MISSING = "missing"
DEFAULT_SORT = "-uploaded"  # the newest first
# Column header -> the service's sort key (``documents.LIST_SORTS``; "-key" descending).
SORTABLE: dict[str, str] = {"Shipment": "shipment", "Type": "type", "File": "file", "Status": "status",
                            "Uploaded": "uploaded"}
STATUS_CHOICES: list[tuple[str, str]] = [
    (docs.CURRENT, "Current versions"), (MISSING, "Still needed from you"), ("all", "All versions"),
] + [(s.value, s.value.capitalize()) for s in DocumentStatus]


@dataclass(frozen=True)
class MissingLine:
    """One document we still need, as the list shows it."""

    shipment: str
    shipment_href: str
    document: str
    due: str


def missing_line(row: owed.MissingDocument) -> MissingLine:
    return MissingLine(shipment=row.shipment_reference,
                       shipment_href=routes.link(routes.PORTAL_SHIPMENT, reference=row.shipment_reference),
                       document=row.doc_type_name, due=fmt_date(row.due_date) if row.due_date else "Before departure")


class PortalDocumentsState(SortedListMixin, SessionState):
    AREA: ClassVar[str] = "portal"
    SORTS: ClassVar[tuple[str, ...]] = tuple(SORTABLE.values())
    DEFAULT_SORT: ClassVar[str] = DEFAULT_SORT

    rows: list[DocumentLine] = []
    missing: list[MissingLine] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    status: str = docs.CURRENT
    sort: str = DEFAULT_SORT
    error: str = ""
    loading: bool = False

    def _list_path(self) -> str:
        return routes.PORTAL_DOCUMENTS

    def _list_params(self) -> dict[str, str]:
        return {"status": self.status if self.status != docs.CURRENT else ""}

    @page_event()
    async def load(self, principal: Principal) -> None:
        raw = parse_qs(self.router.url.query)
        wanted = first(raw, "status")
        self.status = wanted if wanted in dict(STATUS_CHOICES) else docs.CURRENT
        self._read_address(raw)
        await self._fetch_kept_page(principal)

    @page_event()
    async def filter_status(self, principal: Principal, value: str) -> Any:
        self.status = value if value in dict(STATUS_CHOICES) else docs.CURRENT
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
            if self.status == MISSING:
                needed = await run_db(owed.list_missing, principal, page=self.page, page_size=PAGE_SIZE)
                self.rows, self.missing = [], [missing_line(r) for r in needed.rows]
                self.total, self.pages = needed.total, needed.pages
            else:
                result = await run_db(docs.list_documents, principal, status=self.status, page=self.page,
                                      page_size=PAGE_SIZE, sort=self.sort)
                self.rows, self.missing = [document_line(r, self.AREA) for r in result.rows], []
                self.total, self.pages = result.total, result.pages
        finally:
            self.loading = False
        self.error = ""

    def _service_refused(self, exc: ServiceError) -> None:
        """The list could not be read: the message instead of any rows."""
        self.error, self.rows, self.missing, self.total, self.pages = exc.message, [], [], 0, 1


def _status_filter() -> rx.Component:
    return rx.box(
        rx.el.label("Status", html_for="documents-status", style={"display": "block", "font_weight": "600"}),
        rx.el.select(
            *[rx.el.option(text, value=value) for value, text in STATUS_CHOICES],
            id="documents-status", value=PortalDocumentsState.status, on_change=PortalDocumentsState.filter_status,
            style={**NATIVE_SELECT_STYLE, "width": "auto"},
        ),
    )


def _missing_table() -> rx.Component:
    """Documents we still need, soonest due first; each links to its shipment, where it is uploaded."""
    return data_table(
        "Documents we still need from you", ("Shipment", "Document", "Needed by"), PortalDocumentsState.missing,
        lambda m: rx.table.row(
            rx.table.row_header_cell(rx.link(m.shipment, href=m.shipment_href), scope="row"),
            rx.table.cell(m.document),
            rx.table.cell(m.due),
        ),
        size="2",
        data_testid="missing-documents",
    )


@area_page("portal", routes.PORTAL_DOCUMENTS, "Documents", PortalDocumentsState.load)
def portal_documents() -> rx.Component:
    state = PortalDocumentsState
    return rx.vstack(
        rx.heading("Your documents", size="7", as_="h1"),
        rx.text("Documents of all your shipments. To upload one, open the shipment.", color=MUTED_TEXT),
        _status_filter(),
        rx.cond(state.error != "", error_callout(state.error), rx.fragment()),
        rx.text(state.total, " documents", rx.cond(state.loading, " · loading…", ""), color=MUTED_TEXT, role="status",
                data_testid="document-count"),
        rx.cond(state.status == MISSING, _missing_table(),
                documents_table(state.rows, "Your documents", show_shipment=True,
                                header=lambda h: sort_header(state, h, SORTABLE.get(h), rx.table.column_header_cell))),
        rx.cond(state.total == 0,
                rx.text(rx.cond(state.status == MISSING, "Nothing is missing: we have every document we need.",
                                "No documents with this status."), color=MUTED_TEXT),
                rx.fragment()),
        pager(state),
        spacing="4",
        width="100%",
    )
