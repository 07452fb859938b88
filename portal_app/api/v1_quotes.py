"""REST v1: quotes (scoped to the caller): location type-ahead, quote requests (draft, submit, decline, copy,
PDF), options, accepting an option into a booking (exactly once, `Idempotency-Key`), manual pricing by ops and
the quote/booking funnel."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse, Response
from pydantic import Field, TypeAdapter
from sqlmodel import Session

from portal_app.api.deps import current_principal, get_db
from portal_app.auth.principal import Principal
from portal_app.services import bookings as booking_svc
from portal_app.services import funnel as funnel_svc
from portal_app.services import locations as location_svc
from portal_app.services import quotes as svc
from portal_app.services.errors import NotFound
from portal_app.services.inputs import (
    Body,
    Id,
    IsoDateTime,
    PageNo,
    Version,
    rows_per_page,
)
from portal_app.services.paging import PageOut
from portal_app.services.quote_pdf import quote_pdf

router = APIRouter(prefix="/api/v1", tags=["quotes"])

Caller = Annotated[Principal, Depends(current_principal)]
Db = Annotated[Session, Depends(get_db)]
PageSize = rows_per_page(svc.MAX_PAGE_SIZE)
_BOOKING = TypeAdapter(booking_svc.BookingResult)
ModeName = Literal["ocean_fcl", "ocean_lcl", "air", "road_ftl", "road_ltl"]


# ---------------------------------------------------------------------------------------------------- models


class QuoteIn(svc.QuoteInput):
    """A quote request; every field may be left out while it is a draft."""

    expected_version: Version | None = Field(None, description="Refuse to overwrite a draft saved since (409)")


class DeclineIn(Body):
    reason: str | None = Field(None, max_length=400)


# ---------------------------------------------------------------------------------------------------- routes


@router.get("/locations", response_model=list[location_svc.LocationOption])
def search_locations(
    principal: Caller,
    db: Db,
    mode: ModeName,
    q: Annotated[str, Query(max_length=60, description="Start of a code or place name")] = "",
    limit: Annotated[int, Query(ge=1, le=location_svc.MAX_SUGGESTIONS)] = 10,
) -> list[location_svc.LocationOption]:
    """Type-ahead: places valid for the mode (airports for air, seaports for ocean, UN/LOCODE places by road)."""
    return location_svc.search_locations(db, principal, mode, q, limit=limit)


@router.get("/quote-requests", response_model=PageOut[svc.QuoteRow])
def list_quote_requests(
    principal: Caller,
    db: Db,
    status: Annotated[str | None, Query(description="draft, requested, quoted, accepted, expired, declined")] = None,
    q: Annotated[str | None, Query(max_length=40, description="Start of a quote reference or your reference")] = None,
    sort: Annotated[str, Query(description=", ".join(svc.LIST_SORTS))] = "updated",
    page: PageNo = 1,
    page_size: PageSize = 25,
) -> PageOut[svc.QuoteRow]:
    result = svc.list_quotes(db, principal, status=status, search=q, page=page, page_size=page_size, sort=sort)
    return PageOut.of(result)


@router.get("/quote-requests/draft", response_model=svc.QuoteView, responses={404: {"description": "No draft"}})
def get_draft(principal: Caller, db: Db) -> svc.QuoteView:
    """Your unfinished quote request (one per user), with what still stops it from being submitted."""
    draft = svc.get_draft(db, principal)
    if draft is None:
        raise NotFound("You have no unfinished quote request. Start one with POST /api/v1/quote-requests.")
    return draft


@router.get("/quote-requests/manual-queue", response_model=PageOut[svc.QuoteRow])
def manual_queue(principal: Caller, db: Db, page: PageNo = 1, page_size: PageSize = 25) -> PageOut[svc.QuoteRow]:
    """Ops: requests no rate card matched, most urgent SLA first."""
    result = svc.manual_queue(db, principal, page=page, page_size=page_size)
    return PageOut.of(result)


@router.post("/quote-requests", response_model=svc.QuoteView, status_code=201)
def create_quote_request(
    body: QuoteIn,
    principal: Caller,
    db: Db,
    submit: Annotated[bool, Query(description="Submit at once (422 with `fields` if incomplete)")] = False,
) -> svc.QuoteView:
    """Save your draft quote request (creates it, or updates your current draft). With `submit=true` it is priced
    at once: matching rate cards become options; if none match, our team prices it within the SLA."""
    draft = svc.save_draft(db, principal, body, expected_version=body.expected_version)
    if submit:
        return svc.submit_quote(db, principal, draft.reference)
    return draft


@router.get("/quote-requests/{reference}", response_model=svc.QuoteView, responses={404: {}})
def get_quote_request(
    reference: str, principal: Caller, db: Db,
    sort: Annotated[Literal["cheapest", "fastest"], Query()] = "cheapest",
) -> svc.QuoteView:
    return svc.get_quote(db, principal, reference, sort=sort)


@router.put("/quote-requests/{reference}", response_model=svc.QuoteView, responses={404: {}, 409: {}})
def update_quote_request(reference: str, body: QuoteIn, principal: Caller, db: Db) -> svc.QuoteView:
    """Save changes to your draft (only drafts can change)."""
    return svc.save_draft(db, principal, body, reference=reference, expected_version=body.expected_version)


@router.delete("/quote-requests/{reference}", status_code=204, response_class=Response, responses={404: {}, 409: {}})
def discard_quote_request(reference: str, principal: Caller, db: Db) -> Response:
    """Discard your draft."""
    svc.discard_draft(db, principal, reference)
    return Response(status_code=204)


@router.post("/quote-requests/{reference}/submit", response_model=svc.QuoteView, responses={404: {}, 409: {}, 422: {}})
def submit_quote_request(reference: str, principal: Caller, db: Db) -> svc.QuoteView:
    """Price the draft against every matching rate card (or send it to our team for manual pricing)."""
    return svc.submit_quote(db, principal, reference)


@router.post("/quote-requests/{reference}/decline", response_model=svc.QuoteView, responses={404: {}, 409: {}})
def decline_quote_request(reference: str, body: DeclineIn, principal: Caller, db: Db) -> svc.QuoteView:
    return svc.decline_quote(db, principal, reference, body.reason)


@router.post("/quote-requests/{reference}/copy", response_model=svc.QuoteView, status_code=201,
             responses={404: {}, 409: {}})
def copy_quote_request(reference: str, principal: Caller, db: Db) -> svc.QuoteView:
    """Start a new draft from this request (e.g. when its prices expired)."""
    return svc.copy_to_draft(db, principal, reference)


@router.post("/quote-requests/{reference}/options", response_model=svc.QuoteView, status_code=201,
             responses={403: {}, 404: {}, 409: {}, 422: {}})
def add_manual_option(reference: str, body: svc.ManualOptionInput, principal: Caller, db: Db) -> svc.QuoteView:
    """Ops: price a request by hand; the customer is notified."""
    return svc.add_manual_option(db, principal, reference, body)


@router.get("/quote-requests/{reference}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}, 404: {}})
def get_quote_pdf(reference: str, principal: Caller, db: Db) -> Response:
    filename, body = quote_pdf(db, principal, reference)
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/quote-options/{option_id}", response_model=svc.OptionView, responses={404: {}})
def get_option(option_id: Id, principal: Caller, db: Db) -> svc.OptionView:
    return svc.get_option(db, principal, option_id)


@router.post("/quote-options/{option_id}/start-booking", response_model=svc.OptionView, responses={404: {}})
def start_booking(option_id: Id, principal: Caller, db: Db) -> svc.OptionView:
    """Record that you opened the booking form of this option (for the booking funnel); returns the option."""
    return svc.mark_booking_started(db, principal, option_id)


@router.get("/quote-options/{option_id}/booking-details", response_model=booking_svc.BookingDetails,
            responses={404: {}})
def booking_details(option_id: Id, principal: Caller, db: Db) -> booking_svc.BookingDetails:
    """The booking form of this option filled in: the option, the quote's cargo (volume computed from the
    dimensions), the parties of your company's last booking and the quote's reference, to check before accepting."""
    return booking_svc.booking_details(db, principal, option_id)


@router.post(
    "/quote-options/{option_id}/accept",
    response_model=booking_svc.BookingResult,
    status_code=201,
    responses={200: {"description": "Already booked: the booking made the first time",
                      "model": booking_svc.BookingResult},
               404: {}, 409: {"description": "Expired or no longer open"}, 422: {}},
)
def accept_option(
    option_id: Id,
    body: booking_svc.BookingInput,
    principal: Caller,
    db: Db,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=100,
                                                  description="Repeat the call with the same key: one booking")] = None,
) -> JSONResponse:
    """Book this option: it becomes a shipment awaiting our confirmation. Exactly once: repeating the call (same
    `Idempotency-Key`, or the same option) answers 200 with the booking made the first time."""
    result = booking_svc.accept_option(db, principal, option_id, body, idempotency_key=idempotency_key)
    return JSONResponse(_BOOKING.dump_python(result, mode="json"), status_code=201 if result.created else 200)


@router.get("/funnel", response_model=funnel_svc.Funnel)
def get_funnel(
    principal: Caller, db: Db, since: Annotated[IsoDateTime, Query()],
    until: Annotated[IsoDateTime | None, Query()] = None,
) -> funnel_svc.Funnel:
    """Staff: quotes and bookings started, submitted, failed and abandoned in a period (abandonment rule in
    docs/quotes.md)."""
    return funnel_svc.funnel(db, principal, since, until)
