"""Single sign-on over HTTP, as browsers and administrators' tools use it, against a real provider on loopback:
the set-up routes (administrators only, the secret never read back) and the sign-in redirects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from models import AuditLog, Company, LoginAttempt, SsoConnection, UserSession
from portal_app.api.app import build_api
from portal_app.api.deps import get_db
from portal_app.auth import sso
from portal_app.auth.sessions import SESSION_COOKIE
from portal_app.services.errors import ErrorCode
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


# ------------------------------------------------------------------------------------------------ two factors


def test_trusting_the_providers_mfa_is_a_setting_off_by_default(admin, alfa, world, provider):
    assert admin.get(f"/api/v1/config/companies/{alfa}/sso").json()["trust_provider_mfa"] is False
    on = admin.put(f"/api/v1/config/companies/{alfa}/sso",
                   json=body(provider.issuer, ["alfa.test"], client_secret=None, trust_provider_mfa=True))
    assert on.status_code == 200 and on.json()["trust_provider_mfa"] is True
    assert admin.get(f"/api/v1/config/companies/{alfa}/sso").json()["trust_provider_mfa"] is True
    staff = admin.put("/api/v1/config/staff-sso", json=body(provider.issuer, ["fwd.test"], default_role="ops_agent",
                                                             trust_provider_mfa=True))
    assert staff.json()["trust_provider_mfa"] is True
    assert admin.get("/api/v1/config/staff-sso").json()["trust_provider_mfa"] is True
    bad = admin.put("/api/v1/config/staff-sso", json=body(provider.issuer, ["fwd.test"], default_role="ops_agent",
                                                           trust_provider_mfa="perhaps"))
    assert bad.status_code == 422 and bad.json()["error"]["saved"] is False


@pytest.fixture()
def alfa_requires_mfa(engine, world, alfa) -> Iterator[int]:
    with Session(engine) as s:
        s.exec(sa.update(Company).where(col(Company.id) == alfa).values(mfa_required=True))
        s.commit()
    yield alfa
    with Session(engine) as s:
        s.exec(sa.update(Company).where(col(Company.id) == alfa).values(mfa_required=False))
        s.commit()


def _trust(admin: TestClient, company_id: int, issuer: str, trust: bool) -> None:
    saved = admin.put(f"/api/v1/config/companies/{company_id}/sso",
                      json=body(issuer, ["alfa.test"], client_secret=None, trust_provider_mfa=trust))
    assert saved.status_code == 200 and saved.json()["trust_provider_mfa"] is trust


def _session_row(engine, client: TestClient) -> UserSession:
    from portal_app.auth.sessions import hash_token

    with Session(engine) as s:
        return s.exec(select(UserSession).where(UserSession.token_hash == hash_token(client.cookies[SESSION_COOKIE]))
                      ).one()


def test_a_provider_asserting_two_factors_spares_the_portals_enrolment(admin, alfa_requires_mfa, provider, engine):
    _trust(admin, alfa_requires_mfa, provider.issuer, True)
    provider.set_user("api-mfa-otp", "customer_user@alfa.test", amr=["pwd", "otp"])
    client = browser()
    back = sso_sign_in(client, provider, "customer_user@alfa.test", "api-mfa-otp", next_url="/portal/shipments")
    assert back.status_code == 302 and back.headers["location"] == "/portal/shipments"
    assert client.get("/api/v1/shipments").status_code == 200
    assert client.get("/api/auth/me").json()["email"] == "customer_user@alfa.test"
    assert client.get("/api/v1/account/mfa").json()["required"] is True  # the policy stands; this session meets it
    row = _session_row(engine, client)
    assert row.mfa_by_provider is True
    with Session(engine) as s:
        entry = s.exec(select(AuditLog).where(AuditLog.action == "sign_in", AuditLog.entity_id == str(row.user_id))
                       .order_by(col(AuditLog.id).desc())).first()
    assert entry is not None
    after = json.loads(entry.after or "{}")
    assert after["session"] == row.id and after["method"] == "sso" and after["mfa_by_provider"] is True
    assert after["amr"] == ["pwd", "otp"]


@pytest.mark.parametrize(("trust", "amr"), [(True, ["pwd"]), (True, ["pwd", "pin"]), (False, ["mfa"]),
                                            (False, ["pwd", "otp"])])
def test_without_trust_or_without_two_factors_the_person_must_enrol(admin, alfa_requires_mfa, provider, engine,
                                                                     trust, amr):
    _trust(admin, alfa_requires_mfa, provider.issuer, trust)
    provider.set_user("api-mfa-weak", "customer_user@alfa.test", amr=amr)
    client = browser()
    back = sso_sign_in(client, provider, "customer_user@alfa.test", "api-mfa-weak", next_url="/portal/shipments")
    assert back.status_code == 302 and back.headers["location"] == "/portal/account/two-factor"
    refused = client.get("/api/v1/shipments")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "mfa_enrolment_required"
    assert client.get("/api/v1/account/mfa").status_code == 200  # enrolment itself stays open
    assert _session_row(engine, client).mfa_by_provider is False


def test_a_trusted_provider_changes_nothing_when_mfa_is_not_required(admin, alfa, provider, engine):
    _trust(admin, alfa, provider.issuer, True)
    provider.set_user("api-mfa-none", "customer_user@alfa.test", amr=["pwd"])
    client = browser()
    assert sso_sign_in(client, provider, "customer_user@alfa.test", "api-mfa-none").headers["location"] == "/portal"
    assert client.get("/api/v1/shipments").status_code == 200


@pytest.mark.parametrize(("amr", "asserted"), [
    (["mfa"], True), (["pwd", "otp"], True), (["hwk", "pin"], True), (["pwd", "fpt"], True), (["swk", "face"], True),
    (["pwd", "sms"], True), (["pwd"], False), (["otp"], False), (["hwk"], False), (["pwd", "pin", "kba"], False),
    (["pwd", "user", "rba"], False), ([], False), (None, False), ("mfa", False), ([["mfa"]], False),
])
def test_which_amr_values_count_as_several_factors(amr, asserted):
    assert sso.provider_asserted_mfa(amr) is asserted


# ------------------------------------------------------------------------------------------------ userinfo


def test_an_id_token_without_email_is_completed_from_userinfo(alfa, provider):
    provider.set_user("api-slim", None, verified=None, name="Slim Token")
    provider.claims_after_token("api-slim", "customer_user@alfa.test", verified=True)
    client = browser()
    back = sso_sign_in(client, provider, "customer_user@alfa.test", "api-slim", next_url="/portal/x")
    assert back.headers["location"] == "/portal/x", back.headers["location"]
    assert client.get("/api/auth/me").json()["email"] == "customer_user@alfa.test"


def test_userinfo_must_verify_the_address_too(alfa, provider, db):
    provider.set_user("api-slim-unverified", None, verified=None)
    provider.claims_after_token("api-slim-unverified", "customer_user@alfa.test", verified=False)
    client = browser()
    back = sso_sign_in(client, provider, "customer_user@alfa.test", "api-slim-unverified")
    assert query_of(back.headers["location"])["error"] == "sso_email_unverified"
    assert SESSION_COOKIE not in client.cookies


def test_an_id_token_without_email_verified_takes_it_from_userinfo_for_the_same_address(alfa, provider):
    provider.set_user("api-noflag", "customer_user@alfa.test", verified=None)
    provider.claims_after_token("api-noflag", "customer_user@alfa.test", verified=True)
    client = browser()
    assert sso_sign_in(client, provider, "customer_user@alfa.test", "api-noflag").headers["location"] == "/portal"
    # userinfo vouching for another address does not verify the ID token's
    provider.set_user("api-noflag2", "customer_user@alfa.test", verified=None)
    provider.claims_after_token("api-noflag2", "other@alfa.test", verified=True)
    other = browser()
    back = sso_sign_in(other, provider, "customer_user@alfa.test", "api-noflag2")
    assert query_of(back.headers["location"])["error"] == "sso_email_unverified"


def _real_tokens(engine, client: TestClient, provider: MockProvider, email: str, sub: str
                 ) -> tuple[SsoConnection, dict]:
    """A code from the real provider, exchanged at its token endpoint as the callback would."""
    started = client.get("/api/auth/sso/start", params={"email": email})
    answer = provider.authorize(started.headers["location"], sub)
    with Session(engine) as s:
        pending = s.get(sso.SsoPending, sso._sha(answer["state"]))
        connection = s.get(SsoConnection, pending.connection_id)
        s.expunge_all()
    tokens = sso._exchange(connection, sso._provider(connection.issuer), answer["code"], pending.code_verifier)
    return connection, tokens


def test_userinfo_of_another_subject_is_refused(alfa, provider, engine):
    provider.set_user("api-info", "customer_user@alfa.test")
    connection, tokens = _real_tokens(engine, browser(), provider, "customer_user@alfa.test", "api-info")
    meta = sso._provider(connection.issuer)
    completed = sso._with_userinfo(connection, meta, tokens, {"sub": "api-info"})
    assert completed["email"] == "customer_user@alfa.test" and completed["email_verified"] is True
    with pytest.raises(sso.SsoFailed) as caught:
        sso._with_userinfo(connection, meta, tokens, {"sub": "someone-else"})
    assert caught.value.code == ErrorCode.SSO_USERINFO_MISMATCH
    assert "different person" in caught.value.message and "not signed in" in caught.value.message
    # the ID token's own values are never replaced; a flag without an address is not carried over to userinfo's
    kept = {"sub": "someone-else", "email": "x@alfa.test", "email_verified": False}
    assert sso._with_userinfo(connection, meta, tokens, kept) is kept
    provider.set_user("api-info", "customer_user@alfa.test", verified=None)
    paired = sso._with_userinfo(connection, meta, tokens, {"sub": "api-info", "email_verified": True})
    assert paired["email"] == "customer_user@alfa.test" and "email_verified" not in paired


def test_userinfo_goes_through_the_address_check(alfa, provider, engine):
    provider.set_user("api-info-ssrf", "customer_user@alfa.test")
    connection, tokens = _real_tokens(engine, browser(), provider, "customer_user@alfa.test", "api-info-ssrf")
    real = sso._provider(connection.issuer)
    inside = sso._Provider(metadata={**real.metadata, "userinfo_endpoint": "http://10.0.0.7/userinfo"}, jwks=None,
                           expires=0)
    with pytest.raises(sso.SsoFailed) as caught:
        sso._with_userinfo(connection, inside, tokens, {"sub": "api-info-ssrf"})
    assert caught.value.code == ErrorCode.SSO_UNAVAILABLE
    # a token the provider does not know is refused, not believed
    with pytest.raises(sso.SsoFailed) as refused:
        sso._with_userinfo(connection, real, {**tokens, "access_token": "forged"}, {"sub": "api-info-ssrf"})
    assert refused.value.code == ErrorCode.SSO_TOKEN_INVALID
