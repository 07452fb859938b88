"""A carrier's server-to-server callback passes the web edge (no session, no Origin: nothing for the CSRF check to
guard) but not its body limit; and the retention pass removes carrier events past their days."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models import CarrierConnection, CarrierEvent, CarrierEventRefusal, CarrierEventShipment
from portal_app.services import clock, retention
from portal_app.services.carrier_events import connections, intake
from portal_app.settings import settings
from tests.api.test_web_edge import edge_app
from tests.dcsa import CALLBACK, SECRET, example

MB = 1024 * 1024


def _clean(engine) -> None:
    with engine.begin() as conn:
        for table in (CarrierEventShipment, CarrierEvent, CarrierEventRefusal, CarrierConnection):
            conn.execute(sa.delete(table))


def _connection(db: Session) -> connections.CreatedConnection:
    return connections._create(db, None, connections.NewConnection(name="Edge carrier", carrier_code="MAEU",
                                                                   secret=SECRET), subscription_id=None, api_key=None)


def test_a_signed_callback_from_a_carrier_server_passes_the_edge(world, db, engine):
    _clean(engine)
    made = _connection(db)
    body = json.dumps(example("tnt-220-response.json")).encode()
    client = TestClient(edge_app())
    headers = {"Content-Type": "application/json", "Subscription-ID": made.subscription_id,
               "Notification-Signature": connections.sign(SECRET, body)}
    resp = client.post(CALLBACK, content=body, headers=headers)
    assert resp.status_code == 204, resp.text
    assert "content-security-policy" in {k.lower() for k in resp.headers}  # the edge's headers are on it
    # A browser page elsewhere posting to it carries no valid signature: refused by the signature, not stored.
    forged = client.post(CALLBACK, content=body, headers={"Content-Type": "text/plain", "Origin": "http://evil.example",
                                                          "Subscription-ID": made.subscription_id})
    assert forged.status_code == 401
    with Session(engine) as check:
        assert len(check.exec(select(CarrierEvent.id)).all()) == 7
    _clean(engine)


def test_the_callback_keeps_the_json_body_limit(world, db, engine):
    _clean(engine)
    made = _connection(db)
    body = b"[" + b" " * (2 * MB) + b"]"
    resp = TestClient(edge_app()).post(CALLBACK, content=body, headers={
        "Content-Type": "application/json", "Subscription-ID": made.subscription_id,
        "Notification-Signature": connections.sign(SECRET, body)})
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "too_large"
    with Session(engine) as check:
        assert check.exec(select(CarrierEventRefusal.id)).first() is None
    _clean(engine)


def test_retention_removes_carrier_events_past_their_days(world, db, engine):
    _clean(engine)
    made = _connection(db)
    connection = db.get(CarrierConnection, made.id)
    now = clock.now()
    events = example("tnt-220-response.json")
    intake.receive(db, connection, events[:3], "2.2", now=now - timedelta(days=500))
    intake.receive(db, connection, events[3:], "2.2", now=now)
    intake.receive(db, connection, [{"eventType": "NONE"}], "2.2", now=now - timedelta(days=500))
    assert settings.carrier_event_retention_days == 400
    result = retention.run(db, settings, now)
    assert result.carrier_events == 4  # three events and one refusal
    assert len(db.exec(select(CarrierEvent.id)).all()) == 4
    keep_all = dataclasses.replace(settings, carrier_event_retention_days=0)  # 0 keeps them for ever
    assert retention.run(db, keep_all, now + timedelta(days=1000)).carrier_events == 0
    _clean(engine)
