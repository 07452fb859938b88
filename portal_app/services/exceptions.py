"""The exception queue: list, read, raise by hand, assign, change severity, start, resolve (with an optional message
the customer reads) and reopen. Staff only (``manage_exceptions``); every change is audited and checks the version
the person saw (optimistic locking).

SLA timers: ``sla_due_at`` is stored in UTC. A timer gives the due time in UTC, the seconds left (negative once
breached) and the due time written in the viewer's own time zone (``User.timezone``), so an agent in Shanghai and a
manager in Chicago read the same deadline in their own clocks.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Annotated, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import AuditLog, Company, OpsException, Shipment, ShipmentUpdate, Team, User
from models.enums import ExceptionKind, ExceptionStatus, Severity, Visibility
from portal_app.auth.permissions import STAFF_ROLES, Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import audit, clock, exception_tasks, notifications
from portal_app.services import sla as sla_policy
from portal_app.services.errors import Conflict, NotFound, ValidationFailed
from portal_app.services.exception_rules import OPEN_STATUSES, SINGLE_CAUSE_KEYS, SUBJECT, open_key
from portal_app.services.inputs import Body, Id
from portal_app.services.paging import Page, check_paging
from portal_app.services.sorting import SortKeys
from portal_app.services.versioning import update_versioned

MAX_PAGE_SIZE = 100
STATUS_FILTERS = ("active", "open", "in_progress", "resolved", "all")
SEVERITIES = tuple(s.value for s in Severity)
KINDS = tuple(k.value for k in ExceptionKind)
NOTE_MIN = 3
NOTHING_SAVED = "Nothing was saved."


# ---------------------------------------------------------------------------------------------------- DTOs


@dataclass(frozen=True)
class SlaTimer:
    due_at: datetime | None  # UTC
    due_local: str  # the due time in the viewer's time zone, e.g. "2026-11-10 18:00 CET"
    seconds_left: int | None  # negative once breached; None without an SLA
    breached: bool
    label: str  # "3 h 20 min left", "Breached by 2 h 5 min", "Met (1 h 10 min to spare)", "No SLA"
    # Measured at the resolution (or the first answer) rather than running: its label then says "Met" or "Missed".
    settled: Annotated[bool, Field(exclude=True)] = False


@dataclass(frozen=True)
class ExceptionRow:
    id: int
    shipment_reference: str | None
    company_name: str | None
    kind: str
    cause_key: str
    severity: str
    status: str
    title: str
    owner_id: int | None
    owner_name: str | None
    team_id: int | None
    team_name: str | None
    created_by_rule: bool
    created_at: datetime
    timer: SlaTimer
    version: int


@dataclass(frozen=True)
class ExceptionDetail(ExceptionRow):
    """One exception in full: its queue row's fields, then the rest (the API serves this record as it is)."""

    detail: str | None
    resolution_note: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    auto_resolved: bool

    @property
    def row(self) -> ExceptionRow:
        """The exception as the queue shows it."""
        return ExceptionRow(**{f.name: getattr(self, f.name) for f in fields(ExceptionRow)})


@dataclass(frozen=True)
class ExceptionFilters:
    status: str = "active"
    kind: str | None = None
    severity: str | None = None
    owner_id: int | None = None
    team_id: int | None = None
    shipment_reference: str | None = None
    company_id: int | None = None
    breached: bool | None = None
    breaching_within_hours: int | None = None
    unassigned: bool = False


class ExceptionInput(Body, frozen=True):
    """An exception raised by hand: the API's request body and what the tower's form is parsed into."""

    shipment_reference: str = Field(max_length=20)
    kind: str = Field(description=", ".join(KINDS))
    title: str = Field(max_length=200)
    severity: str = Field(Severity.MEDIUM.value, description=", ".join(SEVERITIES))
    detail: str | None = Field(None, max_length=4000)
    cause: str | None = Field(None, max_length=120, description="What exactly; one open exception per cause")
    owner_id: Id | None = Field(None, description="Default: the shipment's owner")
    team_id: Id | None = Field(None, description="Default: the shipment's team")


# ---------------------------------------------------------------------------------------------------- timers


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _span(seconds: int) -> str:
    minutes = abs(seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def sla_timer(due_at: datetime | None, now: datetime, tz: str | None = "UTC",
              resolved_at: datetime | None = None) -> SlaTimer:
    """Time left (or breached by) against ``now``; a resolved exception is measured at its resolution."""
    if due_at is None:
        return SlaTimer(None, "", None, False, "No SLA")
    zone = _zone(tz)
    local = due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    at = resolved_at or now
    left = int((due_at - at).total_seconds())
    breached = left < 0
    if resolved_at is not None:
        label = f"Missed by {_span(left)}" if breached else f"Met ({_span(left)} to spare)"
    else:
        label = f"Breached by {_span(left)}" if breached else f"{_span(left)} left"
    return SlaTimer(due_at, local, left, breached, label, settled=resolved_at is not None)


def viewer_timezone(db: Session, principal: Principal) -> str:
    return db.exec(select(User.timezone).where(User.id == principal.user_id)).first() or "UTC"


# ---------------------------------------------------------------------------------------------------- reads

_owner = aliased(User)


def _columns() -> tuple:
    return (OpsException, Shipment.reference, Company.name, _owner.full_name, Team.name)


def _joined(q):  # noqa: ANN001, ANN202 - a select
    return (q.outerjoin(Shipment, Shipment.id == OpsException.shipment_id)
            .outerjoin(Company, Company.id == OpsException.company_id)
            .outerjoin(_owner, _owner.id == OpsException.owner_id)
            .outerjoin(Team, Team.id == OpsException.team_id))


def _row(found, now: datetime, tz: str) -> ExceptionRow:  # noqa: ANN001 - a result row
    e, ref, company, owner, team = found
    return ExceptionRow(
        id=e.id, shipment_reference=ref, company_name=company, kind=e.kind, cause_key=e.cause_key,
        severity=e.severity, status=e.status, title=e.title, owner_id=e.owner_id, owner_name=owner,
        team_id=e.team_id, team_name=team, created_by_rule=e.created_by_rule, created_at=e.created_at,
        timer=sla_timer(e.sla_due_at, now, tz, e.resolved_at), version=e.version,
    )


def _clauses(db: Session, principal: Principal, f: ExceptionFilters, now: datetime) -> list[sa.ColumnElement[bool]]:
    if f.status not in STATUS_FILTERS:
        raise ValidationFailed(f"Unknown status {f.status!r}. Use one of: {', '.join(STATUS_FILTERS)}.")
    out: list[sa.ColumnElement[bool]] = [company_filter(col(OpsException.company_id), principal)]
    if f.status == "active":
        out.append(col(OpsException.status).in_(OPEN_STATUSES))
    elif f.status != "all":
        out.append(col(OpsException.status) == f.status)
    if f.kind:
        out.append(col(OpsException.kind) == _check(f.kind, KINDS, "kind"))
    if f.severity:
        out.append(col(OpsException.severity) == _check(f.severity, SEVERITIES, "severity"))
    if f.owner_id is not None:
        out.append(col(OpsException.owner_id) == f.owner_id)
    if f.unassigned:
        out.append(col(OpsException.owner_id).is_(None))
    if f.team_id is not None:
        out.append(col(OpsException.team_id) == f.team_id)
    if f.company_id is not None:
        out.append(col(OpsException.company_id) == f.company_id)
    if f.shipment_reference:
        sid = db.exec(select(Shipment.id).where(Shipment.reference == f.shipment_reference.strip().upper())).first()
        out.append(col(OpsException.shipment_id) == (sid or -1))
    if f.breached is not None:
        out.append(col(OpsException.status).in_(OPEN_STATUSES))
        out.append(col(OpsException.sla_due_at) < now if f.breached else sa.or_(col(OpsException.sla_due_at) >= now,
                                                                            col(OpsException.sla_due_at).is_(None)))
    if f.breaching_within_hours is not None:
        if not 1 <= f.breaching_within_hours <= 24 * 30:
            raise ValidationFailed("Breaching within: choose between 1 and 720 hours.")
        out += [col(OpsException.status).in_(OPEN_STATUSES), col(OpsException.sla_due_at) >= now,
                col(OpsException.sla_due_at) < now + timedelta(hours=f.breaching_within_hours)]
    return out


def _check(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValidationFailed(f"Unknown {what} {value!r}. Use one of: {', '.join(allowed)}. {NOTHING_SAVED}")
    return value


# Severity sorts by weight (low first ascending, critical first descending), not by its word.
_SEVERITY_RANK = sa.case({s: i for i, s in enumerate(SEVERITIES)}, value=col(OpsException.severity), else_=1)
# The queue's orders (``-key`` descending); "sla" (the nearest SLA first, none last) is the queue's default.
LIST_SORTS = SortKeys({"id": col(OpsException.id), "shipment": col(Shipment.reference),
                       "kind": col(OpsException.kind), "severity": _SEVERITY_RANK,
                       "opened": col(OpsException.created_at), "sla": col(OpsException.sla_due_at)},
                      col(OpsException.id), nullable=frozenset({"shipment", "sla"}))


def list_exceptions(db: Session, principal: Principal, filters: ExceptionFilters | None = None, *, page: int = 1,
                    page_size: int = 25, sort: str = "sla") -> Page[ExceptionRow]:
    """Exceptions matching ``filters``, the nearest SLA first (none last) unless ``sort`` (``LIST_SORTS``) says
    otherwise, one page."""
    principal.require(Permission.MANAGE_EXCEPTIONS)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    now = clock.now()
    order = LIST_SORTS.order(sort)
    where = _clauses(db, principal, filters or ExceptionFilters(), now)
    total = db.exec(select(sa.func.count()).select_from(OpsException).where(*where)).one()
    found = db.exec(_joined(select(*_columns())).where(*where).order_by(*order)
                    .offset((page - 1) * page_size).limit(page_size)).all()
    tz = viewer_timezone(db, principal)
    return Page([_row(r, now, tz) for r in found], total, page, page_size)


def _load(db: Session, principal: Principal, exception_id: int) -> OpsException:
    principal.require(Permission.MANAGE_EXCEPTIONS)
    exc = db.exec(select(OpsException).where(OpsException.id == int(exception_id),
                                             company_filter(col(OpsException.company_id), principal))).first()
    if exc is None:
        raise NotFound(f"No exception #{exception_id} was found. Check the number and try again.")
    return exc


def get_exception(db: Session, principal: Principal, exception_id: int) -> ExceptionDetail:
    exc = _load(db, principal, exception_id)
    found = db.exec(_joined(select(*_columns())).where(OpsException.id == exc.id)).one()
    resolver = db.get(User, exc.resolved_by_id) if exc.resolved_by_id else None
    return ExceptionDetail(**vars(_row(found, clock.now(), viewer_timezone(db, principal))), detail=exc.detail,
                           resolution_note=exc.resolution_note, resolved_at=exc.resolved_at,
                           resolved_by=resolver.full_name if resolver else None, auto_resolved=exc.auto_resolved)


# ---------------------------------------------------------------------------------------------------- changes


def _text(value: str | None, limit: int) -> str:
    return " ".join((value or "").split())[:limit]


@overload
def check_staff(db: Session, user_id: int, what: str) -> int: ...


@overload
def check_staff(db: Session, user_id: int | None, what: str) -> int | None: ...


def check_staff(db: Session, user_id: int | None, what: str) -> int | None:
    if user_id is None:
        return None
    user = db.get(User, int(user_id))
    if user is None or not user.is_active or user.role not in STAFF_ROLES:
        raise ValidationFailed(f"{what}: no active staff member #{user_id}. Pick someone from the staff list. "
                               f"{NOTHING_SAVED}")
    return user.id


def check_team(db: Session, team_id: int | None) -> int | None:
    if team_id is None:
        return None
    if db.get(Team, int(team_id)) is None:
        raise ValidationFailed(f"No team #{team_id}. Pick a team from the list. {NOTHING_SAVED}")
    return int(team_id)


def _snapshot(exc: OpsException) -> dict:
    return {"status": exc.status, "severity": exc.severity, "owner_id": exc.owner_id, "team_id": exc.team_id,
            "sla_due_at": exc.sla_due_at, "version": exc.version}


def _change(db: Session, exc: OpsException, expected_version: int | None, **values: object) -> None:
    update_versioned(db, OpsException, exc, expected_version,
                     f"Exception #{exc.id} was changed by someone else since you opened it. Reload it and try "
                     f"again. {NOTHING_SAVED}", **values)


def _link(exc: OpsException) -> str:
    return f"/tower/exceptions/{exc.id}"


def create_exception(db: Session, principal: Principal, data: ExceptionInput) -> ExceptionDetail:
    """Raise an exception by hand. Owner and team default to the shipment's; the SLA comes from the policy."""
    principal.require(Permission.MANAGE_EXCEPTIONS)
    kind = _check(data.kind, KINDS, "kind")
    severity = _check(data.severity, SEVERITIES, "severity")
    title = _text(data.title, 200)
    if len(title) < NOTE_MIN:
        message = f"Give the exception a title (a few words). {NOTHING_SAVED}"
        raise ValidationFailed(message, fields={"title": message})
    ref = (data.shipment_reference or "").strip().upper()
    shipment = db.exec(select(Shipment).where(Shipment.reference == ref,
                                              company_filter(col(Shipment.company_id), principal))).first()
    if shipment is None:
        raise NotFound(f"No shipment {ref or '(empty)'} was found. Check the reference. {NOTHING_SAVED}")
    if kind in SINGLE_CAUSE_KEYS:
        cause = SINGLE_CAUSE_KEYS[kind]
        same = db.exec(select(OpsException.id).where(OpsException.shipment_id == shipment.id,
                                                     OpsException.kind == kind,
                                                     col(OpsException.status).in_(OPEN_STATUSES))).first()
        if same is not None:
            raise Conflict(f"Exception #{same} about this is already open on {shipment.reference}. Work on that one "
                           f"instead. {NOTHING_SAVED}")
    else:
        cause = _text(data.cause, 120) or f"manual:{uuid.uuid4().hex[:10]}"
    owner = check_staff(db, data.owner_id, "Owner") if data.owner_id is not None else shipment.owner_id
    team = check_team(db, data.team_id) if data.team_id is not None else shipment.team_id
    now = clock.now()
    hours = sla_policy.resolution_hours(db, SUBJECT, kind, severity, default=sla_policy.DEFAULT_EXCEPTION_HOURS)
    exc = OpsException(
        shipment_id=shipment.id, company_id=shipment.company_id, kind=kind, cause_key=cause, severity=severity,
        status=ExceptionStatus.OPEN.value, title=title, detail=_text(data.detail, 4000) or None, owner_id=owner,
        team_id=team, sla_due_at=now + timedelta(hours=hours), created_by_rule=False,
        open_key=open_key(shipment.id, kind, cause), created_at=now, updated_at=now,
    )
    db.add(exc)
    try:
        db.flush()
    except sa.exc.IntegrityError:
        db.rollback()
        raise Conflict(f"An exception of this kind and cause is already open on {shipment.reference}. Work on that "
                       f"one instead. {NOTHING_SAVED}") from None
    assert exc.id is not None  # flushed: the row has its key
    audit.record(db, principal, "exception_created", "exception", exc.id, exc.company_id, None, _snapshot(exc))
    audit.notify(db, [owner], "exception_assigned", title, exc.detail, _link(exc), f"exception:{exc.id}",
                 skip=principal.user_id)
    db.commit()
    return get_exception(db, principal, exc.id)


def assign_exception(db: Session, principal: Principal, exception_id: int, *, owner_id: int | None,
                     team_id: int | None, expected_version: int | None = None) -> ExceptionDetail:
    """Give the exception an owner and team. Agents may take it themselves; assigning others needs assign_work."""
    exc = _load(db, principal, exception_id)
    assert exc.id is not None  # a stored row
    if owner_id != principal.user_id and owner_id != exc.owner_id:
        principal.require(Permission.ASSIGN_WORK)
    if team_id != exc.team_id:
        principal.require(Permission.ASSIGN_WORK)
    owner, team = check_staff(db, owner_id, "Owner"), check_team(db, team_id)
    before = _snapshot(exc)
    _change(db, exc, expected_version, owner_id=owner, team_id=team)
    audit.record(db, principal, "exception_assigned", "exception", exc.id, exc.company_id, before, _snapshot(exc))
    if owner != before["owner_id"]:
        audit.notify(db, [owner], "exception_assigned", exc.title, exc.detail, _link(exc),
                     f"exception:{exc.id}:v{exc.version}", skip=principal.user_id)
    db.commit()
    return get_exception(db, principal, exc.id)


def change_severity(db: Session, principal: Principal, exception_id: int, severity: str, *,
                    expected_version: int | None = None) -> ExceptionDetail:
    """A new severity; the SLA due time is recomputed from the policy, counted from when the exception opened."""
    exc = _load(db, principal, exception_id)
    assert exc.id is not None  # a stored row
    _check(severity, SEVERITIES, "severity")
    if exc.status == ExceptionStatus.RESOLVED:
        raise Conflict(f"Exception #{exc.id} is resolved; reopen it first to change its severity. {NOTHING_SAVED}")
    hours = sla_policy.resolution_hours(db, SUBJECT, exc.kind, severity, default=sla_policy.DEFAULT_EXCEPTION_HOURS)
    before = _snapshot(exc)
    _change(db, exc, expected_version, severity=severity, sla_due_at=exc.created_at + timedelta(hours=hours))
    audit.record(db, principal, "exception_severity", "exception", exc.id, exc.company_id, before, _snapshot(exc))
    db.commit()
    return get_exception(db, principal, exc.id)


def start_exception(db: Session, principal: Principal, exception_id: int, *,
                    expected_version: int | None = None) -> ExceptionDetail:
    """Mark it in progress (someone is on it); an unowned exception becomes the caller's."""
    exc = _load(db, principal, exception_id)
    assert exc.id is not None  # a stored row
    if exc.status != ExceptionStatus.OPEN:
        raise Conflict(f"Exception #{exc.id} is {exc.status.replace('_', ' ')}, not open. {NOTHING_SAVED}")
    before = _snapshot(exc)
    _change(db, exc, expected_version, status=ExceptionStatus.IN_PROGRESS.value,
            owner_id=exc.owner_id or principal.user_id)
    audit.record(db, principal, "exception_started", "exception", exc.id, exc.company_id, before, _snapshot(exc))
    db.commit()
    return get_exception(db, principal, exc.id)


def resolve_exception(db: Session, principal: Principal, exception_id: int, note: str, *,
                      customer_message: str | None = None, expected_version: int | None = None,
                      keep_tasks: Mapping[int, str] | None = None) -> ExceptionDetail:
    """Resolve with an internal note; a customer message, when given, becomes a customer-visible update on the
    shipment (the customer sees it on the shipment's timeline) and a notice to its audience and booker. The
    exception's open tasks close with it, but those in ``keep_tasks`` (task id -> why), see
    :mod:`portal_app.services.exception_tasks`."""
    exc = _load(db, principal, exception_id)
    assert exc.id is not None  # a stored row
    why = _text(note, 2000)
    message = (customer_message or "").strip()[:2000]
    if len(why) < NOTE_MIN:
        raise ValidationFailed(f"Write a resolution note (what was done). {NOTHING_SAVED}")
    if customer_message is not None and customer_message.strip() and len(message) < NOTE_MIN:
        raise ValidationFailed(f"The message to the customer is too short to be useful. {NOTHING_SAVED}")
    if exc.status == ExceptionStatus.RESOLVED:
        raise Conflict(f"Exception #{exc.id} was already resolved. {NOTHING_SAVED}")
    followup = exception_tasks.plan(db, exc.id, keep_tasks)
    now = clock.now()
    before = _snapshot(exc)
    _change(db, exc, expected_version, status=ExceptionStatus.RESOLVED.value, open_key=None, resolved_at=now,
            resolved_by_id=principal.user_id, resolution_note=why, auto_resolved=False)
    exception_tasks.apply(db, followup, exc.id, now, principal, exc.company_id)
    shipment = db.get(Shipment, exc.shipment_id) if exc.shipment_id else None
    if message and shipment is not None:
        assert shipment.id is not None  # a stored row
        db.add(ShipmentUpdate(shipment_id=shipment.id, company_id=shipment.company_id,
                              visibility=Visibility.CUSTOMER.value, body=message, author_id=principal.user_id,
                              created_at=now))
        booker = db.exec(select(User.id).where(User.id == shipment.created_by_id,
                                               User.company_id == shipment.company_id)).first()
        notifications.notify(db, "shipment_update", [booker], f"Update on {shipment.reference}", message,
                             f"/portal/shipments/{shipment.reference}", f"exception:{exc.id}:resolved:{exc.version}",
                             skip=principal.user_id, shipment_id=shipment.id, company_id=shipment.company_id)
    audit.record(db, principal, "exception_resolved", "exception", exc.id, exc.company_id, before,
                 {**_snapshot(exc), "note": why, "customer_message": message or None,
                  "tasks_closed": [t.id for t in followup.close], "tasks_kept": sorted(followup.keep)})
    db.commit()
    return get_exception(db, principal, exc.id)


def reopen_exception(db: Session, principal: Principal, exception_id: int, reason: str, *,
                     expected_version: int | None = None) -> ExceptionDetail:
    """Open a resolved exception again with a fresh SLA. A person reopened it, so a person resolves it: the rules
    no longer close it by themselves."""
    exc = _load(db, principal, exception_id)
    assert exc.id is not None  # a stored row
    why = _text(reason, 2000)
    if len(why) < NOTE_MIN:
        raise ValidationFailed(f"Say why it is reopened (a few words). {NOTHING_SAVED}")
    if exc.status != ExceptionStatus.RESOLVED:
        raise Conflict(f"Exception #{exc.id} is still open. {NOTHING_SAVED}")
    now = clock.now()
    hours = sla_policy.resolution_hours(db, SUBJECT, exc.kind, exc.severity, default=sla_policy.DEFAULT_EXCEPTION_HOURS)
    before = _snapshot(exc)
    try:
        _change(db, exc, expected_version, status=ExceptionStatus.OPEN.value,
                open_key=open_key(exc.shipment_id, exc.kind, exc.cause_key), resolved_at=None, resolved_by_id=None,
                auto_resolved=False, created_by_rule=False, sla_due_at=now + timedelta(hours=hours))
    except sa.exc.IntegrityError:
        db.rollback()
        raise Conflict(f"Another exception about the same cause is open already; work on that one. "
                       f"{NOTHING_SAVED}") from None
    audit.record(db, principal, "exception_reopened", "exception", exc.id, exc.company_id, before,
                 {**_snapshot(exc), "reason": why})
    db.commit()
    return get_exception(db, principal, exc.id)


# ---------------------------------------------------------------------------------------------------- history

HISTORY_LIMIT = 100


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str  # the person, or "System" for the rules
    action: str  # e.g. "exception_assigned"
    summary: str  # what happened, in words: "Owner: Olivia Agent → Li Wei"


_HEADLINES = {
    "exception_opened": "Opened by the rules",
    "exception_created": "Raised by hand",
    "exception_assigned": "Assignment changed",
    "exception_severity": "Severity changed",
    "exception_started": "Work started",
    "exception_resolved": "Resolved",
    "exception_auto_resolved": "Resolved automatically",
    "exception_reopened": "Reopened",
}


def _describe(action: str, before: dict, after: dict, users: dict[int, str], teams: dict[int, str]) -> str:
    parts = [_HEADLINES.get(action, action.replace("_", " ").capitalize())]

    def name(key: str, value: int | str | None) -> str:
        if value is None:
            return "nobody" if key == "owner_id" else "no team"
        table = users if key == "owner_id" else teams
        return table.get(int(value), f"#{value}")

    for key, label in (("owner_id", "owner"), ("team_id", "team")):
        if key in after and before and before.get(key) != after.get(key):
            parts.append(f"{label} {name(key, before.get(key))} → {name(key, after.get(key))}")
    if action in ("exception_severity", "exception_created", "exception_opened") and after.get("severity"):
        old = before.get("severity") if before else None
        parts.append(f"severity {old} → {after['severity']}" if old and old != after["severity"]
                     else f"severity {after['severity']}")
    for key, label in (("note", "note"), ("reason", "reason"), ("customer_message", "message to the customer")):
        if after.get(key):
            parts.append(f"{label}: {after[key]}")
    return "; ".join(parts)


def exception_history(db: Session, principal: Principal, exception_id: int) -> list[HistoryEntry]:
    """What happened to the exception, oldest first, from the audit log (at most the last 100 entries)."""
    exc = _load(db, principal, exception_id)
    found = db.exec(
        select(AuditLog, col(User.full_name)).outerjoin(User, col(User.id) == col(AuditLog.actor_id))
        .where(AuditLog.entity_type == "exception", AuditLog.entity_id == str(exc.id))
        .order_by(col(AuditLog.created_at).desc(), col(AuditLog.id).desc()).limit(HISTORY_LIMIT)
    ).all()
    changes = [(row, actor, audit.load(row.before), audit.load(row.after)) for row, actor in reversed(found)]
    user_ids, team_ids = set(), set()
    for _, _, before, after in changes:
        for snap in (before, after):
            if isinstance(snap.get("owner_id"), int):
                user_ids.add(snap["owner_id"])
            if isinstance(snap.get("team_id"), int):
                team_ids.add(snap["team_id"])
    users = {i: n for i, n in db.exec(select(col(User.id), col(User.full_name)).where(col(User.id).in_(user_ids)))
             if i is not None} if user_ids else {}
    teams = {i: n for i, n in db.exec(select(col(Team.id), col(Team.name)).where(col(Team.id).in_(team_ids)))
             if i is not None} if team_ids else {}
    out = [HistoryEntry(row.created_at, actor or "System", row.action, _describe(row.action, before, after, users,
                                                                                 teams))
           for row, actor, before, after in changes]
    if len(found) < HISTORY_LIMIT and not any(h.action in ("exception_opened", "exception_created") for h in out):
        # Rows written without an audit entry (imported or seeded data) still show when they opened.
        opened = "exception_opened" if exc.created_by_rule else "exception_created"
        out.insert(0, HistoryEntry(exc.created_at, "System" if exc.created_by_rule else "Unknown", opened,
                                   _describe(opened, {}, {"severity": exc.severity}, {}, {})))
    return out
