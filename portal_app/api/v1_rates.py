"""REST v1: rate cards for ops managers: list, read, create, edit, deactivate, and import a CSV or Excel file
(all or nothing, with a report of every bad row)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import Field
from sqlmodel import Session

from portal_app.api.deps import current_principal, get_db
from portal_app.api.exports import CSV_TYPE
from portal_app.api.import_uploads import read_import_file
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import rate_cards as svc
from portal_app.services.inputs import Body, Id, PageNo, Version, rows_per_page
from portal_app.services.paging import PageOut

router = APIRouter(prefix="/api/v1", tags=["rate cards"])

Caller = Annotated[Principal, Depends(current_principal)]
Db = Annotated[Session, Depends(get_db)]
PageSize = rows_per_page(svc.MAX_PAGE_SIZE)


class RateCardIn(svc.RateCardInput):
    expected_version: Version | None = Field(None, description="Updates: the version you saw (409 if it changed)")


class ActiveIn(Body):
    expected_version: Version | None = None


@router.get("/rate-cards", response_model=PageOut[svc.RateCardRow])
def list_rate_cards(
    principal: Caller,
    db: Db,
    mode: Annotated[str | None, Query(max_length=12)] = None,
    origin: Annotated[str | None, Query(max_length=5)] = None,
    destination: Annotated[str | None, Query(max_length=5)] = None,
    state: Annotated[str | None, Query(description="active, expired, future, inactive")] = None,
    carrier: Annotated[str | None, Query(max_length=10, description="carrier code, e.g. MAEU or LH")] = None,
    page: PageNo = 1,
    page_size: PageSize = 50,
) -> PageOut[svc.RateCardRow]:
    result = svc.list_rate_cards(db, principal, mode=mode, origin=origin, destination=destination, state=state,
                                 carrier=carrier, page=page, page_size=page_size)
    return PageOut.of(result)


@router.get("/rate-cards/import-template.csv", response_class=Response, responses={200: {"content": {CSV_TYPE: {}}}})
def import_template(principal: Caller) -> Response:
    """An example file in the import layout (one row per charge)."""
    principal.require(Permission.MANAGE_RATES)
    return Response(svc.import_template_csv(), media_type=CSV_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="rate-cards-template.csv"'})


_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary", "description": ".csv or .xlsx"}},
        }}},
    }
}


@router.post("/rate-cards/import", response_model=svc.ImportReport, status_code=201, openapi_extra=_IMPORT_BODY,
             responses={403: {}, 422: {"description": "Refused whole: `error.problems` lists row, column, problem"}})
async def import_rate_cards(request: Request, principal: Caller, db: Db) -> svc.ImportReport:
    """Import rate cards from CSV or Excel (multipart field `file`). Any bad row refuses the whole file (422 with
    every problem); nothing is imported."""
    principal.require(Permission.MANAGE_RATES)
    name, data = await read_import_file(request, svc.MAX_IMPORT_BYTES, "rates.csv")
    return await run_in_threadpool(svc.import_rate_cards, db, principal, name, data)


@router.get("/rate-cards/{card_id}", response_model=svc.RateCardView, responses={404: {}})
def get_rate_card(card_id: Id, principal: Caller, db: Db) -> svc.RateCardView:
    return svc.get_rate_card(db, principal, card_id)


@router.post("/rate-cards", response_model=svc.RateCardView, status_code=201, responses={403: {}, 422: {}})
def create_rate_card(body: RateCardIn, principal: Caller, db: Db) -> svc.RateCardView:
    return svc.create_rate_card(db, principal, body)


@router.put("/rate-cards/{card_id}", response_model=svc.RateCardView, responses={403: {}, 404: {}, 409: {}, 422: {}})
def update_rate_card(card_id: Id, body: RateCardIn, principal: Caller, db: Db) -> svc.RateCardView:
    """Replace the card's fields and charges (options already offered keep their prices)."""
    return svc.update_rate_card(db, principal, card_id, body,
                                expected_version=body.expected_version)


@router.post("/rate-cards/{card_id}/deactivate", response_model=svc.RateCardView, responses={403: {}, 404: {}, 409: {}})
def deactivate_rate_card(card_id: Id, body: ActiveIn, principal: Caller, db: Db) -> svc.RateCardView:
    return svc.set_rate_card_active(db, principal, card_id, False, expected_version=body.expected_version)


@router.post("/rate-cards/{card_id}/activate", response_model=svc.RateCardView, responses={403: {}, 404: {}, 409: {}})
def activate_rate_card(card_id: Id, body: ActiveIn, principal: Caller, db: Db) -> svc.RateCardView:
    return svc.set_rate_card_active(db, principal, card_id, True, expected_version=body.expected_version)
