"""A database of its own for the quote and booking tests: the demo seed (places, carriers, templates, required
documents, SLA policies, exchange rates, demo companies and people, demo rate cards), no shipments.

Bookings made here create shipments; keeping them out of the shared test world leaves the other modules' counts
of shipments untouched.

The seeded database is made once per test run (``*_seeded`` fixtures, session scope) and every test gets a copy of
its own (``qworld`` and the other worlds, function scope): what one test writes no other test sees, in any order.
A SQLite copy is a page-by-page backup of a small file, a PostgreSQL copy a ``CREATE DATABASE ... TEMPLATE``.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

import seed
from models import Company, User
from models.enums import Role
from portal_app.api.app import build_api
from portal_app.api.deps import get_db
from portal_app.auth.principal import Principal
from portal_app.db import make_engine

DEMO_PASSWORD = seed.DEMO_PASSWORD
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass
class QuoteWorld:
    engine: sa.Engine
    alice: Principal  # ACME customer admin
    bob: Principal  # ACME customer user
    nina: Principal  # NORD customer admin
    agent: Principal  # ops agent
    manager: Principal  # ops manager

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def client(self, email: str, password: str = DEMO_PASSWORD) -> TestClient:
        """An API client signed in as ``email``, talking to this world's database."""
        api = build_api()

        def _db() -> Iterator[Session]:
            with Session(self.engine, expire_on_commit=False) as s:
                try:
                    yield s
                except BaseException:
                    s.rollback()
                    raise

        api.dependency_overrides[get_db] = _db
        client = TestClient(api)
        resp = client.post("/api/auth/login", json={"email": email, "password": password})
        assert resp.status_code == 200, resp.text
        return client


def principal_for(engine: sa.Engine, email: str) -> Principal:
    with Session(engine) as db:
        user = db.exec(select(User).where(User.email == email)).one()
        company = db.get(Company, user.company_id)
        return Principal(user.id, company.id, Role(user.role), user.email, user.full_name, company.name)


def build_quote_world(url: str, shipments: int = 0) -> QuoteWorld:
    engine = make_engine(url)
    seed.create_schema(engine)
    seed.run(engine, shipments=shipments, write_files=False)
    return QuoteWorld(
        engine=engine,
        alice=principal_for(engine, "alice@acme.example"),
        bob=principal_for(engine, "bob@acme.example"),
        nina=principal_for(engine, "nina@nordwind.example"),
        agent=principal_for(engine, "agent@harborsky.example"),
        manager=principal_for(engine, "manager@harborsky.example"),
    )


def sqlite_world(prefix: str, shipments: int = 0) -> Iterator[QuoteWorld]:
    """A world in a SQLite file of its own under a new temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    world = build_quote_world(f"sqlite:///{folder / 'world.db'}", shipments)
    yield world
    world.engine.dispose()


def sqlite_copy(seeded: QuoteWorld, folder: Path) -> Iterator[QuoteWorld]:
    """A copy of ``seeded``'s SQLite database in ``folder``, for one test; the same people (same ids)."""
    source, target = seeded.engine.url.database, folder / "world.db"
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    world = replace(seeded, engine=make_engine(f"sqlite:///{target}"))
    yield world
    world.engine.dispose()


def database_copy(seeded: QuoteWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuoteWorld]:
    """A copy of a seeded world for one test, on the seeded world's kind of database."""
    if seeded.engine.dialect.name == "sqlite":
        yield from sqlite_copy(seeded, tmp_path_factory.mktemp("world"))
    else:
        yield from pg_copy(seeded)


@pytest.fixture(scope="session")
def qworld_seeded() -> Iterator[QuoteWorld]:
    yield from sqlite_world("portal-quotes")


@pytest.fixture()
def qworld(qworld_seeded: QuoteWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuoteWorld]:
    """The quote world for one test (a copy of the seeded one)."""
    yield from database_copy(qworld_seeded, tmp_path_factory)


def postgres_available() -> bool:
    try:
        engine = sa.create_engine(PG_ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except sa.exc.OperationalError:
        return False


def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """A fixture body: the URL of a new, empty PostgreSQL database, dropped afterwards (skipped without PostgreSQL,
    failed when PORTAL_REQUIRE_POSTGRES says it must be there)."""
    if not postgres_available():
        if os.environ.get("PORTAL_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (PORTAL_REQUIRE_POSTGRES) but 127.0.0.1:5432 does not answer")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fresh_pg_world(prefix: str) -> Iterator[QuoteWorld]:
    """A seeded world on a new PostgreSQL database named ``<prefix>_<random>``, dropped afterwards; skips (or
    fails, with PORTAL_REQUIRE_POSTGRES) when the server does not answer."""
    if not postgres_available():
        if os.environ.get("PORTAL_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (PORTAL_REQUIRE_POSTGRES) but 127.0.0.1:5432 does not answer")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    world = build_quote_world(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    world.engine.dispose()
    try:
        yield world
    finally:
        world.engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def pg_copy(seeded: QuoteWorld) -> Iterator[QuoteWorld]:
    """A new PostgreSQL database made from ``seeded``'s as its template, for one test; dropped afterwards."""
    template = seeded.engine.url.database
    name = f"{template.rsplit('_', 1)[0]}_{uuid.uuid4().hex[:8]}"
    seeded.engine.dispose()  # a template database may have no sessions while it is copied
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    world = replace(seeded, engine=make_engine(seeded.engine.url.set(database=name).render_as_string(False)))
    try:
        yield world
    finally:
        world.engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_qworld_seeded() -> Iterator[QuoteWorld]:
    yield from fresh_pg_world("portal_quotes")


@pytest.fixture()
def pg_qworld(pg_qworld_seeded: QuoteWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuoteWorld]:
    """The same world on PostgreSQL, for one test (a database copied from the seeded one, dropped afterwards)."""
    yield from database_copy(pg_qworld_seeded, tmp_path_factory)


def start_fresh(db: Session, principal: Principal) -> None:
    """Discard the user's unfinished draft, if any, so a test starts from an empty form."""
    from portal_app.services import quotes

    draft = quotes.get_draft(db, principal)
    if draft is not None:
        quotes.discard_draft(db, principal, draft.reference)


def submitted(db: Session, principal: Principal, data: object) -> object:
    """Save ``data`` (a QuoteInput) as a new draft and submit it; returns the QuoteView."""
    from portal_app.services import quotes

    start_fresh(db, principal)
    quotes.save_draft(db, principal, data)
    return quotes.submit_quote(db, principal)


def add_card(db: Session, world: QuoteWorld, mode: str, origin: str, destination: str, currency: str,
             transit_days: int, charges: list[dict], *, carrier: str | None = None, valid_from: date | None = None,
             valid_to: date | None = None, active: bool = True,
             free_days: tuple[int | None, int | None] = (None, None)) -> int:
    """A rate card made through the service; ``charges`` are RateChargeInput fields (description defaults to the
    code), ``free_days`` its demurrage and detention free days. Valid from ten days ago for thirty days unless
    given. Returns its id."""
    from portal_app.services import clock, rate_cards

    today = clock.today()
    view = rate_cards.create_rate_card(db, world.manager, rate_cards.RateCardInput(
        mode=mode, origin=origin, destination=destination, valid_from=valid_from or today - timedelta(days=10),
        valid_to=valid_to or today + timedelta(days=30), currency=currency, transit_days=transit_days,
        carrier_code=carrier, demurrage_free_days=free_days[0], detention_free_days=free_days[1],
        charges=tuple(rate_cards.RateChargeInput(**{"description": c["code"], **c}) for c in charges),
    ))
    if not active:
        rate_cards.set_rate_card_active(db, world.manager, view.row.id, False)
    return view.row.id
