"""Portal: one invoice, with its lines, totals and payments, the PDF and e-invoice (UBL XML) downloads and the
dispute form."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import fmt_datetime, status_label
from portal_app.components.layout import area_page
from portal_app.components.ui import (
    DANGER,
    MUTED_TEXT,
    download_link,
    error_callout,
    fact_list,
    info_callout,
    primary_button,
    responsive_grid,
    table_caption,
)
from portal_app.portal.invoices.rows import header_row, invoice_row_view, invoice_status_badge, money
from portal_app.services import finance as svc
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.session import SessionState, last_path_segment, page_event, run_db


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
    ubl_href: str = ""
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
            ubl_href=f"/api/v1/invoices/{d.row.number}/ubl",
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
        header_row(headers),
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
            header_row(["Received", "Method", "Reference", "Amount"]),
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
                key=s.form_key,  # a new key (an empty reason) after a success only: a refusal keeps the text
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
                download_link("UBL (XML)", s.summary.ubl_href, "Download e-invoice (UBL XML)"),
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
