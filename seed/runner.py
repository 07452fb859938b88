"""Orchestration: check the database, build static rows, then shipments in chunks, then usage data."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from portal_app.db import refresh_planner_statistics
from seed import activity, carrier_demo, reference_data, static_rows
from seed.generate import ShipmentGenerator, _midnight
from seed.org_data import DEMO_PASSWORD
from seed.writer import Batch, IdAllocator, has_data, has_schema, reset_database, sync_sequences

DEFAULT_SHIPMENTS = 300
DEFAULT_SEED = 42
CHUNK_SIZE = 5000
WRITE_FILES_MAX_SHIPMENTS = 2000


class SeedError(RuntimeError):
    """The seed cannot run (no schema, or data present without --reset); the message says what to do."""


@dataclass
class SeedSummary:
    shipments: int
    seed: int
    today: date
    elapsed_seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    files_written: int = 0
    skipped: bool = False
    database: str = ""

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())


def _engine(engine_or_url: sa.Engine | str | None) -> sa.Engine:
    if isinstance(engine_or_url, sa.Engine):
        return engine_or_url
    from portal_app.db import get_engine

    return get_engine(engine_or_url)


_PASSWORD_HASH_CACHE: dict[str, str] = {}


def _password_hash() -> str:
    """argon2 is deliberately slow: hash the demo password once per process and reuse it for every user."""
    if DEMO_PASSWORD not in _PASSWORD_HASH_CACHE:
        from portal_app.auth.passwords import hash_password

        _PASSWORD_HASH_CACHE[DEMO_PASSWORD] = hash_password(DEMO_PASSWORD)
    return _PASSWORD_HASH_CACHE[DEMO_PASSWORD]


def run(
    engine_or_url: sa.Engine | str | None = None,
    shipments: int = DEFAULT_SHIPMENTS,
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    *,
    reset: bool = False,
    if_empty: bool = False,
    files_dir: Path | str | None = None,
    write_files: bool | None = None,
    chunk_size: int = CHUNK_SIZE,
    log: Callable[[str], None] | None = None,
    check_rows: bool = False,
) -> SeedSummary:
    """Seed the database with demo data: reference data, configuration, the demo companies and accounts,
    ``shipments`` shipments with everything around them, and usage data.

    ``today`` anchors every date (default: today's UTC date). ``files_dir`` is the private storage root for
    demo document files (default ``settings.files_dir``); files are written only when ``write_files`` is
    true, which by default means at most 2,000 shipments. Raises ``SeedError`` when the schema is missing or
    the database already has data and neither ``reset`` nor ``if_empty`` is given.
    """
    started = time.perf_counter()
    say = log or (lambda _msg: None)
    engine = _engine(engine_or_url)
    today = today or datetime.now(UTC).date()
    if shipments < 0:
        raise SeedError("the number of shipments cannot be negative")
    summary = SeedSummary(
        shipments=0,
        seed=seed,
        today=today,
        elapsed_seconds=0.0,
        database=engine.url.render_as_string(hide_password=True),
    )

    if not has_schema(engine):
        raise SeedError(f"the database {summary.database} has no tables; create them first with `reflex db migrate`")
    if if_empty and has_data(engine):
        summary.skipped = True
        summary.elapsed_seconds = time.perf_counter() - started
        say("database already has data, not seeding")
        if carrier_demo.ensure_demo_connection(engine, _midnight(today)):
            say("the demo carrier connection was added (there is now a key to encrypt its secret)")
        return summary
    if reset:
        reset_database(engine, say)
    elif has_data(engine):
        raise SeedError(
            "the database already has data; use --reset to delete everything and seed again, "
            "or --if-empty to skip seeding when data exists"
        )

    if files_dir is None:
        from portal_app.settings import settings

        files_dir = settings.files_dir
    files_dir = Path(files_dir)
    if write_files is None:
        write_files = shipments <= WRITE_FILES_MAX_SHIPMENTS

    rng = random.Random(seed)
    now = _midnight(today)
    ids = IdAllocator()
    ref = reference_data.load()
    ctx = static_rows.StaticContext()
    batch = Batch()

    say(f"seeding {shipments} shipments into {summary.database} (seed {seed}, today {today.isoformat()})")
    static_rows.add_reference_rows(ref, ids, batch, ctx)
    article_ids = static_rows.add_config_rows(ids, batch, now)
    static_rows.add_org_rows(ids, batch, ctx, now, _password_hash(), rng)
    static_rows.add_rate_cards(ids, batch, ctx, today, now)
    activity.add_logins(ids, batch, ctx, now, rng)
    static_rows.add_help_searches(ids, batch, ctx, now, rng, article_ids)
    with engine.begin() as conn:
        batch.flush(conn, check=check_rows)
    say(f"reference data, configuration and {len(ctx.users)} users written")

    gen = ShipmentGenerator(rng, seed, ids, ctx, ref, today, files_dir=files_dir, write_files=write_files)
    done = 0
    chunk_size = max(1, chunk_size)
    while done < shipments:
        n = min(chunk_size, shipments - done)
        for _ in range(n):
            gen.shipment(batch)
        rows = batch.pending()
        with engine.begin() as conn:
            batch.flush(conn, check=check_rows)
        done += n
        say(f"  {done:>7} / {shipments} shipments ({rows} rows in this chunk, {time.perf_counter() - started:.1f} s)")

    gen.standalone_quotes(batch, 30 + shipments // 40)
    activity.add_usage(ids, batch, ctx, now, rng, gen.sample_refs)
    with engine.begin() as conn:
        batch.flush(conn, check=check_rows)
    sync_sequences(engine)
    if carrier_demo.ensure_demo_connection(engine, now):
        say("the demo carrier connection written (seed/carrier_demo.py)")
    refresh_planner_statistics(engine)

    summary.shipments = shipments
    summary.counts = dict(sorted(batch.counts.items()))
    summary.files_written = gen.files_written
    summary.elapsed_seconds = time.perf_counter() - started
    return summary
