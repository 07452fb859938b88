"""Failed sign-ins slow an attacker without letting a stranger lock an account's owner out (auth/sign_in_limits.py).

Each test runs on SQLite and on PostgreSQL, through the HTTP API, with clients at addresses of their own (the
TCP peer; no proxy is trusted here). The demo seed provides the accounts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from models import LoginAttempt
from portal_app.api import auth_routes
from portal_app.api.app import build_api
from portal_app.api.deps import get_db
from portal_app.auth import sign_in_limits
from portal_app.services import clock
from tests.quote_world import DEMO_PASSWORD, QuoteWorld, fresh_pg_world, sqlite_world

ADMIN = "admin@harborsky.example"
GHOST = "nobody-here@harborsky.example"  # no such account
OWNER_HOME = "203.0.113.10"


@pytest.fixture(scope="module")
def signin_sqlite() -> Iterator[QuoteWorld]:
    yield from sqlite_world("portal-signin")


@pytest.fixture(scope="module")
def signin_pg() -> Iterator[QuoteWorld]:
    yield from fresh_pg_world("portal_signin")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sworld(request, monkeypatch) -> QuoteWorld:
    """A seeded world with no sign-in history, and limits small enough to reach in a test."""
    world = request.getfixturevalue("signin_sqlite" if request.param == "sqlite" else "signin_pg")
    with world.engine.begin() as conn:
        conn.execute(sa.delete(LoginAttempt))
    monkeypatch.setattr(sign_in_limits, "settings", replace(
        sign_in_limits.settings, login_max_failures=5, login_lockout_minutes=15, login_ip_limit=1000,
        login_ip_window_minutes=10, login_email_hourly_limit=8, login_delay_max_seconds=0.05,
        login_known_address_days=90))
    return world


def at(world: QuoteWorld, address: str) -> TestClient:
    """An API client on ``world``'s database whose connections come from ``address``."""
    api = build_api()

    def db() -> Iterator[Session]:
        with Session(world.engine, expire_on_commit=False) as session:
            yield session

    api.dependency_overrides[get_db] = db
    return TestClient(api, client=(address, 41000))


def sign_in(client: TestClient, email: str, password: str = DEMO_PASSWORD):
    return client.post("/api/auth/login", json={"email": email, "password": password})


def code(resp) -> str:
    return "ok" if resp.status_code == 200 else resp.json()["error"]["code"]


def test_a_strangers_failures_pause_the_stranger_not_the_owner(sworld):
    stranger = at(sworld, "198.51.100.66")
    answers = {email: [code(sign_in(stranger, email, "wrong-Pass-1")) for _ in range(6)] for email in (ADMIN, GHOST)}
    # The same answers for an account and for an email without one.
    assert answers[ADMIN] == answers[GHOST] == ["invalid_credentials"] * 5 + ["account_locked"]
    paused = sign_in(stranger, ADMIN)  # the right password from the stranger's address is paused too
    assert paused.status_code == 429 and code(paused) == "account_locked"
    assert int(paused.headers["retry-after"]) > 0 and "from your network" in paused.json()["error"]["message"]
    # Hammering on keeps the stranger paused but does not count as more guesses for everyone else.
    for _ in range(20):
        assert code(sign_in(stranger, ADMIN, "wrong-Pass-2")) == "account_locked"

    # The owner, from anywhere else, signs in with the right password at once.
    assert code(sign_in(at(sworld, "192.0.2.44"), ADMIN)) == "ok"

    # The pause ends on its own.
    later = clock.now() + timedelta(minutes=16)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(clock, "now", lambda: later)
        assert code(sign_in(stranger, ADMIN)) == "ok"


def test_many_addresses_cannot_lock_the_owner_out(sworld):
    assert code(sign_in(at(sworld, OWNER_HOME), ADMIN)) == "ok"  # where the owner usually signs in

    # A distributed attack: two wrong passwords from each of several addresses, none of them paused on its own,
    # up to the hourly limit for the email (8 here).
    for email in (ADMIN, GHOST):
        for n in range(4):
            bot = at(sworld, f"198.51.100.{100 + n}")
            assert [code(sign_in(bot, email, f"guess-{n}-{i}x")) for i in range(2)] == ["invalid_credentials"] * 2

    # Past the hourly limit, addresses the account never signed in from may not try it (an account and an email
    # without one alike), so the guesses per hour stay bounded...
    for email in (ADMIN, GHOST):
        refused = sign_in(at(sworld, "198.51.100.200"), email, DEMO_PASSWORD)
        assert refused.status_code == 429 and code(refused) == "sign_in_limited"
        assert 0 < int(refused.headers["retry-after"]) <= 3600
    # ...while the owner, where they signed in before, still gets in with the right password.
    assert code(sign_in(at(sworld, OWNER_HOME), ADMIN)) == "ok"
    assert code(sign_in(at(sworld, OWNER_HOME), ADMIN, "wrong-Pass-1")) == "invalid_credentials"

    # Nothing is locked for good: an hour after the guesses, any address may sign in again.
    later = clock.now() + timedelta(minutes=61)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(clock, "now", lambda: later)
        assert code(sign_in(at(sworld, "192.0.2.77"), ADMIN)) == "ok"


def test_the_network_limit_still_works(sworld, monkeypatch):
    monkeypatch.setattr(sign_in_limits, "settings", replace(sign_in_limits.settings, login_ip_limit=4))
    crowd = at(sworld, "198.51.100.9")
    for n in range(4):  # different emails, so no single email is paused
        assert code(sign_in(crowd, f"someone{n}@example.com", "wrong-Pass-1")) == "invalid_credentials"
    blocked = sign_in(crowd, ADMIN)  # every email, even with the right password
    assert blocked.status_code == 429 and code(blocked) == "rate_limited"
    assert int(blocked.headers["retry-after"]) == 600
    assert code(sign_in(at(sworld, "198.51.100.10"), ADMIN)) == "ok"  # another address is not affected


def test_answers_about_an_email_slow_down_and_the_right_password_still_passes(sworld, monkeypatch):
    limits = replace(sign_in_limits.settings, login_delay_max_seconds=4.0)
    monkeypatch.setattr(sign_in_limits, "settings", limits)
    email = "slow-down@example.com"
    now = clock.now()
    with sworld.session() as db:
        delays = []
        for _ in range(9):
            delays.append(sign_in_limits.answer_delay(db, email, now))
            db.add(LoginAttempt(email=email, ip_address="198.51.100.1", succeeded=False,
                                reason=sign_in_limits.WRONG_PASSWORD))
            db.commit()
        # Refused attempts are not guesses: they do not slow the answers further.
        db.add(LoginAttempt(email=email, ip_address="198.51.100.1", succeeded=False, reason=sign_in_limits.PAUSED))
        db.commit()
        assert sign_in_limits.answer_delay(db, email, now) == 4.0
        assert sign_in_limits.answer_delay(db, email, now + timedelta(minutes=16)) == 0.0
    assert delays == [0, 0, 0, 0, 0, 0.5, 1.0, 2.0, 4.0]

    # Through the API: after a stranger's wrong passwords every answer waits, the owner's too, then passes.
    monkeypatch.setattr(sign_in_limits, "settings", replace(limits, login_delay_max_seconds=0.4))
    stranger = at(sworld, "198.51.100.66")
    for _ in range(6):
        sign_in(stranger, ADMIN, "wrong-Pass-1")
    waits: list[float] = []

    async def wait(seconds: float) -> None:  # what the route waits, recorded rather than timed
        waits.append(seconds)

    monkeypatch.setattr(auth_routes, "asyncio", SimpleNamespace(sleep=wait))
    assert code(sign_in(at(sworld, "192.0.2.44"), ADMIN)) == "ok"
    assert waits == [0.4]
