"""A database of its own for the tower tests (board, bulk actions, workspace, KPIs): the demo seed without
shipments, plus shipments each test makes with :func:`make_shipment`, so every figure is known by hand. Each test
has a copy of its own (tests/quote_world.py)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from models import (
    Company,
    Location,
    Milestone,
    MilestoneTemplate,
    MilestoneTemplateStep,
    Shipment,
    ShipmentReference,
)
from models.enums import ReferenceKind
from portal_app.services.references import normalize_reference
from tests.quote_world import QuoteWorld, database_copy, fresh_pg_world, sqlite_world

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
_serial = itertools.count(1)


@pytest.fixture(scope="session")
def tworld_seeded() -> Iterator[QuoteWorld]:
    yield from sqlite_world("portal-tower")


@pytest.fixture(scope="session")
def pg_tworld_seeded() -> Iterator[QuoteWorld]:
    yield from fresh_pg_world("portal_tower")


@pytest.fixture()
def tworld(tworld_seeded: QuoteWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuoteWorld]:
    """The tower world for one test (a copy of the seeded one: the shipments a test makes are its own)."""
    yield from database_copy(tworld_seeded, tmp_path_factory)


@pytest.fixture()
def pg_tworld(pg_tworld_seeded: QuoteWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuoteWorld]:
    yield from database_copy(pg_tworld_seeded, tmp_path_factory)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_world(request) -> QuoteWorld:
    """The SQLite world, then the PostgreSQL one (skipped when PostgreSQL is not running)."""
    return request.getfixturevalue("tworld" if request.param == "sqlite" else "pg_tworld")


def company_id(db: Session, code: str) -> int:
    return db.exec(select(Company.id).where(Company.code == code)).one()


def make_shipment(db: Session, *, company: str = "ACME", mode: str = "ocean_fcl", status: str = "in_transit",
                  origin: str = "CNSHA", destination: str = "NLRTM", vessel: str | None = None,
                  voyage: str | None = None, flight: str | None = None, etd: datetime = T0,
                  transit_days: int = 20, atd: datetime | None = None, ata: datetime | None = None,
                  **extra: object) -> Shipment:
    """A shipment with the mode's template milestones: departure at ``etd``, arrival ``transit_days`` later."""
    n = next(_serial)
    loc = {code: db.exec(select(Location.id).where(Location.code == code)).one() for code in (origin, destination)}
    eta = etd + timedelta(days=transit_days)
    s = Shipment(reference=f"TMP{uuid.uuid4().hex[:10]}", company_id=company_id(db, company), mode=mode,
                 status=status, origin_id=loc[origin], destination_id=loc[destination], vessel_name=vessel,
                 voyage_number=voyage, flight_number=flight, etd_planned=etd, eta_planned=eta, eta_estimated=eta,
                 atd=atd, ata=ata, customer_po=f"PO-T-{n}", **extra)
    db.add(s)
    db.flush()
    s.reference = f"SH{s.id:07d}"
    db.add(ShipmentReference(shipment_id=s.id, company_id=s.company_id, kind=ReferenceKind.SHIPMENT.value,
                             value=normalize_reference(s.reference), display_value=s.reference))
    template = db.exec(select(MilestoneTemplate).where(MilestoneTemplate.mode == mode)).first()
    steps = db.exec(select(MilestoneTemplateStep).where(MilestoneTemplateStep.template_id == template.id)
                    .order_by(MilestoneTemplateStep.sequence)).all()
    origin_steps = [st for st in steps if st.anchor == "origin"]
    for i, step in enumerate(steps, start=1):
        if step.anchor == "origin":
            planned = etd - timedelta(days=len(origin_steps) - origin_steps.index(step) - 1)
            loc_id = loc[origin]
        else:
            planned = eta + timedelta(days=i - len(origin_steps) - 1)
            loc_id = loc[destination]
        actual = None
        if atd and step.anchor == "origin":
            actual = atd - (etd - planned)
        if ata and step.anchor != "origin" and planned <= eta:
            actual = ata
        db.add(Milestone(shipment_id=s.id, sequence=i, code=step.code, name=step.name, event_code=step.event_code,
                         location_id=loc_id, planned_at=planned, actual_at=actual,
                         customer_visible=step.customer_visible))
    db.commit()
    db.refresh(s)
    return s
