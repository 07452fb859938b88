"""The acting user's profile, and a customer admin's colleagues (same company only).

The company and the permission always come from the principal. A target user id only says which row to change;
it is looked up inside the admin's own company among customer accounts, so anyone else is NotFound (404).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import Company, User
from models.enums import Role
from portal_app.auth.passwords import hash_password, password_problem
from portal_app.auth.permissions import ROLE_LABELS, Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.auth.sessions import forget_principals, normalize_email, revoke_user_sessions
from portal_app.services import audit, clock
from portal_app.services.errors import (
    Conflict,
    ErrorCode,
    NotAuthenticated,
    NotFound,
    ValidationFailed,
)

LOCALES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "nl": "Nederlands",
    "zh": "中文",
}
CUSTOMER_ROLE_VALUES: tuple[str, ...] = (Role.CUSTOMER_USER.value, Role.CUSTOMER_ADMIN.value)
NAME_MIN, NAME_MAX = 2, 200
_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NOT_ZONES = {"Factory", "localtime", "posixrules"}


@lru_cache(maxsize=1)
def timezones() -> tuple[str, ...]:
    """Valid IANA time zone names, sorted (what the profile accepts and the page offers)."""
    return tuple(sorted(z for z in available_timezones() if z not in _NOT_ZONES))


# --- profile ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    email: str
    full_name: str
    phone: str | None
    timezone: str
    locale: str
    role: str
    role_label: str
    company_name: str
    version: int


def _me(db: Session, principal: Principal) -> User:
    user = db.get(User, principal.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("Your session has ended. Sign in again; nothing was changed.")
    return user


def _profile(db: Session, user: User) -> Profile:
    company = db.get(Company, user.company_id)
    return Profile(
        email=user.email, full_name=user.full_name, phone=user.phone, timezone=user.timezone, locale=user.locale,
        role=user.role, role_label=ROLE_LABELS[Role(user.role)], company_name=company.name if company else "",
        version=user.version,
    )


def get_profile(db: Session, principal: Principal) -> Profile:
    return _profile(db, _me(db, principal))


def clean_name(full_name: str | None) -> str:
    name = " ".join((full_name or "").split())
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise ValidationFailed(
            f"Full name: use {NAME_MIN} to {NAME_MAX} characters. Nothing was saved.", code=ErrorCode.INVALID_NAME
        )
    return name


def _clean_phone(phone: str | None) -> str | None:
    value = " ".join((phone or "").split())
    if not value:
        return None
    digits = sum(ch.isdigit() for ch in value)
    if len(value) > 40 or not _PHONE.match(value) or not 6 <= digits <= 20:
        raise ValidationFailed(
            "Phone: use digits with an optional leading + and spaces, dashes or brackets, e.g. +31 10 123 4567 "
            "(or leave it empty). Nothing was saved.",
            code=ErrorCode.INVALID_PHONE,
        )
    return value


def _clean_timezone(tz: str | None) -> str:
    value = (tz or "").strip()
    if value not in timezones():
        raise ValidationFailed(
            f"Time zone {value!r} is not known. Choose one from the list, e.g. Europe/Amsterdam or "
            "Asia/Shanghai. Nothing was saved.",
            code=ErrorCode.INVALID_TIMEZONE,
        )
    return value


def _clean_locale(locale: str | None) -> str:
    value = (locale or "").strip()
    if value not in LOCALES:
        raise ValidationFailed(
            f"Language {value!r} is not offered. Use one of: {', '.join(LOCALES)}. Nothing was saved.",
            code=ErrorCode.INVALID_LOCALE,
        )
    return value


def _audit(db: Session, principal: Principal, action: str, user: User, before: dict | None, after: dict | None) -> None:
    audit.record(db, principal, action, "user", user.id, user.company_id, before, after)


def update_profile(
    db: Session,
    principal: Principal,
    full_name: str,
    phone: str | None,
    timezone: str,
    locale: str,
    *,
    expected_version: int | None = None,
) -> Profile:
    """Change the acting user's own profile. ``expected_version`` (optional) refuses a save over newer changes.

    Unchanged values leave the record, its version and the audit log untouched.
    """
    user = _me(db, principal)
    new = {
        "full_name": clean_name(full_name),
        "phone": _clean_phone(phone),
        "timezone": _clean_timezone(timezone),
        "locale": _clean_locale(locale),
    }
    if expected_version is not None and expected_version != user.version:
        raise Conflict(
            "Your profile was changed somewhere else since you opened it. Reload the page to see the latest "
            "values, then make your change again. Nothing was saved.",
            code=ErrorCode.VERSION_CONFLICT,
        )
    old = {name: getattr(user, name) for name in new}
    changed = {name for name in new if new[name] != old[name]}
    if changed:
        for name in changed:
            setattr(user, name, new[name])
        user.version += 1
        user.updated_at = clock.now()
        db.add(user)
        _audit(db, principal, "profile_updated", user, {k: old[k] for k in sorted(changed)},
               {k: new[k] for k in sorted(changed)})
        db.commit()
    return _profile(db, user)


# --- colleagues (customer admins) --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompanyUser:
    id: int
    full_name: str
    email: str
    role: str
    is_active: bool
    last_login_at: datetime | None
    is_you: bool
    mfa_enabled: bool = False  # two-factor sign-in is on
    erased: bool = False  # personal data erased: the name and email are a pseudonym


@dataclass(frozen=True)
class NewCompanyUser:
    user: CompanyUser
    temporary_password: str  # shown once to the admin; only its argon2 hash is stored


def colleagues_of(principal: Principal) -> sa.ColumnElement[bool]:
    """Customer accounts of the principal's own company. Managing colleagues never crosses companies, even for
    a role that may read every company, so the company is pinned on top of the tenancy filter."""
    return sa.and_(
        company_filter(col(User.company_id), principal),
        col(User.company_id) == principal.company_id,
        col(User.role).in_(CUSTOMER_ROLE_VALUES),
    )


def _row(user: User, principal: Principal) -> CompanyUser:
    assert user.id is not None  # a stored row
    return CompanyUser(
        id=user.id, full_name=user.full_name, email=user.email, role=user.role, is_active=user.is_active,
        last_login_at=user.last_login_at, is_you=user.id == principal.user_id,
        mfa_enabled=user.mfa_enabled_at is not None, erased=user.erased_at is not None,
    )


def _snapshot(user: User) -> dict[str, Any]:
    return {"email": user.email, "full_name": user.full_name, "role": user.role, "is_active": user.is_active}


def _clean_role(role: str | None) -> str:
    if role not in CUSTOMER_ROLE_VALUES:
        raise ValidationFailed(
            f"Role {role!r} cannot be given here. Choose customer_user or customer_admin. Nothing was saved.",
            code=ErrorCode.INVALID_ROLE,
        )
    return role


def list_company_users(db: Session, principal: Principal) -> list[CompanyUser]:
    principal.require(Permission.MANAGE_COMPANY_USERS)
    users = db.exec(select(User).where(colleagues_of(principal)).order_by(col(User.full_name), col(User.id))).all()
    return [_row(u, principal) for u in users]


def _temporary_password() -> str:
    while True:
        candidate = secrets.token_urlsafe(12)
        if password_problem(candidate) is None:
            return candidate


def create_company_user(db: Session, principal: Principal, email: str, full_name: str, role: str) -> NewCompanyUser:
    """Add a colleague to the admin's company with a generated temporary password, returned once."""
    principal.require(Permission.MANAGE_COMPANY_USERS)
    address = normalize_email(email)
    if len(address) > 254 or not _EMAIL.match(address):
        raise ValidationFailed(
            "Email: type a full address such as name@company.com. Nobody was added.", code=ErrorCode.INVALID_EMAIL
        )
    name, role = clean_name(full_name), _clean_role(role)
    in_use = Conflict(
        "This email is already in use. Use another address for this colleague. Nobody was added.",
        code=ErrorCode.EMAIL_IN_USE,
    )
    if db.exec(select(User.id).where(User.email == address)).first() is not None:
        raise in_use
    password = _temporary_password()
    user = User(
        email=address, full_name=name, role=role, company_id=principal.company_id,
        password_hash=hash_password(password), is_active=True,
    )
    db.add(user)
    try:
        db.flush()
    except IntegrityError:  # the same address added at the same moment by someone else
        db.rollback()
        raise in_use from None
    _audit(db, principal, "company_user_created", user, None, _snapshot(user))
    db.commit()
    return NewCompanyUser(user=_row(user, principal), temporary_password=password)


def _active_admins(db: Session, principal: Principal) -> int:
    return db.exec(
        select(sa.func.count()).select_from(User).where(
            colleagues_of(principal), User.role == Role.CUSTOMER_ADMIN.value, col(User.is_active).is_(True)
        )
    ).one()


def update_company_user(
    db: Session, principal: Principal, user_id: int, *, role: str | None = None, active: bool | None = None
) -> CompanyUser:
    """Change a colleague's role and/or active flag in one step (all or nothing).

    Refused: any role but the two customer roles, changing yourself, and anything that would leave the company
    without an active customer admin. Deactivation ends the colleague's sessions at once.
    """
    principal.require(Permission.MANAGE_COMPANY_USERS)
    if role is not None:
        role = _clean_role(role)
    if active is not None and not isinstance(active, bool):
        raise ValidationFailed("'active' must be true or false. Nothing was saved.")
    user = db.exec(select(User).where(colleagues_of(principal), User.id == user_id)).first()
    if user is None:
        raise NotFound(
            "There is no such colleague in your company. Reload the list of colleagues; nothing was changed."
        )
    assert user.id is not None  # a stored row
    if user.erased_at is not None:
        raise ValidationFailed("This person's personal data was erased; their account cannot be used again. Add "
                               "them as a new colleague if they come back. Nothing was changed.",
                               code=ErrorCode.ALREADY_ERASED)
    new_role = role if role is not None else user.role
    new_active = active if active is not None else user.is_active
    if (new_role, new_active) == (user.role, user.is_active):
        return _row(user, principal)
    loses_admin = user.role == Role.CUSTOMER_ADMIN and user.is_active and (
        new_role != Role.CUSTOMER_ADMIN or not new_active
    )
    if loses_admin and _active_admins(db, principal) <= 1:
        raise ValidationFailed(
            f"{user.full_name} is the last active customer admin of your company, who must keep at least one. "
            "Make another colleague an admin first. Nothing was changed.",
            code=ErrorCode.LAST_ADMIN,
        )
    if user.id == principal.user_id:
        raise ValidationFailed(
            "You cannot change your own role or deactivate yourself. Ask another admin of your company. "
            "Nothing was changed.",
            code=ErrorCode.SELF_CHANGE,
        )
    before = _snapshot(user)
    user.role, user.is_active = new_role, new_active
    forget_principals()  # a new role or flag applies to the next event
    user.version += 1
    user.updated_at = clock.now()
    db.add(user)
    if before["role"] != new_role:
        _audit(db, principal, "company_user_role_changed", user, {"role": before["role"]}, {"role": new_role})
    if before["is_active"] != new_active:
        action = "company_user_activated" if new_active else "company_user_deactivated"
        _audit(db, principal, action, user, {"is_active": before["is_active"]}, {"is_active": new_active})
        if not new_active:
            revoke_user_sessions(db, user.id, reason="deactivated")
    db.commit()
    return _row(user, principal)


def change_company_user_role(db: Session, principal: Principal, user_id: int, role: str) -> CompanyUser:
    return update_company_user(db, principal, user_id, role=role)


def set_company_user_active(db: Session, principal: Principal, user_id: int, active: bool) -> CompanyUser:
    return update_company_user(db, principal, user_id, active=active)
