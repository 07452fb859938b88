"""End to end in Chromium: ops confirm and reject bookings, decide a customer's change request, price a request
by hand, and import rate cards (a bad file is refused whole with its report; a good one is imported)."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.browser_app import ARTIFACTS, DEMO_CUSTOMER, sign_in

pytestmark = pytest.mark.browser

AGENT = "agent@harborsky.example"
MANAGER = "manager@harborsky.example"
PASSWORD = DEMO_CUSTOMER[1]


def _customer(app_url: str) -> httpx.Client:
    # Signed in with the cookie, it sends the portal's Origin as the portal's own pages do (cookie requests that
    # change something need it; see portal_app/edge/origins.py).
    client = httpx.Client(base_url=app_url, timeout=30, headers={"Origin": app_url})
    assert client.post("/api/auth/login", json={"email": DEMO_CUSTOMER[0], "password": PASSWORD}).status_code == 200
    return client


def test_ops_confirm_one_booking_and_reject_another(page):
    from playwright.sync_api import expect

    sign_in(page, AGENT, "/tower/bookings")
    expect(page.get_by_role("heading", name="Bookings awaiting confirmation", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Bookings awaiting confirmation")
    expect(table.locator("tbody tr").first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "tower-bookings.png", full_page=True)
    refs = table.locator("tbody tr th").all_inner_texts()
    assert len(refs) >= 2, "the demo data has bookings waiting for confirmation"
    first, second = refs[0].strip(), refs[1].strip()

    page.get_by_role("button", name=f"Decide {first}").click()
    panel = page.get_by_test_id("booking-decision")
    expect(panel.get_by_role("heading", name=f"Decide booking {first}")).to_be_visible()
    panel.get_by_label("Carrier's booking number").fill("MAEU 261122001")
    page.screenshot(path=ARTIFACTS / "tower-booking-decide.png", full_page=True)
    panel.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_test_id("queue-notice")).to_contain_text(f"Booking {first} confirmed")
    expect(table.get_by_role("link", name=first, exact=True)).to_have_count(0)

    detail = page.request.get(f"/api/v1/shipments/{first}").json()
    assert detail["status"] == "confirmed"
    updates = page.request.get(f"/api/v1/shipments/{first}/updates").json()
    assert any("Booking confirmed (carrier booking MAEU 261122001)" in u["body"] for u in updates)
    found = page.request.get("/api/v1/shipments?q=MAEU261122001").json()
    assert [i["reference"] for i in found["items"]] == [first]

    # Rejecting needs a reason the customer reads; without one the field says so and nothing changes.
    page.get_by_role("button", name=f"Decide {second}").click()
    panel.get_by_role("button", name="Reject booking").click()
    expect(panel.get_by_text("Write the reason the customer will read")).to_be_visible()
    assert page.request.get(f"/api/v1/shipments/{second}").json()["status"] == "booked"
    panel.get_by_label("Reason for the customer").fill("No space on the vessel that week; next sailing is full too.")
    panel.get_by_role("button", name="Reject booking").click()
    expect(page.get_by_test_id("queue-notice")).to_contain_text(f"Booking {second} rejected")
    expect(table.get_by_role("link", name=second, exact=True)).to_have_count(0)
    assert page.request.get(f"/api/v1/shipments/{second}").json()["status"] == "cancelled"
    updates = page.request.get(f"/api/v1/shipments/{second}/updates").json()
    assert any("No space on the vessel that week" in u["body"] for u in updates)


def test_ops_reject_a_change_request_with_a_reason(page, app_url):
    from playwright.sync_api import expect

    customer = _customer(app_url)
    mine = customer.get("/api/v1/shipments", params={"status": ["booked", "confirmed"], "page_size": 50}).json()
    pending = {c["shipment_reference"] for c in
               customer.get("/api/v1/change-requests", params={"status": "pending", "page_size": 100}).json()["items"]}
    target = next(i["reference"] for i in mine["items"] if i["reference"] not in pending)
    made = customer.post(f"/api/v1/shipments/{target}/change-requests",
                         json={"kind": "amend", "changes": {"customer_po": "PO-CHANGED-77"},
                               "reason": "Our buyer issued a new order number"})
    assert made.status_code == 201, made.text
    change_id = made.json()["id"]

    sign_in(page, AGENT, "/tower/changes")
    expect(page.get_by_role("heading", name="Change and cancellation requests", level=1)).to_be_visible()
    page.get_by_role("button", name=f"Decide change request #{change_id}", exact=True).click()
    panel = page.get_by_test_id("change-decision")
    diff = panel.get_by_role("table", name="What would change")
    expect(diff.get_by_role("rowheader", name="Your reference (PO)")).to_be_visible()
    expect(diff).to_contain_text("PO-CHANGED-77")
    panel.get_by_label("Reject: keep the booking as it is").check()
    panel.get_by_label("Reason for the customer").fill("The carrier has already issued the bill of lading.")
    page.screenshot(path=ARTIFACTS / "tower-change-decide.png", full_page=True)
    panel.get_by_role("button", name="Record decision").click()
    expect(page.get_by_test_id("queue-notice")).to_contain_text(f"request #{change_id} on {target} rejected")
    expect(page.get_by_role("button", name=f"Decide change request #{change_id}", exact=True)).to_have_count(0)

    decided = customer.get("/api/v1/change-requests", params={"shipment": target, "status": "rejected"}).json()
    ours = next(c for c in decided["items"] if c["id"] == change_id)
    assert ours["decision_reason"] == "The carrier has already issued the bill of lading."
    assert customer.get(f"/api/v1/shipments/{target}").json().get("customer_po") != "PO-CHANGED-77"
    updates = customer.get(f"/api/v1/shipments/{target}/updates").json()
    assert any(f"#{change_id} rejected" in u["body"] for u in updates)


def test_manual_pricing_makes_the_request_quoted(page):
    from playwright.sync_api import expect

    sign_in(page, AGENT, "/tower/quotes")
    expect(page.get_by_role("heading", name="Quotes to price by hand", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Quotes to price")
    expect(table.locator("tbody tr").first).to_be_visible()
    expect(table.get_by_test_id("sla-left").first).to_have_text(re.compile(r"(left|ago)$"))
    page.screenshot(path=ARTIFACTS / "tower-quotes.png", full_page=True)
    reference = table.locator("tbody tr th").first.inner_text().strip()

    page.get_by_role("button", name=f"Price {reference}").click()
    form = page.get_by_test_id("pricing-form")
    expect(form.get_by_role("heading", name=f"Price quote {reference}")).to_be_visible()
    form.get_by_label("Code 1").fill("FRT")
    form.get_by_label("Description 1").fill("Freight all in")
    form.get_by_label("Basis 1").select_option("per_shipment")
    form.get_by_label("Quantity 1").fill("1")
    form.get_by_label("Unit price 1").fill("-5")
    form.get_by_role("button", name="Add a charge line").click()
    form.get_by_label("Code 2").fill("DOC")
    form.get_by_label("Description 2").fill("Documentation")
    form.get_by_label("Quantity 2").fill("1")
    form.get_by_label("Unit price 2").fill("45")
    form.get_by_label("Transit days").fill("12")
    form.get_by_label("Currency").select_option("USD")
    form.get_by_role("button", name="Send the price").click()
    expect(form.locator("#charge-unit_price-0-error")).to_have_text("Charge 1: the unit price cannot be negative.")
    expect(form.get_by_label("Unit price 1")).to_have_attribute("aria-invalid", "true")
    assert page.request.get(f"/api/v1/quote-requests/{reference}").json()["status"] == "requested"
    page.screenshot(path=ARTIFACTS / "tower-quote-pricing-error.png", full_page=True)

    form.get_by_label("Unit price 1").fill("1850")
    form.get_by_role("button", name="Send the price").click()
    expect(page.get_by_test_id("queue-notice")).to_contain_text(f"Quote {reference} priced at USD 1,895.00")
    expect(table.locator("tbody tr th", has_text=reference)).to_have_count(0)
    quote = page.request.get(f"/api/v1/quote-requests/{reference}").json()
    assert quote["status"] == "quoted"
    assert [o["total_text"] for o in quote["options"]] == ["USD 1,895.00"]
    assert [c["description"] for c in quote["options"][0]["charges"]] == [
        "Freight all in (per shipment)", "Documentation (per shipment)"]

    # Agents read rate cards but do not change them.
    page.goto("/tower/rates/new")
    expect(page.get_by_test_id("rate-error")).to_contain_text("changed by ops managers and admins")
    expect(page.get_by_role("button", name="Create rate card")).to_have_count(0)


BAD_ROW = "BAD-1,air,NLRTM,FRA,LH,2026-01-01,2026-03-31,EUR,2,,FRT,Air freight,per_kg,,0,4.80,,,\n"


def test_rate_import_refuses_a_bad_file_whole_and_imports_a_good_one(page):
    from playwright.sync_api import expect

    sign_in(page, MANAGER, "/tower/rates")
    expect(page.get_by_role("heading", name="Rate cards", level=1)).to_be_visible()
    template = page.request.get("/api/v1/rate-cards/import-template.csv")
    assert template.status == 200
    expect(page.get_by_role("link", name="Download the template (CSV)")).to_have_attribute(
        "href", "/api/v1/rate-cards/import-template.csv")
    before = page.request.get("/api/v1/rate-cards?page_size=1").json()["total"]

    bad = template.body() + BAD_ROW.encode()
    page.get_by_label("File to import").set_input_files(
        files=[{"name": "rates-bad.csv", "mimeType": "text/csv", "buffer": bad}])
    page.get_by_role("button", name="Import file").click()
    expect(page.get_by_test_id("import-error")).to_contain_text("Nothing was imported")
    report = page.get_by_role("table", name="Import report")
    expect(report.get_by_role("row").filter(has_text="NLRTM is a seaport")).to_contain_text("origin")
    expect(report.get_by_role("rowheader").first).to_have_text("9")
    page.screenshot(path=ARTIFACTS / "tower-rates-import-refused.png", full_page=True)
    assert page.request.get("/api/v1/rate-cards?page_size=1").json()["total"] == before

    page.get_by_label("File to import").set_input_files(
        files=[{"name": "rates.csv", "mimeType": "text/csv", "buffer": template.body()}])
    page.get_by_role("button", name="Import file").click()
    expect(page.get_by_test_id("import-notice")).to_contain_text("Imported 2 rate cards with 7 charges")
    expect(page.get_by_role("table", name="Import report")).to_have_count(0)
    assert page.request.get("/api/v1/rate-cards?page_size=1").json()["total"] == before + 2

    # Filter by lane and carrier, open a card, edit its transit days, deactivate it.
    page.get_by_label("Origin").fill("PVG")
    page.get_by_label("Destination").fill("FRA")
    page.get_by_label("Carrier").fill("LH")
    page.get_by_role("button", name="Apply filters").click()
    rows = page.get_by_role("table", name="Rate cards").locator("tbody tr")
    expect(rows.first).to_contain_text("PVG → FRA")
    page.screenshot(path=ARTIFACTS / "tower-rates.png", full_page=True)
    rows.last.get_by_role("link").click()
    page.wait_for_url(re.compile(r".*/tower/rates/\d+/?$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("PVG → FRA")
    page.get_by_label("Transit days").fill("500")
    page.get_by_role("button", name="Save rate card").click()
    expect(page.locator("#field-transit_days-error")).to_have_text("Transit days must be a whole number from 0 to 120.")
    page.get_by_label("Transit days").fill("3")
    page.get_by_role("button", name="Save rate card").click()
    expect(page.get_by_test_id("rate-notice")).to_contain_text("saved")
    page.screenshot(path=ARTIFACTS / "tower-rate-card.png", full_page=True)
    card_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert page.request.get(f"/api/v1/rate-cards/{card_id}").json()["transit_days"] == 3
    page.get_by_role("button", name="Deactivate rate card").click()
    expect(page.get_by_test_id("rate-notice")).to_contain_text("deactivated")
    assert page.request.get(f"/api/v1/rate-cards/{card_id}").json()["is_active"] is False
