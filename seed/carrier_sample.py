"""`python -m seed.carrier_sample`: a DCSA Track & Trace 2.2 event for the demo's carrier connection that moves
something a demo customer can watch. It names the vessel and voyage of one of Acme's open Maersk shipments and says
the vessel now arrives two days later than the shipment's current estimate: every open shipment on that voyage gets
an ETA change with the reason "Carrier update", and the customers are told as their preferences say.

Prints the JSON body on standard output (the README signs it with the demo secret and posts it with curl) and, on
standard error, the shipments it will move. The event is made from the database as it is now, so it fits a demo
seeded on any day; each run makes a new event (a new ``eventID``), so it can be sent again to move the ETA again.
"""

from __future__ import annotations

import json
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import Carrier, CarrierConnection, Location, Shipment, User
from portal_app.db import get_engine
from portal_app.services.carrier_events import intake, schema
from seed.carrier_demo import DEMO_CARRIER, DEMO_SUBSCRIPTION_ID

DEMO_CUSTOMER_EMAIL = "alice@acme.example"
DELAY = timedelta(days=2)
OPEN = ("booked", "confirmed", "in_transit")


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def arrival_event(vessel: str, voyage: str, port: str, arrives: datetime, now: datetime) -> dict:
    """A 2.2 transport event: the vessel is now estimated to arrive at ``port`` at ``arrives``."""
    return {
        "eventID": str(uuid.uuid4()), "eventCreatedDateTime": _iso(now), "eventType": "TRANSPORT",
        "eventClassifierCode": "EST", "eventDateTime": _iso(arrives), "transportEventTypeCode": "ARRI",
        "transportCall": {"transportCallID": str(uuid.uuid4()), "modeOfTransport": "VESSEL",
                          "exportVoyageNumber": voyage, "UNLocationCode": port,
                          "vessel": {"vesselIMONumber": "9321483", "vesselName": vessel}},
    }


@dataclass(frozen=True)
class Sample:
    event: dict
    subject: str  # the demo customer's shipment it was made for: its ETA moves by DELAY
    reaches: list[str]  # every shipment the portal will find for it (those arriving at its port move)


def demo_arrival_event(db: Session, now: datetime | None = None) -> Sample:
    """The event for the demo customer's open Maersk shipment that arrives soonest."""
    now = now or datetime.now(UTC)
    company = db.exec(select(User.company_id).where(User.email == DEMO_CUSTOMER_EMAIL)).first()
    eta = sa.func.coalesce(Shipment.eta_estimated, Shipment.eta_planned)
    row = db.exec(
        select(Shipment, Location.code).join(Carrier, col(Carrier.id) == Shipment.carrier_id)
        .join(Location, col(Location.id) == Shipment.destination_id)
        .where(Shipment.company_id == company, Carrier.code == DEMO_CARRIER, col(Shipment.status).in_(OPEN),
               col(Shipment.ata).is_(None), col(Shipment.vessel_name).is_not(None),
               col(Shipment.voyage_number).is_not(None), eta > now)
        .order_by(eta, col(Shipment.id))
    ).first()
    if row is None:
        raise LookupError(f"no open Maersk shipment of {DEMO_CUSTOMER_EMAIL}'s company is at sea or booked; "
                          "is this the demo database (`make seed`)?")
    shipment, port = row
    arrives = (shipment.eta_estimated or shipment.eta_planned) + DELAY
    event = arrival_event(shipment.vessel_name, shipment.voyage_number, port, arrives, now)
    # The shipments it reaches, found as the portal will find them (from the demo connection's point of view).
    connection = db.exec(select(CarrierConnection).where(CarrierConnection.subscription_id == DEMO_SUBSCRIPTION_ID)
                         ).first()
    incoming = schema.read_v2(event, now)
    moved = (sorted(s.reference for s in intake.match_shipments(db, connection, incoming))
             if connection is not None and isinstance(incoming, schema.Incoming) else [shipment.reference])
    return Sample(event, shipment.reference, moved)


def main() -> int:
    with Session(get_engine()) as db:
        try:
            sample = demo_arrival_event(db)
        except LookupError as exc:
            print(exc, file=sys.stderr)
            return 1
    event, call = sample.event, sample.event["transportCall"]
    print(f"{call['vessel']['vesselName']} {call['exportVoyageNumber']} now arrives at {call['UNLocationCode']} "
          f"{event['eventDateTime']}: {sample.subject}'s ETA moves; the event reaches {', '.join(sample.reaches)}",
          file=sys.stderr)
    print(json.dumps([event], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
