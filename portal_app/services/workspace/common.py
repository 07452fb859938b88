"""The plumbing every workspace edit shares: the expected version and the conditional update, the
conflict that says what changed since, the exception-rule pass after a change, and reading times and text."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from models import (
    AuditLog,
    Milestone,
    Shipment,
    User,
)
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.db import insert_rows
from portal_app.services import audit, clock, exception_rules
from portal_app.services.errors import Conflict, ErrorCode, ValidationFailed
from portal_app.services.shipments import shipment_record

log = logging.getLogger(__name__)

NOTHING_SAVED = "Nothing was saved."

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


def delay_minutes(planned: datetime | None, latest: datetime | None) -> int:
    if planned is None or latest is None:
        return 0
    return int((latest - planned).total_seconds() // 60)


def apply_plan(db: Session, principal: Principal, shipment: Shipment, expected_version: int, plan: Planned,
           now: datetime) -> Planned:
    """Write the plan if the shipment is still at ``expected_version``: one conditional UPDATE bumps the version;
    the audit row records the fields and the new version (what a later conflict reads).

    ``shipment`` then holds what the UPDATE wrote, set as loaded (not read back: the values are the plan's, and a
    read per change was a fifth of a carrier batch's time; nor marked changed, which would write them twice)."""
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
    for name, value in {**plan.values, "updated_at": now, "version": expected_version + 1}.items():
        set_committed_value(shipment, name, value)
    return plan


@dataclass
class Together:
    """Shipment changes applied in memory and written together by :func:`write_together`: one conditional UPDATE
    per set of changed columns for all the shipments (executemany), one INSERT for all the audit rows. A carrier's
    batch of events changes hundreds of shipments; a savepoint, an UPDATE and an INSERT each was most of its time.

    Each shipment's UPDATE still checks the version it had before the first change (the lock of
    :func:`apply_plan`): when any shipment changed in between, :func:`write_together` raises :class:`StaleVersion`
    and the caller rolls the whole transaction back (and applies the changes one by one instead)."""

    first_version: dict[int, int] = field(default_factory=dict)
    values: dict[int, dict[str, object]] = field(default_factory=dict)
    audits: list[dict[str, object]] = field(default_factory=list)


def apply_plan_together(db: Session, principal: Principal, shipment: Shipment, plan: Planned, now: datetime,
                        together: Together) -> Planned:
    """:func:`apply_plan` for a change written later by :func:`write_together`: the shipment's new values and
    version are set on ``shipment`` at once (as loaded: a later change of the same batch plans against them), the
    rows that need the change (``after_lock``) are added now, in the same transaction."""
    assert shipment.id is not None  # a stored row
    together.first_version.setdefault(shipment.id, shipment.version)
    version = shipment.version + 1
    together.values.setdefault(shipment.id, {}).update(plan.values, updated_at=now)
    if plan.after_lock is not None:
        plan.after_lock()
    together.audits.append(audit.entry(principal, plan.action, "shipment", shipment.reference, shipment.company_id,
                                       plan.before, {**plan.after, "version": version}, at=now))
    for name, value in {**plan.values, "updated_at": now, "version": version}.items():
        set_committed_value(shipment, name, value)
    return plan


def write_together(db: Session, together: Together, versions: Mapping[int, int]) -> None:
    """Write what :func:`apply_plan_together` applied: ``versions`` is each shipment's version now (in memory)."""
    _write_steps(db)
    db.flush()
    table = Shipment.__table__  # type: ignore[attr-defined]
    by_columns: dict[tuple[str, ...], list[int]] = {}
    for shipment_id, values in together.values.items():
        by_columns.setdefault(tuple(sorted(values)), []).append(shipment_id)
    for columns, ids in by_columns.items():
        statement = (sa.update(table).where(table.c.id == sa.bindparam("b_id"),
                                            table.c.version == sa.bindparam("b_was"))
                     .values({**{c: sa.bindparam(f"v_{c}") for c in columns}, "version": sa.bindparam("b_version")}))
        rows = [{"b_id": i, "b_was": together.first_version[i], "b_version": versions[i],
                 **{f"v_{c}": together.values[i][c] for c in columns}} for i in ids]
        if db.connection().execute(statement, rows).rowcount != len(rows):
            raise StaleVersion
    insert_rows(db, AuditLog, together.audits)
    together.first_version, together.values, together.audits = {}, {}, []


def _write_steps(db: Session) -> None:
    """Write the changed milestones in the session with one UPDATE per set of changed columns, and let the session
    forget them (it would write each on its own: the steps a batch moves change different columns, in turn)."""
    table = Milestone.__table__  # type: ignore[attr-defined]
    steps = [m for m in db.dirty if isinstance(m, Milestone)]
    by_columns: dict[tuple[str, ...], list[tuple[int, dict[str, object]]]] = {}
    for step in steps:
        changed = {key: getattr(step, key) for key in sa.inspect(step).committed_state}  # what changed since read
        if changed and step.id is not None:
            by_columns.setdefault(tuple(sorted(changed)), []).append((step.id, changed))
    for columns, rows in by_columns.items():
        statement = (sa.update(table).where(table.c.id == sa.bindparam("b_id"))
                     .values({c: sa.bindparam(f"v_{c}") for c in columns}))
        db.connection().execute(statement, [{"b_id": i, **{f"v_{c}": v[c] for c in columns}} for i, v in rows])
    for step in steps:
        db.expunge(step)


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



def _after_changes(db: Session, shipment_ids: Iterable[int], now: datetime) -> None:
    """:func:`_after_change` for many shipments changed together (a carrier's batch of events): the rules run once
    per shipment, set-based, however many of the batch's events changed it, instead of once per change."""
    ids = sorted(set(shipment_ids))
    if not ids:
        return
    try:
        exception_rules.evaluate_shipments(db, ids, now)
    except Exception:  # the changes are saved; the scheduled rule pass catches up
        db.rollback()
        log.exception("exception rules failed after a change to %d shipments", len(ids))
