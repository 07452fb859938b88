"""Portal: the company's quote requests (``/portal/quotes``) and one request with its priced options side by side
(``/portal/quotes/{reference}``): sort cheapest or fastest, each option's charges, book one, decline the prices,
or copy an expired request into a new one.

Booking goes through ``services/bookings.accept_option`` exactly once: the page makes one idempotency key on the
server when the booking form opens and sends it with every attempt, and the button is disabled while the booking
is being made, so a double click, a retry or a second tab's attempt at the same option makes one booking.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import fmt_date, fmt_datetime
from portal_app.components.layout import area_page
from portal_app.components.sortable import SortedListMixin, first, sort_headers
from portal_app.components.ui import (
    DANGER,
    MUTED_TEXT,
    download_link,
    error_callout,
    fact_list,
    info_callout,
    pager,
    primary_button,
    responsive_grid,
    secondary_button,
    table_caption,
)
from portal_app.components.work_queue import button_link, text_field
from portal_app.portal.booking_confirm import BookingConfirm, booking_form, cargo_line_text, confirm_view
from portal_app.services import bookings, display, trade_codes
from portal_app.services import quotes as svc
from portal_app.services.errors import FormInvalid, ServiceError
from portal_app.services.inputs import parse
from portal_app.ui import routes
from portal_app.ui.routes import link
from portal_app.ui.session import SessionState, last_path_segment, page_event, run_db

PAGE_SIZE = 25
STATUS_CHOICES = [("all", "All"), ("draft", "Draft"), ("requested", "Requested"), ("quoted", "Quoted"),
                  ("accepted", "Accepted"), ("expired", "Expired"), ("declined", "Declined")]
STATUS_WORDS = {
    "draft": "Draft: not sent yet",
    "requested": "Requested: our team is pricing it",
    "quoted": "Quoted: prices are ready",
    "accepted": "Accepted: booked",
    "expired": "Expired: prices are no longer valid",
    "declined": "Declined",
}
BOOKING_FIELDS = ("shipper_name", "consignee_name", "cargo_description", "shipper_address", "consignee_address",
                  "notify_party", "customer_reference")

# The list's columns and the service's sort key of each sortable one (``quotes.LIST_SORTS``).
LIST_HEADERS: list[tuple[str, str | None]] = [("Quote", "reference"), ("Status", None), ("Mode", None),
                                              ("Route", None), ("Ready", "ready"), ("Options", None),
                                              ("Best price", None), ("PDF", None)]


def pdf_url(reference: str) -> str:
    return f"/api/v1/quote-requests/{reference}/pdf"


@dataclass(frozen=True)
class QuoteListRow:
    """One quote request in the list, as shown."""

    reference: str
    href: str
    status: str
    mode: str
    route: str
    ready: str
    options: str
    best: str
    pdf: str


def quote_row_view(r: svc.QuoteRow) -> QuoteListRow:
    return QuoteListRow(
        reference=r.reference,
        href=link(routes.PORTAL_QUOTE, reference=r.reference) if r.status != "draft" else routes.PORTAL_QUOTE_NEW,
        status=r.status, mode=trade_codes.MODE_LABELS.get(r.mode or "", "—"),
        route=f"{r.origin or '?'} → {r.destination or '?'}", ready=fmt_date(r.ready_date),
        options=str(r.options), best=r.best_total_text or "—",
        pdf=pdf_url(r.reference) if r.status != "draft" else "",
    )


@dataclass(frozen=True)
class OptionCard:
    """One priced option of the quote. ``id`` only names which option was chosen."""

    id: str
    carrier: str
    total: str
    transit: str
    valid: str
    status: str
    notes: str
    manual: bool
    shipment: str
    shipment_href: str
    free_time: str = ""


@dataclass(frozen=True)
class ChargeLine:
    code: str
    description: str
    quantity: str
    amount: str


@dataclass(frozen=True)
class QuoteSummary:
    """The quote request the page shows (empty until read)."""

    reference: str = ""
    status: str = ""
    status_words: str = ""
    mode: str = ""
    route: str = ""
    ready: str = ""
    incoterm: str = ""
    services: str = ""
    weight: str = ""
    volume: str = ""
    manual: bool = False
    manual_due: str = ""
    requested_by: str = ""
    pdf: str = ""
    draft: bool = False


def option_view(o: svc.OptionView) -> OptionCard:
    return OptionCard(
        id=str(o.id), carrier=o.carrier_name or o.carrier_code or "Our team's price",
        total=o.total_text, transit=f"{o.transit_days} days", valid=fmt_datetime(o.valid_until),
        status=o.status, notes=o.notes or "", manual=o.is_manual,
        shipment=o.shipment_reference or "",
        shipment_href=link(routes.PORTAL_SHIPMENT, reference=o.shipment_reference) if o.shipment_reference else "",
        free_time=o.free_time or "",
    )


def charge_view(c: svc.OptionChargeView, currency: str) -> ChargeLine:
    return ChargeLine(code=c.code, description=c.description, quantity=format(c.quantity.normalize(), "f"),
                      amount=display.money(c.amount, currency))


class PortalQuotesState(SortedListMixin, SessionState):
    """The quote list; its status, sort and page live in the address (``components/sortable.py``)."""

    AREA: ClassVar[str] = "portal"
    SORTS: ClassVar[tuple[str, ...]] = tuple(key for _label, key in LIST_HEADERS if key)
    DEFAULT_SORT: ClassVar[str] = "updated"  # the latest change first

    rows: list[QuoteListRow] = []
    status: str = "all"
    sort: str = "updated"
    page: int = 1
    pages: int = 1
    total: int = 0
    error: str = ""

    def _sort_choices(self) -> set[str]:
        return set(svc.LIST_SORTS)

    def _list_path(self) -> str:
        return routes.PORTAL_QUOTES

    def _list_params(self) -> dict[str, str]:
        return {"status": self.status if self.status != "all" else ""}

    @page_event()
    async def load(self, principal: Principal) -> None:
        raw = parse_qs(self.router.url.query)
        chosen = first(raw, "status")
        self.status = chosen if chosen in dict(STATUS_CHOICES) else "all"
        self._read_address(raw)
        await self._fetch_kept_page(principal)

    @page_event()
    async def choose_status(self, principal: Principal, value: str) -> Any:
        self.status = value if value in dict(STATUS_CHOICES) else "all"
        self.page = 1
        await self._fetch(principal)
        return self._show_address()

    @page_event()
    async def go_to_page(self, principal: Principal, delta: int) -> Any:
        self.page = max(1, min(self.pages, self.page + int(delta)))
        await self._fetch(principal)
        return self._show_address()

    async def _fetch(self, principal: Principal) -> None:
        result = await run_db(svc.list_quotes, principal, status=None if self.status == "all" else self.status,
                              page=self.page, page_size=PAGE_SIZE, sort=self.sort)
        self.error = ""
        self.rows = [quote_row_view(r) for r in result.rows]
        self.total, self.pages = result.total, result.pages

    def _service_refused(self, exc: ServiceError) -> None:
        """The list could not be read: the message instead of any rows."""
        self.error, self.rows, self.total, self.pages = exc.message, [], 0, 1


class PortalQuoteState(SessionState):
    AREA: ClassVar[str] = "portal"

    quote: QuoteSummary = QuoteSummary()
    lines: list[str] = []
    options: list[OptionCard] = []
    charges: dict[str, list[ChargeLine]] = {}
    sort: str = "cheapest"
    not_found: str = ""
    error: str = ""
    notice: str = ""
    booking_option: str = ""
    booking_errors: dict[str, str] = {}
    booking: bool = False
    confirm: BookingConfirm = BookingConfirm()
    confirm_lines: list[str] = []
    prefill: dict[str, str] = {}
    _key: str = ""

    @page_event()
    async def load(self, principal: Principal) -> None:
        self.error, self.notice, self.booking_option, self.booking_errors, self.booking = "", "", "", {}, False
        await self._read(principal, last_path_segment(self.router.url.path)[:40])

    async def _read(self, principal: Principal, reference: str) -> None:
        try:
            q = await run_db(svc.get_quote, principal, reference, sort=self.sort)
        except ServiceError as exc:  # the page shows "not found" in place of the quote
            self.not_found, self.quote, self.options, self.charges = exc.message, QuoteSummary(), [], {}
            return
        self.not_found = ""
        self.quote = QuoteSummary(
            reference=q.reference, status=q.status, status_words=STATUS_WORDS.get(q.status, q.status),
            mode=q.mode_label or "—", route=f"{q.origin_name or q.origin or '?'} ({q.origin or '?'}) → "
                                            f"{q.destination_name or q.destination or '?'} ({q.destination or '?'})",
            ready=fmt_date(q.ready_date), incoterm=q.incoterm or "—",
            services=", ".join(trade_codes.SERVICES.get(s, s) for s in q.services) or "None",
            weight=f"{q.gross_weight_kg:,.1f} kg", volume=f"{q.volume_m3:,.3f} m³" if q.volume_m3 else "—",
            manual=q.is_manual, manual_due=fmt_datetime(q.manual_due_at),
            requested_by=q.requested_by, pdf=pdf_url(q.reference), draft=q.status == "draft",
        )
        self.lines = [cargo_line_text(ln) for ln in q.lines]
        self.options = [option_view(o) for o in q.options]
        self.charges = {str(o.id): [charge_view(c, o.currency) for c in o.charges] for o in q.options}

    @property
    def _reference(self) -> str:
        return self.quote.reference

    @page_event()
    async def sort_by(self, principal: Principal, value: str) -> None:
        self.sort = value if value in svc.SORTS else "cheapest"
        await self._read(principal, self._reference)

    @page_event()
    async def start_booking(self, principal: Principal, option_id: str) -> None:
        try:
            option = await run_db(svc.mark_booking_started, principal, int(option_id))
        except (ServiceError, ValueError) as exc:  # a refusal, or an option id that is not a number
            self.error = getattr(exc, "message", "That option is not in your quotes. Reload the page.")
            return
        if not option.can_accept:
            self.error = "This price can no longer be booked. Copy the request to get fresh prices."
            return
        details = await run_db(bookings.booking_details, principal, option.id)
        self.confirm, self.confirm_lines, self.prefill = confirm_view(details)
        self.booking_option, self.booking_errors, self.error = str(option.id), {}, ""
        self._key = f"page-{uuid.uuid4().hex}"  # one booking per opened form, whatever happens next

    def close_booking(self) -> None:
        self.booking_option, self.booking_errors = "", {}

    @page_event()
    async def book(self, principal: Principal, form: dict) -> AsyncIterator[Any]:
        if self.booking or not self.booking_option:
            return
        self.booking = True
        yield None
        try:
            data = parse(bookings.BookingInput, {  # the API's body: the same limits, each problem beside its field
                **{f: (str(form.get(f, "")).strip() or None) if f not in ("shipper_name", "consignee_name",
                                                                          "cargo_description")
                   else str(form.get(f, "")).strip() for f in BOOKING_FIELDS},
                "cargo_confirmed": bool(form.get("cargo_confirmed")),
            })
            result = await run_db(bookings.accept_option, principal, int(self.booking_option), data,
                                  idempotency_key=self._key)
        except FormInvalid as exc:  # each field's problem beside the booking form's field
            self.booking_errors, self.error = dict(exc.fields), exc.message
            return
        finally:
            self.booking = False
        yield rx.redirect(link(routes.PORTAL_SHIPMENT, reference=result.shipment_reference) + "?booked=1")

    @page_event()
    async def decline(self, principal: Principal, form: dict) -> None:
        await run_db(svc.decline_quote, principal, self._reference, str(form.get("reason", "")).strip() or None)
        self.notice = "You declined these prices. Nothing was booked."
        await self._read(principal, self._reference)

    @page_event()
    async def copy(self, principal: Principal) -> Any:
        await run_db(svc.copy_to_draft, principal, self._reference)
        return rx.redirect(routes.PORTAL_QUOTE_NEW)


# --------------------------------------------------------------------------------------------------- list page


L = PortalQuotesState


def _list_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(r.reference, href=r.href, weight="bold")),
        rx.table.cell(rx.badge(r.status, variant="soft", high_contrast=True)),
        rx.table.cell(r.mode),
        rx.table.cell(r.route),
        rx.table.cell(r.ready),
        rx.table.cell(r.options),
        rx.table.cell(r.best),
        rx.table.cell(rx.cond(r.pdf != "", download_link("PDF", r.pdf, "Quote " + r.reference + " as PDF"),
                              "—")),
    )


@area_page("portal", routes.PORTAL_QUOTES, "Quotes", PortalQuotesState.load)
def portal_quotes() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.heading("Quotes", size="7", as_="h1"), rx.spacer(),
                  button_link("Request a quote", routes.PORTAL_QUOTE_NEW), width="100%", align="center"),
        rx.box(
            rx.el.label("Status", html_for="quotes-status", style={"font_weight": "600", "display": "block"}),
            rx.el.select(*[rx.el.option(text, value=v) for v, text in STATUS_CHOICES], id="quotes-status",
                         value=L.status, on_change=L.choose_status,
                         style={"padding": "6px 8px", "border": "1px solid var(--portal-field-border)",
                                "border_radius": "6px"}),
        ),
        rx.cond(L.error != "", error_callout(L.error), rx.fragment()),
        rx.text(L.total, " quote requests", color=MUTED_TEXT, role="status"),
        rx.cond(
            L.rows.length() > 0,
            rx.table.root(
                table_caption("Your quote requests"),
                rx.table.header(rx.table.row(*sort_headers(L, LIST_HEADERS, rx.table.column_header_cell))),
                rx.table.body(rx.foreach(L.rows, _list_row)),
                variant="surface", width="100%",
            ),
            rx.text("No quote requests here yet. Select Request a quote to price a shipment.", color=MUTED_TEXT),
        ),
        pager(L),
        spacing="4",
        width="100%",
    )


# --------------------------------------------------------------------------------------------------- one quote


Q = PortalQuoteState


def _charges(option_id: rx.Var) -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col")
                                       for h in ("Charge", "Quantity", "Amount")])),
        rx.table.body(rx.foreach(Q.charges[option_id], lambda c: rx.table.row(
            rx.table.row_header_cell(c.description), rx.table.cell(c.quantity),
            rx.table.cell(c.amount, text_align="right")))),
        size="1", width="100%",
    )


def _option(o: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(o.carrier, size="4", as_="h3"),
            rx.text(o.total, size="6", weight="bold", data_testid="option-total"),
            rx.text("All-in · ", o.transit, " in transit", size="2"),
            rx.cond(o.free_time != "", rx.text("Free time: ", o.free_time, size="2", data_testid="option-free-time"),
                    rx.fragment()),
            rx.text("Valid until ", o.valid, size="1", color=MUTED_TEXT),
            rx.cond(o.notes != "", rx.text(o.notes, size="2", color=MUTED_TEXT), rx.fragment()),
            _charges(o.id),
            rx.match(
                o.status,
                ("offered", primary_button("Book this option", type="button", on_click=Q.start_booking(o.id),
                                           aria_label="Book the " + o.carrier + " option for " + o.total)),
                ("accepted", rx.link("Booked as ", o.shipment, href=o.shipment_href)),
                ("expired", rx.text("This price has expired.", color=DANGER, weight="medium")),
                rx.text("Not offered any more (", o.status, ").", color=MUTED_TEXT),
            ),
            spacing="2", width="100%",
        ),
        width="100%",
        data_testid="quote-option",
    )


def _summary() -> rx.Component:
    q = Q.quote
    return rx.card(
        fact_list([(label, q[key]) for label, key in (
            ("Status", "status_words"), ("Mode", "mode"), ("Route", "route"), ("Cargo ready", "ready"),
            ("Incoterm", "incoterm"), ("Extra services", "services"), ("Gross weight", "weight"),
            ("Volume", "volume"), ("Requested by", "requested_by"))]),
        rx.vstack(rx.foreach(Q.lines, lambda line: rx.text(line, size="2")), spacing="1", margin_top="8px"),
        width="100%",
    )


def _decline() -> rx.Component:
    return rx.el.details(
        rx.el.summary("Decline these prices", style={"cursor": "pointer", "font_weight": "600"}),
        rx.el.form(
            rx.vstack(
                text_field("Why (optional, helps us price better next time)", "reason", "decline-reason", rows="2"),
                secondary_button("Decline the prices", type="submit"),
                spacing="2", width="100%",
            ),
            on_submit=Q.decline, aria_label="Decline these prices",
        ),
    )


@area_page("portal", routes.PORTAL_QUOTE, "Quote", PortalQuoteState.load)
def portal_quote() -> rx.Component:
    q = Q.quote
    return rx.cond(
        Q.not_found != "",
        rx.vstack(rx.heading("Quote not found", size="7", as_="h1"), error_callout(Q.not_found),
                  rx.link("Back to your quotes", href=routes.PORTAL_QUOTES)),
        rx.vstack(
            rx.hstack(
                rx.heading("Quote ", q.reference, size="7", as_="h1"),
                rx.badge(q.status, variant="soft", high_contrast=True),
                rx.spacer(),
                download_link("Download PDF", q.pdf, "Quote " + q.reference + " as PDF"),
                width="100%", align="center",
            ),
            rx.cond(Q.notice != "", info_callout(Q.notice), rx.fragment()),
            rx.cond(Q.error != "", error_callout(Q.error, data_testid="quote-page-error"), rx.fragment()),
            _summary(),
            rx.cond(
                (q.status == "requested") & q.manual,
                info_callout(rx.text("No rate card fits this request, so our team is pricing it by hand. You will "
                                     "have prices by ", q.manual_due, " and we will notify you.")),
                rx.fragment(),
            ),
            rx.cond(
                q.status == "expired",
                rx.callout(
                    rx.hstack(rx.text("These prices have expired and cannot be booked. Copy the request to get "
                                      "today's prices; nothing else changes."),
                              secondary_button("Copy to a new request", type="button", on_click=Q.copy),
                              align="center", wrap="wrap"),
                    icon="info", color_scheme="amber", role="status", width="100%",
                ),
                rx.fragment(),
            ),
            rx.cond(Q.booking_option != "", booking_form(Q), rx.fragment()),
            rx.cond(
                Q.options.length() > 0,
                rx.vstack(
                    rx.hstack(
                        rx.heading("Options", size="5", as_="h2"),
                        rx.spacer(),
                        rx.el.label("Sort", html_for="quote-sort", style={"font_weight": "600"}),
                        rx.el.select(rx.el.option("Cheapest first", value="cheapest"),
                                     rx.el.option("Fastest first", value="fastest"), id="quote-sort",
                                     value=Q.sort, on_change=Q.sort_by,
                                     style={"padding": "6px 8px", "border": "1px solid var(--portal-field-border)",
                                            "border_radius": "6px"}),
                        width="100%", align="center",
                    ),
                    responsive_grid(rx.foreach(Q.options, _option), wide=3, middle=2),
                    rx.cond(q.status == "quoted", _decline(), rx.fragment()),
                    spacing="3", width="100%",
                ),
                rx.fragment(),
            ),
            rx.link("Back to your quotes", href=routes.PORTAL_QUOTES),
            spacing="4",
            width="100%",
        ),
    )
