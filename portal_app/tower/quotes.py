"""Tower: the manual-quote queue (requests no rate card could price), most urgent SLA first, with the time left
or how long ago it was breached; price a request by hand with several charge lines
(``quotes.add_manual_option``): the request reads quoted and the customer is notified."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import MODE_LABELS, fmt_date, fmt_datetime
from portal_app.components.layout import area_page
from portal_app.components.ui import (
    DANGER,
    MUTED_TEXT,
    responsive_grid,
    secondary_button,
    table_caption,
)
from portal_app.components.work_queue import (
    PAGE_SIZE,
    PagedQueueBase,
    checked_input,
    decision_panel,
    field_error,
    fmt_time_left,
    line_errors,
    native_select,
    queue_page,
    queue_table,
    submit_or_close,
)
from portal_app.services import clock, rating
from portal_app.services import quotes as svc
from portal_app.services.errors import FormInvalid, ServiceError
from portal_app.services.inputs import parse
from portal_app.services.trade_codes import PRICING_CURRENCIES
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

MAX_CHARGE_LINES = svc.MAX_LINES
BASES = {b: rating.BASIS_LABELS[b] for b in ("per_shipment", "per_container", "per_kg", "per_wm", "per_unit")}
CURRENCIES = [(c, c) for c in sorted(PRICING_CURRENCIES, key=lambda c: (c not in ("EUR", "USD", "GBP"), c))]


@dataclass(frozen=True)
class QuoteQueueLine:
    """A quote waiting for manual prices, with its SLA (``breached`` is "yes" once past)."""

    reference: str
    company: str
    requested_by: str
    mode: str
    lane: str
    ready: str
    due: str
    left: str
    breached: str


def queue_row_view(row: svc.QuoteRow, now) -> QuoteQueueLine:  # noqa: ANN001
    left, breached = fmt_time_left(row.manual_due_at, now)
    return QuoteQueueLine(
        reference=row.reference,
        company=row.company_name,
        requested_by=row.requested_by,
        mode=MODE_LABELS.get(row.mode or "", row.mode or "—"),
        lane=f"{row.origin or '?'} → {row.destination or '?'}",
        ready=fmt_date(row.ready_date),
        due=fmt_datetime(row.manual_due_at),
        left=left,
        breached="yes" if breached else "",
    )


def _dec(value) -> str:  # noqa: ANN001
    return "—" if value is None else f"{value:,.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class QuoteRequest:
    """What the customer asked for, as the pricing panel shows it."""

    reference: str
    company: str
    requested_by: str
    mode: str
    origin: str
    destination: str
    ready: str
    incoterm: str
    services: str
    cargo_value: str
    gross: str
    chargeable: str
    wm: str
    po: str


@dataclass(frozen=True)
class CargoLine:
    description: str
    what: str
    weight: str
    dg: str


def request_view(q: svc.QuoteView) -> QuoteRequest:
    """What the customer asked for, to price it."""
    return QuoteRequest(
        reference=q.reference,
        company=q.company_name,
        requested_by=q.requested_by,
        mode=q.mode_label or "—",
        origin=f"{q.origin_name or ''} ({q.origin or '?'})",
        destination=f"{q.destination_name or ''} ({q.destination or '?'})",
        ready=fmt_date(q.ready_date),
        incoterm=q.incoterm or "—",
        services=", ".join(q.services) or "none",
        cargo_value=f"{q.cargo_currency} {q.cargo_value:,.2f}" if q.cargo_value is not None else "—",
        gross=f"{_dec(q.gross_weight_kg)} kg",
        chargeable=f"{_dec(q.chargeable_weight_kg)} kg" if q.chargeable_weight_kg is not None else "",
        wm=_dec(q.revenue_tonnes) if q.revenue_tonnes is not None else "",
        po=q.customer_reference or "—",
    )


def cargo_line_view(ln: svc.CargoLineView) -> CargoLine:
    if ln.container_size_type:
        what = f"{ln.container_count or 0} × {ln.container_type or ln.container_size_type}"
    else:
        dims = "×".join(_dec(d) for d in (ln.length_cm, ln.width_cm, ln.height_cm))
        what = f"{ln.packages or 0} packages, {dims} cm"
        if ln.volume_m3 is not None:
            what += f", {ln.volume_m3:,.3f} m³"
    dg = f"DG UN{ln.un_number} class {ln.dg_class}" if ln.is_dangerous_goods else ""
    return CargoLine(description=ln.description or "—", what=what, weight=f"{_dec(ln.weight_kg)} kg", dg=dg)


def _charges_from(form: dict, lines: int) -> tuple[list[int], list[dict[str, str]]]:
    """The charge lines typed (blank lines left out, as text for :func:`parse`) and the form line of each. The
    basis is not stored by the service: it is added to the description the customer reads ("Ocean freight (per
    container)")."""
    sent, out = [], []
    for i in range(lines):
        code, desc = str(form.get(f"code_{i}", "")).strip(), str(form.get(f"description_{i}", "")).strip()
        qty, price = str(form.get(f"quantity_{i}", "")).strip(), str(form.get(f"unit_price_{i}", "")).strip()
        if not any((code, desc, qty, price)):
            continue  # an empty extra line is not a charge
        basis = BASES.get(str(form.get(f"basis_{i}", "")), "")
        if desc and basis and basis not in desc:
            desc = f"{desc} ({basis})"
        sent.append(i)
        out.append({"code": code, "description": desc, "quantity": qty, "unit_price": price})
    return sent, out


class TowerQuotesState(PagedQueueBase, SessionState):
    rows: list[QuoteQueueLine] = []
    request: QuoteRequest | None = None
    cargo: list[CargoLine] = []
    charge_lines: list[int] = [0]
    form_key: int = 0
    default_valid_until: str = ""

    def _query(self):  # noqa: ANN202
        return svc.manual_queue, {"page": self.page, "page_size": PAGE_SIZE}

    def _row(self, item: svc.QuoteRow) -> QuoteQueueLine:
        return queue_row_view(item, clock.now())

    @page_event("tower")
    async def open_request(self, principal: Principal, reference: str) -> None:
        try:
            q = await run_db(svc.get_quote, principal, str(reference)[:20])
        except ServiceError as exc:
            self.error, self.selected = exc.message, ""
            return
        self.selected, self.field_errors, self.notice, self.error = q.reference, {}, "", ""
        self.request = request_view(q)
        self.cargo = [cargo_line_view(ln) for ln in q.lines]
        self.charge_lines = [0]
        self.default_valid_until = (clock.today() + timedelta(days=svc.OPTION_VALID_DAYS)).isoformat()
        self.form_key += 1

    @page_event("tower")
    async def add_charge_line(self, principal: Principal) -> None:
        if len(self.charge_lines) < MAX_CHARGE_LINES:
            self.charge_lines = [*self.charge_lines, len(self.charge_lines)]

    @page_event("tower")
    async def remove_charge_line(self, principal: Principal) -> None:
        if len(self.charge_lines) > 1:
            self.charge_lines = self.charge_lines[:-1]

    @page_event("tower")
    async def price(self, principal: Principal, form: dict) -> None:
        sent, charges = _charges_from(form, len(self.charge_lines))
        reference = self.selected
        try:  # the API's body, read from the form's text: the same limits, each problem beside its field
            data = parse(svc.ManualOptionInput, {
                "currency": str(form.get("currency", "")), "transit_days": str(form.get("transit_days", "")).strip(),
                "valid_until": str(form.get("valid_until", "")).strip(), "charges": charges,
                "carrier_code": str(form.get("carrier_code", "")).strip() or None,
                "notes": str(form.get("notes", "")).strip() or None,
            })
            q = await run_db(svc.add_manual_option, principal, reference, data)
        except FormInvalid as exc:
            self.field_errors, self.error, self.notice = line_errors(exc.fields, sent), exc.message, ""
            return
        except ServiceError as exc:
            self.error, self.notice = exc.message, ""
            return
        option = next((o for o in q.options if o.is_manual), q.options[0] if q.options else None)
        price = f" at {option.total_text}" if option else ""
        self.request, self.cargo = None, []
        await self._decided(principal, f"Quote {q.reference} priced{price}; it now reads {q.status} and the customer "
                                       "was notified.")


S = TowerQuotesState


def _fact(label: str, value: rx.Var) -> rx.Component:
    return rx.box(rx.text(label, size="1", color=MUTED_TEXT, as_="div"), rx.text(value, weight="medium", as_="div"))


def _request_summary() -> rx.Component:
    r = S.request
    return rx.vstack(
        responsive_grid(
            _fact("Customer", r.company + " · " + r.requested_by),
            _fact("Mode", r.mode),
            _fact("From", r.origin),
            _fact("To", r.destination),
            _fact("Ready", r.ready),
            _fact("Incoterm", r.incoterm),
            _fact("Services", r.services),
            _fact("Cargo value", r.cargo_value),
            _fact("Gross weight", r.gross),
            rx.cond(r.chargeable != "", _fact("Chargeable weight", r.chargeable), rx.fragment()),
            rx.cond(r.wm != "", _fact("Revenue tonnes (W/M)", r.wm), rx.fragment()),
            _fact("Customer reference", r.po),
            narrow=2, wide=4,
            spacing="3",
            width="100%",
        ),
        rx.table.root(
            table_caption("Cargo"),
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col")
                                           for h in ("Cargo", "Pieces", "Weight", "Dangerous goods")])),
            rx.table.body(rx.foreach(S.cargo, lambda c: rx.table.row(
                rx.table.row_header_cell(c.description), rx.table.cell(c.what), rx.table.cell(c.weight),
                rx.table.cell(c.dg),
            ))),
            size="1",
            width="100%",
        ),
        width="100%",
    )


def _charge_line(i: rx.Var) -> rx.Component:
    n = i.to_string()
    label_no = (i + 1).to_string()

    def cell(label: str, field: str, key_field: str, **props: Any) -> rx.Component:
        return checked_input(label + " " + label_no, field + "_" + n, S.field_errors,
                             key="charges." + n + "." + key_field, input_id="charge-" + field + "-" + n, **props)

    return rx.grid(
        cell("Code", "code", "code", placeholder="FRT", max_length=20),
        cell("Description", "description", "description", placeholder="Ocean freight"),
        native_select("Basis " + label_no, "basis_" + n, list(BASES.items()), select_id="charge-basis-" + n),
        cell("Quantity", "quantity", "quantity", placeholder="1", input_mode="decimal"),
        cell("Unit price", "unit_price", "unit_price", placeholder="1850.00", input_mode="decimal"),
        spacing="2",
        style={"grid_template_columns": "1fr 2.5fr 1.5fr 1fr 1.5fr"},
        width="100%",
        data_testid="charge-line",
    )


def _pricing_form() -> rx.Component:
    return decision_panel(
        S, "Price quote ", "pricing-form",
        rx.vstack(
            _request_summary(),
            rx.el.form(
                rx.vstack(
                    rx.heading("Charges", size="3", as_="h3"),
                    rx.text("Each line is quantity × unit price in the option's currency; the basis says what the "
                            "quantity counts and is shown to the customer with the description.", size="2",
                            color=MUTED_TEXT),
                    rx.foreach(S.charge_lines, _charge_line),
                    field_error(S.field_errors, "charges", "charges-error"),
                    rx.hstack(
                        secondary_button("Add a charge line", type="button", on_click=S.add_charge_line, size="1"),
                        secondary_button("Remove the last line", type="button", on_click=S.remove_charge_line,
                                         size="1", disabled=S.charge_lines.length() <= 1),
                    ),
                    responsive_grid(
                        native_select("Currency", "currency", CURRENCIES, errors=S.field_errors),
                        checked_input("Carrier code", "carrier_code", S.field_errors,
                                      hint="e.g. MAEU or LH; leave empty if not chosen yet."),
                        checked_input("Transit days", "transit_days", S.field_errors, input_mode="numeric"),
                        checked_input("Valid until", "valid_until", S.field_errors, type="date",
                                      default_value=S.default_valid_until),
                        wide=4,
                        spacing="3",
                        width="100%",
                    ),
                    checked_input("Note for the customer (optional)", "notes", S.field_errors),
                    submit_or_close(S, "Send the price"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=S.price,
                key=S.form_key,
                aria_label="Price the request",
                style={"width": "100%"},
            ),
            spacing="4",
            width="100%",
        ),
    )


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(r.reference),
        rx.table.cell(rx.text(r.company), rx.text(r.requested_by, size="1", color=MUTED_TEXT)),
        rx.table.cell(r.mode),
        rx.table.cell(r.lane),
        rx.table.cell(r.ready),
        rx.table.cell(
            rx.text(r.left, weight="bold", color=rx.cond(r.breached == "yes", DANGER, "inherit"),
                    data_testid="sla-left"),
            rx.text("Due ", r.due, size="1", color=MUTED_TEXT),
        ),
        rx.table.cell(secondary_button("Price", on_click=S.open_request(r.reference), size="1",
                                       aria_label="Price " + r.reference)),
    )


@area_page("tower", routes.TOWER_QUOTES, "Manual quotes", TowerQuotesState.load)
def tower_quotes() -> rx.Component:
    headers = ["Quote", "Customer", "Mode", "Lane", "Ready", "SLA", "Action"]
    return queue_page(
        S, "Quotes to price by hand",
        rx.text(S.total, " requests found no rate card; most urgent first.", color=MUTED_TEXT,
                data_testid="quote-count"),
        _pricing_form(),
        queue_table(S, "Quotes to price", headers, _row, "Nothing to price by hand: every request found a rate card."),
    )
