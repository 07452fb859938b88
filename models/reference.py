"""Reference and configuration data: places, carriers, templates, rules, policies, settings."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import dt_field


class Location(SQLModel, table=True):
    """A place: UN/LOCODE for seaports and inland places, IATA code for airports."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=5, unique=True, description="UN/LOCODE (5) or IATA airport code (3)")
    unlocode: str | None = Field(default=None, max_length=5, index=True)
    iata_code: str | None = Field(default=None, max_length=3, index=True)
    name: str = Field(max_length=120, index=True)
    country: str = Field(max_length=2, index=True)
    kind: str = Field(max_length=10, index=True)
    timezone: str | None = Field(default=None, max_length=64)
    latitude: float | None = None
    longitude: float | None = None


class Carrier(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=10, unique=True, description="SCAC for ocean, IATA 2-letter for air")
    name: str = Field(max_length=120)
    mode: str = Field(max_length=10, index=True, description="ocean, air or road")
    awb_prefix: str | None = Field(default=None, max_length=3, description="IATA airline prefix for AWBs")
    is_active: bool = True


class MilestoneTemplate(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    mode: str = Field(max_length=12, index=True)
    name: str = Field(max_length=120)
    is_active: bool = True
    version: int = 1
    updated_at: datetime = dt_field(nullable=False, default_now=True)


class MilestoneTemplateStep(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="milestonetemplate.id", index=True)
    sequence: int
    code: str = Field(max_length=40, description="Portal milestone code, e.g. vessel_departure")
    name: str = Field(max_length=120)
    event_code: str | None = Field(default=None, max_length=8, description="DCSA event type code or IATA status code")
    customer_visible: bool = True
    offset_days: int = Field(default=0, description="Expected days from the ready date")
    anchor: str = Field(default="origin", max_length=12, description="origin or destination")

    __table_args__ = (sa.UniqueConstraint("template_id", "code"),)


class DocumentRequirement(SQLModel, table=True):
    """A document the customer must provide for a mode and, optionally, an Incoterm."""

    id: int | None = Field(default=None, primary_key=True)
    mode: str = Field(max_length=12, index=True)
    incoterm: str | None = Field(default=None, max_length=3)
    doc_type: str = Field(max_length=40)
    due_days_before_departure: int = 3
    provided_by: str = Field(default="customer", max_length=12)
    dangerous_goods_only: bool = Field(default=False, description="Required only when the cargo is dangerous goods")
    is_active: bool = True


class ExceptionRule(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30, unique=True)
    name: str = Field(max_length=120)
    threshold_hours: int | None = None
    threshold_days: int | None = None
    severity: str = Field(default="medium", max_length=10)
    is_active: bool = True
    updated_at: datetime = dt_field(nullable=False, default_now=True)
    version: int = 1


class SlaPolicy(SQLModel, table=True):
    """Target times for exceptions (subject=exception) or requests (subject=ticket)."""

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=12)
    kind: str = Field(max_length=30, description="Exception kind or ticket category; '*' for any")
    severity: str = Field(max_length=10, description="Severity or priority; '*' for any")
    first_response_hours: int | None = None
    resolution_hours: int
    is_active: bool = True

    __table_args__ = (sa.UniqueConstraint("subject", "kind", "severity"),)


class AppSetting(SQLModel, table=True):
    """Installation settings edited without code (branding, thresholds). Values are JSON text."""

    key: str = Field(primary_key=True, max_length=80)
    value: str = Field(sa_type=sa.Text)
    updated_at: datetime = dt_field(nullable=False, default_now=True)
    updated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
