"""Workload per team, branch and person counted in SQL, checked against hand-counted data in a database of its
own; reassigning one person's work to another, all at once and audited."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from models import AuditLog, Notification, OpsException, Shipment, Task
from portal_app.services import clock, exception_rules
from portal_app.services import workload as svc
from portal_app.services.errors import PermissionDenied, ValidationFailed
from portal_app.services.tasks import TaskInput, create_task
from tests.ops_world import T0, make_shipment, team_id, user_id
from tests.quote_world import QuoteWorld, build_quote_world

H = timedelta(hours=1)


@pytest.fixture(scope="module")
def wworld():
    folder = Path(tempfile.mkdtemp(prefix="portal-workload-"))
    world = build_quote_world(f"sqlite:///{folder / 'workload.db'}")
    yield world
    world.engine.dispose()


@pytest.fixture(autouse=True)
def _at_t0(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: T0)


def test_counts_per_team_branch_and_person_then_reassign(wworld: QuoteWorld):
    with wworld.session() as db:
        olivia, li = user_id(db, "agent@harborsky.example"), user_id(db, "li.wei@harborsky.example")
        # Olivia (Ocean Import, Rotterdam): two active shipments, one delivered; Li (Ocean Export, Shanghai): one.
        a = make_shipment(db, delay_hours=40)  # ETA slip, medium, SLA 24 h
        b = make_shipment(db, status="arrived", etd=T0 - timedelta(days=25), ata=T0 - 50 * H)  # customs, high, 8 h
        make_shipment(db, status="delivered", etd=T0 - timedelta(days=40), ata=T0 - timedelta(days=20))
        c = make_shipment(db, owner="li.wei@harborsky.example", team="Ocean Export", delay_hours=40)
        for s in (a, c):
            exception_rules.evaluate_shipment(db, s.id, T0 - 30 * H)  # opened 30 h ago: the ETA slips are breached
        exception_rules.evaluate_shipment(db, b.id, T0)  # the customs hold opens now: 8 h left
        create_task(db, wworld.manager, TaskInput(title="Late one", assignee_id=olivia,
                                                  team_id=team_id(db, "Ocean Import"), due_at=T0 - H))
        create_task(db, wworld.manager, TaskInput(title="Not yet", assignee_id=olivia, due_at=T0 + H))
        create_task(db, wworld.manager, TaskInput(title="Late for Li", assignee_id=li,
                                                  team_id=team_id(db, "Ocean Export"), due_at=T0 - H))

        people = {r.id: r for r in svc.workload(db, wworld.manager, "person")}
        o = people[olivia]
        assert (o.shipments_in_progress, o.open_exceptions, o.sla_breaches, o.overdue_tasks) == (2, 2, 1, 1)
        assert o.exceptions_by_severity == {"low": 0, "medium": 1, "high": 1, "critical": 0}
        l_ = people[li]
        assert (l_.shipments_in_progress, l_.open_exceptions, l_.sla_breaches, l_.overdue_tasks) == (1, 1, 1, 1)
        teams = {r.name: r for r in svc.workload(db, wworld.manager, "team")}
        assert teams["Ocean Import"].open_exceptions == 2 and teams["Ocean Export"].overdue_tasks == 1
        assert teams["Air Freight"].open_exceptions == 0  # every team has a row, idle ones too
        branches = {r.name: r for r in svc.workload(db, wworld.manager, "branch")}
        rtm = next(r for n, r in branches.items() if "Rotterdam" in n)
        sha = next(r for n, r in branches.items() if "Shanghai" in n)
        assert (rtm.open_exceptions, rtm.overdue_tasks) == (2, 1) and (sha.open_exceptions, sha.overdue_tasks) == (1, 1)
        with pytest.raises(ValidationFailed):
            svc.workload(db, wworld.manager, "planet")

        with pytest.raises(PermissionDenied):
            svc.reassign(db, wworld.agent, olivia, li)
        result = svc.reassign(db, wworld.manager, olivia, li)
        assert (result.exceptions, result.tasks, result.shipments) == (2, 2, 2)
        assert db.exec(select(OpsException).where(OpsException.owner_id == olivia,
                                                  OpsException.status != "resolved")).all() == []
        assert db.exec(select(Task).where(Task.assignee_id == olivia, Task.status == "open")).all() == []
        assert db.exec(select(Shipment.owner_id).where(Shipment.id == a.id)).one() == li
        people = {r.id: r for r in svc.workload(db, wworld.manager, "person")}
        assert people[li].open_exceptions == 3 and people[olivia].open_exceptions == 0
        entry = db.exec(select(AuditLog).where(AuditLog.action == "work_reassigned")).one()
        assert entry.actor_id == wworld.manager.user_id and str(a.id) in entry.after
        assert db.exec(select(Notification).where(Notification.user_id == li,
                                                  Notification.event_kind == "work_assigned")).first()
        with pytest.raises(ValidationFailed):
            svc.reassign(db, wworld.manager, li, li)
        with pytest.raises(ValidationFailed):
            svc.reassign(db, wworld.manager, li, wworld.alice.user_id)


def test_customers_cannot_see_workload(wworld: QuoteWorld):
    with wworld.session() as db, pytest.raises(PermissionDenied):
        svc.workload(db, wworld.alice, "team")
