"""REST v1: shipments imported from the forwarder's TMS (CSV or Excel), all or nothing, with a report of every bad
row; and the template to start from. Staff with the import permission only (ops managers and admins)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from sqlmodel import Session

from portal_app.api.deps import current_principal, get_db
from portal_app.api.exports import CSV_TYPE, XLSX_TYPE, _read_and_close
from portal_app.api.import_uploads import read_import_file
from portal_app.auth.principal import Principal
from portal_app.services import shipment_import as svc

router = APIRouter(prefix="/api/v1", tags=["shipment import"])

Caller = Annotated[Principal, Depends(current_principal)]
Db = Annotated[Session, Depends(get_db)]

_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary",
                                    "description": ".csv (shipments, then milestones under their own header) or "
                                                   ".xlsx (sheets Shipments and Milestones)"}},
        }}},
    }
}


@router.get("/shipments/import/template", response_class=Response,
            responses={200: {"content": {CSV_TYPE: {}, XLSX_TYPE: {}}}, 403: {}})
def import_template(principal: Caller, db: Db,
                    format: Annotated[Literal["csv", "xlsx"], Query(description="csv or xlsx")] = "csv") -> Response:
    """The import layout with two example shipments and their milestones (they import as they are)."""
    if format == "xlsx":
        file = svc.import_template_xlsx(db, principal)
        return StreamingResponse(_read_and_close(file), media_type=XLSX_TYPE,
                                 headers={"Content-Disposition": 'attachment; filename="shipments-template.xlsx"'})
    return Response(svc.import_template_csv(db, principal), media_type=CSV_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="shipments-template.csv"'})


@router.post("/shipments/import", response_model=svc.ImportReport, status_code=201, openapi_extra=_IMPORT_BODY,
             responses={403: {}, 409: {}, 413: {},
                        422: {"description": "Refused whole: `error.problems` lists sheet, row, column, problem"}})
async def import_shipments(request: Request, principal: Caller, db: Db) -> svc.ImportReport:
    """Import shipments from CSV or Excel (multipart field `file`). Any bad row refuses the whole file (422 with
    every problem); nothing is imported. A shipment already in the portal (same reference) is updated."""
    svc.require_import(principal)
    name, data = await read_import_file(request, svc.MAX_IMPORT_BYTES, "shipments.csv")
    return await run_in_threadpool(svc.import_shipments, db, principal, name, data)
