"""REST v1 for the ops tower: the shipments board, bulk actions and the shipment workspace's edits.

Staff only: a customer's session or API key gets 403 on every route here. Edits take the shipment's
``expected_version``; a stale one answers 409 with what changed since and the input that was sent.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, model_validator
from sqlmodel import Session

from portal_app.api.deps import current_principal, get_db
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import board as board_svc
from portal_app.services import bulk as bulk_svc
from portal_app.services import workspace as ws
from portal_app.services.inputs import Body, Id, IsoDateTime, PageNo, Version, bounded, rows_per_page
from portal_app.services.paging import PageOut
from portal_app.services.shipments import MAX_PAGE_SIZE


def tower_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """The caller, refused (403) unless staff with the tower."""
    principal.require(Permission.USE_TOWER)
    return principal


router = APIRouter(prefix="/api/v1/tower", tags=["tower"], dependencies=[Depends(tower_principal)])
Staff = Annotated[Principal, Depends(tower_principal)]
Db = Annotated[Session, Depends(get_db)]
PageSize = rows_per_page(MAX_PAGE_SIZE)
SlaHours = bounded(1, board_svc.MAX_SLA_HOURS)
CONFLICT = {409: {"description": "The shipment changed since expected_version: error.changes lists what changed, "
                                 "error.your_input echoes the request"}}


# --------------------------------------------------------------------------------------------------- board


def board_filters(request: Request, principal: Principal) -> board_svc.BoardFilters:
    params = {key: request.query_params.getlist(key) for key in board_svc.BOARD_PARAMS}
    return board_svc.BoardFilters.from_params(params, principal)


@router.get("/shipments", response_model=PageOut[board_svc.BoardRow])
def list_board(
    request: Request,
    principal: Staff,
    db: Db,
    status: Annotated[list[str] | None, Query(description="Repeat for several statuses")] = None,
    mode: Annotated[str | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=40, description="Any reference (prefix)")] = None,
    branch: Id | None = None,
    team: Id | None = None,
    owner: Annotated[str | None, Query(description="A staff user id, 'me' or 'none'")] = None,
    customer: Annotated[str | None, Query(max_length=20, description="Company id or code")] = None,
    exception: Annotated[bool, Query(description="Only shipments with an open exception")] = False,
    sla: Annotated[Literal["breached", "breaching"] | None, Query()] = None,
    sla_hours: Annotated[SlaHours, Query(description="For sla=breaching")] = 4,
    page: PageNo = 1,
    page_size: PageSize = 25,
    sort: Annotated[str, Query()] = "updated",
) -> PageOut[board_svc.BoardRow]:
    """Every shipment across companies with the board's filters (also origin, destination, etd_from/to,
    eta_from/to, delayed as on /api/v1/shipments)."""
    return PageOut.of(board_svc.list_board(db, principal, board_filters(request, principal), page=page,
                                           page_size=page_size, sort=sort))


# --------------------------------------------------------------------------------------------------- bulk


class SelectionIn(Body):
    references: list[str] = Field(default_factory=list, max_length=bulk_svc.MAX_BULK,
                                  description="Shipment references picked on the board")
    filter: dict[str, str] | None = Field(None, description="Or the board's whole filter, as its query parameters")


class BulkAssignIn(SelectionIn):
    owner_id: Id | None = None
    team_id: Id | None = None

    @model_validator(mode="after")
    def _something(self) -> BulkAssignIn:
        if not ({"owner_id", "team_id"} & self.model_fields_set):
            raise ValueError("set owner_id, team_id or both (null clears)")
        return self


class BulkUpdateIn(SelectionIn):
    body: str = Field(max_length=ws.NOTE_MAX, description="The customer-visible update")


def _selection(body: SelectionIn, principal: Principal) -> bulk_svc.Selection:
    if body.filter is not None:
        return bulk_svc.Selection(filters=board_svc.BoardFilters.from_params(body.filter, principal))
    return bulk_svc.Selection(references=tuple(body.references))


@router.post("/bulk/assign", response_model=bulk_svc.BulkReport)
def bulk_assign(body: BulkAssignIn, principal: Staff, db: Db) -> bulk_svc.BulkReport:
    changes = {k: getattr(body, k) for k in ("owner_id", "team_id") if k in body.model_fields_set}
    return bulk_svc.bulk_assign(db, principal, _selection(body, principal), changes)


@router.post("/bulk/customer-update", response_model=bulk_svc.BulkReport)
def bulk_customer_update(body: BulkUpdateIn, principal: Staff, db: Db) -> bulk_svc.BulkReport:
    return bulk_svc.bulk_customer_update(db, principal, _selection(body, principal), body.body)


@router.post("/bulk/milestone", response_model=bulk_svc.BulkReport)
def bulk_milestone(body: bulk_svc.VoyageMilestone, principal: Staff, db: Db) -> bulk_svc.BulkReport:
    """Record a milestone on every open shipment of one vessel voyage or flight."""
    return bulk_svc.bulk_milestone(db, principal, body, body.milestone, body.changes())


@router.post("/bulk/eta", response_model=bulk_svc.BulkReport)
def bulk_eta(body: bulk_svc.VoyageEta, principal: Staff, db: Db) -> bulk_svc.BulkReport:
    """A new ETA with a reason for every open shipment of one vessel voyage or flight."""
    return bulk_svc.bulk_eta(db, principal, body, body.new_eta, body.reason_code, body.reason_text)


# --------------------------------------------------------------------------------------------------- workspace


class MilestoneIn(Body):
    expected_version: Version = Field(description="The shipment version you saw")
    planned_at: IsoDateTime | None = None
    estimated_at: IsoDateTime | None = None
    actual_at: IsoDateTime | None = None
    location: str | None = Field(None, max_length=5, description="UN/LOCODE or IATA code; null clears")


class EtaIn(Body):
    expected_version: Version
    new_eta: IsoDateTime
    reason_code: str = Field(max_length=30, description="One of GET /api/v1/tower/eta-reasons")
    reason_text: str | None = Field(None, max_length=400, description="Shown to the customer")


class AssignIn(Body):
    expected_version: Version
    owner_id: Id | None = None
    team_id: Id | None = None


class NoteIn(Body):
    body: str = Field(max_length=ws.NOTE_MAX)
    visibility: Literal["internal", "customer"] = Field(
        "internal", description="internal: staff only; customer: the customer reads it")


class ReviewIn(Body):
    decision: Literal["approve", "reject"]
    reason: str | None = Field(None, max_length=400, description="Required to reject; the customer reads it")
    expected_version: Version | None = Field(None, description="The document's version you saw")


class ReasonOut(BaseModel):
    code: str
    label: str


@router.get("/eta-reasons", response_model=list[ReasonOut])
def eta_reasons() -> list[ReasonOut]:
    """The fixed list of reason codes for an ETA change, with the label the customer reads."""
    return [ReasonOut(code=c, label=label) for c, label in ws.eta_reasons()]


@router.patch("/shipments/{reference}/milestones/{code}", response_model=ws.EditResult, responses=CONFLICT)
def edit_milestone(reference: str, code: str, body: MilestoneIn, principal: Staff, db: Db) -> ws.EditResult:
    """Change only the fields sent (null clears a time)."""
    changes = {k: getattr(body, k) for k in ws.MILESTONE_FIELDS if k in body.model_fields_set}
    return ws.edit_milestone(db, principal, reference, code, changes, expected_version=body.expected_version)


@router.post("/shipments/{reference}/eta", response_model=ws.EditResult, responses=CONFLICT)
def change_eta(reference: str, body: EtaIn, principal: Staff, db: Db) -> ws.EditResult:
    return ws.change_eta(db, principal, reference, body.new_eta, body.reason_code, body.reason_text,
                         expected_version=body.expected_version)


@router.post("/shipments/{reference}/assign", response_model=ws.EditResult, responses=CONFLICT)
def assign(reference: str, body: AssignIn, principal: Staff, db: Db) -> ws.EditResult:
    changes = {k: getattr(body, k) for k in ws.ASSIGN_FIELDS if k in body.model_fields_set}
    return ws.assign(db, principal, reference, changes, expected_version=body.expected_version)


@router.get("/shipments/{reference}/assignment", response_model=ws.Assignment)
def get_assignment(reference: str, principal: Staff, db: Db) -> ws.Assignment:
    return ws.assignment(db, principal, reference)


@router.post("/shipments/{reference}/notes", response_model=ws.NoteResult, status_code=201)
def add_note(reference: str, body: NoteIn, principal: Staff, db: Db) -> ws.NoteResult:
    """An internal note (staff only) or a customer-visible update."""
    return ws.add_note(db, principal, reference, body.body, visibility=body.visibility)


@router.post("/shipments/{reference}/documents/{document_id}/review", response_model=ws.ReviewResult,
             responses={409: {}})
def review_document(reference: str, document_id: Id, body: ReviewIn, principal: Staff, db: Db) -> ws.ReviewResult:
    return ws.review_document(db, principal, reference, document_id, approve=body.decision == "approve",
                              reason=body.reason, expected_version=body.expected_version)


@router.get("/shipments/{reference}/audit", response_model=PageOut[ws.AuditRow])
def audit_trail(reference: str, principal: Staff, db: Db, page: PageNo = 1, page_size: PageSize = 25
                ) -> PageOut[ws.AuditRow]:
    return PageOut.of(ws.audit_trail(db, principal, reference, page=page, page_size=page_size))


@router.get("/shipments/{reference}/closeout", response_model=ws.Closeout, responses={404: {}})
def get_closeout(reference: str, principal: Staff, db: Db) -> ws.Closeout:
    """The closeout checklist (final documents, invoice issued, tasks closed, no open exception), from the moment
    the shipment's last milestone has happened; `version` is what `close` takes as `expected_version`."""
    return ws.closeout(db, principal, reference)


@router.post("/shipments/{reference}/close", response_model=ws.EditResult, responses={**CONFLICT, 404: {}})
def close_shipment(reference: str, body: ws.CloseInput, principal: Staff, db: Db) -> ws.EditResult:
    """Close the shipment (status closed). Refused (409 `closeout_incomplete`, `error.fields` per item) while a
    checklist item is not done, unless an ops manager gives `override_reason`."""
    return ws.close_shipment(db, principal, reference, body)
