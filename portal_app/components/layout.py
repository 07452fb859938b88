"""The page shell for the portal and the tower: skip link, header, navigation by role, a main landmark,
and the refusal page shown when the signed-in user may not use the area."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import reflex as rx

from portal_app.components.notification_centre import unread_link
from portal_app.components.ui import (
    BRAND_TEXT,
    MUTED_TEXT,
    native_post_form,
    primary_button,
)
from portal_app.ui import routes
from portal_app.ui.session import SessionState

PRODUCT_NAME = "Harbor & Sky Portal"  # page titles only; the header shows the branding setting (SessionState.brand_*)

SIGN_IN_TO_HELP = f"{routes.LOGIN}?next={quote(routes.HELP, safe='')}"  # the public help header

PORTAL_NAV = [
    ("Home", routes.PORTAL),
    ("Shipments", routes.PORTAL_SHIPMENTS),
    ("Quotes", routes.PORTAL_QUOTES),
    ("Documents", routes.PORTAL_DOCUMENTS),
    ("Invoices", routes.PORTAL_INVOICES),
    ("Statement", routes.PORTAL_STATEMENT),
    ("Requests", routes.PORTAL_REQUESTS),
    ("Help", routes.HELP),
    ("Account", routes.PORTAL_ACCOUNT),
]
TOWER_NAV = [
    ("Overview", routes.TOWER),
    ("Shipments", routes.TOWER_SHIPMENTS),
    ("Exceptions", routes.TOWER_EXCEPTIONS),
    ("Tasks", routes.TOWER_TASKS),
    ("Requests", routes.TOWER_REQUESTS),
    ("Workload", routes.TOWER_WORKLOAD),
    ("Bookings", routes.TOWER_BOOKINGS),
    ("Changes", routes.TOWER_CHANGES),
    ("Carrier events", routes.TOWER_CARRIER_EVENTS),
    ("Manual quotes", routes.TOWER_QUOTES),
    ("Rate cards", routes.TOWER_RATES),
    ("Imports", routes.TOWER_IMPORTS),
    ("KPIs", routes.TOWER_KPIS),
    ("Help centre", routes.TOWER_HELP),
    ("Configuration", routes.TOWER_CONFIG),
    ("Account", routes.TOWER_ACCOUNT),
]


def _skip_link() -> rx.Component:
    return rx.el.a(
        "Skip to main content",
        href="#main",
        class_name="skip-link",
    )


MENU_ID = "site-menu"


def _nav_link(text: str, href: str) -> rx.Component:
    link = rx.link(text, href=href, weight="medium", color=BRAND_TEXT, padding_x="8px")
    if href not in routes.NAV_PERMISSION:
        return link
    return rx.cond(SessionState.nav_hidden.contains(href), rx.fragment(), link)


def _nav(items: list[tuple[str, str]], label: str) -> rx.Component:
    return rx.el.nav(
        rx.hstack(
            *[_nav_link(text, href) for text, href in items],
            spacing="2",
            wrap="wrap",
        ),
        aria_label=label,
    )


def _sign_out() -> rx.Component:
    return native_post_form(
        rx.button("Sign out", type="submit", variant="outline", color=BRAND_TEXT, cursor="pointer", size="2"),
        action="/api/auth/logout",
        form_id="sign-out-form",
    )


NBSP = "\u00a0"


def _or_blank(text: rx.Var) -> rx.Var:
    """The text, or a no-break space that keeps its line's height while it is still unknown."""
    return rx.cond(text != "", text, NBSP)


def _brand(area: str) -> rx.Component:
    """The installation's logo (if any) and product name, from the branding setting."""
    return rx.link(
        rx.hstack(
            rx.cond(SessionState.brand_logo != "",
                    rx.image(src=SessionState.brand_logo, alt="", height="32px", width="auto"), rx.fragment()),
            rx.text(SessionState.brand_name, size="4", weight="bold", data_testid="brand-name"),
            align="center", spacing="2",
        ),
        href=routes.in_area(area, routes.PORTAL, routes.TOWER), underline="none", color=BRAND_TEXT,
    )


HEADER_STYLE = {"border_bottom": "1px solid var(--portal-border)", "border_top": "4px solid",
                "background": "var(--portal-surface)"}


def _menu_header(title: rx.Component, *menu: rx.Component) -> rx.Component:
    """The page header: the title row, and the menu (navigation, account links) beside it on a wide screen.

    On a narrow screen (portal.css, below 768 px) the menu folds away behind one Menu button that says whether it
    is open (``aria-expanded``) and which element it opens (``aria-controls``); assets/menu.js opens and closes
    it (Escape closes it and puts the focus back on the button). The button comes before the menu in the page, so
    Tab goes from it straight into the opened menu.
    """
    return rx.el.header(
        rx.el.div(
            title,
            rx.el.button(
                rx.icon("menu", size=18, aria_hidden="true"), "Menu",
                type="button", class_name="menu-toggle", aria_expanded="false", aria_controls=MENU_ID,
                custom_attrs={"data-menu-toggle": ""},
            ),
            rx.el.div(*menu, id=MENU_ID, class_name="header-menu"),
            class_name="header-bar",
        ),
        style=HEADER_STYLE,
        border_top_color=SessionState.brand_accent,
    )


def _header(area: str) -> rx.Component:
    nav = PORTAL_NAV if area == "portal" else TOWER_NAV
    area_name = "Customer portal" if area == "portal" else "Ops tower"
    return _menu_header(
        rx.hstack(
            _brand(area),
            rx.badge(area_name, variant="soft", high_contrast=True),
            align="center",
            spacing="3",
            class_name="header-title",
        ),
        # Navigation and the account block are in the page from its first paint (names fill in once the
        # session is checked), so nothing below them moves when the page comes alive.
        rx.cond(SessionState.auth_status == "forbidden", rx.fragment(), _nav(nav, f"{area_name} navigation")),
        rx.spacer(class_name="header-spacer"),
        rx.hstack(
            rx.vstack(
                rx.text(_or_blank(SessionState.user_name), weight="medium", size="2"),
                rx.text(
                    rx.cond(
                        SessionState.company_name != "",
                        SessionState.company_name + " · " + SessionState.role_label,
                        NBSP,
                    ),
                    size="1",
                    color=MUTED_TEXT,
                ),
                spacing="0",
                align="end",
                class_name="account-block",
            ),
            unread_link(area),
            rx.link("Change password", href=routes.in_area(area, routes.PORTAL_PASSWORD, routes.TOWER_PASSWORD),
                    color=BRAND_TEXT, size="2"),
            _sign_out(),
            align="center",
            wrap="wrap",
            # On a phone the links go under the name in fixed rows (portal.css), whatever the unread badge
            # that arrives with the session adds, so the page below does not move.
            class_name="account-links",
        ),
    )


def _forbidden(area: str) -> rx.Component:
    other = routes.PORTAL if area == "tower" else routes.TOWER
    return rx.vstack(
        rx.heading("You do not have access to this page", size="6", as_="h1"),
        rx.text(
            "The ops tower is for the forwarder's staff. Your account can use the customer portal."
            if area == "tower"
            else "The customer portal is for customer accounts. Staff work in the ops tower.",
        ),
        rx.text("Nothing was changed. If you think you need access, ask your administrator.", color=MUTED_TEXT),
        rx.link(primary_button("Go to your home page"), href=rx.cond(SessionState.is_staff, routes.TOWER, other)),
        spacing="3",
        role="alert",
        data_testid="access-denied",
    )


def _enrol_first(area: str) -> rx.Component:
    """Shown for the moment before the redirect to the two-factor set-up page (ui/session.py)."""
    return rx.vstack(
        rx.heading("Set up two-factor sign-in first", size="6", as_="h1"),
        rx.text("Your company requires a second step at sign-in. Set up an authenticator app to continue."),
        rx.link(primary_button("Set up two-factor sign-in"),
                href=routes.in_area(area, routes.PORTAL_TWO_FACTOR, routes.TOWER_TWO_FACTOR)),
        spacing="3",
        role="alert",
    )


def _checking() -> rx.Component:
    return rx.hstack(rx.spinner(), rx.text("Checking your session…"), role="status", align="center")


def page_shell(area: str, content: rx.Component) -> rx.Component:
    return rx.box(
        _skip_link(),
        _header(area),
        rx.el.main(
            rx.match(
                SessionState.auth_status,
                ("ok", content),
                ("forbidden", _forbidden(area)),
                ("enrol", _enrol_first(area)),
                _checking(),
            ),
            id="main",
            tab_index=-1,
            style={"padding": "24px", "max_width": "1280px", "margin": "0 auto"},
        ),
        min_height="100vh",
        background="var(--portal-page)",
        class_name="page-shell",
    )


def _public_header() -> rx.Component:
    """The header of pages anyone may open (the help centre): the area's navigation for a signed-in user, a
    sign-in link for everyone else."""
    signed_in = SessionState.auth_status == "ok"
    return _menu_header(
        rx.hstack(_brand("help"), rx.badge("Help centre", variant="soft", high_contrast=True), align="center",
                  spacing="3", class_name="header-title"),
        rx.cond(signed_in,
                rx.cond(SessionState.is_staff, _nav(TOWER_NAV, "Ops tower navigation"),
                        _nav(PORTAL_NAV, "Customer portal navigation")),
                rx.fragment()),
        rx.spacer(class_name="header-spacer"),
        rx.cond(
            signed_in,
            rx.hstack(rx.text(SessionState.user_name, weight="medium", size="2"), _sign_out(), align="center"),
            rx.link("Sign in", href=SIGN_IN_TO_HELP, weight="medium", color=BRAND_TEXT,
                    data_testid="help-sign-in"),
        ),
    )


def public_page(route: str, title: str, on_load: Callable) -> Callable:
    """Register a page that works signed out (the help centre). Its state's ``on_load`` sets ``auth_status`` to
    ``ok`` or ``anonymous`` (``SessionState._identify``) and never redirects to sign-in."""

    def decorator(render: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        def page() -> rx.Component:
            return rx.box(
                _skip_link(),
                _public_header(),
                rx.el.main(render(), id="main", tab_index=-1,
                           style={"padding": "24px", "max_width": "1080px", "margin": "0 auto"}),
                min_height="100vh",
                background="var(--portal-page)",
                class_name="page-shell",
            )

        page.__name__ = render.__name__
        page.__module__ = render.__module__
        PAGES.append((page, route, f"{title} · {PRODUCT_NAME}", on_load))
        return page

    return decorator


def area_page(area: str, route: str, title: str, on_load: Callable) -> Callable:
    """Register a page of the portal or tower: ``@area_page("portal", "/portal", "Home", State.load)``."""

    def decorator(render: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        def page() -> rx.Component:
            return page_shell(area, render())

        page.__name__ = render.__name__
        # Reflex writes a page's memoized components to a file named after the page function's module; the
        # page's own module keeps each page's components out of the bundle every other page loads.
        page.__module__ = render.__module__
        PAGES.append((page, route, f"{title} · {PRODUCT_NAME}", on_load))
        return page

    return decorator


PAGES: list[tuple[Callable, str, str, Callable]] = []
