"""Notifications: preferences per kind and channel decide, one notification per user per event, followers hear
about their shipments (and nobody about another company's), a burst becomes one email per person, the triggers
of the workspace and bookings go through the service, and the API shows each user only their own."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from models import Company, EmailMessage, Notification, ShipmentFollower, User
from models.enums import Role
from portal_app.auth.principal import Principal
from portal_app.services import bulk, clock, documents, email_outbox, notification_prefs, notifications, workspace
from tests.factories import PASSWORD, make_user
from tests.quote_world import QuoteWorld
from tests.tower_world import T0, make_shipment

NOW = T0 + timedelta(days=3)


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _person(db: Session, company: str = "ACME", role: Role = Role.CUSTOMER_USER) -> Principal:
    c = db.exec(select(Company).where(Company.code == company)).one()
    user = make_user(db, c.id, role, f"n-{uuid.uuid4().hex[:8]}@{company.lower()}.test")
    db.commit()
    return Principal(user.id, c.id, role, user.email, user.full_name, c.name)


def _follow(db: Session, shipment_id: int, *people: Principal) -> None:
    for p in people:
        db.add(ShipmentFollower(shipment_id=shipment_id, user_id=p.user_id))
    db.commit()


def _in_app(db: Session, p: Principal, kind: str | None = None) -> list[Notification]:
    q = select(Notification).where(Notification.user_id == p.user_id)
    # Without a kind: every notification but the document reminders of the rule pass each change runs (those are
    # tested with the rules).
    q = q.where(Notification.event_kind == kind) if kind else q.where(Notification.event_kind != "document_required")
    return list(db.exec(q).all())


def _mail(db: Session, p: Principal, status: str | None = None) -> list[EmailMessage]:
    q = select(EmailMessage).where(EmailMessage.user_id == p.user_id)
    if status:
        q = q.where(EmailMessage.status == status)
    return list(db.exec(q.order_by(EmailMessage.id)).all())


def _pref(kind: str, channel: str, enabled: bool, threshold: int | None = None, digest: bool | None = None) -> dict:
    return {"event_kind": kind, "channel": channel, "enabled": enabled, "threshold_hours": threshold,
            "digest": digest}


def test_preferences_decide_per_kind_and_channel_with_the_eta_threshold(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        s = make_shipment(db, vessel="PREF ONE", voyage="1P")
        default, quiet, digest, patient = (_person(db) for _ in range(4))
        notification_prefs.save_preferences(db, quiet, [_pref("eta_changed", "in_app", False, 24),
                                                        _pref("eta_changed", "email", False, 24)])
        notification_prefs.save_preferences(db, digest, [_pref("eta_changed", "in_app", False, 24),
                                                         _pref("eta_changed", "email", True, 24, digest=True)])
        notification_prefs.save_preferences(db, patient, [_pref("eta_changed", "in_app", True, 48),
                                                          _pref("eta_changed", "email", True, 48)])
        _follow(db, s.id, default, quiet, digest, patient)

        # A 30-hour move: beyond the default 24 hours, within the patient user's 48.
        workspace.change_eta(db, w.agent, s.reference, s.eta_estimated + timedelta(hours=30), "WEATHER",
                             expected_version=s.version)
        assert len(_in_app(db, default, "eta_changed")) == 1
        assert [m.status for m in _mail(db, default)] == ["pending"]
        assert _in_app(db, quiet) == [] and _mail(db, quiet) == []
        assert _in_app(db, digest) == [] and [m.status for m in _mail(db, digest)] == ["digest"]
        assert _in_app(db, patient) == [] and _mail(db, patient) == []
        note = _in_app(db, default)[0]
        assert note.link == f"/portal/shipments/{s.reference}" and "New estimated arrival" in note.body

        # Milestone reached: in-app by default, email only for those who switched it on.
        notification_prefs.save_preferences(db, patient, [_pref("milestone_reached", "email", True)])
        db.refresh(s)
        workspace.edit_milestone(db, w.agent, s.reference, "vessel_departure", {"actual_at": NOW - timedelta(hours=1)},
                                 expected_version=s.version)
        assert len(_in_app(db, default, "milestone_reached")) == 1
        assert [m.subject for m in _mail(db, default)] == [f"New ETA for {s.reference}"]  # no milestone email
        assert [m.subject for m in _mail(db, patient)] == [f"{s.reference}: Vessel departed"]
        # Recording the same actual time again is no new event.
        db.refresh(s)
        workspace.edit_milestone(db, w.agent, s.reference, "vessel_departure", {"location": "CNSHA"},
                                 expected_version=s.version)
        assert len(_in_app(db, default, "milestone_reached")) == 1


def test_one_notification_and_one_email_per_user_per_event(tworld: QuoteWorld):
    with tworld.session() as db:
        p = _person(db)
        key = f"test-event:{uuid.uuid4().hex}"
        first = notifications.notify(db, "booking_confirmed", [p.user_id, p.user_id], "Booking SH1 is confirmed",
                                     "Booked.", "/portal/shipments/SH1", key)
        db.commit()
        again = notifications.notify(db, "booking_confirmed", [p.user_id], "Booking SH1 is confirmed", "Booked.",
                                     "/portal/shipments/SH1", key)
        db.commit()
        assert (first.in_app, first.email) == (1, 1) and (again.in_app, again.email) == (0, 0)
        assert len(_in_app(db, p)) == 1 and len(_mail(db, p)) == 1
        # The acting person is skipped; inactive users get nothing.
        sleeper = _person(db)
        db.get(User, sleeper.user_id).is_active = False
        db.commit()
        done = notifications.notify(db, "shipment_update", [p.user_id, sleeper.user_id], "t", "b", "/portal",
                                    f"k:{uuid.uuid4().hex}", skip=p.user_id)
        assert done.in_app == 0 and done.email == 0


def test_followers_hear_about_their_shipment_and_no_other_company_does(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        s = make_shipment(db, vessel="FAN OUT", voyage="2F")
        acme_1, acme_2 = _person(db), _person(db)
        staff = w.manager
        outsider = _person(db, "NORD")
        _follow(db, s.id, acme_1, acme_2, staff, outsider)  # a forged follow row of another company
        db.refresh(s)
        workspace.change_eta(db, w.agent, s.reference, s.eta_estimated + timedelta(days=3), "PORT_CONGESTION",
                             expected_version=s.version)
        key = db.exec(select(Notification.dedup_key).where(Notification.user_id == acme_1.user_id,
                                                           Notification.event_kind == "eta_changed")).one()
        told = set(db.exec(select(Notification.user_id).where(Notification.dedup_key == key)).all())
        assert {acme_1.user_id, acme_2.user_id, staff.user_id} <= told
        assert outsider.user_id not in told and _mail(db, outsider) == []
        links = dict(db.exec(select(Notification.user_id, Notification.link)
                             .where(Notification.dedup_key == key)).all())
        assert links[acme_1.user_id] == f"/portal/shipments/{s.reference}"
        assert links[staff.user_id] == f"/tower/shipments/{s.reference}"  # staff open it in the workspace

        # A document the forwarder adds is news for the followers; the uploader is not told of their own upload.
        documents.upload_document(db, w.agent, s.reference, "commercial_invoice", "invoice.pdf",
                                  b"%PDF-1.4\n%test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
        assert len(_in_app(db, acme_1, "document_added")) == 1
        assert _in_app(db, outsider, "document_added") == []


def test_a_bulk_eta_change_over_many_shipments_is_one_email_per_person(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        ships = [make_shipment(db, vessel="STORM QUEEN", voyage="300S") for _ in range(120)]
        alice_like, bob_like = _person(db), _person(db)
        for s in ships:
            db.add(ShipmentFollower(shipment_id=s.id, user_id=alice_like.user_id))
            db.add(ShipmentFollower(shipment_id=s.id, user_id=bob_like.user_id))
        db.commit()
        report = bulk.bulk_eta(db, w.agent, bulk.Voyage(vessel="STORM QUEEN", voyage="300S"),
                               ships[0].eta_estimated + timedelta(days=4), "PORT_CONGESTION", "Strike at the port")
        assert len(report.succeeded) == 120
        for p in (alice_like, bob_like):
            assert len(_in_app(db, p, "eta_changed")) == 120  # the list in the portal has every shipment
            assert len(_mail(db, p, "pending")) == 120  # items, not emails

        # Within the batch window nothing is sent yet; once it has passed, each person gets one email.
        assert email_outbox.batch_pending(db, NOW + timedelta(seconds=30), 120) >= 0
        assert _mail(db, alice_like, "queued") == []
        email_outbox.batch_pending(db, NOW + timedelta(seconds=121), 120)
        for p in (alice_like, bob_like):
            queued = _mail(db, p, "queued")
            assert len(queued) == 1, "one email, not 120"
            assert queued[0].subject.startswith("120 updates from ")
            assert ships[0].reference in queued[0].body_text and ships[0].reference in queued[0].body_html
            assert "70 more" in queued[0].body_text  # 50 written out, the rest counted and linked
            assert len(_mail(db, p, "merged")) == 120 and _mail(db, p, "pending") == []


def test_booking_and_document_review_go_through_the_preferences(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        s = make_shipment(db, vessel="REVIEW", voyage="3R")
        uploader = _person(db)
        notification_prefs.save_preferences(db, uploader, [_pref("document_rejected", "in_app", False)])
        doc = documents.upload_document(db, uploader, s.reference, "packing_list", "pl.pdf",
                                        b"%PDF-1.4\n%pl\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
        workspace.review_document(db, w.agent, s.reference, doc.id, approve=False, reason="The weights are missing")
        assert _in_app(db, uploader, "document_rejected") == []  # in-app switched off
        assert [m.subject for m in _mail(db, uploader)][-1].endswith("needs a correction")  # email still on


def test_the_api_shows_only_your_own_notifications(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        me, other = _person(db), _person(db)
        for i in range(3):
            notifications.notify(db, "shipment_update", [me.user_id], f"Mine {i}", "b", "/portal/shipments",
                                 f"api-test:{me.user_id}:{i}")
        notifications.notify(db, "shipment_update", [other.user_id], "Theirs", "b", "/portal", f"api:{other.user_id}")
        db.commit()
        theirs = _in_app(db, other)[0].id
    from fastapi.testclient import TestClient

    from portal_app.api.app import build_api

    assert TestClient(build_api()).get("/api/v1/notifications").status_code == 401
    client = w.client(me.email, PASSWORD)
    listed = client.get("/api/v1/notifications?page_size=2").json()
    assert listed["total"] == 3 and listed["unread"] == 3 and len(listed["items"]) == 2
    assert all(i["title"].startswith("Mine") for i in listed["items"])
    assert client.post(f"/api/v1/notifications/{theirs}/read").status_code == 404
    assert client.post("/api/v1/notifications/999999999/read").status_code == 404
    first = listed["items"][0]["id"]
    done = client.post(f"/api/v1/notifications/{first}/read")
    assert done.status_code == 200 and done.json()["read"] is True
    assert client.get("/api/v1/notifications").json()["unread"] == 2
    assert client.post("/api/v1/notifications/read-all").json()["marked"] == 2
    assert client.get("/api/v1/notifications?unread_only=true").json()["total"] == 0
    with w.session() as db:
        assert _in_app(db, other)[0].read_at is None  # read-all touched only the caller's


def test_the_account_page_and_api_switch_email_to_the_daily_digest(db, monkeypatch):
    from portal_app.portal.account import PortalAccountState as S
    from tests.services.test_accounts import _client, _run, _state_as, _tenant
    from tests.services.test_accounts import _principal as principal_of

    t = _tenant(db)
    me = principal_of(db, t.user)
    st = _state_as(monkeypatch, S, me)
    _run(S.load, st)
    assert st.email_digest is False
    form = {f"pref_{k}_{c}": True for k in notification_prefs.CUSTOMER_KINDS for c in notification_prefs.CHANNELS}
    _run(S.save_preferences, st, {**form, "eta_threshold_hours": "24", "email_digest": "on"})
    assert st.prefs_error == "" and st.email_digest is True
    mine = notification_prefs.preferences_for_user(db, t.user.id)
    assert all(mine[(k, "email")].digest for k in notification_prefs.CUSTOMER_KINDS)
    assert not any(mine[(k, "in_app")].digest for k in notification_prefs.CUSTOMER_KINDS)

    # The API shows it, keeps it when a save leaves it out, and refuses it for in-app.
    api = _client(t.user.email)
    items = {(i["event_kind"], i["channel"]): i for i in api.get("/api/v1/account/notification-preferences")
             .json()["items"]}
    assert items[("invoice_issued", "email")]["digest"] is True
    api.put("/api/v1/account/notification-preferences",
            json={"items": [{"event_kind": "invoice_issued", "channel": "email", "enabled": True}]})
    assert notification_prefs.preferences_for_user(db, t.user.id)[("invoice_issued", "email")].digest is True
    bad = api.put("/api/v1/account/notification-preferences",
                  json={"items": [{"event_kind": "invoice_issued", "channel": "in_app", "enabled": True,
                                   "digest": True}]})
    assert bad.status_code == 422 and "email only" in bad.json()["error"]["message"]

    # Events now wait for the digest instead of going out within minutes.
    done = notifications.notify(db, "invoice_issued", [t.user.id], "New invoice INV-1", "GBP 10.00", "/portal/invoices",
                                f"digest-test:{t.user.id}")
    db.commit()
    assert (done.in_app, done.email, done.digest) == (1, 0, 1)

    # Unticked on the page: emails go out as they happen again.
    _run(S.save_preferences, st, {**form, "eta_threshold_hours": "24"})
    assert st.email_digest is False
    db.expire_all()
    assert not any(p.digest for p in notification_prefs.preferences_for_user(db, t.user.id).values())


def test_customer_updates_reach_followers_and_a_bulk_update_is_one_email(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        ships = [make_shipment(db, vessel="UPDATE STAR", voyage="4U") for _ in range(5)]
        fan = _person(db)
        for s in ships:
            db.add(ShipmentFollower(shipment_id=s.id, user_id=fan.user_id))
        db.commit()
        workspace.add_note(db, w.agent, ships[0].reference, "Internal: call the carrier", visibility="internal")
        assert _in_app(db, fan) == []  # internal notes are never news for customers
        report = bulk.bulk_customer_update(db, w.agent, bulk.Selection(references=tuple(s.reference for s in ships)),
                                           "Rotterdam terminal strike: expect one day of delay.")
        assert len(report.succeeded) == 5
        assert len(_in_app(db, fan, "shipment_update")) == 5
        email_outbox.batch_pending(db, NOW + timedelta(minutes=5), 120)
        [email] = _mail(db, fan, "queued")
        assert email.subject.startswith("5 updates from ") and "terminal strike" in email.body_text
