"""End to end in Debian's Chromium: a demo customer uploads a document on a shipment and downloads the same bytes;
a file whose content does not match its name is refused with nothing stored; the documents page lists it."""

from __future__ import annotations

import hashlib
import io

import pytest
from reportlab.pdfgen import canvas

from tests.browser_app import ARTIFACTS, DEMO_CUSTOMER, _at

pytestmark = pytest.mark.browser


def _pdf(text: str) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, text)
    c.save()
    return buf.getvalue()


def _sign_in(pg) -> None:
    pg.goto("/login")
    pg.get_by_label("Email").fill(DEMO_CUSTOMER[0])
    pg.get_by_label("Password").fill(DEMO_CUSTOMER[1])
    pg.get_by_role("button", name="Sign in").click()
    pg.wait_for_url(_at("/portal"))


def test_customer_uploads_and_downloads_a_document(page):
    from playwright.sync_api import expect

    _sign_in(page)
    listing = page.request.get("/api/v1/shipments?page_size=1&status=booked").json()
    if not listing["items"]:
        listing = page.request.get("/api/v1/shipments?page_size=1").json()
    reference = listing["items"][0]["reference"]

    page.goto(f"/portal/shipments/{reference}")
    expect(page.get_by_role("heading", name=f"Shipment {reference}")).to_be_visible()
    expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()

    # A harmless name with the wrong content is refused, and says nothing was stored.
    page.get_by_label("File to upload").set_input_files(
        {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": b"<html><script>alert(1)</script></html>"}
    )
    page.get_by_role("button", name="Upload document").click()
    expect(page.get_by_role("alert").filter(has_text="Nothing was stored")).to_be_visible()

    # A real PDF as "Other document": saved, listed, and downloads byte for byte.
    data = _pdf(f"Browser test document for {reference}")
    page.get_by_label("Document type").select_option(label="Other document")
    page.get_by_label("File to upload").set_input_files(
        {"name": "browser-test.pdf", "mimeType": "application/pdf", "buffer": data}
    )
    expect(page.get_by_test_id("selected-file")).to_contain_text("browser-test.pdf")
    page.get_by_role("button", name="Upload document").click()
    expect(page.get_by_role("status").filter(has_text="Saved “browser-test.pdf”")).to_be_visible()
    table = page.get_by_role("table", name="Shipment documents")
    row = table.locator("tr", has_text="browser-test.pdf")
    expect(row).to_have_count(1)
    page.screenshot(path=ARTIFACTS / "portal-shipment-documents.png", full_page=True)

    with page.expect_download() as download_info:
        row.get_by_role("link", name="Download browser-test.pdf").click()
    download = download_info.value
    assert download.suggested_filename == "browser-test.pdf"
    assert hashlib.sha256(download.path().read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()

    # The documents page lists it with its shipment; another company's document id is a 404.
    page.goto("/portal/documents")
    expect(page.get_by_role("heading", name="Your documents")).to_be_visible()
    listed = page.get_by_role("table", name="Your documents").locator("tr", has_text="browser-test.pdf")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(reference)
    page.screenshot(path=ARTIFACTS / "portal-documents.png", full_page=True)
    others = page.request.get("/api/v1/documents?page_size=200").json()["items"]
    assert others and all(d["visibility"] == "customer" for d in others)
    assert page.request.get("/api/v1/documents/999999999/download").status == 404
