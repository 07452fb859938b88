"""Funnel figures for quotes and bookings, from PortalEvent rows and the quote tables.

Events recorded by the quote and booking services:

* ``quote_started``: a new draft quote request was saved;
* ``quote_submitted``: a request was submitted (priced at once or sent to ops for manual pricing);
* ``quote_failed``: a submission was refused (what was wrong is in the event's detail);
* ``quote_abandoned``: the customer discarded a draft;
* ``booking_started``: the customer opened the booking form of an option (once per option and user);
* ``booking_submitted``: an option became a booking;
* ``booking_failed``: an acceptance was refused (expired option, invalid details, option no longer open).

Abandonment is also counted by rule, without any job writing rows: a draft untouched for more than
``PORTAL_ABANDON_HOURS`` hours (default 24) is an abandoned quote; a ``booking_started`` event older than that
whose option was not accepted is an abandoned booking.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import PortalEvent, QuoteOption, QuoteRequest
from models.enums import PortalEventKind, QuoteStatus
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import clock
from portal_app.services.errors import ValidationFailed

log = logging.getLogger(__name__)

ABANDON_HOURS_ENV = "PORTAL_ABANDON_HOURS"
DEFAULT_ABANDON_HOURS = 24


def abandon_hours() -> int:
    raw = (os.environ.get(ABANDON_HOURS_ENV) or "").strip()
    try:
        value = int(raw) if raw else DEFAULT_ABANDON_HOURS
    except ValueError:
        value = DEFAULT_ABANDON_HOURS
    return value if value > 0 else DEFAULT_ABANDON_HOURS


def record(db: Session, principal: Principal, kind: PortalEventKind, detail: str) -> None:
    """Add one event to the session (the caller commits it with its own work)."""
    db.add(PortalEvent(kind=kind.value, user_id=principal.user_id, company_id=principal.company_id,
                       detail=detail[:500]))


def record_now(db: Session, principal: Principal, kind: PortalEventKind, detail: str) -> None:
    """Record an event in its own commit, after a rollback (a failure's event must outlive the discarded work)."""
    try:
        record(db, principal, kind, detail)
        db.commit()
    except sa.exc.SQLAlchemyError:
        db.rollback()
        log.exception("could not record a %s event", kind.value)


def booking_detail(option_id: int) -> str:
    return f"option {option_id}"


@dataclass(frozen=True)
class Funnel:
    since: datetime
    until: datetime
    abandon_hours: int
    quotes_started: int
    quotes_submitted: int
    quotes_failed: int
    quotes_abandoned: int
    bookings_started: int
    bookings_submitted: int
    bookings_failed: int
    bookings_abandoned: int


def _count(db: Session, principal: Principal, kind: PortalEventKind, since: datetime, until: datetime) -> int:
    return int(db.exec(
        select(sa.func.count()).select_from(PortalEvent).where(
            PortalEvent.kind == kind.value, PortalEvent.created_at >= since, PortalEvent.created_at < until,
            company_filter(col(PortalEvent.company_id), principal),
        )
    ).one())


def funnel(db: Session, principal: Principal, since: datetime, until: datetime | None = None) -> Funnel:
    """Quote and booking funnel counts between ``since`` and ``until`` (default now), for staff with KPIs."""
    principal.require(Permission.VIEW_KPIS)
    until = until or clock.now()
    since, until = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (since, until))
    if since >= until:
        raise ValidationFailed("The start of the period must be before its end.")
    hours = abandon_hours()
    stale = clock.now() - timedelta(hours=hours)
    stale_drafts = int(db.exec(
        select(sa.func.count()).select_from(QuoteRequest).where(
            QuoteRequest.status == QuoteStatus.DRAFT.value,
            QuoteRequest.updated_at < stale,
            QuoteRequest.created_at >= since, QuoteRequest.created_at < until,
            company_filter(col(QuoteRequest.company_id), principal),
        )
    ).one())
    accepted_options = select(sa.literal("option ") + sa.cast(QuoteOption.id, sa.String)).where(
        QuoteOption.status == "accepted"
    )
    stale_bookings = int(db.exec(
        select(sa.func.count(sa.distinct(col(PortalEvent.detail)))).select_from(PortalEvent).where(
            PortalEvent.kind == PortalEventKind.BOOKING_STARTED.value,
            PortalEvent.created_at >= since, PortalEvent.created_at < until,
            PortalEvent.created_at < stale,
            col(PortalEvent.detail).not_in(accepted_options),
            company_filter(col(PortalEvent.company_id), principal),
        )
    ).one())
    return Funnel(
        since=since, until=until, abandon_hours=hours,
        quotes_started=_count(db, principal, PortalEventKind.QUOTE_STARTED, since, until),
        quotes_submitted=_count(db, principal, PortalEventKind.QUOTE_SUBMITTED, since, until),
        quotes_failed=_count(db, principal, PortalEventKind.QUOTE_FAILED, since, until),
        quotes_abandoned=stale_drafts + _count(db, principal, PortalEventKind.QUOTE_ABANDONED, since, until),
        bookings_started=_count(db, principal, PortalEventKind.BOOKING_STARTED, since, until),
        bookings_submitted=_count(db, principal, PortalEventKind.BOOKING_SUBMITTED, since, until),
        bookings_failed=_count(db, principal, PortalEventKind.BOOKING_FAILED, since, until),
        bookings_abandoned=stale_bookings,
    )
