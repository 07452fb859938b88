"""Sign-in, server-side sessions, sign-out and password change.

The browser holds a random token in an HttpOnly cookie; the database keeps only its SHA-256. Every attempt is a
``LoginAttempt`` row; ``auth/sign_in_limits.py`` turns them into pauses and delays per address and per email without
letting a stranger lock the owner out. Unknown emails get exactly the same answers and cost the same argon2 work as
known ones; only the right password learns that an account or its company has been deactivated.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from models import Company, LoginAttempt, PortalEvent, User, UserSession
from models.enums import PortalEventKind, Role
from portal_app.auth import mfa, principal_epoch, sign_in_limits, sso_policy
from portal_app.auth.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from portal_app.auth.principal import Principal
from portal_app.services import audit, clock
from portal_app.services.errors import ErrorCode, NotAuthenticated, ValidationFailed
from portal_app.settings import settings

SESSION_COOKIE = "portal_session"
# Attempts without a client address (a direct call, a Unix socket) are counted together under this one.
UNKNOWN_ADDRESS = "unknown"
INVALID_CREDENTIALS = (
    "The email or password is not right. Check both and try again; "
    "after several failed attempts sign-in is paused for a few minutes."
)
DEACTIVATED_MESSAGES = {
    sign_in_limits.ACCOUNT_INACTIVE: (
        "Your account has been deactivated, so you cannot sign in. Ask your company's portal administrator or "
        "your forwarder to reactivate it."
    ),
    sign_in_limits.COMPANY_INACTIVE: (
        "Your company's access to the portal has been switched off, so you cannot sign in. Contact your forwarder "
        "to have it switched on again."
    ),
}
API_KEY_DEACTIVATED_MESSAGES = {
    sign_in_limits.ACCOUNT_INACTIVE: (
        "The user this API key acts as has been deactivated, so the key no longer works. Ask your company's portal "
        "administrator or your forwarder; nothing was changed."
    ),
    sign_in_limits.COMPANY_INACTIVE: (
        "The company this API key belongs to has had its portal access switched off, so the key no longer works. "
        "Contact your forwarder; nothing was changed."
    ),
}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_at: datetime
    principal: Principal


def _record_failure(db: Session, email: str, user: User | None, address: str, reason: str) -> None:
    db.add(LoginAttempt(email=email, user_id=user.id if user else None, ip_address=address, succeeded=False,
                        reason=reason))
    db.add(
        PortalEvent(
            kind=PortalEventKind.LOGIN_FAILED,
            user_id=user.id if user else None,
            company_id=user.company_id if user else None,
            detail=reason,
        )
    )
    # The audit trail keeps who was tried from where; an unknown email is named only to staff (no company).
    audit.record(db, None, "sign_in_failed", "user" if user else "sign_in", user.id if user else "unknown",
                 user.company_id if user else None, None, {"email": email, "reason": reason}, address=address)


def deactivation(db: Session, user: User) -> str | None:
    """``account_inactive`` or ``company_inactive`` when the user or its company is deactivated, else None."""
    if not user.is_active:
        return sign_in_limits.ACCOUNT_INACTIVE
    company = db.get(Company, user.company_id)
    return sign_in_limits.COMPANY_INACTIVE if company is None or not company.is_active else None


def answer_delay(db: Session, email: str) -> float:
    """Seconds to wait before answering a sign-in for ``email`` (sign_in_limits, rule 4).

    Ends its read, so the session holds no database connection while the answer waits.
    """
    try:
        return sign_in_limits.answer_delay(db, normalize_email(email)[:254], clock.now())
    finally:
        db.rollback()


MFA_REQUIRED_MESSAGE = (
    "Enter the 6-digit code from your authenticator app, or one of your recovery codes, to finish signing in."
)
WRONG_CODE_MESSAGE = (
    "That code is not right, or it was used already. Enter the current 6-digit code from your authenticator app "
    "(or an unused recovery code); after several wrong codes sign-in is paused for a few minutes."
)
PENDING_EXPIRED_MESSAGE = (
    "The code step of signing in has expired (it lasts five minutes). Enter your email and password again."
)


class MfaRequired(NotAuthenticated):
    """The password was right and the account has two-factor sign-in: a code is needed. ``pending_token`` lets
    the sign-in page ask for the code alone (auth/mfa.py); JSON clients send the code with the password."""

    code = ErrorCode.MFA_REQUIRED

    def __init__(self, pending_token: str) -> None:
        super().__init__(MFA_REQUIRED_MESSAGE)
        self.pending_token = pending_token


def login(
    db: Session, email: str, password: str, *, otp: str | None = None, pending: str | None = None,
    ip: str | None = None, user_agent: str | None = None
) -> LoginResult:
    """Check credentials and open a session. Raises NotAuthenticated or RateLimited with a message to show.

    A deactivated account or company is named only to someone who typed the right password; everyone else gets
    the same ``invalid_credentials`` as for an unknown email. An account with two-factor sign-in also needs
    ``otp`` (a TOTP code or a recovery code), else ``MfaRequired``. ``pending`` (the sign-in page's code step)
    stands for a password checked less than five minutes ago (auth/mfa.py).
    """
    verified = mfa.pending_user(db, pending) if pending else None
    if pending and verified is None:
        raise NotAuthenticated(PENDING_EXPIRED_MESSAGE, code=ErrorCode.MFA_EXPIRED)
    email = verified.email if verified is not None else normalize_email(email)[:254]
    address = ip or UNKNOWN_ADDRESS
    now = clock.now()
    user = verified or (db.exec(select(User).where(User.email == email)).first() if email else None)

    verdict = sign_in_limits.assess(db, email, address, now)
    if verdict.refusal is not None:
        _record_failure(db, email, user, address, verdict.reason)
        db.commit()
        raise verdict.refusal
    if sso_policy.password_refused(db, email, None):
        _record_failure(db, email, user, address, ErrorCode.SSO_REQUIRED)
        db.commit()
        raise NotAuthenticated(sso_policy.SSO_REQUIRED_MESSAGE, code=ErrorCode.SSO_REQUIRED)

    password_ok = verified is not None or verify_password(user.password_hash if user else None, password or "")
    if user is None or not password_ok:
        _record_failure(db, email, user, address, sign_in_limits.WRONG_PASSWORD)
        if verdict.pause_begins_with_another_failure:
            db.add(PortalEvent(kind=PortalEventKind.LOCKOUT, user_id=user.id if user else None,
                               company_id=user.company_id if user else None))
        db.commit()
        raise NotAuthenticated(INVALID_CREDENTIALS, code=ErrorCode.INVALID_CREDENTIALS)

    deactivated = deactivation(db, user)
    if deactivated is not None:
        _record_failure(db, email, user, address, deactivated)
        db.commit()
        raise NotAuthenticated(DEACTIVATED_MESSAGES[deactivated], code=deactivated)
    if sso_policy.password_refused(db, email, user):
        _record_failure(db, email, user, address, ErrorCode.SSO_REQUIRED)
        db.commit()
        raise NotAuthenticated(sso_policy.SSO_REQUIRED_MESSAGE, code=ErrorCode.SSO_REQUIRED)

    if user.mfa_enabled_at is not None:
        _check_second_factor(db, user, otp, verdict, address, now)

    if verified is None and needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
    return sign_in_verified(db, user, ip=address, user_agent=user_agent)


def sign_in_verified(db: Session, user: User, *, ip: str | None, user_agent: str | None,
                     reason: str | None = None, mfa_by_provider: bool = False,
                     audit_detail: dict[str, object] | None = None) -> LoginResult:
    """Open a session for a user whose identity has been proven (a password, or single sign-on with
    ``reason="sso"``): the successful attempt is recorded, the session row written and committed.

    ``mfa_by_provider``: single sign-on whose provider asserted a multi-factor sign-in, trusted by the connection;
    the session meets the two-factor policy without the portal's own second factor (kept on the session row)."""
    address = ip or UNKNOWN_ADDRESS
    user.last_login_at = clock.now()
    db.add(user)
    db.add(LoginAttempt(email=user.email, user_id=user.id, ip_address=address, succeeded=True, reason=reason))
    db.add(PortalEvent(kind=PortalEventKind.LOGIN, user_id=user.id, company_id=user.company_id, detail=reason))
    token, row = _open_session(db, user, ip=address, user_agent=user_agent, mfa_by_provider=mfa_by_provider)
    audit.record(db, None, "sign_in", "user", user.id, user.company_id, None,
                 {"session": row.id, "method": reason or "password", **(audit_detail or {})},
                 address=address).actor_id = user.id
    db.commit()
    principal = _principal_for(db, user, row.id)
    company = db.get(Company, user.company_id)
    enrol = not mfa_by_provider and mfa.must_enrol(user.role, user.mfa_enabled_at is not None,
                                                   bool(company and company.mfa_required))
    return LoginResult(token=token, expires_at=row.expires_at,
                       principal=dataclasses.replace(principal, mfa_enrolment_required=enrol))


def _check_second_factor(db: Session, user: User, otp: str | None, verdict: sign_in_limits.Assessment,
                         address: str, now: datetime) -> None:
    """After the right password: no code asks for one (nothing recorded); a wrong one counts as a wrong password."""
    if not (otp or "").strip():
        db.rollback()
        raise MfaRequired(mfa.pending_token(user))
    if mfa.accept_code(db, user, otp, now) is None:
        db.rollback()
        _record_failure(db, user.email, user, address, sign_in_limits.WRONG_CODE)
        if verdict.pause_begins_with_another_failure:
            db.add(PortalEvent(kind=PortalEventKind.LOCKOUT, user_id=user.id, company_id=user.company_id))
        db.commit()
        raise NotAuthenticated(WRONG_CODE_MESSAGE, code=ErrorCode.INVALID_OTP)


def _open_session(db: Session, user: User, *, ip: str | None, user_agent: str | None,
                  mfa_by_provider: bool = False) -> tuple[str, UserSession]:
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
        mfa_by_provider=mfa_by_provider,
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
        timezone=user.timezone,
        locale=user.locale,
    )


# A page sends an event for every click and filter, and each one checks the session. The principal of a live session
# is kept in this process for a moment, so a burst of events makes one lookup, not one each. Ending sessions
# (sign-out, password change, deactivation) and changing a role clear it in this process at once; with Redis
# (several workers) they also move a shared counter (``auth/principal_epoch.py``), and a remembered principal is used
# only under the counter value it was looked up under, so every other worker sees the change at its next event.
# The HTTP API does not use it: it looks up every request.
PRINCIPAL_CACHE_SECONDS = 2.0
_MAX_CACHED = 20_000
_recent: dict[str, tuple[float, int | None, Principal]] = {}


def recent_principal(token: str | None, epoch: int | None = None) -> Principal | None:
    """The principal looked up for ``token`` less than PRINCIPAL_CACHE_SECONDS ago under the shared counter value
    ``epoch`` (None without Redis), if any."""
    hit = _recent.get(token or "")
    if hit is None or hit[0] < time.monotonic() or hit[1] != epoch:
        return None
    return hit[2]


def remember_principal(token: str, principal: Principal, epoch: int | None = None) -> None:
    if len(_recent) >= _MAX_CACHED:
        _recent.clear()
    _recent[token] = (time.monotonic() + PRINCIPAL_CACHE_SECONDS, epoch, principal)


def forget_principals(db: Session | None = None) -> None:
    """Drop every remembered principal (sessions ended or roles changed: the next event looks up again), here and,
    through the shared counter, in every other worker; with ``db``, once more when its transaction commits (an
    event between now and then may have looked up the change's old state)."""
    _recent.clear()
    principal_epoch.bump()
    if db is not None:
        sa.event.listen(db, "after_commit", lambda _session: forget_principals(), once=True)


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
            Company.name, Company.is_active, User.timezone, User.locale, User.mfa_enabled_at, Company.mfa_required,
            UserSession.mfa_by_provider,
        )
        .join(User, User.id == UserSession.user_id)
        .join(Company, Company.id == User.company_id)
        .where(UserSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    (session_id, revoked_at, expires_at, last_seen_at, user_id, company_id, role, email, full_name, user_active,
     company_name, company_active, timezone, locale, mfa_enabled_at, company_requires_mfa, mfa_by_provider) = row
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
        timezone=timezone,
        locale=locale,
        mfa_enrolment_required=not mfa_by_provider and mfa.must_enrol(role, mfa_enabled_at is not None,
                                                                      bool(company_requires_mfa)),
    )


def logout(db: Session, token: str | None, *, ip: str | None = None) -> bool:
    """Revoke the session of ``token``. True when a live session was ended."""
    if not token:
        return False
    sess = db.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).first()
    if sess is None or sess.revoked_at is not None:
        return False
    sess.revoked_at = clock.now()
    sess.revoked_reason = "logout"
    forget_principals(db)
    db.add(sess)
    db.add(PortalEvent(kind=PortalEventKind.LOGOUT, user_id=sess.user_id))
    user = db.get(User, sess.user_id)
    audit.record(db, None, "sign_out", "user", sess.user_id, user.company_id if user else None, None,
                 {"session": sess.id}, address=ip).actor_id = sess.user_id
    db.commit()
    return True


def revoke_user_sessions(db: Session, user_id: int, *, reason: str, keep_session_id: int | None = None) -> int:
    forget_principals(db)
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
            code=ErrorCode.WRONG_CURRENT_PASSWORD,
        )
    problem = password_problem(new_password or "", email=user.email)
    if problem:
        raise ValidationFailed(f"The new password is too weak: {problem} Your password was not changed.",
                               code=ErrorCode.WEAK_PASSWORD)
    if verify_password(user.password_hash, new_password):
        raise ValidationFailed("Choose a password different from the current one. Your password was not changed.",
                               code=ErrorCode.SAME_PASSWORD)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = clock.now()
    user.version += 1
    db.add(user)
    ended = revoke_user_sessions(db, user.id, reason="password_changed", keep_session_id=principal.session_id)
    db.add(PortalEvent(kind=PortalEventKind.PASSWORD_CHANGED, user_id=user.id, company_id=user.company_id))
    audit.record(db, principal, "password_changed", "user", user.id, user.company_id, None, {"sessions_ended": ended})
    db.commit()
    return ended


# A key's last use (time and client address) is written at most this often, so a busy client's reads stay reads.
API_KEY_USE_EVERY = timedelta(minutes=1)
API_KEY_SCOPE_READ = "read"
API_KEY_SCOPE_READ_WRITE = "read_write"


def principal_from_api_key(db: Session, raw_key: str | None, *, ip: str | None = None) -> Principal | None:
    """The principal an API key acts as (its user, with that user's role today), or None for an unknown key.

    A known key that no longer works says why (``api_key_revoked``, ``api_key_expired``, ``account_inactive``,
    ``company_inactive``): only its holder can present it, so this tells nobody else anything. A working key's
    last use (time and ``ip``, the client address) is recorded at most once per ``API_KEY_USE_EVERY``.
    """
    from dataclasses import replace

    from sqlmodel import col

    from models import ApiKey  # local import keeps the common path light

    if not raw_key or len(raw_key) > 200:
        return None
    key = db.exec(select(ApiKey).where(ApiKey.key_hash == hash_token(raw_key))).first()
    if key is None:
        return None
    now = clock.now()
    if key.revoked_at is not None:
        raise NotAuthenticated("This API key has been revoked. Create a new key and use that one.",
                               code=ErrorCode.API_KEY_REVOKED)
    if key.expires_at is not None and key.expires_at <= now:
        raise NotAuthenticated("This API key has expired. Create a new key and use that one.",
                               code=ErrorCode.API_KEY_EXPIRED)
    user = db.get(User, key.user_id)
    if user is None or user.company_id != key.company_id:
        return None
    deactivated = deactivation(db, user)
    if deactivated is not None:
        raise NotAuthenticated(API_KEY_DEACTIVATED_MESSAGES[deactivated], code=deactivated)
    if key.last_used_at is None or now - key.last_used_at >= API_KEY_USE_EVERY:
        # Conditional, so several workers seeing the same stale value write once between them; the worker that
        # writes it also puts the use on the audit trail (so at most one entry a minute for a busy key).
        written = db.exec(
            sa.update(ApiKey)
            .where(col(ApiKey.id) == key.id,
                   sa.or_(col(ApiKey.last_used_at).is_(None), col(ApiKey.last_used_at) <= now - API_KEY_USE_EVERY))
            .values(last_used_at=now, last_used_ip=(ip or UNKNOWN_ADDRESS)[:64])
        ).rowcount
        if written:
            audit.record(db, None, "api_key_used", "api_key", key.id, key.company_id, None, {"prefix": key.prefix},
                         address=ip).actor_id = user.id
        db.commit()
    principal = _principal_for(db, user, None, api_key_id=key.id)
    return replace(principal, read_only=key.scopes != API_KEY_SCOPE_READ_WRITE)
