"""Portal: the company's documents across shipments, filtered by status, one page at a time; and the documents we
still need from the customer (``?status=missing``: the list the home page's figure opens)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import parse_qs

import reflex as rx

from models.enums import DocumentStatus
from portal_app.auth.principal import Principal
from portal_app.components.document_upload import DocumentLine, document_line, documents_table
from portal_app.components.formatting import fmt_date
from portal_app.components.layout import area_page
from portal_app.components.ui import MUTED_TEXT, NATIVE_SELECT_STYLE, data_table, error_callout, pager
from portal_app.services import documents as docs
from portal_app.services import documents_owed as owed
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

PAGE_SIZE = 25
MISSING = "missing"
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


class PortalDocumentsState(SessionState):
    AREA: ClassVar[str] = "portal"

    rows: list[DocumentLine] = []
    missing: list[MissingLine] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    status: str = docs.CURRENT
    error: str = ""
    loading: bool = False

    @page_event()
    async def load(self, principal: Principal) -> None:
        wanted = (parse_qs(self.router.url.query).get("status") or [docs.CURRENT])[0]
        self.status = wanted if wanted in dict(STATUS_CHOICES) else docs.CURRENT
        self.page = 1
        await self._fetch(principal)

    @page_event()
    async def filter_status(self, principal: Principal, value: str) -> None:
        self.status = value if value in dict(STATUS_CHOICES) else docs.CURRENT
        self.page = 1
        await self._fetch(principal)

    @page_event()
    async def go_to_page(self, principal: Principal, delta: int) -> None:
        self.page = max(1, min(self.pages, self.page + int(delta)))
        await self._fetch(principal)

    async def _fetch(self, principal: Principal) -> None:
        self.loading = True
        try:
            if self.status == MISSING:
                needed = await run_db(owed.list_missing, principal, page=self.page, page_size=PAGE_SIZE)
                self.rows, self.missing = [], [missing_line(r) for r in needed.rows]
                self.total, self.pages = needed.total, needed.pages
            else:
                result = await run_db(docs.list_documents, principal, status=self.status, page=self.page,
                                      page_size=PAGE_SIZE)
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
        rx.cond(state.status == MISSING, _missing_table(), documents_table(state.rows, "Your documents",
                                                                           show_shipment=True)),
        rx.cond(state.total == 0,
                rx.text(rx.cond(state.status == MISSING, "Nothing is missing: we have every document we need.",
                                "No documents with this status."), color=MUTED_TEXT),
                rx.fragment()),
        pager(state),
        spacing="4",
        width="100%",
    )
