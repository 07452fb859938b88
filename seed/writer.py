"""Bulk writing for the seed: pre-assigned ids, rows as plain dicts, SQLAlchemy Core executemany per table.

Rows are collected per table and flushed in foreign-key order (``SQLModel.metadata.sorted_tables``), one
transaction per flush, so a chunk of 5,000 shipments with all their children costs one round of executemany
calls and no per-row ORM work.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on SQLModel.metadata)


def tables() -> list[sa.Table]:
    """Every table of the product, parents before children."""
    return list(SQLModel.metadata.sorted_tables)


_TABLES: dict[str, sa.Table] = {t.name: t for t in SQLModel.metadata.sorted_tables}
_ORDER: dict[str, int] = {t.name: i for i, t in enumerate(SQLModel.metadata.sorted_tables)}
# Columns whose default is a function (a clock): leaving them out would make the seed non-deterministic.
_CALLABLE_DEFAULTS: dict[str, set[str]] = {
    t.name: {c.name for c in t.columns if c.default is not None and callable(getattr(c.default, "arg", None))}
    for t in SQLModel.metadata.sorted_tables
}


class IdAllocator:
    """Hands out integer primary keys so that children can reference parents before anything is inserted."""

    def __init__(self, start: dict[str, int] | None = None) -> None:
        self._next: dict[str, int] = defaultdict(lambda: 1)
        if start:
            self._next.update(start)

    def next(self, table: str) -> int:
        value = self._next[table]
        self._next[table] = value + 1
        return value

    def peek(self, table: str) -> int:
        return self._next[table]


class Batch:
    """Rows waiting to be inserted, grouped by table name."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, table: str, row: dict) -> None:
        self.rows[table].append(row)

    def extend(self, table: str, rows: Iterable[dict]) -> None:
        self.rows[table].extend(rows)

    def pending(self) -> int:
        return sum(len(v) for v in self.rows.values())

    def flush(self, conn: sa.Connection, *, check: bool = False) -> None:
        """Insert everything collected so far, parents first, then forget it."""
        for name in sorted(self.rows, key=_ORDER.__getitem__):
            rows = self.rows[name]
            if not rows:
                continue
            if check:
                _check_rows(name, rows)
            conn.execute(_TABLES[name].insert(), rows)
            self.counts[name] += len(rows)
        self.rows.clear()


def _check_rows(name: str, rows: list[dict]) -> None:
    keys = rows[0].keys()
    missing = _CALLABLE_DEFAULTS[name] - set(keys)
    if missing:
        raise AssertionError(f"seed rows for {name} leave clock-defaulted columns unset: {sorted(missing)}")
    unknown = set(keys) - set(_TABLES[name].columns.keys())
    if unknown:
        raise AssertionError(f"seed rows for {name} have unknown columns: {sorted(unknown)}")
    for row in rows:
        if row.keys() != keys:
            raise AssertionError(
                f"seed rows for {name} do not all have the same columns: {sorted(set(row) ^ set(keys))}"
            )


def create_schema(engine: sa.Engine) -> None:
    """Create every table (for tests and scratch databases; real installations use ``reflex db migrate``)."""
    SQLModel.metadata.create_all(engine)


def has_schema(engine: sa.Engine) -> bool:
    return sa.inspect(engine).has_table("company")


def has_data(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.literal(1)).select_from(_TABLES["company"]).limit(1)).first() is not None


def reset_database(engine: sa.Engine, log: Callable[[str], None] | None = None) -> None:
    """Delete every row of every table, children first. Migrations' own bookkeeping table is left alone."""
    ordered = list(reversed(tables()))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(engine.dialect.identifier_preparer.quote(t.name) for t in ordered)
            conn.execute(sa.text(f"TRUNCATE TABLE {names} RESTART IDENTITY"))
        else:
            for table in ordered:
                conn.execute(table.delete())
    if log:
        log(f"deleted all rows of {len(ordered)} tables")


def max_ids(engine: sa.Engine) -> dict[str, int]:
    """The next free id of every table with an integer ``id`` primary key."""
    result: dict[str, int] = {}
    with engine.connect() as conn:
        for table in tables():
            if "id" in table.c and [c.name for c in table.primary_key.columns] == ["id"]:
                top = conn.execute(sa.select(sa.func.max(table.c.id))).scalar()
                result[table.name] = (top or 0) + 1
    return result


def sync_sequences(engine: sa.Engine) -> None:
    """After inserting explicit ids, move PostgreSQL's id sequences past them (SQLite needs nothing)."""
    if engine.dialect.name != "postgresql":
        return
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as conn:
        for table in tables():
            if [c.name for c in table.primary_key.columns] != ["id"]:
                continue
            seq = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
            if not seq:
                continue
            conn.execute(
                sa.text(f"SELECT setval(:seq, COALESCE((SELECT MAX(id) FROM {quote(table.name)}), 0) + 1, false)"),
                {"seq": seq},
            )
