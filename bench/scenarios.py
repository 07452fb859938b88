"""What `python -m bench` measures. Imported only after the environment points at the bench database."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel

import models
from portal_app.api.app import build_api
from portal_app.auth.principal import Principal
from portal_app.db import get_engine
from portal_app.services import shipments as svc

ROOT = Path(__file__).resolve().parent.parent
CUSTOMER = ("alice@acme.example", "demo-Pass-2026")
STAFF = ("agent@harborsky.example", "demo-Pass-2026")


def has_data(url: str) -> bool:
    engine = get_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(sa.select(sa.func.count()).select_from(models.Shipment)).scalar())
    except sa.exc.SQLAlchemyError:
        return False


def _migrate_empty(url: str) -> None:
    """An empty database built by the migrations, as an installation's is (so `make run` can use it as it is)."""
    engine = get_engine(url)
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    reflex = Path(sys.executable).with_name("reflex")
    subprocess.run([str(reflex), "db", "migrate"], cwd=ROOT, check=True, capture_output=True, timeout=300)


def seed_fresh(url: str, shipments: int) -> float:
    import seed

    engine = get_engine(url)
    _migrate_empty(url)
    start = time.perf_counter()
    seed.run(engine, shipments=shipments)
    return time.perf_counter() - start


def _search_terms(db: Session, company_id: int | None) -> list[str]:
    """References as customers type them, each finding another shipment than the one before: whole ones, and every
    other one the number inside it (477671 of ACME-PO-477671). One shipment's references (its own, booking, bill,
    PO, container) would find the same shipment one after the other, and a list that does not change sends no rows.
    """
    stmt = (sa.select(models.ShipmentReference.shipment_id, models.ShipmentReference.display_value)
            .order_by(models.ShipmentReference.id).limit(400))
    if company_id is not None:
        stmt = stmt.where(models.ShipmentReference.company_id == company_id)
    by_shipment: dict[int, list[str]] = {}
    for shipment_id, value in db.exec(stmt).all():
        by_shipment.setdefault(shipment_id, []).append(value)
    terms = []
    for i, values in enumerate(by_shipment.values()):
        dashed = [v for v in values if "-" in v.replace("/", "-")]
        terms.append(dashed[0].replace("/", "-").split("-")[-1] if i % 2 and dashed else values[-1])
    return terms[:20]


def _client(email: str, password: str) -> TestClient:
    client = TestClient(build_api())
    resp = client.post("/api/auth/login", json={"email": email, "password": password})
    resp.raise_for_status()
    return client


def _queries(terms: list[str]) -> list[dict]:
    """A mix a real list page sees: first page, a status filter, a mode filter, a later page, a search."""
    mix: list[dict] = [
        {},
        {"status": "in_transit"},
        {"mode": "air"},
        {"page": 5},
        {"sort": "eta"},
    ]
    mix += [{"q": t} for t in terms[:10]]
    return mix


def measure_list_api(requests: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for who, creds in (("customer", CUSTOMER), ("staff", STAFF)):
        client = _client(*creds)
        mix = _queries(search_terms_for(creds[0]))
        client.get("/api/v1/shipments")  # warm up
        timings = []
        for i in range(requests):
            params = {"page_size": 25, **mix[i % len(mix)]}
            start = time.perf_counter()
            resp = client.get("/api/v1/shipments", params=params)
            timings.append(time.perf_counter() - start)
            resp.raise_for_status()
        out[f"shipment_list_api_{who}"] = timings
    return out


def principal_for(db: Session, email: str) -> Principal:
    user = db.exec(sa.select(models.User).where(models.User.email == email)).one()[0]
    company = db.get(models.Company, user.company_id)
    return Principal(user.id, user.company_id, models.enums.Role(user.role), user.email, user.full_name, company.name)


def search_terms_for(email: str) -> list[str]:
    with Session(get_engine()) as db:
        principal = principal_for(db, email)
        return _search_terms(db, principal.company_id if principal.is_customer else None)


def raw_sql_timings(principal: Principal, queries: list[tuple[dict, int, str]], requests: int) -> list[float]:
    """Each (filter params, page, sort) as the service's count and page SQL, compiled once, run on one connection."""
    engine = get_engine()
    pairs = []
    for params, page, sort in queries:
        filters = svc.ShipmentFilters.from_params(params)
        query = svc.list_query(principal, filters, page=page, page_size=25, sort=sort)
        pairs.append([str(s.params(query.values).compile(engine, compile_kwargs={"literal_binds": True}))
                      for s in (query.count, query.rows)])
    timings = []
    with engine.connect() as conn:
        for i in range(requests):
            start = time.perf_counter()
            for sql in pairs[i % len(pairs)]:
                conn.execute(sa.text(sql)).fetchall()
            timings.append(time.perf_counter() - start)
    return timings


def measure_raw_sql(requests: int) -> dict[str, list[float]]:
    """The same list queries the API figure asks for, as raw SQL: the database's share of it."""
    out: dict[str, list[float]] = {}
    for who, email in (("customer", CUSTOMER[0]), ("staff", STAFF[0])):
        with Session(get_engine()) as db:
            principal = principal_for(db, email)
        queries = [
            ({k: str(v) for k, v in q.items() if k not in ("page", "sort")}, q.get("page", 1), q.get("sort", "updated"))
            for q in _queries(search_terms_for(email))
        ]
        out[f"shipment_list_raw_sql_{who}"] = raw_sql_timings(principal, queries, requests)
    return out


def measure_portal_services(runs: int = 30) -> dict[str, list[float]]:
    """Service-level timings of the customer's heavier pages: dashboard, invoices list, aged statement."""
    from portal_app.services import dashboard, finance

    out: dict[str, list[float]] = {"portal_dashboard": [], "portal_invoice_list": [], "portal_statement": []}
    with Session(get_engine()) as db:
        principal = principal_for(db, CUSTOMER[0])
        calls = {
            "portal_dashboard": lambda: dashboard.dashboard(db, principal),
            "portal_invoice_list": lambda: finance.list_invoices(db, principal, page=1, page_size=25),
            "portal_statement": lambda: finance.statement(db, principal),
        }
        for name, call in calls.items():
            call()  # warm the database cache once
            for _ in range(runs):
                start = time.perf_counter()
                call()
                out[name].append(time.perf_counter() - start)
    return out


def measure_quotes(runs: int = 200, lanes: int = 10_000) -> tuple[dict[str, list[float]], list[tuple[str, float, str]]]:
    """Quote to booking (bench/quotes.py) on the scale database, after topping its rate cards up to ``lanes``
    generated lanes: timings per scenario and plain values (cards, options per request, concurrent bookings)."""
    from bench import quotes

    quotes.ensure_lanes(get_engine(), lanes)
    return quotes.measure_quotes(runs)
