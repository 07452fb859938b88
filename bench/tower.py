"""Tower figures: the KPI computation and the board's filter (service calls, as a page's event runs them).

Part of `python -m bench` (skip with --no-tower). On its own, on a small data set, for a quick check:

    .venv/bin/python -m bench.tower --shipments 2000

seeds bench/data/tower-<N>.db once (reused later; --reseed starts over) and prints p50/p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAFF = "manager@harborsky.example"

# The board's filter mix: what an ops agent clicks through (owner, team, customer, exceptions, SLA).
BOARD_FILTERS: list[dict[str, str]] = [
    {},
    {"exception": "1"},
    {"sla": "breached"},
    {"sla": "breaching", "sla_hours": "24"},
    {"status": "in_transit", "exception": "1"},
    {"team": "1"},
    {"branch": "1", "status": "in_transit"},
    {"owner": "none"},
    {"customer": "ACME", "status": "in_transit"},
    {"customer": "NORD", "exception": "1"},
    {"mode": "air", "sla": "breached"},
]


def _timed(call, runs: int) -> list[float]:
    call()  # warm the database cache once
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def measure_tower(runs: int = 50) -> dict[str, list[float]]:
    """Timings (seconds) of the KPI computation (the page's default range of 30 days; 90 days; one customer and
    mode), of the customer-view audit it reads, and of the board's filter mix."""
    from sqlmodel import Session

    from bench.scenarios import principal_for
    from portal_app.db import get_engine
    from portal_app.services import board, clock, customer_view_audit, kpis

    engine = get_engine()
    out: dict[str, list[float]] = {}
    with Session(engine) as db:
        manager = principal_for(db, STAFF)
        today = clock.today()
        query = kpis.KpiQuery(since=today - timedelta(days=30), until=today)
        # The customer-view audit runs with the scheduled rule pass; the page reads its kept result.
        out["tower_customer_view_audit"] = _timed(lambda: customer_view_audit.run(db), 5)
        db.commit()
        out["tower_kpis"] = _timed(lambda: kpis.compute(db, manager, query), max(5, runs // 5))
        wide = kpis.KpiQuery(since=today - timedelta(days=90), until=today)
        out["tower_kpis_90_days"] = _timed(lambda: kpis.compute(db, manager, wide), max(5, runs // 5))
        out["tower_kpis_one_customer_mode"] = _timed(
            lambda: kpis.compute(db, manager, kpis.KpiQuery(query.since, query.until, mode="ocean_fcl",
                                                            customer="ACME")), max(5, runs // 5))
        filters = [board.BoardFilters.from_params(p, manager) for p in BOARD_FILTERS]
        timings: list[float] = []
        for i in range(runs * len(filters) // 4 or 1):
            f = filters[i % len(filters)]
            start = time.perf_counter()
            board.list_board(db, manager, f, page=1, page_size=25)
            timings.append(time.perf_counter() - start)
        out["tower_board_filter"] = timings
    return out


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tower", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shipments", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args(argv)
    data = HERE / "data"
    data.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{data / f'tower-{args.shipments}.db'}"
    os.environ["REFLEX_DB_URL"] = url
    os.environ["PORTAL_DATA_DIR"] = str(data)

    from bench import scenarios

    if args.reseed or not scenarios.has_data(url):
        print(f"Seeding {args.shipments} shipments into {url} ...", flush=True)
        scenarios.seed_fresh(url, args.shipments)
    for name, timings in measure_tower(args.runs).items():
        print(f"{name:32s} p50 {statistics.median(timings) * 1000:8.2f} ms   p95 {_pct(timings, 95) * 1000:8.2f} ms"
              f"   ({len(timings)} runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
