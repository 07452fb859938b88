"""Tower: one rate card (``/tower/rates/<id>``, or ``/tower/rates/new`` for a blank one). View and edit its lane,
validity, currency, transit days and charges; deactivate or reactivate it. ``services/rate_cards.py`` checks
every field (a message per field) and refuses anyone but ops managers and admins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from models.enums import Mode
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.components.formatting import MODE_LABELS, fmt_date
from portal_app.components.layout import area_page
from portal_app.components.ui import (
    MUTED_TEXT,
    error_callout,
    info_callout,
    primary_button,
    responsive_grid,
    secondary_button,
)
from portal_app.components.work_queue import (
    checked_input,
    field_error,
    line_errors,
    native_select,
)
from portal_app.services import rate_cards as svc
from portal_app.services import rating
from portal_app.services.errors import FormInvalid, ServiceError
from portal_app.services.inputs import parse
from portal_app.services.trade_codes import PRICING_CURRENCIES, SERVICES
from portal_app.tower.rates import MANAGERS_ONLY, rate_state_badge
from portal_app.ui import routes
from portal_app.ui.session import SessionState, last_path_segment, page_event, run_db

NEW = "new"
CARD_FIELDS = ("mode", "origin", "destination", "carrier", "valid_from", "valid_to", "currency", "transit_days",
               "notes", "demurrage_free_days", "detention_free_days")
FREE_DAYS_FIELDS = ("demurrage_free_days", "detention_free_days")
CHARGE_FIELDS = ("code", "description", "basis", "size_type", "min_quantity", "rate", "minimum_charge",
                 "percent_of", "service")
MODE_OPTIONS = [(m.value, MODE_LABELS[m.value]) for m in Mode]
CURRENCY_OPTIONS = [(c, c) for c in sorted(PRICING_CURRENCIES, key=lambda c: (c not in ("EUR", "USD", "GBP"), c))]
BASIS_OPTIONS = [(b, rating.BASIS_LABELS.get(b, b)) for b in rating.BASES]
PERCENT_OPTIONS = [("", "—")] + [(p, p.replace("_", " ")) for p in rating.PERCENT_OF]
SERVICE_OPTIONS = [("", "Always charged")] + [(s, f"Only with {s}") for s in SERVICES]


@dataclass(frozen=True)
class CardForm:
    """The rate card as its form shows it: the values to edit, and the heading's title, names and validity."""

    title: str
    mode: str = ""
    origin: str = ""
    destination: str = ""
    carrier: str = ""
    valid_from: str = ""
    valid_to: str = ""
    currency: str = ""
    transit_days: str = ""
    notes: str = ""
    demurrage_free_days: str = ""
    detention_free_days: str = ""
    state: str = ""
    names: str = ""
    valid: str = ""
    active: str = ""


@dataclass(frozen=True)
class ChargeLine:
    """One charge line of the form (its fields are ``CHARGE_FIELDS``)."""

    code: str = ""
    description: str = ""
    basis: str = ""
    size_type: str = ""
    min_quantity: str = ""
    rate: str = ""
    minimum_charge: str = ""
    percent_of: str = ""
    service: str = ""


def _text(value: object) -> str:
    return "" if value is None else str(value)


def card_form_view(view: svc.RateCardView) -> tuple[CardForm, list[ChargeLine]]:
    r = view.row
    card = CardForm(mode=r.mode, origin=r.origin, destination=r.destination, carrier=r.carrier_code or "",
                    valid_from=r.valid_from.isoformat(), valid_to=r.valid_to.isoformat(), currency=r.currency,
                    transit_days=str(r.transit_days), notes=view.notes or "", state=r.state,
                    demurrage_free_days=_text(view.demurrage_free_days),
                    detention_free_days=_text(view.detention_free_days),
                    title=f"{r.origin} → {r.destination}", names=f"{r.origin_name} to {r.destination_name}",
                    valid=f"{fmt_date(r.valid_from)} – {fmt_date(r.valid_to)}", active="yes" if r.is_active else "")
    charges = [ChargeLine(**{k: _text(getattr(c, k)) for k in CHARGE_FIELDS}) for c in view.charge_lines]
    return card, charges


# The form's name for a field the model names otherwise (a problem is shown beside the form's field).
_FORM_NAMES = {"carrier_code": "carrier"}


def _charges_from(form: dict, lines: int) -> tuple[list[int], list[dict[str, str | None]]]:
    """The charge lines typed (a line with neither code nor rate is left out; as text for :func:`parse`) and the
    form index of each."""
    used, out = [], []
    for i in range(lines):
        values = {k: str(form.get(f"charge_{k}_{i}", "")).strip() for k in CHARGE_FIELDS}
        if not values["code"] and not values["rate"]:
            continue
        used.append(i)
        out.append({**{k: values[k] for k in ("code", "description", "basis", "rate")},
                    **{k: values[k] or None for k in ("size_type", "min_quantity", "minimum_charge", "percent_of",
                                                      "service")}})
    return used, out


class TowerRateCardState(SessionState):
    card_key: str = ""
    card: CardForm | None = None
    charges: list[ChargeLine] = []
    version: int = 0
    can_manage: bool = False
    error: str = ""
    notice: str = ""
    field_errors: dict[str, str] = {}
    form_key: int = 0

    @rx.var
    def is_new(self) -> bool:
        return self.card_key == NEW

    @rx.var
    def line_numbers(self) -> list[int]:
        return list(range(len(self.charges)))

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        self.can_manage = principal.can(Permission.MANAGE_RATES)
        self.card_key = last_path_segment(self.router.url.path)[:20]
        self.error = self.notice = ""
        self.field_errors = {}
        self.form_key += 1
        if self.card_key == NEW:
            self.card = CardForm(mode=Mode.OCEAN_FCL.value, currency="USD", title="New rate card")
            self.charges = [ChargeLine(code="FRT", description="Freight", basis="per_container")]
            self.version = 0
            if not self.can_manage:
                self.error = MANAGERS_ONLY
            return
        if not self.card_key.isdigit():
            self.error, self.card, self.charges = "No such rate card. Go back to the list and open one.", None, []
            return
        try:
            view = await run_db(svc.get_rate_card, principal, int(self.card_key))
        except ServiceError as exc:
            self.error, self.card, self.charges = exc.message, None, []
            return
        self._show_card(view)

    def _show_card(self, view: svc.RateCardView) -> None:
        self.card, self.charges = card_form_view(view)
        self.version = view.version
        self.card_key = str(view.row.id)

    @page_event("tower")
    async def add_charge(self, principal: Principal) -> None:
        """Another charge line. The form's inputs are uncontrolled and keep what was typed; only a line is added."""
        if len(self.charges) < svc.MAX_CHARGES:
            self.charges = [*self.charges, ChargeLine(basis="per_shipment")]

    @page_event("tower")
    async def save(self, principal: Principal, form: dict) -> Any:
        used, charges = _charges_from(form, len(self.charges))
        creating = self.card_key == NEW
        try:  # the API's body, read from the form's text: the same limits, each problem beside its field
            data = parse(svc.RateCardInput, {
                **{k: str(form.get(k, "")).strip() for k in ("mode", "origin", "destination", "valid_from",
                                                             "valid_to", "currency", "transit_days")},
                "charges": charges, "carrier_code": str(form.get("carrier", "")).strip() or None,
                "notes": str(form.get("notes", "")) or None,
                **{k: str(form.get(k, "")).strip() or None for k in FREE_DAYS_FIELDS},
            })
            if creating:
                view = await run_db(svc.create_rate_card, principal, data)
            else:
                view = await run_db(svc.update_rate_card, principal, int(self.card_key), data,
                                    expected_version=self.version)
        except FormInvalid as exc:
            self.field_errors = line_errors({_FORM_NAMES.get(k, k): v for k, v in exc.fields.items()}, used)
            self.error, self.notice = exc.message, ""
            return None
        except ServiceError as exc:
            self.error, self.notice, self.field_errors = exc.message, "", {}
            return None
        self._show_card(view)
        self.error, self.field_errors = "", {}
        self.notice = (f"Rate card {view.row.id} created and active." if creating
                       else f"Rate card {view.row.id} saved. Options already offered keep their prices.")
        self.form_key += 1
        address = routes.link(routes.TOWER_RATE_CARD, card_id=view.row.id)
        return rx.call_script(f"window.history.replaceState(null, '', '{address}')") if creating else None

    @page_event("tower")
    async def set_active(self, principal: Principal, active: bool) -> None:
        if not self.card_key.isdigit():
            return
        try:
            view = await run_db(svc.set_rate_card_active, principal, int(self.card_key), bool(active),
                                expected_version=self.version)
        except ServiceError as exc:
            self.error, self.notice = exc.message, ""
            return
        self._show_card(view)
        self.error = ""
        self.notice = (f"Rate card {view.row.id} is active again." if active else
                       f"Rate card {view.row.id} is deactivated: new quotes no longer use it; options already offered "
                       "keep their prices.")
        self.form_key += 1


S = TowerRateCardState


def _charge_line(i: rx.Var) -> rx.Component:
    n = i.to_string()
    c = S.charges[i]
    no = (i + 1).to_string()

    def text(label: str, field: str, **props: Any) -> rx.Component:
        return checked_input(label, "charge_" + field + "_" + n, S.field_errors, key="charges." + n + "." + field,
                             input_id="charge-" + field + "-" + n, default_value=getattr(c, field), **props)

    def select(label: str, field: str, options: list[tuple[str, str]]) -> rx.Component:
        return native_select(label, "charge_" + field + "_" + n, options, value=getattr(c, field),
                             select_id="charge-" + field + "-" + n, errors=S.field_errors,
                             key="charges." + n + "." + field)

    return rx.el.fieldset(
        rx.el.legend("Charge ", no, style={"font_weight": "700"}),
        responsive_grid(
            text("Code", "code", max_length=20),
            text("Description", "description"),
            select("Basis", "basis", BASIS_OPTIONS),
            text("Rate", "rate", input_mode="decimal"),
            text("Minimum charge", "minimum_charge", input_mode="decimal"),
            text("Size-type (per container)", "size_type", max_length=4),
            text("Weight break from kg (per kg)", "min_quantity", input_mode="decimal"),
            select("Percent of", "percent_of", PERCENT_OPTIONS),
            select("Service", "service", SERVICE_OPTIONS),
            narrow=2, wide=5,
            spacing="2",
            width="100%",
        ),
        style={"border": "1px solid var(--portal-border)", "border_radius": "8px", "padding": "12px", "width": "100%"},
        data_testid="rate-charge",
    )


def _card_form() -> rx.Component:
    c = S.card
    e = S.field_errors
    return rx.el.form(
        rx.vstack(
            responsive_grid(
                native_select("Mode", "mode", MODE_OPTIONS, value=c.mode, errors=e, select_id="card-mode"),
                checked_input("Origin", "origin", e, default_value=c.origin, hint="UN/LOCODE, or IATA for air"),
                checked_input("Destination", "destination", e, default_value=c.destination),
                checked_input("Carrier", "carrier", e, default_value=c.carrier, hint="Code; empty for any"),
                checked_input("Valid from", "valid_from", e, type="date", default_value=c.valid_from),
                checked_input("Valid to", "valid_to", e, type="date", default_value=c.valid_to),
                native_select("Currency", "currency", CURRENCY_OPTIONS, value=c.currency, errors=e,
                              select_id="card-currency"),
                checked_input("Transit days", "transit_days", e, default_value=c.transit_days,
                              input_mode="numeric"),
                narrow=2, wide=4,
                spacing="3",
                width="100%",
            ),
            responsive_grid(
                checked_input("Demurrage free days", "demurrage_free_days", e, default_value=c.demurrage_free_days,
                              input_mode="numeric", hint="Days in the terminal; empty: the carrier's standard terms"),
                checked_input("Detention free days", "detention_free_days", e, default_value=c.detention_free_days,
                              input_mode="numeric", hint="Days until the empty is back; empty: standard terms"),
                narrow=2, wide=2, spacing="3", width="100%",
            ),
            checked_input("Notes", "notes", e, default_value=c.notes),
            rx.heading("Charges", size="4", as_="h2"),
            rx.text("Every card needs its freight (FRT). Clear a line's code and rate to remove it.", size="2",
                    color=MUTED_TEXT),
            field_error(e, "charges", "charges-error"),
            rx.foreach(S.line_numbers, _charge_line),
            rx.cond(
                S.can_manage,
                rx.hstack(
                    primary_button(rx.cond(S.is_new, "Create rate card", "Save rate card"), type="submit"),
                    secondary_button("Add a charge line", type="button", on_click=S.add_charge),
                    spacing="3",
                ),
                rx.fragment(),
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=S.save,
        key=S.form_key,
        aria_label="Rate card",
        style={"width": "100%"},
    )


@area_page("tower", routes.TOWER_RATE_CARD, "Rate card", TowerRateCardState.load)
def tower_rate_card() -> rx.Component:
    c = S.card
    return rx.vstack(
        rx.link("← All rate cards", href=routes.TOWER_RATES),
        rx.heading(rx.cond(S.is_new, "New rate card", "Rate card " + S.card_key + ": " + c.title), size="7",
                   as_="h1"),
        rx.cond(
            S.is_new,
            rx.fragment(),
            rx.hstack(rate_state_badge(c.state), rx.text(c.names, " · ", c.valid, color=MUTED_TEXT),
                      align="center"),
        ),
        rx.cond(S.can_manage, rx.fragment(), info_callout(MANAGERS_ONLY)),
        rx.cond(S.notice != "", info_callout(S.notice, data_testid="rate-notice"), rx.fragment()),
        rx.cond(S.error != "", error_callout(S.error, data_testid="rate-error"), rx.fragment()),
        rx.cond(c, _card_form(), rx.fragment()),
        rx.cond(
            S.can_manage & ~S.is_new & c,
            rx.card(
                rx.heading("Availability", size="4", as_="h2"),
                rx.cond(
                    c.active == "yes",
                    rx.vstack(
                        rx.text("Deactivate to stop new quotes using this card. Options already offered keep their "
                                "prices.", size="2"),
                        rx.button("Deactivate rate card", on_click=S.set_active(False), color_scheme="red",
                                  variant="outline", cursor="pointer"),
                    ),
                    rx.vstack(
                        rx.text("This card is deactivated; new quotes do not use it.", size="2"),
                        secondary_button("Reactivate rate card", on_click=S.set_active(True)),
                    ),
                ),
                width="100%",
            ),
            rx.fragment(),
        ),
        spacing="4",
        width="100%",
    )
