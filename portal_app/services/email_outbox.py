"""The email outbox: folds notification items into emails and sends them over SMTP, with retries.

Rows of :class:`models.EmailMessage` by ``status``:

- ``pending``: an item from :func:`portal_app.services.notifications.notify`, waiting for its user's batch window.
- ``digest``: an item waiting for the user's daily digest.
- ``merged``: an item folded into an email (kept as the record of what was sent).
- ``queued``: an email to send; ``sent``; ``failed`` after ``PORTAL_EMAIL_MAX_ATTEMPTS`` attempts.

One round (:func:`run_round`, every ``PORTAL_EMAIL_EVERY_SECONDS`` from the app's lifespan task):

1. **Batch**: a user whose oldest pending item has waited ``PORTAL_EMAIL_BATCH_SECONDS`` gets one email with all
   their pending items (a single item is sent as itself). A burst of events for one person is one email.
2. **Digest**: after ``PORTAL_EMAIL_DIGEST_HOUR`` (UTC) each day, one email per user with every digest item made
   before that hour.
3. **Send**: up to ``BATCH_SIZE`` due queued emails over one SMTP connection. Each is claimed first (a conditional
   UPDATE that moves ``next_attempt_at`` ahead), so several workers never send the same email twice at once. Every
   attempt is an :class:`models.EmailAttempt`; a failure waits 1, 2, 4 ... minutes (at most an hour) before the
   next try. Only the server's permanent refusal of the email itself (a 5xx answer to its sender, recipient or
   content) counts towards ``PORTAL_EMAIL_MAX_ATTEMPTS``, after which the email is ``failed``. An outage (no
   connection, a refused or dropped session, a timeout, a 4xx "try later") never gives an email up: it stays queued,
   retried at most an hour apart, and goes out once the server answers again, however long that takes. After a
   lost connection the rest of the batch waits for the next round instead of each waiting out its own timeout.
   Without ``PORTAL_SMTP_HOST`` sending is off and emails stay queued.

Sending is at least once, not exactly once: a worker that dies between the server's acceptance and recording it
(or a connection lost after the message's last byte but before the server's "250") sends the email again after the
claim expires. Marking an email sent before handing it over would instead lose it in the same window, and a lost
security notice is worse than a repeated one. Each email carries a ``Message-ID`` made from its outbox row
(:func:`message_id`), the same on every try, so a repeat is recognisable and mail systems that drop a second copy
of a Message-ID do so.
"""

from __future__ import annotations

import html
import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, formataddr

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import EmailAttempt, EmailMessage
from portal_app.services import clock, pdf
from portal_app.services.notifications import ITEM_DIGEST, ITEM_PENDING, absolute_link
from portal_app.settings import Settings, settings

log = logging.getLogger(__name__)

QUEUED, SENT, FAILED, MERGED = "queued", "sent", "failed", "merged"
BATCH_SIZE = 20
MAX_ITEMS_PER_EMAIL = 200  # a bigger burst becomes several emails of this size
SHOWN_ITEMS = 50  # items written out in one email; the rest are counted and linked
CLAIM = timedelta(minutes=10)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    user: str | None = None
    password: str | None = None
    starttls: bool = True
    sender: str = "portal@localhost"
    timeout: float = 20


@dataclass(frozen=True)
class OutboxConfig:
    smtp: SmtpConfig | None
    batch_seconds: int = 120
    max_attempts: int = 8
    digest_hour: int = 7


def config_from(s: Settings = settings) -> OutboxConfig:
    smtp = None
    if s.smtp_host:
        smtp = SmtpConfig(s.smtp_host, s.smtp_port, s.smtp_user, s.smtp_password, s.smtp_starttls, s.smtp_from,
                          s.smtp_timeout_seconds)
    return OutboxConfig(smtp, s.email_batch_seconds, max(s.email_max_attempts, 1), s.email_digest_hour % 24)


@dataclass
class RoundResult:
    batched: int = 0
    digests: int = 0
    sent: int = 0
    failed_attempts: int = 0
    gave_up: int = 0


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 1, 2, 4, ... minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


# ------------------------------------------------------------------------------------------------ rendering


def wrap(product: str, heading: str, fragments: list[str], texts: list[str], more: int = 0) -> tuple[str, str]:
    """The whole plain-text and HTML body around item fragments, with the product's name and the way out."""
    prefs_url = absolute_link("/portal/account")
    centre = absolute_link("/portal/notifications")
    extra_text = f"\n\n…and {more} more in your notifications: {centre}" if more else ""
    text = (f"{product}\n{heading}\n\n" + "\n\n".join(texts) + extra_text
            + f"\n\n--\nYou receive this because of your notification preferences: {prefs_url}\n")
    extra_html = (f'<p>…and {more} more in <a href="{html.escape(centre, quote=True)}">your notifications</a>.</p>'
                  if more else "")
    body = (
        '<!doctype html><html><body style="font-family:Arial,Helvetica,sans-serif;color:#1f2328;max-width:640px">'
        f'<p style="font-weight:bold;font-size:18px;margin:0 0 8px">{html.escape(product)}</p>'
        f'<p style="margin:0 0 8px">{html.escape(heading)}</p>'
        + "".join(fragments) + extra_html
        + '<hr style="border:none;border-top:1px solid #d0d7de">'
        f'<p style="font-size:12px;color:#57606a">You receive this because of your '
        f'<a href="{html.escape(prefs_url, quote=True)}">notification preferences</a>.</p></body></html>'
    )
    return text, body


def queue_account_notice(db: Session, *, user_id: int, to_address: str, subject: str, paragraphs: list[str],
                         dedup_key: str, now: datetime | None = None) -> EmailMessage:
    """An email about the person's own account (a security notice, such as a reset second factor): queued to send
    at once, whatever their notification preferences, and never folded into a batch or a digest."""
    at = now or clock.now()
    product = pdf.issuer_name(db)
    text = f"{product}\n\n" + "\n\n".join(paragraphs) + "\n"
    body = (
        '<!doctype html><html><body style="font-family:Arial,Helvetica,sans-serif;color:#1f2328;max-width:640px">'
        f'<p style="font-weight:bold;font-size:18px;margin:0 0 8px">{html.escape(product)}</p>'
        + "".join(f'<p style="margin:0 0 12px">{html.escape(p)}</p>' for p in paragraphs)
        + "</body></html>"
    )
    row = EmailMessage(to_address=to_address, user_id=user_id, subject=subject[:300], body_text=text, body_html=body,
                       dedup_key=dedup_key[:200], status=QUEUED, next_attempt_at=at, created_at=at)
    db.add(row)
    return row


def _compose(product: str, items: list[EmailMessage], digest: bool) -> tuple[str, str, str]:
    shown = items[:SHOWN_ITEMS]
    more = len(items) - len(shown)
    if digest:
        subject = f"Your daily summary from {product}: {len(items)} update{'s' if len(items) != 1 else ''}"
        heading = "Here is what happened since your last summary."
    elif len(items) == 1:
        subject, heading = items[0].subject, "There is news about your freight."
    else:
        subject = f"{len(items)} updates from {product}"
        heading = f"{len(items)} things changed in the last few minutes."
    text, body = wrap(product, heading, [i.body_html or "" for i in shown], [i.body_text for i in shown], more)
    return subject[:300], text, body


def _fold(db: Session, product: str, user_id: int, items: list[EmailMessage], digest: bool, key: str,
          now: datetime) -> bool:
    """One email from ``items`` (claimed by a conditional update, so two workers never fold the same items)."""
    subject, text, body = _compose(product, items, digest)
    ids = [i.id for i in items]
    status = ITEM_DIGEST if digest else ITEM_PENDING
    nested = db.begin_nested()
    taken = db.exec(sa.update(EmailMessage).where(col(EmailMessage.id).in_(ids), col(EmailMessage.status) == status)
                    .values(status=MERGED).execution_options(synchronize_session=False)).rowcount
    if taken != len(ids):
        nested.rollback()
        return False
    db.add(EmailMessage(to_address=items[-1].to_address, user_id=user_id, subject=subject, body_text=text,
                        body_html=body, dedup_key=key[:200], status=QUEUED, next_attempt_at=now, created_at=now))
    nested.commit()
    return True


def _group(db: Session, status: str, before: datetime | None,
           user_ids: Sequence[int | None]) -> dict[int, list[EmailMessage]]:
    where: list[sa.ColumnElement[bool]] = [col(EmailMessage.status) == status,
                                           col(EmailMessage.user_id).in_(user_ids)]
    if before is not None:
        where.append(col(EmailMessage.created_at) < before)
    groups: dict[int, list[EmailMessage]] = {}
    for item in db.exec(select(EmailMessage).where(*where).order_by(col(EmailMessage.id))).all():
        assert item.user_id is not None  # it matched one of user_ids
        groups.setdefault(item.user_id, []).append(item)
    return groups


def batch_pending(db: Session, now: datetime, window_seconds: int) -> int:
    """Fold each user's pending items into one email once the oldest has waited the batch window."""
    due = db.exec(select(EmailMessage.user_id).where(EmailMessage.status == ITEM_PENDING)
                  .group_by(col(EmailMessage.user_id))
                  .having(sa.func.min(EmailMessage.created_at) <= now - timedelta(seconds=window_seconds))).all()
    if not due:
        return 0
    product = pdf.issuer_name(db)
    made = 0
    for user_id, items in _group(db, ITEM_PENDING, None, list(due)).items():
        for i in range(0, len(items), MAX_ITEMS_PER_EMAIL):
            part = items[i:i + MAX_ITEMS_PER_EMAIL]
            made += _fold(db, product, user_id, part, False, f"batch:{user_id}:{part[0].id}", now)
    db.commit()
    return made


def digest_cutoff(now: datetime, hour: int) -> datetime:
    """The latest daily digest time at or before ``now`` (UTC)."""
    today = datetime.combine(now.date(), time(hour), tzinfo=now.tzinfo)
    return today if now >= today else today - timedelta(days=1)


def send_digests(db: Session, now: datetime, hour: int) -> int:
    """One email per user with every digest item made before the latest digest time (idempotent per day)."""
    cutoff = digest_cutoff(now, hour)
    users = db.exec(select(EmailMessage.user_id).where(EmailMessage.status == ITEM_DIGEST,
                                                       EmailMessage.created_at < cutoff).distinct()).all()
    if not users:
        return 0
    product = pdf.issuer_name(db)
    made = 0
    for user_id, items in _group(db, ITEM_DIGEST, cutoff, list(users)).items():
        made += _fold(db, product, user_id, items[:MAX_ITEMS_PER_EMAIL * 5], True,
                      f"digest:{user_id}:{cutoff:%Y%m%d}:{items[0].id}", now)
    db.commit()
    return made


# -------------------------------------------------------------------------------------------------- sending


def message_id(row: EmailMessage, sender: str) -> str:
    """The email's Message-ID: made from its outbox row (id and creation time, down to the microsecond), so every
    try of one email carries the same one and two emails never share it."""
    assert row.id is not None  # a stored row
    domain = sender.rpartition("@")[2] or "localhost"
    made = row.created_at.replace(tzinfo=None)
    return f"<outbox.{row.id}.{made:%Y%m%d%H%M%S%f}@{domain}>"


def mime(product: str, sender: str, row: EmailMessage) -> MimeMessage:
    msg = MimeMessage()
    msg["Subject"] = row.subject
    msg["From"] = formataddr((product, sender))
    msg["To"] = row.to_address
    msg["Date"] = format_datetime(clock.now())
    msg["Message-ID"] = message_id(row, sender)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(row.body_text)
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html")
    return msg


def _claim(db: Session, now: datetime, limit: int) -> list[EmailMessage]:
    due = db.exec(select(EmailMessage.id).where(
        EmailMessage.status == QUEUED,
        sa.or_(col(EmailMessage.next_attempt_at).is_(None), col(EmailMessage.next_attempt_at) <= now),
    ).order_by(col(EmailMessage.id)).limit(limit)).all()
    claimed = []
    for email_id in due:
        got = db.exec(sa.update(EmailMessage).where(
            col(EmailMessage.id) == email_id, col(EmailMessage.status) == QUEUED,
            sa.or_(col(EmailMessage.next_attempt_at).is_(None), col(EmailMessage.next_attempt_at) <= now),
        ).values(next_attempt_at=now + CLAIM).execution_options(synchronize_session=False)).rowcount
        if got == 1:
            claimed.append(email_id)
    db.commit()
    if not claimed:
        return []
    # populate_existing: the conditional UPDATEs above bypassed any copy this session already holds.
    return list(db.exec(select(EmailMessage).where(col(EmailMessage.id).in_(claimed)).order_by(col(EmailMessage.id))
                        .execution_options(populate_existing=True)).all())


def permanent(exc: BaseException) -> bool:
    """True when the server refused this email for good (a 5xx answer to its sender, recipients or content, or it
    lacks what the email needs, such as SMTPUTF8); False for an outage: no connection, a dropped session, a
    timeout, a 4xx "try again later"."""
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException) and not isinstance(exc, smtplib.SMTPServerDisconnected):
        return exc.smtp_code >= 500
    return False


def connection_lost(exc: BaseException) -> bool:
    """The connection cannot carry another email (dropped, timed out, or the server said it is closing)."""
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421
    # Any other SMTPException (an OSError too) is about this email; a bare OSError is the socket's (a timeout).
    return not isinstance(exc, smtplib.SMTPException)


def _record(db: Session, row: EmailMessage, error: str | None, now: datetime, max_attempts: int,
            result: RoundResult, *, gives_up: bool = False) -> None:
    """Record one try. A failure counts towards giving up only when ``gives_up`` (a permanent refusal)."""
    assert row.id is not None  # a stored row
    row.attempts += 1
    db.add(EmailAttempt(email_id=row.id, attempted_at=now, succeeded=error is None,
                        error=error[:500] if error else None))
    if error is None:
        row.status, row.sent_at, row.next_attempt_at, row.last_error = SENT, now, None, None
        result.sent += 1
    else:
        row.last_error = error[:500]
        result.failed_attempts += 1
        if gives_up and row.attempts >= max_attempts:
            row.status, row.next_attempt_at = FAILED, None
            result.gave_up += 1
            log.warning("Email %s to %s failed %s times; giving up: %s", row.id, row.to_address, row.attempts, error)
        else:
            row.next_attempt_at = now + backoff(row.attempts)
    db.add(row)
    db.commit()


def _greet(client: smtplib.SMTP, smtp: SmtpConfig) -> None:
    """Open the session: EHLO, STARTTLS when offered (required to send a password), sign-in when configured."""
    client.ehlo()
    if smtp.starttls and client.has_extn("starttls"):
        client.starttls(context=ssl.create_default_context())
        client.ehlo()
    elif smtp.starttls and smtp.user:
        raise smtplib.SMTPException("the server offers no STARTTLS; not sending the password in clear")
    if smtp.user:
        client.login(smtp.user, smtp.password or "")


def send_due(db: Session, smtp: SmtpConfig, now: datetime, max_attempts: int, result: RoundResult,
             limit: int = BATCH_SIZE) -> None:
    """Send up to ``limit`` due emails over one connection; every try is recorded. An outage fails every claimed
    email for this round without giving any up; a lost connection ends the round (the rest wait for the next)."""
    rows = _claim(db, now, limit)
    if not rows:
        return
    product = pdf.issuer_name(db)
    try:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    except (OSError, smtplib.SMTPException) as exc:
        for row in rows:
            _record(db, row, f"Could not reach the mail server {smtp.host}:{smtp.port}: {exc}", now, max_attempts,
                    result)
        return
    try:
        _greet(client, smtp)
    except (OSError, smtplib.SMTPException) as exc:
        client.close()
        for row in rows:
            _record(db, row, f"The mail server refused the session: {exc}", now, max_attempts, result)
        return
    lost = False
    try:
        for n, row in enumerate(rows):
            try:
                client.send_message(mime(product, smtp.sender, row))
            except (OSError, smtplib.SMTPException) as exc:
                _record(db, row, f"Not accepted: {exc}", now, max_attempts, result, gives_up=permanent(exc))
                if connection_lost(exc):
                    lost = True
                    for waiting in rows[n + 1:]:
                        _record(db, waiting, f"Not sent: the connection to the mail server was lost ({exc})", now,
                                max_attempts, result)
                    return
            else:
                _record(db, row, None, now, max_attempts, result)
    finally:
        _hang_up(client, lost)


def _hang_up(client: smtplib.SMTP, lost: bool) -> None:
    """QUIT politely, or just close a connection that is already gone (a QUIT would wait out the timeout)."""
    if not lost:
        try:
            client.quit()
            return
        except (OSError, smtplib.SMTPException):
            pass
    client.close()


def run_round(db: Session, config: OutboxConfig | None = None, now: datetime | None = None,
              limit: int = BATCH_SIZE) -> RoundResult:
    """Batch pending items, make due digests, send due emails (when SMTP is configured)."""
    config = config or config_from()
    now = now or clock.now()
    result = RoundResult()
    result.batched = batch_pending(db, now, config.batch_seconds)
    result.digests = send_digests(db, now, config.digest_hour)
    if config.smtp is not None:
        send_due(db, config.smtp, now, config.max_attempts, result, limit)
    return result


def outbox_counts(db: Session) -> dict[str, int]:
    return {status: int(n) for status, n in db.exec(
        select(EmailMessage.status, sa.func.count()).group_by(EmailMessage.status)).all()}
