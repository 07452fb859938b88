"""Portal home: the company's headline figures, each linking to the list behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

import reflex as rx

from models.enums import ACTIVE_SHIPMENT_STATUSES, InvoiceStatus
from portal_app.auth.principal import Principal
from portal_app.components.formatting import (
    fmt_date,
    fmt_datetime,
    fmt_delay,
    status_label,
)
from portal_app.components.layout import area_page
from portal_app.components.password_change import (
    PasswordChangeBase,
    password_change_view,
)
from portal_app.components.ui import MUTED_TEXT, error_callout, responsive_grid
from portal_app.portal.documents import MISSING
from portal_app.services import clock, display, finance, overview
from portal_app.services import dashboard as dash
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.routes import link
from portal_app.ui.session import SessionState, page_event, run_db


@dataclass(frozen=True)
class WidgetLine:
    """One widget of the home page's layout: which, its title, and whether it is shown."""

    id: str
    title: str
    visible: bool


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: str
    href: str


@dataclass(frozen=True)
class HomeShipmentLine:
    reference: str
    eta: str
    delay: str
    href: str


@dataclass(frozen=True)
class BalanceLine:
    currency: str
    amount: str
    count: str


@dataclass(frozen=True)
class HomeUpdateLine:
    reference: str
    body: str
    at: str
    href: str


@dataclass(frozen=True)
class HomeFigures:
    """The headline figures (empty until the page is read)."""

    active: str = ""
    arriving: str = ""
    delayed: str = ""
    open_invoices: str = ""
    overdue_invoices: str = ""
    documents_owed: str = ""
    open_requests: str = ""
    arriving_href: str = ""
    delayed_href: str = ""
    open_invoices_href: str = ""
    overdue_invoices_href: str = ""
    documents_owed_href: str = ""
    open_requests_href: str = ""


def figure_links(today: date) -> dict[str, str]:
    """The list each headline figure opens, by figure; each figure is that list's total (services/overview.py),
    which tests/services/test_figures.py checks by opening every link over the demo data."""
    return {
        "active": routes.PORTAL_SHIPMENTS + overview.query_string(overview.active_filters()),
        "arriving": routes.PORTAL_SHIPMENTS + overview.query_string(overview.arriving_filters(today)),
        "delayed": routes.PORTAL_SHIPMENTS + overview.query_string(overview.delayed_filters()),
        "open_invoices": f"{routes.PORTAL_INVOICES}?status={finance.OPEN}",
        "overdue_invoices": f"{routes.PORTAL_INVOICES}?status={InvoiceStatus.OVERDUE.value}",
        "documents_owed": f"{routes.PORTAL_DOCUMENTS}?status={MISSING}",
        "open_requests": f"{routes.PORTAL_REQUESTS}?status={dash.OPEN_REQUESTS}",
        **{f"status:{st.value}": f"{routes.PORTAL_SHIPMENTS}?status={st.value}" for st in ACTIVE_SHIPMENT_STATUSES},
    }


class PortalHomeState(SessionState):
    AREA: ClassVar[str] = "portal"

    layout: list[WidgetLine] = []
    by_status: list[StatusCount] = []
    arriving: list[HomeShipmentLine] = []
    delayed: list[HomeShipmentLine] = []
    figures: HomeFigures = HomeFigures()
    balances: list[BalanceLine] = []
    updates: list[HomeUpdateLine] = []
    layout_error: str = ""

    @page_event()
    async def load(self, principal: Principal) -> None:
        d = await run_db(dash.dashboard, principal)
        s = d.summary
        links = figure_links(clock.today())
        self.by_status = [
            StatusCount(status=st.value, label=status_label(st.value).capitalize(),
                        count=str(d.by_status.get(st.value, 0)), href=links[f"status:{st.value}"])
            for st in ACTIVE_SHIPMENT_STATUSES
        ]
        self.figures = HomeFigures(
            active=str(s.active_shipments),
            arriving=str(s.arriving_this_week),
            delayed=str(s.delayed_shipments),
            open_invoices=str(s.open_invoices),
            overdue_invoices=str(s.overdue_invoices),
            documents_owed=str(d.documents_owed),
            open_requests=str(d.open_requests),
            **{f"{key}_href": links[key] for key in ("arriving", "delayed", "open_invoices", "overdue_invoices",
                                                    "documents_owed", "open_requests")},
        )
        self.arriving = [_line(x) for x in d.arriving]
        self.delayed = [_line(x) for x in d.delayed]
        self.balances = [BalanceLine(currency=b.currency, amount=display.money(b.amount, b.currency),
                                     count=str(b.count))
                         for b in s.balances]
        self.updates = [
            HomeUpdateLine(reference=u.reference, body=u.body, at=fmt_datetime(u.created_at),
                           href=link(routes.PORTAL_SHIPMENT, reference=u.reference))
            for u in d.latest_updates
        ]
        await self._show_layout(await run_db(dash.get_layout, principal))

    @page_event()
    async def move_widget(self, principal: Principal, widget_id: str, delta: int) -> None:
        await self._change_layout(principal, widget_id, move=int(delta))

    @page_event()
    async def hide_widget(self, principal: Principal, widget_id: str) -> None:
        await self._change_layout(principal, widget_id, visible=False)

    @page_event()
    async def show_widget(self, principal: Principal, widget_id: str) -> None:
        await self._change_layout(principal, widget_id, visible=True)

    async def _change_layout(self, principal: Principal, widget_id: str, *, move: int = 0,
                             visible: bool | None = None) -> None:
        current = await run_db(dash.get_layout, principal)  # the stored layout, not the browser's copy
        order = [w.id for w in current]
        hidden = {w.id for w in current if not w.visible}
        if widget_id not in order:
            self.layout_error = "That widget does not exist. Reload the page; nothing was changed."
            return
        if move:
            i = order.index(widget_id)
            j = max(0, min(len(order) - 1, i + move))
            order[i], order[j] = order[j], order[i]
        if visible is True:
            hidden.discard(widget_id)
        elif visible is False:
            hidden.add(widget_id)
        saved = await run_db(dash.save_layout, principal, order, sorted(hidden))
        self.layout_error = ""
        await self._show_layout(saved)

    async def _show_layout(self, layout: list[dash.WidgetSetting]) -> None:
        self.layout = [WidgetLine(id=w.id, title=w.title, visible=w.visible) for w in layout]

    def _service_refused(self, exc: ServiceError) -> None:
        """The home page shows a refusal above its widgets."""
        self.layout_error = exc.message


def _line(x: dash.ShipmentLine) -> HomeShipmentLine:
    return HomeShipmentLine(reference=x.reference, eta=fmt_date(x.eta), delay=fmt_delay(x.delay_minutes),
                            href=link(routes.PORTAL_SHIPMENT, reference=x.reference))


def _big_link(value: rx.Var, href: rx.Var | str, label: str) -> rx.Component:
    return rx.link(rx.text(value, size="8", weight="bold"), href=href, aria_label=label, underline="hover")


def _shipment_lines(items: rx.Var, empty: str) -> rx.Component:
    return rx.cond(
        items.length() > 0,
        rx.vstack(rx.foreach(items, lambda x: rx.hstack(
            rx.link(x.reference, href=x.href, weight="medium"), rx.text("ETA ", x.eta, color=MUTED_TEXT),
            rx.text(x.delay, color=rx.cond(x.delay == "On time", MUTED_TEXT, "var(--portal-danger)")), spacing="3")),
            spacing="1"),
        rx.text(empty, color=MUTED_TEXT),
    )


def _widget_body(widget_id: rx.Var) -> rx.Component:
    s = PortalHomeState
    f = s.figures
    return rx.match(
        widget_id,
        ("status", rx.hstack(rx.foreach(s.by_status, lambda b: rx.vstack(
            rx.link(rx.text(b.count, size="7", weight="bold"), href=b.href,
                    aria_label=b.label + ": " + b.count + " shipments, open the list"),
            rx.text(b.label, size="2", color=MUTED_TEXT), spacing="0")), spacing="6", wrap="wrap")),
        ("arriving", rx.vstack(_big_link(f.arriving, f.arriving_href, "Arriving in the next 7 days: open the list"),
                               _shipment_lines(s.arriving, "Nothing arrives in the next 7 days."))),
        ("delayed", rx.vstack(_big_link(f.delayed, f.delayed_href, "Delayed shipments: open the list"),
                              _shipment_lines(s.delayed, "Nothing is running late."))),
        ("documents", rx.vstack(
            _big_link(f.documents_owed, f.documents_owed_href, "Documents still needed: open the list"),
            rx.text("Required documents not yet received for shipments that have not departed.", size="2",
                    color=MUTED_TEXT))),
        ("invoices", rx.vstack(
            rx.hstack(
                rx.vstack(_big_link(f.open_invoices, f.open_invoices_href, "Open invoices: open the list"),
                          rx.text("open", size="2", color=MUTED_TEXT), spacing="0"),
                rx.vstack(_big_link(f.overdue_invoices, f.overdue_invoices_href, "Overdue invoices: open the list"),
                          rx.text("overdue", size="2", color=MUTED_TEXT), spacing="0"),
                spacing="6"),
            rx.foreach(s.balances, lambda b: rx.text(rx.text.strong(b.amount), " due on ",
                                                      b.count, " invoices", data_testid="balance-amount")),
            rx.link("See your statement", href=routes.PORTAL_STATEMENT))),
        ("requests", _big_link(f.open_requests, f.open_requests_href, "Open requests: open the list")),
        ("updates", rx.cond(s.updates.length() > 0, rx.vstack(rx.foreach(s.updates, lambda u: rx.box(
            rx.hstack(rx.link(u.reference, href=u.href, weight="medium"), rx.text(u.at, size="1", color=MUTED_TEXT)),
            rx.text(u.body, size="2"))), spacing="3"), rx.text("No updates yet.", color=MUTED_TEXT))),
        rx.fragment(),
    )


def _widget(w: rx.Var) -> rx.Component:
    s = PortalHomeState
    return rx.cond(
        w.visible,
        rx.card(
            rx.hstack(
                rx.heading(w.title, size="4", as_="h2"),
                rx.spacer(),
                rx.icon_button(rx.icon("arrow_up", size=14), variant="ghost", size="1",
                               on_click=s.move_widget(w.id, -1), aria_label="Move " + w.title + " up"),
                rx.icon_button(rx.icon("arrow_down", size=14), variant="ghost", size="1",
                               on_click=s.move_widget(w.id, 1), aria_label="Move " + w.title + " down"),
                rx.icon_button(rx.icon("eye_off", size=14), variant="ghost", size="1",
                               on_click=s.hide_widget(w.id), aria_label="Hide " + w.title),
                align="center",
                width="100%",
            ),
            _widget_body(w.id),
            width="100%",
            data_testid="widget-" + w.id,
        ),
        rx.fragment(),
    )


@area_page("portal", routes.PORTAL, "Home", PortalHomeState.load)
def portal_home() -> rx.Component:
    s = PortalHomeState
    return rx.vstack(
        rx.heading("Welcome, ", s.user_name, size="7", as_="h1"),
        rx.text("Figures for ", s.company_name,
                ", live from our operations record. Every figure opens the list behind it.", color=MUTED_TEXT),
        rx.cond(s.layout_error != "", error_callout(s.layout_error), rx.fragment()),
        responsive_grid(rx.foreach(s.layout, _widget), wide=2),
        rx.hstack(
            rx.text("Hidden widgets:", weight="medium"),
            rx.foreach(s.layout, lambda w: rx.cond(
                ~w.visible,
                rx.button("Show " + w.title, variant="outline", size="1", on_click=s.show_widget(w.id)),
                rx.fragment())),
            wrap="wrap",
            align="center",
        ),
        spacing="4",
        width="100%",
    )


class PortalPasswordState(PasswordChangeBase, SessionState):
    AREA: ClassVar[str] = "portal"


@area_page("portal", routes.PORTAL_PASSWORD, "Change password", PortalPasswordState.load)
def portal_password() -> rx.Component:
    return password_change_view(PortalPasswordState)
