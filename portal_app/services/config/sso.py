"""Single sign-on set-up: which OpenID Connect provider signs in a company's people, and for which email domains.

One connection per company; the forwarder's own company holds the staff connection. The client secret is stored
encrypted with ``PORTAL_SSO_KEY`` (``services/secret_box.py``) and never read back: answers say only whether one is
set. Without the key nothing can be saved (``sso_key_missing``, 503). The issuer must be an ``https://`` address
on the public internet (``services/outbound.py``; loopback only with ``PORTAL_SSO_ALLOW_LOOPBACK``). An email
domain belongs to one connection at most, and never to a company other than the one whose people already use it.
A person created at their first sign-in gets ``default_role``: a customer role for a customer company, an ops role
for staff (never administrator). Administrators only; each change writes one audit row (the secret never in it).
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from models import Company, SsoConnection, SsoDomain, SsoPending, User
from models.enums import CompanyKind, Role
from portal_app.auth.principal import Principal
from portal_app.services import clock, outbound, secret_box
from portal_app.services.config.common import NOTHING_SAVED, record, refuse_if, require_admin
from portal_app.services.errors import Conflict, ErrorCode, NotFound, ServiceError
from portal_app.services.inputs import Body, Version
from portal_app.settings import settings

MAX_DOMAINS = 20
CUSTOMER_ROLES = (Role.CUSTOMER_USER.value, Role.CUSTOMER_ADMIN.value)
STAFF_ROLES = (Role.OPS_AGENT.value, Role.OPS_MANAGER.value)
_DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")


class SsoKeyMissing(ServiceError):
    status_code = 503
    code = ErrorCode.SSO_KEY_MISSING


class SsoSettingsIn(Body):
    """What an administrator sets (``PUT /api/v1/config/companies/{id}/sso`` and ``PUT .../staff-sso``)."""

    issuer: str = Field(max_length=255, description="The provider's issuer URL, e.g. https://login.example.com; "
                        "its /.well-known/openid-configuration is read")
    client_id: str = Field(max_length=255)
    client_secret: str | None = Field(None, max_length=1000,
                                      description="Required the first time; leave out to keep the stored one")
    email_domains: list[str] = Field(max_length=MAX_DOMAINS, description="Domains whose people sign in here")
    default_role: str = Field(description="Role of a person created at their first sign-in")
    password_login_allowed: bool = Field(True, description="Whether this company's people may still sign in "
                                         "with a password")
    trust_provider_mfa: bool = Field(False, description="Treat a sign-in whose ID token's `amr` claim shows a "
                                     "multi-factor sign-in at the provider as meeting the two-factor policy, so the "
                                     "person is not asked to set up the portal's own second factor (docs/identity.md)")
    expected_version: Version | None = Field(None, description="The version you saw (409 if it changed since)")


class SsoSettings(BaseModel):
    """A connection as administrators see it; the client secret itself is never returned."""

    company_id: int
    company_name: str
    issuer: str
    client_id: str
    client_secret_set: bool
    email_domains: list[str]
    default_role: str
    password_login_allowed: bool
    trust_provider_mfa: bool
    version: int
    updated_at: datetime


# ------------------------------------------------------------------------------------------------ reading


def connection_for_company(db: Session, company_id: int) -> SsoConnection | None:
    return db.exec(select(SsoConnection).where(col(SsoConnection.company_id) == company_id)).first()


def domains_of(db: Session, connection_id: int | None) -> list[str]:
    return list(db.exec(select(SsoDomain.domain).where(col(SsoDomain.connection_id) == connection_id)
                        .order_by(col(SsoDomain.domain))).all())


def connection_for_email(db: Session, email: str) -> SsoConnection | None:
    """The connection that signs in ``email``'s domain (home-realm discovery), if any."""
    domain = (email or "").strip().lower().rpartition("@")[2]
    if not domain:
        return None
    found = db.get(SsoDomain, domain)
    return db.get(SsoConnection, found.connection_id) if found is not None else None


def staff_company(db: Session) -> Company:
    company = db.exec(select(Company).where(col(Company.kind) == CompanyKind.FORWARDER.value)
                      .order_by(col(Company.id))).first()
    if company is None:
        raise NotFound("The forwarder's own company is missing, so staff sign-on cannot be set up.")
    return company


def _customer_company(db: Session, company_id: int) -> Company:
    company = db.get(Company, company_id)
    if company is None or company.kind == CompanyKind.FORWARDER.value:
        raise NotFound("No customer company has this id. (Staff sign-on is set under /api/v1/config/staff-sso.)")
    return company


def _out(db: Session, company: Company, connection: SsoConnection) -> SsoSettings:
    return SsoSettings(
        company_id=company.id or 0, company_name=company.name, issuer=connection.issuer,
        client_id=connection.client_id, client_secret_set=bool(connection.client_secret_encrypted),
        email_domains=domains_of(db, connection.id), default_role=connection.default_role,
        password_login_allowed=connection.password_login_allowed,
        trust_provider_mfa=connection.trust_provider_mfa, version=connection.version,
        updated_at=connection.updated_at,
    )


def _get(db: Session, company: Company) -> SsoSettings:
    connection = connection_for_company(db, company.id or 0)
    if connection is None:
        raise NotFound(f"No identity provider is connected for {company.name}. Connect one with PUT; until then its "
                       "people sign in with their passwords.")
    return _out(db, company, connection)


def get_company_sso(db: Session, principal: Principal, company_id: int) -> SsoSettings:
    require_admin(principal)
    return _get(db, _customer_company(db, company_id))


def get_staff_sso(db: Session, principal: Principal) -> SsoSettings:
    require_admin(principal)
    return _get(db, staff_company(db))


# ------------------------------------------------------------------------------------------------ changing


def _clean_domains(raw: list[str], problems: dict[str, str]) -> list[str]:
    domains = list(dict.fromkeys(d.strip().lower().removeprefix("@") for d in raw if d.strip()))
    if not domains:
        problems["email_domains"] = "give at least one email domain, such as acme.example"
    bad = [d for d in domains if not _DOMAIN.match(d)]
    if bad:
        problems["email_domains"] = f"{', '.join(bad[:3])} is not a domain name such as acme.example"
    return domains


def _check_domains_free(db: Session, company: Company, connection_id: int | None, domains: list[str]) -> None:
    """One domain, one company: not another connection's, and not the address of people of another company."""
    for domain in domains:
        taken = db.get(SsoDomain, domain)
        if taken is not None and taken.connection_id != connection_id:
            owner = db.get(SsoConnection, taken.connection_id)
            other = db.get(Company, owner.company_id) if owner else None
            raise Conflict(f"The domain {domain} already signs in with the identity provider of "
                           f"{other.name if other else 'another company'}. A domain belongs to one company; remove "
                           f"it there first. {NOTHING_SAVED}", code=ErrorCode.SSO_DOMAIN_TAKEN)
        elsewhere = db.exec(select(Company.name).join(User, col(User.company_id) == col(Company.id))
                            .where(col(User.email).endswith("@" + domain), col(User.company_id) != company.id)
                            ).first()
        if elsewhere is not None:
            raise Conflict(f"People of {elsewhere} have {domain} addresses, so {company.name}'s provider cannot sign "
                           f"in that domain. {NOTHING_SAVED}", code=ErrorCode.SSO_DOMAIN_TAKEN)


def _save(db: Session, principal: Principal, company: Company, body: SsoSettingsIn, roles: tuple[str, ...]
          ) -> SsoSettings:
    if not secret_box.available():
        raise SsoKeyMissing(
            "Single sign-on cannot be set up: the server has no key to encrypt the client secret with. "
            f"{secret_box.NO_KEY_ADVICE} {NOTHING_SAVED}")
    connection = connection_for_company(db, company.id or 0)
    if connection is not None and body.expected_version is not None and body.expected_version != connection.version:
        raise Conflict(f"The sign-on settings of {company.name} were changed by someone else (you had version "
                       f"{body.expected_version}, it is now {connection.version}). Reload and try again. "
                       + NOTHING_SAVED, code=ErrorCode.EDIT_CONFLICT)
    problems: dict[str, str] = {}
    issuer = body.issuer.strip()
    try:
        outbound.check_url(issuer, allow_loopback=settings.sso_allow_loopback)
        if "?" in issuer:
            raise outbound.AddressRefused("it must not contain a ? query")
    except outbound.AddressRefused as exc:
        problems["issuer"] = exc.reason
    client_id = body.client_id.strip()
    if not client_id:
        problems["client_id"] = "give the client id the provider issued for this portal"
    secret = (body.client_secret or "").strip()
    if not secret and connection is None:
        problems["client_secret"] = "give the client secret the provider issued for this portal"
    domains = _clean_domains(body.email_domains, problems)
    if body.default_role not in roles:
        problems["default_role"] = f"choose one of {', '.join(roles)}"
    refuse_if(problems, "The sign-on settings")
    _check_domains_free(db, company, connection.id if connection else None, domains)

    before = _out(db, company, connection).model_dump(mode="json") if connection is not None else None
    now = clock.now()
    if connection is None:
        connection = SsoConnection(company_id=company.id or 0, issuer=issuer, client_id=client_id,
                                   client_secret_encrypted=secret_box.encrypt(secret),
                                   default_role=body.default_role,
                                   password_login_allowed=body.password_login_allowed,
                                   trust_provider_mfa=body.trust_provider_mfa, created_at=now,
                                   updated_at=now)
    else:
        connection.issuer, connection.client_id = issuer, client_id
        if secret:
            connection.client_secret_encrypted = secret_box.encrypt(secret)
        connection.default_role = body.default_role
        connection.password_login_allowed = body.password_login_allowed
        connection.trust_provider_mfa = body.trust_provider_mfa
        connection.updated_at = now
        connection.version += 1
    db.add(connection)
    db.flush()
    db.exec(sa.delete(SsoDomain).where(col(SsoDomain.connection_id) == connection.id))
    for domain in domains:
        db.add(SsoDomain(domain=domain, connection_id=connection.id or 0))
    db.flush()
    after = _out(db, company, connection)
    record(db, principal, "config_sso_saved", "company", company.id, before,
           {**after.model_dump(mode="json"), "client_secret_changed": bool(secret)})
    db.commit()
    return after


def save_company_sso(db: Session, principal: Principal, company_id: int, body: SsoSettingsIn) -> SsoSettings:
    require_admin(principal)
    return _save(db, principal, _customer_company(db, company_id), body, CUSTOMER_ROLES)


def save_staff_sso(db: Session, principal: Principal, body: SsoSettingsIn) -> SsoSettings:
    require_admin(principal)
    return _save(db, principal, staff_company(db), body, STAFF_ROLES)


def _delete(db: Session, principal: Principal, company: Company) -> None:
    connection = connection_for_company(db, company.id or 0)
    if connection is None:
        raise NotFound(f"No identity provider is connected for {company.name}; nothing was removed.")
    before = _out(db, company, connection).model_dump(mode="json")
    db.exec(sa.delete(SsoDomain).where(col(SsoDomain.connection_id) == connection.id))
    db.exec(sa.delete(SsoPending).where(col(SsoPending.connection_id) == connection.id))
    db.delete(connection)
    record(db, principal, "config_sso_deleted", "company", company.id, before, None)
    db.commit()


def delete_company_sso(db: Session, principal: Principal, company_id: int) -> None:
    """Disconnect the provider: its people sign in with passwords again (those created by sign-on have none
    until an administrator sets one)."""
    require_admin(principal)
    _delete(db, principal, _customer_company(db, company_id))


def delete_staff_sso(db: Session, principal: Principal) -> None:
    require_admin(principal)
    _delete(db, principal, staff_company(db))


class SsoSummary(BaseModel):
    """One company in the overview of who signs in how (the staff first)."""

    company_id: int
    company_name: str
    is_staff: bool
    connected: bool
    issuer: str
    email_domains: list[str]
    password_login_allowed: bool


def overview(db: Session, principal: Principal) -> list[SsoSummary]:
    """The staff and every customer company, with their provider when one is connected."""
    require_admin(principal)
    staff = staff_company(db)
    customers = db.exec(select(Company).where(col(Company.kind) == CompanyKind.CUSTOMER.value)
                        .order_by(col(Company.name))).all()
    connections = {c.company_id: c for c in db.exec(select(SsoConnection)).all()}
    rows = []
    for company in [staff, *customers]:
        connection = connections.get(company.id or 0)
        rows.append(SsoSummary(
            company_id=company.id or 0, company_name=company.name, is_staff=company.id == staff.id,
            connected=connection is not None, issuer=connection.issuer if connection else "",
            email_domains=domains_of(db, connection.id) if connection else [],
            password_login_allowed=connection.password_login_allowed if connection else True))
    return rows
