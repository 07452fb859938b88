"""What the page shows while it cannot reach the server (instead of Reflex's toast pop-ups, which cost the
browser a toast library on every page)."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import connection_banner, connection_pulser


def connection_lost_banner() -> rx.Component:
    return connection_banner(
        rx.el.div(
            rx.el.strong("Connection to the server lost. "),
            "Trying to reconnect… Everything you saved is kept; a change you were making may need to be sent again "
            "once this message goes away.",
            role="alert",
            class_name="connection-lost",
        )
    )


def overlay() -> rx.Component:
    return rx.fragment(connection_pulser(), connection_lost_banner())
