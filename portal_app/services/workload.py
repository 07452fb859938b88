"""Workload per team, branch or person: shipments in progress, open exceptions by severity, SLA breaches and
overdue tasks, counted in the database (GROUP BY), never by loading the rows; and reassigning a person's work to
another in one atomic, audited call.

Grouping: shipments count by their own owner, team and branch; exceptions and tasks by their owner/assignee and
team, and by the branch of that team.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from pydantic import ConfigDict
from sqlmodel import Session, col, select

from models import Branch, OpsException, Shipment, Task, Team, User
from models.enums import ACTIVE_SHIPMENT_STATUSES, Severity
from portal_app.auth.permissions import STAFF_ROLES, Permission
from portal_app.auth.principal import Principal
from portal_app.services import audit, clock
from portal_app.services.errors import ValidationFailed
from portal_app.services.exception_rules import OPEN_STATUSES
from portal_app.services.exceptions import NOTHING_SAVED, check_staff
from portal_app.services.tasks import OPEN_TASK_STATUSES

GROUPINGS = ("team", "branch", "person")
REASSIGNABLE = ("exceptions", "tasks", "shipments")
ACTIVE = tuple(s.value for s in ACTIVE_SHIPMENT_STATUSES)
SEVERITIES = tuple(s.value for s in Severity)
UNASSIGNED = "Unassigned"


@dataclass
class WorkloadRow:
    """One team's, branch's or person's load (the API serves this record as it is, every count always present)."""

    __pydantic_config__ = ConfigDict(json_schema_serialization_defaults_required=True)

    id: int | None  # team, branch or user id; None for work nobody owns
    name: str
    # counts start at 0 (a factory, so the published schema shows no default: every count is always sent)
    shipments_in_progress: int = field(default_factory=int)
    open_exceptions: int = field(default_factory=int)
    exceptions_by_severity: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    sla_breaches: int = field(default_factory=int)
    overdue_tasks: int = field(default_factory=int)


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str
    team_id: int | None


@dataclass(frozen=True)
class Directory:
    """Who work can go to: active staff (by name) and the teams, for the tower's owner and team pickers."""

    people: list[StaffMember]
    teams: list[tuple[int, str]]
    branches: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ReassignResult:
    from_user_id: int
    to_user_id: int
    exceptions: int
    tasks: int
    shipments: int
    message: str


def _names(db: Session, by: str) -> dict[int, str]:
    if by == "team":
        found = db.exec(select(col(Team.id), col(Team.name)).order_by(col(Team.name))).all()
    elif by == "branch":
        found = db.exec(select(col(Branch.id), col(Branch.name)).order_by(col(Branch.name))).all()
    else:
        found = db.exec(select(col(User.id), col(User.full_name))
                        .where(col(User.role).in_([r.value for r in STAFF_ROLES]), col(User.is_active).is_(True))
                        .order_by(User.full_name)).all()
    return {key: name for key, name in found if key is not None}


def directory(db: Session, principal: Principal) -> Directory:
    principal.require(Permission.MANAGE_EXCEPTIONS)
    people = db.exec(select(User.id, User.full_name, User.team_id)
                     .where(col(User.role).in_([r.value for r in STAFF_ROLES]), col(User.is_active).is_(True))
                     .order_by(User.full_name)).all()
    return Directory([StaffMember(*p) for p in people], list(_names(db, "team").items()),
                     list(_names(db, "branch").items()))


def workload(db: Session, principal: Principal, by: str = "team") -> list[WorkloadRow]:
    """One row per team, branch or staff member (and one for unowned work), largest open work first."""
    principal.require(Permission.MANAGE_EXCEPTIONS)
    if by not in GROUPINGS:
        raise ValidationFailed(f"Group by one of: {', '.join(GROUPINGS)}.")
    now = clock.now()
    rows: dict[int | None, WorkloadRow] = {key: WorkloadRow(key, name) for key, name in _names(db, by).items()}

    def row(key: int | None) -> WorkloadRow:
        if key not in rows:
            rows[key] = WorkloadRow(key, UNASSIGNED if key is None else f"#{key}")
        return rows[key]

    ship_key = {"team": col(Shipment.team_id), "branch": col(Shipment.branch_id), "person": col(Shipment.owner_id)}[by]
    for key, n in db.exec(select(ship_key, sa.func.count()).where(col(Shipment.status).in_(ACTIVE))
                          .group_by(ship_key)).all():
        row(key).shipments_in_progress = n

    exc_key = {"team": col(OpsException.team_id), "branch": col(Team.branch_id),
               "person": col(OpsException.owner_id)}[by]
    breached = sa.func.sum(sa.case((col(OpsException.sla_due_at) < now, 1), else_=0))
    q = (select(exc_key, OpsException.severity, sa.func.count(), breached).select_from(OpsException)
         .where(col(OpsException.status).in_(OPEN_STATUSES)))
    if by == "branch":
        q = q.outerjoin(Team, col(Team.id) == col(OpsException.team_id))
    for key, severity, n, late in db.exec(q.group_by(exc_key, col(OpsException.severity))).all():
        r = row(key)
        r.exceptions_by_severity[severity] = r.exceptions_by_severity.get(severity, 0) + n
        r.open_exceptions += n
        r.sla_breaches += int(late or 0)

    task_key = {"team": col(Task.team_id), "branch": col(Team.branch_id), "person": col(Task.assignee_id)}[by]
    tq = (select(task_key, sa.func.count()).select_from(Task)
          .where(col(Task.status).in_(OPEN_TASK_STATUSES), col(Task.due_at) < now))
    if by == "branch":
        tq = tq.outerjoin(Team, col(Team.id) == col(Task.team_id))
    for key, n in db.exec(tq.group_by(task_key)).all():
        row(key).overdue_tasks = n
    return sorted(rows.values(), key=lambda r: (-(r.open_exceptions + r.overdue_tasks + r.shipments_in_progress),
                                                r.id is None, r.name))


def reassign(db: Session, principal: Principal, from_user_id: int, to_user_id: int,
             what: tuple[str, ...] = REASSIGNABLE) -> ReassignResult:
    """Move everyone's open work of ``from_user_id`` (open exceptions, open tasks, active shipments, as chosen) to
    ``to_user_id`` in one transaction: all of it moves, or nothing does. One audit entry lists what moved."""
    principal.require(Permission.ASSIGN_WORK)
    unknown = [w for w in what if w not in REASSIGNABLE]
    if unknown or not what:
        raise ValidationFailed(f"Choose what to move from: {', '.join(REASSIGNABLE)}. {NOTHING_SAVED}")
    source = db.get(User, int(from_user_id))
    if source is None or source.id is None or source.role not in STAFF_ROLES:
        raise ValidationFailed(f"No staff member #{from_user_id} to take work from. {NOTHING_SAVED}")
    target = check_staff(db, to_user_id, "New owner")
    if target == source.id:
        raise ValidationFailed(f"Pick a different person to move the work to. {NOTHING_SAVED}")
    now = clock.now()
    moved: dict[str, list[int]] = {}
    try:
        if "exceptions" in what:
            moved["exceptions"] = _move(db, OpsException, col(OpsException.owner_id), source.id, target,
                                        col(OpsException.status).in_(OPEN_STATUSES), now)
        if "tasks" in what:
            moved["tasks"] = _move(db, Task, col(Task.assignee_id), source.id, target,
                                   col(Task.status).in_(OPEN_TASK_STATUSES), now)
        if "shipments" in what:
            moved["shipments"] = _move(db, Shipment, col(Shipment.owner_id), source.id, target,
                                       col(Shipment.status).in_(ACTIVE), now)
        audit.record(db, principal, "work_reassigned", "user", source.id, None, {"owner_id": source.id},
                     {"owner_id": target, **{k: v[:1000] for k, v in moved.items()}})
        counts = {k: len(v) for k, v in moved.items()}
        summary = ", ".join(f"{n} {k}" for k, n in counts.items())
        audit.notify(db, [target], "work_assigned", f"{source.full_name}'s work is now yours", summary,
                     "/tower/tasks", f"reassign:{source.id}:{now.isoformat()}", skip=principal.user_id)
        db.commit()
    except Exception:
        db.rollback()
        raise
    return ReassignResult(source.id, target, counts.get("exceptions", 0), counts.get("tasks", 0),
                          counts.get("shipments", 0), f"Moved {summary} from {source.full_name}.")


def _move(db: Session, model, owner_col, source: int, target: int, open_clause, now) -> list[int]:  # noqa: ANN001
    """One UPDATE ... RETURNING: exactly the rows that moved, even if someone changed one a moment before."""
    return sorted(db.exec(
        sa.update(model).where(owner_col == source, open_clause)
        .values({owner_col.key: target, "updated_at": now, "version": model.version + 1})
        .returning(model.id).execution_options(synchronize_session=False)
    ).scalars().all())
