"""REST v1: shipments, scoped to the caller (a customer's session or key sees only its company)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlmodel import Session

from portal_app.api import exports
from portal_app.api.deps import current_principal, get_db
from portal_app.auth.principal import Principal
from portal_app.services import audit, clock
from portal_app.services import shipment_activity as activity
from portal_app.services import shipments as svc
from portal_app.services.inputs import IsoDate, PageNo, rows_per_page
from portal_app.services.paging import PageOut

router = APIRouter(prefix="/api/v1", tags=["shipments"])


def filters_from(request: Request) -> svc.ShipmentFilters:
    """Filters from the query string (any company parameter is ignored: the principal decides)."""
    params = {key: request.query_params.getlist(key) for key in svc.FILTER_PARAMS}
    return svc.ShipmentFilters.from_params(params)


Text = Annotated[str | None, Query(max_length=40)]
Day = Annotated[IsoDate | None, Query(description="YYYY-MM-DD")]
PageSize = rows_per_page(svc.MAX_PAGE_SIZE)


@router.get("/shipments", response_model=PageOut[svc.ShipmentRow])
def list_shipments(
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    db: Annotated[Session, Depends(get_db)],
    status: Annotated[list[str] | None, Query(
        description="Repeat to match any of several statuses; active = every status before delivery")] = None,
    mode: Annotated[str | None, Query()] = None,
    q: Annotated[str | None,
                 Query(max_length=40, description="Any reference: shipment, booking, BL, AWB, container, PO")] = None,
    origin: Text = None,
    destination: Text = None,
    etd_from: Day = None,
    etd_to: Day = None,
    eta_from: Day = None,
    eta_to: Day = None,
    delayed: Annotated[bool, Query(description="Only shipments running late and not yet delivered")] = False,
    page: PageNo = 1,
    page_size: PageSize = 25,
    sort: Annotated[str, Query()] = "updated",
) -> PageOut[svc.ShipmentRow]:
    return PageOut.of(svc.list_shipments(db, principal, filters_from(request), page=page, page_size=page_size,
                                         sort=sort))


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
    audit.exported(db, principal, "shipments", format, dict(request.query_params))
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    if format == "xlsx":
        return exports.xlsx_download([sheet], f"shipments-{stamp}.xlsx")
    return exports.csv_download(sheet, f"shipments-{stamp}.csv")


@router.get("/shipments/{reference}", response_model=svc.ShipmentDetail, responses={404: {"description": "Not found"}})
def get_shipment(
    reference: str,
    principal: Annotated[Principal, Depends(current_principal)],
    db: Annotated[Session, Depends(get_db)],
) -> svc.ShipmentDetail:
    return svc.get_shipment(db, principal, reference)


class FollowOut(BaseModel):
    following: bool


@router.get("/shipments/{reference}/eta-changes", response_model=list[activity.EtaChangeView])
def eta_changes(
    reference: str, principal: Annotated[Principal, Depends(current_principal)], db: Annotated[Session, Depends(get_db)]
) -> list[activity.EtaChangeView]:
    """Every change of the estimated arrival, newest first, with its reason."""
    return activity.eta_history(db, principal, reference)


@router.get("/shipments/{reference}/updates", response_model=list[activity.UpdateView])
def shipment_updates(
    reference: str, principal: Annotated[Principal, Depends(current_principal)], db: Annotated[Session, Depends(get_db)]
) -> list[activity.UpdateView]:
    """The status narrative ops writes; customers receive only customer-visible updates."""
    return activity.updates(db, principal, reference)


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
