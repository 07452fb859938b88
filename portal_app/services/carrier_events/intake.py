"""Carrier events in: take a batch, keep each event once, find its shipments, and move their milestones.

**Once.** An event is kept at most once per (connection, ``eventID``): a redelivered event changes nothing.

**Matching.** An event goes to every open shipment (not closed or cancelled) that one of its references names:

- container number (``equipmentReference``, and ``EQ`` references) against the shipment's containers, and the
  container numbers staff matched by hand before (:mod:`.queue`);
- carrier booking reference (document ``BKG``/``CBR``) against the booking number;
- transport document reference (``TRD``) against the master and the house B/L;
- the forwarder's reference (``FF``) against the shipment reference;
- for a transport event also vessel and voyage: every ocean shipment on that voyage (export, import or carrier
  voyage number) whose vessel name is the event's, or, when the event names no vessel, whose carrier is the
  connection's. One departure or arrival moves them all.

Only shipments the connection's carrier may speak for: booked with that carrier (``carrier_code`` against the
shipment's carrier) or with no carrier recorded. A shipment booked with another carrier is never touched by the
references alone; a container staff matched by hand to it is (their choice stands).

An event that matches nothing waits in the queue "Carrier events to match" (status ``unmatched``).

**Applying** (the same code the tower's staff use: :mod:`portal_app.services.workspace`, so exception rules, the
customer's timeline, notifications and the audit trail follow):

- ``ACT`` sets the milestone's actual time;
- ``EST`` and ``PLN`` move its estimate; for the arrival step that is an ETA change with the reason
  "Carrier update" (``CARRIER_UPDATE``), which the customer sees with the old and new ETA;
- an event older than the one already applied to the same shipment, milestone and kind (actual or estimate) never
  overwrites it: compared by ``eventCreatedDateTime`` (3.0: ``eventUpdatedDateTime``), then ``eventDateTime``.

**Batches.** A request's events are taken together: the refusals saved first, then the valid events in chunks of
:data:`CHUNK`, one transaction each (the eventIDs kept before read in one query, the references matched with one
query per kind for the chunk, the shipments' ports, milestones and latest applied events read once: :class:`Known`),
the shipment changes applied in memory and written together at the end of the chunk
(:class:`portal_app.services.workspace.Together`; one change at a time in savepoints if a shipment changed
meanwhile); then the exception rules once per changed shipment (:func:`portal_app.services.workspace._after_changes`).
At 100,000 shipments, taking a 1,000-event callback event by event (a commit and a rule evaluation per change) took
16 s, in savepoints 6 s, written together 3 s; see docs/benchmarks.md.

Which milestone an event is follows ``integrations/dcsa/ocean_milestones_dcsa_mapping.csv``; where one code means
two steps (a gate-in, a load, a discharge) the event's place against the shipment's origin and destination decides.
What each event did to each shipment is kept (``carrier_event_shipment``), and the event with its payload as sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import (
    Carrier,
    CarrierConnection,
    CarrierEvent,
    CarrierEventRefusal,
    CarrierEventShipment,
    CarrierMatch,
    Company,
    Container,
    Location,
    Milestone,
    Shipment,
)
from models.base import row_values
from models.enums import CompanyKind, MilestoneSource, Role, ShipmentStatus
from portal_app.auth.principal import Principal
from portal_app.db import insert_rows
from portal_app.services import clock, notifications
from portal_app.services import workspace as ws
from portal_app.services.carrier_events import schema
from portal_app.services.errors import ServiceError

log = logging.getLogger(__name__)

CLOSED = (ShipmentStatus.CLOSED.value, ShipmentStatus.CANCELLED.value)
OCEAN = ("ocean_fcl", "ocean_lcl")
MAX_MATCHES = 500  # one voyage carries many shipments, but not more than this
CHUNK = 500  # events per transaction, and values per IN (well under any database's limit of parameters)

APPLIED, OLDER, UNCHANGED, NO_STEP, REFUSED = "applied", "older", "unchanged", "no_step", "refused"


class Outcome(NamedTuple):
    """What one event did to one shipment (kept as a CarrierEventShipment row)."""

    outcome: str
    note: str | None


@dataclass
class BatchResult:
    accepted: int = 0
    duplicates: int = 0
    refused: list[schema.Refused] = field(default_factory=list)
    unmatched: int = 0
    applied: int = 0  # shipment changes made


# ------------------------------------------------------------------------------------------------ milestones


def milestone_for(incoming: schema.Incoming, origin: str | None, destination: str | None) -> str | None:
    """The portal milestone this event is about for a shipment from ``origin`` to ``destination`` (UN/LOCODEs)."""
    code, where = incoming.event_code, incoming.location_code
    at_origin = where is not None and where == origin
    at_destination = where is not None and where == destination
    laden = incoming.empty_indicator != "EMPTY"
    if incoming.event_type == "TRANSPORT":
        if code == "DEPA" and (where is None or at_origin):
            return "vessel_departure"
        if code == "ARRI" and (where is None or at_destination):
            return "vessel_arrival"
        return None
    if incoming.event_type == "SHIPMENT":
        return {("CONF", "BKG"): "booking_confirmed", ("CANC", "BKG"): "booking_cancelled",
                ("RECE", "SHI"): "shipping_instructions_received", ("DRFT", "TRD"): "bl_draft",
                ("ISSU", "TRD"): "bl_issued", ("SURR", "TRD"): "bl_surrendered",
                ("ISSU", "ARN"): "arrival_notice_issued", ("RELS", "SRM"): "customs_released",
                ("RELS", "CUS"): "customs_released", ("RELS", "CUC"): "customs_released",
                }.get((code, incoming.document_type or ""))
    if incoming.event_type != "EQUIPMENT":
        return None
    if code in ("GTOT", "PICK") and not laden and not at_destination:
        return "empty_container_released_to_shipper"
    if code == "GTOT" and laden and not at_origin:
        return "gate_out_full_from_pod"
    if code == "GTIN":
        if not laden:
            return "empty_returned"
        return "gate_in_full_at_pol" if not at_destination else None
    if code == "LOAD":
        return "loaded_on_vessel" if where is None or at_origin else "transshipment_load"
    if code == "DISC":
        return "discharged_at_pod" if where is None or at_destination else "transshipment_discharge"
    return {"STUF": "stuffed", "STRP": "stripped", "CUSR": "customs_released", "AVPU": "available_for_pickup",
            "DROP": "delivered_to_consignee"}.get(code)


# ------------------------------------------------------------------------------------------------ matching


def _open(query: Any) -> Any:
    return query.where(col(Shipment.status).not_in(CLOSED))


def _carried(query: Any, connection: CarrierConnection) -> Any:
    """Open shipments this connection's carrier may speak for: booked with that carrier, or with none recorded. A
    shipment booked with another carrier is never touched, even if a container or a bill number coincides."""
    return _open(query).outerjoin(Carrier, col(Carrier.id) == Shipment.carrier_id).where(sa.or_(
        col(Shipment.carrier_id).is_(None), sa.func.upper(Carrier.code) == connection.carrier_code.upper()))


def _by_key(rows: Iterable[Sequence[Any]]) -> dict[str, set[int]]:
    """``(shipment id, key, key, ...)`` rows as key -> shipment ids (a shipment found by its house and its master
    bill is under both)."""
    found: dict[str, set[int]] = {}
    for shipment_id, *keys in rows:
        for key in keys:
            if key is not None:
                found.setdefault(key, set()).add(shipment_id)
    return found


@dataclass
class References:
    """Every reference a batch's events name, by kind, and the shipments each one finds: one query per kind for
    the whole batch (with an IN over the batch's values, by the same indexes), not a handful per event."""

    containers: dict[str, set[int]] = field(default_factory=dict)
    hand_matched: dict[str, set[int]] = field(default_factory=dict)
    bookings: dict[str, set[int]] = field(default_factory=dict)
    bills: dict[str, set[int]] = field(default_factory=dict)
    forwarders: dict[str, set[int]] = field(default_factory=dict)

    @classmethod
    def look_up(cls, db: Session, connection: CarrierConnection, batch: Sequence[schema.Incoming]) -> References:
        containers = {schema.norm(r) for i in batch for r in i.equipment_references if r}
        bookings = {r for i in batch for r in i.booking_references}
        bills = {r for i in batch for r in i.bl_references}
        forwarders = {r.upper() for i in batch for r in i.forwarder_references}
        found = cls()
        if containers:
            number = sa.func.upper(Container.number)
            found.containers = _by_key(db.exec(_carried(
                select(Shipment.id, number).join(Container, col(Container.shipment_id) == Shipment.id)
                .where(number.in_(containers)), connection)).all())
            # staff matched this container by hand: their choice stands, whatever the shipment's carrier
            found.hand_matched = _by_key(db.exec(_open(
                select(Shipment.id, CarrierMatch.equipment_reference)
                .join(CarrierMatch, col(CarrierMatch.shipment_id) == Shipment.id)
                .where(col(CarrierMatch.equipment_reference).in_(containers)))).all())
        if bookings:
            found.bookings = _by_key(db.exec(_carried(select(Shipment.id, Shipment.booking_number).where(
                col(Shipment.booking_number).in_(bookings)), connection)).all())
        if bills:
            found.bills = _by_key(db.exec(_carried(select(Shipment.id, Shipment.mbl_number, Shipment.hbl_number)
                                                   .where(sa.or_(col(Shipment.mbl_number).in_(bills),
                                                                 col(Shipment.hbl_number).in_(bills))),
                                                   connection)).all())
        if forwarders:
            found.forwarders = _by_key(db.exec(_carried(select(Shipment.id, Shipment.reference).where(
                col(Shipment.reference).in_(forwarders)), connection)).all())
        return found

    def of(self, incoming: schema.Incoming) -> set[int]:
        """The shipments one event's references find (its vessel and voyage aside: see :func:`_on_voyage`)."""
        ids: set[int] = set()
        for container in {schema.norm(r) for r in incoming.equipment_references if r}:
            ids |= self.containers.get(container, set()) | self.hand_matched.get(container, set())
        for booking in incoming.booking_references:
            ids |= self.bookings.get(booking, set())
        for bill in incoming.bl_references:
            ids |= self.bills.get(bill, set())
        for reference in incoming.forwarder_references:
            ids |= self.forwarders.get(reference.upper(), set())
        return ids


def _on_voyage(db: Session, connection: CarrierConnection, incoming: schema.Incoming) -> set[int]:
    """For a transport event, the open ocean shipments on its vessel and voyage (one query per transport event:
    a batch has few, and each names its own vessel)."""
    if incoming.event_type != "TRANSPORT" or not incoming.voyages:
        return set()
    voyages = {v.upper() for v in incoming.voyages}
    query = select(Shipment.id).where(sa.func.upper(Shipment.voyage_number).in_(voyages),
                                      col(Shipment.mode).in_(OCEAN))
    if incoming.vessel_name:
        query = _carried(query.where(sa.func.upper(Shipment.vessel_name) == incoming.vessel_name.upper()), connection)
    else:  # no vessel named: only the carrier's own shipments on that voyage number
        query = _open(query).join(Carrier, col(Carrier.id) == Shipment.carrier_id).where(
            sa.func.upper(Carrier.code) == connection.carrier_code.upper())
    return set(db.exec(query.limit(MAX_MATCHES)).all())


def match_batch(db: Session, connection: CarrierConnection, batch: Sequence[schema.Incoming]
                ) -> list[list[Shipment]]:
    """The shipments each event of ``batch`` goes to (in the batch's order; each list by shipment id), loaded once
    for the batch: an event of a container and one of its booking get the same ``Shipment`` object."""
    references = References.look_up(db, connection, batch)
    ids = [sorted(references.of(i) | _on_voyage(db, connection, i))[:MAX_MATCHES] for i in batch]
    wanted = sorted({i for found in ids for i in found})
    loaded: dict[int, Shipment] = {}
    for chunk in _chunks(wanted):
        loaded.update((s.id or 0, s) for s in db.exec(select(Shipment).where(col(Shipment.id).in_(chunk))).all())
    return [[loaded[i] for i in found if i in loaded] for found in ids]


def match_shipments(db: Session, connection: CarrierConnection, incoming: schema.Incoming) -> list[Shipment]:
    """The shipments one event goes to."""
    return match_batch(db, connection, [incoming])[0]


# ------------------------------------------------------------------------------------------------ applying


def carrier_principal(db: Session, connection: CarrierConnection) -> Principal:
    """Who acts when a carrier's event changes a shipment: nobody signed in (the audit trail's actor is empty,
    as for the system) and the carrier named in the rows it writes."""
    forwarder = db.exec(select(Company).where(Company.kind == CompanyKind.FORWARDER.value)
                        .order_by(col(Company.id))).first()
    return Principal(user_id=None, company_id=forwarder.id if forwarder else 0,  # type: ignore[arg-type]
                     role=Role.OPS_AGENT, email="", full_name=f"{connection.name} (carrier)",
                     company_name=forwarder.name if forwarder else "")


Latest = tuple[datetime, datetime]  # (eventCreatedDateTime, eventDateTime) of the event applied last


def _kind(incoming: schema.Incoming) -> str:
    """What an event sets on a milestone: its actual time, or its estimate (PLN and EST alike)."""
    return "actual" if incoming.classifier == "ACT" else "estimate"


@dataclass
class Known:
    """What applying events needs to know of the shipments they go to, read once for a batch (with one query each
    over all its shipments) instead of for every event and shipment: their origin and destination codes, their
    milestones, and the latest event applied to each (shipment, milestone, kind). Kept current as events apply:
    a later event of the same batch is compared with the ones applied before it.

    It also holds what the events did (their outcome rows and statuses) until :meth:`write`: written together at the
    end of the batch (one INSERT and one UPDATE for many rows) instead of a statement or two for every event and
    shipment; nothing in between reads them."""

    codes: dict[int, tuple[str | None, str | None]] = field(default_factory=dict)
    steps: dict[int, list[Milestone]] = field(default_factory=dict)  # each shipment's, in order
    latest: dict[tuple[int, str, str], Latest] = field(default_factory=dict)
    outcomes: list[dict[str, Any]] = field(default_factory=list)  # CarrierEventShipment rows
    statuses: list[tuple[CarrierEvent, str, str | None]] = field(default_factory=list)
    # the shipment changes, applied in memory and written together at the end (None: one by one, each in a savepoint)
    together: ws.Together | None = None
    # the places of the shipments and their milestones, held here so the session keeps them (it holds what it
    # loaded only while something else does): an ETA change or a milestone reached reads them from the session
    places: dict[int, Location] = field(default_factory=dict)

    @classmethod
    def load(cls, db: Session, work: Iterable[tuple[schema.Incoming, Shipment]]) -> Known:
        """What applying each event of ``work`` to its shipment needs: the shipments' places, then the milestones
        of the shipments with a step the events are about (all of them: a change checks and moves the steps around
        it) and the events applied before to those steps."""
        known = cls()
        pairs = list(work)
        by_id = {s.id: s for _incoming, s in pairs if s.id is not None}
        for chunk in _chunks(sorted(by_id)):
            known._load_codes(db, [by_id[i] for i in chunk])
        wanted = {(s.id or 0, code, _kind(incoming)) for incoming, s in pairs
                  if (code := known.milestone(incoming, s)) is not None}
        codes = sorted({code for _sid, code, _kind_ in wanted})
        for chunk in _chunks(sorted({sid for sid, _code, _kind_ in wanted})):
            for step in db.exec(select(Milestone).where(col(Milestone.shipment_id).in_(chunk))
                                .order_by(col(Milestone.shipment_id), col(Milestone.sequence))).all():
                known.steps.setdefault(step.shipment_id, []).append(step)
            for sid, code, kind, created, at in db.execute(
                    sa.select(col(CarrierEventShipment.shipment_id), col(CarrierEventShipment.milestone_code),
                              col(CarrierEventShipment.kind), col(CarrierEvent.event_created_at),
                              col(CarrierEvent.event_at))
                    .join(CarrierEvent, col(CarrierEvent.id) == CarrierEventShipment.carrier_event_id)
                    .where(col(CarrierEventShipment.shipment_id).in_(chunk),
                           col(CarrierEventShipment.milestone_code).in_(codes),
                           col(CarrierEventShipment.outcome) == APPLIED)).all():
                if (sid, code, kind) in wanted:
                    known.note(sid, code, kind, (created, at))
        places = {m.location_id for steps in known.steps.values() for m in steps if m.location_id is not None}
        for chunk in _chunks(sorted(places - set(known.places))):  # a milestone reached names its place
            known.places.update((p.id or 0, p) for p in db.exec(select(Location).where(col(Location.id).in_(chunk))))
        return known

    def milestone(self, incoming: schema.Incoming, shipment: Shipment) -> str | None:
        """The shipment's milestone the event is about (its place against the shipment's ports)."""
        return milestone_for(incoming, *self.codes.get(shipment.id or 0, (None, None)))

    def step(self, shipment_id: int, code: str) -> Milestone | None:
        return next((m for m in self.steps.get(shipment_id, ()) if m.code == code), None)

    def _load_codes(self, db: Session, shipments: list[Shipment]) -> None:
        """The shipments' origin and destination codes (the places loaded whole: an ETA change reads its
        destination's time zone, then from the session)."""
        places = {i for s in shipments for i in (s.origin_id, s.destination_id) if i is not None}
        if places:
            self.places.update((p.id or 0, p) for p in db.exec(select(Location).where(col(Location.id).in_(places))))
        code = {i: p.unlocode or p.code for i, p in self.places.items()}
        for s in shipments:
            assert s.id is not None
            self.codes[s.id] = (code.get(s.origin_id), code.get(s.destination_id))

    def write(self, db: Session) -> None:
        """Add what the events did so far to the session (the caller's flush or commit writes it)."""
        for event, status, outcome in self.statuses:
            event.status, event.outcome = status, outcome
        db.add_all([event for event, _status, _outcome in self.statuses])
        insert_rows(db, CarrierEventShipment, self.outcomes)
        self.outcomes, self.statuses = [], []

    def note(self, shipment_id: int, code: str, kind: str, applied: Latest) -> None:
        """An event applied to this shipment's step and kind: the newest one is what a later event must beat."""
        key = (shipment_id, code, kind)
        if key not in self.latest or applied > self.latest[key]:
            self.latest[key] = applied


def apply_to_shipment(db: Session, principal: Principal, connection: CarrierConnection, event: CarrierEvent,
                      incoming: schema.Incoming, shipment: Shipment, now: datetime, known: Known | None = None
                      ) -> Outcome:
    """What one event does to one shipment (written in a savepoint: a refusal leaves the shipment as it was)."""
    assert shipment.id is not None and event.id is not None
    ours: Known = known if known is not None else Known.load(db, [(incoming, shipment)])
    kind = _kind(incoming)
    code = ours.milestone(incoming, shipment)

    def link(outcome: str, note: str | None = None) -> Outcome:
        row = row_values(CarrierEventShipment, carrier_event_id=event.id or 0, shipment_id=shipment.id or 0,
                         milestone_code=code, kind=kind, outcome=outcome, note=(note or "")[:600] or None,
                         created_at=now)
        if known is None:  # one event alone: written with the caller's next flush
            db.add(CarrierEventShipment(**row))
        else:  # a batch's: written at its end (Known.write)
            ours.outcomes.append(row)
        return Outcome(outcome, row["note"])

    step = ours.step(shipment.id, code) if code else None
    if code is None or step is None:
        what = f"{incoming.event_type} {incoming.event_code}"
        return link(NO_STEP, f"{shipment.reference} has no milestone that DCSA {what} updates"
                    + (f" ({code})" if code else "") + "; the event is kept.")
    latest = ours.latest.get((shipment.id, code, kind))
    if latest is not None and (incoming.event_created_at, incoming.event_at) < latest:
        return link(OLDER, f"An event created later ({latest[0].isoformat()}) was already applied to {step.name}; "
                    "this older one changes nothing.")
    target = incoming.event_at
    if kind == "actual" and step.actual_at == target:
        return link(UNCHANGED, f"{step.name} already has this actual time.")
    arrival = code in ws.ARRIVAL_STEPS
    if kind == "estimate":
        current = (shipment.eta_estimated or shipment.eta_planned) if arrival else step.estimated_at
        if current == target:
            return link(UNCHANGED, f"{step.name} is already estimated at this time.")
    steps = ours.steps.get(shipment.id)

    def plan() -> ws.Planned:
        label = f"{connection.name}: DCSA {incoming.event_code} {incoming.classifier}"
        source = MilestoneSource.CARRIER.value
        if kind == "actual":
            planned = ws.plan_milestone(db, shipment, now, code, {"actual_at": target}, source=source, steps=steps)
        elif arrival:
            planned = ws.plan_eta(db, principal, shipment, now, target, "CARRIER_UPDATE", label, source=source,
                                  steps=steps)
        else:
            planned = ws.plan_milestone(db, shipment, now, code, {"estimated_at": target}, source=source,
                                        steps=steps)
        planned.values["last_tracking_at"] = now
        planned.after.update(source="carrier", carrier=connection.name, carrier_event=incoming.event_id)
        return planned

    if ours.together is not None:  # a plan refuses before it changes anything: no savepoint needed
        try:
            ws.apply_plan_together(db, principal, shipment, plan(), now, ours.together)
        except ServiceError as exc:
            return link(REFUSED, exc.message)
        ours.note(shipment.id, code, kind, (incoming.event_created_at, incoming.event_at))
        return link(APPLIED, f"{step.name}: {kind} {target.isoformat()}")
    held = notifications.held_mark(db)
    try:
        with db.begin_nested():
            ws.apply_plan(db, principal, shipment, shipment.version, plan(), now)
    except (ws.StaleVersion, ServiceError) as exc:
        notifications.drop_held(db, held)
        db.refresh(shipment)
        for other in steps or ():  # the savepoint's rollback left them expired; read again with the shipment
            db.refresh(other)
        return link(REFUSED, exc.message if isinstance(exc, ServiceError)
                    else "The shipment changed at the same moment; send the event again to apply it.")
    ours.note(shipment.id, code, kind, (incoming.event_created_at, incoming.event_at))
    return link(APPLIED, f"{step.name}: {kind} {target.isoformat()}")


def _event_row(connection: CarrierConnection, incoming: schema.Incoming, now: datetime) -> dict[str, Any]:
    """The event as kept (a CarrierEvent row's values): what the portal read from it, and its payload as sent."""
    equipment = incoming.equipment_reference or next(iter(sorted(incoming.equipment_references)), None)
    return row_values(
        CarrierEvent,
        connection_id=connection.id or 0, event_id=incoming.event_id, api_version=incoming.api_version,
        event_type=incoming.event_type[:12], event_code=incoming.event_code[:8], classifier=incoming.classifier,
        event_at=incoming.event_at, event_created_at=incoming.event_created_at,
        equipment_reference=(equipment or "")[:15] or None,
        location_code=(incoming.location_code or "")[:5] or None, vessel_name=(incoming.vessel_name or "")[:80] or None,
        voyage_numbers=", ".join(sorted(incoming.voyages))[:100] or None, status="unmatched",
        payload=json.dumps(incoming.payload, ensure_ascii=False, default=str), received_at=now)


def _store(db: Session, connection: CarrierConnection, incoming: schema.Incoming, now: datetime
           ) -> CarrierEvent | None:
    """Keep one event, or None when this connection sent this eventID before (a redelivery)."""
    seen = db.exec(select(CarrierEvent.id).where(CarrierEvent.connection_id == connection.id,
                                                 CarrierEvent.event_id == incoming.event_id)).first()
    if seen is not None:
        return None
    row = CarrierEvent(**_event_row(connection, incoming, now))
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:  # the same event arriving twice at the same moment
        return None
    return row


def store_new(db: Session, connection: CarrierConnection, batch: Sequence[schema.Incoming], now: datetime
              ) -> list[tuple[schema.Incoming, CarrierEvent]]:
    """Keep the events of ``batch`` this connection never sent before, each once, with what was kept for each.

    The eventIDs already kept are read in one query, an eventID sent twice in the batch is kept the first time,
    and one INSERT writes the rest. Only if another request kept one of them in between (the unique key on
    connection and eventID says so) is each event written on its own, so that one is skipped and the rest kept.
    """
    wanted = {i.event_id for i in batch}
    seen: set[str] = set()
    for chunk in _chunks(sorted(wanted)):
        seen.update(db.exec(select(CarrierEvent.event_id).where(CarrierEvent.connection_id == connection.id,
                                                                col(CarrierEvent.event_id).in_(chunk))).all())
    fresh: list[schema.Incoming] = []
    for incoming in batch:
        if incoming.event_id not in seen:
            seen.add(incoming.event_id)
            fresh.append(incoming)
    if not fresh:
        return []
    try:  # one INSERT for all (the ORM would insert each alone), then read back with their ids
        insert_rows(db, CarrierEvent, [_event_row(connection, i, now) for i in fresh])
    except IntegrityError:  # a concurrent delivery of some of them: the chunk's first write, so undo it; one at a time
        db.rollback()
        return [(i, row) for i in fresh if (row := _store(db, connection, i, now)) is not None]
    kept: dict[str, CarrierEvent] = {}
    for chunk in _chunks([i.event_id for i in fresh]):
        kept.update((e.event_id, e) for e in db.exec(select(CarrierEvent).where(
            CarrierEvent.connection_id == connection.id, col(CarrierEvent.event_id).in_(chunk))).all())
    return [(i, kept[i.event_id]) for i in fresh]


def apply_event(db: Session, principal: Principal, connection: CarrierConnection, event: CarrierEvent,
                incoming: schema.Incoming, shipments: Sequence[Shipment], now: datetime,
                known: Known | None = None) -> list[Shipment]:
    """Apply a stored event to ``shipments``; the shipments it changed. ``known``: what the batch read of them,
    which then holds the event's outcome until the batch writes it (without it, read here and added at once)."""
    alone = known is None
    known = Known.load(db, [(incoming, s) for s in shipments]) if known is None else known
    changed = []
    outcomes = []
    for shipment in shipments:
        result = apply_to_shipment(db, principal, connection, event, incoming, shipment, now, known)
        outcomes.append(f"{shipment.reference}: {result.note or result.outcome}")
        if result.outcome == APPLIED:
            changed.append(shipment)
    known.statuses.append((event, "applied" if changed else ("matched" if shipments else "unmatched"),
                           "; ".join(outcomes)[:600] or None))
    if alone:
        known.write(db)
    return changed


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def _refuse(db: Session, connection: CarrierConnection, refused: schema.Refused, now: datetime) -> None:
    db.add(CarrierEventRefusal(connection_id=connection.id or 0, event_id=(refused.event_id or "")[:500] or None,
                               reason=refused.reason[:2000], excerpt=refused.excerpt, received_at=now))


def _take(db: Session, principal: Principal, connection: CarrierConnection, batch: Sequence[schema.Incoming],
          now: datetime, result: BatchResult, *, together: bool = True) -> set[int]:
    """Keep, match and apply a chunk of valid events in one transaction; the ids of the shipments changed.

    One commit for the chunk, not one per event and shipment. ``together``: the shipment changes are applied in
    memory and written together at the end (:class:`portal_app.services.workspace.Together`), which raises
    :class:`~portal_app.services.workspace.StaleVersion` when a shipment changed meanwhile; else each change runs
    in its own savepoint (a change that meets another refuses alone and the rest of the chunk stands).
    """
    stored = store_new(db, connection, batch, now)
    result.duplicates += len(batch) - len(stored)
    result.accepted += len(stored)
    matched = match_batch(db, connection, [incoming for incoming, _event in stored])
    known = Known.load(db, [(incoming, s) for (incoming, _event), found in zip(stored, matched, strict=True)
                            for s in found])
    known.together = ws.Together() if together else None
    changed: set[int] = set()
    with notifications.held_together(db):  # the chunk's notices written together, with its changes
        for (incoming, event), shipments in zip(stored, matched, strict=True):
            moved = apply_event(db, principal, connection, event, incoming, shipments, now, known)
            if not shipments:
                result.unmatched += 1
            result.applied += len(moved)
            changed.update(s.id for s in moved if s.id is not None)
        if known.together is not None:  # before the notices' queries would write the steps one by one
            ws.write_together(db, known.together, {s.id: s.version for found in matched for s in found
                                                   if s.id is not None})
    known.write(db)
    db.commit()
    return changed


def receive(db: Session, connection: CarrierConnection, events: Iterable[object], version: str,
            now: datetime | None = None) -> BatchResult:
    """Take a batch: refuse (and log) the invalid events, keep and apply the valid ones, each once.

    The refusals are saved first (they stand whatever happens next), then the valid events in order, in chunks
    of :data:`CHUNK` (one transaction each), then the exception rules of the shipments they changed, once per
    shipment (an arrival estimate and a load of the same shipment in one batch are one evaluation).
    """
    now = now or clock.now()
    schema.require_checkers(version)
    read = schema.read_v2 if version == "2.2" else schema.read_v3
    principal = carrier_principal(db, connection)
    result = BatchResult()
    valid: list[schema.Incoming] = []
    for raw in events:
        incoming = read(raw, now)
        if isinstance(incoming, schema.Refused):
            result.refused.append(incoming)
            _refuse(db, connection, incoming, now)
        else:
            valid.append(incoming)
    if result.refused:
        db.commit()
    changed: set[int] = set()
    for chunk in _chunks(valid):
        taken = BatchResult()
        try:
            changed |= _take(db, principal, connection, chunk, now, taken)
        except ws.StaleVersion:  # a shipment changed meanwhile: nothing of the chunk stands; again, one by one
            db.rollback()
            taken = BatchResult()
            changed |= _take(db, principal, connection, chunk, now, taken, together=False)
        result.accepted += taken.accepted
        result.duplicates += taken.duplicates
        result.unmatched += taken.unmatched
        result.applied += taken.applied
    ws._after_changes(db, changed, now)
    return result


def refuse_batch(db: Session, connection: CarrierConnection, reason: str, body: bytes, now: datetime | None = None
                 ) -> None:
    """Log a request whose body is not a list of events at all (the connection's log says why)."""
    db.add(CarrierEventRefusal(connection_id=connection.id or 0, reason=reason[:2000],
                               excerpt=body[:4000].decode("utf-8", "replace"), received_at=now or clock.now()))
    db.commit()
