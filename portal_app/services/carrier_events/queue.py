"""Carrier events to match: the events that named no shipment the portal knows, for staff to place by hand.

Matching one applies it to the chosen shipment as if it had matched (the same rules: once, never over a newer
event), and by default remembers its container number for that shipment, so the carrier's later events of that
container find it by themselves. Staff who may edit shipments only; each match is on the audit trail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from models import CarrierConnection, CarrierEvent, CarrierMatch, Shipment
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import audit, clock
from portal_app.services import workspace as ws
from portal_app.services.carrier_events import intake, schema
from portal_app.services.errors import Conflict, NotFound, ValidationFailed

MAX_ROWS = 200


@dataclass(frozen=True)
class UnmatchedRow:
    id: int
    carrier: str
    event_id: str
    event: str  # e.g. "EQUIPMENT LOAD ACT"
    event_at: datetime
    equipment_reference: str | None
    references: str  # every reference the event names, in words
    location_code: str | None
    received_at: datetime


@dataclass(frozen=True)
class MatchResult:
    event_id: int
    shipment_reference: str
    outcome: str
    note: str | None
    remembered: str | None


def _require(principal: Principal) -> None:
    principal.require(Permission.USE_TOWER)
    principal.require(Permission.EDIT_SHIPMENTS)


def _reread(event: CarrierEvent) -> schema.Incoming:
    """The stored payload read again (it was valid when it came; only the reading is needed, not the checks)."""
    payload = json.loads(event.payload)
    read = schema.read_v2 if event.api_version == "2.2" else schema.read_v3
    incoming = read(payload, event.received_at)
    if isinstance(incoming, schema.Refused):  # the rules changed since; keep the stored reading
        incoming = schema.Incoming(event.api_version, event.event_id, event.event_type, event.event_code,
                                   event.classifier, event.event_at, event.event_created_at, payload,
                                   equipment_reference=event.equipment_reference,
                                   location_code=event.location_code)
    return incoming


def _references(incoming: schema.Incoming) -> str:
    parts = [f"container {', '.join(sorted(incoming.equipment_references))}" if incoming.equipment_references
             else "", f"booking {', '.join(sorted(incoming.booking_references))}" if incoming.booking_references
             else "", f"B/L {', '.join(sorted(incoming.bl_references))}" if incoming.bl_references else "",
             f"vessel {incoming.vessel_name or '?'} voyage {', '.join(sorted(incoming.voyages))}"
             if incoming.voyages else ""]
    return "; ".join(p for p in parts if p) or "no reference"


def unmatched(db: Session, principal: Principal, limit: int = MAX_ROWS) -> list[UnmatchedRow]:
    _require(principal)
    rows = db.exec(select(CarrierEvent, CarrierConnection.name)
                   .join(CarrierConnection, col(CarrierConnection.id) == CarrierEvent.connection_id)
                   .where(CarrierEvent.status == "unmatched")
                   .order_by(col(CarrierEvent.received_at).desc(), col(CarrierEvent.id).desc())
                   .limit(min(limit, MAX_ROWS))).all()
    return [UnmatchedRow(id=e.id or 0, carrier=name, event_id=e.event_id,
                         event=f"{e.event_type} {e.event_code} {e.classifier}", event_at=e.event_at,
                         equipment_reference=e.equipment_reference, references=_references(_reread(e)),
                         location_code=e.location_code, received_at=e.received_at) for e, name in rows]


def match(db: Session, principal: Principal, event_id: int, shipment_reference: str, *,
          remember_container: bool = True) -> MatchResult:
    """Apply the unmatched event ``event_id`` to the shipment ``shipment_reference``."""
    _require(principal)
    event = db.get(CarrierEvent, event_id)
    if event is None:
        raise NotFound("No carrier event has this id. Reload the list; nothing was changed.")
    if event.status != "unmatched":
        raise Conflict("This carrier event was matched already (by someone else or by a later event's reference). "
                       "Reload the list; nothing was changed.")
    reference = " ".join(str(shipment_reference or "").split()).upper()
    shipment = db.exec(select(Shipment).where(Shipment.reference == reference)).first()
    if shipment is None:
        raise ValidationFailed(f"No shipment has the reference {reference or '(empty)'}. Check it and choose again; "
                               "nothing was changed.", fields={"shipment_reference": "No shipment has this reference."})
    if shipment.status in intake.CLOSED:
        raise ValidationFailed(f"Shipment {reference} is {shipment.status}; carrier events are not applied to it. "
                               "Choose an open shipment; nothing was changed.",
                               fields={"shipment_reference": "This shipment is closed or cancelled."})
    connection = db.get(CarrierConnection, event.connection_id)
    assert connection is not None
    now = clock.now()
    incoming = _reread(event)
    changed = intake.apply_event(db, intake.carrier_principal(db, connection), connection, event, incoming,
                                 [shipment], now)
    remembered = None
    container = schema.norm(event.equipment_reference) if event.equipment_reference else None
    if remember_container and container:
        known = db.exec(select(CarrierMatch.id).where(CarrierMatch.equipment_reference == container,
                                                      CarrierMatch.shipment_id == shipment.id)).first()
        if known is None:
            db.add(CarrierMatch(equipment_reference=container, shipment_id=shipment.id or 0,
                                created_by_id=principal.user_id, created_at=now))
        remembered = container
    audit.record(db, principal, "carrier_event_matched", "shipment", shipment.reference, shipment.company_id, None,
                 {"carrier_event": event.event_id, "carrier": connection.name, "container_remembered": remembered})
    db.commit()
    for moved in changed:
        ws._after_change(db, moved, now)
    outcome = event.outcome
    return MatchResult(event_id=event.id or 0, shipment_reference=shipment.reference,
                       outcome="applied" if changed else "matched", note=outcome, remembered=remembered)
