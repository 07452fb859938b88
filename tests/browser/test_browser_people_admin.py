"""End to end in Debian's Chromium: an administrator of the forwarder opens a customer company's people on the
organisation page and erases one of them through the confirmation dialog; the person shows as erased and can no
longer sign in. An ops manager sees no erase action and the API refuses them."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from bench.frontend import axe_violations
from models import Company, User
from models.enums import Role
from portal_app.auth.passwords import hash_password
from tests.browser.test_browser_tower_quotes import MANAGER
from tests.browser_app import ARTIFACTS, DEMO_CUSTOMER, sign_in

pytestmark = pytest.mark.browser

ADMIN = "admin@harborsky.example"
PASSWORD = DEMO_CUSTOMER[1]


def _company(engine: sa.Engine) -> tuple[str, dict[str, tuple[int, str]]]:
    """A customer company with an admin and two users: its name and {role word: (id, email)}."""
    code = uuid.uuid4().hex[:8].upper()
    people: dict[str, tuple[int, str]] = {}
    with Session(engine) as db:
        company = Company(code=code, name=f"Erasable Goods {code}", kind="customer")
        db.add(company)
        db.flush()
        for word, name, role in (("admin", "Ada Admin", Role.CUSTOMER_ADMIN), ("user", "Ulla User", Role.CUSTOMER_USER),
                                 ("other", "Otto Other", Role.CUSTOMER_USER)):
            user = User(email=f"{word}-{code.lower()}@example.com", full_name=name, role=role,
                        company_id=company.id, password_hash=hash_password(PASSWORD))
            db.add(user)
            db.flush()
            people[word] = (user.id, user.email)
        db.commit()
    return f"Erasable Goods {code}", people


def test_an_administrator_erases_a_customer_user_who_then_cannot_sign_in(page, app_engine, app_url):
    from playwright.sync_api import expect

    company, people = _company(app_engine)
    user_id, user_email = people["user"]
    assert page.request.post("/api/auth/login", data={"email": user_email, "password": PASSWORD},
                                 headers={"Origin": app_url}).status == 200
    page.context.clear_cookies()

    sign_in(page, ADMIN, "/tower/config/org")
    page.get_by_role("button", name=f"People of {company}").click()
    section = page.get_by_test_id("company-people")
    expect(section.get_by_role("heading", name=f"People of {company}")).to_be_visible()
    row = section.get_by_role("row").filter(has_text="Ulla User")
    expect(row).to_contain_text(user_email)
    expect(row).to_contain_text("Customer user")
    expect(row).to_contain_text("Active")

    # The dialog says what happens; Keep them changes nothing.
    page.get_by_role("button", name="Erase the personal data of Ulla User").click()
    dialog = page.get_by_role("dialog", name="Erase the personal data of Ulla User?")
    expect(dialog).to_contain_text("cannot be undone")
    expect(dialog).to_contain_text("can never sign in again")
    assert axe_violations(page) == [], "the erase dialog"
    page.screenshot(path=ARTIFACTS / "tower-erase-dialog.png")
    dialog.get_by_role("button", name="Keep them").click()
    expect(dialog).to_be_hidden()
    expect(row).to_contain_text(user_email)

    page.get_by_role("button", name="Erase the personal data of Ulla User").click()
    dialog.get_by_role("button", name="Erase personal data").click()
    expect(dialog).to_be_hidden()
    notice = section.get_by_test_id("erase-notice")
    expect(notice).to_contain_text("Ulla User's personal data is erased")
    expect(notice).to_contain_text("Former user")
    erased = section.get_by_role("row").filter(has_text="Former user")
    expect(erased).to_contain_text("Erased")
    expect(erased.get_by_role("button")).to_have_count(0)  # no actions on an erased person
    expect(section.get_by_text(user_email)).to_have_count(0)
    expect(section.get_by_role("button", name="Erase the personal data of Ulla User")).to_have_count(0)
    expect(section.get_by_role("button", name="Erase the personal data of Otto Other")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "tower-company-people-erased.png", full_page=True)
    assert axe_violations(page) == [], "the organisation page with a company's people"

    # The erased person can no longer sign in, with the old email or any other way.
    page.context.clear_cookies()
    refused = page.request.post("/api/auth/login", data={"email": user_email, "password": PASSWORD},
                                 headers={"Origin": app_url})
    assert refused.status == 401
    page.goto("/login")
    page.get_by_label("Email").fill(user_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/login/?\?.*error=.*"))
    expect(page.get_by_role("alert")).to_be_visible()
    assert user_id


def test_an_ops_manager_has_no_erase_action_and_is_refused(page, app_engine, app_url):
    from playwright.sync_api import expect

    _, people = _company(app_engine)
    other_id, other_email = people["other"]
    sign_in(page, MANAGER, "/tower/config/org")
    expect(page.get_by_test_id("config-denied")).to_contain_text("Configuration is for administrators")
    expect(page.get_by_role("button", name=re.compile("^Erase"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^People of"))).to_have_count(0)
    refused = page.request.post(f"/api/v1/users/{other_id}/erase", headers={"Origin": app_url})
    assert refused.status == 403 and refused.json()["error"]["code"] == "admin_only"
    page.context.clear_cookies()
    assert page.request.post("/api/auth/login", data={"email": other_email, "password": PASSWORD},
                             headers={"Origin": app_url}).status == 200
