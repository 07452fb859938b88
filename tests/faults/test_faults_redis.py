"""Redis restarted under the running app (stopped, then started empty, as a Redis without persistence comes back):
the API never answers 500 (nothing in it needs Redis), an open page works again and shows its data without a
reload, and whoever was signed in stays signed in (sessions live in the database, not in Redis)."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.browser_app import DEMO_CUSTOMER, sign_in
from tests.faults.fault_world import FaultWorld, wait_until

pytestmark = pytest.mark.faults


def _api_answers(client, subject: str) -> list[int]:
    return [
        client.get("/api/v1/requests", params={"q": subject}).status_code,
        client.get("/api/auth/me").status_code,
        client.post("/api/v1/requests", json={"category": "other", "subject": f"{subject} more",
                                              "body": "Sent while Redis restarts."}).status_code,
    ]


def test_open_pages_and_sign_ins_survive_a_redis_restart(fault_world: FaultWorld):
    from playwright.sync_api import expect

    from tests.faults.fault_world import chromium_page

    client = fault_world.customer()
    subject = f"Redis restart {uuid.uuid4().hex[:8]}"
    assert client.post("/api/v1/requests", json={"category": "other", "subject": subject,
                                                 "body": "Before the restart."}).status_code == 201

    with chromium_page(fault_world.url) as page:
        sign_in(page, DEMO_CUSTOMER[0], "/portal/requests")
        expect(page.get_by_role("heading", name="Requests", level=1)).to_be_visible()
        row = page.get_by_role("cell", name=subject, exact=True)
        expect(row).to_be_visible()

        fault_world.redis.stop()
        try:
            assert _api_answers(client, subject) == [200, 200, 201]
        finally:
            fault_world.redis.start()
        assert _api_answers(client, subject) == [200, 200, 201]

        # The open page (not reloaded) works again: an action on it answers with the company's rows.
        form = page.get_by_role("form", name="Filter requests")
        form.get_by_label("Reference, subject or shipment").fill(subject)
        banner = page.get_by_test_id("problem-banner")

        def shows_the_rows() -> bool:
            form.get_by_role("button", name="Show requests").click()
            page.wait_for_timeout(700)
            if banner.count():
                banner.get_by_role("button", name="Dismiss").click()
                return False
            return row.count() == 1

        wait_until(shows_the_rows, timeout=20)
        expect(page.get_by_role("status").filter(has_text="requests")).to_have_text(re.compile(r"^[1-9]\d* requests"))

        # Still signed in: a reload stays on the page (no sign-in page) and loads the data again.
        page.reload()
        page.wait_for_load_state()
        expect(page.get_by_role("heading", name="Requests", level=1)).to_be_visible()
        assert "/login" not in page.url
        expect(page.get_by_role("cell", name=subject, exact=True)).to_be_visible()
    client.close()
