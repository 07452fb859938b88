"""End to end in Chromium: a column header's button sorts a list; the header says its order (``aria-sort``), the rows
follow, the address carries the sort, and a reload keeps it. A customer's invoices and the tower's exception queue
(demo data no test changes)."""

from __future__ import annotations

import re

import pytest

from tests.browser_app import ARTIFACTS, DEMO_CUSTOMER, sign_in

pytestmark = pytest.mark.browser

AGENT = "agent@harborsky.example"


def _sorts(page, table_name: str, header: str, key: str, value) -> None:
    """Click ``header``'s button twice (ascending, then descending), then reload; each time the header's
    ``aria-sort``, the order of the rows' first cells (``value`` makes them comparable) and the address agree.
    The rows and the sort arrive in one update, so once the header says its order the rows are in it."""
    from playwright.sync_api import expect

    table = page.get_by_role("table", name=table_name)
    cell = table.get_by_role("columnheader", name=header)
    button = cell.get_by_role("button", name=f"Sort by {header.lower()}")
    expect(table.locator("tbody tr").first).to_be_visible()
    expect(cell).to_have_attribute("aria-sort", re.compile("none|ascending|descending"))

    def shown() -> list:
        return [value(t) for t in table.locator("tbody tr th").all_inner_texts()]

    button.click()
    expect(cell).to_have_attribute("aria-sort", "ascending")
    page.wait_for_url(re.compile(rf"[?&]sort={key}(&|$)"))
    rising = shown()
    assert len(rising) > 1 and rising == sorted(rising)

    button.click()
    expect(cell).to_have_attribute("aria-sort", "descending")
    page.wait_for_url(re.compile(rf"[?&]sort=-{key}(&|$)"))
    falling = shown()
    assert falling == sorted(falling, reverse=True) and falling[0] >= rising[-1]

    page.reload()
    table = page.get_by_role("table", name=table_name)
    cell = table.get_by_role("columnheader", name=header)
    expect(cell).to_have_attribute("aria-sort", "descending")
    expect(table.locator("tbody tr th").first).to_be_visible()
    assert shown() == falling
    assert re.search(rf"[?&]sort=-{key}(&|$)", page.url)


def test_customer_sorts_invoices_by_number_and_a_reload_keeps_it(page):
    from playwright.sync_api import expect

    sign_in(page, DEMO_CUSTOMER[0], "/portal/invoices")
    expect(page.get_by_role("heading", name="Your invoices", level=1)).to_be_visible()
    _sorts(page, "Your invoices", "Invoice", "number", str.strip)
    page.screenshot(path=ARTIFACTS / "portal-invoices-sorted.png", full_page=True)


def test_agent_sorts_the_exception_queue_and_a_reload_keeps_it(page):
    from playwright.sync_api import expect

    sign_in(page, AGENT, "/tower/exceptions")
    expect(page.get_by_role("heading", name="Exceptions", level=1)).to_be_visible()
    # The row header reads "#12" then the title: the number orders the rows.
    _sorts(page, "Exceptions", "Exception", "id", lambda text: int(re.match(r"#(\d+)", text.strip()).group(1)))
    page.screenshot(path=ARTIFACTS / "tower-exceptions-sorted.png", full_page=True)


def test_agent_sorts_the_board_by_reference_and_a_reload_keeps_it(page):
    from playwright.sync_api import expect

    sign_in(page, AGENT, "/tower/shipments")
    expect(page.get_by_role("heading", name="Shipments board", level=1)).to_be_visible()
    _sorts(page, "Shipments board", "Reference", "reference", str.strip)
