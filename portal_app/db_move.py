"""Move an installation's database from SQLite to PostgreSQL.

    python -m portal_app.db_move --to postgresql+psycopg://user:pass@host:5432/portal [--from sqlite:///...]
    make move-to-postgres TO=postgresql+psycopg://user:pass@host:5432/portal [FROM=sqlite:///...]

``--from`` defaults to the installation's database (REFLEX_DB_URL, by default the SQLite file in the data
directory). In order, and saying what it did:

1. checks the source is at this release's latest migration (otherwise `make migrate` it first) and has no tables
   the models do not know;
2. refuses a target that has rows in any table (it never merges); an empty database, or one that `make migrate`
   already migrated and that holds no rows, is accepted;
3. migrates the target to the latest migration (alembic, as `make migrate` does);
4. copies every table in foreign-key order (parents first), in batches, in ONE transaction on the target: a
   failure anywhere leaves the target migrated and empty, as it was after step 3. The source is read in one
   transaction too, so the copy is one consistent moment of it. Values go through the models' column types, so
   dates, decimals, booleans and JSON arrive as PostgreSQL's own types. A column that refers to its own table
   (a ticket merged into another) is filled in after all of the table's rows are in;
5. moves every id sequence past the highest copied id, so new rows get new ids;
6. counts the rows of every table on both sides and fails (exit status 1) on any difference.

Stop the app first (`make run`'s process): rows written during the move would stay behind in the source. The
uploaded files and the key files stay where they are, in PORTAL_DATA_DIR; keep it, and the keys, when the app is
started again with REFLEX_DB_URL pointing at PostgreSQL. See docs/operations.md, "Moving from SQLite to PostgreSQL".
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

BATCH_SIZE = 1000
MIGRATIONS_TABLE = "alembic_version"


class MoveError(Exception):
    """The move cannot go ahead or failed; the message says why and what state the target is in."""


@dataclass
class MoveReport:
    source: str
    target: str
    revision: str
    row_counts: dict[str, int] = field(default_factory=dict)
    sequences_reset: int = 0
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.row_counts.values())


def shown(url: str) -> str:
    """A URL fit to print: the password hidden."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _metadata() -> sa.MetaData:
    from sqlmodel import SQLModel

    import models  # noqa: F401  (every table registers itself)

    return SQLModel.metadata


def _engine(url: str) -> sa.Engine:
    """A plain engine; a SQLite source reads in one transaction (``BEGIN``), so every batch sees the same moment."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url, poolclass=sa.pool.NullPool)
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:" or not Path(database).is_file():
        raise MoveError(f"The source database file {database or url} does not exist; check --from / REFLEX_DB_URL.")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_conn: object, _record: object) -> None:
        dbapi_conn.isolation_level = None  # type: ignore[attr-defined]  # we say BEGIN ourselves

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def _table_names(conn: sa.Connection) -> set[str]:
    return set(sa.inspect(conn).get_table_names())


def _count(conn: sa.Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _revisions(conn: sa.Connection) -> set[str]:
    if MIGRATIONS_TABLE not in _table_names(conn):
        return set()
    return {row[0] for row in conn.execute(sa.text(f"SELECT version_num FROM {MIGRATIONS_TABLE}"))}


def _filled_tables(conn: sa.Connection) -> list[str]:
    quote = conn.dialect.identifier_preparer.quote
    filled = []
    for name in sorted(_table_names(conn) - {MIGRATIONS_TABLE}):
        if conn.execute(sa.text(f"SELECT 1 FROM {quote(name)} LIMIT 1")).first() is not None:
            filled.append(name)
    return filled


# --------------------------------------------------------------------------- the steps


def check_source(conn: sa.Connection, metadata: sa.MetaData, head: set[str]) -> None:
    current = _revisions(conn)
    if current != head:
        raise MoveError(
            f"The source database is at migration {', '.join(sorted(current)) or '(none)'}, this release's "
            f"migrations end at {', '.join(sorted(head))}. Run `make migrate` with REFLEX_DB_URL set to the source "
            "first. Nothing was changed.")
    unknown = sorted(_table_names(conn) - set(metadata.tables) - {MIGRATIONS_TABLE})
    if unknown:
        raise MoveError(f"The source has tables this release's models do not know ({', '.join(unknown)}); move it "
                        "with the release that made them. Nothing was changed.")


def check_target_empty(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            filled = _filled_tables(conn)
    except sa.exc.OperationalError as exc:
        raise MoveError(f"Cannot connect to the target {shown(url)} ({exc.orig}). Create the database first, e.g. "
                        "`createdb -h host -U user portal`. Nothing was changed.") from None
    finally:
        engine.dispose()
    if filled:
        more = f" and {len(filled) - 5} more" if len(filled) > 5 else ""
        raise MoveError(f"The target {shown(url)} is not empty: it has rows in {', '.join(filled[:5])}{more}. "
                        "Move into a new, empty database; nothing is ever merged. Nothing was changed.")


def migrate_target(url: str) -> None:
    """``alembic upgrade head`` on the target, in a process of its own (alembic/env.py reads REFLEX_DB_URL)."""
    from portal_app.settings import PROJECT_ROOT

    alembic = Path(sys.executable).with_name("alembic")
    env = {**os.environ, "REFLEX_DB_URL": url}
    result = subprocess.run([str(alembic), "-c", str(PROJECT_ROOT / "alembic.ini"), "upgrade", "head"],
                            env=env, capture_output=True, text=True, check=False, cwd=PROJECT_ROOT)
    if result.returncode != 0:
        raise MoveError(f"Migrating the target {shown(url)} failed:\n{result.stderr.strip()[-3000:]}")


def _self_references(table: sa.Table) -> list[sa.Column]:
    return [fk.parent for fk in table.foreign_keys if fk.column.table is table]


def _batches(source: sa.Connection, table: sa.Table, batch_size: int) -> Iterator[list[dict]]:
    keys = [c.key for c in table.columns]
    query = sa.select(table).order_by(*table.primary_key.columns)
    result = source.execution_options(yield_per=batch_size).execute(query)
    for partition in result.partitions():
        yield [dict(zip(keys, row, strict=True)) for row in partition]


def copy_table(source: sa.Connection, target: sa.Connection, table: sa.Table, batch_size: int) -> int:
    """Every row of ``table``; a column pointing at the same table is set after all rows are in."""
    later = _self_references(table)
    pk = list(table.primary_key.columns)
    pending: list[dict] = []
    copied = 0
    for rows in _batches(source, table, batch_size):
        for row in rows:
            refs = {c.key: row[c.key] for c in later if row[c.key] is not None}
            if refs:
                pending.append({**{f"pk_{c.key}": row[c.key] for c in pk}, **{f"v_{k}": v for k, v in refs.items()}})
                row.update(dict.fromkeys(refs))
        target.execute(table.insert(), rows)
        copied += len(rows)
    for column in later:
        updates = [p for p in pending if f"v_{column.key}" in p]
        if updates:
            condition = sa.and_(*(c == sa.bindparam(f"pk_{c.key}") for c in pk))
            statement = table.update().where(condition).values({column.key: sa.bindparam(f"v_{column.key}")})
            target.execute(statement, updates)
    return copied


def reset_sequences(target: sa.Connection, tables: list[sa.Table]) -> int:
    """Each id sequence's next value just past the table's highest id."""
    reset = 0
    for table in tables:
        for column in table.primary_key.columns:
            sequence = target.execute(sa.select(sa.func.pg_get_serial_sequence(table.name, column.name))).scalar()
            if sequence is None:
                continue
            highest = target.execute(sa.select(sa.func.max(column))).scalar()
            target.execute(sa.select(sa.func.setval(sequence, highest or 1, highest is not None)))
            reset += 1
    return reset


def verify_counts(source_url: str, target_url: str, tables: list[sa.Table]) -> tuple[dict[str, int], list[str]]:
    """Row counts of the source, and every table whose count on the target differs."""
    counts: dict[str, int] = {}
    problems: list[str] = []
    source_engine, target_engine = _engine(source_url), sa.create_engine(target_url, poolclass=sa.pool.NullPool)
    try:
        with source_engine.connect() as src, target_engine.connect() as dst:
            for table in tables:
                counts[table.name] = expected = _count(src, table)
                actual = _count(dst, table)
                if actual != expected:
                    problems.append(f"{table.name}: {actual} rows in the target, {expected} in the source")
    finally:
        source_engine.dispose()
        target_engine.dispose()
    return counts, problems


def move(
    source_url: str,
    target_url: str,
    *,
    batch_size: int = BATCH_SIZE,
    say: Callable[[str], None] = lambda _m: None,
) -> MoveReport:
    """Copy the source database into an empty PostgreSQL target (the module's docstring has the steps)."""
    from portal_app.prestart import script_heads
    from portal_app.settings import PROJECT_ROOT

    started = time.monotonic()
    if not target_url.startswith("postgresql"):
        raise MoveError(f"The target must be a PostgreSQL URL (postgresql+psycopg://...), not {shown(target_url)}.")
    if sa.engine.make_url(source_url) == sa.engine.make_url(target_url):
        raise MoveError("The source and the target are the same database.")
    metadata = _metadata()
    head = script_heads(PROJECT_ROOT / "alembic" / "versions")
    source_engine = _engine(source_url)
    try:
        with source_engine.connect() as conn:
            check_source(conn, metadata, head)
    finally:
        source_engine.dispose()
    check_target_empty(target_url)
    say(f"Target {shown(target_url)} is empty. Migrating it to {', '.join(sorted(head))}...")
    migrate_target(target_url)
    check_target_empty(target_url)  # a migration that seeds rows would make the copy collide

    tables = list(metadata.sorted_tables)
    report = MoveReport(shown(source_url), shown(target_url), ", ".join(sorted(head)))
    source_engine = _engine(source_url)
    target_engine = sa.create_engine(target_url, poolclass=sa.pool.NullPool)
    try:
        with source_engine.connect() as src, src.begin(), target_engine.connect() as dst, dst.begin():
            for table in tables:
                try:
                    copied = copy_table(src, dst, table, batch_size)
                except sa.exc.SQLAlchemyError as exc:
                    raise MoveError(
                        f"Copying table {table.name} failed, so nothing was copied (the target is migrated and "
                        f"empty, as before): {getattr(exc, 'orig', exc)}") from None
                if copied:
                    say(f"  {table.name}: {copied} rows")
            report.sequences_reset = reset_sequences(dst, tables)
    finally:
        source_engine.dispose()
        target_engine.dispose()
    report.row_counts, problems = verify_counts(source_url, target_url, tables)
    report.seconds = time.monotonic() - started
    if problems:
        raise MoveError("The copy was committed but the row counts differ: " + "; ".join(problems))
    return report


# --------------------------------------------------------------------------- command line


@contextmanager
def _reported() -> Iterator[None]:
    try:
        yield
    except MoveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2 if "Nothing was changed" in str(exc) else 1) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal_app.db_move", description=__doc__.split("\n")[0])
    parser.add_argument("--from", dest="source", default=None,
                        help="the database to copy (default: REFLEX_DB_URL, the installation's own)")
    parser.add_argument("--to", dest="target", required=True,
                        help="an empty PostgreSQL database, e.g. postgresql+psycopg://user:pass@host:5432/portal")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=f"rows per insert (default {BATCH_SIZE})")
    args = parser.parse_args(argv)
    if args.source is None:
        from portal_app.settings import settings

        args.source = settings.database_url
    with _reported():
        report = move(args.source, args.target, batch_size=max(1, args.batch_size), say=lambda m: print(m, flush=True))
    print(f"Moved {report.source} to {report.target} in {report.seconds:.1f} s: migrated the target to "
          f"{report.revision}, copied {report.rows} rows in {len(report.row_counts)} tables in foreign-key order "
          f"(batches of {args.batch_size}), moved {report.sequences_reset} id sequences past the copied ids, and "
          "every table's row count matches the source.")
    print(f"Next: stop using the source, set REFLEX_DB_URL={report.target} (with its password) where the app is "
          "started, keep PORTAL_DATA_DIR (uploaded files, key files) as it is, and start the app again.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
