"""Bulk actions of the tower's board: on a selection of shipments, on a whole board filter, or on every shipment
of one vessel voyage or flight.

Each shipment is changed in a savepoint of its own with the same code as the workspace (validation, the
version lock, the audit row), so one refused shipment never blocks or half-writes the others. The report says
which shipments succeeded and which did not, and why. One audit row records the batch and its outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from pydantic import Field
from sqlmodel import Session, col, select

from models import Company, Shipment
from models.enums import ShipmentStatus
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import audit, clock
from portal_app.services import workspace as ws
from portal_app.services.board import BoardFilters, matching_ids
from portal_app.services.errors import ServiceError, ValidationFailed
from portal_app.services.inputs import Body, IsoDate, IsoDateTime
from portal_app.services.shipments import list_query

MAX_BULK = 500
NOTHING_CHANGED = "Nothing was changed."
CLOSED = (ShipmentStatus.CANCELLED.value, ShipmentStatus.CLOSED.value)


@dataclass(frozen=True)
class Selection:
    """Either shipment references picked on the board or the board's whole filter (resolved on the server)."""

    references: tuple[str, ...] = ()
    filters: BoardFilters | None = None


class Voyage(Body, frozen=True):
    """One vessel voyage (vessel name and voyage number) or one flight (flight number and departure date)."""

    vessel: str | None = Field(None, max_length=80)
    voyage: str | None = Field(None, max_length=20)
    flight: str | None = Field(None, max_length=12)
    flight_date: IsoDate | None = None

    def describe(self) -> str:
        if self.flight:
            return f"flight {self.flight} on {self.flight_date}"
        return f"{self.vessel} voyage {self.voyage}"


class VoyageMilestone(Voyage, frozen=True):
    """A milestone for every shipment of one voyage or flight (:func:`bulk_milestone`); of the times and the
    place, only those given are changed (``changes``)."""

    milestone: str = Field(max_length=40, description="Milestone code, e.g. vessel_departure")
    actual_at: IsoDateTime | None = None
    estimated_at: IsoDateTime | None = None
    location: str | None = Field(None, max_length=5)

    def changes(self) -> dict[str, object]:
        """The milestone's fields that were given (a null given clears), as the workspace takes them."""
        return {k: getattr(self, k) for k in ws.MILESTONE_FIELDS if k in self.model_fields_set}


class VoyageEta(Voyage, frozen=True):
    """A new ETA with its reason for every shipment of one voyage or flight (:func:`bulk_eta`)."""

    new_eta: IsoDateTime
    reason_code: str = Field(max_length=30)
    reason_text: str | None = Field(None, max_length=400)


@dataclass(frozen=True)
class Failure:
    reference: str
    reason: str


@dataclass(frozen=True)
class BulkReport:
    """What a bulk action did, with its summary in words (the API serves this record as it is)."""

    action: str
    requested: int
    succeeded: list[str]
    failed: list[Failure]
    message: str

    @classmethod
    def of(cls, action: str, requested: int, succeeded: list[str], failed: list[Failure]) -> BulkReport:
        text = f"{len(succeeded)} of {requested} shipments changed."
        if failed:
            saved = "the others are saved" if succeeded else "nothing was saved"
            text += f" {len(failed)} not changed (see the reason beside each); {saved}."
        return cls(action, requested, succeeded, failed, text)


# --------------------------------------------------------------------------------------------------- selecting


def _too_many(found: int) -> ValidationFailed:
    return ValidationFailed(
        f"This selection has {found:,} shipments; a bulk action takes at most {MAX_BULK} at once. Narrow the "
        f"filter (for example by customer, team or status) and try again. {NOTHING_CHANGED}"
    )


def select_shipments(db: Session, principal: Principal, selection: Selection) -> tuple[list[Shipment], list[Failure]]:
    """The shipments of a selection, in a stable order, and the references that were not found."""
    principal.require(Permission.USE_TOWER)
    if selection.references and selection.filters is not None:
        raise ValidationFailed(f"Send either references or a filter, not both. {NOTHING_CHANGED}")
    if selection.filters is not None:
        total = list_query(principal, selection.filters, page=1, page_size=1, sort="updated").total(db)
        if total > MAX_BULK:
            raise _too_many(total)
        ids = matching_ids(db, principal, selection.filters, limit=MAX_BULK)
        found = db.exec(select(Shipment).where(col(Shipment.id).in_(ids)).order_by(Shipment.reference)).all()
        return list(found), []
    refs = list(dict.fromkeys(r.strip().upper() for r in selection.references if r and r.strip()))
    if not refs:
        raise ValidationFailed(f"Pick at least one shipment, or apply the action to the whole filter. "
                               f"{NOTHING_CHANGED}")
    if len(refs) > MAX_BULK:
        raise _too_many(len(refs))
    rows = db.exec(select(Shipment).where(col(Shipment.reference).in_(refs),
                                          company_filter(col(Shipment.company_id), principal))).all()
    by_ref = {s.reference: s for s in rows}
    missing = [Failure(r, "No shipment with this reference was found.") for r in refs if r not in by_ref]
    return [by_ref[r] for r in refs if r in by_ref], missing


def _normal(value: str | None) -> str:
    return "".join((value or "").split()).upper()


def voyage_shipments(db: Session, principal: Principal, voyage: Voyage) -> list[Shipment]:
    """Every open shipment (not cancelled or closed) on one vessel voyage or one flight, by reference."""
    principal.require(Permission.USE_TOWER)
    clauses: list[sa.ColumnElement[bool]] = [col(Shipment.status).not_in(CLOSED),
                                              company_filter(col(Shipment.company_id), principal)]
    if voyage.flight:
        if voyage.flight_date is None:
            raise ValidationFailed(f"Give the flight's departure date as well as its number. {NOTHING_CHANGED}")
        day = datetime(voyage.flight_date.year, voyage.flight_date.month, voyage.flight_date.day, tzinfo=UTC)
        departure = sa.func.coalesce(Shipment.atd, Shipment.etd_estimated, Shipment.etd_planned)
        clauses += [sa.func.upper(sa.func.replace(Shipment.flight_number, " ", "")) == _normal(voyage.flight),
                    departure >= day, departure < day + timedelta(days=1)]
    elif voyage.vessel and voyage.voyage:
        clauses += [sa.func.upper(Shipment.vessel_name) == " ".join(voyage.vessel.split()).upper(),
                    sa.func.upper(Shipment.voyage_number) == _normal(voyage.voyage)]
    else:
        raise ValidationFailed(f"Name the vessel and its voyage number, or the flight number and date. "
                               f"{NOTHING_CHANGED}")
    rows = db.exec(select(Shipment).where(*clauses).order_by(Shipment.reference).limit(MAX_BULK + 1)).all()
    if len(rows) > MAX_BULK:
        raise _too_many(len(rows))
    if not rows:
        raise ValidationFailed(f"No open shipment is on {voyage.describe()}. Check the names and numbers. "
                               f"{NOTHING_CHANGED}")
    return list(rows)


@dataclass(frozen=True)
class BulkPreview:
    """What a bulk change would touch, before it is applied: how many shipments, of which customers, and the first
    references."""

    total: int
    customers: list[tuple[str, int]]  # (customer, shipments), most first
    references: list[str]  # the first PREVIEW_REFERENCES, by reference


PREVIEW_REFERENCES = 12


def _preview(db: Session, shipments: list[Shipment]) -> BulkPreview:
    names = dict(db.exec(select(Company.id, Company.name)
                         .where(col(Company.id).in_({s.company_id for s in shipments}))).all())
    counts: dict[str, int] = {}
    for s in shipments:
        counts[names.get(s.company_id, "?")] = counts.get(names.get(s.company_id, "?"), 0) + 1
    customers = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return BulkPreview(len(shipments), customers, [s.reference for s in shipments[:PREVIEW_REFERENCES]])


def preview_voyage(db: Session, principal: Principal, voyage: Voyage) -> BulkPreview:
    """The shipments a change to ``voyage`` would reach (the same selection the change uses); nothing changes."""
    principal.require(Permission.EDIT_SHIPMENTS)
    return _preview(db, voyage_shipments(db, principal, voyage))


def preview_selection(db: Session, principal: Principal, selection: Selection) -> BulkPreview:
    """The shipments an assign or customer update on ``selection`` would reach (the same selection the action
    resolves: a filter is read on the server now); references not found are left out. Nothing changes; a filter
    over the limit is refused as the action would be."""
    principal.require(Permission.EDIT_SHIPMENTS)
    shipments, _missing = select_shipments(db, principal, selection)
    return _preview(db, shipments)


# --------------------------------------------------------------------------------------------------- running


def _run(db: Session, principal: Principal, action: str, shipments: list[Shipment], missing: list[Failure],
         change: Callable[[Shipment, datetime], None], detail: Mapping[str, object]) -> BulkReport:
    now = clock.now()
    batch = audit.record(db, principal, f"bulk_{action}", "bulk", f"{action}:{now:%Y%m%dT%H%M%S}", None, None,
                         {**detail, "requested": len(shipments) + len(missing)}, at=now)
    db.flush()  # the batch row opens the transaction, so each savepoint below nests inside it
    succeeded: list[Shipment] = []
    failed = list(missing)
    for shipment in shipments:
        try:
            with db.begin_nested():
                change(shipment, now)
            succeeded.append(shipment)
        except ws.StaleVersion:
            failed.append(Failure(shipment.reference, "Someone else changed this shipment at the same moment; "
                                                      "run the action again for it."))
        except ServiceError as exc:
            failed.append(Failure(shipment.reference, exc.message))
    report = BulkReport.of(action, len(shipments) + len(missing), [s.reference for s in succeeded], failed)
    batch.after = audit.dumps({**detail, "requested": report.requested, "succeeded": report.succeeded,
                               "failed": {f.reference: f.reason for f in failed}})
    db.add(batch)
    db.commit()
    for shipment in succeeded:
        ws._after_change(db, shipment, now)
    return report


def _locked(db: Session, principal: Principal, plan: Callable[[Shipment, datetime], ws.Planned]
            ) -> Callable[[Shipment, datetime], None]:
    def change(shipment: Shipment, now: datetime) -> None:
        ws.apply_plan(db, principal, shipment, shipment.version, plan(shipment, now), now)
    return change


def bulk_assign(db: Session, principal: Principal, selection: Selection, changes: Mapping[str, object]
                ) -> BulkReport:
    """Set the owner and/or team of every selected shipment."""
    principal.require(Permission.ASSIGN_WORK)
    shipments, missing = select_shipments(db, principal, selection)
    return _run(db, principal, "assign", shipments, missing,
                _locked(db, principal, lambda s, now: ws.plan_assign(db, s, changes)), dict(changes))


def bulk_customer_update(db: Session, principal: Principal, selection: Selection, body: str) -> BulkReport:
    """Post one customer-visible update to every selected shipment."""
    principal.require(Permission.EDIT_SHIPMENTS)
    shipments, missing = select_shipments(db, principal, selection)

    def change(shipment: Shipment, now: datetime) -> None:
        ws.add_update(db, principal, shipment, body, "customer", now)
        db.flush()

    return _run(db, principal, "customer_update", shipments, missing, change, {"body": (body or "")[:200]})


def bulk_milestone(db: Session, principal: Principal, voyage: Voyage, code: str, changes: Mapping[str, object]
                   ) -> BulkReport:
    """Record a milestone (usually its actual time and place) on every shipment of one voyage or flight."""
    principal.require(Permission.EDIT_SHIPMENTS)
    shipments = voyage_shipments(db, principal, voyage)
    return _run(db, principal, "milestone", shipments, [],
                _locked(db, principal, lambda s, now: ws.plan_milestone(db, s, now, code, changes)),
                {"voyage": voyage.describe(), "milestone": code, **changes})


def bulk_eta(db: Session, principal: Principal, voyage: Voyage, new_eta: object, reason_code: str,
             reason_text: str | None = None) -> BulkReport:
    """A new ETA with a reason for every shipment of one voyage or flight (history, timeline, followers)."""
    principal.require(Permission.EDIT_SHIPMENTS)
    shipments = voyage_shipments(db, principal, voyage)
    return _run(db, principal, "eta", shipments, [],
                _locked(db, principal,
                        lambda s, now: ws.plan_eta(db, principal, s, now, new_eta, reason_code, reason_text)),
                {"voyage": voyage.describe(), "new_eta": new_eta, "reason_code": reason_code})
