"""Customers are told about their company's shipments by default, as their preferences say; following a shipment
adds it (and narrows the news to followed ones for those who choose so). Checked on the demo data, where the gap
was found: an ETA moved on a whole voyage and an exception resolved "with a message to the customer" reached
nobody who had not pressed Follow."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from models import Company, EmailMessage, Notification, OpsException, Shipment, ShipmentFollower, User
from models.enums import ExceptionStatus, Role
from portal_app.auth.principal import Principal
from portal_app.services import bulk, exceptions, notification_prefs, notifications, workspace
from portal_app.services.errors import ValidationFailed
from tests.factories import make_user
from tests.quote_world import QuoteWorld
from tests.tower_world import make_shipment


def _told(db: Session, user_id: int, kind: str) -> list[Notification]:
    return list(db.exec(select(Notification).where(Notification.user_id == user_id,
                                                   Notification.event_kind == kind)).all())


def _person(db: Session, company: str, role: Role = Role.CUSTOMER_USER) -> Principal:
    c = db.exec(select(Company).where(Company.code == company)).one()
    user = make_user(db, c.id, role, f"t-{uuid.uuid4().hex[:8]}@{company.lower()}.test")
    db.commit()
    return Principal(user.id, c.id, role, user.email, user.full_name, c.name)


def test_a_voyage_eta_change_reaches_the_customers_of_every_shipment_on_it(demo: QuoteWorld):
    """The reported case: MAERSK ESSEN 645W moved by 69 hours; alice (Acme, defaults: ETA changes in-app and by
    email beyond 24 h) follows nothing and is told about each Acme shipment on it; Nordwind hears nothing."""
    with demo.session() as db:
        on_board = db.exec(select(Shipment).where(Shipment.vessel_name == "MAERSK ESSEN",
                                                  Shipment.voyage_number == "645W",
                                                  col(Shipment.ata).is_(None))).all()
        acme = [s for s in on_board if s.company_id == demo.alice.company_id]
        assert acme, "the demo seed has Acme shipments on MAERSK ESSEN 645W"
        assert not db.exec(select(ShipmentFollower).where(ShipmentFollower.user_id == demo.alice.user_id,
                                                          col(ShipmentFollower.shipment_id).in_(
                                                              [s.id for s in acme]))).first()
        base = max(s.eta_estimated or s.eta_planned for s in on_board)
        report = bulk.bulk_eta(db, demo.agent, bulk.Voyage(vessel="MAERSK ESSEN", voyage="645W"),
                               (base + timedelta(hours=69)).isoformat(), "PORT_CONGESTION")
        assert {s.reference for s in acme} <= set(report.succeeded), report.failed
        told = {n.link for n in _told(db, demo.alice.user_id, "eta_changed")}
        assert {f"/portal/shipments/{s.reference}" for s in acme} <= told
        assert db.exec(select(EmailMessage).where(EmailMessage.user_id == demo.alice.user_id,
                                                  EmailMessage.status == "pending")).first() is not None
        nina_told = {n.link for n in _told(db, demo.nina.user_id, "eta_changed")}
        assert not nina_told & {f"/portal/shipments/{s.reference}" for s in acme}


def test_a_resolution_with_a_message_reaches_the_customers_of_the_shipment(demo: QuoteWorld):
    with demo.session() as db:
        exc = db.exec(select(OpsException).where(OpsException.company_id == demo.alice.company_id,
                                                 col(OpsException.status) != ExceptionStatus.RESOLVED.value,
                                                 col(OpsException.shipment_id).is_not(None))
                      .order_by(col(OpsException.id))).first()
        assert exc is not None and exc.id is not None
        exceptions.resolve_exception(db, demo.manager, exc.id, "Carrier confirmed the new slot.",
                                     customer_message="Your cargo is confirmed on the next sailing.")
        updates = _told(db, demo.alice.user_id, "shipment_update")
        assert [n.body for n in updates] == ["Your cargo is confirmed on the next sailing."]
        assert _told(db, demo.nina.user_id, "shipment_update") == []
        assert _told(db, demo.manager.user_id, "shipment_update") == []  # the person acting is not told


def test_followed_only_narrows_the_news_and_following_adds_a_shipment(tworld: QuoteWorld):
    with tworld.session() as db:
        first = make_shipment(db, vessel="NEWS ONE", voyage="1N")
        second = make_shipment(db, vessel="NEWS TWO", voyage="2N")
        everything, narrow = _person(db, "ACME"), _person(db, "ACME")
        inactive, outsider = _person(db, "ACME"), _person(db, "NORD")
        notification_prefs.save_preferences(db, narrow, [], shipments=notification_prefs.SHIPMENTS_FOLLOWED)
        db.add(ShipmentFollower(shipment_id=second.id, user_id=narrow.user_id))
        user = db.get(User, inactive.user_id)
        user.is_active = False
        db.add(user)
        db.commit()

        audience = notifications.audience(db, [first.id, second.id])
        assert everything.user_id in audience[first.id] and everything.user_id in audience[second.id]
        assert narrow.user_id not in audience[first.id] and narrow.user_id in audience[second.id]
        assert inactive.user_id not in audience[first.id] and outsider.user_id not in audience[first.id]
        assert tworld.agent.user_id not in audience[first.id]  # staff hear about what they follow

        for s in (first, second):
            db.refresh(s)
            workspace.change_eta(db, tworld.agent, s.reference, s.eta_estimated + timedelta(days=2), "WEATHER",
                                 expected_version=s.version)
        assert len(_told(db, everything.user_id, "eta_changed")) == 2
        assert [n.link for n in _told(db, narrow.user_id, "eta_changed")] == [f"/portal/shipments/{second.reference}"]
        assert _told(db, outsider.user_id, "eta_changed") == []


def test_the_choice_is_the_customers_own_and_checked(tworld: QuoteWorld):
    with tworld.session() as db:
        person = _person(db, "ACME")
        assert notification_prefs.shipment_news(db, person) == notification_prefs.SHIPMENTS_ALL
        with pytest.raises(ValidationFailed) as refused:
            notification_prefs.save_preferences(db, person, [], shipments="some")
        assert refused.value.fields == {"shipments": "Choose one of the offered values."}
        assert notification_prefs.shipment_news(db, person) == notification_prefs.SHIPMENTS_ALL
        with pytest.raises(ValidationFailed):
            notification_prefs.save_preferences(db, tworld.agent, [], shipments=notification_prefs.SHIPMENTS_ALL)
        assert notification_prefs.shipment_news(db, tworld.agent) == notification_prefs.SHIPMENTS_FOLLOWED


def test_the_api_reads_and_sets_which_shipments(tworld: QuoteWorld):
    bob = tworld.client("bob@acme.example")
    got = bob.get("/api/v1/account/notification-preferences")
    assert got.status_code == 200 and got.json()["shipments"] == "all"
    put = bob.put("/api/v1/account/notification-preferences", json={"items": [], "shipments": "followed"})
    assert put.status_code == 200 and put.json()["shipments"] == "followed"
    assert bob.get("/api/v1/account/notification-preferences").json()["shipments"] == "followed"
    bad = bob.put("/api/v1/account/notification-preferences", json={"items": [], "shipments": "everyone"})
    assert bad.status_code == 422
    kept = bob.put("/api/v1/account/notification-preferences", json={"items": []})
    assert kept.json()["shipments"] == "followed"  # left out: unchanged
    with tworld.session() as db:
        assert db.exec(select(User.shipment_news).where(User.id == tworld.bob.user_id)).one() == "followed"
