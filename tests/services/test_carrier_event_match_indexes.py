"""Matching a carrier event to its shipments looks container and voyage numbers up by index (compared in capitals),
never by reading the whole container or shipment table: at 100,000 shipments a scan per event made a 1,000-event
callback take many seconds (bench/carrier_events.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import select

from models import CarrierConnection, Container
from portal_app.services.carrier_events import intake, schema
from tests.dcsa import at, equipment_event, ocean_shipment, transport_event

CONNECTION = CarrierConnection(name="Maersk events", carrier_code="MAEU", secret_encrypted="-", subscription_id="-",
                               created_at=datetime(2026, 12, 1, tzinfo=UTC))


def _matched_with_plans(world, event: dict) -> tuple[list[int], list[str]]:
    """The shipments ``event`` matches and SQLite's query plan of every statement the matching ran."""
    incoming = schema.read_v2(event, datetime.now(UTC))
    assert isinstance(incoming, schema.Incoming), incoming
    statements: list[tuple[str, object]] = []

    def _record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    sa.event.listen(world.engine, "before_cursor_execute", _record)
    try:
        with world.session() as db:
            ids = [s.id for s in intake.match_shipments(db, CONNECTION, incoming)]
    finally:
        sa.event.remove(world.engine, "before_cursor_execute", _record)
    plans = []
    with world.engine.connect() as conn:
        for statement, parameters in statements:
            if statement.lstrip().upper().startswith("SELECT"):
                rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
                plans.append("\n".join(str(row[-1]) for row in rows))
    return ids, plans


def test_a_container_number_is_found_by_index_in_any_case(oworld):
    shipment = ocean_shipment(oworld)
    with oworld.session() as db:
        container = db.exec(select(Container).where(Container.shipment_id == shipment.id)).one()
        number = container.number
        container.number = number.lower()  # typed by hand long ago: still the same container
        db.add(container)
        db.commit()
    ids, plans = _matched_with_plans(oworld, equipment_event("LOAD", number, at(-2)))
    assert ids == [shipment.id]
    container_plans = [p for p in plans if "container" in p.lower() and "carrier_match" not in p.lower()]
    assert container_plans and all("ix_container_number_upper" in p for p in container_plans), plans
    assert not any(line.strip().startswith("SCAN") for p in plans for line in p.splitlines()
                   if "container" in line or "shipment" in line), plans


def test_a_voyage_is_found_by_index_in_any_case(oworld):
    on_board = [ocean_shipment(oworld, vessel="MAERSK EDMONTON", voyage="412w") for _ in range(2)]
    other = ocean_shipment(oworld, vessel="MAERSK EDMONTON", voyage="413W")
    ids, plans = _matched_with_plans(oworld, transport_event("ARRI", "Maersk Edmonton", "412W", "NLRTM", at(24 * 20),
                                                             classifier="EST"))
    assert sorted(ids) == sorted(s.id for s in on_board) and other.id not in ids
    voyage_plans = [p for p in plans if "shipment" in p.lower() and "container" not in p.lower()]
    assert any("ix_shipment_voyage_upper" in p for p in voyage_plans), plans
    assert not any(line.strip().startswith("SCAN") for p in plans for line in p.splitlines() if "shipment" in line), \
        plans
