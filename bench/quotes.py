"""Quote-to-booking figures: pricing one request against 10,000 rate-card lanes, submitting a quote, accepting
an option into a booking, and 20 concurrent accepts of one option (must make exactly one booking).

    python -m bench.quotes [--lanes 10000] [--runs 200] [--database-url URL] [--reuse]

Without ``--database-url`` it builds ``bench/data/quotes.db`` (the demo seed with 300 shipments plus the
generated lanes) and writes ``bench/quote_results.json``. :func:`measure_quotes` is the same measurement for
another harness on an already seeded database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

from bench.stats import percentile

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
CUSTOMER = "alice@acme.example"
COLLEAGUE = "bob@acme.example"



def _principal(db, email: str):
    import sqlalchemy as sa

    import models
    from portal_app.auth.principal import Principal

    user = db.exec(sa.select(models.User).where(models.User.email == email)).one()[0]
    company = db.get(models.Company, user.company_id)
    return Principal(user.id, company.id, models.enums.Role(user.role), user.email, user.full_name, company.name)


def ensure_lanes(engine, lanes: int) -> int:
    """Top the rate cards up to ``lanes`` generated lanes; returns the number of rate cards in the database."""
    import sqlalchemy as sa

    from seed.rate_cards import add_rate_lanes

    with engine.connect() as conn:
        generated = conn.execute(sa.text("SELECT count(*) FROM ratecard WHERE notes = 'Generated lane'")).scalar()
    if generated < lanes:
        add_rate_lanes(engine, lanes - generated, seed=7 + generated)
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM ratecard")).scalar())


def _request_for(db, rng: random.Random, card):
    """An unsaved request on a live card's lane with cargo that suits its mode."""
    from decimal import Decimal

    from models import QuoteCargoLine, QuoteRequest
    from portal_app.services import clock

    q = QuoteRequest(reference="BENCH", company_id=0, requested_by_id=0, mode=card.mode, origin_id=card.origin_id,
                     destination_id=card.destination_id, ready_date=max(card.valid_from, clock.today()),
                     incoterm="FCA", services='["insurance"]', cargo_value=Decimal(50000), cargo_currency="USD")
    if card.mode == "ocean_fcl":
        lines = [QuoteCargoLine(quote_request_id=0, container_size_type=rng.choice(["22G1", "45G1"]),
                                container_count=rng.randint(1, 3), weight_kg=Decimal(18000))]
    else:
        lines = [QuoteCargoLine(quote_request_id=0, packages=rng.randint(1, 12), length_cm=Decimal(120),
                                width_cm=Decimal(80), height_cm=Decimal(rng.randint(60, 160)),
                                weight_kg=Decimal(rng.randint(50, 4000)))]
    return q, lines


def measure_quotes(runs: int = 200, seed: int = 11) -> tuple[dict[str, list[float]], list[tuple[str, float, str]]]:
    """Timings (seconds) and plain values for the quote-to-booking scenarios on the configured database."""
    import sqlalchemy as sa
    from sqlmodel import Session, select

    from models import RateCard
    from portal_app.db import get_engine
    from portal_app.services import bookings, clock, quotes

    rng = random.Random(seed)
    engine = get_engine()
    timings: dict[str, list[float]] = {"quote_price_one_request": [], "quote_submit": [], "booking_accept": []}
    values: list[tuple[str, float, str]] = []
    with Session(engine, expire_on_commit=False) as db:
        today = clock.today()
        live = db.exec(select(RateCard).where(RateCard.is_active.is_(True), RateCard.valid_to >= today,
                                              RateCard.valid_from <= today)).all()
        values.append(("quote_rate_cards_in_database", float(db.exec(
            select(sa.func.count()).select_from(RateCard)).one()), "cards"))
        per_usd = quotes.exchange_rates(db)
        # 1. pricing one request (candidate cards by indexed lane, their charges in one query, priced in Python)
        for _ in range(5):
            quotes.price_request(db, *_request_for(db, rng, rng.choice(live)), per_usd)
        priced_options = 0
        for _ in range(runs):
            q, lines = _request_for(db, rng, rng.choice(live))
            start = time.perf_counter()
            priced = quotes.price_request(db, q, lines, per_usd)
            timings["quote_price_one_request"].append(time.perf_counter() - start)
            priced_options += len(priced)
        values.append(("quote_price_options_per_request", round(priced_options / runs, 2), "options"))
        # 2. submit a quote as the customer (validation, pricing, options written) and 3. accept one option
        alice = _principal(db, CUSTOMER)
        demo = [c for c in live if c.notes != "Generated lane"] or live
        booking = bookings.BookingInput(shipper_name="Bench Shipper Ltd", consignee_name="Bench Consignee GmbH",
                                         cargo_description="Bench cargo", cargo_confirmed=True)
        for n in range(max(20, runs // 4)):
            card = rng.choice(demo)
            q, lines = _request_for(db, rng, card)
            draft = quotes.get_draft(db, alice)
            if draft is not None:
                quotes.discard_draft(db, alice, draft.reference)
            data = quotes.QuoteInput(
                mode=card.mode, origin=_code(db, card.origin_id), destination=_code(db, card.destination_id),
                ready_date=max(card.valid_from, today + timedelta(days=3)), incoterm="FCA",
                lines=tuple(quotes.CargoLineInput(packages=ln.packages, length_cm=ln.length_cm, width_cm=ln.width_cm,
                                                  height_cm=ln.height_cm, weight_kg=ln.weight_kg,
                                                  container_size_type=ln.container_size_type,
                                                  container_count=ln.container_count) for ln in lines))
            quotes.save_draft(db, alice, data)
            start = time.perf_counter()
            view = quotes.submit_quote(db, alice)
            timings["quote_submit"].append(time.perf_counter() - start)
            if not view.options:
                continue
            with Session(engine, expire_on_commit=False) as fresh:
                start = time.perf_counter()
                bookings.accept_option(fresh, alice, view.options[0].id, booking, idempotency_key=f"bench-{n}-{start}")
                timings["booking_accept"].append(time.perf_counter() - start)
        # 4. twenty concurrent accepts of one option, each thread with its own session
        bob = _principal(db, COLLEAGUE)
        card = rng.choice(demo)
        q, lines = _request_for(db, rng, card)
        draft = quotes.get_draft(db, alice)
        if draft is not None:
            quotes.discard_draft(db, alice, draft.reference)
        quotes.save_draft(db, alice, quotes.QuoteInput(
            mode=card.mode, origin=_code(db, card.origin_id), destination=_code(db, card.destination_id),
            ready_date=max(card.valid_from, today + timedelta(days=3)), incoterm="FCA",
            lines=tuple(quotes.CargoLineInput(packages=ln.packages, length_cm=ln.length_cm, width_cm=ln.width_cm,
                                              height_cm=ln.height_cm, weight_kg=ln.weight_kg,
                                              container_size_type=ln.container_size_type,
                                              container_count=ln.container_count) for ln in lines)))
        option_id = quotes.submit_quote(db, alice).options[0].id
    made, errors, elapsed = concurrent_accepts(engine, option_id, alice, bob, booking)
    values += [("concurrent_accepts_20_bookings_made", float(made), "bookings"),
               ("concurrent_accepts_20_errors", float(errors), "errors"),
               ("concurrent_accepts_20_elapsed", round(elapsed * 1000, 1), "ms")]
    return timings, values


def _code(db, location_id: int) -> str:
    from models import Location

    return db.get(Location, location_id).code


def concurrent_accepts(engine, option_id: int, alice, bob, booking, n: int = 20) -> tuple[int, int, float]:
    """``n`` threads accept one option at once (half with one shared key, half with their own). Returns the
    number of shipments made for the option, the number of calls that failed, and the wall time."""
    from sqlmodel import Session, select

    from models import Shipment
    from portal_app.services import bookings

    barrier = threading.Barrier(n)
    run = uuid.uuid4().hex[:8]  # keys unique to this run: a reused database keeps earlier runs' bookings
    failures: list[Exception] = []

    def worker(i: int) -> None:
        with Session(engine, expire_on_commit=False) as db:
            barrier.wait()
            try:
                bookings.accept_option(db, alice if i % 2 else bob, option_id, booking,
                                       idempotency_key=f"bench-same-{run}" if i < n // 2 else f"bench-tab-{run}-{i}")
            except Exception as exc:  # noqa: BLE001 (counted and reported)
                failures.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    with Session(engine) as db:
        made = len(db.exec(select(Shipment.id).where(Shipment.quote_option_id == option_id)).all())
    for exc in failures:  # what went wrong, on the console beside the figure
        print(f"concurrent accept failed: {type(exc).__name__}: {str(exc)[:300]}", file=sys.stderr)
    return made, len(failures), elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quotes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lanes", type=int, default=10_000, help="generated rate-card lanes (default 10000)")
    parser.add_argument("--runs", type=int, default=200, help="pricing runs (submit/accept use a quarter)")
    parser.add_argument("--database-url", default=None, help="default: bench/data/quotes.db (SQLite)")
    parser.add_argument("--reuse", action="store_true", help="reuse a seeded database instead of building it")
    args = parser.parse_args(argv)
    DATA.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{DATA / 'quotes.db'}"
    os.environ["REFLEX_DB_URL"] = url
    os.environ.setdefault("PORTAL_DATA_DIR", str(DATA))

    import sqlalchemy as sa

    import seed
    import seed.writer
    from portal_app.db import get_engine

    engine = get_engine(url)
    if not (args.reuse and seed.writer.has_schema(engine) and seed.has_data(engine)):
        from sqlmodel import SQLModel

        SQLModel.metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        seed.create_schema(engine)
        seed.run(engine, shipments=300, write_files=False)
    start = time.perf_counter()
    cards = ensure_lanes(engine, args.lanes)
    print(f"{cards} rate cards ({time.perf_counter() - start:.1f} s to add lanes)", flush=True)
    timings, values = measure_quotes(args.runs)
    results = []
    for name, series in timings.items():
        if series:
            results.append({"name": f"{name}_p50", "value": round(statistics.median(series) * 1000, 2), "unit": "ms"})
            results.append({"name": f"{name}_p95", "value": round(percentile(series, 95) * 1000, 2), "unit": "ms"})
    results += [{"name": n, "value": v, "unit": u} for n, v, u in values]
    meta = {"database": url.split(":", 1)[0], "lanes": args.lanes, "runs": args.runs,
            "python": sys.version.split()[0], "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (HERE / "quote_results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    width = max(len(r["name"]) for r in results)
    for r in results:
        print(f"{r['name'].ljust(width)}  {r['value']:>10}  {r['unit']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
