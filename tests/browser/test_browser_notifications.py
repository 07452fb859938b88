"""End to end in Chromium: a customer follows a shipment, ops moves its ETA, and the customer sees the unread count
in the header, opens the notification centre, follows the link to the record and marks the notice read."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.browser_app import ARTIFACTS, DEMO_CUSTOMER, _at

pytestmark = pytest.mark.browser

AGENT = "agent@harborsky.example"


def _client(app_url: str, email: str) -> httpx.Client:
    # Signed in with the cookie, it sends the portal's Origin as the portal's own pages do (cookie requests that
    # change something need it; see portal_app/edge/origins.py).
    client = httpx.Client(base_url=app_url, timeout=30, headers={"Origin": app_url})
    resp = client.post("/api/auth/login", json={"email": email, "password": DEMO_CUSTOMER[1]})
    assert resp.status_code == 200, resp.text
    return client


def _move_eta(app_url: str, reference: str) -> None:
    agent = _client(app_url, AGENT)
    body = {"expected_version": 0, "reason_code": "WEATHER", "reason_text": "Storm in the Bay of Biscay",
            "new_eta": (datetime.now(UTC) + timedelta(days=45)).replace(microsecond=0).isoformat()}
    stale = agent.post(f"/api/v1/tower/shipments/{reference}/eta", json=body)
    assert stale.status_code == 409, stale.text
    body["expected_version"] = stale.json()["error"]["current_version"]
    done = agent.post(f"/api/v1/tower/shipments/{reference}/eta", json=body)
    assert done.status_code == 200, done.text


def _without_eta_notices(client: httpx.Client) -> str:
    """One of the caller's shipments in transit with no "New ETA" notice yet (other tests move ETAs on the same
    app), so the notice this test causes is the only one with its title."""
    titles: set[str] = set()
    for number in itertools.count(1):
        got = client.get("/api/v1/notifications", params={"page": number, "page_size": 100}).json()
        titles |= {n["title"] for n in got["items"]}
        if number * 100 >= got["total"]:
            break
    moving = client.get("/api/v1/shipments?status=in_transit&page_size=50").json()["items"]
    return next(s["reference"] for s in moving if f"New ETA for {s['reference']}" not in titles)


def test_customer_sees_the_unread_count_opens_the_centre_and_marks_read(page, app_url):
    from playwright.sync_api import expect

    alice = _client(app_url, DEMO_CUSTOMER[0])
    reference = _without_eta_notices(alice)
    assert alice.put(f"/api/v1/shipments/{reference}/follow").json()["following"] is True
    _move_eta(app_url, reference)
    unread = alice.get("/api/v1/notifications").json()["unread"]
    assert unread >= 1

    page.goto("/login")
    page.get_by_label("Email").fill(DEMO_CUSTOMER[0])
    page.get_by_label("Password").fill(DEMO_CUSTOMER[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(_at("/portal"))
    header = page.get_by_role("banner")
    link = header.get_by_role("link", name=f"Notifications {unread} unread")
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url(_at("/portal/notifications"))
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Your notifications")
    title = f"New ETA for {reference}"
    row = table.get_by_role("row").filter(has_text=title)
    expect(row).to_contain_text("Storm in the Bay of Biscay")
    expect(row.get_by_text("Unread")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "portal-notifications.png", full_page=True)

    row.get_by_role("button", name=f"Mark read: {title}").click()
    expect(page.get_by_role("status").filter(has_text="Marked as read")).to_be_visible()
    expect(row.get_by_text("Unread")).to_have_count(0)
    if unread == 1:
        expect(header.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    else:
        expect(header.get_by_role("link", name=f"Notifications {unread - 1} unread")).to_be_visible()
    assert alice.get("/api/v1/notifications").json()["unread"] == unread - 1

    # Each notice links to its record.
    row.get_by_role("link", name=title).click()
    page.wait_for_url(_at(f"/portal/shipments/{reference}"))
    expect(page.get_by_role("heading", name=f"Shipment {reference}")).to_be_visible()
