"""One shipment: references, route, carrier, cargo, containers and the milestone timeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import (
    MODE_LABELS,
    ShipmentLine,
    fmt_datetime,
    fmt_delay,
    shipment_row_view,
)
from portal_app.components.handoff import HandoffBase, handoff_offer
from portal_app.components.ui import (
    DANGER,
    MUTED_TEXT,
    data_table,
    error_callout,
    fact_list,
    responsive_grid,
    status_badge,
)
from portal_app.services import route
from portal_app.services import shipment_activity as activity
from portal_app.services import shipments as svc
from portal_app.services.display import at_place
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.routes import link
from portal_app.ui.session import last_path_segment, page_event, run_db


@dataclass(frozen=True)
class MilestoneLine:
    """One milestone of the timeline, as shown."""

    name: str
    step: str
    code: str
    location: str
    planned: str
    estimated: str
    actual: str
    done: bool
    late: str
    source: str


@dataclass(frozen=True)
class RouteStopLine:
    """One place of the route line: its label, its state (passed, here, ahead) and that state in words."""

    name: str
    state: str
    said: str
    moving_after: bool  # the cargo left this stop and travels to the next one


STOP_WORDS = {route.PASSED: "passed", route.HERE: "the cargo is here", route.AHEAD: "ahead"}


def route_lines(r: route.Route) -> list[RouteStopLine]:
    return [RouteStopLine(name=s.name, state=s.state,
                          said="the cargo left here and is on its way" if i == r.moving_after else STOP_WORDS[s.state],
                          moving_after=i == r.moving_after)
            for i, s in enumerate(r.stops)]


@dataclass(frozen=True)
class ContainerLine:
    number: str
    size_type: str
    seal: str


@dataclass(frozen=True)
class EtaChangeLine:
    at: str
    previous: str
    new: str
    shift: str
    reason: str


@dataclass(frozen=True)
class UpdateLine:
    """A written update on the shipment (internal ones reach only staff pages)."""

    at: str
    body: str
    author: str
    internal: bool


@dataclass(frozen=True)
class RelatedRequestLine:
    reference: str
    subject: str
    status: str
    updated: str
    href: str


def _milestone_view(m: svc.MilestoneView) -> MilestoneLine:
    late = ""
    latest = m.actual_at or m.estimated_at
    if latest and m.planned_at and latest > m.planned_at:
        late = fmt_delay(int((latest - m.planned_at).total_seconds() // 60))
    return MilestoneLine(
        name=m.name,
        step=m.code,
        code=m.event_code or "",
        location=m.location or "—",
        # A step happens at its place: its times in the place's zone, with the zone's name (services/display.py).
        planned=at_place(m.planned_at, m.location_timezone),
        estimated=at_place(m.estimated_at, m.location_timezone),
        actual=at_place(m.actual_at, m.location_timezone),
        done=m.actual_at is not None,
        late=late,
        source=m.source,
    )


class ShipmentDetailBase(HandoffBase, mixin=True):
    AREA: ClassVar[str] = "portal"  # "portal" or "tower"; subclasses override

    summary: ShipmentLine = ShipmentLine.blank()
    facts: list[list[str]] = []
    milestones: list[MilestoneLine] = []
    route_stops: list[RouteStopLine] = []
    route_position: str = ""
    containers: list[ContainerLine] = []
    eta_changes: list[EtaChangeLine] = []
    updates: list[UpdateLine] = []
    requests: list[RelatedRequestLine] = []
    following: bool = False
    not_found: str = ""
    action_error: str = ""

    @page_event()
    async def load(self, principal: Principal) -> None:
        reference = last_path_segment(self.router.url.path)[:40]
        try:
            d = await run_db(svc.get_shipment, principal, reference)
        except ServiceError as exc:  # the page shows "not found" (and offers a person) in place of the shipment
            self.not_found = exc.message
            self.summary, self.facts, self.milestones, self.containers = ShipmentLine.blank(), [], [], []
            if principal.is_customer:
                self._offer_handoff(attempted=f"open shipment {reference}", error=exc.message, category="tracking")
            return
        self.not_found = ""
        self._clear_handoff()
        self.summary = shipment_row_view(d.row)
        pairs = [
            ("Mode", MODE_LABELS.get(d.row.mode, d.row.mode)),
            ("Incoterm", d.incoterm),
            ("Shipper", d.shipper_name),
            ("Consignee", d.consignee_name),
            ("Carrier", d.row.carrier),
            ("Vessel / voyage", f"{d.vessel_name} / {d.voyage_number}" if d.vessel_name else None),
            ("Flight", d.flight_number),
            ("Booking", d.booking_number),
            ("Master BL", d.mbl_number),
            ("House BL", d.hbl_number),
            ("Air waybill", d.awb_number),
            ("Customer PO", d.row.customer_po),
            ("Cargo", d.cargo_description),
            ("Packages", str(d.packages) if d.packages else None),
            ("Gross weight", f"{d.gross_weight_kg:,.1f} kg" if d.gross_weight_kg else None),
            ("Volume", f"{d.volume_cbm:,.2f} m³" if d.volume_cbm else None),
        ]
        self.facts = [[label, value] for label, value in pairs if value]
        self.milestones = [_milestone_view(m) for m in d.milestones]
        journey = route.route_of(d)
        self.route_stops, self.route_position = route_lines(journey), journey.position
        self.containers = [ContainerLine(number=c.number, size_type=c.size_type, seal=c.seal_number or "—")
                           for c in d.containers]
        await self._load_activity(principal, d.row.reference, d.destination_timezone)
        load_documents = getattr(self, "_load_documents", None)  # pages that include the documents block
        if load_documents is not None:
            await load_documents(principal, d.row.reference)
        await self._load_more(principal, d.row.reference)

    async def _load_more(self, principal: Principal, reference: str) -> None:
        """What a page adds to the shipment (the tower's workspace: versions, assignment, audit trail)."""

    @page_event()
    async def toggle_follow(self, principal: Principal) -> None:
        reference = self.summary.reference
        try:
            self.following = await run_db(activity.set_following, principal, reference, not self.following)
        except ServiceError as exc:  # shown beside the follow button, with the offer to ask a person
            self.action_error = exc.message
            if principal.is_customer:
                self._offer_handoff(attempted=f"follow shipment {reference}", error=exc.message,
                                    category="tracking", shipment_reference=reference)
        else:
            self.action_error = ""

    async def _load_activity(self, principal: Principal, reference: str, arrival_zone: str | None) -> None:
        changes = await run_db(activity.eta_history, principal, reference)
        self.eta_changes = [
            EtaChangeLine(
                at=fmt_datetime(c.changed_at),  # when it was written: the reader's zone
                previous=at_place(c.previous_eta, arrival_zone),  # arrival times: the destination's zone
                new=at_place(c.new_eta, arrival_zone),
                shift="—" if c.shift_hours is None else f"{c.shift_hours:+.0f} h",
                reason=c.reason,
            )
            for c in changes
        ]
        narrative = await run_db(activity.updates, principal, reference)
        self.updates = [
            UpdateLine(at=fmt_datetime(u.created_at), body=u.body, author=u.author, internal=u.visibility == "internal")
            for u in narrative
        ]
        related = await run_db(activity.requests_for, principal, reference)
        request_route = routes.in_area(self.AREA, routes.PORTAL_REQUEST, routes.TOWER_REQUEST)
        self.requests = [
            RelatedRequestLine(reference=r.reference, subject=r.subject, status=r.status.replace("_", " "),
                               updated=fmt_datetime(r.updated_at), href=link(request_route, reference=r.reference))
            for r in related
        ]
        self.following = await run_db(activity.is_following, principal, reference)


def _facts(state: type[ShipmentDetailBase]) -> rx.Component:
    return fact_list(state.facts)


def _route(state: type[ShipmentDetailBase]) -> rx.Component:
    """The journey as a line of places, the cargo's place marked, and where it is now in words."""
    return rx.el.section(
        rx.heading("Route", size="5", as_="h2", id="route-heading"),
        rx.text(state.route_position, weight="medium", data_testid="route-position"),
        rx.el.ol(
            rx.foreach(state.route_stops, lambda s: rx.el.li(
                rx.el.span(class_name="route-dot", aria_hidden="true"),
                rx.el.span(s.name, class_name="route-name"),
                rx.el.span(", ", s.said, class_name="sr-only"),
                class_name=rx.cond(s.moving_after, "route-stop route-moving", "route-stop"),
                data_state=s.state,
            )),
            class_name="route-line",
            aria_labelledby="route-heading",
        ),
        style={"width": "100%"},
    )


def _timeline(state: type[ShipmentDetailBase]) -> rx.Component:
    headers = ["Milestone", "Location", "Planned", "Estimated", "Actual", "Late by", "Source"]
    return data_table(
        "Milestones", headers, state.milestones,
        lambda m: rx.table.row(
            rx.table.row_header_cell(
                rx.hstack(
                    rx.cond(m.done, rx.icon("circle_check", color="var(--portal-ok)", aria_label="done"),
                            rx.icon("circle", color=MUTED_TEXT, aria_label="not yet")),
                    rx.text(m.name),
                    rx.text(m.code, size="1", color=MUTED_TEXT),
                    align="center",
                )
            ),
            rx.table.cell(m.location),
            rx.table.cell(m.planned),
            rx.table.cell(m.estimated),
            rx.table.cell(m.actual),
            rx.table.cell(rx.text(m.late, color=DANGER)),
            rx.table.cell(m.source),
        ),
        variant="surface",
        size="2",
    )


def _updates(state: type[ShipmentDetailBase]) -> rx.Component:
    return rx.cond(
        state.updates.length() > 0,
        rx.vstack(
            rx.foreach(
                state.updates,
                lambda u: rx.box(
                    rx.hstack(
                        rx.text(u.at, size="1", color=MUTED_TEXT),
                        rx.text(u.author, size="1", color=MUTED_TEXT),
                        rx.cond(u.internal, rx.badge("Internal note, not shown to the customer",
                                                     color_scheme="amber", variant="soft", high_contrast=True),
                                rx.fragment()),
                    ),
                    rx.text(u.body),
                    padding_left="8px",
                    border_left=rx.cond(u.internal, "3px solid #b54708", "3px solid #0b5cad"),
                ),
            ),
            spacing="3",
        ),
        rx.text("No updates yet.", color=MUTED_TEXT),
    )


def _eta_changes(state: type[ShipmentDetailBase]) -> rx.Component:
    return rx.cond(
        state.eta_changes.length() > 0,
        data_table("ETA changes", ("Changed", "From", "To", "Shift", "Reason"), state.eta_changes,
                   lambda c: rx.table.row(rx.table.cell(c.at), rx.table.cell(c.previous), rx.table.cell(c.new),
                                          rx.table.cell(c.shift), rx.table.cell(c.reason)), width="auto"),
        rx.text("The estimated arrival has not changed.", color=MUTED_TEXT),
    )


def _requests(state: type[ShipmentDetailBase]) -> rx.Component:
    listed = rx.cond(
        state.requests.length() > 0,
        rx.vstack(rx.foreach(state.requests, lambda r: rx.text(
            rx.link(r.reference, href=r.href, weight="bold"), " · ", r.subject, " · ", r.status, " · ",
            r.updated))),
        rx.text("No requests about this shipment.", color=MUTED_TEXT),
    )
    if state.AREA != "portal":
        return listed
    return rx.vstack(listed, rx.link("Ask our team about this shipment",
                                     href=routes.PORTAL_REQUEST_NEW + "?shipment=" + state.summary.reference))


def shipment_detail_view(state: type[ShipmentDetailBase], list_href: str) -> rx.Component:
    return rx.fragment(_detail_or_missing(state, list_href), handoff_offer(state))


def shipment_loaded(state: type[ShipmentDetailBase]) -> rx.Var:
    """Whether the page holds its shipment (false before it has loaded and when it was not found)."""
    return state.summary.reference != ""


def _detail_or_missing(state: type[ShipmentDetailBase], list_href: str) -> rx.Component:
    return rx.cond(
        state.not_found != "",
        rx.vstack(
            rx.heading("Shipment not found", size="7", as_="h1"),
            error_callout(state.not_found),
            rx.link("Back to shipments", href=list_href),
        ),
        rx.cond(shipment_loaded(state), _detail(state), rx.vstack(
            rx.heading("Shipment", size="7", as_="h1"),
            rx.text("Loading the shipment…", role="status", color=MUTED_TEXT),
        )),
    )


def _detail(state: type[ShipmentDetailBase]) -> rx.Component:
    """The shipment once loaded: until then its sections would say "no containers", "no updates"."""
    return rx.vstack(
        rx.hstack(
            rx.heading("Shipment ", state.summary.reference, size="7", as_="h1"),
            status_badge(state.summary.status),
            rx.spacer(),
            rx.button(
                rx.cond(state.following, "Unfollow", "Follow"),
                on_click=state.toggle_follow,
                variant=rx.cond(state.following, "soft", "outline"),
                aria_pressed=state.following,
                title="Following sends you this shipment's updates",
            ),
            align="center",
            width="100%",
        ),
        rx.cond(state.action_error != "", error_callout(state.action_error), rx.fragment()),
        rx.text(
            state.summary.origin, " → ", state.summary.destination, " · ",
            state.summary.eta_kind, " ", state.summary.eta, " · ", state.summary.delay,
            color=MUTED_TEXT,
        ),
        responsive_grid(
            rx.card(rx.heading("Details", size="4", as_="h2"), _facts(state)),
            rx.card(
                rx.heading("Containers", size="4", as_="h2"),
                rx.cond(
                    state.containers.length() > 0,
                    rx.vstack(
                        rx.foreach(
                            state.containers,
                            lambda c: rx.text(c.number, " · ", c.size_type, " · seal ", c.seal),
                        )
                    ),
                    rx.text("No containers on this shipment.", color=MUTED_TEXT),
                ),
            ),
            wide=2,
        ),
        _route(state),
        rx.heading("Milestones", size="5", as_="h2"),
        _timeline(state),
        responsive_grid(
            rx.card(rx.heading("Updates", size="4", as_="h2"), _updates(state)),
            rx.card(rx.heading("ETA changes", size="4", as_="h2"), _eta_changes(state)),
            wide=2,
        ),
        rx.card(rx.heading("Requests about this shipment", size="4", as_="h2"), _requests(state), width="100%"),
        spacing="4",
        width="100%",
    )
