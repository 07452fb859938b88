"""KPI figures checked against small hand-counted data (one fresh customer company per test keeps them exact)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, timedelta

import pytest
from sqlmodel import select

from models import Company, EtaChange, OpsException, PortalEvent, Ticket, User
from portal_app import maintenance
from portal_app.services import clock, customer_view_audit, kpis, workspace
from portal_app.services.errors import PermissionDenied, ValidationFailed
from tests.quote_world import QuoteWorld
from tests.tower_world import T0, make_shipment

NOW = T0 + timedelta(days=19)  # 2026-11-20 12:00 UTC
NOVEMBER = {"since": date(2026, 11, 1), "until": date(2026, 11, 30)}
H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _company(db) -> Company:
    c = Company(code=f"K{uuid.uuid4().hex[:8].upper()}", name="KPI Test Co")
    db.add(c)
    db.commit()
    return c


def _exc(db, company, shipment, kind, created, due, resolved=None):
    db.add(OpsException(shipment_id=shipment.id, company_id=company.id, kind=kind, title=kind, created_at=created,
                        sla_due_at=due, status="resolved" if resolved else "open", resolved_at=resolved,
                        open_key=None if resolved else f"{shipment.id}|{kind}|{created.isoformat()}"))


def test_kpis_match_hand_counted_figures(any_world: QuoteWorld):
    w = any_world
    with w.session() as db:
        co = _company(db)
        s1 = make_shipment(db, company=co.code, etd=T0, atd=T0 + 2 * H, transit_days=20,
                           ata=T0 + 20 * D + 30 * H, status="arrived")
        s2 = make_shipment(db, company=co.code, etd=T0 + D, atd=T0 + D + 30 * H, transit_days=20,
                           ata=T0 + 21 * D + H, status="arrived")
        s3 = make_shipment(db, company=co.code, etd=T0 + 2 * D, atd=T0 + 2 * D, transit_days=20)
        make_shipment(db, company=co.code, mode="air", etd=T0 - 31 * D, atd=T0 - 31 * D, transit_days=1,
                      ata=T0 - 30 * D, status="delivered")
        _exc(db, co, s1, "eta_slip", NOW - 2 * D, NOW - H)
        _exc(db, co, s1, "eta_slip", NOW - 10 * D, NOW - 8 * D, resolved=NOW - 9 * D)
        _exc(db, co, s2, "customs_hold", NOW - 5 * D, NOW - 4 * D, resolved=NOW - D)
        _exc(db, co, s2, "customs_hold", NOW - 3 * H, NOW + 5 * H)
        users = []
        for n, last in enumerate((NOW - D, NOW - 10 * D, NOW - 40 * D)):
            u = User(email=f"u{n}.{co.code.lower()}@kpi.test", full_name=f"User {n}", role="customer_user",
                     company_id=co.id, last_login_at=last)
            db.add(u)
            users.append(u)
        db.flush()
        for n, cat in enumerate(("tracking", "tracking", "billing")):
            db.add(Ticket(reference=f"RQ{co.code}{n}", company_id=co.id, raised_by_id=users[0].id, category=cat,
                          subject="s", shipment_id=s1.id, created_at=NOW - D))
        for kind, times in (("login_failed", 2), ("upload_started", 3), ("upload_completed", 1),
                            ("upload_failed", 1)):
            for _ in range(times):
                db.add(PortalEvent(kind=kind, company_id=co.id, created_at=NOW - D))
        db.commit()

        k = kpis.compute(db, w.manager, kpis.KpiQuery(**NOVEMBER, customer=co.code))
        assert k.tolerance_hours == 24
        dep, arr = k.on_time
        assert (dep.measured, dep.on_time, dep.late, dep.on_time_pct) == (3, 2, 1, 66.7)
        assert (arr.measured, arr.on_time, arr.late, arr.on_time_pct) == (2, 1, 1, 50.0)
        assert len(k.lanes) == 1
        lane = k.lanes[0]
        assert (lane.mode, lane.origin, lane.destination, lane.shipments) == ("ocean_fcl", "CNSHA", "NLRTM", 2)
        assert lane.median_hours == 479.5 and lane.p90_hours == 502.3  # 451 h and 508 h
        exc = {r.kind: r for r in k.exceptions}
        assert (exc["eta_slip"].opened, exc["eta_slip"].closed, exc["eta_slip"].open_1_to_3_days) == (2, 1, 1)
        assert (exc["customs_hold"].opened, exc["customs_hold"].closed, exc["customs_hold"].open_under_1_day) == \
            (2, 1, 1)
        sla = {r.kind: r for r in k.sla}
        assert (sla["eta_slip"].resolved, sla["eta_slip"].resolved_in_time, sla["eta_slip"].open_breached) == (1, 1, 1)
        assert (sla["customs_hold"].compliance_pct, sla["all"].compliance_pct) == (0.0, 50.0)
        assert [(r.category, r.requests) for r in k.requests] == [("tracking", 2), ("billing", 1)]
        assert k.health_value("active_customer_users") == 2 and k.health_value("customer_users") == 3
        assert k.health_value("active_customer_users_pct") == 66.7
        assert k.health_value("failed_logins") == 2
        assert k.health_value("uploads_abandoned") == 1 and k.health_value("uploads_failed") == 1
        assert k.health_value("customer_view_mismatches") == 0

        air = kpis.compute(db, w.manager, kpis.KpiQuery(**NOVEMBER, customer=co.code, mode="air"))
        assert [r.measured for r in air.on_time] == [0, 0] and air.lanes == []
        assert (air.exceptions, air.requests, air.sla[-1].resolved) == ([], [], 0)  # all of them are ocean's
        ocean = kpis.compute(db, w.manager, kpis.KpiQuery(**NOVEMBER, customer=co.code, mode="ocean_fcl"))
        assert [(r.kind, r.opened) for r in ocean.exceptions] == [("customs_hold", 2), ("eta_slip", 2)]
        assert [(r.category, r.requests) for r in ocean.requests] == [("tracking", 2), ("billing", 1)]
        october = kpis.compute(db, w.manager, kpis.KpiQuery(date(2026, 10, 1), date(2026, 10, 31),
                                                            customer=str(co.id)))
        assert october.on_time[0].measured == 1 and october.lanes[0].mode == "air"

        # The ETA changed through the workspace keeps the customer's view and the record in step...
        workspace.change_eta(db, w.agent, s3.reference, s3.eta_planned + 2 * D, "WEATHER",
                             expected_version=s3.version)
        customer_view_audit.run(db)  # as the scheduled pass does
        assert kpis.compute(db, w.manager, kpis.KpiQuery(**NOVEMBER, customer=co.code)) \
            .health_value("customer_view_mismatches") == 0
        # ...while writes behind its back show up: an ETA history the shipment does not show, and a status
        # that says "confirmed" for a shipment whose departure milestone has happened.
        db.add(EtaChange(shipment_id=s3.id, previous_eta=s3.eta_planned, new_eta=s3.eta_planned + 5 * D,
                         reason_code="WEATHER", created_at=NOW))
        make_shipment(db, company=co.code, status="confirmed", etd=T0 - 60 * D, atd=T0 - 60 * D)
        db.commit()
        stale = kpis.compute(db, w.manager, kpis.KpiQuery(**NOVEMBER, customer=co.code))
        assert stale.health_value("customer_view_mismatches") == 0  # the kept audit, until the next pass
        maintenance.run_rule_pass(w.engine)
        wrong = kpis.compute(db, w.manager, kpis.KpiQuery(**NOVEMBER, customer=co.code))
        assert wrong.health_value("customer_view_mismatches") == 2
        assert kpis.compute(db, w.manager, kpis.KpiQuery(**NOVEMBER, customer="NORD")) \
            .health_value("customer_view_mismatches") == 0  # scoped to the customer asked for
        assert "checked 20" in next(r.detail for r in wrong.health if r.figure == "customer_view_mismatches")


def test_kpis_refuse_agents_customers_and_bad_ranges(tworld: QuoteWorld):
    with tworld.session() as db:
        for who in (tworld.agent, tworld.alice):
            with pytest.raises(PermissionDenied):
                kpis.compute(db, who, kpis.KpiQuery(**NOVEMBER))
        with pytest.raises(ValidationFailed, match="after the end"):
            kpis.compute(db, tworld.manager, kpis.KpiQuery(date(2026, 12, 1), date(2026, 11, 1)))
        with pytest.raises(ValidationFailed, match="No customer"):
            kpis.compute(db, tworld.manager, kpis.KpiQuery(**NOVEMBER, customer="NOPE-NOT-HERE"))
        assert db.exec(select(Company).where(Company.code == "NOPE-NOT-HERE")).first() is None


def test_kpi_api_and_csv_export(tworld: QuoteWorld):
    manager = tworld.client("manager@harborsky.example")
    body = manager.get("/api/v1/kpis", params={"since": "2026-11-01", "until": "2026-11-30"})
    assert body.status_code == 200, body.text
    data = body.json()
    assert set(data["tables"]) == set(kpis.TABLES) and data["tolerance_hours"] == 24
    assert any(r["figure"] == "customer_view_mismatches" for r in data["tables"]["health"])
    download = manager.get("/api/v1/kpis/on_time.csv", params={"since": "2026-11-01", "until": "2026-11-30"})
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert lines[0] == ["Measure", "Shipments measured", "On time", "Late", "On time (%)"] and len(lines) == 3
    assert manager.get("/api/v1/kpis/nope.csv").status_code == 422
    assert tworld.client("agent@harborsky.example").get("/api/v1/kpis").status_code == 403
