"""Tower KPIs for a date range, a mode and a customer: on-time departure and arrival, transit time by lane
(median and p90), exceptions opened, closed and open by age, SLA compliance, requests by category, and the
portal's own health (active customer users, failed logins, abandoned quotes, bookings and uploads, and the count
of shipments where what the customer sees disagrees with the record).

Every figure is an SQL aggregate (COUNT/SUM with GROUP BY); only the transit durations of the range's arrived
shipments (one number each) come back to Python, where pandas takes the median and p90 per lane.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    AppSetting,
    Company,
    Location,
    OpsException,
    PortalEvent,
    Shipment,
    Ticket,
    User,
)
from models.enums import Mode, PortalEventKind
from portal_app.auth.permissions import CUSTOMER_ROLES, Permission
from portal_app.auth.principal import Principal
from portal_app.services import clock, customer_view_audit, display, funnel
from portal_app.services.errors import ValidationFailed

TOLERANCE_SETTING = "kpi_on_time_tolerance_hours"
DEFAULT_TOLERANCE_HOURS = 24
ACTIVE_USER_DAYS = 30
MAX_RANGE_DAYS = 731
AGE_BUCKETS = (("under_1_day", 0, 1), ("1_to_3_days", 1, 3), ("3_to_7_days", 3, 7), ("over_7_days", 7, None))
OPEN_EXCEPTION = ("open", "in_progress")


@dataclass(frozen=True)
class KpiQuery:
    since: date
    until: date  # inclusive
    mode: str | None = None
    customer: str | None = None  # company id or code

    def validate(self) -> None:
        if self.since > self.until:
            raise ValidationFailed("The start date is after the end date. Swap them and try again.")
        if (self.until - self.since).days > MAX_RANGE_DAYS:
            raise ValidationFailed(f"Choose a range of at most {MAX_RANGE_DAYS} days.")
        if self.mode and self.mode not in Mode._value2member_map_:
            raise ValidationFailed(f"Unknown mode {self.mode!r}. Use one of: {', '.join(m.value for m in Mode)}.")

    @property
    def start(self) -> datetime:
        return datetime(self.since.year, self.since.month, self.since.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after the last day."""
        return datetime(self.until.year, self.until.month, self.until.day, tzinfo=UTC) + timedelta(days=1)


@dataclass(frozen=True)
class OnTimeRow:
    measure: str  # departure | arrival
    measured: int
    on_time: int
    late: int
    on_time_pct: float | None


@dataclass(frozen=True)
class LaneRow:
    mode: str
    origin: str
    destination: str
    shipments: int
    median_hours: float
    p90_hours: float


@dataclass(frozen=True)
class ExceptionRow:
    kind: str
    opened: int
    closed: int
    open_under_1_day: int
    open_1_to_3_days: int
    open_3_to_7_days: int
    open_over_7_days: int


@dataclass(frozen=True)
class SlaRow:
    kind: str
    resolved: int
    resolved_in_time: int
    compliance_pct: float | None
    open_breached: int


@dataclass(frozen=True)
class RequestRow:
    category: str
    requests: int


@dataclass(frozen=True)
class HealthRow:
    figure: str
    value: float
    detail: str


@dataclass(frozen=True)
class Kpis:
    query: KpiQuery
    tolerance_hours: int
    computed_at: datetime
    on_time: list[OnTimeRow] = field(default_factory=list)
    lanes: list[LaneRow] = field(default_factory=list)
    exceptions: list[ExceptionRow] = field(default_factory=list)
    sla: list[SlaRow] = field(default_factory=list)
    requests: list[RequestRow] = field(default_factory=list)
    health: list[HealthRow] = field(default_factory=list)

    def health_value(self, figure: str) -> float:
        return next(r.value for r in self.health if r.figure == figure)


# Each table's CSV columns (attribute -> header), for the exports and the pages.
TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "on_time": ("On-time departure and arrival", {
        "measure": "Measure", "measured": "Shipments measured", "on_time": "On time", "late": "Late",
        "on_time_pct": "On time (%)"}),
    "lanes": ("Transit time by lane", {
        "mode": "Mode", "origin": "Origin", "destination": "Destination", "shipments": "Shipments",
        "median_hours": "Median (hours)", "p90_hours": "P90 (hours)"}),
    "exceptions": ("Exceptions", {
        "kind": "Kind", "opened": "Opened", "closed": "Closed", "open_under_1_day": "Open < 1 day",
        "open_1_to_3_days": "Open 1-3 days", "open_3_to_7_days": "Open 3-7 days", "open_over_7_days": "Open > 7 days"}),
    "sla": ("SLA compliance", {
        "kind": "Kind", "resolved": "Resolved", "resolved_in_time": "Resolved in time",
        "compliance_pct": "Compliance (%)", "open_breached": "Open and breached"}),
    "requests": ("Requests by category", {"category": "Category", "requests": "Requests"}),
    "health": ("Portal health", {"figure": "Figure", "value": "Value", "detail": "What it counts"}),
}


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def tolerance_hours(db: Session) -> int:
    """How late still counts as on time, from the ``kpi_on_time_tolerance_hours`` setting (default 24)."""
    row = db.get(AppSetting, TOLERANCE_SETTING)
    try:
        value = int(json.loads(row.value)) if row is not None else DEFAULT_TOLERANCE_HOURS
    except (ValueError, TypeError):
        value = DEFAULT_TOLERANCE_HOURS
    return value if value >= 0 else DEFAULT_TOLERANCE_HOURS


def _seconds(db: Session, column: sa.SQLColumnExpression[Any]) -> sa.ColumnElement:
    """Seconds since an epoch, so two timestamps subtract the same way on SQLite and PostgreSQL."""
    if db.get_bind().dialect.name == "sqlite":
        return sa.func.julianday(column) * 86400.0
    return sa.extract("epoch", column)


def _company_id(db: Session, customer: str | None) -> int | None:
    if not customer:
        return None
    value = customer.strip()
    found = db.exec(select(Company.id).where(Company.id == int(value)) if value.isdigit()
                    else select(Company.id).where(Company.code == value.upper())).first()
    if found is None:
        raise ValidationFailed(f"No customer {customer!r}. Pick one from the list.")
    return int(found)


def _shipment_scope(q: KpiQuery, company_id: int | None) -> list[sa.ColumnElement[bool]]:
    out: list[sa.ColumnElement[bool]] = []
    if q.mode:
        out.append(col(Shipment.mode) == q.mode)
    if company_id is not None:
        out.append(col(Shipment.company_id) == company_id)
    return out


# --------------------------------------------------------------------------------------------------- figures


def _on_time(db: Session, q: KpiQuery, scope: list, tolerance: int) -> list[OnTimeRow]:
    """Of the shipments that departed (arrived) in the range, how many did so no later than planned plus the
    tolerance. Read from the departure (arrival) index alone."""
    rows = []
    for measure, planned, actual in (("departure", col(Shipment.etd_planned), col(Shipment.atd)),
                                     ("arrival", col(Shipment.eta_planned), col(Shipment.ata))):
        late_by = _seconds(db, actual) - _seconds(db, planned)
        measured, on_time = db.exec(
            select(sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((late_by <= tolerance * 3600, 1),
                                                                         else_=0)), 0))
            .where(actual >= q.start, actual < q.end, planned.is_not(None), *scope)
        ).one()
        rows.append(OnTimeRow(measure, int(measured), int(on_time), int(measured) - int(on_time),
                              _pct(int(on_time), int(measured))))
    return rows


def _lanes(db: Session, q: KpiQuery, scope: list) -> list[LaneRow]:
    hours = (_seconds(db, col(Shipment.ata)) - _seconds(db, col(Shipment.atd))) / 3600.0
    durations = db.exec(
        select(Shipment.mode, Shipment.origin_id, Shipment.destination_id, hours)
        .where(col(Shipment.ata) >= q.start, col(Shipment.ata) < q.end, col(Shipment.atd).is_not(None), *scope)
    ).all()
    if not durations:
        return []
    import pandas as pd  # here, not at the top: importing it costs every server start most of a second

    # Plain tuples: building a frame from result rows directly is ten times slower.
    frame = pd.DataFrame([tuple(r) for r in durations], columns=["mode", "origin_id", "destination_id", "hours"])
    grouped = frame.groupby(["mode", "origin_id", "destination_id"], sort=False)["hours"]
    stats = pd.DataFrame({"n": grouped.size(), "median": grouped.median(), "p90": grouped.quantile(0.9)}).reset_index()
    ids = {int(i) for i in pd.concat([stats["origin_id"], stats["destination_id"]]).unique()}
    codes = dict(db.exec(select(Location.id, Location.code).where(col(Location.id).in_(ids))).all())
    out = [
        LaneRow(r.mode, codes.get(int(r.origin_id), "?"), codes.get(int(r.destination_id), "?"), int(r.n),
                round(float(r.median), 1), round(float(r.p90), 1))
        for r in stats.itertuples(index=False)
    ]
    return sorted(out, key=lambda r: (-r.shipments, r.mode, r.origin, r.destination))


def _exception_scope(q: KpiQuery, company_id: int | None) -> list[sa.ColumnElement[bool]]:
    out: list[sa.ColumnElement[bool]] = []
    if company_id is not None:
        out.append(col(OpsException.company_id) == company_id)
    if q.mode:
        # A correlated EXISTS looks each exception's shipment up by its key; "IN (every shipment of the mode)"
        # builds a set of tens of thousands of ids first (5x slower on SQLite at 100k shipments).
        out.append(sa.exists().where(col(Shipment.id) == col(OpsException.shipment_id), col(Shipment.mode) == q.mode))
    return out


def _exceptions(db: Session, q: KpiQuery, scope: list, now: datetime) -> list[ExceptionRow]:
    def by_kind(*where: sa.ColumnElement[bool]) -> dict[str, int]:
        return {k: int(n) for k, n in db.exec(
            select(OpsException.kind, sa.func.count()).where(*where, *scope).group_by(OpsException.kind)).all()}

    opened = by_kind(col(OpsException.created_at) >= q.start, col(OpsException.created_at) < q.end)
    closed = by_kind(col(OpsException.resolved_at) >= q.start, col(OpsException.resolved_at) < q.end)
    age = sa.case(*[(col(OpsException.created_at) > now - timedelta(days=high), name)
                    for name, _low, high in AGE_BUCKETS if high is not None], else_=AGE_BUCKETS[-1][0])
    buckets: dict[str, dict[str, int]] = {name: {} for name, _low, _high in AGE_BUCKETS}
    for kind, bucket, n in db.exec(
        select(OpsException.kind, age, sa.func.count())
        .where(col(OpsException.status).in_(OPEN_EXCEPTION), *scope).group_by(OpsException.kind, age)
    ).all():
        buckets[bucket][kind] = int(n)
    kinds = sorted(set(opened) | set(closed) | {k for b in buckets.values() for k in b})
    return [ExceptionRow(k, opened.get(k, 0), closed.get(k, 0), *(buckets[name].get(k, 0) for name, _l, _h in
                                                                   AGE_BUCKETS)) for k in kinds]


def _sla(db: Session, q: KpiQuery, scope: list, now: datetime) -> list[SlaRow]:
    in_time = sa.func.coalesce(sa.func.sum(sa.case((col(OpsException.resolved_at) <= col(OpsException.sla_due_at), 1),
                                                   else_=0)), 0)
    resolved = {k: (int(n), int(ok)) for k, n, ok in db.exec(
        select(OpsException.kind, sa.func.count(), in_time)
        .where(col(OpsException.resolved_at) >= q.start, col(OpsException.resolved_at) < q.end,
               col(OpsException.sla_due_at).is_not(None), *scope)
        .group_by(OpsException.kind)).all()}
    breached = {k: int(n) for k, n in db.exec(
        select(OpsException.kind, sa.func.count())
        .where(col(OpsException.status).in_(OPEN_EXCEPTION), col(OpsException.sla_due_at) < now, *scope)
        .group_by(OpsException.kind)).all()}
    kinds = sorted(set(resolved) | set(breached))
    total_n = sum(n for n, _ok in resolved.values())
    total_ok = sum(ok for _n, ok in resolved.values())
    rows = [SlaRow(k, resolved.get(k, (0, 0))[0], resolved.get(k, (0, 0))[1],
                   _pct(resolved.get(k, (0, 0))[1], resolved.get(k, (0, 0))[0]), breached.get(k, 0)) for k in kinds]
    rows.append(SlaRow("all", total_n, total_ok, _pct(total_ok, total_n), sum(breached.values())))
    return rows


def _requests(db: Session, q: KpiQuery, company_id: int | None) -> list[RequestRow]:
    where: list[sa.ColumnElement[bool]] = [col(Ticket.created_at) >= q.start, col(Ticket.created_at) < q.end]
    if company_id is not None:
        where.append(col(Ticket.company_id) == company_id)
    if q.mode:
        where.append(sa.exists().where(col(Shipment.id) == col(Ticket.shipment_id), col(Shipment.mode) == q.mode))
    rows = db.exec(select(Ticket.category, sa.func.count()).where(*where).group_by(Ticket.category)
                   .order_by(sa.func.count().desc(), Ticket.category)).all()
    return [RequestRow(c, int(n)) for c, n in rows]


def _health(db: Session, principal: Principal, q: KpiQuery, company_id: int | None, scope: list,
            now: datetime) -> list[HealthRow]:
    users: list[sa.ColumnElement[bool]] = [col(User.role).in_([r.value for r in CUSTOMER_ROLES]),
                                           col(User.is_active).is_(True)]
    if company_id is not None:
        users.append(col(User.company_id) == company_id)
    active_since = now - timedelta(days=ACTIVE_USER_DAYS)
    total, active = db.exec(select(sa.func.count(), sa.func.coalesce(sa.func.sum(
        sa.case((col(User.last_login_at) >= active_since, 1), else_=0)), 0)).where(*users)).one()

    def events(kind: PortalEventKind) -> int:
        where = [PortalEvent.kind == kind.value, PortalEvent.created_at >= q.start, PortalEvent.created_at < q.end]
        if company_id is not None:
            where.append(PortalEvent.company_id == company_id)
        return int(db.exec(select(sa.func.count()).select_from(PortalEvent).where(*where)).one())

    flow = funnel.funnel(db, principal, q.start, min(q.end, now) if q.start < now else q.end)
    started = events(PortalEventKind.UPLOAD_STARTED)
    completed = events(PortalEventKind.UPLOAD_COMPLETED)
    failed = events(PortalEventKind.UPLOAD_FAILED)
    audit = customer_view_audit.latest(db, now)
    wrong = customer_view_audit.counts_in_scope(db, audit, scope)
    return [
        HealthRow("active_customer_users_pct", _pct(int(active), int(total)) or 0.0,
                  f"{int(active)} of {int(total)} active customer users signed in within {ACTIVE_USER_DAYS} days"),
        HealthRow("active_customer_users", int(active), f"signed in within {ACTIVE_USER_DAYS} days"),
        HealthRow("customer_users", int(total), "active customer accounts"),
        HealthRow("failed_logins", events(PortalEventKind.LOGIN_FAILED), "failed sign-ins in the range"),
        HealthRow("quotes_started", flow.quotes_started, "quote drafts started"),
        HealthRow("quotes_abandoned", flow.quotes_abandoned,
                  f"drafts discarded or untouched for {flow.abandon_hours} hours"),
        HealthRow("bookings_started", flow.bookings_started, "booking forms opened"),
        HealthRow("bookings_abandoned", flow.bookings_abandoned,
                  f"booking forms opened and not booked within {flow.abandon_hours} hours"),
        HealthRow("uploads_started", started, "document uploads started"),
        HealthRow("uploads_failed", failed, "uploads refused (wrong type, too large, empty)"),
        HealthRow("uploads_abandoned", max(0, started - completed - failed), "uploads started and never finished"),
        HealthRow("customer_view_mismatches", sum(wrong.values()),
                  "shipments where the customer's ETA or status disagrees with the record "
                  f"(ETA {wrong['eta']}, departure {wrong['status_departure']}, arrival {wrong['status_arrival']}; "
                  f"checked {display.utc(audit.checked_at)})"),
    ]


@dataclass(frozen=True)
class KpiReport:
    """Every KPI table of one computation as the API publishes it: the query, then each table's rows by name."""

    since: date
    until: date
    mode: str | None
    customer: str | None
    tolerance_hours: int
    computed_at: datetime
    tables: dict[str, list[dict[str, Any]]]
    titles: dict[str, str]

    @classmethod
    def of(cls, kpis: Kpis) -> KpiReport:
        q = kpis.query
        return cls(since=q.since, until=q.until, mode=q.mode, customer=q.customer,
                   tolerance_hours=kpis.tolerance_hours, computed_at=kpis.computed_at,
                   tables={name: [asdict(r) for r in table_rows(kpis, name)] for name in TABLES},
                   titles={name: title for name, (title, _cols) in TABLES.items()})


def compute(db: Session, principal: Principal, query: KpiQuery) -> Kpis:
    """Every KPI table for the range, mode and customer (ops managers and admins)."""
    principal.require(Permission.USE_TOWER)
    principal.require(Permission.VIEW_KPIS)
    query.validate()
    now = clock.now()
    company_id = _company_id(db, query.customer)
    scope = _shipment_scope(query, company_id)
    exc_scope = _exception_scope(query, company_id)
    tolerance = tolerance_hours(db)
    return Kpis(
        query=query, tolerance_hours=tolerance, computed_at=now,
        on_time=_on_time(db, query, scope, tolerance),
        lanes=_lanes(db, query, scope),
        exceptions=_exceptions(db, query, exc_scope, now),
        sla=_sla(db, query, exc_scope, now),
        requests=_requests(db, query, company_id),
        health=_health(db, principal, query, company_id, scope, now),
    )


def table_rows(kpis: Kpis, name: str) -> list:
    if name not in TABLES:
        raise ValidationFailed(f"Unknown KPI table {name!r}. Use one of: {', '.join(TABLES)}.")
    return list(getattr(kpis, name))
