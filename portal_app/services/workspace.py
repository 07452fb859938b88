"""The shipment workspace: what ops staff change on one shipment.

Milestones (planned, estimated, actual, location), ETA changes with a reason code (they reach the customer's
timeline, ETA history and followers' notifications), owner and team, internal notes versus customer-visible
updates, document review, and the record's audit trail.

Every edit of the shipment takes the ``expected_version`` the editor saw. The change is applied by one
conditional UPDATE on ``Shipment.version``; when someone saved in between, nothing is written and
:class:`EditConflict` (HTTP 409) says what changed since (from the audit log) and hands the caller's input back.

Edits are built in two steps so bulk actions (:mod:`portal_app.services.bulk`) reuse them inside a savepoint per
shipment: a ``plan_*`` function validates and adds the related rows, :func:`apply_plan` takes the lock and writes
the audit row. Public functions commit; bulk commits once for the batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    AuditLog,
    Branch,
    Document,
    EtaChange,
    Location,
    Milestone,
    Shipment,
    ShipmentUpdate,
    Team,
    User,
)
from models.enums import DocumentStatus, MilestoneSource, ShipmentStatus, Visibility
from portal_app.auth.permissions import STAFF_ROLES, Permission
from portal_app.auth.principal import Principal
from portal_app.services import audit, clock, exception_rules, notifications
from portal_app.services.documents import doc_type_name
from portal_app.services.errors import Conflict, ErrorCode, NotFound, ValidationFailed
from portal_app.services.paging import Page, check_paging
from portal_app.services.shipment_activity import REASON_LABELS
from portal_app.services.shipments import shipment_record

log = logging.getLogger(__name__)

NOTHING_SAVED = "Nothing was saved."
MAX_PAGE_SIZE = 200
NOTE_MAX = 2000
REASON_MIN = 5
FUTURE_SLACK = timedelta(minutes=10)  # clocks differ a little; an actual time further ahead is a mistake

# Which template step is the shipment's departure, arrival and delivery, per mode (seed/config_data.py).
DEPARTURE_STEP = {"ocean_fcl": "vessel_departure", "ocean_lcl": "vessel_departure", "air": "departed",
                  "road_ftl": "pickup_completed", "road_ltl": "linehaul_departed"}
ARRIVAL_STEP = {"ocean_fcl": "vessel_arrival", "ocean_lcl": "vessel_arrival", "air": "arrived",
                "road_ftl": "arrived_at_destination", "road_ltl": "arrived_at_destination_hub"}
DELIVERY_STEP = {"ocean_fcl": "delivered_to_consignee", "ocean_lcl": "delivered_to_consignee", "air": "delivered",
                 "road_ftl": "delivered", "road_ltl": "delivered"}
DEPARTURE_STEPS = frozenset(DEPARTURE_STEP.values())
ARRIVAL_STEPS = frozenset(ARRIVAL_STEP.values())
DELIVERY_STEPS = frozenset(DELIVERY_STEP.values())
MILESTONE_FIELDS = ("planned_at", "estimated_at", "actual_at", "location")
ASSIGN_FIELDS = ("owner_id", "team_id")
# The fixed list of reasons for an ETA change (code -> label the customer reads).
ETA_REASONS: dict[str, str] = REASON_LABELS


class StaleVersion(Exception):
    """The conditional update found another version: someone saved in between."""


class EditConflict(Conflict):
    """A stale save: ``changes`` lists what changed since the version the editor saw; ``your_input`` is what the
    editor sent, to re-apply after reloading."""

    code = ErrorCode.EDIT_CONFLICT

    def __init__(self, message: str, *, reference: str, current_version: int, changes: list[audit.FieldChange],
                 your_input: dict) -> None:
        super().__init__(message)
        self.reference = reference
        self.current_version = current_version
        self.changes = changes
        self.your_input = your_input

    def to_dict(self) -> dict:
        body = super().to_dict()
        body["error"].update(
            reference=self.reference,
            current_version=self.current_version,
            changes=[
                {"field": c.field, "old": c.old, "new": c.new, "changed_by": c.changed_by,
                 "changed_at": c.changed_at.isoformat() if c.changed_at else None}
                for c in self.changes
            ],
            your_input={k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.your_input.items()},
        )
        return body


@dataclass
class Planned:
    """What an edit will write: shipment columns, the audit row's before/after and a result for the caller."""

    action: str
    values: dict[str, object] = field(default_factory=dict)
    before: dict[str, object] = field(default_factory=dict)
    after: dict[str, object] = field(default_factory=dict)
    result: object = None
    after_lock: Callable[[], None] | None = None  # rows that need the new version or must not exist on a conflict


@dataclass(frozen=True)
class EditResult:
    reference: str
    version: int
    message: str


# --------------------------------------------------------------------------------------------------- plumbing


def _require_staff(principal: Principal, permission: Permission) -> None:
    principal.require(Permission.USE_TOWER)
    principal.require(permission)


load_shipment = shipment_record


def _aware(name: str, value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationFailed(f"{name} {value!r} is not a date and time. Use the form 2026-11-30T14:00:00Z. "
                                   f"{NOTHING_SAVED}") from None
    if not isinstance(value, datetime):
        raise ValidationFailed(f"{name} must be a date and time. {NOTHING_SAVED}")
    if value.tzinfo is None:
        raise ValidationFailed(f"{name} has no time zone. Add one (for example Z for UTC, or +08:00). {NOTHING_SAVED}")
    return value


def _text(value: object, limit: int) -> str:
    return " ".join(str(value or "").split())[:limit]


def _delay_minutes(planned: datetime | None, latest: datetime | None) -> int:
    if planned is None or latest is None:
        return 0
    return int((latest - planned).total_seconds() // 60)


def apply_plan(db: Session, principal: Principal, shipment: Shipment, expected_version: int, plan: Planned,
           now: datetime) -> Planned:
    """Write the plan if the shipment is still at ``expected_version``: one conditional UPDATE bumps the version;
    the audit row records the fields and the new version (what a later conflict reads)."""
    if shipment.version != expected_version:
        raise StaleVersion
    changed = db.exec(
        sa.update(Shipment).where(col(Shipment.id) == shipment.id, col(Shipment.version) == expected_version)
        .values(**plan.values, updated_at=now, version=Shipment.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise StaleVersion
    if plan.after_lock is not None:
        plan.after_lock()
    audit.record(db, principal, plan.action, "shipment", shipment.reference, shipment.company_id,
                 plan.before, {**plan.after, "version": expected_version + 1}, at=now)
    db.flush()
    db.refresh(shipment)
    return plan


def changes_since(db: Session, reference: str, version: int, *, limit: int = 50) -> list[audit.FieldChange]:
    """What changed on the shipment after ``version``, oldest first, from the audit rows of the workspace edits."""
    rows = db.exec(
        select(AuditLog, col(User.full_name)).outerjoin(User, col(User.id) == col(AuditLog.actor_id))
        .where(AuditLog.entity_type == "shipment", AuditLog.entity_id == reference)
        .order_by(col(AuditLog.id).desc()).limit(limit)
    ).all()
    out: list[audit.FieldChange] = []
    for row, actor in reversed(rows):
        seen_version = audit.load(row.after).get("version")
        if isinstance(seen_version, int) and seen_version > version:
            out += audit.field_changes(row, actor or "System")
    return out


def _conflict(db: Session, reference: str, expected_version: int, your_input: Mapping[str, object]) -> EditConflict:
    current = db.exec(select(Shipment.version).where(Shipment.reference == reference)).first()
    changes = changes_since(db, reference, expected_version)
    if not changes:
        changes = [audit.FieldChange("record", None, f"version {current}", "another process", None)]
    who = sorted({c.changed_by for c in changes})
    return EditConflict(
        f"Shipment {reference} was changed by {', '.join(who)} after you opened it (you had version "
        f"{expected_version}, it is now {current}). {NOTHING_SAVED} Review what changed, reload, and apply your "
        "change again; your input is kept below.",
        reference=reference, current_version=int(current or 0), changes=changes, your_input=dict(your_input),
    )


def _edit(db: Session, principal: Principal, reference: str, expected_version: int, your_input: Mapping[str, object],
          plan: Callable[[Shipment, datetime], Planned], *, permission: Permission = Permission.EDIT_SHIPMENTS
          ) -> Planned:
    """Load, plan, lock, commit; a stale version becomes :class:`EditConflict` and nothing is written."""
    _require_staff(principal, permission)
    if expected_version is None:
        raise ValidationFailed("Send the version of the shipment you are editing (expected_version). "
                               f"{NOTHING_SAVED}")
    shipment = load_shipment(db, principal, reference)
    now = clock.now()
    try:
        if shipment.version != expected_version:
            raise StaleVersion
        done = apply_plan(db, principal, shipment, expected_version, plan(shipment, now), now)
        db.commit()
    except StaleVersion:
        db.rollback()
        raise _conflict(db, shipment.reference, expected_version, your_input) from None
    except BaseException:
        db.rollback()
        raise
    _after_change(db, shipment, now)
    return done


def _after_change(db: Session, shipment: Shipment, now: datetime) -> None:
    """Re-evaluate the exception rules of a shipment after a change that can affect them (the one place)."""
    try:
        assert shipment.id is not None  # a stored row
        exception_rules.evaluate_shipment(db, shipment.id, now)
        db.commit()
    except Exception:  # the edit is saved; the scheduled rule pass catches up
        db.rollback()
        log.exception("exception rules failed after a change to %s", shipment.reference)


# --------------------------------------------------------------------------------------------------- milestones


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
                f"{step.name} cannot have happened before {other.name} ({other.actual_at:%Y-%m-%d %H:%M} UTC). "
                f"Check the time, or correct {other.name} first. {NOTHING_SAVED}")
        if other.sequence > step.sequence and other.actual_at < actual:
            raise ValidationFailed(
                f"{step.name} cannot have happened after {other.name} ({other.actual_at:%Y-%m-%d %H:%M} UTC). "
                f"Check the time, or correct {other.name} first. {NOTHING_SAVED}")


def _status_after(status: str, code: str, actual: datetime | None) -> str:
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
        values["delay_minutes"] = _delay_minutes(planned, latest)
    if "actual_at" in times:
        status = _status_after(shipment.status, code, times["actual_at"])
        if status != shipment.status:
            values["status"] = status
    return values


def plan_milestone(db: Session, shipment: Shipment, now: datetime, code: str, changes: Mapping[str, object],
                    *, source: str = MilestoneSource.OPS.value) -> Planned:
    unknown = [k for k in changes if k not in MILESTONE_FIELDS]
    if unknown or not changes:
        raise ValidationFailed(f"Change one or more of: {', '.join(MILESTONE_FIELDS)}. {NOTHING_SAVED}")
    steps = list(db.exec(select(Milestone).where(Milestone.shipment_id == shipment.id)
                         .order_by(col(Milestone.sequence))).all())
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
    before = {f"{code}.{k}": getattr(step, k) for k in times}
    after: dict[str, object] = {f"{code}.{k}": v for k, v in times.items()}
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


# --------------------------------------------------------------------------------------------------- ETA


def eta_reasons() -> list[tuple[str, str]]:
    return list(ETA_REASONS.items())


def _notify_followers(db: Session, shipment: Shipment, change: EtaChange, shift_hours: float | None,
                      text: str) -> int:
    """Tell the shipment's followers who want ETA changes of this size (their preferences decide, per channel)."""
    done = notifications.notify(db, "eta_changed", [], f"New ETA for {shipment.reference}", text,
                                f"/portal/shipments/{shipment.reference}", f"eta_change:{change.id}",
                                shipment_id=shipment.id, company_id=shipment.company_id,
                                eta_shift_hours=shift_hours, at=change.created_at)
    return len(done.recipients)


def _notify_milestone(db: Session, shipment: Shipment, step: Milestone, now: datetime) -> None:
    """Followers hear that a step happened (an actual time recorded for the first time)."""
    place = db.get(Location, step.location_id) if step.location_id else None
    where = f" at {place.code}" if place else ""
    notifications.notify(db, "milestone_reached", [], f"{shipment.reference}: {step.name}",
                         f"{step.name}{where} on {step.actual_at:%d %b %Y %H:%M} UTC.",
                         f"/portal/shipments/{shipment.reference}", f"milestone:{step.id}:{step.actual_at:%Y%m%d%H%M}",
                         shipment_id=shipment.id, company_id=shipment.company_id, at=now)


def plan_eta(db: Session, principal: Principal, shipment: Shipment, now: datetime, new_eta: object,
              reason_code: str, reason_text: str | None) -> Planned:
    eta = _aware("New ETA", new_eta)
    if eta is None:
        raise ValidationFailed(f"Give the new estimated arrival. {NOTHING_SAVED}")
    code = (reason_code or "").strip().upper()
    if code not in ETA_REASONS:
        raise ValidationFailed(f"Unknown reason {reason_code!r}. Use one of: {', '.join(ETA_REASONS)}. "
                               f"{NOTHING_SAVED}")
    if shipment.ata is not None:
        raise ValidationFailed(f"Shipment {shipment.reference} has already arrived "
                               f"({shipment.ata:%Y-%m-%d %H:%M} UTC); correct the arrival milestone instead. "
                               f"{NOTHING_SAVED}")
    if abs(eta - now) > timedelta(days=730):
        raise ValidationFailed(f"{eta:%Y-%m-%d} is more than two years away. Check the year. {NOTHING_SAVED}")
    previous = shipment.eta_estimated or shipment.eta_planned
    if previous is not None and previous == eta:
        raise ValidationFailed(f"The ETA of {shipment.reference} is already {eta:%Y-%m-%d %H:%M} UTC. "
                               f"{NOTHING_SAVED}")
    note = _text(reason_text, 400) or None
    label = ETA_REASONS[code]
    shift = round((eta - previous).total_seconds() / 3600, 1) if previous else None

    def write_rows() -> None:
        assert shipment.id is not None  # a stored row
        change = EtaChange(shipment_id=shipment.id, previous_eta=previous, new_eta=eta, reason_code=code,
                           reason_text=note, changed_by_id=principal.user_id, source="ops", created_at=now)
        db.add(change)
        step = db.exec(select(Milestone).where(Milestone.shipment_id == shipment.id,
                                               col(Milestone.code).in_(sorted(ARRIVAL_STEPS)))).first()
        if step is not None:
            step.estimated_at = eta
            step.updated_at = now
            step.version += 1
            db.add(step)
        was = f" (was {previous:%d %b %Y %H:%M} UTC)" if previous else ""
        text = f"New estimated arrival: {eta:%d %b %Y %H:%M} UTC{was}. Reason: {label}." + (f" {note}" if note else "")
        db.add(ShipmentUpdate(shipment_id=shipment.id, company_id=shipment.company_id,
                              visibility=Visibility.CUSTOMER.value, body=text, author_id=principal.user_id,
                              created_at=now))
        db.flush()
        _notify_followers(db, shipment, change, shift, text)

    values = {"eta_estimated": eta, "delay_minutes": _delay_minutes(shipment.eta_planned, eta)}
    return Planned("eta_changed", values, {"eta_estimated": shipment.eta_estimated},
                   {"eta_estimated": eta, "reason_code": code, "reason_text": note}, result=shift,
                   after_lock=write_rows)


def change_eta(db: Session, principal: Principal, reference: str, new_eta: object, reason_code: str,
               reason_text: str | None = None, *, expected_version: int) -> EditResult:
    """A new estimated arrival with a reason code: the ETA history, the customer's timeline and a notification
    to each follower who wants it."""
    your_input = {"new_eta": new_eta, "reason_code": reason_code, "reason_text": reason_text}
    _edit(db, principal, reference, expected_version, your_input,
          lambda s, now: plan_eta(db, principal, s, now, new_eta, reason_code, reason_text))
    shipment = load_shipment(db, principal, reference)
    return EditResult(shipment.reference, shipment.version,
                      f"ETA changed to {shipment.eta_estimated:%d %b %Y %H:%M} UTC; the customer sees it.")


# --------------------------------------------------------------------------------------------------- assignment


def _staff_user(db: Session, user_id: int) -> User:
    user = db.get(User, int(user_id))
    if user is None or user.role not in STAFF_ROLES or not user.is_active:
        raise ValidationFailed(f"User {user_id} is not an active staff member. Pick an owner from the staff list. "
                               f"{NOTHING_SAVED}")
    return user


def plan_assign(db: Session, shipment: Shipment, changes: Mapping[str, Any]) -> Planned:
    unknown = [k for k in changes if k not in ASSIGN_FIELDS]
    if unknown or not changes:
        raise ValidationFailed(f"Set owner_id, team_id or both (null to clear). {NOTHING_SAVED}")
    values: dict[str, object] = {}
    before: dict[str, object] = {}
    after: dict[str, object] = {}
    if "owner_id" in changes:
        owner = _staff_user(db, changes["owner_id"]) if changes["owner_id"] is not None else None
        values["owner_id"] = owner.id if owner else None
        before["owner"] = _user_name(db, shipment.owner_id)
        after["owner"] = owner.full_name if owner else None
    if "team_id" in changes:
        team = db.get(Team, int(changes["team_id"])) if changes["team_id"] is not None else None
        if changes["team_id"] is not None and team is None:
            raise ValidationFailed(f"Team {changes['team_id']} does not exist. Pick a team from the list. "
                                   f"{NOTHING_SAVED}")
        values["team_id"] = team.id if team else None
        if team is not None and team.branch_id is not None:
            values["branch_id"] = team.branch_id
        old_team = db.get(Team, shipment.team_id) if shipment.team_id else None
        before["team"] = old_team.name if old_team else None
        after["team"] = team.name if team else None
    return Planned("assigned", values, before, after)


def assign(db: Session, principal: Principal, reference: str, changes: Mapping[str, object], *,
           expected_version: int) -> EditResult:
    """Set the owner (a staff user id) and/or the team (its branch follows) of a shipment; None clears."""
    _edit(db, principal, reference, expected_version, dict(changes),
          lambda s, now: plan_assign(db, s, changes), permission=Permission.ASSIGN_WORK)
    shipment = load_shipment(db, principal, reference)
    return EditResult(shipment.reference, shipment.version, "Assignment saved.")


def _user_name(db: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = db.get(User, user_id)
    return user.full_name if user else None


# --------------------------------------------------------------------------------------------------- notes


@dataclass(frozen=True)
class NoteResult:
    reference: str
    visibility: str
    message: str


def add_update(db: Session, principal: Principal, shipment: Shipment, body: str, visibility: str,
                now: datetime) -> ShipmentUpdate:
    text = (body or "").strip()
    if visibility not in Visibility._value2member_map_:
        raise ValidationFailed(f"Visibility must be 'internal' (staff only) or 'customer' (the customer reads it). "
                               f"{NOTHING_SAVED}")
    if len(text) < 2:
        raise ValidationFailed(f"Write the text of the note or update. {NOTHING_SAVED}")
    if len(text) > NOTE_MAX:
        raise ValidationFailed(f"The text is {len(text)} characters; the limit is {NOTE_MAX}. Shorten it. "
                               f"{NOTHING_SAVED}")
    assert shipment.id is not None  # a stored row
    update = ShipmentUpdate(shipment_id=shipment.id, company_id=shipment.company_id, visibility=visibility,
                            body=text, author_id=principal.user_id, created_at=now)
    db.add(update)
    if visibility == Visibility.CUSTOMER:
        db.flush()
        notifications.notify(db, "shipment_update", [], f"Update on {shipment.reference}", text[:500],
                             f"/portal/shipments/{shipment.reference}", f"shipment_update:{update.id}",
                             shipment_id=shipment.id, company_id=shipment.company_id, skip=principal.user_id, at=now)
    audit.record(db, principal, "internal_note" if visibility == Visibility.INTERNAL else "customer_update",
                 "shipment", shipment.reference, shipment.company_id, None,
                 {"visibility": visibility, "body": text[:200]}, at=now)
    return update


def add_note(db: Session, principal: Principal, reference: str, body: str, *,
             visibility: str = Visibility.INTERNAL.value) -> NoteResult:
    """An internal note (staff only, never shown to the customer) or a customer-visible update.

    Notes are appended, never edited, so they do not take the shipment's version: two people writing at once
    both keep their text.
    """
    _require_staff(principal, Permission.EDIT_SHIPMENTS)
    shipment = load_shipment(db, principal, reference)
    add_update(db, principal, shipment, body, visibility, clock.now())
    db.commit()
    who = "Only staff see it." if visibility == Visibility.INTERNAL else "The customer sees it on the shipment."
    return NoteResult(shipment.reference, visibility, f"Saved. {who}")


# --------------------------------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class ReviewResult:
    document_id: int
    status: str
    version: int
    message: str


def review_document(db: Session, principal: Principal, reference: str, document_id: int, *, approve: bool,
                    reason: str | None = None, expected_version: int | None = None) -> ReviewResult:
    """Approve or reject a received document. A rejection needs a reason; the customer sees it on the checklist,
    in the shipment's updates and in a notification to whoever uploaded it. ``expected_version`` is the
    document's version (409 when someone reviewed it meanwhile)."""
    _require_staff(principal, Permission.REVIEW_DOCUMENTS)
    shipment = load_shipment(db, principal, reference)
    doc = db.exec(select(Document).where(Document.id == int(document_id), Document.shipment_id == shipment.id)).first()
    if doc is None:
        raise NotFound(f"Shipment {shipment.reference} has no document {document_id}. {NOTHING_SAVED}")
    assert doc.id is not None and shipment.id is not None  # stored rows
    if doc.status == DocumentStatus.SUPERSEDED:
        raise Conflict(f"{doc_type_name(doc.doc_type)} v{doc.version_no} was replaced by a newer version; review "
                       f"that one instead. {NOTHING_SAVED}")
    text = _text(reason, 400)
    if not approve and len(text) < REASON_MIN:
        raise ValidationFailed(f"Write the reason the customer will read, so they know what to correct. "
                               f"{NOTHING_SAVED}")
    version = doc.version if expected_version is None else expected_version
    status = DocumentStatus.APPROVED.value if approve else DocumentStatus.REJECTED.value
    now = clock.now()
    before = {"status": doc.status, "rejection_reason": doc.rejection_reason}
    changed = db.exec(
        sa.update(Document).where(col(Document.id) == doc.id, col(Document.version) == version)
        .values(status=status, rejection_reason=None if approve else text, reviewed_by_id=principal.user_id,
                reviewed_at=now, version=Document.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.rollback()
        raise Conflict(f"{doc_type_name(doc.doc_type)} v{doc.version_no} was reviewed or changed by someone else "
                       f"after you opened it. {NOTHING_SAVED} Reload the documents and review it again.")
    db.expire(doc)
    name = f"{doc_type_name(doc.doc_type)} v{doc.version_no}"
    if not approve:
        body = f"{name} was not accepted: {text} Please upload a corrected version."
        db.add(ShipmentUpdate(shipment_id=shipment.id, company_id=shipment.company_id,
                              visibility=Visibility.CUSTOMER.value, body=body, author_id=principal.user_id,
                              created_at=now))
        uploader = db.get(User, doc.uploaded_by_id) if doc.uploaded_by_id else None
        customer = uploader.id if uploader is not None and uploader.role not in STAFF_ROLES else None
        notifications.notify(db, "document_rejected", [customer], f"{name} for {shipment.reference} needs a correction",
                             body, f"/portal/shipments/{shipment.reference}",
                             f"document_rejected:{doc.id}:{version + 1}",
                             shipment_id=shipment.id, company_id=shipment.company_id, skip=principal.user_id, at=now)
    audit.record(db, principal, "document_approved" if approve else "document_rejected", "document", str(doc.id),
                 shipment.company_id, before, {"status": status, "rejection_reason": None if approve else text,
                                               "document": name}, at=now)
    db.commit()
    _after_change(db, shipment, now)
    message = f"{name} approved." if approve else f"{name} rejected; the customer sees the reason."
    return ReviewResult(doc.id, status, version + 1, message)


# --------------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    actor: str
    action: str
    entity: str
    changes: list[audit.FieldChange]


def audit_trail(db: Session, principal: Principal, reference: str, *, page: int = 1,
                page_size: int = 25) -> Page:
    """The record's audit trail (the shipment and its documents), newest first, one page at a time."""
    _require_staff(principal, Permission.VIEW_SHIPMENTS)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    shipment = load_shipment(db, principal, reference)
    doc_ids = select(sa.cast(Document.id, sa.String)).where(Document.shipment_id == shipment.id)
    where = sa.or_(
        sa.and_(col(AuditLog.entity_type) == "shipment", col(AuditLog.entity_id) == shipment.reference),
        sa.and_(col(AuditLog.entity_type) == "document", col(AuditLog.entity_id).in_(doc_ids)),
    )
    total = db.exec(select(sa.func.count()).select_from(AuditLog).where(where)).one()
    rows = db.exec(
        select(AuditLog, col(User.full_name)).outerjoin(User, col(User.id) == col(AuditLog.actor_id)).where(where)
        .order_by(col(AuditLog.created_at).desc(), col(AuditLog.id).desc())
        .offset((page - 1) * page_size).limit(page_size)
    ).all()
    out = [
        AuditRow(r.created_at, actor or "System", r.action,
                 f"{r.entity_type} {r.entity_id}", audit.field_changes(r, actor or "System"))
        for r, actor in rows
    ]
    return Page(rows=out, total=int(total), page=page, page_size=page_size)


@dataclass(frozen=True)
class Assignment:
    owner_id: int | None
    owner: str | None
    team_id: int | None
    team: str | None
    branch: str | None
    version: int  # the shipment's version: what an editor sends back as ``expected_version``


def assignment(db: Session, principal: Principal, reference: str) -> Assignment:
    """Who owns the shipment: owner, team and branch (for the workspace header)."""
    _require_staff(principal, Permission.VIEW_SHIPMENTS)
    shipment = load_shipment(db, principal, reference)
    team = db.get(Team, shipment.team_id) if shipment.team_id else None
    branch = db.get(Branch, shipment.branch_id) if shipment.branch_id else None
    return Assignment(shipment.owner_id, _user_name(db, shipment.owner_id), shipment.team_id,
                      team.name if team else None, branch.name if branch else None, shipment.version)
