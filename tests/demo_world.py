"""The demo data as `make run` seeds it (every demo company, person and shipment; no document files), for tests
that must hold on real rows rather than hand-made ones: what a customer is told after a staff change, and that
each figure equals the list it opens. Seeded once per run; each test has a copy of its own (tests/quote_world.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import seed
from tests.quote_world import QuoteWorld, database_copy, sqlite_world


@pytest.fixture(scope="session")
def demo_seeded() -> Iterator[QuoteWorld]:
    yield from sqlite_world("portal-demo", shipments=seed.DEFAULT_SHIPMENTS)


@pytest.fixture()
def demo(demo_seeded: QuoteWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuoteWorld]:
    """The demo world for one test (a copy of the seeded one)."""
    yield from database_copy(demo_seeded, tmp_path_factory)
