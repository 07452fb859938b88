"""In Debian's Chromium: when a page action fails unexpectedly the person sees the product's banner with an error id,
never a browser dialog, and the app's log has the traceback under the same id; an error in the page's own script
is logged under an id and shows no dialog either.

The failure is injected by the test app only (tests/faults/sitecustomize.py, see tests/browser_app.py): a help
search for one exact phrase raises inside the search service."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser_app import ARTIFACTS, SharedApp
from tests.faults.sitecustomize import FAULT_QUERY

pytestmark = pytest.mark.browser


def _log_after(shared_app: SharedApp, offset: int, pattern: str, timeout: float = 15) -> str:
    """The part of the app's log written since ``offset`` once it matches ``pattern``."""
    deadline = time.monotonic() + timeout
    while True:
        text = shared_app.app.log_path.read_text(errors="replace")[offset:]
        if re.search(pattern, text):
            return text
        if time.monotonic() > deadline:
            pytest.fail(f"the app's log has no {pattern!r} after the failure:\n{text[-3000:]}")
        time.sleep(0.3)


def _log_size(shared_app: SharedApp) -> int:
    return len(shared_app.app.log_path.read_text(errors="replace"))


def test_a_failed_page_action_shows_the_banner_with_an_error_id_that_the_log_has(page, shared_app):
    from playwright.sync_api import expect

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/help")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    offset = _log_size(shared_app)

    page.get_by_label("Search the help centre").fill(FAULT_QUERY)
    page.get_by_role("button", name="Search", exact=True).click()
    banner = page.get_by_test_id("problem-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("role", "alert")
    expect(banner).to_contain_text("Something went wrong on our side")
    expect(banner).to_contain_text("may not have been saved")
    error_id = page.get_by_test_id("error-id").inner_text().strip()
    assert re.fullmatch(r"[0-9A-F]{8}", error_id), error_id
    page.screenshot(path=ARTIFACTS / "page-error-banner.png", full_page=False)

    log = _log_after(shared_app, offset, rf"\[error {error_id}\]")
    entry = log[log.index(f"[error {error_id}]"):]
    assert "Traceback" in entry[:4000] and "InjectedFault" in entry[:4000], entry[:4000]
    assert dialogs == []

    # The page keeps working: the banner goes when dismissed, and the next search answers.
    banner.get_by_role("button", name="Dismiss").click()
    expect(banner).to_have_count(0)
    page.get_by_label("Search the help centre").fill("container")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_test_id("problem-banner")).to_have_count(0)
    assert dialogs == []


def test_an_error_in_the_page_script_is_logged_and_shows_no_dialog(page, shared_app):
    from playwright.sync_api import expect

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/help")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # Reflex installs its reporter in an effect that can run after the page is drawn; errors before that go to the
    # browser's console only.
    page.wait_for_function("typeof window.onerror === 'function'")
    offset = _log_size(shared_app)

    page.evaluate("setTimeout(() => { throw new Error('client-side fault 4e2a\\nforged log line') }, 0)")
    log = _log_after(shared_app, offset,
                     r"The browser reported an error \[error [0-9A-F]{8}\]: .*client-side fault 4e2a")
    line = next(ln for ln in log.splitlines() if "client-side fault 4e2a" in ln)
    assert "forged log line" in line  # the browser's text stays on one log line
    assert not any(ln.startswith("forged log line") for ln in log.splitlines())
    assert dialogs == []
