"""One instant reads the same on every page and in every download (services/display.py, docs/portal.md "Times,
dates and money: one rule"): a demo customer in New York who reads German sees the arrival of her shipment at the
port of New York as the same 10:00 EST on the shipment page, in the CSV and the Excel export (ISO 8601 with the
offset, the zone named in the header) and on the shipment's invoice PDF, whose dates and amounts are German too."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pypdf
from sqlmodel import col, select

from models import Invoice, Location, Milestone, Shipment, User
from portal_app.components.formatting import shipment_row_view
from portal_app.components.shipment_detail import _milestone_view
from portal_app.services import display, finance, shipments
from portal_app.services.spreadsheets import cell
from tests.quote_world import QuoteWorld, principal_for

ZONE, LOCALE = "America/New_York", "de"
ARRIVAL = datetime(2026, 12, 15, 15, 0, tzinfo=UTC)  # 10:00 in New York (EST, UTC-5)
LOCAL_TEXT = "15 Dez. 2026 10:00 EST"  # a time at a place: the place's zone, named; the reader's language
ISO_TEXT = "2026-12-15T10:00:00-05:00"  # exports: the reader's zone, with the offset
ARRIVAL_STEPS = ("vessel_arrival", "arrived", "arrived_at_destination", "arrived_at_destination_hub")


def _arriving_in_new_york(demo: QuoteWorld) -> tuple[str, str]:
    """Alice reads New York time in German; one of her invoiced shipments arrives at USNYC at ``ARRIVAL``.
    (shipment reference, invoice number)"""
    with demo.session() as db:
        alice = db.exec(select(User).where(User.email == "alice@acme.example")).one()
        alice.timezone, alice.locale = ZONE, LOCALE
        invoice = db.exec(select(Invoice).where(Invoice.company_id == alice.company_id,
                                                col(Invoice.shipment_id).is_not(None), Invoice.status != "draft")
                          .order_by(col(Invoice.id))).first()
        assert invoice is not None, "the demo seed invoices Acme's shipments"
        shipment = db.get(Shipment, invoice.shipment_id)
        new_york = db.exec(select(Location).where(Location.code == "USNYC")).one()
        assert shipment is not None and new_york.timezone == ZONE
        shipment.destination_id, shipment.eta_estimated, shipment.ata = new_york.id, ARRIVAL, None
        step = db.exec(select(Milestone).where(Milestone.shipment_id == shipment.id,
                                               col(Milestone.code).in_(ARRIVAL_STEPS))).one()
        step.location_id, step.estimated_at, step.actual_at = new_york.id, ARRIVAL, None
        db.add_all([alice, shipment, step])
        db.commit()
        return shipment.reference, invoice.number


def test_the_same_arrival_reads_the_same_on_the_page_in_the_exports_and_on_the_invoice(demo: QuoteWorld):
    reference, number = _arriving_in_new_york(demo)
    principal = replace(principal_for(demo.engine, "alice@acme.example"), timezone=ZONE, locale=LOCALE)
    reader = display.reader_of(principal)

    # The shipment page, through the services and views it uses.
    with demo.session() as db, display.reading_as(reader):
        detail = shipments.get_shipment(db, principal, reference)
        arrival = next(m for m in detail.milestones if m.code in ARRIVAL_STEPS)
        assert _milestone_view(arrival).estimated == LOCAL_TEXT
        assert shipment_row_view(detail.row).eta == "15 Dez. 2026"  # the list's day, in her zone

    alice = demo.client("alice@acme.example")  # her own session: the reader is who signed in

    # The CSV: the same instant, on her clock, with the offset; the header names the zone.
    export = alice.get("/api/v1/shipments/export", params={"format": "csv", "q": reference})
    assert export.status_code == 200, export.text
    row = next(r for r in csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"), newline=""))
               if r["Shipment"] == reference)
    assert row[f"Arrival estimate ({ZONE})"] == ISO_TEXT
    assert datetime.fromisoformat(row[f"Arrival estimate ({ZONE})"]) == ARRIVAL
    assert datetime.fromisoformat(row[f"Last update ({ZONE})"]).utcoffset() is not None  # every time, not only one

    # The Excel workbook: the same text in the same column.
    book = alice.get("/api/v1/shipments/export", params={"format": "xlsx", "q": reference})
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(min_row=2)]
    assert next(r for r in rows if r["Shipment"] == reference)[f"Arrival estimate ({ZONE})"] == ISO_TEXT

    # The invoice PDF: the arrival as the page shows it; its days and amounts in German, in ISO 4217 decimals.
    pdf = alice.get(f"/api/v1/invoices/{number}/pdf")
    assert pdf.status_code == 200
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert f"{reference} · arrival {LOCAL_TEXT} (estimated)" in " ".join(text.split())
    with demo.session() as db:
        invoice = finance.get_invoice(db, principal, number)
    assert display.day(invoice.row.issue_date, reader) in text  # "15 Dez. 2026", not 2026-12-15
    total = display.money(invoice.row.total, invoice.row.currency, reader)
    assert total in text and total.endswith(f" {invoice.row.currency}")  # German: "1.234,50 EUR"


def test_the_export_cell_and_the_display_rule_agree_on_the_instant():
    """The export's text parses back to the instant the page shows; with the place elsewhere the page names that
    place's zone and the export stays on the reader's clock: the same instant, each with its zone said."""
    reader = display.Reader(ZONE, LOCALE)
    assert cell(ARRIVAL, reader.timezone) == ISO_TEXT
    assert display.at_place(ARRIVAL, "Europe/Amsterdam", reader) == "15 Dez. 2026 16:00 CET"
    assert datetime.fromisoformat(cell(ARRIVAL, reader.timezone)) == ARRIVAL
    assert display.amount(Decimal("1234.5"), "JPY", reader) == "1.234" and display.amount(Decimal("1234.5"), "EUR",
                                                                                         reader) == "1.234,50"
