"""Shipments imported from the forwarder's TMS: CSV and Excel over the API, refused whole with a report of sheet,
row, column and problem (nothing written), idempotent by reference (a re-import updates, never duplicates), the
template round trip, and who may import."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from sqlmodel import Session, col, func, select

from models import (
    AuditLog,
    Container,
    EtaChange,
    Milestone,
    Notification,
    Shipment,
    ShipmentReference,
)
from portal_app.services import clock
from portal_app.services import shipment_import as svc
from portal_app.services.errors import PermissionDenied
from portal_app.services.shipment_import.reading import read_sections
from tests.quote_world import QuoteWorld

DAY = timedelta(days=1)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def now() -> datetime:
    return clock.now().replace(microsecond=0)


def ocean(ref: str = "TMS-T-0001", **extra: object) -> dict[str, object]:
    row = {"reference": ref, "customer": "ACME", "mode": "ocean_fcl", "origin": "CNSHA", "destination": "NLRTM",
           "carrier": "MAEU", "vessel": "Maersk Essen", "voyage": "612w", "booking": "MAEU261234567",
           "mbl": "MAEU261234567", "hbl": "HSLSHA0101", "incoterm": "FOB", "shipper": "Shanghai Homeware Co",
           "consignee": "Acme Home Goods Ltd", "packages": "1240", "gross_weight_kg": "18450.5",
           "containers": "MSKU9070323:45G1; MRKU4827310:40HC"}
    row.update(extra)
    return row


def air(ref: str = "TMS-A-0001", **extra: object) -> dict[str, object]:
    row = {"reference": ref, "customer": "Nordwind Electronics GmbH", "mode": "air", "origin": "PVG",
           "destination": "FRA", "carrier": "LH", "flight": "LH8405", "awb": "020-12345675", "incoterm": "FCA",
           "shipper": "Pudong Electronics", "consignee": "Nordwind Electronics GmbH"}
    row.update(extra)
    return row


def ocean_milestones(ref: str = "TMS-T-0001") -> list[dict[str, object]]:
    t = now()
    return [
        {"reference": ref, "milestone": "booking_confirmed", "actual": iso(t - 14 * DAY)},
        {"reference": ref, "milestone": "gate_in_full_at_pol", "planned": iso(t - 6 * DAY), "actual": iso(t - 6 * DAY),
         "location": "CNSHA"},
        {"reference": ref, "milestone": "vessel_departure", "planned": iso(t - 3 * DAY), "actual": iso(t - 2 * DAY)},
        {"reference": ref, "milestone": "vessel_arrival", "planned": iso(t + 27 * DAY),
         "estimated": iso(t + 28 * DAY)},
    ]


def csv_file(shipments: list[dict], milestones: list[dict] | None = None) -> bytes:
    """The CSV layout: shipments under their header, then (after a blank line) milestones under theirs."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(svc.SHIPMENT_COLUMNS)
    for row in shipments:
        writer.writerow([row.get(c, "") for c in svc.SHIPMENT_COLUMNS])
    if milestones is not None:
        writer.writerow([])
        writer.writerow(svc.MILESTONE_COLUMNS)
        for row in milestones:
            writer.writerow([row.get(c, "") for c in svc.MILESTONE_COLUMNS])
    return out.getvalue().encode()


def xlsx_file(shipments: list[dict], milestones: list[dict]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Shipments"
    sheet.append(list(svc.SHIPMENT_COLUMNS))
    for row in shipments:
        sheet.append([row.get(c) for c in svc.SHIPMENT_COLUMNS])
    stones = book.create_sheet("Milestones")
    stones.append(list(svc.MILESTONE_COLUMNS))
    for row in milestones:
        stones.append([row.get(c) for c in svc.MILESTONE_COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def counts(db: Session) -> dict[str, int]:
    return {model.__name__: db.exec(select(func.count()).select_from(model)).one()
            for model in (Shipment, Container, Milestone, ShipmentReference, AuditLog, Notification, EtaChange)}


@pytest.fixture(params=["sqlite", "postgresql"])
def both(request) -> QuoteWorld:
    """The quote world on SQLite, then on PostgreSQL (skipped when PostgreSQL is not running)."""
    return request.getfixturevalue("qworld" if request.param == "sqlite" else "pg_qworld")


def post(client, name: str, data: bytes, kind: str = "text/csv"):
    return client.post("/api/v1/shipments/import", files={"file": (name, data, kind)})


def shipment(db: Session, ref: str) -> Shipment:
    return db.exec(select(Shipment).where(Shipment.reference == ref)).one()


def test_a_csv_is_imported_over_the_api_with_containers_and_milestones(both: QuoteWorld):
    manager = both.client("manager@harborsky.example")
    with both.session() as db:
        before = counts(db)
    answer = post(manager, "tms.csv", csv_file([ocean(), air()], ocean_milestones()))
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert report["imported"] is True and report["created"] == 2 and report["updated"] == 0
    assert report["created_references"] == ["TMS-T-0001", "TMS-A-0001"]
    with both.session() as db:
        after = counts(db)
        s = shipment(db, "TMS-T-0001")
        assert s.mode == "ocean_fcl" and s.status == "in_transit" and s.voyage_number == "612W"
        assert s.vessel_name == "Maersk Essen" and s.incoterm == "FOB" and s.packages == 1240
        assert s.atd is not None and s.eta_planned is not None and s.eta_estimated is not None
        assert s.delay_minutes == 24 * 60 and s.created_by_id == both.manager.user_id
        steps = db.exec(select(Milestone).where(Milestone.shipment_id == s.id).order_by(col(Milestone.sequence))).all()
        assert len(steps) == 11  # the whole ocean FCL template, the file's times on its steps
        departure = next(m for m in steps if m.code == "vessel_departure")
        assert departure.actual_at == s.atd and departure.source == "import"
        assert next(m for m in steps if m.code == "empty_returned").source == "plan"
        containers = db.exec(select(Container.number, Container.size_type).where(Container.shipment_id == s.id)
                             .order_by(col(Container.number))).all()
        assert [tuple(c) for c in containers] == [("MRKU4827310", "45G1"), ("MSKU9070323", "45G1")]
        kinds = set(db.exec(select(ShipmentReference.kind).where(ShipmentReference.shipment_id == s.id)).all())
        assert {"shipment", "booking", "mbl", "hbl", "container"} <= kinds
        a = shipment(db, "TMS-A-0001")
        assert a.awb_number == "02012345675" and a.status == "confirmed" and a.flight_number == "LH8405"
        assert len(db.exec(select(Milestone).where(Milestone.shipment_id == a.id)).all()) == 9
        actions = db.exec(select(AuditLog.action).where(col(AuditLog.action).in_(
            ["shipment_imported", "shipments_imported"]))).all()
    assert sorted(actions) == ["shipment_imported", "shipment_imported", "shipments_imported"]
    assert after["Shipment"] == before["Shipment"] + 2
    assert after["Notification"] == before["Notification"]  # historical milestones notify nobody
    # The customer sees the imported shipment like any other of theirs.
    alice = both.client("alice@acme.example")
    assert alice.get("/api/v1/shipments/TMS-T-0001").status_code == 200
    assert alice.get("/api/v1/shipments/TMS-A-0001").status_code == 404


def test_an_excel_workbook_is_imported_like_csv(qworld: QuoteWorld):
    manager = qworld.client("manager@harborsky.example")
    answer = post(manager, "tms.xlsx", xlsx_file([ocean("TMS-X-0001"), air("TMS-X-0002")],
                                                 ocean_milestones("TMS-X-0001")),
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert answer.status_code == 201, answer.text
    assert answer.json()["created"] == 2 and answer.json()["milestone_rows"] == 4
    with qworld.session() as db:
        assert shipment(db, "TMS-X-0001").status == "in_transit"


def test_a_file_with_bad_rows_is_refused_whole_and_nothing_is_written(both: QuoteWorld):
    manager = both.client("manager@harborsky.example")
    future = iso(now() + 5 * DAY)
    rows = [ocean("TMS-OK-0001"),
            ocean("TMS-BAD-0002", containers="MSCU1234565:40HC"),
            ocean("TMS-BAD-0003", customer="NOSUCHCO"),
            air("TMS-BAD-0004", mode="rocket"),
            ocean("TMS-OK-0001")]
    stones = [
        *ocean_milestones("TMS-OK-0001"),
        {"reference": "TMS-OK-0001", "milestone": "teleported", "actual": iso(now())},
        {"reference": "TMS-OK-0001", "milestone": "discharged_at_pod", "actual": future},
        {"reference": "NOWHERE-1", "milestone": "vessel_arrival", "actual": iso(now())},
    ]
    with both.session() as db:
        before = counts(db)
    answer = post(manager, "tms.csv", csv_file(rows, stones))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "import_refused" and error["saved"] is False
    assert "Nothing was imported" in error["message"]
    found = {(p["sheet"], p["row"], p["column"]) for p in error["problems"]}
    assert ("Shipments", 3, "containers") in found
    assert ("Shipments", 4, "customer") in found
    assert ("Shipments", 5, "mode") in found
    assert ("Shipments", 6, "reference") in found  # the same reference twice
    # Milestones: the header is on row 8 (after the blank line), so the file's rows 13 to 15.
    assert ("Milestones", 13, "milestone") in found
    assert ("Milestones", 14, "actual") in found
    assert ("Milestones", 15, "reference") in found
    check_digit = next(p["problem"] for p in error["problems"] if p["column"] == "containers")
    assert "MSCU1234565" in check_digit and "should be 6" in check_digit
    with both.session() as db:
        assert counts(db) == before
        assert db.exec(select(Shipment).where(Shipment.reference == "TMS-OK-0001")).first() is None


def test_a_reimport_updates_and_never_duplicates(both: QuoteWorld):
    manager = both.client("manager@harborsky.example")
    first = csv_file([ocean("TMS-R-0001")], ocean_milestones("TMS-R-0001"))
    assert post(manager, "tms.csv", first).status_code == 201
    with both.session() as db:
        version = shipment(db, "TMS-R-0001").version
        before = counts(db)
    # The same file again: nothing changes, not even the version.
    again = post(manager, "tms.csv", first)
    assert again.status_code == 201 and again.json()["unchanged"] == 1 and again.json()["updated"] == 0
    with both.session() as db:
        assert shipment(db, "TMS-R-0001").version == version
        assert counts(db)["AuditLog"] == before["AuditLog"] + 1  # only the import's own entry
    # A newer export: another vessel, one container replaced, arrival estimate moved, discharge happened.
    t = now()
    stones = ocean_milestones("TMS-R-0001")
    stones[3]["estimated"] = iso(t + 30 * DAY)
    stones.append({"reference": "TMS-R-0001", "milestone": "loaded_on_vessel", "actual": iso(t - 3 * DAY)})
    newer = csv_file([ocean("TMS-R-0001", vessel="MAERSK KINLOSS", containers="MSKU9070323:45G1;TGHU7319044:22G1",
                            shipper="")], stones)
    answer = post(manager, "tms.csv", newer)
    assert answer.status_code == 201, answer.text
    assert answer.json()["created"] == 0 and answer.json()["updated"] == 1
    with both.session() as db:
        after = counts(db)
        s = shipment(db, "TMS-R-0001")
        assert s.version == version + 1 and s.vessel_name == "MAERSK KINLOSS"
        assert s.shipper_name == "Shanghai Homeware Co"  # a blank cell never erases
        assert s.eta_estimated == t + 30 * DAY
        numbers = db.exec(select(Container.number).where(Container.shipment_id == s.id)
                          .order_by(col(Container.number))).all()
        assert list(numbers) == ["MSKU9070323", "TGHU7319044"]
        containers = set(db.exec(select(ShipmentReference.display_value).where(
            ShipmentReference.shipment_id == s.id, ShipmentReference.kind == "container")).all())
        assert containers == {"MSKU9070323", "TGHU7319044"}
        eta = db.exec(select(EtaChange).where(EtaChange.shipment_id == s.id)).one()
        assert eta.source == "import" and eta.new_eta == t + 30 * DAY
        audit = db.exec(select(AuditLog).where(AuditLog.entity_id == "TMS-R-0001",
                                               AuditLog.action == "shipment_import_updated")).one()
        assert f'"version": {version + 1}' in (audit.after or "")
    assert after["Shipment"] == before["Shipment"]
    assert after["Milestone"] == before["Milestone"]
    assert after["Container"] == before["Container"]
    assert after["Notification"] == before["Notification"]


def test_milestones_alone_update_a_stored_shipment_in_order(qworld: QuoteWorld):
    manager = qworld.client("manager@harborsky.example")
    assert post(manager, "tms.csv", csv_file([ocean("TMS-M-0001")], ocean_milestones("TMS-M-0001"))).status_code == 201
    t = now()
    out_of_order = csv_file([], [{"reference": "TMS-M-0001", "milestone": "loaded_on_vessel",
                                  "actual": iso(t - DAY)}])
    refused = post(manager, "milestones.csv", out_of_order)
    assert refused.status_code == 422
    assert refused.json()["error"]["problems"][0]["column"] == "actual"
    arrived = csv_file([], [{"reference": "TMS-M-0001", "milestone": "Vessel arrived",
                             "actual": iso(t - timedelta(hours=1))}])
    answer = post(manager, "milestones.csv", arrived)
    assert answer.status_code == 201, answer.text
    with qworld.session() as db:
        s = shipment(db, "TMS-M-0001")
        assert s.status == "arrived" and s.ata is not None


def test_unknown_company_and_bad_container_are_reported_by_the_service(qworld: QuoteWorld):
    with qworld.session() as db, pytest.raises(svc.ImportRefused) as refused:
        svc.import_shipments(db, qworld.manager, "tms.csv",
                             csv_file([ocean(customer="Nobody Ltd", containers="MSKU9070324:45G1")]))
    problems = {p.column: p.problem for p in refused.value.report.problems}
    assert "Nobody Ltd" in problems["customer"]
    with qworld.session() as db, pytest.raises(svc.ImportRefused) as decimal_comma:
        svc.import_shipments(db, qworld.manager, "tms.csv", csv_file([ocean(gross_weight_kg="18450,5")]))
    assert "dot for decimals" in decimal_comma.value.report.problems[0].problem
    assert "check digit is 4 but should be 3" in problems["containers"]
    assert not refused.value.report.imported


def test_the_template_round_trips(qworld: QuoteWorld):
    manager = qworld.client("manager@harborsky.example")
    template = manager.get("/api/v1/shipments/import/template?format=csv")
    assert template.status_code == 200 and "shipments-template.csv" in template.headers["content-disposition"]
    assert template.text.startswith('\ufeff"reference","customer","mode"')
    answer = post(manager, "shipments-template.csv", template.content)
    assert answer.status_code == 201, answer.text
    assert answer.json()["created"] == 2
    # Fill the Excel template: a shipment of one's own, with a milestone, added to the examples.
    workbook = manager.get("/api/v1/shipments/import/template?format=xlsx")
    assert workbook.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    assert book.sheetnames == ["Shipments", "Milestones"]
    header = [c.value for c in book["Shipments"][1]]
    book["Shipments"].append([{"reference": "TMS-OWN-0001", "customer": "NORD", "mode": "FCL", "origin": "CNSHA",
                               "destination": "NLRTM", "containers": "TGHU7319044:20GP"}.get(h) for h in header])
    book["Milestones"].append(["TMS-OWN-0001", "booking_confirmed", None, None, now().replace(tzinfo=None), None])
    buffer = io.BytesIO()
    book.save(buffer)
    again = post(manager, "shipments-template.xlsx", buffer.getvalue())
    assert again.status_code == 201, again.text
    assert again.json()["created"] == 1 and again.json()["unchanged"] == 2
    with qworld.session() as db:
        own = shipment(db, "TMS-OWN-0001")
        assert own.mode == "ocean_fcl"
        assert db.exec(select(Container.size_type).where(Container.shipment_id == own.id)).one() == "22G1"


def test_only_staff_with_the_import_permission_import(qworld: QuoteWorld):
    data = csv_file([ocean("TMS-P-0001")])
    customer = qworld.client("alice@acme.example")
    for client in (customer, qworld.client("agent@harborsky.example")):
        assert post(client, "tms.csv", data).status_code == 403
        assert client.get("/api/v1/shipments/import/template").status_code == 403
    refused = post(customer, "tms.csv", data).json()["error"]
    assert refused["saved"] is False
    with qworld.session() as db:
        assert db.exec(select(Shipment).where(Shipment.reference == "TMS-P-0001")).first() is None
        with pytest.raises(PermissionDenied):
            svc.import_shipments(db, qworld.agent, "tms.csv", data)


def test_bad_files_get_a_clear_4xx(qworld: QuoteWorld):
    manager = qworld.client("manager@harborsky.example")
    for data, words in ((b"", "empty"), (b"\xff\xfe\x00bad", "UTF-8"),
                        (b"PK\x03\x04 not really a workbook", "Excel"),
                        (csv_file([]), "no rows")):
        answer = post(manager, "tms.csv", data)
        assert answer.status_code == 422, answer.text
        assert words in answer.json()["error"]["message"] and answer.json()["error"]["saved"] is False
    wrong_header = b"reference,customer,vesel\nX,ACME,Y\n"
    answer = post(manager, "tms.csv", wrong_header)
    assert answer.status_code == 422
    columns = {p["column"] for p in answer.json()["error"]["problems"]}
    assert {"mode", "origin", "destination", "vesel"} <= columns
    assert manager.post("/api/v1/shipments/import", data={"x": "1"}).status_code == 422


def test_a_semicolon_csv_with_both_sections_reads_row_numbers_as_a_spreadsheet(qworld: QuoteWorld):
    data = (b"reference;customer\nA;B\n\nreference;milestone;actual\nA;departed;2026-01-01\n")
    shipments, milestones = read_sections("x.csv", data)
    assert shipments is not None and milestones is not None
    assert shipments.rows == [(2, {"reference": "A", "customer": "B"})]
    assert milestones.header_row == 4 and milestones.rows[0][0] == 5



def test_the_body_limit_stops_an_oversized_import_before_it_is_read(qworld: QuoteWorld):
    from starlette.testclient import TestClient

    from portal_app.edge.body_limit import RequestBodyLimit, body_limit_for

    limit = body_limit_for("POST", "/api/v1/shipments/import")
    assert limit == svc.MAX_IMPORT_BYTES + 64 * 1024
    edge = TestClient(RequestBodyLimit(qworld.client("manager@harborsky.example").app))
    big = b"reference,customer\n" + b"x" * limit
    answer = edge.post("/api/v1/shipments/import", files={"file": ("big.csv", big, "text/csv")})
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "too_large"
    assert answer.json()["error"]["saved"] is False


def test_an_import_does_not_move_a_shipment_to_another_customer_or_mode(qworld: QuoteWorld):
    manager = qworld.client("manager@harborsky.example")
    assert post(manager, "tms.csv", csv_file([ocean("TMS-K-0001")])).status_code == 201
    with qworld.session() as db:
        s = shipment(db, "TMS-K-0001")
        db.add(ShipmentReference(shipment_id=s.id, company_id=s.company_id, kind="cmr", value="CMR778812",
                                 display_value="CMR778812"))
        db.commit()
        version = s.version
    moved = post(manager, "tms.csv", csv_file([ocean("TMS-K-0001", customer="NORD", mode="ocean_lcl",
                                                     containers="")]))
    assert moved.status_code == 422
    assert {p["column"] for p in moved.json()["error"]["problems"]} == {"customer", "mode"}
    # A new booking number: the search references follow, the CMR number the import does not manage stays.
    assert post(manager, "tms.csv", csv_file([ocean("TMS-K-0001", booking="MAEU269999999")])).status_code == 201
    with qworld.session() as db:
        s = shipment(db, "TMS-K-0001")
        assert s.version == version + 1 and s.booking_number == "MAEU269999999"
        kinds = dict(db.exec(select(ShipmentReference.kind, ShipmentReference.display_value).where(
            ShipmentReference.shipment_id == s.id, col(ShipmentReference.kind).in_(["booking", "cmr"]))).all())
        assert kinds == {"booking": "MAEU269999999", "cmr": "CMR778812"}
