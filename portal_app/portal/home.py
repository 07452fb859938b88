"""Portal home: the company's headline figures, each linking to the list behind it."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from portal_app.auth.state import SessionState, run_db
from portal_app.components.layout import area_page
from portal_app.components.password_change import PasswordChangeBase, password_change_view
from portal_app.components.ui import MUTED_TEXT, stat_card
from portal_app.services.overview import portal_summary


class PortalHomeState(SessionState):
    active_shipments: int = 0
    arriving_this_week: int = 0
    delayed_shipments: int = 0
    open_invoices: int = 0
    overdue_invoices: int = 0
    balances: list[dict[str, str]] = []

    async def load(self):  # noqa: ANN201
        principal = await self._authorize("portal")
        if principal is None:
            return self._refused()
        s = await run_db(portal_summary, principal)
        self.active_shipments = s.active_shipments
        self.arriving_this_week = s.arriving_this_week
        self.delayed_shipments = s.delayed_shipments
        self.open_invoices = s.open_invoices
        self.overdue_invoices = s.overdue_invoices
        self.balances = [{"currency": b.currency, "amount": f"{b.amount:,.2f}", "count": str(b.count)} for b in s.balances]
        return None


@area_page("portal", "/portal", "Home", PortalHomeState.load)
def portal_home() -> rx.Component:
    return rx.vstack(
        rx.heading("Welcome, ", PortalHomeState.user_name, size="7", as_="h1"),
        rx.text("Figures for ", PortalHomeState.company_name, ", live from our operations record.", color=MUTED_TEXT),
        rx.grid(
            stat_card("Active shipments", PortalHomeState.active_shipments, "/portal/shipments",
                      "Booked, confirmed, in transit or arrived"),
            stat_card("Arriving in the next 7 days", PortalHomeState.arriving_this_week, "/portal/shipments?status=in_transit"),
            stat_card("Delayed", PortalHomeState.delayed_shipments, "/portal/shipments"),
            stat_card("Open invoices", PortalHomeState.open_invoices, "/portal", "Overdue: " + PortalHomeState.overdue_invoices.to_string()),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"),
            spacing="4",
            width="100%",
        ),
        rx.heading("Balance due", size="5", as_="h2"),
        rx.cond(
            PortalHomeState.balances.length() > 0,
            rx.hstack(
                rx.foreach(
                    PortalHomeState.balances,
                    lambda b: rx.card(
                        rx.text(b["currency"], weight="bold"),
                        rx.text(b["amount"], size="6", data_testid="balance-amount"),
                        rx.text(b["count"], " open invoices", size="1", color=MUTED_TEXT),
                    ),
                ),
                wrap="wrap",
            ),
            rx.text("Nothing is due. Thank you!", color=MUTED_TEXT),
        ),
        spacing="4",
        width="100%",
    )


class PortalPasswordState(PasswordChangeBase, SessionState):
    AREA: ClassVar[str] = "portal"


@area_page("portal", "/portal/password", "Change password", PortalPasswordState.load)
def portal_password() -> rx.Component:
    return password_change_view(PortalPasswordState)
