"""Is this a DCSA Track & Trace event the portal can take? The spec's own schema first, then the rules the schema
cannot say; and the fields the portal reads from a valid event, the same for DCSA 2.2 and 3.0.

The schemas are read from the OpenAPI files DCSA publishes (``portal_app/integrations/dcsa/spec/``): for 2.2 the
callback's event kinds (``transportEvent``, ``shipmentEvent``, ``equipmentEvent``, picked by ``eventType``), for 3.0
``Event``; every ``#/components/schemas/...`` reference resolves inside the same document. OpenAPI 3.0 schemas are
JSON Schema draft 4 with extensions, so a draft-4 validator checks them (formats included, e.g. ``date-time``).

Rules beyond the schema (each refusal names the one that failed):

- ``eventID`` is required: the portal takes each event exactly once by it;
- event type, classifier and event codes must be DCSA codes (``integrations/dcsa/codes/*.csv``); a ``VOID`` is the
  cancellation of an original document, so only of a transport document (``TRD``);
- an equipment reference written as an ISO 6346 container number must have the right check digit;
- date-times are RFC 3339 with a zone; ``eventCreatedDateTime`` may not be in the future, and an actual (``ACT``)
  event cannot have been created before it happened (2.2).
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from portal_app.services.errors import ErrorCode, ServiceError
from portal_app.services.identifiers import is_valid_container_number

DCSA_DIR = Path(__file__).resolve().parents[2] / "integrations" / "dcsa"
SPEC_V2 = DCSA_DIR / "spec" / "TNT_v2.2.0-resolved.yaml"
SPEC_V3 = DCSA_DIR / "spec" / "TNT_v3.0.0.yaml"
V2_KINDS = {"TRANSPORT": "transportEvent", "SHIPMENT": "shipmentEvent", "EQUIPMENT": "equipmentEvent"}
V3_TYPES = frozenset({"TRANSPORT", "SHIPMENT", "EQUIPMENT", "IOT", "REEFER"})
CLASSIFIERS = frozenset({"PLN", "EST", "ACT"})
CLOCK_SLACK = timedelta(minutes=10)  # clocks differ a little; more than this ahead is a wrong clock or a wrong date
MAX_EVENT_ID = 500
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_ISO6346_SHAPE = re.compile(r"^[A-Z]{3}[UJZ]\d{7}$")
# Document types of 2.2 beyond the code list (the spec's own list names SRM and CUS).
_V2_EXTRA_DOCUMENTS = frozenset({"SRM", "CUS"})


class SchemaUnavailable(ServiceError):
    """The libraries that read the spec (PyYAML) or check events against it (jsonschema-rs) are not
    installed: no event can be checked, so none is taken (503, nothing stored; the carrier sends it again)."""

    status_code = 503
    code = ErrorCode.SCHEMA_UNAVAILABLE


def require_checkers(version: str) -> None:
    """Load the version's schemas now (once), or refuse the whole request with :class:`SchemaUnavailable`."""
    try:
        v2_checkers() if version == "2.2" else v3_checker()
    except ImportError as exc:
        raise SchemaUnavailable(
            f"The portal cannot check DCSA events: the library {exc.name or 'for JSON Schema'} is not installed. "
            "Nothing was stored; ask whoever runs the installation to install the requirements, then send the "
            "events again.") from None


def _codes(name: str) -> frozenset[str]:
    with (DCSA_DIR / "codes" / name).open(newline="", encoding="utf-8") as f:
        return frozenset(row[0].strip() for i, row in enumerate(csv.reader(f)) if i and row and row[0].strip())


@cache
def code_lists() -> dict[str, frozenset[str]]:
    return {
        "SHIPMENT": _codes("shipmenteventtypecodes.csv"),
        "EQUIPMENT": _codes("equipmenteventtypecodes.csv"),
        "TRANSPORT": _codes("transporteventtypecodes.csv"),
        "documents": _codes("documenttypecodes.csv") | _V2_EXTRA_DOCUMENTS,
    }


def _load_spec(path: Path) -> dict[str, Any]:
    import yaml  # PyYAML; only when the first event arrives

    with path.open(encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    # YAML reads some examples as dates; a schema is JSON, so write them as the strings they are in JSON.
    return json.loads(json.dumps(spec, default=str))


Check = Callable[[Any], list[str]]


class _Cycle(Exception):
    """A schema that refers to itself (directly or not) cannot be written out in full."""


def _inline(node: Any, spec: dict[str, Any], resolving: tuple[str, ...] = (), done: dict[str, Any] | None = None
            ) -> Any:
    """``node`` with every ``#/...`` reference replaced by what it points to, each resolved once.

    The validator would otherwise look each ``$ref`` up again (a JSON pointer walked through the spec) every time
    an event passes it: a few dozen look-ups per event, a good part of a 1,000-event batch. In draft 4 a ``$ref``
    stands for its whole object (its siblings are ignored), so replacing the object by the target checks the same.
    """
    done = {} if done is None else done
    if isinstance(node, list):
        return [_inline(item, spec, resolving, done) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        if ref in resolving:
            raise _Cycle(ref)
        if ref not in done:
            target: Any = spec
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            done[ref] = _inline(target, spec, (*resolving, ref), done)
        return done[ref]
    return {key: _inline(value, spec, resolving, done) for key, value in node.items()}


def _checker(schema: dict[str, Any]) -> Check:
    """A function listing what is wrong with an instance (empty when it is valid), by the spec's draft-4 rules.

    Built once per kind of event (the callers cache it), from the schema with its references written out when it
    has no cycle; a schema that refers to itself keeps its references."""
    import jsonschema_rs  # an ImportError here is require_checkers' SchemaUnavailable

    with contextlib.suppress(_Cycle):  # a cycle: the validator follows those references itself
        schema = _inline(schema, schema)
    validator = jsonschema_rs.Draft4Validator(schema, validate_formats=True)

    def check(instance: Any) -> list[str]:
        if validator.is_valid(instance):  # the usual case, without building the errors
            return []
        errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.instance_path])
        return [_where(list(e.instance_path), e.message) for e in errors]
    return check


def _where(path: list, message: str) -> str:
    where = ".".join(str(p) for p in path)
    return f"{where}: {message}" if where else message


@cache
def v2_checkers() -> dict[str, Check]:
    spec = _load_spec(SPEC_V2)
    components = {"components": spec["components"]}
    return {kind: _checker({"$ref": f"#/components/schemas/{name}", **components}) for kind, name in V2_KINDS.items()}


@cache
def v3_checker() -> Check:
    spec = _load_spec(SPEC_V3)
    return _checker({"$ref": "#/components/schemas/Event", "components": spec["components"]})


# ------------------------------------------------------------------------------------------------ the event read


@dataclass
class Incoming:
    """What the portal reads from one valid event, whichever version sent it."""

    api_version: str
    event_id: str
    event_type: str
    event_code: str
    classifier: str
    event_at: datetime
    event_created_at: datetime
    payload: dict[str, Any]
    equipment_references: set[str] = field(default_factory=set)
    equipment_reference: str | None = None
    empty_indicator: str | None = None
    document_type: str | None = None
    booking_references: set[str] = field(default_factory=set)
    bl_references: set[str] = field(default_factory=set)
    forwarder_references: set[str] = field(default_factory=set)
    location_code: str | None = None
    vessel_name: str | None = None
    voyages: set[str] = field(default_factory=set)
    retracted: bool = False


@dataclass(frozen=True)
class Refused:
    event_id: str | None
    reason: str
    excerpt: str


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _RFC3339.match(value.strip()):
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def norm(value: str | None) -> str:
    return "".join((value or "").split()).replace("-", "").upper()


def excerpt(event: Any) -> str:
    return json.dumps(event, ensure_ascii=False, default=str)[:4000]


def _document(incoming: Incoming, type_code: Any, reference: Any) -> None:
    ref = _text(reference)
    if ref is None:
        return
    if type_code in ("BKG", "CBR"):
        incoming.booking_references.add(ref)
    elif type_code == "TRD":
        incoming.bl_references.add(ref)


def _reference(incoming: Incoming, type_code: Any, value: Any) -> None:
    ref = _text(value)
    if ref is None:
        return
    if type_code == "EQ":
        incoming.equipment_references.add(ref)
    elif type_code == "FF":
        incoming.forwarder_references.add(ref)


def _common_rules(event_id: Any, event_type: str, classifier: Any, code: Any, document_type: Any,
                  equipment: Any, problems: list[str]) -> None:
    if not isinstance(event_id, str) or not event_id.strip():
        problems.append("eventID is missing: the portal takes each event once by its eventID, so every event "
                        "needs one")
    elif len(event_id) > MAX_EVENT_ID:
        problems.append(f"eventID is longer than {MAX_EVENT_ID} characters")
    if classifier not in CLASSIFIERS:
        problems.append(f"eventClassifierCode {classifier!r} is not PLN, EST or ACT")
    lists = code_lists()
    if event_type in lists and code not in lists[event_type]:
        problems.append(f"{event_type.lower()} event type code {code!r} is not a DCSA code "
                        f"({', '.join(sorted(lists[event_type]))})")
    if event_type == "SHIPMENT":
        if document_type is not None and document_type not in lists["documents"]:
            problems.append(f"documentTypeCode {document_type!r} is not a DCSA document type")
        if code == "VOID" and document_type != "TRD":
            problems.append(f"VOID cancels an original document, which only a transport document (TRD) is; "
                            f"not {document_type!r}")
    if isinstance(equipment, str) and _ISO6346_SHAPE.match(equipment.strip().upper()) \
            and not is_valid_container_number(equipment.strip().upper()):
        problems.append(f"equipmentReference {equipment!r} is not a valid container number (ISO 6346 check digit)")


def _time_rules(created_raw: Any, at_raw: Any, classifier: Any, now: datetime, problems: list[str], *,
                created_name: str, act_rule: bool) -> tuple[datetime | None, datetime | None]:
    created, at = _time(created_raw), _time(at_raw)
    said = " ".join(problems)  # the schema may have named the field already; say it once
    if created_raw is not None and created is None and created_name not in said:
        problems.append(f"{created_name} {created_raw!r} is not an RFC 3339 date-time with a zone")
    if "eventDateTime" not in said:
        if at_raw is None:
            problems.append("eventDateTime is missing")
        elif at is None:
            problems.append(f"eventDateTime {at_raw!r} is not an RFC 3339 date-time with a zone")
    if created is not None and created > now + CLOCK_SLACK:
        problems.append(f"{created_name} {created_raw} is in the future")
    if act_rule and classifier == "ACT" and created is not None and at is not None and at > created + CLOCK_SLACK:
        problems.append(f"an actual event cannot be created ({created_raw}) before it happened ({at_raw})")
    return created, at


def read_v2(event: Any, now: datetime) -> Incoming | Refused:
    """One event of a DCSA 2.2 callback: the portal's reading of it, or why it is refused."""
    if not isinstance(event, dict):
        return Refused(None, "not an event: each item of the array must be a JSON object", excerpt(event))
    event_id = event.get("eventID")
    shown_id = event_id if isinstance(event_id, str) else None
    event_type = event.get("eventType")
    if event_type not in V2_KINDS:
        return Refused(shown_id, f"eventType {event_type!r} is not TRANSPORT, SHIPMENT or EQUIPMENT"
                       if event_type is not None else "eventType is missing: this is not a DCSA event",
                       excerpt(event))
    problems = v2_checkers()[event_type](event)
    classifier = event.get("eventClassifierCode")
    code = event.get({"TRANSPORT": "transportEventTypeCode", "SHIPMENT": "shipmentEventTypeCode",
                      "EQUIPMENT": "equipmentEventTypeCode"}[event_type])
    _common_rules(event_id, event_type, classifier, code, event.get("documentTypeCode"),
                  event.get("equipmentReference"), problems)
    created, at = _time_rules(event.get("eventCreatedDateTime"), event.get("eventDateTime"), classifier, now,
                              problems, created_name="eventCreatedDateTime", act_rule=True)
    if problems or created is None or at is None:
        return Refused(shown_id, "; ".join(dict.fromkeys(problems)) or "eventCreatedDateTime is missing",
                       excerpt(event))
    incoming = Incoming("2.2", str(event_id).strip(), event_type, str(code), str(classifier), at, created, event)
    call = _obj(event.get("transportCall"))
    place = _obj(event.get("eventLocation"))
    call_place = _obj(call.get("location"))
    incoming.location_code = (_text(place.get("UNLocationCode")) or _text(call.get("UNLocationCode"))
                              or _text(call_place.get("UNLocationCode")))
    vessel = _obj(call.get("vessel"))
    incoming.vessel_name = _text(vessel.get("vesselName"))
    incoming.voyages = {v for v in (_text(call.get(k)) for k in ("exportVoyageNumber", "importVoyageNumber",
                                                                 "carrierVoyageNumber")) if v}
    incoming.equipment_reference = _text(event.get("equipmentReference"))
    if incoming.equipment_reference:
        incoming.equipment_references.add(incoming.equipment_reference)
    incoming.empty_indicator = _text(event.get("emptyIndicatorCode"))
    incoming.document_type = _text(event.get("documentTypeCode"))
    if event_type == "SHIPMENT":
        _document(incoming, incoming.document_type, event.get("documentID"))
    for doc in event.get("documentReferences") or []:
        if isinstance(doc, dict):
            _document(incoming, doc.get("documentReferenceType"), doc.get("documentReferenceValue"))
    for ref in event.get("references") or []:
        if isinstance(ref, dict):
            _reference(incoming, ref.get("referenceType"), ref.get("referenceValue"))
    return incoming


def read_v3(event: Any, now: datetime) -> Incoming | Refused:
    """One event of a DCSA 3.0 ``POST /events``: the portal's reading of it, or why it is refused."""
    if not isinstance(event, dict):
        return Refused(None, "not an event: each item of events must be a JSON object", excerpt(event))
    event_id = event.get("eventID")
    shown_id = event_id if isinstance(event_id, str) else None
    problems = v3_checker()(event)
    kind = _obj(event.get("eventClassification"))
    event_type = kind.get("eventTypeCode")
    if event_type not in V3_TYPES:
        problems.append(f"eventClassification.eventTypeCode {event_type!r} is not TRANSPORT, SHIPMENT, EQUIPMENT, "
                        "IOT or REEFER")
    classifier = kind.get("eventClassifierCode")
    code = kind.get({"TRANSPORT": "transportEventTypeCode", "SHIPMENT": "shipmentEventTypeCode",
                     "EQUIPMENT": "equipmentEventTypeCode", "IOT": "iotEventTypeCode",
                     "REEFER": "reeferEventTypeCode"}.get(str(event_type), "-"))
    shipment = _obj(event.get("shipmentDetails"))
    primary = _obj(shipment.get("documentReference"))
    equipment = _obj(event.get("equipmentDetails"))
    if event_type in ("TRANSPORT", "SHIPMENT", "EQUIPMENT"):
        _common_rules(event_id, str(event_type), classifier, code, primary.get("typeCode"),
                      equipment.get("equipmentReference"), problems)
    elif not isinstance(event_id, str) or not event_id.strip():
        problems.append("eventID is missing: the portal takes each event once by its eventID, so every event "
                        "needs one")
    if event.get("isRetracted") is True:
        problems.append("the event is retracted: the portal does not undo carrier events; correct the shipment in "
                        "the tower if an applied event was wrong")
    updated_raw = event.get("eventUpdatedDateTime", event.get("eventDateTime"))
    created, at = _time_rules(updated_raw, event.get("eventDateTime"), classifier, now, problems,
                              created_name="eventUpdatedDateTime", act_rule=False)
    if problems or created is None or at is None:
        return Refused(shown_id, "; ".join(dict.fromkeys(problems)) or "eventUpdatedDateTime is missing",
                       excerpt(event))
    incoming = Incoming("3.0", str(event_id).strip(), str(event_type), str(code or "")[:8], str(classifier), at,
                        created, event)
    place = _obj(event.get("eventLocation"))
    incoming.location_code = _text(place.get("UNLocationCode"))
    transport = _obj(event.get("transportDetails"))
    call = _obj(transport.get("transportCall"))
    vessel = _obj(call.get("vesselTransport"))
    incoming.vessel_name = _text(vessel.get("vesselName"))
    for key in ("exportVoyageNumberOrReference", "importVoyageNumberOrReference"):
        voyage = _obj(call.get(key))
        if _text(voyage.get("carrierVoyageNumber")):
            incoming.voyages.add(str(_text(voyage.get("carrierVoyageNumber"))))
    incoming.equipment_reference = _text(equipment.get("equipmentReference"))
    if incoming.equipment_reference:
        incoming.equipment_references.add(incoming.equipment_reference)
    incoming.empty_indicator = _text(equipment.get("emptyIndicatorCode"))
    incoming.document_type = _text(primary.get("typeCode"))
    _document(incoming, primary.get("typeCode"), primary.get("reference"))
    for doc in shipment.get("additionalDocumentReferences") or []:
        if isinstance(doc, dict):
            _document(incoming, doc.get("typeCode"), doc.get("reference"))
    for ref in shipment.get("shipmentReferences") or []:
        if isinstance(ref, dict):
            _reference(incoming, ref.get("typeCode"), ref.get("reference"))
    return incoming
