"""REST v1: the files audit for staff administrators (``GET /api/v1/admin/files-audit``): document rows whose file
is missing and stored files without a row. It reports and changes nothing (services/files_audit.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlmodel import Session

from portal_app.api.deps import current_principal, get_db
from portal_app.auth.principal import Principal
from portal_app.services import files_audit as svc

router = APIRouter(prefix="/api/v1/admin", tags=["administration"])

Caller = Annotated[Principal, Depends(current_principal)]
Db = Annotated[Session, Depends(get_db)]


@router.get("/files-audit", response_model=svc.FilesAuditReport, responses={403: {}})
def files_audit(principal: Caller, db: Db) -> svc.FilesAuditReport:
    """Every document row without its file and every file in private storage without a row, with counts (lists
    hold at most 500 of each). Staff administrators signed in (not API keys); nothing is changed."""
    return svc.audit_files(db, principal)
