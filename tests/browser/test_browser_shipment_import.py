"""End to end in Chromium: an ops manager imports shipments from a TMS export on the tower's Imports page (a bad
file is refused whole with its report row by row; the template imports as it is); an agent has no menu entry."""

from __future__ import annotations

import pytest

from bench.frontend import axe_violations
from portal_app.services.shipment_import import SHIPMENT_COLUMNS
from tests.browser_app import ARTIFACTS, sign_in

pytestmark = pytest.mark.browser

MANAGER = "manager@harborsky.example"
AGENT = "agent@harborsky.example"



def test_a_manager_imports_shipments_and_reads_the_report_of_a_bad_file(page):
    from playwright.sync_api import expect

    sign_in(page, MANAGER, "/tower/imports")
    expect(page.get_by_role("heading", name="Import shipments", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Download the shipment template (Excel)")).to_have_attribute(
        "href", "/api/v1/shipments/import/template?format=xlsx")
    assert axe_violations(page) == []
    template = page.request.get("/api/v1/shipments/import/template?format=csv")
    assert template.status == 200
    bad_row = {"reference": "TMS-BAD-000001", "customer": "ACME", "mode": "ocean_fcl", "origin": "CNSHA",
               "destination": "NLRTM", "containers": "MSCU1234565:40HC"}
    bad = (",".join(SHIPMENT_COLUMNS) + "\n" + ",".join(bad_row.get(c, "") for c in SHIPMENT_COLUMNS)).encode()
    before = page.request.get("/api/v1/shipments?page_size=1").json()["total"]

    page.get_by_label("Shipment file to import").set_input_files(
        files=[{"name": "tms-bad.csv", "mimeType": "text/csv", "buffer": bad}])
    page.get_by_role("button", name="Import shipments file").click()
    expect(page.get_by_test_id("shipment-import-error")).to_contain_text("Nothing was imported")
    report = page.get_by_role("table", name="Import report")
    expect(report.get_by_role("row").filter(has_text="should be 6")).to_contain_text("containers")
    expect(report.get_by_role("rowheader").first).to_have_text("2")
    assert axe_violations(page) == []
    page.screenshot(path=ARTIFACTS / "tower-shipment-import-refused.png", full_page=True)
    assert page.request.get("/api/v1/shipments?page_size=1").json()["total"] == before

    page.get_by_label("Shipment file to import").set_input_files(
        files=[{"name": "tms.csv", "mimeType": "text/csv", "buffer": template.body()}])
    page.get_by_role("button", name="Import shipments file").click()
    expect(page.get_by_test_id("shipment-import-notice")).to_contain_text("created 2, updated 0, unchanged 0")
    expect(page.get_by_role("table", name="Import report")).to_have_count(0)
    imported = page.get_by_role("table", name="Imported shipments")
    expect(imported.get_by_role("link", name="Open imported TMS-OCN-000101")).to_have_attribute(
        "href", "/tower/shipments/TMS-OCN-000101")
    page.screenshot(path=ARTIFACTS / "tower-shipment-import-applied.png", full_page=True)
    assert page.request.get("/api/v1/shipments?page_size=1").json()["total"] == before + 2


def test_an_agent_has_no_imports_entry_and_the_page_says_why(page):
    from playwright.sync_api import expect

    sign_in(page, AGENT, "/tower/imports")
    expect(page.get_by_role("heading", name="Import shipments", level=1)).to_be_visible()
    expect(page.get_by_text("Shipment imports are for ops managers and admins")).to_be_visible()
    menu = page.get_by_role("navigation", name="Ops tower navigation")
    menu.get_by_role("link", name="Exceptions").wait_for()
    assert menu.get_by_role("link", name="Imports").count() == 0
    expect(page.get_by_role("button", name="Import shipments file")).to_have_count(0)
