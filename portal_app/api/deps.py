"""Request dependencies: a database session per request and the acting principal from cookie or API key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy import event
from sqlmodel import Session

from portal_app.auth.principal import Principal
from portal_app.auth.sessions import (
    SESSION_COOKIE,
    principal_from_api_key,
    resolve_session,
)
from portal_app.db import database_unavailable, get_engine
from portal_app.services import api_keys
from portal_app.services.errors import ErrorCode, NotAuthenticated, PermissionDenied

ENROL_FIRST = (
    "Your company requires two-factor sign-in: set up an authenticator app first (POST /api/v1/account/mfa/totp, "
    "or the page you are taken to after signing in). Nothing else is available until then; nothing was changed."
)


COMMITTED = "portal_committed"


def get_db(request: Request) -> Iterator[Session]:
    """The request's session. It stays on ``request.state`` so an error answer can tell whether the request had
    already committed (``committed``) before the database stopped answering."""
    session = Session(get_engine(), expire_on_commit=False)
    request.state.db_session = session
    try:
        yield session
    except BaseException:
        _unless_database_gone(session.rollback)
        raise
    finally:
        # The answer may be on its way already: a connection the database cut (a restart) cannot roll back, and
        # the pool discards it; that is no error of this request.
        _unless_database_gone(session.close)


def _unless_database_gone(step: Callable[[], None]) -> None:
    try:
        step()
    except sa.exc.SQLAlchemyError as exc:
        if not database_unavailable(exc):
            raise


@event.listens_for(Session, "after_commit")
def _remember_commit(session: Session) -> None:
    session.info[COMMITTED] = True


def committed(request: Request) -> bool:
    """Whether the request's session committed something (so it was saved, whatever failed after)."""
    session = getattr(request.state, "db_session", None)
    return bool(session is not None and session.info.get(COMMITTED))


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _verified_principal(request: Request, db: Session) -> Principal | None:
    """The caller: an API key when the request carries one (the cookie is then ignored), else the session cookie.

    A ``read`` key is refused (403 ``api_key_read_only``) for any method but GET, HEAD and OPTIONS, on every route.
    """
    key = bearer_token(request)
    if key is not None:
        principal = principal_from_api_key(db, key, ip=client_ip(request))
        if principal is not None:
            api_keys.check_method(principal, request.method)
    else:
        principal = resolve_session(db, request.cookies.get(SESSION_COOKIE))
    return replace(principal, address=client_ip(request)) if principal is not None else None


def optional_principal(request: Request, db: Session = Depends(get_db)) -> Principal | None:
    principal = _verified_principal(request, db)
    if principal is not None and principal.mfa_enrolment_required:
        raise PermissionDenied(ENROL_FIRST, code=ErrorCode.MFA_ENROLMENT_REQUIRED)
    return principal


def current_principal(principal: Principal | None = Depends(optional_principal)) -> Principal:
    if principal is None:
        raise NotAuthenticated("Sign in first (or send a valid API key); your session may have ended.")
    return principal


def enrolling_principal(request: Request, db: Session = Depends(get_db)) -> Principal:
    """The caller of the two-factor enrolment routes: also someone who must enrol before anything else."""
    principal = _verified_principal(request, db)
    if principal is None:
        raise NotAuthenticated("Sign in first (or send a valid API key); your session may have ended.")
    return principal


def client_ip(request: Request) -> str | None:
    """The client's address as ClientAddressMiddleware decided it (X-Forwarded-For only from trusted proxies)."""
    return request.client.host if request.client else None
