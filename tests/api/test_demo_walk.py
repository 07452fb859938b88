"""Every demo account walks every GET route of ``/api/v1`` over the demo seed, downloads included.

The demo data is what `make run` seeds (`seed.run` with its defaults, as `python -m seed` does), in a database of
this module's own, seeded once. Each account of README's table signs in through ``POST /api/auth/login`` and
calls every GET route the OpenAPI description lists (so a new route is walked without a change here), path
parameters filled with a record of that account's own. Every answer must be:

- never a 5xx;
- 200 where the account's role may go, and 403 or 404 only where it may not (``NEEDS`` below, read against the
  permission matrix);
- complete: JSON parses; a CSV parses with the csv module into the header and the expected number of rows; a
  workbook opens with openpyxl with the expected rows on each sheet; a PDF runs to its end marker.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, select

import seed
from models import (
    CarrierConnection,
    Company,
    Document,
    HelpArticle,
    Invoice,
    OpsException,
    QuoteOption,
    QuoteRequest,
    RateCard,
    Shipment,
    Task,
    Ticket,
    User,
    WebhookSubscription,
)
from models.enums import Role
from portal_app.api.app import build_api
from portal_app.api.deps import get_db
from portal_app.auth.permissions import Permission, has_permission
from portal_app.db import make_engine
from portal_app.services import clock, kpis, quotes
from tests.quote_world import principal_for

# README's demo accounts.
ACCOUNTS = [
    "alice@acme.example", "bob@acme.example", "nina@nordwind.example", "omar@nordwind.example",
    "agent@harborsky.example", "manager@harborsky.example", "admin@harborsky.example",
]

# What a role needs beyond being signed in, by path prefix (the longest that matches wins). Every other route
# is for everyone signed in, so a new route is expected to answer 200 to all until it is listed here.
NEEDS: dict[str, Permission] = {
    "/api/v1/account/users": Permission.MANAGE_COMPANY_USERS,
    "/api/v1/admin": Permission.MANAGE_USERS,
    "/api/v1/account/api-keys": Permission.MANAGE_API_KEYS,
    "/api/v1/account/webhooks": Permission.MANAGE_API_KEYS,
    "/api/v1/audit": Permission.READ_AUDIT,
    "/api/v1/audit.csv": Permission.READ_AUDIT,
    "/api/v1/quote-requests/draft": Permission.REQUEST_QUOTES,
    "/api/v1/quote-requests/manual-queue": Permission.PRICE_QUOTES,
    "/api/v1/funnel": Permission.VIEW_KPIS,
    "/api/v1/bookings/pending": Permission.MANAGE_BOOKINGS,
    "/api/v1/quote-options/{option_id}/booking-details": Permission.BOOK,
    "/api/v1/rate-cards": Permission.USE_TOWER,
    "/api/v1/rate-cards/import-template.csv": Permission.MANAGE_RATES,
    "/api/v1/shipments/import": Permission.IMPORT_SHIPMENTS,
    "/api/v1/exceptions": Permission.MANAGE_EXCEPTIONS,
    "/api/v1/tasks": Permission.USE_TOWER,
    "/api/v1/workload": Permission.USE_TOWER,
    "/api/v1/tower": Permission.USE_TOWER,
    "/api/v1/kpis": Permission.VIEW_KPIS,
    "/api/v1/config": Permission.MANAGE_CONFIG,
    "/api/v1/canned-replies": Permission.HANDLE_REQUESTS,
    "/api/v1/help/manage": Permission.USE_TOWER,
    "/api/v1/help/gaps": Permission.USE_TOWER,
    "/api/v1/integrations/dcsa/connections": Permission.MANAGE_CONFIG,
    "/api/v1/integrations/dcsa/unmatched": Permission.EDIT_SHIPMENTS,
}

CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Account:
    email: str
    role: Role
    company_id: int

    @property
    def is_staff(self) -> bool:
        return has_permission(self.role, Permission.VIEW_ALL_COMPANIES)

    def may_use(self, path: str) -> bool:
        prefixes = [p for p in NEEDS if path == p or path.startswith(p.rstrip("/") + "/")]
        return not prefixes or has_permission(self.role, NEEDS[max(prefixes, key=len)])


# ------------------------------------------------------------------------------------------ records to fill in

Sampler = Callable[[Session, Account], list[Any]]


def _own(stmt: sa.Select, company: sa.ColumnElement, account: Account) -> sa.Select:
    """Customers' records are their company's; staff take any."""
    return stmt if account.is_staff else stmt.where(company == account.company_id)


def _first(column: sa.ColumnElement, company: sa.ColumnElement | None = None, *where: Any) -> Sampler:
    def sample(db: Session, account: Account) -> list[Any]:
        stmt = select(column).where(*where).order_by(column)
        found = db.exec(_own(stmt, company, account) if company is not None else stmt).first()
        return [] if found is None else [found]

    return sample


def _quote_option(db: Session, account: Account) -> list[Any]:
    stmt = select(QuoteOption.id).join(QuoteRequest, QuoteRequest.id == QuoteOption.quote_request_id)
    found = db.exec(_own(stmt, QuoteRequest.company_id, account).order_by(QuoteOption.id)).first()
    return [] if found is None else [found]


def _webhook(db: Session, account: Account) -> list[Any]:
    """The demo has no webhooks: each company gets one (to a receiver that is never called during the walk)."""
    found = db.exec(select(WebhookSubscription.id).where(WebhookSubscription.company_id == account.company_id)).first()
    if found is None:
        row = WebhookSubscription(company_id=account.company_id, url="https://hooks.example.com/portal",
                                  secret="not-used", event_kinds="*", all_companies=account.is_staff)
        db.add(row)
        db.commit()
        found = row.id
    return [found]


# A record for each path parameter, keyed by the path up to it. A route with a parameter not listed here fails
# the walk until it is added.
SAMPLES: dict[str, Sampler] = {
    "/api/v1/shipments/{reference}": _first(Shipment.reference, Shipment.company_id),
    "/api/v1/tower/shipments/{reference}": _first(Shipment.reference, Shipment.company_id),
    "/api/v1/documents/{document_id}": _first(Document.id, Document.company_id, Document.visibility == "customer"),
    "/api/v1/invoices/{number}": _first(Invoice.number, Invoice.company_id),
    "/api/v1/quote-requests/{reference}": _first(QuoteRequest.reference, QuoteRequest.company_id,
                                                 QuoteRequest.status != "draft"),
    "/api/v1/quote-options/{option_id}": _quote_option,
    "/api/v1/rate-cards/{card_id}": _first(RateCard.id),
    "/api/v1/config/companies/{company_id}": _first(Company.id, Company.id, Company.kind == "customer"),
    "/api/v1/exceptions/{exception_id}": _first(OpsException.id),
    "/api/v1/tasks/{task_id}": _first(Task.id),
    "/api/v1/kpis/{table}": lambda _db, _account: list(kpis.TABLES),
    "/api/v1/requests/{reference}": _first(Ticket.reference, Ticket.company_id),
    "/api/v1/help/articles/{slug}": _first(HelpArticle.slug, None, HelpArticle.audience == "public",
                                           HelpArticle.is_published.is_(True)),
    "/api/v1/help/manage/articles/{article_id}": _first(HelpArticle.id),
    "/api/v1/account/webhooks/{webhook_id}": _webhook,
    "/api/v1/integrations/dcsa/connections/{connection_id}": _first(CarrierConnection.id),
}

# Values for query parameters a route requires.
REQUIRED_QUERY: dict[str, Callable[[], str]] = {
    "mode": lambda: "ocean_fcl",
    "since": lambda: (clock.now() - timedelta(days=30)).isoformat(timespec="seconds"),  # a date-time with its zone
}


# -------------------------------------------------------------------------------------- rows a download holds

Expected = Callable[[TestClient, str, dict[str, str]], dict[str, int]]


def _shipment_rows(client: TestClient, _fmt: str, _values: dict[str, str]) -> dict[str, int]:
    return {"Shipments": client.get("/api/v1/shipments", params={"page_size": 1}).json()["total"]}


def _statement_rows(client: TestClient, fmt: str, _values: dict[str, str]) -> dict[str, int]:
    st = client.get("/api/v1/statement").json()
    rows = {"Open invoices": len(st["invoices"])}
    return rows if fmt == "csv" else {"Aging": len(st["currencies"]), **rows}


def _kpi_rows(client: TestClient, _fmt: str, values: dict[str, str]) -> dict[str, int]:
    table = values["table"]
    return {kpis.TABLES[table][0]: len(client.get("/api/v1/kpis").json()["tables"][table])}


# How many rows each download must hold (by route). A download route missing here fails the walk.
EXPECTED_ROWS: dict[str, Expected] = {
    "/api/v1/shipments/export": _shipment_rows,
    "/api/v1/statement.csv": _statement_rows,
    "/api/v1/statement.xlsx": _statement_rows,
    "/api/v1/kpis/{table}.csv": _kpi_rows,
    "/api/v1/rate-cards/import-template.csv": lambda *_: {"Rate cards": 7},  # two cards with seven charges
    # Two shipments and eight milestones: in a CSV one table (a blank line, the milestones' header, its rows).
    "/api/v1/shipments/import/template": lambda _c, fmt, _v: (
        {"Shipments": 12} if fmt == "csv" else {"Shipments": 2, "Milestones": 8}),
    # The export records itself before it is written, so it holds what the list counts right after it.
    "/api/v1/audit.csv": lambda client, *_: {
        "Audit": client.get("/api/v1/audit", params={"page_size": 1}).json()["total"]},
}

# Settings the demo leaves unset: reading one answers 404 (`not_found`) until an administrator sets it.
UNSET_IN_THE_DEMO = {"/api/v1/config/staff-sso", "/api/v1/config/companies/{company_id}/sso"}


# ------------------------------------------------------------------------------------------------- the routes


@dataclass(frozen=True)
class Route:
    path: str
    path_params: tuple[str, ...]
    required_query: tuple[str, ...]
    formats: tuple[str, ...]  # "csv" and/or "xlsx" when it is a download; chosen by a `format` parameter if any
    has_format_param: bool


def get_routes(api: FastAPI) -> list[Route]:
    routes = []
    for path, operations in api.openapi()["paths"].items():
        get = operations.get("get")
        if get is None or not path.startswith("/api/v1/"):
            continue
        params = get.get("parameters", [])
        content = get.get("responses", {}).get("200", {}).get("content", {})
        formats = tuple(f for f, kind in (("csv", CSV_TYPE), ("xlsx", XLSX_TYPE)) if any(kind in c for c in content))
        routes.append(Route(
            path=path,
            path_params=tuple(p["name"] for p in params if p["in"] == "path"),
            required_query=tuple(p["name"] for p in params if p["in"] == "query" and p.get("required")),
            formats=formats,
            has_format_param=any(p["name"] == "format" and p["in"] == "query" for p in params),
        ))
    return routes


@dataclass(frozen=True)
class Call:
    url: str
    params: dict[str, str]
    values: dict[str, str]  # the path parameters' values
    fmt: str | None


def calls(route: Route, db: Session, account: Account) -> Iterator[Call | str]:
    """The requests that walk one route for one account, or what stops it (a message)."""
    params = {}
    for name in route.required_query:
        if name not in REQUIRED_QUERY:
            yield f"{route.path}: no value for its required query parameter {name!r}; add one to REQUIRED_QUERY"
            return
        params[name] = REQUIRED_QUERY[name]()
    fills: list[dict[str, str]] = [{}]
    for name in route.path_params:
        key = route.path[: route.path.index("{" + name + "}") + len(name) + 2]
        if key not in SAMPLES:
            yield f"{route.path}: no record to fill {{{name}}}; add one to SAMPLES"
            return
        values = SAMPLES[key](db, account)
        if not values:
            yield f"{route.path}: the demo seed has no record of {account.email} for {{{name}}}"
            return
        fills = [{**f, name: str(v)} for f in fills for v in values]
    for fill in fills:
        url = route.path
        for name, value in fill.items():
            url = url.replace("{" + name + "}", value)
        for fmt in (route.formats if route.has_format_param else route.formats[:1] or (None,)):
            yield Call(url, {**params, **({"format": fmt} if route.has_format_param else {})}, fill, fmt)


# ----------------------------------------------------------------------------------------------- body checks


def _csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "a CSV starts with the UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def check_body(resp: Response, client: TestClient, route: Route, call: Call) -> list[str]:
    kind = resp.headers.get("content-type", "")
    where = f"{route.path} {call.params or ''}"
    if "application/json" in kind:
        resp.json()
        return []
    if CSV_TYPE in kind or XLSX_TYPE in kind:
        if route.path not in EXPECTED_ROWS:
            return [f"{where}: a download with no expected row count; add it to EXPECTED_ROWS"]
        expected = EXPECTED_ROWS[route.path](client, call.fmt or "csv", call.values)
        if CSV_TYPE in kind:
            rows = _csv_rows(resp.content)
            header, data = rows[0], rows[1:]
            problems = [f"{where}: row {i + 2} has {len(r)} cells for {len(header)} columns"
                        for i, r in enumerate(data) if len(r) != len(header)]
            if [len(data)] != list(expected.values()):
                problems.append(f"{where}: {len(data)} rows, expected {expected}")
            return problems
        book = openpyxl.load_workbook(io.BytesIO(resp.content), read_only=True)
        found = {ws.title: sum(1 for _ in ws.iter_rows()) - 1 for ws in book.worksheets}
        return [] if found == expected else [f"{where}: sheets and rows {found}, expected {expected}"]
    if "application/pdf" in kind:
        ok = resp.content.startswith(b"%PDF") and resp.content.rstrip().endswith(b"%%EOF")
        return [] if ok else [f"{where}: the PDF is incomplete"]
    length = resp.headers.get("content-length")
    return [] if length is None or int(length) == len(resp.content) else [f"{where}: body shorter than its length"]


# --------------------------------------------------------------------------------------------------- fixtures


@dataclass(frozen=True)
class Demo:
    engine: sa.Engine
    api: FastAPI
    routes: list[Route]

    def account(self, email: str) -> Account:
        with Session(self.engine) as db:
            user = db.exec(select(User).where(User.email == email)).one()
            return Account(email, Role(user.role), user.company_id)

    def client(self, email: str) -> TestClient:
        client = TestClient(self.api)
        resp = client.post("/api/auth/login", json={"email": email, "password": seed.DEMO_PASSWORD})
        assert resp.status_code == 200, f"{email} cannot sign in: {resp.text}"
        return client


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo seed in a database of this module's own (documents' files in the test data directory)."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('demo-walk') / 'demo.db'}")
    seed.create_schema(engine)
    seed.run(engine)
    api = build_api()

    def _db() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as session:
            try:
                yield session
            except BaseException:
                session.rollback()
                raise

    api.dependency_overrides[get_db] = _db
    yield Demo(engine, api, get_routes(api))
    engine.dispose()


def test_the_walk_reaches_every_download(demo: Demo):
    """The walk finds the exports in the API's own description (and so would find a new one)."""
    downloads = {r.path: r.formats for r in demo.routes if r.formats}
    assert downloads == {
        "/api/v1/shipments/export": ("csv", "xlsx"),
        "/api/v1/statement.csv": ("csv",),
        "/api/v1/statement.xlsx": ("xlsx",),
        "/api/v1/kpis/{table}.csv": ("csv",),
        "/api/v1/rate-cards/import-template.csv": ("csv",),
        "/api/v1/shipments/import/template": ("csv", "xlsx"),
        "/api/v1/audit.csv": ("csv",),
    }
    assert len(demo.routes) > 50


@pytest.mark.parametrize("email", ACCOUNTS)
def test_every_demo_account_walks_every_get_route(demo: Demo, email: str):
    account = demo.account(email)
    client = demo.client(email)
    if has_permission(account.role, Permission.REQUEST_QUOTES):  # so "your unfinished request" has one to show
        with Session(demo.engine, expire_on_commit=False) as db:
            quotes.save_draft(db, principal_for(demo.engine, email), quotes.QuoteInput())
    problems: list[str] = []
    walked = 0
    with Session(demo.engine) as db:
        for route in demo.routes:
            for call in calls(route, db, account):
                if isinstance(call, str):
                    problems.append(call)
                    continue
                walked += 1
                resp = client.get(call.url, params=call.params)
                where = f"{call.url} {call.params or ''}"
                if resp.status_code >= 500:
                    problems.append(f"{where}: {resp.status_code} {resp.text[:200]}")
                elif route.path in UNSET_IN_THE_DEMO and resp.status_code == 404 and account.may_use(route.path):
                    assert resp.json()["error"]["code"] == "not_found", resp.text
                elif account.may_use(route.path) and resp.status_code != 200:
                    problems.append(f"{where}: {resp.status_code} for a role that may go there: {resp.text[:200]}")
                elif not account.may_use(route.path) and resp.status_code not in (403, 404):
                    problems.append(f"{where}: {resp.status_code} for a role that may not go there")
                elif resp.status_code == 200:
                    problems += check_body(resp, client, route, call)
    assert walked >= len(demo.routes)
    assert not problems, f"{email}:\n" + "\n".join(problems)


def test_a_customer_sees_only_its_own_rows_in_every_download(demo: Demo):
    """Acme's exports hold Acme's shipments only (the walk above counts rows; this reads them)."""
    client = demo.client("bob@acme.example")
    body = client.get("/api/v1/shipments/export", params={"format": "csv"}).content
    rows = _csv_rows(body)
    customer = rows[0].index("Customer")
    assert {r[customer] for r in rows[1:]} == {"Acme Home Goods Ltd"}
