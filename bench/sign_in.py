"""Sign-in and the help centre's search on the scale data set: figures a test cannot assert on a shared machine.

- ``sign_in_wrong_password`` and ``sign_in_unknown_email`` (p50/p95): one sign-in with a wrong password for an
  existing person, and one for an email nobody has. Both pay one argon2 verification (the unknown email against a
  stand-in hash), so an answer's time does not tell whether the email exists: ``sign_in_unknown_over_known``, the
  ratio of their medians, stays near 1 (well inside 0.4-2.5). Each attempt uses a new email, or a person's first
  failure, so no pause or answer delay (auth/sign_in_limits.py) enters the figures.
- ``help_search`` (p50/p95): a customer's help-centre search over the published articles, index already built
  (target: under 50 ms).

Quick run on a small data set (seeds bench/data/scale-2000.db on first use, about half a minute):

    .venv/bin/python -m bench.sign_in --shipments 2000
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
import uuid
from pathlib import Path

from bench.stats import percentile

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
QUESTION = "can I change the delivery address"


def measure_sign_in(attempts: int = 20) -> tuple[dict[str, list[float]], list[tuple[str, float, str]]]:
    """Timings of failed sign-ins (an existing person's wrong password, an unknown email) and their ratio."""
    from sqlmodel import Session, select

    from models import User
    from portal_app.auth import sessions
    from portal_app.db import get_engine
    from portal_app.services.errors import ServiceError

    timings: dict[str, list[float]] = {"sign_in_wrong_password": [], "sign_in_unknown_email": []}
    run = uuid.uuid4().hex[:8]
    with Session(get_engine(), expire_on_commit=False) as db:
        people = db.exec(select(User.email).where(User.is_active).order_by(User.id).limit(attempts)).all()
        for i, email in enumerate(people):
            for name, who in (("sign_in_wrong_password", email),
                              ("sign_in_unknown_email", f"nobody-{run}-{i}@example.invalid")):
                start = time.perf_counter()
                with contextlib.suppress(ServiceError):  # the refusal is the answer being timed
                    sessions.login(db, who, f"not-the-password-{run}", ip="192.0.2.10")
                timings[name].append(time.perf_counter() - start)
    ratio = statistics.median(timings["sign_in_unknown_email"]) / statistics.median(timings["sign_in_wrong_password"])
    return timings, [("sign_in_unknown_over_known", round(ratio, 2), "x")]


def measure_help_search(searches: int = 50) -> dict[str, list[float]]:
    """Timings of one customer's help-centre search, after a first search has built the index."""
    from sqlmodel import Session

    from bench.scenarios import CUSTOMER, principal_for
    from portal_app.db import get_engine
    from portal_app.services import help_centre

    timings: dict[str, list[float]] = {"help_search": []}
    with Session(get_engine(), expire_on_commit=False) as db:
        customer = principal_for(db, CUSTOMER[0])
        help_centre.search_articles(db, None, "warm up", record=False)
        for _ in range(searches):
            start = time.perf_counter()
            help_centre.search_articles(db, customer, QUESTION, record=False)
            timings["help_search"].append(time.perf_counter() - start)
    return timings



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sign_in", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shipments", type=int, default=2000)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file under bench/data/")
    args = parser.parse_args(argv)
    DATA.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{DATA / f'scale-{args.shipments}.db'}"
    os.environ["REFLEX_DB_URL"] = url
    os.environ["PORTAL_DATA_DIR"] = str(DATA)
    os.environ["PORTAL_LOGIN_IP_LIMIT"] = "100000"
    from bench import scenarios

    if scenarios.has_data(url):
        print(f"Reusing {url}")
    else:
        print(f"Seeding {args.shipments} shipments into {url} ...")
        print(f"seeded in {scenarios.seed_fresh(url, args.shipments):.1f} s")
    timings, values = measure_sign_in()
    timings.update(measure_help_search())
    for name, runs in timings.items():
        print(f"{name}_p50  {statistics.median(runs) * 1000:10.2f} ms")
        print(f"{name}_p95  {percentile(runs, 95) * 1000:10.2f} ms")
    for name, value, unit in values:
        print(f"{name}  {value:>10} {unit}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
