"""The shipments list beyond the basics: route, date and delay filters (on SQLite and PostgreSQL), and exports
(CSV streamed, Excel)."""

from __future__ import annotations

import io
from datetime import timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from models import Shipment
from portal_app.api.app import build_api
from portal_app.services import shipments as svc
from portal_app.services.errors import ValidationFailed
from portal_app.services.shipments import ShipmentFilters
from tests.factories import World, client_for
from tests.tower_world import T0, make_shipment


@pytest.fixture()
def alfa(world: World) -> TestClient:
    return client_for("customer_user@alfa.test")


@pytest.fixture()
def late_alfa(world: World, db) -> list[str]:
    """Mark two Alfa shipments as late (and restore them afterwards)."""
    refs = world.shipments["ALFA"][:2]
    rows = db.exec(select(Shipment).where(Shipment.reference.in_(refs))).all()
    for row in rows:
        row.delay_minutes = 3 * 24 * 60
        db.add(row)
    db.commit()
    yield refs
    for row in rows:
        row.delay_minutes = 0
        db.add(row)
    db.commit()


def test_delayed_only(alfa, late_alfa):
    body = alfa.get("/api/v1/shipments", params={"delayed": "true", "page_size": 200}).json()
    assert sorted(i["reference"] for i in body["items"]) == sorted(late_alfa)
    assert all(i["delay_minutes"] > 0 for i in body["items"])


def test_origin_and_destination_filters(alfa, world, db):
    all_alfa = alfa.get("/api/v1/shipments", params={"page_size": 200}).json()["total"]
    assert alfa.get("/api/v1/shipments", params={"origin": "cnsha"}).json()["total"] == all_alfa
    assert alfa.get("/api/v1/shipments", params={"destination": "NLRTM"}).json()["total"] == all_alfa
    assert alfa.get("/api/v1/shipments", params={"origin": "NLRTM"}).json()["total"] == 0


def test_arrival_date_range(alfa, world, db):
    # The world's Alfa shipments arrive one a day from 2026-11-01 (estimate a few hours after plan).
    body = alfa.get("/api/v1/shipments",
                    params={"eta_from": "2026-11-03", "eta_to": "2026-11-04", "page_size": 200}).json()
    etas = sorted(i["eta"][:10] for i in body["items"])
    assert etas and set(etas) <= {"2026-11-03", "2026-11-04"}
    assert body["total"] == 2


def test_bad_dates_say_what_to_do(alfa, world):
    resp = alfa.get("/api/v1/shipments", params={"eta_from": "next tuesday"})
    assert resp.status_code == 422 and "YYYY-MM-DD" in resp.json()["error"]["message"]
    swapped = alfa.get("/api/v1/shipments", params={"eta_from": "2026-12-01", "eta_to": "2026-11-01"})
    assert swapped.status_code == 422 and "Swap" in swapped.json()["error"]["message"]


def test_filters_round_trip_through_params():
    f = ShipmentFilters.from_params({"q": "msku", "status": "in_transit", "origin": "cnsha", "eta_from": "2026-11-01",
                                     "delayed": "1", "mode": "all"})
    assert f.origin == "CNSHA" and f.mode is None and f.delayed_only and f.statuses == ("in_transit",)
    assert ShipmentFilters.from_params(f.to_params()) == f
    with pytest.raises(ValidationFailed):
        ShipmentFilters.from_params({"etd_to": "31/12/2026"})


def test_csv_export_streams_only_own_filtered_rows(alfa, world):
    resp = alfa.get("/api/v1/shipments/export", params={"format": "csv", "mode": "air"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in resp.headers["content-disposition"]
    frame = pd.read_csv(io.StringIO(resp.content.decode("utf-8-sig")))
    assert set(frame["Customer"]) == {"Alfa Imports"}
    assert set(frame["Mode"]) == {"air"}
    expected = alfa.get("/api/v1/shipments", params={"mode": "air", "page_size": 200}).json()["total"]
    assert len(frame) == expected > 0


def test_excel_export_and_empty_result(alfa, world):
    resp = alfa.get("/api/v1/shipments/export", params={"format": "xlsx"})
    assert resp.status_code == 200
    frame = pd.read_excel(io.BytesIO(resp.content))
    assert sorted(frame["Shipment"]) == sorted(world.shipments["ALFA"])
    empty = alfa.get("/api/v1/shipments/export", params={"format": "csv", "q": "NOTHINGMATCHES"})
    assert empty.status_code == 200
    assert next(iter(pd.read_csv(io.StringIO(empty.content.decode("utf-8-sig"))).columns)) == "Shipment"


def test_export_needs_sign_in_and_valid_input(world, alfa):
    assert TestClient(build_api()).get("/api/v1/shipments/export").status_code == 401
    assert alfa.get("/api/v1/shipments/export", params={"format": "pdf"}).status_code == 422
    assert alfa.get("/api/v1/shipments/export", params={"status": "lost"}).status_code == 422


def test_saved_views_are_private_to_their_user(world, db):
    from portal_app.auth.sessions import _principal_for
    from portal_app.services import saved_views
    from portal_app.services.errors import NotFound

    alice = _principal_for(db, world.users["ALFA:customer_user"], None)
    colleague = _principal_for(db, world.users["ALFA:customer_admin"], None)
    view = saved_views.save_view(db, alice, "portal_shipments", "  Air  to Rotterdam ", {"mode": "air", "q": ""})
    assert view.name == "Air to Rotterdam" and view.params == {"mode": "air"}
    again = saved_views.save_view(db, alice, "portal_shipments", "Air to Rotterdam", {"mode": "air", "delayed": "1"})
    assert again.id == view.id  # same name overwrites
    assert [v.name for v in saved_views.list_views(db, alice, "portal_shipments")] == ["Air to Rotterdam"]
    assert saved_views.list_views(db, colleague, "portal_shipments") == []
    with pytest.raises(NotFound):
        saved_views.delete_view(db, colleague, view.id)
    with pytest.raises(ValidationFailed):
        saved_views.save_view(db, alice, "portal_shipments", "   ", {})
    with pytest.raises(ValidationFailed):
        saved_views.save_view(db, alice, "admin_secrets", "x", {})
    saved_views.delete_view(db, alice, view.id)
    assert saved_views.list_views(db, alice, "portal_shipments") == []


def test_every_filter_at_once_on_both_databases(any_world):
    """All of the list's filters in one request, as bound values of the shared statements, on SQLite and
    PostgreSQL: exactly the matching shipment of the caller's company, and the same search finds nothing of another
    company's for a customer but finds it for staff."""
    w = any_world
    with w.session() as db:
        wanted = make_shipment(db, company="ACME", mode="air", status="in_transit", delay_minutes=600)
        other_mode = make_shipment(db, company="ACME", mode="ocean_fcl", status="in_transit", delay_minutes=600)
        other_company = make_shipment(db, company="NORD", mode="air", status="in_transit", delay_minutes=600)
        db.commit()
        day, arrival = T0.date().isoformat(), (T0 + timedelta(days=20)).date().isoformat()
        params = {"status": ["in_transit", "booked"], "mode": "air", "origin": "cnsha", "destination": "NLRTM",
                  "etd_from": day, "etd_to": day, "eta_from": arrival, "eta_to": arrival, "delayed": "1"}

        def refs(principal, search: str) -> list[str]:
            page = svc.list_shipments(db, principal, svc.ShipmentFilters.from_params({**params, "q": search}))
            assert page.total == len(page.rows)
            return [r.reference for r in page.rows]

        assert refs(w.alice, wanted.reference) == [wanted.reference]
        assert refs(w.alice, other_mode.reference) == []
        assert refs(w.alice, other_company.reference) == []
        assert refs(w.agent, other_company.reference) == [other_company.reference]
        assert refs(w.nina, wanted.reference) == []


def test_a_number_inside_a_reference_finds_it(demo):
    """The number inside a purchase order ("477671" of ACME-PO-477671) or a container (its serial) finds the
    shipment, as its start does; never another company's."""
    from sqlmodel import Session as DemoSession

    from models import Shipment as DemoShipment

    with DemoSession(demo.engine) as s:
        shipment = s.exec(select(DemoShipment).where(DemoShipment.company_id == demo.alice.company_id,
                                                     DemoShipment.customer_po.is_not(None))).first()
        po = shipment.customer_po
        number = po.replace("/", "-").split("-")[-1]
        assert number != po and len(number) >= 3
        for term in (number, po, f"PO-{number}" if "PO" in po else number):
            found = svc.list_shipments(s, demo.alice, svc.ShipmentFilters(search=term)).rows
            assert shipment.reference in {r.reference for r in found}, term
        theirs = svc.list_shipments(s, demo.nina, svc.ShipmentFilters(search=number)).rows
        assert shipment.reference not in {r.reference for r in theirs}
        assert all(r.company_name == demo.nina.company_name for r in theirs)
