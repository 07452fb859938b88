"""An installation made by the first release keeps its data through every migration since.

A database is migrated to the initial schema only (``alembic upgrade e475cbc4a1a4``), filled with raw SQL written
for that schema (a forwarder and a customer, their users, a shipment with milestones, a document, an invoice with
lines, one of them with its tax rate in percent as the early API stored it), upgraded to head, and read back through
the services. Every new migration must keep this test green (docs/architecture.md, "A table").
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from portal_app.db import make_engine
from portal_app.services import documents, finance, shipments
from tests.paths import PROJECT_ROOT
from tests.quote_world import fresh_postgres_database, principal_for

FIRST_REVISION = "e475cbc4a1a4"
REFERENCE = "SHUPG0001"
INVOICE = "INV-UPG-0001"


def alembic(url: str, data_dir: Path, *args: str) -> str:
    env = {**os.environ, "REFLEX_DB_URL": url, "PORTAL_DATA_DIR": str(data_dir)}
    cmd = [str(Path(sys.executable).with_name("alembic")), "-c", str(PROJECT_ROOT / "alembic.ini"), *args]
    result = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _insert(conn: sa.Connection, table: str, **values: object) -> int:
    values = {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}  # sqlite3 binds no Decimal
    names = ", ".join(values)
    marks = ", ".join(f":{k}" for k in values)
    statement = sa.text(f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING id")
    return int(conn.execute(statement, values).scalar_one())


def fill_initial_schema(conn: sa.Connection, ts: str) -> None:
    """Representative rows, written for the initial schema's columns (not the models of today)."""
    stamps = {"created_at": ts, "updated_at": ts, "version": 1}
    fwd = _insert(conn, "company", code="FWD", name="Harbor Forwarding", kind="forwarder", country="DE",
                  billing_currency="EUR", payment_terms_days=30, is_active=True, **stamps)
    acme = _insert(conn, "company", code="ACME", name="Acme Imports", kind="customer", country="NL",
                   billing_currency="EUR", payment_terms_days=30, is_active=True, **stamps)
    user = {"is_active": True, "failed_login_count": 0, "locale": "en", "timezone": "UTC", **stamps}
    agent = _insert(conn, "app_user", email="agent@fwd.example", full_name="Ada Agent", role="ops_agent",
                    company_id=fwd, **user)
    _insert(conn, "app_user", email="carla@acme.example", full_name="Carla Customer", role="customer_user",
            company_id=acme, **user)
    origin = _insert(conn, "location", code="CNSHA", unlocode="CNSHA", name="Shanghai", country="CN", kind="seaport")
    dest = _insert(conn, "location", code="NLRTM", unlocode="NLRTM", name="Rotterdam", country="NL", kind="seaport")
    shipment = _insert(conn, "shipment", reference=REFERENCE, company_id=acme, mode="ocean_fcl", status="in_transit",
                       incoterm="FOB", origin_id=origin, destination_id=dest, booking_number="BKUPG1",
                       customer_po="PO-UPG-1", is_dangerous_goods=False, delay_minutes=0, etd_planned=ts,
                       atd=ts, eta_planned=ts, owner_id=agent, **stamps)
    for seq, code in enumerate(("booking_confirmed", "vessel_departure", "vessel_arrival"), 1):
        _insert(conn, "milestone", shipment_id=shipment, sequence=seq, code=code, name=code.replace("_", " ").title(),
                planned_at=ts, actual_at=ts if seq < 3 else None, source="plan", customer_visible=True,
                updated_at=ts, version=1)
    _insert(conn, "document", company_id=acme, shipment_id=shipment, doc_type="commercial_invoice", version_no=1,
            filename="invoice.pdf", content_type="application/pdf", size_bytes=1234, sha256="ab" * 32,
            storage_key=f"{acme}/{uuid.uuid4().hex}", visibility="customer", status="received",
            uploaded_by_id=agent, created_at=ts, version=1)
    invoice = _insert(conn, "invoice", number=INVOICE, company_id=acme, shipment_id=shipment, status="issued",
                      currency="EUR", issue_date="2026-11-01", due_date="2099-12-01", subtotal=Decimal("1500.00"),
                      tax_total=Decimal("190.00"), total=Decimal("1690.00"), amount_paid=Decimal("0"),
                      balance=Decimal("1690.00"), **stamps)
    _insert(conn, "invoiceline", invoice_id=invoice, line_no=1, code="OFR", description="Ocean freight",
            quantity=Decimal("1"), unit_price=Decimal("1000.00"), tax_rate=Decimal("19"), amount=Decimal("1000.00"),
            tax_amount=Decimal("190.00"))  # a percent, as lines recorded through the early API were
    _insert(conn, "invoiceline", invoice_id=invoice, line_no=2, code="THC", description="Terminal handling",
            quantity=Decimal("2"), unit_price=Decimal("250.00"), tax_rate=Decimal("0"), amount=Decimal("500.00"),
            tax_amount=Decimal("0.00"))


def upgrade_with_data(url: str, data_dir: Path) -> sa.Engine:
    alembic(url, data_dir, "upgrade", FIRST_REVISION)
    engine = make_engine(url)
    ts = "2026-11-01 09:00:00.000000" if engine.dialect.name == "sqlite" else "2026-11-01 09:00:00+00"
    with engine.begin() as conn:
        fill_initial_schema(conn, ts)
    engine.dispose()
    alembic(url, data_dir, "upgrade", "head")
    heads = alembic(url, data_dir, "heads").split()[0]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == heads
    return engine


def assert_readable(engine: sa.Engine) -> None:
    customer = principal_for(engine, "carla@acme.example")
    agent = principal_for(engine, "agent@fwd.example")
    with Session(engine, expire_on_commit=False) as db:
        page = shipments.list_shipments(db, customer)
        assert [r.reference for r in page.rows] == [REFERENCE] and page.total == 1
        detail = shipments.get_shipment(db, customer, REFERENCE)
        assert [m.code for m in detail.milestones] == ["booking_confirmed", "vessel_departure", "vessel_arrival"]
        assert [m.actual_at is not None for m in detail.milestones] == [True, True, False]
        assert [r.reference for r in shipments.list_shipments(db, agent).rows] == [REFERENCE]

        docs = documents.list_documents(db, customer, shipment_reference=REFERENCE)
        assert [(d.doc_type, d.filename, d.version_no) for d in docs.rows] == [
            ("commercial_invoice", "invoice.pdf", 1)]

        invoice = finance.get_invoice(db, customer, INVOICE)
        assert (invoice.subtotal, invoice.tax_total, invoice.total, invoice.balance) == (
            Decimal("1500"), Decimal("190"), Decimal("1690"), Decimal("1690"))
        assert invoice.shipment_reference == REFERENCE
        assert [(ln.code, ln.quantity, ln.amount, ln.tax_rate) for ln in invoice.lines] == [
            ("OFR", Decimal("1"), Decimal("1000"), Decimal("0.19")),  # the percent became a fraction
            ("THC", Decimal("2"), Decimal("500"), Decimal("0")),
        ]


def test_upgrade_from_the_first_schema_keeps_the_data_on_sqlite(tmp_path: Path):
    engine = upgrade_with_data(f"sqlite:///{tmp_path / 'old.db'}", tmp_path)
    try:
        assert_readable(engine)
    finally:
        engine.dispose()


@pytest.fixture()
def pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    yield from fresh_postgres_database("portal_upgrade")


@pytest.mark.postgres
def test_upgrade_from_the_first_schema_keeps_the_data_on_postgresql(pg_url: str, tmp_path: Path):
    engine = upgrade_with_data(pg_url, tmp_path)
    try:
        assert_readable(engine)
    finally:
        engine.dispose()
