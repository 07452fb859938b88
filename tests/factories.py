"""A small, fully known world for tests: companies, one user per role, locations and shipments."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from models import Company, Container, Location, Shipment, ShipmentReference, User
from models.enums import ReferenceKind, Role, ShipmentStatus
from portal_app.auth.passwords import hash_password
from portal_app.services.references import normalize_reference

PASSWORD = "test-Pass-1234"


def client_for(email: str, password: str = PASSWORD):
    """An API client of the app under test, signed in as ``email``."""
    from fastapi.testclient import TestClient

    from portal_app.api.app import build_api

    client = TestClient(build_api())
    assert client.post("/api/auth/login", json={"email": email, "password": password}).status_code == 200
    return client
_HASH: list[str] = []


def password_hash() -> str:
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    return _HASH[0]


@dataclass
class World:
    companies: dict[str, int] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)  # key: "<company>:<role>"
    shipments: dict[str, list[str]] = field(default_factory=dict)  # company code -> references
    references: dict[str, list[str]] = field(default_factory=dict)  # company code -> every searchable value


_counter = itertools.count(1)


def make_user(db: Session, company_id: int, role: Role, email: str, *, active: bool = True) -> User:
    user = User(
        email=email.lower(), full_name=email.split("@")[0].title(), role=role, company_id=company_id,
        password_hash=password_hash(), is_active=active,
    )
    db.add(user)
    db.flush()
    return user


def build_world(db: Session, shipments_per_company: int = 12) -> World:
    w = World()
    for code, name, kind in (("FWD", "Forwarder Ltd", "forwarder"), ("ALFA", "Alfa Imports", "customer"),
                             ("BETA", "Beta Trading", "customer")):
        c = Company(code=code, name=name, kind=kind)
        db.add(c)
        db.flush()
        w.companies[code] = c.id
    for role in (Role.OPS_AGENT, Role.OPS_MANAGER, Role.ADMIN):
        w.users[f"FWD:{role}"] = make_user(db, w.companies["FWD"], role, f"{role}@fwd.test")
    for code in ("ALFA", "BETA"):
        for role in (Role.CUSTOMER_USER, Role.CUSTOMER_ADMIN):
            w.users[f"{code}:{role}"] = make_user(db, w.companies[code], role, f"{role}@{code.lower()}.test")
    origin = Location(code="CNSHA", unlocode="CNSHA", name="Shanghai", country="CN", kind="seaport")
    dest = Location(code="NLRTM", unlocode="NLRTM", name="Rotterdam", country="NL", kind="seaport")
    db.add_all([origin, dest])
    db.flush()
    statuses = list(ShipmentStatus)
    modes = ["ocean_fcl", "ocean_lcl", "air", "road_ftl"]
    now = datetime(2026, 11, 1, tzinfo=UTC)
    for code in ("ALFA", "BETA"):
        w.shipments[code], w.references[code] = [], []
        for i in range(shipments_per_company):
            n = next(_counter)
            ref = f"SH{n:07d}"
            s = Shipment(
                reference=ref, company_id=w.companies[code], mode=modes[i % len(modes)],
                status=statuses[i % len(statuses)], origin_id=origin.id, destination_id=dest.id,
                booking_number=f"BK{code}{n:05d}", mbl_number=f"MBL{code}{n:05d}", customer_po=f"PO-{code}-{n:04d}",
                eta_planned=now + timedelta(days=i), eta_estimated=now + timedelta(days=i, hours=n % 5),
                updated_at=now + timedelta(minutes=n),
            )
            db.add(s)
            db.flush()
            container = f"{code[:3]}U{n:06d}0"
            db.add(Container(shipment_id=s.id, number=container, size_type="45G1"))
            refs = {
                ReferenceKind.SHIPMENT: ref,
                ReferenceKind.BOOKING: s.booking_number,
                ReferenceKind.MBL: s.mbl_number,
                ReferenceKind.CUSTOMER_PO: s.customer_po,
                ReferenceKind.CONTAINER: container,
            }
            for kind, value in refs.items():
                db.add(ShipmentReference(shipment_id=s.id, company_id=s.company_id, kind=kind,
                                         value=normalize_reference(value), display_value=value))
                w.references[code].append(value)
            w.shipments[code].append(ref)
    db.flush()
    return w
