"""Tower overview: counts across every customer company."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from portal_app.components.layout import area_page
from portal_app.components.password_change import (
    PasswordChangeBase,
    password_change_view,
)
from portal_app.components.ui import MUTED_TEXT, responsive_grid, stat_card
from portal_app.services.overview import tower_summary
from portal_app.ui.session import SessionState, run_db


class TowerHomeState(SessionState):
    figures: dict[str, int] = {}

    async def load(self):  # noqa: ANN201
        principal = await self._authorize("tower")
        if principal is None:
            return self._refused()
        self.figures = dict((await run_db(tower_summary, principal)).__dict__)
        return None


@area_page("tower", "/tower", "Overview", TowerHomeState.load)
def tower_home() -> rx.Component:
    f = TowerHomeState.figures
    return rx.vstack(
        rx.heading("Operations overview", size="7", as_="h1"),
        rx.text("All customers, live.", color=MUTED_TEXT),
        responsive_grid(
            stat_card("Active shipments", f["active_shipments"], "/tower/shipments"),
            stat_card("Awaiting confirmation", f["awaiting_confirmation"], "/tower/bookings"),
            stat_card("In transit", f["in_transit"], "/tower/shipments?status=in_transit"),
            stat_card("Delayed", f["delayed_shipments"], "/tower/shipments"),
            stat_card("Open exceptions", f["open_exceptions"], "/tower/exceptions"),
            stat_card("SLA breached", f["sla_breached"], "/tower/exceptions?sla=breached"),
            stat_card("Open requests", f["open_requests"], "/tower"),
            stat_card("Overdue invoices", f["overdue_invoices"], "/tower"),
            stat_card("Customers with active shipments", f["customers_with_active_shipments"], "/tower/shipments"),
            middle=2, wide=3,
        ),
        spacing="4",
        width="100%",
    )


class TowerPasswordState(PasswordChangeBase, SessionState):
    AREA: ClassVar[str] = "tower"


@area_page("tower", "/tower/password", "Change password", TowerPasswordState.load)
def tower_password() -> rx.Component:
    return password_change_view(TowerPasswordState)
