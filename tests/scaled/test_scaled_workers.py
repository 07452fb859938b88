"""Two backend workers share every page's state through Redis, so no worker needs to be the page's own.

A page's websocket stays on the worker that accepted it; its next event lands on another worker when that socket
is lost (the worker died, a load balancer sent the reconnect elsewhere) or when the same person works in another
tab. These tests find which worker holds a page's websocket (the worker process that has the page's connection
from nginx open) and make the page's next event land on the other one: by SIGKILLing the page's worker (gunicorn
starts a new one) and by two tabs of one browser on different workers.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.browser_app import DEMO_CUSTOMER, _at, sign_in
from tests.scaled_app import ScaledApp

pytestmark = [pytest.mark.scaled, pytest.mark.browser, pytest.mark.postgres]
MAX_TABS = 12


def held_sockets(scaled_app: ScaledApp, count: int, timeout: float = 60) -> set[tuple[int, int]]:
    """The (worker pid, nginx's port) of the open connections to the workers, once there are ``count`` of them and
    they stay open for a second (a page's websocket, not a request on its way through)."""
    deadline = time.monotonic() + timeout
    last: set[tuple[int, int]] = set()
    while time.monotonic() < deadline:
        now = {(pid, port) for pid, ports in scaled_app.sockets_by_worker().items() for port in ports}
        if len(now) == count and now == last:
            return now
        last = now
        time.sleep(1)
    raise AssertionError(f"expected {count} open page connections on the workers, found {last}")


def new_context(browser, url: str):
    context = browser.new_context(base_url=url, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(30_000)
    return context


def filter_to_one(page) -> str:
    """Filter the shipment list down to its first shipment (a page event whose result is kept in page state)."""
    from playwright.sync_api import expect

    rows = page.get_by_role("table", name="Your shipments").locator("tbody tr")
    expect(rows.first).to_be_visible()
    reference = rows.first.locator("th").inner_text().strip()
    page.get_by_label("Search by any reference").fill(reference)
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_test_id("shipment-count")).to_contain_text("1 shipments match these filters")
    return reference


def test_a_page_keeps_its_state_when_its_worker_dies(scaled_browser, scaled_url, scaled_app: ScaledApp):
    from playwright.sync_api import expect

    scaled_app.wait_for_workers()
    context = new_context(scaled_browser, scaled_url)
    page = context.new_page()
    try:
        sign_in(page, DEMO_CUSTOMER[0], "/portal/shipments")
        reference = filter_to_one(page)
        ((worker, _),) = held_sockets(scaled_app, 1)

        scaled_app.kill_worker(worker)  # the page's state now exists only in Redis
        ((other, _),) = held_sockets(scaled_app, 1)  # the page reconnected, to a worker that never served it
        assert other != worker

        # The next event runs on that worker with the state the dead one left: the filter applied before is still
        # the list's (sorting keeps it), and the person is still signed in.
        page.get_by_role("columnheader", name="Arrival").get_by_role("button").click()
        expect(page).to_have_url(re.compile(r"sort=eta"))
        expect(page).to_have_url(re.compile(rf"q={reference}"))
        expect(page.get_by_test_id("shipment-count")).to_contain_text("1 shipments match these filters")
        rows = page.get_by_role("table", name="Your shipments").locator("tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(reference)
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    finally:
        context.close()
    scaled_app.wait_for_workers()  # gunicorn replaced the dead worker


def test_signing_out_in_one_tab_ends_the_other_tab_on_the_other_worker(scaled_browser, scaled_url,
                                                                        scaled_app: ScaledApp):
    from playwright.sync_api import expect

    scaled_app.wait_for_workers()
    context = new_context(scaled_browser, scaled_url)
    first = context.new_page()
    try:
        sign_in(first, DEMO_CUSTOMER[0], "/portal/shipments")
        ((first_worker, first_port),) = held_sockets(scaled_app, 1)
        # Open the same list in more tabs of the same browser (one sign-in) until one lands on the other worker.
        second = None
        for _ in range(MAX_TABS):
            tab = context.new_page()
            tab.goto("/portal/shipments")
            expect(tab.get_by_role("heading", name="Your shipments")).to_be_visible()
            ((worker, _),) = held_sockets(scaled_app, 2) - {(first_worker, first_port)}
            if worker != first_worker:
                second = tab
                break
            tab.close()
            held_sockets(scaled_app, 1)
        assert second is not None, f"{MAX_TABS} tabs in a row landed on the first tab's worker"

        filter_to_one(second)  # the second tab's worker has just seen the session alive
        first.get_by_role("button", name="Sign out").click()
        first.wait_for_url(_at("/login", query=True))

        # Its very next event, on the other worker, finds the session ended: sign-in, and nothing of the list.
        second.get_by_role("button", name="Clear").click()
        second.wait_for_url(_at("/login", query=True))
        expect(second.get_by_label("Email")).to_be_visible()
        second.goto("/portal/shipments")
        second.wait_for_url(_at("/login", query=True))
    finally:
        context.close()
