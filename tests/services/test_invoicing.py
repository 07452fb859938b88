"""Recording an issued invoice: exact amounts per currency, refusals that save nothing, and the customer told."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from models import Invoice, InvoiceLine, Notification
from portal_app.auth.sessions import _principal_for
from portal_app.services.errors import Conflict, FormInvalid, PermissionDenied
from portal_app.services.invoicing import InvoiceLineInput, issue_invoice
from tests.api.test_api import client_for


def _line(code: str, description: str, quantity: object, unit_price: object,
          tax_rate: object = "0") -> InvoiceLineInput:
    return InvoiceLineInput(code=code, description=description, quantity=quantity, unit_price=unit_price,
                            tax_rate=tax_rate)


def _p(db, world, key):
    return _principal_for(db, world.users[key], None)


def test_amounts_are_rounded_per_line_and_currency_and_the_admins_are_told(world, db):
    manager = _p(db, world, "FWD:ops_manager")
    ref = world.shipments["ALFA"][5]
    done = issue_invoice(db, manager, shipment_reference=ref, currency="EUR", due_date=date(2026, 12, 31),
                         issue_date=date(2026, 12, 1), lines=[
                             _line("FRT", "Ocean freight", "2", "1234.565", "0"),     # 2469.13
                             _line("THC", "Terminal handling", "1", "180.10", "19"),  # 180.10 + 34.22 (34.219)
                         ])
    assert done.total == Decimal("2683.45") and done.number.startswith("INV-2026-")
    inv = db.exec(select(Invoice).where(Invoice.number == done.number)).one()
    assert (inv.subtotal, inv.tax_total, inv.balance, inv.status) == (Decimal("2649.23"), Decimal("34.22"),
                                                                      Decimal("2683.45"), "issued")
    assert len(db.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)).all()) == 2
    admin = world.users["ALFA:customer_admin"].id
    note = db.exec(select(Notification).where(Notification.user_id == admin,
                                              Notification.event_kind == "invoice_issued",
                                              Notification.link == f"/portal/invoices/{done.number}")).one()
    assert "EUR 2,683.45" in note.body
    jpy = issue_invoice(db, manager, company_code="ALFA", currency="JPY", due_date=date(2026, 12, 31),
                        issue_date=date(2026, 12, 1), lines=[_line("DOC", "Documentation", "3", "333.5", "10")])
    assert jpy.total == Decimal("1101")  # 1000.5 -> 1001, tax 100.1 -> 100


def test_refusals_save_nothing(world, db):
    manager = _p(db, world, "FWD:ops_manager")
    before = len(db.exec(select(Invoice.id)).all())
    with pytest.raises(PermissionDenied):
        issue_invoice(db, _p(db, world, "ALFA:customer_admin"), company_code="ALFA", currency="EUR",
                      due_date=date(2026, 12, 31), lines=[_line("X", "x", 1, 1)])
    with pytest.raises(FormInvalid) as bad:
        issue_invoice(db, manager, company_code="FWD", currency="euro", due_date=date(2026, 1, 1),
                      issue_date=date(2026, 2, 1), lines=[_line("", "", "-1", "2e9", "150")])
    assert {"company_code", "currency", "due_date", "lines.1", "lines.1.quantity", "lines.1.unit_price",
            "lines.1.tax_rate"} <= set(bad.value.fields)
    with pytest.raises(FormInvalid):
        issue_invoice(db, manager, company_code="BETA", shipment_reference=world.shipments["ALFA"][0],
                      currency="EUR", due_date=date(2026, 12, 31), lines=[_line("X", "x", 1, 1)])
    issue_invoice(db, manager, company_code="BETA", number="AR-77/1", currency="EUR", due_date=date(2026, 12, 31),
                  issue_date=date(2026, 12, 1), lines=[_line("X", "Extra", 1, 10)])
    with pytest.raises(Conflict):
        issue_invoice(db, manager, company_code="BETA", number="ar-77/1", currency="EUR",
                      due_date=date(2026, 12, 31), issue_date=date(2026, 12, 1), lines=[_line("X", "x", 1, 1)])
    assert len(db.exec(select(Invoice.id)).all()) == before + 1


def test_the_api_records_an_invoice_for_staff_only(world):
    body = {"company_code": "ALFA", "currency": "USD", "issue_date": "2026-12-01", "due_date": "2026-12-31",
            "lines": [{"code": "AIR", "description": "Air freight", "quantity": "120.5", "unit_price": "3.10"}]}
    assert client_for("customer_admin@alfa.test").post("/api/v1/invoices", json=body).status_code == 403
    resp = client_for("ops_manager@fwd.test").post("/api/v1/invoices", json=body)
    assert resp.status_code == 201 and resp.json()["total"] == "373.55"
    number = resp.json()["number"]
    assert client_for("customer_admin@alfa.test").get(f"/api/v1/invoices/{number}").status_code == 200
    assert client_for("customer_user@beta.test").get(f"/api/v1/invoices/{number}").status_code == 404
