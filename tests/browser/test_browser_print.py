"""Print: a shipment and an invoice print as their content only (no header, menu, buttons or forms), and the
content is all there."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser_app import DEMO_CUSTOMER, _at

pytestmark = pytest.mark.browser


def test_a_shipment_and_an_invoice_print_as_their_content(page):
    page.goto("/login")
    page.get_by_label("Email").fill(DEMO_CUSTOMER[0])
    page.get_by_label("Password").fill(DEMO_CUSTOMER[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(_at("/portal"))
    shipment = page.request.get("/api/v1/shipments?status=in_transit&page_size=1").json()["items"][0]["reference"]
    invoice = page.request.get("/api/v1/invoices?page_size=1").json()["items"][0]["number"]
    for path, heading in ((f"/portal/shipments/{shipment}", f"Shipment {shipment}"),
                          (f"/portal/invoices/{invoice}", invoice)):
        page.goto(path)
        main = page.get_by_role("main")
        expect(main.get_by_role("heading", level=1)).to_contain_text(heading)
        page.wait_for_load_state("networkidle")
        page.emulate_media(media="print")
        expect(page.locator("header").first).to_be_hidden()
        expect(page.get_by_role("navigation").first).to_be_hidden()
        expect(main.get_by_role("heading", level=1)).to_be_visible()
        shown = main.get_by_role("button").filter(visible=True)
        assert shown.count() == 0, (path, [shown.nth(i).evaluate("e => e.outerHTML.slice(0, 300)")
                                           for i in range(shown.count())])
        if "shipments" in path:
            expect(page.get_by_test_id("route-position")).to_be_visible()
            expect(main.get_by_role("table").first).to_be_visible()
        page.emulate_media(media="screen")
        expect(page.locator("header").first).to_be_visible()
