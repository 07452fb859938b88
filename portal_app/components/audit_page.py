"""The audit trail page, for the portal's customer admins and the tower's administrators alike: filter by category,
words and days, one page of entries at a time, and the same selection as CSV.

What a person may read is decided by services/audit_trail.py from the verified session; the page only shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import fmt_datetime
from portal_app.components.ui import (
    ACCENT,
    MUTED_TEXT,
    data_table,
    error_callout,
    labelled_input,
    pager,
    primary_button,
)
from portal_app.components.work_queue import native_select
from portal_app.services import audit_trail, words
from portal_app.services.errors import ServiceError
from portal_app.services.inputs import parse
from portal_app.ui.session import page_event, run_db

EXPORT_URL = "/api/v1/audit.csv"
HEADERS = ["When", "What happened", "Who", "Record", "Address", "Detail"]


@dataclass(frozen=True)
class AuditLine:
    when: str
    category: str
    action: str
    actor: str
    company: str
    subject: str
    address: str
    detail: str


def _line(e: audit_trail.AuditEntry) -> AuditLine:
    return AuditLine(when=fmt_datetime(e.at), category=e.category_words, action=e.action_words, actor=e.actor,
                     company=e.company, subject=e.subject, address=e.address or "—", detail=e.detail)


class AuditPageBase(rx.State, mixin=True):
    entries: list[AuditLine] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    filters: dict[str, str] = {}
    audit_error: str = ""

    @rx.var
    def export_href(self) -> str:
        chosen = {k: v for k, v in self.filters.items() if v}
        return EXPORT_URL + ("?" + urlencode(chosen) if chosen else "")

    @rx.var
    def summary(self) -> str:
        return words.count(self.total, "entry", "entries")

    @page_event()
    async def load(self, principal: Principal) -> None:
        self.filters, self.page = {}, 1
        await self._fetch(principal)

    @page_event()
    async def apply_filters(self, principal: Principal, form: dict) -> None:
        self.filters = {k: str(form.get(k, "")).strip() for k in ("category", "q", "since", "until")}
        self.page = 1
        await self._fetch(principal)

    @page_event()
    async def go_to_page(self, principal: Principal, delta: int) -> None:
        self.page = max(1, min(self.pages, self.page + int(delta)))
        await self._fetch(principal)

    def _service_refused(self, exc: ServiceError) -> Any:
        self.audit_error = exc.message

    async def _fetch(self, principal: Principal) -> None:
        self.audit_error = ""
        query = parse(audit_trail.AuditQuery, {k: v for k, v in self.filters.items() if v})
        found = await run_db(audit_trail.list_entries, principal, query, page=self.page)
        self.entries = [_line(e) for e in found.rows]
        self.total, self.pages = found.total, found.pages


def _row(line: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(line.when, white_space="nowrap"),
        rx.table.row_header_cell(line.action, rx.el.br(), rx.text(line.category, color=MUTED_TEXT, size="1"),
                                 scope="row"),
        rx.table.cell(line.actor, rx.el.br(), rx.text(line.company, color=MUTED_TEXT, size="1")),
        rx.table.cell(line.subject),
        rx.table.cell(line.address),
        rx.table.cell(line.detail),
    )


def _filters(state: type[AuditPageBase], categories: list[tuple[str, str]]) -> rx.Component:
    return rx.el.form(
        rx.hstack(
            native_select("Category", "category", [("", "Every category"), *categories]),
            labelled_input("Search", "q", placeholder="Name, email, address, record", max_length=100),
            labelled_input("From", "since", type="date"),
            labelled_input("To", "until", type="date"),
            primary_button("Show", type="submit"),
            spacing="3",
            align="end",
            wrap="wrap",
        ),
        on_submit=state.apply_filters,
        aria_label="Filter the audit trail",
    )


def audit_body(state: type[AuditPageBase], intro: str, categories: tuple[str, ...]) -> rx.Component:
    return rx.vstack(
        rx.heading("Audit trail", size="7", as_="h1"),
        rx.text(intro, color=MUTED_TEXT),
        _filters(state, [(c, audit_trail.CATEGORY_WORDS[c]) for c in categories]),
        rx.cond(state.audit_error != "", error_callout(state.audit_error), rx.fragment()),
        rx.hstack(
            rx.text(state.summary, aria_live="polite"),
            rx.link("Download as CSV", href=state.export_href, color=ACCENT, weight="medium"),
            spacing="5",
        ),
        data_table("Audit entries", HEADERS, state.entries, _row),
        pager(state),
        spacing="4",
        width="100%",
    )
