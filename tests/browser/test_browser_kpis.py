"""End to end in Chromium: an ops manager reads the KPIs (figures, charts, tables that match the API, a CSV
download with the same filters), a wrong customer code is explained, and an agent is told who may see them."""

from __future__ import annotations

import pytest

from tests.browser.test_browser_tower_quotes import AGENT, MANAGER
from tests.browser_app import ARTIFACTS, sign_in

pytestmark = pytest.mark.browser


def test_manager_reads_kpis_with_charts_tables_and_csv(page):
    from playwright.sync_api import expect

    sign_in(page, MANAGER, "/tower/kpis")
    expect(page.get_by_role("heading", name="KPIs", level=1)).to_be_visible()
    on_time = page.get_by_role("table", name="On-time departure and arrival")
    expect(on_time.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_role("img", name="Bar chart of shipments on time and late").locator("svg").first) \
        .to_be_visible()
    page.screenshot(path=ARTIFACTS / "tower-kpis.png", full_page=True)

    since = page.get_by_label("From").input_value()
    until = page.get_by_label("To (inclusive)").input_value()
    api = page.request.get(f"/api/v1/kpis?since={since}&until={until}").json()
    shown = [cells.split("\t") for cells in on_time.locator("tbody tr").all_inner_texts()]
    expected = [[r["measure"].capitalize(), str(r["measured"]), str(r["on_time"]), str(r["late"])]
                for r in api["tables"]["on_time"]]
    assert [row[:4] for row in shown] == expected

    # Narrow to one customer: the figures and the CSV link follow the filter.
    page.get_by_label("Customer code").fill("ACME")
    page.get_by_role("button", name="Show figures").click()
    link = page.get_by_role("link", name="Download Requests by category as CSV")
    expect(link).to_have_attribute("href", f"/api/v1/kpis/requests.csv?since={since}&until={until}&customer=ACME")
    csv = page.request.get(link.get_attribute("href"))
    assert csv.ok and csv.text().lstrip("\ufeff").startswith('"Category","Requests"')
    mismatches = page.get_by_role("table", name="Portal health").get_by_role("row", name="Customer view vs record")
    expect(mismatches).to_contain_text("checked")

    page.get_by_label("Customer code").fill("NOBODY")
    page.get_by_role("button", name="Show figures").click()
    expect(page.get_by_role("alert")).to_contain_text("No customer 'NOBODY'")


def test_agent_is_told_kpis_are_for_managers(page):
    from playwright.sync_api import expect

    sign_in(page, AGENT, "/tower/kpis")
    expect(page.get_by_role("alert")).to_contain_text("KPIs are for ops managers and admins")
