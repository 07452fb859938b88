"""Property-based fuzzing of the whole HTTP API from its own OpenAPI description (Schemathesis).

Every operation in ``/api/openapi.json`` is called in-process (ASGI, no server) with generated valid and invalid
input: as a customer admin (every operation a customer can reach), as an administrator (every operation), and
signed out (the public ones; every other one must refuse a signed-out caller with 401). Each caller has a
demo-seeded SQLite database of its own, so routes that change data run too. Two checks hold for every call:

- ``not_a_server_error``: no input ever answers 5xx;
- ``negative_data_rejection``: input that breaks the schema (wrong type, out of bounds, missing) is refused with
  a 4xx, never accepted.

Run it alone with ``.venv/bin/python -m pytest tests/api/test_api_fuzz.py -q``. ``PORTAL_FUZZ_EXAMPLES`` sets the
number of generated cases per operation in the fuzzing phase (default 8, which keeps the suite fast; the
coverage phase adds the boundary and type-mutation cases of every parameter whatever the number); raise it for
a longer run before a release. The seed is fixed, so a failure reproduces; ``PORTAL_FUZZ_SEED`` changes it.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection

import seed
from portal_app.api import deps
from portal_app.api.app import build_api
from portal_app.db import make_engine

EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES", "8"))
SEED = int(os.environ.get("PORTAL_FUZZ_SEED", "20261130"))
CHECKS = [not_a_server_error, negative_data_rejection]
CUSTOMER = "alice@acme.example"  # customer admin: also manages colleagues
ADMIN = "admin@harborsky.example"  # every staff permission
STAFF_ONLY_TAGS = ["tower", "kpis", "configuration"]  # refused (403) for a customer before any input is read
# Carriers' track & trace routes prove themselves with a signature or an integration key, not a sign-in.
PUBLIC = re.compile(r"^/api/(health|ready|metrics|auth/(login|logout|sso/(start|callback))|branding/logo|"
                    r"v1/help/(search|suggest|articles(/\{slug\})?)|v1/integrations/dcsa/(v2/callback|v3/events))$")

APP = build_api()


def _config(*, unexpected_methods: bool) -> schemathesis.Config:
    coverage: dict = {} if unexpected_methods else {"unexpected-methods": []}
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "generation": {"max-examples": EXAMPLES, "database": "none"},
        "phases": {"coverage": coverage, "stateful": {"enabled": False}},
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
    })


signed_in = schemathesis.openapi.from_asgi("/api/openapi.json", APP, config=_config(unexpected_methods=False))
public = schemathesis.openapi.from_asgi("/api/openapi.json", APP, config=_config(unexpected_methods=True)).include(
    path_regex=PUBLIC.pattern)


@dataclass
class FuzzWorld:
    """A demo-seeded database of its own and a signed-in session on it (no cookie when signed out)."""

    engine: sa.Engine
    email: str | None
    cookies: dict[str, str]


@contextmanager
def routed_to(engine: sa.Engine) -> Iterator[None]:
    """Every database session the API opens (requests and streamed downloads) uses ``engine``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("portal_app.db.get_engine", lambda url=None: engine)
        patch.setattr(deps, "get_engine", lambda url=None: engine)
        yield


def _sign_in(email: str | None) -> dict[str, str]:
    if email is None:
        return {}
    resp = TestClient(APP).post("/api/auth/login", json={"email": email, "password": seed.DEMO_PASSWORD})
    assert resp.status_code == 200, resp.text
    return dict(resp.cookies)


def _fuzz_world(email: str | None) -> Iterator[FuzzWorld]:
    folder = Path(tempfile.mkdtemp(prefix="portal-fuzz-"))
    engine = make_engine(f"sqlite:///{folder / 'fuzz.db'}")
    seed.create_schema(engine)
    seed.run(engine, shipments=40)
    with routed_to(engine):
        world = FuzzWorld(engine, email, _sign_in(email))
    yield world
    if email is not None:  # the session outlived the whole run, so every case really ran signed in
        with routed_to(engine):
            assert TestClient(APP, cookies=world.cookies).get("/api/auth/me").status_code == 200
    engine.dispose()


@pytest.fixture(scope="module")
def customer_world() -> Iterator[FuzzWorld]:
    yield from _fuzz_world(CUSTOMER)


@pytest.fixture(scope="module")
def staff_world() -> Iterator[FuzzWorld]:
    yield from _fuzz_world(ADMIN)


@pytest.fixture(scope="module")
def signed_out_world() -> Iterator[FuzzWorld]:
    yield from _fuzz_world(None)


def _call_and_check(case: schemathesis.Case, world: FuzzWorld) -> None:
    with routed_to(world.engine):
        cookies = world.cookies
        if case.path == "/api/auth/logout" and world.email:  # signing out ends a session: never the run's own
            cookies = _sign_in(world.email)
        case.call_and_validate(cookies=cookies, checks=CHECKS)


@signed_in.exclude(tag=STAFF_ONLY_TAGS).parametrize()
def test_api_fuzz_as_a_customer(case: schemathesis.Case, customer_world: FuzzWorld) -> None:
    _call_and_check(case, customer_world)


@signed_in.parametrize()
def test_api_fuzz_as_an_administrator(case: schemathesis.Case, staff_world: FuzzWorld) -> None:
    _call_and_check(case, staff_world)


@public.parametrize()
def test_api_fuzz_signed_out(case: schemathesis.Case, signed_out_world: FuzzWorld) -> None:
    _call_and_check(case, signed_out_world)


def test_every_other_operation_refuses_a_signed_out_caller(signed_out_world: FuzzWorld):
    """What the signed-out fuzzing leaves out needs a sign-in: 401 in the error shape, before any input is read."""
    spec = APP.openapi()
    checked = []
    with routed_to(signed_out_world.engine):
        client = TestClient(APP)
        for path, item in spec["paths"].items():
            if PUBLIC.match(path):
                continue
            for method in item:
                resp = client.request(method.upper(), re.sub(r"\{[^}]+\}", "1", path))
                assert resp.status_code == 401, f"{method.upper()} {path}: {resp.status_code} {resp.text[:200]}"
                assert resp.json()["error"]["code"] == "not_authenticated"
                checked.append(f"{method.upper()} {path}")
    assert len(checked) > 100


def test_every_staff_only_operation_refuses_a_customer(customer_world: FuzzWorld):
    """What the customer's fuzzing leaves out is staff-only: 403 in the error shape, before any input is read."""
    spec = APP.openapi()
    checked = []
    with routed_to(customer_world.engine):
        client = TestClient(APP, cookies=customer_world.cookies)
        for path, item in spec["paths"].items():
            for method, op in item.items():
                if set(op.get("tags", [])) & set(STAFF_ONLY_TAGS) and not PUBLIC.match(path):
                    resp = client.request(method.upper(), re.sub(r"\{[^}]+\}", "1", path))
                    assert resp.status_code == 403, f"{method.upper()} {path}: {resp.status_code} {resp.text[:200]}"
                    checked.append(f"{method.upper()} {path}")
    assert len(checked) > 30
