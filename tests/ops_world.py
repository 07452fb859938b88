"""A database of its own for the ops tower tests (exceptions, rules, tasks, workload): the demo seed's
configuration, companies and people, no generated shipments. Tests make the shipments they need with
``make_shipment`` so every count is known. Each test has a copy of its own (tests/quote_world.py)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from models import Company, Location, Milestone, Shipment, Team, User
from tests.quote_world import QuoteWorld, database_copy, fresh_pg_world, sqlite_world

T0 = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
_refs = itertools.count(1)


@pytest.fixture(scope="session")
def oworld_seeded() -> Iterator[QuoteWorld]:
    yield from sqlite_world("portal-ops")


@pytest.fixture(scope="session")
def pg_oworld_seeded() -> Iterator[QuoteWorld]:
    yield from fresh_pg_world("portal_ops")


@pytest.fixture()
def oworld(oworld_seeded: QuoteWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuoteWorld]:
    """The ops world for one test (a copy of the seeded one: the shipments a test makes are its own)."""
    yield from database_copy(oworld_seeded, tmp_path_factory)


@pytest.fixture()
def pg_oworld(pg_oworld_seeded: QuoteWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuoteWorld]:
    yield from database_copy(pg_oworld_seeded, tmp_path_factory)


def user_id(db: Session, email: str) -> int:
    return db.exec(select(User.id).where(User.email == email)).one()


def team_id(db: Session, name: str) -> int:
    return db.exec(select(Team.id).where(Team.name == name)).one()


def make_shipment(db: Session, *, company: str = "ACME", mode: str = "ocean_fcl", status: str = "in_transit",
                  owner: str | None = "agent@harborsky.example", team: str | None = "Ocean Import",
                  etd: datetime | None = None, eta: datetime | None = None, delay_hours: int = 0,
                  atd: datetime | None = None, ata: datetime | None = None, last_tracking_at: datetime | None = None,
                  incoterm: str = "FOB", dangerous: bool = False, customs_step: bool = True,
                  vessel: str | None = None, voyage: str | None = None) -> Shipment:
    """One shipment with planned, estimated and actual times as given (default: in transit, departed yesterday)."""
    company_id = db.exec(select(Company.id).where(Company.code == company)).one()
    origin, dest = db.exec(select(Location.id).limit(2)).all()
    etd = etd or T0 - timedelta(days=1)
    eta = eta or etd + timedelta(days=20)
    if atd is None and status not in ("booked", "confirmed", "cancelled"):
        atd = etd
    ref = f"OPS{uuid.uuid4().hex[:5].upper()}{next(_refs)}"[:20]
    s = Shipment(
        reference=ref, company_id=company_id, mode=mode, status=status, incoterm=incoterm, origin_id=origin,
        destination_id=dest, etd_planned=etd, eta_planned=eta, eta_estimated=eta + timedelta(hours=delay_hours),
        delay_minutes=delay_hours * 60, atd=atd, ata=ata, last_tracking_at=last_tracking_at,
        owner_id=user_id(db, owner) if owner else None, team_id=team_id(db, team) if team else None,
        is_dangerous_goods=dangerous, ready_date=date(2026, 11, 1), gross_weight_kg=Decimal("1000"),
        vessel_name=vessel, voyage_number=voyage, created_at=T0 - timedelta(days=10),
    )
    db.add(s)
    db.flush()
    steps = [("booking_confirmed", etd - timedelta(days=7)), ("vessel_departure", etd), ("vessel_arrival", eta)]
    if customs_step:
        steps.append(("customs_released", eta + timedelta(days=2)))
    steps.append(("delivered_to_consignee", eta + timedelta(days=4)))
    for seq, (code, at) in enumerate(steps, 1):
        db.add(Milestone(shipment_id=s.id, sequence=seq, code=code, name=code.replace("_", " "), planned_at=at,
                         actual_at=at if (code == "vessel_arrival" and ata) else None))
    db.commit()
    db.refresh(s)
    return s
