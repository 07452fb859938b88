"""On the customer's shipment page: ask to amend a booking (ready date, parties, cargo) or to cancel it, and see
each request and our decision. Nothing on the shipment changes until ops approves (``services/bookings``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import fmt_datetime
from portal_app.components.ui import (
    DANGER,
    MUTED_TEXT,
    error_callout,
    info_callout,
    primary_button,
    responsive_grid,
    secondary_button,
)
from portal_app.components.work_queue import text_field
from portal_app.services import bookings
from portal_app.services.errors import FormInvalid, ServiceError
from portal_app.ui.session import page_event, run_db

CHANGEABLE = ("booked", "confirmed")
DECISION_WORDS = {"pending": "Waiting for our decision", "approved": "Approved", "rejected": "Not approved"}


@dataclass(frozen=True)
class ChangeRow:
    """One change or cancellation request of the booking and our decision, as shown."""

    id: str
    what: str
    reason: str
    status: str
    status_words: str
    decision: str
    when: str


def change_view(cr: bookings.ChangeRequestView) -> ChangeRow:
    if cr.kind == "cancel":
        what = "Cancel the booking"
    else:
        what = "; ".join(f"{bookings.AMENDABLE_FIELDS.get(k, k)}: {cr.current.get(k) or '—'} → {v}"
                         for k, v in cr.changes.items())
    return ChangeRow(id=str(cr.id), what=what, reason=cr.reason or "", status=cr.status,
                     status_words=DECISION_WORDS.get(cr.status, cr.status), decision=cr.decision_reason or "",
                     when=fmt_datetime(cr.created_at))


class BookingChangesBase(rx.State, mixin=True):
    """Change and cancellation requests of the page's shipment. Call ``_load_changes`` from the page's load."""

    change_rows: list[ChangeRow] = []
    change_errors: dict[str, str] = {}
    change_error: str = ""
    change_notice: str = ""
    change_key: int = 0
    can_change: bool = False
    _change_ref: str = ""

    async def _load_changes(self, principal: Principal, reference: str, status: str) -> None:
        self._change_ref = reference
        self.can_change = status.replace(" ", "_") in CHANGEABLE
        page = await run_db(bookings.list_change_requests, principal, shipment_reference=reference, page_size=20)
        self.change_rows = [change_view(cr) for cr in page.rows]

    async def _send(self, principal: Principal, action: Callable[..., Any], *args: Any) -> None:
        # A refusal shows in this section (its fields and message), not in the rest of the shipment page.
        try:
            await run_db(action, principal, self._change_ref, *args)
        except FormInvalid as exc:
            self.change_errors, self.change_error, self.change_notice = dict(exc.fields), exc.message, ""
            return
        except ServiceError as exc:
            self.change_errors, self.change_error, self.change_notice = {}, exc.message, ""
            return
        self.change_errors, self.change_error, self.change_key = {}, "", self.change_key + 1
        self.change_notice = ("Sent. Your booking stays as it is until our team decides; you will be notified.")
        page = await run_db(bookings.list_change_requests, principal, shipment_reference=self._change_ref,
                            page_size=20)
        self.change_rows = [change_view(cr) for cr in page.rows]

    @page_event("portal")
    async def request_amendment(self, principal: Principal, form: dict) -> None:
        changes = {k: str(v).strip() for k, v in form.items() if k in bookings.AMENDABLE_FIELDS and str(v).strip()}
        if not changes:
            self.change_errors, self.change_notice = {}, ""
            self.change_error = "Fill in at least one new value. Nothing was sent."
            return
        await self._send(principal, bookings.request_change, changes, str(form.get("reason", "")).strip() or None)

    @page_event("portal")
    async def request_cancel(self, principal: Principal, form: dict) -> None:
        await self._send(principal, bookings.request_cancellation, str(form.get("reason", "")).strip())


AMEND_INPUTS = [("ready_date", "New ready date", {"type": "date"}), ("shipper_name", "Shipper", {}),
                ("consignee_name", "Consignee", {}), ("customer_po", "Your reference (PO)", {}),
                ("cargo_description", "Cargo description", {}), ("packages", "Packages", {"type": "number"}),
                ("gross_weight_kg", "Gross weight (kg)", {"inputmode": "decimal"}),
                ("volume_cbm", "Volume (m3)", {"inputmode": "decimal"})]


def booking_changes_view(state: type[BookingChangesBase]) -> rx.Component:
    def field(name: str, label: str, props: dict) -> rx.Component:
        field_id = f"change-{name}"
        return rx.box(
            rx.el.label(label, html_for=field_id, style={"display": "block", "font_weight": "600"}),
            rx.input(id=field_id, name=name, width="100%", aria_describedby=field_id + "-error", **props),
            rx.cond(state.change_errors.contains(name),
                    rx.text(state.change_errors[name], id=field_id + "-error", color=DANGER, size="2",
                            role="alert"), rx.fragment()),
        )

    history = rx.cond(
        state.change_rows.length() > 0,
        rx.vstack(rx.foreach(state.change_rows, lambda c: rx.box(
            rx.text(rx.text.strong(c.status_words), " · ", c.when, size="2"),
            rx.text(c.what),
            rx.cond(c.reason != "", rx.text("Your reason: ", c.reason, size="2", color=MUTED_TEXT),
                    rx.fragment()),
            rx.cond(c.decision != "", rx.text("Our answer: ", c.decision, size="2"), rx.fragment()),
            padding_left="8px", border_left="3px solid #0b5cad",
        )), spacing="3", data_testid="change-requests"),
        rx.text("No change requests for this booking.", color=MUTED_TEXT),
    )
    forms = rx.cond(
        state.can_change,
        responsive_grid(
            rx.el.details(
                rx.el.summary("Ask to change the booking", style={"cursor": "pointer", "font_weight": "600"}),
                rx.el.form(
                    rx.vstack(
                        rx.text("Fill in only what should change.", size="2", color=MUTED_TEXT),
                        responsive_grid(*[field(n, label, props) for n, label, props in AMEND_INPUTS], wide=2,
                                        spacing="3"),
                        text_field("Why (optional)", "reason", "change-reason", rows="2"),
                        primary_button("Send the change request", type="submit"),
                        spacing="3", width="100%",
                    ),
                    on_submit=state.request_amendment, reset_on_submit=False, key=state.change_key,
                    aria_label="Ask to change the booking",
                ),
            ),
            rx.el.details(
                rx.el.summary("Ask to cancel the booking", style={"cursor": "pointer", "font_weight": "600"}),
                rx.el.form(
                    rx.vstack(
                        text_field("Why do you want to cancel?", "reason", "cancel-reason", rows="2"),
                        secondary_button("Send the cancellation request", type="submit"),
                        spacing="3", width="100%",
                    ),
                    on_submit=state.request_cancel, key=state.change_key, aria_label="Ask to cancel the booking",
                ),
            ),
            wide=2,
        ),
        rx.text("This shipment has left or closed; changes go through a request to our team.", size="2",
                color=MUTED_TEXT),
    )
    return rx.card(
        rx.vstack(
            rx.heading("Change or cancel the booking", size="4", as_="h2"),
            rx.cond(state.change_notice != "", info_callout(state.change_notice, data_testid="change-notice"),
                    rx.fragment()),
            rx.cond(state.change_error != "", error_callout(state.change_error, data_testid="change-error"),
                    rx.fragment()),
            forms,
            history,
            spacing="3", width="100%",
        ),
        width="100%",
    )
