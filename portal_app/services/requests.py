"""Opening a request (ticket) to a person, with the context of what the user was doing.

The full request workflow (SLAs, assignment, replies) builds on this; here is the one way a request is born.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlmodel import Session, select

from models import Invoice, Shipment, Ticket, TicketFollower, TicketMessage
from models.enums import Priority, TicketCategory
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services.errors import NotFound, ValidationFailed
from portal_app.services.scope import company_filter

MAX_CONTEXT_CHARS = 4000


def ticket_reference(ticket_id: int) -> str:
    return f"REQ-{ticket_id:06d}"


def open_request(
    db: Session,
    principal: Principal,
    *,
    category: str,
    subject: str,
    body: str,
    context: dict[str, Any] | None = None,
    shipment_reference: str | None = None,
    invoice_number: str | None = None,
    priority: str = Priority.NORMAL,
    commit: bool = True,
) -> Ticket:
    """Create a request raised by the acting customer, tied to a shipment or invoice of their company.

    ``context`` records the page, the record and what the user attempted, so nobody has to ask again.
    With ``commit=False`` the caller commits it together with its own changes (all or nothing).
    """
    principal.require(Permission.RAISE_REQUESTS)
    if category not in TicketCategory._value2member_map_:
        raise ValidationFailed(f"Unknown request category {category!r}. Nothing was sent.")
    if priority not in Priority._value2member_map_:
        raise ValidationFailed(f"Unknown priority {priority!r}. Nothing was sent.")
    subject = " ".join((subject or "").split())[:200]
    body = (body or "").strip()
    if len(subject) < 3 or not body:
        raise ValidationFailed("Write a short subject and what you need, then send again. Nothing was sent.")
    shipment_id = invoice_id = None
    if shipment_reference:
        shipment_id = db.exec(
            select(Shipment.id).where(Shipment.reference == shipment_reference.strip().upper(),
                                      company_filter(Shipment.company_id, principal))
        ).first()
        if shipment_id is None:
            raise NotFound(f"No shipment {shipment_reference!r} in your account. Nothing was sent.")
    if invoice_number:
        invoice_id = db.exec(
            select(Invoice.id).where(Invoice.number == invoice_number.strip().upper(),
                                     company_filter(Invoice.company_id, principal))
        ).first()
        if invoice_id is None:
            raise NotFound(f"No invoice {invoice_number!r} in your account. Nothing was sent.")
    context_text = json.dumps(context or {}, default=str, sort_keys=True)[:MAX_CONTEXT_CHARS]
    ticket = Ticket(
        reference=f"TMP-{uuid.uuid4().hex[:16]}",
        company_id=principal.company_id,
        raised_by_id=principal.user_id,
        shipment_id=shipment_id,
        invoice_id=invoice_id,
        category=category,
        priority=priority,
        subject=subject,
        context=context_text,
    )
    db.add(ticket)
    db.flush()
    ticket.reference = ticket_reference(ticket.id)
    db.add(ticket)
    db.add(TicketMessage(ticket_id=ticket.id, author_id=principal.user_id, visibility="customer", body=body))
    db.add(TicketFollower(ticket_id=ticket.id, user_id=principal.user_id))
    if commit:
        db.commit()
    return ticket
