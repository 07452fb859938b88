"""REST v1: API keys of the caller's company (customer admins) or of the installation (staff administrators).

The rules are in ``services/api_keys.py``; a key's id only names the row, and a key the caller does not manage is 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlmodel import Session

from portal_app.api.deps import current_principal, get_db
from portal_app.auth.principal import Principal
from portal_app.services import api_keys as svc
from portal_app.services.inputs import Id, PageNo, rows_per_page
from portal_app.services.paging import PageOut

router = APIRouter(prefix="/api/v1/account/api-keys", tags=["account"])

Caller = Annotated[Principal, Depends(current_principal)]
Db = Annotated[Session, Depends(get_db)]
PageSize = rows_per_page(svc.MAX_PAGE_SIZE)
_ERRORS = {
    401: {"description": "Not signed in, or the key sent is unknown, revoked or expired"},
    403: {"description": "Only administrators manage API keys (`forbidden`); keys are created and revoked by a "
                         "signed-in person (`api_key_needs_sign_in`); a read key cannot change anything "
                         "(`api_key_read_only`)"},
    422: {"description": "Invalid input; nothing saved"},
}


@router.get("", response_model=PageOut[svc.ApiKeyRow], responses=_ERRORS)
def list_api_keys(principal: Caller, db: Db, page: PageNo = 1, page_size: PageSize = 50) -> PageOut[svc.ApiKeyRow]:
    """The keys you manage, newest first (never the keys themselves: only their prefix)."""
    return PageOut.of(svc.list_keys(db, principal, page, page_size))


@router.post("", status_code=201, response_model=svc.CreatedApiKey,
             responses={**_ERRORS, 409: {"description": "A working key of your company has this name"}})
def create_api_key(body: svc.NewApiKey, principal: Caller, db: Db) -> svc.CreatedApiKey:
    """Create a key acting as you. `key` is in this answer only: store it now, it cannot be shown again."""
    return svc.create_key(db, principal, body)


@router.delete("/{key_id}", response_model=svc.ApiKeyRow,
               responses={**_ERRORS, 404: {"description": "No such key among those you manage"}})
def revoke_api_key(key_id: Id, principal: Caller, db: Db) -> svc.ApiKeyRow:
    """Revoke a key: it stops working at once. Revoking a revoked key answers the same row."""
    return svc.revoke_key(db, principal, key_id)
