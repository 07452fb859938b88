"""A person's rights over their personal data (GDPR): a copy of everything the portal holds about them, and erasure.

Erasure replaces the person's name and email with a pseudonym everywhere the portal keeps them (their account,
their sign-in attempts, the emails it sent them, the audit entries about them), ends their sessions and API keys,
and makes sign-in impossible. The company's business records (shipments, invoices, request threads) stay intact:
what the person wrote there stays readable, signed by the pseudonym.
"""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    ApiKey,
    AuditLog,
    EmailAttempt,
    EmailMessage,
    LoginAttempt,
    MfaRecoveryCode,
    Notification,
    NotificationPreference,
    SavedView,
    ShipmentFollower,
    Ticket,
    TicketFollower,
    TicketMessage,
    User,
    UserPreference,
    UserSession,
)
from models.enums import Role
from portal_app.auth import sessions
from portal_app.auth.permissions import CUSTOMER_ROLES, Permission
from portal_app.auth.principal import Principal
from portal_app.services import account_sessions, audit, clock
from portal_app.services.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed

ERASED_DOMAIN = "erased.invalid"  # RFC 2606: never delivers, so nothing is ever sent to an erased person
MAX_ROWS = 10_000  # per kind in the archive: far more than one person has


@dataclass(frozen=True)
class PersonalArchive:
    filename: str
    content: bytes


def _dump(value: Any) -> str:
    return json.dumps(value, default=str, indent=2, ensure_ascii=False)


def _rows(db: Session, stmt: Any) -> list[dict[str, Any]]:
    return [row.model_dump() for row in db.exec(stmt.limit(MAX_ROWS)).all()]


def personal_archive(db: Session, principal: Principal) -> PersonalArchive:
    """Everything the portal holds about the acting person, as one ZIP of JSON files (and a README)."""
    user = db.get(User, principal.user_id)
    if user is None:
        raise NotFound("Your account was not found. Sign in again.")
    profile = user.model_dump(exclude={"password_hash", "mfa_secret", "failed_login_count", "locked_until"})
    me = principal.user_id
    files: dict[str, Any] = {
        "profile.json": profile,
        "sessions.json": [
            {**asdict(s), "user_agent": r.user_agent, "revoked_at": r.revoked_at}
            for r in db.exec(select(UserSession).where(col(UserSession.user_id) == me)
                             .order_by(col(UserSession.id).desc()).limit(MAX_ROWS)).all()
            for s in [account_sessions.SessionView(
                id=r.id or 0, device=account_sessions.device_words(r.user_agent), address=r.ip_address or "",
                started_at=r.created_at, last_seen_at=r.last_seen_at, expires_at=r.expires_at,
                current=r.id == principal.session_id)]
        ],
        "sign_in_attempts.json": _rows(db, select(LoginAttempt).where(col(LoginAttempt.user_id) == me)
                                       .order_by(col(LoginAttempt.id).desc())),
        "notifications.json": _rows(db, select(Notification).where(col(Notification.user_id) == me)
                                    .order_by(col(Notification.id).desc())),
        "notification_preferences.json": _rows(db, select(NotificationPreference)
                                               .where(col(NotificationPreference.user_id) == me)),
        "emails.json": [
            {k: v for k, v in row.items() if k not in {"body_html"}}
            for row in _rows(db, select(EmailMessage).where(col(EmailMessage.user_id) == me)
                             .order_by(col(EmailMessage.id).desc()))
        ],
        "requests.json": _rows(db, select(Ticket).where(col(Ticket.raised_by_id) == me).order_by(col(Ticket.id))),
        "request_messages.json": _rows(db, select(TicketMessage).where(col(TicketMessage.author_id) == me)
                                       .order_by(col(TicketMessage.id))),
        "saved_views.json": _rows(db, select(SavedView).where(col(SavedView.user_id) == me)),
        "followed_shipments.json": _rows(db, select(ShipmentFollower).where(col(ShipmentFollower.user_id) == me)),
        "audit.json": _rows(db, select(AuditLog).where(sa.or_(col(AuditLog.actor_id) == me, sa.and_(
            col(AuditLog.entity_type) == "user", col(AuditLog.entity_id) == str(me))))
            .order_by(col(AuditLog.id).desc())),
        "api_keys.json": [
            {k: v for k, v in row.items() if k != "key_hash"}
            for row in _rows(db, select(ApiKey).where(col(ApiKey.user_id) == me))
        ],
    }
    stamp = clock.now()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", _readme(user, stamp, files))
        for name, value in files.items():
            archive.writestr(name, _dump(value))
    audit.record(db, principal, "personal_data_downloaded", "user", me, user.company_id, None,
                 {"files": len(files)})
    db.commit()
    return PersonalArchive(f"personal-data-{stamp:%Y%m%d}.zip", buffer.getvalue())


def _readme(user: User, at: datetime, files: dict[str, Any]) -> str:
    counts = "\n".join(f"- {name}: {len(v) if isinstance(v, list) else 1} record(s)" for name, v in files.items())
    return (f"Personal data of {user.full_name} <{user.email}>, as held by the portal on {at.isoformat()}.\n\n"
            "Each file is JSON. Times are UTC (ISO 8601). Passwords and second-factor secrets are never exported "
            "(they are stored only as one-way hashes or encrypted); API keys are listed without their secret.\n\n"
            f"{counts}\n")


def _erasable(db: Session, principal: Principal, user_id: int) -> User:
    """The user ``principal`` may erase: staff admins anyone but themselves, customer admins their colleagues."""
    missing = NotFound("No such person in your account. Check the list and try again; nothing was changed.")
    if principal.api_key_id is not None:
        raise PermissionDenied("Erasing a person is done by a signed-in administrator, not with an API key. "
                               "Nothing was changed.", code=ErrorCode.ADMIN_ONLY)
    user = db.get(User, user_id)
    if user is None:
        raise missing
    if principal.can(Permission.MANAGE_USERS):
        pass
    elif principal.can(Permission.MANAGE_COMPANY_USERS):
        if user.company_id != principal.company_id or user.role not in CUSTOMER_ROLES:
            raise missing
    else:
        raise PermissionDenied("Only an administrator can erase a person. Ask your administrator; nothing was "
                               "changed.", code=ErrorCode.ADMIN_ONLY)
    if user.id == principal.user_id:
        raise ValidationFailed("You cannot erase yourself. Ask another administrator; nothing was changed.",
                               code=ErrorCode.SELF_CHANGE)
    if user.erased_at is not None:
        raise ValidationFailed("This person's personal data was already erased. Nothing was changed.",
                               code=ErrorCode.ALREADY_ERASED)
    if user.is_active and user.role == Role.CUSTOMER_ADMIN and _active_admins(db, user.company_id) <= 1:
        raise ValidationFailed(f"{user.full_name} is the last active customer admin of their company. Make another "
                               "colleague an admin first. Nothing was changed.", code=ErrorCode.LAST_ADMIN)
    return user


def _active_admins(db: Session, company_id: int) -> int:
    return db.exec(select(sa.func.count()).select_from(User).where(
        col(User.company_id) == company_id, col(User.role) == Role.CUSTOMER_ADMIN.value,
        col(User.is_active).is_(True))).one()


def erase_person(db: Session, principal: Principal, user_id: int) -> str:
    """Replace the person's personal data by a pseudonym and end their access. Returns the pseudonym's name."""
    user = _erasable(db, principal, user_id)
    old_email = user.email
    tag = secrets.token_hex(4)
    pseudonym = f"Former user {tag}"
    pseudonym_email = f"erased-{user.id}-{tag}@{ERASED_DOMAIN}"
    now = clock.now()
    user.full_name, user.email, user.phone = pseudonym, pseudonym_email, None
    user.password_hash = user.mfa_secret = user.oidc_subject = None
    user.mfa_enabled_at = user.mfa_last_step = None
    user.is_active = False
    user.erased_at = user.updated_at = now
    user.version += 1
    db.add(user)
    sessions.revoke_user_sessions(db, user_id, reason="erased")
    db.exec(sa.update(ApiKey).where(col(ApiKey.user_id) == user_id, col(ApiKey.revoked_at).is_(None))
            .values(revoked_at=now))
    db.exec(sa.update(LoginAttempt).where(sa.or_(col(LoginAttempt.user_id) == user_id,
                                                 col(LoginAttempt.email) == old_email))
            .values(email=pseudonym_email))
    to_them = sa.or_(col(EmailMessage.user_id) == user_id, col(EmailMessage.to_address) == old_email)
    db.exec(sa.delete(EmailAttempt).where(col(EmailAttempt.email_id).in_(select(EmailMessage.id).where(to_them))))
    db.exec(sa.delete(EmailMessage).where(to_them))
    for table in (MfaRecoveryCode, Notification, NotificationPreference, UserPreference, SavedView,
                  ShipmentFollower, TicketFollower):
        db.exec(sa.delete(table).where(sa.column("user_id") == user_id))
    _scrub_audit(db, user, old_email)
    audit.record(db, principal, "user_erased", "user", user_id, user.company_id, None, {"pseudonym": pseudonym})
    db.commit()
    sessions.forget_principals()
    return pseudonym


PERSONAL_KEYS = ("email", "full_name", "name", "phone")


def _scrub_audit(db: Session, user: User, old_email: str) -> None:
    """Audit entries keep what happened, not who the person was: in the entries about them, their email, name and
    phone become the pseudonym's; anywhere else their email is replaced by the pseudonym's."""
    about = sa.and_(col(AuditLog.entity_type) == "user", col(AuditLog.entity_id) == str(user.id))
    rows = db.exec(select(AuditLog).where(sa.or_(about, col(AuditLog.after).contains(old_email),
                                                 col(AuditLog.before).contains(old_email)))).all()
    replacement = {"email": user.email, "full_name": user.full_name, "name": user.full_name, "phone": None}
    for row in rows:
        is_about = row.entity_type == "user" and row.entity_id == str(user.id)
        for field in ("before", "after"):
            text = getattr(row, field)
            if not text:
                continue
            values = audit.load(text)
            if is_about and values:
                values.update({k: replacement[k] for k in PERSONAL_KEYS if k in values})
                text = audit.dumps(values)
            setattr(row, field, text.replace(old_email, user.email))
        db.add(row)
