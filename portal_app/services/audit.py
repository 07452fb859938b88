"""The audit log: who changed what, with before and after values (JSON), and reading it back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from models import AuditLog
from portal_app.auth.principal import Principal


def dumps(value: object) -> str:
    return json.dumps(value, default=str)


def record(db: Session, principal: Principal, action: str, entity_type: str, entity_id: str, company_id: int | None,
           before: dict | None, after: dict | None, *, at: datetime | None = None) -> AuditLog:
    """Add one audit row to the session (the caller commits it with the change it describes)."""
    row = AuditLog(
        actor_id=principal.user_id, company_id=company_id, action=action, entity_type=entity_type,
        entity_id=str(entity_id)[:40], before=dumps(before) if before is not None else None,
        after=dumps(after) if after is not None else None,
    )
    if at is not None:
        row.created_at = at
    db.add(row)
    return row


def load(text: str | None) -> dict:
    """A before/after column as a dict ({} when empty or not an object)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class FieldChange:
    """One field of a record that changed: its old and new value, who changed it and when."""

    field: str
    old: object
    new: object
    changed_by: str
    changed_at: datetime | None


def field_changes(row: AuditLog, actor: str, *, skip: frozenset[str] = frozenset({"version"})) -> list[FieldChange]:
    before, after = load(row.before), load(row.after)
    keys = [k for k in dict.fromkeys([*after, *before]) if k not in skip]
    return [FieldChange(k, before.get(k), after.get(k), actor, row.created_at) for k in keys]
