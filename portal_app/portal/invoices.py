"""Portal pages: the company's invoices, one invoice (with PDF download and dispute) and the aged statement.

State holds one page of small string rows; amounts are formatted from Decimal with the currency code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import ClassVar
from urllib.parse import parse_qs

import reflex as rx

from models.enums import InvoiceStatus
from portal_app.auth.principal import Principal
from portal_app.components.formatting import fmt_datetime, status_label
from portal_app.components.layout import area_page
from portal_app.components.ui import (
    DANGER,
    MUTED_TEXT,
    NATIVE_SELECT_STYLE,
    download_link,
    error_callout,
    fact_list,
    info_callout,
    pager,
    primary_button,
    responsive_grid,
    table_caption,
)
from portal_app.services import finance as svc
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.routes import link
from portal_app.ui.session import SessionState, last_path_segment, page_event, run_db

PAGE_SIZE = 25
ALL = "all"


# ---------------------------------------------------------------------------------------------------- formatting


def money(currency: str, amount: Decimal) -> str:
    return f"{currency} {amount:,.2f}"


def _day(value: date | None) -> str:
    return value.strftime("%d %b %Y") if value else "—"


def _overdue_text(days: int) -> str:
    if days <= 0:
        return ""
    return "1 day overdue" if days == 1 else f"{days} days overdue"


@dataclass(frozen=True)
class InvoiceLine:
    """One invoice in the list, as shown."""

    number: str
    href: str
    shipment: str
    shipment_href: str
    issued: str
    due: str
    status: str
    status_label: str
    currency: str
    total: str
    balance: str
    overdue: str


@dataclass(frozen=True)
class AgingLine:
    """One currency's balance: the amount in each aging bucket (in ``svc.BUCKET_KEYS`` order) and the totals."""

    currency: str
    buckets: list[str]
    total: str
    overdue: str
    count: str


def invoice_row_view(row: svc.InvoiceRow) -> InvoiceLine:
    return InvoiceLine(
        number=row.number,
        href=link(routes.PORTAL_INVOICE, number=row.number),
        shipment=row.shipment_reference or "—",
        shipment_href=link(routes.PORTAL_SHIPMENT, reference=row.shipment_reference) if row.shipment_reference else "",
        issued=_day(row.issue_date),
        due=_day(row.due_date),
        status=row.status,
        status_label=status_label(row.status),
        currency=row.currency,
        total=money(row.currency, row.total),
        balance=money(row.currency, row.balance),
        overdue=_overdue_text(row.days_overdue),
    )


def aging_row_view(c: svc.CurrencyAging) -> AgingLine:
    return AgingLine(
        currency=c.currency,
        buckets=[money(c.currency, c.buckets[key]) for key in svc.BUCKET_KEYS],
        total=money(c.currency, c.total),
        overdue=money(c.currency, c.overdue),
        count=str(c.count),
    )


def invoice_status_badge(status: rx.Var, label: rx.Var) -> rx.Component:
    return rx.badge(
        label,
        color_scheme=rx.match(
            status,
            ("draft", "gray"),
            ("issued", "blue"),
            ("partially_paid", "amber"),
            ("paid", "green"),
            ("overdue", "red"),
            ("disputed", "orange"),
            ("void", "gray"),
            "gray",
        ),
        variant="soft",
        high_contrast=True,
    )


def _header_row(headers: list[str]) -> rx.Component:
    return rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in headers]))


def _balances(items: rx.Var) -> rx.Component:
    return rx.cond(
        items.length() > 0,
        rx.hstack(
            rx.foreach(
                items,
                lambda b: rx.card(
                    rx.text("Balance due · ", b.currency, weight="bold"),
                    rx.text(b.total, size="6", data_testid="balance-amount"),
                    rx.text("Overdue: ", b.overdue, " · ", b.count, " open invoices", size="1", color=MUTED_TEXT),
                ),
            ),
            wrap="wrap",
        ),
        rx.text("Nothing is due. Thank you!", color=MUTED_TEXT),
    )


# ---------------------------------------------------------------------------------------------------- list


class PortalInvoicesState(SessionState):
    AREA: ClassVar[str] = "portal"

    rows: list[InvoiceLine] = []
    balances: list[AgingLine] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    status: str = ALL
    error: str = ""
    loading: bool = False

    @page_event()
    async def load(self, principal: Principal) -> None:
        status = (parse_qs(self.router.url.query).get("status") or [ALL])[0]
        self.status = status if status in InvoiceStatus._value2member_map_ else ALL
        self.page = 1
        try:  # the list below is read even when the balances are refused
            st = await run_db(svc.statement, principal)
        except ServiceError as exc:
            self.error, self.balances = exc.message, []
        else:
            self.balances = [aging_row_view(c) for c in st.currencies]
        await self._fetch(principal)

    @page_event()
    async def set_status_filter(self, principal: Principal, value: str) -> None:
        self.status = value if value in InvoiceStatus._value2member_map_ else ALL
        self.page = 1
        await self._fetch(principal)

    @page_event()
    async def go_to_page(self, principal: Principal, delta: int) -> None:
        self.page = max(1, min(self.pages, self.page + int(delta)))
        await self._fetch(principal)

    async def _fetch(self, principal: Principal) -> None:
        self.loading = True
        try:
            result = await run_db(
                svc.list_invoices, principal, status=None if self.status == ALL else self.status,
                page=self.page, page_size=PAGE_SIZE,
            )
        finally:
            self.loading = False
        self.error = ""
        self.rows = [invoice_row_view(r) for r in result.rows]
        self.total, self.pages = result.total, result.pages

    def _service_refused(self, exc: ServiceError) -> None:
        """The list could not be read: the message instead of any rows."""
        self.error, self.rows, self.total, self.pages = exc.message, [], 0, 1


_LIST_STATUSES = [s for s in InvoiceStatus if s != InvoiceStatus.DRAFT]  # customers never see drafts


def _status_filter() -> rx.Component:
    items = [(ALL, "All statuses")] + [(s.value, status_label(s.value).capitalize()) for s in _LIST_STATUSES]
    return rx.box(
        rx.el.label("Status", html_for="invoice-status-filter", style={"font_weight": "600", "display": "block"}),
        rx.el.select(
            *[rx.el.option(label, value=value) for value, label in items],
            id="invoice-status-filter", value=PortalInvoicesState.status,
            on_change=PortalInvoicesState.set_status_filter,
            style={**NATIVE_SELECT_STYLE, "width": "auto"},
        ),
    )


def _invoice_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(row.number, href=row.href, weight="bold")),
        rx.table.cell(rx.cond(row.shipment_href != "", rx.link(row.shipment, href=row.shipment_href),
                              row.shipment)),
        rx.table.cell(row.issued),
        rx.table.cell(row.due),
        rx.table.cell(
            rx.vstack(
                invoice_status_badge(row.status, row.status_label),
                rx.cond(row.overdue != "", rx.text(row.overdue, size="1", color=DANGER, weight="medium"),
                        rx.fragment()),
                spacing="1",
            )
        ),
        rx.table.cell(row.total, text_align="right"),
        rx.table.cell(rx.text(row.balance, weight="medium"), text_align="right"),
        background_color=rx.cond(row.overdue != "", "#fff5f5", "transparent"),
    )


@area_page("portal", routes.PORTAL_INVOICES, "Invoices", PortalInvoicesState.load)
def portal_invoices() -> rx.Component:
    s = PortalInvoicesState
    return rx.vstack(
        rx.heading("Your invoices", size="7", as_="h1"),
        _balances(s.balances),
        rx.hstack(
            _status_filter(),
            rx.spacer(),
            rx.link("Statement and aging", href=routes.PORTAL_STATEMENT, weight="medium"),
            align="end",
            width="100%",
            wrap="wrap",
        ),
        rx.cond(s.error != "", error_callout(s.error), rx.fragment()),
        rx.text(s.total, " invoices", rx.cond(s.loading, " · loading…", ""), color=MUTED_TEXT, role="status",
                data_testid="invoice-count"),
        rx.table.root(
            table_caption("Your invoices"),
            _header_row(["Invoice", "Shipment", "Issued", "Due", "Status", "Total", "Balance"]),
            rx.table.body(rx.foreach(s.rows, _invoice_row)),
            variant="surface",
            width="100%",
        ),
        rx.cond(s.total == 0, rx.text("No invoices match this status. Choose another status.", color=MUTED_TEXT),
                rx.fragment()),
        pager(s),
        spacing="4",
        width="100%",
    )


# ---------------------------------------------------------------------------------------------------- detail


@dataclass(frozen=True)
class InvoiceSummary:
    """The invoice the page shows (empty until read)."""

    number: str = ""
    href: str = ""
    shipment: str = ""
    shipment_href: str = ""
    issued: str = ""
    due: str = ""
    status: str = ""
    status_label: str = ""
    currency: str = ""
    total: str = ""
    balance: str = ""
    overdue: str = ""
    company: str = ""
    pdf_href: str = ""
    disputed_reason: str = ""


@dataclass(frozen=True)
class InvoiceChargeLine:
    no: str
    code: str
    description: str
    quantity: str
    unit_price: str
    tax_rate: str
    amount: str
    tax: str


@dataclass(frozen=True)
class PaymentLine:
    paid_at: str
    method: str
    reference: str
    amount: str


class PortalInvoiceDetailState(SessionState):
    AREA: ClassVar[str] = "portal"

    summary: InvoiceSummary = InvoiceSummary()
    totals: list[list[str]] = []
    lines: list[InvoiceChargeLine] = []
    payments: list[PaymentLine] = []
    can_dispute: bool = False
    not_found: str = ""
    dispute_error: str = ""
    dispute_done: str = ""
    form_key: int = 0

    def _number(self) -> str:
        return last_path_segment(self.router.url.path)[:20]

    @page_event()
    async def load(self, principal: Principal) -> None:
        self.dispute_error = self.dispute_done = ""
        await self._fetch(principal)

    async def _fetch(self, principal: Principal) -> None:
        try:
            d = await run_db(svc.get_invoice, principal, self._number())
        except ServiceError as exc:  # the page shows "not found" in place of the invoice
            self.not_found = exc.message
            self.summary, self.totals, self.lines, self.payments, self.can_dispute = InvoiceSummary(), [], [], [], False
            return
        cur = d.row.currency
        self.not_found = ""
        self.summary = InvoiceSummary(
            **asdict(invoice_row_view(d.row)),
            company=d.company_name,
            pdf_href=f"/api/v1/invoices/{d.row.number}/pdf",
            disputed_reason=d.disputed_reason or "",
        )
        self.totals = [
            ["Subtotal", money(cur, d.subtotal)],
            ["Tax", money(cur, d.tax_total)],
            ["Total", money(cur, d.row.total)],
            ["Paid", money(cur, d.amount_paid)],
            ["Balance due", money(cur, d.row.balance)],
        ]
        self.lines = [
            InvoiceChargeLine(
                no=str(ln.line_no),
                code=ln.code,
                description=ln.description,
                quantity=f"{ln.quantity.normalize():f}",
                unit_price=money(cur, ln.unit_price),
                tax_rate=f"{(ln.tax_rate * 100).normalize():f} %",
                amount=money(cur, ln.amount),
                tax=money(cur, ln.tax_amount),
            )
            for ln in d.lines
        ]
        self.payments = [
            PaymentLine(
                paid_at=fmt_datetime(p.paid_at),
                method=status_label(p.method).capitalize(),
                reference=p.reference or "—",
                amount=money(p.currency, p.amount),
            )
            for p in d.payments
        ]
        self.can_dispute = d.can_dispute

    @page_event()
    async def submit_dispute(self, principal: Principal, form: dict) -> None:
        reference = await run_db(svc.dispute_invoice, principal, self._number(), str(form.get("reason", ""))[:2000])
        self.dispute_error = ""
        self.dispute_done = (
            f"Saved. The invoice is now marked disputed and request {reference} was opened for our billing team; "
            "they will answer you there. Keep the reference for your records."
        )
        self.form_key += 1
        await self._fetch(principal)

    def _service_refused(self, exc: ServiceError) -> None:
        """A refused dispute shows beside the dispute form."""
        self.dispute_error, self.dispute_done = exc.message, ""


def _lines_table() -> rx.Component:
    s = PortalInvoiceDetailState
    headers = ["#", "Code", "Description", "Quantity", "Unit price", "Tax rate", "Amount", "Tax"]
    return rx.table.root(
        table_caption("Invoice lines"),
        _header_row(headers),
        rx.table.body(
            rx.foreach(
                s.lines,
                lambda ln: rx.table.row(
                    rx.table.cell(ln.no),
                    rx.table.cell(ln.code),
                    rx.table.row_header_cell(ln.description),
                    rx.table.cell(ln.quantity, text_align="right"),
                    rx.table.cell(ln.unit_price, text_align="right"),
                    rx.table.cell(ln.tax_rate, text_align="right"),
                    rx.table.cell(ln.amount, text_align="right"),
                    rx.table.cell(ln.tax, text_align="right"),
                ),
            )
        ),
        variant="surface",
        width="100%",
    )


def _totals() -> rx.Component:
    return fact_list(PortalInvoiceDetailState.totals, strong=True)


def _payments() -> rx.Component:
    s = PortalInvoiceDetailState
    return rx.cond(
        s.payments.length() > 0,
        rx.table.root(
            table_caption("Payments"),
            _header_row(["Received", "Method", "Reference", "Amount"]),
            rx.table.body(
                rx.foreach(
                    s.payments,
                    lambda p: rx.table.row(
                        rx.table.row_header_cell(p.paid_at),
                        rx.table.cell(p.method),
                        rx.table.cell(p.reference),
                        rx.table.cell(p.amount, text_align="right"),
                    ),
                )
            ),
            variant="surface",
            width="100%",
        ),
        rx.text("No payments received yet.", color=MUTED_TEXT),
    )


def _dispute_form() -> rx.Component:
    s = PortalInvoiceDetailState
    return rx.card(
        rx.heading("Dispute this invoice", size="4", as_="h2"),
        rx.cond(s.dispute_done != "", info_callout(s.dispute_done), rx.fragment()),
        rx.cond(s.dispute_error != "", error_callout(s.dispute_error), rx.fragment()),
        rx.cond(
            s.can_dispute,
            rx.el.form(
                rx.vstack(
                    rx.text(
                        "Something wrong on this invoice? Tell us what and why. The invoice is marked disputed, a "
                        "request goes to our billing team with your reason, and you get its reference to follow it.",
                        color=MUTED_TEXT,
                    ),
                    rx.box(
                        rx.el.label("Reason", html_for="dispute-reason",
                                    style={"display": "block", "font_weight": "600", "margin_bottom": "4px"}),
                        rx.text_area(id="dispute-reason", name="reason", required=True,
                                     min_length=svc.DISPUTE_REASON_MIN, max_length=svc.DISPUTE_REASON_MAX, rows="4",
                                     width="100%",
                                     placeholder="For example: the handling charge was agreed at 40, not 60."),
                        width="100%",
                    ),
                    primary_button("Dispute invoice", type="submit"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=s.submit_dispute,
                reset_on_submit=True,
                key=s.form_key,
                width="100%",
            ),
            rx.text(
                rx.cond(
                    s.summary.status == "disputed",
                    "This invoice is disputed: ",
                    "Only open invoices can be disputed. For anything else, raise a request. ",
                ),
                s.summary.disputed_reason,
                color=MUTED_TEXT,
            ),
        ),
        rx.link("Ask a question about this invoice", href=routes.PORTAL_REQUEST_NEW + "?invoice=" + s.summary.number),
        width="100%",
    )


@area_page("portal", routes.PORTAL_INVOICE, "Invoice", PortalInvoiceDetailState.load)
def portal_invoice_detail() -> rx.Component:
    s = PortalInvoiceDetailState
    return rx.cond(
        s.not_found != "",
        rx.vstack(
            rx.heading("Invoice not found", size="7", as_="h1"),
            error_callout(s.not_found),
            rx.link("Back to invoices", href=routes.PORTAL_INVOICES),
        ),
        rx.vstack(
            rx.hstack(
                rx.heading("Invoice ", s.summary.number, size="7", as_="h1"),
                invoice_status_badge(s.summary.status, s.summary.status_label),
                rx.cond(s.summary.overdue != "", rx.text(s.summary.overdue, color=DANGER, weight="bold"),
                        rx.fragment()),
                align="center",
                wrap="wrap",
            ),
            rx.text(
                "Billed to ", s.summary.company, " · issued ", s.summary.issued, " · due ", s.summary.due,
                " · shipment ",
                rx.cond(s.summary.shipment_href != "", rx.link(s.summary.shipment, href=s.summary.shipment_href),
                        s.summary.shipment),
                color=MUTED_TEXT,
            ),
            rx.hstack(
                download_link("Download PDF", s.summary.pdf_href),
                rx.link("Back to invoices", href=routes.PORTAL_INVOICES),
                spacing="5",
            ),
            rx.heading("Lines", size="5", as_="h2"),
            _lines_table(),
            responsive_grid(
                rx.card(rx.heading("Totals", size="4", as_="h2"), _totals()),
                rx.card(rx.heading("Payments", size="4", as_="h2"), _payments()),
                wide=2,
            ),
            _dispute_form(),
            spacing="4",
            width="100%",
        ),
    )


# ---------------------------------------------------------------------------------------------------- statement


STATEMENT_PAGE_SIZE = 25


@dataclass(frozen=True)
class StatementInvoiceLine:
    """One open invoice on the statement, with its aging bucket."""

    number: str
    href: str
    shipment: str
    due: str
    status: str
    status_label: str
    balance: str
    bucket: str
    overdue: str


class PortalStatementState(SessionState):
    """The aging summary and one page of the open invoices behind it (all of them are in the exports)."""

    AREA: ClassVar[str] = "portal"

    as_of: str = ""
    aging: list[AgingLine] = []
    invoices: list[StatementInvoiceLine] = []
    open_count: int = 0
    page: int = 1
    pages: int = 1
    error: str = ""

    @page_event()
    async def load(self, principal: Principal) -> None:
        self.page = 1
        await self._fetch(principal)

    @page_event()
    async def go_to_page(self, principal: Principal, delta: int) -> None:
        self.page = max(1, min(self.pages, self.page + int(delta)))
        await self._fetch(principal)

    async def _fetch(self, principal: Principal) -> None:
        st = await run_db(svc.statement, principal, page=self.page, page_size=STATEMENT_PAGE_SIZE)
        self.error = ""
        self.open_count = st.open_invoices
        self.pages = max(1, -(-st.open_invoices // STATEMENT_PAGE_SIZE))
        self.as_of = _day(st.as_of)
        self.aging = [aging_row_view(c) for c in st.currencies]
        self.invoices = [
            StatementInvoiceLine(
                number=i.number,
                href=link(routes.PORTAL_INVOICE, number=i.number),
                shipment=i.shipment_reference or "—",
                due=_day(i.due_date),
                status=i.status,
                status_label=status_label(i.status),
                balance=money(i.currency, i.balance),
                bucket=svc.BUCKET_LABELS[i.bucket],
                overdue=_overdue_text(i.days_past_due),
            )
            for i in st.invoices
        ]

    def _service_refused(self, exc: ServiceError) -> None:
        """The statement could not be read: the message instead of its tables."""
        self.error, self.aging, self.invoices = exc.message, [], []


def _aging_table() -> rx.Component:
    labels = [label for _, label in svc.BUCKETS]
    return rx.table.root(
        table_caption("Aging by currency"),
        _header_row(["Currency", *labels, "Total"]),
        rx.table.body(
            rx.foreach(
                PortalStatementState.aging,
                lambda a: rx.table.row(
                    rx.table.row_header_cell(a.currency),
                    *[rx.table.cell(a.buckets[i], text_align="right") for i in range(len(svc.BUCKET_KEYS))],
                    rx.table.cell(rx.text(a.total, weight="bold"), text_align="right"),
                ),
            )
        ),
        variant="surface",
        width="100%",
    )


def _open_invoices_table() -> rx.Component:
    return rx.table.root(
        table_caption("Open invoices"),
        _header_row(["Invoice", "Shipment", "Due", "Status", "Aging", "Balance"]),
        rx.table.body(
            rx.foreach(
                PortalStatementState.invoices,
                lambda i: rx.table.row(
                    rx.table.row_header_cell(rx.link(i.number, href=i.href, weight="bold")),
                    rx.table.cell(i.shipment),
                    rx.table.cell(i.due),
                    rx.table.cell(invoice_status_badge(i.status, i.status_label)),
                    rx.table.cell(rx.vstack(
                        rx.text(i.bucket),
                        rx.cond(i.overdue != "", rx.text(i.overdue, size="1", color=DANGER), rx.fragment()),
                        spacing="0",
                    )),
                    rx.table.cell(i.balance, text_align="right"),
                ),
            )
        ),
        variant="surface",
        width="100%",
    )


@area_page("portal", routes.PORTAL_STATEMENT, "Statement", PortalStatementState.load)
def portal_statement() -> rx.Component:
    s = PortalStatementState
    return rx.vstack(
        rx.heading("Statement of account", size="7", as_="h1"),
        rx.text("Open balances as of ", s.as_of, " (UTC), aged by days past the due date.", color=MUTED_TEXT),
        rx.cond(s.error != "", error_callout(s.error), rx.fragment()),
        rx.hstack(
            download_link("Download CSV", "/api/v1/statement.csv"),
            download_link("Download Excel", "/api/v1/statement.xlsx"),
            rx.link("All invoices", href=routes.PORTAL_INVOICES),
            spacing="5",
        ),
        rx.heading("Aging", size="5", as_="h2"),
        rx.cond(
            s.aging.length() > 0,
            _aging_table(),
            rx.text("Nothing is open: you owe nothing today.", color=MUTED_TEXT),
        ),
        rx.heading("Open invoices", size="5", as_="h2"),
        rx.cond(
            s.invoices.length() > 0,
            rx.vstack(
                rx.text(s.open_count, " open invoices, the longest overdue first in each currency. The downloads hold "
                        "all of them.", color=MUTED_TEXT, data_testid="open-invoice-count"),
                _open_invoices_table(),
                pager(s),
                spacing="3",
                width="100%",
            ),
            rx.text("No open invoices.", color=MUTED_TEXT),
        ),
        spacing="4",
        width="100%",
    )
