"""Reading DCSA events: the spec's schema from its YAML, the rules beyond it, and which portal milestone an event
is about (integrations/dcsa/ocean_milestones_dcsa_mapping.csv)."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

import pytest

from portal_app.services.carrier_events import schema
from portal_app.services.carrier_events.intake import milestone_for
from seed.config_data import OCEAN_FCL, OCEAN_LCL
from tests.dcsa import EXAMPLES, equipment_event, transport_event

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_the_schemas_come_from_the_spec_files_with_their_references_resolved():
    checkers = schema.v2_checkers()
    assert set(checkers) == {"TRANSPORT", "SHIPMENT", "EQUIPMENT"}
    event = json.loads((EXAMPLES / "tnt-220-response.json").read_text())[0]
    assert checkers["TRANSPORT"](event) == []
    broken = {**event, "transportCall": {"modeOfTransport": "VESSEL"}}  # transportCallID is required in the spec
    assert any("transportCallID" in p for p in checkers["TRANSPORT"](broken))
    assert schema.v3_checker()({"eventID": 5}) != []


def test_the_checkers_are_built_with_the_spec_references_written_out():
    """Each ``$ref`` resolved once when the checker is built, not looked up again for every event; a schema that
    refers to itself keeps its references and still checks."""
    spec = schema._load_spec(schema.SPEC_V2)
    root = {"$ref": "#/components/schemas/transportEvent", "components": spec["components"]}
    assert "$ref" not in json.dumps(schema._inline(root, root))
    looped = {"$ref": "#/definitions/leg", "definitions": {"leg": {
        "type": "object", "properties": {"next": {"$ref": "#/definitions/leg"}, "name": {"type": "string"}}}}}
    assert schema._checker(looped)({"next": {"next": {"name": 5}}}) == ['next.next.name: 5 is not of type "string"']


@pytest.mark.parametrize("event", json.loads((EXAMPLES / "tnt-220-response.json").read_text()),
                         ids=lambda e: e["eventID"][-2:])
def test_every_valid_dcsa_example_is_read(event):
    read = schema.read_v2(event, NOW)
    assert isinstance(read, schema.Incoming) and read.event_id == event["eventID"]
    assert read.event_at.tzinfo is not None and "APZU4812090" in read.equipment_references


def test_the_rules_beyond_the_schema():
    good = equipment_event("LOAD", "MSKU1234565", NOW, created=NOW)
    assert isinstance(schema.read_v2(good, NOW), schema.Incoming)
    cases = {
        "eventID is missing": {k: v for k, v in good.items() if k != "eventID"},
        "not a DCSA code": {**good, "equipmentEventTypeCode": "FLY"},
        "check digit": {**good, "equipmentReference": "MSKU1234566"},
        "in the future": {**good, "eventCreatedDateTime": "2027-06-01T00:00:00Z"},
        "before it happened": {**good, "eventCreatedDateTime": "2026-12-01T00:00:00Z"},
        "PLN, EST or ACT": {**good, "eventClassifierCode": "REQ"},
    }
    for words, event in cases.items():
        read = schema.read_v2(event, NOW)
        assert isinstance(read, schema.Refused) and words in read.reason, (words, read)
    assert isinstance(schema.read_v2("text", NOW), schema.Refused)
    # A reference that is not an ISO 6346 number (a chassis, a trailer) is not checked for a check digit.
    assert isinstance(schema.read_v2({**good, "equipmentReference": "CHASSIS-77"}, NOW), schema.Incoming)


def _mapping_rows() -> list[dict[str, str]]:
    with (schema.DCSA_DIR / "ocean_milestones_dcsa_mapping.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def test_every_carrier_reported_ocean_step_of_the_templates_is_in_the_mapping():
    mapped = {row["portal_milestone"] for row in _mapping_rows()}
    for template in (OCEAN_FCL, OCEAN_LCL):
        for step in template.steps:
            if step.event_code:
                assert step.code in mapped, step.code


@pytest.mark.parametrize(("event", "expected"), [
    (transport_event("DEPA", "V", "1", "CNSHA", NOW), "vessel_departure"),
    (transport_event("DEPA", "V", "1", "SGSIN", NOW), None),
    (transport_event("ARRI", "V", "1", "NLRTM", NOW), "vessel_arrival"),
    (equipment_event("GTOT", "MSKU1234565", NOW, empty="EMPTY", place="CNSHA"), "empty_container_released_to_shipper"),
    (equipment_event("GTIN", "MSKU1234565", NOW, place="CNSHA"), "gate_in_full_at_pol"),
    (equipment_event("LOAD", "MSKU1234565", NOW, place="CNSHA"), "loaded_on_vessel"),
    (equipment_event("LOAD", "MSKU1234565", NOW, place="SGSIN"), "transshipment_load"),
    (equipment_event("DISC", "MSKU1234565", NOW, place="SGSIN"), "transshipment_discharge"),
    (equipment_event("DISC", "MSKU1234565", NOW, place="NLRTM"), "discharged_at_pod"),
    (equipment_event("GTOT", "MSKU1234565", NOW, place="NLRTM"), "gate_out_full_from_pod"),
    (equipment_event("DROP", "MSKU1234565", NOW, place="NLRTM"), "delivered_to_consignee"),
    (equipment_event("GTIN", "MSKU1234565", NOW, empty="EMPTY", place="NLRTM"), "empty_returned"),
])
def test_which_milestone_an_event_is_about(event, expected):
    read = schema.read_v2({**event, "eventCreatedDateTime": "2026-12-07T12:00:00Z"}, NOW)
    assert isinstance(read, schema.Incoming), read
    assert milestone_for(read, "CNSHA", "NLRTM") == expected
