"""The tower's System page (its state, with the session check stubbed to a known principal): an administrator sees
every section filled in; other staff get the configuration pages' refusal and no figures; "Read again" reads the
figures anew; the section links of every configuration page lead to it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from models import ErrorRecord
from portal_app.services import error_log
from portal_app.tower import config_base
from portal_app.tower.system import SystemFacts, SystemState, age_words, size_words
from portal_app.ui import routes
from portal_app.version import app_version
from tests.page_states import run, state_as, use_db
from tests.services.test_webhooks import principal_for


@pytest.fixture()
def on_db(engine: sa.Engine, world, monkeypatch: pytest.MonkeyPatch):
    use_db(monkeypatch, engine)
    with engine.begin() as conn:
        conn.execute(sa.delete(ErrorRecord))
    yield
    with engine.begin() as conn:
        conn.execute(sa.delete(ErrorRecord))


def test_an_administrator_sees_every_section(on_db, db: Session, monkeypatch):
    st = state_as(monkeypatch, SystemState, principal_for(db, "admin@fwd.test"), routes.TOWER_SYSTEM)
    run(SystemState.load, st)
    assert not st.denied and st.loaded
    assert st.facts.version == app_version() and st.facts.db_kind == "SQLite" and st.facts.db_reachable == "Yes"
    assert st.facts.redis.startswith("Not used") and st.verdicts.redis.text == "Not used"
    assert [q.queue for q in st.queues] == ["Emails", "Webhook deliveries"]
    assert st.errors == [] and st.verdicts.errors.text == "None"
    assert st.facts.rule_when and st.facts.backup_when and st.facts.audit_when

    error_log.record(db, "api", "GET /api/v1/shipments/{reference}", "5EC0FFEE", "RuntimeError")
    db.commit()
    run(SystemState.refresh, st)
    assert [(e.source, e.location, e.error_id, e.error_type) for e in st.errors] == [
        ("API", "GET /api/v1/shipments/{reference}", "5EC0FFEE", "RuntimeError")]
    assert st.verdicts.errors.text == "1 recent" and st.notice.startswith("Read again")


@pytest.mark.parametrize("email", ["ops_manager@fwd.test", "ops_agent@fwd.test"])
def test_other_staff_get_the_refusal_and_no_figures(on_db, db: Session, monkeypatch, email):
    st = state_as(monkeypatch, SystemState, principal_for(db, email), routes.TOWER_SYSTEM)
    run(SystemState.load, st)
    assert st.denied and not st.loaded and st.facts == SystemFacts() and st.queues == [] and st.errors == []
    run(SystemState.refresh, st)
    assert st.denied and not st.loaded and st.facts == SystemFacts()


def test_a_customer_is_refused_the_tower(on_db, db: Session, monkeypatch):
    st = state_as(monkeypatch, SystemState, principal_for(db, "customer_admin@alfa.test"), routes.TOWER_SYSTEM)
    run(SystemState.load, st)
    assert st.auth_status == "forbidden" and not st.loaded and st.facts == SystemFacts()


def test_the_configuration_sections_link_to_it():
    assert ("System", routes.TOWER_SYSTEM) in config_base.SECTIONS


def test_ages_and_sizes_read_as_words():
    assert [age_words(s) for s in (5, 125, 3 * 3600 + 300, 7200, 86400, 2 * 86400 + 3 * 3600)] == \
        ["5 s", "2 min", "3 h 5 min", "2 h", "1 day", "2 days 3 h"]
    assert [size_words(n) for n in (900, 2048, 5 * 1024 * 1024)] == ["900 bytes", "2.0 KB", "5.0 MB"]
