"""Portal: the quote request form (``/portal/quotes/new``). What the customer types is kept as their draft
(``services/quotes.save_draft``), half-filled is fine, and it comes back on the next visit. Every problem the
service finds is shown beside its field in a shipper's words; "Get prices" submits the request and opens it.

Places are typed with suggestions from ``services/locations.search_locations`` (only places valid for the mode),
offered through the browser's own ``<datalist>``, which keyboards and screen readers already know.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.layout import area_page
from portal_app.components.ui import (
    DANGER,
    LABEL_STYLE,
    MUTED_TEXT,
    NATIVE_SELECT_STYLE,
    error_callout,
    info_callout,
    primary_button,
    responsive_grid,
    secondary_button,
)
from portal_app.services import locations, rating, trade_codes
from portal_app.services import quotes as svc
from portal_app.services.errors import FormInvalid, ServiceError
from portal_app.services.inputs import parse
from portal_app.ui import routes
from portal_app.ui.routes import link
from portal_app.ui.session import SessionState, page_event, run_db

TOP_FIELDS = ("mode", "origin", "destination", "ready_date", "incoterm", "cargo_value", "cargo_currency",
              "customer_reference")
LINE_FIELDS = ("description", "packages", "length_cm", "width_cm", "height_cm", "weight_kg", "container_size_type",
               "container_count", "un_number", "dg_class")
MODE_CHOICES = [("", "Choose how it travels"), *trade_codes.MODE_LABELS.items()]
SIZE_CHOICES = [("", "Choose a container"), *((code, trade_codes.container_words(code))
                                              for code in trade_codes.SIZE_TYPES)]
DG_CHOICES = [("", "Choose a class")] + [(c, f"{c} {name}") for c, name in trade_codes.DG_CLASSES.items()]
CURRENCY_CHOICES = [("", "Currency")] + [(c, c) for c in sorted(trade_codes.PRICING_CURRENCIES)]
EMPTY_LINE = {**dict.fromkeys(LINE_FIELDS, ""), "dg": ""}
PLACE_NOT_PICKED = ("We do not know this place. Start typing the city, port or airport name and pick it from the "
                    "list.")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def form_from_view(view: svc.QuoteView) -> tuple[dict[str, str], list[dict[str, str]], list[str]]:
    """A saved draft as the page's fields: the top fields, one dict per cargo line, the services asked for."""
    top = {
        "mode": view.mode or "", "origin": view.origin or "", "destination": view.destination or "",
        "ready_date": view.ready_date.isoformat() if view.ready_date else "", "incoterm": view.incoterm or "",
        "cargo_value": "" if view.cargo_value is None else str(view.cargo_value),
        "cargo_currency": view.cargo_currency or "",
        "customer_reference": view.customer_reference or "",
    }
    lines = [{**{f: _text(getattr(ln, f)) for f in LINE_FIELDS}, "dg": "yes" if ln.is_dangerous_goods else ""}
             for ln in view.lines]
    return top, lines or [dict(EMPTY_LINE)], list(view.services)


def input_from_form(top: dict[str, str], lines: list[dict[str, str]], services: list[str]) -> svc.QuoteInput:
    """The page's fields as the service's input, read by the model the API takes (:func:`parse`: the same limits
    and number rules). A value it refuses raises FormInvalid keyed like the page's fields (``lines.0.packages``),
    so each problem shows beside its field and nothing is saved."""
    def blank(value: str | None) -> str | None:
        return (value or "").strip() or None

    try:
        return parse(svc.QuoteInput, {
            **{name: blank(top.get(name)) for name in TOP_FIELDS},
            "services": [s for s in services if s in trade_codes.SERVICES],
            "lines": [{**{f: blank(ln.get(f)) for f in LINE_FIELDS}, "is_dangerous_goods": ln.get("dg") == "yes"}
                      for ln in lines],
        })
    except FormInvalid as exc:  # a place name typed out without picking a suggestion is longer than any code
        for key in ("origin", "destination"):
            if key in exc.fields:
                exc.fields[key] = PLACE_NOT_PICKED
        raise


def _number(text: str | None) -> Decimal | None:
    try:
        value = Decimal((text or "").strip().replace(",", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


def line_volume_m3(line: Mapping[str, str]) -> Decimal | None:
    """A typed cargo line's volume (length x width x height x packages), as the service computes it; None while
    a value is missing or not a number."""
    packages = _number(line.get("packages"))
    if packages is None or packages != packages.to_integral_value():
        return None
    return rating.line_volume_m3(int(packages), _number(line.get("length_cm")), _number(line.get("width_cm")),
                                 _number(line.get("height_cm")))


def volume_text(volume: Decimal | None) -> str:
    """"2.880 m³", or a dash while it cannot be computed."""
    return f"{volume:,.3f} m³" if volume is not None else "—"


def _place_code(text: str) -> str:
    """"FRA · Frankfurt am Main" (a picked suggestion) or "fra" (typed) -> "FRA"."""
    return text.split("·")[0].strip().upper()


class QuoteFormState(SessionState):
    AREA: ClassVar[str] = "portal"

    top: dict[str, str] = dict.fromkeys(TOP_FIELDS, "")
    lines: list[dict[str, str]] = [dict(EMPTY_LINE)]
    services: list[str] = []
    problems: dict[str, str] = {}
    origin_options: list[str] = []
    destination_options: list[str] = []
    reference: str = ""
    notice: str = ""
    error: str = ""
    busy: bool = False
    _version: int = 0

    @rx.var
    def incoterm_options(self) -> list[list[str]]:
        mode = self.top.get("mode", "")
        terms = trade_codes.incoterms_for_mode(mode) if mode else list(trade_codes.INCOTERMS.values())
        return [[t.code, f"{t.code} ({t.name})"] for t in terms]

    @rx.var
    def is_fcl(self) -> bool:
        return self.top.get("mode", "") == "ocean_fcl"

    @rx.var
    def line_volumes(self) -> list[str]:
        """Each line's volume, computed from its packages and dimensions (not typed)."""
        return [volume_text(line_volume_m3(ln)) for ln in self.lines]

    @rx.var
    def total_volume(self) -> str:
        volumes = [v for v in (line_volume_m3(ln) for ln in self.lines) if v is not None]
        return volume_text(sum(volumes, Decimal(0)) if volumes else None)

    @page_event()
    async def load(self, principal: Principal) -> None:
        self.notice, self.error, self.busy = "", "", False
        view = await run_db(svc.get_draft, principal)
        if view is None:
            self.top, self.lines, self.services = dict.fromkeys(TOP_FIELDS, ""), [dict(EMPTY_LINE)], []
            self.reference, self._version, self.problems = "", 0, {}
            return
        self._use(view)
        self.notice = f"Your unfinished request {view.reference} is back as you left it."

    def _service_refused(self, exc: ServiceError) -> None:
        """A refusal replaces the notice with the message (each field's problem has its own place)."""
        self.error, self.notice = exc.message, ""

    def _empty_form(self) -> None:
        self.top, self.lines, self.services, self.problems = dict.fromkeys(TOP_FIELDS, ""), [dict(EMPTY_LINE)], [], {}

    def _use(self, view: svc.QuoteView) -> None:
        self.top, self.lines, self.services = form_from_view(view)
        self.reference, self._version, self.problems = view.reference, view.version, dict(view.problems)

    def set_field(self, name: str, value: str) -> None:
        if name in TOP_FIELDS:
            self.top = {**self.top, name: str(value)[:200]}

    def set_line_field(self, index: int, name: str, value: str) -> None:
        i = int(index)
        if name in (*LINE_FIELDS, "dg") and 0 <= i < len(self.lines):
            self.lines = [{**ln, name: str(value)[:200]} if n == i else ln for n, ln in enumerate(self.lines)]

    def set_line_dg(self, index: int, checked: bool) -> None:
        self.set_line_field(index, "dg", "yes" if checked else "")

    def add_line(self) -> None:
        if len(self.lines) < svc.MAX_LINES:
            self.lines = [*self.lines, dict(EMPTY_LINE)]

    def remove_line(self, index: int) -> None:
        if len(self.lines) > 1:
            self.lines = [ln for n, ln in enumerate(self.lines) if n != int(index)]

    def toggle_service(self, code: str, checked: bool) -> None:
        if code in trade_codes.SERVICES:
            self.services = sorted({*self.services, code} if checked else set(self.services) - {code})

    @page_event()
    async def suggest(self, principal: Principal, which: str, text: str) -> None:
        if which not in ("origin", "destination"):
            return
        self.top = {**self.top, which: str(text)[:80]}
        mode = self.top.get("mode", "")
        found: list[str] = []
        if mode and len(text.strip()) >= 2:
            try:
                found = [f"{o.code} · {o.name}" for o in
                         await run_db(locations.search_locations, principal, mode, text, limit=8)]
            except ServiceError:  # no suggestions; the field keeps what was typed
                found = []
        if which == "origin":
            self.origin_options = found
        else:
            self.destination_options = found

    def _input(self) -> svc.QuoteInput:
        top = {**self.top, "origin": _place_code(self.top.get("origin", "")),
               "destination": _place_code(self.top.get("destination", ""))}
        return input_from_form(top, self.lines, self.services)

    async def _save(self, principal: Principal) -> None:
        try:
            data = self._input()
        except FormInvalid as exc:  # each field's problem beside its field, the message above the form
            self.problems = dict(exc.fields)
            raise
        view = await run_db(svc.save_draft, principal, data, reference=self.reference or None,
                            expected_version=self._version or None)
        self._use(view)

    @page_event()
    async def save(self, principal: Principal) -> None:
        await self._save(principal)
        self.error = ""
        self.notice = (f"Draft {self.reference} saved. It stays here until you get prices or discard it."
                       + (" Some fields still need attention before you can get prices." if self.problems else ""))

    @page_event()
    async def get_prices(self, principal: Principal) -> AsyncIterator[Any]:
        if self.busy:  # a second click while the first is pricing
            return
        self.busy = True
        yield None
        try:
            await self._save(principal)
            try:
                view = await run_db(svc.submit_quote, principal, self.reference)
            except FormInvalid as exc:  # each field's problem beside its field, the message above the form
                self.problems = dict(exc.fields)
                raise
            yield rx.redirect(link(routes.PORTAL_QUOTE, reference=view.reference))
        finally:
            self.busy = False

    @page_event()
    async def discard(self, principal: Principal) -> None:
        if not self.reference:
            self._empty_form()
            return
        try:
            await run_db(svc.discard_draft, principal, self.reference)
        except ServiceError as exc:  # the message only: the notice above stays
            self.error = exc.message
            return
        self._empty_form()
        self.reference, self._version, self.error = "", 0, ""
        self.notice = "The draft was discarded. Nothing was sent."


S = QuoteFormState
LABEL = LABEL_STYLE
SELECT_STYLE = NATIVE_SELECT_STYLE


def _problem(key: rx.Var | str, field_id: rx.Var | str) -> rx.Component:
    return rx.cond(S.problems.contains(key),
                   rx.text(S.problems[key], id=field_id + "-problem", color=DANGER, size="2", role="alert"),
                   rx.fragment())


def _described(key: rx.Var | str, field_id: rx.Var | str) -> dict:
    return {"aria_describedby": field_id + "-problem",
            "aria_invalid": rx.cond(S.problems.contains(key), "true", "false")}


def _top_input(label: str, name: str, hint: str = "", **props: Any) -> rx.Component:
    field_id = f"quote-{name}"
    return rx.box(
        rx.el.label(label, html_for=field_id, style=LABEL),
        rx.input(id=field_id, value=S.top[name], on_change=lambda v: S.set_field(name, v), width="100%",
                 **_described(name, field_id), **props),
        rx.text(hint, size="1", color=MUTED_TEXT) if hint else rx.fragment(),
        _problem(name, field_id),
        width="100%",
    )


def _select(label: str, name: str, options: list[rx.Component]) -> rx.Component:
    field_id = f"quote-{name}"
    return rx.box(
        rx.el.label(label, html_for=field_id, style=LABEL),
        rx.el.select(*options, id=field_id, value=S.top[name], on_change=lambda v: S.set_field(name, v),
                     style=SELECT_STYLE, **_described(name, field_id)),
        _problem(name, field_id),
        width="100%",
    )


def _top_select(label: str, name: str, options: list[tuple[str, str]]) -> rx.Component:
    return _select(label, name, [rx.el.option(text, value=value) for value, text in options])


def _incoterm_select() -> rx.Component:
    return _select("Incoterm", "incoterm", [rx.el.option("Choose a term", value=""),
                                            rx.foreach(S.incoterm_options, lambda o: rx.el.option(o[1], value=o[0]))])


def _place(label: str, which: str, options: rx.Var) -> rx.Component:
    field_id = f"quote-{which}"
    return rx.box(
        rx.el.label(label, html_for=field_id, style=LABEL),
        rx.input(id=field_id, value=S.top[which], on_change=lambda v: S.suggest(which, v), debounce_timeout=250,
                 list=f"{field_id}-options", autocomplete="off", width="100%",
                 placeholder="Type a code or a name", **_described(which, field_id)),
        rx.el.datalist(rx.foreach(options, lambda o: rx.el.option(value=o)), id=f"{field_id}-options"),
        rx.text("Pick the mode first; only places it can use are offered.", size="1", color=MUTED_TEXT),
        _problem(which, field_id),
        width="100%",
    )


def _line_input(index: rx.Var, label: str, name: str, **props: Any) -> rx.Component:
    key = "lines." + index.to_string() + "." + name
    field_id = "line-" + index.to_string() + "-" + name
    return rx.box(
        rx.el.label(label, html_for=field_id, style=LABEL),
        rx.input(id=field_id, value=S.lines[index][name], on_change=lambda v: S.set_line_field(index, name, v),
                 width="100%", **_described(key, field_id), **props),
        _problem(key, field_id),
        width="100%",
    )


def _line_select(index: rx.Var, label: str, name: str, options: list[tuple[str, str]]) -> rx.Component:
    key = "lines." + index.to_string() + "." + name
    field_id = "line-" + index.to_string() + "-" + name
    return rx.box(
        rx.el.label(label, html_for=field_id, style=LABEL),
        rx.el.select(*[rx.el.option(text, value=value) for value, text in options], id=field_id,
                     value=S.lines[index][name], on_change=lambda v: S.set_line_field(index, name, v),
                     style=SELECT_STYLE, **_described(key, field_id)),
        _problem(key, field_id),
        width="100%",
    )


def _line(line: rx.Var, index: rx.Var) -> rx.Component:
    number = (index + 1).to_string()
    dg_id = "line-" + index.to_string() + "-dg"
    return rx.el.fieldset(
        rx.el.legend("Cargo line " + number, style={"font_weight": "700", "padding": "0 4px"}),
        responsive_grid(
            _line_input(index, "What is it", "description", placeholder="e.g. Cartons of ceramic tiles"),
            rx.cond(
                S.is_fcl,
                rx.fragment(
                    _line_select(index, "Container type", "container_size_type", SIZE_CHOICES),
                    _line_input(index, "Number of containers", "container_count", type="number", min="1"),
                ),
                rx.fragment(
                    _line_input(index, "Packages", "packages", type="number", min="1"),
                    _line_input(index, "Length per package (cm)", "length_cm", inputmode="decimal"),
                    _line_input(index, "Width per package (cm)", "width_cm", inputmode="decimal"),
                    _line_input(index, "Height per package (cm)", "height_cm", inputmode="decimal"),
                    rx.box(
                        rx.text("Volume", style=LABEL),
                        rx.text(S.line_volumes[index], data_testid="line-volume"),
                        rx.text("Length × width × height × packages", size="1", color=MUTED_TEXT),
                        width="100%",
                    ),
                ),
            ),
            _line_input(index, "Gross weight of the line (kg)", "weight_kg", inputmode="decimal"),
            wide=3, middle=2, spacing="3",
        ),
        rx.el.label(
            rx.checkbox(id=dg_id, checked=line["dg"] == "yes", on_change=lambda c: S.set_line_dg(index, c)),
            " Dangerous goods",
            html_for=dg_id,
            style={"display": "flex", "gap": "6px", "align_items": "center", "font_weight": "600",
                   "margin_top": "8px"},
        ),
        rx.cond(
            line["dg"] == "yes",
            responsive_grid(
                _line_input(index, "UN number", "un_number", placeholder="e.g. UN 1263"),
                _line_select(index, "Class", "dg_class", DG_CHOICES),
                wide=2, spacing="3",
            ),
            rx.fragment(),
        ),
        rx.cond(S.lines.length() > 1,
                rx.button("Remove cargo line " + number, type="button", variant="ghost", color_scheme="red",
                          on_click=S.remove_line(index), margin_top="8px"),
                rx.fragment()),
        style={"border": "1px solid var(--portal-border)", "border_radius": "8px", "padding": "12px", "width": "100%",
               "background": "var(--portal-surface)"},
    )


def _services() -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Extra services (optional)", style={"font_weight": "700"}),
        rx.flex(
            *[rx.el.label(
                rx.checkbox(id=f"service-{code}", checked=S.services.contains(code),
                            on_change=lambda c, code=code: S.toggle_service(code, c)),
                " " + label, html_for=f"service-{code}",
                style={"display": "flex", "gap": "6px", "align_items": "center"},
            ) for code, label in trade_codes.SERVICES.items()],
            spacing="4", wrap="wrap",
        ),
        _problem("services", "quote-services"),
        rx.cond(
            S.services.contains("insurance"),
            responsive_grid(
                _top_input("Cargo value (for insurance)", "cargo_value", inputmode="decimal"),
                _top_select("Currency of the value", "cargo_currency", CURRENCY_CHOICES),
                wide=2, spacing="3",
            ),
            rx.fragment(),
        ),
        style={"border": "none", "padding": "0", "margin": "0", "width": "100%"},
    )


@area_page("portal", routes.PORTAL_QUOTE_NEW, "Request a quote", QuoteFormState.load)
def portal_quote_form() -> rx.Component:
    return rx.vstack(
        rx.heading("Request a quote", size="7", as_="h1"),
        rx.text("Tell us what moves where and when. We price it against our rate cards at once; if nothing fits, "
                "our team prices it by hand and tells you when it is ready.", color=MUTED_TEXT),
        rx.cond(S.notice != "", info_callout(S.notice, data_testid="quote-notice"), rx.fragment()),
        rx.cond(S.error != "", error_callout(S.error, data_testid="quote-error"), rx.fragment()),
        rx.card(
            rx.vstack(
                rx.heading("Route and terms", size="4", as_="h2"),
                responsive_grid(
                    _top_select("Mode", "mode", MODE_CHOICES),
                    _place("From", "origin", S.origin_options),
                    _place("To", "destination", S.destination_options),
                    _top_input("Cargo ready on", "ready_date", type="date"),
                    _incoterm_select(),
                    _top_input("Your reference (optional)", "customer_reference", max_length=40),
                    wide=3, middle=2, spacing="3",
                ),
                spacing="3", width="100%",
            ),
            width="100%",
        ),
        rx.card(
            rx.vstack(
                rx.heading("Cargo", size="4", as_="h2"),
                _problem("lines", "quote-lines"),
                rx.foreach(S.lines, _line),
                rx.cond(S.is_fcl, rx.fragment(),
                        rx.text("Total volume: ", S.total_volume, weight="medium", data_testid="total-volume")),
                secondary_button("Add a cargo line", type="button", on_click=S.add_line),
                spacing="3", width="100%",
            ),
            width="100%",
        ),
        rx.card(_services(), width="100%"),
        rx.hstack(
            primary_button("Get prices", type="button", on_click=S.get_prices, disabled=S.busy),
            secondary_button("Save draft", type="button", on_click=S.save, disabled=S.busy),
            rx.button("Discard", type="button", variant="ghost", color_scheme="red", on_click=S.discard),
            rx.cond(S.busy, rx.hstack(rx.spinner(), rx.text("Pricing your request…"), role="status"), rx.fragment()),
            spacing="3", align="center", wrap="wrap",
        ),
        rx.link("Back to your quotes", href=routes.PORTAL_QUOTES),
        spacing="4",
        width="100%",
    )
