"""From an accepted quote option to a booking, exactly once; ops confirming or rejecting it; the customer asking
to amend or cancel it, and ops deciding.

Exactly once: accepting first moves the option from ``offered`` to ``accepted`` with one conditional UPDATE
(``WHERE status = 'offered' AND valid_until >= now``). Only one transaction can make that change; every other
attempt (double click, retry, second tab, an API call repeated with the same ``Idempotency-Key``) finds the
option accepted and gets the booking the first one made. ``Shipment.quote_option_id`` is unique as well, and the
key is stored in ``IdempotencyKey`` (unique per user, operation and key) in the same transaction as the booking.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from models import (
    AuditLog,
    CargoLine,
    Carrier,
    ChangeRequest,
    Company,
    IdempotencyKey,
    Location,
    Milestone,
    MilestoneTemplate,
    MilestoneTemplateStep,
    OpsException,
    QuoteCargoLine,
    QuoteOption,
    QuoteOptionCharge,
    QuoteRequest,
    Shipment,
    ShipmentCharge,
    ShipmentFollower,
    ShipmentReference,
    ShipmentUpdate,
    User,
)
from models.enums import (
    ChangeRequestKind,
    ChangeRequestStatus,
    ExceptionKind,
    MilestoneSource,
    Mode,
    PortalEventKind,
    QuoteStatus,
    ReferenceKind,
    ShipmentStatus,
    Visibility,
)
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import clock, exception_rules, funnel, isodates, notifications, rating
from portal_app.services.errors import Conflict, ErrorCode, FormInvalid, NotFound, ServiceError, ValidationFailed
from portal_app.services.paging import Page, check_paging
from portal_app.services.quotes import cargo_of
from portal_app.services.references import normalize_reference
from portal_app.services.shipments import shipment_record
from portal_app.services.sla import DEFAULT_EXCEPTION_HOURS
from portal_app.services.sla import due_at as sla_due_at

ACCEPT_OPERATION = "accept_option"
MAX_KEY_LENGTH = 100
REASON_MIN = 5
MAX_PAGE_SIZE = 100
NOTHING_BOOKED = "Nothing was booked."
# A shipment can still be amended or cancelled until it has left.
CHANGEABLE_STATUSES = (ShipmentStatus.BOOKED.value, ShipmentStatus.CONFIRMED.value)
AMENDABLE_FIELDS: dict[str, str] = {
    "ready_date": "Ready date",
    "shipper_name": "Shipper",
    "shipper_address": "Shipper address",
    "consignee_name": "Consignee",
    "consignee_address": "Consignee address",
    "notify_party": "Notify party",
    "customer_po": "Your reference (PO)",
    "cargo_description": "Cargo description",
    "packages": "Packages",
    "gross_weight_kg": "Gross weight (kg)",
    "volume_cbm": "Volume (m3)",
}
_LIMITS = {"shipper_name": 200, "shipper_address": 400, "consignee_name": 200, "consignee_address": 400,
           "notify_party": 200, "customer_po": 40, "cargo_description": 400}


# ---------------------------------------------------------------------------------------------------- DTOs


@dataclass(frozen=True)
class BookingInput:
    """What the customer confirms when turning an option into a booking."""

    shipper_name: str
    consignee_name: str
    cargo_description: str
    cargo_confirmed: bool  # "the cargo is as quoted"
    shipper_address: str | None = None
    consignee_address: str | None = None
    notify_party: str | None = None
    customer_reference: str | None = None  # PO or the customer's own reference


@dataclass(frozen=True)
class BookingResult:
    shipment_reference: str
    status: str
    quote_reference: str
    option_id: int
    created: bool  # False when this call returned the booking an earlier call made
    message: str


@dataclass(frozen=True)
class BookingRow:
    shipment_reference: str
    quote_reference: str | None
    company_name: str
    mode: str
    origin: str
    destination: str
    carrier: str | None
    ready_date: date | None
    etd: datetime | None
    status: str
    total_text: str | None
    booked_by: str | None
    created_at: datetime


@dataclass(frozen=True)
class ChangeRequestView:
    id: int
    shipment_reference: str
    company_name: str
    kind: str  # amend | cancel
    status: str  # pending | approved | rejected
    changes: dict[str, str] = field(default_factory=dict)  # field -> requested value
    current: dict[str, str] = field(default_factory=dict)  # field -> value when requested
    reason: str | None = None
    decision_reason: str | None = None
    requested_by: str | None = None
    decided_by: str | None = None
    created_at: datetime | None = None
    decided_at: datetime | None = None
    version: int = 1


# ---------------------------------------------------------------------------------------------------- helpers


def shipment_reference(shipment_id: int) -> str:
    return f"SH{shipment_id:07d}"


def _text(value: object, limit: int) -> str | None:
    text = " ".join(str(value or "").split())
    return text[:limit] or None


def _audit(db: Session, principal: Principal, action: str, entity_type: str, entity_id: str, company_id: int,
           before: dict | None, after: dict | None) -> None:
    db.add(AuditLog(
        actor_id=principal.user_id, company_id=company_id, action=action, entity_type=entity_type,
        entity_id=entity_id, before=json.dumps(before, default=str) if before is not None else None,
        after=json.dumps(after, default=str) if after is not None else None,
    ))


def _update(db: Session, shipment: Shipment, author_id: int | None, body: str) -> None:
    db.add(ShipmentUpdate(shipment_id=shipment.id, company_id=shipment.company_id,
                          visibility=Visibility.CUSTOMER.value, body=body, author_id=author_id,
                          created_at=clock.now()))


def _notify(db: Session, user_id: int | None, kind: str, title: str, body: str, link: str, dedup: str) -> None:
    notifications.notify(db, kind, [user_id], title, body, link, dedup)


def _existing_booking(db: Session, option_id: int) -> Shipment | None:
    return db.exec(select(Shipment).where(Shipment.quote_option_id == option_id)).first()


def _replayed(shipment: Shipment, quote_ref: str, option_id: int) -> BookingResult:
    return BookingResult(
        shipment_reference=shipment.reference, status=shipment.status, quote_reference=quote_ref,
        option_id=option_id, created=False,
        message=f"This option is already booked as {shipment.reference}; no second booking was made.",
    )


def _check_booking(data: BookingInput) -> dict[str, str]:
    p: dict[str, str] = {}
    if not _text(data.shipper_name, 200):
        p["shipper_name"] = "Enter the shipper: the company that hands the cargo over."
    if not _text(data.consignee_name, 200):
        p["consignee_name"] = "Enter the consignee: the company that receives the cargo."
    if not _text(data.cargo_description, 400) or len(_text(data.cargo_description, 400) or "") < 3:
        p["cargo_description"] = "Describe the cargo in a few words, e.g. 'furniture, flat-packed'."
    if not data.cargo_confirmed:
        p["cargo_confirmed"] = ("Confirm that the cargo is as quoted (type, number, weight). If it changed, request "
                                "a new quote instead.")
    for key, limit in (("shipper_address", 400), ("consignee_address", 400), ("notify_party", 200),
                       ("customer_reference", 40)):
        value = getattr(data, key)
        if value and len(str(value).strip()) > limit:
            p[key] = f"At most {limit} characters."
    return p


def _milestones(db: Session, shipment: Shipment, transit_days: int, ready: date, now: datetime) -> None:
    """Planned milestones from the mode's active template: origin steps count from the ready date, destination
    steps from the planned arrival (ready date + departure offset + transit days). Sets ETD and ETA planned."""
    template = db.exec(
        select(MilestoneTemplate)
        .where(MilestoneTemplate.mode == shipment.mode, MilestoneTemplate.is_active.is_(True))
        .order_by(MilestoneTemplate.version.desc(), MilestoneTemplate.id.desc())
        .limit(1)
    ).first()
    if template is None:
        return
    steps = db.exec(select(MilestoneTemplateStep).where(MilestoneTemplateStep.template_id == template.id)
                    .order_by(MilestoneTemplateStep.sequence)).all()
    origin_steps = [s for s in steps if s.anchor == "origin"]
    dest_steps = [s for s in steps if s.anchor != "origin"]
    departure = origin_steps[-1] if origin_steps else None
    arrival = dest_steps[0] if dest_steps else None
    ready_noon = datetime.combine(ready, time(12, 0), tzinfo=UTC)
    arrival_day = ready_noon + timedelta(days=(departure.offset_days if departure else 0) + max(0, transit_days))
    previous = now
    for n, step in enumerate(steps, start=1):
        base = ready_noon if step.anchor == "origin" else arrival_day
        planned = max(base + timedelta(days=step.offset_days), previous)
        previous = planned
        db.add(Milestone(
            shipment_id=shipment.id, sequence=n, code=step.code, name=step.name, event_code=step.event_code,
            location_id=shipment.origin_id if step.anchor == "origin" else shipment.destination_id,
            planned_at=planned, source=MilestoneSource.PLAN.value, customer_visible=step.customer_visible,
            updated_at=now,
        ))
        if step is departure:
            shipment.etd_planned = planned
        if step is arrival:
            shipment.eta_planned = planned


# ---------------------------------------------------------------------------------------------------- accept


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
        .join(QuoteRequest, QuoteRequest.id == QuoteOption.quote_request_id)
        .where(QuoteOption.id == int(option_id), company_filter(QuoteRequest.company_id, principal))
    ).first()
    if found is None:
        raise NotFound(f"No quote option {option_id} was found in your account. Open the quote and pick an option.")
    option, quote = found
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
    now = clock.now()
    _refuse_closed(option, quote, now)
    problems = _check_booking(data)
    if problems:
        first = next(iter(problems.values()))
        raise FormInvalid(f"{first} {NOTHING_BOOKED}", problems)
    # The one write that decides who books: only one transaction can move the option out of 'offered'.
    won = db.exec(
        sa.update(QuoteOption)
        .where(QuoteOption.id == option.id, QuoteOption.status == "offered", QuoteOption.valid_until >= now)
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
                         .order_by(QuoteCargoLine.id)).all())
    cargo = cargo_of(quote, lines)
    po = _text(data.customer_reference, 40) or quote.customer_reference
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
    shipment.reference = shipment_reference(shipment.id)
    _milestones(db, shipment, option.transit_days, quote.ready_date or now.date(), now)
    db.add(shipment)
    for ln in lines:
        description = ln.description or shipment.cargo_description or "Cargo"
        if ln.container_size_type:
            description = f"{description} ({ln.container_count} x {ln.container_size_type})"
        db.add(CargoLine(
            shipment_id=shipment.id, description=description[:200],
            packages=ln.packages or ln.container_count or 1, package_type="CN" if ln.container_size_type else "PK",
            length_cm=ln.length_cm, width_cm=ln.width_cm, height_cm=ln.height_cm, weight_kg=ln.weight_kg,
            un_number=ln.un_number if ln.is_dangerous_goods else None,
            dg_class=ln.dg_class if ln.is_dangerous_goods else None,
        ))
    for c in db.exec(select(QuoteOptionCharge).where(QuoteOptionCharge.quote_option_id == option.id)
                     .order_by(QuoteOptionCharge.id)).all():
        db.add(ShipmentCharge(shipment_id=shipment.id, code=c.code, description=c.description, quantity=c.quantity,
                              unit_price=c.unit_price, amount=c.amount, currency=option.currency))
    refs = [(ReferenceKind.SHIPMENT, shipment.reference)]
    if po:
        refs.append((ReferenceKind.CUSTOMER_PO, po))
    for kind, value in refs:
        if normalize_reference(value):
            db.add(ShipmentReference(shipment_id=shipment.id, company_id=shipment.company_id, kind=kind.value,
                                     value=normalize_reference(value), display_value=value[:40]))
    db.add(ShipmentFollower(shipment_id=shipment.id, user_id=principal.user_id, created_at=now))
    db.exec(
        sa.update(QuoteOption)
        .where(QuoteOption.quote_request_id == quote.id, QuoteOption.id != option.id, QuoteOption.status == "offered")
        .values(status="declined", version=QuoteOption.version + 1)
        .execution_options(synchronize_session=False)
    )
    db.exec(
        sa.update(QuoteRequest).where(QuoteRequest.id == quote.id)
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


# ---------------------------------------------------------------------------------------------------- ops decisions


def _shipment(db: Session, principal: Principal, reference: str) -> Shipment:
    return shipment_record(db, principal, reference)


def _bump(db: Session, shipment: Shipment, expected_version: int | None, now: datetime, **values: object) -> None:
    """Apply ``values`` only if nobody changed the shipment meanwhile (optimistic lock on ``version``)."""
    version = shipment.version if expected_version is None else expected_version
    changed = db.exec(
        sa.update(Shipment).where(Shipment.id == shipment.id, Shipment.version == version)
        .values(**values, updated_at=now, version=Shipment.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.rollback()
        raise Conflict(f"Shipment {shipment.reference} was changed by someone else a moment ago. Reload it and decide "
                       "again. Nothing was saved.")
    db.refresh(shipment)


def pending_bookings(db: Session, principal: Principal, *, page: int = 1, page_size: int = 25) -> Page:
    """Bookings waiting for ops' confirmation, oldest first."""
    principal.require(Permission.MANAGE_BOOKINGS)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    clauses = [Shipment.status == ShipmentStatus.BOOKED.value, company_filter(Shipment.company_id, principal)]
    total = db.exec(select(sa.func.count()).select_from(Shipment).where(*clauses)).one()
    origin = aliased(Location)
    dest = aliased(Location)
    rows = db.exec(
        select(Shipment, QuoteRequest.reference, QuoteOption.total, QuoteOption.currency, Company.name,
               origin.code, dest.code, Carrier.name, User.full_name)
        .join(Company, Company.id == Shipment.company_id)
        .join(origin, origin.id == Shipment.origin_id)
        .join(dest, dest.id == Shipment.destination_id)
        .outerjoin(Carrier, Carrier.id == Shipment.carrier_id)
        .outerjoin(QuoteOption, QuoteOption.id == Shipment.quote_option_id)
        .outerjoin(QuoteRequest, QuoteRequest.id == QuoteOption.quote_request_id)
        .outerjoin(User, User.id == Shipment.created_by_id)
        .where(*clauses)
        .order_by(Shipment.created_at.asc(), Shipment.id)
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
    if booking_no and normalize_reference(booking_no):
        db.add(ShipmentReference(shipment_id=shipment.id, company_id=shipment.company_id,
                                 kind=ReferenceKind.BOOKING.value, value=normalize_reference(booking_no),
                                 display_value=booking_no))
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


# ---------------------------------------------------------------------------------------------------- changes


def _current(shipment: Shipment) -> dict[str, str]:
    out = {}
    for key in AMENDABLE_FIELDS:
        value = getattr(shipment, key)
        out[key] = "" if value is None else (value.isoformat() if isinstance(value, date) else str(value))
    return out


def _parse_changes(changes: dict[str, object], today: date) -> tuple[dict[str, str], dict[str, str]]:
    """Normalise requested changes to strings; returns (changes, problems)."""
    clean: dict[str, str] = {}
    p: dict[str, str] = {}
    for key, raw in changes.items():
        if key not in AMENDABLE_FIELDS:
            p[key] = f"{key!r} cannot be changed here. Changeable: {', '.join(AMENDABLE_FIELDS.values())}."
            continue
        label = AMENDABLE_FIELDS[key]
        text = " ".join(str(raw if raw is not None else "").split())
        if key == "ready_date":
            try:
                value = isodates.parse_date(text)
            except ValueError as exc:
                p[key] = f"{exc}."
                continue
            if value < today:
                p[key] = f"The new ready date must be today ({today.isoformat()}) or later."
                continue
            clean[key] = value.isoformat()
        elif key == "packages":
            if not text.isdigit() or not 1 <= int(text) <= 100000:
                p[key] = f"{label}: enter a whole number of at least 1."
                continue
            clean[key] = str(int(text))
        elif key in ("gross_weight_kg", "volume_cbm"):
            try:
                value_d = Decimal(text)
            except InvalidOperation:
                p[key] = f"{label}: {text[:20]!r} is not a number."
                continue
            if not Decimal(0) < value_d < Decimal("1e9"):
                p[key] = f"{label} must be more than 0."
                continue
            clean[key] = str(value_d.quantize(rating.KG_QUANTUM))
        else:
            if key in ("shipper_name", "consignee_name", "cargo_description") and not text:
                p[key] = f"{label} cannot be empty."
                continue
            if len(text) > _LIMITS[key]:
                p[key] = f"{label}: at most {_LIMITS[key]} characters."
                continue
            clean[key] = text
    return clean, p


def _cr_view(cr: ChangeRequest, shipment_ref: str, company: str, requester: str | None,
             decider: str | None) -> ChangeRequestView:
    try:
        payload = json.loads(cr.changes or "{}")
    except ValueError:
        payload = {}
    return ChangeRequestView(
        id=cr.id, shipment_reference=shipment_ref, company_name=company, kind=cr.kind, status=cr.status,
        changes=dict(payload.get("to", payload if "to" not in payload and "from" not in payload else {})),
        current=dict(payload.get("from", {})), reason=cr.reason, decision_reason=cr.decision_reason,
        requested_by=requester, decided_by=decider, created_at=cr.created_at, decided_at=cr.decided_at,
        version=cr.version,
    )


def _open_change_exception(db: Session, shipment: Shipment, cr: ChangeRequest, now: datetime) -> None:
    kind = ExceptionKind.CHANGE_REQUESTED.value
    cause = f"cr:{cr.id}"
    what = "cancel the booking" if cr.kind == ChangeRequestKind.CANCEL else "amend the booking"
    db.add(OpsException(
        shipment_id=shipment.id, company_id=shipment.company_id, kind=kind, cause_key=cause, severity="medium",
        status="open", title=f"Customer asks to {what} {shipment.reference}",
        detail=f"Change request #{cr.id} waits for a decision.", owner_id=shipment.owner_id,
        team_id=shipment.team_id,
        sla_due_at=sla_due_at(db, "exception", kind, "medium", now, default=DEFAULT_EXCEPTION_HOURS),
        created_by_rule=True, open_key=f"{shipment.id}|{kind}|{cause}", created_at=now, updated_at=now,
    ))


def request_change(
    db: Session, principal: Principal, reference: str, changes: dict[str, object], reason: str | None = None
) -> ChangeRequestView:
    """The customer asks to amend a booking (ready date, cargo, parties). Nothing changes until ops approves."""
    return _request(db, principal, reference, ChangeRequestKind.AMEND, changes, reason)


def request_cancellation(db: Session, principal: Principal, reference: str, reason: str) -> ChangeRequestView:
    """The customer asks to cancel a booking. It stays booked until ops approves."""
    return _request(db, principal, reference, ChangeRequestKind.CANCEL, {}, reason)


def _request(db: Session, principal: Principal, reference: str, kind: ChangeRequestKind,
             changes: dict[str, object], reason: str | None) -> ChangeRequestView:
    principal.require(Permission.BOOK)
    shipment = _shipment(db, principal, reference)
    if shipment.status not in CHANGEABLE_STATUSES:
        raise Conflict(f"Shipment {shipment.reference} is {shipment.status.replace('_', ' ')}; it can be changed or "
                       "cancelled only before it departs. Raise a request to talk to our team. Nothing was sent.")
    pending = db.exec(select(ChangeRequest.id).where(ChangeRequest.shipment_id == shipment.id,
                                                     ChangeRequest.status == ChangeRequestStatus.PENDING.value)).first()
    if pending is not None:
        raise Conflict(f"Change request #{pending} on {shipment.reference} is still waiting for our decision. Wait "
                       "for it, then ask again. Nothing was sent.")
    why = _text(reason, 400)
    if kind == ChangeRequestKind.CANCEL:
        if not why or len(why) < REASON_MIN:
            raise ValidationFailed("Tell us why you want to cancel (a few words). Nothing was sent.")
        clean: dict[str, str] = {}
    else:
        clean, problems = _parse_changes(changes or {}, clock.today())
        current = _current(shipment)
        clean = {k: v for k, v in clean.items() if current.get(k) != v}
        if problems:
            first = next(iter(problems.values()))
            raise FormInvalid(f"{first} Nothing was sent.", problems)
        if not clean:
            raise ValidationFailed("Change at least one value; what you sent matches the booking. Nothing was sent.")
    now = clock.now()
    current = _current(shipment)
    cr = ChangeRequest(
        shipment_id=shipment.id, company_id=shipment.company_id, kind=kind.value,
        status=ChangeRequestStatus.PENDING.value,
        changes=json.dumps({"to": clean, "from": {k: current[k] for k in clean}}), reason=why,
        requested_by_id=principal.user_id, created_at=now,
    )
    db.add(cr)
    db.flush()
    _open_change_exception(db, shipment, cr, now)
    what = ("cancellation" if kind == ChangeRequestKind.CANCEL
            else "change of " + ", ".join(AMENDABLE_FIELDS[k].lower() for k in clean))
    _update(db, shipment, principal.user_id, f"{what[0].upper()}{what[1:]} requested (#{cr.id}). The booking stays "
            "as it is until our team approves.")
    _audit(db, principal, f"{kind.value}_requested", "change_request", str(cr.id), shipment.company_id, None,
           {"shipment": shipment.reference, "changes": clean, "reason": why})
    db.commit()
    user = db.get(User, principal.user_id)
    return _cr_view(cr, shipment.reference, principal.company_name, user.full_name if user else None, None)


def _apply_change(shipment: Shipment, changes: dict[str, str]) -> dict[str, object]:
    values: dict[str, object] = {}
    for key, text in changes.items():
        if key == "ready_date":
            values[key] = date.fromisoformat(text)
        elif key == "packages":
            values[key] = int(text)
        elif key in ("gross_weight_kg", "volume_cbm"):
            values[key] = Decimal(text)
        else:
            values[key] = text
    if "ready_date" in values and shipment.ready_date:
        shift = timedelta(days=(values["ready_date"] - shipment.ready_date).days)
        for name in ("etd_planned", "eta_planned"):
            if getattr(shipment, name) is not None:
                values[name] = getattr(shipment, name) + shift
    return values


def decide_change(
    db: Session, principal: Principal, change_id: int, approve: bool, reason: str,
    *, expected_version: int | None = None,
) -> ChangeRequestView:
    """Ops approves (the shipment changes now) or rejects (nothing changes) a change request, with a reason the
    customer reads. Every step is in the audit log and the shipment's customer-visible updates."""
    principal.require(Permission.MANAGE_BOOKINGS)
    why = _text(reason, 400)
    if not why or len(why) < REASON_MIN:
        raise ValidationFailed("Write the reason the customer will read (a few words). Nothing was changed.")
    found = db.exec(select(ChangeRequest, Shipment)
                    .join(Shipment, Shipment.id == ChangeRequest.shipment_id)
                    .where(ChangeRequest.id == int(change_id), company_filter(ChangeRequest.company_id, principal))
                    ).first()
    if found is None:
        raise NotFound(f"No change request #{change_id} was found. Check the number and try again.")
    cr, shipment = found
    if cr.status != ChangeRequestStatus.PENDING:
        raise Conflict(f"Change request #{cr.id} was already {cr.status}. Nothing was changed.")
    if expected_version is not None and cr.version != expected_version:
        raise Conflict(f"Change request #{cr.id} changed since you opened it. Reload it. Nothing was changed.")
    now = clock.now()
    payload = json.loads(cr.changes or "{}")
    requested = payload.get("to", {})
    before = _current(shipment)
    if approve:
        if shipment.status not in CHANGEABLE_STATUSES:
            raise Conflict(f"Shipment {shipment.reference} is {shipment.status} now and can no longer be changed. "
                           "Reject the request with an explanation instead. Nothing was changed.")
        if cr.kind == ChangeRequestKind.CANCEL:
            values: dict[str, object] = {"status": ShipmentStatus.CANCELLED.value}
        else:
            values = _apply_change(shipment, requested)
        old_ready = shipment.ready_date
        _bump(db, shipment, None, now, **values)
        if "ready_date" in requested and old_ready:
            shift = timedelta(days=(shipment.ready_date - old_ready).days)
            for m in db.exec(select(Milestone).where(Milestone.shipment_id == shipment.id,
                                                     Milestone.actual_at.is_(None))).all():
                if m.planned_at is not None:
                    m.planned_at += shift
                    m.updated_at = now
                    m.version += 1
                    db.add(m)
        if requested.get("customer_po"):
            db.exec(sa.delete(ShipmentReference).where(ShipmentReference.shipment_id == shipment.id,
                                                       ShipmentReference.kind == ReferenceKind.CUSTOMER_PO.value))
            value = requested["customer_po"]
            db.add(ShipmentReference(shipment_id=shipment.id, company_id=shipment.company_id,
                                     kind=ReferenceKind.CUSTOMER_PO.value, value=normalize_reference(value),
                                     display_value=value[:40]))
    changed = db.exec(
        sa.update(ChangeRequest).where(ChangeRequest.id == cr.id, ChangeRequest.status == ChangeRequestStatus.PENDING)
        .values(status=(ChangeRequestStatus.APPROVED if approve else ChangeRequestStatus.REJECTED).value,
                decision_reason=why, decided_by_id=principal.user_id, decided_at=now,
                version=ChangeRequest.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.rollback()
        raise Conflict(f"Change request #{cr.id} was decided by someone else a moment ago. Nothing was changed.")
    db.exec(
        sa.update(OpsException)
        .where(OpsException.open_key == f"{shipment.id}|{ExceptionKind.CHANGE_REQUESTED.value}|cr:{cr.id}")
        .values(status="resolved", open_key=None, resolved_at=now, resolved_by_id=principal.user_id,
                resolution_note=f"{'Approved' if approve else 'Rejected'}: {why}", updated_at=now,
                version=OpsException.version + 1)
        .execution_options(synchronize_session=False)
    )
    what = "Cancellation" if cr.kind == ChangeRequestKind.CANCEL else "Change"
    verdict = "approved" if approve else "rejected"
    body = f"{what} request #{cr.id} {verdict}: {why}"
    _update(db, shipment, principal.user_id, body)
    _notify(db, cr.requested_by_id, f"change_{verdict}", f"{what} of {shipment.reference} {verdict}", body,
            f"/portal/shipments/{shipment.reference}", f"change_request:{cr.id}")
    _audit(db, principal, f"change_{verdict}", "change_request", str(cr.id), shipment.company_id,
           {"status": "pending", "shipment": before if approve else None},
           {"status": verdict, "reason": why, "shipment": _current(shipment) if approve else None,
            "shipment_status": shipment.status})
    db.commit()
    # New dates or a cancellation change which documents are due and whether the shipment is still active.
    exception_rules.evaluate_quietly(db, shipment.id, now)
    db.refresh(cr)
    company = db.get(Company, shipment.company_id)
    requester = db.get(User, cr.requested_by_id)
    return _cr_view(cr, shipment.reference, company.name if company else "", requester.full_name if requester else None,
                    principal.full_name)


def list_change_requests(
    db: Session, principal: Principal, *, shipment_reference: str | None = None, status: str | None = None,
    page: int = 1, page_size: int = 25,
) -> Page:
    """Change requests the principal may see, newest first (pending first for ops' queue use status=pending)."""
    principal.require(Permission.VIEW_SHIPMENTS)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    clauses: list[sa.ColumnElement[bool]] = [company_filter(ChangeRequest.company_id, principal)]
    if shipment_reference:
        clauses.append(ChangeRequest.shipment_id == _shipment(db, principal, shipment_reference).id)
    if status and status != "all":
        if status not in ChangeRequestStatus._value2member_map_:
            raise ValidationFailed(f"Unknown status {status!r}. Use pending, approved or rejected.")
        clauses.append(ChangeRequest.status == status)
    total = db.exec(select(sa.func.count()).select_from(ChangeRequest).where(*clauses)).one()
    requester = aliased(User)
    decider = aliased(User)
    rows = db.exec(
        select(ChangeRequest, Shipment.reference, Company.name, requester.full_name, decider.full_name)
        .join(Shipment, Shipment.id == ChangeRequest.shipment_id)
        .join(Company, Company.id == ChangeRequest.company_id)
        .outerjoin(requester, requester.id == ChangeRequest.requested_by_id)
        .outerjoin(decider, decider.id == ChangeRequest.decided_by_id)
        .where(*clauses)
        .order_by(ChangeRequest.created_at.desc(), ChangeRequest.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return Page(rows=[_cr_view(*r) for r in rows], total=int(total), page=page, page_size=page_size)
