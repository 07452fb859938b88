"""REST v1: tower KPIs (ops managers and admins) as JSON, and each table as a streamed CSV download."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from portal_app.api import exports
from portal_app.api.deps import get_db
from portal_app.api.v1_tower import tower_principal
from portal_app.auth.principal import Principal
from portal_app.services import audit, clock
from portal_app.services import kpis as svc
from portal_app.services.inputs import IsoDate
from portal_app.services.spreadsheets import Sheet

router = APIRouter(prefix="/api/v1/kpis", tags=["kpis"], dependencies=[Depends(tower_principal)])
Staff = Annotated[Principal, Depends(tower_principal)]
Db = Annotated[Session, Depends(get_db)]
Since = Annotated[IsoDate | None, Query(description="First day (UTC, YYYY-MM-DD), default 30 days before the last")]
Until = Annotated[IsoDate | None, Query(description="Last day (UTC, YYYY-MM-DD, inclusive), default today")]
ModeQ = Annotated[str | None, Query(description="ocean_fcl, ocean_lcl, air, road_ftl, road_ltl")]
Customer = Annotated[str | None, Query(max_length=20, description="Company id or code")]


def _query(since: date | None, until: date | None, mode: str | None, customer: str | None) -> svc.KpiQuery:
    today = clock.today()
    until = until or today
    return svc.KpiQuery(since=since or until - timedelta(days=30), until=until, mode=mode or None,
                        customer=customer or None)


@router.get("", response_model=svc.KpiReport)
def get_kpis(principal: Staff, db: Db, since: Since = None, until: Until = None, mode: ModeQ = None,
             customer: Customer = None) -> svc.KpiReport:
    """Every KPI table for the range, mode and customer."""
    return svc.KpiReport.of(svc.compute(db, principal, _query(since, until, mode, customer)))


@router.get("/{table}.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}, 403: {}, 422: {}})
def export_table(table: str, principal: Staff, db: Db, since: Since = None, until: Until = None,
                 mode: ModeQ = None, customer: Customer = None) -> StreamingResponse:
    """One KPI table as CSV: on_time, lanes, exceptions, sla, requests or health."""
    query = _query(since, until, mode, customer)
    rows = svc.table_rows(svc.compute(db, principal, query), table)
    title, columns = svc.TABLES[table]
    audit.exported(db, principal, f"kpi_{table}", "csv", {"since": str(query.since), "until": str(query.until)})
    return exports.csv_download(Sheet.of(title, columns, rows), f"kpi-{table}-{query.since}-{query.until}.csv")
