"""Notification preferences (the portal's account page and the tower's): one row per event kind the person hears
about, a checkbox per channel, the ETA threshold where their kinds have one, and the daily-digest switch.

Which kinds a person may set comes from the verified session on the server (``notification_prefs.kinds_for``);
the page only renders the rows of its area's audience.
"""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from models.enums import Channel
from portal_app.auth.principal import Principal
from portal_app.components.ui import (
    CHECKBOX_STYLE,
    MUTED_TEXT,
    checked,
    error_callout,
    info_callout,
    labelled_input,
    primary_button,
    table_caption,
)
from portal_app.services import notification_prefs as prefs
from portal_app.services.errors import ServiceError
from portal_app.ui.session import page_event, run_db

THRESHOLD_FIELD = "eta_threshold_hours"
SHIPMENTS_FIELD = "shipments"
DIGEST_FIELD = "email_digest"


def pref_field(kind: str, channel: str) -> str:
    return f"pref_{kind}_{channel}"


class NotificationPrefsBase(rx.State, mixin=True):
    AREA: ClassVar[str] = "portal"  # "portal" or "tower"; subclasses override

    channels_on: dict[str, bool] = {}
    eta_threshold: str = str(prefs.DEFAULT_ETA_THRESHOLD_HOURS)
    email_digest: bool = False
    shipment_news: str = prefs.SHIPMENTS_ALL
    prefs_error: str = ""
    prefs_done: str = ""
    prefs_key: int = 0

    async def _load_preferences(self, principal: Principal) -> None:
        self.prefs_error = self.prefs_done = ""
        try:
            self._show_prefs(await run_db(prefs.get_preferences, principal),
                             await run_db(prefs.shipment_news, principal))
        except ServiceError as exc:  # shown in the preferences section; the rest of the page stays
            self.prefs_error = exc.message

    @page_event()
    async def save_preferences(self, principal: Principal, form: dict) -> None:
        kinds = prefs.kinds_for(principal)
        threshold: int | None = None
        if prefs.THRESHOLD_KINDS.intersection(kinds):
            raw = str(form.get(THRESHOLD_FIELD, "")).strip()
            if not raw.isdigit():
                self.prefs_done = ""
                self.prefs_error = (f"The ETA threshold must be a whole number of hours from "
                                    f"{prefs.MIN_THRESHOLD_HOURS} to {prefs.MAX_THRESHOLD_HOURS}. Nothing was saved.")
                return
            threshold = int(raw)
        digest = checked(form.get(DIGEST_FIELD))
        matrix = [
            prefs.Preference(kind, channel, checked(form.get(pref_field(kind, channel))),
                             threshold if kind in prefs.THRESHOLD_KINDS else None,
                             digest=digest if channel == Channel.EMAIL else None)
            for kind in kinds
            for channel in prefs.CHANNELS
        ]
        shipments = None if principal.is_staff else str(form.get(SHIPMENTS_FIELD) or prefs.SHIPMENTS_ALL)
        try:
            saved = await run_db(prefs.save_preferences, principal, matrix, shipments)
            news = await run_db(prefs.shipment_news, principal)
        except ServiceError as exc:  # shown in the preferences section
            self.prefs_error, self.prefs_done = exc.message, ""
            return
        self._show_prefs(saved, news)
        self.prefs_error, self.prefs_done = "", "Your notification preferences are saved."

    def _show_prefs(self, items: list[prefs.Preference], news: str) -> None:
        self.shipment_news = news
        self.channels_on = {f"{p.event_kind}:{p.channel}": p.enabled for p in items}
        thresholds = [p.threshold_hours for p in items if p.event_kind in prefs.THRESHOLD_KINDS and p.threshold_hours]
        self.eta_threshold = str(max(thresholds, default=prefs.DEFAULT_ETA_THRESHOLD_HOURS))
        self.email_digest = any(p.digest for p in items if p.channel == Channel.EMAIL and p.enabled)
        self.prefs_key += 1  # re-renders the form with the saved values


def _pref_cell(state: type[NotificationPrefsBase], kind: str, channel: str) -> rx.Component:
    field = pref_field(kind, channel)
    return rx.table.cell(
        rx.el.label(f"{prefs.CHANNEL_LABELS[channel]} for {prefs.KIND_LABELS[kind]}", html_for=field,
                    class_name="sr-only"),
        rx.el.input(type="checkbox", id=field, name=field, default_checked=state.channels_on[f"{kind}:{channel}"],
                    style=CHECKBOX_STYLE),
    )


def _shipment_news_choice(state: type[NotificationPrefsBase]) -> rx.Component:
    """Which shipments a customer hears about (staff always hear about the ones they follow)."""
    return rx.el.fieldset(
        rx.el.legend("Tell me about", style={"font_weight": "600"}),
        # Plain radio inputs: a Radix radio group would add its script to every page's download.
        *[rx.el.label(
            rx.el.input(type="radio", name=SHIPMENTS_FIELD, value=value, id=f"field-shipments-{value}",
                        default_checked=state.shipment_news == value, style=CHECKBOX_STYLE),
            label,
            html_for=f"field-shipments-{value}",
            style={"display": "flex", "gap": "8px", "align_items": "center"},
        ) for value, label in prefs.SHIPMENT_NEWS_LABELS.items()],
        rx.text("Following a shipment (on its page) adds it either way.", size="1", color=MUTED_TEXT),
        style={"border": "none", "padding": "0", "margin": "0", "display": "flex", "flex_direction": "column",
               "gap": "6px"},
    )


def preferences_section(state: type[NotificationPrefsBase], kinds: tuple[str, ...], intro: str) -> rx.Component:
    """The form for ``kinds`` (the area's audience: ``prefs.CUSTOMER_KINDS`` or ``prefs.STAFF_KINDS``)."""
    threshold_input = (
        [labelled_input(
            "Tell me about ETA changes only when the ETA moves by more than (hours)", THRESHOLD_FIELD,
            type="number", min=prefs.MIN_THRESHOLD_HOURS, max=prefs.MAX_THRESHOLD_HOURS, step=1,
            default_value=state.eta_threshold, required=True, max_width="200px",
        )]
        if prefs.THRESHOLD_KINDS.intersection(kinds) else []
    )
    return rx.el.section(
        rx.heading("Notification preferences", size="5", as_="h2", id="prefs-heading"),
        rx.text(intro, color=MUTED_TEXT),
        rx.cond(state.prefs_error != "", error_callout(state.prefs_error), rx.fragment()),
        rx.cond(state.prefs_done != "", info_callout(state.prefs_done), rx.fragment()),
        rx.el.form(
            rx.vstack(
                *([_shipment_news_choice(state)] if kinds == prefs.CUSTOMER_KINDS else []),
                rx.table.root(
                    table_caption("Notification preferences"),
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell("Event", scope="col"),
                        *[rx.table.column_header_cell(prefs.CHANNEL_LABELS[c], scope="col") for c in prefs.CHANNELS],
                    )),
                    rx.table.body(*[
                        rx.table.row(
                            rx.table.row_header_cell(prefs.KIND_LABELS[kind], scope="row"),
                            *[_pref_cell(state, kind, channel) for channel in prefs.CHANNELS],
                        )
                        for kind in kinds
                    ]),
                    variant="surface",
                    max_width="520px",
                ),
                *threshold_input,
                rx.el.label(
                    rx.el.input(type="checkbox", id=f"field-{DIGEST_FIELD}", name=DIGEST_FIELD,
                                default_checked=state.email_digest,
                                style={**CHECKBOX_STYLE, "margin_right": "8px", "vertical_align": "middle"}),
                    "Send my emails as one daily summary instead of as they happen",
                    html_for=f"field-{DIGEST_FIELD}",
                ),
                primary_button("Save notification preferences", type="submit"),
                spacing="3",
                width="100%",
            ),
            on_submit=state.save_preferences,
            key=state.prefs_key,
            width="100%",
        ),
        aria_labelledby="prefs-heading",
        style={"width": "100%", "display": "flex", "flex_direction": "column", "gap": "12px"},
    )
