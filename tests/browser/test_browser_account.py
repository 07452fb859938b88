"""End to end in Debian's Chromium: a customer admin keeps their notification preferences and adds a colleague,
who can then sign in with the temporary password shown once."""

from __future__ import annotations

import uuid

import httpx
import pytest

from bench.frontend import axe_violations
from tests.browser_app import ARTIFACTS, _at, sign_in

pytestmark = pytest.mark.browser

ALICE = ("alice@acme.example", "demo-Pass-2026")


def _sign_in(pg, email: str, password: str) -> None:
    pg.goto("/login")
    pg.get_by_label("Email").fill(email)
    pg.get_by_label("Password").fill(password)
    pg.get_by_role("button", name="Sign in").click()
    pg.wait_for_url(_at("/portal"))


def test_customer_admin_saves_preferences_and_adds_a_colleague(page, app_url):
    from playwright.sync_api import expect

    _sign_in(page, *ALICE)
    page.goto("/portal/account")
    expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()
    expect(page.get_by_label("Full name")).to_have_value("Alice Archer")
    expect(page.get_by_role("link", name="Change password").first).to_be_visible()

    # Notification preferences: a checkbox per event and channel, named for screen readers.
    milestone_email = page.get_by_role("checkbox", name="Email for Milestone reached")
    expect(milestone_email).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="In-app for ETA changed")).to_be_checked()
    milestone_email.check()
    page.get_by_label("Tell me about ETA changes only when").fill("12")
    page.get_by_role("button", name="Save notification preferences").click()
    expect(page.get_by_role("status").filter(has_text="notification preferences are saved")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "portal-account.png", full_page=True)
    page.reload()
    expect(page.get_by_role("checkbox", name="Email for Milestone reached")).to_be_checked()
    expect(page.get_by_label("Tell me about ETA changes only when")).to_have_value("12")

    # Colleagues: the company's people, and a new one added with a temporary password shown once.
    page.get_by_role("link", name="Manage colleagues").click()
    page.wait_for_url(_at("/portal/account/users"))
    expect(page.get_by_role("heading", name="Colleagues", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Colleagues")
    expect(table.get_by_role("rowheader", name="Bob Baker")).to_be_visible()
    expect(table.get_by_text("nina@nordwind.example")).to_have_count(0)

    email = f"carol-{uuid.uuid4().hex[:6]}@acme.example"
    page.get_by_label("Full name").fill("Carol Cooper")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Role", exact=True).select_option("customer_user")
    page.get_by_role("button", name="Add colleague").click()
    expect(page.get_by_role("status").filter(has_text="is added")).to_be_visible()
    temporary = page.get_by_test_id("temporary-password")
    expect(temporary).to_be_visible()
    expect(temporary).not_to_have_value("")
    password = temporary.input_value().strip()
    assert len(password) >= 10
    expect(table.get_by_role("row").filter(has_text=email)).to_be_visible()
    expect(page.get_by_label("Role of Carol Cooper")).to_have_value("customer_user")
    page.screenshot(path=ARTIFACTS / "portal-colleagues.png", full_page=True)

    # The temporary password works once shared.
    login = httpx.post(f"{app_url}/api/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200

    # It is shown only once: a reload no longer shows it.
    page.reload()
    expect(table.get_by_role("row").filter(has_text=email)).to_be_visible()
    expect(page.get_by_test_id("temporary-password")).to_be_hidden()

    # Erasing her personal data asks first, in a dialog that says it cannot be undone; she then shows as erased.
    page.get_by_role("button", name="Erase the personal data of Carol Cooper").click()
    dialog = page.get_by_role("dialog", name="Erase the personal data of Carol Cooper?")
    expect(dialog).to_contain_text("cannot be undone")
    assert axe_violations(page) == [], "the erase dialog on the colleagues page"
    dialog.get_by_role("button", name="Erase personal data").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("erase-notice")).to_contain_text("Carol Cooper's personal data is erased")
    erased = table.get_by_role("row").filter(has_text="Former user")
    expect(erased).to_contain_text("Erased")
    expect(erased.get_by_role("button")).to_have_count(0)
    expect(table.get_by_text(email)).to_have_count(0)
    assert httpx.post(f"{app_url}/api/auth/login", json={"email": email, "password": password}).status_code == 401


def test_staff_member_switches_on_email_for_customer_replies(page):
    """The tower's account page: staff see the kinds of their work (no customer kinds), email off until asked."""
    from playwright.sync_api import expect

    sign_in(page, "manager@harborsky.example", "/tower")
    page.get_by_role("navigation", name="Ops tower navigation").get_by_role("link", name="Account").click()
    page.wait_for_url(_at("/tower/account"))
    expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()
    replies = page.get_by_role("checkbox", name="Email for Customer reply on my request")
    expect(replies).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="In-app for Task given to me")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Email for Invoice issued")).to_have_count(0)
    expect(page.get_by_label("Tell me about ETA changes only when")).to_have_count(0)
    replies.check()
    page.get_by_role("button", name="Save notification preferences").click()
    expect(page.get_by_role("status").filter(has_text="notification preferences are saved")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "tower-account.png", full_page=True)
    page.reload()
    expect(page.get_by_role("checkbox", name="Email for Customer reply on my request")).to_be_checked()
