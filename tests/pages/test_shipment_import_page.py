"""The tower's "Import shipments" page: a refused file shows its report row by row (typed rows, nothing imported),
an applied one its summary and links; people without the import permission are told why, and nothing is read."""

from __future__ import annotations

import io
from pathlib import Path

import reflex as rx
from sqlmodel import func, select

from models import Shipment
from portal_app.tower.imports import ImportedLine, ImportProblemLine, TowerImportsState
from tests.page_states import run, state_as, use_db
from tests.services.test_shipment_import import csv_file, ocean, ocean_milestones


def upload(data: bytes, name: str = "tms.csv") -> rx.UploadFile:
    return rx.UploadFile(file=io.BytesIO(data), path=Path(name))


def shipments(qworld) -> int:
    with qworld.session() as db:
        return db.exec(select(func.count()).select_from(Shipment)).one()


def test_the_import_page_shows_the_report_then_the_summary(qworld, monkeypatch):
    use_db(monkeypatch, qworld.engine)
    state = state_as(monkeypatch, TowerImportsState, qworld.manager, "/tower/imports")
    handlers = TowerImportsState.event_handlers
    run(handlers["load"], state)
    assert state.can_import
    before = shipments(qworld)
    bad = csv_file([ocean("TMS-PG-0001", containers="MSCU1234565:40HC", customer="NOSUCHCO")])
    run(handlers["import_file"], state, [upload(bad)])
    assert "was refused: 2 problems" in state.import_error and "Nothing was imported." in state.import_error
    assert state.import_problems and all(isinstance(p, ImportProblemLine) for p in state.import_problems)
    assert {(p.sheet, p.row, p.column) for p in state.import_problems} == {("Shipments", "2", "customer"),
                                                                            ("Shipments", "2", "containers")}
    assert state.import_notice == "" and state.imported == [] and shipments(qworld) == before

    good = csv_file([ocean("TMS-PG-0001")], ocean_milestones("TMS-PG-0001"))
    run(handlers["import_file"], state, [upload(good)])
    assert state.import_error == "" and state.import_problems == []
    assert state.import_notice == "Imported tms.csv: created 1, updated 0, unchanged 0."
    assert state.imported == [ImportedLine("TMS-PG-0001", "/tower/shipments/TMS-PG-0001", "Created")]
    run(handlers["import_file"], state, [upload(good)])
    assert state.import_notice.endswith("created 0, updated 0, unchanged 1.") and state.imported == []
    assert shipments(qworld) == before + 1

    run(handlers["import_file"], state, [])
    assert "Choose one file" in state.import_error


def test_an_agent_is_told_imports_are_for_managers_and_nothing_is_imported(qworld, monkeypatch):
    use_db(monkeypatch, qworld.engine)
    state = state_as(monkeypatch, TowerImportsState, qworld.agent, "/tower/imports")
    handlers = TowerImportsState.event_handlers
    run(handlers["load"], state)
    assert not state.can_import
    before = shipments(qworld)
    run(handlers["import_file"], state, [upload(csv_file([ocean("TMS-PG-0002")]))])
    assert "not allowed" in state.import_error and shipments(qworld) == before


def test_an_imports_milestone_changes_read_as_words_in_the_shipments_history():
    """The import's audit keeps milestones as step -> times; the tower's history shows them in words, not codes."""
    from portal_app.tower.workspace import _value

    shown = _value({"booking_confirmed": {"actual_at": "2026-11-20T09:00:00+00:00"}, "loaded_on_vessel": {}},
                   "UTC")
    assert shown.startswith("Booking confirmed: Actual at: ") and "2026" in shown
    assert "_" not in shown and "{" not in shown
    assert _value(["MSKU9070323:45G1", "MRKU4827310:40HC"]) == "MSKU9070323:45G1, MRKU4827310:40HC"
