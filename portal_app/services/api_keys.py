"""API keys for a customer's or the forwarder's software: create (the key is shown once), list, revoke.

Who manages which keys (``Permission.MANAGE_API_KEYS``):

- a customer admin: the keys of their own company (every admin's of that company, so IT can revoke a colleague's);
- a staff administrator: every key of the installation, staff and customer alike (a forwarder's admin must be able
  to stop any key); the keys they create are staff keys acting as themselves.

A key acts as the person who created it, with that person's role as it is at each request, inside that person's
company; it stops working when it is revoked, expires, or its creator or company is deactivated
(``auth/sessions.py::principal_from_api_key``). ``read`` keys may only read: the API refuses them every method but
GET, HEAD and OPTIONS (:func:`check_method`). Keys are created and revoked by a signed-in person, never with
another key, so a leaked key cannot mint a successor that outlives its revocation, nor revoke the others.

Only the SHA-256 of a key is stored (the key is 256 random bits, so a fast hash is enough); its first characters
(``prefix``) identify it in lists. Creating and revoking are written to the audit log.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from pydantic import Field
from sqlmodel import Session, col, select

from models import ApiKey, Company, User
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.auth.sessions import API_KEY_SCOPE_READ, API_KEY_SCOPE_READ_WRITE, hash_token
from portal_app.services import audit, clock
from portal_app.services.errors import (
    Conflict,
    ErrorCode,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from portal_app.services.inputs import Body
from portal_app.services.paging import Page, check_paging

KEY_PREFIX = "pk_"
PREFIX_LENGTH = 12  # "pk_" and nine random characters: enough to tell keys apart in a list, useless to guess with
NAME_MIN, NAME_MAX = 2, 80
DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 730
MAX_PAGE_SIZE = 100
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SCOPE_LABELS = {API_KEY_SCOPE_READ: "Read only", API_KEY_SCOPE_READ_WRITE: "Read and write"}
NOTHING_SAVED = "Nothing was saved."

Scope = Literal["read", "read_write"]


class NewApiKey(Body):
    """A key to create: the API's body and what the account pages' form is parsed into."""

    name: str = Field(max_length=NAME_MAX, description="What the key is for, e.g. 'ERP nightly sync'")
    scope: Scope = Field(default="read", description="read: only reads (GET); read_write: also changes")
    expires_in_days: int = Field(default=DEFAULT_EXPIRY_DAYS, ge=1, le=MAX_EXPIRY_DAYS,
                                 description=f"Days until the key stops working, 1 to {MAX_EXPIRY_DAYS}")


@dataclass(frozen=True)
class CreatedApiKey:
    """A new key. ``key`` is the secret itself: in this answer only, never stored or shown again."""

    id: int
    key: str
    prefix: str
    name: str
    scope: str
    expires_at: datetime


@dataclass(frozen=True)
class ApiKeyRow:
    """One key in a list: everything about it but the secret."""

    id: int
    name: str
    prefix: str
    scope: str
    company_name: str
    created_by: str
    created_by_email: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    last_used_ip: str | None
    revoked_at: datetime | None
    status: str  # active | expired | revoked


def can_manage(principal: Principal) -> bool:
    return principal.can(Permission.MANAGE_API_KEYS)


def check_method(principal: Principal, method: str) -> None:
    """A ``read`` key may only read: any other method is refused before the route runs."""
    if principal.read_only and method.upper() not in SAFE_METHODS:
        raise PermissionDenied(
            "This API key may only read (its scope is read), so nothing was changed. Ask an administrator of your "
            "company for a key with the scope read_write if this software needs to make changes.",
            code=ErrorCode.API_KEY_READ_ONLY)


def _require_manager(principal: Principal, *, changing: bool) -> None:
    if not can_manage(principal):
        raise PermissionDenied(
            "Only an administrator of your company can manage API keys. Ask one of them to create or revoke the "
            "key. " + NOTHING_SAVED)
    if changing and principal.api_key_id is not None:
        raise PermissionDenied(
            "API keys are created and revoked by a signed-in administrator, not with another API key. Sign in and "
            "use Your account. " + NOTHING_SAVED, code=ErrorCode.API_KEY_NEEDS_SIGN_IN)


def _clean_name(name: str) -> str:
    value = " ".join((name or "").split())
    if not NAME_MIN <= len(value) <= NAME_MAX:
        raise ValidationFailed(
            f"Name: use {NAME_MIN} to {NAME_MAX} characters that say what the key is for, e.g. ERP nightly sync. "
            + NOTHING_SAVED, code=ErrorCode.INVALID_NAME, fields={"name": f"Use {NAME_MIN} to {NAME_MAX} characters."})
    return value


def status_of(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> str:
    if revoked_at is not None:
        return "revoked"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "active"


def create_key(db: Session, principal: Principal, new: NewApiKey) -> CreatedApiKey:
    """A new key acting as ``principal`` in its company. The answer holds the key; only its hash is kept."""
    _require_manager(principal, changing=True)
    name = _clean_name(new.name)
    now = clock.now()
    taken = db.exec(
        select(ApiKey.id).where(
            ApiKey.company_id == principal.company_id, sa.func.lower(ApiKey.name) == name.lower(),
            col(ApiKey.revoked_at).is_(None), sa.or_(col(ApiKey.expires_at).is_(None), col(ApiKey.expires_at) > now),
        )
    ).first()
    if taken is not None:
        raise Conflict(
            f"Your company already has a working key called {name!r}. Choose another name (or revoke that key "
            "first). " + NOTHING_SAVED, code=ErrorCode.DUPLICATE_NAME, fields={"name": "This name is in use."})
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=name, prefix=secret[:PREFIX_LENGTH], key_hash=hash_token(secret), user_id=principal.user_id,
        company_id=principal.company_id, scopes=new.scope, created_at=now,
        expires_at=now + timedelta(days=new.expires_in_days),
    )
    db.add(row)
    db.flush()
    assert row.id is not None and row.expires_at is not None
    audit.record(db, principal, "api_key_created", "api_key", row.id, row.company_id, None,
                 {"name": name, "prefix": row.prefix, "scope": row.scopes, "expires_at": row.expires_at})
    db.commit()
    return CreatedApiKey(id=row.id, key=secret, prefix=row.prefix, name=name, scope=row.scopes,
                         expires_at=row.expires_at)


def _rows_query(principal: Principal) -> sa.Select:
    return (
        sa.select(col(ApiKey.id), col(ApiKey.name), col(ApiKey.prefix), col(ApiKey.scopes), col(Company.name),
                  col(User.full_name), col(User.email), col(ApiKey.created_at), col(ApiKey.expires_at),
                  col(ApiKey.last_used_at), col(ApiKey.last_used_ip), col(ApiKey.revoked_at))
        .join(User, col(User.id) == ApiKey.user_id)
        .join(Company, col(Company.id) == ApiKey.company_id)
        .where(company_filter(col(ApiKey.company_id), principal))
    )


def _row(values: tuple, now: datetime) -> ApiKeyRow:
    (key_id, name, prefix, scope, company_name, created_by, email, created_at, expires_at, last_used_at,
     last_used_ip, revoked_at) = values
    return ApiKeyRow(id=key_id, name=name, prefix=prefix, scope=scope, company_name=company_name,
                     created_by=created_by, created_by_email=email, created_at=created_at, expires_at=expires_at,
                     last_used_at=last_used_at, last_used_ip=last_used_ip, revoked_at=revoked_at,
                     status=status_of(revoked_at, expires_at, now))


def list_keys(db: Session, principal: Principal, page: int = 1, page_size: int = 50) -> Page[ApiKeyRow]:
    """The keys ``principal`` manages, newest first: a customer admin's company's, or every key for staff."""
    _require_manager(principal, changing=False)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    total = db.exec(
        select(sa.func.count()).select_from(ApiKey).where(company_filter(col(ApiKey.company_id), principal))
    ).one()
    values = db.execute(
        _rows_query(principal).order_by(col(ApiKey.created_at).desc(), col(ApiKey.id).desc())
        .offset((page - 1) * page_size).limit(page_size)
    ).all()
    now = clock.now()
    return Page([_row(tuple(v), now) for v in values], total, page, page_size)


def get_key(db: Session, principal: Principal, key_id: int) -> ApiKeyRow:
    _require_manager(principal, changing=False)
    values = db.execute(_rows_query(principal).where(col(ApiKey.id) == key_id)).first()
    if values is None:
        raise NotFound("There is no such API key among the keys you manage. Reload the list.")
    return _row(tuple(values), clock.now())


def revoke_key(db: Session, principal: Principal, key_id: int) -> ApiKeyRow:
    """Stop a key at once. Revoking a revoked key changes nothing; another company's key is NotFound."""
    _require_manager(principal, changing=True)
    current = get_key(db, principal, key_id)
    if current.revoked_at is not None:
        return current
    now = clock.now()
    changed = db.exec(
        sa.update(ApiKey).where(col(ApiKey.id) == key_id, col(ApiKey.revoked_at).is_(None)).values(revoked_at=now)
    ).rowcount
    if changed:
        company_id = db.exec(select(ApiKey.company_id).where(col(ApiKey.id) == key_id)).one()
        audit.record(db, principal, "api_key_revoked", "api_key", key_id, company_id,
                     {"name": current.name, "prefix": current.prefix, "status": current.status},
                     {"status": "revoked"})
    db.commit()
    return get_key(db, principal, key_id)
