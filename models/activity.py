"""Notifications, preferences, outgoing mail and webhooks, the audit log, usage events, per-user views and the
record of recent unexpected errors."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import dt_field


class Notification(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    event_kind: str = Field(max_length=30)
    title: str = Field(max_length=200)
    body: str | None = Field(default=None, sa_type=sa.Text)
    link: str | None = Field(default=None, max_length=300)
    dedup_key: str | None = Field(default=None, max_length=200)
    read_at: datetime | None = dt_field()
    created_at: datetime = dt_field(nullable=False, default_now=True)

    __table_args__ = (
        sa.Index("ix_notification_user_read", "user_id", "read_at"),
        sa.UniqueConstraint("user_id", "dedup_key"),
    )


class NotificationPreference(SQLModel, table=True):
    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    event_kind: str = Field(max_length=30, primary_key=True)
    channel: str = Field(max_length=10, primary_key=True)
    enabled: bool = True
    digest: bool = Field(default=False, description="Batch into the daily digest instead of sending at once")
    threshold_hours: int | None = Field(default=None, description="For ETA changes: only notify beyond this shift")


class EmailMessage(SQLModel, table=True):
    """An outgoing email; sent asynchronously with retries, every attempt recorded."""

    id: int | None = Field(default=None, primary_key=True)
    to_address: str = Field(max_length=254)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_type=sa.Text)
    body_html: str | None = Field(default=None, sa_type=sa.Text)
    dedup_key: str | None = Field(default=None, max_length=200, unique=True)
    status: str = Field(default="queued", max_length=10, description="queued, sent, failed")
    attempts: int = 0
    next_attempt_at: datetime | None = dt_field()
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = dt_field()
    created_at: datetime = dt_field(nullable=False, default_now=True)

    __table_args__ = (sa.Index("ix_emailmessage_status_next", "status", "next_attempt_at"),)


class EmailAttempt(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email_id: int = Field(foreign_key="emailmessage.id", index=True)
    attempted_at: datetime = dt_field(nullable=False, default_now=True)
    succeeded: bool
    error: str | None = Field(default=None, max_length=500)


class WebhookSubscription(SQLModel, table=True):
    """A URL of a customer's (or the forwarder's) system that hears about events (services/webhooks.py).

    ``company_id`` is the subscribing company: a customer's subscription hears only of that company's records; a
    staff administrator's (``all_companies``) hears of every company's. ``secret`` is the signing secret encrypted
    with the installation's key (services/secret_box.py). A run of failed deliveries pauses it (``paused_at``).
    """

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    url: str = Field(max_length=500)
    secret: str = Field(max_length=300, description="HMAC-SHA256 signing secret, encrypted")
    event_kinds: str = Field(default="*", max_length=300)
    is_active: bool = True
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = dt_field(nullable=False, default_now=True)
    all_companies: bool = Field(default=False, description="A staff subscription: every company's records")
    consecutive_failures: int = 0
    failing_since: datetime | None = dt_field()
    last_success_at: datetime | None = dt_field()
    paused_at: datetime | None = dt_field()
    pause_reason: str | None = Field(default=None, max_length=300)


class WebhookDelivery(SQLModel, table=True):
    """One event for one subscription: queued in the transaction of the change, sent by the webhook worker."""

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="webhooksubscription.id", index=True)
    event_kind: str = Field(max_length=30)
    payload: str = Field(sa_type=sa.Text)
    status: str = Field(default="queued", max_length=10)
    attempts: int = 0
    response_code: int | None = None
    next_attempt_at: datetime | None = dt_field()
    created_at: datetime = dt_field(nullable=False, default_now=True)
    event_id: str = Field(default="", max_length=40, description="The payload's id (the same for every subscriber)")
    company_id: int | None = Field(default=None, foreign_key="company.id", description="The record's company")
    sent_at: datetime | None = dt_field()
    last_attempt_at: datetime | None = dt_field()
    last_error: str | None = Field(default=None, max_length=500)

    __table_args__ = (sa.Index("ix_webhookdelivery_status_next", "status", "next_attempt_at"),)


class AuditLog(SQLModel, table=True):
    """Who changed what, with before and after values (JSON)."""

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    company_id: int | None = Field(default=None, foreign_key="company.id", index=True)
    action: str = Field(max_length=40)
    entity_type: str = Field(max_length=40)
    entity_id: str = Field(max_length=40)
    before: str | None = Field(default=None, sa_type=sa.Text)
    after: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = dt_field(nullable=False, default_now=True, index=True)
    ip_address: str | None = Field(default=None, max_length=64, description="Where the action came from")

    __table_args__ = (sa.Index("ix_auditlog_entity", "entity_type", "entity_id"),)


class PortalEvent(SQLModel, table=True):
    """Usage analytics: logins, failed logins, abandoned bookings and uploads, searches."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    company_id: int | None = Field(default=None, foreign_key="company.id", index=True)
    detail: str | None = Field(default=None, max_length=500)
    created_at: datetime = dt_field(nullable=False, default_now=True)

    __table_args__ = (sa.Index("ix_portalevent_kind_created", "kind", "created_at"),)


class SavedView(SQLModel, table=True):
    """A user's saved list filters (shipments list, tower board)."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    page: str = Field(max_length=40)
    name: str = Field(max_length=80)
    filters: str = Field(sa_type=sa.Text, description="JSON")
    created_at: datetime = dt_field(nullable=False, default_now=True)

    __table_args__ = (sa.UniqueConstraint("user_id", "page", "name"),)


class UserPreference(SQLModel, table=True):
    """Per-user UI settings such as the dashboard's widget order and visibility (JSON)."""

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    key: str = Field(max_length=40, primary_key=True)
    value: str = Field(sa_type=sa.Text)


class ErrorRecord(SQLModel, table=True):
    """One unexpected error of an API request or a page event, for the tower's System page: where it happened (a
    route template or a handler name, never a raw path or anything a person typed), the exception's class and the
    error id the person was shown (the same id is on the log line). Only the latest few are kept."""

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = dt_field(nullable=False, default_now=True)
    source: str = Field(max_length=10, description="api or page")
    location: str = Field(max_length=200, description="'GET /api/v1/shipments/{reference}' or 'State.handler'")
    error_id: str = Field(max_length=64)
    error_type: str = Field(default="", max_length=120, description="The exception's class name")
