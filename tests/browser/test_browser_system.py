"""The System page in Debian's Chromium, as the demo administrator: reached from the configuration sections, every
section is there (labelled regions), a page action that failed unexpectedly shows up under recent errors with the
error id the person was shown, and the page passes axe. The screenshot is test-artifacts/tower-system.png."""

from __future__ import annotations

import re

import pytest

from bench.frontend import axe_violations
from tests.browser_app import ARTIFACTS, sign_in
from tests.faults.sitecustomize import FAULT_QUERY

pytestmark = pytest.mark.browser

ADMIN = "admin@harborsky.example"
SECTIONS = ["Version", "Database", "Redis", "Outgoing queues", "Last exception-rule pass", "Last backup",
            "Customer-view audit", "Recent unexpected errors"]


def test_the_demo_administrator_reads_the_system_page(page):
    from playwright.sync_api import expect

    # A page action fails on purpose (tests/faults/sitecustomize.py): its error id is what support gets quoted.
    sign_in(page, ADMIN, "/tower/config")
    page.goto("/help")
    page.get_by_label("Search the help centre").fill(FAULT_QUERY)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_test_id("problem-banner")).to_be_visible()
    error_id = page.get_by_test_id("error-id").inner_text().strip()
    assert re.fullmatch(r"[0-9A-F]{8}", error_id), error_id
    page.get_by_test_id("problem-banner").get_by_role("button", name="Dismiss").click()

    page.goto("/tower/config")
    page.get_by_role("navigation", name="Configuration sections").get_by_role("link", name="System").click()
    page.wait_for_url(re.compile(r".*/tower/system/?$"))
    expect(page.get_by_role("heading", name="System", level=1)).to_be_visible()
    for name in SECTIONS:
        expect(page.get_by_role("region", name=name)).to_be_visible()
    database = page.get_by_role("region", name="Database")
    expect(database).to_contain_text("SQLite")
    expect(database).to_contain_text("at the code's head")
    expect(page.get_by_role("region", name="Redis")).to_contain_text("Not used")
    expect(page.get_by_role("table", name="Waiting to be sent")).to_contain_text("Emails")
    errors = page.get_by_role("table", name="Recent unexpected errors")
    row = errors.get_by_role("row").filter(has_text=error_id)
    expect(row).to_contain_text("Page")
    expect(row).to_contain_text("HelpCentreState.search")
    expect(row).to_contain_text("InjectedFault")

    page.get_by_role("button", name="Read again").click()
    expect(page.get_by_test_id("config-notice")).to_contain_text("Read again")
    page.wait_for_load_state("networkidle")
    assert axe_violations(page) == []
    page.screenshot(path=ARTIFACTS / "tower-system.png", full_page=True)


def test_an_ops_manager_gets_the_refusal(page):
    from playwright.sync_api import expect

    sign_in(page, "manager@harborsky.example", "/tower/system")
    expect(page.get_by_test_id("config-denied")).to_be_visible()
    expect(page.get_by_role("region", name="Database")).to_have_count(0)
