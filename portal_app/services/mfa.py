"""Two-factor sign-in for people: enrol an authenticator app, confirm it, turn it off, the admins' reset and the
company policy. The codes themselves are checked in portal_app/auth/mfa.py; the rules are in docs/identity.md.

Every function acts for the verified principal. A customer admin reaches only colleagues of the same company; an
administrator of the forwarder reaches anyone. Another company's user and a missing one are both 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import segno
import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from models import Company, LoginAttempt, MfaRecoveryCode, PortalEvent, User
from models.enums import PortalEventKind
from portal_app.auth import mfa, sign_in_limits
from portal_app.auth.passwords import verify_password
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.sessions import UNKNOWN_ADDRESS, forget_principals, revoke_user_sessions
from portal_app.services import audit, clock, email_outbox, pdf
from portal_app.services.accounts import colleagues_of
from portal_app.services.errors import (
    Conflict,
    ErrorCode,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from portal_app.services.inputs import Body

CODE_FIELD = Field(max_length=12, description="The 6-digit code of the authenticator app (or a recovery code)")


class TotpEnrolment(BaseModel):
    """A new authenticator secret, waiting for its first code. Shown once; stored only encrypted."""

    secret: str = Field(description="Base32 secret to type into an authenticator app")
    otpauth_uri: str = Field(description="otpauth://totp/... URI, what the QR code holds")
    qr_svg: str = Field(description="The QR code of otpauth_uri as an SVG data: URI")


class TotpConfirm(Body):
    code: str = CODE_FIELD


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(description="Ten one-time codes, shown only now; each signs in once")


class MfaOff(Body):
    """Either a current code (or a recovery code) or your password proves it is you."""

    code: str | None = Field(default=None, max_length=12)
    password: str | None = Field(default=None, max_length=256)


class MfaProof(MfaOff):
    """Either a current code (or a recovery code) or your password proves it is you."""


class MfaPolicyBody(Body):
    required: bool = Field(description="Everyone of your company must sign in with a second factor")


class MfaStatus(BaseModel):
    """The caller's two-factor sign-in and the policy that applies to them."""

    enabled: bool
    enabled_at: datetime | None = None
    pending: bool = Field(description="A secret was made but not yet confirmed with a first code")
    recovery_codes_left: int
    required: bool = Field(description="The company (or the staff policy) requires a second factor")


class MfaPolicy(BaseModel):
    company_id: int
    required: bool


@dataclass(frozen=True)
class MfaReset:
    """A person's second factor was removed by an admin; their sessions ended."""

    user_id: int
    full_name: str
    sessions_ended: int


def _me(db: Session, principal: Principal) -> User:
    user = db.get(User, principal.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("Your session has ended. Sign in again; nothing was changed.")
    return user


def _requires(db: Session, user: User) -> bool:
    company = db.get(Company, user.company_id)
    return mfa.must_enrol(user.role, False, bool(company and company.mfa_required))


def _codes_left(db: Session, user_id: int) -> int:
    return db.exec(select(sa.func.count()).select_from(MfaRecoveryCode).where(
        col(MfaRecoveryCode.user_id) == user_id, col(MfaRecoveryCode.used_at).is_(None))).one()


def status(db: Session, principal: Principal) -> MfaStatus:
    user = _me(db, principal)
    assert user.id is not None  # a stored row
    enabled = user.mfa_enabled_at is not None
    return MfaStatus(enabled=enabled, enabled_at=user.mfa_enabled_at,
                     pending=not enabled and user.mfa_secret is not None,
                     recovery_codes_left=_codes_left(db, user.id) if enabled else 0, required=_requires(db, user))


def qr_svg(uri: str) -> str:
    """The QR code of an otpauth URI, drawn on the server (segno) as an SVG data URI."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2, title="QR code for your authenticator app")


def start_enrolment(db: Session, principal: Principal) -> TotpEnrolment:
    """A new secret for the caller (replacing one not yet confirmed). Refused while two-factor sign-in is on."""
    user = _me(db, principal)
    if user.mfa_enabled_at is not None:
        raise Conflict("Two-factor sign-in is already on for your account. To use another authenticator app, turn "
                       "it off first, then set it up again. Nothing was changed.", code=ErrorCode.MFA_ALREADY_ENABLED)
    secret = mfa.new_secret()
    user.mfa_secret = mfa.seal(secret)
    user.mfa_last_step = None
    db.add(user)
    db.commit()
    uri = mfa.provisioning_uri(secret, user.email, pdf.issuer_name(db))
    return TotpEnrolment(secret=secret, otpauth_uri=uri, qr_svg=qr_svg(uri))


def confirm_enrolment(db: Session, principal: Principal, code: str) -> RecoveryCodes:
    """Switch two-factor sign-in on with the first code of the new secret; answer ten recovery codes, once."""
    user = _me(db, principal)
    assert user.id is not None  # a stored row
    if user.mfa_enabled_at is not None:
        raise Conflict("Two-factor sign-in is already on for your account. Nothing was changed.",
                       code=ErrorCode.MFA_ALREADY_ENABLED)
    secret = mfa.unseal(user.mfa_secret)
    if secret is None:
        raise Conflict("Start by setting up an authenticator app (Set up two-factor sign-in), then enter its code. "
                       "Nothing was changed.", code=ErrorCode.MFA_NOT_STARTED)
    now = clock.now()
    step = mfa.matching_step(secret, mfa.clean_code(code), now, None)
    if step is None:
        raise ValidationFailed(
            "That code does not match. Check that the authenticator app shows this account, then enter the "
            "6-digit code it shows now. Two-factor sign-in is not on yet.",
            code=ErrorCode.INVALID_OTP, fields={"code": "Enter the current 6-digit code."})
    codes = mfa.new_recovery_codes()
    db.exec(sa.delete(MfaRecoveryCode).where(col(MfaRecoveryCode.user_id) == user.id))
    db.add_all([MfaRecoveryCode(user_id=user.id, code_hash=mfa.recovery_hash(c), created_at=now) for c in codes])
    user.mfa_enabled_at, user.mfa_last_step = now, step  # the confirming code cannot sign in again
    user.version += 1
    db.add(user)
    audit.record(db, principal, "mfa_enabled", "user", user.id, user.company_id, {"mfa": False}, {"mfa": True})
    db.commit()
    forget_principals()  # a person who had to enrol may use everything at once
    return RecoveryCodes(recovery_codes=codes)


def _record_wrong(db: Session, user: User, ip: str | None) -> None:
    db.add(LoginAttempt(email=user.email, user_id=user.id, ip_address=ip or UNKNOWN_ADDRESS, succeeded=False,
                        reason=sign_in_limits.WRONG_CODE))
    db.add(PortalEvent(kind=PortalEventKind.LOGIN_FAILED, user_id=user.id, company_id=user.company_id,
                       detail=sign_in_limits.WRONG_CODE))


def _prove(db: Session, user: User, code: str | None, password: str | None, ip: str | None, *,
           missing: str, wrong: str) -> None:
    """The caller proves it is them with a current code (or recovery code) or the password before a change to
    their second factor. A wrong one counts as a failed sign-in (auth/sign_in_limits.py), and a paused account is
    refused, so a borrowed session cannot guess its way through. ``missing``/``wrong``: what the refusals say."""
    if not (code or "").strip() and not password:
        raise ValidationFailed(missing, fields={"code": "Enter a code or your password."})
    now = clock.now()
    verdict = sign_in_limits.assess(db, user.email, ip or UNKNOWN_ADDRESS, now)
    if verdict.refusal is not None:
        raise verdict.refusal
    proven = (bool((code or "").strip()) and mfa.accept_code(db, user, code, now) is not None) or (
        bool(password) and verify_password(user.password_hash, password or ""))
    if not proven:
        db.rollback()
        _record_wrong(db, user, ip)
        db.commit()
        raise ValidationFailed(wrong, code=ErrorCode.INVALID_OTP)


def _enrolled_me(db: Session, principal: Principal) -> User:
    user = _me(db, principal)
    if user.mfa_enabled_at is None:
        raise Conflict("Two-factor sign-in is not on for your account. Nothing was changed.",
                       code=ErrorCode.MFA_NOT_ENABLED)
    return user


def disable(db: Session, principal: Principal, *, code: str | None = None, password: str | None = None,
            ip: str | None = None) -> MfaStatus:
    """Turn the caller's two-factor sign-in off, proven by a current code (or recovery code) or the password."""
    user = _enrolled_me(db, principal)
    assert user.id is not None  # a stored row
    _prove(db, user, code, password, ip,
           missing="Enter a current code from your authenticator app, or your password, to turn two-factor "
                   "sign-in off. Nothing was changed.",
           wrong="That code or password is not right. Two-factor sign-in is still on; nothing was changed.")
    _switch_off(db, user)
    audit.record(db, principal, "mfa_disabled", "user", user.id, user.company_id, {"mfa": True}, {"mfa": False})
    db.commit()
    forget_principals()
    return status(db, principal)


def regenerate_recovery_codes(db: Session, principal: Principal, *, code: str | None = None,
                              password: str | None = None, ip: str | None = None) -> RecoveryCodes:
    """Ten new recovery codes for the caller, proven as :func:`disable` is; every earlier code stops working at
    once (used or not). Answered once: only their hashes are kept."""
    user = _enrolled_me(db, principal)
    assert user.id is not None  # a stored row
    _prove(db, user, code, password, ip,
           missing="Enter a current code from your authenticator app (or a recovery code), or your password, to "
                   "make new recovery codes. Your old codes still work; nothing was changed.",
           wrong="That code or password is not right. Your old recovery codes still work; nothing was changed.")
    left = _codes_left(db, user.id)
    codes = mfa.new_recovery_codes()
    now = clock.now()
    db.exec(sa.delete(MfaRecoveryCode).where(col(MfaRecoveryCode.user_id) == user.id))
    db.add_all([MfaRecoveryCode(user_id=user.id, code_hash=mfa.recovery_hash(c), created_at=now) for c in codes])
    audit.record(db, principal, "mfa_recovery_codes_regenerated", "user", user.id, user.company_id,
                 {"recovery_codes_left": left}, {"recovery_codes_left": len(codes)})
    db.commit()
    return RecoveryCodes(recovery_codes=codes)


def _switch_off(db: Session, user: User) -> None:
    user.mfa_secret = user.mfa_enabled_at = user.mfa_last_step = None
    user.version += 1
    user.updated_at = clock.now()
    db.add(user)
    db.exec(sa.delete(MfaRecoveryCode).where(col(MfaRecoveryCode.user_id) == user.id))


def _person_to_reset(db: Session, principal: Principal, user_id: int) -> User:
    if principal.can(Permission.MANAGE_USERS):
        user = db.get(User, user_id)
    elif principal.can(Permission.MANAGE_COMPANY_USERS):
        user = db.exec(select(User).where(colleagues_of(principal), col(User.id) == user_id)).first()
    else:
        raise PermissionDenied("Only an administrator can reset someone's two-factor sign-in. Nothing was changed.")
    if user is None:
        raise NotFound("There is no such person among those you manage. Reload the list; nothing was changed.")
    if user.id == principal.user_id:
        raise ValidationFailed("You cannot reset your own second factor. Turn it off on your account page (with a "
                               "code or your password), or ask another admin. Nothing was changed.",
                               code=ErrorCode.SELF_CHANGE)
    return user


def reset(db: Session, principal: Principal, user_id: int) -> MfaReset:
    """Remove a person's second factor (a lost phone): their sessions end, the reset is audited and they are told
    by email. If a policy requires two-factor sign-in, they set it up again at their next sign-in."""
    user = _person_to_reset(db, principal, user_id)
    assert user.id is not None  # a stored row
    before = {"mfa": user.mfa_enabled_at is not None}
    _switch_off(db, user)
    ended = revoke_user_sessions(db, user.id, reason="mfa_reset")
    audit.record(db, principal, "mfa_reset", "user", user.id, user.company_id, before, {"mfa": False})
    now = clock.now()
    email_outbox.queue_account_notice(
        db, user_id=user.id, to_address=user.email, subject="Your two-factor sign-in was reset",
        paragraphs=[
            f"Hello {user.full_name},",
            (f"{principal.full_name} ({principal.email}) removed the authenticator app from your account, so you "
            "sign in with your password alone until you set up two-factor sign-in again (your company may ask you "
            "to do that right after signing in). You were signed out everywhere."),
            "If you did not ask for this, tell your administrator or your forwarder at once.",
        ],
        dedup_key=f"mfa-reset:{user.id}:{now.isoformat()}", now=now,
    )
    db.commit()
    forget_principals()
    return MfaReset(user_id=user.id, full_name=user.full_name, sessions_ended=ended)


def set_policy(db: Session, principal: Principal, required: bool) -> MfaPolicy:
    """Require (or stop requiring) two-factor sign-in for everyone of the caller's company: a customer admin for
    their company, an administrator for the forwarder's staff. Whoever has not enrolled sets it up at their next
    step. The admin must have it on first, so switching it on never locks them into enrolment."""
    if not (principal.can(Permission.MANAGE_COMPANY_USERS) or principal.can(Permission.MANAGE_USERS)):
        raise PermissionDenied("Only an admin of your company can change who must use two-factor sign-in. "
                               "Nothing was changed.")
    if not isinstance(required, bool):
        raise ValidationFailed("'required' must be true or false. Nothing was changed.")
    company = db.get(Company, principal.company_id)
    if company is None:
        raise NotFound("Your company was not found. Nothing was changed.")
    assert company.id is not None  # a stored row
    me = _me(db, principal)
    if required and me.mfa_enabled_at is None:
        raise Conflict("Set up two-factor sign-in for yourself first (on your account page), then require it for "
                       "everyone. Nothing was changed.", code=ErrorCode.MFA_NOT_ENABLED)
    if company.mfa_required != required:
        audit.record(db, principal, "mfa_policy_changed", "company", company.id, company.id,
                     {"mfa_required": company.mfa_required}, {"mfa_required": required})
        company.mfa_required = required
        company.version += 1
        company.updated_at = clock.now()
        db.add(company)
        db.commit()
        forget_principals()
    return MfaPolicy(company_id=company.id, required=company.mfa_required)


def policy(db: Session, principal: Principal) -> MfaPolicy:
    company = db.get(Company, principal.company_id)
    if company is None or company.id is None:
        raise NotFound("Your company was not found.")
    return MfaPolicy(company_id=company.id, required=company.mfa_required)

