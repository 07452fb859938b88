"""REST v1: the caller's own notifications (list one page at a time, mark one read, mark all read).

Only the caller's notifications exist here: another user's id answers 404, exactly like a missing one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlmodel import Session

from portal_app.api.deps import current_principal, get_db
from portal_app.auth.principal import Principal
from portal_app.services import notifications as svc
from portal_app.services.inputs import Id, PageNo, rows_per_page

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])

Caller = Annotated[Principal, Depends(current_principal)]
Db = Annotated[Session, Depends(get_db)]
PageSize = rows_per_page(svc.MAX_PAGE_SIZE)
_ERRORS = {401: {"description": "Not signed in"}}


class ReadAllOut(BaseModel):
    marked: int
    unread: int


@router.get("", response_model=svc.NotificationPage, responses={**_ERRORS, 422: {"description": "Bad paging"}})
def list_notifications(principal: Caller, db: Db, page: PageNo = 1, page_size: PageSize = 20,
                       unread_only: bool = False) -> svc.NotificationPage:
    """Your notifications, unread first, then newest first."""
    result = svc.list_notifications(db, principal, page=page, page_size=page_size, unread_only=unread_only)
    return svc.NotificationPage(items=result.rows, total=result.total, unread=svc.unread_count(db, principal),
                                page=result.page, page_size=result.page_size)


@router.post("/read-all", response_model=ReadAllOut, responses=_ERRORS)
def read_all(principal: Caller, db: Db) -> ReadAllOut:
    """Mark every unread notification of yours read."""
    return ReadAllOut(marked=svc.mark_all_read(db, principal), unread=0)


@router.post("/{notification_id}/read", response_model=svc.NotificationRow,
             responses={**_ERRORS, 404: {"description": "No such notification of yours"}})
def read_one(notification_id: Id, principal: Caller, db: Db) -> svc.NotificationRow:
    """Mark one of your notifications read (repeating it changes nothing)."""
    return svc.mark_read(db, principal, notification_id)
