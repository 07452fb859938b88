"""REST v1: bookings and changes: ops confirm or reject requested bookings; customers ask to amend or cancel a
booking and ops decide. Scoped to the caller (another company's shipment or request is 404)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlmodel import Session

from portal_app.api.deps import current_principal, get_db
from portal_app.auth.principal import Principal
from portal_app.services import bookings as svc
from portal_app.services.inputs import Body, Id, PageNo, Version, rows_per_page
from portal_app.services.paging import PageOut

router = APIRouter(prefix="/api/v1", tags=["bookings"])

Caller = Annotated[Principal, Depends(current_principal)]
Db = Annotated[Session, Depends(get_db)]
PageSize = rows_per_page(svc.MAX_PAGE_SIZE)


class ConfirmIn(Body):
    carrier_booking_number: str | None = Field(None, max_length=40)
    note: str | None = Field(None, max_length=400, description="Shown to the customer with the confirmation")
    expected_version: Version | None = Field(None, description="The shipment version you saw (409 if it changed)")


class RejectIn(Body):
    reason: str = Field(max_length=400, description="Shown to the customer")
    expected_version: Version | None = None


class DecisionOut(BaseModel):
    shipment_reference: str
    status: str


class ChangeIn(Body):
    kind: Literal["amend", "cancel"]
    changes: dict[str, str] = Field(default_factory=dict,
                                    description="amend: field -> new value; fields: " + ", ".join(svc.AMENDABLE_FIELDS))
    reason: str | None = Field(None, max_length=400, description="Why (required to cancel)")


class DecideIn(Body):
    reason: str = Field(max_length=400, description="Shown to the customer")
    expected_version: Version | None = None


@router.get("/bookings/pending", response_model=PageOut[svc.BookingRow])
def pending_bookings(
    principal: Caller, db: Db, page: PageNo = 1, page_size: PageSize = 25
) -> PageOut[svc.BookingRow]:
    """Ops: bookings waiting for confirmation, oldest first."""
    result = svc.pending_bookings(db, principal, page=page, page_size=page_size)
    return PageOut.of(result)


@router.post("/bookings/{reference}/confirm", response_model=DecisionOut, responses={403: {}, 404: {}, 409: {}})
def confirm_booking(reference: str, body: ConfirmIn, principal: Caller, db: Db) -> DecisionOut:
    status = svc.confirm_booking(db, principal, reference, carrier_booking_number=body.carrier_booking_number,
                                 note=body.note, expected_version=body.expected_version)
    return DecisionOut(shipment_reference=reference.strip().upper(), status=status)


@router.post("/bookings/{reference}/reject", response_model=DecisionOut, responses={403: {}, 404: {}, 409: {}})
def reject_booking(reference: str, body: RejectIn, principal: Caller, db: Db) -> DecisionOut:
    status = svc.reject_booking(db, principal, reference, body.reason, expected_version=body.expected_version)
    return DecisionOut(shipment_reference=reference.strip().upper(), status=status)


@router.get("/change-requests", response_model=PageOut[svc.ChangeRequestView])
def list_change_requests(
    principal: Caller,
    db: Db,
    shipment: Annotated[str | None, Query(max_length=20)] = None,
    status: Annotated[str | None, Query(description="pending, approved, rejected")] = None,
    page: PageNo = 1,
    page_size: PageSize = 25,
) -> PageOut[svc.ChangeRequestView]:
    result = svc.list_change_requests(db, principal, shipment_reference=shipment, status=status, page=page,
                                      page_size=page_size)
    return PageOut.of(result)


@router.post("/shipments/{reference}/change-requests", response_model=svc.ChangeRequestView, status_code=201,
             responses={404: {}, 409: {}, 422: {}})
def request_change(reference: str, body: ChangeIn, principal: Caller, db: Db) -> svc.ChangeRequestView:
    """Ask to amend (ready date, cargo, parties) or cancel a booking. Nothing changes until ops approves."""
    if body.kind == "cancel":
        view = svc.request_cancellation(db, principal, reference, body.reason or "")
    else:
        view = svc.request_change(db, principal, reference, dict(body.changes), body.reason)
    return view


@router.post("/change-requests/{change_id}/approve", response_model=svc.ChangeRequestView,
             responses={403: {}, 404: {}, 409: {}})
def approve_change(change_id: Id, body: DecideIn, principal: Caller, db: Db) -> svc.ChangeRequestView:
    return svc.decide_change(db, principal, change_id, True, body.reason, expected_version=body.expected_version)


@router.post("/change-requests/{change_id}/reject", response_model=svc.ChangeRequestView,
             responses={403: {}, 404: {}, 409: {}})
def reject_change(change_id: Id, body: DecideIn, principal: Caller, db: Db) -> svc.ChangeRequestView:
    return svc.decide_change(db, principal, change_id, False, body.reason, expected_version=body.expected_version)
