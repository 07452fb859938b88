"""End to end in Chromium: a demo customer reads the aged statement, downloads it, and opens an invoice."""

from __future__ import annotations

import re

import pytest

from tests.browser_app import ARTIFACTS, DEMO_CUSTOMER, _at, sign_in

pytestmark = pytest.mark.browser


def test_customer_reads_statement_and_opens_an_invoice(page):
    from playwright.sync_api import expect

    sign_in(page, DEMO_CUSTOMER[0], "/portal/statement")
    expect(page.get_by_role("heading", name="Statement of account", level=1)).to_be_visible()

    aging = page.get_by_role("table", name="Aging by currency")
    expect(aging).to_be_visible()
    expect(aging.get_by_role("columnheader", name="1-30 days")).to_be_visible()
    expect(aging.get_by_role("columnheader", name="90+ days")).to_be_visible()
    first = aging.locator("tbody tr").first
    expect(first.locator("th")).to_have_text("GBP")
    expect(first.locator("td").nth(1)).to_contain_text("GBP ")  # the 1-30 days column, formatted with currency
    expect(first.locator("td").last).to_have_text(re.compile(r"^GBP [\d,]+\.\d\d$"))

    csv_link = page.get_by_role("link", name="Download CSV")
    expect(csv_link).to_have_attribute("href", "/api/v1/statement.csv")
    expect(page.get_by_role("link", name="Download Excel")).to_have_attribute("href", "/api/v1/statement.xlsx")
    csv = page.request.get("/api/v1/statement.csv")
    assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "Aging bucket" in csv.text()
    page.screenshot(path=ARTIFACTS / "portal-statement.png", full_page=True)

    # One page of the open invoices is on screen; the count says how many there are in all.
    open_invoices = page.get_by_role("table", name="Open invoices")
    expect(open_invoices.locator("tbody tr").first).to_be_visible()
    all_open = len(page.request.get("/api/v1/statement").json()["invoices"])
    expect(page.get_by_test_id("open-invoice-count")).to_contain_text(f"{all_open} open invoices")
    assert open_invoices.locator("tbody tr").count() == min(all_open, 25)
    number = open_invoices.locator("tbody tr th").first.inner_text().strip()
    open_invoices.get_by_role("link", name=number).click()
    page.wait_for_url(_at(f"/portal/invoices/{number}"))
    expect(page.get_by_role("heading", name=f"Invoice {number}", level=1)).to_be_visible()
    lines = page.get_by_role("table", name="Invoice lines").locator("tbody tr")
    expect(lines.first).to_be_visible()
    assert lines.count() >= 1
    expect(page.get_by_role("link", name="Download PDF")).to_have_attribute("href", f"/api/v1/invoices/{number}/pdf")
    pdf = page.request.get(f"/api/v1/invoices/{number}/pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF-")
    expect(page.get_by_label("Reason")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "portal-invoice-detail.png", full_page=True)


def test_customer_lists_invoices_with_balances(page):
    from playwright.sync_api import expect

    sign_in(page, DEMO_CUSTOMER[0], "/portal/invoices")
    expect(page.get_by_role("heading", name="Your invoices", level=1)).to_be_visible()
    expect(page.get_by_test_id("balance-amount").first).to_contain_text("GBP ")
    rows = page.get_by_role("table", name="Your invoices").locator("tbody tr")
    expect(rows.first).to_be_visible()
    api = page.request.get("/api/v1/invoices?page_size=200").json()
    shown = rows.locator("th").all_inner_texts()
    assert shown and set(shown) <= {i["number"] for i in api["items"]}
    page.screenshot(path=ARTIFACTS / "portal-invoices.png", full_page=True)
