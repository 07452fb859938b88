"""End to end in Chromium: Alice of Acme raises a request about one of her shipments; an ops agent finds it in the
request queue, opens it, adds an internal note and then replies to the customer with a canned reply; Alice, through
the API, reads the reply and not the note. A customer is refused the queue and a request's page.

The request is made through the services, on the running app's database (the demo data's Acme shipment)."""

from __future__ import annotations

import re

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models import Company, Shipment
from portal_app.services import requests as svc
from tests.browser_app import ARTIFACTS, DEMO_CUSTOMER, _at, sign_in
from tests.quote_world import principal_for

pytestmark = pytest.mark.browser

AGENT = "agent@harborsky.example"
PASSWORD = DEMO_CUSTOMER[1]
NOTE = "Broker confirms the inspection slot is tomorrow morning; keep the customer posted."
CANNED_TITLE = "Customs hold"
CANNED_START = "Customs have selected the shipment for inspection."


def _raise_request(engine: sa.Engine) -> tuple[str, str]:
    """Alice raises a tracking request about an Acme shipment in transit; (request reference, subject)."""
    with Session(engine, expire_on_commit=False) as db:
        acme = db.exec(select(Company.id).where(Company.code == "ACME")).one()
        shipment = db.exec(select(Shipment.reference).where(Shipment.company_id == acme,
                                                            Shipment.status == "in_transit")
                           .order_by(Shipment.id)).first()
        subject = f"Is {shipment} held at the port?"
        ticket = svc.open_request(db, principal_for(engine, DEMO_CUSTOMER[0]), category="tracking", subject=subject,
                                  body="The tracking has not changed for three days.", shipment_reference=shipment,
                                  context={"page": f"/portal/shipments/{shipment}", "attempted": "track"})
        return ticket.reference, subject


def test_agent_notes_and_replies_with_a_canned_reply_and_the_customer_reads_only_the_reply(
        page, app_url, app_engine):
    from playwright.sync_api import expect

    reference, subject = _raise_request(app_engine)

    sign_in(page, AGENT, "/tower/requests")
    expect(page.get_by_role("heading", name="Requests", level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="Ops tower navigation").get_by_role("link", name="Requests")) \
        .to_be_visible()
    page.get_by_label("Reference, subject or shipment").fill(reference)
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(rf"/tower/requests/?\?q={reference}$"))  # the view is in the address
    table = page.get_by_role("table", name="Requests")
    name = f"{reference}: {subject}"
    link = table.get_by_role("link", name=name)
    expect(link).to_be_visible()
    row = table.get_by_test_id("request-row").filter(has=page.get_by_role("link", name=name))
    expect(row).to_contain_text("Acme Home Goods Ltd")
    expect(row).to_contain_text("Alice Archer")
    expect(row.get_by_test_id("first-response")).to_have_text(re.compile(r"(left|ago)$"))
    expect(page.get_by_test_id("request-count")).to_contain_text("1 request matches")
    page.screenshot(path=ARTIFACTS / "tower-requests.png", full_page=True)

    link.click()
    page.wait_for_url(_at(f"/tower/requests/{reference}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{reference}: {subject}")
    expect(page.get_by_test_id("request-context")).to_contain_text("/portal/shipments/")
    expect(page.get_by_test_id("request-shipment")).to_be_visible()

    # An internal note: chosen explicitly, marked on screen, and told apart in the thread.
    page.get_by_label("Internal note", exact=True).check()
    expect(page.get_by_test_id("reply-mode")).to_contain_text("Internal note — not visible to the customer")
    page.get_by_label("Internal note (staff only)").fill(NOTE)
    page.locator("#reply-files input[type=file]").set_input_files(files=[
        {"name": "broker-mail.txt", "mimeType": "text/plain", "buffer": b"Inspection slot: 08:30 at the CFS.\n"}])
    expect(page.get_by_test_id("selected-file")).to_have_text("Selected: broker-mail.txt")
    page.get_by_role("button", name="Add internal note").click()
    expect(page.get_by_test_id("reply-notice")).to_contain_text("Internal note added with 1 attachment")
    note = page.get_by_test_id("internal-note")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("Internal note — not visible to the customer")
    expect(note).to_contain_text(NOTE)
    expect(page.get_by_test_id("selected-file")).to_have_count(0)
    attachment = note.get_by_role("link", name="Download broker-mail.txt")
    download = attachment.get_attribute("href")
    assert re.fullmatch(r"/api/v1/documents/\d+/download", download or ""), download
    assert page.request.get(download).body() == b"Inspection slot: 08:30 at the CFS.\n"

    # A reply to the customer from a canned reply, inserted into the message box.
    page.get_by_label("Reply to customer").check()
    box = page.get_by_label("Message to the customer")
    expect(box).to_have_value("")
    page.get_by_label("Insert a canned reply").select_option(label=f"{CANNED_TITLE} (Tracking)")
    expect(box).to_have_value(re.compile(re.escape(CANNED_START)))
    box.press("End")
    box.press_sequentially(" We will write again as soon as it is released.")
    page.screenshot(path=ARTIFACTS / "tower-request-reply.png", full_page=True)
    page.get_by_role("button", name="Send reply to customer").click()
    expect(page.get_by_test_id("reply-notice")).to_contain_text("Reply sent to the customer")
    expect(page.get_by_test_id("request-status")).to_have_text("Waiting on customer")
    expect(page.get_by_test_id("first-response")).to_have_text(re.compile(r"^Met"))
    expect(page.get_by_test_id("thread-message").filter(has_text=CANNED_START)).to_have_count(1)
    expect(box).to_have_value("")
    page.screenshot(path=ARTIFACTS / "tower-request-detail.png", full_page=True)

    # Alice, through the API: the reply is there, the note is not.
    with httpx.Client(base_url=app_url, timeout=30) as alice:
        assert alice.post("/api/auth/login", json={"email": DEMO_CUSTOMER[0], "password": PASSWORD}).status_code == 200
        seen = alice.get(f"/api/v1/requests/{reference}")
        assert seen.status_code == 200, seen.text
        bodies = [m["body"] for m in seen.json()["messages"]]
        assert alice.get(download).status_code == 404  # the note's file is internal too
    assert any(b.startswith(CANNED_START) and b.endswith("as soon as it is released.") for b in bodies), bodies
    assert not any("Broker confirms" in b for b in bodies) and NOTE not in seen.text
    assert not any(m["internal"] or m["attachments"] for m in seen.json()["messages"])


def test_a_customer_is_refused_the_request_queue(page):
    from playwright.sync_api import expect

    sign_in(page, DEMO_CUSTOMER[0], "/tower/requests", lands_on="/portal")
    for path in ("/tower/requests", "/tower/requests/REQ-000001", "/tower/config/requests"):
        page.goto(path)
        expect(page.get_by_test_id("access-denied")).to_be_visible()
        expect(page.get_by_role("table")).to_have_count(0)
