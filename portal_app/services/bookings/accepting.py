"""Accepting a quote option into a booking, exactly once."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    CargoLine,
    IdempotencyKey,
    QuoteCargoLine,
    QuoteOption,
    QuoteOptionCharge,
    QuoteRequest,
    Shipment,
    ShipmentCharge,
    ShipmentFollower,
)
from models.enums import (
    Mode,
    PortalEventKind,
    QuoteStatus,
    ReferenceKind,
    ShipmentStatus,
)
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import clock, funnel, rating
from portal_app.services.bookings.common import (
    _audit,
    _check_booking,
    _existing_booking,
    _milestones,
    _replayed,
    _text,
    _update,
    shipment_reference,
)
from portal_app.services.bookings.shapes import (
    ACCEPT_OPERATION,
    MAX_KEY_LENGTH,
    NOTHING_BOOKED,
    BookingInput,
    BookingResult,
)
from portal_app.services.errors import Conflict, ErrorCode, FormInvalid, NotFound, ServiceError, ValidationFailed
from portal_app.services.quotes import cargo_of
from portal_app.services.references import reference_rows
from portal_app.services.trade_codes import container_words


def accept_option(
    db: Session,
    principal: Principal,
    option_id: int,
    data: BookingInput,
    *,
    idempotency_key: str | None = None,
) -> BookingResult:
    """Turn an offered option into a booking (a Shipment awaiting ops' confirmation), exactly once.

    Repeating the call (same key, or the same option) returns the booking the first call made with
    ``created=False``. An expired option raises Conflict (code ``option_expired``) that says what to do instead.
    """
    principal.require(Permission.BOOK)
    key = (idempotency_key or "").strip()
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(f"The Idempotency-Key is longer than {MAX_KEY_LENGTH} characters. {NOTHING_BOOKED}")
    found = db.exec(
        select(QuoteOption, QuoteRequest)
        .join(QuoteRequest, col(QuoteRequest.id) == col(QuoteOption.quote_request_id))
        .where(col(QuoteOption.id) == int(option_id), company_filter(col(QuoteRequest.company_id), principal))
    ).first()
    if found is None:
        raise NotFound(f"No quote option {option_id} was found in your account. Open the quote and pick an option.")
    option, quote = found
    assert option.id is not None  # a stored row
    if key:
        done = db.exec(select(IdempotencyKey).where(
            IdempotencyKey.user_id == principal.user_id, IdempotencyKey.operation == ACCEPT_OPERATION,
            IdempotencyKey.key == key)).first()
        if done is not None and done.result_ref:
            shipment = db.exec(select(Shipment).where(Shipment.reference == done.result_ref)).first()
            if shipment is not None and shipment.quote_option_id == option.id:
                return _replayed(shipment, quote.reference, option.id)
            raise Conflict(f"This Idempotency-Key was already used for another booking ({done.result_ref}). Use a "
                           f"new key for a new request. {NOTHING_BOOKED}", code=ErrorCode.IDEMPOTENCY_KEY_REUSED)
    existing = _existing_booking(db, option.id)
    if existing is not None:
        return _replayed(existing, quote.reference, option.id)
    try:
        return _accept(db, principal, option, quote, data, key)
    except ServiceError as exc:
        db.rollback()
        funnel.record_now(db, principal, PortalEventKind.BOOKING_FAILED, f"option {option_id}: {exc.message}")
        raise
    except sa.exc.IntegrityError:
        # Another transaction booked this option (unique quote_option_id) or used this key at the same moment.
        db.rollback()
        existing = _existing_booking(db, int(option_id))
        if existing is not None:
            return _replayed(existing, quote.reference, int(option_id))
        raise


def _refuse_closed(option: QuoteOption, quote: QuoteRequest, now: datetime) -> None:
    if (option.status == "offered" and option.valid_until < now) or option.status == "expired":
        raise Conflict(
            f"This price expired on {option.valid_until:%d %b %Y} and can no longer be booked. Request a fresh quote: "
            f"'Request again' copies {quote.reference} into a new request with today's prices. {NOTHING_BOOKED}",
            code=ErrorCode.OPTION_EXPIRED,
        )
    if option.status != "offered" or quote.status not in (QuoteStatus.QUOTED, QuoteStatus.ACCEPTED):
        raise Conflict(
            f"This option is {option.status} and can no longer be booked. Open quote {quote.reference} to see the "
            f"options still open, or request a new quote. {NOTHING_BOOKED}",
            code=ErrorCode.OPTION_CLOSED,
        )


def _accept(db: Session, principal: Principal, option: QuoteOption, quote: QuoteRequest, data: BookingInput,
            key: str) -> BookingResult:
    assert option.id is not None  # a stored row
    now = clock.now()
    _refuse_closed(option, quote, now)
    problems = _check_booking(data)
    if problems:
        first = next(iter(problems.values()))
        raise FormInvalid(f"{first} {NOTHING_BOOKED}", problems)
    # The one write that decides who books: only one transaction can move the option out of 'offered'.
    won = db.exec(
        sa.update(QuoteOption)
        .where(col(QuoteOption.id) == option.id, col(QuoteOption.status) == "offered",
               col(QuoteOption.valid_until) >= now)
        .values(status="accepted", accepted_at=now, version=QuoteOption.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        db.rollback()
        existing = _existing_booking(db, option.id)
        if existing is not None:
            return _replayed(existing, quote.reference, option.id)
        db.refresh(option)
        _refuse_closed(option, quote, now)
        raise Conflict(f"This option changed while you were booking it. Open quote {quote.reference} again. "
                       f"{NOTHING_BOOKED}")
    shipment = _book(db, principal, option, quote, data, now)
    if key:
        db.add(IdempotencyKey(key=key, user_id=principal.user_id, operation=ACCEPT_OPERATION,
                              result_ref=shipment.reference, created_at=now))
    funnel.record(db, principal, PortalEventKind.BOOKING_SUBMITTED, funnel.booking_detail(option.id))
    db.commit()
    return BookingResult(
        shipment_reference=shipment.reference, status=shipment.status, quote_reference=quote.reference,
        option_id=option.id, created=True,
        message=f"Booking {shipment.reference} is requested. Our team confirms it with the carrier and you will be "
                "notified.",
    )


def _book(db: Session, principal: Principal, option: QuoteOption, quote: QuoteRequest, data: BookingInput,
          now: datetime) -> Shipment:
    lines = list(db.exec(select(QuoteCargoLine).where(QuoteCargoLine.quote_request_id == quote.id)
                         .order_by(col(QuoteCargoLine.id))).all())
    cargo = cargo_of(quote, lines)
    po = _text(data.customer_reference, 40) or quote.customer_reference
    # Only a submitted request (its lane complete) has options to book.
    assert quote.mode is not None and quote.origin_id is not None and quote.destination_id is not None
    shipment = Shipment(
        reference=f"TMP-{uuid.uuid4().hex[:16]}", company_id=quote.company_id, quote_option_id=option.id,
        mode=quote.mode, status=ShipmentStatus.BOOKED.value, incoterm=quote.incoterm,
        shipper_name=_text(data.shipper_name, 200), shipper_address=_text(data.shipper_address, 400),
        consignee_name=_text(data.consignee_name, 200), consignee_address=_text(data.consignee_address, 400),
        notify_party=_text(data.notify_party, 200), origin_id=quote.origin_id, destination_id=quote.destination_id,
        carrier_id=option.carrier_id, customer_po=po, cargo_description=_text(data.cargo_description, 400),
        packages=cargo.packages or cargo.container_total or None,
        gross_weight_kg=cargo.gross_kg.quantize(rating.KG_QUANTUM),
        volume_cbm=cargo.volume_m3.quantize(rating.KG_QUANTUM) if cargo.volume_m3 else None,
        chargeable_weight_kg=rating.chargeable_kg(quote.mode, cargo) if quote.mode in (Mode.AIR, Mode.ROAD_LTL)
        else None,
        is_dangerous_goods=any(ln.is_dangerous_goods for ln in lines), cargo_value=quote.cargo_value,
        cargo_currency=quote.cargo_currency, ready_date=quote.ready_date, created_by_id=principal.user_id,
        created_at=now, updated_at=now,
    )
    db.add(shipment)
    db.flush()
    assert shipment.id is not None  # flushed: the row has its key
    shipment.reference = shipment_reference(shipment.id)
    _milestones(db, shipment, option.transit_days, quote.ready_date or now.date(), now)
    db.add(shipment)
    for ln in lines:
        description = ln.description or shipment.cargo_description or "Cargo"
        if ln.container_size_type:
            description = f"{description} ({ln.container_count} x {container_words(ln.container_size_type)})"
        db.add(CargoLine(
            shipment_id=shipment.id, description=description[:200],
            packages=ln.packages or ln.container_count or 1, package_type="CN" if ln.container_size_type else "PK",
            length_cm=ln.length_cm, width_cm=ln.width_cm, height_cm=ln.height_cm, weight_kg=ln.weight_kg,
            un_number=ln.un_number if ln.is_dangerous_goods else None,
            dg_class=ln.dg_class if ln.is_dangerous_goods else None,
        ))
    for c in db.exec(select(QuoteOptionCharge).where(QuoteOptionCharge.quote_option_id == option.id)
                     .order_by(col(QuoteOptionCharge.id))).all():
        db.add(ShipmentCharge(shipment_id=shipment.id, code=c.code, description=c.description, quantity=c.quantity,
                              unit_price=c.unit_price, amount=c.amount, currency=option.currency))
    refs = [(ReferenceKind.SHIPMENT, shipment.reference)]
    if po:
        refs.append((ReferenceKind.CUSTOMER_PO, po))
    for kind, value in refs:
        db.add_all(reference_rows(shipment.id, shipment.company_id, kind.value, value))
    db.add(ShipmentFollower(shipment_id=shipment.id, user_id=principal.user_id, created_at=now))
    db.exec(
        sa.update(QuoteOption)
        .where(col(QuoteOption.quote_request_id) == quote.id, col(QuoteOption.id) != option.id,
               col(QuoteOption.status) == "offered")
        .values(status="declined", version=QuoteOption.version + 1)
        .execution_options(synchronize_session=False)
    )
    db.exec(
        sa.update(QuoteRequest).where(col(QuoteRequest.id) == quote.id)
        .values(status=QuoteStatus.ACCEPTED.value, updated_at=now, version=QuoteRequest.version + 1)
        .execution_options(synchronize_session=False)
    )
    _update(db, shipment, principal.user_id,
            f"Booking requested from quote {quote.reference} ({rating.format_money(option.currency, option.total)}, "
            f"{option.transit_days} days transit). Awaiting confirmation by our team.")
    _audit(db, principal, "booking_requested", "shipment", shipment.reference, shipment.company_id, None,
           {"quote": quote.reference, "option": option.id, "total": str(option.total), "currency": option.currency,
            "status": shipment.status})
    return shipment
