"""Two-factor sign-in through the HTTP API as clients and the sign-in page use it (docs/identity.md).

Each test makes its own company and users, so the shared world's users keep signing in with passwords alone.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from models import AuditLog, EmailMessage, LoginAttempt
from portal_app.api.app import build_api
from portal_app.auth import mfa as auth_mfa
from portal_app.auth import sign_in_limits
from portal_app.auth.sessions import SESSION_COOKIE
from portal_app.services import clock
from tests.factories import PASSWORD, World
from tests.services.test_mfa import tenant

FORM = {"content-type": "application/x-www-form-urlencoded"}


def client() -> TestClient:
    return TestClient(build_api(), follow_redirects=False)


def sign_in(c: TestClient, email: str, password: str = PASSWORD, **extra: str):
    return c.post("/api/auth/login", json={"email": email, "password": password, **extra})


def signed_in(email: str, password: str = PASSWORD, **extra: str) -> TestClient:
    c = client()
    resp = sign_in(c, email, password, **extra)
    assert resp.status_code == 200, resp.text
    return c


def code_at(secret: str, seconds_from_now: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now() + timedelta(seconds=seconds_from_now))


def error(resp) -> str:
    return resp.json()["error"]["code"]


def enrol(c: TestClient) -> tuple[str, list[str]]:
    started = c.post("/api/v1/account/mfa/totp")
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    confirmed = c.post("/api/v1/account/mfa/totp/confirm", json={"code": code_at(secret)})
    assert confirmed.status_code == 200, confirmed.text
    return secret, confirmed.json()["recovery_codes"]


def test_enrol_confirm_and_sign_in_with_a_code_once(db):
    t = tenant(db)
    me = signed_in(t.user.email)
    started = me.post("/api/v1/account/mfa/totp").json()
    assert set(started) >= {"secret", "otpauth_uri"} and started["qr_svg"].startswith("data:image/svg+xml")
    assert me.get("/api/v1/account/mfa").json()["pending"] is True
    wrong = me.post("/api/v1/account/mfa/totp/confirm", json={"code": "12345x"})
    assert wrong.status_code == 422 and error(wrong) == "invalid_otp" and wrong.json()["error"]["saved"] is False
    confirmed = me.post("/api/v1/account/mfa/totp/confirm", json={"code": code_at(started["secret"])})
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10
    status = me.get("/api/v1/account/mfa").json()
    assert status["enabled"] is True and status["recovery_codes_left"] == 10

    c = client()
    needed = sign_in(c, t.user.email)
    assert needed.status_code == 401 and error(needed) == "mfa_required" and SESSION_COOKIE not in c.cookies
    # A wrong password says nothing about the second factor.
    assert error(sign_in(c, t.user.email, "not-the-password")) == "invalid_credentials"
    next_code = code_at(started["secret"], 30)  # one code, typed twice (a new one could be the next step's)
    ok = sign_in(c, t.user.email, otp=next_code)
    assert ok.status_code == 200 and c.get("/api/auth/me").json()["email"] == t.user.email
    replay = sign_in(client(), t.user.email, otp=next_code)
    assert replay.status_code == 401 and error(replay) == "invalid_otp"

    assert sign_in(client(), t.user.email, otp=codes[3]).status_code == 200
    again = sign_in(client(), t.user.email, otp=codes[3])
    assert again.status_code == 401 and error(again) == "invalid_otp"
    assert me.get("/api/v1/account/mfa").json()["recovery_codes_left"] == 9


def test_wrong_codes_slow_down_and_pause_like_wrong_passwords(db, monkeypatch):
    monkeypatch.setattr(sign_in_limits, "settings", replace(sign_in_limits.settings, login_delay_max_seconds=0.01))
    t = tenant(db)
    secret, _ = enrol(signed_in(t.user.email))
    wrong = "000000" if code_at(secret, 30) != "000000" else "999999"
    c = client()
    answers = [error(sign_in(c, t.user.email, otp=wrong)) for _ in range(6)]
    assert answers == ["invalid_otp"] * 5 + ["account_locked"]
    reasons = db.exec(select(LoginAttempt.reason).where(LoginAttempt.email == t.user.email,
                                                        LoginAttempt.succeeded.is_(False))).all()
    assert reasons.count(sign_in_limits.WRONG_CODE) == 5
    assert sign_in_limits.answer_delay(db, t.user.email, clock.now()) > 0


def test_turning_it_off_needs_a_current_code_or_the_password(db):
    t = tenant(db)
    me = signed_in(t.user.email)
    secret, _ = enrol(me)
    me = signed_in(t.user.email, otp=code_at(secret, 30))
    nothing = me.request("DELETE", "/api/v1/account/mfa", json={})
    assert nothing.status_code == 422
    bad = me.request("DELETE", "/api/v1/account/mfa", json={"password": "not-the-password"})
    assert bad.status_code == 422 and error(bad) == "invalid_otp"
    assert me.get("/api/v1/account/mfa").json()["enabled"] is True
    off = me.request("DELETE", "/api/v1/account/mfa", json={"password": PASSWORD})
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert sign_in(client(), t.user.email).status_code == 200


def test_company_policy_forces_enrolment_before_anything_else(db):
    t = tenant(db)
    admin = signed_in(t.admin.email)
    refused = admin.put("/api/v1/account/mfa/policy", json={"required": True})
    assert refused.status_code == 409 and error(refused) == "mfa_not_enabled"
    secret, _ = enrol(admin)
    assert admin.put("/api/v1/account/mfa/policy", json={"required": True}).json()["required"] is True
    user = signed_in(t.user.email)  # a user without a second factor signs in with the password...
    assert user.get("/api/v1/account/mfa").json()["required"] is True
    for method, path in (("GET", "/api/v1/shipments"), ("GET", "/api/auth/me"), ("GET", "/api/v1/account/profile"),
                         ("POST", "/api/auth/password")):
        resp = user.request(method, path, json={})
        assert resp.status_code == 403 and error(resp) == "mfa_enrolment_required", (path, resp.text)
    assert sign_in(client(), t.user.email).json()["mfa_enrolment_required"] is True
    enrol(user)  # ...and may only enrol (or sign out) until it is done
    assert user.get("/api/v1/shipments").status_code == 200
    assert user.get("/api/auth/me").status_code == 200
    assert admin.get("/api/v1/shipments").status_code == 200 and secret
    assert user.post("/api/auth/logout").status_code == 200


def test_customer_admin_resets_a_colleague_audited_and_emailed(db, world: World):
    t, other = tenant(db), tenant(db)
    secret, _ = enrol(signed_in(t.user.email))
    enrol(signed_in(other.user.email))
    admin = signed_in(t.admin.email)
    for target in (other.user.id, world.users["FWD:admin"].id):  # another company's user and staff: not found
        resp = admin.delete(f"/api/v1/account/users/{target}/mfa")
        assert resp.status_code == 404, resp.text
    assert signed_in(other.admin.email).get("/api/v1/account/users").status_code == 200
    assert sign_in(client(), other.user.email).json()["error"]["code"] == "mfa_required"  # untouched

    assert signed_in(t.user.email, otp=code_at(secret, 30)).delete(
        f"/api/v1/account/users/{t.admin.id}/mfa").status_code == 403  # a customer user resets nobody
    done = admin.delete(f"/api/v1/account/users/{t.user.id}/mfa")
    assert done.status_code == 200 and done.json()["user_id"] == t.user.id
    assert sign_in(client(), t.user.email).status_code == 200  # the password alone again
    assert db.exec(select(AuditLog).where(AuditLog.action == "mfa_reset",
                                          AuditLog.entity_id == str(t.user.id))).first() is not None
    assert db.exec(select(EmailMessage).where(EmailMessage.user_id == t.user.id)).first() is not None


def test_an_administrator_resets_anyone_other_staff_may_not(db, world: World):
    t = tenant(db)
    enrol(signed_in(t.user.email))
    manager = signed_in(world.users["FWD:ops_manager"].email)
    assert manager.delete(f"/api/v1/config/users/{t.user.id}/mfa").status_code == 403
    admin = signed_in(world.users["FWD:admin"].email)
    assert admin.delete(f"/api/v1/config/users/{t.user.id}/mfa").status_code == 200
    assert admin.delete("/api/v1/config/users/999999999/mfa").status_code == 404


def test_the_sign_in_page_asks_for_the_code_in_a_second_step(db):
    """The form posts the password once; the code step posts the code alone, with the pending cookie."""
    t = tenant(db)
    secret, _ = enrol(signed_in(t.user.email))
    browser = client()
    first = browser.post("/api/auth/login", headers=FORM, data={"email": t.user.email, "password": PASSWORD,
                                                                 "next": "/portal/invoices"})
    assert first.status_code == 303
    target = urlsplit(first.headers["location"])
    query = parse_qs(target.query)
    assert target.path == "/login" and query["step"] == ["code"] and query["error"] == ["mfa_required"]
    assert query["email"] == [t.user.email] and query["next"] == ["/portal/invoices"]
    assert PASSWORD not in first.headers["location"]
    cookie = first.headers["set-cookie"]
    assert auth_mfa.PENDING_COOKIE in cookie and "HttpOnly" in cookie and "Path=/api/auth/login" in cookie
    assert SESSION_COOKIE not in browser.cookies

    wrong = browser.post("/api/auth/login", headers=FORM, data={"email": t.user.email, "otp": "000000"
                                                                if code_at(secret, 30) != "000000" else "999999"})
    assert parse_qs(urlsplit(wrong.headers["location"]).query)["error"] == ["invalid_otp"]
    assert "step=code" in wrong.headers["location"]
    done = browser.post("/api/auth/login", headers=FORM, data={"email": t.user.email, "otp": code_at(secret, 30),
                                                                "next": "/portal/invoices"})
    assert done.status_code == 303 and done.headers["location"] == "/portal/invoices"
    assert SESSION_COOKIE in browser.cookies

    # Without the pending cookie (another browser, or after five minutes) the code alone signs nobody in.
    stranger = client()
    late = stranger.post("/api/auth/login", headers=FORM, data={"email": t.user.email, "otp": code_at(secret, 60)})
    assert parse_qs(urlsplit(late.headers["location"]).query)["error"] == ["mfa_expired"]
    assert SESSION_COOKIE not in stranger.cookies


def test_the_sign_in_page_sends_who_must_enrol_to_enrolment(db):
    t = tenant(db)
    admin = signed_in(t.admin.email)
    enrol(admin)
    admin.put("/api/v1/account/mfa/policy", json={"required": True})
    resp = client().post("/api/auth/login", headers=FORM, data={"email": t.user.email, "password": PASSWORD})
    assert resp.status_code == 303 and resp.headers["location"] == "/portal/account/two-factor"


@pytest.mark.parametrize("body", [{"code": 123456}, {"code": "1" * 13}, {}, {"code": None}])
def test_confirm_refuses_bad_bodies(db, body):
    t = tenant(db)
    me = signed_in(t.user.email)
    me.post("/api/v1/account/mfa/totp")
    resp = me.post("/api/v1/account/mfa/totp/confirm", json=body)
    assert resp.status_code == 422 and resp.json()["error"]["saved"] is False


def test_new_recovery_codes_replace_the_old_ones_with_a_proof(db):
    t = tenant(db)
    me = signed_in(t.user.email)
    off = me.post("/api/v1/account/mfa/recovery-codes", json={"password": PASSWORD})
    assert off.status_code == 409 and error(off) == "mfa_not_enabled" and off.json()["error"]["saved"] is False
    secret, old = enrol(me)
    me = signed_in(t.user.email, otp=old[0])  # one old code spent: nine left

    failures_before = len(db.exec(select(LoginAttempt).where(LoginAttempt.email == t.user.email,
                                                             LoginAttempt.succeeded.is_(False))).all())
    nothing = me.post("/api/v1/account/mfa/recovery-codes", json={})
    assert nothing.status_code == 422 and nothing.json()["error"]["saved"] is False
    wrong = me.post("/api/v1/account/mfa/recovery-codes", json={"password": "not-the-password"})
    assert wrong.status_code == 422 and error(wrong) == "invalid_otp" and wrong.json()["error"]["saved"] is False
    failures = db.exec(select(LoginAttempt.reason).where(LoginAttempt.email == t.user.email,
                                                         LoginAttempt.succeeded.is_(False))).all()
    assert len(failures) == failures_before + 1 and failures[-1] == sign_in_limits.WRONG_CODE  # counted as a sign-in
    assert me.get("/api/v1/account/mfa").json()["recovery_codes_left"] == 9  # nothing changed

    made = me.post("/api/v1/account/mfa/recovery-codes", json={"code": old[1]})  # a recovery code proves it too
    assert made.status_code == 200, made.text
    new = made.json()["recovery_codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert me.get("/api/v1/account/mfa").json()["recovery_codes_left"] == 10
    for spent in (old[2], old[9]):  # every old code stops working, used or not
        refused = sign_in(client(), t.user.email, otp=spent)
        assert refused.status_code == 401 and error(refused) == "invalid_otp"
    assert sign_in(client(), t.user.email, otp=new[4]).status_code == 200
    again = sign_in(client(), t.user.email, otp=new[4])
    assert again.status_code == 401 and error(again) == "invalid_otp"
    assert me.post("/api/v1/account/mfa/recovery-codes", json={"password": PASSWORD}).status_code == 200
    rows = db.exec(select(AuditLog).where(AuditLog.action == "mfa_recovery_codes_regenerated",
                                          AuditLog.entity_id == str(t.user.id))).all()
    assert len(rows) == 2 and all(r.actor_id == t.user.id for r in rows)
    assert not any(code in (r.after or "") + (r.before or "") for r in rows for code in new)
    assert secret


def test_new_recovery_codes_are_refused_while_the_account_is_paused(db, monkeypatch):
    monkeypatch.setattr(sign_in_limits, "settings", replace(sign_in_limits.settings, login_delay_max_seconds=0.01))
    t = tenant(db)
    me = signed_in(t.user.email)
    enrol(me)
    answers = [error(me.post("/api/v1/account/mfa/recovery-codes", json={"password": "wrong-Pass-1"}))
               for _ in range(6)]
    assert answers == ["invalid_otp"] * 5 + ["account_locked"]
    paused = me.post("/api/v1/account/mfa/recovery-codes", json={"password": PASSWORD})
    assert paused.status_code == 429 and error(paused) == "account_locked"
