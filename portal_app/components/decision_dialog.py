"""A decision ("resolve this", "confirm that booking") asked in a dialog that opens where the person is looking,
instead of a panel at the foot of a long page.

Radix's dialog moves focus into it, keeps it there, and closes on Escape or the Cancel button (``on_open_change``
receives ``False``: the page's state clears what it opened). When it closes, focus goes back to the control that
opened it, found as the element that had focus when it opened: a row's "Decide" button is no Radix trigger, so
Radix alone would leave focus on the page's body. When that control has gone (the row left the list with the
decision) focus goes to the page's result line (``data-focus-after-dialog``), which says what happened.
A refusal is shown inside the dialog, beside its button (``components/outcome.py``), and what was typed stays.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars import FunctionVar

from portal_app.components.ui import MUTED_TEXT

REMEMBER_OPENER = rx.Var("((e) => { window.__portalDialogOpener = document.activeElement; })").to(FunctionVar)
RETURN_FOCUS = rx.Var(
    "((e) => { const opener = window.__portalDialogOpener; window.__portalDialogOpener = null;"
    " const target = (opener && opener.isConnected && opener !== document.body) ? opener"
    " : document.querySelector('[data-focus-after-dialog]');"
    " if (target) { e.preventDefault(); target.focus(); } })"
).to(FunctionVar)
FOCUS_AFTER_DIALOG = {"data_focus_after_dialog": "1", "tab_index": -1}


def decision_dialog(title: Any, description: Any, *children: rx.Component, open: rx.Var | bool,
                    on_open_change: Any, test_id: str, trigger: rx.Component | None = None,
                    width: str = "640px") -> rx.Component:
    """A dialog titled ``title`` (its accessible name) with ``description`` under it, then ``children`` (the
    forms). ``open`` comes from the page's state; ``trigger`` (optional) is the button that opens it."""
    return rx.dialog.root(
        *([rx.dialog.trigger(trigger)] if trigger is not None else []),
        rx.dialog.content(
            rx.dialog.title(title),
            rx.dialog.description(description, color=MUTED_TEXT, font_size="14px", margin_bottom="12px"),
            rx.vstack(*children, spacing="3", width="100%"),
            on_open_auto_focus=REMEMBER_OPENER,
            on_close_auto_focus=RETURN_FOCUS,
            max_width=width,
            data_testid=test_id,
        ),
        open=open,
        on_open_change=on_open_change,
    )


def cancel_button(text: str = "Cancel") -> rx.Component:
    """Closes the dialog (as Escape does) without deciding anything."""
    return rx.dialog.close(rx.button(text, type="button", variant="outline", cursor="pointer"))
