"""End to end in Chromium: an administrator changes the branding (a pale accent is refused with its contrast
ratio, a good one is saved), and a customer then sees the new name and accent in the portal's header; an ops
manager is told configuration is for administrators."""

from __future__ import annotations

import pytest

from tests.browser.test_browser_tower_quotes import MANAGER
from tests.browser_app import ARTIFACTS, sign_in

pytestmark = pytest.mark.browser

ADMIN = "admin@harborsky.example"
CUSTOMER = "alice@acme.example"
NEW_NAME = "Blue Harbour Freight"
NEW_ACCENT = "#1a5e20"


def _rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(h[i:i + 2], 16) for i in (0, 2, 4)))


def test_admin_rebrands_and_the_customer_sees_it_in_the_portal_header(page):
    from playwright.sync_api import expect

    sign_in(page, ADMIN, "/tower/config")
    expect(page.get_by_role("heading", name="Configuration", level=1)).to_be_visible()
    page.get_by_label("Product name").fill(NEW_NAME)
    page.get_by_label("Accent colour").fill("#ffd54f")
    page.get_by_role("button", name="Save branding").click()
    alert = page.get_by_test_id("config-error")
    expect(alert).to_contain_text("against white")
    expect(alert).to_contain_text("4.5:1")
    expect(page.get_by_test_id("brand-name")).to_have_text("Harbor & Sky Portal")  # nothing was saved

    page.get_by_label("Product name").fill(NEW_NAME)
    page.get_by_label("Accent colour").fill(NEW_ACCENT)
    page.get_by_role("button", name="Save branding").click()
    expect(page.get_by_test_id("config-notice")).to_contain_text("Branding saved")
    expect(page.get_by_test_id("brand-name")).to_have_text(NEW_NAME)
    page.screenshot(path=ARTIFACTS / "tower-config-branding.png", full_page=True)

    page.context.clear_cookies()
    sign_in(page, CUSTOMER, "/portal")
    header = page.locator("header")
    expect(header.get_by_test_id("brand-name")).to_have_text(NEW_NAME)
    expect(header.get_by_role("link", name="Shipments")).to_have_css("color", _rgb(NEW_ACCENT))
    expect(header).to_have_css("border-top-color", _rgb(NEW_ACCENT))
    page.screenshot(path=ARTIFACTS / "portal-rebranded.png")


def test_manager_is_told_configuration_is_for_administrators(page):
    from playwright.sync_api import expect

    sign_in(page, MANAGER, "/tower/config/rules")
    expect(page.get_by_test_id("config-denied")).to_contain_text("Configuration is for administrators")
    assert page.request.get("/api/v1/config/rules").status == 403


def test_admin_edits_an_sla_policy_a_staff_account_and_a_template(page):
    from playwright.sync_api import expect

    sign_in(page, ADMIN, "/tower/config/rules")
    page.get_by_role("button", name="Edit SLA policy exception customs_hold *").click()
    editor = page.get_by_test_id("policy-editor")
    editor.get_by_label("Resolve within (hours)").fill("0")
    editor.get_by_role("button", name="Save policy").click()
    expect(page.get_by_test_id("config-error")).to_contain_text("Nothing was saved")
    editor.get_by_label("Resolve within (hours)").fill("6")
    editor.get_by_role("button", name="Save policy").click()
    expect(page.get_by_test_id("config-notice")).to_contain_text("saved")
    policies = page.request.get("/api/v1/config/sla").json()
    assert next(p for p in policies if (p["subject"], p["kind"], p["severity"]) ==
                ("exception", "customs_hold", "*"))["resolution_hours"] == 6
    page.screenshot(path=ARTIFACTS / "tower-config-rules.png", full_page=True)

    page.goto("/tower/config/org")
    # The page's load draws the forms afresh: type only once it has loaded (the staff list is there).
    expect(page.get_by_role("table", name="Staff accounts")).to_contain_text("admin@harborsky.example")
    page.get_by_label("Email").fill("nora.new@harborsky.example")
    page.get_by_label("Full name").fill("Nora New")
    page.get_by_role("button", name="Add staff account").click()
    expect(page.get_by_test_id("new-password")).not_to_be_empty()
    page.get_by_label("Role of Nora New").select_option("ops_manager")
    page.get_by_role("button", name="Save Nora New").click()
    expect(page.get_by_test_id("config-notice")).to_contain_text("Nora New's account saved")
    staff = page.request.get("/api/v1/config/staff").json()
    assert next(u for u in staff if u["email"] == "nora.new@harborsky.example")["role"] == "ops_manager"

    page.goto("/tower/config/templates")
    expect(page.get_by_label("Name of step 1", exact=True)).not_to_have_value("")
    page.get_by_label("Name of step 1", exact=True).fill("Booking confirmed by carrier")
    page.get_by_role("button", name="Save template").click()
    expect(page.get_by_test_id("config-notice")).to_contain_text("template saved")
    template = page.request.get("/api/v1/config/templates").json()
    fcl = next(t for t in template if t["mode"] == "ocean_fcl")
    assert fcl["steps"][0]["name"] == "Booking confirmed by carrier" and fcl["version"] == 2
    page.screenshot(path=ARTIFACTS / "tower-config-templates.png", full_page=True)


def test_admin_corrects_a_mistyped_iban_and_the_invoice_details_are_saved(page):
    from playwright.sync_api import expect

    sign_in(page, ADMIN, "/tower/config/invoicing")
    expect(page.get_by_test_id("invoice-identity-now")).to_contain_text("Harbor & Sky Logistics B.V.")
    expect(page.get_by_label("IBAN")).to_have_value("NL02ABNA0123456789")
    page.get_by_label("IBAN").fill("NL03 ABNA 0123 4567 89")
    page.get_by_role("button", name="Save invoice details").click()
    expect(page.locator("#invoice-iban-error")).to_contain_text("check digits do not match")
    expect(page.get_by_test_id("config-error")).to_contain_text("Nothing was saved")
    assert page.request.get("/api/v1/config/invoice-identity").json()["iban"] == "NL02ABNA0123456789"

    page.get_by_label("IBAN").fill("NL91 ABNA 0417 1643 00")
    page.get_by_label("Payment reference").fill("HSL {invoice}")
    page.get_by_role("button", name="Save invoice details").click()
    expect(page.get_by_test_id("config-notice")).to_contain_text("Invoice details saved")
    expect(page.get_by_test_id("invoice-identity-now")).to_contain_text("NL91 ABNA 0417 1643 00")
    saved = page.request.get("/api/v1/config/invoice-identity").json()
    assert saved["iban"] == "NL91ABNA0417164300" and saved["payment_reference"] == "HSL {invoice}"
    page.screenshot(path=ARTIFACTS / "tower-config-invoicing.png", full_page=True)
