"""The audit log (who changed what, with before and after values as JSON, and reading it back) and in-app
notifications, in one shape for every service."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from models import AuditLog
from models.base import row_values
from portal_app.auth.principal import Principal
from portal_app.services import clock


def dumps(value: object) -> str:
    return json.dumps(value, default=str)


def record(db: Session, principal: Principal | None, action: str, entity_type: str, entity_id: object,
           company_id: int | None, before: dict | None, after: dict | None, *, at: datetime | None = None,
           address: str | None = None) -> AuditLog:
    """Add one audit row to the session (the caller commits it with the change it describes); ``principal`` None
    is the system (rules, schedules). The row keeps where the action came from: ``address``, else the principal's
    (the verified request's client address)."""
    row = AuditLog(**entry(principal, action, entity_type, entity_id, company_id, before, after, at=at,
                           address=address))
    db.add(row)
    return row


def entry(principal: Principal | None, action: str, entity_type: str, entity_id: object, company_id: int | None,
          before: dict | None, after: dict | None, *, at: datetime | None = None,
          address: str | None = None) -> dict[str, Any]:
    """The values of the audit row :func:`record` adds (a batch inserts many together:
    :func:`portal_app.db.insert_rows`)."""
    return row_values(
        AuditLog,
        actor_id=principal.user_id if principal else None, company_id=company_id, action=action,
        entity_type=entity_type, entity_id=str(entity_id)[:40],
        before=dumps(before) if before is not None else None,
        after=dumps(after) if after is not None else None, created_at=at or clock.now(),
        ip_address=address or (principal.address if principal else None),
    )


def exported(db: Session, principal: Principal, what: str, file_format: str, filters: dict | None = None) -> None:
    """Keep on the audit trail that ``principal`` downloaded ``what`` (a list or report) as a file, and commit."""
    kept = {str(k)[:40]: str(v)[:100] for k, v in list((filters or {}).items())[:20]}  # what the caller asked for
    record(db, principal, "export", "export", what, None if principal.is_staff else principal.company_id, None,
           {"format": file_format, **kept})
    db.commit()


def notify(db: Session, user_ids: Iterable[int | None], kind: str, title: str, body: str | None, link: str,
           dedup: str, *, skip: int | None = None) -> None:
    """Notify each user once, as their preferences ask (``skip``: the person acting, who needs no notice of it).
    Kept for the services that call it; it is :func:`portal_app.services.notifications.notify`."""
    from portal_app.services import notifications  # the notification service reads preferences; import on use

    notifications.notify(db, kind, user_ids, title, body, link, dedup, skip=skip)


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
