"""End to end in Debian's Chromium: a customer admin creates an API key on the account page, reads it once, uses
it from a program, revokes it, and the program is refused from then on."""

from __future__ import annotations

import uuid

import httpx
import pytest

from bench.frontend import axe_violations
from tests.browser_app import ARTIFACTS, sign_in

pytestmark = pytest.mark.browser

ALICE = "alice@acme.example"


def test_customer_admin_creates_uses_and_revokes_an_api_key(page, app_url):
    from playwright.sync_api import expect

    sign_in(page, ALICE, "/portal/account")
    panel = page.get_by_role("region", name="API keys")
    expect(panel.get_by_role("heading", name="API keys", level=2)).to_be_visible()

    name = f"ERP {uuid.uuid4().hex[:6]}"
    form = panel.get_by_role("form", name="Create a key")
    form.get_by_label("Name", exact=True).fill("x")
    form.get_by_label("Access").select_option("read")
    form.get_by_label("Expires after (days)").fill("30")
    form.get_by_role("button", name="Create key").click()
    expect(panel.get_by_role("alert")).to_contain_text("Name: use 2 to 80 characters")
    expect(panel.get_by_role("alert")).to_contain_text("Nothing was saved")

    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_role("button", name="Create key").click()
    expect(panel.get_by_role("status").filter(has_text="is created")).to_be_visible()
    shown = page.get_by_test_id("new-api-key")
    expect(shown).to_be_visible()
    expect(shown).not_to_have_value("")
    key = shown.input_value().strip()
    assert key.startswith("pk_")
    table = panel.get_by_role("table", name="API keys")
    row = table.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text(key[:12])
    expect(row).to_contain_text("Read only")
    expect(row).to_contain_text("Never")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    panel.get_by_role("button", name="Copy key").click()
    assert page.evaluate("navigator.clipboard.readText()") == key
    page.screenshot(path=ARTIFACTS / "portal-api-keys.png", full_page=True)

    # A program uses it: it reads, and may not change anything (a read key).
    program = httpx.Client(base_url=app_url, headers={"Authorization": f"Bearer {key}"})
    assert program.get("/api/v1/shipments", params={"page_size": 1}).status_code == 200
    refused = program.patch("/api/v1/account/profile", json={"phone": "+44 20 7946 0000"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "api_key_read_only"

    # Shown once: after a reload the key is gone from the page; the list shows its last use.
    page.reload()
    expect(page.get_by_test_id("new-api-key")).to_be_hidden()
    expect(page.get_by_test_id("new-api-key")).to_have_value("")
    row = page.get_by_role("table", name="API keys").get_by_role("row").filter(has_text=name)
    expect(row).not_to_contain_text("Never")

    # Revoked (after a second click), it stops working at once.
    row.get_by_role("button", name=f"Revoke {name}").click()
    row.get_by_role("button", name=f"Yes, revoke {name}").click()
    expect(page.get_by_role("status").filter(has_text="is revoked")).to_be_visible()
    expect(row).to_contain_text("Revoked")
    gone = program.get("/api/v1/shipments", params={"page_size": 1})
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "api_key_revoked"
    program.close()


def test_an_administrator_sees_every_key_on_the_tower_account_page(page, app_url):
    from playwright.sync_api import expect

    sign_in(page, "admin@harborsky.example", "/tower/account")
    panel = page.get_by_role("region", name="API keys")
    name = f"BI {uuid.uuid4().hex[:6]}"
    form = panel.get_by_role("form", name="Create a key")
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("Access").select_option("read_write")
    form.get_by_role("button", name="Create key").click()
    expect(panel.get_by_role("status").filter(has_text="is created")).to_be_visible()
    key = page.get_by_test_id("new-api-key").input_value().strip()
    row = panel.get_by_role("table", name="API keys").get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("Ada Admin (Harbor & Sky Logistics)")
    expect(row).to_contain_text("Read and write")
    assert axe_violations(page) == []
    page.screenshot(path=ARTIFACTS / "tower-api-keys.png", full_page=True)
    me = httpx.get(f"{app_url}/api/auth/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200 and me.json()["email"] == "admin@harborsky.example"
