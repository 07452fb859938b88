"""How long the portal keeps records about people's activity, enforced by the scheduled upkeep (maintenance.py).

Each kind has its own setting in days (0 keeps it for ever): the audit trail (``PORTAL_AUDIT_RETENTION_DAYS``,
default 400), sign-in attempts (``PORTAL_LOGIN_ATTEMPT_RETENTION_DAYS``, 180; never fewer days than sign-in limits
look back to recognise a known address), usage events (``PORTAL_USAGE_EVENT_RETENTION_DAYS``, 400; the KPI page's
portal-health figures read them) and notifications (``PORTAL_NOTIFICATION_RETENTION_DAYS``, 180) and carriers' raw
events with what they did and the refused ones (``PORTAL_CARRIER_EVENT_RETENTION_DAYS``, 400; the shipments' own
milestones and ETA history stay). Old rows go in
batches, so a first pass over years of history never holds a long lock; running it twice (two workers) is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    AuditLog,
    CarrierEvent,
    CarrierEventRefusal,
    CarrierEventShipment,
    LoginAttempt,
    Notification,
    PortalEvent,
)
from portal_app.services import clock
from portal_app.settings import Settings

BATCH = 5_000


@dataclass(frozen=True)
class RetentionResult:
    audit: int
    login_attempts: int
    usage_events: int
    notifications: int
    carrier_events: int = 0


def _prune(db: Session, table: type, created: Any, days: int, now: datetime) -> int:
    """Delete rows older than ``days`` in batches of BATCH ids; the number removed."""
    if days <= 0:
        return 0
    cutoff = now - timedelta(days=days)
    removed = 0
    ident = col(table.id)  # type: ignore[attr-defined]
    while True:
        ids = db.exec(select(ident).where(created < cutoff).order_by(ident).limit(BATCH)).all()
        if not ids:
            return removed
        db.exec(sa.delete(table).where(ident.in_(ids)))
        db.commit()
        removed += len(ids)


def run(db: Session, config: Settings, now: datetime | None = None) -> RetentionResult:
    """One pass: remove every record older than its kind's retention."""
    now = now or clock.now()
    attempts_days = config.login_attempt_retention_days
    if attempts_days > 0:
        attempts_days = max(attempts_days, config.login_known_address_days)
    return RetentionResult(
        audit=_prune(db, AuditLog, col(AuditLog.created_at), config.audit_retention_days, now),
        login_attempts=_prune(db, LoginAttempt, col(LoginAttempt.created_at), attempts_days, now),
        usage_events=_prune(db, PortalEvent, col(PortalEvent.created_at), config.usage_event_retention_days, now),
        notifications=_prune(db, Notification, col(Notification.created_at), config.notification_retention_days,
                             now),
        carrier_events=_prune_carrier_events(db, config.carrier_event_retention_days, now),
    )


def _prune_carrier_events(db: Session, days: int, now: datetime) -> int:
    """Carriers' raw events past their retention, with the rows of what each did; and the refusal log."""
    if days <= 0:
        return 0
    cutoff = now - timedelta(days=days)
    removed = 0
    while True:
        ids = db.exec(select(col(CarrierEvent.id)).where(col(CarrierEvent.received_at) < cutoff)
                      .order_by(col(CarrierEvent.id)).limit(BATCH)).all()
        if not ids:
            break
        db.exec(sa.delete(CarrierEventShipment).where(col(CarrierEventShipment.carrier_event_id).in_(ids)))
        db.exec(sa.delete(CarrierEvent).where(col(CarrierEvent.id).in_(ids)))
        db.commit()
        removed += len(ids)
    return removed + _prune(db, CarrierEventRefusal, col(CarrierEventRefusal.received_at), days, now)
