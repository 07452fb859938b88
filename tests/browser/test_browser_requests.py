"""End to end in Chromium: a refused upload handed to a person carries its context into a request; a customer
raises a request from a shipment with a file, staff answer it with an internal note and a reply, and the customer
sees the reply, never the note, then rates the resolved request."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.browser.test_browser_documents import _pdf, _sign_in
from tests.browser_app import ARTIFACTS, DEMO_CUSTOMER, _at

pytestmark = pytest.mark.browser
AGENT = "agent@harborsky.example"


def _staff(app_url: str) -> httpx.Client:
    client = httpx.Client(base_url=app_url, timeout=30)
    assert client.post("/api/auth/login", json={"email": AGENT, "password": DEMO_CUSTOMER[1]}).status_code == 200
    return client


def test_a_refused_upload_goes_to_a_person_with_its_context(page, app_url):
    from playwright.sync_api import expect

    _sign_in(page)
    reference = page.request.get("/api/v1/shipments?page_size=1").json()["items"][0]["reference"]
    page.goto(f"/portal/shipments/{reference}")
    page.get_by_label("Document type").select_option(label="Packing list")
    page.get_by_label("File to upload").set_input_files(
        {"name": "packing.pdf", "mimeType": "application/pdf", "buffer": b"MZ this is no pdf"})
    page.get_by_role("button", name="Upload document").click()
    expect(page.get_by_role("alert").filter(has_text="Nothing was stored")).to_be_visible()
    page.get_by_label("Anything to add? (optional)").fill("It is the scan our supplier sent.")
    page.get_by_role("button", name="Send to our team").click()
    sent = page.get_by_role("status").filter(has_text="Sent to our team as request REQ-")
    expect(sent).to_be_visible()
    ticket = re.search(r"REQ-\d+", sent.inner_text()).group(0)
    seen = _staff(app_url).get(f"/api/v1/requests/{ticket}").json()
    assert seen["shipment_reference"] == reference and seen["category"] == "documents"
    assert seen["context"]["draft"] == {"doc_type": "packing_list", "filename": "packing.pdf"}
    assert "Nothing was stored" in seen["context"]["error"]
    assert "supplier sent" in seen["messages"][0]["body"]


def test_customer_raises_staff_answer_customer_sees_the_reply_not_the_note(page, app_url):
    from playwright.sync_api import expect

    _sign_in(page)
    reference = page.request.get("/api/v1/shipments?page_size=1").json()["items"][0]["reference"]
    page.goto(f"/portal/shipments/{reference}")
    page.get_by_role("link", name="Ask our team about this shipment").click()
    page.wait_for_url(_at("/portal/requests/new", query=True))
    expect(page.get_by_test_id("request-about")).to_contain_text(reference)
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("#request-subject-error")).to_be_visible()  # explained beside the field, nothing sent
    page.get_by_label("Subject").fill(f"Can we change the delivery address for {reference}?")
    page.get_by_label("What do you need?").fill("Please deliver to our new warehouse, see the attached letter.")
    # Before sending, the help articles that may answer it are offered.
    offered = page.get_by_role("region", name="Help articles that may answer it")
    expect(offered.get_by_role("link").first).to_be_visible()
    assert "/help/" in offered.get_by_role("link").first.get_attribute("href")
    page.get_by_label("Attach a file (optional)").set_input_files(
        {"name": "new-address.pdf", "mimeType": "application/pdf", "buffer": _pdf("New address")})
    expect(page.get_by_test_id("selected-file")).to_contain_text("new-address.pdf")
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(r"/portal/requests/REQ-\d+"))
    ticket = re.search(r"REQ-\d+", page.url).group(0)
    conversation = page.get_by_role("list", name="Conversation")
    expect(conversation).to_contain_text("new warehouse")
    expect(page.get_by_role("heading", level=1)).to_contain_text("change the delivery address")
    expect(conversation.get_by_role("link", name="Download new-address.pdf")).to_be_visible()

    staff = _staff(app_url)
    assert staff.post(f"/api/v1/requests/{ticket}/messages",
                      json={"body": "Internal: check the surcharge with the haulier", "internal": True}
                      ).status_code == 201
    assert staff.post(f"/api/v1/requests/{ticket}/status",
                      json={"status": "resolved", "note": "Done: the haulier has the new address."}
                      ).status_code == 200
    page.reload()
    expect(conversation).to_contain_text("the haulier has the new address")
    expect(page.get_by_text("check the surcharge")).to_have_count(0)
    expect(page.get_by_test_id("internal-note")).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "portal-request.png", full_page=True)

    page.get_by_label("4 — good").check()
    page.get_by_role("button", name="Rate and close").click()
    expect(page.get_by_role("status").filter(has_text="Thank you for your rating")).to_be_visible()
    page.goto("/portal/requests?status=closed")
    expect(page.get_by_role("table", name="Your company's requests")).to_contain_text(ticket)
