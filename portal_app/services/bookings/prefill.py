"""The booking form of an option, filled in: what was chosen, the quote's cargo, and the parties of the
company's last booking, so a repeat customer checks and changes them instead of typing them again."""

from __future__ import annotations

from sqlmodel import Session, col, select

from models import QuoteOption, QuoteRequest, Shipment
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import quotes
from portal_app.services.bookings.common import _text, planned_departure
from portal_app.services.bookings.shapes import BookingDetails
from portal_app.services.errors import NotFound

PARTY_FIELDS = ("shipper_name", "shipper_address", "consignee_name", "consignee_address", "notify_party")


def last_booking(db: Session, principal: Principal, company_id: int) -> Shipment | None:
    """The company's most recent shipment that names its parties. Only ``company_id``'s, and only when the caller
    may see that company: another company's parties are never offered."""
    return db.exec(
        select(Shipment)
        .where(col(Shipment.company_id) == company_id, company_filter(col(Shipment.company_id), principal),
               col(Shipment.shipper_name).is_not(None))
        .order_by(col(Shipment.created_at).desc(), col(Shipment.id).desc())
        .limit(1)
    ).first()


def _cargo_description(lines: tuple[quotes.CargoLineView, ...]) -> str | None:
    """The quote's cargo line descriptions, each once, in order."""
    seen = dict.fromkeys(ln.description.strip() for ln in lines if ln.description and ln.description.strip())
    return _text("; ".join(seen), 400)


def booking_details(db: Session, principal: Principal, option_id: int) -> BookingDetails:
    """The confirm step of an option: the option, the quote's cargo (volume computed from the dimensions) and the
    booking fields filled in. Another company's option is NotFound, like a missing one."""
    principal.require(Permission.BOOK)
    found = db.exec(
        select(QuoteRequest)
        .join(QuoteOption, col(QuoteOption.quote_request_id) == col(QuoteRequest.id))
        .where(col(QuoteOption.id) == int(option_id), company_filter(col(QuoteRequest.company_id), principal))
    ).first()
    if found is None:
        raise NotFound(f"No quote option {option_id} was found in your account. Open the quote and pick an option.")
    view = quotes.get_quote(db, principal, found.reference)
    option = next(o for o in view.options if o.id == int(option_id))
    previous = last_booking(db, principal, found.company_id)
    parties = {f: getattr(previous, f) if previous is not None else None for f in PARTY_FIELDS}
    return BookingDetails(
        option_id=option.id, quote_reference=view.reference, carrier_code=option.carrier_code,
        carrier_name=option.carrier_name, currency=option.currency, total=option.total, total_text=option.total_text,
        transit_days=option.transit_days, valid_until=option.valid_until, ready_date=view.ready_date,
        planned_departure=planned_departure(db, view.mode, view.ready_date) if view.mode and view.ready_date
        else None,
        free_time=option.free_time, **parties, customer_reference=view.customer_reference,
        cargo_description=_cargo_description(view.lines), parties_from=previous.reference if previous else None,
        gross_weight_kg=view.gross_weight_kg, volume_m3=view.volume_m3, lines=view.lines,
    )
