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
from typing import Any

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
from models.enums import CompanyKind, MilestoneSource, Role, ShipmentStatus
from portal_app.auth.principal import Principal
from portal_app.services import clock
from portal_app.services import workspace as ws
from portal_app.services.carrier_events import schema
from portal_app.services.errors import ServiceError

log = logging.getLogger(__name__)

CLOSED = (ShipmentStatus.CLOSED.value, ShipmentStatus.CANCELLED.value)
OCEAN = ("ocean_fcl", "ocean_lcl")
MAX_MATCHES = 500  # one voyage carries many shipments, but not more than this

APPLIED, OLDER, UNCHANGED, NO_STEP, REFUSED = "applied", "older", "unchanged", "no_step", "refused"


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


def match_shipments(db: Session, connection: CarrierConnection, incoming: schema.Incoming) -> list[Shipment]:
    ids: set[int] = set()
    containers = {schema.norm(r) for r in incoming.equipment_references if r}
    if containers:
        ids |= set(db.exec(_carried(select(Shipment.id).join(Container, col(Container.shipment_id) == Shipment.id)
                                    .where(sa.func.upper(Container.number).in_(containers)), connection)).all())
        # staff matched this container by hand: their choice stands, whatever the shipment's carrier
        ids |= set(db.exec(_open(select(Shipment.id).join(CarrierMatch, col(CarrierMatch.shipment_id) == Shipment.id)
                                 .where(col(CarrierMatch.equipment_reference).in_(containers)))).all())
    if incoming.booking_references:
        ids |= set(db.exec(_carried(select(Shipment.id).where(
            col(Shipment.booking_number).in_(incoming.booking_references)), connection)).all())
    if incoming.bl_references:
        ids |= set(db.exec(_carried(select(Shipment.id).where(sa.or_(
            col(Shipment.mbl_number).in_(incoming.bl_references),
            col(Shipment.hbl_number).in_(incoming.bl_references))), connection)).all())
    if incoming.forwarder_references:
        ids |= set(db.exec(_carried(select(Shipment.id).where(
            col(Shipment.reference).in_({r.upper() for r in incoming.forwarder_references})), connection)).all())
    if incoming.event_type == "TRANSPORT" and incoming.voyages:
        voyages = {v.upper() for v in incoming.voyages}
        query = select(Shipment.id).where(sa.func.upper(Shipment.voyage_number).in_(voyages),
                                          col(Shipment.mode).in_(OCEAN))
        if incoming.vessel_name:
            query = _carried(query.where(sa.func.upper(Shipment.vessel_name) == incoming.vessel_name.upper()),
                             connection)
        else:  # no vessel named: only the carrier's own shipments on that voyage number
            query = _open(query).join(Carrier, col(Carrier.id) == Shipment.carrier_id).where(
                sa.func.upper(Carrier.code) == connection.carrier_code.upper())
        ids |= set(db.exec(query.limit(MAX_MATCHES)).all())
    if not ids:
        return []
    ordered = sorted(ids)[:MAX_MATCHES]
    return list(db.exec(select(Shipment).where(col(Shipment.id).in_(ordered)).order_by(col(Shipment.id))).all())


# ------------------------------------------------------------------------------------------------ applying


def carrier_principal(db: Session, connection: CarrierConnection) -> Principal:
    """Who acts when a carrier's event changes a shipment: nobody signed in (the audit trail's actor is empty,
    as for the system) and the carrier named in the rows it writes."""
    forwarder = db.exec(select(Company).where(Company.kind == CompanyKind.FORWARDER.value)
                        .order_by(col(Company.id))).first()
    return Principal(user_id=None, company_id=forwarder.id if forwarder else 0,  # type: ignore[arg-type]
                     role=Role.OPS_AGENT, email="", full_name=f"{connection.name} (carrier)",
                     company_name=forwarder.name if forwarder else "")


def _latest_applied(db: Session, shipment_id: int, code: str, kind: str) -> tuple[datetime, datetime] | None:
    row = db.exec(
        select(CarrierEvent.event_created_at, CarrierEvent.event_at)
        .join(CarrierEventShipment, col(CarrierEventShipment.carrier_event_id) == CarrierEvent.id)
        .where(CarrierEventShipment.shipment_id == shipment_id, CarrierEventShipment.milestone_code == code,
               CarrierEventShipment.kind == kind, CarrierEventShipment.outcome == APPLIED)
        .order_by(col(CarrierEvent.event_created_at).desc(), col(CarrierEvent.event_at).desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def _codes_of(db: Session, shipment: Shipment) -> tuple[str | None, str | None]:
    origin = db.get(Location, shipment.origin_id)
    destination = db.get(Location, shipment.destination_id)
    return ((origin.unlocode or origin.code) if origin else None,
            (destination.unlocode or destination.code) if destination else None)


def apply_to_shipment(db: Session, principal: Principal, connection: CarrierConnection, event: CarrierEvent,
                      incoming: schema.Incoming, shipment: Shipment, now: datetime) -> CarrierEventShipment:
    """What one event does to one shipment (written in a savepoint: a refusal leaves the shipment as it was)."""
    assert shipment.id is not None and event.id is not None
    kind = "actual" if incoming.classifier == "ACT" else "estimate"
    code = milestone_for(incoming, *_codes_of(db, shipment))

    def link(outcome: str, note: str | None = None) -> CarrierEventShipment:
        row = CarrierEventShipment(carrier_event_id=event.id or 0, shipment_id=shipment.id or 0,
                                   milestone_code=code, kind=kind, outcome=outcome, note=(note or "")[:600] or None,
                                   created_at=now)
        db.add(row)
        return row

    step = db.exec(select(Milestone).where(Milestone.shipment_id == shipment.id, Milestone.code == code)).first() \
        if code else None
    if code is None or step is None:
        what = f"{incoming.event_type} {incoming.event_code}"
        return link(NO_STEP, f"{shipment.reference} has no milestone that DCSA {what} updates"
                    + (f" ({code})" if code else "") + "; the event is kept.")
    latest = _latest_applied(db, shipment.id, code, kind)
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
    label = f"{connection.name}: DCSA {incoming.event_code} {incoming.classifier}"
    try:
        with db.begin_nested():
            if kind == "actual":
                plan = ws.plan_milestone(db, shipment, now, code, {"actual_at": target},
                                         source=MilestoneSource.CARRIER.value)
            elif arrival:
                plan = ws.plan_eta(db, principal, shipment, now, target, "CARRIER_UPDATE", label,
                                   source=MilestoneSource.CARRIER.value)
            else:
                plan = ws.plan_milestone(db, shipment, now, code, {"estimated_at": target},
                                         source=MilestoneSource.CARRIER.value)
            plan.values["last_tracking_at"] = now
            plan.after.update(source="carrier", carrier=connection.name, carrier_event=incoming.event_id)
            ws.apply_plan(db, principal, shipment, shipment.version, plan, now)
    except ws.StaleVersion:
        db.refresh(shipment)
        return link(REFUSED, "The shipment changed at the same moment; send the event again to apply it.")
    except ServiceError as exc:
        db.refresh(shipment)
        return link(REFUSED, exc.message)
    return link(APPLIED, f"{step.name}: {kind} {target.isoformat()}")


def _store(db: Session, connection: CarrierConnection, incoming: schema.Incoming, now: datetime
           ) -> CarrierEvent | None:
    """Keep the event, or None when this connection sent this eventID before (a redelivery)."""
    seen = db.exec(select(CarrierEvent.id).where(CarrierEvent.connection_id == connection.id,
                                                 CarrierEvent.event_id == incoming.event_id)).first()
    if seen is not None:
        return None
    row = CarrierEvent(
        connection_id=connection.id or 0, event_id=incoming.event_id, api_version=incoming.api_version,
        event_type=incoming.event_type[:12], event_code=incoming.event_code[:8], classifier=incoming.classifier,
        event_at=incoming.event_at, event_created_at=incoming.event_created_at,
        equipment_reference=(incoming.equipment_reference or next(iter(sorted(incoming.equipment_references)), None)
                             or None),
        location_code=(incoming.location_code or "")[:5] or None, vessel_name=(incoming.vessel_name or "")[:80] or None,
        voyage_numbers=", ".join(sorted(incoming.voyages))[:100] or None, status="unmatched",
        payload=json.dumps(incoming.payload, ensure_ascii=False, default=str), received_at=now)
    if row.equipment_reference:
        row.equipment_reference = row.equipment_reference[:15]
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:  # the same event arriving twice at the same moment
        return None
    return row


def apply_event(db: Session, principal: Principal, connection: CarrierConnection, event: CarrierEvent,
                incoming: schema.Incoming, shipments: Sequence[Shipment], now: datetime) -> list[Shipment]:
    """Apply a stored event to ``shipments``; the shipments it changed."""
    changed = []
    outcomes = []
    for shipment in shipments:
        result = apply_to_shipment(db, principal, connection, event, incoming, shipment, now)
        outcomes.append(f"{shipment.reference}: {result.note or result.outcome}")
        if result.outcome == APPLIED:
            changed.append(shipment)
    event.status = "applied" if changed else ("matched" if shipments else "unmatched")
    event.outcome = "; ".join(outcomes)[:600] or None
    db.add(event)
    return changed


def receive(db: Session, connection: CarrierConnection, events: Iterable[object], version: str,
            now: datetime | None = None) -> BatchResult:
    """Take a batch: refuse (and log) the invalid events, keep and apply the valid ones, each once."""
    now = now or clock.now()
    schema.require_checkers(version)
    read = schema.read_v2 if version == "2.2" else schema.read_v3
    principal = carrier_principal(db, connection)
    result = BatchResult()
    for raw in events:
        incoming = read(raw, now)
        if isinstance(incoming, schema.Refused):
            result.refused.append(incoming)
            db.add(CarrierEventRefusal(connection_id=connection.id or 0, event_id=(incoming.event_id or "")[:500]
                                       or None, reason=incoming.reason[:2000], excerpt=incoming.excerpt,
                                       received_at=now))
            db.commit()
            continue
        event = _store(db, connection, incoming, now)
        if event is None:
            result.duplicates += 1
            continue
        result.accepted += 1
        shipments = match_shipments(db, connection, incoming)
        changed = apply_event(db, principal, connection, event, incoming, shipments, now)
        if not shipments:
            result.unmatched += 1
        result.applied += len(changed)
        db.commit()
        for shipment in changed:
            ws._after_change(db, shipment, now)
    return result


def refuse_batch(db: Session, connection: CarrierConnection, reason: str, body: bytes, now: datetime | None = None
                 ) -> None:
    """Log a request whose body is not a list of events at all (the connection's log says why)."""
    db.add(CarrierEventRefusal(connection_id=connection.id or 0, reason=reason[:2000],
                               excerpt=body[:4000].decode("utf-8", "replace"), received_at=now or clock.now()))
    db.commit()
