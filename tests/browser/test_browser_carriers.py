"""Carrier events in the browser: an administrator connects a carrier (callback URL, subscription id, the key
shown once) and deletes it; a signed event for an unknown container waits under Carrier events to match, where an
ops agent types its shipment. Both pages pass axe."""

from __future__ import annotations

import json
import re
import uuid

import httpx
import pytest
from sqlmodel import Session, select

from bench.frontend import axe_violations
from models import Shipment
from portal_app.services.carrier_events.connections import sign
from seed.carrier_demo import DEMO_SECRET, DEMO_SUBSCRIPTION_ID
from tests.browser_app import ARTIFACTS, sign_in
from tests.dcsa import CALLBACK, at, equipment_event

pytestmark = pytest.mark.browser


def test_an_administrator_connects_a_carrier_and_deletes_it(page):
    from playwright.sync_api import expect

    sign_in(page, "admin@harborsky.example", "/tower/config/carriers")
    page.get_by_role("heading", name="Carrier connections", level=1).wait_for()
    expect(page.get_by_test_id("carrier-callback-url")).to_contain_text(CALLBACK)
    expect(page.get_by_role("cell", name=DEMO_SUBSCRIPTION_ID)).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert axe_violations(page) == []
    name = f"Browser carrier {uuid.uuid4().hex[:5]}"
    page.get_by_label("Connection name").fill(name)
    page.get_by_label("Carrier code (SCAC)").fill("CMDU")
    page.get_by_label("Shared secret").fill("a-long-enough-shared-secret")
    page.get_by_role("button", name="Connect carrier").click()
    expect(page.get_by_test_id("config-notice")).to_contain_text(f"{name} is connected")
    expect(page.get_by_test_id("carrier-subscription-id")).to_have_text(
        re.compile(r"^[0-9a-f-]{36}$"))
    expect(page.get_by_test_id("carrier-integration-key")).to_have_value(re.compile(r"^ck_"))
    page.screenshot(path=ARTIFACTS / "carrier-connections.png")
    page.get_by_role("button", name=f"Delete {name}").click()
    expect(page.get_by_test_id("config-notice")).to_contain_text(f"{name} is deleted")
    expect(page.get_by_role("cell", name=name, exact=True)).to_have_count(0)


def test_an_agent_matches_a_waiting_event_to_its_shipment(page, app_url, app_engine):
    from playwright.sync_api import expect

    container = "TGHU1234567"
    event = equipment_event("GTIN", container, at(-2), place="CNSHA")
    body = json.dumps([event]).encode()
    resp = httpx.post(app_url.rstrip("/") + CALLBACK, content=body, headers={
        "Content-Type": "application/json", "Subscription-ID": DEMO_SUBSCRIPTION_ID,
        "Notification-Signature": sign(DEMO_SECRET, body)})
    assert resp.status_code == 204, resp.text
    with Session(app_engine) as db:
        reference = db.exec(select(Shipment.reference).where(Shipment.status == "in_transit",
                                                             Shipment.mode == "ocean_fcl")).first()
    sign_in(page, "agent@harborsky.example", "/tower/carrier-events")
    page.get_by_role("heading", name="Carrier events to match", level=1).wait_for()
    row = page.get_by_role("row").filter(has_text=container).first
    expect(row).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert axe_violations(page) == []
    row.get_by_role("textbox").fill(reference)
    row.get_by_role("button", name="Match event").click()
    expect(page.get_by_test_id("carrier-events-notice")).to_contain_text(reference)
    expect(page.get_by_role("row").filter(has_text=container)).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "carrier-events-to-match.png")
