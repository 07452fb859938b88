"""Building blocks shared by the product's PDFs (invoices, quotes): who issues them, the page template, tables
and money formatting (reportlab). A PDF is written for the person who downloads it: its dates, times and amounts
go through services/display.py with that person's zone and language (``display.reader_of(principal)``)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from decimal import Decimal

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import StyleSheet1, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, SimpleDocTemplate, Table, TableStyle
from sqlmodel import Session, select

from models import AppSetting, Company
from models.enums import CompanyKind
from portal_app.services import display

DEFAULT_ISSUER = "Your forwarder"


def issuer_name(db: Session) -> str:
    """The name printed at the top: branding's product name, else the forwarder company, else a default."""
    setting = db.get(AppSetting, "branding")
    if setting is not None:
        try:
            name = json.loads(setting.value).get("product_name")
        except (ValueError, AttributeError):
            name = None
        if isinstance(name, str) and name.strip():
            return name.strip()
    forwarder = db.exec(select(Company.name).where(Company.kind == CompanyKind.FORWARDER).limit(1)).first()
    return forwarder or DEFAULT_ISSUER


def money(currency: str, amount: Decimal, reader: display.Reader | None = None) -> str:
    """'USD 1,234.50', 'JPY 1,235', German '1.234,50 EUR': the currency's own decimals (ISO 4217), in the reader's
    language (services/display.py; English without a reader)."""
    return display.money(amount, currency, reader or display.Reader())


def table(data: list[list], widths: Sequence[float], *, header: bool = True, right_from: int = 1) -> Table:
    """A plain table: small type, numbers right-aligned from column ``right_from``, a rule under the header."""
    out = Table(data, colWidths=list(widths), repeatRows=1 if header else 0)
    style = [
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("ALIGN", (right_from, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
    ]
    if header:
        style.append(("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"))
    out.setStyle(TableStyle(style))
    return out


def styles() -> StyleSheet1:
    return getSampleStyleSheet()


def _footer_drawer(lines: Sequence[str]) -> Callable[[Canvas, SimpleDocTemplate], None]:
    """Draws ``lines`` (small grey type, centred, made smaller where a line is too wide for the page) and the page
    number at the foot of every page."""
    width = A4[0] - 36 * mm

    def draw(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFillColor(colors.HexColor("#555555"))
        for n, line in enumerate(lines):
            size = 7.5
            while size > 5 and canvas.stringWidth(line, "Helvetica", size) > width:
                size -= 0.5
            canvas.setFont("Helvetica", size)
            canvas.drawCentredString(A4[0] / 2, (6 + 4 * (len(lines) - n)) * mm, line)
        canvas.setFont("Helvetica", 7.5)
        canvas.drawRightString(A4[0] - 18 * mm, 6 * mm, f"Page {doc.page}")
        canvas.restoreState()

    return draw


def render(story: list[Flowable], *, title: str, author: str, compress: bool = True,
           footer: Sequence[str] = ()) -> bytes:
    """Build an A4 document from ``story``, with the ``footer`` lines at the foot of every page when given.
    ``compress=False`` keeps text streams readable (used by tests)."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, title=title, author=author,
        leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
        bottomMargin=(18 + 4 * len(footer)) * mm,
        pageCompression=1 if compress else 0, invariant=1,
    )
    if footer:
        draw = _footer_drawer(footer)
        doc.build(story, onFirstPage=draw, onLaterPages=draw)
    else:
        doc.build(story)
    return buffer.getvalue()
