"""Single sign-on in the browser: a person types an address of a domain with its own identity provider on the
sign-in page, is sent to the provider (a real one on loopback, tests/oidc_mock.py), signs in there and lands
signed in on the portal; a refusal at the provider brings them back to the sign-in page with words."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models import Company, LoginAttempt, User
from models.enums import Role
from portal_app.auth.principal import Principal
from portal_app.services.config import sso as sso_config
from tests.browser_app import ARTIFACTS, _at
from tests.oidc_mock import MockProvider, running_provider

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.*")]


@pytest.fixture(scope="module")
def provider() -> Iterator[MockProvider]:
    with running_provider() as running:
        yield running


def _company_with_sso(engine: sa.Engine, provider: MockProvider, *, password_allowed: bool) -> str:
    """A new customer company whose domain signs in through ``provider``; its domain."""
    code = uuid.uuid4().hex[:8].upper()
    domain = f"sso-{code.lower()}.example"
    with Session(engine) as db:
        company = Company(code=code, name=f"Single Sign Trading {code}", kind="customer")
        db.add(company)
        db.commit()
        admin = db.exec(select(User).where(User.role == Role.ADMIN.value)).first()
        forwarder = db.get(Company, admin.company_id)
        principal = Principal(admin.id, forwarder.id, Role.ADMIN, admin.email, admin.full_name, forwarder.name)
        sso_config.save_company_sso(db, principal, company.id, sso_config.SsoSettingsIn(
            issuer=provider.issuer, client_id="portal-browser", client_secret="browser-secret",
            email_domains=[domain], default_role="customer_user", password_login_allowed=password_allowed))
    return domain


def test_an_address_of_a_connected_domain_signs_in_at_its_provider(page, app_engine, provider):
    from playwright.sync_api import expect

    domain = _company_with_sso(app_engine, provider, password_allowed=False)
    email = f"nora.new@{domain}"
    provider.set_user("browser-nora", email, name="Nora New")
    page.goto("/portal/shipments")
    page.wait_for_url(_at("/login", query=True))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Email").press("Tab")  # leaving the field looks the domain up: off to the provider
    page.wait_for_url(re.compile(rf"^{re.escape(provider.issuer)}/oauth2/authorize\?.*"))
    page.screenshot(path=ARTIFACTS / "sso-provider.png")
    page.locator("input[name=sub]").fill("browser-nora")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(_at("/portal/shipments"))
    expect(page.get_by_text("Nora New").first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "sso-signed-in.png")
    with Session(app_engine) as db:
        user = db.exec(select(User).where(User.email == email)).one()
        assert user.role == "customer_user" and user.password_hash is None and user.oidc_subject
        assert db.exec(select(LoginAttempt).where(LoginAttempt.email == email)).one().reason == "sso"


def test_the_page_offers_the_provider_and_explains_a_refusal(page, app_engine, provider):
    from playwright.sync_api import expect

    domain = _company_with_sso(app_engine, provider, password_allowed=True)
    page.goto("/login")
    page.get_by_label("Email").fill(f"omar@{domain}")
    page.get_by_label("Email").press("Tab")
    # passwords are still allowed there: both ways are offered
    expect(page.get_by_role("button", name="Continue with single sign-on")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "sso-offered.png")
    page.get_by_role("button", name="Continue with single sign-on").click()
    page.wait_for_url(re.compile(rf"^{re.escape(provider.issuer)}/oauth2/authorize\?.*"))
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(re.compile(r".*/login/?\?error=sso_denied.*"))
    expect(page.get_by_role("alert")).to_contain_text("cancelled or refused")
    expect(page.get_by_role("alert")).to_contain_text("IT department")
    expect(page.get_by_label("Email")).to_have_value(f"omar@{domain}")


def test_an_administrator_connects_a_provider_in_the_tower(page, app_engine, provider):
    from playwright.sync_api import expect

    from tests.browser_app import sign_in

    code = uuid.uuid4().hex[:8].upper()
    with Session(app_engine) as db:
        db.add(Company(code=code, name=f"Tower Set Trading {code}", kind="customer"))
        db.commit()
    sign_in(page, "admin@harborsky.example", "/tower/config/sso")
    expect(page.get_by_role("heading", name="Single sign-on", exact=True)).to_be_visible()
    page.get_by_label("Company", exact=True).select_option(label=f"Tower Set Trading {code}")
    expect(page.get_by_role("heading", name=f"Tower Set Trading {code}")).to_be_visible()
    page.get_by_label("Issuer URL").fill("http://10.0.0.7")
    page.get_by_label("Client id").fill("portal-tower")
    page.get_by_label("Client secret").fill("tower-secret")
    page.get_by_label("Email domains").fill(f"tower-{code.lower()}.example")
    page.get_by_role("button", name="Save single sign-on").click()
    expect(page.get_by_test_id("config-error")).to_contain_text("Nothing was saved")
    page.get_by_label("Issuer URL").fill(provider.issuer)
    page.get_by_label("Client secret").fill("tower-secret")
    trust = page.get_by_label("Trust the provider's two-factor sign-in")
    expect(trust).not_to_be_checked()
    trust.check()
    page.get_by_role("button", name="Save single sign-on").click()
    expect(page.get_by_test_id("config-notice")).to_contain_text(f"Single sign-on for Tower Set Trading {code} saved")
    expect(page.get_by_role("button", name="Disconnect")).to_be_visible()
    expect(page.get_by_label("Trust the provider's two-factor sign-in")).to_be_checked()
    page.screenshot(path=ARTIFACTS / "sso-tower-config.png", full_page=True)
    with Session(app_engine) as db:
        company = db.exec(select(Company).where(Company.code == code)).one()
        saved = sso_config.connection_for_company(db, company.id)
        assert saved.client_id == "portal-tower" and saved.trust_provider_mfa is True
