"""Service-level targets from the SlaPolicy table, with '*' fallbacks, as admins configure them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from models import SlaPolicy

DEFAULT_QUOTE_HOURS = 24
DEFAULT_EXCEPTION_HOURS = 24


def resolution_hours(db: Session, subject: str, kind: str, severity: str = "*", *, default: int) -> int:
    """Hours to resolve: exact kind + severity, then kind + '*', then '*' + severity, then '*' + '*'."""
    rows = db.exec(
        select(SlaPolicy).where(SlaPolicy.subject == subject, SlaPolicy.is_active.is_(True))
    ).all()
    table = {(r.kind, r.severity): r.resolution_hours for r in rows}
    for key in ((kind, severity), (kind, "*"), ("*", severity), ("*", "*")):
        if key in table:
            return table[key]
    return default


def due_at(db: Session, subject: str, kind: str, severity: str, start: datetime, *, default: int) -> datetime:
    return start + timedelta(hours=resolution_hours(db, subject, kind, severity, default=default))
