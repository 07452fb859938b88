"""Carrier events in over HTTP (DCSA Track & Trace 2.2 callback): connections, signatures, DCSA's own examples,
matching by every reference, applying through the workspace, once per eventID, never older over newer."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import col, select

from models import (
    AuditLog,
    CarrierConnection,
    CarrierEvent,
    CarrierEventRefusal,
    CarrierEventShipment,
    EtaChange,
    Notification,
    OpsException,
    Shipment,
    ShipmentFollower,
    ShipmentUpdate,
)
from portal_app.services import secret_box
from seed.carrier_demo import DEMO_SECRET, DEMO_SUBSCRIPTION_ID
from tests.dcsa import (
    ADMIN,
    CALLBACK,
    CONNECTIONS,
    SECRET,
    all_examples,
    at,
    carrier_client,
    connect,
    container_of,
    equipment_event,
    example,
    ocean_shipment,
    post_signed,
    reload,
    shipment_event,
    step,
    transport_event,
)
from tests.paths import PROJECT_ROOT


def counts(world) -> tuple[int, int]:
    with world.session() as db:
        return (len(db.exec(select(CarrierEvent.id)).all()), len(db.exec(select(CarrierEventRefusal.id)).all()))


# ------------------------------------------------------------------------------------------------ connections


def test_an_admin_connects_a_carrier_and_the_secret_is_never_shown_again(oworld):
    admin = oworld.client(ADMIN)
    resp = admin.post(CONNECTIONS, json={"name": "Maersk events", "carrier_code": "maeu", "secret": SECRET})
    assert resp.status_code == 201, resp.text
    made = resp.json()
    assert made["callback_url"].endswith(CALLBACK) and len(made["subscription_id"]) == 36
    assert made["api_key"].startswith("ck_")
    listed = [c for c in admin.get(CONNECTIONS).json() if c["id"] == made["id"]]
    assert [c["subscription_id"] for c in listed] == [made["subscription_id"]]
    assert listed[0]["carrier_code"] == "MAEU" and SECRET not in json.dumps(listed)
    assert "secret" not in listed[0] and "api_key" not in listed[0]
    with oworld.session() as db:
        row = db.get(CarrierConnection, made["id"])
        assert row.secret_encrypted != SECRET and secret_box.decrypt(row.secret_encrypted) == SECRET
        assert row.created_by_id is not None and row.active
        assert db.exec(select(AuditLog).where(AuditLog.action == "carrier_connection_created")).first() is not None
        assert SECRET not in str(db.exec(select(AuditLog.after).where(
            AuditLog.action == "carrier_connection_created")).first())
    assert admin.delete(f"{CONNECTIONS}/{made['id']}").status_code == 204
    assert made["id"] not in [c["id"] for c in admin.get(CONNECTIONS).json()]
    assert admin.delete(f"{CONNECTIONS}/{made['id']}").status_code == 404
    # A deleted connection's callbacks are refused.
    resp = post_signed(carrier_client(oworld), made, [])
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "subscription_unknown"


@pytest.mark.parametrize("email", ["agent@harborsky.example", "manager@harborsky.example", "alice@acme.example"])
def test_only_administrators_manage_connections(oworld, email):
    client = oworld.client(email)
    assert client.get(CONNECTIONS).status_code == 403
    resp = client.post(CONNECTIONS, json={"name": "X", "carrier_code": "MAEU", "secret": SECRET})
    assert resp.status_code == 403 and resp.json()["error"]["saved"] is False


def test_a_connection_with_bad_fields_is_refused_field_by_field(oworld):
    resp = oworld.client(ADMIN).post(CONNECTIONS, json={"name": "M", "carrier_code": "no scac!", "secret": "short"})
    assert resp.status_code == 422
    assert set(resp.json()["error"]["fields"]) == {"name", "carrier_code", "secret"}
    with oworld.session() as db:  # only the demo seed's connection
        assert [c.subscription_id for c in db.exec(select(CarrierConnection)).all()] == [DEMO_SUBSCRIPTION_ID]


def test_the_demo_seed_has_a_carrier_connection_with_a_published_subscription_and_secret(oworld):
    demo = {"subscription_id": DEMO_SUBSCRIPTION_ID}
    event = equipment_event("GTIN", "TGHU1234567", at(-1), place="CNSHA")
    client = carrier_client(oworld)
    assert post_signed(client, demo, [event], secret=DEMO_SECRET).status_code == 204
    assert post_signed(client, demo, [event], secret=SECRET).status_code == 401
    sample = (PROJECT_ROOT / "docs" / "examples" / "dcsa-v2-sample-event.json").read_bytes()
    assert post_signed(client, demo, None, raw=sample, secret=DEMO_SECRET).status_code == 204
    with oworld.session() as db:
        assert len(db.exec(select(CarrierEvent)).all()) == 2
        assert db.exec(select(CarrierEventRefusal)).all() == []


# ------------------------------------------------------------------------------------------------ signatures


def test_a_wrong_missing_or_foreign_signature_is_401_and_nothing_is_stored(oworld):
    connection = connect(oworld)
    client = carrier_client(oworld)
    events = example("tnt-220-response.json")
    body = json.dumps(events).encode()
    wrong = post_signed(client, connection, events, secret="another-secret-entirely-xx")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "signature_invalid"
    assert wrong.json()["error"]["saved"] is False
    missing = client.post(CALLBACK, content=body, headers={"Content-Type": "application/json",
                                                           "Subscription-ID": connection["subscription_id"]})
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "signature_invalid"
    garbled = post_signed(client, connection, events, signature="sha1=abc")
    assert garbled.status_code == 401
    unknown = post_signed(client, connection, events, subscription="3d5c0d8e-0000-4000-8000-000000000000")
    assert unknown.status_code == 401 and unknown.json()["error"]["code"] == "subscription_unknown"
    no_subscription = client.post(CALLBACK, content=body, headers={"Content-Type": "application/json"})
    assert no_subscription.status_code == 401
    # The body signed, then changed by one byte on the way.
    from portal_app.services.carrier_events.connections import sign
    tampered = client.post(CALLBACK, content=body.replace(b"ACT", b"EST", 1), headers={
        "Content-Type": "application/json", "Subscription-ID": connection["subscription_id"],
        "Notification-Signature": sign(SECRET, body)})
    assert tampered.status_code == 401
    assert counts(oworld) == (0, 0)


def test_the_callback_answers_head(oworld):
    assert carrier_client(oworld).head(CALLBACK).status_code in (200, 204)


# ------------------------------------------------------------------------------------------------ DCSA's examples


def test_dcsa_valid_examples_are_all_accepted_and_wait_to_be_matched(oworld):
    connection = connect(oworld)
    resp = post_signed(carrier_client(oworld), connection, example("tnt-220-response.json"))
    assert resp.status_code == 204, resp.text
    with oworld.session() as db:
        rows = db.exec(select(CarrierEvent)).all()
        assert len(rows) == 7 and {r.status for r in rows} == {"unmatched"}
        assert {r.event_type for r in rows} == {"TRANSPORT", "SHIPMENT", "EQUIPMENT"}
        assert json.loads(rows[0].payload)["eventID"] == rows[0].event_id  # kept raw
        assert db.exec(select(CarrierEventRefusal)).all() == []
    queue = oworld.client("agent@harborsky.example").get("/api/v1/integrations/dcsa/unmatched").json()
    assert len(queue) == 7 and "APZU4812090" in queue[0]["references"]


@pytest.mark.parametrize("name", [p.name for p in all_examples() if "wrong" in p.name])
def test_each_dcsa_negative_example_is_refused_with_its_reason(oworld, name):
    connection = connect(oworld)
    events = example(name)
    resp = post_signed(carrier_client(oworld), connection, events)
    assert resp.status_code == 204, resp.text
    with oworld.session() as db:
        assert db.exec(select(CarrierEvent)).all() == []
        log = db.exec(select(CarrierEventRefusal).order_by(col(CarrierEventRefusal.id))).all()
    assert len(log) == len(events)
    assert all(r.reason and r.connection_id == connection["id"] for r in log)
    reasons = " | ".join(r.reason for r in log)
    expected = {
        "tnt-220-response-wrong-attribute-values.json": ["eventID is missing", "VOID", "check digit"],
        "tnt-220-response-wrong-date-times.json": ["eventCreatedDateTime", "eventDateTime", "date-time",
                                                   "in the future", "before it happened"],
        "tnt-220-response-wrong-structure.json": ["eventType is missing"],
    }[name]
    for words in expected:
        assert words in reasons, reasons
    admin = oworld.client(ADMIN)
    shown = admin.get(f"{CONNECTIONS}/{connection['id']}/refusals").json()
    assert len(shown) == len(events) and all(r["reason"] for r in shown)


def test_a_batch_keeps_its_valid_events_and_logs_the_invalid_ones(oworld):
    connection = connect(oworld)
    good = example("tnt-220-response.json")[:2]
    bad = example("tnt-220-response-wrong-attribute-values.json")[1:]
    assert post_signed(carrier_client(oworld), connection, [good[0], bad[0], good[1], bad[1]]).status_code == 204
    assert counts(oworld) == (2, 2)


def test_a_body_that_is_not_a_list_of_events_is_refused_and_logged(oworld):
    connection = connect(oworld)
    client = carrier_client(oworld)
    resp = post_signed(client, connection, {"events": []})
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_events"
    resp = post_signed(client, connection, None, raw=b"{not json")
    assert resp.status_code == 422 and resp.json()["error"]["saved"] is False
    assert counts(oworld) == (0, 2)


# ------------------------------------------------------------------------------------------------ matching & applying


def test_an_actual_load_sets_the_milestone_through_the_workspace(oworld):
    connection = connect(oworld)
    shipment = ocean_shipment(oworld)
    container = container_of(oworld, shipment)
    loaded = at(-2)
    event = equipment_event("LOAD", container, loaded, place="CNSHA")
    assert post_signed(carrier_client(oworld), connection, [event]).status_code == 204
    got = step(oworld, shipment, "loaded_on_vessel")
    assert got.actual_at == loaded and got.source == "carrier"
    after = reload(oworld, shipment)
    assert after.version == shipment.version + 1 and after.last_tracking_at is not None
    with oworld.session() as db:
        row = db.exec(select(CarrierEvent)).one()
        assert row.status == "applied"
        audit = db.exec(select(AuditLog).where(AuditLog.entity_id == shipment.reference,
                                               AuditLog.action == "milestone_updated")).one()
        assert audit.actor_id is None and "carrier" in audit.after and event["eventID"] in audit.after


def test_an_estimated_arrival_is_an_eta_change_with_reason_carrier_update(oworld):
    connection = connect(oworld)
    shipment = ocean_shipment(oworld)
    with oworld.session() as db:  # the customer follows the shipment
        db.add(ShipmentFollower(shipment_id=shipment.id, user_id=oworld.alice.user_id))
        db.commit()
    new_eta = shipment.eta_planned + timedelta(days=2)
    event = transport_event("ARRI", "MAERSK EDMONTON", "412W", "NLRTM", new_eta, classifier="EST")
    assert post_signed(carrier_client(oworld), connection, [event]).status_code == 204
    after = reload(oworld, shipment)
    assert after.eta_estimated == new_eta and after.delay_minutes == 2 * 24 * 60
    with oworld.session() as db:
        change = db.exec(select(EtaChange).where(EtaChange.shipment_id == shipment.id)).one()
        assert change.reason_code == "CARRIER_UPDATE" and change.source == "carrier"
        update = db.exec(select(ShipmentUpdate).where(ShipmentUpdate.shipment_id == shipment.id)).one()
        assert "Carrier update" in update.body and update.visibility == "customer"
    assert step(oworld, shipment, "vessel_arrival").estimated_at == new_eta
    with oworld.session() as db:  # the exception rules, the followers' notifications and the audit trail follow
        slip = db.exec(select(OpsException).where(OpsException.shipment_id == shipment.id,
                                                  OpsException.kind == "eta_slip")).one()
        assert slip.status == "open"
        notice = db.exec(select(Notification).where(Notification.user_id == oworld.alice.user_id,
                                                    Notification.event_kind == "eta_changed")).one()
        assert shipment.reference in notice.title
        assert db.exec(select(AuditLog).where(AuditLog.entity_id == shipment.reference,
                                              AuditLog.action == "eta_changed")).one().actor_id is None


def test_a_vessel_departure_moves_every_shipment_on_the_voyage(oworld):
    connection = connect(oworld)
    on_board = [ocean_shipment(oworld, vessel="CMA CGM MARCO POLO", voyage="0FL5RW1MA") for _ in range(3)]
    other_voyage = ocean_shipment(oworld, vessel="CMA CGM MARCO POLO", voyage="0FL7RW1MA")
    departed = at(-1)
    event = transport_event("DEPA", "CMA CGM Marco Polo", "0FL5RW1MA", "CNSHA", departed)
    assert post_signed(carrier_client(oworld), connection, [event]).status_code == 204
    for s in on_board:
        after = reload(oworld, s)
        assert after.atd == departed and after.status == "in_transit"
        assert step(oworld, s, "vessel_departure").actual_at == departed
    assert reload(oworld, other_voyage).atd is None
    with oworld.session() as db:
        assert len(db.exec(select(CarrierEventShipment).where(CarrierEventShipment.outcome == "applied")).all()) == 3


def test_a_departure_from_another_port_moves_nothing(oworld):
    connection = connect(oworld)
    shipment = ocean_shipment(oworld, vessel="EVER GIVEN", voyage="1122E")
    event = transport_event("DEPA", "EVER GIVEN", "1122E", "SGSIN", at(-1))
    assert post_signed(carrier_client(oworld), connection, [event]).status_code == 204
    assert reload(oworld, shipment).atd is None
    with oworld.session() as db:
        assert db.exec(select(CarrierEvent.status)).one() == "matched"
        assert db.exec(select(CarrierEventShipment.outcome)).one() == "no_step"


@pytest.mark.parametrize("which", ["booking", "mbl", "hbl", "reference"])
def test_events_match_by_booking_bill_of_lading_and_forwarder_reference(oworld, which):
    connection = connect(oworld)
    shipment = ocean_shipment(oworld)
    when = at(-3)
    if which == "booking":
        event = shipment_event("CONF", "BKG", shipment.booking_number, when)
    elif which in ("mbl", "hbl"):
        event = shipment_event("ISSU", "TRD", shipment.mbl_number if which == "mbl" else shipment.hbl_number, when)
    else:
        event = equipment_event("GTIN", "MSKU1234565", when, place="CNSHA")
        event["references"] = [{"referenceType": "FF", "referenceValue": shipment.reference}]
    assert post_signed(carrier_client(oworld), connection, [event]).status_code == 204
    with oworld.session() as db:
        link = db.exec(select(CarrierEventShipment)).one()
    assert link.shipment_id == shipment.id
    if which == "booking":
        assert step(oworld, shipment, "booking_confirmed").actual_at == when
    if which == "reference":
        assert step(oworld, shipment, "gate_in_full_at_pol").actual_at == when


def test_a_shipment_booked_with_another_carrier_is_never_touched(oworld):
    """Its booking, bill, container and voyage all named by a Maersk connection's events: nothing moves, and the
    same events from a connection of its own carrier move it."""
    from models import Carrier, Container

    maersk = connect(oworld, carrier_code="MAEU")
    shipment = ocean_shipment(oworld)
    with oworld.session() as db:
        other = db.exec(select(Carrier).where(Carrier.code != "MAEU", Carrier.mode == "ocean")).first()
        assert other is not None
        row = db.get(Shipment, shipment.id)
        row.carrier_id = other.id
        db.add(row)
        db.commit()
        container = db.exec(select(Container.number).where(Container.shipment_id == shipment.id)).first()
    when = at(-3)
    events = [shipment_event("CONF", "BKG", shipment.booking_number, when),
              shipment_event("ISSU", "TRD", shipment.mbl_number, when),
              transport_event("DEPA", "MAERSK EDMONTON", "412W", "CNSHA", when)]
    if container:
        events.append(equipment_event("GTIN", container, when, place="CNSHA"))
    assert post_signed(carrier_client(oworld), maersk, events).status_code == 204
    with oworld.session() as db:
        assert db.exec(select(CarrierEventShipment).where(CarrierEventShipment.shipment_id == shipment.id)).all() == []
    assert step(oworld, shipment, "booking_confirmed").actual_at is None
    own = connect(oworld, carrier_code=other.code)
    again = [shipment_event("CONF", "BKG", shipment.booking_number, when)]
    assert post_signed(carrier_client(oworld), own, again).status_code == 204
    assert step(oworld, shipment, "booking_confirmed").actual_at == when


def test_redelivery_of_the_same_event_is_a_no_op(oworld):
    connection = connect(oworld)
    shipment = ocean_shipment(oworld)
    event = equipment_event("GTIN", container_of(oworld, shipment), at(-5), place="CNSHA")
    client = carrier_client(oworld)
    assert post_signed(client, connection, [event]).status_code == 204
    version = reload(oworld, shipment).version
    assert post_signed(client, connection, [event]).status_code == 204
    assert post_signed(client, connection, [event, event]).status_code == 204
    assert reload(oworld, shipment).version == version
    with oworld.session() as db:
        assert len(db.exec(select(CarrierEvent)).all()) == 1
        assert len(db.exec(select(CarrierEventShipment)).all()) == 1


def test_an_older_event_never_overwrites_a_newer_one(oworld):
    connection = connect(oworld)
    shipment = ocean_shipment(oworld)
    container = container_of(oworld, shipment)
    client = carrier_client(oworld)
    newest_estimate = at(30)
    newer = equipment_event("LOAD", container, newest_estimate, classifier="EST", created=at(-1), place="CNSHA")
    older = equipment_event("LOAD", container, at(20), classifier="EST", created=at(-5), place="CNSHA")
    assert post_signed(client, connection, [newer]).status_code == 204
    assert post_signed(client, connection, [older]).status_code == 204  # arrives late
    assert step(oworld, shipment, "loaded_on_vessel").estimated_at == newest_estimate
    with oworld.session() as db:
        outcomes = db.exec(select(CarrierEventShipment.outcome).order_by(col(CarrierEventShipment.id))).all()
    assert outcomes == ["applied", "older"]
    # An actual is its own kind: a later actual applies even after estimates.
    loaded = at(-1)
    assert post_signed(client, connection, [equipment_event("LOAD", container, loaded, place="CNSHA")]
                       ).status_code == 204
    assert step(oworld, shipment, "loaded_on_vessel").actual_at == loaded


def test_an_unmatched_event_waits_and_a_staff_match_is_remembered_for_the_container(oworld):
    connection = connect(oworld)
    shipment = ocean_shipment(oworld)
    client = carrier_client(oworld)
    stranger = "TGHU1234567"  # a container the portal does not know
    gated_in = at(-6)
    first = equipment_event("GTIN", stranger, gated_in, place="CNSHA")
    assert post_signed(client, connection, [first]).status_code == 204
    agent = oworld.client("agent@harborsky.example")
    queue = agent.get("/api/v1/integrations/dcsa/unmatched").json()
    assert [q["event_id"] for q in queue] == [first["eventID"]]
    resp = agent.post(f"/api/v1/integrations/dcsa/unmatched/{queue[0]['id']}/match",
                      json={"shipment_reference": shipment.reference})
    assert resp.status_code == 200, resp.text
    assert resp.json()["remembered"] == stranger and resp.json()["outcome"] == "applied"
    assert step(oworld, shipment, "gate_in_full_at_pol").actual_at == gated_in
    assert agent.get("/api/v1/integrations/dcsa/unmatched").json() == []
    loaded = at(-2)
    assert post_signed(client, connection, [equipment_event("LOAD", stranger, loaded, place="CNSHA")]
                       ).status_code == 204
    assert step(oworld, shipment, "loaded_on_vessel").actual_at == loaded
    again = agent.post(f"/api/v1/integrations/dcsa/unmatched/{queue[0]['id']}/match",
                       json={"shipment_reference": shipment.reference})
    assert again.status_code == 409
    customer = oworld.client("alice@acme.example")
    assert customer.get("/api/v1/integrations/dcsa/unmatched").status_code == 403


def test_an_event_the_workspace_refuses_is_kept_with_the_reason(oworld):
    connection = connect(oworld)
    shipment = ocean_shipment(oworld)
    # An actual three years ago: the workspace refuses times more than two years away.
    event = equipment_event("LOAD", container_of(oworld, shipment), at(-24 * 365 * 3), created=at(-1),
                            place="CNSHA")
    assert post_signed(carrier_client(oworld), connection, [event]).status_code == 204
    assert step(oworld, shipment, "loaded_on_vessel").actual_at is None
    with oworld.session() as db:
        link = db.exec(select(CarrierEventShipment)).one()
        assert link.outcome == "refused" and "two years" in link.note
        assert db.exec(select(Shipment.version).where(Shipment.id == shipment.id)).one() == shipment.version


def test_without_the_schema_libraries_nothing_is_taken_and_the_carrier_hears_503(oworld, monkeypatch):
    from portal_app.services.carrier_events import schema

    def missing():
        raise ModuleNotFoundError("No module named 'yaml'", name="yaml")

    monkeypatch.setattr(schema, "v2_checkers", missing)
    connection = connect(oworld)
    resp = post_signed(carrier_client(oworld), connection, example("tnt-220-response.json"))
    assert resp.status_code == 503 and resp.json()["error"]["code"] == "schema_unavailable"
    assert "yaml" in resp.json()["error"]["message"] and resp.json()["error"]["saved"] is False
    assert counts(oworld) == (0, 0)
