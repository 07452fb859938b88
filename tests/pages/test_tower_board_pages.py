"""The board and workspace pages' own pieces: the board row (owner, team, exceptions, the SLA of shipments with an
open exception), the board form read as filters, the voyage actions' milestone steps and the audit trail in
words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal_app.components.board_bulk import VOYAGE_STEPS
from portal_app.services import audit, board
from portal_app.services.shipments import ShipmentRow
from portal_app.services.workspace import AuditRow
from portal_app.tower.shipments import board_row_view
from portal_app.tower.workspace import AuditLine, audit_row_view

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def _row(**extra) -> board.BoardRow:
    shipment = ShipmentRow("SH1", "Acme", "ocean_fcl", "in_transit", "CNSHA", "Shanghai", "NLRTM", "Rotterdam",
                           "Maersk", NOW - timedelta(days=3), NOW + timedelta(days=20), None, 0, "PO-1", NOW)
    values = {"owner": None, "team": None, "open_exceptions": 0, "next_sla_due_at": None, "sla_breached": False}
    return board.BoardRow(**vars(shipment), **{**values, **extra})


def test_board_row_shows_owner_team_and_the_sla_only_with_an_open_exception():
    quiet = board_row_view(_row(), NOW)
    assert (quiet.owner, quiet.team, quiet.exceptions, quiet.sla, quiet.breached) == \
        ("Nobody", "—", "—", "—", "")
    assert quiet.href == "/tower/shipments/SH1"
    late = board_row_view(_row(owner="Li Wei", team="Ocean Export", open_exceptions=2,
                               next_sla_due_at=NOW - timedelta(hours=2, minutes=5)), NOW)
    assert (late.owner, late.team, late.exceptions) == ("Li Wei", "Ocean Export", "2")
    assert (late.sla, late.breached) == ("Breached 2 h 5 min ago", "yes")
    soon = board_row_view(_row(open_exceptions=1, next_sla_due_at=NOW + timedelta(minutes=50)), NOW)
    assert (soon.sla, soon.breached) == ("50 min left", "")


def test_board_form_reads_as_filters_and_back_as_the_views_params():
    form = {"status": "all", "mode": "air", "branch": "2", "team": "", "owner": "none", "customer": "acme",
            "exception": "on", "sla": "breaching", "sla_hours": "12", "q": ""}
    filters = board.BoardFilters.from_params({k: v for k, v in form.items() if k in board.BOARD_PARAMS})
    filters.validate()
    assert (filters.branch_id, filters.team_id, filters.owner_id, filters.customer) == (2, None, 0, "acme")
    assert (filters.open_exception, filters.sla, filters.sla_hours) == (True, "breaching", 12)
    assert filters.to_params() == {"mode": "air", "branch": "2", "owner": "none", "customer": "acme",
                                   "exception": "1", "sla": "breaching", "sla_hours": "12"}
    # "Any" SLA with the hours box left at its default keeps the view's params short.
    plain = board.BoardFilters.from_params({"sla": "all", "sla_hours": "4"})
    assert plain.to_params() == {}


def test_voyage_actions_record_the_vessel_steps_for_a_voyage_and_the_flight_steps_for_a_flight():
    assert VOYAGE_STEPS[("departure", False)] == "vessel_departure"
    assert VOYAGE_STEPS[("arrival", False)] == "vessel_arrival"
    assert VOYAGE_STEPS[("departure", True)] == "departed"
    assert VOYAGE_STEPS[("arrival", True)] == "arrived"


def test_audit_trail_reads_as_words_in_the_viewers_zone():
    row = AuditRow(NOW, "Marco Manager", "eta_changed", "shipment SH1",
                   [audit.FieldChange("eta_estimated", "2026-11-20T09:00:00+00:00", "2026-11-22T09:00:00+00:00",
                                      "Marco Manager", NOW),
                    audit.FieldChange("reason_code", None, "PORT_CONGESTION", "Marco Manager", NOW),
                    audit.FieldChange("reason_text", None, "Weather", "Marco Manager", NOW),
                    audit.FieldChange("vessel_arrival.estimated_at", None, None, "Marco Manager", NOW)])
    view = audit_row_view(row, "Europe/Amsterdam")
    assert view == AuditLine(at="10 Nov 2026 13:00 CET", actor="Marco Manager", action="eta changed",
                             entity="shipment SH1",
                             changes="Estimated arrival: 20 Nov 2026 10:00 CET → 22 Nov 2026 10:00 CET; "
                                     "Reason: — → Port congestion; Explanation: — → Weather; "
                                     "Vessel arrival, estimated at: — → —")


def test_a_voyage_change_shows_what_it_will_touch_before_it_is_applied(tworld, monkeypatch):
    """Naming the vessel and voyage lists the open shipments a change would reach (and whose), before Apply;
    nothing changes; a voyage nobody is on says so."""
    from sqlmodel import select

    from models import Shipment
    from portal_app.tower.shipments import TowerShipmentsState as S
    from tests.page_states import run, state_as, use_db
    from tests.tower_world import make_shipment

    use_db(monkeypatch, tworld.engine)
    with tworld.session() as db:
        made = [make_shipment(db, vessel="PREVIEW STAR", voyage="9P").reference for _ in range(3)]
        make_shipment(db, company="NORD", vessel="PREVIEW STAR", voyage="9P")
        before = {s.reference: s.version for s in db.exec(select(Shipment)).all()}
    st = state_as(monkeypatch, S, tworld.agent, "/tower/shipments")
    run(S.preview_voyage_field, st, "vessel", "preview star")
    assert st.voyage_preview == ""  # not named yet: no voyage number
    run(S.preview_voyage_field, st, "voyage", "9p")
    assert st.voyage_preview.startswith("This change will reach 4 open shipments (")
    assert "3" in st.voyage_preview and set(made) <= set(st.voyage_preview_refs)
    with tworld.session() as db:
        assert {s.reference: s.version for s in db.exec(select(Shipment)).all()} == before  # nothing changed
    run(S.preview_voyage_field, st, "voyage", "NOPE1")
    assert st.voyage_preview.startswith("No open shipment is on preview star voyage NOPE1")
    assert st.voyage_preview_refs == []


def _team(db, name: str) -> int:
    from models import Team

    team = Team(name=name)
    db.add(team)
    db.commit()
    return int(team.id)


def test_the_bulk_bar_follows_the_ticks_and_previews_the_whole_filter(tworld, monkeypatch):
    """The bar's state: ticks make it (its count), "every shipment matching the filters" shows what it would touch
    (read again when the filters change) and writes nothing, clearing the selection takes it all away."""
    from sqlmodel import select

    from models import Shipment
    from portal_app.tower.shipments import TowerShipmentsState as S
    from tests.page_states import run, state_as, use_db
    from tests.tower_world import make_shipment

    use_db(monkeypatch, tworld.engine)
    with tworld.session() as db:
        team = _team(db, "Bar preview")
        made = [make_shipment(db, team_id=team).reference for _ in range(3)]
        before = {s.reference: s.version for s in db.exec(select(Shipment)).all()}
    st = state_as(monkeypatch, S, tworld.manager, f"/tower/shipments?team={team}")
    run(S.load, st)
    assert st.total == 3 and st.selected == []
    S.toggle_row.fn(st, made[0], True)
    assert st.selected == [made[0]]
    run(S.set_bulk_scope, st, "filter")
    assert st.bulk_preview.startswith("This will reach 3 shipments (")
    assert sorted(st.bulk_preview_refs) == sorted(made)
    with tworld.session() as db:
        assert {s.reference: s.version for s in db.exec(select(Shipment)).all()} == before  # nothing changed
    run(S.apply_filters, st, {"team": str(team), "q": made[1]})  # new filters: what the action would touch too
    assert st.bulk_preview.startswith("This will reach 1 shipment (") and st.bulk_preview_refs == [made[1]]
    S.clear_selection.fn(st)
    assert (st.selected, st.bulk_scope, st.bulk_preview, st.bulk_preview_refs) == ([], "selected", "", [])


def test_a_refused_bulk_or_voyage_form_keeps_its_input_and_says_so_under_its_button(tworld, monkeypatch):
    """A refusal (of the whole, or of every shipment) leaves the form's key (what was typed stays) and is placed
    under the button that was pressed; a success clears that form alone."""
    from portal_app.tower.shipments import TowerShipmentsState as S
    from tests.page_states import run, state_as, use_db
    from tests.tower_world import make_shipment

    use_db(monkeypatch, tworld.engine)
    with tworld.session() as db:
        ref = make_shipment(db).reference
    st = state_as(monkeypatch, S, tworld.manager, f"/tower/shipments?q={ref}")
    run(S.load, st)
    S.toggle_row.fn(st, ref, True)
    bar_key, voyage_key = st.bulk_form_key, st.voyage_form_key
    run(S.bulk_update, st, {"body": ""})
    assert (st.bulk_at, st.bulk_form_key) == ("bar", bar_key)
    assert st.bulk_message.endswith("0 of 1 shipments changed. 1 not changed (see the reason beside each); nothing "
                                    "was saved.")  # refused for each one
    assert [f.reference for f in st.bulk_failures] == [ref]
    run(S.voyage_action, st, {"vessel": "NOBODY SAILS", "voyage": "1X", "action": "eta", "at": "2027-01-15T08:00",
                              "reason_code": "PORT_CONGESTION"})
    assert (st.bulk_at, st.voyage_form_key) == ("voyage", voyage_key)
    assert st.bulk_error.startswith("No open shipment is on NOBODY SAILS voyage 1X")
    run(S.bulk_update, st, {"body": "Terminal strike in Rotterdam: expect one day of delay."})
    assert (st.bulk_at, st.bulk_error) == ("bar", "")
    assert st.bulk_message == "Customer update: 1 of 1 shipments changed."
    assert (st.bulk_form_key, st.voyage_form_key) == (bar_key + 1, voyage_key)
