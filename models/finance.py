"""Invoices, their lines and payments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import dt_field, money_field, qty_field


class Invoice(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True)
    company_id: int = Field(foreign_key="company.id")
    shipment_id: int | None = Field(default=None, foreign_key="shipment.id", index=True)
    status: str = Field(max_length=16)
    currency: str = Field(max_length=3)
    issue_date: date
    due_date: date = Field(index=True)
    subtotal: Decimal = money_field()
    tax_total: Decimal = money_field()
    total: Decimal = money_field()
    amount_paid: Decimal = money_field()
    balance: Decimal = money_field()
    disputed_reason: str | None = Field(default=None, max_length=400)
    created_at: datetime = dt_field(nullable=False, default_now=True)
    updated_at: datetime = dt_field(nullable=False, default_now=True, index=True)
    version: int = 1

    __table_args__ = (
        sa.Index("ix_invoice_company_status_balance", "company_id", "status", "currency", "balance"),
        sa.Index("ix_invoice_company_due", "company_id", "due_date"),
        sa.Index("ix_invoice_company_issued", "company_id", "issue_date"),
    )


class InvoiceLine(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    line_no: int
    code: str = Field(max_length=20)
    description: str = Field(max_length=200)
    quantity: Decimal = qty_field(Decimal("1"), nullable=False)
    unit_price: Decimal = money_field()
    tax_rate: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(6, 3))
    amount: Decimal = money_field()
    tax_amount: Decimal = money_field()

    __table_args__ = (sa.UniqueConstraint("invoice_id", "line_no"),)


class Payment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    amount: Decimal = money_field()
    currency: str = Field(max_length=3)
    paid_at: datetime = dt_field(nullable=False)
    method: str = Field(default="bank_transfer", max_length=20)
    reference: str | None = Field(default=None, max_length=60)
    created_at: datetime = dt_field(nullable=False, default_now=True)
