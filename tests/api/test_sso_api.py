"""Single sign-on over HTTP, as browsers and administrators' tools use it, against a real provider on loopback:
the set-up routes (administrators only, the secret never read back) and the sign-in redirects."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from models import LoginAttempt
from portal_app.api.app import build_api
from portal_app.api.deps import get_db
from portal_app.auth import sso
from portal_app.auth.sessions import SESSION_COOKIE
from tests.factories import PASSWORD, client_for
from tests.oidc_mock import MockProvider, free_port, running_provider
from tests.services.test_sso import cleanup, new_email

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.*")


@pytest.fixture(scope="module")
def provider() -> Iterator[MockProvider]:
    with running_provider() as running:
        yield running


@pytest.fixture()
def admin(world, engine) -> Iterator[TestClient]:
    cleanup(engine)
    yield client_for("admin@fwd.test")
    cleanup(engine)


def body(issuer: str, domains: list[str], **more) -> dict:
    return {"issuer": issuer, "client_id": "portal", "client_secret": "s3cret-value", "email_domains": domains,
            "default_role": "customer_user", "password_login_allowed": True, **more}


@pytest.fixture()
def alfa(admin, world, provider) -> int:
    company_id = world.companies["ALFA"]
    assert admin.put(f"/api/v1/config/companies/{company_id}/sso", json=body(provider.issuer, ["alfa.test"])
                     ).status_code == 200
    return company_id


def browser() -> TestClient:
    return TestClient(build_api(), follow_redirects=False)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def sso_sign_in(client: TestClient, provider: MockProvider, email: str, sub: str | None, next_url: str = "",
                deny: bool = False):
    started = client.get("/api/auth/sso/start", params={"email": email, "next": next_url})
    assert started.status_code == 302, started.text
    answer = provider.authorize(started.headers["location"], sub, deny=deny)
    return client.get("/api/auth/sso/callback", params=answer)


# ------------------------------------------------------------------------------------------------ set-up


def test_administrators_connect_read_and_disconnect_a_provider(admin, alfa, provider):
    got = admin.get(f"/api/v1/config/companies/{alfa}/sso")
    assert got.status_code == 200
    data = got.json()
    assert data["client_secret_set"] is True and "s3cret-value" not in got.text and "client_secret" not in data
    assert data["email_domains"] == ["alfa.test"] and data["issuer"] == provider.issuer
    assert admin.delete(f"/api/v1/config/companies/{alfa}/sso").status_code == 204
    missing = admin.get(f"/api/v1/config/companies/{alfa}/sso")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_staff_provider_routes(admin, provider):
    put = admin.put("/api/v1/config/staff-sso", json=body(provider.issuer, ["fwd.test"], default_role="ops_agent"))
    assert put.status_code == 200 and put.json()["company_name"] == "Forwarder Ltd"
    assert admin.get("/api/v1/config/staff-sso").json()["default_role"] == "ops_agent"
    assert admin.delete("/api/v1/config/staff-sso").status_code == 204
    assert admin.get("/api/v1/config/staff-sso").status_code == 404


def test_only_administrators_may(admin, world, provider):
    for email in ("ops_manager@fwd.test", "customer_admin@alfa.test"):
        other = client_for(email)
        answer = other.put(f"/api/v1/config/companies/{world.companies['ALFA']}/sso",
                           json=body(provider.issuer, ["alfa.test"]))
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "admin_only"
        assert other.get("/api/v1/config/staff-sso").status_code == 403


def test_bad_settings_are_refused_with_words(admin, alfa, world, provider):
    wrong = admin.put(f"/api/v1/config/companies/{world.companies['BETA']}/sso",
                      json=body("http://192.168.1.10", ["beta.test"], default_role="admin"))
    assert wrong.status_code == 422
    error = wrong.json()["error"]
    assert set(error["fields"]) == {"issuer", "default_role"} and error["saved"] is False
    taken = admin.put(f"/api/v1/config/companies/{world.companies['BETA']}/sso",
                      json=body(provider.issuer, ["alfa.test"]))
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "sso_domain_taken"
    staff_company = admin.put(f"/api/v1/config/companies/{world.companies['FWD']}/sso",
                              json=body(provider.issuer, ["fwd.test"]))
    assert staff_company.status_code == 404


# ------------------------------------------------------------------------------------------------ signing in


def test_sign_in_through_the_provider_opens_a_portal_session(alfa, provider, engine):
    provider.set_user("api-alice", "customer_user@alfa.test")
    client = browser()
    started = client.get("/api/auth/sso/start", params={"email": "customer_user@alfa.test", "next": "/portal/x"})
    assert started.status_code == 302 and started.headers["location"].startswith(provider.issuer + "/oauth2/")
    cookie = started.headers["set-cookie"]
    assert f"{sso.STATE_COOKIE}=" in cookie and "HttpOnly" in cookie and "Path=/api/auth/sso" in cookie
    answer = provider.authorize(started.headers["location"], "api-alice")
    back = client.get("/api/auth/sso/callback", params=answer)
    assert back.status_code == 302 and back.headers["location"] == "/portal/x"
    assert SESSION_COOKIE in client.cookies and "HttpOnly" in back.headers.get("set-cookie", "")
    assert client.get("/api/auth/me").json()["email"] == "customer_user@alfa.test"
    assert client.get("/api/v1/shipments").status_code == 200


def test_a_new_person_lands_in_the_portal(alfa, provider):
    email = new_email()
    provider.set_user("api-new", email)
    client = browser()
    back = sso_sign_in(client, provider, email, "api-new", next_url="//evil.example/x")
    assert back.status_code == 302 and back.headers["location"] == "/portal"
    me = client.get("/api/auth/me").json()
    assert me["email"] == email and me["role"] == "customer_user" and me["company_name"] == "Alfa Imports"


@pytest.mark.parametrize(("case", "code"), [("deny", "sso_denied"), ("no_cookie", "sso_state_invalid"),
                                            ("other_company", "sso_wrong_company"),
                                            ("unverified", "sso_email_unverified")])
def test_failures_go_back_to_the_sign_in_page_with_a_code(alfa, provider, case, code, db):
    email = "customer_user@alfa.test"
    provider.set_user("api-case", {"other_company": "customer_user@beta.test"}.get(case, email),
                      verified=case != "unverified")
    client = browser()
    started = client.get("/api/auth/sso/start", params={"email": email})
    answer = provider.authorize(started.headers["location"], "api-case", deny=case == "deny")
    if case == "no_cookie":
        client.cookies.clear()
    back = client.get("/api/auth/sso/callback", params=answer)
    assert back.status_code == 302 and query_of(back.headers["location"])["error"] == code
    assert back.headers["location"].startswith("/login?")
    assert SESSION_COOKIE not in client.cookies
    assert db.exec(select(LoginAttempt).where(LoginAttempt.reason == code)).first() is not None


def test_an_email_without_a_provider_goes_back_to_the_password(alfa):
    back = browser().get("/api/auth/sso/start", params={"email": "someone@beta.test", "next": "/portal"})
    assert back.status_code == 302
    assert query_of(back.headers["location"]) == {"error": "sso_not_configured", "email": "someone@beta.test",
                                                  "next": "/portal"}


def test_a_provider_that_is_down_says_so_and_passwords_still_work(admin, world):
    admin.put(f"/api/v1/config/companies/{world.companies['ALFA']}/sso",
              json=body(f"http://127.0.0.1:{free_port()}", ["alfa.test"]))
    back = browser().get("/api/auth/sso/start", params={"email": "customer_user@alfa.test"})
    assert query_of(back.headers["location"])["error"] == "sso_provider_unreachable"
    assert browser().post("/api/auth/login", json={"email": "customer_user@alfa.test", "password": PASSWORD}
                          ).status_code == 200


def test_password_sign_in_answers_sso_required(admin, world, provider):
    admin.put(f"/api/v1/config/companies/{world.companies['ALFA']}/sso",
              json=body(provider.issuer, ["alfa.test"], password_login_allowed=False))
    client = browser()
    api = client.post("/api/auth/login", json={"email": "customer_user@alfa.test", "password": PASSWORD})
    assert api.status_code == 401 and api.json()["error"]["code"] == "sso_required"
    assert "identity provider" in api.json()["error"]["message"]
    form = client.post("/api/auth/login", data={"email": "customer_user@alfa.test", "password": PASSWORD})
    assert form.status_code == 303 and query_of(form.headers["location"])["error"] == "sso_required"
    # the company's people still sign in through the provider
    provider.set_user("api-required", "customer_user@alfa.test")
    assert sso_sign_in(client, provider, "customer_user@alfa.test", "api-required").headers["location"] == "/portal"


def test_a_staff_address_cannot_use_a_customer_provider(alfa, provider):
    provider.set_user("api-staff", "admin@fwd.test")
    client = browser()
    back = sso_sign_in(client, provider, "customer_user@alfa.test", "api-staff")
    assert query_of(back.headers["location"])["error"] == "sso_wrong_company"
    assert client.get("/api/auth/me").status_code == 401


def test_demo_accounts_through_acmes_provider(demo, provider):
    """Over the demo data as `make run` seeds it: the demo administrator connects Acme's provider; Acme's people
    then sign in through it (and not with passwords), Nordwind's and the staff's are not affected."""
    admin = demo.client("admin@harborsky.example")
    acme = demo.alice.company_id
    saved = admin.put(f"/api/v1/config/companies/{acme}/sso",
                      json=body(provider.issuer, ["acme.example"], password_login_allowed=False))
    assert saved.status_code == 200, saved.text
    nordwind = admin.put(f"/api/v1/config/companies/{demo.nina.company_id}/sso",
                         json=body(provider.issuer, ["acme.example"]))
    assert nordwind.status_code == 409 and nordwind.json()["error"]["code"] == "sso_domain_taken"
    sso.forget_providers()

    def demo_db():
        with demo.session() as s:
            yield s

    api = build_api()
    api.dependency_overrides[get_db] = demo_db
    client = TestClient(api, follow_redirects=False)
    refused = client.post("/api/auth/login", json={"email": "bob@acme.example", "password": "demo-Pass-2026"})
    assert refused.json()["error"]["code"] == "sso_required"
    provider.set_user("demo-bob", "bob@acme.example")
    back = sso_sign_in(client, provider, "bob@acme.example", "demo-bob", next_url="/portal/shipments")
    assert back.headers["location"] == "/portal/shipments"
    me = client.get("/api/auth/me").json()
    assert (me["email"], me["company_name"]) == ("bob@acme.example", "Acme Home Goods Ltd")
    other = TestClient(api).post("/api/auth/login", json={"email": "nina@nordwind.example",
                                                           "password": "demo-Pass-2026"})
    assert other.status_code == 200
