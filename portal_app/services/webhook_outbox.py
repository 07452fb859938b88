"""The webhook worker: sends queued deliveries (:mod:`portal_app.services.webhooks`), signed, with retries.

One round (:func:`run_round`, every ``PORTAL_WEBHOOK_EVERY_SECONDS`` from the app's lifespan task):

1. **Claim** up to ``BATCH_SIZE`` due deliveries of active subscriptions. Each is claimed by a conditional UPDATE
   that moves its ``next_attempt_at`` ahead (``CLAIM``), so several workers never send the same delivery at once;
   a worker that dies mid-send leaves the row to be sent again after the claim expires (at least once: receivers
   deduplicate by the payload's ``id``).
2. **Send** each as ``POST`` with ``X-Portal-Timestamp`` (Unix seconds) and ``X-Portal-Signature: sha256=<hex>``,
   the HMAC-SHA256 of ``timestamp + "." + body`` with the subscription's secret. The address is checked again
   (:mod:`portal_app.services.outbound`: no private, loopback, link-local or metadata addresses unless allowed, the
   connection pinned to the checked address, no redirects followed). Any 2xx answer is success.
3. **Retry** a failure after 1, 2, 4 ... minutes (at most ``MAX_BACKOFF``), for ``give_up_hours`` (72 by default)
   from the event, then the delivery is ``failed``. A subscription counts its consecutive failed attempts: once
   there are ``pause_after_failures`` (10) of them and the run has lasted ``pause_after_hours`` (24), the
   subscription is paused (nothing more is sent or queued until an administrator resumes it) and its
   administrators are told in-app and by email.

Delivered and given-up deliveries are kept ``KEEP_DAYS`` (30) for the delivery log, then removed by the rounds
(``PRUNE_BATCH`` at a time).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from models import User, WebhookDelivery, WebhookSubscription
from models.enums import Role
from portal_app.services import clock, email_outbox, notifications, outbound, secret_box
from portal_app.services.webhooks import FAILED, QUEUED, SENT
from portal_app.settings import Settings, settings

log = logging.getLogger(__name__)

BATCH_SIZE = 20
CLAIM = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=4)
TIMEOUT_SECONDS = 10.0
USER_AGENT = "Portal-Webhooks/1"
KEEP_DAYS = 30
PRUNE_BATCH = 1000


@dataclass(frozen=True)
class WebhookConfig:
    allow_private: bool = False
    pause_after_failures: int = 10
    pause_after_hours: int = 24
    give_up_hours: int = 72


def config_from(s: Settings = settings) -> WebhookConfig:
    return WebhookConfig(s.webhook_allow_private, max(s.webhook_pause_after_failures, 1),
                         max(s.webhook_pause_after_hours, 0), max(s.webhook_give_up_hours, 1))


@dataclass
class RoundResult:
    sent: int = 0
    failed_attempts: int = 0
    gave_up: int = 0
    paused: int = 0
    pruned: int = 0


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 1, 2, 4, ... minutes, at most four hours."""
    return min(timedelta(minutes=2 ** min(max(attempts - 1, 0), 20)), MAX_BACKOFF)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Portal-Signature`` value for a body sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _active_subscriptions() -> sa.Select:
    return sa.select(col(WebhookSubscription.id)).where(col(WebhookSubscription.is_active).is_(True),
                                                         col(WebhookSubscription.paused_at).is_(None))


def _due(now: datetime) -> list[sa.ColumnElement[bool]]:
    return [col(WebhookDelivery.status) == QUEUED,
            sa.or_(col(WebhookDelivery.next_attempt_at).is_(None), col(WebhookDelivery.next_attempt_at) <= now),
            col(WebhookDelivery.subscription_id).in_(_active_subscriptions())]


def _claim(db: Session, now: datetime, limit: int) -> list[WebhookDelivery]:
    due = db.exec(select(WebhookDelivery.id).where(*_due(now)).order_by(col(WebhookDelivery.id)).limit(limit)).all()
    claimed = []
    for delivery_id in due:
        got = db.exec(sa.update(WebhookDelivery).where(col(WebhookDelivery.id) == delivery_id, *_due(now))
                      .values(next_attempt_at=now + CLAIM).execution_options(synchronize_session=False)).rowcount
        if got == 1:
            claimed.append(delivery_id)
    db.commit()
    if not claimed:
        return []
    return list(db.exec(select(WebhookDelivery).where(col(WebhookDelivery.id).in_(claimed))
                        .order_by(col(WebhookDelivery.id)).execution_options(populate_existing=True)).all())


def deliver(sub: WebhookSubscription, delivery: WebhookDelivery, now: datetime,
            config: WebhookConfig) -> tuple[int | None, str | None]:
    """One attempt: (the receiver's status code or None, the error in words or None when it succeeded)."""
    try:
        secret = secret_box.decrypt(sub.secret)
    except (secret_box.SecretKeyMissing, secret_box.SecretUnreadable):
        return None, "The signing secret cannot be read (the installation's key changed); create the subscription again"
    body = delivery.payload.encode()
    timestamp = str(int(now.timestamp()))
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "Accept": "*/*",
               "X-Portal-Timestamp": timestamp, "X-Portal-Signature": sign(secret, timestamp, body),
               "X-Portal-Event": delivery.event_kind, "X-Portal-Delivery": str(delivery.id)}
    try:
        answer = outbound.request("POST", sub.url, content=body, headers=headers, allow_private=config.allow_private,
                                  what="the receiver", timeout=TIMEOUT_SECONDS)
    except outbound.AddressRefused as exc:
        return None, f"Not sent: the address is refused ({exc.reason})"
    except outbound.FetchFailed as exc:
        return None, f"No answer: {exc}"
    if 200 <= answer.status_code < 300:
        return answer.status_code, None
    return answer.status_code, f"The receiver answered HTTP {answer.status_code}"


def _tell_admins(db: Session, sub: WebhookSubscription, now: datetime) -> None:
    """The subscription's administrators (and whoever created it) hear that it was paused."""
    if sub.all_companies:
        who = select(User.id, User.email).where(User.role == Role.ADMIN.value, col(User.is_active).is_(True))
        link = "/tower/account/webhooks"
    else:
        who = select(User.id, User.email).where(User.company_id == sub.company_id,
                                                User.role == Role.CUSTOMER_ADMIN.value, col(User.is_active).is_(True))
        link = "/portal/account/webhooks"
    people: dict[int, str] = {uid: email for uid, email in db.exec(who).all() if uid is not None}
    if sub.created_by_id is not None and sub.created_by_id not in people:
        creator = db.get(User, sub.created_by_id)
        if creator is not None and creator.is_active:
            people[sub.created_by_id] = creator.email
    title = "A webhook subscription was paused"
    body = (f"Events to {sub.url} failed {sub.consecutive_failures} times in a row since "
            f"{sub.failing_since:%d %b %Y %H:%M} UTC, so sending is paused. Fix the receiver, then resume the "
            "subscription in Webhooks; the events queued until now are sent then.")
    key = f"webhook_paused:{sub.id}:{now:%Y%m%d%H%M}"
    notifications.notify(db, "webhook_paused", list(people), title, body, link, key,
                         company_id=None if sub.all_companies else sub.company_id, at=now)
    for user_id, address in people.items():
        if address:
            email_outbox.queue_account_notice(db, user_id=user_id, to_address=address, subject=title,
                                              paragraphs=[body, notifications.absolute_link(link)],
                                              dedup_key=f"{key}:{user_id}", now=now)


def _record(db: Session, sub: WebhookSubscription, row: WebhookDelivery, code: int | None, error: str | None,
            now: datetime, config: WebhookConfig, result: RoundResult) -> None:
    row.attempts += 1
    row.last_attempt_at, row.response_code = now, code
    if error is None:
        row.status, row.sent_at, row.next_attempt_at, row.last_error = SENT, now, None, None
        result.sent += 1
        db.exec(sa.update(WebhookSubscription).where(col(WebhookSubscription.id) == sub.id)
                .values(consecutive_failures=0, failing_since=None, last_success_at=now))
    else:
        row.last_error = error[:500]
        result.failed_attempts += 1
        if now - row.created_at >= timedelta(hours=config.give_up_hours):
            row.status, row.next_attempt_at = FAILED, None
            result.gave_up += 1
            log.warning("Webhook delivery %s to %s failed %s times; giving up: %s", row.id, sub.url, row.attempts,
                        error)
        else:
            row.next_attempt_at = now + backoff(row.attempts)
        db.exec(sa.update(WebhookSubscription).where(col(WebhookSubscription.id) == sub.id).values(
            consecutive_failures=col(WebhookSubscription.consecutive_failures) + 1,
            failing_since=sa.func.coalesce(col(WebhookSubscription.failing_since), now)))
    db.add(row)
    db.flush()
    if error is not None:
        db.refresh(sub)
        assert sub.failing_since is not None  # set just above
        if (sub.paused_at is None and sub.consecutive_failures >= config.pause_after_failures
                and now - sub.failing_since >= timedelta(hours=config.pause_after_hours)):
            reason = (f"{sub.consecutive_failures} failed deliveries in a row since "
                      f"{sub.failing_since:%Y-%m-%d %H:%M} UTC; last: {error}")[:300]
            paused = db.exec(sa.update(WebhookSubscription).where(col(WebhookSubscription.id) == sub.id,
                                                                  col(WebhookSubscription.paused_at).is_(None))
                             .values(paused_at=now, pause_reason=reason)).rowcount
            if paused == 1:
                db.refresh(sub)
                result.paused += 1
                log.warning("Webhook subscription %s to %s paused: %s", sub.id, sub.url, reason)
                _tell_admins(db, sub, now)
    db.commit()


def run_round(db: Session, config: WebhookConfig | None = None, now: datetime | None = None,
              limit: int = BATCH_SIZE) -> RoundResult:
    """Send up to ``limit`` due deliveries; every attempt is recorded on its delivery."""
    config = config or config_from()
    now = now or clock.now()
    result = RoundResult()
    for row in _claim(db, now, limit):
        sub = db.get(WebhookSubscription, row.subscription_id, populate_existing=True)
        if sub is None or sub.paused_at is not None or not sub.is_active:
            continue  # removed or paused meanwhile; the claim lapses and a resumed subscription sends it
        code, error = deliver(sub, row, now, config)
        try:
            _record(db, sub, row, code, error, now, config, result)
        except StaleDataError:  # the subscription was removed (with its log) while this was being sent
            db.rollback()
    result.pruned = prune(db, now)
    return result


def prune(db: Session, now: datetime) -> int:
    """Remove up to ``PRUNE_BATCH`` delivered or given-up deliveries older than ``KEEP_DAYS``."""
    old = db.exec(select(WebhookDelivery.id).where(col(WebhookDelivery.status).in_([SENT, FAILED]),
                                                   col(WebhookDelivery.created_at) < now - timedelta(days=KEEP_DAYS))
                  .limit(PRUNE_BATCH)).all()
    if not old:
        return 0
    gone = db.exec(sa.delete(WebhookDelivery).where(col(WebhookDelivery.id).in_(old))
                   .execution_options(synchronize_session=False)).rowcount
    db.commit()
    return int(gone or 0)


def outbox_counts(db: Session) -> dict[str, int]:
    return {status: int(n) for status, n in db.exec(
        select(WebhookDelivery.status, sa.func.count()).group_by(WebhookDelivery.status)).all()}
