"""The database restarted under the running app (PostgreSQL's fast shutdown, then a start, on the private cluster):
during the outage the API answers at once with a 503 in the error shape and a page action shows a banner that says
what failed, that nothing was saved and to try again; once the database is back the app recovers by itself within
10 s, without a restart; writes cut off by the shutdown leave all or nothing."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.faults.fault_world import FaultWorld, WriteBurst, chromium_page, tickets_with_subjects, wait_until

pytestmark = pytest.mark.faults

RECOVERY_SECONDS = 10
ANSWER_SECONDS = 5


def _assert_database_unavailable(resp: httpx.Response, elapsed: float) -> None:
    assert resp.status_code == 503, resp.text
    assert elapsed < ANSWER_SECONDS, f"the answer took {elapsed:.1f} s"
    error = resp.json()["error"]
    assert error["code"] == "database_unavailable" and error["saved"] is False, error
    assert "nothing was saved" in error["message"] and "Try again" in error["message"], error
    assert "Traceback" not in resp.text and "psycopg" not in resp.text and "sqlalchemy" not in resp.text
    assert int(resp.headers["Retry-After"]) > 0


def _timed(call) -> tuple[httpx.Response, float]:
    start = time.monotonic()
    resp = call()
    return resp, time.monotonic() - start


def test_the_api_answers_503_during_a_database_restart_and_recovers_by_itself(fault_world: FaultWorld):
    client = fault_world.customer()
    assert client.get("/api/v1/requests").status_code == 200
    burst = WriteBurst(fault_world.url, client.cookies).start()
    burst.wait_for(acknowledged=10)
    fault_world.postgres.stop()  # cuts the connections of the writes in flight
    try:
        for call in (lambda: client.get("/api/v1/requests"),
                     lambda: client.post("/api/v1/requests", json={"category": "other", "subject": "In the outage",
                                                                   "body": "Is this saved?"}),
                     lambda: client.get("/api/auth/me")):
            _assert_database_unavailable(*_timed(call))
    finally:
        burst.finish()
        fault_world.postgres.start()

    # Back by itself: no restart of the app, within 10 s, and then on every worker (each answers some of these).
    wait_until(lambda: client.get("/api/v1/requests").status_code == 200, timeout=RECOVERY_SECONDS)
    answers = [client.get("/api/v1/requests", params={"page_size": 1}).status_code for _ in range(20)]
    assert answers == [200] * 20, answers

    stored = tickets_with_subjects(fault_world.engine, f"Fault burst {burst.tag} ")
    missing = [subject for subject in burst.acknowledged if subject not in stored]
    assert not missing, missing
    assert all(messages == 1 for messages in stored.values()), stored  # no request without its first message
    # An answer says whether the write was saved, and is right: a write that had committed before the database
    # went (it failed reading its answer back) says so; every other refused one is not there.
    refused = {subject for subject, why in burst.failed if why.startswith("503")} - set(burst.saved_anyway)
    assert refused, "no write was refused during the outage"
    assert not refused & set(stored), "a write answered 503 with saved: false was saved"
    assert set(burst.saved_anyway) <= set(stored), "a write answered saved: true is not there"
    assert not any(why.startswith("500") for _, why in burst.failed), burst.failed[:5]
    client.close()


def test_a_page_action_during_a_database_restart_says_nothing_was_saved_and_works_again(fault_world: FaultWorld):
    from playwright.sync_api import expect

    with chromium_page(fault_world.url) as page:
        page.goto("/help")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        search = page.get_by_label("Search the help centre")
        search.fill("container")
        page.get_by_role("button", name="Search", exact=True).click()
        banner = page.get_by_test_id("problem-banner")
        expect(banner).to_have_count(0)

        fault_world.postgres.stop()
        try:
            started = time.monotonic()
            search.fill("invoice")
            page.get_by_role("button", name="Search", exact=True).click()
            expect(banner).to_be_visible(timeout=ANSWER_SECONDS * 1000)
            assert time.monotonic() - started < ANSWER_SECONDS
            expect(banner).to_have_attribute("role", "alert")
            expect(banner).to_contain_text("The database is not answering")
            expect(banner).to_contain_text("was not saved")
            expect(banner).to_contain_text("Try again")
            assert re.fullmatch(r"[0-9A-F]{8}", page.get_by_test_id("error-id").inner_text().strip())
        finally:
            fault_world.postgres.start()
        back = time.monotonic()

        # The same action works again once the database is back, without reloading the page or restarting the app.
        banner.get_by_role("button", name="Dismiss").click()
        expect(banner).to_have_count(0)

        def search_works() -> bool:
            page.get_by_role("button", name="Search", exact=True).click()
            page.wait_for_timeout(700)
            if banner.count():
                banner.get_by_role("button", name="Dismiss").click()
                return False
            return page.get_by_role("heading", name=re.compile("Results for .invoice")).count() == 1

        wait_until(search_works, timeout=RECOVERY_SECONDS)
        assert time.monotonic() - back < RECOVERY_SECONDS + 2
