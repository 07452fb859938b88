"""Sign-in, server-side sessions, sign-out and password change.

The browser holds a random token in an HttpOnly cookie; the database keeps only its SHA-256. Failed sign-ins are
recorded per email and per IP address: too many for one email locks it for a while, too many from one address
slows that address down. Unknown emails get exactly the same answers and cost the same argon2 work as known ones.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from models import Company, LoginAttempt, PortalEvent, User, UserSession
from models.enums import PortalEventKind, Role
from portal_app.auth.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from portal_app.auth.principal import Principal
from portal_app.services import clock
from portal_app.services.errors import NotAuthenticated, RateLimited, ValidationFailed
from portal_app.settings import settings

SESSION_COOKIE = "portal_session"
INVALID_CREDENTIALS = (
    "The email or password is not right. Check both and try again; "
    "after several failed attempts sign-in is paused for a few minutes."
)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_at: datetime
    principal: Principal


def _failures_since(db: Session, column: sa.ColumnElement, value: str, since: datetime) -> tuple[int, datetime | None]:
    row = db.exec(
        select(sa.func.count(), sa.func.max(LoginAttempt.created_at)).where(
            column == value,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.created_at >= since,
        )
    ).one()
    return int(row[0]), row[1]


def _record_failure(db: Session, email: str, user: User | None, ip: str | None, reason: str) -> None:
    db.add(LoginAttempt(email=email, user_id=user.id if user else None, ip_address=ip, succeeded=False, reason=reason))
    db.add(
        PortalEvent(
            kind=PortalEventKind.LOGIN_FAILED,
            user_id=user.id if user else None,
            company_id=user.company_id if user else None,
            detail=reason,
        )
    )


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(1, int((until - now).total_seconds() // 60) + 1)


def login(db: Session, email: str, password: str, *, ip: str | None = None, user_agent: str | None = None) -> LoginResult:
    """Check credentials and open a session. Raises NotAuthenticated or RateLimited with a message to show."""
    email = normalize_email(email)[:254]
    now = clock.now()

    window_start = now - timedelta(minutes=settings.login_ip_window_minutes)
    if ip:
        ip_failures, _ = _failures_since(db, LoginAttempt.ip_address, ip, window_start)
        if ip_failures >= settings.login_ip_limit:
            _record_failure(db, email, None, ip, "ip_rate_limited")
            db.commit()
            raise RateLimited(
                "Too many failed sign-ins from your network. Wait a few minutes, then try again.",
                retry_after_seconds=settings.login_ip_window_minutes * 60,
            )

    user = db.exec(select(User).where(User.email == email)).first() if email else None
    password_ok = verify_password(user.password_hash if user else None, password or "")

    lock_start = now - timedelta(minutes=settings.login_lockout_minutes)
    failures, last_failure = _failures_since(db, LoginAttempt.email, email, lock_start)
    if failures >= settings.login_max_failures and last_failure is not None:
        locked_until = last_failure + timedelta(minutes=settings.login_lockout_minutes)
        if locked_until > now:
            _record_failure(db, email, user, ip, "locked")
            db.commit()
            minutes = _minutes_left(locked_until, now)
            raise RateLimited(
                f"Sign-in for this account is paused after repeated failed attempts. Try again in {minutes} "
                "minutes, or reset your password with your administrator.",
                retry_after_seconds=minutes * 60,
                code="account_locked",
            )

    if user is None or not password_ok or not user.is_active:
        _record_failure(db, email, user, ip, "bad_credentials" if user is None or not password_ok else "inactive")
        if user is not None:
            user.failed_login_count += 1
            if failures + 1 >= settings.login_max_failures:
                user.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
                db.add(PortalEvent(kind=PortalEventKind.LOCKOUT, user_id=user.id, company_id=user.company_id))
            db.add(user)
        db.commit()
        raise NotAuthenticated(INVALID_CREDENTIALS, code="invalid_credentials")

    if needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    db.add(user)
    db.add(LoginAttempt(email=email, user_id=user.id, ip_address=ip, succeeded=True))
    db.add(PortalEvent(kind=PortalEventKind.LOGIN, user_id=user.id, company_id=user.company_id))
    token, row = _open_session(db, user, ip=ip, user_agent=user_agent)
    db.commit()
    principal = _principal_for(db, user, row.id)
    return LoginResult(token=token, expires_at=row.expires_at, principal=principal)


def _open_session(db: Session, user: User, *, ip: str | None, user_agent: str | None) -> tuple[str, UserSession]:
    token = secrets.token_urlsafe(32)
    now = clock.now()
    row = UserSession(
        token_hash=hash_token(token),
        user_id=user.id,
        created_at=now,
        expires_at=now + timedelta(hours=settings.session_hours),
        last_seen_at=now,
        ip_address=ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    db.add(row)
    db.flush()
    return token, row


def _principal_for(db: Session, user: User, session_id: int | None, api_key_id: int | None = None) -> Principal:
    company = db.get(Company, user.company_id)
    return Principal(
        user_id=user.id,
        company_id=user.company_id,
        role=Role(user.role),
        email=user.email,
        full_name=user.full_name,
        company_name=company.name if company else "",
        session_id=session_id,
        api_key_id=api_key_id,
    )


# A page sends an event for every click and filter, and each one checks the session. The principal of a live session
# is kept in this process for a moment, so a burst of events makes one lookup, not one each. Ending sessions
# (sign-out, password change, deactivation) and changing a role clear it in this process at once; another worker
# process sees the change within PRINCIPAL_CACHE_SECONDS. The HTTP API does not use it: it looks up every request.
PRINCIPAL_CACHE_SECONDS = 2.0
_MAX_CACHED = 20_000
_recent: dict[str, tuple[float, Principal]] = {}


def recent_principal(token: str | None) -> Principal | None:
    """The principal looked up for ``token`` less than PRINCIPAL_CACHE_SECONDS ago, if any."""
    hit = _recent.get(token or "")
    if hit is None or hit[0] < time.monotonic():
        return None
    return hit[1]


def remember_principal(token: str, principal: Principal) -> None:
    if len(_recent) >= _MAX_CACHED:
        _recent.clear()
    _recent[token] = (time.monotonic() + PRINCIPAL_CACHE_SECONDS, principal)


def forget_principals() -> None:
    """Drop every remembered principal (sessions ended or roles changed: the next event looks up again)."""
    _recent.clear()


def resolve_session(db: Session, token: str | None) -> Principal | None:
    """The principal of a live session token, or None if missing, unknown, expired, revoked or deactivated.

    Runs on every page event, so it reads only the columns it needs (no ORM objects) and writes at most once
    every five minutes (last seen).
    """
    if not token or len(token) > 200:
        return None
    now = clock.now()
    row = db.exec(
        select(
            UserSession.id, UserSession.revoked_at, UserSession.expires_at, UserSession.last_seen_at,
            User.id, User.company_id, User.role, User.email, User.full_name, User.is_active,
            Company.name, Company.is_active,
        )
        .join(User, User.id == UserSession.user_id)
        .join(Company, Company.id == User.company_id)
        .where(UserSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    (session_id, revoked_at, expires_at, last_seen_at, user_id, company_id, role, email, full_name, user_active,
     company_name, company_active) = row
    if revoked_at is not None or expires_at <= now or not user_active or not company_active:
        return None
    if last_seen_at is None or now - last_seen_at > timedelta(minutes=5):
        db.exec(sa.update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))
        db.commit()
    return Principal(
        user_id=user_id,
        company_id=company_id,
        role=Role(role),
        email=email,
        full_name=full_name,
        company_name=company_name,
        session_id=session_id,
    )


def logout(db: Session, token: str | None) -> bool:
    """Revoke the session of ``token``. True when a live session was ended."""
    if not token:
        return False
    sess = db.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).first()
    if sess is None or sess.revoked_at is not None:
        return False
    sess.revoked_at = clock.now()
    sess.revoked_reason = "logout"
    forget_principals()
    db.add(sess)
    db.add(PortalEvent(kind=PortalEventKind.LOGOUT, user_id=sess.user_id))
    db.commit()
    return True


def revoke_user_sessions(db: Session, user_id: int, *, reason: str, keep_session_id: int | None = None) -> int:
    forget_principals()
    stmt = (
        sa.update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=clock.now(), revoked_reason=reason)
    )
    if keep_session_id is not None:
        stmt = stmt.where(UserSession.id != keep_session_id)
    return db.exec(stmt).rowcount  # type: ignore[call-overload]


def change_password(db: Session, principal: Principal, current_password: str, new_password: str) -> int:
    """Change the acting user's own password; every other session of the user ends. Returns sessions ended."""
    user = db.get(User, principal.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("Your session has ended. Sign in again; nothing was changed.")
    if not verify_password(user.password_hash, current_password or ""):
        raise ValidationFailed(
            "Your current password is not right. Type it again; your password was not changed.",
            code="wrong_current_password",
        )
    problem = password_problem(new_password or "", email=user.email)
    if problem:
        raise ValidationFailed(f"The new password is too weak: {problem} Your password was not changed.", code="weak_password")
    if verify_password(user.password_hash, new_password):
        raise ValidationFailed("Choose a password different from the current one. Your password was not changed.", code="same_password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = clock.now()
    user.version += 1
    db.add(user)
    ended = revoke_user_sessions(db, user.id, reason="password_changed", keep_session_id=principal.session_id)
    db.add(PortalEvent(kind=PortalEventKind.PASSWORD_CHANGED, user_id=user.id, company_id=user.company_id))
    db.commit()
    return ended


def principal_from_api_key(db: Session, raw_key: str | None) -> Principal | None:
    """The principal an API key acts as (its user), or None."""
    from models import ApiKey  # local import keeps the common path light

    if not raw_key or len(raw_key) > 200:
        return None
    key = db.exec(select(ApiKey).where(ApiKey.key_hash == hash_token(raw_key))).first()
    now = clock.now()
    if key is None or key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    user = db.get(User, key.user_id)
    if user is None or not user.is_active or user.company_id != key.company_id:
        return None
    return _principal_for(db, user, None, api_key_id=key.id)
