"""README's "Running on PostgreSQL and Redis" behind README's nginx block, as a customer and a program use it.

The app runs as tests/scaled_app.py starts it (`make run` on a new PostgreSQL database, its own Redis, two workers,
nginx with README's ``location /`` block in front); every request here goes through nginx. A customer signs in,
reads the shipment list and a shipment, filters the list (a page event over the websocket nginx passes on), uploads
a document (a body through nginx) and signs out; a program signs in through the API, reads and writes; and the
app counts failed sign-ins against the address nginx saw, never one the client wrote.
"""

from __future__ import annotations

import io
import re
import uuid

import httpx
import pytest
import sqlalchemy as sa
from reportlab.pdfgen import canvas
from sqlmodel import Session, select

from models import Company, LoginAttempt, User
from models.enums import Role
from portal_app.auth.passwords import hash_password
from tests.browser_app import ARTIFACTS, DEMO_CUSTOMER, _at, sign_in
from tests.scaled_app import WORKERS, ScaledApp

pytestmark = [pytest.mark.scaled, pytest.mark.browser, pytest.mark.postgres]
MB = 1024 * 1024


def pdf(text: str) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, text)
    c.save()
    return buf.getvalue()


def api_client(url: str, local_address: str = "127.0.0.1") -> httpx.Client:
    """A program on this machine, from ``local_address`` (any 127.x address is a client nginx can tell apart)."""
    return httpx.Client(base_url=url, timeout=60, headers={"Origin": url},
                        transport=httpx.HTTPTransport(local_address=local_address))


def test_it_runs_on_postgresql_and_redis_with_two_workers_behind_nginx(scaled_url, scaled_app: ScaledApp):
    health = httpx.get(f"{scaled_url}/api/health", timeout=30)
    assert health.status_code == 200
    assert health.headers["server"].startswith("nginx")  # nginx answered, passing the app's answer on
    ready = httpx.get(f"{scaled_url}/api/ready", timeout=30)
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "database": "ok", "redis": "ok"}
    assert len(scaled_app.wait_for_workers()) == WORKERS
    with Session(scaled_app.engine) as db:  # `make run` migrated and seeded the PostgreSQL database
        assert db.exec(select(User).where(User.email == DEMO_CUSTOMER[0])).one()
    assert scaled_app.engine.dialect.name == "postgresql"


def test_a_program_signs_in_reads_and_writes_through_the_proxy(scaled_url):
    with api_client(scaled_url) as api:
        login = api.post("/api/auth/login", json={"email": DEMO_CUSTOMER[0], "password": DEMO_CUSTOMER[1]})
        assert login.status_code == 200, login.text
        assert api.get("/api/auth/me").json()["email"] == DEMO_CUSTOMER[0]
        listing = api.get("/api/v1/shipments", params={"page_size": 5})
        assert listing.status_code == 200 and listing.json()["total"] > 0
        assert {i["company_name"] for i in listing.json()["items"]} == {"Acme Home Goods Ltd"}
        reference = listing.json()["items"][0]["reference"]
        assert api.get(f"/api/v1/shipments/{reference}").json()["reference"] == reference
        assert api.get(f"/api/v1/shipments/{reference}/documents").status_code == 200

        # A write, then the same read on whichever worker answers it.
        assert api.put(f"/api/v1/shipments/{reference}/follow").json() == {"following": True}
        assert api.delete(f"/api/v1/shipments/{reference}/follow").json() == {"following": False}

        # A file through nginx (README's body limit lets it through); one over PORTAL_MAX_UPLOAD_MB is refused by
        # the app itself (its error shape, not nginx's page) and nothing is stored.
        data = pdf(f"Proxy upload for {reference}")
        stored = api.post(f"/api/v1/shipments/{reference}/documents", data={"doc_type": "other"},
                          files={"file": ("through-nginx.pdf", data, "application/pdf")})
        assert stored.status_code == 201, stored.text
        too_big = api.post(f"/api/v1/shipments/{reference}/documents", data={"doc_type": "other"},
                           files={"file": ("too-big.pdf", data + b"\0" * (26 * MB), "application/pdf")})
        # The app answers 413 as soon as the body passes the limit and stops reading; nginx, still sending the body,
        # then sometimes reports the closed connection as its own 502 instead of passing the 413 on (seen in CI).
        # Either way the file is refused and nothing is stored (checked below). Known gap: docs/operations.md.
        assert too_big.status_code in (413, 502), too_big.text[:300]
        if too_big.status_code == 413:
            assert too_big.json()["error"]["code"] == "too_large", too_big.text[:300]
        names = [d["filename"] for d in api.get("/api/v1/documents", params={"page_size": 200}).json()["items"]]
        assert "through-nginx.pdf" in names and "too-big.pdf" not in names

        assert api.post("/api/auth/logout").status_code == 200
        assert api.get("/api/v1/shipments").status_code == 401


def _new_user(engine: sa.Engine) -> str:
    code = uuid.uuid4().hex[:8].upper()
    email = f"proxy-{code.lower()}@example.com"
    with Session(engine) as db:
        company = Company(code=code, name=f"Proxy Trading {code}", kind="customer")
        db.add(company)
        db.flush()
        db.add(User(email=email, full_name="Pia Proxy", role=Role.CUSTOMER_ADMIN, company_id=company.id,
                    password_hash=hash_password(DEMO_CUSTOMER[1])))
        db.commit()
    return email


def test_failed_sign_ins_count_against_the_address_nginx_saw(scaled_url, scaled_app: ScaledApp):
    """nginx replaces the client's X-Forwarded-For with the address it saw (README's block); the app believes it
    from nginx (PORTAL_TRUSTED_PROXIES=127.0.0.1). So a client cannot choose its address: five wrong passwords from
    127.0.0.5 pause sign-in for that email from there, whatever it wrote, and not from 127.0.0.6."""
    email = _new_user(scaled_app.engine)
    with api_client(scaled_url, "127.0.0.5") as attacker:
        for i in range(5):
            wrong = attacker.post("/api/auth/login", json={"email": email, "password": "wrong-Pass-1"},
                                  headers={"X-Forwarded-For": f"198.51.100.{i + 1}"})
            assert wrong.status_code == 401, wrong.text
        paused = attacker.post("/api/auth/login", json={"email": email, "password": DEMO_CUSTOMER[1]},
                               headers={"X-Forwarded-For": "198.51.100.77"})
    assert paused.status_code == 429 and paused.json()["error"]["code"] == "account_locked"
    with api_client(scaled_url, "127.0.0.6") as owner:
        assert owner.post("/api/auth/login", json={"email": email, "password": DEMO_CUSTOMER[1]}).status_code == 200
    with Session(scaled_app.engine) as db:
        seen = list(db.exec(select(LoginAttempt.ip_address).where(LoginAttempt.email == email)
                       .order_by(LoginAttempt.id)).all())
    assert set(seen) == {"127.0.0.5", "127.0.0.6"} and seen.count("127.0.0.5") >= 5 and seen[-1] == "127.0.0.6"


def test_a_customer_works_through_the_proxy(scaled_browser, scaled_url, scaled_app: ScaledApp):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    context = scaled_browser.new_context(base_url=scaled_url, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        sign_in(page, DEMO_CUSTOMER[0], "/portal/shipments")
        expect(page.get_by_role("heading", name="Your shipments")).to_be_visible()
        rows = page.get_by_role("table", name="Your shipments").locator("tbody tr")
        expect(rows.first).to_be_visible()
        reference = rows.first.locator("th").inner_text().strip()

        # A filter: a page event over the websocket through nginx.
        page.get_by_label("Search by any reference").fill(reference)
        page.get_by_role("button", name="Apply filters").click()
        expect(page.get_by_test_id("shipment-count")).to_contain_text("1 shipments match these filters")
        expect(rows).to_have_count(1)

        # The shipment's page, and an upload through nginx to /_upload.
        rows.first.locator("a").click()
        page.wait_for_url(_at(f"/portal/shipments/{reference}"))
        expect(page.get_by_role("heading", name=f"Shipment {reference}")).to_be_visible()
        page.get_by_label("Document type").select_option(label="Other document")
        page.get_by_label("File to upload").set_input_files(
            {"name": "page-through-nginx.pdf", "mimeType": "application/pdf", "buffer": pdf("Page upload")})
        expect(page.get_by_test_id("selected-file")).to_contain_text("page-through-nginx.pdf")
        page.get_by_role("button", name="Upload document").click()
        expect(page.get_by_role("status").filter(has_text="Saved “page-through-nginx.pdf”")).to_be_visible()
        expect(page.get_by_role("table", name="Shipment documents")
               .locator("tr", has_text="page-through-nginx.pdf")).to_have_count(1)
        page.screenshot(path=ARTIFACTS / "scaled-shipment-upload.png", full_page=True)

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(_at("/login", query=True))
        expect(page.get_by_role("status")).to_contain_text("signed out")
        page.goto("/portal/shipments")
        page.wait_for_url(_at("/login", query=True))
    finally:
        context.close()
    # The page's websocket and its upload went through nginx (PORTAL_PUBLIC_URL), not straight to the app's port.
    handed_on = scaled_app.nginx_access_log()
    assert re.search(r'"GET /_event/\?[^"]*transport=websocket[^"]*" 101 ', handed_on), handed_on[-2000:]
    assert re.search(r'"POST /_upload/?[^"]*" 200 ', handed_on), handed_on[-2000:]
