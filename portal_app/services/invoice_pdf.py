"""An invoice as a PDF (reportlab): who bills whom, the lines, tax and totals, balance, status and payments."""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer
from sqlmodel import Session

from portal_app.auth.principal import Principal
from portal_app.services.finance import InvoiceDetail, get_invoice
from portal_app.services.pdf import DEFAULT_ISSUER, issuer_name, render
from portal_app.services.pdf import money as _money
from portal_app.services.pdf import styles as _styles
from portal_app.services.pdf import table as _table

__all__ = ["DEFAULT_ISSUER", "invoice_pdf", "issuer_name", "render_invoice_pdf"]


def render_invoice_pdf(detail: InvoiceDetail, issuer: str, *, compress: bool = True) -> bytes:
    """The PDF bytes for one invoice. ``compress=False`` keeps text streams readable (used by tests)."""
    row = detail.row
    cur = row.currency
    styles = _styles()
    story: list = [
        Paragraph(escape(issuer), styles["Title"]),
        Paragraph(f"Invoice {row.number}", styles["Heading2"]),
        _table(
            [
                ["Bill to", detail.company_name],
                ["Issue date", row.issue_date.isoformat()],
                ["Due date", row.due_date.isoformat()],
                ["Shipment", row.shipment_reference or "-"],
                ["Status", row.status.replace("_", " ")
                 + (f" ({row.days_overdue} days overdue)" if row.days_overdue else "")],
            ],
            [35 * mm, 120 * mm], header=False, right_from=2,
        ),
        Spacer(1, 6 * mm),
        _table(
            [["#", "Code", "Description", "Qty", "Unit price", "Tax rate", "Amount", "Tax"]]
            + [
                [str(ln.line_no), ln.code, Paragraph(escape(ln.description), styles["BodyText"]), f"{ln.quantity:,.3f}",
                 f"{ln.unit_price:,.2f}", f"{ln.tax_rate * 100:.1f}%", f"{ln.amount:,.2f}", f"{ln.tax_amount:,.2f}"]
                for ln in detail.lines
            ],
            [8 * mm, 14 * mm, 54 * mm, 16 * mm, 20 * mm, 16 * mm, 24 * mm, 22 * mm], right_from=3,
        ),
        Spacer(1, 4 * mm),
        _table(
            [
                ["Subtotal", _money(cur, detail.subtotal)],
                ["Tax", _money(cur, detail.tax_total)],
                ["Total", _money(cur, row.total)],
                ["Paid", _money(cur, detail.amount_paid)],
                ["Balance due", _money(cur, row.balance)],
            ],
            [134 * mm, 40 * mm], header=False,
        ),
        Spacer(1, 6 * mm),
        Paragraph("Payments", styles["Heading3"]),
    ]
    if detail.payments:
        story.append(_table(
            [["Date (UTC)", "Method", "Reference", "Amount"]]
            + [[p.paid_at.strftime("%Y-%m-%d"), p.method.replace("_", " "), p.reference or "-",
                _money(p.currency, p.amount)] for p in detail.payments],
            [30 * mm, 40 * mm, 64 * mm, 40 * mm], right_from=3,
        ))
    else:
        story.append(Paragraph("No payments received yet.", styles["BodyText"]))
    if detail.disputed_reason:
        story += [Spacer(1, 4 * mm), Paragraph(escape(f"Disputed: {detail.disputed_reason}"), styles["BodyText"])]
    return render(story, title=f"Invoice {row.number}", author=issuer, compress=compress)


def invoice_pdf(db: Session, principal: Principal, number: str, *, compress: bool = True) -> tuple[str, bytes]:
    """The file name and PDF of one invoice the principal may see (NotFound otherwise)."""
    detail = get_invoice(db, principal, number)
    return f"{detail.row.number}.pdf", render_invoice_pdf(detail, issuer_name(db), compress=compress)
