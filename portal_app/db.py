"""One engine per process, built from settings. Services receive a Session; they never create engines."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlmodel import Session, SQLModel

from portal_app.settings import settings


class _SQLiteCompiler(SQLiteCompiler):
    """Renders ``Select.with_hint(table, "INDEXED BY ix_name", dialect_name="sqlite")``, which SQLAlchemy's own
    SQLite compiler drops (see ``ShipmentFilters.sqlite_index``)."""

    def get_from_hint_text(self, table: sa.FromClause, text: str) -> str:
        return text


def make_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        engine.dialect.statement_compiler = _SQLiteCompiler

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: object) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            # Read the file through memory mapping rather than a read() per page: index probes over the
            # million-row milestone table cost a system call each otherwise (see docs/decisions.md).
            cur.execute(f"PRAGMA mmap_size={max(0, settings.sqlite_mmap_mb) * 1024 * 1024}")
            cur.close()

        @event.listens_for(engine, "savepoint")
        def _savepoint_inside_a_transaction(conn: sa.Connection, _name: str) -> None:
            """Python's sqlite3 opens a transaction only before a write. A SAVEPOINT sent first (a savepoint as the
            transaction's first write) would open one of its own, which its RELEASE commits: a later rollback of
            the session would leave that savepoint's rows written. Open the transaction first."""
            raw = conn.connection.driver_connection
            if raw is not None and not raw.in_transaction:
                raw.execute("BEGIN")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def insert_rows(db: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    """Write ``rows`` (each with the same keys: :func:`models.base.row_values`) of ``model``'s table with one INSERT,
    in the session's transaction, without flushing what else the session holds. Added to the session one by one,
    the ORM writes each row in a statement of its own (to learn its id), which is most of the time of a batch."""
    if rows:
        db.connection().execute(sa.insert(model.__table__), list(rows))  # type: ignore[attr-defined]


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> sa.Engine:
    return make_engine(url or settings.database_url)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error (nothing half-written)."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def refresh_planner_statistics(engine: sa.Engine | None = None) -> None:
    """Give the query planner row counts and index spread (``ANALYZE``).

    Without them SQLite plans a reference search by walking the company's whole shipment index instead of the
    handful of matching references (3 ms instead of 0.03 ms at 100,000 shipments). SQLite samples at most
    1,000 rows per index (a few tens of milliseconds); PostgreSQL's own autovacuum keeps its statistics, so
    this runs there only when asked for after bulk loads.
    """
    engine = engine or get_engine()
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")
        conn.exec_driver_sql("ANALYZE")


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached or dropped the connection (a restart, a failover, a
    full pool), rather than that a statement was wrong. The transaction did not commit, so nothing was saved, and
    the same action can simply be tried again: the pool checks each connection before use (``pool_pre_ping``) and
    replaces the ones a restart cut."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError | sa.exc.TimeoutError)


def database_error_text(exc: BaseException) -> str:
    """The driver's own words for a database error, on one line, for the log."""
    return " ".join(str(getattr(exc, "orig", None) or exc).split())[:500]


def database_ok() -> bool:
    try:
        with get_engine().connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.SQLAlchemyError:
        return False
