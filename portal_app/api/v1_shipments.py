"""REST v1: shipments, scoped to the caller (a customer's session or key sees only its company)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlmodel import Session

from portal_app.api import exports
from portal_app.api.deps import current_principal, get_db
from portal_app.auth.principal import Principal
from portal_app.services import clock
from portal_app.services import shipment_activity as activity
from portal_app.services import shipments as svc
from portal_app.services.inputs import IsoDate, PageNo, rows_per_page

router = APIRouter(prefix="/api/v1", tags=["shipments"])


class ShipmentOut(BaseModel):
    reference: str
    company_name: str
    mode: str
    status: str
    origin: str
    origin_name: str
    destination: str
    destination_name: str
    carrier: str | None
    etd: datetime | None
    eta: datetime | None
    ata: datetime | None
    delay_minutes: int
    customer_po: str | None
    updated_at: datetime


class ShipmentPageOut(BaseModel):
    items: list[ShipmentOut]
    total: int
    page: int
    page_size: int
    pages: int


class MilestoneOut(BaseModel):
    sequence: int
    code: str
    name: str
    event_code: str | None
    location: str | None
    planned_at: datetime | None
    estimated_at: datetime | None
    actual_at: datetime | None
    source: str


class ContainerOut(BaseModel):
    number: str
    size_type: str
    seal_number: str | None


class ShipmentDetailOut(ShipmentOut):
    incoterm: str | None
    shipper_name: str | None
    consignee_name: str | None
    vessel_name: str | None
    voyage_number: str | None
    flight_number: str | None
    booking_number: str | None
    mbl_number: str | None
    hbl_number: str | None
    awb_number: str | None
    cargo_description: str | None
    packages: int | None
    gross_weight_kg: float | None
    volume_cbm: float | None
    version: int
    milestones: list[MilestoneOut]
    containers: list[ContainerOut]


def filters_from(request: Request) -> svc.ShipmentFilters:
    """Filters from the query string (any company parameter is ignored: the principal decides)."""
    params = {key: request.query_params.getlist(key) for key in svc.FILTER_PARAMS}
    return svc.ShipmentFilters.from_params(params)


Text = Annotated[str | None, Query(max_length=40)]
Day = Annotated[IsoDate | None, Query(description="YYYY-MM-DD")]
PageSize = rows_per_page(svc.MAX_PAGE_SIZE)


@router.get("/shipments", response_model=ShipmentPageOut)
def list_shipments(
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    db: Annotated[Session, Depends(get_db)],
    status: Annotated[list[str] | None, Query(description="Repeat to match any of several statuses")] = None,
    mode: Annotated[str | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=40, description="Any reference: shipment, booking, BL, AWB, container, PO")] = None,
    origin: Text = None,
    destination: Text = None,
    etd_from: Day = None,
    etd_to: Day = None,
    eta_from: Day = None,
    eta_to: Day = None,
    delayed: Annotated[bool, Query(description="Only shipments running late")] = False,
    page: PageNo = 1,
    page_size: PageSize = 25,
    sort: Annotated[str, Query()] = "updated",
) -> ShipmentPageOut:
    result = svc.list_shipments(db, principal, filters_from(request), page=page, page_size=page_size, sort=sort)
    return ShipmentPageOut(
        items=[ShipmentOut(**r.__dict__) for r in result.rows],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
        pages=result.pages,
    )


@router.get(
    "/shipments/export",
    responses={200: {"content": {exports.CSV_TYPE: {}, exports.XLSX_TYPE: {}}}},
    response_class=Response,
)
def export_shipments(
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    db: Annotated[Session, Depends(get_db)],
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
    sort: Annotated[str, Query()] = "updated",
) -> Response:
    """The filtered list (same filters as the list) as CSV (streamed) or Excel, at most 200,000 rows. Text that
    a spreadsheet would run as a formula starts with an apostrophe; a missing date is an empty cell."""
    sheet = svc.export_sheet(db, principal, filters_from(request), sort=sort)
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    if format == "xlsx":
        return exports.xlsx_download([sheet], f"shipments-{stamp}.xlsx")
    return exports.csv_download(sheet, f"shipments-{stamp}.csv")


@router.get("/shipments/{reference}", response_model=ShipmentDetailOut, responses={404: {"description": "Not found"}})
def get_shipment(
    reference: str,
    principal: Annotated[Principal, Depends(current_principal)],
    db: Annotated[Session, Depends(get_db)],
) -> ShipmentDetailOut:
    d = svc.get_shipment(db, principal, reference)
    fields = {k: v for k, v in d.__dict__.items() if k not in ("row", "milestones", "containers")}
    return ShipmentDetailOut(
        **d.row.__dict__,
        **fields,
        milestones=[MilestoneOut(**m.__dict__) for m in d.milestones],
        containers=[ContainerOut(**c.__dict__) for c in d.containers],
    )


class EtaChangeOut(BaseModel):
    changed_at: datetime
    previous_eta: datetime | None
    new_eta: datetime
    shift_hours: float | None
    reason_code: str
    reason: str
    source: str


class UpdateOut(BaseModel):
    created_at: datetime
    body: str
    author: str
    visibility: str


class FollowOut(BaseModel):
    following: bool


@router.get("/shipments/{reference}/eta-changes", response_model=list[EtaChangeOut])
def eta_changes(
    reference: str, principal: Annotated[Principal, Depends(current_principal)], db: Annotated[Session, Depends(get_db)]
) -> list[EtaChangeOut]:
    """Every change of the estimated arrival, newest first, with its reason."""
    return [EtaChangeOut(**c.__dict__) for c in activity.eta_history(db, principal, reference)]


@router.get("/shipments/{reference}/updates", response_model=list[UpdateOut])
def shipment_updates(
    reference: str, principal: Annotated[Principal, Depends(current_principal)], db: Annotated[Session, Depends(get_db)]
) -> list[UpdateOut]:
    """The status narrative ops writes; customers receive only customer-visible updates."""
    return [UpdateOut(**u.__dict__) for u in activity.updates(db, principal, reference)]


@router.put("/shipments/{reference}/follow", response_model=FollowOut)
def follow(
    reference: str, principal: Annotated[Principal, Depends(current_principal)], db: Annotated[Session, Depends(get_db)]
) -> FollowOut:
    return FollowOut(following=activity.set_following(db, principal, reference, True))


@router.delete("/shipments/{reference}/follow", response_model=FollowOut)
def unfollow(
    reference: str, principal: Annotated[Principal, Depends(current_principal)], db: Annotated[Session, Depends(get_db)]
) -> FollowOut:
    return FollowOut(following=activity.set_following(db, principal, reference, False))
