"""Rate cards, quote requests and the priced options offered to customers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import dt_field, money_field, qty_field


class RateCard(SQLModel, table=True):
    """A priced lane: mode, origin to destination, carrier, validity and currency."""

    id: int | None = Field(default=None, primary_key=True)
    mode: str = Field(max_length=12)
    origin_id: int = Field(foreign_key="location.id")
    destination_id: int = Field(foreign_key="location.id")
    carrier_id: int | None = Field(default=None, foreign_key="carrier.id", index=True)
    valid_from: date
    valid_to: date
    currency: str = Field(max_length=3)
    transit_days: int
    is_active: bool = True
    notes: str | None = Field(default=None, max_length=400)
    # Free time the carrier's tariff gives on this lane; None means the carrier's standard terms apply.
    demurrage_free_days: int | None = Field(default=None, description="Days the full container may stay in the "
                                                                      "terminal free of charge")
    detention_free_days: int | None = Field(default=None, description="Days the container may be kept outside the "
                                                                      "terminal free of charge")
    created_at: datetime = dt_field(nullable=False, default_now=True)
    updated_at: datetime = dt_field(nullable=False, default_now=True)
    version: int = 1

    __table_args__ = (
        sa.Index("ix_ratecard_lane", "mode", "origin_id", "destination_id", "valid_to"),
    )


class RateCharge(SQLModel, table=True):
    """One charge of a rate card.

    ``basis`` says how it is computed: per_container (with size_type), per_wm, per_kg (with weight break
    min_quantity), per_shipment (fixed), per_unit, percent (of freight or of cargo value).
    """

    id: int | None = Field(default=None, primary_key=True)
    rate_card_id: int = Field(foreign_key="ratecard.id", index=True)
    code: str = Field(max_length=20, description="FRT, BAF, THC, DOC, CUS, INS, ...")
    description: str = Field(max_length=120)
    basis: str = Field(max_length=16)
    size_type: str | None = Field(default=None, max_length=4)
    min_quantity: Decimal | None = qty_field()  # weight-break lower bound, kg
    rate: Decimal = Field(sa_type=sa.Numeric(16, 4))
    minimum_charge: Decimal | None = money_field(None, nullable=True)
    percent_of: str | None = Field(default=None, max_length=12, description="freight or cargo_value")
    service: str | None = Field(
        default=None, max_length=12, description="pickup, customs, insurance or delivery: charged only when asked for"
    )


class QuoteRequest(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=20, unique=True)
    company_id: int = Field(foreign_key="company.id")
    requested_by_id: int = Field(foreign_key="app_user.id")
    status: str = Field(default="draft", max_length=10)
    mode: str | None = Field(default=None, max_length=12)
    origin_id: int | None = Field(default=None, foreign_key="location.id")
    destination_id: int | None = Field(default=None, foreign_key="location.id")
    ready_date: date | None = None
    incoterm: str | None = Field(default=None, max_length=3)
    services: str = Field(default="[]", max_length=200, description="JSON list: pickup, customs, insurance, delivery")
    cargo_value: Decimal | None = money_field(None, nullable=True)
    cargo_currency: str | None = Field(default=None, max_length=3)
    customer_reference: str | None = Field(default=None, max_length=40)
    is_manual: bool = Field(default=False, description="No rate matched: priced by ops")
    manual_due_at: datetime | None = dt_field()
    submitted_at: datetime | None = dt_field()
    created_at: datetime = dt_field(nullable=False, default_now=True)
    updated_at: datetime = dt_field(nullable=False, default_now=True)
    version: int = 1

    __table_args__ = (
        sa.Index("ix_quoterequest_company_status", "company_id", "status"),
        sa.Index("ix_quoterequest_company_updated", "company_id", "updated_at"),
        sa.Index("ix_quoterequest_user_status", "requested_by_id", "status"),
        sa.Index("ix_quoterequest_status_due", "status", "manual_due_at"),
    )


class QuoteCargoLine(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    quote_request_id: int = Field(foreign_key="quoterequest.id", index=True)
    description: str | None = Field(default=None, max_length=200)
    packages: int | None = None
    length_cm: Decimal | None = qty_field()
    width_cm: Decimal | None = qty_field()
    height_cm: Decimal | None = qty_field()
    weight_kg: Decimal | None = qty_field()
    container_size_type: str | None = Field(default=None, max_length=4)
    container_count: int | None = None
    is_dangerous_goods: bool = False
    un_number: str | None = Field(default=None, max_length=4)
    dg_class: str | None = Field(default=None, max_length=4)


class QuoteOption(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    quote_request_id: int = Field(foreign_key="quoterequest.id", index=True)
    rate_card_id: int | None = Field(default=None, foreign_key="ratecard.id")
    carrier_id: int | None = Field(default=None, foreign_key="carrier.id")
    currency: str = Field(max_length=3)
    total: Decimal = money_field()
    transit_days: int
    valid_until: datetime = dt_field(nullable=False)
    status: str = Field(default="offered", max_length=10, description="offered, accepted, expired, declined")
    accepted_at: datetime | None = dt_field()
    notes: str | None = Field(default=None, max_length=400, description="What the price leaves out, or ops' remarks")
    # Copied from the rate card when priced, so a later edit of the card does not change an offer already made.
    demurrage_free_days: int | None = None
    detention_free_days: int | None = None
    created_at: datetime = dt_field(nullable=False, default_now=True)
    version: int = 1


class QuoteOptionCharge(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    quote_option_id: int = Field(foreign_key="quoteoption.id", index=True)
    code: str = Field(max_length=20)
    description: str = Field(max_length=200)
    quantity: Decimal = qty_field(Decimal("1"), nullable=False)
    unit_price: Decimal = Field(sa_type=sa.Numeric(16, 4))
    amount: Decimal = money_field()


class IdempotencyKey(SQLModel, table=True):
    """Makes a repeated request (double click, retry, second tab) return the first result."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100)
    user_id: int = Field(foreign_key="app_user.id")
    operation: str = Field(max_length=40)
    result_ref: str | None = Field(default=None, max_length=40)
    created_at: datetime = dt_field(nullable=False, default_now=True)

    __table_args__ = (sa.UniqueConstraint("user_id", "operation", "key"),)
