"""Command line: ``python -m seed --help``."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from seed.runner import DEFAULT_SEED, DEFAULT_SHIPMENTS, SeedError, run


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from exc


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m seed",
        description="Seed the portal database with deterministic demo data (or a large data set for load tests).",
    )
    parser.add_argument(
        "--shipments",
        type=_non_negative,
        default=DEFAULT_SHIPMENTS,
        help=f"number of shipments (default {DEFAULT_SHIPMENTS})",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument(
        "--today", type=_date, default=None, help="anchor date YYYY-MM-DD for all generated dates (default: today, UTC)"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL (default: REFLEX_DB_URL or the SQLite file in the data directory)",
    )
    parser.add_argument(
        "--if-empty", action="store_true", help="do nothing when the database already has data (used by `make run`)"
    )
    parser.add_argument("--reset", action="store_true", help="delete ALL rows of ALL tables before seeding")
    parser.add_argument("--quiet", action="store_true", help="print only the final line")
    parser.add_argument(
        "--rate-lanes",
        type=_non_negative,
        default=0,
        help="also add N generated rate-card lanes (load tests of quote pricing, e.g. 10000)",
    )
    args = parser.parse_args(argv)
    if args.reset and args.if_empty:
        parser.error("--reset and --if-empty contradict each other; use one of them")

    def log(msg: str) -> None:
        if not args.quiet or msg.startswith("database already"):
            print(msg, flush=True)

    try:
        summary = run(
            args.database_url,
            shipments=args.shipments,
            seed=args.seed,
            today=args.today,
            reset=args.reset,
            if_empty=args.if_empty,
            log=log,
        )
    except SeedError as exc:
        print(f"seed: {exc}. Nothing was written.", file=sys.stderr)
        return 2
    if summary.skipped:
        return 0
    if args.rate_lanes:
        from portal_app.db import get_engine
        from seed.rate_cards import add_rate_lanes

        lanes = add_rate_lanes(get_engine(args.database_url), args.rate_lanes, today=args.today)
        log(f"added {lanes} generated rate-card lanes")
    if not args.quiet:
        width = max(len(name) for name in summary.counts) if summary.counts else 0
        for name, count in summary.counts.items():
            print(f"  {name:<{width}}  {count:>9}")
        if summary.files_written:
            print(f"  {summary.files_written} demo document files written to private storage")
    print(
        f"Seeded {summary.shipments} shipments in {summary.elapsed_seconds:.1f} s ({summary.total_rows} rows)",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
