"""Fault: the mail server is down for a while, then back. Every queued email goes out afterwards, none lost, and
each with one Message-ID of its own (the same on every try), so a receiver sees each email once.

Emails are queued the way the product queues them (a notification batched for a person, an account notice), and
sent by outbox rounds against real SMTP servers on loopback: none listening (refused), one that never answers (a
timeout), one that closes the session mid-transaction (421), one that says "try later" for every message (451),
then a working one (aiosmtpd). Sending is at least once (services/email_outbox.py): a worker that dies after the
server accepted an email but before recording it sends it again after the claim expires, under the same
Message-ID, and so does a server whose "250" never arrives; the last two tests show those cases and the dedupe the
Message-ID allows.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, col, select

from bench.app_server import free_port
from models import Company, EmailAttempt, EmailMessage
from models.enums import Role
from portal_app.services import clock, email_outbox, notifications
from tests.factories import make_user
from tests.quote_world import QuoteWorld
from tests.tower_world import T0

pytestmark = pytest.mark.faults

NOW = T0 + timedelta(days=3)
SENDER = "ops@harborsky.example"


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


class Inbox:
    """An aiosmtpd handler keeping every message it accepts; ``refuse`` makes it answer a stage with an error."""

    def __init__(self, refuse: dict[str, str] | None = None) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = refuse or {}

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if "MAIL" in self.refuse:
            return self.refuse["MAIL"]
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "RCPT" in self.refuse:
            return self.refuse["RCPT"]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if "DATA" in self.refuse:
            return self.refuse["DATA"]
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def ids_to(self, addresses: set[str]) -> Counter[str]:
        """How many times each Message-ID arrived for ``addresses``."""
        return Counter(str(m["Message-ID"]) for m in self.messages if str(m["To"]) in addresses)


@contextmanager
def smtp_server(port: int, inbox: Inbox) -> Iterator[Inbox]:
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@contextmanager
def silent_server(port: int) -> Iterator[None]:
    """Takes connections (the kernel's backlog) and never says a word: every client waits out its timeout."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(64)
        yield


def _config(port: int) -> email_outbox.OutboxConfig:
    """Two attempts at most: an outage must still give nothing up (only a permanent refusal counts)."""
    smtp = email_outbox.SmtpConfig("127.0.0.1", port, starttls=False, sender=SENDER, timeout=1)
    return email_outbox.OutboxConfig(smtp, batch_seconds=60, max_attempts=2, digest_hour=7)


def _round(engine, config: email_outbox.OutboxConfig, now) -> email_outbox.RoundResult:
    """One round in a session of its own, as the app's lifespan task runs it; other tests' queued emails may
    share the database, so the limit is high."""
    with Session(engine, expire_on_commit=False) as db:
        return email_outbox.run_round(db, config, now, limit=10_000)


def _queue_emails(tworld: QuoteWorld, people: int = 3) -> set[int]:
    """Emails queued through the services: a notification per person (batched by the outbox into an email) and
    an account notice for the first. Returns the people's user ids."""
    with tworld.session() as db:
        company = db.exec(select(Company).where(Company.code == "ACME")).one()
        users = [make_user(db, company.id, Role.CUSTOMER_USER, f"outage-{uuid.uuid4().hex[:8]}@acme.test")
                 for _ in range(people)]
        db.commit()
        for n, user in enumerate(users):
            notifications.notify(db, "booking_confirmed", [user.id], f"Booking SH00009{n:02d} is confirmed",
                                 "Details.", "/portal/shipments/SH0000042", f"outage:{uuid.uuid4().hex}")
        email_outbox.queue_account_notice(db, user_id=users[0].id, to_address=users[0].email,
                                          subject="Your second factor was reset", paragraphs=["It was reset."],
                                          dedup_key=f"outage-notice:{uuid.uuid4().hex}")
        db.commit()
        return {u.id for u in users}


def _emails(engine, user_ids: set[int]) -> list[EmailMessage]:
    with Session(engine) as db:
        return list(db.exec(select(EmailMessage).where(col(EmailMessage.user_id).in_(user_ids),
                                                       col(EmailMessage.status).in_(["queued", "sent", "failed"]))
                            .order_by(col(EmailMessage.id))).all())


def _attempts(engine, email_id: int) -> list[EmailAttempt]:
    with Session(engine) as db:
        return list(db.exec(select(EmailAttempt).where(EmailAttempt.email_id == email_id)).all())


def test_after_an_outage_every_queued_email_is_sent_exactly_once(tworld: QuoteWorld):
    port, engine = free_port(), tworld.engine
    config = _config(port)
    people = _queue_emails(tworld)
    t = NOW + timedelta(seconds=61)  # the batch window has passed: the notifications are emails now
    _round(engine, email_outbox.OutboxConfig(None, batch_seconds=60), t)
    queued = _emails(engine, people)
    assert len(queued) == 4 and {e.status for e in queued} == {"queued"}
    addresses = {e.to_address for e in queued}

    outages = [
        ("refused", None),                                                     # nobody listens on the port
        ("timeout", "silent"),                                                 # connects, then never answers
        ("closed mid-transaction", {"MAIL": "421 4.3.2 Shutting down, closing the session"}),
        ("try later", {"DATA": "451 4.3.0 Local problem, try again later"}),  # every message, session stays
    ]
    for n, (what, server) in enumerate(outages, start=1):
        t += timedelta(hours=2)  # past any backoff (at most an hour)
        started = time.monotonic()
        if server is None:
            _round(engine, config, t)
        elif server == "silent":
            with silent_server(port):
                _round(engine, config, t)
        else:
            with smtp_server(port, Inbox(refuse=server)) as inbox:
                _round(engine, config, t)
            assert inbox.ids_to(addresses) == Counter(), what
        # One timeout at most per round, not one per email.
        assert time.monotonic() - started < 5 * config.smtp.timeout, what
        rows = _emails(engine, people)
        assert [(r.status, r.attempts) for r in rows] == [("queued", n)] * 4, what
        assert all(r.next_attempt_at is not None and r.next_attempt_at > t for r in rows), what

    # The server is back: everything goes out in the next round, once.
    with smtp_server(port, Inbox()) as inbox:
        t += timedelta(hours=2)
        _round(engine, config, t)
        _round(engine, config, t + timedelta(hours=2))  # nothing left to send twice
    rows = _emails(engine, people)
    assert [(r.status, r.attempts) for r in rows] == [("sent", len(outages) + 1)] * 4
    for row in rows:
        tries = _attempts(engine, row.id)
        assert [a.succeeded for a in tries] == [False] * len(outages) + [True]
    expected = {email_outbox.message_id(r, SENDER) for r in rows}
    assert len(expected) == 4
    assert inbox.ids_to(addresses) == Counter(dict.fromkeys(expected, 1))


def test_a_permanent_refusal_still_gives_up_after_the_last_attempt(tworld: QuoteWorld):
    port, engine = free_port(), tworld.engine
    people = _queue_emails(tworld, people=1)
    t = NOW + timedelta(seconds=61)
    with smtp_server(port, Inbox(refuse={"RCPT": "550 5.1.1 No such mailbox"})):
        _round(engine, _config(port), t)
        _round(engine, _config(port), t + timedelta(hours=2))
    rows = _emails(engine, people)
    assert [(r.status, r.attempts) for r in rows] == [("failed", 2)] * 2, [r.last_error for r in rows]
    assert all("550" in (r.last_error or "") for r in rows)


class ProcessDied(BaseException):
    """Stands for the worker being killed: nothing after it runs, nothing of the session is committed."""


def test_a_worker_killed_after_the_server_accepted_resends_under_the_same_message_id(tworld: QuoteWorld,
                                                                                     monkeypatch):
    """At least once: the email the server took just before the worker died goes again after the claim expires,
    with the same Message-ID, so a receiver that drops repeats (by Message-ID) shows every email exactly once."""
    port, engine = free_port(), tworld.engine
    config = _config(port)
    people = _queue_emails(tworld)
    t = NOW + timedelta(seconds=61)
    _round(engine, email_outbox.OutboxConfig(None, batch_seconds=60), t)
    addresses = {e.to_address for e in _emails(engine, people)}
    real_record = email_outbox._record
    accepted = {"n": 0}

    def dies_after_the_second_acceptance(db, row, error, *args, **kwargs):
        if error is None and row.user_id in people:
            accepted["n"] += 1
            if accepted["n"] == 2:
                raise ProcessDied
        return real_record(db, row, error, *args, **kwargs)

    with smtp_server(port, Inbox()) as inbox:
        monkeypatch.setattr(email_outbox, "_record", dies_after_the_second_acceptance)
        with pytest.raises(ProcessDied):
            _round(engine, config, t)
        monkeypatch.setattr(email_outbox, "_record", real_record)
        rows = _emails(engine, people)
        assert [r.status for r in rows] == ["sent", "queued", "queued", "queued"]
        crashed = rows[1]
        assert len(inbox.ids_to(addresses)) == 2  # the server has the second one, the outbox does not know

        _round(engine, config, t + timedelta(minutes=5))  # the dead worker's claim still holds
        assert [r.status for r in _emails(engine, people)] == ["sent", "queued", "queued", "queued"]
        _round(engine, config, t + email_outbox.CLAIM + timedelta(seconds=1))
        _round(engine, config, t + timedelta(hours=3))

    rows = _emails(engine, people)
    assert [r.status for r in rows] == ["sent"] * 4
    ids = inbox.ids_to(addresses)
    assert set(ids) == {email_outbox.message_id(r, SENDER) for r in rows}
    assert ids == Counter({email_outbox.message_id(r, SENDER): 2 if r.id == crashed.id else 1 for r in rows})


class SlowToAnswer(Inbox):
    """Keeps the message, then answers after the client has given up waiting (the "250" is lost on the way)."""

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        await asyncio.sleep(2.5)
        return "250 Message accepted for delivery"


def test_a_lost_answer_after_the_message_resends_it_under_the_same_message_id(tworld: QuoteWorld):
    """The other at-least-once window: the server took the message but its answer never arrived (a timeout). The
    email stays queued, goes again, and the receiver sees the same Message-ID twice."""
    port, engine = free_port(), tworld.engine
    config = _config(port)
    people = _queue_emails(tworld, people=1)
    t = NOW + timedelta(seconds=61)
    _round(engine, email_outbox.OutboxConfig(None, batch_seconds=60), t)
    rows = _emails(engine, people)
    addresses = {r.to_address for r in rows}
    with smtp_server(port, SlowToAnswer()) as slow:
        _round(engine, config, t)
    first = _emails(engine, people)
    assert [(r.status, r.attempts) for r in first] == [("queued", 1)] * 2
    assert "timed out" in (first[0].last_error or "") and "connection to the mail server was lost" in (
        first[1].last_error or "")
    with smtp_server(port, Inbox()) as inbox:
        _round(engine, config, t + timedelta(hours=1))
    assert [r.status for r in _emails(engine, people)] == ["sent", "sent"]
    resent = email_outbox.message_id(rows[0], SENDER)
    assert slow.ids_to(addresses) == Counter({resent: 1})
    assert inbox.ids_to(addresses) == Counter({email_outbox.message_id(r, SENDER): 1 for r in rows})
