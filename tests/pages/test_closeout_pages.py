"""The closeout on the pages: the workspace shows the checklist once the last milestone has happened, refuses to
close with each open item named, closes with the version it loaded; the customer's page then reads as completed
with the archive link; the checklist's tasks link opens only that shipment's tasks."""

from __future__ import annotations

import pytest

from portal_app.portal.shipment_detail import PortalShipmentDetailState, completed_card
from portal_app.services import clock
from portal_app.tower.tasks import TowerTasksState
from portal_app.tower.workspace import TowerWorkspaceState
from tests.closeout_world import NOW, add_task, delivered_shipment, ready_to_close
from tests.page_states import run, state_as, use_db
from tests.quote_world import QuoteWorld

S = TowerWorkspaceState


@pytest.fixture()
def on_db(tworld: QuoteWorld, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    use_db(monkeypatch, tworld.engine)
    yield tworld


def test_workspace_shows_the_checklist_refuses_then_closes(on_db, monkeypatch):
    w = on_db
    with w.session() as db:
        early = delivered_shipment(db, reached=False)
        s = delivered_shipment(db)
        task = add_task(db, s)
    st = state_as(monkeypatch, S, w.agent, f"/tower/shipments/{early.reference}")
    run(S.load, st)
    assert st.closeout_due is False and st.closeout_items == []

    st = state_as(monkeypatch, S, w.agent, f"/tower/shipments/{s.reference}")
    run(S.load, st)
    assert st.closeout_due and not st.closeout_ready and not st.can_override
    items = {i.key: i for i in st.closeout_items}
    assert not items["tasks"].done and items["tasks"].fix_href.endswith(f"shipment={s.reference}")
    assert items["exceptions"].done
    run(S.close_shipment, st, {})
    assert "cannot be closed yet" in st.ws_error and "Tasks closed" in st.ws_error
    assert not st.closeout_closed

    tasks = state_as(monkeypatch, TowerTasksState, w.agent, f"/tower/tasks?view=all&shipment={s.reference}")
    run(TowerTasksState.load, tasks)
    assert tasks.shipment == s.reference and [r.id for r in tasks.rows] == [str(task.id)]

    with w.session() as db:
        ready = ready_to_close(db, w.agent)
    st = state_as(monkeypatch, S, w.agent, f"/tower/shipments/{ready.reference}")
    run(S.load, st)
    assert st.closeout_ready
    answer = run(S.close_shipment, st, {})
    assert st.ws_error == "" and "closed" in st.ws_notice and answer is not None
    run(S.load, st)
    assert st.closeout_closed and st.summary.status == "closed"
    assert st.archive_href == f"/api/v1/shipments/{ready.reference}/documents.zip"

    portal = state_as(monkeypatch, PortalShipmentDetailState, w.alice, f"/portal/shipments/{ready.reference}")
    run(PortalShipmentDetailState.load, portal)
    assert portal.summary.status == "closed"
    rendered = str(completed_card(PortalShipmentDetailState))
    assert "Completed" in rendered and "documents.zip" in rendered


def test_a_manager_closes_with_items_open_giving_the_reason(on_db, monkeypatch):
    w = on_db
    with w.session() as db:
        s = delivered_shipment(db)
    st = state_as(monkeypatch, S, w.manager, f"/tower/shipments/{s.reference}")
    run(S.load, st)
    assert st.can_override and not st.closeout_ready
    run(S.close_shipment, st, {"override_reason": "short"})
    assert "Nothing was saved" in st.ws_error and not st.closeout_closed
    run(S.close_shipment, st, {"override_reason": "Customer confirmed receipt; POD follows by post."})
    assert st.ws_error == "" and "overridden" in st.ws_notice
