"""Moving an installation from SQLite to PostgreSQL (portal_app/db_move.py): the demo seed arrives whole, reads the
same through the services, takes new rows afterwards (sequences), and a target with data is refused untouched."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

import models
import seed
from portal_app import db_move
from portal_app.db import make_engine
from portal_app.services import finance, shipments
from portal_app.services.requests import open_request
from tests.paths import PROJECT_ROOT
from tests.quote_world import fresh_postgres_database, principal_for

pytestmark = pytest.mark.postgres
CUSTOMER = "alice@acme.example"


def migrated_sqlite(folder: Path) -> str:
    """A SQLite installation as `make run` makes it: migrated with alembic, then the demo seed (`python -m seed`)."""
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'portal.db'}"
    env = {**os.environ, "REFLEX_DB_URL": url, "PORTAL_DATA_DIR": str(folder)}
    alembic = str(Path(sys.executable).with_name("alembic"))
    subprocess.run([alembic, "-c", str(PROJECT_ROOT / "alembic.ini"), "upgrade", "head"], env=env, check=True,
                   capture_output=True, cwd=PROJECT_ROOT)
    subprocess.run([sys.executable, "-m", "seed", "--shipments", "40", "--today", "2026-11-10", "--quiet"], env=env,
                   check=True, capture_output=True, cwd=PROJECT_ROOT)
    return url


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = migrated_sqlite(tmp_path_factory.mktemp("move-source"))
    engine = make_engine(url)
    with engine.begin() as conn:  # a request merged into a LATER one: its row refers to a row copied after it
        first, later = conn.execute(sa.select(models.Ticket.id).order_by(models.Ticket.id).limit(2)).scalars().all()
        conn.execute(sa.update(models.Ticket).where(models.Ticket.id == first).values(merged_into_id=later))
    engine.dispose()
    return url


@pytest.fixture()
def pg_target() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    yield from fresh_postgres_database("portal_move")


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                    for t in SQLModel.metadata.sorted_tables}
    finally:
        engine.dispose()


def customer_view(url: str) -> tuple:
    """What the demo customer sees: the shipment list (every page), one shipment's detail, the invoices."""
    engine = make_engine(url)
    try:
        customer = principal_for(engine, CUSTOMER)
        with Session(engine, expire_on_commit=False) as db:
            page = shipments.list_shipments(db, customer, page_size=100)
            rows = [(r.reference, r.status, r.mode) for r in page.rows]
            detail = shipments.get_shipment(db, customer, page.rows[0].reference)
            milestones = [(m.code, m.actual_at) for m in detail.milestones]
            invoices = finance.list_invoices(db, customer)
            invoice_rows = [(i.number, i.total, i.balance) for i in invoices.rows]
        return page.total, rows, milestones, invoice_rows
    finally:
        engine.dispose()


def test_the_demo_seed_moves_to_postgresql_whole(source: str, pg_target: str, capsys: pytest.CaptureFixture):
    before = counts(source)
    assert db_move.main(["--from", source, "--to", pg_target, "--batch-size", "50"]) == 0
    said = capsys.readouterr().out
    assert "every table's row count matches the source" in said and "Moved sqlite:///" in said

    assert counts(pg_target) == before
    assert sum(before.values()) > 1000 and before["shipment"] == 40
    total, rows, milestones, invoices = customer_view(pg_target)
    assert total > 0 and invoices
    assert (total, rows, milestones, invoices) == customer_view(source)

    engine = make_engine(pg_target)
    try:
        with Session(engine) as db:
            merged = db.exec(select(models.Ticket).where(models.Ticket.merged_into_id.is_not(None))).one()
            assert merged.merged_into_id is not None and merged.merged_into_id > merged.id
        # New rows after the move get new ids (the sequences were moved past the copied ones).
        customer = principal_for(engine, CUSTOMER)
        highest = max(before["ticket"], 0)
        with Session(engine, expire_on_commit=False) as db:
            ticket = open_request(db, customer, category="tracking", subject="After the move", body="Still there?",
                                  shipment_reference=rows[0][0])
        assert ticket.id is not None and ticket.id > highest
        with engine.begin() as conn:
            for table in SQLModel.metadata.sorted_tables:
                pk = list(table.primary_key.columns)
                if len(pk) != 1 or not isinstance(pk[0].type, sa.Integer) or not before[table.name]:
                    continue
                sequence = conn.execute(sa.select(sa.func.pg_get_serial_sequence(table.name, pk[0].name))).scalar()
                if sequence is None:
                    continue
                top = conn.execute(sa.select(sa.func.max(pk[0]))).scalar()
                assert conn.execute(sa.select(sa.func.nextval(sequence))).scalar() > top, table.name
    finally:
        engine.dispose()


def test_a_target_with_data_is_refused_and_left_as_it_was(source: str, pg_target: str,
                                                          capsys: pytest.CaptureFixture):
    engine = make_engine(pg_target)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE company (id integer PRIMARY KEY, name text)"))
        conn.execute(sa.text("INSERT INTO company VALUES (1, 'Someone else')"))
    with pytest.raises(SystemExit) as stopped:
        db_move.main(["--from", source, "--to", pg_target])
    assert stopped.value.code == 2
    assert "not empty" in capsys.readouterr().err
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == ["company"]  # not migrated, not touched
        assert conn.execute(sa.text("SELECT name FROM company")).scalar_one() == "Someone else"
    engine.dispose()


def test_a_source_behind_the_migrations_is_refused(tmp_path: Path, pg_target: str):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    seed.create_schema(engine)  # tables, but no migration history
    seed.run(engine, shipments=1, today=date(2026, 11, 10), write_files=False)
    engine.dispose()
    with pytest.raises(db_move.MoveError, match="make migrate"):
        db_move.move(url, pg_target)
    check = sa.create_engine(pg_target)
    with check.connect() as conn:
        assert sa.inspect(conn).get_table_names() == []
    check.dispose()


def test_only_postgresql_targets_and_no_copy_onto_itself(source: str):
    with pytest.raises(db_move.MoveError, match="PostgreSQL"):
        db_move.move(source, "sqlite:///elsewhere.db")
    with pytest.raises(db_move.MoveError, match="same database"):
        db_move.move("postgresql+psycopg://postgres@127.0.0.1:5432/x", "postgresql+psycopg://postgres@127.0.0.1:5432/x")


def test_the_password_is_never_printed():
    assert "secret" not in db_move.shown("postgresql+psycopg://portal:secret@db:5432/portal")
