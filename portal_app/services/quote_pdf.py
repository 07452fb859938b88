"""A quote as a PDF (reportlab): the request (lane, ready date, Incoterm, cargo) and every option with its
carrier, transit time, validity, all-in price and charge breakdown, written for the person who downloads it (days,
times and amounts in their zone and language: services/display.py)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer
from sqlmodel import Session

from portal_app.auth.principal import Principal
from portal_app.services import display
from portal_app.services.pdf import issuer_name, render, styles, table
from portal_app.services.quotes import QuoteView, get_quote
from portal_app.services.trade_codes import INCOTERMS, SERVICES


def _cargo_rows(quote: QuoteView) -> list[list[str]]:
    rows = []
    for n, ln in enumerate(quote.lines, start=1):
        if ln.container_size_type:
            what = f"{ln.container_count or 0} x {ln.container_type or ln.container_size_type}"
        else:
            dims = "x".join(f"{v.normalize():f}" for v in (ln.length_cm, ln.width_cm, ln.height_cm) if v is not None)
            what = f"{ln.packages or 0} pkg {dims} cm" if dims else f"{ln.packages or 0} pkg"
            if ln.volume_m3 is not None:
                what += f", {ln.volume_m3:,.3f} m3"
        dg = f"UN {ln.un_number} class {ln.dg_class}" if ln.is_dangerous_goods else "-"
        weight = f"{ln.weight_kg.normalize():f} kg" if ln.weight_kg is not None else "-"
        rows.append([str(n), (ln.description or "-")[:60], what, weight, dg])
    return rows


def render_quote_pdf(quote: QuoteView, issuer: str, *, reader: display.Reader | None = None,
                     compress: bool = True) -> bytes:
    """The PDF bytes for one quote, for ``reader`` (English and UTC when None). ``compress=False`` keeps text
    streams readable (used by tests)."""
    reader = reader or display.Reader()
    st = styles()
    incoterm = f"{quote.incoterm} {INCOTERMS[quote.incoterm].name}" if quote.incoterm in INCOTERMS else "-"
    facts = [
        ["Customer", quote.company_name],
        ["Requested by", quote.requested_by],
        ["Mode", quote.mode_label or "-"],
        ["From", f"{quote.origin or '-'} {quote.origin_name or ''}".strip()],
        ["To", f"{quote.destination or '-'} {quote.destination_name or ''}".strip()],
        ["Ready date", display.day(quote.ready_date, reader) if quote.ready_date else "-"],
        ["Incoterm", incoterm],
        ["Services", ", ".join(SERVICES.get(s, s) for s in quote.services) or "-"],
        ["Status", quote.status],
    ]
    if quote.customer_reference:
        facts.insert(2, ["Your reference", quote.customer_reference])
    if quote.chargeable_weight_kg is not None:
        facts.append(["Chargeable weight", f"{quote.chargeable_weight_kg.normalize():f} kg"])
    if quote.revenue_tonnes is not None:
        facts.append(["W/M (revenue tonnes)", f"{quote.revenue_tonnes.normalize():f}"])
    story: list = [
        Paragraph(escape(issuer), st["Title"]),
        Paragraph(f"Quote {quote.reference}", st["Heading2"]),
        table([[a, Paragraph(escape(b), st["BodyText"])] for a, b in facts], [40 * mm, 134 * mm], header=False,
              right_from=2),
        Spacer(1, 4 * mm),
        Paragraph("Cargo", st["Heading3"]),
        table([["#", "Description", "Quantity", "Gross weight", "Dangerous goods"], *_cargo_rows(quote)],
              [8 * mm, 62 * mm, 44 * mm, 28 * mm, 32 * mm], right_from=5),
        Spacer(1, 4 * mm),
        Paragraph("Options", st["Heading3"]),
    ]
    if not quote.options:
        story.append(Paragraph("No prices yet: our team is pricing this request"
                               + (f" by {display.when(quote.manual_due_at, reader)}." if quote.manual_due_at else "."),
                               st["BodyText"]))
    for n, o in enumerate(quote.options, start=1):
        carrier = o.carrier_name or o.carrier_code or "Carrier to be confirmed"
        total = display.money(o.total, o.currency, reader)
        story += [
            Spacer(1, 3 * mm),
            Paragraph(escape(f"Option {n}: {carrier}, {o.transit_days} days transit, {total} all-in "
                             f"({o.status}, valid until {display.when(o.valid_until, reader)})"), st["Heading4"]),
            table([["Code", "Charge", "Quantity", "Rate", "Amount"]]
                  + [[c.code, Paragraph(escape(c.description), st["BodyText"]), display.number(c.quantity, reader),
                      display.number(c.unit_price, reader), display.money(c.amount, o.currency, reader)]
                     for c in o.charges]
                  + [["", "Total", "", "", total]],
                  [16 * mm, 84 * mm, 22 * mm, 22 * mm, 30 * mm], right_from=2),
        ]
        if o.free_time:
            story.append(Paragraph(escape(f"Free time: {o.free_time}."), st["BodyText"]))
        if o.notes:
            story.append(Paragraph(escape(o.notes), st["BodyText"]))
    story += [Spacer(1, 6 * mm), Paragraph(
        "Prices are subject to space and equipment availability at booking. Book an option in the portal before "
        "it expires; afterwards request the quote again for current prices.", st["BodyText"])]
    return render(story, title=f"Quote {quote.reference}", author=issuer, compress=compress)


def quote_pdf(db: Session, principal: Principal, reference: str, *, compress: bool = True) -> tuple[str, bytes]:
    """The file name and PDF of one quote the principal may see (NotFound otherwise)."""
    quote = get_quote(db, principal, reference)
    return f"{quote.reference}.pdf", render_quote_pdf(quote, issuer_name(db), reader=display.reader_of(principal),
                                                      compress=compress)
