"""Working on a request: replies and internal notes (with attachments), status, triage (category, priority,
team, assignee), merging duplicates, linking the shipment's exception, reopening, the satisfaction rating, and
following.

Who may do what: the customers of the request's company reply, reopen, rate and follow; staff with
HANDLE_REQUESTS do everything else. Every change is audited; replies and resolutions notify the person who raised
the request and its followers (never for an internal note). A change made on a stale copy is refused with a
conflict and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from models import OpsException, Ticket, TicketFollower, TicketMessage
from models.enums import TicketStatus
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import clock, notifications
from portal_app.services import documents as document_files
from portal_app.services.errors import (
    Conflict,
    ErrorCode,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from portal_app.services.exceptions import check_staff, check_team
from portal_app.services.requests.common import (
    ACTIVE_STATUSES,
    CATEGORY_LABELS,
    DONE_STATUSES,
    NOTHING_SAVED,
    PRIORITY_LABELS,
    STATUS_LABELS,
    change,
    check_choice,
    customer_link,
    due_times,
    followers_of,
    load,
    record_change,
    snapshot,
)
from portal_app.services.requests.opening import Attachment, attach_files, clean_body
from portal_app.services.requests.reading import reopen_deadline

MAX_NOTE = 2000


def _staff(principal: Principal) -> None:
    principal.require(Permission.HANDLE_REQUESTS)


def _customer(principal: Principal) -> None:
    if not principal.is_customer:
        raise PermissionDenied(f"Only the customer's own people do this from the portal. {NOTHING_SAVED}")
    principal.require(Permission.RAISE_REQUESTS)


def _not_merged(ticket: Ticket) -> None:
    if ticket.merged_into_id is not None:
        raise Conflict(f"Request {ticket.reference} was merged into another request; continue there. "
                       f"{NOTHING_SAVED}", code=ErrorCode.MERGED)


def _tell_customer(db: Session, ticket: Ticket, kind: str, title: str, body: str, key: str, skip: int) -> None:
    """The raiser and the followers hear about a reply or a resolution, as their preferences ask."""
    assert ticket.id is not None  # a stored row
    notifications.notify(db, kind, [ticket.raised_by_id, *followers_of(db, ticket.id)], title, body,
                         customer_link(ticket), key, skip=skip, company_id=ticket.company_id)


def _tell_staff(db: Session, ticket: Ticket, title: str, body: str, key: str, skip: int) -> None:
    """The assignee hears about a customer's reply (in-app)."""
    if ticket.assignee_id:
        notifications.notify(db, "request_customer_reply", [ticket.assignee_id], title, body,
                             f"/tower/requests/{ticket.reference}", key, skip=skip)


def post_message(db: Session, principal: Principal, reference: str, body: str, *, internal: bool = False,
                 attachments: Sequence[Attachment] = (), status: str | None = None,
                 expected_version: int | None = None) -> TicketMessage:
    """Add a message to the thread: all or nothing, attachments included.

    A customer's reply puts the request back on the team's side ("waiting on us"); a reply to a resolved request
    inside the reopen window reopens it; a closed or expired one asks for a new request. A staff reply is the
    first response if none was given, and sets ``status`` (default: waiting on the customer). An internal note
    (staff only) changes no status, is never shown to customers and notifies nobody.
    """
    ticket = load(db, principal, reference)
    assert ticket.id is not None  # a stored row
    _not_merged(ticket)
    text = clean_body(body, "the note" if internal else "your message")
    now = clock.now()
    before = snapshot(ticket)
    values: dict[str, object] = {}
    if principal.is_customer:
        _customer(principal)
        if internal:
            raise PermissionDenied(f"Internal notes are for the forwarder's staff. {NOTHING_SAVED}")
        if ticket.status in DONE_STATUSES:
            until = reopen_deadline(db, ticket)
            if ticket.status == TicketStatus.CLOSED or until is None or now > until:
                raise Conflict(f"Request {ticket.reference} is closed. Open a new request and mention "
                               f"{ticket.reference}; we will see the history. {NOTHING_SAVED}", code=ErrorCode.CLOSED)
            values.update(_reopened(db, ticket, now))
        values["status"] = TicketStatus.WAITING_ON_US.value
    else:
        _staff(principal)
        if not internal:
            target = status or TicketStatus.WAITING_ON_CUSTOMER.value
            if target not in STATUS_LABELS:
                raise ValidationFailed(f"Unknown status {target!r}. {NOTHING_SAVED}")
            values.update(_status_values(ticket, target, now))
            if ticket.first_responded_at is None:
                values["first_responded_at"] = now
    change(db, ticket, expected_version, **values)
    message = TicketMessage(ticket_id=ticket.id, author_id=principal.user_id,
                            visibility="internal" if internal else "customer", body=text, created_at=now)
    db.add(message)
    db.flush()
    written: list[str] = []
    try:
        files = attach_files(db, principal, ticket, message, attachments, written)
        record_change(db, principal, "request_note" if internal else "request_message", ticket, before,
                      {**snapshot(ticket), "message_id": message.id, "attachments": [d.id for d in files]})
        if principal.is_customer:
            _tell_staff(db, ticket, f"{ticket.reference}: the customer replied", text[:300],
                        f"request_customer_reply:{message.id}", principal.user_id)
        elif not internal:
            _tell_customer(db, ticket, "request_replied", f"Reply to your request {ticket.reference}",
                           f"{ticket.subject}\n\n{text[:600]}", f"request_replied:{message.id}", principal.user_id)
            if ticket.status == TicketStatus.RESOLVED:
                _resolved_notice(db, ticket, principal)
        db.commit()
    except Exception:
        db.rollback()
        document_files.remove_files(written)
        raise
    return message


def _status_values(ticket: Ticket, target: str, now: datetime) -> dict[str, object]:
    values: dict[str, object] = {"status": target}
    if target == TicketStatus.RESOLVED and ticket.status != TicketStatus.RESOLVED:
        values["resolved_at"] = now
    if target == TicketStatus.CLOSED:
        values["closed_at"] = now
        if ticket.resolved_at is None:
            values["resolved_at"] = now
    if target in ACTIVE_STATUSES:
        values.update(resolved_at=None, closed_at=None)
    return values


def _reopened(db: Session, ticket: Ticket, now: datetime) -> dict[str, object]:
    """A reopened request starts a new resolution timer (the first response was already given)."""
    _first_due, resolution_due = due_times(db, ticket.category, ticket.priority, now)
    return {"status": TicketStatus.OPEN.value, "resolved_at": None, "closed_at": None,
            "resolution_due_at": resolution_due}


def _resolved_notice(db: Session, ticket: Ticket, principal: Principal) -> None:
    _tell_customer(db, ticket, "request_resolved", f"Request {ticket.reference} is resolved",
                   f"{ticket.subject}\n\nIf it is not solved for you, reply in the portal to reopen it.",
                   f"request_resolved:{ticket.id}:{ticket.version}", principal.user_id)


def set_status(db: Session, principal: Principal, reference: str, status: str, *, note: str | None = None,
               expected_version: int | None = None) -> Ticket:
    """Staff move a request between statuses; resolving notifies the customer (with ``note`` as a reply)."""
    _staff(principal)
    ticket = load(db, principal, reference)
    _not_merged(ticket)
    target = check_choice(status, STATUS_LABELS, "status")
    if note and note.strip():
        post_message(db, principal, reference, note, status=target, expected_version=expected_version)
        db.refresh(ticket)
        return ticket
    before = snapshot(ticket)
    change(db, ticket, expected_version, **_status_values(ticket, target, clock.now()))
    record_change(db, principal, "request_status", ticket, before, snapshot(ticket))
    if target == TicketStatus.RESOLVED and before["status"] != TicketStatus.RESOLVED:
        _resolved_notice(db, ticket, principal)
    db.commit()
    return ticket


def triage(db: Session, principal: Principal, reference: str, *, category: str, priority: str,
           team_id: int | None, assignee_id: int | None, expected_version: int | None = None) -> Ticket:
    """Staff set category, priority, team and assignee. A new category or priority recomputes the SLA due times
    from the request's creation, as the policy for the new values says."""
    _staff(principal)
    ticket = load(db, principal, reference)
    category = check_choice(category, CATEGORY_LABELS, "category")
    priority = check_choice(priority, PRIORITY_LABELS, "priority")
    values: dict[str, object] = {"category": category, "priority": priority, "team_id": check_team(db, team_id),
                                 "assignee_id": check_staff(db, assignee_id, "Assignee")}
    if (category, priority) != (ticket.category, ticket.priority):
        first_due, resolution_due = due_times(db, category, priority, ticket.created_at)
        values.update(first_response_due_at=first_due, resolution_due_at=resolution_due)
    before = snapshot(ticket)
    change(db, ticket, expected_version, **values)
    record_change(db, principal, "request_triaged", ticket, before, snapshot(ticket))
    if ticket.assignee_id and ticket.assignee_id != before["assignee_id"]:
        notifications.notify(db, "request_assigned", [ticket.assignee_id], f"{ticket.reference} is yours",
                             ticket.subject, f"/tower/requests/{ticket.reference}",
                             f"request_assigned:{ticket.id}:{ticket.version}", skip=principal.user_id)
    db.commit()
    return ticket


def merge(db: Session, principal: Principal, reference: str, into_reference: str, *,
          expected_version: int | None = None) -> Ticket:
    """Merge a duplicate into another request of the same company: the duplicate closes and points at it, its
    followers follow the other one, and both threads record the merge."""
    _staff(principal)
    ticket = load(db, principal, reference)
    target = load(db, principal, into_reference)
    assert ticket.id is not None and target.id is not None  # stored rows
    _not_merged(ticket)
    if target.id == ticket.id:
        raise ValidationFailed(f"A request cannot be merged into itself. {NOTHING_SAVED}")
    if target.company_id != ticket.company_id:
        raise ValidationFailed(f"{target.reference} belongs to another customer; only requests of the same "
                               f"customer can be merged. {NOTHING_SAVED}")
    if target.merged_into_id is not None:
        raise ValidationFailed(f"{target.reference} was itself merged; merge into the request it points to. "
                               f"{NOTHING_SAVED}")
    now = clock.now()
    before = snapshot(ticket)
    change(db, ticket, expected_version, status=TicketStatus.CLOSED.value, closed_at=now,
           resolved_at=ticket.resolved_at or now, merged_into_id=target.id)
    have = set(followers_of(db, target.id))
    for uid in followers_of(db, ticket.id):
        if uid not in have:
            db.add(TicketFollower(ticket_id=target.id, user_id=uid))
    db.add(TicketMessage(ticket_id=ticket.id, author_id=principal.user_id, visibility="customer", created_at=now,
                         body=f"Merged into {target.reference}: we continue there."))
    db.add(TicketMessage(ticket_id=target.id, author_id=principal.user_id, visibility="customer", created_at=now,
                         body=f"{ticket.reference} ({ticket.subject}) was merged into this request."))
    record_change(db, principal, "request_merged", ticket, before, {**snapshot(ticket), "into": target.reference})
    db.commit()
    return ticket


def link_exception(db: Session, principal: Principal, reference: str, exception_id: int | None, *,
                   expected_version: int | None = None) -> Ticket:
    """Tie the request to an exception of its shipment (None unlinks it)."""
    _staff(principal)
    ticket = load(db, principal, reference)
    if exception_id is not None:
        found = db.exec(select(OpsException.shipment_id).where(OpsException.id == int(exception_id))).first()
        if found is None:
            raise NotFound(f"No exception #{exception_id}. Check the number. {NOTHING_SAVED}")
        if ticket.shipment_id is None or found != ticket.shipment_id:
            raise ValidationFailed(f"Exception #{exception_id} is on another shipment; link an exception of this "
                                   f"request's shipment. {NOTHING_SAVED}")
    before = snapshot(ticket)
    change(db, ticket, expected_version, exception_id=int(exception_id) if exception_id is not None else None)
    record_change(db, principal, "request_exception_linked", ticket, before, snapshot(ticket))
    db.commit()
    return ticket


def reopen(db: Session, principal: Principal, reference: str, reason: str, *,
           expected_version: int | None = None) -> Ticket:
    """Reopen a resolved or closed request inside the reopen window (customers and staff), with the reason as a
    message."""
    ticket = load(db, principal, reference)
    assert ticket.id is not None  # a stored row
    _not_merged(ticket)
    if principal.is_customer:
        _customer(principal)
    else:
        _staff(principal)
    text = clean_body(reason, "why it needs another look")
    until = reopen_deadline(db, ticket)
    now = clock.now()
    if until is None:
        raise Conflict(f"Request {ticket.reference} is still open; reply to it instead. {NOTHING_SAVED}",
                       code=ErrorCode.NOT_DONE)
    if now > until:
        raise Conflict(f"Request {ticket.reference} can no longer be reopened (the window ended "
                       f"{until:%Y-%m-%d}). Open a new request and mention {ticket.reference}. {NOTHING_SAVED}",
                       code=ErrorCode.REOPEN_WINDOW)
    before = snapshot(ticket)
    change(db, ticket, expected_version, **_reopened(db, ticket, now))
    db.add(TicketMessage(ticket_id=ticket.id, author_id=principal.user_id, visibility="customer", created_at=now,
                         body=f"Reopened: {text}"))
    record_change(db, principal, "request_reopened", ticket, before, snapshot(ticket))
    if principal.is_customer:
        _tell_staff(db, ticket, f"{ticket.reference} was reopened", text[:300],
                    f"request_reopened:{ticket.id}:{ticket.version}", principal.user_id)
    db.commit()
    return ticket


def rate(db: Session, principal: Principal, reference: str, score: int, comment: str | None = None) -> Ticket:
    """The customer rates a resolved request (1-5, optional comment); rating a resolved request closes it."""
    _customer(principal)
    ticket = load(db, principal, reference)
    _not_merged(ticket)
    if ticket.status not in DONE_STATUSES:
        raise Conflict(f"Request {ticket.reference} is not resolved yet; rate it once it is. {NOTHING_SAVED}",
                       code=ErrorCode.NOT_DONE)
    try:
        value = int(score)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise ValidationFailed(f"Give a rating from 1 (poor) to 5 (excellent). {NOTHING_SAVED}")
    words = " ".join((comment or "").split())[:1000] or None
    before = {**snapshot(ticket), "satisfaction": ticket.satisfaction}
    now = clock.now()
    values: dict[str, object] = {"satisfaction": value, "satisfaction_comment": words}
    if ticket.status == TicketStatus.RESOLVED:
        values.update(status=TicketStatus.CLOSED.value, closed_at=now)
    change(db, ticket, None, **values)
    record_change(db, principal, "request_rated", ticket, before, {**snapshot(ticket), "satisfaction": value})
    db.commit()
    return ticket


def set_following(db: Session, principal: Principal, reference: str, follow: bool) -> bool:
    """Colleagues of the request's company (and staff) follow a request to hear about replies."""
    ticket = load(db, principal, reference)
    assert ticket.id is not None  # a stored row
    row = db.get(TicketFollower, (ticket.id, principal.user_id))
    if follow and row is None:
        db.add(TicketFollower(ticket_id=ticket.id, user_id=principal.user_id))
    elif not follow and row is not None:
        db.delete(row)
    try:
        db.commit()
    except sa.exc.IntegrityError:  # followed from two tabs at once
        db.rollback()
    return follow
