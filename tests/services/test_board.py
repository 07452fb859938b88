"""The tower's shipments board: staff filters over every company, one page at a time; customers are refused."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import select

from models import Branch, OpsException, Team
from portal_app.services import board, clock
from portal_app.services.board import BoardFilters
from portal_app.services.errors import PermissionDenied, ValidationFailed
from tests.quote_world import QuoteWorld
from tests.tower_world import T0, make_shipment

NOW = T0 + timedelta(days=3)


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _exception(db, shipment, kind: str, due, status: str = "open") -> None:
    db.add(OpsException(shipment_id=shipment.id, company_id=shipment.company_id, kind=kind, title=kind,
                        status=status, sla_due_at=due, open_key=None if status == "resolved" else
                        f"{shipment.id}|{kind}|t"))
    db.commit()


def test_board_filters_by_team_owner_customer_exception_and_sla(any_world: QuoteWorld):
    w = any_world
    with w.session() as db:
        branch = db.exec(select(Branch)).first()
        team = Team(name=f"Board test {uuid.uuid4().hex[:6]}", branch_id=branch.id)
        db.add(team)
        db.commit()
        mine = {"team_id": team.id, "branch_id": branch.id}
        owned = make_shipment(db, company="ACME", owner_id=w.agent.user_id, **mine)
        nord = make_shipment(db, company="NORD", **mine)
        breached = make_shipment(db, company="NORD", **mine)
        breaching = make_shipment(db, company="ACME", **mine)
        later = make_shipment(db, company="ACME", **mine)
        resolved = make_shipment(db, company="ACME", **mine)
        _exception(db, breached, "customs_hold", NOW - timedelta(hours=1))
        _exception(db, breaching, "eta_slip", NOW + timedelta(hours=3))
        _exception(db, later, "eta_slip", NOW + timedelta(hours=30))
        _exception(db, resolved, "eta_slip", NOW - timedelta(hours=5), status="resolved")

        def refs(**params) -> set[str]:
            f = BoardFilters.from_params({"team": str(team.id), **params}, w.agent)
            page = board.list_board(db, w.agent, f, page_size=50)
            assert page.total == len(page.rows)
            return {r.shipment.reference for r in page.rows}

        everything = {s.reference for s in (owned, nord, breached, breaching, later, resolved)}
        assert refs() == everything
        assert refs(branch=str(branch.id)) == everything
        assert refs(owner="me") == {owned.reference}
        assert refs(owner=str(w.agent.user_id)) == {owned.reference}
        assert refs(owner="none") == everything - {owned.reference}
        assert refs(customer="NORD") == {nord.reference, breached.reference}
        assert refs(exception="1") == {breached.reference, breaching.reference, later.reference}
        assert refs(sla="breached") == {breached.reference}
        assert refs(sla="breaching", sla_hours="4") == {breaching.reference}
        assert refs(sla="breaching", sla_hours="48") == {breaching.reference, later.reference}
        row = next(r for r in board.list_board(db, w.agent, BoardFilters.from_params({"team": str(team.id),
                                                                                       "sla": "breached"})).rows)
        assert row.open_exceptions == 1 and row.sla_breached and row.team == team.name
        paged = board.list_board(db, w.agent, BoardFilters.from_params({"team": str(team.id)}), page=2, page_size=4)
        assert paged.total == 6 and len(paged.rows) == 2
        assert BoardFilters.from_params(BoardFilters.from_params({"team": str(team.id), "sla": "breaching",
                                                                  "sla_hours": "8"}).to_params()) == \
            BoardFilters.from_params({"team": str(team.id), "sla": "breaching", "sla_hours": "8"})


def test_board_refuses_customers_and_bad_input(tworld: QuoteWorld):
    w = tworld
    with w.session() as db:
        with pytest.raises(PermissionDenied):
            board.list_board(db, w.alice, BoardFilters())
        with pytest.raises(PermissionDenied):  # the customer list with a board filter is refused too
            from portal_app.services import shipments

            shipments.list_shipments(db, w.alice, BoardFilters(owner_id=0))
        with pytest.raises(ValidationFailed, match="breached"):
            board.list_board(db, w.agent, BoardFilters(sla="late"))
        with pytest.raises(ValidationFailed, match="number"):
            BoardFilters.from_params({"team": "sales"})


TOWER_PREFIXES = ("/api/v1/tower", "/api/v1/kpis")


def _tower_routes() -> list[tuple[str, str]]:
    from portal_app.api.app import build_api

    out = []
    for path, operations in build_api().openapi()["paths"].items():
        if path.startswith(TOWER_PREFIXES):
            for method in sorted(operations):
                filled = (path.replace("{reference}", "SH0000001").replace("{code}", "vessel_departure")
                          .replace("{document_id}", "1").replace("{table}", "lanes"))
                out.append((method.upper(), filled))
    return out


def test_every_tower_route_refuses_customer_sessions_and_keys(tworld: QuoteWorld):
    import secrets

    from models import ApiKey
    from portal_app.auth.sessions import hash_token

    routes = _tower_routes()
    assert len(routes) >= 12
    raw = "pk_" + secrets.token_urlsafe(24)
    with tworld.session() as db:
        db.add(ApiKey(name="ERP", prefix=raw[:8], key_hash=hash_token(raw), user_id=tworld.alice.user_id,
                      company_id=tworld.alice.company_id))
        db.commit()
    session_client = tworld.client("bob@acme.example")
    key_client = tworld.client("nina@nordwind.example")
    key_client.cookies.clear()
    for method, path in routes:
        for client, headers in ((session_client, {}), (key_client, {"Authorization": f"Bearer {raw}"})):
            resp = client.request(method, path, headers=headers, json={})
            assert resp.status_code in (403, 404), (method, path, resp.status_code, resp.text)
            assert resp.json()["error"]["saved"] is False
    anonymous = tworld.client("omar@nordwind.example")
    anonymous.cookies.clear()
    for method, path in routes:
        assert anonymous.request(method, path, json={}).status_code == 401


def test_shipment_exception_summary_follows_every_write(any_world: QuoteWorld):
    """The board's filters read each shipment's open-exception summary, which database triggers keep: ORM inserts,
    bulk UPDATE statements (as the rule engine resolves), moves between shipments and deletes all count."""
    import sqlalchemy as sa

    from models import Shipment

    w = any_world
    with w.session() as db:
        first, second = make_shipment(db, company="ACME"), make_shipment(db, company="NORD")

        def summary(s) -> tuple:
            db.expire_all()
            row = db.get(Shipment, s.id)
            return row.open_exceptions, row.next_sla_due_at

        assert summary(first) == (0, None)
        _exception(db, first, "eta_slip", NOW + timedelta(hours=5))
        _exception(db, first, "customs_hold", NOW + timedelta(hours=2))
        _exception(db, first, "no_tracking", NOW - timedelta(hours=9), status="resolved")
        assert summary(first) == (2, NOW + timedelta(hours=2))
        db.exec(sa.update(OpsException).where(OpsException.shipment_id == first.id, OpsException.kind == "customs_hold")
                .values(status="resolved", open_key=None).execution_options(synchronize_session=False))
        db.commit()
        assert summary(first) == (1, NOW + timedelta(hours=5))
        moved = db.exec(select(OpsException).where(OpsException.shipment_id == first.id,
                                                   OpsException.kind == "eta_slip")).one()
        moved.shipment_id, moved.open_key = second.id, f"{second.id}|eta_slip|t"
        db.commit()
        assert summary(first) == (0, None) and summary(second) == (1, NOW + timedelta(hours=5))
        db.delete(moved)
        db.commit()
        assert summary(second) == (0, None)
