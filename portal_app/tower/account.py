"""Tower: a staff member's own account page: which notifications reach them (their work, their requests), in the
tower and by email, their two-factor sign-in, the way to change their password, their sessions, and for
administrators every API key of the installation and the audit trail."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.components.api_keys_panel import ApiKeysPanelBase, api_keys_panel
from portal_app.components.layout import area_page
from portal_app.components.mfa_panel import MfaPanelBase, mfa_panel
from portal_app.components.notification_prefs_form import NotificationPrefsBase, preferences_section
from portal_app.components.sessions_panel import SessionsPanelBase, sessions_section
from portal_app.components.ui import ACCENT, MUTED_TEXT
from portal_app.services import notification_prefs as prefs
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event

API_KEYS_INTRO = ("Keys let the forwarder's own software use the HTTP API, acting as the administrator who created "
                  "them. Administrators see and can revoke every key of the installation here, customers' keys too.")


class TowerAccountState(SessionsPanelBase, ApiKeysPanelBase, NotificationPrefsBase, SessionState):
    AREA: ClassVar[str] = "tower"

    can_read_audit: bool = False

    @page_event()
    async def load(self, principal: Principal) -> None:
        await self._load_preferences(principal)
        await self._load_sessions(principal)
        self.can_read_audit = principal.can(Permission.READ_AUDIT)
        await self._load_api_keys(principal)


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
                rx.cond(TowerAccountState.can_read_audit,
                        rx.link("Audit trail", href=routes.TOWER_AUDIT, color=ACCENT, weight="medium"),
                        rx.fragment()),
                rx.cond(TowerAccountState.api_keys_allowed,
                        rx.link("Webhooks", href=routes.TOWER_WEBHOOKS, color=ACCENT, weight="medium"),
                        rx.fragment()),
                spacing="5",
            ),
        ),
        sessions_section(TowerAccountState),
        api_keys_panel(TowerAccountState, API_KEYS_INTRO),
        spacing="6",
        width="100%",
    )
