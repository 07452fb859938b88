"""Rate cards: the CSV/Excel import (refused whole with a report of row, column and problem; nothing stored),
editing with optimistic locking, deactivation, permissions and the API."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlmodel import select

from models import AuditLog, RateCard, RateCharge
from portal_app.services import rate_cards as svc
from portal_app.services.errors import Conflict, FormInvalid, NotFound, PermissionDenied
from tests.quote_world import QuoteWorld

D = Decimal
COLUMNS = list(svc.IMPORT_COLUMNS)


def rows_csv(rows: list[dict]) -> bytes:
    return pd.DataFrame(rows, columns=COLUMNS, dtype=object).fillna("").to_csv(index=False).encode()


def card_rows(label: str, mode: str, origin: str, dest: str, charges: list[dict], **card: str) -> list[dict]:
    base = {"card": label, "mode": mode, "origin": origin, "destination": dest, "carrier": card.get("carrier", ""),
            "valid_from": card.get("valid_from", "2026-01-01"), "valid_to": card.get("valid_to", "2026-06-30"),
            "currency": card.get("currency", "USD"), "transit_days": card.get("transit_days", "30"), "notes": ""}
    return [{**base, **c} for c in charges]


def charge(code: str, basis: str, rate: str, **kw: str) -> dict:
    return {"charge_code": code, "charge_description": kw.pop("description", code), "basis": basis, "rate": rate, **kw}


def counts(world: QuoteWorld) -> tuple[int, int]:
    with world.session() as db:
        return (db.exec(select(sa.func.count()).select_from(RateCard)).one(),
                db.exec(select(sa.func.count()).select_from(RateCharge)).one())


GOOD_FCL = card_rows("A", "ocean_fcl", "CNTAO", "BEANR", [
    charge("FRT", "per_container", "1600", size_type="22G1"),
    charge("FRT", "per_container", "2700", size_type="45G1"),
    charge("BAF", "per_container", "380"),
    charge("INS", "percent", "0.3", minimum_charge="30", percent_of="cargo_value", service="insurance"),
], carrier="MAEU")
GOOD_AIR = card_rows("B", "air", "SIN", "AMS", [
    charge("FRT", "per_kg", "4.10", min_quantity="0", minimum_charge="100"),
    charge("FRT", "per_kg", "3.20", min_quantity="100"),
    charge("FSC", "per_kg", "0.90"),
], carrier="SQ", currency="EUR", transit_days="2")


def test_a_good_csv_is_imported_in_one_go(qworld: QuoteWorld):
    before = counts(qworld)
    with qworld.session() as db:
        report = svc.import_rate_cards(db, qworld.manager, "rates.csv", rows_csv(GOOD_FCL + GOOD_AIR))
    assert report.imported and report.cards == 2 and report.charges == 7 and report.rows == 7
    assert counts(qworld) == (before[0] + 2, before[1] + 7)
    with qworld.session() as db:
        view = svc.get_rate_card(db, qworld.manager, report.card_ids[1])
        assert (view.row.mode, view.row.origin, view.row.destination, view.row.carrier_code) == ("air", "SIN", "AMS",
                                                                                                 "SQ")
        assert [(c.code, c.min_quantity, c.rate) for c in view.charge_lines] == [
            ("FRT", D("0.000"), D("4.1000")), ("FRT", D("100.000"), D("3.2000")), ("FSC", None, D("0.9000"))]
        ins = svc.get_rate_card(db, qworld.manager, report.card_ids[0]).charge_lines[-1]
        assert (ins.basis, ins.percent_of, ins.service, ins.minimum_charge) == ("percent", "cargo_value",
                                                                                 "insurance", D("30.00"))
        audit = db.exec(select(AuditLog).where(AuditLog.action == "rate_cards_imported")).all()
        assert audit and '"cards": 2' in audit[-1].after


def test_excel_is_imported_like_csv(qworld: QuoteWorld):
    buffer = io.BytesIO()
    frame = pd.DataFrame(GOOD_AIR, columns=COLUMNS, dtype=object).fillna("")
    frame["valid_from"] = pd.to_datetime(frame["valid_from"])  # real Excel dates
    frame["rate"] = frame["rate"].astype(float)
    frame.to_excel(buffer, index=False)
    with qworld.session() as db:
        report = svc.import_rate_cards(db, qworld.manager, "rates.xlsx", buffer.getvalue())
        card = svc.get_rate_card(db, qworld.manager, report.card_ids[0])
    assert report.imported and report.cards == 1
    assert card.row.valid_from == date(2026, 1, 1) and card.charge_lines[0].rate == D("4.1000")


def test_a_file_with_any_bad_row_is_refused_whole_with_a_report(qworld: QuoteWorld):
    bad = card_rows("C", "air", "NLRTM", "FRA", [  # row 9: a seaport for air
        charge("FRT", "per_container", "abc"),  # basis not for air, rate not a number
    ], currency="XXX")
    inconsistent = card_rows("A", "ocean_fcl", "CNTAO", "BEANR", [charge("THC", "per_container", "250")],
                             carrier="MAEU", valid_to="2026-07-31")  # row 10: differs from row 2
    no_freight = card_rows("D", "road_ftl", "DEDUI", "PLWAW", [charge("TOLL", "per_shipment", "120")])  # row 11
    before = counts(qworld)
    with qworld.session() as db, pytest.raises(svc.ImportRefused) as refused:
        svc.import_rate_cards(db, qworld.manager, "rates.csv", rows_csv(GOOD_FCL + GOOD_AIR + bad + inconsistent
                                                                        + no_freight))
    report = refused.value.report
    assert not report.imported and report.card_ids == ()
    found = {(p.row, p.column) for p in report.problems}
    assert {(9, "origin"), (9, "currency"), (9, "basis"), (9, "rate"), (10, "valid_to"), (11, "charge_code")} <= found
    texts = {(p.row, p.column): p.problem for p in report.problems}
    assert "NLRTM is a seaport; air needs an IATA airport" in texts[(9, "origin")]
    assert "'abc' is not a rate" in texts[(9, "rate")]
    assert "Differs from row 2 of card 'A'" in texts[(10, "valid_to")]
    assert "no freight charge" in texts[(11, "charge_code")]
    assert "row 9" in refused.value.message and "Nothing was imported" in refused.value.message
    assert counts(qworld) == before  # the good cards in the same file were not stored either


def test_header_problems_refuse_the_file(qworld: QuoteWorld):
    frame = pd.DataFrame(GOOD_AIR, columns=COLUMNS).drop(columns=["rate"]).assign(colour="blue")
    with qworld.session() as db, pytest.raises(svc.ImportRefused) as refused:
        svc.import_rate_cards(db, qworld.manager, "rates.csv", frame.to_csv(index=False).encode())
    problems = {(p.row, p.column) for p in refused.value.report.problems}
    assert problems == {(1, "rate"), (1, "colour")}


def test_only_rate_managers_import_and_edit(qworld: QuoteWorld):
    with qworld.session() as db:
        with pytest.raises(PermissionDenied):
            svc.import_rate_cards(db, qworld.agent, "rates.csv", rows_csv(GOOD_AIR))
        with pytest.raises(PermissionDenied):
            svc.list_rate_cards(db, qworld.alice)
        assert svc.list_rate_cards(db, qworld.agent, mode="air").total > 0  # agents read them to price by hand


def _input(**overrides: object) -> svc.RateCardInput:
    data = {
        "mode": "ocean_lcl", "origin": "CNTAO", "destination": "BEANR", "valid_from": date(2026, 1, 1),
        "valid_to": date(2026, 12, 31), "currency": "USD", "transit_days": 31,
        "charges": (svc.RateChargeInput(code="FRT", description="Ocean freight (W/M)", basis="per_wm", rate="55",
                                        minimum_charge="55"),
                    svc.RateChargeInput(code="DOC", description="Documentation", basis="per_shipment", rate="60")),
    }
    data.update(overrides)
    return svc.RateCardInput(**data)


def test_create_edit_and_deactivate_with_optimistic_locking(qworld: QuoteWorld):
    with qworld.session() as db:
        created = svc.create_rate_card(db, qworld.manager, _input())
        assert created.row.state in ("active", "expired", "future") and created.version == 1
        with pytest.raises(FormInvalid) as bad:
            svc.create_rate_card(db, qworld.manager, _input(origin="FRA", charges=(
                svc.RateChargeInput(code="FRT", description="Freight", basis="per_container", rate="10",
                                    size_type="22G1"),)))
        assert set(bad.value.fields) >= {"origin", "charges.0.basis"}
        updated = svc.update_rate_card(db, qworld.manager, created.row.id, _input(transit_days=29), expected_version=1)
        assert updated.row.transit_days == 29 and updated.version == 2
        with pytest.raises(Conflict):
            svc.update_rate_card(db, qworld.manager, created.row.id, _input(transit_days=28), expected_version=1)
        off = svc.set_rate_card_active(db, qworld.manager, created.row.id, False)
        assert off.row.state == "inactive" and not off.row.is_active
        assert created.row.id in {r.id for r in svc.list_rate_cards(db, qworld.manager, state="inactive",
                                                                     page_size=200).rows}
        with pytest.raises(NotFound):
            svc.get_rate_card(db, qworld.manager, 10_000_000)
        actions = [a.action for a in db.exec(select(AuditLog).where(AuditLog.entity_type == "rate_card",
                                                                    AuditLog.entity_id == str(created.row.id)))]
        assert actions == ["rate_card_created", "rate_card_updated", "rate_card_deactivated"]


def test_import_over_the_api(qworld: QuoteWorld):
    manager = qworld.client("manager@harborsky.example")
    late = (date.today() + timedelta(days=400)).isoformat()
    rows = card_rows("E", "air", "DXB", "LHR", [charge("FRT", "per_kg", "3.10", min_quantity="0")],
                     carrier="EK", valid_to=late)
    ok = manager.post("/api/v1/rate-cards/import", files={"file": ("rates.csv", rows_csv(rows), "text/csv")})
    assert ok.status_code == 201, ok.text
    assert ok.json()["imported"] is True and ok.json()["cards"] == 1
    card_id = ok.json()["card_ids"][0]
    assert manager.get(f"/api/v1/rate-cards/{card_id}").json()["charge_lines"][0]["code"] == "FRT"
    bad = manager.post("/api/v1/rate-cards/import",
                       files={"file": ("rates.csv", rows_csv([{**rows[0], "mode": "rocket"}]), "text/csv")})
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["code"] == "import_refused" and error["saved"] is False
    assert {"row": 2, "column": "mode"} in [{k: p[k] for k in ("row", "column")} for p in error["problems"]]
    template = manager.get("/api/v1/rate-cards/import-template.csv")
    assert template.status_code == 200 and template.text.startswith('\ufeff"card","mode","origin"')
    customer = qworld.client("bob@acme.example")
    assert customer.get("/api/v1/rate-cards").status_code == 403
    assert customer.post("/api/v1/rate-cards/import",
                         files={"file": ("rates.csv", rows_csv(rows), "text/csv")}).status_code == 403


def test_the_template_imports_cleanly(qworld: QuoteWorld):
    with qworld.session() as db:
        report = svc.import_rate_cards(db, qworld.manager, "template.csv", svc.import_template_csv())
    assert report.imported and report.cards == 2


def test_cards_are_listed_by_carrier(qworld: QuoteWorld):
    with qworld.session() as db:
        every = svc.list_rate_cards(db, qworld.manager, page_size=200)
        carriers = {r.carrier_code for r in every.rows if r.carrier_code}
        assert carriers, "the demo rate cards name carriers"
        code = sorted(carriers)[0]
        mine = svc.list_rate_cards(db, qworld.manager, carrier=code.lower(), page_size=200)
        assert mine.total >= 1 and {r.carrier_code for r in mine.rows} == {code}
        assert svc.list_rate_cards(db, qworld.manager, carrier="NOPE").total == 0
    client = qworld.client("manager@harborsky.example")
    body = client.get("/api/v1/rate-cards", params={"carrier": code}).json()
    assert body["total"] == mine.total
