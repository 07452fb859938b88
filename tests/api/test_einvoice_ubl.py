"""``GET /api/v1/invoices/{number}/ubl``: every demo customer's invoices as EN 16931 UBL 2.1 (Peppol BIS Billing 3.0)
XML, parsed back and held to the standard's business terms and to the invoice the API serves, to the cent.

No UBL 2.1 XSD or EN 16931 schematron is available offline here, so the structure is checked by the rules the
standard states (mandatory terms present, codes, totals that reconcile) rather than by a schema validator.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from models import AppSetting, Company, Invoice
from tests.quote_world import QuoteWorld

NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
CUSTOMERS = ["alice@acme.example", "bob@acme.example", "nina@nordwind.example", "omar@nordwind.example"]
PEPPOL = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"


def _text(el: ET.Element, path: str) -> str:
    found = el.find(path, NS)
    assert found is not None and found.text and found.text.strip(), f"missing {path}"
    return found.text


def _amount(el: ET.Element, path: str, currency: str, places: int) -> Decimal:
    found = el.find(path, NS)
    assert found is not None, f"missing {path}"
    assert found.get("currencyID") == currency, path
    text = found.text or ""
    assert (len(text.split(".")[1]) if "." in text else 0) == places, f"{path}={text}: {places} decimals for {currency}"
    return Decimal(text)


def check_ubl(body: bytes, api: dict) -> ET.Element:
    """The UBL document against EN 16931's mandatory terms and against the invoice as the API serves it."""
    root = ET.fromstring(body)
    assert root.tag == f"{{{NS['inv']}}}Invoice"
    cur = api["currency"]
    places = 0 if cur == "JPY" else 2
    assert _text(root, "cbc:CustomizationID") == PEPPOL
    assert _text(root, "cbc:ProfileID") == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    assert _text(root, "cbc:ID") == api["number"]  # BT-1
    assert _text(root, "cbc:IssueDate") == api["issue_date"]  # BT-2
    assert _text(root, "cbc:DueDate") == api["due_date"]  # BT-9
    assert _text(root, "cbc:InvoiceTypeCode") == "380"  # BT-3
    assert _text(root, "cbc:DocumentCurrencyCode") == cur  # BT-5
    assert _text(root, "cbc:BuyerReference")  # BT-10 (Peppol: a buyer or order reference)
    seller = root.find("cac:AccountingSupplierParty/cac:Party", NS)
    buyer = root.find("cac:AccountingCustomerParty/cac:Party", NS)
    assert _text(seller, "cac:PartyLegalEntity/cbc:RegistrationName") == "Harbor & Sky Logistics B.V."  # BT-27
    assert _text(seller, "cac:PartyTaxScheme/cbc:CompanyID") == "NL854891742B01"  # BT-31
    assert _text(seller, "cac:PartyTaxScheme/cac:TaxScheme/cbc:ID") == "VAT"
    assert _text(seller, "cac:PostalAddress/cac:Country/cbc:IdentificationCode") == "NL"  # BT-40
    assert _text(buyer, "cac:PartyLegalEntity/cbc:RegistrationName") == api["company_name"]  # BT-44
    assert len(_text(buyer, "cac:PostalAddress/cac:Country/cbc:IdentificationCode")) == 2  # BT-55

    # BG-25 lines: one per invoice line, each as the API has it.
    lines = root.findall("cac:InvoiceLine", NS)
    assert len(lines) == len(api["lines"]) >= 1
    net = Decimal(0)
    for el, ln in zip(lines, api["lines"], strict=True):
        assert _text(el, "cbc:ID") == str(ln["line_no"])  # BT-126
        qty = Decimal(_text(el, "cbc:InvoicedQuantity"))  # BT-129
        assert el.find("cbc:InvoicedQuantity", NS).get("unitCode")  # BT-130
        amount = _amount(el, "cbc:LineExtensionAmount", cur, places)  # BT-131
        price = Decimal(_text(el, "cac:Price/cbc:PriceAmount"))  # BT-146
        assert price >= 0 and amount == Decimal(ln["amount"])
        assert abs(qty) == Decimal(ln["quantity"])
        assert qty * price == Decimal(ln["quantity"]) * Decimal(ln["unit_price"])
        assert _text(el, "cac:Item/cbc:Name") == ln["description"]  # BT-153
        category = _text(el, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID")  # BT-151
        percent = Decimal(_text(el, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent"))  # BT-152
        assert percent == Decimal(ln["tax_rate"]) * 100
        assert category == ("S" if percent > 0 else "Z")
        net += amount

    # BG-23 VAT breakdown: the tax total is the sum of the breakdown; each group's taxable is its lines' net.
    tax_totals = root.findall("cac:TaxTotal", NS)
    assert len(tax_totals) == 1
    tax = _amount(tax_totals[0], "cbc:TaxAmount", cur, places)  # BT-110
    groups = tax_totals[0].findall("cac:TaxSubtotal", NS)
    assert groups
    seen = set()
    for g in groups:
        category = _text(g, "cac:TaxCategory/cbc:ID")  # BT-118
        percent = Decimal(_text(g, "cac:TaxCategory/cbc:Percent"))  # BT-119
        assert (category, percent) not in seen
        seen.add((category, percent))
        mine = [ln for ln in api["lines"] if Decimal(ln["tax_rate"]) * 100 == percent]
        assert _amount(g, "cbc:TaxableAmount", cur, places) == sum(Decimal(ln["amount"]) for ln in mine)  # BT-116
        assert _amount(g, "cbc:TaxAmount", cur, places) == sum(Decimal(ln["tax_amount"]) for ln in mine)  # BT-117
    assert tax == sum(Decimal(g.find("cbc:TaxAmount", NS).text) for g in groups)

    # BG-22 totals reconcile exactly, and equal the invoice's totals in the API.
    totals = root.find("cac:LegalMonetaryTotal", NS)
    line_total = _amount(totals, "cbc:LineExtensionAmount", cur, places)  # BT-106
    without_tax = _amount(totals, "cbc:TaxExclusiveAmount", cur, places)  # BT-109
    with_tax = _amount(totals, "cbc:TaxInclusiveAmount", cur, places)  # BT-112
    prepaid = (_amount(totals, "cbc:PrepaidAmount", cur, places)  # BT-113
               if totals.find("cbc:PrepaidAmount", NS) is not None else Decimal(0))
    payable = _amount(totals, "cbc:PayableAmount", cur, places)  # BT-115
    assert line_total == net == without_tax == Decimal(api["subtotal"])
    assert tax == Decimal(api["tax_total"])
    assert with_tax == without_tax + tax == Decimal(api["total"])
    assert prepaid == Decimal(api["amount_paid"])
    assert payable == with_tax - prepaid == Decimal(api["balance"])
    return root


@pytest.mark.parametrize("email", CUSTOMERS)
def test_every_invoice_of_each_demo_customer_is_a_reconciling_ubl_invoice(demo: QuoteWorld, email: str):
    client = demo.client(email)
    listed = client.get("/api/v1/invoices", params={"page_size": 200}).json()["items"]
    assert listed, f"{email} has no demo invoices"
    for row in listed:
        number = row["number"]
        resp = client.get(f"/api/v1/invoices/{number}/ubl")
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("application/xml")
        assert resp.headers["content-disposition"] == f'attachment; filename="{number}-ubl.xml"'
        assert resp.content.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
        check_ubl(resp.content, client.get(f"/api/v1/invoices/{number}").json())


def test_another_companys_invoice_is_not_found(demo: QuoteWorld):
    with Session(demo.engine) as db:
        nord = db.exec(select(Invoice.number).join(Company, Company.id == Invoice.company_id)
                       .where(Company.code == "NORD", Invoice.status != "draft")).first()
    alice = demo.client("alice@acme.example")
    pdf, ubl = alice.get(f"/api/v1/invoices/{nord}/pdf"), alice.get(f"/api/v1/invoices/{nord}/ubl")
    assert pdf.status_code == ubl.status_code == 404
    assert ubl.json()["error"]["code"] == "not_found"
    assert demo.client("nina@nordwind.example").get(f"/api/v1/invoices/{nord}/ubl").status_code == 200
    assert demo.client("agent@harborsky.example").get(f"/api/v1/invoices/{nord}/ubl").status_code == 200
    assert alice.get("/api/v1/invoices/INV-0000-000000/ubl").status_code == 404


def test_a_jpy_invoice_has_no_decimals_and_its_rate_is_a_percent(demo: QuoteWorld):
    manager = demo.client("manager@harborsky.example")
    made = manager.post("/api/v1/invoices", json={
        "company_code": "ACME", "currency": "JPY", "issue_date": "2026-12-01", "due_date": "2026-12-31",
        "lines": [{"code": "DOC", "description": "Documentation", "quantity": "3", "unit_price": "333.5",
                   "tax_rate": "10"},
                  {"code": "FRT", "description": "Air freight", "quantity": "120.5", "unit_price": "412",
                   "tax_rate": "0"}]})
    assert made.status_code == 201, made.text
    number = made.json()["number"]
    alice = demo.client("alice@acme.example")
    api = alice.get(f"/api/v1/invoices/{number}").json()
    assert [Decimal(ln["tax_rate"]) for ln in api["lines"]] == [Decimal("0.1"), Decimal(0)]
    resp = alice.get(f"/api/v1/invoices/{number}/ubl")
    assert resp.status_code == 200, resp.text
    root = check_ubl(resp.content, api)
    assert _text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "50747"  # 1001 + 49646 + tax 100
    assert _text(root, "cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory/cbc:Percent") == "10"


def test_what_en16931_needs_and_the_product_lacks_is_refused_with_a_code(demo: QuoteWorld):
    alice = demo.client("alice@acme.example")
    number = alice.get("/api/v1/invoices").json()["items"][0]["number"]
    with Session(demo.engine) as db:
        acme = db.exec(select(Company).where(Company.code == "ACME")).one()
        acme.country = None
        db.add(acme)
        db.commit()
    resp = alice.get(f"/api/v1/invoices/{number}/ubl")
    assert resp.status_code == 409
    err = resp.json()["error"]
    assert err["code"] == "einvoice_incomplete" and err["saved"] is False
    assert "country" in err["message"] and "PDF" in err["message"]
    with Session(demo.engine) as db:
        acme = db.exec(select(Company).where(Company.code == "ACME")).one()
        acme.country = "GB"
        db.add(acme)
        setting = db.get(AppSetting, "invoice_identity")
        db.delete(setting)
        db.commit()
    resp = alice.get(f"/api/v1/invoices/{number}/ubl")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "einvoice_incomplete"
    assert "VAT number" in resp.json()["error"]["message"]


def test_a_draft_is_not_an_einvoice(demo: QuoteWorld):
    with Session(demo.engine) as db:
        invoice = db.exec(select(Invoice).join(Company, Company.id == Invoice.company_id)
                          .where(Company.code == "ACME", Invoice.status == "issued")).first()
        invoice.status = "draft"
        db.add(invoice)
        db.commit()
        number = invoice.number
    assert demo.client("alice@acme.example").get(f"/api/v1/invoices/{number}/ubl").status_code == 404
    resp = demo.client("agent@harborsky.example").get(f"/api/v1/invoices/{number}/ubl")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "einvoice_not_issued"
