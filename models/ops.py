"""Operational exceptions and tasks owned by staff."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models import exception_summary
from models.base import dt_field


class OpsException(SQLModel, table=True):
    """Something wrong with a shipment that a person must own and resolve within an SLA."""

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int | None = Field(default=None, foreign_key="shipment.id", index=True)
    company_id: int | None = Field(default=None, foreign_key="company.id", index=True)
    kind: str = Field(max_length=30)
    cause_key: str = Field(default="", max_length=120, description="What exactly triggered it, for de-duplication")
    severity: str = Field(default="medium", max_length=10)
    status: str = Field(default="open", max_length=12)
    title: str = Field(max_length=200)
    detail: str | None = Field(default=None, sa_type=sa.Text)
    owner_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    sla_due_at: datetime | None = dt_field(index=True)
    created_by_rule: bool = False
    resolution_note: str | None = Field(default=None, sa_type=sa.Text)
    resolved_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    resolved_at: datetime | None = dt_field()
    auto_resolved: bool = False
    open_key: str | None = Field(
        default=None,
        max_length=200,
        description=("shipment|kind|cause while open, NULL once resolved: a unique index keeps one open exception "
                     "per cause"),
    )
    created_at: datetime = dt_field(nullable=False, default_now=True)
    updated_at: datetime = dt_field(nullable=False, default_now=True)
    version: int = 1

    __table_args__ = (
        sa.UniqueConstraint("open_key", name="uq_opsexception_open_key"),
        # With shipment_id, the board's "open exception" and SLA filters read the index alone.
        sa.Index("ix_opsexception_status_sla_shipment", "status", "sla_due_at", "shipment_id"),
        # By kind and status with the times the KPIs read (open by age, open and breached), from the index alone.
        sa.Index("ix_opsexception_kind_status_times", "kind", "status", "created_at", "sla_due_at", "company_id",
                 "shipment_id"),
        sa.Index("ix_opsexception_created_kind", "created_at", "kind"),
        sa.Index("ix_opsexception_resolved_kind", "resolved_at", "kind", "sla_due_at"),
    )


sa.event.listen(sa.inspect(OpsException).local_table, "after_create", exception_summary.install)


class Task(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    detail: str | None = Field(default=None, sa_type=sa.Text)
    shipment_id: int | None = Field(default=None, foreign_key="shipment.id", index=True)
    exception_id: int | None = Field(default=None, foreign_key="opsexception.id", index=True)
    assignee_id: int | None = Field(default=None, foreign_key="app_user.id")
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    status: str = Field(default="open", max_length=12)
    due_at: datetime | None = dt_field(index=True)
    completed_at: datetime | None = dt_field()
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = dt_field(nullable=False, default_now=True)
    updated_at: datetime = dt_field(nullable=False, default_now=True)
    version: int = 1

    __table_args__ = (sa.Index("ix_task_assignee_status", "assignee_id", "status"),)
