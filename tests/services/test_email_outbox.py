"""The email outbox against a real SMTP server on loopback (aiosmtpd): delivered with the right recipient and both
bodies; while the server is down every attempt is recorded and the email waits; it goes out once the server is
back, nothing lost; a permanent refusal gives up after the last attempt; the daily digest is one email with all of
a user's digest items."""

from __future__ import annotations

import email
import email.policy
import html
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from bench.app_server import free_port
from models import Company, EmailAttempt, EmailMessage
from models.enums import Role
from portal_app.auth.principal import Principal
from portal_app.services import clock, email_outbox, notification_prefs, notifications, pdf
from tests.factories import make_user
from tests.quote_world import QuoteWorld
from tests.tower_world import T0

NOW = T0 + timedelta(days=3)


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.content, policy=email.policy.default)
                for e in self.envelopes if address in e.rcpt_tos]


@pytest.fixture()
def smtp_port() -> int:
    return free_port()


def _server(port: int) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox


def _config(port: int, **kw) -> email_outbox.OutboxConfig:
    smtp = email_outbox.SmtpConfig("127.0.0.1", port, starttls=False, sender="ops@harborsky.example", timeout=5)
    return email_outbox.OutboxConfig(smtp, **{"batch_seconds": 60, "max_attempts": 4, "digest_hour": 7, **kw})


def _round(db: Session, config: email_outbox.OutboxConfig, now) -> email_outbox.RoundResult:
    """One outbox round; the limit is high because other tests of this database leave emails queued too."""
    return email_outbox.run_round(db, config, now, limit=10_000)


def _person(db: Session) -> Principal:
    c = db.exec(select(Company).where(Company.code == "ACME")).one()
    user = make_user(db, c.id, Role.CUSTOMER_USER, f"mail-{uuid.uuid4().hex[:8]}@acme.test")
    db.commit()
    return Principal(user.id, c.id, Role.CUSTOMER_USER, user.email, user.full_name, c.name)


def _event(db: Session, p: Principal, title: str, kind: str = "booking_confirmed") -> None:
    notifications.notify(db, kind, [p.user_id], title, f"Details of {title}.", "/portal/shipments/SH0000042",
                         f"outbox-test:{uuid.uuid4().hex}")
    db.commit()


def _mail(db: Session, p: Principal) -> list[EmailMessage]:
    db.expire_all()
    return list(db.exec(select(EmailMessage).where(EmailMessage.user_id == p.user_id,
                                                   EmailMessage.status.in_(["queued", "sent", "failed"]))).all())


def test_an_email_is_delivered_with_its_recipient_and_both_bodies(tworld: QuoteWorld, smtp_port: int):
    controller, inbox = _server(smtp_port)
    try:
        with tworld.session() as db:
            p = _person(db)
            _event(db, p, "Booking SH0000042 is confirmed")
            result = _round(db, _config(smtp_port), NOW + timedelta(seconds=61))
            assert result.sent >= 1
            [row] = _mail(db, p)
            assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
            attempts = db.exec(select(EmailAttempt).where(EmailAttempt.email_id == row.id)).all()
            assert [a.succeeded for a in attempts] == [True]
            product = pdf.issuer_name(db)
        [msg] = inbox.to(p.email)
        assert msg["To"] == p.email and msg["Subject"] == "Booking SH0000042 is confirmed"
        assert product in msg["From"] and "ops@harborsky.example" in msg["From"]
        assert msg.get_content_type() == "multipart/alternative"
        text = msg.get_body(("plain",)).get_content()
        body_html = msg.get_body(("html",)).get_content()
        assert product in text and html.escape(product) in body_html
        for part in (text, body_html):
            assert "Details of Booking SH0000042 is confirmed." in part
        assert "http://localhost:3000/portal/shipments/SH0000042" in text
        assert 'href="http://localhost:3000/portal/shipments/SH0000042"' in body_html
    finally:
        controller.stop()


def test_while_the_server_is_down_attempts_are_recorded_and_the_email_waits(tworld: QuoteWorld, smtp_port: int):
    config = _config(smtp_port)
    with tworld.session() as db:
        p = _person(db)
        _event(db, p, "Booking SH0000043 could not be confirmed", kind="booking_rejected")
        t = NOW + timedelta(seconds=61)
        _round(db, config, t)  # nobody listens on the port
        [row] = _mail(db, p)
        assert row.status == "queued" and row.attempts == 1 and "Could not reach" in row.last_error
        assert row.next_attempt_at == t + timedelta(minutes=1)
        # Not due yet: the next round leaves it alone.
        _round(db, config, t + timedelta(seconds=30))
        assert _mail(db, p)[0].attempts == 1
        _round(db, config, t + timedelta(minutes=1))
        [row] = _mail(db, p)
        assert row.status == "queued" and row.attempts == 2 and row.next_attempt_at == t + timedelta(minutes=3)
        failed = db.exec(select(EmailAttempt).where(EmailAttempt.email_id == row.id)).all()
        assert [a.succeeded for a in failed] == [False, False] and all(a.error for a in failed)

        controller, inbox = _server(smtp_port)
        try:
            _round(db, config, t + timedelta(minutes=3))
            [row] = _mail(db, p)
            assert row.status == "sent" and row.attempts == 3
            assert len(inbox.to(p.email)) == 1
        finally:
            controller.stop()


class Refusing(Inbox):
    """A server that refuses every recipient for good (550)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 No such mailbox"


def test_after_the_last_permanent_refusal_the_email_is_marked_failed(tworld: QuoteWorld, smtp_port: int):
    """Only the server's permanent refusal counts towards giving up; an outage never does (tests/faults)."""
    config = _config(smtp_port, max_attempts=2)
    controller = Controller(Refusing(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        with tworld.session() as db:
            p = _person(db)
            _event(db, p, "Booking SH0000044 is confirmed")
            t = NOW + timedelta(seconds=61)
            _round(db, config, t)
            _round(db, config, t + timedelta(hours=2))
            [row] = _mail(db, p)
            assert row.status == "failed" and row.attempts == 2 and row.next_attempt_at is None
            assert "550" in row.last_error
    finally:
        controller.stop()


def test_no_smtp_host_keeps_everything_queued(tworld: QuoteWorld):
    with tworld.session() as db:
        p = _person(db)
        _event(db, p, "Booking SH0000045 is confirmed")
        _round(db, email_outbox.OutboxConfig(None, batch_seconds=60), NOW + timedelta(hours=1))
        [row] = _mail(db, p)
        assert row.status == "queued" and row.attempts == 0


def test_the_daily_digest_is_one_email_with_every_item(tworld: QuoteWorld, smtp_port: int):
    controller, inbox = _server(smtp_port)
    try:
        with tworld.session() as db:
            p = _person(db)
            notification_prefs.save_preferences(db, p, [{"event_kind": "document_added", "channel": "email",
                                                         "enabled": True, "digest": True}])
            for n in range(3):
                _event(db, p, f"Packing list v{n + 1} added to SH0000046", kind="document_added")
            assert _mail(db, p) == []  # digest items, no email yet
            # NOW is 12:00 UTC: today's 07:00 digest time has passed, but the items are newer than it.
            _round(db, _config(smtp_port), NOW + timedelta(hours=1))
            assert _mail(db, p) == [] and inbox.to(p.email) == []
            # The next morning at 07:00 all three go out together.
            next_morning = NOW.replace(hour=7) + timedelta(days=1)
            _round(db, _config(smtp_port), next_morning)
            [row] = _mail(db, p)
            assert row.status == "sent" and "3 updates" in row.subject
            _round(db, _config(smtp_port), next_morning + timedelta(hours=1))
            assert len(_mail(db, p)) == 1  # nothing twice
        [msg] = inbox.to(p.email)
        text = msg.get_body(("plain",)).get_content()
        assert all(f"Packing list v{n} added to SH0000046" in text for n in (1, 2, 3))
    finally:
        controller.stop()


def test_the_lifespan_round_batches_on_its_own_session_and_the_task_is_registered(tworld: QuoteWorld):
    from portal_app import maintenance

    with tworld.session() as db:
        p = _person(db)
        _event(db, p, "Booking SH0000047 is confirmed")
    result = maintenance.run_email_round(tworld.engine, NOW + timedelta(hours=1))
    assert result.batched >= 1 and result.sent == 0  # no PORTAL_SMTP_HOST in the tests: queued, not sent
    with tworld.session() as db:
        assert [m.status for m in _mail(db, p)] == ["queued"]
    source = Path(maintenance.__file__).with_name("portal_app.py").read_text()
    assert "register_lifespan_task(keep_sending_email)" in source
