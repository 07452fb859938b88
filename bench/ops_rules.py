"""The exception rules on the scale data set: a full pass over every active shipment (the scheduled job) and the
rules for one changed shipment (what every milestone, ETA or document change runs).

The first full pass reconciles the seeded exceptions with the rules as configured and is reported on its own
(`rules_first_pass`); the timed passes after it are the steady state the schedule sees. Targets: full pass <= 5 s,
one shipment <= 20 ms, on 100,000 shipments.

Quick run on a small data set (seeds bench/data/scale-2000.db on first use, about half a minute):

    .venv/bin/python -m bench.ops_rules --shipments 2000
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from bench.stats import percentile

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"


def measure_rules(passes: int = 5, shipments: int = 200) -> tuple[dict[str, list[float]], list[tuple[str, float, str]]]:
    """Timings of full passes and of one-shipment evaluations, plus the first pass and what it found."""
    import sqlalchemy as sa
    from sqlmodel import Session, select

    from models import Shipment
    from portal_app.db import get_engine
    from portal_app.services import clock, exception_rules

    timings: dict[str, list[float]] = {"rules_full_pass": [], "rules_one_shipment": []}
    with Session(get_engine(), expire_on_commit=False) as db:
        first = exception_rules.evaluate_all(db, clock.now())
        values = [("rules_first_pass", round(first.seconds * 1000, 1), "ms"),
                  ("rules_first_pass_opened", first.opened, "exceptions"),
                  ("rules_first_pass_resolved", first.resolved, "exceptions"),
                  ("rules_causes_present", first.present, "causes")]
        for _ in range(passes):
            start = time.perf_counter()
            exception_rules.evaluate_all(db, clock.now())
            timings["rules_full_pass"].append(time.perf_counter() - start)
        active = db.exec(select(Shipment.id).where(Shipment.status.in_(("in_transit", "confirmed", "arrived")))
                         .order_by(sa.func.random()).limit(shipments)).all()
        for sid in active:
            start = time.perf_counter()
            exception_rules.evaluate_shipment(db, sid, clock.now())
            timings["rules_one_shipment"].append(time.perf_counter() - start)
    return timings, values



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ops_rules", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shipments", type=int, default=2000)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file under bench/data/")
    args = parser.parse_args(argv)
    DATA.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{DATA / f'scale-{args.shipments}.db'}"
    os.environ["REFLEX_DB_URL"] = url
    os.environ["PORTAL_DATA_DIR"] = str(DATA)
    from bench import scenarios

    if scenarios.has_data(url):
        print(f"Reusing {url}")
    else:
        print(f"Seeding {args.shipments} shipments into {url} ...")
        print(f"seeded in {scenarios.seed_fresh(url, args.shipments):.1f} s")
    timings, values = measure_rules(args.passes)
    for name, runs in timings.items():
        print(f"{name}_p50  {statistics.median(runs) * 1000:10.2f} ms")
        print(f"{name}_p95  {percentile(runs, 95) * 1000:10.2f} ms")
    for name, value, unit in values:
        print(f"{name}  {value:>10} {unit}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
