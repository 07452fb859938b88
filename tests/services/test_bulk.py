"""Bulk actions: one voyage's ETA or milestone reaches exactly the shipments on it; every shipment is changed in
its own savepoint and the report says which succeeded and why others did not."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from models import AuditLog, EtaChange, Milestone, Shipment, ShipmentUpdate, Team
from portal_app.services import bulk, clock, shipment_activity
from portal_app.services.board import BoardFilters
from portal_app.services.errors import PermissionDenied, ValidationFailed
from tests.quote_world import QuoteWorld
from tests.tower_world import T0, make_shipment

NOW = T0 + timedelta(days=3)


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def test_eta_for_one_voyage_reaches_exactly_its_shipments(any_world: QuoteWorld):
    w = any_world
    with w.session() as db:
        on_board = [make_shipment(db, vessel="CMA CGM JULES", voyage="0FL3W", company=c) for c in ("ACME", "NORD")]
        on_board.append(make_shipment(db, vessel="cma cgm jules", voyage="0fl3w"))  # same voyage, other spelling
        other_voyage = make_shipment(db, vessel="CMA CGM JULES", voyage="0FL5W")
        other_vessel = make_shipment(db, vessel="MSC ANNA", voyage="0FL3W")
        cancelled = make_shipment(db, vessel="CMA CGM JULES", voyage="0FL3W", status="cancelled")
        new_eta = T0 + timedelta(days=25)
        report = bulk.bulk_eta(db, w.agent, bulk.Voyage(vessel="CMA CGM Jules", voyage="0FL3W"), new_eta,
                               "PORT_CONGESTION", "Congestion at Rotterdam")
        assert sorted(report.succeeded) == sorted(s.reference for s in on_board) and not report.failed
        changed = set(db.exec(select(EtaChange.shipment_id).where(EtaChange.new_eta == new_eta)).all())
        assert changed == {s.id for s in on_board}
        for s in (other_voyage, other_vessel, cancelled):
            db.refresh(s)
            assert s.eta_estimated == s.eta_planned
        history = shipment_activity.eta_history(db, w.nina, on_board[1].reference)
        assert history[0].reason_code == "PORT_CONGESTION"
        batch = db.exec(select(AuditLog).where(AuditLog.action == "bulk_eta")).all()[-1]
        assert on_board[0].reference in batch.after


def test_each_shipment_is_atomic_and_the_report_says_why(any_world: QuoteWorld):
    w = any_world
    with w.session() as db:
        fine = make_shipment(db, vessel="EVER GIVEN", voyage="1234E", status="confirmed")
        arrived = make_shipment(db, vessel="EVER GIVEN", voyage="1234E", status="arrived", atd=T0,
                                ata=T0 + timedelta(days=2))
        # Departure recorded later than a step that already happened on this one: refused for it alone.
        report = bulk.bulk_milestone(db, w.agent, bulk.Voyage(vessel="EVER GIVEN", voyage="1234E"),
                                     "vessel_departure", {"actual_at": T0 + timedelta(days=2, hours=6)})
        assert report.succeeded == [fine.reference]
        assert [f.reference for f in report.failed] == [arrived.reference]
        assert "cannot have happened after" in report.failed[0].reason
        assert "1 of 2 shipments changed" in report.message
        db.refresh(fine)
        db.refresh(arrived)
        assert fine.status == "in_transit" and fine.atd == T0 + timedelta(days=2, hours=6)
        assert arrived.atd == T0 and arrived.version == 1  # nothing written for the refused one
        step = db.exec(select(Milestone).where(Milestone.shipment_id == arrived.id,
                                               Milestone.code == "vessel_departure")).one()
        assert step.actual_at == T0


def test_update_to_a_selection_and_to_a_whole_filter(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        a = make_shipment(db, company="ACME")
        b = make_shipment(db, company="NORD")
        report = bulk.bulk_customer_update(db, w.agent, bulk.Selection(references=(a.reference, b.reference,
                                                                                   "SH9999999")),
                                           "Terminal strike in Rotterdam: expect one day of delay.")
        assert sorted(report.succeeded) == sorted([a.reference, b.reference])
        assert [f.reference for f in report.failed] == ["SH9999999"]
        for s in (a, b):
            assert db.exec(select(ShipmentUpdate).where(ShipmentUpdate.shipment_id == s.id,
                                                        ShipmentUpdate.visibility == "customer")).first()
        team = db.exec(select(Team)).first()
        only_a = BoardFilters(search=a.reference)
        done = bulk.bulk_assign(db, w.manager, bulk.Selection(filters=only_a), {"team_id": team.id})
        assert done.succeeded == [a.reference]
        assert db.get(Shipment, a.id).team_id == team.id


def test_limits_and_permissions(tworld: QuoteWorld, monkeypatch):
    w = tworld
    with w.session() as db:
        s = make_shipment(db)
        with pytest.raises(PermissionDenied):
            bulk.bulk_assign(db, w.agent, bulk.Selection(references=(s.reference,)), {"owner_id": None})
        with pytest.raises(PermissionDenied):
            bulk.bulk_customer_update(db, w.alice, bulk.Selection(references=(s.reference,)), "hello there")
        make_shipment(db)  # two open shipments: more than the limit below
        monkeypatch.setattr(bulk, "MAX_BULK", 1)
        with pytest.raises(ValidationFailed, match="at most 1 at once"):
            bulk.bulk_customer_update(db, w.agent, bulk.Selection(filters=BoardFilters()), "hello there")
        with pytest.raises(ValidationFailed, match="No open shipment"):
            bulk.bulk_eta(db, w.agent, bulk.Voyage(flight="LH 400", flight_date=date(2026, 11, 1)),
                          T0 + timedelta(days=2), "WEATHER")
        with pytest.raises(ValidationFailed, match="departure date"):
            bulk.voyage_shipments(db, w.agent, bulk.Voyage(flight="LH400"))


def test_flight_selection_by_number_and_date(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        on = make_shipment(db, mode="air", flight="LH8401", origin="CNSHA", destination="NLRTM",
                           etd=T0 + timedelta(hours=3), transit_days=1)
        next_day = make_shipment(db, mode="air", flight="LH8401", etd=T0 + timedelta(days=1), transit_days=1)
        found = bulk.voyage_shipments(db, w.agent, bulk.Voyage(flight="lh 8401", flight_date=T0.date()))
        assert [s.reference for s in found] == [on.reference]
        assert next_day.reference not in {s.reference for s in found}


def test_bulk_over_the_api(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        on = make_shipment(db, vessel="APL OREGON", voyage="77E")
        make_shipment(db, vessel="APL OREGON", voyage="78E")
    agent = w.client("agent@harborsky.example")
    resp = agent.post("/api/v1/tower/bulk/eta", json={"vessel": "APL Oregon", "voyage": "77E",
                                                     "new_eta": "2026-11-25T06:00:00Z", "reason_code": "WEATHER"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["succeeded"] == [on.reference] and resp.json()["failed"] == []
    resp = agent.post("/api/v1/tower/bulk/customer-update", json={"references": [on.reference, "SH0"],
                                                                  "body": "Storm in the Bay of Biscay."})
    body = resp.json()
    assert body["succeeded"] == [on.reference] and body["failed"][0]["reference"] == "SH0"
    assert "1 of 2 shipments changed" in body["message"]
    refused = agent.post("/api/v1/tower/bulk/milestone", json={"vessel": "APL OREGON", "voyage": "77E",
                                                               "milestone": "vessel_departure",
                                                               "actual_at": "2030-01-01T00:00:00Z"})
    assert refused.status_code == 200 and refused.json()["succeeded"] == []
    assert "future" in refused.json()["failed"][0]["reason"]
    assert agent.post("/api/v1/tower/bulk/assign", json={"references": [on.reference], "team_id": None}) \
        .status_code == 403  # agents do not assign work


def test_a_whole_filter_is_previewed_before_an_action_and_nothing_changes(tworld: QuoteWorld, monkeypatch):
    """The preview reads the same selection the action resolves: the count, whose shipments, the first references;
    nothing is written; a filter over the limit is refused as the action would be; customers are refused."""
    w = tworld
    with w.session() as db:
        made = [make_shipment(db, company=c, vessel="PREVIEW FILTER", voyage="7F") for c in ("ACME", "ACME", "NORD")]
        versions = {s.id: s.version for s in made}
        audits = len(db.exec(select(AuditLog)).all())
        found = bulk.preview_selection(db, w.agent, bulk.Selection(filters=BoardFilters(search=made[0].reference)))
        assert (found.total, found.references) == (1, [made[0].reference])
        picked = bulk.preview_selection(db, w.agent, bulk.Selection(references=tuple(s.reference for s in made)))
        assert picked.total == 3 and sorted(picked.references) == sorted(s.reference for s in made)
        assert [count for _name, count in picked.customers] == [2, 1]  # most first
        assert {s.id: db.get(Shipment, s.id).version for s in made} == versions
        assert len(db.exec(select(AuditLog)).all()) == audits
        with pytest.raises(PermissionDenied):
            bulk.preview_selection(db, w.alice, bulk.Selection(references=(made[0].reference,)))
        monkeypatch.setattr(bulk, "MAX_BULK", 1)
        with pytest.raises(ValidationFailed, match="at most 1 at once"):
            bulk.preview_selection(db, w.agent, bulk.Selection(filters=BoardFilters()))
