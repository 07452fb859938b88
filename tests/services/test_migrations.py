"""Migrations apply from empty through `reflex db migrate` on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import models  # noqa: F401
from tests.paths import PROJECT_ROOT
from tests.quote_world import fresh_postgres_database

ROOT = PROJECT_ROOT


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


@pytest.fixture()
def pg_database():
    """A new, empty PostgreSQL database, dropped afterwards."""
    yield from fresh_postgres_database("portal_mig")


@pytest.mark.postgres
def test_migrations_from_empty_on_postgresql(pg_database, tmp_path):
    _migrate(pg_database, tmp_path)
    _assert_schema_matches_models(pg_database)
