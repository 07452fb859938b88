"""Milestones: planned, estimated and actual times and the location of one step, with the shipment's
dates and status that mirror its departure, arrival and delivery steps."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from models import (
    Location,
    Milestone,
    Shipment,
)
from models.enums import MilestoneSource, ShipmentStatus
from portal_app.auth.principal import Principal
from portal_app.services import display, notifications, webhooks
from portal_app.services.errors import NotFound, ValidationFailed
from portal_app.services.workspace import timeline
from portal_app.services.workspace.common import (
    ARRIVAL_STEPS,
    DELIVERY_STEPS,
    DEPARTURE_STEPS,
    NOTHING_SAVED,
    EditResult,
    Planned,
    _aware,
    _edit,
    delay_minutes,
    load_shipment,
)

FUTURE_SLACK = timedelta(minutes=10)  # clocks differ a little; an actual time further ahead is a mistake
MILESTONE_FIELDS = ("planned_at", "estimated_at", "actual_at", "location")


def _location_id(db: Session, code: object) -> int | None:
    if code is None or str(code).strip() == "":
        return None
    value = str(code).strip().upper()
    found = db.exec(select(Location.id).where(Location.code == value)).first()
    if found is None:
        raise ValidationFailed(f"Location {value!r} is not known. Use a UN/LOCODE (e.g. NLRTM) or an IATA airport "
                               f"code (e.g. FRA). {NOTHING_SAVED}")
    return int(found)


def _check_actual_order(steps: list[Milestone], step: Milestone, actual: datetime) -> None:
    for other in steps:
        if other.actual_at is None or other.id == step.id:
            continue
        if other.sequence < step.sequence and other.actual_at > actual:
            raise ValidationFailed(
                f"{step.name} cannot have happened before {other.name} ({display.utc(other.actual_at)}). "
                f"Check the time, or correct {other.name} first. {NOTHING_SAVED}")
        if other.sequence > step.sequence and other.actual_at < actual:
            raise ValidationFailed(
                f"{step.name} cannot have happened after {other.name} ({display.utc(other.actual_at)}). "
                f"Check the time, or correct {other.name} first. {NOTHING_SAVED}")


def status_after(status: str, code: str, actual: datetime | None) -> str:
    """The shipment's status once a departure, arrival or delivery step gets (or loses) its actual time."""
    if actual is not None:
        if code in DEPARTURE_STEPS and status in (ShipmentStatus.BOOKED, ShipmentStatus.CONFIRMED):
            return ShipmentStatus.IN_TRANSIT.value
        if code in ARRIVAL_STEPS and status in (ShipmentStatus.BOOKED, ShipmentStatus.CONFIRMED,
                                                ShipmentStatus.IN_TRANSIT):
            return ShipmentStatus.ARRIVED.value
        if code in DELIVERY_STEPS and status in (ShipmentStatus.BOOKED, ShipmentStatus.CONFIRMED,
                                                 ShipmentStatus.IN_TRANSIT, ShipmentStatus.ARRIVED):
            return ShipmentStatus.DELIVERED.value
    else:
        if code in DEPARTURE_STEPS and status == ShipmentStatus.IN_TRANSIT:
            return ShipmentStatus.CONFIRMED.value
        if code in ARRIVAL_STEPS and status == ShipmentStatus.ARRIVED:
            return ShipmentStatus.IN_TRANSIT.value
        if code in DELIVERY_STEPS and status == ShipmentStatus.DELIVERED:
            return ShipmentStatus.ARRIVED.value
    return status


def _shipment_columns(shipment: Shipment, code: str, times: dict[str, datetime | None]) -> dict[str, object]:
    """The shipment's own dates mirror its departure, arrival and delivery steps (one narrative, no second copy)."""
    columns: dict[str, str] = {}
    if code in DEPARTURE_STEPS:
        columns = {"planned_at": "etd_planned", "estimated_at": "etd_estimated", "actual_at": "atd"}
    elif code in ARRIVAL_STEPS:
        columns = {"planned_at": "eta_planned", "actual_at": "ata"}
    elif code in DELIVERY_STEPS:
        columns = {"actual_at": "delivered_at"}
    dates = {columns[k]: v for k, v in times.items() if k in columns}
    values: dict[str, object] = dict(dates)
    if code in ARRIVAL_STEPS:
        planned = dates.get("eta_planned", shipment.eta_planned)
        latest = dates.get("ata", shipment.ata) or shipment.eta_estimated
        values["delay_minutes"] = delay_minutes(planned, latest)
    if "actual_at" in times:
        status = status_after(shipment.status, code, times["actual_at"])
        if status != shipment.status:
            values["status"] = status
    return values


def _plan_estimate(steps: list[Milestone], step: Milestone, new: datetime | None) -> list[timeline.Moved]:
    """A step's new estimate: checked against the steps around it, and the steps after it moved with it (up to
    arrival, whose estimate is the ETA); see services/workspace/timeline.py."""
    if new is None:
        return []
    timeline.check_not_before_earlier(steps, step, new)
    arrival = next((m for m in steps if m.code in ARRIVAL_STEPS and m.sequence > step.sequence), None)
    timeline.check_not_after(step, new, arrival)
    return timeline.plan_following(steps, step, new, stop_at=ARRIVAL_STEPS)


def shipment_steps(db: Session, shipment: Shipment) -> list[Milestone]:
    """The shipment's milestones in their order."""
    return list(db.exec(select(Milestone).where(Milestone.shipment_id == shipment.id)
                        .order_by(col(Milestone.sequence))).all())


def plan_milestone(db: Session, shipment: Shipment, now: datetime, code: str, changes: Mapping[str, object],
                    *, source: str = MilestoneSource.OPS.value, steps: list[Milestone] | None = None) -> Planned:
    """``steps``: the shipment's milestones in order when the caller read them already (a batch reads them once for
    all its shipments), else read here."""
    unknown = [k for k in changes if k not in MILESTONE_FIELDS]
    if unknown or not changes:
        raise ValidationFailed(f"Change one or more of: {', '.join(MILESTONE_FIELDS)}. {NOTHING_SAVED}")
    steps = steps if steps is not None else shipment_steps(db, shipment)
    step = next((m for m in steps if m.code == code), None)
    if step is None:
        names = ", ".join(m.code for m in steps) or "none"
        raise NotFound(f"Shipment {shipment.reference} has no milestone {code!r} (it has: {names}). {NOTHING_SAVED}")
    times = {k: _aware(k.replace("_", " ").capitalize(), v) for k, v in changes.items() if k != "location"}
    if "estimated_at" in times and code in ARRIVAL_STEPS:
        raise ValidationFailed("The arrival estimate is the shipment's ETA: change it with an ETA change and a "
                               f"reason, so the customer sees why. {NOTHING_SAVED}")
    actual = times.get("actual_at")
    if actual is not None:
        if actual > now + FUTURE_SLACK:
            raise ValidationFailed(f"{step.name}: an actual time cannot be in the future ({actual:%Y-%m-%d %H:%M} "
                                   f"UTC). Enter it as the estimate instead. {NOTHING_SAVED}")
        _check_actual_order(steps, step, actual)
    for value in times.values():
        if value is not None and abs(value - now) > timedelta(days=730):
            raise ValidationFailed(f"{step.name}: {value:%Y-%m-%d} is more than two years away. Check the year. "
                                   f"{NOTHING_SAVED}")
    moves = _plan_estimate(steps, step, times.get("estimated_at")) if "estimated_at" in times else []
    before = {f"{code}.{k}": getattr(step, k) for k in times}
    after: dict[str, object] = {f"{code}.{k}": v for k, v in times.items()}
    for move in moves:
        before[f"{move.code}.estimated_at"], after[f"{move.code}.estimated_at"] = move.before, move.after
    if "location" in changes:
        location_id = _location_id(db, changes["location"])
        old_location = db.get(Location, step.location_id) if step.location_id else None
        old = old_location.code if old_location else None
        before[f"{code}.location"] = old
        after[f"{code}.location"] = (str(changes["location"]).strip().upper() or None) if location_id else None
        step.location_id = location_id
    reached = times.get("actual_at") is not None and step.actual_at is None
    for name, value in times.items():
        setattr(step, name, value)
    if "actual_at" in times:
        step.source = source if actual is not None else step.source
    step.updated_at = now
    step.version += 1
    db.add(step)
    values = _shipment_columns(shipment, code, times)
    for moved in timeline.apply_moves(steps, moves, now):
        db.add(moved)
        if moved.code in DEPARTURE_STEPS:  # the shipment's ETD mirrors its departure step
            values["etd_estimated"] = moved.estimated_at
    if "status" in values:
        before["status"], after["status"] = shipment.status, values["status"]
    return Planned("milestone_updated", values, before, after, result=step.name,
                   after_lock=(lambda: _notify_milestone(db, shipment, step, now)) if reached else None)


def edit_milestone(db: Session, principal: Principal, reference: str, code: str, changes: Mapping[str, object], *,
                   expected_version: int) -> EditResult:
    """Change a milestone's planned, estimated or actual time or its location (only the keys given; None clears).

    The departure, arrival and delivery steps also set the shipment's ETD/ATD, planned ETA/ATA, delivery and
    status, so the customer's list and the timeline tell the same story.
    """
    your_input = {"milestone": code, **changes}
    done = _edit(db, principal, reference, expected_version, your_input,
                 lambda s, now: plan_milestone(db, s, now, code, changes))
    shipment = load_shipment(db, principal, reference)
    return EditResult(shipment.reference, shipment.version, f"{done.result} saved.")



def _notify_milestone(db: Session, shipment: Shipment, step: Milestone, now: datetime) -> None:
    """Followers hear that a step happened (an actual time recorded for the first time)."""
    place = db.get(Location, step.location_id) if step.location_id else None
    where = f" at {place.code}" if place else ""
    when = display.at_place(step.actual_at, place.timezone if place else None, display.Reader())  # the place's zone
    notifications.notify(db, "milestone_reached", [], f"{shipment.reference}: {step.name}",
                         f"{step.name}{where} on {when}.",
                         f"/portal/shipments/{shipment.reference}", f"milestone:{step.id}:{step.actual_at:%Y%m%d%H%M}",
                         shipment_id=shipment.id, company_id=shipment.company_id, at=now)
    webhooks.record(db, "milestone_reached", company_id=shipment.company_id, record_id=step.id,
                    internal=not step.customer_visible, at=now)
