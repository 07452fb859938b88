"""Tower: the exception queue. Filters (status, kind, severity, owner including "mine" and nobody, team, breached
or breaching within N hours), the nearest SLA first, one page at a time from ``exceptions.list_exceptions``; each
row has the shipment, customer, kind, severity, owner and team and the SLA timer computed on load in the viewer's
time zone. "New exception" raises one by hand (``exceptions.create_exception``) and opens it.

The filters can come from the address too (``?owner=me&sla=breached``), so other pages link to a filtered queue;
with the sort (a column header) and the page they are written back into the address after every change
(``components/sortable.py``), so a reload, Back from an exception and a shared link show the same queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.form_refusal import placed
from portal_app.components.formatting import fmt_local
from portal_app.components.layout import area_page
from portal_app.components.ops import (
    KIND_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    HandMadeMixin,
    StaffDirectoryMixin,
    id_or_none,
    refusal,
    severity_badge,
    sla_cell,
    timer_view,
)
from portal_app.components.sortable import SortedListMixin
from portal_app.components.ui import (
    MUTED_TEXT,
    labelled_input,
    primary_button,
    responsive_grid,
    secondary_button,
)
from portal_app.components.work_queue import (
    PAGE_SIZE,
    PagedQueueBase,
    checked_input,
    filter_form,
    native_select,
    queue_page,
    queue_table,
    stacked_form,
    text_field,
)
from portal_app.services import clock
from portal_app.services import exceptions as svc
from portal_app.services.errors import FormInvalid, ServiceError
from portal_app.services.exceptions import ExceptionFilters, ExceptionInput
from portal_app.services.inputs import parse
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

STATUS_CHOICES = [("active", "Open or in progress"), ("open", "Open"), ("in_progress", "In progress"),
                  ("resolved", "Resolved"), ("all", "All")]
KIND_CHOICES = [("", "Any kind"), *KIND_LABELS.items()]
SEVERITY_CHOICES = [("", "Any severity"), *SEVERITY_LABELS.items()]
OWNER_CHOICES = [("", "Anyone"), ("me", "Me"), ("none", "Nobody (unassigned)")]
TEAM_CHOICES = [("", "Any team")]
SLA_CHOICES = [("", "Any SLA"), ("breached", "Breached"), ("soon", "Breaching soon")]
DEFAULT_SOON_HOURS = "4"
FILTER_KEYS = ("status", "kind", "severity", "owner", "team", "sla", "hours")
DEFAULT_SORT = "sla"  # the nearest SLA first
# The table's columns and the service's sort key of each sortable one (``exceptions.LIST_SORTS``).
HEADERS: list[tuple[str, str | None]] = [("Exception", "id"), ("Shipment and customer", None), ("Kind", "kind"),
                                         ("Severity", "severity"), ("Owner and team", None), ("SLA", "sla")]
# Where the new-exception form shows a problem of each ExceptionInput field: beside its input, or named in words.
NEW_EXCEPTION_FIELDS = {"shipment_reference": "shipment_reference", "title": "title", "detail": "detail"}
NEW_EXCEPTION_WORDS = {"kind": "Kind", "severity": "Severity", "owner_id": "Owner", "team_id": "Team",
                       "cause": "Cause"}


def clean_filters(raw: dict[str, Any]) -> dict[str, str]:
    """The filters a person chose (form or address), each checked against its choices; unknown values dropped."""
    def one(key: str) -> str:
        value = raw.get(key, "")
        value = value[0] if isinstance(value, list) and value else value
        return str(value or "").strip()[:12]

    out = {"status": one("status") if one("status") in dict(STATUS_CHOICES) else "active"}
    for key, allowed in (("kind", KIND_LABELS), ("severity", SEVERITY_LABELS), ("sla", {"breached", "soon"})):
        if one(key) in allowed:
            out[key] = one(key)
    owner = one("owner")
    if owner in ("me", "none") or owner.isdigit():
        out["owner"] = owner
    if one("team").isdigit():
        out["team"] = one("team")
    hours = one("hours")
    out["hours"] = hours if hours.isdigit() and 1 <= int(hours) <= 720 else DEFAULT_SOON_HOURS
    return out


def service_filters(f: dict[str, str], me: int) -> ExceptionFilters:
    owner = f.get("owner", "")
    return ExceptionFilters(
        status=f.get("status", "active"), kind=f.get("kind") or None, severity=f.get("severity") or None,
        owner_id=me if owner == "me" else id_or_none(owner), unassigned=owner == "none",
        team_id=id_or_none(f.get("team")), breached=True if f.get("sla") == "breached" else None,
        breaching_within_hours=int(f.get("hours", DEFAULT_SOON_HOURS)) if f.get("sla") == "soon" else None,
    )


@dataclass(frozen=True)
class ExceptionQueueLine:
    """An exception in the queue, with its SLA timer (``left``, ``breached``, ``due``)."""

    id: str
    href: str
    title: str
    reference: str
    shipment_href: str
    company: str
    kind: str
    severity: str
    status: str
    owner: str
    team: str
    opened: str
    origin: str
    left: str
    breached: str
    due: str


def exception_row_view(e: svc.ExceptionRow, now, tz: str) -> ExceptionQueueLine:  # noqa: ANN001
    active = e.status != "resolved"
    return ExceptionQueueLine(
        id=str(e.id),
        href=routes.link(routes.TOWER_EXCEPTION, exception_id=e.id),
        title=e.title,
        reference=e.shipment_reference or "—",
        shipment_href=(routes.link(routes.TOWER_SHIPMENT, reference=e.shipment_reference)
                          if e.shipment_reference else ""),
        company=e.company_name or "—",
        kind=KIND_LABELS.get(e.kind, e.kind),
        severity=e.severity,
        status=STATUS_LABELS.get(e.status, e.status),
        owner=e.owner_name or "Nobody",
        team=e.team_name or "No team",
        opened=fmt_local(e.created_at, tz),
        origin="rule" if e.created_by_rule else "by hand",
        **timer_view(e.timer, now, active),
    )


class TowerExceptionsState(SortedListMixin, HandMadeMixin, StaffDirectoryMixin, PagedQueueBase, SessionState):
    SORTS: ClassVar[tuple[str, ...]] = tuple(key for _label, key in HEADERS if key)
    DEFAULT_SORT: ClassVar[str] = DEFAULT_SORT

    rows: list[ExceptionQueueLine] = []
    filters: dict[str, str] = {"status": "active", "hours": DEFAULT_SOON_HOURS}
    sort: str = DEFAULT_SORT
    form_key: int = 0

    def _query(self):  # noqa: ANN202
        return svc.list_exceptions, {"filters": service_filters(self.filters, self._me), "page": self.page,
                                     "page_size": PAGE_SIZE, "sort": self.sort}

    def _list_path(self) -> str:
        return routes.TOWER_EXCEPTIONS

    def _list_params(self) -> dict[str, str]:
        """The filters that differ from the defaults (the hours only with "breaching soon")."""
        return {k: self.filters.get(k, "") for k in FILTER_KEYS
                if not (k == "status" and self.filters.get(k) == "active")
                and not (k == "hours" and (self.filters.get("sla") != "soon"
                                           or self.filters.get(k) == DEFAULT_SOON_HOURS))}

    def _row(self, item: svc.ExceptionRow) -> ExceptionQueueLine:
        return exception_row_view(item, clock.now(), self._tz)

    def _start(self, principal) -> None:  # noqa: ANN001
        raw = parse_qs(self.router.url.query)
        self.filters = clean_filters(raw)
        self._read_address(raw)
        self.creating = False
        self.form_key += 1

    async def _prepare(self, principal) -> None:  # noqa: ANN001
        await self._load_directory(principal)

    @page_event("tower")
    async def apply_filters(self, principal: Principal, form: dict) -> Any:
        self.filters, self.page, self.notice = clean_filters(form), 1, ""
        await self._fetch(principal)
        return self._show_address()

    @page_event("tower")
    async def clear_filters(self, principal: Principal) -> Any:
        self.filters, self.page, self.notice = clean_filters({}), 1, ""
        self.form_key += 1
        await self._fetch(principal)
        return self._show_address()

    @page_event("tower")
    async def create(self, principal: Principal, form: dict) -> Any:
        try:
            data = parse(ExceptionInput, {
                "shipment_reference": str(form.get("shipment_reference", "")).strip(),
                "kind": str(form.get("kind", "other")), "title": str(form.get("title", "")),
                "severity": str(form.get("severity", "medium")), "detail": str(form.get("detail", "")) or None,
                "owner_id": id_or_none(form.get("owner_id")), "team_id": id_or_none(form.get("team_id")),
            })
        except FormInvalid as exc:
            self.notice = ""
            self.field_errors, self.error = placed(exc, NEW_EXCEPTION_FIELDS, NEW_EXCEPTION_WORDS)
            return None
        try:
            made = await run_db(svc.create_exception, principal, data)
        except ServiceError as exc:
            self.notice = ""
            self.field_errors, self.error = refusal(exc, next(iter(exc.fields), "shipment_reference"))
            return None
        self.creating, self.field_errors = False, {}
        return rx.redirect(routes.link(routes.TOWER_EXCEPTION, exception_id=made.row.id))


S = TowerExceptionsState


def _filters() -> rx.Component:
    f = S.filters
    return filter_form(
        responsive_grid(
            native_select("Status", "status", STATUS_CHOICES, value=f["status"], select_id="exc-filter-status"),
            native_select("Kind", "kind", KIND_CHOICES, value=f["kind"], select_id="exc-filter-kind"),
            native_select("Severity", "severity", SEVERITY_CHOICES, value=f["severity"],
                          select_id="exc-filter-severity"),
            native_select("Owner", "owner", OWNER_CHOICES, value=f["owner"], select_id="exc-filter-owner",
                          more=S.people),
            native_select("Team", "team", TEAM_CHOICES, value=f["team"], select_id="exc-filter-team", more=S.teams),
            native_select("SLA", "sla", SLA_CHOICES, value=f["sla"], select_id="exc-filter-sla"),
            labelled_input("Breaching within (hours)", "hours", id="exc-filter-hours", default_value=f["hours"],
                           input_mode="numeric", max_length=3),
            narrow=2, middle=4, wide=4,
            spacing="3",
        ),
        S, "Filter exceptions", key=S.form_key,
    )


def _new_form() -> rx.Component:
    errors = S.field_errors
    return rx.card(
        stacked_form(
            rx.heading("New exception", size="5", as_="h2"),
            rx.text("For a problem the rules do not see. Owner and team default to the shipment's; the SLA "
                    "comes from the policy for the kind and severity.", size="2", color=MUTED_TEXT),
            responsive_grid(
                checked_input("Shipment reference", "shipment_reference", errors, placeholder="SH0000123",
                              max_length=20),
                native_select("Kind", "kind", list(KIND_LABELS.items()), value="other", select_id="new-exc-kind"),
                native_select("Severity", "severity", list(SEVERITY_LABELS.items()), value="medium",
                              select_id="new-exc-severity"),
                native_select("Owner", "owner_id", [("", "The shipment's owner")], select_id="new-exc-owner",
                              more=S.people),
                native_select("Team", "team_id", [("", "The shipment's team")], select_id="new-exc-team",
                              more=S.teams),
                narrow=1, middle=3, wide=5,
                spacing="3",
            ),
            checked_input("Title", "title", errors, placeholder="Container held for inspection", max_length=200),
            text_field("Details (optional)", "detail", "new-exc-detail", errors),
            rx.hstack(
                primary_button("Raise exception", type="submit"),
                secondary_button("Cancel", type="button", on_click=S.toggle_new),
                spacing="3",
            ),
            on_submit=S.create,
            label="New exception",
        ),
        width="100%",
        data_testid="new-exception",
    )


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.link("#", r.id, href=r.href, weight="bold",
                    aria_label="Exception #" + r.id + ": " + r.title),
            rx.text(r.title, size="1"),
        ),
        rx.table.cell(rx.cond(r.shipment_href != "", rx.link(r.reference, href=r.shipment_href),
                              rx.text(r.reference)),
                      rx.text(r.company, size="1", color=MUTED_TEXT)),
        rx.table.cell(r.kind, rx.text(r.status, " · ", r.origin, size="1", color=MUTED_TEXT)),
        rx.table.cell(severity_badge(r.severity)),
        rx.table.cell(r.owner, rx.text(r.team, size="1", color=MUTED_TEXT)),
        rx.table.cell(sla_cell(r)),
    )


@area_page("tower", routes.TOWER_EXCEPTIONS, "Exceptions", TowerExceptionsState.load)
def tower_exceptions() -> rx.Component:
    return queue_page(
        S, "Exceptions",
        rx.text(S.total, " exceptions match; the nearest SLA first unless you sort by a column. Times are in your "
                "time zone.", color=MUTED_TEXT,
                data_testid="exception-count"),
        rx.fragment(),
        queue_table(S, "Exceptions", HEADERS, _row, "No exceptions match these filters."),
        rx.cond(S.creating, _new_form(),
                rx.box(primary_button("New exception", on_click=S.toggle_new, type="button"))),
        _filters(),
    )
