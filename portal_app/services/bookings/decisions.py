"""Ops deciding on new bookings: the pending list, confirming, rejecting."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import (
    Carrier,
    Company,
    Location,
    Milestone,
    QuoteOption,
    QuoteRequest,
    Shipment,
    User,
)
from models.enums import (
    MilestoneSource,
    ReferenceKind,
    ShipmentStatus,
)
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import clock, rating, webhooks
from portal_app.services.bookings.common import _audit, _notify, _text, _update
from portal_app.services.bookings.shapes import MAX_PAGE_SIZE, REASON_MIN, BookingRow
from portal_app.services.errors import Conflict, ValidationFailed
from portal_app.services.paging import Page, check_paging
from portal_app.services.references import reference_rows
from portal_app.services.shipments import shipment_record


def _shipment(db: Session, principal: Principal, reference: str) -> Shipment:
    return shipment_record(db, principal, reference)


def _bump(db: Session, shipment: Shipment, expected_version: int | None, now: datetime, **values: object) -> None:
    """Apply ``values`` only if nobody changed the shipment meanwhile (optimistic lock on ``version``)."""
    version = shipment.version if expected_version is None else expected_version
    changed = db.exec(
        sa.update(Shipment).where(col(Shipment.id) == shipment.id, col(Shipment.version) == version)
        .values(**values, updated_at=now, version=Shipment.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.rollback()
        raise Conflict(f"Shipment {shipment.reference} was changed by someone else a moment ago. Reload it and decide "
                       "again. Nothing was saved.")
    db.refresh(shipment)


def pending_bookings(db: Session, principal: Principal, *, page: int = 1, page_size: int = 25) -> Page[BookingRow]:
    """Bookings waiting for ops' confirmation, oldest first."""
    principal.require(Permission.MANAGE_BOOKINGS)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    clauses = [col(Shipment.status) == ShipmentStatus.BOOKED.value,
               company_filter(col(Shipment.company_id), principal)]
    total = db.exec(select(sa.func.count()).select_from(Shipment).where(*clauses)).one()
    origin = aliased(Location)
    dest = aliased(Location)
    rows = db.execute(
        sa.select(Shipment, col(QuoteRequest.reference), col(QuoteOption.total), col(QuoteOption.currency),
                  col(Company.name), col(origin.code), col(dest.code), col(Carrier.name), col(User.full_name))
        .join(Company, col(Company.id) == col(Shipment.company_id))
        .join(origin, col(origin.id) == col(Shipment.origin_id))
        .join(dest, col(dest.id) == col(Shipment.destination_id))
        .outerjoin(Carrier, col(Carrier.id) == col(Shipment.carrier_id))
        .outerjoin(QuoteOption, col(QuoteOption.id) == col(Shipment.quote_option_id))
        .outerjoin(QuoteRequest, col(QuoteRequest.id) == col(QuoteOption.quote_request_id))
        .outerjoin(User, col(User.id) == col(Shipment.created_by_id))
        .where(*clauses)
        .order_by(col(Shipment.created_at).asc(), col(Shipment.id))
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    out = [
        BookingRow(
            shipment_reference=s.reference, quote_reference=qref, company_name=company, mode=s.mode, origin=o,
            destination=d, carrier=carrier, ready_date=s.ready_date, etd=s.etd_planned, status=s.status,
            total_text=rating.format_money(cur, total) if total is not None else None, booked_by=booker,
            created_at=s.created_at,
        )
        for s, qref, total, cur, company, o, d, carrier, booker in rows
    ]
    return Page(rows=out, total=int(total), page=page, page_size=page_size)


def confirm_booking(
    db: Session, principal: Principal, reference: str, *, carrier_booking_number: str | None = None,
    note: str | None = None, expected_version: int | None = None,
) -> str:
    """Ops confirms a requested booking (optionally with the carrier's booking number); the customer sees an
    update and gets a notification. Returns the new status."""
    principal.require(Permission.MANAGE_BOOKINGS)
    shipment = _shipment(db, principal, reference)
    if shipment.status != ShipmentStatus.BOOKED:
        raise Conflict(f"Shipment {shipment.reference} is {shipment.status}, not waiting for confirmation. "
                       "Nothing was changed.")
    now = clock.now()
    booking_no = _text(carrier_booking_number, 40)
    values: dict[str, object] = {"status": ShipmentStatus.CONFIRMED.value}
    if booking_no:
        values["booking_number"] = booking_no
    _bump(db, shipment, expected_version, now, **values)
    if booking_no:
        assert shipment.id is not None  # a stored row
        db.add_all(reference_rows(shipment.id, shipment.company_id, ReferenceKind.BOOKING.value, booking_no))
    step = db.exec(select(Milestone).where(Milestone.shipment_id == shipment.id,
                                           Milestone.code == "booking_confirmed")).first()
    if step is not None and step.actual_at is None:
        step.actual_at = now
        step.source = MilestoneSource.OPS.value
        step.updated_at = now
        step.version += 1
        db.add(step)
    text = f"Booking confirmed{f' (carrier booking {booking_no})' if booking_no else ''}."
    if _text(note, 400):
        text += f" {_text(note, 400)}"
    _update(db, shipment, principal.user_id, text)
    _notify(db, shipment.created_by_id, "booking_confirmed", f"Booking {shipment.reference} is confirmed", text,
            f"/portal/shipments/{shipment.reference}", f"booking_confirmed:{shipment.id}")
    webhooks.record(db, "booking_confirmed", company_id=shipment.company_id, record_id=shipment.id, at=now)
    _audit(db, principal, "booking_confirmed", "shipment", shipment.reference, shipment.company_id,
           {"status": ShipmentStatus.BOOKED.value}, {"status": shipment.status, "booking_number": booking_no})
    db.commit()
    return shipment.status


def reject_booking(
    db: Session, principal: Principal, reference: str, reason: str, *, expected_version: int | None = None
) -> str:
    """Ops cannot take a requested booking (no space, equipment, ...): it is cancelled with the reason, which the
    customer sees and is notified of. Returns the new status."""
    principal.require(Permission.MANAGE_BOOKINGS)
    text = _text(reason, 400)
    if not text or len(text) < REASON_MIN:
        raise ValidationFailed("Write the reason the customer will read (at least a few words). Nothing was changed.")
    shipment = _shipment(db, principal, reference)
    if shipment.status != ShipmentStatus.BOOKED:
        raise Conflict(f"Shipment {shipment.reference} is {shipment.status}, not waiting for confirmation. "
                       "Nothing was changed.")
    now = clock.now()
    _bump(db, shipment, expected_version, now, status=ShipmentStatus.CANCELLED.value)
    body = f"We could not confirm this booking: {text} Request a new quote or contact us to find another option."
    _update(db, shipment, principal.user_id, body)
    _notify(db, shipment.created_by_id, "booking_rejected", f"Booking {shipment.reference} could not be confirmed",
            body, f"/portal/shipments/{shipment.reference}", f"booking_rejected:{shipment.id}")
    _audit(db, principal, "booking_rejected", "shipment", shipment.reference, shipment.company_id,
           {"status": ShipmentStatus.BOOKED.value}, {"status": shipment.status, "reason": text})
    db.commit()
    return shipment.status
