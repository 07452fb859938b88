"""A large shipment export streams in bounded memory, CSV and Excel alike.

30,000 rows of one customer (the demo seed without shipments plus plain rows inserted in bulk, in a database of
this module's own) are exported through the real ASGI app in a fresh Python process, which counts the body as it
arrives and throws it away, and samples its private memory (heap, not the mapped database file) meanwhile. A
writer that holds every row, as a DataFrame and a normal openpyxl workbook do, grows by about 185 MB at this size;
the streaming writers by about 10 MB, and that does not grow with the rows. `make bench` measures the same at
200,000 rows (bench/exports.py, docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

import seed
from bench.exports import FORMULA_PO, add_plain_shipments, run_in_fresh_process
from models import Shipment
from portal_app.db import make_engine, refresh_planner_statistics

ROWS = 30_000
BOUND_MB = 48


@dataclass(frozen=True)
class BigExport:
    url: str
    data_dir: Path
    engine: sa.Engine


@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BigExport]:
    """A database of this module's own holding ``ROWS`` shipments of Acme."""
    data_dir = tmp_path_factory.mktemp("export-memory")
    url = f"sqlite:///{data_dir / 'exports.db'}"
    engine = make_engine(url)
    seed.create_schema(engine)
    seed.run(engine, shipments=0, write_files=False)
    add_plain_shipments(engine, ROWS)
    refresh_planner_statistics(engine)
    yield BigExport(url, data_dir, engine)
    engine.dispose()


def test_the_rows_include_what_broke_exports(big_export):
    """Missing dates and formula-like text among the rows (a pandas frame once turned the first into NaT)."""
    with big_export.engine.connect() as conn:
        count = sa.select(sa.func.count()).select_from(Shipment)
        assert conn.execute(count).scalar_one() == ROWS
        assert conn.execute(count.where(Shipment.etd_planned.is_(None))).scalar_one() > 0
        assert conn.execute(count.where(Shipment.customer_po == FORMULA_PO)).scalar_one() > 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_large_export_streams_in_bounded_memory(big_export, fmt: str):
    run = run_in_fresh_process(big_export.url, big_export.data_dir, fmt)
    if fmt == "csv":
        assert run.lines == ROWS + 1  # the header and every row, nothing cut off
    else:
        assert run.bytes > 100_000
    assert run.memory_growth_mb < BOUND_MB, f"{fmt}: {run.memory_growth_mb:.1f} MB more at the peak for {ROWS} rows"
