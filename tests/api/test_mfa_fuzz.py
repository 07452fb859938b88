"""Property-based fuzzing of the two-factor routes (Schemathesis, as tests/api/test_api_fuzz.py does for the whole
API), on a demo-seeded database where Acme requires two-factor sign-in: Alice (customer admin) has it on, Bob
(customer user) must still enrol, Ada (administrator) has it on. No input answers 5xx, and input that breaks the
schema is refused with a 4xx. Then, for Bob, every other operation of the API answers 403
``mfa_enrolment_required`` before reading any input.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
import schemathesis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection

import seed
from portal_app.db import make_engine
from tests.api.test_api_fuzz import APP, PUBLIC, routed_to
from tests.api.test_api_fuzz import _config as fuzz_config

MFA_ROUTES = r"^/api/(v1/account/mfa.*|v1/account/users/\{user_id\}/mfa|v1/config/users/\{user_id\}/mfa)$"
ENROLMENT = re.compile(r"^/api/v1/account/mfa(/totp(/confirm)?)?$")  # what someone who must enrol may use
ALICE, BOB, ADA = "alice@acme.example", "bob@acme.example", "admin@harborsky.example"

mfa_routes = schemathesis.openapi.from_asgi("/api/openapi.json", APP, config=fuzz_config(unexpected_methods=False)
                                            ).include(path_regex=MFA_ROUTES)


@dataclass
class MfaWorld:
    engine: sa.Engine
    cookies: dict[str, dict[str, str]]  # email -> session cookies


def _sign_in(email: str, secret: str | None = None) -> dict[str, str]:
    body = {"email": email, "password": seed.DEMO_PASSWORD}
    if secret:
        body["otp"] = pyotp.TOTP(secret).now()
    resp = TestClient(APP).post("/api/auth/login", json=body)
    assert resp.status_code == 200, resp.text
    return dict(resp.cookies)


def _enrol(cookies: dict[str, str]) -> str:
    client = TestClient(APP, cookies=cookies)
    secret = client.post("/api/v1/account/mfa/totp").json()["secret"]
    assert client.post("/api/v1/account/mfa/totp/confirm",
                       json={"code": pyotp.TOTP(secret).now()}).status_code == 200
    return secret


@pytest.fixture(scope="module")
def mfa_world() -> Iterator[MfaWorld]:
    folder = Path(tempfile.mkdtemp(prefix="portal-mfa-fuzz-"))
    engine = make_engine(f"sqlite:///{folder / 'fuzz.db'}")
    seed.create_schema(engine)
    seed.run(engine, shipments=20)
    with routed_to(engine):
        alice, ada = _sign_in(ALICE), _sign_in(ADA)
        _enrol(alice)
        _enrol(ada)
        assert TestClient(APP, cookies=alice).put("/api/v1/account/mfa/policy",
                                                  json={"required": True}).status_code == 200
        world = MfaWorld(engine, {ALICE: alice, ADA: ada, BOB: _sign_in(BOB)})
    yield world
    engine.dispose()


def _call(case: schemathesis.Case, world: MfaWorld, email: str) -> None:
    with routed_to(world.engine):
        case.call_and_validate(cookies=world.cookies[email], checks=[not_a_server_error, negative_data_rejection])


@mfa_routes.exclude(tag=["configuration"]).parametrize()
def test_mfa_fuzz_as_an_enrolled_customer_admin(case: schemathesis.Case, mfa_world: MfaWorld) -> None:
    _call(case, mfa_world, ALICE)


@mfa_routes.exclude(tag=["configuration"]).parametrize()
def test_mfa_fuzz_as_a_customer_who_must_enrol(case: schemathesis.Case, mfa_world: MfaWorld) -> None:
    _call(case, mfa_world, BOB)


@mfa_routes.parametrize()
def test_mfa_fuzz_as_an_enrolled_administrator(case: schemathesis.Case, mfa_world: MfaWorld) -> None:
    _call(case, mfa_world, ADA)


def test_who_must_enrol_reaches_only_enrolment_and_sign_out(mfa_world: MfaWorld):
    """Every operation but enrolment, sign-in and sign-out refuses Bob until he enrols, before reading input."""
    spec = APP.openapi()
    refused = []
    with routed_to(mfa_world.engine):
        policy = TestClient(APP, cookies=mfa_world.cookies[ALICE]).put("/api/v1/account/mfa/policy",
                                                                       json={"required": True})
        assert policy.status_code == 200, policy.text  # the fuzzing may have switched it off
        client = TestClient(APP, cookies=_sign_in(BOB))
        for path, item in spec["paths"].items():
            if ENROLMENT.match(path) or PUBLIC.match(path):
                continue
            for method in item:
                resp = client.request(method.upper(), re.sub(r"\{[^}]+\}", "1", path))
                assert resp.status_code == 403, f"{method.upper()} {path}: {resp.status_code} {resp.text[:200]}"
                assert resp.json()["error"]["code"] == "mfa_enrolment_required", f"{method.upper()} {path}"
                refused.append(path)
        assert client.get("/api/v1/account/mfa").json()["required"] is True
        assert client.post("/api/auth/logout").status_code == 200
    assert len(refused) > 100
