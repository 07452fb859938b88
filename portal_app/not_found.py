"""The page for addresses that do not exist."""

import reflex as rx

from portal_app.components.ui import MUTED_TEXT, primary_button


def not_found_page() -> rx.Component:
    return rx.el.main(
        rx.vstack(
            rx.heading("Page not found", size="7", as_="h1"),
            rx.text("There is no page at this address. It may have moved, or the link may be mistyped.",
                    color=MUTED_TEXT),
            rx.hstack(
                rx.link(primary_button("Go to the customer portal"), href="/portal"),
                rx.link(primary_button("Go to the ops tower"), href="/tower"),
            ),
            spacing="4",
        ),
        id="main",
        style={"padding": "64px 24px", "max_width": "720px", "margin": "0 auto"},
    )
