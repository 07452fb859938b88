"""REST v1 for staff administrators: the installation's state (what the tower's System page shows).

Administrators only (their session or API key): a customer, an ops agent or an ops manager gets 403 ``admin_only``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlmodel import Session

from portal_app.api.deps import current_principal, get_db
from portal_app.auth.principal import Principal
from portal_app.services import system_status


def admin_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """The caller, refused (403) unless a staff administrator."""
    system_status.require_viewer(principal)
    return principal


router = APIRouter(prefix="/api/v1/admin", tags=["administration"], dependencies=[Depends(admin_principal)])
Admin = Annotated[Principal, Depends(admin_principal)]
Db = Annotated[Session, Depends(get_db)]


@router.get("/system", responses={403: {"description": "Not a staff administrator"}})
def system(principal: Admin, db: Db) -> dict[str, Any]:
    """The installation's state now: `version`; `database` (`kind` SQLite or PostgreSQL, `reachable`, the
    database's alembic `revision`, the code's `head`, `at_head`); `redis` (`not_used`, `reachable`,
    `unreachable`); `queues` (emails and webhook deliveries `waiting`, `oldest_at`, `oldest_age_seconds`); the last
    `rule_pass` (`started_at`, `seconds`, `ok`, `opened`, `resolved`, `present`, `error`); the last `backup`
    (`created_at`, `path`, `size_bytes` and its manifest's summary); the customer-view `audit` (`checked_at`,
    `counts` per check, `total`); recent unexpected `errors` (newest first: `occurred_at`, `source` api or page,
    `location` route template or handler, `error_id`, `error_type`). A section the database must answer is null
    when it does not; `rule_pass`, `backup` and `audit` are null until one has run. Times are ISO 8601 UTC."""
    return system_status.as_json(system_status.snapshot(db, principal))
