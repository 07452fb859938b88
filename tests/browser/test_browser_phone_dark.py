"""On a phone and in the dark: a short header whose navigation opens from one Menu button (keyboard too), list rows
as labelled cards with no sideways scrolling, and a dark theme that follows the system setting with readable
contrast everywhere, while print stays black on white."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from bench.frontend import axe_violations
from tests.browser_app import ARTIFACTS, DEMO_CUSTOMER, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 412, "height": 915}
DESKTOP = {"width": 1366, "height": 900}
AGENT = "agent@harborsky.example"

# The colour actually behind the main content: the first ancestor of <main> (itself included) with a background.
BACKGROUND_BEHIND_MAIN = """() => {
    for (let e = document.querySelector('main'); e; e = e.parentElement) {
        const c = getComputedStyle(e).backgroundColor;
        if (c && c !== 'transparent' && !c.endsWith(', 0)')) return c;
    }
    return getComputedStyle(document.documentElement).backgroundColor;
}"""


def _luminance(css_colour: str) -> float:
    """Relative luminance (WCAG) of an ``rgb()``/``rgba()`` colour: 0 black, 1 white."""
    r, g, b = (int(float(v)) / 255 for v in css_colour[css_colour.index("(") + 1:-1].split(",")[:3])

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def _open(pg, path: str) -> None:
    pg.goto(path)
    pg.get_by_role("main").get_by_role("heading", level=1).first.wait_for()
    pg.wait_for_load_state("networkidle")


def _context(page, app_url: str, *, viewport: dict, color_scheme: str):
    """Another browser window on the same app (its own cookies), in the given size and colour scheme."""
    return page.context.browser.new_context(base_url=app_url, viewport=viewport, color_scheme=color_scheme)


def _check_menu(pg, first_link: str) -> None:
    """The header is short with the menu closed; the Menu button opens the navigation by keyboard, Tab reaches its
    first link with a visible focus ring, and Escape closes it again with the focus back on the button."""
    header = pg.locator("header").first
    height = header.bounding_box()["height"]
    assert height < 0.25 * PHONE["height"], f"the header takes {height}px of {PHONE['height']}"
    menu = pg.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    panel = pg.locator(f"#{menu.get_attribute('aria-controls')}")
    expect(panel).to_have_count(1)
    nav = pg.get_by_role("navigation")
    expect(nav).to_be_hidden()
    menu.focus()
    pg.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    pg.screenshot(path=str(ARTIFACTS / f"phone-menu-open-{first_link.lower()}.png"))
    pg.keyboard.press("Tab")
    focused = pg.evaluate("document.activeElement.textContent")
    assert focused == first_link, focused
    ring = pg.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert ring not in ("none", ""), "the focused link shows no focus ring"
    for link in nav.get_by_role("link").all():
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], link.inner_text()
    pg.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    assert pg.evaluate("document.activeElement.textContent") == "Menu"
    menu.click()
    expect(nav).to_be_visible()
    menu.click()
    expect(nav).to_be_hidden()


def test_on_a_phone_the_menu_folds_and_the_list_rows_are_cards(page, app_url):
    page.set_viewport_size(PHONE)
    sign_in(page, DEMO_CUSTOMER[0], "/portal/shipments")
    _open(page, "/portal/shipments")
    _check_menu(page, "Home")
    page.screenshot(path=str(ARTIFACTS / "phone-light-shipments.png"), full_page=True)

    scroll = page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll <= PHONE["width"], f"the shipment list scrolls sideways: {scroll}px"
    row = page.locator("main tbody tr").first
    assert row.evaluate("r => getComputedStyle(r).display") not in ("table-row", "none")
    box = row.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    labels = row.locator("td").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)")
    assert any("Status" in label for label in labels), labels
    assert any("Arrival" in label for label in labels), labels

    with_tower = _context(page, app_url, viewport=PHONE, color_scheme="light")
    tower = with_tower.new_page()
    sign_in(tower, AGENT, "/tower/shipments")
    _open(tower, "/tower/shipments")
    _check_menu(tower, "Overview")
    scroll = tower.evaluate("document.scrollingElement.scrollWidth")
    assert scroll <= PHONE["width"], f"the board scrolls sideways: {scroll}px"
    with_tower.close()


def test_the_dark_theme_follows_the_system_and_keeps_its_contrast(page, app_url):
    dark = _context(page, app_url, viewport=DESKTOP, color_scheme="dark")
    pg = dark.new_page()
    sign_in(pg, DEMO_CUSTOMER[0], "/portal")
    reference = pg.request.get("/api/v1/shipments?page_size=1").json()["items"][0]["reference"]
    portal_pages = ["/portal", "/portal/shipments", f"/portal/shipments/{reference}"]
    found = {}
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        pg.set_viewport_size(viewport)
        for path in portal_pages:
            _open(pg, path)
            background = pg.evaluate(BACKGROUND_BEHIND_MAIN)
            assert _luminance(background) < 0.05, f"{path} ({size}) is not dark: {background}"
            found[f"{path} ({size})"] = axe_violations(pg)
    pg.screenshot(path=str(ARTIFACTS / "phone-dark-shipment.png"), full_page=True)
    pg.set_viewport_size(DESKTOP)
    _open(pg, "/portal/shipments")
    pg.screenshot(path=str(ARTIFACTS / "desktop-dark-shipments.png"), full_page=True)

    # Print stays black on white whatever the screen's scheme.
    _open(pg, f"/portal/shipments/{reference}")
    pg.emulate_media(media="print", color_scheme="dark")
    assert _luminance(pg.evaluate(BACKGROUND_BEHIND_MAIN)) > 0.9
    heading = pg.get_by_role("main").get_by_role("heading", level=1)
    assert _luminance(heading.evaluate("h => getComputedStyle(h).color")) < 0.05
    cell = pg.get_by_role("main").locator("td").first
    assert _luminance(cell.evaluate("c => getComputedStyle(c).color")) < 0.2
    dark.close()

    tower_dark = _context(page, app_url, viewport=DESKTOP, color_scheme="dark")
    tower = tower_dark.new_page()
    sign_in(tower, AGENT, "/tower/shipments")
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        tower.set_viewport_size(viewport)
        _open(tower, "/tower/shipments")
        assert _luminance(tower.evaluate(BACKGROUND_BEHIND_MAIN)) < 0.05, size
        found[f"/tower/shipments ({size})"] = axe_violations(tower)
    tower.screenshot(path=str(ARTIFACTS / "phone-dark-board.png"), full_page=True)
    tower_dark.close()
    failing = {p: v for p, v in found.items() if v}
    assert not failing, failing
