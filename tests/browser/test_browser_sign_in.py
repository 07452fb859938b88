"""Sign-in against the app started exactly as `make run` starts it (gunicorn with uvicorn workers).

The shared app trusts one reverse proxy, 127.0.0.2 (tests/browser_app.py); these tests connect from 127.0.0.1
(a client like any other) and from 127.0.0.2 (the proxy). So they check that the server stack under the app does
not rewrite the peer address itself (uvicorn believes X-Forwarded-For from 127.0.0.1 unless told not to), and that
the sign-in page shows why a deactivated company's user cannot sign in.
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models import Company, LoginAttempt, User
from models.enums import Role
from portal_app.auth.passwords import hash_password
from tests.browser_app import ARTIFACTS, DEMO_CUSTOMER, TRUSTED_PROXY, _at

pytestmark = pytest.mark.browser
PASSWORD = DEMO_CUSTOMER[1]


def _new_user(engine: sa.Engine, *, company_active: bool = True) -> str:
    code = uuid.uuid4().hex[:8].upper()
    email = f"signin-{code.lower()}@example.com"
    with Session(engine) as db:
        company = Company(code=code, name=f"Closed Trading {code}", kind="customer", is_active=company_active)
        db.add(company)
        db.flush()
        db.add(User(email=email, full_name="Cara Closed", role=Role.CUSTOMER_ADMIN, company_id=company.id,
                    password_hash=hash_password(PASSWORD)))
        db.commit()
    return email


def _addresses(engine: sa.Engine, email: str) -> list[str]:
    with Session(engine) as db:
        return list(db.exec(select(LoginAttempt.ip_address).where(LoginAttempt.email == email)
                            .order_by(LoginAttempt.id)).all())


def _client(app_url: str, local_address: str) -> httpx.Client:
    return httpx.Client(base_url=app_url, transport=httpx.HTTPTransport(local_address=local_address), timeout=30)


def test_the_server_counts_failures_against_the_peer_whatever_it_claims(app_url, app_engine):
    email = _new_user(app_engine)
    with _client(app_url, "127.0.0.1") as client:
        for i in range(6):
            resp = client.post("/api/auth/login", json={"email": email, "password": "wrong-Pass-1"},
                               headers={"X-Forwarded-For": f"198.51.100.{i + 1}"})
            assert resp.status_code in (401, 429)
        right = client.post("/api/auth/login", json={"email": email, "password": PASSWORD},
                            headers={"X-Forwarded-For": "198.51.100.77"})
    assert right.status_code == 429 and right.json()["error"]["code"] == "account_locked"
    assert set(_addresses(app_engine, email)) == {"127.0.0.1"}


def test_the_server_takes_the_address_a_trusted_proxy_forwards_and_no_more(app_url, app_engine):
    email = _new_user(app_engine)
    with _client(app_url, TRUSTED_PROXY) as proxy:
        # The client wrote 6.6.6.6 itself; the proxy appended the address it saw.
        proxy.post("/api/auth/login", json={"email": email, "password": "wrong-Pass-1"},
                   headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.23"})
        proxy.post("/api/auth/login", json={"email": email, "password": "wrong-Pass-1"})
        ok = proxy.post("/api/auth/login", json={"email": email, "password": PASSWORD},
                        headers={"X-Forwarded-For": "198.51.100.24"})
    assert ok.status_code == 200
    assert _addresses(app_engine, email) == ["198.51.100.23", TRUSTED_PROXY, "198.51.100.24"]


def test_the_sign_in_page_says_the_company_is_switched_off(page, app_engine):
    from playwright.sync_api import expect

    email = _new_user(app_engine, company_active=False)
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/login/?\?error=company_inactive.*"))
    expect(page.get_by_role("alert")).to_contain_text("access to the portal has been switched off")
    expect(page.get_by_role("alert")).to_contain_text("Contact your forwarder")
    expect(page.get_by_label("Email")).to_have_value(email)
    page.screenshot(path=ARTIFACTS / "login-company-inactive.png")

    # Without the right password nothing tells the account apart from any other.
    page.get_by_label("Password").fill("wrong-Pass-1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/login/?\?error=invalid_credentials.*"))
    expect(page.get_by_role("alert")).to_contain_text("not right")

    # And the portal is not reachable: going there lands on sign-in.
    page.goto("/portal")
    page.wait_for_url(_at("/login", query=True))
