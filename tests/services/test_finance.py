"""Finance for customers: invoice list and detail, derived overdue, the aged statement and its exports, disputes,
the invoice PDF and the API's tenancy (another company's invoice is a 404).

The invoices are built here with known amounts and due dates relative to a fixed day, so every bucket total can
be checked by hand. They belong to two customer companies created for this module, so invoices other tests add
to the shared world cannot change the figures.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models import AuditLog, Company, Invoice, InvoiceLine, Location, Payment, Shipment, Ticket, TicketMessage
from models.enums import Role
from portal_app.api.app import build_api
from portal_app.auth.principal import Principal
from portal_app.services import clock, spreadsheets
from portal_app.services import finance as svc
from portal_app.services.errors import Conflict, NotFound, ValidationFailed
from portal_app.services.invoice_pdf import invoice_pdf
from portal_app.services.requests import opening
from tests.factories import PASSWORD, World, make_user

AS_OF = date(2026, 6, 30)
D = Decimal
_seq = itertools.count(1)


@dataclass
class Books:
    company_id: int
    other_company_id: int
    user_email: str
    other_email: str
    shipment_ref: str
    numbers: dict[str, str]  # label -> invoice number
    other_number: str


def principal_for(db: Session, email: str) -> Principal:
    from models import User

    user = db.exec(select(User).where(User.email == email)).one()
    company = db.get(Company, user.company_id)
    return Principal(user.id, company.id, Role(user.role), user.email, user.full_name, company.name)


def add_invoice(
    db: Session, company_id: int, *, status: str, currency: str, due_in: int, total: str, paid: str = "0.00",
    shipment_id: int | None = None, issued_days_before: int = 40,
) -> str:
    """One invoice with one taxed line; due ``due_in`` days after AS_OF (negative: past due)."""
    number = f"TF-{next(_seq):06d}"
    total_d, paid_d = D(total), D(paid)
    subtotal = (total_d / D("1.2")).quantize(D("0.01"))
    tax = total_d - subtotal
    inv = Invoice(
        number=number, company_id=company_id, shipment_id=shipment_id, status=status, currency=currency,
        issue_date=AS_OF - timedelta(days=issued_days_before), due_date=AS_OF + timedelta(days=due_in),
        subtotal=subtotal, tax_total=tax, total=total_d, amount_paid=paid_d, balance=total_d - paid_d,
    )
    db.add(inv)
    db.flush()
    db.add(InvoiceLine(invoice_id=inv.id, line_no=1, code="OFR", description="Ocean freight & handling",
                       quantity=D("2"), unit_price=(subtotal / 2).quantize(D("0.01")), tax_rate=D("0.2"),
                       amount=subtotal, tax_amount=tax))
    if paid_d:
        db.add(Payment(invoice_id=inv.id, company_id=company_id, amount=paid_d, currency=currency,
                       paid_at=datetime(2026, 6, 1, 12, tzinfo=UTC), reference="PAY-1"))
    return number


# Balances per bucket, by hand (USD and EUR).
EXPECTED = {
    "USD": {"current": D("130.10"), "1_30": D("200.21"), "31_60": D("300.33"), "61_90": D("400.40"),
            "over_90": D("500.01")},
    "EUR": {"current": D("1000.00"), "1_30": D("0"), "31_60": D("0"), "61_90": D("0"), "over_90": D("2000.99")},
}
TOTALS = {"USD": D("1531.05"), "EUR": D("3000.99")}


@pytest.fixture(scope="module")
def books(engine: sa.Engine, world: World) -> Iterator[Books]:
    with Session(engine, expire_on_commit=False) as db:
        ids = []
        for code in ("FINA", "FINB"):
            c = Company(code=code, name=f"{code.title()} Finance Co", kind="customer")
            db.add(c)
            db.flush()
            ids.append(c.id)
            make_user(db, c.id, Role.CUSTOMER_USER, f"customer_user@{code.lower()}.test")
        mine, theirs = ids
        loc = db.exec(select(Location).where(Location.code == "CNSHA")).one()
        ship = Shipment(reference="SHFIN00001", company_id=mine, mode="ocean_fcl", status="delivered",
                        origin_id=loc.id, destination_id=loc.id)
        db.add(ship)
        db.flush()
        n = {
            # USD
            "current": add_invoice(db, mine, status="issued", currency="USD", due_in=5, total="100.10",
                                   shipment_id=ship.id),
            "due_today": add_invoice(db, mine, status="partially_paid", currency="USD", due_in=0, total="50.00",
                                     paid="20.00"),
            "late_1": add_invoice(db, mine, status="issued", currency="USD", due_in=-1, total="200.20",
                                  shipment_id=ship.id),
            "late_30": add_invoice(db, mine, status="issued", currency="USD", due_in=-30, total="0.01"),
            "late_45": add_invoice(db, mine, status="overdue", currency="USD", due_in=-45, total="300.33"),
            "late_61": add_invoice(db, mine, status="partially_paid", currency="USD", due_in=-61, total="500.40",
                                   paid="100.00"),
            "late_91": add_invoice(db, mine, status="disputed", currency="USD", due_in=-91, total="500.01",
                                   issued_days_before=120),
            # EUR
            "eur_current": add_invoice(db, mine, status="issued", currency="EUR", due_in=30, total="1000.00",
                                       issued_days_before=1),
            "eur_late_200": add_invoice(db, mine, status="overdue", currency="EUR", due_in=-200, total="2000.99",
                                        issued_days_before=230),
            # never on a statement
            "paid": add_invoice(db, mine, status="paid", currency="USD", due_in=-40, total="75.00", paid="75.00"),
            "void": add_invoice(db, mine, status="void", currency="USD", due_in=-100, total="999.00"),
            "draft": add_invoice(db, mine, status="draft", currency="USD", due_in=-100, total="777.00"),
            "future": add_invoice(db, mine, status="issued", currency="USD", due_in=30, total="55.00",
                                  issued_days_before=-1),
        }
        other = add_invoice(db, theirs, status="overdue", currency="USD", due_in=-10, total="123.45")
        db.commit()
        ship_id = ship.id
    yield Books(mine, theirs, "customer_user@fina.test", "customer_user@finb.test", "SHFIN00001", n, other)
    # Other modules count every shipment in the shared world: take ours away again.
    with Session(engine) as db:
        db.execute(sa.update(Invoice).where(Invoice.shipment_id == ship_id).values(shipment_id=None))
        db.execute(sa.delete(Shipment).where(Shipment.id == ship_id))
        db.commit()


@pytest.fixture()
def today_is_as_of(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: AS_OF)
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 6, 30, 9, 0, tzinfo=UTC))


@pytest.fixture()
def me(db, books) -> Principal:
    return principal_for(db, books.user_email)


@pytest.fixture()
def them(db, books) -> Principal:
    """The other company's user: disputes run on its own invoices so the statement figures above never move."""
    return principal_for(db, books.other_email)


# ------------------------------------------------------------------------------------------------ statement


def test_aging_buckets_and_totals_are_exact_to_the_cent(db, books, me):
    st = svc.statement(db, me, AS_OF)
    got = {c.currency: c for c in st.currencies}
    assert set(got) == {"EUR", "USD"}
    for currency, buckets in EXPECTED.items():
        assert got[currency].buckets == buckets
        assert all(isinstance(v, Decimal) for v in got[currency].buckets.values())
        assert got[currency].total == TOTALS[currency]
    assert got["USD"].count == 7 and got["EUR"].count == 2
    assert got["USD"].overdue == TOTALS["USD"] - D("130.10")


def test_statement_page_holds_one_page_of_invoices_and_the_aging_of_all(db, books, me):
    whole = svc.statement(db, me, AS_OF)
    first, last = svc.statement(db, me, AS_OF, page=1, page_size=4), svc.statement(db, me, AS_OF, page=3, page_size=4)
    assert whole.open_invoices == first.open_invoices == len(whole.invoices) == 9
    assert [i.number for i in first.invoices] == [i.number for i in whole.invoices[:4]]
    assert [i.number for i in last.invoices] == [i.number for i in whole.invoices[8:]]
    assert first.currencies == whole.currencies  # the aging always covers every open invoice
    with pytest.raises(ValidationFailed):
        svc.statement(db, me, AS_OF, page=0)


def test_statement_lists_open_invoices_with_their_bucket_and_nothing_else(db, books, me):
    st = svc.statement(db, me, AS_OF)
    by_number = {i.number: i for i in st.invoices}
    n = books.numbers
    expected_bucket = {
        "current": "current", "due_today": "current", "late_1": "1_30", "late_30": "1_30", "late_45": "31_60",
        "late_61": "61_90", "late_91": "over_90", "eur_current": "current", "eur_late_200": "over_90",
    }
    assert {by_number[n[k]].bucket for k in expected_bucket} == set(expected_bucket.values())
    assert {k: by_number[n[k]].bucket for k in expected_bucket} == expected_bucket
    for excluded in ("paid", "void", "draft", "future"):
        assert n[excluded] not in by_number
    assert books.other_number not in by_number
    assert by_number[n["late_1"]].status == "overdue"  # derived from the calendar
    assert by_number[n["late_91"]].status == "disputed"
    assert by_number[n["late_61"]].days_past_due == 61


def test_statement_exports_parse_back_to_the_same_totals(db, books, me):
    _aging, invoices = svc.statement_sheets(db, me, AS_OF)
    raw = spreadsheets.csv_bytes(invoices)
    frame = pd.read_csv(io.BytesIO(raw), dtype=str, encoding="utf-8-sig")
    assert len(frame) == 9
    for currency, expected in TOTALS.items():
        rows = frame[frame["Currency"] == currency]
        assert sum((D(v) for v in rows["Balance"]), D("0")) == expected
    late = frame[(frame["Currency"] == "USD") & (frame["Aging bucket"] == "90+ days")]
    assert [D(v) for v in late["Balance"]] == [EXPECTED["USD"]["over_90"]]

    with spreadsheets.xlsx_file(svc.statement_sheets(db, me, AS_OF)) as workbook:
        book = pd.read_excel(workbook, sheet_name=None)
    assert set(book) == {"Aging", "Open invoices"}
    aging = book["Aging"].set_index("Currency")
    for currency, buckets in EXPECTED.items():
        assert round(D(str(aging.loc[currency, "Total"])), 2) == TOTALS[currency]
        for key, amount in buckets.items():
            assert round(D(str(aging.loc[currency, svc.BUCKET_LABELS[key]])), 2) == amount
    assert len(book["Open invoices"]) == 9


def test_statement_of_a_company_without_invoices_is_empty(db, world):
    beta = principal_for(db, "customer_admin@beta.test")
    st = svc.statement(db, beta, date(1990, 1, 1))
    assert st.currencies == [] and st.invoices == []
    _aging, invoices = svc.statement_sheets(db, beta, date(1990, 1, 1))
    assert pd.read_csv(io.BytesIO(spreadsheets.csv_bytes(invoices)), encoding="utf-8-sig").empty


# ------------------------------------------------------------------------------------------------ list and detail


def test_overdue_is_derived_without_writing(db, books, me, today_is_as_of):
    n = books.numbers
    page = svc.list_invoices(db, me, page=1, page_size=200)
    rows = {r.number: r for r in page.rows}
    assert rows[n["late_1"]].status == "overdue" and rows[n["late_1"]].days_overdue == 1
    assert rows[n["late_61"]].status == "overdue" and rows[n["late_61"]].days_overdue == 61
    assert rows[n["due_today"]].status == "partially_paid" and rows[n["due_today"]].days_overdue == 0
    assert rows[n["current"]].status == "issued"
    assert rows[n["paid"]].days_overdue == 0
    assert n["draft"] not in rows  # customers never see drafts
    assert books.other_number not in rows
    stored = db.exec(select(Invoice.status).where(Invoice.number == n["late_1"])).one()
    assert stored == "issued"

    overdue = svc.list_invoices(db, me, status="overdue", page=1, page_size=200)
    assert {r.number for r in overdue.rows} == {n[k] for k in ("late_1", "late_30", "late_45", "late_61",
                                                                  "eur_late_200")}
    issued = svc.list_invoices(db, me, status="issued", page=1, page_size=200)
    assert {r.number for r in issued.rows} == {n["current"], n["eur_current"], n["future"]}


def test_list_filters_paging_and_search(db, books, me, today_is_as_of):
    by_ship = svc.list_invoices(db, me, shipment_reference=books.shipment_ref, page=1, page_size=10)
    assert {r.number for r in by_ship.rows} == {books.numbers["current"], books.numbers["late_1"]}
    assert {r.shipment_reference for r in by_ship.rows} == {books.shipment_ref}
    p1 = svc.list_invoices(db, me, page=1, page_size=5)
    p2 = svc.list_invoices(db, me, page=2, page_size=5)
    assert p1.total == 12 and p1.pages == 3 and len(p1.rows) == 5
    assert not {r.number for r in p1.rows} & {r.number for r in p2.rows}
    found = svc.list_invoices(db, me, search=books.numbers["late_45"].lower(), page=1, page_size=5)
    assert [r.number for r in found.rows] == [books.numbers["late_45"]]
    with pytest.raises(ValidationFailed):
        svc.list_invoices(db, me, status="lost", page=1, page_size=5)


def test_detail_has_lines_totals_payments_and_hides_other_companies(db, books, me, today_is_as_of):
    d = svc.get_invoice(db, me, books.numbers["late_61"].lower())
    assert d.row.status == "overdue" and d.row.days_overdue == 61
    assert d.row.total == D("500.40") and d.row.balance == D("400.40") and d.amount_paid == D("100.00")
    assert d.subtotal + d.tax_total == d.row.total
    assert [(ln.code, ln.quantity, ln.tax_rate) for ln in d.lines] == [("OFR", D("2.000"), D("0.200"))]
    assert [(p.amount, p.reference) for p in d.payments] == [(D("100.00"), "PAY-1")]
    with pytest.raises(NotFound):
        svc.get_invoice(db, me, books.other_number)
    with pytest.raises(NotFound):
        svc.get_invoice(db, me, books.numbers["draft"])
    agent = principal_for(db, "ops_agent@fwd.test")
    assert svc.get_invoice(db, agent, books.other_number).company_name == "Finb Finance Co"


# ------------------------------------------------------------------------------------------------ dispute


def _counts(db: Session, invoice_number: str) -> tuple[int, int, int]:
    inv_id = db.exec(select(Invoice.id).where(Invoice.number == invoice_number)).one()
    tickets = db.exec(select(sa.func.count()).select_from(Ticket).where(Ticket.invoice_id == inv_id)).one()
    messages = db.exec(
        select(sa.func.count()).select_from(TicketMessage).join(Ticket, Ticket.id == TicketMessage.ticket_id)
        .where(Ticket.invoice_id == inv_id)
    ).one()
    audits = db.exec(select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.entity_type == "invoice", AuditLog.entity_id == str(inv_id))).one()
    return tickets, messages, audits


def test_dispute_marks_invoice_and_opens_one_request(db, books, them, today_is_as_of):
    number = add_invoice(db, books.other_company_id, status="issued", currency="USD", due_in=-3, total="88.00")
    db.commit()
    reason = "  The handling charge was agreed at USD 40, not 60.  "
    ref = svc.dispute_invoice(db, them, number, reason)
    db.expire_all()
    inv = db.exec(select(Invoice).where(Invoice.number == number)).one()
    assert inv.status == "disputed" and inv.version == 2
    assert inv.disputed_reason == "The handling charge was agreed at USD 40, not 60."
    assert _counts(db, number) == (1, 1, 1)
    ticket = db.exec(select(Ticket).where(Ticket.reference == ref)).one()
    assert ref.startswith("REQ-") and ticket.invoice_id == inv.id and ticket.company_id == books.other_company_id
    assert ticket.category == "billing" and ticket.subject == f"Dispute of invoice {number}"
    assert ticket.raised_by_id == them.user_id
    context = json.loads(ticket.context)
    assert context["record"] == number and context["attempted_action"] == "dispute_invoice"
    message = db.exec(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)).one()
    assert "agreed at USD 40" in message.body
    audit = db.exec(select(AuditLog).where(AuditLog.entity_id == str(inv.id), AuditLog.entity_type == "invoice")).one()
    assert json.loads(audit.before)["status"] == "issued" and json.loads(audit.after)["status"] == "disputed"
    with pytest.raises(Conflict):  # twice is refused
        svc.dispute_invoice(db, them, number, reason)
    assert _counts(db, number) == (1, 1, 1)


@pytest.mark.parametrize("reason", ["", "   ", "too short"])
def test_dispute_needs_a_reason_and_changes_nothing_without_one(db, books, them, reason):
    number = add_invoice(db, books.other_company_id, status="issued", currency="USD", due_in=3, total="10.00")
    db.commit()
    with pytest.raises(ValidationFailed) as err:
        svc.dispute_invoice(db, them, number, reason)
    assert "Nothing was changed" in err.value.message and not err.value.saved
    db.expire_all()
    assert db.exec(select(Invoice.status).where(Invoice.number == number)).one() == "issued"
    assert _counts(db, number) == (0, 0, 0)


@pytest.mark.parametrize("label", ["paid", "void"])
def test_only_open_invoices_can_be_disputed(db, books, me, label):
    with pytest.raises(Conflict):
        svc.dispute_invoice(db, me, books.numbers[label], "This charge is not ours at all.")
    assert _counts(db, books.numbers[label]) == (0, 0, 0)


def test_a_dispute_failing_halfway_leaves_nothing(db, books, them, monkeypatch):
    number = add_invoice(db, books.other_company_id, status="overdue", currency="USD", due_in=-5, total="20.00")
    db.commit()

    def broken(_ticket_id: int) -> str:
        raise RuntimeError("storage went away")

    monkeypatch.setattr(opening, "ticket_reference", broken)
    with pytest.raises(RuntimeError):
        svc.dispute_invoice(db, them, number, "The weight on this invoice is wrong.")
    db.expire_all()
    assert db.exec(select(Invoice.status).where(Invoice.number == number)).one() == "overdue"
    assert _counts(db, number) == (0, 0, 0)
    assert db.exec(select(sa.func.count()).select_from(Ticket).where(Ticket.reference.startswith("TMP-"))).one() == 0


def test_another_companys_invoice_cannot_be_disputed(db, books, me):
    with pytest.raises(NotFound):
        svc.dispute_invoice(db, me, books.other_number, "This is not our invoice at all.")
    assert _counts(db, books.other_number) == (0, 0, 0)


# ------------------------------------------------------------------------------------------------ PDF


def test_invoice_pdf_is_a_real_pdf_with_the_invoice_on_it(db, books, me):
    number = books.numbers["late_61"]
    filename, body = invoice_pdf(db, me, number, compress=False)
    assert filename == f"{number}.pdf"
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    assert f"Invoice {number}".encode() in body
    assert b"Fina Finance Co" in body and b"USD 400.40" in body
    _, compressed = invoice_pdf(db, me, number)
    assert compressed.startswith(b"%PDF-") and len(compressed) < len(body)
    with pytest.raises(NotFound):
        invoice_pdf(db, me, books.other_number)


# ------------------------------------------------------------------------------------------------ API


def client_for(email: str) -> TestClient:
    client = TestClient(build_api())
    assert client.post("/api/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
    return client


@pytest.fixture()
def api(books) -> TestClient:
    return client_for(books.user_email)


def test_api_lists_and_shows_own_invoices(api, books):
    body = api.get("/api/v1/invoices", params={"page_size": 200}).json()
    assert books.other_number not in {i["number"] for i in body["items"]}
    assert books.numbers["late_45"] in {i["number"] for i in body["items"]}
    detail = api.get(f"/api/v1/invoices/{books.numbers['late_61']}").json()
    assert D(detail["balance"]) == D("400.40") and len(detail["lines"]) == 1 and len(detail["payments"]) == 1
    bad = api.get("/api/v1/invoices", params={"status": "lost"})
    assert bad.status_code == 422 and bad.json()["error"]["saved"] is False


def test_api_hides_another_companys_invoice(api, books):
    other = books.other_number
    for resp in (
        api.get(f"/api/v1/invoices/{other}"),
        api.get(f"/api/v1/invoices/{other}/pdf"),
        api.post(f"/api/v1/invoices/{other}/dispute", json={"reason": "This is not our invoice at all."}),
    ):
        assert resp.status_code == 404, resp.text
        assert resp.json()["error"]["code"] == "not_found"
    missing = api.get("/api/v1/invoices/TF-999999")
    assert missing.status_code == 404 and missing.json()["error"]["message"]


def test_api_pdf_download(api, books):
    resp = api.get(f"/api/v1/invoices/{books.numbers['current']}/pdf")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    assert f'filename="{books.numbers["current"]}.pdf"' in resp.headers["content-disposition"]
    assert resp.content.startswith(b"%PDF-")


def test_api_dispute(db, books):
    api = client_for(books.other_email)
    number = add_invoice(db, books.other_company_id, status="issued", currency="USD", due_in=-3, total="12.00")
    db.commit()
    empty = api.post(f"/api/v1/invoices/{number}/dispute", json={"reason": " "})
    assert empty.status_code == 422 and empty.json()["error"]["saved"] is False
    resp = api.post(f"/api/v1/invoices/{number}/dispute", json={"reason": "We never received this delivery."})
    assert resp.status_code == 201, resp.text
    assert resp.json()["ticket_reference"].startswith("REQ-")
    assert api.get(f"/api/v1/invoices/{number}").json()["status"] == "disputed"
    assert api.post(f"/api/v1/invoices/{number}/dispute", json={"reason": "Again, same thing here."}).status_code == 409


def test_api_statement_has_only_own_invoices_and_exact_buckets(api, books):
    body = api.get("/api/v1/statement", params={"as_of": AS_OF.isoformat()}).json()
    assert {i["number"] for i in body["invoices"]} <= set(books.numbers.values())
    assert books.other_number not in {i["number"] for i in body["invoices"]}
    got = {c["currency"]: c for c in body["currencies"]}
    assert D(got["USD"]["total"]) == TOTALS["USD"] and D(got["EUR"]["buckets"]["over_90"]) == D("2000.99")
    assert body["bucket_labels"]["over_90"] == "90+ days"

    csv = api.get("/api/v1/statement.csv", params={"as_of": AS_OF.isoformat()})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert 'filename="statement-2026-06-30.csv"' in csv.headers["content-disposition"]
    frame = pd.read_csv(io.BytesIO(csv.content), dtype=str, encoding="utf-8-sig")
    assert sum((D(v) for v in frame[frame["Currency"] == "EUR"]["Balance"]), D("0")) == TOTALS["EUR"]

    xlsx = api.get("/api/v1/statement.xlsx", params={"as_of": AS_OF.isoformat()})
    assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="statement-2026-06-30.xlsx"' in xlsx.headers["content-disposition"]
    aging = pd.read_excel(io.BytesIO(xlsx.content), sheet_name="Aging").set_index("Currency")
    assert round(D(str(aging.loc["USD", "Total"])), 2) == TOTALS["USD"]


def test_api_needs_a_signed_in_caller(books):
    anon = TestClient(build_api())
    assert anon.get("/api/v1/statement").status_code == 401
    assert anon.get(f"/api/v1/invoices/{books.numbers['current']}/pdf").status_code == 401
