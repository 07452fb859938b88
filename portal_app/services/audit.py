"""Writing the audit trail and in-app notifications, for the ops services (one shape for every entry)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session

from models import AuditLog, Notification
from portal_app.auth.principal import Principal
from portal_app.services import clock


def record(db: Session, principal: Principal | None, action: str, entity_type: str, entity_id: object,
           company_id: int | None, before: dict | None, after: dict | None, *, at: datetime | None = None) -> None:
    """One audit entry: who (None for the system), what, and the values before and after (JSON)."""
    db.add(AuditLog(
        actor_id=principal.user_id if principal else None, company_id=company_id, action=action,
        entity_type=entity_type, entity_id=str(entity_id),
        before=json.dumps(before, default=str) if before is not None else None,
        after=json.dumps(after, default=str) if after is not None else None, created_at=at or clock.now(),
    ))


def notify(db: Session, user_ids: Iterable[int | None], kind: str, title: str, body: str | None, link: str,
           dedup: str, *, skip: int | None = None) -> None:
    """An in-app notification to each user once (``skip``: the person acting, who needs no notice of it)."""
    now = clock.now()
    for uid in dict.fromkeys(u for u in user_ids if u is not None and u != skip):
        db.add(Notification(user_id=uid, event_kind=kind, title=title[:200], body=body, link=link[:300],
                            dedup_key=dedup[:200], created_at=now))
