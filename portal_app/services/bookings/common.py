"""What accepting, deciding and changing a booking share: references, audit, updates, notices, milestones."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, select

from models import (
    AuditLog,
    Milestone,
    MilestoneTemplate,
    MilestoneTemplateStep,
    Shipment,
    ShipmentUpdate,
)
from models.enums import (
    MilestoneSource,
    Visibility,
)
from portal_app.auth.principal import Principal
from portal_app.services import clock, notifications
from portal_app.services.bookings.shapes import BookingInput, BookingResult


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
    assert shipment.id is not None  # a stored row
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


def template_steps(db: Session, mode: str) -> list[MilestoneTemplateStep]:
    """The steps of the mode's active milestone template, in order (none without a template)."""
    template = db.exec(
        select(MilestoneTemplate)
        .where(MilestoneTemplate.mode == mode, col(MilestoneTemplate.is_active).is_(True))
        .order_by(col(MilestoneTemplate.version).desc(), col(MilestoneTemplate.id).desc())
        .limit(1)
    ).first()
    if template is None:
        return []
    return list(db.exec(select(MilestoneTemplateStep).where(MilestoneTemplateStep.template_id == template.id)
                        .order_by(col(MilestoneTemplateStep.sequence))).all())


def planned_departure(db: Session, mode: str, ready: date) -> date:
    """The day a booking made now would plan its departure: the ready date plus the template's departure step
    (the last origin step), never before today, as :func:`_milestones` plans it."""
    origin_steps = [s for s in template_steps(db, mode) if s.anchor == "origin"]
    return max(ready + timedelta(days=origin_steps[-1].offset_days if origin_steps else 0), clock.today())


def _milestones(db: Session, shipment: Shipment, transit_days: int, ready: date, now: datetime) -> None:
    """Planned milestones from the mode's active template: origin steps count from the ready date, destination
    steps from the planned arrival (ready date + departure offset + transit days). Sets ETD and ETA planned."""
    steps = template_steps(db, shipment.mode)
    if not steps:
        return
    assert shipment.id is not None  # a stored row
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
