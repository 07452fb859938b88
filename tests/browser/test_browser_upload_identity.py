"""The attack on ``/_upload``, exactly: a customer and an administrator are signed in in Chromium, each tab's page
state holding their session (pages opened, forms filled). A POST to ``/_upload`` carrying one of those tabs'
``reflex-client-token`` and an upload handler's name, with no cookie or with another user's cookie, is refused
with 401 in the API's error shape and stores nothing, for every upload handler of the product; the same request
with the tab's own cookie works as before."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Callable

import httpx
import pytest
import sqlalchemy as sa
from PIL import Image

from models import AppSetting, Document, RateCard, Shipment, Ticket, TicketAttachment, TicketMessage
from portal_app.auth.sessions import SESSION_COOKIE
from portal_app.edge.upload_gate import upload_handler_names
from portal_app.portal.request_detail import PortalRequestState
from portal_app.portal.request_new import PortalNewRequestState
from portal_app.portal.shipment_detail import PortalShipmentDetailState
from portal_app.services import rate_cards
from portal_app.tower.config import ConfigBrandingState
from portal_app.tower.imports import TowerImportsState
from portal_app.tower.rates import TowerRatesState
from portal_app.tower.request_detail import TowerRequestState
from portal_app.tower.workspace import TowerWorkspaceState
from tests.browser_app import DEMO_CUSTOMER, sign_in
from tests.services.test_documents import pdf_bytes

pytestmark = pytest.mark.browser

CUSTOMER, ADMIN = "alice@acme.example", "admin@harborsky.example"


def _cookie(app_url: str, email: str, password: str = DEMO_CUSTOMER[1]) -> str:
    answer = httpx.post(f"{app_url}/api/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return answer.cookies[SESSION_COOKIE]


def _new_user_cookie(app_url: str, pg, path: str, **body: str) -> str:
    """A colleague of ``pg``'s user, made for this test (so no other test's change to a demo account matters)."""
    made = pg.request.post(path, data={"email": f"upload-{uuid.uuid4().hex[:8]}@{body.pop('domain')}", **body})
    assert made.ok, made.text()
    return _cookie(app_url, made.json()["user"]["email"], made.json()["temporary_password"])


def _tab_cookie(pg) -> str:
    return next(c["value"] for c in pg.context.cookies() if c["name"] == SESSION_COOKIE)


def _token(pg) -> str:
    return pg.evaluate("() => sessionStorage.getItem('token')")


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), (11, 92, 173)).save(buf, format="PNG")
    return buf.getvalue()


def _future_rates_csv(label: str) -> bytes:
    """The import template's FCL card, under a new name and valid only in 2099 (no quote today uses it)."""
    lines = rate_cards.import_template_csv().decode("utf-8-sig").splitlines()
    rows = [lines[0]] + [ln for ln in lines[1:] if next(csv.reader([ln]))[0] == "SHA-RTM-1"]
    text = "\n".join(rows).replace("SHA-RTM-1", label).replace("2026-01-01", "2099-01-01")
    return text.replace("2026-03-31", "2099-03-31").encode()


def _post(app_url: str, token: str, handler: str, cookie: str | None, args: dict | None,
          files: list[tuple[str, bytes, str]]) -> httpx.Response:
    return httpx.post(
        f"{app_url}/_upload",
        # The portal's own Origin, as its pages send it (and as anyone scripting a request can): what stops a
        # wrong caller here must be the upload gate, not the origin check.
        headers={"reflex-client-token": token, "reflex-event-handler": handler, "Origin": app_url},
        cookies={SESSION_COOKIE: cookie} if cookie else None,
        data={"__reflex_event_args": json.dumps(args)} if args else None,
        files=[("files", f) for f in files],
        timeout=60,
    )


def _stored(engine: sa.Engine) -> dict[str, object]:
    """Everything an upload handler can store."""
    with engine.connect() as conn:
        counts = {model.__name__: conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
                  for model in (Document, Ticket, TicketMessage, TicketAttachment, RateCard, Shipment)}
        counts["branding"] = conn.execute(sa.select(AppSetting.value).where(AppSetting.key == "branding")
                                          ).scalar_one_or_none()
    return counts


def _handler(state: type, name: str) -> str:
    return f"{state.get_full_name()}.{name}"


def test_an_upload_acts_only_as_the_session_of_its_own_request(page, app_url, app_engine):
    from playwright.sync_api import expect

    # The customer's tab: a new request half written, a reply typed on a request, a shipment page open.
    sign_in(page, CUSTOMER, "/portal/requests/new")
    subject = f"Upload identity check {uuid.uuid4().hex[:6]}"
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("What do you need?").fill("Please check the attached file.")
    expect(page.get_by_role("region", name="Help articles that may answer it")).to_be_visible()
    page.wait_for_timeout(1000)  # both fields reach the page state (debounced) before the tab moves on
    opened = page.request.post("/api/v1/requests", data={"category": "documents", "subject": "Where is my BL?",
                                                         "body": "Please send the bill of lading."})
    assert opened.ok, opened.text()
    ticket = opened.json()["reference"]
    page.goto(f"/portal/requests/{ticket}")
    page.get_by_label("Your message").fill("Here is the letter you asked for.")
    page.wait_for_timeout(800)  # the typed reply reaches the page state (debounced)
    shipment = page.request.get("/api/v1/shipments?page_size=1").json()["items"][0]["reference"]
    page.goto(f"/portal/shipments/{shipment}")
    expect(page.get_by_role("heading", name=f"Shipment {shipment}")).to_be_visible()
    customer_token, customer_cookie = _token(page), _tab_cookie(page)

    # The administrator's tab, in another browser context: the request, the rate cards, branding, a workspace.
    staff_context = page.context.browser.new_context(base_url=app_url, viewport={"width": 1366, "height": 900})
    staff = staff_context.new_page()
    staff.set_default_timeout(30_000)
    try:
        sign_in(staff, ADMIN, f"/tower/requests/{ticket}")
        expect(staff.get_by_role("heading", level=1)).to_contain_text("Where is my BL?")
        staff.goto("/tower/rates")
        expect(staff.get_by_role("heading", level=1)).to_be_visible()
        staff.goto("/tower/imports")
        expect(staff.get_by_role("heading", level=1)).to_be_visible()
        staff.goto("/tower/config")
        expect(staff.get_by_text(re.compile(r"the current one has \d"))).to_be_visible()  # branding loaded
        staff.goto(f"/tower/shipments/{shipment}")
        expect(staff.get_by_role("heading", level=1)).to_contain_text(shipment)
        staff_token, staff_cookie = _token(staff), _tab_cookie(staff)
        # The other cookies: a colleague of the same company (tenancy would not stop them) and another staff member.
        colleague = _new_user_cookie(app_url, page, "/api/v1/account/users", domain="acme.example",
                                     full_name="Upload Colleague", role="customer_admin")
        other_staff = _new_user_cookie(app_url, staff, "/api/v1/config/staff", domain="harborsky.example",
                                       full_name="Upload Agent", role="ops_agent")
    finally:
        staff_context.close()

    with app_engine.connect() as conn:
        first_document = conn.execute(sa.select(sa.func.coalesce(sa.func.max(Document.id), 0))).scalar_one()
    pdf = ("letter.pdf", pdf_bytes("upload identity"), "application/pdf")
    label = f"UPLOAD-ID-{uuid.uuid4().hex[:6].upper()}"
    # The shipment import's own template, its example shipments under references of their own (new shipments).
    template = httpx.get(f"{app_url}/api/v1/shipments/import/template?format=csv",
                         cookies={SESSION_COOKIE: staff_cookie}, timeout=30)
    assert template.status_code == 200, template.text
    shipments_csv = template.content.replace(b"TMS-", f"U{uuid.uuid4().hex[:5].upper()}-".encode())
    cases: list[tuple[str, str, str, str, str, dict | None, list, Callable[[dict, dict], bool]]] = [
        ("portal document", customer_token, customer_cookie, colleague,
         _handler(PortalShipmentDetailState, "upload_document"), {"reference": shipment}, [pdf],
         lambda a, b: b["Document"] == a["Document"] + 1),
        ("request reply", customer_token, customer_cookie, colleague, _handler(PortalRequestState, "send_reply"),
         None, [pdf], lambda a, b: b["TicketMessage"] == a["TicketMessage"] + 1),
        # (last of the customer's: sending it moves the tab to the new request)
        ("new request", customer_token, customer_cookie, colleague, _handler(PortalNewRequestState, "send"), None,
         [pdf], lambda a, b: b["Ticket"] == a["Ticket"] + 1),
        ("staff reply", staff_token, staff_cookie, other_staff, _handler(TowerRequestState, "send_reply"),
         {"form": {"kind": "note", "body": "Internal: checked the letter."}}, [pdf],
         lambda a, b: b["TicketMessage"] == a["TicketMessage"] + 1),
        ("workspace document", staff_token, staff_cookie, other_staff,
         _handler(TowerWorkspaceState, "upload_document"), {"reference": shipment}, [pdf],
         lambda a, b: b["Document"] == a["Document"] + 1),
        ("rate-card import", staff_token, staff_cookie, other_staff, _handler(TowerRatesState, "import_file"), None,
         [("rates.csv", _future_rates_csv(label), "text/csv")], lambda a, b: b["RateCard"] == a["RateCard"] + 1),
        ("shipment import", staff_token, staff_cookie, other_staff, _handler(TowerImportsState, "import_file"), None,
         [("shipments.csv", shipments_csv, "text/csv")], lambda a, b: b["Shipment"] > a["Shipment"]),
        ("logo", staff_token, staff_cookie, other_staff, _handler(ConfigBrandingState, "upload_logo"), None,
         [("logo.png", _png(), "image/png")], lambda a, b: b["branding"] != a["branding"]),
    ]
    for what, token, own, other, handler, args, files, stored_once in cases:
        before = _stored(app_engine)
        anonymous = _post(app_url, token, handler, None, args, files)
        assert anonymous.status_code == 401, (what, anonymous.text)
        assert anonymous.json()["error"]["code"] == "not_authenticated" and anonymous.json()["error"]["saved"] is False
        foreign = _post(app_url, token, handler, other, args, files)
        assert foreign.status_code == 401, (what, foreign.text)
        assert foreign.json()["error"]["code"] == "page_not_yours"
        assert _stored(app_engine) == before, f"{what}: something was stored for a request that was not the tab's"

        answer = _post(app_url, token, handler, own, args, files)
        assert answer.status_code == 200, (what, answer.text)
        after = _stored(app_engine)
        assert stored_once(before, after), (what, before, after, answer.text[:2000])

    with app_engine.connect() as conn:  # the documents stored with the right cookie are each tab user's own
        emails = set(conn.execute(sa.text(
            "SELECT u.email FROM document d JOIN shipment s ON s.id = d.shipment_id "
            "JOIN app_user u ON u.id = d.uploaded_by_id WHERE s.reference = :ref AND d.filename = 'letter.pdf' "
            "AND d.id > :since"), {"ref": shipment, "since": first_document}).scalars())
    assert emails == {CUSTOMER, ADMIN}

    # Every upload handler of the product is in the list above (a new one must be added to it).
    assert {case[4] for case in cases} == set(upload_handler_names())


@pytest.fixture(autouse=True)
def _restore_branding(app_url: str):
    """The logo case stores a logo for the whole installation; put the one before back (or none)."""
    admin = httpx.Client(base_url=app_url, cookies={SESSION_COOKIE: _cookie(app_url, ADMIN)}, timeout=30)
    before = admin.get("/api/v1/config/branding").json()
    logo = admin.get("/api/branding/logo") if before.get("logo_url") else None
    yield
    if logo is not None and logo.status_code == 200:
        admin.put("/api/v1/config/branding/logo", content=logo.content,
                  headers={"content-type": logo.headers["content-type"]})
    else:
        admin.put("/api/v1/config/branding", json={"product_name": before["product_name"],
                                                   "accent_color": before["accent_color"], "remove_logo": True})
    admin.close()
