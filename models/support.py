"""Requests (tickets), their messages, help-centre articles and canned replies."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import dt_field


class Ticket(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=20, unique=True)
    company_id: int = Field(foreign_key="company.id")
    raised_by_id: int = Field(foreign_key="app_user.id", index=True)
    shipment_id: int | None = Field(default=None, foreign_key="shipment.id", index=True)
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id", index=True)
    document_id: int | None = Field(default=None, foreign_key="document.id")
    merged_into_id: int | None = Field(default=None, foreign_key="ticket.id")
    exception_id: int | None = Field(default=None, foreign_key="opsexception.id", index=True,
                                     description="The shipment's exception this request is about, linked by ops")
    category: str = Field(max_length=16)
    priority: str = Field(default="normal", max_length=10)
    status: str = Field(default="open", max_length=20)
    subject: str = Field(max_length=200)
    context: str | None = Field(default=None, sa_type=sa.Text,
                                description="JSON: page, record, attempted action, draft")
    assignee_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    first_response_due_at: datetime | None = dt_field()
    first_responded_at: datetime | None = dt_field()
    resolution_due_at: datetime | None = dt_field(index=True)
    resolved_at: datetime | None = dt_field()
    closed_at: datetime | None = dt_field()
    satisfaction: int | None = Field(default=None, description="1-5 rating given on closure")
    satisfaction_comment: str | None = Field(default=None, max_length=1000)
    created_at: datetime = dt_field(nullable=False, default_now=True)
    updated_at: datetime = dt_field(nullable=False, default_now=True, index=True)
    version: int = 1

    __table_args__ = (sa.Index("ix_ticket_company_status", "company_id", "status"),)


class TicketMessage(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="app_user.id")
    visibility: str = Field(default="customer", max_length=10,
                            description="customer or internal (never shown to customers)")
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = dt_field(nullable=False, default_now=True)


class TicketFollower(SQLModel, table=True):
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", primary_key=True)


class HelpArticle(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    title: str = Field(max_length=200)
    body_markdown: str = Field(sa_type=sa.Text)
    audience: str = Field(default="public", max_length=10, description="public or customers")
    keywords: str | None = Field(default=None, max_length=400)
    is_published: bool = True
    updated_at: datetime = dt_field(nullable=False, default_now=True)
    version: int = 1


class HelpSearch(SQLModel, table=True):
    """A help-centre search, recorded so staff can see the questions with no good answer."""

    id: int | None = Field(default=None, primary_key=True)
    query: str = Field(max_length=300)
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    top_article_id: int | None = Field(default=None, foreign_key="helparticle.id")
    top_score: float | None = None
    is_gap: bool = Field(default=False, index=True)
    created_at: datetime = dt_field(nullable=False, default_now=True, index=True)


class CannedReply(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=120, unique=True)
    body: str = Field(sa_type=sa.Text)
    category: str | None = Field(default=None, max_length=16)


class TicketAttachment(SQLModel, table=True):
    """A file attached to a request message; the file itself is a Document in private storage."""

    ticket_message_id: int = Field(foreign_key="ticketmessage.id", primary_key=True)
    document_id: int = Field(foreign_key="document.id", primary_key=True)
