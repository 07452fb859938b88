"""Portal: the company's requests (``/portal/requests``): everyone in the company sees them and who raised each,
filtered by status and category or found by reference, subject or shipment; newest activity first."""

from __future__ import annotations

from urllib.parse import parse_qs

import reflex as rx

from portal_app.components.formatting import fmt_datetime
from portal_app.components.layout import area_page
from portal_app.components.ui import (
    LABEL_STYLE,
    MUTED_TEXT,
    NATIVE_SELECT_STYLE,
    data_table,
    error_callout,
    pager,
    primary_button,
)
from portal_app.components.work_queue import button_link
from portal_app.services import requests as svc
from portal_app.services.errors import ServiceError
from portal_app.ui.session import SessionState, run_db

PAGE_SIZE = 25
STATUS_CHOICES = [("active", "Open and waiting"), ("all", "All"), *svc.STATUS_LABELS.items()]
CATEGORY_CHOICES = [("", "Any category"), *svc.CATEGORY_LABELS.items()]


def request_row_view(r: svc.RequestRow) -> dict[str, str]:
    return {
        "reference": r.reference, "href": f"/portal/requests/{r.reference}", "subject": r.subject,
        "category": r.category_label, "status": r.status_label, "raised_by": r.raised_by,
        "about": r.shipment_reference or r.invoice_number or "—", "updated": fmt_datetime(r.updated_at),
    }


class PortalRequestsState(SessionState):
    rows: list[dict[str, str]] = []
    status: str = "active"
    category: str = ""
    search: str = ""
    page: int = 1
    pages: int = 1
    total: int = 0
    error: str = ""

    async def load(self):  # noqa: ANN201
        principal = await self._authorize("portal")
        if principal is None:
            return self._refused()
        query = parse_qs(self.router.url.query)
        status = (query.get("status") or ["active"])[0]
        category = (query.get("category") or [""])[0]
        self.status = status if status in dict(STATUS_CHOICES) else "active"
        self.category = category if category in svc.CATEGORY_LABELS else ""
        self.search, self.page = (query.get("q") or [""])[0][:100], 1
        await self._fetch(principal)
        return None

    async def apply(self, form: dict):  # noqa: ANN201
        principal = await self._authorize("portal")
        if principal is None:
            return self._refused()
        status, category = str(form.get("status", "active")), str(form.get("category", ""))
        self.status = status if status in dict(STATUS_CHOICES) else "active"
        self.category = category if category in svc.CATEGORY_LABELS else ""
        self.search, self.page = str(form.get("q", "")).strip()[:100], 1
        await self._fetch(principal)
        return None

    async def go_to_page(self, delta: int):  # noqa: ANN201
        principal = await self._authorize("portal")
        if principal is None:
            return self._refused()
        self.page = max(1, min(self.pages, self.page + int(delta)))
        await self._fetch(principal)
        return None

    async def _fetch(self, principal) -> None:  # noqa: ANN001
        filters = svc.RequestFilters(status=self.status, category=self.category or None, search=self.search or None)
        try:
            result = await run_db(svc.list_requests, principal, filters, page=self.page, page_size=PAGE_SIZE)
        except ServiceError as exc:
            self.error, self.rows, self.total, self.pages = exc.message, [], 0, 1
            return
        self.error = ""
        self.rows = [request_row_view(r) for r in result.rows]
        self.total, self.pages = result.total, result.pages


S = PortalRequestsState


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(r["reference"], href=r["href"], weight="bold")),
        *[rx.table.cell(r[k]) for k in ("subject", "category", "status", "about", "raised_by", "updated")],
    )


def _select(label: str, name: str, field_id: str, choices: list[tuple[str, str]], value: rx.Var) -> rx.Component:
    return rx.box(
        rx.el.label(label, html_for=field_id, style=LABEL_STYLE),
        rx.el.select(*[rx.el.option(text, value=v) for v, text in choices], id=field_id, name=name,
                     default_value=value, key=value, style=NATIVE_SELECT_STYLE),
    )


@area_page("portal", "/portal/requests", "Requests", PortalRequestsState.load)
def portal_requests() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.heading("Requests", size="7", as_="h1"), rx.spacer(),
                  button_link("New request", "/portal/requests/new"), width="100%", align="center"),
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
            data_table("Your company's requests", ["Request", "Subject", "Category", "Status", "About",
                                                   "Raised by", "Last activity"], S.rows, _row),
            rx.text("No requests here. Select New request to ask our team something.", color=MUTED_TEXT),
        ),
        pager(S),
        spacing="4",
        width="100%",
    )
