"""Portal: the confirm step of a booking on the quote page. Before "Book now" the customer sees the option
chosen (carrier, all-in price with its currency, transit time, planned departure, free time) and the cargo of the
quote (volume computed from the dimensions), with the parties filled in from the company's last booking and the
reference and cargo description from the quote, every field still theirs to change.

The view is built from ``services/bookings.booking_details``; the state lives on the quote page
(:mod:`portal_app.portal.quotes`), which passes its class to :func:`booking_form`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import reflex as rx

from portal_app.components.formatting import fmt_date, fmt_datetime
from portal_app.components.ui import DANGER, MUTED_TEXT, fact_list, primary_button, responsive_grid, secondary_button
from portal_app.services import bookings, quotes
from portal_app.services.trade_codes import DG_CLASSES

# The booking form's fields that are filled in before the customer sees them (``BookingInput``'s names).
PREFILLED = ("shipper_name", "shipper_address", "consignee_name", "consignee_address", "notify_party",
             "customer_reference", "cargo_description")


def _number(value: Decimal | None) -> str:
    return format(value.normalize(), ",f") if value is not None else "?"


def cargo_line_text(ln: quotes.CargoLineView) -> str:
    """One cargo line in words: "2 x 40' high cube · Furniture" or
    "3 packages of 120 × 80 × 100 cm, 2.880 m³, 250 kg · Pallets"."""
    if ln.container_size_type:
        text = f"{ln.container_count or '?'} x {ln.container_type or ln.container_size_type}"
    else:
        text = "1 package" if ln.packages == 1 else f"{ln.packages or '?'} packages"
        if ln.length_cm and ln.width_cm and ln.height_cm:
            text += f" of {_number(ln.length_cm)} × {_number(ln.width_cm)} × {_number(ln.height_cm)} cm"
        if ln.volume_m3 is not None:
            text += f", {ln.volume_m3:,.3f} m³"
        text += f", {_number(ln.weight_kg)} kg"
    if ln.description:
        text += f" · {ln.description}"
    if ln.is_dangerous_goods:
        what = DG_CLASSES.get(ln.dg_class or "", "")
        text += f" · dangerous goods UN {ln.un_number}, class {ln.dg_class}" + (f" ({what.lower()})" if what else "")
    return text


@dataclass(frozen=True)
class BookingConfirm:
    """The confirm step as shown (empty until a booking form is opened)."""

    carrier: str = ""
    total: str = ""
    transit: str = ""
    ready: str = ""
    departure: str = ""
    free_time: str = ""
    valid: str = ""
    weight: str = ""
    volume: str = ""
    parties_note: str = ""


def confirm_view(d: bookings.BookingDetails) -> tuple[BookingConfirm, list[str], dict[str, str]]:
    """The option and cargo in words, the cargo lines, and the form's filled-in values by field."""
    view = BookingConfirm(
        carrier=d.carrier_name or d.carrier_code or "Our team's price (carrier confirmed at booking)",
        total=f"{d.total_text} all-in", transit=f"{d.transit_days} days in transit", ready=fmt_date(d.ready_date),
        departure=f"about {fmt_date(d.planned_departure)}" if d.planned_departure else "—",
        free_time=d.free_time or "", valid=fmt_datetime(d.valid_until), weight=f"{d.gross_weight_kg:,.1f} kg",
        volume=f"{d.volume_m3:,.3f} m³" if d.volume_m3 else "—",
        parties_note=(f"Parties filled in from your last booking, {d.parties_from}. Check them and change what "
                      "differs this time." if d.parties_from else
                      "This is your first booking with us: enter the parties once and we fill them in next time."),
    )
    values = {f: getattr(d, f) or "" for f in PREFILLED}
    return view, [cargo_line_text(ln) for ln in d.lines], values


def booking_form(state: Any) -> rx.Component:
    """The confirm step: the option chosen, the cargo, then the booking's fields (filled in) and "Book now".

    ``state`` is the quote page's state class (``confirm``, ``confirm_lines``, ``prefill``, ``booking_option``,
    ``booking_errors``, ``booking`` and the ``book`` and ``close_booking`` events)."""
    c = state.confirm

    def field(label: str, name: str, **props: Any) -> rx.Component:
        field_id = f"booking-{name}"
        return rx.box(
            rx.el.label(label, html_for=field_id, style={"display": "block", "font_weight": "600"}),
            # keyed by the option: opening another option's form shows that form's values
            rx.input(id=field_id, name=name, width="100%", aria_describedby=field_id + "-error",
                     default_value=state.prefill[name], key=state.booking_option + "-" + name, **props),
            rx.cond(state.booking_errors.contains(name),
                    rx.text(state.booking_errors[name], id=field_id + "-error", color=DANGER, size="2",
                            role="alert"),
                    rx.fragment()),
            width="100%",
        )

    chosen = rx.box(
        rx.heading("Your choice", size="4", as_="h3"),
        fact_list([("Carrier", c.carrier), ("Price", c.total), ("Transit time", c.transit),
                   ("Cargo ready", c.ready), ("Planned departure", c.departure), ("Price valid until", c.valid)],
                  strong=True),
        rx.cond(c.free_time != "", fact_list([("Free time", c.free_time)], strong=True), rx.fragment()),
        data_testid="booking-option",
        width="100%",
    )
    cargo = rx.box(
        rx.heading("Cargo", size="4", as_="h3"),
        fact_list([("Gross weight", c.weight), ("Volume", c.volume)]),
        rx.vstack(rx.foreach(state.confirm_lines, lambda line: rx.text(line, size="2")), spacing="1"),
        data_testid="booking-cargo",
        width="100%",
    )
    return rx.card(
        rx.el.form(
            rx.vstack(
                rx.heading("Confirm the booking", size="5", as_="h2"),
                rx.text("Check the option, the parties and the cargo. The booking goes to our team for "
                        "confirmation; you are told when it is confirmed.", size="2", color=MUTED_TEXT),
                responsive_grid(chosen, cargo, wide=2, spacing="4"),
                rx.heading("Parties", size="4", as_="h3"),
                rx.text(c.parties_note, size="2", color=MUTED_TEXT, data_testid="parties-note"),
                responsive_grid(
                    field("Shipper", "shipper_name", max_length=200),
                    field("Consignee", "consignee_name", max_length=200),
                    field("Shipper address (optional)", "shipper_address", max_length=400),
                    field("Consignee address (optional)", "consignee_address", max_length=400),
                    field("Notify party (optional)", "notify_party", max_length=200),
                    field("Your reference or PO (optional)", "customer_reference", max_length=40),
                    wide=2, spacing="3",
                ),
                field("Cargo description", "cargo_description", max_length=400),
                rx.el.label(
                    rx.checkbox(name="cargo_confirmed", id="booking-cargo-confirmed"),
                    " The cargo is as described in the quote request",
                    html_for="booking-cargo-confirmed",
                    style={"display": "flex", "gap": "6px", "align_items": "center", "font_weight": "600"},
                ),
                rx.cond(state.booking_errors.contains("cargo_confirmed"),
                        rx.text(state.booking_errors["cargo_confirmed"], color=DANGER, size="2", role="alert"),
                        rx.fragment()),
                rx.hstack(
                    primary_button("Book now", type="submit", disabled=state.booking),
                    secondary_button("Cancel", type="button", on_click=state.close_booking),
                    rx.cond(state.booking, rx.hstack(rx.spinner(), rx.text("Booking…"), role="status"),
                            rx.fragment()),
                    align="center",
                ),
                spacing="3", width="100%",
            ),
            on_submit=state.book,
            aria_label="Confirm the booking",
        ),
        width="100%",
        data_testid="booking-form",
    )
