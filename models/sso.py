"""Single sign-on (OpenID Connect): one identity provider per company, the email domains it signs in, and the
sign-ins under way (state, nonce and PKCE verifier kept server-side until the provider answers)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import dt_field


class SsoConnection(SQLModel, table=True):
    """A company's identity provider. The forwarder's own company holds the staff connection."""

    __tablename__ = "sso_connection"

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", unique=True)
    issuer: str = Field(max_length=255, description="OpenID Connect issuer URL; discovery is read below it")
    client_id: str = Field(max_length=255)
    client_secret_encrypted: str = Field(max_length=2000, description="Fernet token made with PORTAL_SSO_KEY")
    default_role: str = Field(max_length=20, description="Role of a person created at their first sign-in")
    password_login_allowed: bool = True
    trust_provider_mfa: bool = Field(default=False, description="A sign-in whose ID token's amr asserts several "
                                     "factors satisfies the two-factor policy without the portal's own code")
    created_at: datetime = dt_field(nullable=False, default_now=True)
    updated_at: datetime = dt_field(nullable=False, default_now=True)
    version: int = 1


class SsoDomain(SQLModel, table=True):
    """An email domain signed in by one connection. The primary key makes a domain belong to one company at most."""

    __tablename__ = "sso_domain"

    domain: str = Field(primary_key=True, max_length=253, description="Lower case, e.g. acme.example")
    connection_id: int = Field(foreign_key="sso_connection.id", index=True)


class SsoPending(SQLModel, table=True):
    """A sign-in sent to a provider and not yet back. Only the SHA-256 of ``state`` is stored (the browser holds
    ``state`` in an HttpOnly cookie); the row is deleted when the provider answers, used or not."""

    __tablename__ = "sso_pending"

    state_hash: str = Field(primary_key=True, max_length=64)
    connection_id: int = Field(foreign_key="sso_connection.id", index=True)
    nonce: str = Field(max_length=64)
    code_verifier: str = Field(max_length=128)
    email_hint: str = Field(default="", max_length=254)
    next_url: str = Field(default="", max_length=500)
    created_at: datetime = dt_field(nullable=False, default_now=True, index=True)
