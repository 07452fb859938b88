"""Tower overview: counts across every customer company."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from models.enums import ShipmentStatus
from portal_app.auth.principal import Principal
from portal_app.components.layout import area_page
from portal_app.components.password_change import (
    PasswordChangeBase,
    password_change_view,
)
from portal_app.components.ui import MUTED_TEXT, responsive_grid, stat_card
from portal_app.services import overview
from portal_app.services.overview import TowerSummary, tower_summary
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db


class TowerHomeState(SessionState):
    figures: TowerSummary | None = None

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        self.figures = await run_db(tower_summary, principal)


def figure_links() -> dict[str, str | None]:
    """The list each tile opens, by the summary's field; each figure is that list's total (services/overview.py),
    which tests/services/test_figures.py checks by opening every link over the demo data. None: a figure with no
    list of its own (invoices are listed per customer; GET /api/v1/invoices?status=overdue lists them all)."""
    return {
        "active_shipments": routes.TOWER_SHIPMENTS + overview.query_string(overview.active_filters()),
        "awaiting_confirmation": routes.TOWER_BOOKINGS,
        "in_transit": f"{routes.TOWER_SHIPMENTS}?status={ShipmentStatus.IN_TRANSIT.value}",
        "delayed_shipments": routes.TOWER_SHIPMENTS + overview.query_string(overview.delayed_filters()),
        "open_exceptions": f"{routes.TOWER_EXCEPTIONS}?status=active",
        "sla_breached": f"{routes.TOWER_EXCEPTIONS}?status=active&sla=breached",
        "open_requests": f"{routes.TOWER_REQUESTS}?status=active",
        "overdue_invoices": None,
        "customers_with_active_shipments": None,
    }


TILES = (
    ("Active shipments", "active_shipments", ""),
    ("Awaiting confirmation", "awaiting_confirmation", ""),
    ("In transit", "in_transit", ""),
    ("Delayed", "delayed_shipments", "Running late, not yet delivered"),
    ("Open exceptions", "open_exceptions", ""),
    ("SLA breached", "sla_breached", "Open exceptions past their SLA"),
    ("Open requests", "open_requests", "Open or waiting"),
    ("Overdue invoices", "overdue_invoices", "Across all customers"),
    ("Customers with active shipments", "customers_with_active_shipments", ""),
)


@area_page("tower", routes.TOWER, "Overview", TowerHomeState.load)
def tower_home() -> rx.Component:
    f = TowerHomeState.figures
    links = figure_links()
    return rx.vstack(
        rx.heading("Operations overview", size="7", as_="h1"),
        rx.text("All customers, live.", color=MUTED_TEXT),
        responsive_grid(
            *[stat_card(label, getattr(f, field), links[field], hint) for label, field, hint in TILES],
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
