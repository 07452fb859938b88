"""How a request (ticket) is born: raised by a customer from anywhere, or from a shipment, invoice, document or a
failed action, with that context attached so nobody has to ask again.

A new request gets its SLA due times from the policy for its category and priority, and goes to the team the
desk's routing names for its category (else the shipment's team), where the queue picks it up.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, BinaryIO

from sqlmodel import Session, col, select

from models import (
    Document,
    Invoice,
    Shipment,
    Ticket,
    TicketAttachment,
    TicketFollower,
    TicketMessage,
)
from models.enums import Priority
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import clock
from portal_app.services import documents as document_files
from portal_app.services.errors import NotFound, ValidationFailed
from portal_app.services.requests.common import (
    CATEGORY_LABELS,
    PRIORITY_LABELS,
    desk_settings,
    due_times,
    reference_of,
)
from portal_app.services.requests.context import encode_context

MAX_BODY_CHARS = 10000
MAX_ATTACHMENTS = 5
NOTHING_SENT = "Nothing was sent."

Attachment = tuple[str, bytes | BinaryIO]  # (file name as given, content)


def ticket_reference(ticket_id: int) -> str:
    return reference_of(ticket_id)


def new_ticket(db: Session, *, company_id: int, raised_by_id: int, category: str, subject: str, body: str,
               priority: str = Priority.NORMAL.value, context: dict[str, Any] | None = None,
               shipment_id: int | None = None, invoice_id: int | None = None,
               document_id: int | None = None) -> Ticket:
    """Add a request with its first message and its raiser as follower to the session (the caller commits).

    The one place a ticket row is made, so every request has its SLA due times, its team and its reference.
    A context over the limit is refused (ContextTooLarge), never cut: see :mod:`.context`.
    """
    stored_context = encode_context(context)
    now = clock.now()
    first_due, resolution_due = due_times(db, category, priority, now)
    team_id = desk_settings(db).routing.get(category)
    if team_id is None and shipment_id is not None:
        team_id = db.exec(select(Shipment.team_id).where(Shipment.id == shipment_id)).first()
    ticket = Ticket(
        reference=f"TMP-{uuid.uuid4().hex[:16]}",
        company_id=company_id,
        raised_by_id=raised_by_id,
        shipment_id=shipment_id,
        invoice_id=invoice_id,
        document_id=document_id,
        category=category,
        priority=priority,
        subject=subject,
        context=stored_context,
        team_id=team_id,
        first_response_due_at=first_due,
        resolution_due_at=resolution_due,
        created_at=now,
        updated_at=now,
    )
    db.add(ticket)
    db.flush()
    assert ticket.id is not None  # flushed: the row has its key
    ticket.reference = ticket_reference(ticket.id)
    db.add(ticket)
    db.add(TicketMessage(ticket_id=ticket.id, author_id=raised_by_id, visibility="customer", body=body,
                         created_at=now))
    db.add(TicketFollower(ticket_id=ticket.id, user_id=raised_by_id))
    return ticket


def clean_body(body: str | None, what: str = "your message", field: str = "body") -> str:
    """The message text, or ValidationFailed naming ``field`` (empty, or longer than a message may be)."""
    text = (body or "").strip()
    if not text:
        message = f"Write {what}, then send again. {NOTHING_SENT}"
        raise ValidationFailed(message, fields={field: message})
    if len(text) > MAX_BODY_CHARS:
        message = (f"Keep {what} under {MAX_BODY_CHARS:,} characters (it has {len(text):,}); attach long texts as "
                   f"a file. {NOTHING_SENT}")
        raise ValidationFailed(message, fields={field: message})
    return text


def attach_files(db: Session, principal: Principal, ticket: Ticket, message: TicketMessage,
                 files: Sequence[Attachment], written: list[str]) -> list[Document]:
    """Store each file with the same checks as shipment documents (size, type from the bytes, private storage)
    and tie it to the message. Keys of files written go to ``written`` so the caller can remove them on failure."""
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationFailed(f"Attach at most {MAX_ATTACHMENTS} files to one message. {NOTHING_SENT}")
    stored = []
    for name, data in files:
        doc = document_files.store_attachment(db, principal, ticket.company_id, name, data,
                                              visibility=message.visibility, written=written)
        assert message.id is not None and doc.id is not None  # flushed rows
        db.add(TicketAttachment(ticket_message_id=message.id, document_id=doc.id))
        stored.append(doc)
    return stored


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
    document_id: int | None = None,
    priority: str = Priority.NORMAL,
    attachments: Sequence[Attachment] = (),
    commit: bool = True,
) -> Ticket:
    """Create a request raised by the acting customer, tied to a shipment, invoice or document of their company.

    ``context`` records the page, the record and what the user attempted (and any draft). With ``commit=False``
    the caller commits it together with its own changes (all or nothing). Attachments are stored all or nothing
    with the request.
    """
    principal.require(Permission.RAISE_REQUESTS)
    if category not in CATEGORY_LABELS:
        raise ValidationFailed(f"Unknown request category {category!r}. Choose one of: "
                               f"{', '.join(CATEGORY_LABELS)}. {NOTHING_SENT}")
    if priority not in PRIORITY_LABELS:
        raise ValidationFailed(f"Unknown priority {priority!r}. Choose one of: {', '.join(PRIORITY_LABELS)}. "
                               f"{NOTHING_SENT}")
    subject = " ".join((subject or "").split())[:200]
    if len(subject) < 3 or not (body or "").strip():
        raise ValidationFailed(f"Write a short subject and what you need, then send again. {NOTHING_SENT}")
    body = clean_body(body)
    shipment_id = invoice_id = None
    if shipment_reference:
        shipment_id = db.exec(
            select(Shipment.id).where(Shipment.reference == shipment_reference.strip().upper(),
                                      company_filter(col(Shipment.company_id), principal))
        ).first()
        if shipment_id is None:
            raise NotFound(f"No shipment {shipment_reference!r} in your account. {NOTHING_SENT}")
    if invoice_number:
        found = db.exec(
            select(Invoice.id, Invoice.shipment_id).where(Invoice.number == invoice_number.strip().upper(),
                                                          company_filter(col(Invoice.company_id), principal))
        ).first()
        if found is None:
            raise NotFound(f"No invoice {invoice_number!r} in your account. {NOTHING_SENT}")
        invoice_id, shipment_id = found[0], shipment_id or found[1]
    if document_id is not None:
        found = db.exec(select(Document.id, Document.shipment_id).where(
            col(Document.id) == int(document_id), company_filter(col(Document.company_id), principal),
            Document.visibility == "customer")).first()
        if found is None:
            raise NotFound(f"No document {document_id} in your account. {NOTHING_SENT}")
        shipment_id = shipment_id or found[1]
    ticket = new_ticket(db, company_id=principal.company_id, raised_by_id=principal.user_id, category=category,
                        subject=subject, body=body, priority=priority, context=context, shipment_id=shipment_id,
                        invoice_id=invoice_id, document_id=document_id)
    if attachments:
        db.flush()
        message = db.exec(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)).one()
        written: list[str] = []
        try:
            attach_files(db, principal, ticket, message, attachments, written)
        except Exception:
            db.rollback()
            document_files.remove_files(written)
            raise
    if commit:
        db.commit()
    return ticket
