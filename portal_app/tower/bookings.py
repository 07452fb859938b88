"""Tower: bookings awaiting confirmation. Confirm with the carrier's booking number, or reject with a reason the
customer reads; the row leaves the list and the result is announced. ``services/bookings.py`` does the work."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import MODE_LABELS, fmt_date, fmt_datetime
from portal_app.components.layout import area_page
from portal_app.components.ui import MUTED_TEXT, primary_button, responsive_grid, secondary_button
from portal_app.components.work_queue import (
    PAGE_SIZE,
    PagedQueueBase,
    checked_input,
    decision_panel,
    queue_page,
    queue_table,
    reason_field,
)
from portal_app.services import bookings as svc
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db


@dataclass(frozen=True)
class BookingLine:
    """A booking waiting for its decision, as the queue shows it."""

    reference: str
    href: str
    quote: str
    company: str
    mode: str
    lane: str
    carrier: str
    ready: str
    price: str
    booked_by: str
    booked_at: str


def booking_row_view(row: svc.BookingRow) -> BookingLine:
    return BookingLine(
        reference=row.shipment_reference,
        href=routes.link(routes.TOWER_SHIPMENT, reference=row.shipment_reference),
        quote=row.quote_reference or "—",
        company=row.company_name,
        mode=MODE_LABELS.get(row.mode, row.mode),
        lane=f"{row.origin} → {row.destination}",
        carrier=row.carrier or "—",
        ready=fmt_date(row.ready_date),
        price=row.total_text or "—",
        booked_by=row.booked_by or "—",
        booked_at=fmt_datetime(row.created_at),
    )


class TowerBookingsState(PagedQueueBase, SessionState):
    rows: list[BookingLine] = []
    def _query(self):  # noqa: ANN202
        return svc.pending_bookings, {"page": self.page, "page_size": PAGE_SIZE}

    def _row(self, item: svc.BookingRow) -> BookingLine:
        return booking_row_view(item)

    @page_event()
    async def confirm(self, principal: Principal, form: dict) -> None:
        reference = self.selected
        number = str(form.get("booking_number", "")).strip()
        try:
            await run_db(svc.confirm_booking, principal, reference, carrier_booking_number=number,
                         note=str(form.get("note", "")))
        except ServiceError as exc:
            self._refusal(exc, "booking_number")
            return
        carrier = f" with carrier booking {number}" if number else ""
        await self._decided(principal, f"Booking {reference} confirmed{carrier}. The customer sees the update and "
                                       "was notified.")

    @page_event()
    async def reject(self, principal: Principal, form: dict) -> None:
        reference = self.selected
        try:
            await run_db(svc.reject_booking, principal, reference, str(form.get("reason", "")))
        except ServiceError as exc:
            self._refusal(exc)
            return
        await self._decided(principal, f"Booking {reference} rejected and cancelled. The customer reads your reason "
                                       "and was notified.")


S = TowerBookingsState


def _decision_panel() -> rx.Component:
    return decision_panel(
        S, "Decide booking ", "booking-decision",
        responsive_grid(
            rx.el.form(
                rx.vstack(
                    rx.heading("Confirm", size="3", as_="h3"),
                    checked_input("Carrier's booking number", "booking_number", S.field_errors,
                                  hint="As the carrier gave it; customers can search by it."),
                    checked_input("Note for the customer (optional)", "note", S.field_errors),
                    primary_button("Confirm booking", type="submit"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=S.confirm,
                aria_label="Confirm booking",
            ),
            rx.el.form(
                rx.vstack(
                    rx.heading("Reject", size="3", as_="h3"),
                    reason_field("Reason for the customer", S.field_errors,
                                 hint="Required. The customer reads it, e.g. “No space on the vessel that week.”"),
                    rx.button("Reject booking", type="submit", color_scheme="red", variant="outline",
                              cursor="pointer"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=S.reject,
                aria_label="Reject booking",
            ),
            wide=2,
            spacing="5",
            width="100%",
        ),
        secondary_button("Close", on_click=S.close_panel, size="1"),
    )


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(r.reference, href=r.href, weight="bold")),
        rx.table.cell(r.company),
        rx.table.cell(r.mode),
        rx.table.cell(r.lane),
        rx.table.cell(r.carrier),
        rx.table.cell(r.ready),
        rx.table.cell(r.price),
        rx.table.cell(rx.text(r.booked_by), rx.text(r.booked_at, size="1", color=MUTED_TEXT)),
        rx.table.cell(secondary_button("Decide", on_click=S.select_row(r.reference), size="1",
                                       aria_label="Decide " + r.reference)),
    )


@area_page("tower", routes.TOWER_BOOKINGS, "Bookings to confirm", TowerBookingsState.load)
def tower_bookings() -> rx.Component:
    headers = ["Shipment", "Customer", "Mode", "Lane", "Carrier", "Ready", "Price", "Booked", "Action"]
    return queue_page(
        S, "Bookings awaiting confirmation",
        rx.text(S.total, " bookings wait for the carrier's confirmation, oldest first.", color=MUTED_TEXT,
                data_testid="booking-count"),
        _decision_panel(),
        queue_table(S, "Bookings awaiting confirmation", headers, _row,
                    "No bookings are waiting. New ones appear here when customers accept a quote."),
    )
