"""`python -m bench`: seed the scale data set and measure. Writes bench/results.json and prints a table.

Figures (name, value, unit):
- seed time for N shipments;
- the shipment-list API (HTTP through the real ASGI app, signed in as a customer and as staff) p50/p95;
- the same list queries run as raw SQL on the same database, p50/p95, beside it;
- from the running app (`make run` on the same database, see bench/live.py): shipment-list websocket events for
  one user, for 50 users at one event per second, capacity, server memory per session, the event's time over
  its raw SQL, JavaScript per page (gzip) and Lighthouse mobile scores;
- quote to booking (bench/quotes.py): pricing one request against 10,000 rate-card lanes, submitting a quote,
  accepting an option p50/p95, and 20 concurrent accepts of one option (the number of bookings made, must be 1);
- exception rules (bench/ops_rules.py): a full rule pass over the active shipments and the rules for one changed
  shipment p50/p95, and the first pass's reconciliation of the seeded exceptions.
- the tower (bench/tower.py): the KPI computation (90 days; all, and one customer and mode) and the board's
  filter mix (owner, team, customer, open exception, SLA breached or breaching) p50/p95.
- sign-in and help search (bench/sign_in.py): a wrong password and an unknown email p50/p95 and the ratio of their
  medians (one argon2 verification each, so near 1), and a customer's help-centre search p50/p95.
- exports (bench/exports.py): a 200,000-row shipment export as CSV and as Excel through the ASGI app, in a
  database of its own: time, size and the process's memory growth while it is written.
- carrier events (bench/carrier_events.py): signed DCSA 2.2 callbacks of 1,000 events naming the data set's
  shipments through the ASGI app, p50/p95 seconds per batch, and one voyage's arrival estimate reaching 300
  shipments (its time and the shipments it moved). It writes to the scale database, so it runs last.
- restart (bench/restart.py): `make run` twice from one build directory on a demo-seeded database of its own, the
  seconds from the second `make run` to serving (target 10 s), the first start's and the stop's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from bench.stats import percentile

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--shipments", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per measured API scenario")
    parser.add_argument("--reuse", action="store_true", help="reuse an existing scale database instead of re-seeding")
    parser.add_argument("--database-url", default=None, help="default: a SQLite file under bench/data/")
    parser.add_argument("--no-live", action="store_true", help="skip the figures that need the running app")
    parser.add_argument("--no-lighthouse", action="store_true", help="skip the Lighthouse runs")
    parser.add_argument("--no-quotes", action="store_true", help="skip the quote-to-booking figures")
    parser.add_argument("--no-rules", action="store_true", help="skip the exception-rule figures")
    parser.add_argument("--no-tower", action="store_true", help="skip the tower figures (KPIs, board filter)")
    parser.add_argument("--no-sign-in", action="store_true", help="skip the sign-in and help-search figures")
    parser.add_argument("--no-exports", action="store_true", help="skip the 200,000-row export figures")
    parser.add_argument("--no-carrier-events", action="store_true",
                        help="skip the carrier event figures (DCSA callback batches, a voyage's arrival)")
    parser.add_argument("--no-restart", action="store_true",
                        help="skip the restart figures (two `make run` starts on a database of their own)")
    args = parser.parse_args(argv)

    DATA.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{DATA / f'scale-{args.shipments}.db'}"
    os.environ["REFLEX_DB_URL"] = url
    os.environ["PORTAL_DATA_DIR"] = str(DATA)
    os.environ["PORTAL_LOGIN_IP_LIMIT"] = "100000"

    # Import after the environment is set: settings are read once.
    from bench import scenarios

    results: list[dict] = []
    if args.reuse and scenarios.has_data(url):
        print(f"Reusing {url}")
    else:
        seconds = scenarios.seed_fresh(url, args.shipments)
        results.append({"name": f"seed_{args.shipments}_shipments", "value": round(seconds, 1), "unit": "s"})

    timed = {
        **scenarios.measure_list_api(args.requests),
        **scenarios.measure_portal_services(),
        **scenarios.measure_raw_sql(args.requests),
    }
    values: list[tuple[str, float, str]] = []
    if not args.no_quotes:
        quote_timings, quote_values = scenarios.measure_quotes(args.requests)
        timed.update(quote_timings)
        values += quote_values
    if not args.no_rules:
        from bench.ops_rules import measure_rules

        rule_timings, rule_values = measure_rules()
        timed.update(rule_timings)
        values += rule_values
    if not args.no_tower:
        from bench.tower import measure_tower

        timed.update(measure_tower())
    if not args.no_sign_in:
        from bench.sign_in import measure_help_search, measure_sign_in

        sign_in_timings, sign_in_values = measure_sign_in()
        timed.update(sign_in_timings)
        timed.update(measure_help_search())
        values += sign_in_values
    if not args.no_exports:
        from bench.exports import measure_exports

        values += measure_exports()
    if not args.no_live:
        from bench.live import LiveOptions, measure_live

        live = measure_live(url, DATA, LiveOptions(lighthouse=not args.no_lighthouse))
        timed.update(live.timings)
        values += live.values
    if not args.no_restart:
        from bench.restart import measure_restart

        values += measure_restart().values()
    if not args.no_carrier_events:  # last: it adds events and moves milestones on the data it measures
        from bench.carrier_events import measure_carrier_events

        carrier_values, _outcomes = measure_carrier_events()
        values += carrier_values
    for name, timings in timed.items():
        results.append({"name": f"{name}_p50", "value": round(statistics.median(timings) * 1000, 2), "unit": "ms"})
        results.append({"name": f"{name}_p95", "value": round(percentile(timings, 95) * 1000, 2), "unit": "ms"})
    results += [{"name": name, "value": value, "unit": unit} for name, value, unit in values]

    meta = {
        "shipments": args.shipments,
        "database": url.split(":", 1)[0],
        "requests_per_scenario": args.requests,
        "python": sys.version.split()[0],
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (HERE / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    width = max(len(r["name"]) for r in results)
    print(f"\n{'figure'.ljust(width)}  {'value':>10}  unit")
    for r in results:
        print(f"{r['name'].ljust(width)}  {r['value']:>10}  {r['unit']}")
    print(f"\nWritten to {HERE / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
