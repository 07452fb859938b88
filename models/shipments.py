"""The shipment record: booking through closure, with everything the customer and ops see about it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import dt_field, money_field, qty_field


class Shipment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=20, unique=True, description="Forwarder's shipment reference, e.g. SH0000123")
    company_id: int = Field(foreign_key="company.id", description="The customer that owns this shipment")
    quote_option_id: int | None = Field(
        default=None, foreign_key="quoteoption.id", index=True, unique=True,
        description="The accepted quote option; unique, so one option becomes at most one booking",
    )
    mode: str = Field(max_length=12)
    status: str = Field(max_length=12)
    incoterm: str | None = Field(default=None, max_length=3)
    shipper_name: str | None = Field(default=None, max_length=200)
    shipper_address: str | None = Field(default=None, max_length=400)
    consignee_name: str | None = Field(default=None, max_length=200)
    consignee_address: str | None = Field(default=None, max_length=400)
    notify_party: str | None = Field(default=None, max_length=200)
    origin_id: int = Field(foreign_key="location.id", index=True)
    destination_id: int = Field(foreign_key="location.id", index=True)
    carrier_id: int | None = Field(default=None, foreign_key="carrier.id", index=True)
    vessel_name: str | None = Field(default=None, max_length=80)
    voyage_number: str | None = Field(default=None, max_length=20)
    flight_number: str | None = Field(default=None, max_length=12)
    booking_number: str | None = Field(default=None, max_length=40, index=True)
    mbl_number: str | None = Field(default=None, max_length=40, index=True)
    hbl_number: str | None = Field(default=None, max_length=40, index=True)
    awb_number: str | None = Field(default=None, max_length=12, index=True, description="Master AWB, 11 digits")
    hawb_number: str | None = Field(default=None, max_length=20, index=True)
    customer_po: str | None = Field(default=None, max_length=40, index=True)
    cargo_description: str | None = Field(default=None, max_length=400)
    packages: int | None = None
    package_type: str | None = Field(default=None, max_length=20)
    gross_weight_kg: Decimal | None = qty_field()
    volume_cbm: Decimal | None = qty_field()
    chargeable_weight_kg: Decimal | None = qty_field()
    is_dangerous_goods: bool = False
    cargo_value: Decimal | None = money_field(None, nullable=True)
    cargo_currency: str | None = Field(default=None, max_length=3)
    ready_date: date | None = None
    etd_planned: datetime | None = dt_field()
    etd_estimated: datetime | None = dt_field()
    atd: datetime | None = dt_field()
    eta_planned: datetime | None = dt_field()
    eta_estimated: datetime | None = dt_field(index=True)
    ata: datetime | None = dt_field()
    delivered_at: datetime | None = dt_field()
    delay_minutes: int = Field(default=0, description="Latest estimate or actual arrival minus planned, in minutes")
    last_tracking_at: datetime | None = dt_field()
    owner_id: int | None = Field(default=None, foreign_key="app_user.id")
    team_id: int | None = Field(default=None, foreign_key="team.id")
    branch_id: int | None = Field(default=None, foreign_key="branch.id")
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = dt_field(nullable=False, default_now=True)
    updated_at: datetime = dt_field(nullable=False, default_now=True, index=True)
    version: int = Field(default=1, description="Optimistic-lock counter, bumped on every change")
    # Kept by database triggers on opsexception (models/exception_summary.py); never written by the services.
    open_exceptions: int = Field(default=0, sa_column_kwargs={"server_default": "0"},
                                 description="Open exceptions of this shipment")
    next_sla_due_at: datetime | None = dt_field()

    __table_args__ = (
        sa.Index("ix_shipment_company_status_delay", "company_id", "status", "delay_minutes"),
        sa.Index("ix_shipment_company_updated", "company_id", "updated_at"),
        sa.Index("ix_shipment_company_eta", "company_id", "eta_estimated"),
        sa.Index("ix_shipment_company_mode", "company_id", "mode"),
        sa.Index("ix_shipment_status_mode", "status", "mode"),
        sa.Index("ix_shipment_status_updated", "status", "updated_at"),
        sa.Index("ix_shipment_mode_updated", "mode", "updated_at"),
        # A carrier's transport event finds every shipment on its voyage (intake.match_shipments).
        sa.Index("ix_shipment_voyage_upper", sa.text("upper(voyage_number)")),
        # Tower KPIs read these alone: on-time departure (departed in a range), on-time arrival and transit
        # time by lane (arrived in a range).
        # The board's owner, team and branch filters walk these in the list's default order (newest change first).
        sa.Index("ix_shipment_owner_updated", "owner_id", "updated_at"),
        sa.Index("ix_shipment_team_updated", "team_id", "updated_at"),
        sa.Index("ix_shipment_branch_updated", "branch_id", "updated_at"),
        # ... and count them with a status filter from the index alone.
        sa.Index("ix_shipment_owner_status", "owner_id", "status"),
        sa.Index("ix_shipment_team_status", "team_id", "status"),
        sa.Index("ix_shipment_branch_status", "branch_id", "status"),
        # The board's "open exception" and SLA filters: only shipments with an open exception, newest change first.
        # The literal 0 matters: a planner can use a partial index only for a condition it can see.
        # With the board's other filter columns, any mix of them with these filters reads this index alone.
        sa.Index("ix_shipment_open_exceptions", "updated_at", "next_sla_due_at", "status", "mode", "company_id",
                 "branch_id", "team_id", "owner_id", "open_exceptions",
                 sqlite_where=sa.text("open_exceptions > 0"), postgresql_where=sa.text("open_exceptions > 0")),
        sa.Index("ix_shipment_departed_kpi", "atd", "etd_planned", "mode", "company_id"),
        sa.Index("ix_shipment_arrived_kpi", "ata", "atd", "eta_planned", "mode", "origin_id", "destination_id",
                 "company_id"),
    )


class ShipmentReference(SQLModel, table=True):
    """Every searchable reference of a shipment, normalised (upper case, no spaces or dashes).

    One indexed table answers "find my shipment by any reference" with an index range scan instead of
    one LIKE per column.
    """

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipment.id", index=True)
    company_id: int = Field(foreign_key="company.id")
    kind: str = Field(max_length=12)
    value: str = Field(
        sa_type=sa.String(40).with_variant(sa.String(40, collation="C"), "postgresql"),
        description="Normalised value; byte-order collation so prefix range scans use the index on every backend",
    )
    display_value: str = Field(max_length=40)

    __table_args__ = (
        sa.UniqueConstraint("shipment_id", "kind", "value"),
        sa.Index("ix_shipmentreference_value", "value"),
        sa.Index("ix_shipmentreference_company_value", "company_id", "value"),
    )


class Container(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipment.id", index=True)
    number: str = Field(max_length=11, index=True, description="ISO 6346, check digit validated")
    size_type: str = Field(max_length=4, description="ISO 6346 size-type code, e.g. 45G1")
    seal_number: str | None = Field(default=None, max_length=20)
    gross_weight_kg: Decimal | None = qty_field()
    packages: int | None = None

    __table_args__ = (
        sa.UniqueConstraint("shipment_id", "number"),
        # Carrier events find their shipments by container number, compared in capitals (intake.match_shipments).
        sa.Index("ix_container_number_upper", sa.text("upper(number)")),
    )


class CargoLine(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipment.id", index=True)
    description: str = Field(max_length=200)
    packages: int = 1
    package_type: str = Field(default="PK", max_length=10)
    length_cm: Decimal | None = qty_field()
    width_cm: Decimal | None = qty_field()
    height_cm: Decimal | None = qty_field()
    weight_kg: Decimal | None = qty_field()
    hs_code: str | None = Field(default=None, max_length=12)
    un_number: str | None = Field(default=None, max_length=4)
    dg_class: str | None = Field(default=None, max_length=4)


class Milestone(SQLModel, table=True):
    """One step of a shipment's journey with its planned, estimated and actual times."""

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipment.id")
    sequence: int
    code: str = Field(max_length=40)
    name: str = Field(max_length=120)
    event_code: str | None = Field(default=None, max_length=8)
    location_id: int | None = Field(default=None, foreign_key="location.id")
    planned_at: datetime | None = dt_field()
    estimated_at: datetime | None = dt_field()
    actual_at: datetime | None = dt_field()
    source: str = Field(default="plan", max_length=10)
    customer_visible: bool = True
    updated_at: datetime = dt_field(nullable=False, default_now=True)
    version: int = 1

    __table_args__ = (
        sa.UniqueConstraint("shipment_id", "sequence"),
        # With actual_at, "has this step happened" is answered from the index alone (the KPI mismatch check).
        sa.Index("ix_milestone_shipment_code_actual", "shipment_id", "code", "actual_at"),
    )


class EtaChange(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipment.id", index=True)
    previous_eta: datetime | None = dt_field()
    new_eta: datetime = dt_field(nullable=False)
    reason_code: str = Field(max_length=30)
    reason_text: str | None = Field(default=None, max_length=400)
    changed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    source: str = Field(default="ops", max_length=10)
    created_at: datetime = dt_field(nullable=False, default_now=True)


class TrackingEvent(SQLModel, table=True):
    """A raw event as received from a carrier or visibility feed; idempotent by (source, source_event_id)."""

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int | None = Field(default=None, foreign_key="shipment.id", index=True)
    source: str = Field(max_length=30)
    source_event_id: str = Field(max_length=100)
    event_type: str = Field(max_length=12, description="DCSA eventType or 'AIR'")
    event_code: str = Field(max_length=8)
    classifier: str = Field(default="ACT", max_length=3, description="PLN, EST or ACT")
    event_at: datetime = dt_field(nullable=False)
    location_code: str | None = Field(default=None, max_length=5)
    equipment_reference: str | None = Field(default=None, max_length=11)
    payload: str | None = Field(default=None, sa_type=sa.Text)
    received_at: datetime = dt_field(nullable=False, default_now=True)
    processed_at: datetime | None = dt_field()

    __table_args__ = (sa.UniqueConstraint("source", "source_event_id"),)


class ShipmentUpdate(SQLModel, table=True):
    """The status narrative: customer-visible updates and internal notes, one stream, clearly marked."""

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipment.id")
    company_id: int = Field(foreign_key="company.id", description="The shipment's company, for company-wide feeds")
    visibility: str = Field(default="customer", max_length=10)
    body: str = Field(sa_type=sa.Text)
    author_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = dt_field(nullable=False, default_now=True)

    __table_args__ = (
        sa.Index("ix_shipmentupdate_shipment_created", "shipment_id", "created_at"),
        sa.Index("ix_shipmentupdate_company_feed", "company_id", "visibility", "created_at"),
    )


class ShipmentFollower(SQLModel, table=True):
    shipment_id: int = Field(foreign_key="shipment.id", primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", primary_key=True, index=True)
    created_at: datetime = dt_field(nullable=False, default_now=True)


class ShipmentCharge(SQLModel, table=True):
    """Charges carried forward from the accepted quote (and added by ops); basis for invoicing."""

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipment.id", index=True)
    code: str = Field(max_length=20)
    description: str = Field(max_length=200)
    quantity: Decimal = qty_field(Decimal("1"), nullable=False)
    unit_price: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(16, 4), description="Rate as quoted")
    amount: Decimal = money_field()
    currency: str = Field(max_length=3)


class ChangeRequest(SQLModel, table=True):
    """A customer's request to amend or cancel a booking; applied only when ops approves."""

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipment.id", index=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    kind: str = Field(max_length=10)
    status: str = Field(default="pending", max_length=10, index=True)
    changes: str = Field(default="{}", sa_type=sa.Text, description="JSON of requested field changes")
    reason: str | None = Field(default=None, max_length=400)
    decision_reason: str | None = Field(default=None, max_length=400)
    requested_by_id: int = Field(foreign_key="app_user.id")
    decided_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = dt_field(nullable=False, default_now=True)
    decided_at: datetime | None = dt_field()
    version: int = 1
