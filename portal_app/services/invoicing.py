"""Recording an invoice issued by the forwarder (typed in by staff or posted by the accounting system through the
API), which tells the customer: the "invoice issued" notification goes to the company's customer admins and the
shipment's followers, each as their preferences ask.

Amounts are exact: each line is quantity x unit price rounded to the currency's minor unit, its tax is the line
amount x the tax rate (given in percent, at most one decimal) rounded the same way, and the totals are the sums.
The line keeps its rate as a fraction (19 % is stored as 0.19), as every reader of invoice lines expects.
All or nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from pydantic import ConfigDict, Field
from sqlmodel import Session, col, select

from models import Company, Invoice, InvoiceLine, Shipment, User
from models.enums import InvoiceStatus, Role
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import audit, clock, notifications, webhooks
from portal_app.services.errors import Conflict, ErrorCode, FormInvalid, NotFound
from portal_app.services.inputs import Amount, Body
from portal_app.services.rating import format_money, round_money

NOTHING_SAVED = "Nothing was saved."
MAX_LINES = 200
_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9/-]{2,19}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class InvoiceLineInput(Body):
    """One invoice line (the API's body takes a list of them)."""

    model_config = ConfigDict(frozen=True)

    code: str = Field(max_length=20)
    description: str = Field(max_length=200)
    quantity: Amount
    unit_price: Amount
    tax_rate: Amount = Field(Decimal("0"), description="Percent, e.g. 19 for 19 %")


@dataclass(frozen=True)
class IssuedInvoice:
    number: str
    company_id: int
    total: Decimal
    currency: str
    notified: int


def _decimal(value: object, problems: dict[str, str], key: str, *, low: Decimal, high: Decimal) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        problems[key] = "give a number, for example 125.50"
        return Decimal(0)
    if not number.is_finite() or not low <= number <= high:
        problems[key] = f"give a number from {low} to {high}"
    return number


def _next_number(db: Session, issued: date) -> str:
    prefix = f"INV-{issued.year}-"
    last = db.exec(select(sa.func.max(Invoice.number)).where(col(Invoice.number).like(f"{prefix}%"))).one()
    seq = int(last[len(prefix):]) + 1 if last and last[len(prefix):].isdigit() else 1
    return f"{prefix}{seq:06d}"


def issue_invoice(db: Session, principal: Principal, *, company_code: str | None = None,
                  shipment_reference: str | None = None, currency: str, due_date: date,
                  lines: list[InvoiceLineInput], issue_date: date | None = None, number: str | None = None
                  ) -> IssuedInvoice:
    """Record an issued invoice for a customer company (given, or the shipment's) and notify the customer."""
    principal.require(Permission.ISSUE_INVOICES)
    problems: dict[str, str] = {}
    shipment = None
    if shipment_reference:
        shipment = db.exec(select(Shipment).where(Shipment.reference == shipment_reference.strip().upper())).first()
        if shipment is None:
            raise NotFound(f"No shipment {shipment_reference!r}. Check the reference. {NOTHING_SAVED}")
    company = None
    if company_code:
        company = db.exec(select(Company).where(Company.code == company_code.strip().upper())).first()
        if company is None:
            raise NotFound(f"No customer with the code {company_code!r}. {NOTHING_SAVED}")
    if company is None and shipment is not None:
        company = db.get(Company, shipment.company_id)
    if company is None:
        problems["company_code"] = "give the customer's code or a shipment reference"
    elif company.kind != "customer":
        problems["company_code"] = "invoices go to customer companies"
    elif shipment is not None and shipment.company_id != company.id:
        problems["shipment_reference"] = "this shipment belongs to another customer"
    currency = (currency or "").strip().upper()
    if not _CURRENCY.match(currency):
        problems["currency"] = "give a three-letter currency code, for example EUR"
    issued = issue_date or clock.today()
    if due_date < issued:
        problems["due_date"] = "the due date cannot be before the issue date"
    number = (number or "").strip().upper() or None
    if number is not None and not _NUMBER.match(number):
        problems["number"] = "use 3-20 letters, digits, '-' or '/'"
    if not lines:
        problems["lines"] = "add at least one line"
    elif len(lines) > MAX_LINES:
        problems["lines"] = f"at most {MAX_LINES} lines"
    priced = []
    for i, ln in enumerate(lines[:MAX_LINES], start=1):
        code, text = (ln.code or "").strip().upper()[:20], " ".join((ln.description or "").split())[:200]
        if not code or not text:
            problems[f"lines.{i}"] = "each line needs a charge code and a description"
        qty = _decimal(ln.quantity, problems, f"lines.{i}.quantity", low=Decimal("0.001"), high=Decimal(10**6))
        price = _decimal(ln.unit_price, problems, f"lines.{i}.unit_price", low=Decimal(-10**9), high=Decimal(10**9))
        rate = _decimal(ln.tax_rate, problems, f"lines.{i}.tax_rate", low=Decimal(0), high=Decimal(100))
        if rate.is_finite() and 0 <= rate <= 100 and rate != rate.quantize(Decimal("0.1")):
            problems[f"lines.{i}.tax_rate"] = "give the rate in percent with at most one decimal, e.g. 5.5"
        priced.append((code, text, qty, price, rate))
    if problems:
        raise FormInvalid(f"The invoice was not recorded: check the fields listed. {NOTHING_SAVED}", problems)
    assert company is not None and company.id is not None  # a problem was recorded otherwise; a stored row
    if number and db.exec(select(Invoice.id).where(Invoice.number == number)).first():
        raise Conflict(f"Invoice {number} exists already. {NOTHING_SAVED}", code=ErrorCode.DUPLICATE_NUMBER)
    now = clock.now()
    rows = []
    for code, text, qty, price, rate in priced:
        amount = round_money(qty * price, currency)
        rows.append((code, text, qty, price, rate / 100, amount, round_money(amount * rate / 100, currency)))
    subtotal = sum((r[5] for r in rows), Decimal(0))
    tax = sum((r[6] for r in rows), Decimal(0))
    invoice = Invoice(number=number or _next_number(db, issued), company_id=company.id,
                      shipment_id=shipment.id if shipment else None, status=InvoiceStatus.ISSUED.value,
                      currency=currency, issue_date=issued, due_date=due_date, subtotal=subtotal, tax_total=tax,
                      total=subtotal + tax, amount_paid=Decimal(0), balance=subtotal + tax, created_at=now,
                      updated_at=now)
    try:
        db.add(invoice)
        db.flush()
        assert invoice.id is not None  # flushed: the row has its key
        db.add_all([InvoiceLine(invoice_id=invoice.id, line_no=i, code=r[0], description=r[1], quantity=r[2],
                                unit_price=r[3], tax_rate=r[4], amount=r[5], tax_amount=r[6])
                    for i, r in enumerate(rows, start=1)])
        audit.record(db, principal, "invoice_issued", "invoice", invoice.id, company.id, None,
                     {"number": invoice.number, "total": str(invoice.total), "currency": currency,
                      "due_date": due_date.isoformat(), "lines": len(rows)})
        done = notifications.notify(
            db, "invoice_issued", _billing_admins(db, company.id), f"New invoice {invoice.number}",
            f"Invoice {invoice.number}{' for shipment ' + shipment.reference if shipment else ''}: "
            f"{format_money(currency, invoice.total)}, due {due_date:%d %b %Y}.",
            f"/portal/invoices/{invoice.number}", f"invoice_issued:{invoice.id}", company_id=company.id,
            shipment_id=shipment.id if shipment else None)
        webhooks.record(db, "invoice_issued", company_id=company.id, record_id=invoice.id)
        db.commit()
    except sa.exc.IntegrityError:
        db.rollback()
        raise Conflict(f"Another invoice took the number {invoice.number} at the same moment. Send it again. "
                       f"{NOTHING_SAVED}", code=ErrorCode.DUPLICATE_NUMBER) from None
    return IssuedInvoice(invoice.number, company.id, invoice.total, currency, len(done.recipients))


def _billing_admins(db: Session, company_id: int) -> list[int | None]:
    """The company's customer admins, who handle billing (``notify`` adds the invoiced shipment's audience)."""
    return list(db.exec(select(User.id).where(User.company_id == company_id, User.role == Role.CUSTOMER_ADMIN.value,
                                              col(User.is_active).is_(True))).all())
