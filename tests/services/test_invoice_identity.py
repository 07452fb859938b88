"""The legal identity and bank details on invoices: administrators set them (every number checked, refusals per
field with nothing saved, one audit row per change, nobody else may); the invoice PDF a customer downloads
carries them (its text read back with pypdf), or says whom to ask when they are not set."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest
from pypdf import PdfReader
from sqlmodel import Session, select

from models import AppSetting, AuditLog, Company, User
from portal_app.services.config import invoice_identity as svc
from portal_app.services.errors import FormInvalid, PermissionDenied
from portal_app.services.invoice_pdf import invoice_pdf
from seed.config_data import INVOICE_IDENTITY
from tests.config_world import ConfigWorld
from tests.services.test_finance import add_invoice

GOOD = svc.InvoiceIdentity(
    legal_name="Blue Harbour Freight GmbH", address="Am Sandtorkai 1\n20457 Hamburg\nGermany",
    vat_number="DE 136 695 976", account_holder="Blue Harbour Freight GmbH", iban="de89 3704 0044 0532 0130 00",
    bic="cobadeffxxx", bank_name="Commerzbank", payment_reference="BHF {invoice}",
)


def _audits(db: Session) -> list[AuditLog]:
    db.expire_all()
    return list(db.exec(select(AuditLog).where(AuditLog.action == "config_invoice_identity_saved")).all())


def _stored(db: Session) -> str | None:
    db.expire_all()
    row = db.get(AppSetting, svc.KEY)
    return row.value if row else None


def _pdf_text(body: bytes) -> str:
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)
    return " ".join(text.split())


def test_the_demo_forwarder_has_its_identity_and_bank_details(cworld: ConfigWorld):
    with cworld.session() as db:
        shown = svc.get_invoice_identity(db, cworld.admin)
    assert shown.legal_name == "Harbor & Sky Logistics B.V." and shown.has_bank_details
    assert shown.iban_printed == "NL02 ABNA 0123 4567 89" and shown.reference_for("INV-1") == "INV-1"
    # the seed's values pass the same checks an administrator's do
    assert svc.check_iban(INVOICE_IDENTITY["iban"])[1] is None
    assert svc.check_vat(INVOICE_IDENTITY["vat_number"])[1] is None
    assert svc.check_bic(INVOICE_IDENTITY["bic"])[1] is None


def test_an_admin_saves_them_cleaned_and_audited(cworld: ConfigWorld):
    with cworld.session() as db:
        before = svc.current(db)
        saved = svc.save_invoice_identity(db, cworld.admin, GOOD)
        assert (saved.iban, saved.bic, saved.vat_number) == ("DE89370400440532013000", "COBADEFFXXX", "DE136695976")
        assert saved.address_lines == ["Am Sandtorkai 1", "20457 Hamburg", "Germany"]
        assert saved.reference_for("INV-2026-000007") == "BHF INV-2026-000007"
        rows = _audits(db)
        assert len(rows) == 1 and rows[0].actor_id == cworld.admin.user_id
        assert json.loads(rows[0].before)["legal_name"] == before.legal_name
        assert json.loads(rows[0].after)["iban"] == "DE89370400440532013000"
        svc.save_invoice_identity(db, cworld.admin, GOOD)  # nothing changed: no second audit row
        assert len(_audits(db)) == 1
        cleared = svc.save_invoice_identity(db, cworld.admin, svc.InvoiceIdentity(payment_reference=""))
        assert not cleared.has_identity and not cleared.has_bank_details
        assert cleared.payment_reference == svc.DEFAULT_REFERENCE and len(_audits(db)) == 2


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"iban": "DE88 3704 0044 0532 0130 00"}, "iban", "check digits do not match"),
    ({"iban": "DE89 3704 0044 0532 0130"}, "iban", "has 22 characters; this one has 20"),
    ({"iban": "QQ89 3704 0044 0532 0130 00"}, "iban", "QQ is not a country that uses IBANs"),
    ({"iban": "3704 0044 0532 0130 00"}, "iban", "two-letter country code"),
    ({"bic": "COBADE"}, "bic", "8 or 11"),
    ({"bic": "COBAQQFF"}, "bic", "QQ (its 5th and 6th letters) is not a country code"),
    ({"vat_number": "DE136695977"}, "vat_number", "check digit does not match"),
    ({"vat_number": "136695976"}, "vat_number", "country prefix"),
    ({"legal_name": ""}, "legal_name", "fill in the legal name too"),
    ({"iban": ""}, "iban", "fill in the IBAN too"),
    ({"address": "\n".join(f"Line {n}" for n in range(7))}, "address", "at most 5 lines"),
    ({"legal_name": "Blue\x00Harbour"}, "legal_name", "control characters"),
    ({"payment_reference": "HSL"}, "payment_reference", "{invoice} once"),
    ({"payment_reference": "{invoice} {x}"}, "payment_reference", "no braces"),
])
def test_wrong_values_are_refused_per_field_and_nothing_is_saved(cworld: ConfigWorld, changes, field, words):
    with cworld.session() as db:
        stored = _stored(db)
        with pytest.raises(FormInvalid) as refused:
            svc.save_invoice_identity(db, cworld.admin, GOOD.model_copy(update=changes))
        assert set(refused.value.fields) == {field}, refused.value.fields
        assert words in refused.value.fields[field] and "Nothing was saved" in refused.value.message
        assert _stored(db) == stored and _audits(db) == []


def test_every_problem_is_named_at_once(cworld: ConfigWorld):
    with cworld.session() as db, pytest.raises(FormInvalid) as refused:
        svc.save_invoice_identity(db, cworld.admin, GOOD.model_copy(update={
            "iban": "DE88370400440532013000", "bic": "X", "vat_number": "DE1", "account_holder": "A"}))
    assert set(refused.value.fields) == {"iban", "bic", "vat_number", "account_holder"}


def test_only_a_signed_in_administrator_may_read_or_change_them(cworld: ConfigWorld):
    w = cworld.world
    with cworld.session() as db:
        stored = _stored(db)
        for who in (w.alice, w.agent, w.manager, replace(cworld.admin, api_key_id=1)):
            with pytest.raises(PermissionDenied):
                svc.save_invoice_identity(db, who, GOOD)
            with pytest.raises(PermissionDenied):
                svc.get_invoice_identity(db, who)
        assert _stored(db) == stored and _audits(db) == []


def _open_invoice(db: Session, email: str) -> str:
    company_id = db.exec(select(User.company_id).where(User.email == email)).one()
    number = add_invoice(db, company_id, status="issued", currency="EUR", due_in=30, total="1200.00")
    db.commit()
    return number


def test_the_invoice_pdf_carries_identity_bank_details_and_the_payment_reference(cworld: ConfigWorld):
    with cworld.session() as db:
        number = _open_invoice(db, "alice@acme.example")
        _, body = invoice_pdf(db, cworld.world.alice, number)
        text = _pdf_text(body)
        for expected in ("Harbor & Sky Logistics B.V.", "Waalhaven Zuidzijde 21", "3089 JH Rotterdam",
                         "VAT number: NL854891742B01", "How to pay", "NL02 ABNA 0123 4567 89", "ABNANL2A",
                         "ABN AMRO Bank N.V.", f"Payment reference {number}", "Pay EUR 1,200.00 by bank transfer"):
            assert expected in text, (expected, text)
        assert "ask" not in text.split("How to pay")[1].split("Payments")[0]

        svc.save_invoice_identity(db, cworld.admin, GOOD)
        text = _pdf_text(invoice_pdf(db, cworld.world.alice, number)[1])
        assert "Blue Harbour Freight GmbH" in text and "DE136695976" in text
        assert "DE89 3704 0044 0532 0130 00" in text and f"Payment reference BHF {number}" in text


def test_without_configured_details_the_pdf_says_whom_to_ask(cworld: ConfigWorld):
    with cworld.session() as db:
        svc.save_invoice_identity(db, cworld.admin, svc.InvoiceIdentity())
        number = _open_invoice(db, "alice@acme.example")
        text = _pdf_text(invoice_pdf(db, cworld.world.alice, number)[1])
        forwarder = db.exec(select(Company.name).where(Company.kind == "forwarder")).first()
        assert f"Bank details: ask {forwarder} for the account to pay into" in text
        assert f"quote the payment reference {number}" in text
        assert "IBAN" not in text and "VAT number" not in text


def test_the_help_article_names_what_the_pdf_prints():
    """"How to pay an invoice" sends customers to the blocks and words the invoice PDF really has."""
    from seed.help_articles import HELP_ARTICLES

    article = " ".join(next(a for a in HELP_ARTICLES if a["slug"] == "pay-an-invoice")["body_markdown"].split())
    for words in ("**How to pay**", "IBAN, BIC/SWIFT", "**payment reference**", "invoice number",
                  '"Bank details: ask', "legal name, registered address and VAT number"):
        assert words in article, words
