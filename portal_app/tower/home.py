"""Tower overview: the signed-in person's own work first (exceptions they own, their task queue, their requests
past an SLA), then the counts across every customer company. Every figure is the total of the list it opens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

import reflex as rx

from models.enums import ShipmentStatus
from portal_app.auth.principal import Principal
from portal_app.components.layout import area_page
from portal_app.components.ops import timer_view
from portal_app.components.password_change import (
    PasswordChangeBase,
    password_change_view,
)
from portal_app.components.ui import DANGER, MUTED_TEXT, responsive_grid, stat_card
from portal_app.services import clock, overview
from portal_app.services.exceptions import SlaTimer
from portal_app.services.overview import TowerSummary, tower_summary
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db


@dataclass(frozen=True)
class WorkLine:
    """One item of the person's own work: what, where it opens, and its SLA or due time."""

    title: str
    href: str
    left: str
    breached: bool


@dataclass(frozen=True)
class WorkList:
    """One of the three lists of "Your work": its total (the list it opens has the same) and its first rows."""

    total: int = 0
    rows: tuple[WorkLine, ...] = ()


def _line(title: str, href: str, timer: SlaTimer, now: datetime) -> WorkLine:
    view = timer_view(timer, now, True) if timer.due_at else {"left": "No due time", "breached": ""}
    return WorkLine(title=title, href=href, left=view["left"], breached=view["breached"] == "yes")


def work_lists(work: overview.MyWork, now: datetime) -> dict[str, WorkList]:
    exc = [_line(f"#{e.id} {e.title}", routes.link(routes.TOWER_EXCEPTION, exception_id=e.id), e.timer, now)
           for e in work.exceptions.rows]
    tasks = [_line(t.title, routes.TOWER_TASKS, t.due, now) for t in work.tasks.rows]
    reqs = [_line(f"{r.reference} {r.subject}", routes.link(routes.TOWER_REQUEST, reference=r.reference),
                  r.resolution if r.first_response.settled else r.first_response, now)
            for r in work.breaching_requests.rows]
    return {"my_exceptions": WorkList(work.exceptions.total, tuple(exc)),
            "my_tasks": WorkList(work.tasks.total, tuple(tasks)),
            "my_breaching_requests": WorkList(work.breaching_requests.total, tuple(reqs))}


WORK_LINKS: dict[str, str] = {
    "my_exceptions": f"{routes.TOWER_EXCEPTIONS}?owner=me",
    "my_tasks": f"{routes.TOWER_TASKS}?view=mine",
    "my_breaching_requests": f"{routes.TOWER_REQUESTS}?assignee=me&sla=breached",
}


class TowerHomeState(SessionState):
    figures: TowerSummary | None = None
    my_exceptions: WorkList = WorkList()
    my_tasks: WorkList = WorkList()
    my_breaching_requests: WorkList = WorkList()

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        work = await run_db(overview.my_work, principal)
        lists = work_lists(work, clock.now())
        self.my_exceptions, self.my_tasks = lists["my_exceptions"], lists["my_tasks"]
        self.my_breaching_requests = lists["my_breaching_requests"]
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


def _work_card(title: str, key: str, empty: str) -> rx.Component:
    work: rx.Var = getattr(TowerHomeState, key)
    return rx.card(
        rx.vstack(
            rx.link(rx.hstack(rx.heading(title, size="3", as_="h3"), rx.badge(work.total, variant="soft"),
                              align="center"),
                    href=WORK_LINKS[key], underline="hover", aria_label=f"{title}: open the list"),
            rx.cond(work.total > 0,
                    rx.vstack(rx.foreach(work.rows, lambda w: rx.hstack(
                        rx.link(w.title, href=w.href, size="2"),
                        rx.text(w.left, size="1", color=rx.cond(w.breached, DANGER, MUTED_TEXT)),
                        justify="between", width="100%", wrap="wrap")), spacing="1", width="100%"),
                    rx.text(empty, size="2", color=MUTED_TEXT)),
            spacing="2",
            width="100%",
        ),
        width="100%",
        data_testid=f"work-{key}",
    )


def _your_work() -> rx.Component:
    return rx.el.section(
        rx.heading("Your work", size="5", as_="h2", id="your-work"),
        responsive_grid(
            _work_card("Exceptions you own", "my_exceptions", "Nothing open. Well done."),
            _work_card("Your tasks", "my_tasks", "Your queue is empty."),
            _work_card("Your requests past their SLA", "my_breaching_requests", "Nothing past its SLA."),
            middle=2, wide=3,
        ),
        aria_labelledby="your-work",
        style={"width": "100%", "display": "flex", "flex_direction": "column", "gap": "8px"},
    )


@area_page("tower", routes.TOWER, "Overview", TowerHomeState.load)
def tower_home() -> rx.Component:
    f = TowerHomeState.figures
    links = figure_links()
    return rx.vstack(
        rx.heading("Operations overview", size="7", as_="h1"),
        _your_work(),
        rx.heading("All customers", size="5", as_="h2"),
        rx.text("Live figures across every customer; each opens its list.", color=MUTED_TEXT),
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
