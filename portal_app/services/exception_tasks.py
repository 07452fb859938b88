"""Tasks follow their exception: when an exception is resolved (by a person or by the rules, when its cause
clears), the tasks made from it that are still open or in progress close with it, as *cancelled* (not done: the
work was not needed any more), each with an audit entry naming the exception. A person resolving it may keep some
open instead, each with a reason of a few words; the reason is added to the task's details, so whoever works it
sees why it outlived its exception.

Called by :func:`portal_app.services.exceptions.resolve_exception` (after checking what to keep, before writing
anything) and by the rule pass's automatic resolution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import Field
from sqlmodel import Session, col, select

from models import Task
from models.enums import TaskStatus
from portal_app.auth.principal import Principal
from portal_app.services import audit
from portal_app.services.errors import ValidationFailed
from portal_app.services.inputs import Body, Id

OPEN = (TaskStatus.OPEN.value, TaskStatus.IN_PROGRESS.value)
REASON_MIN = 5
NOTHING_SAVED = "Nothing was saved."


class KeptTask(Body):
    """A task of the exception to leave open when it is resolved, and why."""

    task_id: Id
    reason: str = Field(max_length=400, description=f"Why it stays open (at least {REASON_MIN} characters)")


@dataclass(frozen=True)
class Followup:
    """What resolving will do to the exception's open tasks."""

    close: list[Task]
    keep: dict[int, tuple[Task, str]]


def open_tasks(db: Session, exception_ids: Sequence[int]) -> list[Task]:
    if not exception_ids:
        return []
    return list(db.exec(select(Task).where(col(Task.exception_id).in_(list(exception_ids)),
                                           col(Task.status).in_(OPEN)).order_by(col(Task.id))).all())


def plan(db: Session, exception_id: int, keep: Mapping[int, str] | None = None) -> Followup:
    """Check what to keep (open tasks of this exception only, each with a reason) before anything is written."""
    tasks = open_tasks(db, [exception_id])
    by_id = {t.id: t for t in tasks}
    wanted = dict(keep or {})
    for task_id, reason in wanted.items():
        if task_id not in by_id:
            raise ValidationFailed(
                f"Task #{task_id} is not an open task of exception #{exception_id}, so it cannot be kept open. "
                f"Reload the page. {NOTHING_SAVED}", fields={f"keep_{task_id}": "Not an open task of this exception."})
        if len(" ".join(reason.split())) < REASON_MIN:
            raise ValidationFailed(
                f"Say in a few words why task #{task_id} stays open. {NOTHING_SAVED}",
                fields={f"keep_reason_{task_id}": "Say why it stays open."})
    return Followup(close=[t for t in tasks if t.id not in wanted],
                    keep={task_id: (by_id[task_id], " ".join(reason.split())) for task_id, reason in wanted.items()})


def _close(db: Session, task: Task, exception_id: int, now: datetime, principal: Principal | None,
           company_id: int | None) -> None:
    before = {"status": task.status, "version": task.version}
    task.status, task.completed_at, task.updated_at = TaskStatus.CANCELLED.value, now, now
    task.version += 1
    db.add(task)
    audit.record(db, principal, "task_closed_with_exception", "task", task.id, company_id, before,
                 {"status": task.status, "version": task.version, "exception_id": exception_id}, at=now)


def apply(db: Session, followup: Followup, exception_id: int, now: datetime, principal: Principal | None,
          company_id: int | None) -> None:
    """Close the tasks to close; note on each kept task why it stays open."""
    for task in followup.close:
        _close(db, task, exception_id, now, principal, company_id)
    for task, reason in followup.keep.values():
        note = f"Kept open when exception #{exception_id} was resolved: {reason}"
        task.detail = f"{task.detail}\n\n{note}" if task.detail else note
        task.updated_at = now
        task.version += 1
        db.add(task)
        audit.record(db, principal, "task_kept_open", "task", task.id, company_id, None,
                     {"exception_id": exception_id, "reason": reason, "version": task.version}, at=now)


def close_for_rules(db: Session, resolved: Sequence[tuple[int, int | None]], now: datetime) -> int:
    """The rule pass resolved these exceptions (id, company): their open tasks close with them."""
    company_of = dict(resolved)
    closed = 0
    for task in open_tasks(db, list(company_of)):
        assert task.exception_id is not None  # selected by it
        _close(db, task, task.exception_id, now, None, company_of.get(task.exception_id))
        closed += 1
    return closed
