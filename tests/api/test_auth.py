"""Sign-in, sessions, lockout, sign-out and password change, through the HTTP API as clients use them."""

from __future__ import annotations

import hashlib
import inspect
import time
from datetime import timedelta

import argon2
import pytest
import reflex as rx
from fastapi.testclient import TestClient
from sqlmodel import select

from models import LoginAttempt, PortalEvent, UserSession
from portal_app.api.app import build_api
from portal_app.auth import passwords
from portal_app.auth.sessions import SESSION_COOKIE
from portal_app.services import clock
from portal_app.settings import settings
from tests.factories import PASSWORD, World


@pytest.fixture()
def client(world: World) -> TestClient:
    return TestClient(build_api())


def login(client: TestClient, email: str, password: str = PASSWORD):
    return client.post("/api/auth/login", json={"email": email, "password": password})


def test_login_sets_httponly_lax_cookie_and_stores_only_a_hash(client, world, db):
    resp = login(client, "customer_user@alfa.test")
    assert resp.status_code == 200
    body = resp.json()
    assert body["user"]["role"] == "customer_user" and body["user"]["company_name"] == "Alfa Imports"
    header = resp.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in header and "HttpOnly" in header and "SameSite=lax" in header.replace("Lax", "lax")
    token = client.cookies[SESSION_COOKIE]
    stored = db.exec(select(UserSession.token_hash)).all()
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert client.get("/api/auth/me").json()["email"] == "customer_user@alfa.test"


def test_wrong_password_and_unknown_user_get_the_same_answer(client, world):
    wrong = login(client, "customer_user@alfa.test", "not-the-password")
    unknown = login(client, "nobody@nowhere.test", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["saved"] is False
    assert "try again" in wrong.json()["error"]["message"]


def test_unknown_user_costs_the_same_argon2_work(client, world, monkeypatch):
    """Both pay one argon2 verification with the same cost parameters; no early return for unknown emails. The
    time it takes is a figure of `make bench` (bench/sign_in.py), not an assert here."""
    verified: list[str] = []

    class CountingHasher:
        def verify(self, password_hash: str, password: str) -> bool:
            verified.append(password_hash)
            return hasher.verify(password_hash, password)

    hasher = passwords._hasher
    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    login(client, "customer_admin@beta.test", "not-the-password")
    login(client, "ghost@nowhere.test", "not-the-password")
    known, unknown = verified
    assert known == world.users["BETA:customer_admin"].password_hash and unknown == passwords._DUMMY_HASH
    assert argon2.extract_parameters(known) == argon2.extract_parameters(unknown)


def test_failures_are_recorded_for_portal_health(client, world, db):
    before = len(db.exec(select(PortalEvent).where(PortalEvent.kind == "login_failed")).all())
    login(client, "customer_user@beta.test", "wrong-password-1")
    db.expire_all()
    after = len(db.exec(select(PortalEvent).where(PortalEvent.kind == "login_failed")).all())
    assert after == before + 1
    attempt = db.exec(select(LoginAttempt).where(LoginAttempt.email == "customer_user@beta.test")).one()
    assert attempt.succeeded is False and attempt.reason == "bad_credentials"


def test_lockout_after_repeated_failures_and_its_end(client, world, monkeypatch):
    """Repeated failures pause the email from the address they came from (other addresses:
    tests/api/test_sign_in_limits.py)."""
    email = "customer_admin@alfa.test"
    for _ in range(settings.login_max_failures):
        assert login(client, email, "wrong-password-x").status_code == 401
    locked = login(client, email)  # even the right password is refused from here while paused
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "account_locked"
    assert "Try again in" in locked.json()["error"]["message"]
    assert int(locked.headers["retry-after"]) > 0
    # An unknown email is locked the same way, so lockout does not reveal which accounts exist.
    for _ in range(settings.login_max_failures):
        login(client, "ghost-lock@nowhere.test", "x-wrong-pass")
    assert login(client, "ghost-lock@nowhere.test", "x-wrong-pass").json()["error"]["code"] == "account_locked"

    later = clock.now() + timedelta(minutes=settings.login_lockout_minutes + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert login(client, email).status_code == 200


def test_expired_session_is_refused(client, world, monkeypatch):
    assert login(client, "customer_user@alfa.test").status_code == 200
    assert client.get("/api/auth/me").status_code == 200
    later = clock.now() + timedelta(hours=settings.session_hours, minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    resp = client.get("/api/auth/me")
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "not_authenticated"


def test_logout_revokes_the_session_even_if_the_cookie_is_replayed(client, world):
    assert login(client, "customer_user@alfa.test").status_code == 200
    token = client.cookies[SESSION_COOKIE]
    assert client.post("/api/auth/logout").json() == {"signed_out": True}
    replay = TestClient(build_api(), cookies={SESSION_COOKIE: token})
    assert replay.get("/api/auth/me").status_code == 401
    assert replay.get("/api/v1/shipments").status_code == 401


def test_password_change_ends_other_sessions_and_keeps_this_one(world, db):
    email = "customer_user@beta.test"
    first, second = TestClient(build_api()), TestClient(build_api())
    assert login(first, email).status_code == 200
    assert login(second, email).status_code == 200

    wrong = first.post("/api/auth/password", json={"current_password": "nope", "new_password": "Another-pass-99"})
    assert wrong.status_code == 422 and "not changed" in wrong.json()["error"]["message"]
    weak = first.post("/api/auth/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"

    ok = first.post("/api/auth/password", json={"current_password": PASSWORD, "new_password": "Another-pass-99"})
    assert ok.status_code == 200 and ok.json()["other_sessions_ended"] >= 1
    assert first.get("/api/auth/me").status_code == 200
    assert second.get("/api/auth/me").status_code == 401
    assert login(TestClient(build_api()), email, PASSWORD).status_code == 401
    assert login(TestClient(build_api()), email, "Another-pass-99").status_code == 200
    # put the password back for other tests
    back = first.post("/api/auth/password", json={"current_password": "Another-pass-99", "new_password": PASSWORD})
    assert back.status_code == 200


def test_form_login_redirects_back_and_failure_says_what_to_do(client, world):
    form = {"email": "customer_user@alfa.test", "password": "x", "next": "/portal/shipments"}
    bad = client.post("/api/auth/login", data=form, follow_redirects=False)
    assert bad.status_code == 303 and bad.headers["location"].startswith("/login?error=invalid_credentials")
    assert "next=%2Fportal%2Fshipments" in bad.headers["location"]
    good = client.post("/api/auth/login", data={"email": "customer_user@alfa.test", "password": PASSWORD,
                                                "next": "/portal/shipments"}, follow_redirects=False)
    assert good.status_code == 303 and good.headers["location"] == "/portal/shipments"
    evil = client.post("/api/auth/login", data={"email": "customer_user@alfa.test", "password": PASSWORD,
                                                "next": "//evil.example/x"}, follow_redirects=False)
    assert evil.headers["location"] == "/portal"
    tower = client.post("/api/auth/login", data={"email": "customer_user@alfa.test", "password": PASSWORD,
                                                 "next": "/tower"}, follow_redirects=False)
    assert tower.headers["location"] == "/portal"


def test_no_page_event_handler_accepts_identity_arguments():
    """Identity comes from the verified cookie only: no public handler takes a company, user or role."""
    import portal_app.portal_app  # noqa: F401  (registers every page state)

    forbidden = {"company_id", "user_id", "role", "principal", "email", "token"}

    def all_states(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from all_states(sub)

    checked = 0
    for state in all_states(rx.State):
        if not state.__module__.startswith("portal_app"):
            continue
        for name, handler in state.event_handlers.items():
            params = set(inspect.signature(handler.fn).parameters) - {"self"}
            assert not params & forbidden, f"{state.__name__}.{name} takes {params & forbidden}"
            checked += 1
    assert checked > 5


def test_page_events_reuse_a_live_session_briefly_and_forget_it_when_sessions_end(client, world, db, monkeypatch):
    """Websocket events remember the principal of a live session for a moment; ending sessions (sign-out,
    password change, deactivation) or changing a role forgets it at once, and it lapses on its own."""
    from portal_app.auth import sessions

    login(client, world.users["ALFA:customer_user"].email)
    token = client.cookies.get(SESSION_COOKIE)
    principal = sessions.resolve_session(db, token)
    sessions.remember_principal(token, principal)
    assert sessions.recent_principal(token) == principal
    sessions.revoke_user_sessions(db, principal.user_id, reason="test")
    db.commit()
    assert sessions.recent_principal(token) is None  # forgotten at once
    assert sessions.resolve_session(db, token) is None  # and the database says it ended

    login(client, world.users["ALFA:customer_user"].email)
    token = client.cookies.get(SESSION_COOKIE)
    sessions.remember_principal(token, sessions.resolve_session(db, token))
    later = time.monotonic() + sessions.PRINCIPAL_CACHE_SECONDS + 0.1
    monkeypatch.setattr(sessions.time, "monotonic", lambda: later)
    assert sessions.recent_principal(token) is None  # lapsed: the next event looks it up again
    monkeypatch.undo()
    sessions.remember_principal(token, sessions.resolve_session(db, token))
    assert client.post("/api/auth/logout").status_code in (200, 204)
    assert sessions.recent_principal(token) is None


def test_with_redis_a_session_change_reaches_the_principals_every_worker_remembers(client, world, db, monkeypatch):
    """Several workers: each remembers principals in its own memory, so ending a session also moves a counter in
    Redis, and a principal remembered under an older value is looked up again (on every worker, at its next event).
    The change moves it once more when its transaction commits: an event in between may have read the old state."""
    import asyncio
    import dataclasses

    import redis

    from portal_app.auth import principal_epoch, sessions
    from tests.pages.test_page_binding import REDIS_URL, _redis_or_skip

    _redis_or_skip()
    monkeypatch.setattr(principal_epoch, "settings", dataclasses.replace(settings, redis_url=REDIS_URL))
    monkeypatch.setattr(principal_epoch, "_sync_client", None)
    login(client, world.users["ALFA:customer_user"].email)
    token = client.cookies.get(SESSION_COOKIE)
    principal = sessions.resolve_session(db, token)
    before = asyncio.run(principal_epoch.current())
    assert isinstance(before, int) and before >= 0
    sessions.remember_principal(token, principal, before)
    assert sessions.recent_principal(token, before) == principal

    redis.Redis.from_url(REDIS_URL).incr(principal_epoch.KEY)  # another worker ended a session
    now = asyncio.run(principal_epoch.current())
    assert now == before + 1
    assert sessions.recent_principal(token, now) is None  # this worker looks it up again

    sessions.remember_principal(token, principal, now)
    sessions.revoke_user_sessions(db, principal.user_id, reason="test")
    assert asyncio.run(principal_epoch.current()) == now + 1
    db.commit()
    assert asyncio.run(principal_epoch.current()) == now + 2  # and once more at the commit
    assert sessions.resolve_session(db, token) is None
