"""Tower overview: counts across every customer company."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.layout import area_page
from portal_app.components.password_change import (
    PasswordChangeBase,
    password_change_view,
)
from portal_app.components.ui import MUTED_TEXT, responsive_grid, stat_card
from portal_app.services.overview import TowerSummary, tower_summary
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db


class TowerHomeState(SessionState):
    figures: TowerSummary | None = None

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        self.figures = await run_db(tower_summary, principal)


@area_page("tower", routes.TOWER, "Overview", TowerHomeState.load)
def tower_home() -> rx.Component:
    f = TowerHomeState.figures
    return rx.vstack(
        rx.heading("Operations overview", size="7", as_="h1"),
        rx.text("All customers, live.", color=MUTED_TEXT),
        responsive_grid(
            stat_card("Active shipments", f.active_shipments, routes.TOWER_SHIPMENTS),
            stat_card("Awaiting confirmation", f.awaiting_confirmation, routes.TOWER_BOOKINGS),
            stat_card("In transit", f.in_transit, routes.TOWER_SHIPMENTS + "?status=in_transit"),
            stat_card("Delayed", f.delayed_shipments, routes.TOWER_SHIPMENTS),
            stat_card("Open exceptions", f.open_exceptions, routes.TOWER_EXCEPTIONS),
            stat_card("SLA breached", f.sla_breached, routes.TOWER_EXCEPTIONS + "?sla=breached"),
            stat_card("Open requests", f.open_requests, routes.TOWER),
            stat_card("Overdue invoices", f.overdue_invoices, routes.TOWER),
            stat_card("Customers with active shipments", f.customers_with_active_shipments, routes.TOWER_SHIPMENTS),
            middle=2, wide=3,
        ),
        spacing="4",
        width="100%",
    )


class TowerPasswordState(PasswordChangeBase, SessionState):
    AREA: ClassVar[str] = "tower"


@area_page("tower", routes.TOWER_PASSWORD, "Change password", TowerPasswordState.load)
def tower_password() -> rx.Component:
    return password_change_view(TowerPasswordState)
