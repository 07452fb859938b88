"""Accessibility in a real browser: axe-core finds no serious or critical WCAG 2 AA violations on the main pages."""

from __future__ import annotations

import pytest

from bench.frontend import axe_violations
from tests.browser_app import DEMO_CUSTOMER, _at

pytestmark = pytest.mark.browser

PORTAL_PAGES = ["/portal", "/portal/shipments", "/portal/documents", "/portal/invoices", "/portal/statement",
                "/portal/account", "/portal/notifications", "/help", "/help/pay-an-invoice"]
TOWER_WORK_PAGES = ["/tower/bookings", "/tower/changes", "/tower/quotes", "/tower/rates", "/tower/exceptions",
                    "/tower/tasks", "/tower/workload", "/tower/notifications", "/tower/requests", "/tower/help",
                    "/tower/account"]


def _sign_in(pg, email: str) -> None:
    pg.goto("/login")
    assert axe_violations(pg) == [], "login page"
    pg.get_by_label("Email").fill(email)
    pg.get_by_label("Password").fill(DEMO_CUSTOMER[1])
    pg.get_by_role("button", name="Sign in").click()
    pg.wait_for_url(_at("/tower" if "harborsky" in email else "/portal"))


def _check(pg, path: str) -> list[dict]:
    pg.goto(path)
    pg.get_by_role("main").get_by_role("heading", level=1).first.wait_for()
    pg.wait_for_load_state("networkidle")
    return axe_violations(pg)


def test_portal_pages_have_no_serious_accessibility_violations(page):
    _sign_in(page, DEMO_CUSTOMER[0])
    reference = page.request.get("/api/v1/shipments?page_size=1").json()["items"][0]["reference"]
    quote = page.request.get("/api/v1/quote-requests?status=quoted&page_size=1").json()["items"][0]["reference"]
    found = {path: _check(page, path) for path in [*PORTAL_PAGES, f"/portal/shipments/{reference}", "/portal/quotes",
                                                   "/portal/quotes/new", f"/portal/quotes/{quote}"]}
    assert {p: v for p, v in found.items() if v} == {}


def test_tower_pages_have_no_serious_accessibility_violations(page):
    _sign_in(page, "agent@harborsky.example")
    found = {path: _check(page, path) for path in ["/tower", "/tower/shipments", *TOWER_WORK_PAGES]}
    assert {p: v for p, v in found.items() if v} == {}


def test_tower_ops_pages_with_their_forms_open_have_no_serious_accessibility_violations(page):
    """The manager's view (owner pickers, the move-work form) with the hand-made forms open, and an exception."""
    _sign_in(page, "manager@harborsky.example")
    found = {}
    for path, button in (("/tower/exceptions", "New exception"), ("/tower/tasks", "New task"),
                         ("/tower/workload", None)):
        page.goto(path)
        page.get_by_role("main").get_by_role("heading", level=1).first.wait_for()
        if button:
            page.get_by_role("button", name=button).click()
            page.get_by_role("heading", name=button, level=2).wait_for()
        page.wait_for_load_state("networkidle")
        found[path] = axe_violations(page)
    reference = page.request.get("/api/v1/shipments?page_size=1").json()["items"][0]["reference"]
    made = page.request.post("/api/v1/exceptions", data={"shipment_reference": reference, "kind": "other",
                                                         "title": "Seal number differs from the booking"})
    assert made.status == 201, made.text()
    exception = made.json()["id"]
    found["detail"] = _check(page, f"/tower/exceptions/{exception}")
    request = page.request.get("/api/v1/requests?page_size=1").json()["items"][0]["reference"]
    found["request"] = _check(page, f"/tower/requests/{request}")
    page.get_by_label("Internal note", exact=True).check()
    page.get_by_text("Internal note — not visible to the customer. Nobody is notified.").wait_for()
    found["request, internal note"] = axe_violations(page)
    assert {p: v for p, v in found.items() if v} == {}


def test_tower_manager_pages_have_no_serious_accessibility_violations(page):
    _sign_in(page, "manager@harborsky.example")
    card = page.request.get("/api/v1/rate-cards?page_size=1").json()["items"][0]["id"]
    shipment = page.request.get("/api/v1/shipments?page_size=1").json()["items"][0]["reference"]
    found = {path: _check(page, path) for path in ["/tower/rates", "/tower/rates/new", f"/tower/rates/{card}",
                                                    "/tower/kpis", "/tower/shipments",
                                                    f"/tower/shipments/{shipment}"]}
    assert {p: v for p, v in found.items() if v} == {}


CONFIG_PAGES = ["/tower/config", "/tower/config/rules", "/tower/config/templates", "/tower/config/org",
                "/tower/config/requests", "/tower/config/invoicing", "/tower/config/sso"]


def test_tower_configuration_pages_have_no_serious_accessibility_violations(page):
    _sign_in(page, "admin@harborsky.example")
    found = {path: _check(page, path) for path in CONFIG_PAGES}
    page.goto("/tower/config/rules")
    page.get_by_role("button", name="Edit rule ETA slip").click()
    page.get_by_test_id("rule-editor").wait_for()
    found["rule editor"] = axe_violations(page)
    page.goto("/tower/config/org")
    page.get_by_role("button", name="Edit team Ocean Import").click()
    page.get_by_test_id("team-editor").wait_for()
    found["team editor"] = axe_violations(page)
    page.goto("/tower/config/requests")
    page.get_by_role("button", name="Edit canned reply Customs hold").click()
    page.get_by_test_id("canned-editor").wait_for()
    found["canned reply editor"] = axe_violations(page)
    assert {p: v for p, v in found.items() if v} == {}


def test_help_centre_has_no_serious_accessibility_violations(page):
    """Signed out (search results, an article, a missing one), then the tower's help page with the editor open."""
    found = {}
    page.goto("/help?q=where+is+my+container")
    page.get_by_role("list", name="Search results").wait_for()
    page.wait_for_load_state("networkidle")
    found["help search signed out"] = axe_violations(page)
    found["help article signed out"] = _check(page, "/help/track-a-shipment")
    found["help article missing"] = _check(page, "/help/no-such-article")
    _sign_in(page, "manager@harborsky.example")
    found["tower help"] = _check(page, "/tower/help")
    page.get_by_role("button", name="New article").click()
    page.get_by_test_id("help-editor").wait_for()
    found["tower help editor"] = axe_violations(page)
    assert {p: v for p, v in found.items() if v} == {}


def test_pages_fit_a_phone_screen(page):
    """On a phone-width window (Lighthouse's emulated phone) no portal page sticks out sideways: the header's menu
    folds behind its Menu button (the account links wrap under the name when it opens), forms stack, and the
    shipment list's rows are cards."""
    page.set_viewport_size({"width": 412, "height": 823})
    _sign_in(page, DEMO_CUSTOMER[0])
    reference = page.request.get("/api/v1/shipments?page_size=1").json()["items"][0]["reference"]
    for path in [*PORTAL_PAGES, f"/portal/shipments/{reference}", "/portal/quotes", "/portal/quotes/new",
                 "/portal/requests"]:
        page.goto(path)
        page.get_by_role("main").get_by_role("heading", level=1).first.wait_for()
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than the screen"
        page.get_by_role("button", name="Menu").click()
        sign_out = page.get_by_role("button", name="Sign out").bounding_box()
        assert sign_out and sign_out["x"] + sign_out["width"] <= 412, path
        assert axe_violations(page) == [], f"{path} with the menu open"
        page.get_by_role("button", name="Menu").click()
    # The header is as tall before the session check fills in the name and the unread badge as after it (the page
    # as first painted, scripts off), so the page below it does not jump.
    header_height = "document.querySelector('header').getBoundingClientRect().height"
    live = page.evaluate(header_height)
    first_paint = page.context.browser.new_context(viewport={"width": 412, "height": 823}, java_script_enabled=False,
                                                   base_url=page.url.split("/portal")[0])
    first_paint.add_cookies(page.context.cookies())
    static = first_paint.new_page()
    static.goto("/portal/shipments")
    assert static.evaluate(header_height) == live
    first_paint.close()
