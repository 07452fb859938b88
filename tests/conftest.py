"""Test configuration: every test session gets its own data directory and SQLite database.

The environment is set before the application is imported, exactly as an installation configures it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="portal-tests-"))
os.environ["PORTAL_DATA_DIR"] = str(_TMP / "data")
os.environ["REFLEX_DB_URL"] = f"sqlite:///{_TMP / 'data' / 'portal.db'}"
os.environ.setdefault("PORTAL_LOGIN_IP_LIMIT", "1000")
# Single sign-on: a fixed test key for the providers' client secrets, and the mock provider on loopback.
os.environ.setdefault("PORTAL_SSO_KEY", "dGVzdC1vbmx5LXNzby1rZXktMzItYnl0ZXMtbG9uZyE=")
os.environ.setdefault("PORTAL_SSO_ALLOW_LOOPBACK", "1")
(_TMP / "data").mkdir(parents=True, exist_ok=True)

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

import models  # noqa: E402
from portal_app.db import get_engine  # noqa: E402
from tests.factories import World, build_world  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_REFERENCE = PROJECT_ROOT.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def engine() -> sa.Engine:
    eng = get_engine()
    SQLModel.metadata.create_all(eng)
    return eng


@pytest.fixture(scope="session")
def world(engine: sa.Engine) -> World:
    """Two customer companies and the forwarder, one user per role, shipments with every kind of reference."""
    with Session(engine, expire_on_commit=False) as db:
        w = build_world(db)
        db.commit()
    return w


@pytest.fixture()
def db(engine: sa.Engine, world: World):
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture(autouse=True)
def _fresh_login_history(engine: sa.Engine):
    """Lockout counts failures per email; each test starts with no failed attempts on record."""
    with engine.begin() as conn:
        conn.execute(sa.delete(models.LoginAttempt))
    yield


# The browser tests' app and page (tests/browser_app.py). Separate databases for the quote and booking tests
# (bookings create shipments; see tests/quote_world.py) and for the ops tower tests (tests/ops_world.py).
from tests.browser_app import (  # noqa: E402,F401
    app_engine,
    app_url,
    page,
    shared_app,
    stop_after_last_user,
    uses_the_app,
)
from tests.config_world import cworld, cworld_seeded  # noqa: E402,F401
from tests.demo_world import demo, demo_seeded  # noqa: E402,F401
from tests.faults.fault_world import (  # noqa: E402,F401
    fault_app,
    fault_world,
    stop_after_last_fault_test,
    uses_fault_world,
)
from tests.ops_world import oworld, oworld_seeded, pg_oworld, pg_oworld_seeded  # noqa: E402,F401
from tests.quote_world import pg_qworld, pg_qworld_seeded, qworld, qworld_seeded  # noqa: E402,F401
from tests.scaled_app import (  # noqa: E402,F401
    scaled_app,
    scaled_browser,
    scaled_url,
    stop_scaled_after_last_user,
    uses_the_scaled_app,
)
from tests.tower_world import any_world, pg_tworld, pg_tworld_seeded, tworld, tworld_seeded  # noqa: E402,F401


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that use the browser tests' app run last, together, in the order they were collected; before them
    the tests of the scaled app (tests/scaled_app.py: PostgreSQL, Redis, two workers, nginx), together too.

    pytest-randomly (requirements-test.txt) shuffles the suite first: its hook wraps this one, so the order of the
    modules and of the tests in each module is still the seed's (``-p randomly --randomly-seed=N`` repeats it). The
    stable sort only moves the app's users after every other test: interleaved with the rest they would start and
    stop the app (most of a minute each time) once per module, since it stops when the next test does not need it.
    The fault tests' app on its private servers (tests/faults/fault_world.py) and the scaled app behind nginx
    (tests/scaled_app.py) are kept together the same way, each group before the browser tests, so no two apps run
    at once.
    """
    items.sort(key=lambda item: (uses_the_app(item), uses_the_scaled_app(item), uses_fault_world(item)))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """After a test's own teardown, the browser tests' app (and the fault tests' and the scaled one) stops once no
    later test needs it."""
    try:
        return (yield)
    finally:
        try:
            stop_after_last_fault_test(item, nextitem)
        finally:
            try:
                stop_scaled_after_last_user(item, nextitem)
            finally:
                stop_after_last_user(item, nextitem)
