"""The result of an action, shown right under the button that caused it rather than at the top of the page.

Both regions are always in the page (empty while there is nothing to say), so a screen reader announces a message
the moment it appears: a result politely (``role=status``), a refusal at once (``role=alert``). A page with several
actions keeps which one spoke last (``where``) and each place shows only its own (``here``).
"""

from __future__ import annotations

import reflex as rx


def _here(message: rx.Var | str, where: rx.Var | None, here: str) -> rx.Var | str:
    return message if where is None else rx.cond(where == here, message, "")


def outcome(notice: rx.Var | str, error: rx.Var | str, *, where: rx.Var | None = None, here: str = "",
            test_id: str = "", error_test_id: str = "") -> rx.Component:
    """``notice`` (a result) and ``error`` (a refusal), placed where this is called; with ``where``, only while
    ``where`` names ``here``. ``test_id``/``error_test_id`` name the messages for tests."""
    notice, error = _here(notice, where, here), _here(error, where, here)
    ids = {"data_testid": test_id} if test_id else {}
    error_ids = {"data_testid": error_test_id} if error_test_id else {}
    return rx.box(
        rx.box(rx.cond(notice != "", rx.callout(notice, icon="info", width="100%", **ids), rx.fragment()),
               role="status", aria_live="polite", aria_atomic="true"),
        rx.box(rx.cond(error != "", rx.callout(error, icon="triangle_alert", color_scheme="red", width="100%",
                                               **error_ids), rx.fragment()),
               role="alert", aria_live="assertive", aria_atomic="true"),
        width="100%",
        class_name="action-outcome",
        data_outcome=here or "page",
    )
