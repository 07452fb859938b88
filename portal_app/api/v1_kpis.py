"""REST v1: tower KPIs (ops managers and admins) as JSON, and each table as a streamed CSV download."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlmodel import Session

from portal_app.api import exports
from portal_app.api.deps import get_db
from portal_app.api.v1_tower import tower_principal
from portal_app.auth.principal import Principal
from portal_app.services import clock
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


class KpisOut(BaseModel):
    since: date
    until: date
    mode: str | None
    customer: str | None
    tolerance_hours: int
    computed_at: datetime
    tables: dict[str, list[dict[str, Any]]]
    titles: dict[str, str]


def _query(since: date | None, until: date | None, mode: str | None, customer: str | None) -> svc.KpiQuery:
    today = clock.today()
    until = until or today
    return svc.KpiQuery(since=since or until - timedelta(days=30), until=until, mode=mode or None,
                        customer=customer or None)


@router.get("", response_model=KpisOut)
def get_kpis(principal: Staff, db: Db, since: Since = None, until: Until = None, mode: ModeQ = None,
             customer: Customer = None) -> KpisOut:
    """Every KPI table for the range, mode and customer."""
    result = svc.compute(db, principal, _query(since, until, mode, customer))
    q = result.query
    return KpisOut(since=q.since, until=q.until, mode=q.mode, customer=q.customer,
                   tolerance_hours=result.tolerance_hours, computed_at=result.computed_at,
                   tables={name: [asdict(r) for r in svc.table_rows(result, name)] for name in svc.TABLES},
                   titles={name: title for name, (title, _cols) in svc.TABLES.items()})


@router.get("/{table}.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}, 403: {}, 422: {}})
def export_table(table: str, principal: Staff, db: Db, since: Since = None, until: Until = None,
                 mode: ModeQ = None, customer: Customer = None) -> StreamingResponse:
    """One KPI table as CSV: on_time, lanes, exceptions, sla, requests or health."""
    query = _query(since, until, mode, customer)
    rows = svc.table_rows(svc.compute(db, principal, query), table)
    title, columns = svc.TABLES[table]
    return exports.csv_download(Sheet.of(title, columns, rows), f"kpi-{table}-{query.since}-{query.until}.csv")
