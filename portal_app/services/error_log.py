"""The latest unexpected errors of API requests and page events, kept in the database so the tower's System page
shows the same list whichever worker (or host) failed and whichever serves the page.

Each entry holds only where it happened (the route template with its method, or the page handler's name), the
exception's class and the error id the person was shown; the log line with the traceback carries the same id. No
raw path, argument, message or anything else a person typed is kept. Only the newest ``KEEP`` stay.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import ErrorRecord
from portal_app.services import clock

log = logging.getLogger(__name__)

KEEP = 50
SOURCES = ("api", "page")


@dataclass(frozen=True)
class RecentError:
    occurred_at: datetime
    source: str  # "api" or "page"
    location: str
    error_id: str
    error_type: str


def record(db: Session, source: str, location: str, error_id: str, error_type: str = "",
           now: datetime | None = None) -> None:
    """Add one entry and drop all but the newest ``KEEP`` (the caller commits)."""
    db.add(ErrorRecord(occurred_at=now or clock.now(), source=source if source in SOURCES else "api",
                       location=location[:200], error_id=error_id[:64], error_type=error_type[:120]))
    db.flush()
    newest = select(ErrorRecord.id).order_by(col(ErrorRecord.id).desc()).limit(KEEP)
    db.exec(sa.delete(ErrorRecord).where(col(ErrorRecord.id).not_in(newest.scalar_subquery())))


def keep(source: str, location: str, error_id: str, error_type: str = "") -> None:
    """Record an error with a database session of its own; never raises (the database may be what failed: the
    log line stays the record then)."""
    from portal_app.db import session_scope

    try:
        with session_scope() as db:
            record(db, source, location, error_id, error_type)
    except Exception:
        log.warning("Could not keep error %s in the database", error_id, exc_info=True)


def recent(db: Session, limit: int = KEEP) -> list[RecentError]:
    """The newest errors first."""
    rows = db.exec(select(ErrorRecord).order_by(col(ErrorRecord.id).desc()).limit(limit)).all()
    return [RecentError(r.occurred_at, r.source, r.location, r.error_id, r.error_type) for r in rows]
