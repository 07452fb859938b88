"""End to end in Debian's Chromium against the app started exactly as `make run` starts it.

A demo customer signs in, sees only its company's shipments, is refused the tower, and signing out ends access.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.browser_app import ARTIFACTS, DEMO_CUSTOMER, _at

pytestmark = pytest.mark.browser


def test_customer_signs_in_sees_own_shipments_is_refused_the_tower_and_signs_out(page, app_url):
    from playwright.sync_api import expect

    # Not signed in: sent to sign-in, then back where they were going.
    page.goto("/portal/shipments")
    page.wait_for_url(_at("/login", query=True))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    page.get_by_label("Email").fill(DEMO_CUSTOMER[0])
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    page.screenshot(path=ARTIFACTS / "login-failed.png")

    page.get_by_label("Password").fill(DEMO_CUSTOMER[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(_at("/portal/shipments"))
    expect(page.get_by_role("heading", name="Your shipments")).to_be_visible()
    expect(page.get_by_role("main")).to_be_visible()
    rows = page.get_by_role("table", name="Your shipments").locator("tbody tr")
    expect(rows.first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "portal-shipments.png", full_page=True)

    # Everything on the page belongs to Acme: compare with the API as this same signed-in browser.
    api = page.request.get("/api/v1/shipments?page_size=200").json()
    assert api["total"] > 0 and {i["company_name"] for i in api["items"]} == {"Acme Home Goods Ltd"}
    shown = rows.locator("th").all_inner_texts()
    assert shown and set(shown) <= {i["reference"] for i in api["items"]}
    everyone = page.request.get(f"/api/v1/shipments?page_size=1&q={shown[0]}").json()
    assert everyone["total"] == 1

    # Search by a container or PO shown in the detail finds the shipment.
    rows.first.locator("a").click()
    page.wait_for_url(_at(f"/portal/shipments/{shown[0]}"))
    expect(page.get_by_role("heading", name=f"Shipment {shown[0]}")).to_be_visible()
    expect(page.get_by_role("table", name="Milestones")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "portal-shipment-detail.png", full_page=True)

    # Home shows the company's figures.
    page.goto("/portal")
    expect(page.get_by_role("heading", name="Welcome, Alice Archer")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "portal-home.png", full_page=True)

    # The tower refuses a customer with a clear page.
    page.goto("/tower")
    expect(page.get_by_test_id("access-denied")).to_be_visible()
    expect(page.get_by_role("heading", name="You do not have access to this page")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "tower-refused.png")
    page.goto("/tower/shipments")
    expect(page.get_by_test_id("access-denied")).to_be_visible()
    expect(page.get_by_text("Nordwind")).to_have_count(0)

    # Signing out ends access, in the page and for the old cookie.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    page.goto("/portal")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(_at("/login", query=True))
    expect(page.get_by_role("status")).to_contain_text("signed out")
    page.goto("/portal/shipments")
    page.wait_for_url(_at("/login", query=True))
    replay = httpx.get(f"{app_url}/api/v1/shipments", cookies=cookies)
    assert replay.status_code == 401


def test_staff_signs_in_to_the_tower(page):
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Email").fill("agent@harborsky.example")
    page.get_by_label("Password").fill("demo-Pass-2026")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(_at("/tower"))
    expect(page.get_by_role("heading", name="Operations overview")).to_be_visible()
    page.goto("/")
    page.wait_for_url(_at("/tower"))
    page.goto("/tower/shipments")
    expect(page.get_by_role("table", name="Shipments board").locator("tbody tr").first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "tower-shipments.png", full_page=True)


def test_unknown_page_shows_not_found(page):
    from playwright.sync_api import expect

    page.goto("/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()


def test_customer_changes_password_from_the_portal(page):
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Email").fill("bob@acme.example")
    page.get_by_label("Password").fill("demo-Pass-2026")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(_at("/portal"))
    page.get_by_role("link", name="Change password").click()
    page.wait_for_url(_at("/portal/password"))
    page.get_by_label("Current password").fill("wrong-one-123")
    page.get_by_label("New password", exact=True).fill("Brand-new-pass-42")
    page.get_by_label("Repeat the new password").fill("Brand-new-pass-42")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_contain_text("was not changed")
    page.get_by_label("Current password").fill("demo-Pass-2026")
    page.get_by_label("New password", exact=True).fill("Brand-new-pass-42")
    page.get_by_label("Repeat the new password").fill("Brand-new-pass-42")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status").filter(has_text="changed and saved")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(_at("/login", query=True))
    page.get_by_label("Email").fill("bob@acme.example")
    page.get_by_label("Password").fill("Brand-new-pass-42")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(_at("/portal"))


def test_customer_finds_a_shipment_by_container_number(page, app_url):
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Email").fill(DEMO_CUSTOMER[0])
    page.get_by_label("Password").fill(DEMO_CUSTOMER[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(_at("/portal"))
    # A shipment whose container no other shipment of the company carries (other tests import shipments that share
    # containers with each other into this app's database).
    fcl, container = [], ""
    for item in page.request.get("/api/v1/shipments?mode=ocean_fcl&page_size=20").json()["items"]:
        numbers = [c["number"] for c in page.request.get(f"/api/v1/shipments/{item['reference']}").json()["containers"]]
        if numbers and page.request.get(f"/api/v1/shipments?q={numbers[0]}").json()["total"] == 1:
            fcl, container = [item], numbers[0]
            break
    assert container, "no FCL shipment of the demo customer has a container of its own"

    page.goto("/portal/shipments")
    page.get_by_label("Search by any reference").fill(f"{container[:4]} {container[4:]}".lower())
    page.get_by_role("button", name="Apply filters").click()
    rows = page.get_by_role("table", name="Your shipments").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(fcl[0]["reference"])
    expect(page.get_by_test_id("shipment-count")).to_contain_text("1 shipments match these filters")

    # The timeline shows planned, estimated and actual times for each milestone.
    rows.first.locator("a").click()
    timeline = page.get_by_role("table", name="Milestones")
    expect(timeline.get_by_role("columnheader", name="Planned")).to_be_visible()
    expect(timeline.locator("tbody tr").first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "portal-search-container.png", full_page=True)


def test_a_page_with_a_reference_in_its_address_shows_text_before_its_code_has_loaded(app_url):
    """Such pages cannot be rendered ahead of time: the one HTML page the server answers for all of them paints a
    loading line in a main landmark at once, instead of a blank screen until every script has run."""
    html = httpx.get(f"{app_url}/portal/shipments/SH0000001/").text
    main = re.search(r"<main[^>]*>(.*?)</main>", html, re.S)
    assert main and 'id="main"' in main.group(0)
    assert re.search(r'role="status"[^>]*>Loading the page…<', main.group(1))


def test_a_failure_can_be_handed_to_a_person_with_its_context(page):
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Email").fill("omar@nordwind.example")  # bob changes his password in another test
    page.get_by_label("Password").fill("demo-Pass-2026")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(_at("/portal"))
    page.goto("/portal/shipments/SH9999999")
    expect(page.get_by_role("alert")).to_contain_text("No shipment")
    page.get_by_label("Anything to add? (optional)").fill("Our supplier gave us this reference.")
    page.get_by_role("button", name="Send to our team").click()
    expect(page.get_by_role("status").filter(has_text="Sent to our team as request REQ-")).to_be_visible()


def test_list_events_over_the_websocket_answer_only_for_the_signed_in_company(app_url):
    """The load client speaks the page's event protocol; what an event may see comes from the session cookie."""
    import asyncio

    from bench.event_client import EventClient, sign_in, state_delta
    from bench.load_events import LIST_PATH, list_substate

    def first_reference(email: str) -> str:
        cookie = sign_in(app_url, email, DEMO_CUSTOMER[1])
        resp = httpx.get(f"{app_url}/api/v1/shipments?page_size=1", cookies={"portal_session": cookie})
        return resp.json()["items"][0]["reference"]

    own, foreign = first_reference(DEMO_CUSTOMER[0]), first_reference("nina@nordwind.example")
    substate = list_substate()

    async def search(cookie: str, form: dict) -> tuple[dict, list[dict]]:
        client = EventClient(app_url, cookie, LIST_PATH)
        await client.connect()
        try:
            _, update = await client.send(substate, "apply_filters", {"form": form})
            return state_delta(update, substate), update.get("events") or []
        finally:
            await client.close()

    alice = sign_in(app_url, *DEMO_CUSTOMER)
    delta, _ = asyncio.run(search(alice, {"q": own}))
    assert delta["total_rx_state_"] == 1 and delta["rows_rx_state_"][0]["reference"] == own
    # Another company's reference, and a company id smuggled into the form, change nothing.
    delta, _ = asyncio.run(search(alice, {"q": foreign, "company_id": "1"}))
    assert delta["total_rx_state_"] == 0 and delta["rows_rx_state_"] == []
    # A socket without a valid session gets no rows and is sent to sign in.
    delta, events = asyncio.run(search("not-a-session", {"q": own}))
    assert not delta.get("rows_rx_state_")
    assert any(e["name"] == "_redirect" and e["payload"]["path"].startswith("/login") for e in events)


def test_pages_load_the_trimmed_stylesheet(app_url):
    """The build's post-step (portal_app/stylesheet_trim.py) replaced Radix's full stylesheet in every page."""
    html = httpx.get(f"{app_url}/login/").text
    hrefs = re.findall(r'href="(/assets/__reflex_global_styles-[^"]+\.css)"', html)
    assert hrefs and all("-trim" in h for h in hrefs), hrefs
    css = httpx.get(f"{app_url}{hrefs[0]}", headers={"Accept-Encoding": "gzip"})
    assert css.status_code == 200
    assert ".rt-Button" in css.text and ".rt-AvatarRoot" not in css.text
    # The dark theme is there for screens only: print always gets the light colours.
    assert re.search(r"@media not print\s*\{\s*\.dark,\s*\.dark-theme\s*\{", css.text)
    assert len(css.text) < 300_000, "the full Radix stylesheet is about 630 KB"
