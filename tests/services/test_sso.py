"""Single sign-on against a real OpenID Connect provider on loopback (tests/oidc_mock.py): the set-up rules, the
sign-in rules (who may be signed in where) and every refusal, through the services."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import AuditLog, Company, LoginAttempt, PortalEvent, SsoConnection, SsoDomain, SsoPending, User, UserSession
from models.enums import Role
from portal_app.auth import sessions, sso
from portal_app.auth.principal import Principal
from portal_app.services import outbound, secret_box
from portal_app.services.config import sso as sso_config
from portal_app.services.errors import Conflict, ErrorCode, FormInvalid, NotAuthenticated, PermissionDenied
from tests.factories import PASSWORD, World
from tests.oidc_mock import MockProvider, free_port, running_provider

# The provider in the test process warns about its own use of Authlib's older interfaces.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.*")
_n = itertools.count(1)
SECRET = "client-secret-of-alfa"


def principal_for(db: Session, email: str) -> Principal:
    user = db.exec(select(User).where(User.email == email)).one()
    company = db.get(Company, user.company_id)
    return Principal(user.id, company.id, Role(user.role), user.email, user.full_name, company.name)


def settings_in(issuer: str, domains: list[str], role: str = "customer_user", **more) -> sso_config.SsoSettingsIn:
    return sso_config.SsoSettingsIn(issuer=issuer, client_id="portal-alfa", client_secret=SECRET,
                                    email_domains=domains, default_role=role, **more)


def cleanup(engine: sa.Engine) -> None:
    """Every test starts without connections, pending sign-ins, links or people made by sign-on."""
    with Session(engine) as db:
        made = list(db.exec(select(User.id).where(col(User.email).startswith("sso-"))).all())
        db.exec(sa.delete(AuditLog).where(sa.or_(col(AuditLog.action) == "user_created_by_sso",
                                                 col(AuditLog.actor_id).in_(made))))
        for table in (UserSession, LoginAttempt, PortalEvent):
            db.exec(sa.delete(table).where(col(table.user_id).in_(made)))
        db.exec(sa.delete(User).where(col(User.id).in_(made)))
        db.exec(sa.update(User).values(oidc_subject=None))
        for table in (SsoDomain, SsoPending, SsoConnection):
            db.exec(sa.delete(table))
        db.commit()
    sso.forget_providers()


@pytest.fixture(scope="module")
def provider() -> Iterator[MockProvider]:
    with running_provider() as running:
        yield running


@pytest.fixture()
def admin(db: Session, world: World, engine) -> Iterator[Principal]:
    cleanup(engine)
    yield principal_for(db, "admin@fwd.test")
    cleanup(engine)


@pytest.fixture()
def alfa_sso(db: Session, world: World, admin: Principal, provider: MockProvider) -> sso_config.SsoSettings:
    return sso_config.save_company_sso(db, admin, world.companies["ALFA"], settings_in(provider.issuer, ["alfa.test"]))


def new_email(domain: str = "alfa.test") -> str:
    return f"sso-{next(_n)}@{domain}"


def sign_in(db: Session, provider: MockProvider, email: str, sub: str | None, *, deny: bool = False,
            cookie_state: str | None = None, next_url: str = "") -> sso.Finished:
    started = sso.start(db, email, next_url)
    answer = provider.authorize(started.redirect_url, sub, deny=deny)
    return sso.finish(db, state=answer.get("state", ""), cookie_state=cookie_state or started.state,
                      code=answer.get("code", ""), error=answer.get("error", ""), ip="127.0.0.1", user_agent="test")


def refused(db: Session, provider: MockProvider, email: str, sub: str | None, **kwargs) -> ErrorCode:
    with pytest.raises(sso.SsoFailed) as caught:
        sign_in(db, provider, email, sub, **kwargs)
    assert caught.value.message and "sign" in caught.value.message
    return ErrorCode(caught.value.code)


# ------------------------------------------------------------------------------------------------ set-up


def test_the_secret_is_stored_encrypted_and_never_returned(db, world, alfa_sso):
    assert alfa_sso.client_secret_set
    assert "client_secret" not in alfa_sso.model_dump()
    row = db.exec(select(SsoConnection)).one()
    assert SECRET not in row.client_secret_encrypted
    assert secret_box.decrypt(row.client_secret_encrypted) == SECRET
    assert alfa_sso.email_domains == ["alfa.test"] and alfa_sso.company_name == "Alfa Imports"


def test_saving_again_without_a_secret_keeps_the_stored_one(db, world, admin, alfa_sso, provider):
    body = settings_in(provider.issuer, ["ALFA.test", "@alfa-imports.test"], password_login_allowed=False)
    body = body.model_copy(update={"client_secret": None})
    again = sso_config.save_company_sso(db, admin, world.companies["ALFA"], body)
    assert again.email_domains == ["alfa-imports.test", "alfa.test"] and again.version == 2
    assert secret_box.decrypt(db.exec(select(SsoConnection)).one().client_secret_encrypted) == SECRET


def test_only_administrators_set_it_up(db, world, provider, admin):
    for email in ("ops_manager@fwd.test", "customer_admin@alfa.test"):
        with pytest.raises(PermissionDenied):
            sso_config.save_company_sso(db, principal_for(db, email), world.companies["ALFA"],
                                        settings_in(provider.issuer, ["alfa.test"]))
    assert db.exec(select(SsoConnection)).first() is None


def test_one_domain_belongs_to_one_company(db, world, admin, alfa_sso, provider):
    with pytest.raises(Conflict) as taken:
        sso_config.save_company_sso(db, admin, world.companies["BETA"], settings_in(provider.issuer, ["alfa.test"]))
    assert taken.value.code == ErrorCode.SSO_DOMAIN_TAKEN and "Alfa Imports" in taken.value.message
    # nor a domain whose people are of another company (here the staff's)
    with pytest.raises(Conflict) as staff:
        sso_config.save_company_sso(db, admin, world.companies["BETA"], settings_in(provider.issuer, ["fwd.test"]))
    assert staff.value.code == ErrorCode.SSO_DOMAIN_TAKEN
    assert db.exec(select(sa.func.count()).select_from(SsoConnection)).one() == 1


@pytest.mark.parametrize("issuer", ["http://10.0.0.8", "https://169.254.169.254/latest", "ftp://idp.example",
                                    "https://user:pw@127.0.0.1", "not a url"])
def test_issuers_inside_the_network_are_refused(db, world, admin, issuer):
    with pytest.raises(FormInvalid) as caught:
        sso_config.save_company_sso(db, admin, world.companies["ALFA"], settings_in(issuer, ["alfa.test"]))
    assert "issuer" in caught.value.fields


def test_loopback_is_refused_unless_allowed(db, world, admin, provider, monkeypatch):
    monkeypatch.setattr(sso_config, "settings", replace(sso_config.settings, sso_allow_loopback=False))
    with pytest.raises(FormInvalid) as caught:
        sso_config.save_company_sso(db, admin, world.companies["ALFA"], settings_in(provider.issuer, ["alfa.test"]))
    assert "private, local or reserved" in caught.value.fields["issuer"]
    with pytest.raises(outbound.AddressRefused):
        outbound.check_url("http://[::ffff:127.0.0.1]:80/")


def test_roles_fit_the_company(db, world, admin, provider):
    with pytest.raises(FormInvalid) as customer:
        sso_config.save_company_sso(db, admin, world.companies["ALFA"],
                                    settings_in(provider.issuer, ["alfa.test"], role="ops_agent"))
    assert "default_role" in customer.value.fields
    with pytest.raises(FormInvalid) as staff:
        sso_config.save_staff_sso(db, admin, settings_in(provider.issuer, ["fwd.test"], role="admin"))
    assert "default_role" in staff.value.fields


def _no_key_anywhere(monkeypatch) -> None:
    """No PORTAL_SSO_KEY and a data directory that cannot hold a key of the installation's own."""
    def unwritable(name: str, variable: str) -> bytes:
        raise PermissionError(13, "Permission denied", name)
    monkeypatch.setattr(secret_box, "settings", replace(secret_box.settings, sso_keys=()))
    monkeypatch.setattr(secret_box, "installation_key", unwritable)


def test_without_a_key_the_installation_makes_its_own_once(tmp_path, monkeypatch):
    from portal_app import key_files

    monkeypatch.setattr(secret_box, "settings", replace(secret_box.settings, sso_keys=()))
    monkeypatch.setattr(key_files, "settings", replace(key_files.settings, data_dir=tmp_path / "data"))
    stored = secret_box.encrypt("the-secret")
    key = tmp_path / "data" / "secrets.key"
    assert key.stat().st_mode & 0o777 == 0o600
    made = key.read_bytes()
    assert secret_box.decrypt(stored) == "the-secret" and key.read_bytes() == made  # read again, not remade


def test_without_a_key_nothing_can_be_set_up(db, world, admin, provider, monkeypatch):
    _no_key_anywhere(monkeypatch)
    with pytest.raises(sso_config.SsoKeyMissing) as caught:
        sso_config.save_company_sso(db, admin, world.companies["ALFA"], settings_in(provider.issuer, ["alfa.test"]))
    assert "PORTAL_SSO_KEY" in caught.value.message and caught.value.status_code == 503


def test_a_key_is_replaced_without_losing_secrets(monkeypatch):
    from cryptography.fernet import Fernet

    from portal_app.settings import parse_sso_keys

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setattr(secret_box, "settings", replace(secret_box.settings, sso_keys=(old,)))
    stored = secret_box.encrypt("the-secret")
    monkeypatch.setattr(secret_box, "settings", replace(secret_box.settings, sso_keys=parse_sso_keys(f"{new}, {old}")))
    assert secret_box.decrypt(stored) == "the-secret"
    assert Fernet(new.encode()).decrypt(secret_box.encrypt("x").encode()) == b"x"  # the first key encrypts
    monkeypatch.setattr(secret_box, "settings", replace(secret_box.settings, sso_keys=(new,)))
    with pytest.raises(secret_box.SecretUnreadable):
        secret_box.decrypt(stored)
    with pytest.raises(ValueError, match="PORTAL_SSO_KEY"):
        parse_sso_keys("not-a-key")


def test_a_secret_the_key_cannot_read_ends_on_the_sign_in_page(db, world, alfa_sso, provider, monkeypatch):
    from cryptography.fernet import Fernet

    provider.set_user("alice-6", "customer_user@alfa.test")
    monkeypatch.setattr(secret_box, "settings",
                        replace(secret_box.settings, sso_keys=(Fernet.generate_key().decode(),)))
    assert refused(db, provider, "customer_user@alfa.test", "alice-6") == ErrorCode.SSO_UNAVAILABLE


# ------------------------------------------------------------------------------------------------ signing in


def test_an_existing_person_signs_in_and_is_linked_by_subject(db, world, alfa_sso, provider):
    provider.set_user("alice-1", "customer_user@alfa.test")
    finished = sign_in(db, provider, "customer_user@alfa.test", "alice-1", next_url="/portal/shipments")
    assert finished.next_url == "/portal/shipments"
    principal = sessions.resolve_session(db, finished.result.token)
    assert principal is not None and principal.email == "customer_user@alfa.test"
    user = db.exec(select(User).where(User.email == "customer_user@alfa.test")).one()
    db.refresh(user)
    assert user.oidc_subject == sso.subject_key(provider.issuer, "alice-1")
    attempt = db.exec(select(LoginAttempt).where(LoginAttempt.user_id == user.id)).one()
    assert attempt.succeeded and attempt.reason == "sso"
    assert db.exec(select(SsoPending)).first() is None  # used once
    # later the provider reports another address of the same domain: the subject still finds the same person
    provider.set_user("alice-1", "c.user@alfa.test")
    again = sign_in(db, provider, "customer_user@alfa.test", "alice-1")
    assert again.result.principal.user_id == user.id


def test_a_new_person_is_created_in_the_providers_company(db, world, alfa_sso, provider):
    email = new_email()
    provider.set_user("new-1", email, name="Nora  New")
    finished = sign_in(db, provider, email, "new-1")
    user = db.exec(select(User).where(User.email == email)).one()
    assert (user.company_id, user.role, user.full_name, user.password_hash) == (
        world.companies["ALFA"], "customer_user", "Nora New", None)
    assert finished.result.principal.user_id == user.id
    created = db.exec(select(AuditLog).where(AuditLog.action == "user_created_by_sso",
                                             AuditLog.entity_id == str(user.id))).one()
    assert created.company_id == world.companies["ALFA"] and created.actor_id is None


def test_consent_denied(db, world, alfa_sso, provider):
    assert refused(db, provider, "customer_user@alfa.test", None, deny=True) == ErrorCode.SSO_DENIED
    failed = db.exec(select(LoginAttempt).where(LoginAttempt.reason == "sso_denied")).one()
    assert not failed.succeeded and failed.email == "customer_user@alfa.test"


def test_state_from_another_browser_or_used_twice_is_refused(db, world, alfa_sso, provider):
    provider.set_user("alice-2", "customer_user@alfa.test")
    assert refused(db, provider, "customer_user@alfa.test", "alice-2", cookie_state="forged") == \
        ErrorCode.SSO_STATE_INVALID
    started = sso.start(db, "customer_user@alfa.test")
    answer = provider.authorize(started.redirect_url, "alice-2")
    sso.finish(db, state=answer["state"], cookie_state=started.state, code=answer["code"], error="", ip=None,
               user_agent=None)
    with pytest.raises(sso.SsoFailed) as replay:
        sso.finish(db, state=answer["state"], cookie_state=started.state, code=answer["code"], error="", ip=None,
                   user_agent=None)
    assert replay.value.code == ErrorCode.SSO_STATE_INVALID


def test_a_wrong_nonce_is_refused(db, world, alfa_sso, provider):
    provider.set_user("alice-3", "customer_user@alfa.test")
    started = sso.start(db, "customer_user@alfa.test")
    db.exec(sa.update(SsoPending).values(nonce="not-the-nonce-sent"))
    db.commit()
    answer = provider.authorize(started.redirect_url, "alice-3")
    with pytest.raises(sso.SsoFailed) as caught:
        sso.finish(db, state=answer["state"], cookie_state=started.state, code=answer["code"], error="", ip=None,
                   user_agent=None)
    assert caught.value.code == ErrorCode.SSO_TOKEN_INVALID


def test_the_authorization_request_carries_state_nonce_and_pkce(db, world, alfa_sso):
    started = sso.start(db, "customer_user@alfa.test")
    from urllib.parse import parse_qs, urlsplit

    query = {k: v[0] for k, v in parse_qs(urlsplit(started.redirect_url).query).items()}
    assert query["state"] == started.state and query["code_challenge_method"] == "S256"
    assert len(query["nonce"]) >= 32 and len(query["code_challenge"]) == 43
    assert query["redirect_uri"].endswith("/api/auth/sso/callback") and query["client_id"] == "portal-alfa"
    pending = db.exec(select(SsoPending)).one()
    assert pending.state_hash != started.state and pending.nonce == query["nonce"]


def test_a_token_from_another_issuer_is_refused(db, world, admin):
    with running_provider(token_issuer_host="localhost:1") as other:
        sso_config.save_company_sso(db, admin, world.companies["ALFA"], settings_in(other.issuer, ["alfa.test"]))
        other.set_user("alice-4", "customer_user@alfa.test")
        assert refused(db, other, "customer_user@alfa.test", "alice-4") == ErrorCode.SSO_TOKEN_INVALID


def test_an_expired_token_is_refused(db, world, admin):
    with running_provider(token_max_age=timedelta(minutes=-10)) as stale:
        sso_config.save_company_sso(db, admin, world.companies["ALFA"], settings_in(stale.issuer, ["alfa.test"]))
        stale.set_user("alice-5", "customer_user@alfa.test")
        assert refused(db, stale, "customer_user@alfa.test", "alice-5") == ErrorCode.SSO_TOKEN_INVALID


def test_an_unverified_email_is_refused(db, world, alfa_sso, provider):
    email = new_email()
    provider.set_user("unverified-1", email, verified=False)
    assert refused(db, provider, email, "unverified-1") == ErrorCode.SSO_EMAIL_UNVERIFIED
    assert db.exec(select(User).where(User.email == email)).first() is None


def test_a_provider_signs_in_only_its_own_companys_people(db, world, alfa_sso, provider):
    # the provider vouches for an address of another company's domain, or of the staff's
    for sub, email in (("b-1", "customer_user@beta.test"), ("s-1", "admin@fwd.test"), ("b-2", new_email("beta.test"))):
        provider.set_user(sub, email)
        assert refused(db, provider, "customer_user@alfa.test", sub) == ErrorCode.SSO_WRONG_COMPANY
    # a person of another company with an address of this domain (added by hand) is not signed in either
    intruder = new_email()
    db.add(User(email=intruder, full_name="In Truder", role="customer_admin", company_id=world.companies["BETA"]))
    db.commit()
    provider.set_user("b-3", intruder)
    assert refused(db, provider, intruder, "b-3") == ErrorCode.SSO_WRONG_COMPANY
    assert db.exec(select(User.company_id).where(User.email == "customer_user@beta.test")).one() == \
        world.companies["BETA"]
    assert db.exec(select(User).where(User.email.like("%@beta.test"), User.oidc_subject.is_not(None))).first() is None


def test_a_person_linked_to_another_subject_is_refused(db, world, alfa_sso, provider):
    provider.set_user("first", "customer_admin@alfa.test")
    sign_in(db, provider, "customer_admin@alfa.test", "first")
    provider.set_user("second", "customer_admin@alfa.test")
    assert refused(db, provider, "customer_admin@alfa.test", "second") == ErrorCode.SSO_ACCOUNT_LINKED


def test_a_deactivated_person_is_refused(db, world, alfa_sso, provider):
    email = new_email()
    db.add(User(email=email, full_name="Gone", role="customer_user", company_id=world.companies["ALFA"],
                is_active=False))
    db.commit()
    provider.set_user("gone-1", email)
    assert refused(db, provider, email, "gone-1") == ErrorCode.ACCOUNT_INACTIVE


def test_sign_ins_under_way_are_bounded_per_provider(db, world, alfa_sso, monkeypatch):
    monkeypatch.setattr(sso, "MAX_PENDING", 2)
    sso.start(db, "customer_user@alfa.test")
    sso.start(db, "customer_admin@alfa.test")
    with pytest.raises(sso.SsoFailed) as caught:
        sso.start(db, "customer_user@alfa.test")
    assert caught.value.code == ErrorCode.SSO_TOO_MANY
    assert db.exec(select(sa.func.count()).select_from(SsoPending)).one() == 2


def test_an_email_without_a_provider_is_told_to_use_its_password(db, world, alfa_sso):
    with pytest.raises(sso.SsoFailed) as caught:
        sso.start(db, "customer_user@beta.test")
    assert caught.value.code == ErrorCode.SSO_NOT_CONFIGURED


def test_a_provider_that_is_down_is_named_and_passwords_still_work(db, world, admin):
    down = f"http://127.0.0.1:{free_port()}"
    sso_config.save_company_sso(db, admin, world.companies["ALFA"], settings_in(down, ["alfa.test"]))
    with pytest.raises(sso.SsoFailed) as caught:
        sso.start(db, "customer_user@alfa.test")
    assert caught.value.code == ErrorCode.SSO_PROVIDER_UNREACHABLE and "try again" in caught.value.message.lower()
    assert sessions.login(db, "customer_user@alfa.test", PASSWORD).principal.email == "customer_user@alfa.test"


def test_password_sign_in_is_refused_when_the_company_requires_sign_on(db, world, admin, provider):
    sso_config.save_company_sso(db, admin, world.companies["ALFA"],
                                settings_in(provider.issuer, ["alfa.test"], password_login_allowed=False))
    for password in (PASSWORD, "wrong-password"):
        with pytest.raises(NotAuthenticated) as caught:
            sessions.login(db, "customer_user@alfa.test", password)
        assert caught.value.code == ErrorCode.SSO_REQUIRED
    # other companies and the staff are not affected
    assert sessions.login(db, "customer_user@beta.test", PASSWORD).principal.company_id == world.companies["BETA"]
    assert sessions.login(db, "admin@fwd.test", PASSWORD).principal.email == "admin@fwd.test"


def test_staff_sign_in_with_the_staff_provider(db, world, admin, provider):
    sso_config.save_staff_sso(db, admin, settings_in(provider.issuer, ["fwd.test"], role="ops_agent"))
    email = new_email("fwd.test")
    provider.set_user("staff-new", email)
    finished = sign_in(db, provider, email, "staff-new")
    assert finished.result.principal.is_staff and finished.result.principal.role == Role.OPS_AGENT
    # a customer's address cannot come through the staff provider
    provider.set_user("cust-x", "customer_user@alfa.test")
    assert refused(db, provider, "ops_agent@fwd.test", "cust-x") == ErrorCode.SSO_WRONG_COMPANY
