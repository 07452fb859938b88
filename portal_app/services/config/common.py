"""What every configuration service shares: the admin check, the audit row, small validators."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session

from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import audit
from portal_app.services.errors import Conflict, ErrorCode, FormInvalid, PermissionDenied
from portal_app.services.words import field_words

NOTHING_SAVED = "Nothing was saved."
MAX_HOURS = 24 * 90
CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def require_admin(principal: Principal) -> None:
    """Configuration is for administrators signed in as themselves: other roles and API keys are refused."""
    if not principal.can(Permission.MANAGE_CONFIG):
        raise PermissionDenied(
            "Only an administrator can change the configuration. Ask an administrator of your installation. "
            + NOTHING_SAVED, code=ErrorCode.ADMIN_ONLY)
    if principal.api_key_id is not None:
        raise PermissionDenied(
            "Configuration is changed by a signed-in administrator, not with an API key. Sign in to the tower "
            "and use Configuration. " + NOTHING_SAVED, code=ErrorCode.ADMIN_ONLY)


def record(db: Session, principal: Principal, action: str, entity_type: str, entity_id: object,
           before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    audit.record(db, principal, action, entity_type, entity_id, None, before, after)


def check_version(current: int, expected: int | None, what: str) -> None:
    if expected is not None and int(expected) != current:
        raise Conflict(
            f"{what} was changed by someone else after you opened it (you had version {expected}, it is now "
            f"{current}). Reload it and make your change again. " + NOTHING_SAVED, code=ErrorCode.EDIT_CONFLICT)


def refuse_if(problems: dict[str, str], what: str) -> None:
    """Raise one FormInvalid listing every problem, so a person fixes them all in one go (``problems`` keep their
    field keys for the form; the message names the fields in words)."""
    if problems:
        first = "; ".join(f"{field_words(k)}: {v}" for k, v in list(problems.items())[:3])
        raise FormInvalid(f"{what} was not saved: {first}. Correct the marked fields. {NOTHING_SAVED}", problems)


def int_in(value: Any, low: int, high: int, problems: dict[str, str], key: str, *, optional: bool = False
           ) -> int | None:
    """``value`` as a whole number in [low, high]; records a problem (and returns None) otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if not optional:
            problems[key] = f"give a whole number from {low} to {high}"
        return None
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        problems[key] = f"give a whole number from {low} to {high}"
        return None
    if not low <= number <= high:
        problems[key] = f"give a whole number from {low} to {high} (you gave {number})"
        return None
    return number


def text_in(value: object, low: int, high: int, problems: dict[str, str], key: str) -> str:
    text = " ".join(str(value or "").split())
    if not low <= len(text) <= high:
        problems[key] = f"use {low} to {high} characters"
    return text
