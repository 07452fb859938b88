"""The UBL e-invoice's rules on their own: VAT categories and breakdown, credit lines, currency decimals, the seller's
address, and refusing an invoice whose stored amounts do not add up."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from models import Invoice, InvoiceLine
from portal_app.auth.sessions import _principal_for
from portal_app.services.config.invoice_identity import InvoiceIdentity
from portal_app.services.einvoice_ubl import (
    Party,
    amount_decimals,
    filename_for,
    render_ubl,
    split_address,
    vat_breakdown,
    vat_category,
)
from portal_app.services.errors import Conflict, ErrorCode, FormInvalid
from portal_app.services.finance import InvoiceDetail, InvoiceLineView
from portal_app.services.invoicing import InvoiceLineInput, issue_invoice

NS = {"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
      "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
D = Decimal
SELLER = Party(name="Harbor & Sky Logistics B.V.", country="NL", vat_number="NL854891742B01")
BUYER = Party(name="Acme <Home> Goods", country="GB")


def _line(no: int, qty: str, price: str, rate: str, amount: str, tax: str) -> InvoiceLineView:
    return InvoiceLineView(no, "FRT", f"Line {no} & more", D(qty), D(price), D(rate), D(amount), D(tax))


def _detail(lines: list[InvoiceLineView], currency: str = "EUR", paid: str = "0", **override: object) -> InvoiceDetail:
    subtotal = sum((ln.amount for ln in lines), D(0))
    tax = sum((ln.tax_amount for ln in lines), D(0))
    values = {"number": "INV-2026-000001", "shipment_reference": None, "issue_date": date(2026, 12, 1),
              "due_date": date(2026, 12, 31), "status": "issued", "currency": currency, "total": subtotal + tax,
              "balance": subtotal + tax - D(paid), "days_overdue": 0, "company_name": BUYER.name,
              "subtotal": subtotal, "tax_total": tax, "amount_paid": D(paid), "disputed_reason": None, "version": 1,
              "lines": lines, "payments": []}
    values.update(override)
    return InvoiceDetail(**values)


def test_vat_categories_and_breakdown_per_rate():
    assert vat_category(D("0.190")) == ("S", D("19"))
    assert vat_category(D("0.055")) == ("S", D("5.5"))
    assert vat_category(D("0")) == ("Z", D("0"))
    lines = [_line(1, "1", "100.00", "0.19", "100.00", "19.00"), _line(2, "1", "50.00", "0", "50.00", "0.00"),
             _line(3, "3", "0.35", "0.19", "1.05", "0.20")]
    groups = vat_breakdown(lines)
    assert [(g.category, g.percent, g.taxable, g.tax) for g in groups] == [
        ("S", D("19"), D("101.05"), D("19.20")), ("Z", D("0"), D("50.00"), D("0.00"))]


def test_currency_decimals_follow_iso_4217_capped_at_two():
    assert (amount_decimals("JPY"), amount_decimals("EUR"), amount_decimals("KWD")) == (0, 2, 2)


def test_a_credit_line_has_a_negative_quantity_never_a_negative_price():
    detail = _detail([_line(1, "2", "100.00", "0.2", "200.00", "40.00"),
                      _line(2, "1", "-30.00", "0.2", "-30.00", "-6.00")], paid="50.00")
    root = ET.fromstring(render_ubl(detail, SELLER, BUYER, InvoiceIdentity()))
    credit = root.findall("cac:InvoiceLine", NS)[1]
    assert credit.find("cbc:InvoicedQuantity", NS).text == "-1"
    assert credit.find("cac:Price/cbc:PriceAmount", NS).text == "30"
    assert credit.find("cbc:LineExtensionAmount", NS).text == "-30.00"
    totals = root.find("cac:LegalMonetaryTotal", NS)
    assert [totals.find(f"cbc:{t}", NS).text for t in ("LineExtensionAmount", "TaxInclusiveAmount", "PrepaidAmount",
                                                      "PayableAmount")] == ["170.00", "204.00", "50.00", "154.00"]
    assert root.find("cac:AccountingCustomerParty/cac:Party/cac:PartyName/cbc:Name", NS).text == "Acme <Home> Goods"


def test_an_invoice_whose_amounts_do_not_add_up_is_refused():
    lines = [_line(1, "1", "100.00", "0.19", "100.00", "19.00")]
    for broken in ({"total": D("120.00")}, {"tax_total": D("18.00"), "total": D("118.00")},
                   {"balance": D("1.00")}):
        with pytest.raises(Conflict) as refused:
            render_ubl(_detail(lines, **broken), SELLER, BUYER, InvoiceIdentity())
        assert refused.value.code == ErrorCode.EINVOICE_INCOMPLETE and "Nothing was changed" in refused.value.message
    with pytest.raises(Conflict):  # a JPY amount with cents cannot be written in yen
        render_ubl(_detail([_line(1, "1", "100.50", "0", "100.50", "0")], currency="JPY"), SELLER, BUYER,
                   InvoiceIdentity())


def test_the_sellers_address_lines_become_street_postcode_city_and_country():
    assert split_address(["Waalhaven Zuidzijde 21", "3089 JH Rotterdam", "The Netherlands"], "NL") == {
        "street": "Waalhaven Zuidzijde 21", "postcode": "3089 JH", "city": "Rotterdam", "address_lines": ()}
    assert split_address(["Am Sandtorkai 1", "20457 Hamburg"], "DE")["city"] == "Hamburg"
    london = split_address(["1 Dock Road", "Unit 4", "London E16 1AA"], "GB")
    assert london["street"] == "1 Dock Road" and london["city"] == "London E16 1AA"
    assert london["address_lines"] == ("Unit 4",)


def test_control_characters_never_make_the_xml_unreadable():
    line = InvoiceLineView(1, "FRT", "Freight\x01 to\x1b Hamburg", D(1), D(10), D(0), D("10.00"), D("0.00"))
    body = render_ubl(_detail([line]), SELLER, BUYER, InvoiceIdentity())
    assert ET.fromstring(body).find("cac:InvoiceLine/cac:Item/cbc:Name", NS).text == "Freight to Hamburg"


def test_file_names_are_safe():
    assert filename_for("INV-2026-000001") == "INV-2026-000001-ubl.xml"
    assert filename_for("AB/2026/7") == "AB-2026-7-ubl.xml"


def test_an_issued_invoice_keeps_its_rate_as_a_fraction(world, db):
    manager = _principal_for(db, world.users["FWD:ops_manager"], None)
    done = issue_invoice(db, manager, company_code="ALFA", currency="EUR", due_date=date(2026, 12, 31),
                         issue_date=date(2026, 12, 1), lines=[
                             InvoiceLineInput(code="THC", description="Terminal handling", quantity="1",
                                              unit_price="180.10", tax_rate="19"),
                             InvoiceLineInput(code="DOC", description="Documents", quantity="1", unit_price="10",
                                              tax_rate="5.5")])
    invoice_id = db.exec(select(Invoice.id).where(Invoice.number == done.number)).one()
    stored = db.exec(select(InvoiceLine.tax_rate).where(InvoiceLine.invoice_id == invoice_id)
                     .order_by(InvoiceLine.line_no)).all()
    assert [D(r) for r in stored] == [D("0.19"), D("0.055")]
    with pytest.raises(FormInvalid) as bad:
        issue_invoice(db, manager, company_code="ALFA", currency="EUR", due_date=date(2026, 12, 31), lines=[
            InvoiceLineInput(code="X", description="x", quantity="1", unit_price="1", tax_rate="8.875")])
    assert "lines.1.tax_rate" in bad.value.fields
