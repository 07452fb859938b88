"""An invoice as a PDF (reportlab): who bills whom, the lines, tax and totals, balance, how to pay, status and
payments.

Who bills and where to pay come from the administrators' configuration (``services/config/invoice_identity.py``):
the header and the foot of every page carry the forwarder's legal name, address and VAT number, and the "How to pay"
block the bank details and the payment reference (the invoice number, by the configured rule). What nobody has
configured is said plainly ("Bank details: ask ...") instead of being left blank.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle, StyleSheet1
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer
from sqlmodel import Session

from portal_app.auth.principal import Principal
from portal_app.services import display
from portal_app.services.config.invoice_identity import InvoiceIdentity, payee_name
from portal_app.services.config.invoice_identity import current as identity_of
from portal_app.services.errors import ServiceError
from portal_app.services.finance import InvoiceDetail, get_invoice
from portal_app.services.pdf import DEFAULT_ISSUER, issuer_name, render
from portal_app.services.pdf import money as _money
from portal_app.services.pdf import styles as _styles
from portal_app.services.pdf import table as _table
from portal_app.services.shipments import get_shipment

__all__ = ["DEFAULT_ISSUER", "invoice_pdf", "issuer_name", "render_invoice_pdf"]


def _header(identity: InvoiceIdentity, issuer: str, styles: StyleSheet1) -> list:
    """The legal name (else the issuer's name), the registered address and the VAT number."""
    story: list = [Paragraph(escape(identity.legal_name or issuer), styles["Title"])]
    details = [escape(line) for line in identity.address_lines]
    if identity.vat_number:
        details.append(escape(f"VAT number: {identity.vat_number}"))
    if details:
        story.append(Paragraph("<br/>".join(details), ParagraphStyle("Issuer", styles["Normal"],
                                                                     alignment=TA_CENTER)))
    return story


def _when(detail: InvoiceDetail, reader: display.Reader) -> str:
    """'by <due date>', or 'now' with the date it was due once that has passed."""
    due = display.day(detail.due_date, reader)
    return f"now (it was due on {due})" if detail.days_overdue > 0 else f"by {due}"


def footer_lines(identity: InvoiceIdentity) -> list[str]:
    """The foot of every page: who bills, where they are registered, their VAT number and account."""
    if not identity.has_identity:
        return []
    lines = [" · ".join([identity.legal_name, ", ".join(identity.address_lines)])]
    numbers = [f"VAT number {identity.vat_number}"] if identity.vat_number else []
    if identity.has_bank_details:
        numbers += [f"IBAN {identity.iban_printed}", f"BIC {identity.bic}"]
    if numbers:
        lines.append(" · ".join(numbers))
    return lines


def how_to_pay(detail: InvoiceDetail, identity: InvoiceIdentity, payee: str, styles: StyleSheet1,
               reader: display.Reader | None = None) -> list:
    """The bank details and the payment reference; or, where none are configured, whom to ask."""
    reader = reader or display.Reader()
    row = detail.row
    reference = identity.reference_for(row.number)
    story: list = [Paragraph("How to pay", styles["Heading3"])]
    if row.status == "void":
        return [*story, Paragraph("This invoice is void: do not pay it.", styles["BodyText"])]
    if row.balance <= 0:
        return [*story, Paragraph("Nothing is due: this invoice is paid in full.", styles["BodyText"])]
    if not identity.has_bank_details:
        return [*story, Paragraph(escape(
            f"Bank details: ask {payee} for the account to pay into; they are not printed on this invoice yet. "
            f"Pay {_money(row.currency, row.balance, reader)} {_when(detail, reader)} and quote the payment reference "
            f"{reference}."), styles["BodyText"])]
    rows = [["Account holder", identity.account_holder], ["IBAN", identity.iban_printed],
            ["BIC/SWIFT", identity.bic]]
    if identity.bank_name:
        rows.append(["Bank", identity.bank_name])
    rows.append(["Payment reference", reference])
    return [
        *story,
        Paragraph(escape(f"Pay {_money(row.currency, row.balance, reader)} by bank transfer in {row.currency} "
                         f"{_when(detail, reader)}. Quote the payment reference, so your payment is matched to this "
                         f"invoice."), styles["BodyText"]),
        Spacer(1, 2 * mm),
        _table(rows, [40 * mm, 134 * mm], header=False, right_from=2),
    ]


def render_invoice_pdf(detail: InvoiceDetail, issuer: str, *, identity: InvoiceIdentity | None = None,
                       payee: str = "", reader: display.Reader | None = None, arrival: str | None = None,
                       compress: bool = True) -> bytes:
    """The PDF bytes for one invoice, billed by ``identity`` (nothing configured when None; ``payee`` is who to ask
    for bank details then), written for ``reader`` (days, amounts and times in their language and zone; English
    and UTC when None). ``arrival``: the shipment's arrival as the shipment page shows it, if known.
    ``compress=False`` keeps text streams readable (used by tests)."""
    identity = identity or InvoiceIdentity()
    reader = reader or display.Reader()
    row = detail.row
    cur = row.currency
    styles = _styles()

    def money(amount):  # noqa: ANN001, ANN202
        return _money(cur, amount, reader)

    def amount(value):  # noqa: ANN001, ANN202 - under a heading of the invoice's currency
        return display.amount(value, cur, reader)

    shipment = row.shipment_reference or "-"
    story: list = [
        *_header(identity, issuer, styles),
        Paragraph(f"Invoice {row.number}", styles["Heading2"]),
        _table(
            [
                ["Bill to", detail.company_name],
                ["Issue date", display.day(row.issue_date, reader)],
                ["Due date", display.day(row.due_date, reader)],
                ["Shipment", f"{shipment} · arrival {arrival}" if arrival else shipment],
                ["Status", row.status.replace("_", " ")
                 + (f" ({row.days_overdue} days overdue)" if row.days_overdue else "")],
            ],
            [35 * mm, 120 * mm], header=False, right_from=2,
        ),
        Spacer(1, 6 * mm),
        _table(
            [["#", "Code", "Description", "Qty", f"Unit price ({cur})", "Tax rate", f"Amount ({cur})",
              f"Tax ({cur})"]]
            + [
                [str(ln.line_no), ln.code, Paragraph(escape(ln.description), styles["BodyText"]),
                 display.number(ln.quantity, reader), amount(ln.unit_price),
                 f"{display.number(round(ln.tax_rate * 100, 1), reader)}%", amount(ln.amount),
                 amount(ln.tax_amount)]
                for ln in detail.lines
            ],
            [8 * mm, 14 * mm, 54 * mm, 16 * mm, 20 * mm, 16 * mm, 24 * mm, 22 * mm], right_from=3,
        ),
        Spacer(1, 4 * mm),
        _table(
            [
                ["Subtotal", money(detail.subtotal)],
                ["Tax", money(detail.tax_total)],
                ["Total", money(row.total)],
                ["Paid", money(detail.amount_paid)],
                ["Balance due", money(row.balance)],
            ],
            [134 * mm, 40 * mm], header=False,
        ),
        Spacer(1, 6 * mm),
        *how_to_pay(detail, identity, payee or identity.legal_name or issuer, styles, reader),
        Spacer(1, 6 * mm),
        Paragraph("Payments", styles["Heading3"]),
    ]
    if detail.payments:
        story.append(_table(
            [[f"Date ({display.zone(reader.timezone).key})", "Method", "Reference", "Amount"]]
            + [[display.day(p.paid_at, reader), p.method.replace("_", " "), p.reference or "-",
                _money(p.currency, p.amount, reader)] for p in detail.payments],
            [30 * mm, 40 * mm, 64 * mm, 40 * mm], right_from=3,
        ))
    else:
        story.append(Paragraph("No payments received yet.", styles["BodyText"]))
    if detail.disputed_reason:
        story += [Spacer(1, 4 * mm), Paragraph(escape(f"Disputed: {detail.disputed_reason}"), styles["BodyText"])]
    return render(story, title=f"Invoice {row.number}", author=identity.legal_name or issuer, compress=compress,
                  footer=footer_lines(identity))


def invoice_pdf(db: Session, principal: Principal, number: str, *, compress: bool = True) -> tuple[str, bytes]:
    """The file name and PDF of one invoice the principal may see (NotFound otherwise)."""
    detail = get_invoice(db, principal, number)
    identity = identity_of(db)
    reader = display.reader_of(principal)
    return f"{detail.row.number}.pdf", render_invoice_pdf(
        detail, issuer_name(db), identity=identity, payee=payee_name(db, identity), reader=reader,
        arrival=_arrival(db, principal, detail.row.shipment_reference, reader), compress=compress)


def _arrival(db: Session, principal: Principal, reference: str | None, reader: display.Reader) -> str | None:
    """The shipment's arrival (actual, else estimated) at its destination, in that place's zone with the zone's
    name, as the shipment page shows it; None without a shipment or one the principal may not open."""
    if not reference:
        return None
    try:
        shipment = get_shipment(db, principal, reference)
    except ServiceError:
        return None
    moment = shipment.row.ata or shipment.row.eta
    if moment is None:
        return None
    text = display.at_place(moment, shipment.destination_timezone, reader)
    return text if shipment.row.ata else f"{text} (estimated)"
