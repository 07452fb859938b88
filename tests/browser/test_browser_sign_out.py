"""In Debian's Chromium: signing out leaves nothing of the user in the tab. The tab keeps its Reflex client token
(sessionStorage) across sign-out, so its page state used to come back, whole, in the first message the reconnected
page received; now that message carries none of the previous user's name or rows. A temporary password shown once
is not part of the page state either: a reload of the same tab does not bring it back."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.browser_app import ARTIFACTS, _at, sign_in

pytestmark = pytest.mark.browser

MANAGER = ("manager@harborsky.example", "Marco Manager")


def _record_frames(page) -> list[str]:
    """Every websocket message the page receives from now on, in order (sockets opened later included)."""
    frames: list[str] = []

    def on_socket(ws) -> None:
        ws.on("framereceived", lambda payload: frames.append(payload if isinstance(payload, str)
                                                             else payload.decode(errors="replace")))

    page.on("websocket", on_socket)
    return frames


def _state_messages(frames: list[str]) -> list[str]:
    """The socket.io event messages (``42[...]``), which carry the state; not the handshake or pings."""
    return [f for f in frames if f.startswith("42")]


def _wait_for_state_message(page, frames: list[str]) -> str:
    for _ in range(100):
        messages = _state_messages(frames)
        if messages:
            return messages[0]
        page.wait_for_timeout(100)
    pytest.fail(f"the page received no state message; frames: {frames[:5]}")


def test_the_first_message_after_sign_out_holds_nothing_of_the_previous_user(page):
    from playwright.sync_api import expect

    email, name = MANAGER
    sign_in(page, email, "/tower/shipments")
    expect(page.get_by_role("heading", name="Shipments board", level=1)).to_be_visible()
    rows = page.get_by_role("row").filter(has=page.get_by_role("checkbox"))
    expect(rows.first).to_be_visible()
    shown = " ".join(rows.all_inner_texts())
    references = sorted(set(re.findall(r"\bSH\d{7}\b", shown)))
    assert len(references) >= 10, shown[:500]
    expect(page.get_by_text(name).first).to_be_visible()
    token = page.evaluate("() => sessionStorage.getItem('token')")

    frames = _record_frames(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(_at("/login", query=True))
    first = _wait_for_state_message(page, frames)
    assert page.evaluate("() => sessionStorage.getItem('token')") == token  # the same tab state key
    assert '"is_hydrated_rx_state_":false' in first  # it is the hydrate: the state the server holds for the tab
    for needle in (name, email, *references):
        assert needle not in first, f"{needle!r} reached the signed-out tab in its first message"
    expect(page.get_by_label("Email")).to_be_visible()
    page.wait_for_timeout(500)
    everything = "\n".join(_state_messages(frames))
    assert not any(needle in everything for needle in (name, email, *references))

    # Back in the same tab, signed in again: the page works as before.
    sign_in(page, email, "/tower/shipments")
    expect(rows.first).to_be_visible()


def test_a_temporary_password_is_shown_once_and_never_sent_again(page):
    from playwright.sync_api import expect

    sign_in(page, "alice@acme.example", "/portal/account/users")
    frames = _record_frames(page)
    page.reload()  # a fresh socket, so its frames are recorded from the start
    expect(page.get_by_role("heading", name="Colleagues", level=1)).to_be_visible()
    page.get_by_label("Full name").fill("Tara Temp")
    page.get_by_label("Email").fill(f"tara-{uuid.uuid4().hex[:6]}@acme.example")
    page.get_by_label("Role", exact=True).select_option("customer_user")
    page.get_by_role("button", name="Add colleague").click()
    field = page.get_by_test_id("temporary-password")
    expect(field).to_be_visible()
    shown = ("() => { const e = document.querySelector('[data-testid=temporary-password]'); "
             "return e ? (e.value || e.textContent || '').trim() : ''; }")
    page.wait_for_function(shown)
    password = page.evaluate(shown)
    assert len(password) >= 10
    page.screenshot(path=ARTIFACTS / "portal-temporary-password.png", full_page=False)
    # It travelled once, in the answer to the click, as a write into the field; never as a state value.
    carrying = [m for m in _state_messages(frames) if password in m]
    assert len(carrying) == 1 and "_set_value" in carrying[0]
    assert not any(password in json.dumps(v) for v in _state_values(carrying[0]))

    frames.clear()
    page.reload()  # the same tab, hydrated again: the password is not in what the server holds for it
    expect(page.get_by_role("heading", name="Colleagues", level=1)).to_be_visible()
    _wait_for_state_message(page, frames)
    page.wait_for_timeout(500)
    assert not any(password in m for m in frames)
    expect(page.get_by_test_id("temporary-password")).to_be_hidden()


def _state_values(message: str) -> list:
    """The state deltas in one socket.io event message (``42/_event,["event", {"delta": ..., "events": ...}]``)."""
    _, payload = json.loads(message[message.index("["):])
    update = json.loads(payload) if isinstance(payload, str) else payload
    return list((update.get("delta") or {}).values())
