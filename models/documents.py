"""Documents kept in private storage, versioned per shipment and type."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import dt_field


class Document(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id")
    shipment_id: int | None = Field(default=None, foreign_key="shipment.id")
    doc_type: str = Field(max_length=40, description="commercial_invoice, packing_list, bill_of_lading, ...")
    version_no: int = 1
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64, index=True)
    storage_key: str = Field(max_length=255, unique=True, description="Path inside the private data directory")
    visibility: str = Field(default="customer", max_length=10)
    status: str = Field(default="received", max_length=12)
    rejection_reason: str | None = Field(default=None, max_length=400)
    uploaded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    reviewed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    reviewed_at: datetime | None = dt_field()
    created_at: datetime = dt_field(nullable=False, default_now=True)
    version: int = 1

    __table_args__ = (
        sa.UniqueConstraint("shipment_id", "doc_type", "version_no"),
        sa.Index("ix_document_company_status", "company_id", "status"),
        sa.Index("ix_document_shipment_type", "shipment_id", "doc_type"),
        sa.Index("ix_document_company_created", "company_id", "created_at"),
    )
