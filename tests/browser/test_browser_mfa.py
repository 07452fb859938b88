"""Two-factor sign-in end to end in Debian's Chromium: a customer sets up an authenticator app on the account page
(reading the secret key as text, the code computed with pyotp as any app would), signs out, and signs in again
with the password and then the code; a company that requires it takes its people to the set-up page first."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from bench.frontend import axe_violations
from models import Company, User
from models.enums import Role
from portal_app.auth.passwords import hash_password
from tests.browser_app import ARTIFACTS, DEMO_CUSTOMER, _at

pytestmark = pytest.mark.browser
PASSWORD = DEMO_CUSTOMER[1]


def _new_user(engine: sa.Engine, *, company_requires: bool = False) -> str:
    code = uuid.uuid4().hex[:8].upper()
    email = f"mfa-{code.lower()}@example.com"
    with Session(engine) as db:
        company = Company(code=code, name=f"Two Step Trading {code}", kind="customer", mfa_required=company_requires)
        db.add(company)
        db.flush()
        db.add(User(email=email, full_name="Tess Twostep", role=Role.CUSTOMER_USER, company_id=company.id,
                    password_hash=hash_password(PASSWORD)))
        db.commit()
    return email


def _password_step(pg, email: str) -> None:
    pg.goto("/login")
    pg.get_by_label("Email").fill(email)
    pg.get_by_label("Password").fill(PASSWORD)
    pg.get_by_role("button", name="Sign in").click()


def _set_up(pg) -> str:
    """Set up two-factor sign-in on the page open now; the secret key it showed."""
    from playwright.sync_api import expect

    pg.get_by_role("button", name="Set up two-factor sign-in").click()
    secret_field = pg.get_by_label("Secret key")
    expect(secret_field).to_have_value(re.compile(r"^[A-Z2-7]{32}$"))
    expect(pg.get_by_role("img", name="QR code holding your two-factor secret")).to_have_attribute(
        "src", re.compile(r"^data:image/svg\+xml"))
    pg.screenshot(path=ARTIFACTS / "mfa-set-up.png", full_page=True)
    assert axe_violations(pg) == [], "the set-up step"
    secret = secret_field.input_value()
    pg.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    pg.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(pg.get_by_role("status").filter(has_text="Two-factor sign-in is on")).to_be_visible()
    codes = pg.get_by_label("Recovery codes")
    expect(codes).to_have_value(re.compile(r"^([a-z2-9]{5}-[a-z2-9]{5}\n){9}[a-z2-9]{5}-[a-z2-9]{5}$"))
    expect(pg.get_by_test_id("mfa-status")).to_contain_text("10 unused recovery codes")
    return secret


def test_enrol_on_the_account_page_then_sign_in_with_the_code(page, app_engine):
    from playwright.sync_api import expect

    email = _new_user(app_engine)
    _password_step(page, email)
    page.wait_for_url(_at("/portal"))
    page.goto("/portal/account")
    expect(page.get_by_role("heading", name="Two-factor sign-in", level=2)).to_be_visible()
    secret = _set_up(page)
    page.screenshot(path=ARTIFACTS / "portal-account-mfa.png", full_page=True)
    assert axe_violations(page) == [], "account page with the recovery codes shown"
    old_codes = page.get_by_label("Recovery codes").input_value().split("\n")

    # New recovery codes, proven with one of the old ones: shown once, and every old one stops working.
    page.get_by_role("button", name="New recovery codes").click()
    page.get_by_label("Current code or recovery code").fill(old_codes[0])
    assert axe_violations(page) == [], "the new recovery codes form"
    page.get_by_role("button", name="Make new recovery codes").click()
    expect(page.get_by_role("status").filter(has_text="ten new recovery codes")).to_be_visible()
    new_codes = page.get_by_label("Recovery codes")
    expect(new_codes).to_have_value(re.compile(r"^([a-z2-9]{5}-[a-z2-9]{5}\n){9}[a-z2-9]{5}-[a-z2-9]{5}$"))
    assert not set(new_codes.input_value().split("\n")) & set(old_codes)
    expect(page.get_by_test_id("mfa-status")).to_contain_text("10 unused recovery codes")
    page.screenshot(path=ARTIFACTS / "portal-account-mfa-new-codes.png", full_page=True)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(_at("/login", query=True))

    # The password step, then the code step: the password is not in the address, the email is kept.
    _password_step(page, email)
    page.wait_for_url(re.compile(r".*/login/?\?.*step=code.*"))
    assert PASSWORD not in page.url
    expect(page.get_by_text("Signing in as")).to_contain_text(email)
    expect(page.get_by_role("status")).to_contain_text("6-digit code")
    assert axe_violations(page) == [], "the code step"
    page.get_by_label("Code from your authenticator app").fill(old_codes[5])  # replaced: no longer signs in
    page.get_by_role("button", name="Verify and sign in").click()
    page.wait_for_url(re.compile(r".*/login/?\?.*error=invalid_otp.*"))
    page.get_by_label("Code from your authenticator app").fill("000000" if pyotp.TOTP(secret).now() != "000000"
                                                               else "111111")
    page.get_by_role("button", name="Verify and sign in").click()
    page.wait_for_url(re.compile(r".*/login/?\?.*error=invalid_otp.*"))
    expect(page.get_by_role("alert")).to_contain_text("not right")
    page.screenshot(path=ARTIFACTS / "login-code-step.png")

    # The confirming code's time-step is spent; the next step's code (valid now, as clocks drift) signs in.
    page.get_by_label("Code from your authenticator app").fill(
        pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30)))
    page.get_by_role("button", name="Verify and sign in").click()
    page.wait_for_url(_at("/portal"))
    expect(page.get_by_role("heading", level=1).first).to_be_visible()


def test_a_company_that_requires_it_takes_people_to_set_up_first(page, app_engine):
    from playwright.sync_api import expect

    email = _new_user(app_engine, company_requires=True)
    _password_step(page, email)
    page.wait_for_url(_at("/portal/account/two-factor"))
    expect(page.get_by_role("alert").filter(has_text="requires two-factor sign-in")).to_be_visible()
    # Nothing else opens first: another page sends the person back.
    page.goto("/portal/invoices")
    page.wait_for_url(_at("/portal/account/two-factor"))
    _set_up(page)
    page.get_by_role("link", name="Continue").click()
    page.wait_for_url(_at("/portal"))
    page.goto("/portal/invoices")
    page.wait_for_url(_at("/portal/invoices"))
    expect(page.get_by_role("heading", level=1).first).to_be_visible()
