"""Tower: configuration, carrier connections (DCSA Track & Trace). Connect a carrier (its callback URL and
subscription id to give it; the integration key shown once), see each connection's counts and its log of refused
events, delete one. Administrators only; the rules are ``services/carrier_events/connections.py``'s."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import fmt_datetime
from portal_app.components.layout import area_page
from portal_app.components.one_time_secret import one_time_secret, reveal
from portal_app.components.ui import MUTED_TEXT, data_table, primary_button, responsive_grid, secondary_button
from portal_app.components.work_queue import checked_input, stacked_form
from portal_app.services.carrier_events import connections as svc
from portal_app.services.errors import FormInvalid
from portal_app.services.inputs import parse
from portal_app.tower.config_base import ConfigMixin, config_page, form_text
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

ROUTE = routes.TOWER_CONFIG_CARRIERS
KEY_FIELD_ID = "carrier-integration-key"


@dataclass(frozen=True)
class CarrierConnectionLine:
    """One connection in the list (never its secret)."""

    id: int
    name: str
    carrier_code: str
    subscription_id: str
    created: str
    events: int
    refused: int


@dataclass(frozen=True)
class RefusalLine:
    """One refused event of the connection's log."""

    received: str
    event_id: str
    reason: str


def connection_from_form(form: dict) -> svc.NewConnection:
    return parse(svc.NewConnection, {"name": form_text(form, "name", 200),
                                     "carrier_code": form_text(form, "carrier_code", 20),
                                     "secret": form_text(form, "secret", svc.MAX_SECRET + 50)})


def _lines(db, principal):  # noqa: ANN001, ANN202
    return [CarrierConnectionLine(id=c.id, name=c.name, carrier_code=c.carrier_code, subscription_id=c.subscription_id,
                                  created=fmt_datetime(c.created_at), events=c.events, refused=c.refused)
            for c in svc.list_connections(db, principal)]


def _log(db, principal, connection_id: int):  # noqa: ANN001, ANN202
    return [RefusalLine(received=fmt_datetime(r.received_at), event_id=r.event_id or "(none)", reason=r.reason)
            for r in svc.refusal_log(db, principal, connection_id)]


class ConfigCarriersState(ConfigMixin, SessionState):
    rows: list[CarrierConnectionLine] = []
    callback_url: str = ""
    events_url: str = ""
    made_name: str = ""
    made_subscription: str = ""
    key_shown: bool = False
    log_name: str = ""
    refusals: list[RefusalLine] = []

    async def _fetch(self, principal: Principal) -> None:
        self.rows = await run_db(_lines, principal)
        self.callback_url, self.events_url = svc.callback_url(), svc.events_url()

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        if not self._may_configure(principal):
            return
        self.notice, self.error, self.field_errors = "", "", {}
        self.made_name, self.made_subscription, self.key_shown = "", "", False
        self.log_name, self.refusals = "", []
        await self._fetch(principal)

    @page_event("tower")
    async def create(self, principal: Principal, form: dict):  # noqa: ANN201
        if not self._may_configure(principal):
            return None
        try:
            body = connection_from_form(form)
        except FormInvalid as exc:
            self._service_refused(exc)
            return None
        made = await self._save(principal, svc.create_connection, body, done="")
        if made is None:
            return None
        self.notice = (f"{made.name} is connected. Give the carrier the callback URL, the subscription id "
                       f"{made.subscription_id} and the secret you agreed (DCSA 2.2), or the events URL and the "
                       "integration key below (DCSA 3.0).")
        self.made_name, self.made_subscription, self.key_shown = made.name, made.subscription_id, True
        await self._fetch(principal)
        return reveal(KEY_FIELD_ID, made.api_key)

    @page_event("tower")
    async def delete(self, principal: Principal, connection_id: int) -> None:
        if not self._may_configure(principal):
            return
        name = next((r.name for r in self.rows if r.id == int(connection_id)), "The connection")
        await self._save(principal, svc.delete_connection, int(connection_id),
                         done=f"{name} is deleted: its subscription id, secret and key no longer work. Its events "
                              "stay on the shipments.")
        self.key_shown = False
        await self._fetch(principal)

    @page_event("tower")
    async def show_log(self, principal: Principal, connection_id: int) -> None:
        if not self._may_configure(principal):
            return
        self.log_name = next((r.name for r in self.rows if r.id == int(connection_id)), "")
        self.refusals = await run_db(_log, principal, int(connection_id))


S = ConfigCarriersState


def _addresses() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("What the carrier needs", size="4", as_="h2"),
        rx.text("DCSA 2.2 callback URL: ", rx.code(S.callback_url, data_testid="carrier-callback-url"),
                " with the headers Subscription-ID and Notification-Signature (sha256 HMAC of the body with the "
                "shared secret).", size="2"),
        rx.text("DCSA 3.0 events URL: ", rx.code(S.events_url), " with Authorization: Bearer and the connection's "
                "integration key.", size="2"),
        rx.cond(S.made_subscription != "",
                rx.text("Subscription id of ", S.made_name, ": ",
                        rx.code(S.made_subscription, data_testid="carrier-subscription-id"), size="2"),
                rx.fragment()),
        one_time_secret(KEY_FIELD_ID, "Integration key (DCSA 3.0), shown once", S.key_shown,
                        "Copy it now: the portal keeps only its hash.", "carrier-integration-key", width_em=30),
        spacing="2", width="100%",
    ), width="100%")


def _form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Connect a carrier", size="4", as_="h2"),
        stacked_form(
            responsive_grid(
                checked_input("Connection name", "name", S.field_errors, input_id="carrier-name",
                              hint="e.g. Maersk track & trace"),
                checked_input("Carrier code (SCAC)", "carrier_code", S.field_errors, input_id="carrier-code",
                              hint="e.g. MAEU"),
                checked_input("Shared secret", "secret", S.field_errors, input_id="carrier-secret", type="password",
                              auto_complete="off", hint=f"The secret agreed with the carrier, at least "
                              f"{svc.MIN_SECRET} characters; stored encrypted, never shown again"),
                wide=3,
            ),
            rx.hstack(primary_button("Connect carrier", type="submit")),
            on_submit=S.create, label="New carrier connection", key=S.form_key,
        ),
        spacing="3", width="100%",
    ), width="100%")


def _row(r: CarrierConnectionLine) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r.name), rx.table.cell(r.carrier_code), rx.table.cell(rx.code(r.subscription_id)),
        rx.table.cell(r.created), rx.table.cell(r.events), rx.table.cell(r.refused),
        rx.table.cell(rx.hstack(
            secondary_button("Refused events", type="button", on_click=S.show_log(r.id),
                             aria_label="Refused events of " + r.name),
            secondary_button("Delete", type="button", on_click=S.delete(r.id), aria_label="Delete " + r.name),
            spacing="2",
        )),
    )


def _list() -> rx.Component:
    return data_table("Carrier connections", ["Name", "Carrier", "Subscription id", "Created", "Events", "Refused",
                                              "Actions"], S.rows, _row)


def _log_view() -> rx.Component:
    return rx.cond(
        S.log_name != "",
        rx.vstack(
            rx.heading("Refused events of ", S.log_name, size="4", as_="h2"),
            rx.cond(S.refusals.length() == 0,
                    rx.text("None: every event this carrier sent was valid.", color=MUTED_TEXT),
                    data_table("Refused events", ["Received", "Event id", "Why"], S.refusals,
                               lambda f: rx.table.row(rx.table.cell(f.received), rx.table.cell(f.event_id),
                                                      rx.table.cell(f.reason)))),
            width="100%",
        ),
        rx.fragment(),
    )


@area_page("tower", ROUTE, "Configuration: carrier connections", S.load)
def config_carriers() -> rx.Component:
    return config_page(
        S, ROUTE, "Carrier connections",
        "Carriers send track & trace events (DCSA) that move the shipments' milestones and ETAs. Each carrier gets "
        "its own connection; the shared secret is stored encrypted and never shown again. See docs/integrations.md.",
        _addresses(),
        _form(),
        _list(),
        _log_view(),
    )
