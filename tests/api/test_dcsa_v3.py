"""Carrier events in, DCSA Track & Trace 3.0: ``POST .../v3/events`` with the connection's integration key, the
same checks, matching and applying as 2.2."""

from __future__ import annotations

import copy

from sqlmodel import select

from models import CarrierEvent, CarrierEventRefusal
from tests.dcsa import V3, at, carrier_client, connect, container_of, example, iso, ocean_shipment, step


def post_v3(world, connection: dict, document: object, key: str | None = None):
    headers = {"Authorization": f"Bearer {key or connection['api_key']}", "API-Version": "3.0.0"}
    return carrier_client(world).post(V3, json=document, headers=headers)


def test_dcsa_v3_examples_are_accepted(oworld):
    connection = connect(oworld)
    for name in ("tnt-300-request-shipment.json", "tnt-300-request-transport.json",
                 "tnt-300-request-equipment.json", "tnt-300-request-reefer.json", "tnt-300-response.json"):
        resp = post_v3(oworld, connection, example(name))
        assert resp.status_code == 200, resp.text
        assert resp.json() == {"feedbackElements": []}, name
    with oworld.session() as db:
        rows = db.exec(select(CarrierEvent)).all()
        assert {r.api_version for r in rows} == {"3.0"} and len(rows) == 9
        assert db.exec(select(CarrierEventRefusal)).all() == []


def test_the_integration_key_is_required_and_bound_to_its_connection(oworld):
    connection = connect(oworld)
    document = example("tnt-300-request-equipment.json")
    assert post_v3(oworld, connection, document, key="ck_not-a-key").status_code == 401
    assert carrier_client(oworld).post(V3, json=document).status_code == 401
    # A person's API key is not an integration key.
    assert post_v3(oworld, connection, document, key="pk_someones-api-key").status_code == 401
    admin = oworld.client("admin@harborsky.example")
    assert admin.delete(f"/api/v1/integrations/dcsa/connections/{connection['id']}").status_code == 204
    assert post_v3(oworld, connection, document).status_code == 401
    with oworld.session() as db:
        assert db.exec(select(CarrierEvent)).all() == []
    # And the integration key opens nothing else.
    key = {"Authorization": f"Bearer {connection['api_key']}"}
    other = carrier_client(oworld).get("/api/v1/shipments", headers=key)
    assert other.status_code == 401


def test_v3_events_are_checked_and_the_invalid_ones_get_feedback(oworld):
    connection = connect(oworld)
    good = example("tnt-300-request-equipment.json")["events"][0]
    no_id = copy.deepcopy(good)
    del no_id["eventID"]
    bad_container = copy.deepcopy(good)
    bad_container["eventID"] = "evt-bad-container"
    bad_container["equipmentDetails"]["equipmentReference"] = "APZU2134567"
    wrong_type = copy.deepcopy(good)
    wrong_type["eventID"] = "evt-wrong-type"
    wrong_type["eventDateTime"] = 20260120
    resp = post_v3(oworld, connection, {"events": [good, no_id, bad_container, wrong_type]})
    assert resp.status_code == 200
    feedback = resp.json()["feedbackElements"]
    assert len(feedback) == 3 and {f["severity"] for f in feedback} == {"ERROR"}
    text = " ".join(f["message"] for f in feedback)
    assert "eventID is missing" in text and "check digit" in text and "eventDateTime" in text
    assert post_v3(oworld, connection, [good]).status_code == 422  # not {"events": [...]}


def test_a_v3_actual_load_moves_the_milestone(oworld):
    connection = connect(oworld)
    shipment = ocean_shipment(oworld)
    event = copy.deepcopy(example("tnt-300-request-equipment.json")["events"][0])
    loaded = at(-4)
    event["eventID"] = "evt-load-" + shipment.reference
    event["eventDateTime"] = iso(loaded)
    event["eventUpdatedDateTime"] = iso(at(-3))
    event["eventLocation"] = {"UNLocationCode": "CNSHA"}
    event["equipmentDetails"]["equipmentReference"] = container_of(oworld, shipment)
    assert post_v3(oworld, connection, {"events": [event]}).status_code == 200
    assert step(oworld, shipment, "loaded_on_vessel").actual_at == loaded
    assert post_v3(oworld, connection, {"events": [event]}).status_code == 200  # redelivered: nothing more
    with oworld.session() as db:
        assert len(db.exec(select(CarrierEvent)).all()) == 1
