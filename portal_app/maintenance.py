"""Background upkeep that runs inside the app process for as long as it serves."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from models import AppSetting
from portal_app.db import get_engine, refresh_planner_statistics
from portal_app.metrics import RULE_PASS_SECONDS
from portal_app.services import (
    clock,
    customer_view_audit,
    email_outbox,
    exception_rules,
    retention,
    system_status,
    webhook_outbox,
)
from portal_app.services.exception_rules import PassResult
from portal_app.settings import settings

log = logging.getLogger(__name__)
STATISTICS_EVERY_SECONDS = 6 * 3600


async def keep_planner_statistics() -> None:
    """SQLite keeps no statistics by itself: refresh them at start and every few hours as data grows.

    PostgreSQL's autovacuum does this on its own, so there the task does nothing.
    """
    if get_engine().dialect.name != "sqlite":
        return
    while True:
        try:
            await asyncio.to_thread(refresh_planner_statistics)
        except Exception:
            log.warning("Refreshing the database planner statistics failed", exc_info=True)
        await asyncio.sleep(STATISTICS_EVERY_SECONDS)


RULES_LOCK_KEY = 0x6F70_7372  # PostgreSQL advisory lock id of the scheduled rule pass ("opsr")
RULES_LAST_PASS = "rules_last_pass"  # AppSetting key: when the last scheduled pass started (ISO time, JSON)
# What it did (when, how long, opened/resolved/present or the failure) is system_status.RULE_PASS_SETTING.
RULES_FIRST_DELAY_SECONDS = 30


def run_rule_pass(engine: sa.Engine | None = None, now: datetime | None = None) -> PassResult | None:
    """One scheduled pass of every exception rule, by one worker at a time.

    On PostgreSQL the pass holds a transaction-level advisory lock, and skips when another worker holds it or ran
    a pass less than half an interval ago (the start time is kept in AppSetting), so several workers and hosts
    share the schedule instead of repeating it. SQLite serves one process, which simply runs it.
    Returns None when skipped.
    """
    engine = engine or get_engine()
    now = now or clock.now()
    with Session(engine, expire_on_commit=False) as db:
        if engine.dialect.name == "postgresql":
            got = db.connection().execute(sa.text("SELECT pg_try_advisory_xact_lock(:k)"),
                                          {"k": RULES_LOCK_KEY}).scalar()
            if not got:
                return None
            last = db.get(AppSetting, RULES_LAST_PASS)
            minutes = max(settings.rules_every_minutes, 1)
            if last is not None and now - datetime.fromisoformat(json.loads(last.value)) < timedelta(
                    minutes=minutes / 2):
                db.rollback()
                return None
        row = db.get(AppSetting, RULES_LAST_PASS) or AppSetting(key=RULES_LAST_PASS, value="")
        row.value = json.dumps(now.isoformat())
        row.updated_at = now
        db.add(row)
        db.flush()
        started = time.perf_counter()
        try:
            result = exception_rules.evaluate_all(db, now)
            customer_view_audit.run(db, now)
        except Exception as exc:
            db.rollback()
            _record_failed_pass(engine, now, time.perf_counter() - started, exc)
            raise
        seconds = time.perf_counter() - started
        system_status.record_rule_pass(db, now, seconds, opened=result.opened, resolved=result.resolved,
                                       present=result.present)
        db.commit()
        RULE_PASS_SECONDS.observe(seconds)
        return result


def _record_failed_pass(engine: sa.Engine, started_at: datetime, seconds: float, exc: Exception) -> None:
    """A failed pass changed nothing (rolled back); the System page still learns that it failed, and how."""
    try:
        with Session(engine) as db:
            system_status.record_rule_pass(db, started_at, seconds, error=type(exc).__name__)
            db.commit()
    except sa.exc.SQLAlchemyError:
        log.warning("Could not record the failed rule pass", exc_info=True)


async def keep_evaluating_rules() -> None:
    """Run the exception rules over every active shipment every ``PORTAL_RULES_EVERY_MINUTES`` minutes."""
    minutes = settings.rules_every_minutes
    if minutes <= 0:
        return
    await asyncio.sleep(RULES_FIRST_DELAY_SECONDS)
    while True:
        try:
            result = await asyncio.to_thread(run_rule_pass)
            if result is not None:
                log.info("Exception rules: %s opened, %s resolved, %s present (%.2f s)", result.opened,
                         result.resolved, result.present, result.seconds)
        except Exception:
            log.warning("The scheduled exception rule pass failed", exc_info=True)
        await asyncio.sleep(minutes * 60)


def run_email_round(engine: sa.Engine | None = None, now: datetime | None = None) -> email_outbox.RoundResult:
    """One round of the email outbox (batch, digest, send) with a database session of its own."""
    with Session(engine or get_engine(), expire_on_commit=False) as db:
        return email_outbox.run_round(db, email_outbox.config_from(settings), now)


async def keep_sending_email() -> None:
    """Drain the email outbox every ``PORTAL_EMAIL_EVERY_SECONDS`` in small batches, off the event loop, so no
    page ever waits for the mail server (``0`` turns it off)."""
    seconds = settings.email_every_seconds
    if seconds <= 0:
        return
    if not settings.smtp_host:
        log.info("PORTAL_SMTP_HOST is not set: emails are queued but not sent")
    while True:
        try:
            result = await asyncio.to_thread(run_email_round)
            if result.sent or result.failed_attempts:
                log.info("Email: %s sent, %s failed attempts, %s given up", result.sent, result.failed_attempts,
                         result.gave_up)
        except Exception:
            log.warning("The email outbox round failed", exc_info=True)
        await asyncio.sleep(seconds)


def run_webhook_round(engine: sa.Engine | None = None, now: datetime | None = None) -> webhook_outbox.RoundResult:
    """One round of the webhook worker (claim, send, record) with a database session of its own."""
    with Session(engine or get_engine(), expire_on_commit=False) as db:
        return webhook_outbox.run_round(db, webhook_outbox.config_from(settings), now)


async def keep_sending_webhooks() -> None:
    """Send queued webhook deliveries every ``PORTAL_WEBHOOK_EVERY_SECONDS``, off the event loop, so no page or
    request ever waits for a customer's receiver (``0`` turns it off). Safe with several workers."""
    seconds = settings.webhook_every_seconds
    if seconds <= 0:
        return
    while True:
        try:
            result = await asyncio.to_thread(run_webhook_round)
            if result.sent or result.failed_attempts:
                log.info("Webhooks: %s sent, %s failed attempts, %s given up, %s subscriptions paused", result.sent,
                         result.failed_attempts, result.gave_up, result.paused)
        except Exception:
            log.warning("The webhook round failed", exc_info=True)
        await asyncio.sleep(seconds)


RETENTION_EVERY_SECONDS = 24 * 3600
RETENTION_FIRST_DELAY_SECONDS = 300


def run_retention(engine: sa.Engine | None = None, now: datetime | None = None) -> retention.RetentionResult:
    """One retention pass (services/retention.py) with a database session of its own."""
    with Session(engine or get_engine(), expire_on_commit=False) as db:
        return retention.run(db, settings, now)


async def keep_within_retention() -> None:
    """Remove audit entries, sign-in attempts, usage events, notifications and carrier events past their retention,
    daily (the first pass a few minutes after start, off the event loop)."""
    await asyncio.sleep(RETENTION_FIRST_DELAY_SECONDS)
    while True:
        try:
            result = await asyncio.to_thread(run_retention)
            if any(vars(result).values()):
                log.info("Retention: removed %s", vars(result))
        except Exception:
            log.warning("The retention pass failed", exc_info=True)
        await asyncio.sleep(RETENTION_EVERY_SECONDS)
