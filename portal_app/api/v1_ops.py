"""REST v1 for the ops tower: the exception queue, tasks and workload. Staff only: a customer's session or API key
is refused (403) on every route here."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlmodel import Session

from portal_app.api.deps import current_principal, get_db
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import exception_rules, shipments
from portal_app.services import exceptions as exc_svc
from portal_app.services import tasks as task_svc
from portal_app.services import workload as work_svc
from portal_app.services.exception_tasks import KeptTask
from portal_app.services.inputs import Body, Id, IsoDateTime, PageNo, Version, bounded, rows_per_page
from portal_app.services.paging import PageOut

router = APIRouter(prefix="/api/v1", tags=["ops"])

Caller = Annotated[Principal, Depends(current_principal)]
Db = Annotated[Session, Depends(get_db)]
PageSize = rows_per_page(exc_svc.MAX_PAGE_SIZE)
WithinHours = bounded(1, 720)
Errors = {403: {}, 404: {}, 409: {}, 422: {}}


class Versioned(Body):
    expected_version: Version | None = Field(None, description="The version you saw (409 if it changed since)")


class AssignIn(Versioned):
    owner_id: Id | None
    team_id: Id | None


class SeverityIn(Versioned):
    severity: str


class ResolveIn(Versioned):
    note: str = Field(max_length=2000, description="Internal: what was done")
    customer_message: str | None = Field(None, max_length=2000,
                                         description="Optional: posted on the shipment for the customer to read")
    keep_tasks: list[KeptTask] = Field(default_factory=list, max_length=100,
                                       description="Open tasks of the exception to leave open, each with why; the "
                                       "others close (cancelled) with it")


class ReopenIn(Versioned):
    reason: str = Field(max_length=2000)


class EvaluateIn(Body):
    shipment_reference: str = Field(max_length=20)


class EvaluateOut(BaseModel):
    opened: int
    resolved: int
    present: int


class TaskStatusIn(Versioned):
    status: Literal["open", "in_progress", "done", "cancelled"]


class TaskAssignIn(Versioned):
    assignee_id: Id | None
    team_id: Id | None
    due_at: IsoDateTime | None = None


class ReassignIn(Body):
    from_user_id: Id
    to_user_id: Id
    what: list[Literal["exceptions", "tasks", "shipments"]] = Field(
        default_factory=lambda: list(work_svc.REASSIGNABLE))


# ----------------------------------------------------------------------------------------------- exceptions


@router.get("/exceptions", response_model=PageOut[exc_svc.ExceptionRow], responses=Errors)
def list_exceptions(
    principal: Caller,
    db: Db,
    status: Annotated[str, Query(description=", ".join(exc_svc.STATUS_FILTERS))] = "active",
    kind: str | None = None,
    severity: str | None = None,
    owner_id: Id | None = None,
    team_id: Id | None = None,
    unassigned: bool = False,
    shipment: Annotated[str | None, Query(max_length=20)] = None,
    company_id: Annotated[Id | None, Query(description="The customer")] = None,
    breached: bool | None = None,
    breaching_within_hours: WithinHours | None = None,
    page: PageNo = 1,
    page_size: PageSize = 25,
    sort: Annotated[str, Query(max_length=20, description=", ".join(exc_svc.LIST_SORTS.keys))] = "sla",
) -> PageOut[exc_svc.ExceptionRow]:
    """The exception queue, the nearest SLA first unless ``sort`` says otherwise (``-key``: descending)."""
    filters = exc_svc.ExceptionFilters(status=status, kind=kind, severity=severity, owner_id=owner_id,
                                       team_id=team_id, shipment_reference=shipment, company_id=company_id,
                                       breached=breached, breaching_within_hours=breaching_within_hours,
                                       unassigned=unassigned)
    return PageOut.of(exc_svc.list_exceptions(db, principal, filters, page=page, page_size=page_size, sort=sort))


@router.post("/exceptions", response_model=exc_svc.ExceptionDetail, status_code=201, responses=Errors)
def create_exception(body: exc_svc.ExceptionInput, principal: Caller, db: Db) -> exc_svc.ExceptionDetail:
    return exc_svc.create_exception(db, principal, body)


@router.post("/exceptions/evaluate", response_model=EvaluateOut, responses=Errors)
def evaluate_rules(body: EvaluateIn, principal: Caller, db: Db) -> EvaluateOut:
    """Run every exception rule for one shipment now (they also run on every change and on a schedule)."""
    principal.require(Permission.MANAGE_EXCEPTIONS)
    shipment_id = shipments.resolve_shipment_id(db, principal, body.shipment_reference)
    result = exception_rules.evaluate_shipment(db, shipment_id)
    return EvaluateOut(opened=result.opened, resolved=result.resolved, present=result.present)


@router.get("/exceptions/{exception_id}", response_model=exc_svc.ExceptionDetail, responses=Errors)
def get_exception(exception_id: Id, principal: Caller, db: Db) -> exc_svc.ExceptionDetail:
    return exc_svc.get_exception(db, principal, exception_id)


@router.post("/exceptions/{exception_id}/assign", response_model=exc_svc.ExceptionDetail, responses=Errors)
def assign_exception(exception_id: Id, body: AssignIn, principal: Caller, db: Db) -> exc_svc.ExceptionDetail:
    return exc_svc.assign_exception(db, principal, exception_id, owner_id=body.owner_id,
                                    team_id=body.team_id, expected_version=body.expected_version)


@router.post("/exceptions/{exception_id}/severity", response_model=exc_svc.ExceptionDetail, responses=Errors)
def change_severity(exception_id: Id, body: SeverityIn, principal: Caller, db: Db) -> exc_svc.ExceptionDetail:
    return exc_svc.change_severity(db, principal, exception_id, body.severity,
                                   expected_version=body.expected_version)


@router.post("/exceptions/{exception_id}/start", response_model=exc_svc.ExceptionDetail, responses=Errors)
def start_exception(exception_id: Id, body: Versioned, principal: Caller, db: Db) -> exc_svc.ExceptionDetail:
    return exc_svc.start_exception(db, principal, exception_id, expected_version=body.expected_version)


@router.post("/exceptions/{exception_id}/resolve", response_model=exc_svc.ExceptionDetail, responses=Errors)
def resolve_exception(exception_id: Id, body: ResolveIn, principal: Caller, db: Db) -> exc_svc.ExceptionDetail:
    """Resolve with an internal note and, optionally, a message the customer sees on the shipment; its open tasks
    close with it unless kept open with a reason."""
    return exc_svc.resolve_exception(db, principal, exception_id, body.note,
                                     customer_message=body.customer_message,
                                     expected_version=body.expected_version,
                                     keep_tasks={k.task_id: k.reason for k in body.keep_tasks})


@router.post("/exceptions/{exception_id}/reopen", response_model=exc_svc.ExceptionDetail, responses=Errors)
def reopen_exception(exception_id: Id, body: ReopenIn, principal: Caller, db: Db) -> exc_svc.ExceptionDetail:
    return exc_svc.reopen_exception(db, principal, exception_id, body.reason,
                                    expected_version=body.expected_version)


# ----------------------------------------------------------------------------------------------- tasks

# A column order (``-key``: descending); without one, overdue first, then the nearest due time.
TaskSort = Annotated[str | None, Query(max_length=20, description=", ".join(task_svc.LIST_SORTS.keys))]


@router.get("/tasks/mine", response_model=PageOut[task_svc.TaskRow], responses=Errors)
def my_queue(principal: Caller, db: Db, status: str = "active", page: PageNo = 1,
             page_size: PageSize = 25, sort: TaskSort = None) -> PageOut[task_svc.TaskRow]:
    """My queue: tasks assigned to me and my team's untaken tasks, overdue first unless ``sort`` says otherwise."""
    return PageOut.of(task_svc.my_queue(db, principal, status=status, page=page, page_size=page_size, sort=sort))


@router.get("/tasks", response_model=PageOut[task_svc.TaskRow], responses=Errors)
def list_tasks(
    principal: Caller,
    db: Db,
    status: Annotated[str, Query(description=", ".join(task_svc.STATUS_FILTERS))] = "active",
    assignee_id: Id | None = None,
    team_id: Id | None = None,
    shipment: Annotated[str | None, Query(max_length=20)] = None,
    exception_id: Id | None = None,
    overdue: bool | None = None,
    page: PageNo = 1,
    page_size: PageSize = 25,
    sort: TaskSort = None,
) -> PageOut[task_svc.TaskRow]:
    filters = task_svc.TaskFilters(status=status, assignee_id=assignee_id, team_id=team_id,
                                   shipment_reference=shipment, exception_id=exception_id, overdue=overdue)
    return PageOut.of(task_svc.list_tasks(db, principal, filters, page=page, page_size=page_size, sort=sort))


@router.post("/tasks", response_model=task_svc.TaskRow, status_code=201, responses=Errors)
def create_task(body: task_svc.TaskInput, principal: Caller, db: Db) -> task_svc.TaskRow:
    return task_svc.create_task(db, principal, body)


@router.get("/tasks/{task_id}", response_model=task_svc.TaskRow, responses=Errors)
def get_task(task_id: Id, principal: Caller, db: Db) -> task_svc.TaskRow:
    return task_svc.get_task(db, principal, task_id)


@router.post("/tasks/{task_id}/status", response_model=task_svc.TaskRow, responses=Errors)
def set_task_status(task_id: Id, body: TaskStatusIn, principal: Caller, db: Db) -> task_svc.TaskRow:
    return task_svc.set_status(db, principal, task_id, body.status, expected_version=body.expected_version)


@router.post("/tasks/{task_id}/assign", response_model=task_svc.TaskRow, responses=Errors)
def assign_task(task_id: Id, body: TaskAssignIn, principal: Caller, db: Db) -> task_svc.TaskRow:
    return task_svc.assign_task(db, principal, task_id, assignee_id=body.assignee_id, team_id=body.team_id,
                                due_at=body.due_at, expected_version=body.expected_version)


# ----------------------------------------------------------------------------------------------- workload


@router.get("/workload", response_model=list[work_svc.WorkloadRow], responses=Errors)
def workload(principal: Caller, db: Db,
             by: Annotated[Literal["team", "branch", "person"], Query()] = "team") -> list[work_svc.WorkloadRow]:
    """Shipments in progress, open exceptions by severity, SLA breaches and overdue tasks per team, branch or
    person."""
    return work_svc.workload(db, principal, by)


@router.post("/workload/reassign", response_model=work_svc.ReassignResult, responses=Errors)
def reassign(body: ReassignIn, principal: Caller, db: Db) -> work_svc.ReassignResult:
    """Move one person's open exceptions, open tasks and active shipments to another, all or nothing."""
    return work_svc.reassign(db, principal, body.from_user_id, body.to_user_id, tuple(body.what))
