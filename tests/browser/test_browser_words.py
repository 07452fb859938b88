"""Words, not codes: on every main page, as a customer and as an ops agent, the text a person reads holds no enum
names (PORT_CONGESTION), stored codes (in_transit, packing_list), field paths (steps.2.name), JSON, unfilled
placeholders ({eta}) or programming blanks (None, nan, undefined); and the agent's menu offers only what an agent
may open."""

from __future__ import annotations

import re

import pytest

from tests.browser_app import DEMO_CUSTOMER, _at

pytestmark = pytest.mark.browser

CODES = {
    "enum name": re.compile(r"\b[A-Z]{2,}(?:_[A-Z0-9]+)+\b"),
    "stored code": re.compile(r"(?<![\w@./-])[a-z]+(?:_[a-z0-9]+)+(?![\w@./-])"),
    "field path": re.compile(r"\b[a-z_]+\.\d+\.[a-z_]+\b"),
    "JSON": re.compile(r"[{\[]\s*\""),
    "placeholder": re.compile(r"\{[a-z_]+\}"),
    "blank value": re.compile(r"\b(?:None|nan|NaN|undefined|null)\b"),
}
PORTAL = ["/portal", "/portal/shipments", "/portal/documents", "/portal/documents?status=missing", "/portal/invoices",
          "/portal/statement", "/portal/quotes", "/portal/requests", "/portal/notifications", "/portal/account",
          "/help"]
TOWER = ["/tower", "/tower/shipments", "/tower/exceptions", "/tower/tasks", "/tower/requests", "/tower/workload",
         "/tower/bookings", "/tower/changes", "/tower/quotes", "/tower/rates", "/tower/notifications",
         "/tower/help", "/tower/account"]


def _sign_in(pg, email: str) -> None:
    pg.goto("/login")
    pg.get_by_label("Email").fill(email)
    pg.get_by_label("Password").fill(DEMO_CUSTOMER[1])
    pg.get_by_role("button", name="Sign in").click()
    pg.wait_for_url(_at("/tower" if "harborsky" in email else "/portal"))


def _codes_on(pg, path: str) -> dict[str, list[str]]:
    pg.goto(path)
    main = pg.get_by_role("main")
    main.get_by_role("heading", level=1).first.wait_for()
    pg.wait_for_load_state("networkidle")
    text = main.inner_text()
    found = {name: sorted({m.group(0) for m in pattern.finditer(text)}) for name, pattern in CODES.items()}
    return {name: hits for name, hits in found.items() if hits}


def _walk(pg, paths: list[str]) -> dict[str, dict[str, list[str]]]:
    found = {path: _codes_on(pg, path) for path in paths}
    return {path: hits for path, hits in found.items() if hits}


def test_a_customer_reads_words_on_every_page(page):
    _sign_in(page, DEMO_CUSTOMER[0])
    shipment = page.request.get("/api/v1/shipments?page_size=1").json()["items"][0]["reference"]
    invoice = page.request.get("/api/v1/invoices?page_size=1").json()["items"][0]["number"]
    request = page.request.get("/api/v1/requests?status=all&page_size=1").json()["items"][0]["reference"]
    paths = [*PORTAL, f"/portal/shipments/{shipment}", f"/portal/invoices/{invoice}", f"/portal/requests/{request}"]
    assert _walk(page, paths) == {}


def test_an_agent_reads_words_and_sees_only_the_menu_entries_they_may_open(page):
    _sign_in(page, "agent@harborsky.example")
    menu = page.get_by_role("navigation", name="Ops tower navigation")
    menu.get_by_role("link", name="Exceptions").wait_for()
    assert menu.get_by_role("link", name="KPIs").count() == 0
    assert menu.get_by_role("link", name="Configuration").count() == 0
    shipment = page.request.get("/api/v1/shipments?page_size=1").json()["items"][0]["reference"]
    request = page.request.get("/api/v1/requests?page_size=1").json()["items"][0]["reference"]
    exception = page.request.get("/api/v1/exceptions?page_size=1").json()["items"][0]["id"]
    paths = [*TOWER, f"/tower/shipments/{shipment}", f"/tower/requests/{request}", f"/tower/exceptions/{exception}"]
    assert _walk(page, paths) == {}
