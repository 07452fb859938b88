"""A secret shown once (a new user's temporary password) that never becomes page state.

Every state var is kept on the server for the tab (in memory or Redis) and sent again in full when the tab
reconnects. So the handler does not assign the secret to a var: it answers with ``reveal(...)``, an event for the
browser alone that writes the text into a read-only field already on the page. The page's state holds only whether
the notice is shown; the secret is in the one message that answers the admin's own click, and in that field until
the page is left.
"""

from __future__ import annotations

import reflex as rx

from portal_app.components.ui import LABEL_STYLE


def reveal(field_id: str, secret: str) -> rx.event.EventSpec:
    """The browser-only event that writes ``secret`` into the field ``one_time_secret(field_id, ...)`` drew."""
    return rx.set_value(field_id, secret)


def one_time_secret(field_id: str, label: str, shown: rx.Var, note: str, test_id: str, *,
                    width_em: int = 22) -> rx.Component:
    """The notice with its read-only field, always on the page (so ``reveal`` finds the field) and visible only
    while ``shown``. ``width_em``: how wide the field may grow, so the whole secret shows."""
    return rx.el.div(
        rx.callout.root(
            rx.callout.icon(rx.icon("key_round")),
            rx.el.div(
                rx.el.label(label, html_for=field_id, style=LABEL_STYLE),
                rx.el.input(id=field_id, read_only=True, auto_complete="off", spell_check=False,
                            class_name="text-input", data_testid=test_id,
                            style={"font_family": "monospace", "font_size": "1.1em", "max_width": f"{width_em}em"}),
                rx.text(note, size="2"),
                style={"display": "flex", "flex_direction": "column", "gap": "6px", "width": "100%"},
            ),
            role="status",
            width="100%",
        ),
        display=rx.cond(shown, "block", "none"),
        width="100%",
    )
