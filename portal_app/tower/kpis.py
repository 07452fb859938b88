"""Tower: KPIs for a date range, a mode and a customer (``services/kpis.py`` computes them in SQL).

Headline figures, three charts (on time and late, exceptions opened and closed, requests by category) and the
tables behind them; every table downloads as CSV from ``/api/v1/kpis/<table>.csv`` with the same filters. The
state holds the tables' display rows only, and of the lanes the busiest ``LANES_SHOWN`` (the CSV has them all).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import MODE_LABELS, fmt_datetime
from portal_app.components.layout import area_page
from portal_app.components.ui import (
    ACCENT_FILL,
    DANGER_FILL,
    MUTED_TEXT,
    download_link,
    error_callout,
    primary_button,
    responsive_grid,
    table_caption,
)
from portal_app.components.work_queue import LABEL_STYLE, native_select
from portal_app.services import clock
from portal_app.services import kpis as svc
from portal_app.services.errors import PermissionDenied, ServiceError
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

LANES_SHOWN = 20
DEFAULT_DAYS = 30
ON_TIME_COLOUR = "#1a7f37"  # green, 5.1:1 on white
HEALTH_LABELS = {
    "active_customer_users_pct": "Active customer users (%)",
    "active_customer_users": "Active customer users",
    "customer_users": "Customer users",
    "failed_logins": "Failed sign-ins",
    "quotes_started": "Quotes started",
    "quotes_abandoned": "Quotes abandoned",
    "bookings_started": "Bookings started",
    "bookings_abandoned": "Bookings abandoned",
    "uploads_started": "Uploads started",
    "uploads_failed": "Uploads refused",
    "uploads_abandoned": "Uploads abandoned",
    "customer_view_mismatches": "Customer view vs record mismatches",
}


def _text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize().replace("Eta ", "ETA ")


@dataclass(frozen=True)
class OnTimeLine:
    measure: str
    measured: str
    on_time: str
    late: str
    on_time_pct: str


@dataclass(frozen=True)
class LaneLine:
    mode: str
    origin: str
    destination: str
    shipments: str
    median_hours: str
    p90_hours: str


@dataclass(frozen=True)
class ExceptionKpiLine:
    kind: str
    opened: str
    closed: str
    open_under_1_day: str
    open_1_to_3_days: str
    open_3_to_7_days: str
    open_over_7_days: str


@dataclass(frozen=True)
class SlaLine:
    kind: str
    resolved: str
    resolved_in_time: str
    compliance_pct: str
    open_breached: str


@dataclass(frozen=True)
class RequestKpiLine:
    category: str
    requests: str


@dataclass(frozen=True)
class HealthLine:
    figure: str
    value: str
    detail: str


@dataclass(frozen=True)
class KpiTables:
    """Every KPI table's rows as display strings; a table's line has a field per CSV column (``svc.TABLES``)."""

    on_time: list[OnTimeLine] = field(default_factory=list)
    lanes: list[LaneLine] = field(default_factory=list)
    exceptions: list[ExceptionKpiLine] = field(default_factory=list)
    sla: list[SlaLine] = field(default_factory=list)
    requests: list[RequestKpiLine] = field(default_factory=list)
    health: list[HealthLine] = field(default_factory=list)


LINE_TYPES: dict[str, type] = {"on_time": OnTimeLine, "lanes": LaneLine, "exceptions": ExceptionKpiLine,
                               "sla": SlaLine, "requests": RequestKpiLine, "health": HealthLine}


def _check_lines() -> None:
    """A table, a column or a line's field named differently here and in ``svc.TABLES`` fails at import."""
    tables = [f.name for f in fields(KpiTables)]
    if tables != list(svc.TABLES) or list(LINE_TYPES) != tables:
        raise TypeError(f"KPI tables {tables} and line types {list(LINE_TYPES)} differ from {list(svc.TABLES)}")
    for name, (_, columns) in svc.TABLES.items():
        if [f.name for f in fields(LINE_TYPES[name])] != list(columns):
            raise TypeError(f"{LINE_TYPES[name].__name__} does not have the columns of the KPI table {name!r}")


_check_lines()


def table_view(result: svc.Kpis, name: str, limit: int | None = None) -> list:
    """A KPI table's rows as its typed lines of display strings (one field per CSV column)."""
    columns = svc.TABLES[name][1]
    rows = svc.table_rows(result, name)[:limit]
    out = []
    for row in rows:
        shown = {key: _text(getattr(row, key)) for key in columns}
        for key in ("kind", "category", "measure"):
            if key in shown:
                shown[key] = _label(shown[key])
        if name == "lanes":
            shown["mode"] = MODE_LABELS.get(row.mode, row.mode)
        if name == "health":
            shown["figure"] = HEALTH_LABELS.get(row.figure, _label(row.figure))
        out.append(LINE_TYPES[name](**shown))
    return out


def tables_view(result: svc.Kpis) -> KpiTables:
    """Every table, of the lanes only the busiest ``LANES_SHOWN`` (the CSV has them all)."""
    return KpiTables(**{name: table_view(result, name, LANES_SHOWN if name == "lanes" else None)
                        for name in svc.TABLES})


@dataclass(frozen=True)
class OnTimeBar:
    name: str
    on_time: int
    late: int


@dataclass(frozen=True)
class ExceptionBar:
    name: str
    opened: int
    closed: int


@dataclass(frozen=True)
class RequestBar:
    name: str
    requests: int


@dataclass(frozen=True)
class Headline:
    """The headline figures as the page shows them."""

    departure: str
    arrival: str
    sla: str
    open_breached: str
    mismatches: str
    computed_at: str


def headline_view(result: svc.Kpis) -> Headline:
    on_time = {r.measure: r for r in result.on_time}
    overall = next((r for r in result.sla if r.kind == "all"), None)

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:g}%"

    return Headline(
        departure=pct(on_time["departure"].on_time_pct) if "departure" in on_time else "—",
        arrival=pct(on_time["arrival"].on_time_pct) if "arrival" in on_time else "—",
        sla=pct(overall.compliance_pct) if overall else "—",
        open_breached=str(overall.open_breached) if overall else "0",
        mismatches=f"{result.health_value('customer_view_mismatches'):g}",
        computed_at=fmt_datetime(result.computed_at),
    )


class TowerKpisState(SessionState):
    since: str = ""
    until: str = ""
    mode: str = ""
    customer: str = ""
    error: str = ""
    headline: Headline | None = None
    tables: KpiTables = KpiTables()
    lane_count: int = 0
    on_time_chart: list[OnTimeBar] = []
    exception_chart: list[ExceptionBar] = []
    request_chart: list[RequestBar] = []
    loading: bool = False

    @rx.var
    def export_query(self) -> str:
        return urlencode({k: v for k, v in (("since", self.since), ("until", self.until), ("mode", self.mode),
                                            ("customer", self.customer)) if v})

    @page_event("tower")
    async def load(self, principal: Principal) -> Any:
        if not self.since or not self.until:
            today = clock.today()
            self.since, self.until = (today - timedelta(days=DEFAULT_DAYS)).isoformat(), today.isoformat()
        return self._begin()

    @page_event("tower")
    async def apply(self, principal: Principal, form: dict) -> Any:
        self.since = str(form.get("since", "")).strip()
        self.until = str(form.get("until", "")).strip()
        self.mode = str(form.get("mode", "")).strip()
        self.customer = str(form.get("customer", "")).strip()
        return self._begin()

    def _query(self) -> svc.KpiQuery | None:
        try:
            return svc.KpiQuery(since=date.fromisoformat(self.since), until=date.fromisoformat(self.until),
                                mode=self.mode or None, customer=self.customer or None)
        except ValueError:
            self.error = "Enter both dates as a day (YYYY-MM-DD), then show the figures again. Nothing was changed."
            return None

    def _begin(self) -> Any:
        """Check the dates, show the page as loading, then compute: a second event, so the browser sees the
        loading state while the figures are computed."""
        if self._query() is None:
            return None
        self.loading = True
        return TowerKpisState.compute

    @page_event("tower")
    async def compute(self, principal: Principal) -> None:
        query = self._query()
        if query is None:
            self.loading = False
            return
        try:
            result = await run_db(svc.compute, principal, query)
        except PermissionDenied:
            self.error = "KPIs are for ops managers and admins. Ask one of them for the figures you need."
            return
        except ServiceError as exc:
            self.error = f"{exc} Nothing was changed."
            return
        finally:
            self.loading = False
        self.error = ""
        self.headline = headline_view(result)
        self.tables = tables_view(result)
        self.lane_count = len(result.lanes)
        self.on_time_chart = [OnTimeBar(name=_label(r.measure), on_time=r.on_time, late=r.late)
                              for r in result.on_time]
        self.exception_chart = [ExceptionBar(name=_label(r.kind), opened=r.opened, closed=r.closed)
                                for r in result.exceptions]
        self.request_chart = [RequestBar(name=_label(r.category), requests=r.requests) for r in result.requests]


S = TowerKpisState


def _field(label: str, control: rx.Component, control_id: str) -> rx.Component:
    return rx.box(rx.el.label(label, html_for=control_id, style=LABEL_STYLE), control)


def _filters() -> rx.Component:
    modes = [("", "All modes"), *MODE_LABELS.items()]
    return rx.el.form(
        rx.flex(
            _field("From", rx.input(id="kpi-since", name="since", type="date", default_value=S.since,
                                    required=True), "kpi-since"),
            _field("To (inclusive)", rx.input(id="kpi-until", name="until", type="date", default_value=S.until,
                                              required=True), "kpi-until"),
            rx.box(native_select("Mode", "mode", modes, value=S.mode, select_id="kpi-mode"), min_width="10rem"),
            _field("Customer code", rx.input(id="kpi-customer", name="customer", default_value=S.customer,
                                             placeholder="All customers", max_length=20), "kpi-customer"),
            primary_button("Show figures", type="submit", loading=S.loading),
            spacing="3", wrap="wrap", align="end",
        ),
        on_submit=S.apply,
        aria_label="KPI filters",
    )


def _figure(label: str, value: rx.Var, hint: str) -> rx.Component:
    return rx.card(
        rx.text(label, size="2", color=MUTED_TEXT),
        rx.text(value, size="7", weight="bold"),
        rx.text(hint, size="1", color=MUTED_TEXT),
    )


def _chart(title: str, chart: rx.Component, description: str) -> rx.Component:
    """A chart with its title; the table below it carries the same figures for assistive technology."""
    return rx.card(
        rx.heading(title, size="4", as_="h2"),
        rx.box(chart, role="img", aria_label=description, width="100%"),
    )


def _bar(line: type, data_key: str, **props: Any) -> rx.Component:
    """A bar drawn at once (no grow animation: it distracts, and a screenshot taken early shows empty axes).
    ``data_key`` names a field of the chart's ``line`` type: a misspelt key fails when the page is built."""
    if data_key not in {f.name for f in fields(line)}:
        raise AttributeError(f"{line.__name__} has no field {data_key!r} to chart")
    return rx.recharts.bar(is_animation_active=False, data_key=data_key, **props)


def _bar_chart(data: rx.Var, *bars: rx.Component) -> rx.Component:
    return rx.recharts.bar_chart(
        *bars,
        rx.recharts.x_axis(data_key="name"),
        rx.recharts.y_axis(allow_decimals=False),
        rx.recharts.legend(),
        rx.recharts.graphing_tooltip(),
        data=data.to(list[dict[str, Any]]),  # the chart reads each typed line as the plain object it is sent as
        width="100%",
        height=260,
    )


def _table(name: str, columns: dict[str, str], heading: str, note: rx.Component | None = None) -> rx.Component:
    rows = getattr(S.tables, name)
    return rx.vstack(
        rx.flex(
            rx.heading(heading, size="4", as_="h2"),
            download_link("Download CSV", f"/api/v1/kpis/{name}.csv?" + S.export_query,
                          label=f"Download {heading} as CSV"),
            justify="between", align="center", width="100%", wrap="wrap", spacing="2",
        ),
        note or rx.fragment(),
        rx.box(
            rx.table.root(
                table_caption(heading),
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in columns.values()])),
                rx.table.body(rx.foreach(rows, lambda row: rx.table.row(
                    *[rx.table.cell(getattr(row, key)) for key in columns]))),
                variant="surface", size="1", width="100%",
            ),
            overflow_x="auto", width="100%",
        ),
        rx.cond(rows.length() == 0, rx.text("No figures for this range.", color=MUTED_TEXT)),
        width="100%", spacing="2",
    )


@area_page("tower", routes.TOWER_KPIS, "KPIs", TowerKpisState.load)
def tower_kpis() -> rx.Component:
    h = S.headline
    lanes_note = rx.text("The ", LANES_SHOWN, " busiest of ", S.lane_count, " lanes; the CSV has every lane.",
                         color=MUTED_TEXT, size="2")
    return rx.vstack(
        rx.heading("KPIs", size="7", as_="h1"),
        rx.text("On-time performance, transit times, exceptions, SLAs, requests and the portal's own health. "
                "Dates are UTC days.", color=MUTED_TEXT),
        _filters(),
        rx.cond(S.error != "", error_callout(S.error)),
        rx.cond(
            S.headline,
            rx.vstack(
                rx.text("Computed ", h.computed_at, " UTC.", color=MUTED_TEXT, size="2"),
                responsive_grid(
                    _figure("On-time departure", h.departure, "departed in the range"),
                    _figure("On-time arrival", h.arrival, "arrived in the range"),
                    _figure("SLA compliance", h.sla, "exceptions resolved in the range"),
                    _figure("Open and breached", h.open_breached, "exceptions past their SLA now"),
                    _figure("Customer view mismatches", h.mismatches, "zero when the record and the portal agree"),
                    narrow=1, middle=3, wide=5,
                ),
                responsive_grid(
                    _chart("On time and late", _bar_chart(
                        S.on_time_chart,
                        _bar(OnTimeBar, "on_time", name="On time", fill=ON_TIME_COLOUR, stack_id="a"),
                        _bar(OnTimeBar, "late", name="Late", fill=DANGER_FILL, stack_id="a"),
                    ), "Bar chart of shipments on time and late, for departure and arrival; figures in the table "
                       "On-time departure and arrival."),
                    _chart("Exceptions opened and closed", _bar_chart(
                        S.exception_chart,
                        _bar(ExceptionBar, "opened", name="Opened", fill=DANGER_FILL),
                        _bar(ExceptionBar, "closed", name="Closed", fill=ACCENT_FILL),
                    ), "Bar chart of exceptions opened and closed by kind; figures in the table Exceptions."),
                    _chart("Requests by category", _bar_chart(
                        S.request_chart,
                        _bar(RequestBar, "requests", name="Requests", fill=ACCENT_FILL),
                    ), "Bar chart of requests by category; figures in the table Requests by category."),
                    narrow=1, middle=2, wide=3,
                ),
                *[_table(name, columns, title, lanes_note if name == "lanes" else None)
                  for name, (title, columns) in svc.TABLES.items()],
                spacing="5", width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )
