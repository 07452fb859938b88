"""REST v1: who has access. Your own sessions, your personal data, erasing a person, and the audit trail.

The acting person comes from the session or API key only; a session id or user id in the path only names a row,
and one that is not the caller's to see is 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlmodel import Session

from portal_app.api import exports
from portal_app.api.deps import current_principal, get_db
from portal_app.auth.principal import Principal
from portal_app.services import account_sessions, audit_trail, privacy
from portal_app.services.inputs import Id, IsoDate, PageNo, rows_per_page
from portal_app.services.paging import PageOut

router = APIRouter(prefix="/api/v1", tags=["access"])

Caller = Annotated[Principal, Depends(current_principal)]
Db = Annotated[Session, Depends(get_db)]
_ERRORS = {401: {"description": "Not signed in"}, 404: {"description": "Not found or not yours"}}
_ADMIN = {**_ERRORS, 403: {"description": "Administrators only (`admin_only`)"}}


class SessionsOut(BaseModel):
    items: list[account_sessions.SessionView]


class EndedOut(BaseModel):
    ended: int


class ErasedOut(BaseModel):
    erased: bool
    pseudonym: str


@router.get("/account/sessions", response_model=SessionsOut, responses=_ERRORS)
def list_sessions(principal: Caller, db: Db) -> SessionsOut:
    """Where you are signed in: device, address, started, last seen; `current` marks the one making this call."""
    return SessionsOut(items=account_sessions.list_sessions(db, principal))


@router.delete("/account/sessions/{session_id}", response_model=EndedOut,
               responses={**_ERRORS, 422: {"description": "The session making this call (`current_session`)"}})
def end_session(session_id: Id, principal: Caller, db: Db) -> EndedOut:
    """End one of your other sessions: that browser is signed out at its next click."""
    account_sessions.end_session(db, principal, session_id)
    return EndedOut(ended=1)


@router.post("/account/sessions/end-others", response_model=EndedOut, responses=_ERRORS)
def end_other_sessions(principal: Caller, db: Db) -> EndedOut:
    """End every session of yours but the one making this call."""
    return EndedOut(ended=account_sessions.end_other_sessions(db, principal))


@router.get("/account/personal-data", response_class=Response,
            responses={200: {"content": {"application/zip": {}}}, 401: {}})
def personal_data(principal: Caller, db: Db) -> Response:
    """Everything the portal holds about you, as one ZIP of JSON files."""
    archive = privacy.personal_archive(db, principal)
    return Response(archive.content, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{archive.filename}"', "Cache-Control": "private, no-store"})


@router.post("/users/{user_id}/erase", response_model=ErasedOut,
             responses={**_ADMIN, 422: {"description": "Yourself (`self_change`) or erased (`already_erased`)"}})
def erase_user(user_id: Id, principal: Caller, db: Db) -> ErasedOut:
    """Erase a person's personal data (GDPR): name and email become a pseudonym, sessions and keys end, sign-in
    becomes impossible; the company's records stay. Staff admins: anyone; customer admins: their colleagues."""
    return ErasedOut(erased=True, pseudonym=privacy.erase_person(db, principal, user_id))


Category = Annotated[str | None, Query(max_length=20, description=", ".join(audit_trail.CATEGORY_WORDS))]
Search = Annotated[str | None, Query(max_length=100, description="Words in a name, email, action, record or address")]
Day = Annotated[IsoDate | None, Query(description="YYYY-MM-DD, in your time zone")]
PageSize = rows_per_page(audit_trail.MAX_PAGE_SIZE)


@router.get("/audit", response_model=PageOut[audit_trail.AuditEntry], responses=_ADMIN)
def list_audit(principal: Caller, db: Db, category: Category = None, q: Search = None, since: Day = None,
               until: Day = None, page: PageNo = 1,
               page_size: PageSize = audit_trail.PAGE_SIZE) -> PageOut[audit_trail.AuditEntry]:
    """The audit trail, newest first: staff admins see every entry; customer admins their company's sign-ins,
    people, API keys, downloads and exports."""
    query = audit_trail.AuditQuery(category=category, q=q, since=since, until=until)
    return PageOut.of(audit_trail.list_entries(db, principal, query, page=page, page_size=page_size))


@router.get("/audit.csv", response_class=Response, responses={200: {"content": {exports.CSV_TYPE: {}}}, **_ADMIN})
def export_audit(principal: Caller, db: Db, category: Category = None, q: Search = None, since: Day = None,
                 until: Day = None) -> Response:
    """The same entries as CSV (at most 100,000, newest first)."""
    query = audit_trail.AuditQuery(category=category, q=q, since=since, until=until)
    return exports.csv_download(audit_trail.export_sheet(db, principal, query), "audit.csv")
