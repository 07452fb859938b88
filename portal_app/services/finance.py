"""Invoices for customers: the list, one invoice in detail, the aged statement (pandas) and disputes.

Every query is scoped by :func:`portal_app.auth.scope.company_filter` from the acting principal.

Overdue is derived on read: an issued or partially paid invoice with a balance whose due date has passed is shown
as ``overdue`` although the stored status may not have caught up yet. Reads never write.
Customers never see draft invoices (they have not been sent yet); staff do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import sqlalchemy as sa
from pydantic import Field
from sqlmodel import Session, col, select

if TYPE_CHECKING:  # pandas is imported where it is used: importing it costs every server start most of a second
    import pandas as pd

from models import (
    AuditLog,
    Company,
    Invoice,
    InvoiceLine,
    Payment,
    Shipment,
)
from models.enums import OPEN_INVOICE_STATUSES, InvoiceStatus, TicketCategory
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import clock
from portal_app.services import requests as requests_svc
from portal_app.services.errors import Conflict, NotFound, ValidationFailed
from portal_app.services.paging import Page, check_paging
from portal_app.services.sorting import SortKeys
from portal_app.services.spreadsheets import Sheet

MAX_PAGE_SIZE = 200
# The invoice list's orders (``-key`` descending); the default "-issued" is the newest issue date first.
LIST_SORTS = SortKeys({"number": col(Invoice.number), "shipment": col(Shipment.reference),
                       "issued": col(Invoice.issue_date), "due": col(Invoice.due_date)}, col(Invoice.id),
                      nullable=frozenset({"shipment"}))
ZERO = Decimal("0.00")
DISPUTE_REASON_MIN = 10
DISPUTE_REASON_MAX = 400
# Statuses that can still turn overdue by the calendar alone (disputed ones stay disputed).
_AGEING_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
OPEN = "open"  # the status filter's word for every invoice not yet settled (issued, partly paid, overdue, disputed)
FILTER_STATUSES: tuple[str, ...] = (OPEN, *(s.value for s in InvoiceStatus))
DISPUTABLE_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.OVERDUE)

# Aging buckets by days past due: (key, label); "current" is not yet due (0 days or fewer).
BUCKETS: tuple[tuple[str, str], ...] = (
    ("current", "Current"),
    ("1_30", "1-30 days"),
    ("31_60", "31-60 days"),
    ("61_90", "61-90 days"),
    ("over_90", "90+ days"),
)
BUCKET_KEYS = tuple(k for k, _ in BUCKETS)
BUCKET_LABELS = dict(BUCKETS)
_BUCKET_EDGES = [float("-inf"), 0, 30, 60, 90, float("inf")]  # (edge, next edge] per bucket


# ---------------------------------------------------------------------------------------------------- DTOs


@dataclass(frozen=True)
class InvoiceRow:
    number: str
    shipment_reference: str | None
    issue_date: date
    due_date: date
    status: str  # as the customer should read it (overdue derived)
    currency: str
    total: Decimal
    balance: Decimal
    days_overdue: int


@dataclass(frozen=True)
class InvoiceLineView:
    line_no: int
    code: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    amount: Decimal
    tax_amount: Decimal


@dataclass(frozen=True)
class PaymentView:
    paid_at: datetime
    amount: Decimal
    currency: str
    method: str
    reference: str | None


@dataclass(frozen=True)
class InvoiceDetail(InvoiceRow):
    """One invoice in full: its list row's fields, then the rest (the API serves this record as it is)."""

    company_name: str
    subtotal: Decimal
    tax_total: Decimal
    amount_paid: Decimal
    disputed_reason: str | None
    version: int
    lines: list[InvoiceLineView]
    payments: list[PaymentView]

    @property
    def row(self) -> InvoiceRow:
        """The invoice as its list shows it."""
        return InvoiceRow(**{f.name: getattr(self, f.name) for f in fields(InvoiceRow)})

    @property
    def can_dispute(self) -> bool:
        return self.status in DISPUTABLE_STATUSES


@dataclass(frozen=True)
class StatementInvoice(InvoiceRow):
    """An open invoice on the aged statement: its list row's fields, then its aging (served as it is)."""

    bucket: str  # one of BUCKET_KEYS
    days_past_due: int  # negative while not yet due (days_overdue is then 0)


@dataclass(frozen=True)
class CurrencyAging:
    currency: str
    buckets: dict[str, Decimal]  # every key of BUCKET_KEYS
    total: Decimal
    count: int

    @property
    def overdue(self) -> Decimal:
        return self.total - self.buckets["current"]


@dataclass(frozen=True)
class Statement:
    """The aged statement (the API serves it as it is, without the count of open invoices)."""

    as_of: date
    bucket_labels: dict[str, str]  # BUCKET_LABELS
    currencies: list[CurrencyAging]
    invoices: list[StatementInvoice]  # every open invoice, or one page of them when a page was asked for
    open_invoices: Annotated[int, Field(exclude=True)] = 0


# ---------------------------------------------------------------------------------------------------- helpers


def _is_late(today: date) -> sa.ColumnElement[bool]:
    """SQL: the stored status still says issued/partially paid, but money is owed past the due date."""
    return sa.and_(col(Invoice.status).in_(_AGEING_STATUSES), col(Invoice.balance) > 0, col(Invoice.due_date) < today)


def effective_status(status: str, balance: Decimal, due_date: date, today: date) -> str:
    """The status a reader should see: overdue once an issued or partially paid invoice passes its due date."""
    if status in _AGEING_STATUSES and balance > 0 and due_date < today:
        return InvoiceStatus.OVERDUE.value
    return status


def days_overdue(status: str, balance: Decimal, due_date: date, today: date) -> int:
    if status not in OPEN_INVOICE_STATUSES or balance <= 0:
        return 0
    return max(0, (today - due_date).days)


def _visible(principal: Principal) -> list[sa.ColumnElement[bool]]:
    principal.require(Permission.VIEW_INVOICES)
    clauses: list[sa.ColumnElement[bool]] = [company_filter(col(Invoice.company_id), principal)]
    if principal.is_customer:
        clauses.append(col(Invoice.status) != InvoiceStatus.DRAFT)
    return clauses


def _status_clause(status: str, today: date) -> sa.ColumnElement[bool]:
    """A status filter that agrees with the derived status shown on screen."""
    if status not in FILTER_STATUSES:
        allowed = ", ".join(FILTER_STATUSES)
        raise ValidationFailed(f"Unknown invoice status {status!r}. Use one of: {allowed}.")
    if status == OPEN:
        return col(Invoice.status).in_(OPEN_INVOICE_STATUSES)
    if status == InvoiceStatus.OVERDUE:
        return sa.or_(col(Invoice.status) == InvoiceStatus.OVERDUE, _is_late(today))
    if status in _AGEING_STATUSES:
        return sa.and_(col(Invoice.status) == status, sa.not_(_is_late(today)))
    return col(Invoice.status) == status


def _row_columns() -> tuple:
    return (
        Invoice.number,
        Shipment.reference,
        Invoice.issue_date,
        Invoice.due_date,
        Invoice.status,
        Invoice.currency,
        Invoice.total,
        Invoice.balance,
    )


def _to_row(r: sa.Row | tuple, today: date) -> InvoiceRow:
    number, shipment_ref, issued, due, status, currency, total, balance = r
    return InvoiceRow(
        number=number,
        shipment_reference=shipment_ref,
        issue_date=issued,
        due_date=due,
        status=effective_status(status, balance, due, today),
        currency=currency,
        total=Decimal(total),
        balance=Decimal(balance),
        days_overdue=days_overdue(status, balance, due, today),
    )


def invoice_row(db: Session, invoice_id: int, today: date | None = None) -> InvoiceRow | None:
    """An invoice as the list shows it, by its id, with no principal: for a caller that has already decided who may
    see it (the webhooks: services/webhooks.py)."""
    found = db.exec(select(*_row_columns()).select_from(Invoice)
                    .outerjoin(Shipment, col(Shipment.id) == col(Invoice.shipment_id))
                    .where(col(Invoice.id) == invoice_id)).first()
    return _to_row(tuple(found), today or clock.today()) if found is not None else None


def _normal_number(number: str) -> str:
    return (number or "").strip().upper()[:20]


# ---------------------------------------------------------------------------------------------------- reads


def list_invoices(
    db: Session,
    principal: Principal,
    *,
    status: str | None = None,
    shipment_reference: str | None = None,
    search: str | None = None,
    page: int = 1,
    page_size: int = 25,
    sort: str = "-issued",
) -> Page:
    """One page of invoices the principal may see, newest issue date first unless ``sort`` (``LIST_SORTS``) says
    otherwise.

    ``search`` matches the start of an invoice number or of the shipment reference.
    """
    check_paging(page, page_size, MAX_PAGE_SIZE)
    order = LIST_SORTS.order(sort)
    today = clock.today()
    clauses = _visible(principal)
    if status and status != "all":
        clauses.append(_status_clause(status, today))
    if shipment_reference and shipment_reference.strip():
        clauses.append(col(Shipment.reference) == shipment_reference.strip().upper())
    term = (search or "").strip().upper()[:40]
    if term:
        clauses.append(sa.or_(col(Invoice.number).startswith(term, autoescape=True),
                              col(Shipment.reference).startswith(term, autoescape=True)))
    # Only a search or a shipment filter needs the shipment; the page's ids come from the invoice table alone
    # (newest first along ix_invoice_company_issued) before 25 rows are joined to their shipment.
    base = select(Invoice.id).select_from(Invoice)
    if shipment_reference or term or sort.endswith("shipment"):
        base = base.outerjoin(Shipment, col(Shipment.id) == col(Invoice.shipment_id))
    base = base.where(*clauses)
    total = db.exec(select(sa.func.count()).select_from(base.subquery())).one()
    page_ids = base.order_by(*order).offset((page - 1) * page_size).limit(page_size)
    stmt = (
        select(*_row_columns())
        .select_from(Invoice)
        .outerjoin(Shipment, Shipment.id == Invoice.shipment_id)
        .where(col(Invoice.id).in_(page_ids))
        .order_by(*order)
    )
    rows = [_to_row(r, today) for r in db.exec(stmt).all()]
    return Page(rows=rows, total=int(total), page=page, page_size=page_size)


def _find(db: Session, principal: Principal, number: str) -> tuple[Invoice, str | None, str]:
    """The invoice, its shipment reference and its company name, or NotFound (also for other companies)."""
    found = db.exec(
        select(Invoice, Shipment.reference, Company.name)
        .join(Company, col(Company.id) == col(Invoice.company_id))
        .outerjoin(Shipment, col(Shipment.id) == col(Invoice.shipment_id))
        .where(Invoice.number == _normal_number(number), *_visible(principal))
    ).first()
    if found is None:
        raise NotFound(f"No invoice {number!r} was found in your account. Check the number and try again.")
    return found[0], found[1], found[2]


def get_invoice(db: Session, principal: Principal, number: str) -> InvoiceDetail:
    """One invoice with its lines, totals and payments. Another company's invoice is NotFound."""
    invoice, shipment_ref, company_name = _find(db, principal, number)
    today = clock.today()
    lines = db.exec(select(InvoiceLine).where(col(InvoiceLine.invoice_id) == invoice.id)
                    .order_by(col(InvoiceLine.line_no))).all()
    payments = db.exec(select(Payment).where(col(Payment.invoice_id) == invoice.id)
                       .order_by(col(Payment.paid_at))).all()
    row = _to_row(
        (invoice.number, shipment_ref, invoice.issue_date, invoice.due_date, invoice.status, invoice.currency,
         invoice.total, invoice.balance),
        today,
    )
    return InvoiceDetail(
        **vars(row),
        company_name=company_name,
        subtotal=Decimal(invoice.subtotal),
        tax_total=Decimal(invoice.tax_total),
        amount_paid=Decimal(invoice.amount_paid),
        disputed_reason=invoice.disputed_reason,
        version=invoice.version,
        lines=[
            InvoiceLineView(ln.line_no, ln.code, ln.description, Decimal(ln.quantity), Decimal(ln.unit_price),
                            Decimal(ln.tax_rate), Decimal(ln.amount), Decimal(ln.tax_amount))
            for ln in lines
        ],
        payments=[PaymentView(p.paid_at, Decimal(p.amount), p.currency, p.method, p.reference) for p in payments],
    )


# ---------------------------------------------------------------------------------------------------- statement

_STATEMENT_COLUMNS = ["number", "shipment_reference", "issue_date", "due_date", "status", "currency", "total",
                      "balance"]


def _open_invoices_frame(db: Session, principal: Principal, as_of: date) -> pd.DataFrame:
    """Open invoices with money owed, issued by ``as_of``: one query of just the needed columns."""
    import pandas as pd

    stmt = (
        select(*_row_columns())
        .select_from(Invoice)
        .outerjoin(Shipment, Shipment.id == Invoice.shipment_id)
        .where(
            *_visible(principal),
            col(Invoice.status).in_(OPEN_INVOICE_STATUSES),
            Invoice.balance > 0,
            Invoice.issue_date <= as_of,
        )
        .order_by(Invoice.currency, Invoice.due_date, Invoice.number)
    )
    frame = pd.DataFrame([tuple(r) for r in db.exec(stmt).all()], columns=_STATEMENT_COLUMNS, dtype=object)
    for money in ("total", "balance"):  # exact: Decimal objects, never float
        frame[money] = frame[money].map(lambda v: Decimal(v).quantize(ZERO)).astype(object)
    return frame


def _add_buckets(frame: pd.DataFrame, as_of: date) -> pd.DataFrame:
    import pandas as pd

    due = pd.to_datetime(frame["due_date"])
    frame["days_past_due"] = (pd.Timestamp(as_of) - due).dt.days.astype("int64")
    frame["bucket"] = pd.cut(frame["days_past_due"], bins=_BUCKET_EDGES, labels=list(BUCKET_KEYS)).astype(object)
    frame["status"] = [
        effective_status(s, b, d, as_of)
        for s, b, d in zip(frame["status"], frame["balance"], frame["due_date"], strict=False)
    ]
    return frame


def _decimal_sum(values: pd.Series) -> Decimal:
    return sum(values, ZERO)


def statement(
    db: Session, principal: Principal, as_of: date | None = None, *, page: int | None = None, page_size: int = 25
) -> Statement:
    """Accounts-receivable aging per currency as of a day (default today, UTC).

    Each open invoice's current balance lands in one bucket by days past due: current (not yet due), 1-30,
    31-60, 61-90, 90+. Totals are Decimal sums, exact to the cent. The aging covers every open invoice; the
    invoice list is all of them (exports) or, with ``page``, one page in currency and due-date order.
    """
    as_of = as_of or clock.today()
    if page is not None:
        check_paging(page, page_size, MAX_PAGE_SIZE)
    frame = _add_buckets(_open_invoices_frame(db, principal, as_of), as_of)
    currencies: list[CurrencyAging] = []
    if not frame.empty:
        sums = frame.groupby(["currency", "bucket"], observed=True)["balance"].agg(_decimal_sum)
        counts = frame.groupby("currency")["number"].count()
        for currency in sorted(frame["currency"].unique()):
            buckets = {k: Decimal(sums.get((currency, k), ZERO)) for k in BUCKET_KEYS}
            currencies.append(
                CurrencyAging(currency, buckets, sum(buckets.values(), ZERO), int(counts[currency]))
            )
    invoices = [
        StatementInvoice(
            number=r.number, shipment_reference=r.shipment_reference, issue_date=r.issue_date, due_date=r.due_date,
            status=r.status, currency=r.currency, total=r.total, balance=r.balance,
            days_overdue=max(0, int(r.days_past_due)), bucket=str(r.bucket), days_past_due=int(r.days_past_due),
        )
        for r in (frame if page is None else frame.iloc[(page - 1) * page_size: page * page_size])
        .itertuples(index=False)
    ]
    return Statement(as_of=as_of, bucket_labels=BUCKET_LABELS, currencies=currencies, invoices=invoices,
                     open_invoices=len(frame))


EXPORT_INVOICE_COLUMNS = {
    "number": "Invoice",
    "shipment_reference": "Shipment",
    "issue_date": "Issue date",
    "due_date": "Due date",
    "status": "Status",
    "currency": "Currency",
    "total": "Total",
    "balance": "Balance",
    "days_past_due": "Days past due",
    "bucket": "Aging bucket",
}


def statement_sheets(db: Session, principal: Principal, as_of: date | None = None) -> tuple[Sheet, Sheet]:
    """The statement for downloads: the aging (currency by bucket) and the open invoices, one row each with its
    aging bucket. Amounts stay exact numbers (Decimal, e.g. 1234.50)."""
    st = statement(db, principal, as_of)
    aging = Sheet(
        "Aging",
        ["Currency", *BUCKET_LABELS.values(), "Total"],
        [[c.currency, *(c.buckets[k] for k in BUCKET_KEYS), c.total] for c in st.currencies],
        principal.timezone,
    )
    invoices = Sheet.of(
        "Open invoices",
        EXPORT_INVOICE_COLUMNS,
        (replace(inv, bucket=BUCKET_LABELS[inv.bucket]) for inv in st.invoices),
        timezone=principal.timezone,
    )
    return aging, invoices


# ---------------------------------------------------------------------------------------------------- dispute


def _invoice_state(invoice: Invoice) -> dict[str, object]:
    return {"status": invoice.status, "disputed_reason": invoice.disputed_reason, "version": invoice.version}


def dispute_invoice(db: Session, principal: Principal, number: str, reason: str) -> str:
    """Dispute an open invoice: mark it disputed, record who did it and open a billing request for the forwarder.

    All of it is one transaction: either the invoice, the audit row, the request and its first message are all
    saved, or nothing is. Returns the request's reference.
    """
    if principal.is_customer:
        principal.require(Permission.RAISE_REQUESTS)
    invoice, shipment_ref, _company = _find(db, principal, number)
    text = " ".join((reason or "").split())
    if len(text) < DISPUTE_REASON_MIN:
        raise ValidationFailed(
            f"Tell us why you dispute invoice {invoice.number} in at least {DISPUTE_REASON_MIN} characters "
            "(for example which charge is wrong and why). Nothing was changed."
        )
    if len(text) > DISPUTE_REASON_MAX:
        raise ValidationFailed(
            f"The reason is {len(text)} characters long; keep it under {DISPUTE_REASON_MAX} and add details "
            "in the request afterwards. Nothing was changed."
        )
    shown = effective_status(invoice.status, invoice.balance, invoice.due_date, clock.today())
    if invoice.status == InvoiceStatus.DISPUTED:
        raise Conflict(
            f"Invoice {invoice.number} is already disputed; follow the open billing request for it. "
            "Nothing was changed."
        )
    if invoice.status not in DISPUTABLE_STATUSES:
        raise Conflict(
            f"Invoice {invoice.number} is {shown.replace('_', ' ')}, so it cannot be disputed here. "
            "Raise a billing request instead. Nothing was changed."
        )
    before = _invoice_state(invoice)
    now = clock.now()
    try:
        updated = db.exec(
            sa.update(Invoice)
            .where(col(Invoice.id) == invoice.id, col(Invoice.version) == invoice.version)
            .values(status=InvoiceStatus.DISPUTED.value, disputed_reason=text, version=invoice.version + 1,
                    updated_at=now)
        )
        if updated.rowcount != 1:
            raise Conflict(
                f"Invoice {invoice.number} was changed by someone else a moment ago. Reload the page and try again. "
                "Nothing was changed."
            )
        after = {"status": InvoiceStatus.DISPUTED.value, "disputed_reason": text, "version": invoice.version + 1}
        ticket = requests_svc.new_ticket(
            db, company_id=invoice.company_id, raised_by_id=principal.user_id,
            category=TicketCategory.BILLING.value, subject=f"Dispute of invoice {invoice.number}", body=text,
            shipment_id=invoice.shipment_id, invoice_id=invoice.id,
            context={"page": f"/portal/invoices/{invoice.number}", "record": invoice.number,
                     "shipment": shipment_ref, "attempted_action": "dispute_invoice", "reason": text},
        )
        db.add(AuditLog(
            actor_id=principal.user_id,
            company_id=invoice.company_id,
            action="invoice_disputed",
            entity_type="invoice",
            entity_id=str(invoice.id),
            before=json.dumps(before),
            after=json.dumps({**after, "ticket": ticket.reference}),
            created_at=now,
        ))
        reference = ticket.reference
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return reference
