"""The tower's exception, task and workload pages: what they read (an exception's history in words, the staff
directory for the pickers) and their small pieces (filters from the address or form, rows with the SLA timer in
the viewer's zone, due times typed in that zone, links from workload figures to the filtered queue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from models import AuditLog, User
from portal_app.components.ops import id_or_none, parse_local, timer_view
from portal_app.services import clock, tasks, workload
from portal_app.services import exceptions as svc
from portal_app.services.errors import PermissionDenied
from portal_app.services.exceptions import ExceptionInput, sla_timer
from portal_app.tower import exceptions as page
from portal_app.tower import tasks as task_page
from portal_app.tower import workload as workload_page
from portal_app.tower.exception_detail import detail_view, kept_tasks
from tests.ops_world import T0, make_shipment, team_id, user_id
from tests.quote_world import QuoteWorld

H = timedelta(hours=1)


@pytest.fixture(autouse=True)
def _at_t0(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: T0)


def test_filters_from_the_address_or_form_are_checked():
    assert page.clean_filters({}) == {"status": "active", "hours": "4"}
    got = page.clean_filters({"status": ["resolved"], "kind": ["customs_hold"], "severity": ["huge"],
                              "owner": ["me"], "team": ["3"], "sla": ["soon"], "hours": ["12"]})
    assert got == {"status": "resolved", "kind": "customs_hold", "owner": "me", "team": "3", "sla": "soon",
                   "hours": "12"}
    assert page.clean_filters({"owner": "1; drop", "hours": "9999", "status": "x"}) == {"status": "active",
                                                                                      "hours": "4"}
    f = page.service_filters(got, me=42)
    assert (f.status, f.kind, f.severity, f.owner_id, f.team_id) == ("resolved", "customs_hold", None, 42, 3)
    assert (f.breached, f.breaching_within_hours, f.unassigned) == (None, 12, False)
    f = page.service_filters(page.clean_filters({"owner": "none", "sla": "breached"}), me=42)
    assert (f.owner_id, f.unassigned, f.breached, f.breaching_within_hours) == (None, True, True, None)


def test_timer_reads_time_left_or_breached_ago_and_the_due_time_in_the_viewers_zone():
    due = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    open_ = timer_view(sla_timer(due, due - 3 * H, "America/Chicago"), due - 3 * H, True)
    assert open_ == {"left": "3 h 0 min left", "breached": "", "due": "2026-11-01 06:00 CST"}
    late = timer_view(sla_timer(due, due + 26 * H, "Asia/Shanghai"), due + 26 * H, True)
    assert late == {"left": "Breached 1 d 2 h ago", "breached": "yes", "due": "2026-11-01 20:00 CST"}
    done = timer_view(sla_timer(due, due + 26 * H, "UTC", resolved_at=due - H), due + 26 * H, False)
    assert done["left"] == "Met (1 h 0 min to spare)" and done["breached"] == ""


def test_due_time_typed_in_the_viewers_zone():
    assert parse_local("2026-11-10T17:00", "Europe/Amsterdam") == datetime(2026, 11, 10, 16, 0, tzinfo=UTC)
    assert parse_local("2026-11-10T17:00", "No/Zone") == datetime(2026, 11, 10, 17, 0, tzinfo=UTC)
    assert parse_local("  ", "UTC") is None
    with pytest.raises(ValueError):
        parse_local("tomorrow", "UTC")
    assert (id_or_none("12"), id_or_none(""), id_or_none("none"), id_or_none(None)) == (12, None, None, None)


def test_history_tells_what_happened_in_words_and_rows_show_the_viewers_zone(oworld: QuoteWorld):
    with oworld.session() as db:
        s = make_shipment(db, status="booked", etd=T0 + timedelta(days=30))
        made = svc.create_exception(db, oworld.agent, ExceptionInput(shipment_reference=s.reference, kind="other",
                                                                     title="Cartons damaged",
                                                                     severity="high"))
        li = user_id(db, "li.wei@harborsky.example")
        svc.assign_exception(db, oworld.manager, made.row.id, owner_id=li, team_id=team_id(db, "Ocean Export"))
        svc.change_severity(db, oworld.manager, made.row.id, "critical")
        svc.resolve_exception(db, oworld.manager, made.row.id, "Re-packed at origin",
                              customer_message="Two cartons were re-packed; no delay.")
        history = svc.exception_history(db, oworld.manager, made.row.id)
        assert [h.actor for h in history] == ["Olivia Agent", "Marco Manager", "Marco Manager", "Marco Manager"]
        assert history[0].summary == "Raised by hand; severity high"
        assert history[1].summary == ("Assignment changed; owner Olivia Agent → Li Wei; "
                                      "team Ocean Import → Ocean Export")
        assert history[2].summary == "Severity changed; severity high → critical"
        assert history[3].summary == ("Resolved; note: Re-packed at origin; message to the customer: Two cartons "
                                      "were re-packed; no delay.")
        with pytest.raises(PermissionDenied):
            svc.exception_history(db, oworld.alice, made.row.id)

        db.exec(sa.update(User).where(User.id == oworld.manager.user_id).values(timezone="Asia/Shanghai"))
        db.commit()
        try:
            detail = svc.get_exception(db, oworld.manager, made.row.id)
            tz = svc.viewer_timezone(db, oworld.manager)
        finally:
            db.exec(sa.update(User).where(User.id == oworld.manager.user_id).values(timezone="UTC"))
            db.commit()
        view = detail_view(detail, T0, tz, me=li)
        assert view.opened == "10 Nov 2026 17:00 CST" and view.mine == "yes"
        assert view.status == "resolved" and view.left.startswith("Met")
        assert view.resolved_by == "Marco Manager"
        row = page.exception_row_view(detail.row, T0, tz)
        assert row.owner == "Li Wei" and row.team == "Ocean Export" and row.kind == "Other"
        assert row.href == f"/tower/exceptions/{made.row.id}" and row.company == "Acme Home Goods Ltd"


def test_directory_lists_active_staff_and_teams_for_staff_only(oworld: QuoteWorld):
    with oworld.session() as db:
        found = workload.directory(db, oworld.agent)
        names = [p.name for p in found.people]
        assert "Olivia Agent" in names and "Alice Archer" not in names and names == sorted(names)
        olivia = next(p for p in found.people if p.name == "Olivia Agent")
        assert olivia.team_id == team_id(db, "Ocean Import")
        assert {name for _, name in found.teams} >= {"Ocean Import", "Ocean Export", "Air Freight"}
        with pytest.raises(PermissionDenied):
            workload.directory(db, oworld.alice)


def test_task_rows_mark_overdue_and_workload_rows_link_to_the_queue(oworld: QuoteWorld):
    with oworld.session() as db:
        made = tasks.create_task(db, oworld.manager, tasks.TaskInput(title="Chase the carrier", due_at=T0 - H,
                                                                     assignee_id=oworld.agent.user_id))
    # the manager works from Rotterdam (the seed): due times read in Central European Time
    row = task_page.task_row_view(made, T0)
    assert row.overdue == "yes" and row.breached == "yes" and row.left == "Breached 1 h 0 min ago"
    assert row.due == "2026-11-10 09:00 CET" and row.assignee == "Olivia Agent" and row.active == "yes"
    person = workload.WorkloadRow(7, "Li Wei", open_exceptions=2, sla_breaches=1)
    view = workload_page.workload_row_view(person, "person")
    assert view.href == "/tower/exceptions?owner=7"
    assert view.breached_href == "/tower/exceptions?owner=7&sla=breached"
    assert view.person == "yes" and view.critical == "0"
    assert workload_page.workload_row_view(workload.WorkloadRow(None, "Unassigned"), "person").href == \
        "/tower/exceptions?owner=none"
    assert workload_page.workload_row_view(workload.WorkloadRow(3, "Rotterdam"), "branch").href == ""


def test_history_of_an_exception_without_audit_rows_still_shows_its_opening(oworld: QuoteWorld):
    with oworld.session() as db:
        s = make_shipment(db, status="booked", etd=T0 + timedelta(days=30))
        made = svc.create_exception(db, oworld.agent, ExceptionInput(shipment_reference=s.reference, kind="other",
                                                                     title="Seal number wrong"))
        db.exec(sa.delete(AuditLog).where(AuditLog.entity_type == "exception",
                                          AuditLog.entity_id == str(made.row.id)))
        db.commit()
        [only] = svc.exception_history(db, oworld.agent, made.row.id)
        assert (only.at, only.summary) == (T0, "Raised by hand; severity medium")


def test_the_resolve_form_reads_which_tasks_stay_open_and_why():
    """Ticked boxes (a boolean from the ref or "on" when posted natively) with the reason beside each; unticked
    ones and stray fields are ignored."""
    form = {"note": "Done", "keep_12": True, "keep_reason_12": "Carrier has not answered", "keep_13": "on",
            "keep_14": False, "keep_reason_14": "ignored", "keep_x": "on"}
    assert kept_tasks(form) == {12: "Carrier has not answered", 13: ""}
