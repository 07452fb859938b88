"""Carrier events in (DCSA Track & Trace): the carriers' connections, every event they sent (kept raw), which
shipments each event moved, the events refused with their reason, and the matches staff taught the portal."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import dt_field


class CarrierConnection(SQLModel, table=True):
    """One carrier sending events: its webhook subscription (id and HMAC secret) and its integration key (v3)."""

    __tablename__ = "carrier_connection"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    carrier_code: str = Field(max_length=10, description="The carrier's SCAC, e.g. MAEU")
    secret_encrypted: str = Field(max_length=2000, description="Fernet token made with PORTAL_SSO_KEY")
    subscription_id: str = Field(max_length=36, unique=True, description="Sent by the carrier as Subscription-ID")
    api_key_hash: str | None = Field(default=None, max_length=64, unique=True,
                                     description="SHA-256 of the integration key for DCSA 3.0 (POST .../v3/events)")
    api_key_prefix: str | None = Field(default=None, max_length=16)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = dt_field(nullable=False, default_now=True)
    active: bool = True
    deleted_at: datetime | None = dt_field()


class CarrierEvent(SQLModel, table=True):
    """An event as a carrier sent it, at most once per (connection, eventID); the payload is kept as received."""

    __tablename__ = "carrier_event"

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="carrier_connection.id")
    event_id: str = Field(max_length=500, description="DCSA eventID")
    api_version: str = Field(max_length=5, description="2.2 or 3.0")
    event_type: str = Field(max_length=12, description="TRANSPORT, SHIPMENT or EQUIPMENT")
    event_code: str = Field(max_length=8, description="DCSA event type code, e.g. DEPA, LOAD, ISSU")
    classifier: str = Field(max_length=3, description="PLN, EST or ACT")
    event_at: datetime = dt_field(nullable=False)
    event_created_at: datetime = dt_field(nullable=False)
    equipment_reference: str | None = Field(default=None, max_length=15)
    location_code: str | None = Field(default=None, max_length=5)
    vessel_name: str | None = Field(default=None, max_length=80)
    voyage_numbers: str | None = Field(default=None, max_length=100, description="Export and import voyage numbers")
    status: str = Field(max_length=12, description="applied, unmatched or matched (no change to make)")
    outcome: str | None = Field(default=None, max_length=600, description="What the event did, in words")
    payload: str = Field(sa_type=sa.Text)
    received_at: datetime = dt_field(nullable=False, default_now=True)

    __table_args__ = (
        sa.UniqueConstraint("connection_id", "event_id"),
        sa.Index("ix_carrier_event_status_received", "status", "received_at"),
        sa.Index("ix_carrier_event_received", "received_at"),
    )


class CarrierEventShipment(SQLModel, table=True):
    """What one event did to one shipment (an event on a vessel's voyage moves every shipment on it)."""

    __tablename__ = "carrier_event_shipment"

    id: int | None = Field(default=None, primary_key=True)
    carrier_event_id: int = Field(foreign_key="carrier_event.id", index=True)
    shipment_id: int = Field(foreign_key="shipment.id")
    milestone_code: str | None = Field(default=None, max_length=40)
    kind: str = Field(max_length=10, description="actual or estimate: what the event sets")
    outcome: str = Field(max_length=12, description="applied, older, unchanged, no_step or refused")
    note: str | None = Field(default=None, max_length=600)
    created_at: datetime = dt_field(nullable=False, default_now=True)

    __table_args__ = (sa.Index("ix_carrier_event_shipment_step", "shipment_id", "milestone_code", "kind", "outcome"),)


class CarrierEventRefusal(SQLModel, table=True):
    """The connection's log of events it sent that were refused (not valid DCSA), with the reason."""

    __tablename__ = "carrier_event_refusal"

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="carrier_connection.id", index=True)
    event_id: str | None = Field(default=None, max_length=500)
    reason: str = Field(max_length=2000)
    excerpt: str = Field(sa_type=sa.Text, description="The refused event as sent, cut at 4,000 characters")
    received_at: datetime = dt_field(nullable=False, default_now=True, index=True)


class CarrierMatch(SQLModel, table=True):
    """A match staff made by hand: later events with this container number go to this shipment."""

    __tablename__ = "carrier_match"

    id: int | None = Field(default=None, primary_key=True)
    equipment_reference: str = Field(max_length=15, index=True)
    shipment_id: int = Field(foreign_key="shipment.id")
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = dt_field(nullable=False, default_now=True)

    __table_args__ = (sa.UniqueConstraint("equipment_reference", "shipment_id"),)
