"""API keys over HTTP: ``/api/v1/account/api-keys`` (create, shown once; list; revoke), and what a key may do as
``Authorization: Bearer <key>`` on the rest of the API. Never a web page: the page events take only the cookie.

Runs on the demo seed (a copy per test) as its demo accounts; the page-event test uses the small shared world.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection
from sqlmodel import Session, select

import seed
from models import ApiKey, Company, User
from portal_app.api.app import build_api
from portal_app.api.deps import get_db
from portal_app.auth.principal import Principal
from portal_app.services import api_keys as svc
from portal_app.services import clock
from tests.factories import World
from tests.quote_world import QuoteWorld

KEYS = "/api/v1/account/api-keys"
ALICE, BOB, NINA, ADMIN = ("alice@acme.example", "bob@acme.example", "nina@nordwind.example",
                           "admin@harborsky.example")


def _api_on(engine: sa.Engine):
    api = build_api()

    def _db() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as s:
            try:
                yield s
            except BaseException:
                s.rollback()
                raise

    api.dependency_overrides[get_db] = _db
    return api


def _key_client(world: QuoteWorld, key: str, **headers: str) -> TestClient:
    return TestClient(_api_on(world.engine), headers={"Authorization": f"Bearer {key}", **headers})


def _create(client: TestClient, name: str = "ERP", scope: str = "read", days: int = 30) -> dict:
    resp = client.post(KEYS, json={"name": name, "scope": scope, "expires_in_days": days})
    assert resp.status_code == 201, resp.text
    return resp.json()


def _set(world: QuoteWorld, model: type, row_id: int, **values: object) -> None:
    with world.session() as db:
        db.exec(sa.update(model).where(model.id == row_id).values(**values))
        db.commit()


def test_an_admin_creates_lists_and_revokes_a_key_that_is_shown_once(qworld: QuoteWorld):
    alice = qworld.client(ALICE)
    created = _create(alice, "ERP nightly", "read_write", 30)
    assert set(created) == {"id", "key", "prefix", "name", "scope", "expires_at"}
    assert created["key"].startswith(created["prefix"]) and created["scope"] == "read_write"

    listing = alice.get(KEYS)
    assert listing.status_code == 200 and created["key"] not in listing.text  # never again
    row = next(r for r in listing.json()["items"] if r["id"] == created["id"])
    assert (row["name"], row["prefix"], row["status"], row["created_by"]) == ("ERP nightly", created["prefix"],
                                                                           "active", "Alice Archer")
    assert row["last_used_at"] is None and row["expires_at"] == created["expires_at"]

    key = _key_client(qworld, created["key"], **{"X-Forwarded-For": "6.6.6.6"})
    me = key.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["email"] == ALICE
    used = next(r for r in alice.get(KEYS).json()["items"] if r["id"] == created["id"])
    assert used["last_used_at"] is not None
    assert used["last_used_ip"] == "testclient"  # the decided client address, not what the client wrote

    revoked = alice.delete(f"{KEYS}/{created['id']}")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    refused = key.get("/api/v1/shipments")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "api_key_revoked"


def test_a_read_key_cannot_change_anything_and_a_read_write_key_can(qworld: QuoteWorld):
    alice = qworld.client(ALICE)
    reader = _key_client(qworld, _create(alice, "Reader", "read")["key"])
    writer = _key_client(qworld, _create(alice, "Writer", "read_write")["key"])
    assert reader.get("/api/v1/account/profile").status_code == 200
    assert reader.get("/api/v1/shipments").status_code == 200

    before = alice.get("/api/v1/account/profile").json()
    for method, path, body in (("PATCH", "/api/v1/account/profile", {"phone": "+31 10 123 4567"}),
                               ("POST", "/api/v1/account/users", {"email": "x@acme.example", "full_name": "X Y"}),
                               ("PUT", "/api/v1/account/notification-preferences", {"items": []}),
                               ("DELETE", f"{KEYS}/1", None)):
        resp = reader.request(method, path, json=body)
        assert resp.status_code == 403, (method, path, resp.text)
        error = resp.json()["error"]
        assert error["code"] == "api_key_read_only" and error["saved"] is False and "read" in error["message"]
    assert alice.get("/api/v1/account/profile").json() == before  # nothing changed

    changed = writer.patch("/api/v1/account/profile", json={"phone": "+31 10 123 4567"})
    assert changed.status_code == 200 and changed.json()["phone"] == "+31 10 123 4567"


def test_keys_are_made_and_revoked_by_a_signed_in_person_not_by_another_key(qworld: QuoteWorld):
    alice = qworld.client(ALICE)
    created = _create(alice, "Writer", "read_write")
    writer = _key_client(qworld, created["key"])
    assert writer.get(KEYS).status_code == 200
    for resp in (writer.post(KEYS, json={"name": "Successor"}), writer.delete(f"{KEYS}/{created['id']}")):
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "api_key_needs_sign_in"


def test_expired_and_revoked_keys_and_deactivated_creators_or_companies_are_401(qworld: QuoteWorld):
    alice = qworld.client(ALICE)
    expired, revoked = _create(alice, "Expired"), _create(alice, "Revoked")
    _set(qworld, ApiKey, expired["id"], expires_at=clock.now() - timedelta(seconds=1))
    alice.delete(f"{KEYS}/{revoked['id']}")
    for created, code in ((expired, "api_key_expired"), (revoked, "api_key_revoked")):
        resp = _key_client(qworld, created["key"]).get("/api/v1/shipments")
        assert resp.status_code == 401 and resp.json()["error"]["code"] == code

    working = _create(alice, "Working")
    client = _key_client(qworld, working["key"])
    assert client.get("/api/auth/me").status_code == 200
    _set(qworld, User, qworld.alice.user_id, is_active=False)
    resp = client.get("/api/auth/me")
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "account_inactive"
    _set(qworld, User, qworld.alice.user_id, is_active=True)
    _set(qworld, Company, qworld.alice.company_id, is_active=False)
    resp = client.get("/api/auth/me")
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "company_inactive"
    _set(qworld, Company, qworld.alice.company_id, is_active=True)
    assert client.get("/api/auth/me").status_code == 200


def test_customer_admins_manage_only_their_own_company_and_staff_admins_every_key(qworld: QuoteWorld):
    alice, nina, admin = qworld.client(ALICE), qworld.client(NINA), qworld.client(ADMIN)
    acme, nord = _create(alice, "Acme ERP"), _create(nina, "Nordwind ERP")
    assert {r["id"] for r in alice.get(KEYS).json()["items"]} == {acme["id"]}
    assert {r["id"] for r in nina.get(KEYS).json()["items"]} == {nord["id"]}
    stolen = alice.delete(f"{KEYS}/{nord['id']}")
    assert stolen.status_code == 404 and stolen.json()["error"]["code"] == "not_found"
    assert _key_client(qworld, nord["key"]).get("/api/auth/me").status_code == 200

    everything = {r["id"]: r for r in admin.get(KEYS).json()["items"]}
    assert {acme["id"], nord["id"]} <= set(everything)
    assert everything[nord["id"]]["company_name"] == "Nordwind Electronics GmbH"
    assert admin.delete(f"{KEYS}/{nord['id']}").json()["status"] == "revoked"
    assert _key_client(qworld, nord["key"]).get("/api/auth/me").status_code == 401

    staff_key = _create(admin, "Forwarder BI")
    assert staff_key["id"] not in {r["id"] for r in alice.get(KEYS).json()["items"]}
    assert alice.delete(f"{KEYS}/{staff_key['id']}").status_code == 404


def test_people_without_key_rights_cannot_create_or_list(qworld: QuoteWorld):
    for email in (BOB, "agent@harborsky.example", "manager@harborsky.example"):
        client = qworld.client(email)
        for resp in (client.post(KEYS, json={"name": "Mine"}), client.get(KEYS), client.delete(f"{KEYS}/1")):
            assert resp.status_code == 403 and resp.json()["error"]["code"] == "forbidden", (email, resp.text)
    with qworld.session() as db:
        assert db.exec(select(ApiKey).where(ApiKey.name == "Mine")).first() is None
    assert TestClient(_api_on(qworld.engine)).get(KEYS).status_code == 401


def test_bad_input_is_a_422_that_says_what_to_fix(qworld: QuoteWorld):
    alice = qworld.client(ALICE)
    for body in ({"name": "ERP", "scope": "admin"}, {"name": "ERP", "expires_in_days": 0},
                 {"name": "ERP", "expires_in_days": 731}, {"name": "ERP", "expires_in_days": "30"}, {},
                 {"name": "x"}, {"name": "y" * 81}):
        resp = alice.post(KEYS, json=body)
        assert resp.status_code == 422, (body, resp.text)
        error = resp.json()["error"]
        assert error["saved"] is False and error["code"] in ("invalid_input", "invalid_name")
    _create(alice, "Twice")
    again = alice.post(KEYS, json={"name": "twice"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_name"
    assert alice.delete(f"{KEYS}/0").status_code == 422


def test_a_key_is_used_instead_of_a_cookie_sent_with_it(qworld: QuoteWorld):
    alice = qworld.client(ALICE)
    key = _create(alice, "Reader")["key"]
    nina = qworld.client(NINA)
    nina.headers["Authorization"] = f"Bearer {key}"
    assert nina.get("/api/auth/me").json()["email"] == ALICE
    assert nina.patch("/api/v1/account/profile", json={"phone": "+49 30 1234567"}).status_code == 403


# --- never the web pages ------------------------------------------------------------------------------------------


def test_a_key_never_opens_a_page_or_its_events(world: World, db):
    """The account page's events, sent as the websocket sends them with the key and no cookie, act as nobody: the
    tab is anonymous (the page sends it to sign-in) and nothing of the key's user reaches it."""
    from reflex.istate.manager.memory import StateManagerMemory
    from reflex.state import State
    from reflex_base.event import Event
    from reflex_base.event.processor.base_state_processor import BaseStateEventProcessor

    import portal_app.portal_app as module
    from portal_app.portal.account import PortalAccountState

    user = world.users["ALFA:customer_admin"]
    company = db.get(Company, user.company_id)
    principal = Principal(user.id, company.id, user.role, user.email, user.full_name, company.name)
    key = svc.create_key(db, principal, svc.NewApiKey(name=f"Page probe {uuid.uuid4().hex[:6]}",
                                                      scope="read_write", expires_in_days=1)).key
    token = f"tab-{uuid.uuid4()}"
    headers = {"origin": "http://localhost:3000", "host": "localhost:3000", "authorization": f"Bearer {key}"}

    async def main() -> list[dict]:
        processor = BaseStateEventProcessor(middleware=module.app, backend_exception_handler=None)
        answers: list[dict] = []
        async with processor.configure(state_manager=StateManagerMemory()):
            for name in (f"{State.get_full_name()}.hydrate_and_load", f"{PortalAccountState.get_full_name()}.load"):
                router_data = {"token": token, "sid": f"sid-{token}", "headers": headers, "pathname": "/portal/account",
                               "asPath": "/portal/account", "query": {}, "ip": "127.0.0.1"}
                event = Event(name=name, payload={}, router_data=router_data)
                answers += [dict(d) async for d in processor.enqueue_stream_delta(token, event)]
        return answers

    seen = json.dumps(asyncio.run(main()), default=str)
    assert '"auth_status_rx_state_": "anonymous"' in seen  # the page then sends the tab to sign-in
    assert user.email not in seen and user.full_name not in seen and company.name not in seen


# --- fuzzing the new routes ---------------------------------------------------------------------------------------

EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES", "8"))
FUZZ_APP = build_api()
_fuzz_config = schemathesis.Config.from_dict({
    "seed": 20261207,
    "generation": {"max-examples": EXAMPLES, "database": "none"},
    "phases": {"coverage": {"unexpected-methods": []}, "stateful": {"enabled": False}},
    "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
})
key_routes = schemathesis.openapi.from_asgi("/api/openapi.json", FUZZ_APP, config=_fuzz_config).include(
    path_regex=r"^/api/v1/account/api-keys")


@pytest.fixture(scope="module")
def fuzz_callers() -> Iterator[dict[str, dict]]:
    """A demo-seeded database of its own, and how each caller signs its requests: a customer admin's and an
    administrator's session, and a read-write key of the administrator."""
    folder = Path(tempfile.mkdtemp(prefix="portal-keys-fuzz-"))
    from portal_app.db import make_engine

    engine = make_engine(f"sqlite:///{folder / 'fuzz.db'}")
    seed.create_schema(engine)
    seed.run(engine, shipments=0, write_files=False)
    FUZZ_APP.dependency_overrides[get_db] = _api_on(engine).dependency_overrides[get_db]
    client = TestClient(FUZZ_APP)
    callers: dict[str, dict] = {}
    for email in (ALICE, ADMIN):
        resp = client.post("/api/auth/login", json={"email": email, "password": seed.DEMO_PASSWORD})
        callers[email] = {"cookies": dict(resp.cookies)}
    key = TestClient(FUZZ_APP, cookies=callers[ADMIN]["cookies"]).post(
        KEYS, json={"name": "Fuzz", "scope": "read_write"}).json()["key"]
    callers["key"] = {"headers": {"Authorization": f"Bearer {key}"}}
    yield callers
    FUZZ_APP.dependency_overrides.clear()
    engine.dispose()


@key_routes.parametrize()
@pytest.mark.parametrize("caller", [ALICE, ADMIN, "key"])
def test_api_key_routes_fuzz(case: schemathesis.Case, caller: str, fuzz_callers: dict[str, dict]) -> None:
    case.call_and_validate(checks=[not_a_server_error, negative_data_rejection], **fuzz_callers[caller])


def test_only_a_bearer_key_skips_the_origin_check_of_cookie_requests():
    """A browser adds cached Basic credentials (a proxy's password prompt) to a cross-site form post by itself, so
    only ``Bearer`` (which no page elsewhere can add) exempts a request that carries the session cookie."""
    from starlette.datastructures import Headers

    from portal_app.edge.origins import needs_origin_proof

    cookie = {"cookie": "portal_session=abc"}
    assert needs_origin_proof("POST", "/api/v1/account/api-keys", Headers({**cookie}))
    assert needs_origin_proof("POST", "/api/v1/account/api-keys", Headers({**cookie, "authorization": "Basic eDp5"}))
    assert needs_origin_proof("POST", "/api/v1/account/api-keys", Headers({**cookie, "authorization": "Bearer "}))
    assert not needs_origin_proof("POST", "/api/v1/account/api-keys",
                                  Headers({**cookie, "authorization": "Bearer pk_abc"}))


def test_a_keys_use_reaches_the_audit_trail_at_most_once_a_minute(qworld: QuoteWorld):
    from models import AuditLog

    alice = qworld.client(ALICE)
    created = _create(alice, "Audited ERP", "read")
    key = _key_client(qworld, created["key"])
    for _ in range(3):
        assert key.get("/api/v1/shipments", params={"page_size": 1}).status_code == 200
    with qworld.session() as db:
        uses = db.exec(select(AuditLog).where(AuditLog.action == "api_key_used",
                                              AuditLog.entity_id == str(created["id"]))).all()
    assert len(uses) == 1 and uses[0].ip_address == "testclient"
    trail = alice.get("/api/v1/audit", params={"category": "api_keys"}).json()["items"]
    assert any(e["action_words"] == "Used an API key" and e["subject"] == f"API key {created['id']}" for e in trail)
