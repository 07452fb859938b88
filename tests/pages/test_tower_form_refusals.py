"""A tower form reads what was typed into the API's own input model (``services.inputs.parse``), so a value the
API refuses is refused on the page too: in plain words, beside its field (or named by the form's own words where
the form has no place beside it), never by a field path, and with nothing saved."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from models import HelpArticle, OpsException, Task
from portal_app.services import clock
from portal_app.services import exceptions as exc_svc
from portal_app.tower import config_templates as tpl_page
from portal_app.tower import exceptions as exc_page
from portal_app.tower import tasks as task_page
from portal_app.tower.exception_detail import TowerExceptionState
from portal_app.tower.help.state import TowerHelpState
from portal_app.tower.shipments import TowerShipmentsState
from tests.config_world import ConfigWorld
from tests.ops_world import T0, make_shipment
from tests.page_states import run, state_as, use_db
from tests.quote_world import QuoteWorld

LONGER_THAN_A_REFERENCE = "SH" + "0" * 19  # 21 characters: no shipment reference is longer than 20


@pytest.fixture()
def on_ops_db(oworld: QuoteWorld, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: T0)
    use_db(monkeypatch, oworld.engine)
    yield oworld


def _count(engine: sa.Engine, model: type) -> int:
    with Session(engine) as db:
        return db.exec(select(func.count()).select_from(model)).one()


def _no_paths(*texts: str) -> None:
    for text in texts:
        assert "_" not in text and "steps." not in text, f"a field path reached the page: {text!r}"


def test_new_exception_form_shows_each_refused_value_beside_its_field_and_saves_nothing(on_ops_db, monkeypatch):
    w = on_ops_db
    S = exc_page.TowerExceptionsState
    st = state_as(monkeypatch, S, w.agent, "/tower/exceptions")
    before = _count(w.engine, OpsException)
    run(S.create, st, {"shipment_reference": LONGER_THAN_A_REFERENCE, "kind": "other", "severity": "high",
                       "title": "Cartons damaged", "detail": "x" * 4001, "owner_id": "", "team_id": ""})
    assert st.field_errors == {"shipment_reference": "Make this shorter: at most 20 characters.",
                               "detail": "Make this shorter: at most 4000 characters."}
    assert "Nothing was saved" in st.error and _count(w.engine, OpsException) == before
    _no_paths(st.error, *st.field_errors.values())


def test_task_forms_refuse_what_the_api_refuses_beside_the_field(on_ops_db, monkeypatch):
    w = on_ops_db
    before = _count(w.engine, Task)
    S = task_page.TowerTasksState
    st = state_as(monkeypatch, S, w.manager, "/tower/tasks")
    run(S.create, st, {"title": "t" * 201, "shipment_reference": "", "assignee_id": "", "team_id": "",
                       "due_at": "", "detail": ""})
    assert st.field_errors == {"title": "Make this shorter: at most 200 characters."}
    assert "Nothing was saved" in st.error
    with w.session() as db:
        ref = make_shipment(db).reference
    with w.session() as db:
        made = exc_svc.create_exception(db, w.agent, exc_svc.ExceptionInput(shipment_reference=ref, kind="other",
                                                                            title="Seal broken"))
    D = TowerExceptionState
    detail = state_as(monkeypatch, D, w.manager, f"/tower/exceptions/{made.row.id}")
    detail._exception_id = made.row.id
    run(D.add_task, detail, {"task_title": "Call the terminal", "task_detail": "d" * 4001, "assignee_id": "",
                             "task_team_id": "", "due_at": ""})
    assert detail.field_errors == {"task_detail": "Make this shorter: at most 4000 characters."}
    assert "Nothing was saved" in detail.error and _count(w.engine, Task) == before
    _no_paths(st.error, detail.error)


def test_voyage_form_names_a_refused_value_in_the_forms_words(on_ops_db, monkeypatch):
    w = on_ops_db
    S = TowerShipmentsState
    st = state_as(monkeypatch, S, w.agent, "/tower/shipments")
    run(S.voyage_action, st, {"vessel": "V" * 81, "voyage": "447W", "flight": "", "flight_date": "",
                              "action": "arrival", "at": "2026-11-10T17:00", "location": "NLRTM"})
    assert st.bulk_error == "Vessel: make this shorter: at most 80 characters. Nothing was changed."
    run(S.voyage_action, st, {"vessel": "", "voyage": "", "flight": "LH400", "flight_date": "10/11/2026",
                              "action": "eta", "at": "2026-11-10T17:00", "reason_code": "weather"})
    assert st.bulk_error == ("Flight date: '10/11/2026' is not a date: use YYYY-MM-DD, for example 2026-11-30. "
                             "Nothing was changed.") and st.bulk_message == ""


def test_help_editor_refuses_an_over_long_title_beside_it(on_ops_db, monkeypatch):
    w = on_ops_db
    S = TowerHelpState
    st = state_as(monkeypatch, S, w.manager, "/tower/help")
    run(S.new_article, st)
    before = _count(w.engine, HelpArticle)
    run(S.save, st, {"title": "T" * 201, "slug": "", "audience": "public", "keywords": "", "body_markdown": "x"})
    assert st.field_errors == {"title": "Make this shorter: at most 200 characters."}
    assert "Nothing was saved" in st.error and _count(w.engine, HelpArticle) == before


def test_template_editor_says_which_step_is_wrong_in_words(cworld: ConfigWorld, monkeypatch):
    use_db(monkeypatch, cworld.world.engine)
    S = tpl_page.ConfigTemplatesState

    async def authorize(self, area):
        return cworld.admin

    monkeypatch.setattr(S, "_authorize", authorize)
    st = S(_reflex_internal_init=True)
    run(S.load, st)
    version = st.version
    form = {"template_name": st.template_name}
    for row in st.steps:
        form |= {f"code_{row.n}": row.code, f"name_{row.n}": row.name, f"anchor_{row.n}": row.anchor,
                 f"offset_{row.n}": row.offset, f"visible_{row.n}": row.visible, f"position_{row.n}": row.n}
    form[f"offset_{st.steps[1].n}"] = "soon"
    run(S.save_template, st, form)
    assert st.field_errors == {"Step 2, expected days": "Give a whole number."}
    assert st.error.startswith("The template was not saved: Step 2, expected days") and "Nothing was saved" in st.error
    assert "steps." not in st.error and st.version == version
