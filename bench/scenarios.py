"""What `python -m bench` measures. Imported only after the environment points at the bench database."""

from __future__ import annotations

import time

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel

import models
from portal_app.api.app import build_api
from portal_app.auth.principal import Principal
from portal_app.db import get_engine
from portal_app.services import shipments as svc

CUSTOMER = ("alice@acme.example", "demo-Pass-2026")
STAFF = ("agent@harborsky.example", "demo-Pass-2026")


def has_data(url: str) -> bool:
    engine = get_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(sa.select(sa.func.count()).select_from(models.Shipment)).scalar())
    except sa.exc.SQLAlchemyError:
        return False


def seed_fresh(url: str, shipments: int) -> float:
    import seed

    engine = get_engine(url)
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    start = time.perf_counter()
    seed.run(engine, shipments=shipments)
    return time.perf_counter() - start


def _search_terms(db: Session, company_id: int | None) -> list[str]:
    stmt = sa.select(models.ShipmentReference.display_value).order_by(models.ShipmentReference.id).limit(50)
    if company_id is not None:
        stmt = stmt.where(models.ShipmentReference.company_id == company_id)
    return [r[0] for r in db.exec(stmt).all()]


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
    with Session(get_engine()) as db:
        customer_company = db.exec(sa.select(models.User.company_id).where(models.User.email == CUSTOMER[0])).one()[0]
        terms = {"customer": _search_terms(db, customer_company), "staff": _search_terms(db, None)}
    for who, creds in (("customer", CUSTOMER), ("staff", STAFF)):
        client = _client(*creds)
        mix = _queries(terms[who])
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


def measure_raw_sql(requests: int) -> dict[str, list[float]]:
    """The same list queries the service builds, compiled once and executed as plain SQL."""
    engine = get_engine()
    out: dict[str, list[float]] = {}
    with Session(engine) as db:
        for who, email in (("customer", CUSTOMER[0]), ("staff", STAFF[0])):
            user = db.exec(sa.select(models.User).where(models.User.email == email)).one()[0]
            company = db.get(models.Company, user.company_id)
            principal = Principal(user.id, user.company_id, models.enums.Role(user.role), user.email,
                                  user.full_name, company.name)
            mix = _queries(_search_terms(db, user.company_id if principal.is_customer else None))
            statements = []
            for params in mix:
                filters = svc.ShipmentFilters(
                    statuses=(params["status"],) if "status" in params else (),
                    mode=params.get("mode"),
                    search=params.get("q"),
                )
                for stmt in svc.list_statements(principal, filters, page=params.get("page", 1), page_size=25,
                                                sort=params.get("sort", "updated")):
                    statements.append(str(stmt.compile(engine, compile_kwargs={"literal_binds": True})))
            timings = []
            with engine.connect() as conn:
                for i in range(requests):
                    pair = statements[(2 * i) % len(statements): (2 * i) % len(statements) + 2]
                    start = time.perf_counter()
                    for sql in pair:
                        conn.execute(sa.text(sql)).fetchall()
                    timings.append(time.perf_counter() - start)
            out[f"shipment_list_raw_sql_{who}"] = timings
    return out


def measure_portal_services(runs: int = 30) -> dict[str, list[float]]:
    """Service-level timings of the customer's heavier pages: dashboard, invoices list, aged statement."""
    from portal_app.services import dashboard, finance

    out: dict[str, list[float]] = {"portal_dashboard": [], "portal_invoice_list": [], "portal_statement": []}
    with Session(get_engine()) as db:
        user = db.exec(sa.select(models.User).where(models.User.email == CUSTOMER[0])).one()[0]
        company = db.get(models.Company, user.company_id)
        principal = Principal(user.id, user.company_id, models.enums.Role(user.role), user.email, user.full_name,
                              company.name)
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
