"""A shipment's ETA history, status narrative (internal notes never reach customers) and following."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from models import EtaChange, Shipment, ShipmentFollower, ShipmentUpdate
from portal_app.api.app import build_api
from tests.factories import PASSWORD, World


def client_for(email: str) -> TestClient:
    client = TestClient(build_api())
    assert client.post("/api/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
    return client


@pytest.fixture(scope="module")
def story(world: World, engine):
    """One Alfa shipment with two ETA changes, a customer update and an internal note."""
    from sqlmodel import Session

    ref = world.shipments["ALFA"][3]
    with Session(engine) as db:
        sid = db.exec(select(Shipment.id).where(Shipment.reference == ref)).one()
        cid = world.companies["ALFA"]
        base = datetime(2026, 11, 20, 8, tzinfo=UTC)
        db.add(EtaChange(shipment_id=sid, previous_eta=base, new_eta=base + timedelta(days=2), reason_code="WEATHER",
                         created_at=base - timedelta(days=3)))
        db.add(EtaChange(shipment_id=sid, previous_eta=base + timedelta(days=2), new_eta=base + timedelta(days=3),
                         reason_code="PORT_CONGESTION", reason_text="Berth window missed at Rotterdam",
                         created_at=base - timedelta(days=1)))
        db.add(ShipmentUpdate(shipment_id=sid, company_id=cid, visibility="customer",
                              body="Vessel delayed by weather in the Bay of Biscay."))
        db.add(ShipmentUpdate(shipment_id=sid, company_id=cid, visibility="internal",
                              body="INTERNAL: carrier owes us a credit note."))
        db.commit()
    return ref


def test_eta_history_newest_first_with_reasons(world, story):
    body = client_for("customer_user@alfa.test").get(f"/api/v1/shipments/{story}/eta-changes").json()
    assert [c["reason_code"] for c in body] == ["PORT_CONGESTION", "WEATHER"]
    assert body[0]["reason"] == "Berth window missed at Rotterdam" and body[1]["reason"] == "Weather"
    assert body[0]["shift_hours"] == 24.0 and body[1]["shift_hours"] == 48.0


def test_customers_never_see_internal_notes(world, story):
    customer = client_for("customer_user@alfa.test").get(f"/api/v1/shipments/{story}/updates").json()
    assert [u["body"] for u in customer] == ["Vessel delayed by weather in the Bay of Biscay."]
    staff = client_for("ops_agent@fwd.test").get(f"/api/v1/shipments/{story}/updates").json()
    assert {u["visibility"] for u in staff} == {"customer", "internal"}


def test_other_company_gets_404_for_history_updates_and_follow(world, story):
    beta = client_for("customer_user@beta.test")
    for path in ("eta-changes", "updates"):
        assert beta.get(f"/api/v1/shipments/{story}/{path}").status_code == 404
    assert beta.put(f"/api/v1/shipments/{story}/follow").status_code == 404


def test_follow_and_unfollow_are_per_user_and_idempotent(world, story, db):
    alice = client_for("customer_user@alfa.test")
    assert alice.put(f"/api/v1/shipments/{story}/follow").json() == {"following": True}
    assert alice.put(f"/api/v1/shipments/{story}/follow").json() == {"following": True}
    user_id = world.users["ALFA:customer_user"].id
    rows = db.exec(select(ShipmentFollower).where(ShipmentFollower.user_id == user_id)).all()
    assert len(rows) == 1
    assert alice.delete(f"/api/v1/shipments/{story}/follow").json() == {"following": False}
    db.expire_all()
    assert db.exec(select(ShipmentFollower).where(ShipmentFollower.user_id == user_id)).all() == []
