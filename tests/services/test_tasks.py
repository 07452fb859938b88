"""Tasks: from an exception (inheriting shipment, owner, team and SLA) or by hand; my queue (mine and my team's
untaken tasks, overdue first); status changes with the version check; customers refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlmodel import select

from models import AuditLog, User
from portal_app.services import clock
from portal_app.services import tasks as svc
from portal_app.services.errors import Conflict, FormInvalid, NotFound, PermissionDenied, ValidationFailed
from portal_app.services.exceptions import ExceptionInput, create_exception
from portal_app.services.inputs import parse
from portal_app.services.tasks import TaskFilters, TaskInput
from tests.ops_world import T0, make_shipment, team_id, user_id
from tests.quote_world import QuoteWorld

H = timedelta(hours=1)


@pytest.fixture(autouse=True)
def _at_t0(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: T0)


def test_a_task_from_an_exception_inherits_its_owner_team_and_sla(oworld: QuoteWorld):
    with oworld.session() as db:
        s = make_shipment(db, status="booked", etd=T0 + timedelta(days=30))
        exc = create_exception(db, oworld.agent, ExceptionInput(
            shipment_reference=s.reference, kind="other", title="Wrong consignee address", severity="high"))
        task = svc.create_task(db, oworld.agent, TaskInput(title="Call the consignee", exception_id=exc.row.id))
        assert task.shipment_reference == s.reference and task.assignee_name == "Olivia Agent"
        assert task.team_name == "Ocean Import" and task.due.due_at == T0 + 12 * H and task.status == "open"
        assert svc.list_tasks(db, oworld.manager, TaskFilters(exception_id=exc.row.id)).total == 1
        with pytest.raises(NotFound):
            svc.create_task(db, oworld.agent, TaskInput(title="Ghost", exception_id=999999))
        with pytest.raises(ValidationFailed, match="title"):
            svc.create_task(db, oworld.agent, TaskInput(title=" "))
        with pytest.raises(ValidationError, match="time zone"):  # a due time without its zone is no TaskInput
            TaskInput(title="Naive", due_at=T0.replace(tzinfo=None))
        with pytest.raises(FormInvalid) as refused:  # nor, typed in a form, a due time
            parse(TaskInput, {"title": "Naive", "due_at": "2026-11-10T17:00"})
        assert set(refused.value.fields) == {"due_at"}


def test_my_queue_is_mine_and_my_teams_untaken_work_overdue_first(oworld: QuoteWorld):
    with oworld.session() as db:
        sanne = db.exec(select(User).where(User.email == "sanne.devries@harborsky.example")).one()
        from portal_app.auth.principal import Principal

        me = Principal(sanne.id, sanne.company_id, sanne.role, sanne.email, sanne.full_name, "Harbor & Sky")
        import_team, export_team = team_id(db, "Ocean Import"), team_id(db, "Ocean Export")
        later = svc.create_task(db, oworld.manager, TaskInput(title="Later", assignee_id=sanne.id, due_at=T0 + 5 * H))
        late = svc.create_task(db, oworld.manager, TaskInput(title="Late", assignee_id=sanne.id, due_at=T0 - 2 * H))
        team_task = svc.create_task(db, oworld.manager, TaskInput(title="Team", team_id=import_team, due_at=T0 + H))
        undated = svc.create_task(db, oworld.manager, TaskInput(title="Someday", assignee_id=sanne.id))
        pieter = user_id(db, "pieter.jansen@harborsky.example")
        taken = svc.create_task(db, oworld.manager, TaskInput(title="Taken", team_id=import_team, assignee_id=pieter))
        other = svc.create_task(db, oworld.manager, TaskInput(title="Other team", team_id=export_team))
        ids = [r.id for r in svc.my_queue(db, me, page_size=100).rows]
        ours = [i for i in ids if i in {later.id, late.id, team_task.id, undated.id, taken.id, other.id}]
        assert ours == [late.id, team_task.id, later.id, undated.id]
        assert svc.get_task(db, me, late.id).overdue
        done = svc.complete_task(db, me, late.id, expected_version=late.version)
        assert done.status == "done" and done.completed_at == T0 and not done.overdue
        assert late.id not in [r.id for r in svc.my_queue(db, me, page_size=100).rows]
        with pytest.raises(Conflict, match="changed by someone else"):
            svc.reopen_task(db, me, late.id, expected_version=late.version)
        back = svc.reopen_task(db, me, late.id, expected_version=done.version)
        assert back.status == "open" and back.completed_at is None
        started = svc.set_status(db, me, team_task.id, "in_progress")
        assert started.assignee_id == sanne.id  # starting an untaken team task takes it
        moved = svc.assign_task(db, oworld.manager, later.id, assignee_id=None, team_id=export_team,
                                due_at=T0 + 9 * H)
        assert moved.team_name == "Ocean Export" and moved.due.due_at == T0 + 9 * H
        overdue = svc.list_tasks(db, oworld.manager, TaskFilters(overdue=True, assignee_id=sanne.id)).rows
        assert [r.id for r in overdue] == [late.id]  # reopened, and still past its due time
        actions = set(db.exec(select(AuditLog.action).where(AuditLog.entity_type == "task",
                                                            AuditLog.entity_id == str(late.id))).all())
        assert {"task_created", "task_done", "task_open"} <= actions


def test_customers_are_refused_every_task_service(oworld: QuoteWorld):
    with oworld.session() as db:
        t = svc.create_task(db, oworld.agent, TaskInput(title="Internal"))
        for call in (lambda: svc.my_queue(db, oworld.alice), lambda: svc.list_tasks(db, oworld.alice),
                     lambda: svc.get_task(db, oworld.alice, t.id),
                     lambda: svc.create_task(db, oworld.alice, TaskInput(title="Mine")),
                     lambda: svc.complete_task(db, oworld.alice, t.id),
                     lambda: svc.assign_task(db, oworld.alice, t.id, assignee_id=None, team_id=None)):
            with pytest.raises(PermissionDenied):
                call()
