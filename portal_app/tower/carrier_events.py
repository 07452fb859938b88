"""Tower: carrier events to match. Track & trace events a carrier sent that named no shipment the portal knows;
staff type the shipment each belongs to, the event is applied to it, and (ticked by default) the container is
remembered for that shipment so the carrier's later events find it by themselves
(``services/carrier_events/queue.py``)."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.components.formatting import fmt_datetime
from portal_app.components.layout import area_page
from portal_app.components.ui import MUTED_TEXT, data_table, error_callout, info_callout, primary_button
from portal_app.services.carrier_events import queue as svc
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

ROUTE = routes.TOWER_CARRIER_EVENTS
DENIED = ("Matching carrier events is for staff who edit shipments. Ask an ops manager; nothing was changed.")


@dataclass(frozen=True)
class UnmatchedLine:
    """One event waiting for its shipment."""

    id: int
    carrier: str
    event: str
    event_at: str
    references: str
    place: str
    received: str
    field_id: str


def _lines(db, principal):  # noqa: ANN001, ANN202
    return [UnmatchedLine(id=r.id, carrier=r.carrier, event=r.event, event_at=fmt_datetime(r.event_at),
                          references=r.references, place=r.location_code or "—", received=fmt_datetime(r.received_at),
                          field_id=f"match-shipment-{r.id}")
            for r in svc.unmatched(db, principal)]


class CarrierEventsState(SessionState):
    rows: list[UnmatchedLine] = []
    denied: bool = False
    notice: str = ""
    error: str = ""

    def _may(self, principal: Principal) -> bool:
        self.denied = not (principal.can(Permission.USE_TOWER) and principal.can(Permission.EDIT_SHIPMENTS))
        return not self.denied

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        if not self._may(principal):
            return
        self.notice, self.error = "", ""
        self.rows = await run_db(_lines, principal)

    @page_event("tower")
    async def match(self, principal: Principal, form: dict) -> None:
        if not self._may(principal):
            return
        try:
            event_id = int(str(form.get("event_id", "")).strip())
        except ValueError:
            self.notice, self.error = "", "Choose an event in the list; nothing was changed."
            return
        reference = str(form.get("shipment_reference", "") or "").strip()[:20]
        remember = str(form.get("remember", "") or "").lower() in {"on", "true", "1"}
        try:
            done = await run_db(svc.match, principal, event_id, reference, remember_container=remember)
        except ServiceError as exc:
            self.notice, self.error = "", exc.message
            return
        kept = f" Later events of container {done.remembered} go to it too." if done.remembered else ""
        outcome = "applied to" if done.outcome == "applied" else "matched to (it changed nothing:"
        tail = ")" if done.outcome != "applied" else ""
        self.notice = (f"The event is {outcome} {done.shipment_reference}"
                       + (f" {done.note}" if done.outcome != "applied" and done.note else "") + tail + "." + kept)
        self.error = ""
        self.rows = await run_db(_lines, principal)


S = CarrierEventsState


def _row(r: UnmatchedLine) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r.carrier), rx.table.cell(r.event), rx.table.cell(r.event_at), rx.table.cell(r.place),
        rx.table.cell(r.references), rx.table.cell(r.received),
        rx.table.cell(rx.el.form(
            rx.el.input(type="hidden", name="event_id", value=r.id.to_string()),
            rx.hstack(
                rx.el.label("Shipment for event " + r.id.to_string(), html_for=r.field_id,
                            class_name="sr-only"),
                rx.input(id=r.field_id, name="shipment_reference", placeholder="SH0000123", width="9rem",
                         required=True),
                rx.el.label(rx.el.input(type="checkbox", name="remember", default_checked=True),
                            " remember container", style={"display": "flex", "gap": "4px",
                                                           "align_items": "center", "font_size": "0.85em"}),
                primary_button("Match", type="submit", aria_label="Match event " + r.id.to_string()),
                spacing="2", align="center", wrap="wrap",
            ),
            on_submit=S.match, aria_label="Match event " + r.id.to_string(), reset_on_submit=True,
        )),
    )


@area_page("tower", ROUTE, "Carrier events to match", S.load)
def carrier_events() -> rx.Component:
    return rx.vstack(
        rx.heading("Carrier events to match", size="7", as_="h1"),
        rx.cond(
            S.denied,
            rx.callout(DENIED, icon="lock", role="alert", width="100%"),
            rx.vstack(
                rx.text("Track & trace events carriers sent that name no shipment the portal knows (an unknown "
                        "container, booking or B/L). Type the shipment an event belongs to: it is applied as if it "
                        "had matched, and the container is remembered for that shipment.", color=MUTED_TEXT),
                rx.cond(S.notice != "", info_callout(S.notice, data_testid="carrier-events-notice"), rx.fragment()),
                rx.cond(S.error != "", error_callout(S.error, data_testid="carrier-events-error"), rx.fragment()),
                rx.cond(S.rows.length() == 0,
                        rx.text("Nothing to match: every carrier event found its shipment.", color=MUTED_TEXT),
                        data_table("Carrier events to match", ["Carrier", "Event", "When", "Place", "References",
                                                               "Received", "Shipment"], S.rows, _row)),
                spacing="4", width="100%",
            ),
        ),
        spacing="4", width="100%",
    )
