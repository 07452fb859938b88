"""Helpers for the carrier event tests: a carrier connection, signed posts, DCSA events and ocean shipments with the
full FCL milestone template, in a world of the demo seed's own (tests/ops_world.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models import Container, Location, Milestone, Shipment
from portal_app.api.app import build_api
from portal_app.api.deps import get_db
from portal_app.services.carrier_events import connections
from seed.config_data import OCEAN_FCL
from tests.ops_world import make_shipment
from tests.paths import PROJECT_ROOT
from tests.quote_world import QuoteWorld

EXAMPLES = PROJECT_ROOT / "tests" / "reference" / "dcsa"  # DCSA's own examples, copied (SOURCE.md there)
CALLBACK = "/api/v1/integrations/dcsa/v2/callback"
V3 = "/api/v1/integrations/dcsa/v3/events"
CONNECTIONS = "/api/v1/integrations/dcsa/connections"
ADMIN = "admin@harborsky.example"
SECRET = "carrier-shared-secret-0123456789"


def example(name: str) -> object:
    return json.loads((EXAMPLES / name).read_text())


def carrier_client(world: QuoteWorld) -> TestClient:
    """A client with no session: a carrier's server."""
    api = build_api()

    def _db() -> Iterator[Session]:
        with Session(world.engine, expire_on_commit=False) as s:
            try:
                yield s
            except BaseException:
                s.rollback()
                raise

    api.dependency_overrides[get_db] = _db
    return TestClient(api)


def connect(world: QuoteWorld, secret: str = SECRET, carrier_code: str = "MAEU") -> dict:
    admin = world.client(ADMIN)
    resp = admin.post(CONNECTIONS, json={"name": f"Carrier {uuid.uuid4().hex[:6]}", "carrier_code": carrier_code,
                                         "secret": secret})
    assert resp.status_code == 201, resp.text
    return resp.json()


def post_signed(client: TestClient, connection: dict, events: object, *, secret: str = SECRET,
                raw: bytes | None = None, signature: str | None = None, subscription: str | None = None):
    body = raw if raw is not None else json.dumps(events, indent=1).encode()
    headers = {"Content-Type": "application/json",
               "Subscription-ID": subscription or connection["subscription_id"],
               "Notification-Signature": signature or connections.sign(secret, body)}
    return client.post(CALLBACK, content=body, headers=headers)


def at(hours: float) -> datetime:
    """A time ``hours`` from now (negative: in the past), to the second."""
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0)


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def equipment_event(code: str, container: str, when: datetime, *, classifier: str = "ACT",
                    created: datetime | None = None, place: str | None = None, empty: str = "LADEN",
                    event_id: str | None = None) -> dict:
    event = {"eventID": event_id or str(uuid.uuid4()), "eventCreatedDateTime": iso(created or at(0)),
             "eventType": "EQUIPMENT", "eventClassifierCode": classifier, "eventDateTime": iso(when),
             "equipmentEventTypeCode": code, "equipmentReference": container, "emptyIndicatorCode": empty}
    if place:
        event["eventLocation"] = {"UNLocationCode": place}
    return event


def transport_event(code: str, vessel: str | None, voyage: str, place: str, when: datetime, *,
                    classifier: str = "ACT", created: datetime | None = None, event_id: str | None = None) -> dict:
    call: dict = {"transportCallID": str(uuid.uuid4()), "modeOfTransport": "VESSEL", "exportVoyageNumber": voyage,
                  "UNLocationCode": place}
    if vessel:
        call["vessel"] = {"vesselIMONumber": "9321483", "vesselName": vessel}
    return {"eventID": event_id or str(uuid.uuid4()), "eventCreatedDateTime": iso(created or at(0)),
            "eventType": "TRANSPORT", "eventClassifierCode": classifier, "eventDateTime": iso(when),
            "transportEventTypeCode": code, "transportCall": call}


def shipment_event(code: str, document_type: str, document_id: str, when: datetime, **more) -> dict:
    return {"eventID": str(uuid.uuid4()), "eventCreatedDateTime": iso(when), "eventType": "SHIPMENT",
            "eventClassifierCode": "ACT", "eventDateTime": iso(when), "shipmentEventTypeCode": code,
            "documentTypeCode": document_type, "documentID": document_id, **more}


def container_number(db: Session) -> str:
    """A container number not used yet, with its ISO 6346 check digit."""
    from portal_app.services.identifiers import make_container_number

    while True:
        number = make_container_number("MSK", "U", uuid.uuid4().int % 1_000_000)
        if db.exec(select(Container.id).where(Container.number == number)).first() is None:
            return number


def ocean_shipment(world: QuoteWorld, *, vessel: str | None = "MAERSK EDMONTON", voyage: str | None = "412W",
                   status: str = "confirmed", etd: datetime | None = None, eta: datetime | None = None) -> Shipment:
    """A confirmed FCL shipment from CNSHA to NLRTM with one container, booking, MBL and HBL, and every step of
    the FCL template (departure in a day, arrival in 25)."""
    etd = etd or at(24)
    eta = eta or at(24 * 25)
    with world.session() as db:
        s = make_shipment(db, status=status, etd=etd, eta=eta, atd=None, vessel=vessel, voyage=voyage)
        origin = db.exec(select(Location.id).where(Location.code == "CNSHA")).one()
        destination = db.exec(select(Location.id).where(Location.code == "NLRTM")).one()
        s.origin_id, s.destination_id = origin, destination
        s.atd = None
        tag = s.reference[-8:]
        s.booking_number, s.mbl_number, s.hbl_number = f"BKG{tag}", f"MBL{tag}", f"HBL{tag}"
        for m in db.exec(select(Milestone).where(Milestone.shipment_id == s.id)).all():
            db.delete(m)
        db.flush()
        codes = [t.code for t in OCEAN_FCL.steps]
        departure, arrival = codes.index("vessel_departure"), codes.index("vessel_arrival")
        for seq, step in enumerate(OCEAN_FCL.steps, 1):
            i = seq - 1
            planned = etd - timedelta(days=departure - i) if i <= departure else eta + timedelta(days=i - arrival)
            db.add(Milestone(shipment_id=s.id, sequence=seq, code=step.code, name=step.name, event_code=step.event_code,
                             planned_at=planned))
        db.add(Container(shipment_id=s.id, number=container_number(db), size_type="45G1"))
        db.add(s)
        db.commit()
        db.refresh(s)
        return s


def container_of(world: QuoteWorld, shipment: Shipment) -> str:
    with world.session() as db:
        return db.exec(select(Container.number).where(Container.shipment_id == shipment.id)).one()


def step(world: QuoteWorld, shipment: Shipment, code: str) -> Milestone:
    with world.session() as db:
        return db.exec(select(Milestone).where(Milestone.shipment_id == shipment.id, Milestone.code == code)).one()


def reload(world: QuoteWorld, shipment: Shipment) -> Shipment:
    with world.session() as db:
        return db.get(Shipment, shipment.id)


def all_examples() -> list[Path]:
    return sorted(Path(EXAMPLES).glob("tnt-220-response*.json"))
