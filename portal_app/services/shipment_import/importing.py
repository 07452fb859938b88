"""Importing shipments from the forwarder's TMS: check the whole file, refuse it whole with a report, or apply it in
one transaction. Idempotent by shipment reference (see docs/imports.md for every rule)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import Container, EtaChange, Milestone, Shipment, ShipmentReference
from models.enums import MilestoneSource, ReferenceKind, ShipmentStatus
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import audit, clock, exception_rules
from portal_app.services.errors import Conflict, ValidationFailed
from portal_app.services.identifiers import format_awb
from portal_app.services.references import reference_rows
from portal_app.services.shipment_import.checks import (
    REFERENCE_RE,
    Lookups,
    ShipmentRow,
    Step,
    check_milestone,
    check_shipment,
    text,
)
from portal_app.services.shipment_import.reading import Section, read_sections
from portal_app.services.shipment_import.shapes import (
    MAX_IMPORT_BYTES,
    MAX_REPORTED_PROBLEMS,
    MILESTONE_COLUMNS,
    MILESTONE_REQUIRED,
    MILESTONES,
    NOTHING_IMPORTED,
    SHIPMENT_COLUMNS,
    SHIPMENT_REQUIRED,
    SHIPMENTS,
    ImportProblem,
    ImportRefused,
    ImportReport,
)
from portal_app.services.workspace.common import (
    ARRIVAL_STEP,
    DELIVERY_STEP,
    DEPARTURE_STEP,
    delay_minutes,
)
from portal_app.services.workspace.milestones import status_after

log = logging.getLogger(__name__)

TIME_FIELDS = ("planned_at", "estimated_at", "actual_at")
# The references a search finds a shipment by, from its columns (the shipment's own reference row is kept).
REFERENCE_COLUMNS = {ReferenceKind.BOOKING: "booking_number", ReferenceKind.MBL: "mbl_number",
                     ReferenceKind.HBL: "hbl_number", ReferenceKind.AWB: "awb_number",
                     ReferenceKind.HAWB: "hawb_number", ReferenceKind.CUSTOMER_PO: "customer_po"}
SEARCH_FIELDS = frozenset(REFERENCE_COLUMNS.values())
MANAGED_KINDS = [k.value for k in REFERENCE_COLUMNS] + [ReferenceKind.CONTAINER.value]
ETA_REASON = "TMS_IMPORT"


def require_import(principal: Principal) -> None:
    """Staff with the import permission (ops managers and admins); anyone else: PermissionDenied (403)."""
    principal.require(Permission.USE_TOWER)
    principal.require(Permission.IMPORT_SHIPMENTS)


def _header_problems(section: Section, columns: Sequence[str], required: Sequence[str]) -> list[ImportProblem]:
    names = [n for _i, n in section.columns]
    out = [ImportProblem(section.name, section.header_row, c, f"The column {c!r} is missing from the header row.")
           for c in required if c not in names]
    seen: set[str] = set()
    for n in names:
        if n.startswith("unnamed"):
            continue
        if n not in columns:
            out.append(ImportProblem(section.name, section.header_row, n,
                                     f"Unknown column {n!r}. {section.name} columns are: {', '.join(columns)}."))
        elif n in seen:
            out.append(ImportProblem(section.name, section.header_row, n, f"The column {n!r} appears twice."))
        seen.add(n)
    return out


def _stored_steps(db: Session, look: Lookups, shipment: Shipment) -> list[Step]:
    rows = list(db.exec(select(Milestone).where(Milestone.shipment_id == shipment.id)
                        .order_by(col(Milestone.sequence))).all())
    if not rows:  # a shipment made without a template gets the template's steps now
        return _template_steps_of(look, shipment.mode)
    return [Step(m.sequence, m.code, m.name, m.event_code, "", m.customer_visible, m.planned_at, m.estimated_at,
                 m.actual_at, m.location_id, stored=m) for m in rows]


def _template_steps_of(look: Lookups, mode: str) -> list[Step]:
    return [Step(n, t.code, t.name, t.event_code, t.anchor, t.customer_visible)
            for n, t in enumerate(look.template(mode), start=1)]


def _order_problems(ref: str, steps: list[Step], rows: dict[str, int]) -> list[ImportProblem]:
    """Actual times must follow the steps' order; a problem names the step the file changed."""
    out: list[ImportProblem] = []
    done = [s for s in steps if s.actual_at is not None]
    for earlier, later in itertools.pairwise(done):
        if earlier.actual_at <= later.actual_at:  # type: ignore[operator]
            continue
        blamed = later if "actual_at" in later.changed else earlier
        if "actual_at" not in blamed.changed:
            continue
        out.append(ImportProblem(MILESTONES, rows.get(blamed.code, 0), "actual",
                                 f"{ref}: {later.name} ({later.actual_at:%Y-%m-%d %H:%M} UTC) cannot have happened "
                                 f"before {earlier.name} ({earlier.actual_at:%Y-%m-%d %H:%M} UTC). Check both times."))
    return out


def _problem_key(p: ImportProblem) -> tuple:
    columns = SHIPMENT_COLUMNS if p.sheet == SHIPMENTS else MILESTONE_COLUMNS
    return (p.sheet != SHIPMENTS, p.row, columns.index(p.column) if p.column in columns else 99)


def import_shipments(db: Session, principal: Principal, filename: str, data: bytes) -> ImportReport:
    """Import shipments (with parties, containers and milestones) from a CSV or Excel file. All or nothing: any bad
    row refuses the whole file with :class:`ImportRefused`, whose ``report`` lists sheet, row, column and problem."""
    require_import(principal)
    name = (filename or "shipments.csv").replace("\\", "/").rsplit("/", 1)[-1][:120]
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationFailed(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB. Split it into "
                               f"several files. {NOTHING_IMPORTED}")
    if not data.strip():
        raise ValidationFailed(f"The file is empty. {NOTHING_IMPORTED}")
    shipments, milestones = read_sections(name, data)
    if shipments is None and milestones is None:
        raise ValidationFailed(f"The file has no header row. Start from the template. {NOTHING_IMPORTED}")
    problems: list[ImportProblem] = []
    if shipments is not None:
        problems += _header_problems(shipments, SHIPMENT_COLUMNS, SHIPMENT_REQUIRED)
    if milestones is not None:
        problems += _header_problems(milestones, MILESTONE_COLUMNS, MILESTONE_REQUIRED)
    ship_rows = shipments.rows if shipments is not None else []
    stone_rows = milestones.rows if milestones is not None else []
    if problems:
        raise ImportRefused(ImportReport(name, len(ship_rows), len(stone_rows), False, problems=tuple(problems)))
    if not ship_rows and not stone_rows:
        raise ValidationFailed(f"The file has a header but no rows. {NOTHING_IMPORTED}")
    now = clock.now()
    look = Lookups(db)
    wanted = {text(v.get("reference")).upper() for _r, v in ship_rows + stone_rows} - {""}
    stored = look.shipments(sorted(wanted))

    checked: dict[str, ShipmentRow] = {}
    first_row: dict[str, int] = {}
    for row_no, values in ship_rows:
        ref = text(values.get("reference")).upper()
        if not ref or not REFERENCE_RE.match(ref):
            problems.append(ImportProblem(SHIPMENTS, row_no, "reference",
                                          f"{ref or 'empty'!r} is not a shipment reference: 3 to 20 letters, digits, "
                                          "dashes, slashes or dots, as the TMS has it (e.g. HSL-OCN-2026-0042)."))
            continue
        if ref in first_row:
            problems.append(ImportProblem(SHIPMENTS, row_no, "reference",
                                          f"{ref} is already on row {first_row[ref]}; give each shipment one row."))
            continue
        first_row[ref] = row_no
        found, row = check_shipment(look, row_no, values, stored.get(ref))
        problems += [ImportProblem(SHIPMENTS, row_no, c, t) for c, t in found.items()]
        if row is not None:
            checked[ref] = row

    steps_by_ref: dict[str, list[Step]] = {}
    milestone_rows: dict[str, dict[str, int]] = {}
    for row_no, values in stone_rows:
        ref = text(values.get("reference")).upper()
        steps: list[Step] | None = None
        if ref in checked:
            row = checked[ref]
            if ref not in steps_by_ref:
                steps_by_ref[ref] = (_stored_steps(db, look, row.existing) if row.existing is not None
                                     else _template_steps_of(look, row.mode))
            steps = steps_by_ref[ref]
        elif ref in first_row:
            pass  # its shipment row has problems of its own; the times are still checked
        elif ref in stored:
            shipment = stored[ref]
            if shipment.status in (ShipmentStatus.CLOSED, ShipmentStatus.CANCELLED):
                problems.append(ImportProblem(MILESTONES, row_no, "reference",
                                              f"Shipment {ref} is {shipment.status}; its milestones are not changed."))
            else:
                if ref not in steps_by_ref:
                    steps_by_ref[ref] = _stored_steps(db, look, shipment)
                steps = steps_by_ref[ref]
        else:
            problems.append(ImportProblem(MILESTONES, row_no, "reference",
                                          f"{ref or 'empty'!r} is neither a shipment of this file nor one in the "
                                          "portal. Add the shipment's row, or check the reference."))
        found, result = check_milestone(look, values, steps, now)
        problems += [ImportProblem(MILESTONES, row_no, c, t) for c, t in found.items()]
        if result is None:
            continue
        step, times, location_id, location_given = result
        seen = milestone_rows.setdefault(ref, {})
        if step.code in seen:
            problems.append(ImportProblem(MILESTONES, row_no, "milestone",
                                          f"{ref} {step.code} is already on row {seen[step.code]}; give each "
                                          "milestone one row."))
            continue
        seen[step.code] = row_no
        for key, value in times.items():
            if getattr(step, key) != value:
                step.changed[key] = value
                setattr(step, key, value)
        if location_given and step.location_id != location_id:
            step.changed["location_id"] = location_id
            step.location_id = location_id
    for ref, steps in steps_by_ref.items():
        problems += _order_problems(ref, steps, milestone_rows.get(ref, {}))
    if problems:
        problems.sort(key=_problem_key)
        raise ImportRefused(ImportReport(name, len(ship_rows), len(stone_rows), False,
                                         problems=tuple(problems[:MAX_REPORTED_PROBLEMS])))

    order = list(checked) + [r for r in steps_by_ref if r not in checked]
    created: list[str] = []
    updated: list[str] = []
    touched: list[int] = []
    try:
        for ref in order:
            row = checked.get(ref)
            steps = steps_by_ref.get(ref)
            if row is not None and row.existing is None:
                shipment = _create(db, principal, row, steps or _template_steps_of(look, row.mode), now)
                created.append(ref)
            else:
                stored_one = row.existing if row is not None else stored[ref]
                assert stored_one is not None  # a reference of neither kind was refused above
                shipment = stored_one
                if not _update(db, principal, shipment, row, steps, now, name):
                    continue
                updated.append(ref)
            assert shipment.id is not None  # a stored row
            touched.append(shipment.id)
        audit.record(db, principal, "shipments_imported", "shipment_import", name[:40], None, None,
                     {"file": name, "shipment_rows": len(ship_rows), "milestone_rows": len(stone_rows),
                      "created": created, "updated": updated}, at=now)
        db.commit()
    except BaseException:
        db.rollback()
        raise
    for shipment_id in touched:  # exceptions follow the new facts, as after an edit in the workspace
        try:
            exception_rules.evaluate_shipment(db, shipment_id, now)
        except Exception:  # the import is saved; the scheduled rule pass catches up
            db.rollback()
            log.exception("exception rules failed after importing shipment %s", shipment_id)
    unchanged = len(order) - len(created) - len(updated)
    return ImportReport(name, len(ship_rows), len(stone_rows), True, len(created), len(updated), unchanged,
                        created_references=tuple(created), updated_references=tuple(updated))


def _mirror(mode: str, steps: Sequence[Step], only_changed: bool) -> dict[str, object]:
    """The shipment's own dates mirror its departure, arrival and delivery steps (workspace/milestones.py)."""
    columns = {DEPARTURE_STEP.get(mode): {"planned_at": "etd_planned", "estimated_at": "etd_estimated",
                                          "actual_at": "atd"},
               ARRIVAL_STEP.get(mode): {"planned_at": "eta_planned", "estimated_at": "eta_estimated",
                                        "actual_at": "ata"},
               DELIVERY_STEP.get(mode): {"actual_at": "delivered_at"}}
    out: dict[str, object] = {}
    for step in steps:
        for key, column in columns.get(step.code, {}).items():
            if only_changed and key not in step.changed:
                continue
            if getattr(step, key) is not None:
                out[column] = getattr(step, key)
    return out


def _status(status: str, steps: Sequence[Step], only_changed: bool) -> str:
    for step in steps:
        if step.actual_at is not None and (not only_changed or "actual_at" in step.changed):
            status = status_after(status, step.code, step.actual_at)
    return status


def _milestone(shipment: Shipment, step: Step, now: datetime) -> Milestone:
    assert shipment.id is not None  # a stored row
    given = any(k in step.changed for k in TIME_FIELDS)
    default_place = shipment.origin_id if step.anchor == "origin" else shipment.destination_id
    return Milestone(shipment_id=shipment.id, sequence=step.sequence, code=step.code, name=step.name,
                     event_code=step.event_code, location_id=step.location_id or default_place,
                     planned_at=step.planned_at, estimated_at=step.estimated_at, actual_at=step.actual_at,
                     source=MilestoneSource.IMPORT.value if given else MilestoneSource.PLAN.value,
                     customer_visible=step.customer_visible, updated_at=now)


def _references(db: Session, shipment: Shipment, containers: Sequence[str], *, fresh: bool) -> None:
    assert shipment.id is not None  # a stored row
    if not fresh:  # the kinds an import manages; others (a road shipment's CMR number) stay as they are
        db.exec(sa.delete(ShipmentReference).where(col(ShipmentReference.shipment_id) == shipment.id,
                                                   col(ShipmentReference.kind).in_(MANAGED_KINDS)))
    pairs: list[tuple[str, str]] = [] if not fresh else [(ReferenceKind.SHIPMENT.value, shipment.reference)]
    for ref_kind, attribute in REFERENCE_COLUMNS.items():
        value = getattr(shipment, attribute)
        if value:
            pairs.append((ref_kind.value, format_awb(value) if ref_kind == ReferenceKind.AWB else value))
    pairs += [(ReferenceKind.CONTAINER.value, n) for n in containers]
    seen: set[tuple[str, str]] = set()
    for kind, display in pairs:
        for ref_row in reference_rows(shipment.id, shipment.company_id, kind, display):
            if (kind, ref_row.value) not in seen:
                seen.add((kind, ref_row.value))
                db.add(ref_row)


def _snapshot(values: dict[str, object]) -> dict[str, object]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()}


def _create(db: Session, principal: Principal, row: ShipmentRow, steps: list[Step], now: datetime) -> Shipment:
    status = _status(ShipmentStatus.CONFIRMED.value, steps, only_changed=False)
    dates = _mirror(row.mode, steps, only_changed=False)
    arrival_latest = dates.get("ata") or dates.get("eta_estimated")
    shipment = Shipment(reference=row.reference, status=status, created_by_id=principal.user_id, created_at=now,
                        updated_at=now, delay_minutes=delay_minutes(dates.get("eta_planned"), arrival_latest),  # type: ignore[arg-type]
                        **row.values, **dates)  # type: ignore[arg-type]
    db.add(shipment)
    db.flush()
    assert shipment.id is not None  # flushed: the row has its key
    for step in steps:
        db.add(_milestone(shipment, step, now))
    containers = row.containers or []
    for number, size in containers:
        db.add(Container(shipment_id=shipment.id, number=number, size_type=size))
    _references(db, shipment, [n for n, _s in containers], fresh=True)
    after = {**_snapshot({**row.values, **dates}), "status": status,
             "containers": [f"{n}:{s}" for n, s in containers],
             "milestones": {s.code: _snapshot(dict(s.changed.items())) for s in steps if s.changed},
             "version": 1}
    audit.record(db, principal, "shipment_imported", "shipment", shipment.reference, shipment.company_id, None, after,
                 at=now)
    return shipment


def _update(db: Session, principal: Principal, shipment: Shipment, row: ShipmentRow | None,
            steps: list[Step] | None, now: datetime, filename: str) -> bool:
    """Apply the file to a stored shipment; False when the file says nothing new about it."""
    assert shipment.id is not None  # a stored row
    values = {k: v for k, v in (row.values if row else {}).items() if getattr(shipment, k) != v}
    before: dict[str, object] = {k: getattr(shipment, k) for k in values}
    after: dict[str, object] = dict(values)
    stored_containers = list(db.exec(select(Container).where(Container.shipment_id == shipment.id)
                                     .order_by(col(Container.id))).all())
    containers_now = [(c.number, c.size_type) for c in stored_containers]
    new_containers = row.containers if row is not None and row.containers is not None else None
    containers_changed = new_containers is not None and sorted(new_containers) != sorted(containers_now)
    if containers_changed:
        before["containers"] = [f"{n}:{s}" for n, s in containers_now]
        after["containers"] = [f"{n}:{s}" for n, s in new_containers or []]
    changed_steps = [s for s in steps or [] if s.changed]
    for step in changed_steps:
        for key, value in step.changed.items():
            before[f"{step.code}.{key}"] = getattr(step.stored, key) if step.stored is not None else None
            after[f"{step.code}.{key}"] = value
    if steps:
        dates = _mirror(shipment.mode, steps, only_changed=True)
        dates = {k: v for k, v in dates.items() if getattr(shipment, k) != v}
        status = _status(shipment.status, steps, only_changed=True)
        if status != shipment.status:
            dates["status"] = status
        if "eta_planned" in dates or "eta_estimated" in dates or "ata" in dates:
            planned = dates.get("eta_planned", shipment.eta_planned)
            latest = dates.get("ata", shipment.ata) or dates.get("eta_estimated", shipment.eta_estimated)
            dates["delay_minutes"] = delay_minutes(planned, latest)  # type: ignore[arg-type]
        for key, value in dates.items():
            if key != "delay_minutes":
                before.setdefault(key, getattr(shipment, key))
                after[key] = value
        values.update(dates)
    if not values and not containers_changed and not changed_steps:
        return False
    previous_eta = shipment.eta_estimated or shipment.eta_planned
    version = shipment.version
    done = db.exec(
        sa.update(Shipment).where(col(Shipment.id) == shipment.id, col(Shipment.version) == version)
        .values(**values, updated_at=now, version=Shipment.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        raise Conflict(f"Shipment {shipment.reference} was changed by someone else during the import. Import the file "
                       f"again. {NOTHING_IMPORTED}")
    db.expire(shipment)  # the conditional update went around the session: read the row again when it is next used
    if steps and changed_steps:
        if all(s.stored is None for s in steps):
            for step in steps:
                db.add(_milestone(shipment, step, now))
        for step in changed_steps:
            if step.stored is None:
                continue
            for key, value in step.changed.items():
                setattr(step.stored, key, value)
            if "actual_at" in step.changed:  # who reported the step happening, as a workspace edit records it
                step.stored.source = MilestoneSource.IMPORT.value
            step.stored.updated_at = now
            step.stored.version += 1
            db.add(step.stored)
    new_eta = values.get("eta_estimated")
    if isinstance(new_eta, datetime) and new_eta != previous_eta and shipment.ata is None:
        db.add(EtaChange(shipment_id=shipment.id, previous_eta=previous_eta, new_eta=new_eta,
                         reason_code=ETA_REASON, reason_text=f"Imported from the TMS ({filename[:60]})",
                         changed_by_id=principal.user_id, source="import", created_at=now))
    if containers_changed:
        keep = dict(new_containers or [])
        for stored_container in stored_containers:
            if stored_container.number not in keep:
                db.delete(stored_container)
            elif stored_container.size_type != keep[stored_container.number]:
                stored_container.size_type = keep[stored_container.number]
                db.add(stored_container)
        have = {c.number for c in stored_containers}
        for number, size in new_containers or []:
            if number not in have:
                db.add(Container(shipment_id=shipment.id, number=number, size_type=size))
    if containers_changed or SEARCH_FIELDS & set(values):
        db.flush()
        numbers = [n for n, _s in new_containers] if new_containers is not None else [n for n, _s in containers_now]
        _references(db, shipment, numbers, fresh=False)
    audit.record(db, principal, "shipment_import_updated", "shipment", shipment.reference, shipment.company_id,
                 _snapshot(before), {**_snapshot(after), "version": version + 1}, at=now)
    return True
