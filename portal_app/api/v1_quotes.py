"""REST v1: quotes (scoped to the caller): location type-ahead, quote requests (draft, submit, decline, copy,
PDF), options, accepting an option into a booking (exactly once, `Idempotency-Key`), manual pricing by ops and
the quote/booking funnel."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from portal_app.api.deps import current_principal, get_db
from portal_app.auth.principal import Principal
from portal_app.services import bookings as booking_svc
from portal_app.services import funnel as funnel_svc
from portal_app.services import locations as location_svc
from portal_app.services import quotes as svc
from portal_app.services.errors import NotFound
from portal_app.services.inputs import (
    Amount,
    Body,
    Id,
    IsoDate,
    IsoDateTime,
    PageNo,
    Version,
    WholeNumber,
    rows_per_page,
)
from portal_app.services.quote_pdf import quote_pdf

router = APIRouter(prefix="/api/v1", tags=["quotes"])

Caller = Annotated[Principal, Depends(current_principal)]
Db = Annotated[Session, Depends(get_db)]
PageSize = rows_per_page(svc.MAX_PAGE_SIZE)
ModeName = Literal["ocean_fcl", "ocean_lcl", "air", "road_ftl", "road_ltl"]


# ---------------------------------------------------------------------------------------------------- models


class LocationOut(BaseModel):
    code: str
    name: str
    country: str
    kind: str
    label: str


class CargoLineIn(Body):
    description: str | None = Field(None, max_length=200)
    packages: WholeNumber | None = Field(None, description="Number of packages (loose cargo)")
    length_cm: Amount | None = Field(None, description="Per package")
    width_cm: Amount | None = None
    height_cm: Amount | None = None
    weight_kg: Amount | None = Field(None, description="Total gross weight of the line")
    container_size_type: str | None = Field(None, max_length=4, description="ISO 6346, e.g. 22G1, 45G1 (FCL only)")
    container_count: WholeNumber | None = None
    is_dangerous_goods: bool = False
    un_number: str | None = Field(None, max_length=10, description="Four digits, e.g. 1263 or 'UN 1263'")
    dg_class: str | None = Field(None, max_length=4, description="e.g. 3, 2.1, 6.1")


class QuoteIn(Body):
    """A quote request; every field may be left out while it is a draft."""

    mode: str | None = Field(None, max_length=12, description="ocean_fcl, ocean_lcl, air, road_ftl, road_ltl")
    origin: str | None = Field(None, max_length=10, description="UN/LOCODE (ocean, road) or IATA code (air)")
    destination: str | None = Field(None, max_length=10)
    ready_date: IsoDate | None = None
    incoterm: str | None = Field(None, max_length=3)
    services: list[Annotated[str, Field(max_length=20)]] = Field(default_factory=list, max_length=4,
                                                                 description="pickup, customs, insurance, delivery")
    cargo_value: Amount | None = None
    cargo_currency: str | None = Field(None, max_length=3)
    customer_reference: str | None = Field(None, max_length=40)
    lines: list[CargoLineIn] = Field(default_factory=list, max_length=svc.MAX_LINES)
    expected_version: Version | None = Field(None, description="Refuse to overwrite a draft saved since (409)")

    def to_input(self) -> svc.QuoteInput:
        return svc.QuoteInput(
            mode=self.mode, origin=self.origin, destination=self.destination, ready_date=self.ready_date,
            incoterm=self.incoterm, services=tuple(self.services), cargo_value=self.cargo_value,
            cargo_currency=self.cargo_currency, customer_reference=self.customer_reference,
            lines=tuple(svc.CargoLineInput(**ln.model_dump()) for ln in self.lines),
        )


class CargoLineOut(BaseModel):
    description: str | None
    packages: int | None
    length_cm: Decimal | None
    width_cm: Decimal | None
    height_cm: Decimal | None
    weight_kg: Decimal | None
    container_size_type: str | None
    container_count: int | None
    is_dangerous_goods: bool
    un_number: str | None
    dg_class: str | None


class ChargeOut(BaseModel):
    code: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


class OptionOut(BaseModel):
    id: int
    quote_reference: str
    carrier_code: str | None
    carrier_name: str | None
    currency: str
    total: Decimal = Field(description="All-in price")
    total_text: str
    transit_days: int
    valid_until: datetime
    status: str = Field(description="offered, accepted, expired (past valid_until) or declined")
    is_manual: bool
    notes: str | None
    shipment_reference: str | None
    can_accept: bool
    charges: list[ChargeOut]


class QuoteOut(BaseModel):
    reference: str
    status: str = Field(description="draft, requested (being priced by our team), quoted, accepted, expired, declined")
    mode: str | None
    mode_label: str | None
    origin: str | None
    origin_name: str | None
    destination: str | None
    destination_name: str | None
    ready_date: date | None
    incoterm: str | None
    services: list[str]
    cargo_value: Decimal | None
    cargo_currency: str | None
    customer_reference: str | None
    is_manual: bool
    manual_due_at: datetime | None = Field(description="When our team will have priced a manual quote (SLA)")
    submitted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    company_name: str
    requested_by: str
    version: int
    gross_weight_kg: Decimal
    volume_m3: Decimal
    chargeable_weight_kg: Decimal | None
    revenue_tonnes: Decimal | None
    lines: list[CargoLineOut]
    options: list[OptionOut]
    problems: dict[str, str] = Field(description="Drafts: what still stops submitting, by field")


class QuoteRowOut(BaseModel):
    reference: str
    status: str
    mode: str | None
    origin: str | None
    destination: str | None
    ready_date: date | None
    company_name: str
    requested_by: str
    options: int
    best_total_text: str | None
    is_manual: bool
    manual_due_at: datetime | None
    sla_overdue: bool
    created_at: datetime
    updated_at: datetime


class QuotePageOut(BaseModel):
    items: list[QuoteRowOut]
    total: int
    page: int
    page_size: int
    pages: int


class DeclineIn(Body):
    reason: str | None = Field(None, max_length=400)


class BookingIn(Body):
    shipper_name: str = Field(max_length=200)
    consignee_name: str = Field(max_length=200)
    cargo_description: str = Field(max_length=400)
    cargo_confirmed: bool = Field(description="The cargo is as quoted")
    shipper_address: str | None = Field(None, max_length=400)
    consignee_address: str | None = Field(None, max_length=400)
    notify_party: str | None = Field(None, max_length=200)
    customer_reference: str | None = Field(None, max_length=40, description="Your PO or reference")


class BookingOut(BaseModel):
    shipment_reference: str
    status: str
    quote_reference: str
    option_id: int
    created: bool = Field(description="False when this repeated call returned the booking made the first time")
    message: str


class ManualChargeIn(Body):
    code: str = Field(max_length=20)
    description: str = Field(max_length=200)
    quantity: Amount
    unit_price: Amount


class ManualOptionIn(Body):
    currency: str = Field(max_length=3)
    transit_days: WholeNumber
    valid_until: IsoDate
    charges: list[ManualChargeIn] = Field(max_length=40)
    carrier_code: str | None = Field(None, max_length=10)
    notes: str | None = Field(None, max_length=400)


class FunnelOut(BaseModel):
    since: datetime
    until: datetime
    abandon_hours: int
    quotes_started: int
    quotes_submitted: int
    quotes_failed: int
    quotes_abandoned: int
    bookings_started: int
    bookings_submitted: int
    bookings_failed: int
    bookings_abandoned: int


def option_out(o: svc.OptionView) -> OptionOut:
    data = asdict(o)
    data["charges"] = [ChargeOut(**c) for c in data["charges"]]
    return OptionOut(**data, can_accept=o.can_accept)


def quote_out(q: svc.QuoteView) -> QuoteOut:
    data = asdict(q)
    data["lines"] = [CargoLineOut(**ln) for ln in data["lines"]]
    data["options"] = [option_out(o) for o in q.options]
    data["services"] = list(q.services)
    data["problems"] = dict(q.problems)
    return QuoteOut(**data)


# ---------------------------------------------------------------------------------------------------- routes


@router.get("/locations", response_model=list[LocationOut])
def search_locations(
    principal: Caller,
    db: Db,
    mode: ModeName,
    q: Annotated[str, Query(max_length=60, description="Start of a code or place name")] = "",
    limit: Annotated[int, Query(ge=1, le=location_svc.MAX_SUGGESTIONS)] = 10,
) -> list[LocationOut]:
    """Type-ahead: places valid for the mode (airports for air, seaports for ocean, UN/LOCODE places by road)."""
    return [LocationOut(**asdict(o)) for o in location_svc.search_locations(db, principal, mode, q, limit=limit)]


@router.get("/quote-requests", response_model=QuotePageOut)
def list_quote_requests(
    principal: Caller,
    db: Db,
    status: Annotated[str | None, Query(description="draft, requested, quoted, accepted, expired, declined")] = None,
    q: Annotated[str | None, Query(max_length=40, description="Start of a quote reference or your reference")] = None,
    sort: Annotated[str, Query(description=", ".join(svc.LIST_SORTS))] = "updated",
    page: PageNo = 1,
    page_size: PageSize = 25,
) -> QuotePageOut:
    result = svc.list_quotes(db, principal, status=status, search=q, page=page, page_size=page_size, sort=sort)
    return QuotePageOut(items=[QuoteRowOut(**asdict(r)) for r in result.rows], total=result.total, page=result.page,
                        page_size=result.page_size, pages=result.pages)


@router.get("/quote-requests/draft", response_model=QuoteOut, responses={404: {"description": "No draft"}})
def get_draft(principal: Caller, db: Db) -> QuoteOut:
    """Your unfinished quote request (one per user), with what still stops it from being submitted."""
    draft = svc.get_draft(db, principal)
    if draft is None:
        raise NotFound("You have no unfinished quote request. Start one with POST /api/v1/quote-requests.")
    return quote_out(draft)


@router.get("/quote-requests/manual-queue", response_model=QuotePageOut)
def manual_queue(principal: Caller, db: Db, page: PageNo = 1, page_size: PageSize = 25) -> QuotePageOut:
    """Ops: requests no rate card matched, most urgent SLA first."""
    result = svc.manual_queue(db, principal, page=page, page_size=page_size)
    return QuotePageOut(items=[QuoteRowOut(**asdict(r)) for r in result.rows], total=result.total, page=result.page,
                        page_size=result.page_size, pages=result.pages)


@router.post("/quote-requests", response_model=QuoteOut, status_code=201)
def create_quote_request(
    body: QuoteIn,
    principal: Caller,
    db: Db,
    submit: Annotated[bool, Query(description="Submit at once (422 with `fields` if incomplete)")] = False,
) -> QuoteOut:
    """Save your draft quote request (creates it, or updates your current draft). With `submit=true` it is priced
    at once: matching rate cards become options; if none match, our team prices it within the SLA."""
    draft = svc.save_draft(db, principal, body.to_input(), expected_version=body.expected_version)
    if submit:
        return quote_out(svc.submit_quote(db, principal, draft.reference))
    return quote_out(draft)


@router.get("/quote-requests/{reference}", response_model=QuoteOut, responses={404: {}})
def get_quote_request(
    reference: str, principal: Caller, db: Db,
    sort: Annotated[Literal["cheapest", "fastest"], Query()] = "cheapest",
) -> QuoteOut:
    return quote_out(svc.get_quote(db, principal, reference, sort=sort))


@router.put("/quote-requests/{reference}", response_model=QuoteOut, responses={404: {}, 409: {}})
def update_quote_request(reference: str, body: QuoteIn, principal: Caller, db: Db) -> QuoteOut:
    """Save changes to your draft (only drafts can change)."""
    return quote_out(svc.save_draft(db, principal, body.to_input(), reference=reference,
                                    expected_version=body.expected_version))


@router.delete("/quote-requests/{reference}", status_code=204, response_class=Response, responses={404: {}, 409: {}})
def discard_quote_request(reference: str, principal: Caller, db: Db) -> Response:
    """Discard your draft."""
    svc.discard_draft(db, principal, reference)
    return Response(status_code=204)


@router.post("/quote-requests/{reference}/submit", response_model=QuoteOut, responses={404: {}, 409: {}, 422: {}})
def submit_quote_request(reference: str, principal: Caller, db: Db) -> QuoteOut:
    """Price the draft against every matching rate card (or send it to our team for manual pricing)."""
    return quote_out(svc.submit_quote(db, principal, reference))


@router.post("/quote-requests/{reference}/decline", response_model=QuoteOut, responses={404: {}, 409: {}})
def decline_quote_request(reference: str, body: DeclineIn, principal: Caller, db: Db) -> QuoteOut:
    return quote_out(svc.decline_quote(db, principal, reference, body.reason))


@router.post("/quote-requests/{reference}/copy", response_model=QuoteOut, status_code=201,
             responses={404: {}, 409: {}})
def copy_quote_request(reference: str, principal: Caller, db: Db) -> QuoteOut:
    """Start a new draft from this request (e.g. when its prices expired)."""
    return quote_out(svc.copy_to_draft(db, principal, reference))


@router.post("/quote-requests/{reference}/options", response_model=QuoteOut, status_code=201,
             responses={403: {}, 404: {}, 409: {}, 422: {}})
def add_manual_option(reference: str, body: ManualOptionIn, principal: Caller, db: Db) -> QuoteOut:
    """Ops: price a request by hand; the customer is notified."""
    data = svc.ManualOptionInput(
        currency=body.currency, transit_days=body.transit_days, valid_until=body.valid_until,
        charges=tuple(svc.ManualChargeInput(**c.model_dump()) for c in body.charges),
        carrier_code=body.carrier_code, notes=body.notes,
    )
    return quote_out(svc.add_manual_option(db, principal, reference, data))


@router.get("/quote-requests/{reference}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}, 404: {}})
def get_quote_pdf(reference: str, principal: Caller, db: Db) -> Response:
    filename, body = quote_pdf(db, principal, reference)
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/quote-options/{option_id}", response_model=OptionOut, responses={404: {}})
def get_option(option_id: Id, principal: Caller, db: Db) -> OptionOut:
    return option_out(svc.get_option(db, principal, option_id))


@router.post("/quote-options/{option_id}/start-booking", response_model=OptionOut, responses={404: {}})
def start_booking(option_id: Id, principal: Caller, db: Db) -> OptionOut:
    """Record that you opened the booking form of this option (for the booking funnel); returns the option."""
    return option_out(svc.mark_booking_started(db, principal, option_id))


@router.post(
    "/quote-options/{option_id}/accept",
    response_model=BookingOut,
    status_code=201,
    responses={200: {"description": "Already booked: the booking made the first time", "model": BookingOut},
               404: {}, 409: {"description": "Expired or no longer open"}, 422: {}},
)
def accept_option(
    option_id: Id,
    body: BookingIn,
    principal: Caller,
    db: Db,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=100,
                                                  description="Repeat the call with the same key: one booking")] = None,
) -> JSONResponse:
    """Book this option: it becomes a shipment awaiting our confirmation. Exactly once: repeating the call (same
    `Idempotency-Key`, or the same option) answers 200 with the booking made the first time."""
    result = booking_svc.accept_option(
        db, principal, option_id, booking_svc.BookingInput(**body.model_dump()), idempotency_key=idempotency_key
    )
    body = BookingOut(**asdict(result)).model_dump(mode="json")
    return JSONResponse(body, status_code=201 if result.created else 200)


@router.get("/funnel", response_model=FunnelOut)
def get_funnel(
    principal: Caller, db: Db, since: Annotated[IsoDateTime, Query()],
    until: Annotated[IsoDateTime | None, Query()] = None,
) -> FunnelOut:
    """Staff: quotes and bookings started, submitted, failed and abandoned in a period (abandonment rule in
    docs/quotes.md)."""
    return FunnelOut(**asdict(funnel_svc.funnel(db, principal, since, until)))
