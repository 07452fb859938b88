"""Tower: the request queue (customer requests, or tickets). Filters (status, category, priority, team, assignee
including "me" and nobody, breached, breaching within N hours, a reference, subject or shipment) live in the
address, so a view can be bookmarked or linked; applying the form writes them there and the page reads them back
on load. One page of rows at a time from ``requests.list_requests``, the nearest due time first or sorted by a
column header; the sort and page are kept in the address too (``components/sortable.py``). Each row shows both SLA
timers (first response and resolution) in words. Quick views: my queue, unassigned, breaching within four hours,
breached. One request is ``tower/request_detail.py``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs, parse_qsl, urlencode

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import fmt_local
from portal_app.components.layout import area_page
from portal_app.components.ops import StaffDirectoryMixin, id_or_none, timer_view
from portal_app.components.sortable import SortedListMixin, list_address
from portal_app.components.ui import (
    ACCENT,
    DANGER,
    MUTED_TEXT,
    labelled_input,
    responsive_grid,
)
from portal_app.components.work_queue import (
    PAGE_SIZE,
    PagedQueueBase,
    filter_form,
    native_select,
    queue_page,
    queue_table,
)
from portal_app.services import clock
from portal_app.services import requests as svc
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event

ROUTE = routes.TOWER_REQUESTS
STATUS_CHOICES = [("active", "Active (open or waiting)"), *svc.STAFF_STATUS_LABELS.items(), ("all", "All")]
CATEGORY_CHOICES = [("", "Any category"), *svc.CATEGORY_LABELS.items()]
PRIORITY_CHOICES = [("", "Any priority"), *svc.PRIORITY_LABELS.items()]
ASSIGNEE_CHOICES = [("", "Anyone"), ("me", "Me"), ("none", "Nobody (unassigned)")]
TEAM_CHOICES = [("", "Any team")]
SLA_CHOICES = [("", "Any SLA"), ("breached", "Breached"), ("soon", "Breaching soon")]
DEFAULT_SOON_HOURS = "4"
MAX_SEARCH = 80
# The table's columns and the service's sort key of each sortable one (``requests.LIST_SORTS``); without a sort
# the queue's own order (active first, the nearest due time first).
HEADERS: list[tuple[str, str | None]] = [
    ("Request", "reference"), ("Customer and raised by", None), ("Category and priority", None),
    ("Status", "status"), ("Assignee and team", None), ("First response", "first_response"),
    ("Resolution", "resolution")]
# Quick views: (label, the filters they set). Each is a link to the queue's address with those filters.
QUICK_VIEWS = [
    ("My queue", {"assignee": "me"}),
    ("Unassigned", {"assignee": "none"}),
    ("Breaching soon (4 h)", {"sla": "soon", "hours": "4"}),
    ("Breached", {"sla": "breached"}),
]


def _one(raw: dict[str, Any], key: str, limit: int = 12) -> str:
    value = raw.get(key, "")
    value = value[0] if isinstance(value, list) and value else value
    return str(value or "").strip()[:limit]


def clean_filters(raw: dict[str, Any]) -> dict[str, str]:
    """The filters a person chose (form or address), each checked against its choices; unknown values dropped.
    ``status`` and ``hours`` are always there (their defaults: active, 4)."""
    status = _one(raw, "status", 24)
    out = {"status": status if status in dict(STATUS_CHOICES) else "active"}
    for key, allowed in (("category", svc.CATEGORY_LABELS), ("priority", svc.PRIORITY_LABELS),
                         ("sla", {"breached", "soon"})):
        value = _one(raw, key, 24)
        if value in allowed:
            out[key] = value
    assignee = _one(raw, "assignee")
    if assignee in ("me", "none") or assignee.isdigit():
        out["assignee"] = assignee
    if _one(raw, "team").isdigit():
        out["team"] = _one(raw, "team")
    hours = _one(raw, "hours")
    out["hours"] = hours if hours.isdigit() and 1 <= int(hours) <= 720 else DEFAULT_SOON_HOURS
    search = " ".join(_one(raw, "q", MAX_SEARCH).split())
    if search:
        out["q"] = search
    return out


def filters_query(f: dict[str, str]) -> str:
    """The address query for these filters: only what differs from the defaults, in a fixed order."""
    shown = {k: v for k, v in f.items() if v and not (k == "status" and v == "active")
             and not (k == "hours" and (v == DEFAULT_SOON_HOURS or f.get("sla") != "soon"))}
    order = ("status", "category", "priority", "team", "assignee", "sla", "hours", "q")
    return urlencode([(k, shown[k]) for k in order if k in shown])


def service_filters(f: dict[str, str], me: int) -> svc.RequestFilters:
    assignee = f.get("assignee", "")
    return svc.RequestFilters(
        status=f.get("status", "active"), category=f.get("category") or None, priority=f.get("priority") or None,
        team_id=id_or_none(f.get("team")), assignee_id=me if assignee == "me" else id_or_none(assignee),
        unassigned=assignee == "none", breached=f.get("sla") == "breached",
        breaching_within_hours=int(f.get("hours", DEFAULT_SOON_HOURS)) if f.get("sla") == "soon" else None,
        search=f.get("q") or None,
    )


@dataclass(frozen=True)
class QuickView:
    """A quick view's link; ``current`` is "page" for the one matching the current filters."""

    label: str
    href: str
    current: str


def quick_views(current: dict[str, str]) -> list[QuickView]:
    """The quick views as links; the one matching the current filters is marked current."""
    out = []
    for label, chosen in QUICK_VIEWS:
        wanted = clean_filters(chosen)
        out.append(QuickView(label, f"{ROUTE}?{filters_query(wanted)}", "page" if wanted == current else ""))
    return out


@dataclass(frozen=True)
class RequestQueueLine:
    """A request in the queue with both SLA timers (first response, resolution)."""

    reference: str
    href: str
    subject: str
    customer: str
    raised_by: str
    category: str
    priority: str
    priority_label: str
    status: str
    team: str
    assignee: str
    shipment: str
    opened: str
    first_left: str
    first_breached: str
    first_due: str
    res_left: str
    res_breached: str
    res_due: str


def request_row_view(r: svc.RequestRow, now, tz: str) -> RequestQueueLine:  # noqa: ANN001
    """A queue row as strings. Timers read "3 h 5 min left" or "Breached 2 h ago" while they run, "Met (...)"
    or "Missed by ..." once answered or resolved."""
    active = r.status in svc.ACTIVE_STATUSES
    answered = r.first_response.settled
    first = timer_view(r.first_response, now, active and not answered)
    resolution = timer_view(r.resolution, now, active)
    return RequestQueueLine(
        reference=r.reference,
        href=routes.link(routes.TOWER_REQUEST, reference=r.reference),
        subject=r.subject,
        customer=r.company_name,
        raised_by=r.raised_by,
        category=r.category_label,
        priority=r.priority,
        priority_label=svc.PRIORITY_LABELS.get(r.priority, r.priority),
        status=svc.STAFF_STATUS_LABELS.get(r.status, r.status_label),
        team=r.team_name or "No team",
        assignee=r.assignee_name or "Unassigned",
        shipment=r.shipment_reference or "",
        opened=fmt_local(r.created_at, tz),
        first_left=first["left"], first_breached=first["breached"], first_due=first["due"],
        res_left=resolution["left"], res_breached=resolution["breached"], res_due=resolution["due"],
    )


class TowerRequestsState(SortedListMixin, StaffDirectoryMixin, PagedQueueBase, SessionState):
    SORTS: ClassVar[tuple[str, ...]] = tuple(key for _label, key in HEADERS if key)

    rows: list[RequestQueueLine] = []
    filters: dict[str, str] = {"status": "active", "hours": DEFAULT_SOON_HOURS}
    views: list[QuickView] = []
    form_key: int = 0

    def _query(self):  # noqa: ANN202
        return svc.list_requests, {"filters": service_filters(self.filters, self._me), "page": self.page,
                                   "page_size": PAGE_SIZE, "sort": self._sort_arg()}

    def _list_path(self) -> str:
        return ROUTE

    def _list_params(self) -> dict[str, str]:
        return dict(parse_qsl(filters_query(self.filters)))

    def _row(self, item: svc.RequestRow) -> RequestQueueLine:
        return request_row_view(item, clock.now(), self._tz)

    def _use(self, filters: dict[str, str]) -> None:
        self.filters, self.views = filters, quick_views(filters)
        self.form_key += 1  # the form shows these values

    def _start(self, principal) -> None:  # noqa: ANN001
        raw = parse_qs(self.router.url.query)
        self._use(clean_filters(raw))
        self._read_address(raw)

    async def _prepare(self, principal) -> None:  # noqa: ANN001
        await self._load_directory(principal)

    async def _go(self, principal, filters: dict[str, str]):  # noqa: ANN001, ANN202
        """Show ``filters``: through the address when it changes (the page loads them from there, so the view
        can be bookmarked; the sort is kept), or by reading the rows again when the address already says so."""
        query = filters_query(filters)
        if query != filters_query(clean_filters(parse_qs(self.router.url.query))):
            return rx.redirect(list_address(ROUTE, dict(parse_qsl(query)), sort=self.sort))
        self.page, self.notice = 1, ""
        self._use(filters)
        await self._fetch(principal)
        return self._show_address()  # back to the first page: the address says so

    @page_event("tower")
    async def apply_filters(self, principal: Principal, form: dict) -> Any:
        return await self._go(principal, clean_filters(form))

    @page_event("tower")
    async def clear_filters(self, principal: Principal) -> Any:
        return await self._go(principal, clean_filters({}))


S = TowerRequestsState


def _quick_views() -> rx.Component:
    return rx.el.nav(
        rx.hstack(
            rx.text("Quick views:", weight="medium"),
            rx.foreach(S.views, lambda v: rx.link(
                v.label, href=v.href, weight=rx.cond(v.current == "page", "bold", "medium"),
                aria_current=rx.cond(v.current == "page", "page", "false"), color=ACCENT, padding_x="4px")),
            rx.link("All active", href=ROUTE, color=ACCENT, padding_x="4px"),
            spacing="3",
            wrap="wrap",
            align="center",
        ),
        aria_label="Quick views",
    )


def _filters() -> rx.Component:
    f = S.filters
    return filter_form(
        responsive_grid(
            labelled_input("Reference, subject or shipment", "q", id="req-filter-q", default_value=f["q"],
                           max_length=MAX_SEARCH, placeholder="REQ-000123 or SH0000123"),
            native_select("Status", "status", STATUS_CHOICES, value=f["status"], select_id="req-filter-status"),
            native_select("Category", "category", CATEGORY_CHOICES, value=f["category"],
                          select_id="req-filter-category"),
            native_select("Priority", "priority", PRIORITY_CHOICES, value=f["priority"],
                          select_id="req-filter-priority"),
            native_select("Team", "team", TEAM_CHOICES, value=f["team"], select_id="req-filter-team", more=S.teams),
            native_select("Assignee", "assignee", ASSIGNEE_CHOICES, value=f["assignee"],
                          select_id="req-filter-assignee", more=S.people),
            native_select("SLA", "sla", SLA_CHOICES, value=f["sla"], select_id="req-filter-sla"),
            labelled_input("Breaching within (hours)", "hours", id="req-filter-hours", default_value=f["hours"],
                           input_mode="numeric", max_length=3),
            narrow=1, middle=2, wide=4,
            spacing="3",
        ),
        S, "Filter requests", key=S.form_key,
    )


def _timer(left: rx.Var, breached: rx.Var, due: rx.Var, test_id: str) -> rx.Component:
    """The timer in words (breached ones say so in the text, bold and red) and its due time."""
    return rx.vstack(
        rx.text(left, weight=rx.cond(breached == "yes", "bold", "medium"),
                color=rx.cond(breached == "yes", DANGER, "inherit"), data_testid=test_id),
        rx.text("Due ", due, size="1", color=MUTED_TEXT),
        spacing="0",
    )


def priority_badge(priority: rx.Var, label: rx.Var) -> rx.Component:
    return rx.badge(
        label,
        color_scheme=rx.match(priority, ("urgent", "red"), ("high", "orange"), ("normal", "blue"), "gray"),
        variant="soft",
        high_contrast=True,
    )


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.link(r.reference, href=r.href, weight="bold", aria_label=r.reference + ": " + r.subject),
            rx.text(r.subject, size="2"),
            rx.cond(r.shipment != "", rx.text("Shipment ", r.shipment, size="1", color=MUTED_TEXT),
                    rx.fragment()),
        ),
        rx.table.cell(rx.text(r.customer), rx.text(r.raised_by, size="1", color=MUTED_TEXT)),
        rx.table.cell(rx.text(r.category), priority_badge(r.priority, r.priority_label)),
        rx.table.cell(r.status),
        rx.table.cell(rx.text(r.assignee), rx.text(r.team, size="1", color=MUTED_TEXT)),
        rx.table.cell(_timer(r.first_left, r.first_breached, r.first_due, "first-response")),
        rx.table.cell(_timer(r.res_left, r.res_breached, r.res_due, "resolution")),
        data_testid="request-row",
    )


@area_page("tower", ROUTE, "Requests", TowerRequestsState.load)
def tower_requests() -> rx.Component:
    return queue_page(
        S, "Requests",
        rx.text(rx.cond(S.total == 1, "1 request matches", S.total.to_string() + " requests match"),
                "; the nearest due time first unless you sort by a column. Times are in your time zone.",
                color=MUTED_TEXT,
                data_testid="request-count"),
        rx.fragment(),
        queue_table(S, "Requests", HEADERS, _row, "No requests match these filters."),
        _quick_views(),
        _filters(),
    )
