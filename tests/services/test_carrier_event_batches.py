"""A carrier's batch of events is taken as a batch: one query per kind of reference for the whole batch, one
transaction per chunk of events, the exception rules once per changed shipment after the batch; and what each
event does stays what it would do alone (once per eventID, an older event never over a newer one, even within one
batch). At 100,000 shipments a 1,000-event callback took 14 s event by event (bench/carrier_events.py)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col, select

from models import CarrierConnection, CarrierEvent, CarrierEventShipment, OpsException
from portal_app.services import exception_rules
from portal_app.services.carrier_events import intake
from tests.dcsa import (
    at,
    connect,
    container_of,
    equipment_event,
    ocean_shipment,
    reload,
    shipment_event,
    step,
    transport_event,
)


def _receive(world, connection: dict, events: list[dict], statements: list[str] | None = None
             ) -> intake.BatchResult:
    """The intake service as the callback calls it; with ``statements``, every SQL statement it ran."""

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    if statements is not None:
        sa.event.listen(world.engine, "before_cursor_execute", record)
    try:
        with world.session() as db:
            row = db.get(CarrierConnection, connection["id"])
            return intake.receive(db, row, events, "2.2")
    finally:
        if statements is not None:
            sa.event.remove(world.engine, "before_cursor_execute", record)


def test_a_batch_looks_each_kind_of_reference_up_once(oworld):
    connection = connect(oworld)
    shipments = [ocean_shipment(oworld, vessel=None, voyage=None) for _ in range(4)]
    events = [equipment_event("GTIN", container_of(oworld, s), at(-5), place="CNSHA") for s in shipments]
    events += [shipment_event("CONF", "BKG", s.booking_number, at(-6)) for s in shipments]
    statements: list[str] = []
    result = _receive(oworld, connection, events, statements)
    assert result.accepted == 8 and result.applied == 8 and result.unmatched == 0
    for s in shipments:
        assert step(oworld, s, "gate_in_full_at_pol").actual_at is not None
        assert step(oworld, s, "booking_confirmed").actual_at is not None
    by_container = [q for q in statements if "upper(container.number) IN" in q]
    by_booking = [q for q in statements if "shipment.booking_number IN" in q]
    kept_before = [q for q in statements if q.lstrip().startswith("SELECT carrier_event.event_id")
                   and "carrier_event.event_id IN" in q]
    assert len(by_container) == 1 and len(by_booking) == 1 and len(kept_before) == 1, statements
    # the places, milestones and latest applied events of the shipments: read once for the batch
    assert len([q for q in statements if q.lstrip().startswith("SELECT location.id")]) == 1


def test_a_batch_commits_once_per_chunk_and_keeps_each_event_once(oworld, monkeypatch):
    monkeypatch.setattr(intake, "CHUNK", 2)
    connection = connect(oworld)
    shipment = ocean_shipment(oworld)
    container = container_of(oworld, shipment)
    gate_in = equipment_event("GTIN", container, at(-5), place="CNSHA")
    events = [gate_in, equipment_event("LOAD", container, at(-4), place="CNSHA"), {"eventType": "NONSENSE"},
              equipment_event("DISC", container, at(24 * 25.5), classifier="EST", place="NLRTM"), gate_in]
    commits: list[int] = []

    def count(conn):
        commits.append(1)

    sa.event.listen(oworld.engine, "commit", count)
    try:
        result = _receive(oworld, connection, events)
    finally:
        sa.event.remove(oworld.engine, "commit", count)
    assert (result.accepted, result.duplicates, len(result.refused), result.applied) == (3, 1, 1, 3)
    # the refusal, two chunks of two valid events, the exception rules: whatever the number of events
    assert len(commits) == 4, commits
    with oworld.session() as db:
        assert len(db.exec(select(CarrierEvent).where(CarrierEvent.event_id == gate_in["eventID"])).all()) == 1
    assert reload(oworld, shipment).version == shipment.version + 3


def test_an_older_event_later_in_the_same_batch_never_overwrites_a_newer_one(oworld):
    connection = connect(oworld)
    shipment = ocean_shipment(oworld)
    container = container_of(oworld, shipment)
    newest_estimate = at(30)
    newer = equipment_event("LOAD", container, newest_estimate, classifier="EST", created=at(-1), place="CNSHA")
    older = equipment_event("LOAD", container, at(20), classifier="EST", created=at(-5), place="CNSHA")
    _receive(oworld, connection, [newer, older])
    assert step(oworld, shipment, "loaded_on_vessel").estimated_at == newest_estimate
    with oworld.session() as db:
        outcomes = db.exec(select(CarrierEventShipment.outcome).order_by(col(CarrierEventShipment.id))).all()
    assert outcomes == ["applied", "older"]
    # and the other way round: the newer one applies after the older one, in the same batch
    latest = at(40)
    _receive(oworld, connection, [
        equipment_event("LOAD", container, at(35), classifier="EST", created=at(-0.5), place="CNSHA"),
        equipment_event("LOAD", container, latest, classifier="EST", created=at(-0.2), place="CNSHA")])
    assert step(oworld, shipment, "loaded_on_vessel").estimated_at == latest


def test_the_exception_rules_run_once_per_changed_shipment_after_the_batch(oworld, monkeypatch):
    connection = connect(oworld)
    on_board = [ocean_shipment(oworld, vessel="MSC ANNA", voyage="BATCH1") for _ in range(2)]
    evaluated: list[list[int]] = []
    one_by_one: list[int] = []
    batch_pass = exception_rules.evaluate_shipments
    monkeypatch.setattr(exception_rules, "evaluate_shipment", lambda db, sid, now=None, **kw: one_by_one.append(sid))
    monkeypatch.setattr(exception_rules, "evaluate_shipments",
                        lambda db, ids, now=None, **kw: (evaluated.append(sorted(ids)), batch_pass(db, ids, now))[1])
    late = on_board[0].eta_planned + timedelta(days=3)
    events = [transport_event("ARRI", "MSC ANNA", "BATCH1", "NLRTM", late, classifier="EST")]
    events += [equipment_event("GTIN", container_of(oworld, s), at(-5), place="CNSHA") for s in on_board]
    result = _receive(oworld, connection, events)
    assert result.applied == 4
    assert one_by_one == [] and evaluated == [sorted(s.id for s in on_board)]
    with oworld.session() as db:  # the rules did run: the three days' slip is an exception on each shipment
        for s in on_board:
            assert db.exec(select(OpsException).where(OpsException.shipment_id == s.id,
                                                      OpsException.kind == "eta_slip")).one().status == "open"


def test_a_batch_writes_its_shipment_changes_together(oworld, monkeypatch):
    """Twelve shipments, each with a gate-in, a load and an estimated discharge: the shipments' UPDATEs, their
    milestones', the audit rows and the notices are a few statements for the whole batch, not a few per change,
    and no change runs in a savepoint of its own; each shipment still ends three versions on, with three audit
    rows, its milestones set and its customers told."""
    shipments = [ocean_shipment(oworld, vessel=None, voyage=None) for _ in range(12)]
    versions = {s.id: reload(oworld, s).version for s in shipments}
    connection = connect(oworld)
    gate_in, loaded, discharge = at(-5), at(-4), at(24 * 25.5)
    events = []
    for s in shipments:
        container = container_of(oworld, s)
        events += [equipment_event("GTIN", container, gate_in, place="CNSHA"),
                   equipment_event("LOAD", container, loaded, place="CNSHA"),
                   equipment_event("DISC", container, discharge, classifier="EST", place="NLRTM")]
    statements: list[str] = []
    # the exception rules after the batch write their own rows (tested above): here, only the batch's writes
    monkeypatch.setattr(exception_rules, "evaluate_shipments", lambda db, ids, now: None)
    result = _receive(oworld, connection, events, statements)
    assert result.applied == 36
    writes = [q.lstrip().split("\n")[0][:40] for q in statements]
    assert len([q for q in writes if q.startswith("UPDATE shipment")]) <= 3, writes
    assert len([q for q in writes if q.startswith("UPDATE milestone")]) <= 4, writes
    assert len([q for q in writes if q.startswith("INSERT INTO auditlog")]) <= 1, writes
    assert len([q for q in writes if q.startswith("INSERT INTO notification")]) <= 1, writes
    assert len([q for q in writes if q.startswith("SAVEPOINT")]) <= 2, writes  # keeping the events, not per change
    with oworld.session() as db:
        from models import AuditLog, Notification

        for s in shipments:
            assert reload(oworld, s).version == versions[s.id] + 3
            assert step(oworld, s, "gate_in_full_at_pol").actual_at == gate_in
            assert step(oworld, s, "loaded_on_vessel").actual_at == loaded
            assert step(oworld, s, "discharged_at_pod").estimated_at == discharge
            audits = db.exec(select(AuditLog).where(AuditLog.entity_id == s.reference,
                                                    AuditLog.action == "milestone_updated")).all()
            assert sorted(a.after.count('"version"') for a in audits) == [1, 1, 1]
        assert db.exec(select(sa.func.count()).select_from(Notification)
                       .where(col(Notification.link).contains(shipments[0].reference))).one() >= 1


def test_a_shipment_changed_while_the_batch_was_taken_sends_the_batch_one_change_at_a_time(oworld, monkeypatch):
    """Written together, each shipment's UPDATE still checks the version it was read at. When one changed
    meanwhile, nothing of the chunk stands and it is taken again one change at a time (each in a savepoint), so
    every event still applies, on top of the other change."""
    from portal_app.services import workspace as ws

    shipments = [ocean_shipment(oworld, vessel=None, voyage=None) for _ in range(3)]
    connection = connect(oworld)
    gate_in = at(-5)
    events = [equipment_event("GTIN", container_of(oworld, s), gate_in, place="CNSHA") for s in shipments]
    real = ws.write_together
    calls: list[int] = []

    def meanwhile(db, together, versions):
        calls.append(1)
        if len(calls) == 1:  # someone else saves the first shipment just before the batch writes
            db.connection().execute(sa.text("UPDATE shipment SET version = version + 1 WHERE id = :id"),
                                    {"id": shipments[0].id})
        return real(db, together, versions)

    monkeypatch.setattr(ws, "write_together", meanwhile)
    result = _receive(oworld, connection, events)
    assert calls == [1]  # the second time, one change at a time: nothing is written together
    assert result.accepted == 3 and result.applied == 3 and result.duplicates == 0
    with oworld.session() as db:
        assert len(db.exec(select(CarrierEvent)).all()) == 3
        assert len(db.exec(select(CarrierEventShipment)).all()) == 3
    for s in shipments:
        assert step(oworld, s, "gate_in_full_at_pol").actual_at == gate_in
