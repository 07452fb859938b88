"""What the first HTML of a page with a reference in its address shows until the page's code has loaded.

Pages such as a shipment (``/portal/shipments/SH0000241``) cannot be rendered ahead of time: the server answers
them with one shared page that holds only the app's frame, and the browser showed nothing until every script of
the page had arrived and run. This is that shared page's content (React Router's ``HydrateFallback``): a line of
text the browser paints as soon as the stylesheet is in, replaced by the page itself once it has loaded.
"""

import reflex as rx

from portal_app.components.ui import MUTED_TEXT


def loading_page() -> rx.Component:
    return rx.el.main(
        rx.text("Loading the page…", color=MUTED_TEXT, role="status"),
        id="main",
        style={"padding": "64px 24px", "max_width": "720px", "margin": "0 auto"},
    )
