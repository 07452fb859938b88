"""End to end in Chromium: a customer starts a quote request, leaves and finds the draft again, gets prices, compares
the options, books one (the confirm step shows the option chosen and the cargo), finds the parties filled in on
the next booking, sees the booking in their shipments and asks to change it; ops see the booking in the tower's
confirmation queue."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.browser.test_browser_tower_quotes import AGENT
from tests.browser_app import ARTIFACTS, DEMO_CUSTOMER, sign_in

pytestmark = pytest.mark.browser


def test_request_compare_accept_and_the_booking_appears_for_customer_and_ops(page):
    from playwright.sync_api import expect

    sign_in(page, DEMO_CUSTOMER[0], "/portal/quotes/new")
    expect(page.get_by_role("heading", name="Request a quote", level=1)).to_be_visible()

    # Half-filled and saved: the draft comes back on the next visit.
    page.get_by_label("Mode").select_option("air")
    destination = page.get_by_label("To", exact=True)
    destination.fill("Frank")
    expect(page.locator("#quote-destination-options option").first).to_have_attribute(
        "value", re.compile(r"^FRA · Frankfurt"))
    destination.fill("FRA")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_test_id("quote-notice")).to_contain_text("saved")
    page.reload()
    expect(page.get_by_test_id("quote-notice")).to_contain_text("is back as you left it")
    expect(page.get_by_label("To", exact=True)).to_have_value("FRA")

    # Missing fields are explained beside them, in words.
    page.get_by_role("button", name="Get prices").click()
    expect(page.get_by_test_id("quote-error")).to_be_visible()
    expect(page.locator("#quote-origin-problem")).to_be_visible()

    page.get_by_label("From", exact=True).fill("PVG")
    page.get_by_label("Cargo ready on").fill((date.today() + timedelta(days=3)).isoformat())
    page.get_by_label("Incoterm").select_option("FCA")
    page.get_by_label("What is it").fill("Machine parts on pallets")
    page.get_by_label("Packages").fill("3")
    page.get_by_label("Length per package (cm)").fill("120")
    page.get_by_label("Width per package (cm)").fill("80")
    page.get_by_label("Height per package (cm)").fill("100")
    page.get_by_label("Gross weight of the line (kg)").fill("250")
    expect(page.get_by_test_id("line-volume")).to_have_text("2.880 m³")  # computed, not typed
    page.get_by_role("button", name="Get prices").click()
    page.wait_for_url(re.compile(r"/portal/quotes/Q[^/]+/?$"))
    reference = page.url.rstrip("/").rsplit("/", 1)[-1]

    # Compare: every option with its all-in price; sorted cheapest first by default.
    options = page.get_by_test_id("quote-option")
    expect(options.nth(1)).to_be_visible()
    totals = list(page.get_by_test_id("option-total").all_inner_texts())
    api = page.request.get(f"/api/v1/quote-requests/{reference}?sort=cheapest").json()
    assert totals == [o["total_text"] for o in api["options"]]
    page.get_by_label("Sort").select_option("fastest")
    fastest = page.request.get(f"/api/v1/quote-requests/{reference}?sort=fastest").json()
    expect(page.get_by_test_id("option-total").first).to_have_text(fastest["options"][0]["total_text"])
    page.screenshot(path=ARTIFACTS / "portal-quote-options.png", full_page=True)

    # Book the first option; the confirm step shows the option chosen and the cargo, then asks for the parties.
    chosen = fastest["options"][0]
    page.get_by_role("button", name=re.compile(r"^Book the ")).first.click()
    form = page.get_by_test_id("booking-form")
    expect(form).to_be_visible()
    option = form.get_by_test_id("booking-option")
    expect(option).to_contain_text(chosen["carrier_name"] or chosen["carrier_code"])
    expect(option).to_contain_text(f"{chosen['total_text']} all-in")
    expect(option).to_contain_text(f"{chosen['transit_days']} days in transit")
    expect(option).to_contain_text("Planned departure")
    expect(form.get_by_test_id("booking-cargo")).to_contain_text("2.880 m³")
    expect(form.get_by_label("Cargo description")).to_have_value("Machine parts on pallets")  # from the quote
    form.get_by_role("button", name="Book now").click()
    expect(page.get_by_test_id("quote-page-error")).to_be_visible()  # nothing filled in: refused, explained
    form.get_by_label("Shipper", exact=True).fill("Acme Home Goods Shanghai")
    form.get_by_label("Consignee", exact=True).fill("Acme Home Goods GmbH")
    form.get_by_label("Cargo description").fill("Machine parts on 3 pallets")
    form.get_by_label("The cargo is as described in the quote request").click()
    form.get_by_role("button", name="Book now").click()
    page.wait_for_url(re.compile(r"/portal/shipments/SH\d+"))
    shipment = page.url.split("/portal/shipments/")[1].split("?")[0].rstrip("/")
    expect(page.get_by_role("heading", name=f"Shipment {shipment}", level=1)).to_be_visible()
    assert page.request.get(f"/api/v1/quote-requests/{reference}").json()["status"] == "accepted"

    # The next booking has the parties filled in from this one (still editable).
    again = page.request.post("/api/v1/quote-requests?submit=true", data={
        "mode": "air", "origin": "PVG", "destination": "FRA", "incoterm": "FCA",
        "ready_date": (date.today() + timedelta(days=4)).isoformat(),
        "lines": [{"description": "Spare parts", "packages": 1, "length_cm": 60, "width_cm": 40, "height_cm": 40,
                   "weight_kg": 30}]})
    assert again.ok, again.text()
    page.goto(f"/portal/quotes/{again.json()['reference']}")
    page.get_by_role("button", name=re.compile(r"^Book the ")).first.click()
    form = page.get_by_test_id("booking-form")
    expect(form.get_by_test_id("parties-note")).to_contain_text(shipment)
    expect(form.get_by_label("Shipper", exact=True)).to_have_value("Acme Home Goods Shanghai")
    expect(form.get_by_label("Consignee", exact=True)).to_have_value("Acme Home Goods GmbH")
    page.screenshot(path=ARTIFACTS / "portal-booking-confirm.png", full_page=True)
    form.get_by_role("button", name="Cancel").click()

    # The customer's list finds it; a change request is sent and listed, the booking itself unchanged.
    page.goto(f"/portal/shipments?q={shipment}")
    expect(page.get_by_role("link", name=shipment)).to_be_visible()
    page.goto(f"/portal/shipments/{shipment}")
    page.get_by_text("Ask to change the booking").click()
    page.get_by_label("Consignee", exact=True).fill("Acme Home Goods Europe GmbH")
    page.get_by_role("button", name="Send the change request").click()
    expect(page.get_by_test_id("change-notice")).to_contain_text("until our team decides")
    expect(page.get_by_test_id("change-requests")).to_contain_text("Acme Home Goods Europe GmbH")
    assert page.request.get(f"/api/v1/shipments/{shipment}").json()["consignee_name"] == "Acme Home Goods GmbH"
    page.screenshot(path=ARTIFACTS / "portal-booking-change.png", full_page=True)

    # Ops see the new booking waiting for confirmation.
    page.context.clear_cookies()
    sign_in(page, AGENT, "/tower/bookings")
    expect(page.get_by_role("row").filter(has_text=shipment)).to_be_visible()
