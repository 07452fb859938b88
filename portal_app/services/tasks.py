"""Tasks: small pieces of work for staff, made from an exception or by hand, with an assignee, a team, a due time
and a status (open, in progress, done, cancelled). "My queue" is what a person should do next: tasks assigned to
them, and tasks of their team that nobody has taken yet, overdue first. Every change is audited and checks the
version the person saw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import OpsException, Shipment, Task, Team, User
from models.enums import TaskStatus
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import audit, clock
from portal_app.services.errors import Conflict, NotFound, ValidationFailed
from portal_app.services.exceptions import (
    NOTHING_SAVED,
    SlaTimer,
    check_staff,
    check_team,
    sla_timer,
    viewer_timezone,
)
from portal_app.services.inputs import Body, Id, IsoDateTime
from portal_app.services.paging import Page, check_paging
from portal_app.services.sorting import SortKeys
from portal_app.services.versioning import update_versioned

MAX_PAGE_SIZE = 100
OPEN_TASK_STATUSES = (TaskStatus.OPEN.value, TaskStatus.IN_PROGRESS.value)
STATUSES = tuple(s.value for s in TaskStatus)
STATUS_FILTERS = ("active", *STATUSES, "all")


@dataclass(frozen=True)
class TaskRow:
    id: int
    title: str
    detail: str | None
    shipment_reference: str | None
    exception_id: int | None
    assignee_id: int | None
    assignee_name: str | None
    team_id: int | None
    team_name: str | None
    status: str
    due: SlaTimer
    overdue: bool
    completed_at: datetime | None
    created_at: datetime
    version: int


class TaskInput(Body, frozen=True):
    """A new task: the API's request body and what the tower's task forms are parsed into."""

    title: str = Field(max_length=200)
    detail: str | None = Field(None, max_length=4000)
    shipment_reference: str | None = Field(None, max_length=20)
    exception_id: Id | None = Field(None, description="Takes the exception's shipment, owner, team and SLA by default")
    assignee_id: Id | None = None
    team_id: Id | None = None
    due_at: IsoDateTime | None = Field(None, description="With a time zone offset")


@dataclass(frozen=True)
class TaskFilters:
    status: str = "active"
    assignee_id: int | None = None
    team_id: int | None = None
    shipment_reference: str | None = None
    exception_id: int | None = None
    overdue: bool | None = None


_assignee = aliased(User)


def _select():  # noqa: ANN202 - a select
    return (select(Task, Shipment.reference, _assignee.full_name, Team.name)
            .outerjoin(Shipment, col(Shipment.id) == col(Task.shipment_id))
            .outerjoin(_assignee, col(_assignee.id) == col(Task.assignee_id))
            .outerjoin(Team, col(Team.id) == col(Task.team_id)))


def _row(found, now: datetime, tz: str) -> TaskRow:  # noqa: ANN001 - a result row
    t, ref, assignee, team = found
    active = t.status in OPEN_TASK_STATUSES
    return TaskRow(
        id=t.id, title=t.title, detail=t.detail, shipment_reference=ref, exception_id=t.exception_id,
        assignee_id=t.assignee_id, assignee_name=assignee, team_id=t.team_id, team_name=team, status=t.status,
        due=sla_timer(t.due_at, now, tz, None if active else (t.completed_at or t.updated_at)),
        overdue=bool(active and t.due_at is not None and t.due_at < now), completed_at=t.completed_at,
        created_at=t.created_at, version=t.version,
    )


def _order():  # noqa: ANN202 - ORDER BY terms: overdue first, then the nearest due time, undated last
    now = clock.now()
    return (sa.case((sa.and_(col(Task.status).in_(OPEN_TASK_STATUSES), col(Task.due_at) < now), 0), else_=1),
            col(Task.due_at).is_(None), Task.due_at, Task.id)


# The task lists' orders (``-key`` descending). Without a sort: overdue first, then the nearest due time.
LIST_SORTS = SortKeys({"id": col(Task.id), "title": col(Task.title), "shipment": col(Shipment.reference),
                       "status": col(Task.status), "due": col(Task.due_at)}, col(Task.id),
                      nullable=frozenset({"shipment", "due"}))


def _page(db: Session, principal: Principal, where: list, page: int, page_size: int,
          sort: str | None = None) -> Page[TaskRow]:
    check_paging(page, page_size, MAX_PAGE_SIZE)
    order = _order() if sort is None else LIST_SORTS.order(sort)
    total = db.exec(select(sa.func.count()).select_from(Task).where(*where)).one()
    found = db.exec(_select().where(*where).order_by(*order).offset((page - 1) * page_size).limit(page_size)).all()
    now, tz = clock.now(), viewer_timezone(db, principal)
    return Page([_row(r, now, tz) for r in found], total, page, page_size)


def _status_clause(status: str) -> sa.ColumnElement[bool] | None:
    if status not in STATUS_FILTERS:
        raise ValidationFailed(f"Unknown status {status!r}. Use one of: {', '.join(STATUS_FILTERS)}.")
    if status == "active":
        return col(Task.status).in_(OPEN_TASK_STATUSES)
    return None if status == "all" else col(Task.status) == status


def my_queue(db: Session, principal: Principal, *, status: str = "active", page: int = 1,
             page_size: int = 25, sort: str | None = None) -> Page[TaskRow]:
    """Tasks assigned to me, and my team's tasks nobody has taken; overdue first, then by due time, unless ``sort``
    (``LIST_SORTS``) says otherwise."""
    principal.require(Permission.MANAGE_EXCEPTIONS)
    my_team = db.exec(select(User.team_id).where(User.id == principal.user_id)).first()
    mine = col(Task.assignee_id) == principal.user_id
    if my_team is not None:
        mine = sa.or_(mine, sa.and_(col(Task.team_id) == my_team, col(Task.assignee_id).is_(None)))
    where = [mine]
    clause = _status_clause(status)
    if clause is not None:
        where.append(clause)
    return _page(db, principal, where, page, page_size, sort)


def list_tasks(db: Session, principal: Principal, filters: TaskFilters | None = None, *, page: int = 1,
               page_size: int = 25, sort: str | None = None) -> Page[TaskRow]:
    principal.require(Permission.MANAGE_EXCEPTIONS)
    f = filters or TaskFilters()
    where: list[sa.ColumnElement[bool]] = []
    clause = _status_clause(f.status)
    if clause is not None:
        where.append(clause)
    if f.assignee_id is not None:
        where.append(col(Task.assignee_id) == f.assignee_id)
    if f.team_id is not None:
        where.append(col(Task.team_id) == f.team_id)
    if f.exception_id is not None:
        where.append(col(Task.exception_id) == f.exception_id)
    if f.shipment_reference:
        sid = db.exec(select(Shipment.id).where(Shipment.reference == f.shipment_reference.strip().upper())).first()
        where.append(col(Task.shipment_id) == (sid or -1))
    if f.overdue is not None:
        late = sa.and_(col(Task.status).in_(OPEN_TASK_STATUSES), col(Task.due_at) < clock.now())
        where.append(late if f.overdue else sa.not_(late))
    return _page(db, principal, where, page, page_size, sort)


def _load(db: Session, principal: Principal, task_id: int) -> Task:
    principal.require(Permission.MANAGE_EXCEPTIONS)
    task = db.get(Task, int(task_id))
    if task is None:
        raise NotFound(f"No task #{task_id} was found. Check the number and try again.")
    return task


def get_task(db: Session, principal: Principal, task_id: int) -> TaskRow:
    task = _load(db, principal, task_id)
    return _row(db.exec(_select().where(Task.id == task.id)).one(), clock.now(), viewer_timezone(db, principal))


def _snapshot(t: Task) -> dict:
    return {"status": t.status, "assignee_id": t.assignee_id, "team_id": t.team_id, "due_at": t.due_at,
            "version": t.version}


def create_task(db: Session, principal: Principal, data: TaskInput) -> TaskRow:
    principal.require(Permission.MANAGE_EXCEPTIONS)
    title = " ".join((data.title or "").split())[:200]
    if len(title) < 3:
        raise ValidationFailed(f"Give the task a title (a few words). {NOTHING_SAVED}")
    shipment_id, assignee, team, due = None, data.assignee_id, data.team_id, data.due_at
    if data.exception_id is not None:
        exc = db.exec(select(OpsException).where(OpsException.id == int(data.exception_id),
                                                 company_filter(col(OpsException.company_id), principal))).first()
        if exc is None:
            raise NotFound(f"No exception #{data.exception_id} was found. {NOTHING_SAVED}")
        shipment_id = exc.shipment_id
        assignee = exc.owner_id if assignee is None else assignee
        team = exc.team_id if team is None else team
        due = exc.sla_due_at if due is None else due
    if data.shipment_reference:
        ref = data.shipment_reference.strip().upper()
        sid = db.exec(select(Shipment.id).where(Shipment.reference == ref,
                                                company_filter(col(Shipment.company_id), principal))).first()
        if sid is None:
            raise NotFound(f"No shipment {ref} was found. Check the reference. {NOTHING_SAVED}")
        shipment_id = sid
    if due is not None and due.tzinfo is None:
        raise ValidationFailed(f"Give the due time with its time zone (2026-11-10T17:00:00+01:00). {NOTHING_SAVED}")
    now = clock.now()
    task = Task(title=title, detail=(data.detail or "").strip()[:4000] or None, shipment_id=shipment_id,
                exception_id=data.exception_id, assignee_id=check_staff(db, assignee, "Assignee"),
                team_id=check_team(db, team),
                status=TaskStatus.OPEN.value, due_at=due, created_by_id=principal.user_id, created_at=now,
                updated_at=now)
    db.add(task)
    db.flush()
    assert task.id is not None  # flushed: the row has its key
    audit.record(db, principal, "task_created", "task", task.id, None, None, {**_snapshot(task), "title": title})
    audit.notify(db, [task.assignee_id], "task_assigned", title, task.detail, "/tower/tasks",
                 f"task:{task.id}", skip=principal.user_id)
    db.commit()
    return get_task(db, principal, task.id)


def _change(db: Session, task: Task, expected_version: int | None, **values: object) -> None:
    update_versioned(db, Task, task, expected_version,
                     f"Task #{task.id} was changed by someone else since you opened it. Reload it and try again. "
                     f"{NOTHING_SAVED}", **values)


def set_status(db: Session, principal: Principal, task_id: int, status: str, *,
               expected_version: int | None = None) -> TaskRow:
    """Move a task to open, in_progress, done or cancelled (done records when)."""
    task = _load(db, principal, task_id)
    assert task.id is not None  # a stored row
    if status not in STATUSES:
        raise ValidationFailed(f"Unknown status {status!r}. Use one of: {', '.join(STATUSES)}. {NOTHING_SAVED}")
    if status == task.status:
        raise Conflict(f"Task #{task.id} is already {status.replace('_', ' ')}. {NOTHING_SAVED}")
    before = _snapshot(task)
    finished = status in (TaskStatus.DONE.value, TaskStatus.CANCELLED.value)
    _change(db, task, expected_version, status=status, completed_at=clock.now() if finished else None,
            assignee_id=task.assignee_id or (principal.user_id if status == TaskStatus.IN_PROGRESS else None))
    audit.record(db, principal, f"task_{status}", "task", task.id, None, before, _snapshot(task))
    db.commit()
    return get_task(db, principal, task.id)


def complete_task(db: Session, principal: Principal, task_id: int, *, expected_version: int | None = None) -> TaskRow:
    return set_status(db, principal, task_id, TaskStatus.DONE.value, expected_version=expected_version)


def reopen_task(db: Session, principal: Principal, task_id: int, *, expected_version: int | None = None) -> TaskRow:
    return set_status(db, principal, task_id, TaskStatus.OPEN.value, expected_version=expected_version)


def assign_task(db: Session, principal: Principal, task_id: int, *, assignee_id: int | None, team_id: int | None,
                due_at: datetime | None = None, expected_version: int | None = None) -> TaskRow:
    """A new assignee and team (and due time, when given)."""
    task = _load(db, principal, task_id)
    assert task.id is not None  # a stored row
    if due_at is not None and due_at.tzinfo is None:
        raise ValidationFailed(f"Give the due time with its time zone. {NOTHING_SAVED}")
    before = _snapshot(task)
    values: dict[str, object] = {"assignee_id": check_staff(db, assignee_id, "Assignee"),
                                 "team_id": check_team(db, team_id)}
    if due_at is not None:
        values["due_at"] = due_at
    _change(db, task, expected_version, **values)
    audit.record(db, principal, "task_assigned", "task", task.id, None, before, _snapshot(task))
    if task.assignee_id != before["assignee_id"]:
        audit.notify(db, [task.assignee_id], "task_assigned", task.title, task.detail, "/tower/tasks",
                     f"task:{task.id}:v{task.version}", skip=principal.user_id)
    db.commit()
    return get_task(db, principal, task.id)
