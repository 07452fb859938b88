"""Sessions, login attempts, API keys and single sign-on identities."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import dt_field


class UserSession(SQLModel, table=True):
    """A server-side login session. Only the SHA-256 of the cookie token is stored."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = dt_field(nullable=False, default_now=True)
    expires_at: datetime = dt_field(nullable=False, index=True)
    last_seen_at: datetime | None = dt_field()
    revoked_at: datetime | None = dt_field()
    revoked_reason: str | None = Field(default=None, max_length=40)
    ip_address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)
    mfa_by_provider: bool = Field(default=False, description="Opened by single sign-on whose provider asserted "
                                  "a multi-factor sign-in (amr) and is trusted to: the two-factor policy is met")


class LoginAttempt(SQLModel, table=True):
    """Every sign-in attempt, kept for rate limiting, lockout and portal-health figures."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    ip_address: str | None = Field(default=None, max_length=64)
    succeeded: bool = False
    reason: str | None = Field(default=None, max_length=40)
    created_at: datetime = dt_field(nullable=False, default_now=True, index=True)

    __table_args__ = (
        sa.Index("ix_loginattempt_email_created", "email", "created_at"),
        sa.Index("ix_loginattempt_ip_created", "ip_address", "created_at"),
    )


class ApiKey(SQLModel, table=True):
    """A key for software clients; acts as its user (who created it), limited to the user's company for customers.

    Only the SHA-256 of the key is stored; ``prefix`` (the key's first characters) identifies it in lists.
    ``scopes`` is ``read`` (only GET/HEAD/OPTIONS) or ``read_write``. Last use (time and client address) is written
    at most once a minute per key (``services/api_keys.py``).
    """

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    prefix: str = Field(max_length=12, index=True, description="First characters, shown to identify the key")
    key_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    scopes: str = Field(default="read", max_length=200)
    created_at: datetime = dt_field(nullable=False, default_now=True)
    expires_at: datetime | None = dt_field()
    last_used_at: datetime | None = dt_field()
    last_used_ip: str | None = Field(default=None, max_length=64)
    revoked_at: datetime | None = dt_field()


class MfaRecoveryCode(SQLModel, table=True):
    """A one-time recovery code for two-factor sign-in. Only its SHA-256 is stored; used once, then spent."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    code_hash: str = Field(max_length=64)
    used_at: datetime | None = dt_field()
    created_at: datetime = dt_field(nullable=False, default_now=True)

    __table_args__ = (sa.Index("ix_mfarecoverycode_user_hash", "user_id", "code_hash"),)
