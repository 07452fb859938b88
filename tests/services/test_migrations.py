"""Migrations apply from empty through `reflex db migrate` on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import models  # noqa: F401
from tests.paths import PROJECT_ROOT

ROOT = PROJECT_ROOT
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _migrate(url: str, data_dir: Path) -> None:
    env = {**os.environ, "REFLEX_DB_URL": url, "PORTAL_DATA_DIR": str(data_dir),
           "REFLEX_TELEMETRY_ENABLED": "false", "REFLEX_CHECK_LATEST_VERSION": "false"}
    reflex = Path(sys.executable).with_name("reflex")
    result = subprocess.run([str(reflex), "db", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=180, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _assert_schema_matches_models(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            assert set(SQLModel.metadata.tables) <= tables
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
            # Only structural differences count (tables, columns, indexes, constraints).
            structural = [d for d in diff if not (isinstance(d, list) and d and d[0][0] == "modify_nullable")]
            assert structural == [], f"models and migrations differ: run `reflex db makemigrations`: {structural}"
    finally:
        engine.dispose()


def test_migrations_from_empty_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    _migrate(url, tmp_path)
    _assert_schema_matches_models(url)
    _migrate(url, tmp_path)  # a second run is a no-op


def _postgres_available() -> bool:
    try:
        engine = sa.create_engine(PG_ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except sa.exc.OperationalError:
        return False


@pytest.fixture()
def pg_database():
    if not _postgres_available():
        if os.environ.get("PORTAL_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (PORTAL_REQUIRE_POSTGRES) but 127.0.0.1:5432 does not answer")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"portal_mig_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_migrations_from_empty_on_postgresql(pg_database, tmp_path):
    _migrate(pg_database, tmp_path)
    _assert_schema_matches_models(pg_database)
