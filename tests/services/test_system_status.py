"""The System page's figures (services/system_status.py, services/error_log.py): each one changes when the thing it
reports changes (the database's revision, Redis, a queued email, a rule pass that ran or failed, a backup written,
the customer-view audit, an unexpected API or page error); only staff administrators may read them; when the
database does not answer, nothing that needs it is guessed."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel

from models import AppSetting, EmailMessage, ErrorRecord
from portal_app import backup, maintenance, metrics, probes
from portal_app import settings as settings_module
from portal_app.api.errors import install_error_handlers
from portal_app.db import make_engine
from portal_app.services import clock, customer_view_audit, error_log, exception_rules, system_status
from portal_app.services.errors import PermissionDenied
from portal_app.ui import page_errors
from portal_app.ui.session import _observed
from tests.paths import PROJECT_ROOT
from tests.services.test_webhooks import principal_for

ADMIN = "admin@fwd.test"


@pytest.fixture()
def admin(db: Session):
    return principal_for(db, ADMIN)


@pytest.fixture()
def no_errors(engine: sa.Engine):
    with engine.begin() as conn:
        conn.execute(sa.delete(ErrorRecord))
    yield
    with engine.begin() as conn:
        conn.execute(sa.delete(ErrorRecord))


def _snap(db: Session, principal):
    db.expire_all()
    return system_status.snapshot(db, principal)


def test_only_staff_administrators_may_read_it(db: Session, admin):
    assert system_status.snapshot(db, admin).database.reachable
    for email in ("ops_manager@fwd.test", "ops_agent@fwd.test", "customer_admin@alfa.test",
                  "customer_user@alfa.test"):
        with pytest.raises(PermissionDenied) as refused:
            system_status.snapshot(db, principal_for(db, email))
        assert refused.value.code == "admin_only"


def test_version_is_the_projects_one(db: Session, admin):
    with open(PROJECT_ROOT / "pyproject.toml", "rb") as fh:
        expected = tomllib.load(fh)["project"]["version"]
    assert _snap(db, admin).version == expected == backup.app_version()


def test_database_kind_revision_and_head(tmp_path: Path, world, admin):
    engine = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    SQLModel.metadata.create_all(engine)
    head = system_status.code_head()
    assert head  # one head in alembic/versions
    try:
        with Session(engine) as db:
            state = system_status.snapshot(db, admin).database
            assert (state.kind, state.reachable, state.revision, state.at_head) == ("SQLite", True, None, False)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(sa.text("INSERT INTO alembic_version VALUES ('0000older000')"))
        with Session(engine) as db:
            state = system_status.snapshot(db, admin).database
            assert (state.revision, state.head, state.at_head) == ("0000older000", head, False)
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :h"), {"h": head})
        with Session(engine) as db:
            assert system_status.snapshot(db, admin).database.at_head is True
    finally:
        engine.dispose()


def test_an_unreachable_database_leaves_the_rest_unknown(tmp_path: Path, world, admin):
    engine = make_engine(f"sqlite:///{tmp_path / 'missing-folder' / 'portal.db'}")
    try:
        with Session(engine) as db:
            status = system_status.snapshot(db, admin)
    finally:
        engine.dispose()
    assert status.database.reachable is False and status.database.kind == "SQLite"
    assert status.queues is None and status.rule_pass is None and status.backup is None
    assert status.audit is None and status.errors is None and status.version


def test_redis_not_used_reachable_unreachable(db: Session, admin, monkeypatch: pytest.MonkeyPatch):
    assert _snap(db, admin).redis == "not_used"
    monkeypatch.setattr(settings_module, "settings",
                        replace(settings_module.settings, redis_url="redis://127.0.0.1:1/0"))
    assert _snap(db, admin).redis == "unreachable"
    monkeypatch.setattr(probes, "redis_ok", lambda url: True)
    assert _snap(db, admin).redis == "reachable"


def test_queues_count_what_waits_and_the_oldest_age(db: Session, admin):
    before = {q.queue: q for q in _snap(db, admin).queues or []}
    row = EmailMessage(to_address="queued-person@alfa.test", subject="Your shipment", body_text="hello",
                       status="queued", created_at=clock.now() - timedelta(hours=3))
    db.add(row)
    db.commit()
    try:
        after = {q.queue: q for q in _snap(db, admin).queues or []}
        assert after["email"].waiting == before["email"].waiting + 1
        assert after["email"].oldest_age_seconds >= 3 * 3600 - 5 and after["email"].oldest_at is not None
        assert after["webhook"].waiting == before["webhook"].waiting
        # The metrics scrape reads the same figure.
        assert 'portal_queue_depth{queue="email"} ' + f"{float(after['email'].waiting)}" in \
            metrics.render().decode()
    finally:
        db.delete(row)
        db.commit()


def test_the_last_rule_pass_is_kept_with_its_time_duration_and_result(oworld, admin,
                                                                        monkeypatch: pytest.MonkeyPatch):
    with oworld.session() as db:
        assert _snap(db, admin).rule_pass is None
    t0 = clock.now().replace(microsecond=0)
    result = maintenance.run_rule_pass(oworld.engine, t0)
    assert result is not None
    with oworld.session() as db:
        kept = _snap(db, admin).rule_pass
    assert kept is not None and kept.ok and kept.started_at == t0 and kept.seconds >= 0
    assert (kept.opened, kept.resolved, kept.present) == (result.opened, result.resolved, result.present)

    def broken(*args, **kwargs):
        raise RuntimeError("rules exploded")

    monkeypatch.setattr(exception_rules, "evaluate_all", broken)
    with pytest.raises(RuntimeError):
        maintenance.run_rule_pass(oworld.engine, t0 + timedelta(minutes=20))
    with oworld.session() as db:
        failed = _snap(db, admin).rule_pass
    assert failed is not None and not failed.ok and failed.error == "RuntimeError"
    assert failed.started_at == t0 + timedelta(minutes=20)


def test_a_backup_is_recorded_with_its_time_size_and_manifest(engine, db: Session, admin, tmp_path: Path):
    with engine.begin() as conn:
        conn.execute(sa.delete(AppSetting).where(AppSetting.key == system_status.BACKUP_SETTING))
    assert _snap(db, admin).backup is None
    archive = backup.create_backup(tmp_path / "out", database_url=str(engine.url), data_dir=tmp_path,
                                   files_dir=tmp_path / "files")
    manifest = backup.read_manifest(archive)
    kept = _snap(db, admin).backup
    assert kept is not None and kept.path == str(archive) and kept.size_bytes == archive.stat().st_size
    assert kept.created_at.isoformat() == manifest.created_at and kept.database_kind == "sqlite"
    assert kept.rows == sum(manifest.row_counts.values()) and kept.tables == len(manifest.row_counts)
    assert kept.app_version == manifest.app_version and kept.files == 0 and kept.keys_included == []


def test_the_customer_view_audit_shows_its_last_result(db: Session, admin):
    audit = customer_view_audit.run(db, clock.now())
    db.commit()
    kept = _snap(db, admin).audit
    assert kept is not None and kept.checked_at == audit.checked_at
    assert kept.counts == audit.counts and kept.total == sum(audit.counts.values())


def test_recent_errors_keep_the_newest_fifty(db: Session, admin, no_errors):
    assert _snap(db, admin).errors == []
    for n in range(error_log.KEEP + 5):
        error_log.record(db, "api", "GET /api/v1/shipments/{reference}", f"ID{n:06d}", "RuntimeError")
    db.commit()
    errors = _snap(db, admin).errors or []
    assert len(errors) == error_log.KEEP == db.exec(sa.select(sa.func.count()).select_from(ErrorRecord)).scalar()
    assert errors[0].error_id == f"ID{error_log.KEEP + 4:06d}" and errors[-1].error_id == "ID000005"


def test_an_api_failure_is_kept_with_its_route_and_error_id_only(db: Session, admin, no_errors):
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom/{thing}")
    def boom(thing: str) -> None:
        raise ValueError(f"secret customer text {thing}")

    resp = TestClient(app, raise_server_exceptions=False).get("/boom/ACME-REF-77",
                                                              headers={"X-Request-ID": "support-abc123"})
    assert resp.status_code == 500
    errors = _snap(db, admin).errors or []
    assert [(e.source, e.location, e.error_id, e.error_type) for e in errors] == [
        ("api", "GET /boom/{thing}", resp.headers["X-Request-ID"], "ValueError")]
    assert "ACME-REF-77" not in repr(errors) and "secret" not in repr(errors)


def test_a_page_failure_is_kept_with_its_handler_and_error_id(db: Session, admin, no_errors,
                                                               monkeypatch: pytest.MonkeyPatch):
    from types import SimpleNamespace

    monkeypatch.setattr(page_errors, "EventContext", SimpleNamespace(get=lambda: SimpleNamespace(token="tab-9")))
    monkeypatch.setattr(page_errors, "ProblemState", SimpleNamespace(show=lambda error_id: error_id))
    page_errors._last_banner.clear()
    with pytest.raises(KeyError) as caught, _observed("ShipmentListState.apply_filters"):
        raise KeyError("customer typed this")
    shown = page_errors.on_backend_exception(caught.value)
    errors = _snap(db, admin).errors or []
    assert [(e.source, e.location, e.error_id, e.error_type) for e in errors] == [
        ("page", "ShipmentListState.apply_filters", shown, "KeyError")]
    assert "typed" not in repr(errors)


def test_a_public_page_handler_is_named_from_its_frame(db: Session, admin, no_errors,
                                                       monkeypatch: pytest.MonkeyPatch):
    from types import SimpleNamespace

    from portal_app.portal import help as help_page
    from tests.page_states import run

    async def nobody(self):
        return None

    async def broken(*args, **kwargs):
        raise LookupError("search index gone")

    monkeypatch.setattr(help_page.HelpCentreState, "_identify", nobody)
    monkeypatch.setattr(help_page, "run_db", broken)
    monkeypatch.setattr(page_errors, "EventContext", SimpleNamespace(get=lambda: SimpleNamespace(token="tab-8")))
    monkeypatch.setattr(page_errors, "ProblemState", SimpleNamespace(show=lambda error_id: error_id))
    page_errors._last_banner.clear()
    st = help_page.HelpCentreState(_reflex_internal_init=True)
    with pytest.raises(LookupError) as caught:
        run(help_page.HelpCentreState.search, st, {"q": "where is my container"})
    shown = page_errors.on_backend_exception(caught.value)
    errors = _snap(db, admin).errors or []
    assert [(e.location, e.error_id, e.error_type) for e in errors] == [
        ("HelpCentreState.search", shown, "LookupError")]


def test_an_error_that_cannot_be_kept_does_not_raise(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from portal_app import db as database

    broken = make_engine(f"sqlite:///{tmp_path / 'missing-folder' / 'portal.db'}")
    monkeypatch.setattr(database, "get_engine", lambda url=None: broken)
    error_log.keep("api", "GET /x", "ABCDEF12", "RuntimeError")  # only a warning in the log
    broken.dispose()


def test_as_json_is_plain_json(db: Session, admin, no_errors):
    import json

    error_log.record(db, "page", "SomeState.save", "ABCDEF12", "RuntimeError")
    db.commit()
    data = system_status.as_json(_snap(db, admin))
    json.dumps(data)
    assert set(data) == {"version", "checked_at", "database", "redis", "queues", "rule_pass", "backup", "audit",
                         "errors"}
    assert data["errors"][0] == {"occurred_at": data["errors"][0]["occurred_at"], "source": "page",
                                 "location": "SomeState.save", "error_id": "ABCDEF12", "error_type": "RuntimeError"}
    assert data["database"]["kind"] == "SQLite"
