"""The README's carrier example on the demo data: the event `python -m seed.carrier_sample` makes, signed with the
demo connection's secret, moves the ETA of a demo customer's shipment by two days and the customer is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from models import EtaChange, Notification, Shipment, User
from seed.carrier_demo import DEMO_SECRET, DEMO_SUBSCRIPTION_ID
from seed.carrier_sample import DEMO_CUSTOMER_EMAIL, demo_arrival_event
from tests.dcsa import carrier_client, post_signed


def test_the_sample_event_moves_a_demo_customers_eta_and_tells_them(demo):
    with demo.session() as db:
        sample = demo_arrival_event(db)
        event = sample.event
        watched = db.exec(select(Shipment).where(Shipment.reference == sample.subject)).one()
        customer = db.exec(select(User).where(User.email == DEMO_CUSTOMER_EMAIL)).one()
        assert watched.company_id == customer.company_id and watched.reference in sample.reaches
        assert watched.vessel_name == event["transportCall"]["vessel"]["vesselName"]
        before = watched.eta_estimated or watched.eta_planned
    answer = post_signed(carrier_client(demo), {"subscription_id": DEMO_SUBSCRIPTION_ID}, [event], secret=DEMO_SECRET)
    assert answer.status_code == 204, answer.text
    with demo.session() as db:
        after = db.get(Shipment, watched.id)
        assert after.eta_estimated.replace(tzinfo=UTC) == before.replace(tzinfo=UTC) + timedelta(days=2)
        assert db.exec(select(EtaChange).where(EtaChange.shipment_id == watched.id,
                                               EtaChange.reason_code == "CARRIER_UPDATE")).first() is not None
        told = db.exec(select(Notification).join(User, User.id == Notification.user_id).where(
            User.email == DEMO_CUSTOMER_EMAIL, Notification.event_kind == "eta_changed")).all()
        assert any(watched.reference in n.title for n in told)
    assert datetime.fromisoformat(event["eventDateTime"]) > datetime.now(UTC)
