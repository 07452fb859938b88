"""Service-level targets from the SlaPolicy table, with '*' fallbacks, as admins configure them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from models import SlaPolicy

DEFAULT_QUOTE_HOURS = 24
DEFAULT_EXCEPTION_HOURS = 24

PolicyTable = dict[tuple[str, str], int]


def policy_table(db: Session, subject: str) -> PolicyTable:
    """Every active policy of ``subject`` as {(kind, severity): resolution hours}: one query, then lookups in memory."""
    rows = db.exec(
        select(SlaPolicy).where(SlaPolicy.subject == subject, col(SlaPolicy.is_active).is_(True))
    ).all()
    return {(r.kind, r.severity): r.resolution_hours for r in rows}


def hours_in(table: PolicyTable, kind: str, severity: str, *, default: int) -> int:
    """Hours to resolve: exact kind + severity, then kind + '*', then '*' + severity, then '*' + '*'."""
    for key in ((kind, severity), (kind, "*"), ("*", severity), ("*", "*")):
        if key in table:
            return table[key]
    return default


def resolution_hours(db: Session, subject: str, kind: str, severity: str = "*", *, default: int) -> int:
    return hours_in(policy_table(db, subject), kind, severity, default=default)


def due_at(db: Session, subject: str, kind: str, severity: str, start: datetime, *, default: int) -> datetime:
    return start + timedelta(hours=resolution_hours(db, subject, kind, severity, default=default))
