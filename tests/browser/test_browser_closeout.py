"""End to end in Chromium: an ops manager sees a delivered shipment's open checklist items with the box for a reason
to close anyway; an ops agent closes a delivered shipment whose closeout checklist is done, from its workspace; the
customer then reads it as completed on the portal and downloads its documents as one archive. axe-core finds no
serious violation on any of these views."""

from __future__ import annotations

import io
import zipfile

import httpx
import pytest

from bench.frontend import axe_violations
from tests.browser.test_browser_tower_quotes import AGENT, MANAGER, PASSWORD, _customer
from tests.browser_app import ARTIFACTS, DEMO_CUSTOMER, sign_in
from tests.services.test_documents import pdf_bytes

pytestmark = pytest.mark.browser


def _staff(app_url: str) -> httpx.Client:
    client = httpx.Client(base_url=app_url, timeout=30, headers={"Origin": app_url})
    assert client.post("/api/auth/login", json={"email": AGENT, "password": PASSWORD}).status_code == 200
    return client


def _delivered(staff: httpx.Client, *, ready: bool) -> str:
    """A delivered shipment of the demo customer whose checklist is done (``ready``; no other test closes one), or
    one with items open."""
    board = staff.get("/api/v1/tower/shipments?status=delivered&customer=ACME&page_size=100").json()
    for row in board["items"]:
        state = staff.get(f"/api/v1/tower/shipments/{row['reference']}/closeout").json()
        if state["due"] and state["can_close"] == ready:
            return row["reference"]
    raise AssertionError(f"the demo has no delivered ACME shipment with can_close={ready}")


def test_close_a_shipment_and_the_customer_sees_it_completed(page, app_url):
    from playwright.sync_api import expect

    staff = _staff(app_url)
    ref, unready = _delivered(staff, ready=True), _delivered(staff, ready=False)
    customer = _customer(app_url)
    uploaded = customer.post(f"/api/v1/shipments/{ref}/documents", data={"doc_type": "proof_of_delivery"},
                             files={"file": ("signed-pod.pdf", pdf_bytes("Proof of delivery"), "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text

    sign_in(page, MANAGER, f"/tower/shipments/{unready}")
    expect(page.get_by_test_id("workspace-closeout")).to_contain_text("not done")
    expect(page.get_by_label("Reason to close with items open (audited)")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert axe_violations(page) == [], "workspace with checklist items open, as a manager"

    page.context.clear_cookies()
    sign_in(page, AGENT, f"/tower/shipments/{ref}")
    card = page.get_by_test_id("workspace-closeout")
    expect(card).to_contain_text("Closeout")
    for key in ("final_documents", "invoices", "tasks", "exceptions"):
        expect(page.get_by_test_id(f"closeout-{key}")).to_contain_text("· done")
        expect(page.get_by_test_id(f"closeout-{key}")).not_to_contain_text("not done")
    page.get_by_role("button", name="Close shipment").click()
    expect(page.get_by_test_id("workspace-notice")).to_contain_text(f"Shipment {ref} closed.")
    expect(card).to_contain_text("This shipment is closed")
    assert axe_violations(page) == [], "workspace of a closed shipment"
    page.screenshot(path=ARTIFACTS / "tower-closeout.png", full_page=True)

    page.context.clear_cookies()
    sign_in(page, DEMO_CUSTOMER[0], f"/portal/shipments/{ref}")
    expect(page.get_by_test_id("shipment-completed")).to_contain_text("Completed")
    link = page.get_by_test_id("documents-archive")
    expect(link).to_have_attribute("href", f"/api/v1/shipments/{ref}/documents.zip")
    archive = page.request.get(f"/api/v1/shipments/{ref}/documents.zip")
    assert archive.status == 200 and archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.body())) as zf:
        assert "signed-pod.pdf" in zf.namelist()
    page.wait_for_load_state("networkidle")
    assert axe_violations(page) == [], "portal page of a completed shipment"
    page.screenshot(path=ARTIFACTS / "portal-completed.png", full_page=True)
