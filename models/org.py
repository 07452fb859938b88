"""Companies, branches, teams and people."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import dt_field


class Company(SQLModel, table=True):
    """A customer of the forwarder (shipper or consignee), or the forwarder itself."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True, description="Short account code, e.g. ACME")
    name: str = Field(max_length=200, index=True)
    kind: str = Field(default="customer", max_length=20, index=True)
    country: str | None = Field(default=None, max_length=2)
    billing_currency: str = Field(default="USD", max_length=3)
    payment_terms_days: int = 30
    is_active: bool = True
    mfa_required: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()},
                               description="Everyone of this company must sign in with a second factor "
                               "(for the forwarder's own company: every staff member)")
    created_at: datetime = dt_field(nullable=False, default_now=True)
    updated_at: datetime = dt_field(nullable=False, default_now=True)
    version: int = 1


class Branch(SQLModel, table=True):
    """An office of the forwarder (e.g. Rotterdam, Shanghai)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=120)
    location_code: str | None = Field(default=None, max_length=5)
    timezone: str = Field(default="UTC", max_length=64)


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)


class User(SQLModel, table=True):
    # "user" is reserved in PostgreSQL; a plain name avoids quoting everywhere.
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, description="Stored lower-cased")
    full_name: str = Field(max_length=200)
    role: str = Field(max_length=20, index=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    password_hash: str | None = Field(default=None, max_length=255)
    password_changed_at: datetime | None = dt_field()
    mfa_secret: str | None = Field(default=None, max_length=255,
                                   description="TOTP secret, encrypted (auth/mfa.py); pending until mfa_enabled_at")
    mfa_enabled_at: datetime | None = dt_field()
    mfa_last_step: int | None = Field(default=None, description="Last TOTP time-step accepted (no replays)")
    oidc_subject: str | None = Field(default=None, max_length=255, unique=True)
    is_active: bool = True
    failed_login_count: int = 0
    locked_until: datetime | None = dt_field()
    last_login_at: datetime | None = dt_field()
    phone: str | None = Field(default=None, max_length=40)
    locale: str = Field(default="en", max_length=10)
    timezone: str = Field(default="UTC", max_length=64)
    shipment_news: str = Field(default="all", max_length=10, sa_column_kwargs={"server_default": "all"},
                               description="Which shipments a customer hears about: all (every shipment of the "
                               "company) or followed (only those they follow)")
    erased_at: datetime | None = dt_field()  # personal data replaced by a pseudonym (services/privacy.py)
    created_at: datetime = dt_field(nullable=False, default_now=True)
    updated_at: datetime = dt_field(nullable=False, default_now=True)
    version: int = 1

    __table_args__ = (sa.Index("ix_app_user_company_role", "company_id", "role"),)
