"""Tower: a staff member's own account page: which notifications reach them (their work, their requests), in the
tower and by email, their two-factor sign-in, and the way to change their password."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.layout import area_page
from portal_app.components.mfa_panel import MfaPanelBase, mfa_panel
from portal_app.components.notification_prefs_form import NotificationPrefsBase, preferences_section
from portal_app.components.ui import ACCENT, MUTED_TEXT
from portal_app.services import notification_prefs as prefs
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event


class TowerAccountState(NotificationPrefsBase, SessionState):
    AREA: ClassVar[str] = "tower"

    @page_event()
    async def load(self, principal: Principal) -> None:
        await self._load_preferences(principal)


class TowerMfaState(MfaPanelBase, SessionState):
    """Your two-factor sign-in (also answers someone who must set it up before anything else)."""

    AREA: ClassVar[str] = "tower"


@area_page("tower", routes.TOWER_TWO_FACTOR, "Two-factor sign-in", TowerMfaState.load_mfa)
def tower_two_factor() -> rx.Component:
    return rx.vstack(
        rx.heading("Two-factor sign-in", size="7", as_="h1"),
        mfa_panel(TowerMfaState, routes.TOWER),
        spacing="4",
        width="100%",
    )


@area_page("tower", routes.TOWER_ACCOUNT, "Your account",
           [TowerAccountState.load, TowerMfaState.load_mfa])  # type: ignore[arg-type]
def tower_account() -> rx.Component:
    return rx.vstack(
        rx.heading("Your account", size="7", as_="h1"),
        rx.text("Signed in as ", rx.text.strong(SessionState.user_email), " · ", SessionState.role_label,
                color=MUTED_TEXT),
        preferences_section(
            TowerAccountState, prefs.STAFF_KINDS,
            "Choose how you hear about work given to you and about the requests you own or follow. Everything "
            "reaches your notification list in the tower unless you switch it off; email is off until you switch "
            "it on.",
        ),
        mfa_panel(TowerMfaState, routes.TOWER),
        rx.el.section(
            rx.heading("Sign-in", size="5", as_="h2"),
            rx.hstack(
                rx.link("Change password", href=routes.TOWER_PASSWORD, color=ACCENT, weight="medium"),
                rx.link("Your notifications", href=routes.TOWER_NOTIFICATIONS, color=ACCENT, weight="medium"),
                spacing="5",
            ),
        ),
        spacing="6",
        width="100%",
    )
