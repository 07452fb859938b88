"""REST v1: finance (scoped to the caller): invoices, their PDFs, disputes and the aged statement."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from portal_app.api import exports
from portal_app.api.deps import current_principal, get_db
from portal_app.api.exports import XLSX_TYPE
from portal_app.auth.principal import Principal
from portal_app.services import audit, invoicing
from portal_app.services import finance as svc
from portal_app.services.einvoice_ubl import MEDIA_TYPE as UBL_TYPE
from portal_app.services.einvoice_ubl import invoice_ubl
from portal_app.services.inputs import Body, IsoDate, PageNo, rows_per_page
from portal_app.services.invoice_pdf import invoice_pdf
from portal_app.services.paging import PageOut

router = APIRouter(prefix="/api/v1", tags=["finance"])

Caller = Annotated[Principal, Depends(current_principal)]
Db = Annotated[Session, Depends(get_db)]
PageSize = rows_per_page(svc.MAX_PAGE_SIZE)
AsOf = Annotated[IsoDate | None, Query(description="Age balances as of this day (YYYY-MM-DD); default today (UTC)")]


class DisputeIn(Body):
    reason: str = Field(max_length=2000,
                        description=f"Why the invoice is wrong, at least {svc.DISPUTE_REASON_MIN} characters")


class DisputeOut(BaseModel):
    ticket_reference: str
    message: str


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/invoices", response_model=PageOut[svc.InvoiceRow])
def list_invoices(
    principal: Caller,
    db: Db,
    status: Annotated[str | None,
                      Query(description="open (not yet paid: issued, partially_paid, overdue, disputed), draft, "
                                        "issued, partially_paid, paid, overdue, disputed, void")] = None,
    shipment: Annotated[str | None,
                        Query(max_length=40, description="Only invoices of this shipment reference")] = None,
    q: Annotated[str | None,
                 Query(max_length=40, description="Start of an invoice number or shipment reference")] = None,
    page: PageNo = 1,
    page_size: PageSize = 25,
    sort: Annotated[str, Query(max_length=20, description=", ".join(svc.LIST_SORTS.keys))] = "-issued",
) -> PageOut[svc.InvoiceRow]:
    """The caller's invoices, the newest issue date first unless ``sort`` says otherwise (``-key``: descending)."""
    return PageOut.of(svc.list_invoices(
        db, principal, status=status, shipment_reference=shipment, search=q, page=page, page_size=page_size,
        sort=sort,
    ))


class InvoiceIn(Body):
    company_code: str | None = Field(None, description="The customer's code; or give shipment_reference")
    shipment_reference: str | None = None
    number: str | None = Field(None, description="Your accounting system's number; default INV-<year>-<seq>")
    currency: str
    issue_date: IsoDate | None = None
    due_date: IsoDate
    lines: list[invoicing.InvoiceLineInput]


class IssuedOut(BaseModel):
    number: str
    total: Decimal
    currency: str
    notified_users: int


@router.post("/invoices", status_code=201, response_model=IssuedOut,
             responses={403: {}, 404: {}, 409: {"description": "Number taken"}, 422: {}})
def issue_invoice(body: InvoiceIn, principal: Caller, db: Db) -> IssuedOut:
    """Staff (ops managers, administrators) or their accounting system record an issued invoice; the customer's
    admins and the shipment's followers are notified as their preferences ask."""
    done = invoicing.issue_invoice(
        db, principal, company_code=body.company_code, shipment_reference=body.shipment_reference,
        currency=body.currency, due_date=body.due_date, issue_date=body.issue_date, number=body.number,
        lines=body.lines)
    return IssuedOut(number=done.number, total=done.total, currency=done.currency, notified_users=done.notified)


@router.get("/invoices/{number}", response_model=svc.InvoiceDetail, responses={404: {"description": "Not found"}})
def get_invoice(number: str, principal: Caller, db: Db) -> svc.InvoiceDetail:
    return svc.get_invoice(db, principal, number)


@router.get(
    "/invoices/{number}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 404: {"description": "Not found"}},
)
def get_invoice_pdf(number: str, principal: Caller, db: Db) -> Response:
    filename, body = invoice_pdf(db, principal, number)
    return _download(body, "application/pdf", filename)


@router.get(
    "/invoices/{number}/ubl",
    response_class=Response,
    responses={200: {"content": {UBL_TYPE: {}}}, 404: {"description": "Not found"},
               409: {"description": "A draft or void invoice, or data EN 16931 requires is missing"}},
)
def get_invoice_ubl(number: str, principal: Caller, db: Db) -> Response:
    """The invoice as an EN 16931 e-invoice: UBL 2.1 XML following Peppol BIS Billing 3.0 (docs/einvoices.md)."""
    filename, body = invoice_ubl(db, principal, number)
    return _download(body, UBL_TYPE, filename)


@router.post(
    "/invoices/{number}/dispute",
    response_model=DisputeOut,
    status_code=201,
    responses={404: {"description": "Not found"}, 409: {"description": "Not open"}, 422: {"description": "No reason"}},
)
def dispute_invoice(number: str, body: DisputeIn, principal: Caller, db: Db) -> DisputeOut:
    reference = svc.dispute_invoice(db, principal, number, body.reason)
    return DisputeOut(
        ticket_reference=reference,
        message=f"Invoice {number.upper()} is now disputed and request {reference} was opened for our billing team.",
    )


@router.get("/statement", response_model=svc.Statement)
def get_statement(principal: Caller, db: Db, as_of: AsOf = None) -> svc.Statement:
    return svc.statement(db, principal, as_of)


@router.get("/statement.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def get_statement_csv(principal: Caller, db: Db, as_of: AsOf = None) -> Response:
    _aging, invoices = svc.statement_sheets(db, principal, as_of)
    audit.exported(db, principal, "statement", "csv")
    return exports.csv_download(invoices, f"statement-{(as_of or svc.clock.today()).isoformat()}.csv")


@router.get("/statement.xlsx", response_class=Response, responses={200: {"content": {XLSX_TYPE: {}}}})
def get_statement_xlsx(principal: Caller, db: Db, as_of: AsOf = None) -> Response:
    sheets = svc.statement_sheets(db, principal, as_of)
    audit.exported(db, principal, "statement", "xlsx")
    return exports.xlsx_download(sheets,
                                 f"statement-{(as_of or svc.clock.today()).isoformat()}.xlsx")
