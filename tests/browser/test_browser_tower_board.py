"""End to end in Chromium: an ops manager filters the board by open exception, assigns a team to two ticked
shipments, moves the ETA of every shipment on one vessel voyage, and works one shipment: notes for staff and for
the customer, a save that meets someone else's change (conflict shown, input kept, second save applies), and a
document rejected with a reason the customer then reads."""

from __future__ import annotations

import pytest

from tests.browser.test_browser_tower_quotes import MANAGER, _customer
from tests.browser_app import ARTIFACTS, sign_in
from tests.services.test_documents import pdf_bytes

pytestmark = pytest.mark.browser


def test_board_filters_bulk_assign_and_voyage_eta(page):
    from playwright.sync_api import expect

    sign_in(page, MANAGER, "/tower/shipments")
    expect(page.get_by_role("heading", name="Shipments board", level=1)).to_be_visible()
    expect(page.get_by_test_id("shipment-count")).not_to_have_text("0 shipments")

    # Filter: shipments with an open exception; the count is the API's.
    page.get_by_label("Open exception").click()
    page.get_by_role("button", name="Apply filters").click()
    api = page.request.get("/api/v1/tower/shipments?exception=1&page_size=25").json()
    assert api["total"] > 2
    expect(page.get_by_test_id("shipment-count")).to_have_text(f"{api['total']} shipments match these filters")
    first, second = api["items"][0]["reference"], api["items"][1]["reference"]
    expect(page.get_by_role("row").nth(1)).to_contain_text(first)

    # Tick two shipments and give them a team.
    page.get_by_label(f"Select shipment {first}").click()
    page.get_by_label(f"Select shipment {second}").click()
    team = page.locator("#bulk-team option").nth(2)
    team_id, team_name = team.get_attribute("value"), team.inner_text()
    page.locator("#bulk-team").select_option(team_id)
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_test_id("bulk-report")).to_have_text("Owner and team: 2 of 2 shipments changed.")
    for ref in (first, second):
        got = page.request.get(f"/api/v1/tower/shipments/{ref}/assignment").json()
        assert (str(got["team_id"]), got["team"]) == (team_id, team_name)
    # The team filter finds them, with the team shown on their rows. (Without the exception filter: a change
    # re-runs the shipment's rules, which may resolve an exception whose cause has cleared.)
    page.get_by_label("Open exception").click()
    page.locator("#filter-team").select_option(team_id)
    page.get_by_role("button", name="Apply filters").click()
    for ref in (first, second):
        expect(page.get_by_role("row").filter(has_text=ref)).to_contain_text(team_name)

    # Every shipment of one vessel voyage gets a new ETA with a reason.
    ocean = page.request.get("/api/v1/tower/shipments?mode=ocean_fcl&status=in_transit&page_size=5").json()
    detail = page.request.get(f"/api/v1/shipments/{ocean['items'][0]['reference']}").json()
    page.get_by_label("Vessel", exact=True).fill(detail["vessel_name"])
    page.get_by_label("Voyage", exact=True).fill(detail["voyage_number"])
    page.get_by_label("What to record").select_option("eta")
    page.get_by_label("Time (your time zone)").fill("2027-01-15T08:00")
    page.get_by_label("ETA reason").select_option("PORT_CONGESTION")
    page.get_by_role("button", name="Apply to the voyage or flight").click()
    report = page.get_by_test_id("bulk-report")
    expect(report).to_contain_text("New ETA: ")
    changed, requested = report.inner_text().removeprefix("New ETA: ").split(" shipments")[0].split(" of ")
    assert changed == requested and int(changed) >= 1
    history = page.request.get(f"/api/v1/shipments/{detail['reference']}/eta-changes").json()
    assert any(h["reason"] == "Port congestion" and h["new_eta"].startswith("2027-01-15") for h in history)
    page.screenshot(path=ARTIFACTS / "tower-board.png", full_page=True)


def test_workspace_notes_conflict_and_document_review(page, app_url):
    from playwright.sync_api import expect

    customer = _customer(app_url)
    ref = customer.get("/api/v1/shipments?status=in_transit&page_size=1").json()["items"][0]["reference"]
    uploaded = customer.post(f"/api/v1/shipments/{ref}/documents", data={"doc_type": "packing_list"},
                             files={"file": ("packing.pdf", pdf_bytes("Packing list"), "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text

    sign_in(page, MANAGER, f"/tower/shipments/{ref}")
    expect(page.get_by_role("heading", name="Workspace", level=2)).to_be_visible()

    # An internal note and a customer update: the customer reads only the second.
    page.get_by_label("Internal note", exact=True).fill("Carrier agent promised the release by Friday.")
    page.get_by_role("button", name="Add internal note").click()
    expect(page.get_by_test_id("workspace-notice")).to_contain_text("Only staff see it.")
    page.get_by_label("Customer-visible update").fill("Your container is on board and sailing on schedule.")
    page.get_by_role("button", name="Post to the customer").click()
    expect(page.get_by_test_id("workspace-notice")).to_contain_text("The customer sees it")
    bodies = [u["body"] for u in customer.get(f"/api/v1/shipments/{ref}/updates").json()]
    assert "Your container is on board and sailing on schedule." in bodies
    assert not any("Carrier agent" in b for b in bodies)

    # Someone else saves in between: the page shows what changed, keeps the input, and the second save applies.
    version = page.request.get(f"/api/v1/tower/shipments/{ref}/assignment").json()["version"]
    other = page.request.post(f"/api/v1/tower/shipments/{ref}/eta",
                              data={"expected_version": version, "new_eta": "2027-02-01T10:00:00Z",
                                    "reason_code": "WEATHER"})
    assert other.ok, other.text()
    page.get_by_label("New ETA (your time zone)").fill("2027-02-03T09:30")
    page.get_by_label("Reason", exact=True).select_option("ROLLED_OVER")
    page.get_by_role("button", name="Save the new ETA").click()
    expect(page.get_by_test_id("workspace-error")).to_contain_text("Nothing was saved.")
    expect(page.get_by_test_id("conflict-changes")).to_be_visible()
    expect(page.get_by_label("New ETA (your time zone)")).to_have_value("2027-02-03T09:30")
    page.screenshot(path=ARTIFACTS / "tower-workspace-conflict.png", full_page=True)
    page.get_by_role("button", name="Save the new ETA").click()
    expect(page.get_by_test_id("workspace-notice")).to_be_visible()
    history = customer.get(f"/api/v1/shipments/{ref}/eta-changes").json()
    assert any(h["reason"] == "Cargo rolled to a later sailing" and h["new_eta"].startswith("2027-02-03")
               for h in history)

    # Reject the uploaded packing list with a reason; the customer's checklist says why.
    doc = uploaded.json()
    name = f"Packing list v{doc['version_no']}"
    page.get_by_label(f"Reason to reject {name}").fill("The weights do not match the booking.")
    page.get_by_role("button", name=f"Reject {name}").click()
    expect(page.get_by_test_id("workspace-notice")).to_contain_text("rejected")
    docs = customer.get(f"/api/v1/shipments/{ref}/documents").json()
    mine = next(d for d in docs["items"] if d["id"] == doc["id"])
    assert (mine["status"], mine["rejection_reason"]) == ("rejected", "The weights do not match the booking.")
    audit = page.get_by_test_id("workspace-audit")
    expect(audit).to_contain_text("document rejected")
    page.screenshot(path=ARTIFACTS / "tower-workspace.png", full_page=True)
