"""Reading requests: one page of a list (the company's for customers, the queue for staff) and one request with
its thread. Customers never receive internal notes or their attachments: they are filtered out here, in the
query, not in the page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import (
    Company,
    Document,
    Invoice,
    OpsException,
    Shipment,
    Team,
    Ticket,
    TicketAttachment,
    TicketFollower,
    TicketMessage,
    User,
)
from models.enums import Role
from portal_app.auth.permissions import STAFF_ROLES, Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import clock
from portal_app.services.documents import DOWNLOAD_URL
from portal_app.services.errors import ValidationFailed
from portal_app.services.exceptions import SlaTimer, sla_timer, viewer_timezone
from portal_app.services.paging import Page, check_paging
from portal_app.services.requests.common import (
    ACTIVE_STATUSES,
    CATEGORY_LABELS,
    DONE_STATUSES,
    PRIORITY_LABELS,
    STAFF_STATUS_LABELS,
    STATUS_LABELS,
    check_choice,
    desk_settings,
    load,
)
from portal_app.services.requests.context import decode_context
from portal_app.services.sorting import SortKeys

MAX_PAGE_SIZE = 100
STATUS_FILTERS = ("active", "all", *STATUS_LABELS)
MAX_MESSAGES = 200


@dataclass(frozen=True)
class RequestFilters:
    status: str = "active"  # active (open or waiting), all, or one status
    category: str | None = None
    priority: str | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    breached: bool = False  # active requests past their first-response or resolution due time
    breaching_within_hours: int | None = None  # active requests due (either timer) within N hours
    company_id: int | None = None  # staff only
    search: str | None = None  # reference, subject or shipment reference


@dataclass(frozen=True)
class RequestTimer(SlaTimer):
    """A request's SLA timer: the API publishes it without the local due time (the pages show that)."""

    due_local: Annotated[str, Field(exclude=True)]

    @classmethod
    def of(cls, timer: SlaTimer) -> RequestTimer:
        return cls(**vars(timer))


@dataclass(frozen=True)
class RequestRow:
    """A request as the queue and the customer's list show it (the API serves this record without its labels
    for the category: the API's clients read the code)."""

    reference: str
    subject: str
    category: str
    category_label: Annotated[str, Field(exclude=True)]
    priority: str
    status: str
    status_label: str
    company_name: str
    raised_by: str
    assignee_name: str | None
    team_name: str | None
    shipment_reference: str | None
    invoice_number: str | None
    created_at: datetime
    updated_at: datetime
    first_response: RequestTimer  # "met" once answered
    resolution: RequestTimer
    version: int


@dataclass(frozen=True)
class AttachmentView:
    document_id: int
    filename: str
    size_bytes: int
    download_url: str


@dataclass(frozen=True)
class MessageView:
    id: int
    author: str
    author_is_staff: bool
    internal: bool
    body: str
    created_at: datetime
    attachments: tuple[AttachmentView, ...]


@dataclass(frozen=True)
class RequestDetail(RequestRow):
    """One request in full: its row's fields, then the thread and the rest (the API serves this record as it is,
    without the exception's title)."""

    messages: list[MessageView]
    context: dict  # staff only; empty for customers
    assignee_id: int | None
    team_id: int | None
    exception_id: int | None
    exception_title: Annotated[str | None, Field(exclude=True)]
    merged_into: str | None
    merged_from: list[str]
    satisfaction: int | None
    satisfaction_comment: str | None
    following: bool
    can_reopen: bool
    can_rate: bool
    reopen_until: datetime | None

    @property
    def row(self) -> RequestRow:
        """The request as the lists show it."""
        return RequestRow(**{f.name: getattr(self, f.name) for f in fields(RequestRow)})


_Select = TypeVar("_Select", bound=sa.Select)
_raiser = aliased(User)
_assignee = aliased(User)


def _columns() -> tuple:
    return (Ticket, Company.name, _raiser.full_name, _assignee.full_name, Team.name, Shipment.reference,
            Invoice.number)


def _joined(q: _Select) -> _Select:
    return (q.join(Company, col(Company.id) == col(Ticket.company_id))
            .join(_raiser, col(_raiser.id) == col(Ticket.raised_by_id))
            .outerjoin(_assignee, col(_assignee.id) == col(Ticket.assignee_id))
            .outerjoin(Team, col(Team.id) == col(Ticket.team_id))
            .outerjoin(Shipment, col(Shipment.id) == col(Ticket.shipment_id))
            .outerjoin(Invoice, col(Invoice.id) == col(Ticket.invoice_id)))


def _row(found: Sequence[Any], principal: Principal, now: datetime, tz: str) -> RequestRow:
    t, company, raiser, assignee, team, shipment_ref, invoice_no = found
    labels = STAFF_STATUS_LABELS if principal.is_staff else STATUS_LABELS
    answered = t.first_responded_at or (t.resolved_at if t.status in DONE_STATUSES else None)
    return RequestRow(
        reference=t.reference, subject=t.subject, category=t.category,
        category_label=CATEGORY_LABELS.get(t.category, t.category), priority=t.priority, status=t.status,
        status_label=labels.get(t.status, t.status), company_name=company, raised_by=raiser,
        assignee_name=assignee, team_name=team, shipment_reference=shipment_ref, invoice_number=invoice_no,
        created_at=t.created_at, updated_at=t.updated_at,
        first_response=RequestTimer.of(sla_timer(t.first_response_due_at, now, tz, answered)),
        resolution=RequestTimer.of(
            sla_timer(t.resolution_due_at, now, tz, t.resolved_at if t.status in DONE_STATUSES else None)),
        version=t.version,
    )


def customer_row(db: Session, ticket_id: int, now: datetime, tz: str = "UTC") -> RequestRow | None:
    """A request as its customer's list shows it (customer labels), by its id, with no principal: for a caller that
    has already decided who may see it (the webhooks: services/webhooks.py)."""
    found = db.exec(_joined(select(*_columns()).select_from(Ticket)).where(col(Ticket.id) == ticket_id)).first()
    if found is None:
        return None
    reader = Principal(0, found[0].company_id, Role.CUSTOMER_USER, "", "", found[1])
    return _row(tuple(found), reader, now, tz)


def _clauses(principal: Principal, f: RequestFilters, now: datetime) -> list[sa.ColumnElement[bool]]:
    if f.status not in STATUS_FILTERS:
        raise ValidationFailed(f"Unknown status {f.status!r}. Use one of: {', '.join(STATUS_FILTERS)}.")
    out: list[sa.ColumnElement[bool]] = [company_filter(col(Ticket.company_id), principal)]
    if f.status == "active":
        out.append(col(Ticket.status).in_(ACTIVE_STATUSES))
    elif f.status != "all":
        out.append(col(Ticket.status) == f.status)
    if f.category:
        out.append(col(Ticket.category) == check_choice(f.category, CATEGORY_LABELS, "category"))
    if f.priority:
        out.append(col(Ticket.priority) == check_choice(f.priority, PRIORITY_LABELS, "priority"))
    if f.search:
        term = f.search.strip().upper()
        sid = select(Shipment.id).where(Shipment.reference == term).scalar_subquery()
        out.append(sa.or_(col(Ticket.reference) == term, col(Ticket.shipment_id) == sid,
                          sa.func.lower(Ticket.subject).contains(f.search.strip().lower(), autoescape=True)))
    if principal.is_staff:
        if f.team_id is not None:
            out.append(col(Ticket.team_id) == int(f.team_id))
        if f.assignee_id is not None:
            out.append(col(Ticket.assignee_id) == int(f.assignee_id))
        if f.unassigned:
            out.append(col(Ticket.assignee_id).is_(None))
        if f.company_id is not None:
            out.append(col(Ticket.company_id) == int(f.company_id))
        first_due = sa.and_(col(Ticket.first_responded_at).is_(None), col(Ticket.first_response_due_at).is_not(None))
        if f.breached:
            out += [col(Ticket.status).in_(ACTIVE_STATUSES),
                    sa.or_(col(Ticket.resolution_due_at) < now,
                           sa.and_(first_due, col(Ticket.first_response_due_at) < now))]
        if f.breaching_within_hours is not None:
            if not 1 <= f.breaching_within_hours <= 24 * 30:
                raise ValidationFailed("Breaching within: choose between 1 and 720 hours.")
            soon = now + timedelta(hours=f.breaching_within_hours)
            out += [col(Ticket.status).in_(ACTIVE_STATUSES),
                    sa.or_(col(Ticket.resolution_due_at).between(now, soon),
                           sa.and_(first_due, col(Ticket.first_response_due_at).between(now, soon)))]
    return out


def _next_due() -> sa.ColumnElement[Any]:
    """The nearer of the two timers still running: first response (until answered), then resolution."""
    first = sa.case((col(Ticket.first_responded_at).is_(None), Ticket.first_response_due_at), else_=None)
    return sa.func.coalesce(first, Ticket.resolution_due_at)


# Priority sorts by urgency (low first ascending, urgent first descending), not by its word.
_PRIORITY_RANK = sa.case({"low": 0, "normal": 1, "high": 2, "urgent": 3}, value=col(Ticket.priority), else_=1)
# The request lists' orders (``-key`` descending). Without a sort, each list keeps its own order (below).
LIST_SORTS = SortKeys({"reference": col(Ticket.reference), "subject": col(Ticket.subject),
                       "status": col(Ticket.status), "priority": _PRIORITY_RANK,
                       "opened": col(Ticket.created_at), "updated": col(Ticket.updated_at),
                       "first_response": col(Ticket.first_response_due_at),
                       "resolution": col(Ticket.resolution_due_at)}, col(Ticket.id),
                      nullable=frozenset({"first_response", "resolution"}))


def list_requests(db: Session, principal: Principal, filters: RequestFilters | None = None, *, page: int = 1,
                  page_size: int = 25, sort: str | None = None) -> Page[RequestRow]:
    """Customers: their company's requests, newest activity first. Staff: the queue, the nearest due first.
    ``sort`` (``LIST_SORTS``) orders either list by one column instead."""
    if principal.is_staff:
        principal.require(Permission.HANDLE_REQUESTS)
    else:
        principal.require(Permission.RAISE_REQUESTS)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    now = clock.now()
    where = _clauses(principal, filters or RequestFilters(), now)
    total = db.exec(select(sa.func.count()).select_from(Ticket).where(*where)).one()
    order: tuple[sa.SQLColumnExpression[Any], ...]
    if sort is not None:
        order = LIST_SORTS.order(sort)
    elif principal.is_staff:
        order = (
            sa.case((col(Ticket.status).in_(ACTIVE_STATUSES), 0), else_=1), _next_due().is_(None), _next_due(),
            col(Ticket.id))
    else:
        order = (col(Ticket.updated_at).desc(), col(Ticket.id).desc())
    found = db.exec(_joined(select(*_columns())).where(*where).order_by(*order)
                    .offset((page - 1) * page_size).limit(page_size)).all()
    tz = viewer_timezone(db, principal)
    return Page([_row(r, principal, now, tz) for r in found], int(total), page, page_size)


def _messages(db: Session, principal: Principal, ticket_id: int) -> list[MessageView]:
    where = [TicketMessage.ticket_id == ticket_id]
    if principal.is_customer:
        where.append(TicketMessage.visibility == "customer")
    rows = db.exec(select(TicketMessage, col(User.full_name), col(User.role))
                   .outerjoin(User, col(User.id) == col(TicketMessage.author_id))
                   .where(*where).order_by(col(TicketMessage.created_at), col(TicketMessage.id))
                   .limit(MAX_MESSAGES)).all()
    ids = [m.id for m, _n, _r in rows]
    files: dict[int, list[AttachmentView]] = {}
    if ids:
        doc_where: list[sa.ColumnElement[bool]] = [col(TicketAttachment.ticket_message_id).in_(ids)]
        if principal.is_customer:
            doc_where.append(col(Document.visibility) == "customer")
        for message_id, doc_id, name, size in db.exec(
                select(TicketAttachment.ticket_message_id, Document.id, Document.filename, Document.size_bytes)
                .join(Document, col(Document.id) == col(TicketAttachment.document_id)).where(*doc_where)
                .order_by(col(Document.id))):
            assert doc_id is not None  # a stored row
            files.setdefault(message_id, []).append(
                AttachmentView(doc_id, name, size, DOWNLOAD_URL.format(id=doc_id)))
    staff = {r.value for r in STAFF_ROLES}
    return [MessageView(m.id, name or "System", role in staff, m.visibility == "internal", m.body, m.created_at,
                        tuple(files.get(m.id, ()))) for m, name, role in rows if m.id is not None]


def get_request(db: Session, principal: Principal, reference: str) -> RequestDetail:
    ticket = load(db, principal, reference)
    assert ticket.id is not None  # a stored row
    now = clock.now()
    found = db.exec(_joined(select(*_columns())).where(Ticket.id == ticket.id)).one()
    row = _row(found, principal, now, viewer_timezone(db, principal))
    exception_title = None
    if ticket.exception_id and principal.is_staff:
        exception_title = db.exec(select(OpsException.title).where(OpsException.id == ticket.exception_id)).first()
    merged_into = (db.exec(select(Ticket.reference).where(Ticket.id == ticket.merged_into_id)).first()
                   if ticket.merged_into_id else None)
    merged_from = list(db.exec(select(Ticket.reference).where(Ticket.merged_into_id == ticket.id)
                               .order_by(col(Ticket.id))).all())
    following = db.exec(select(TicketFollower.user_id).where(TicketFollower.ticket_id == ticket.id,
                                                             TicketFollower.user_id == principal.user_id)).first()
    until = reopen_deadline(db, ticket)
    return RequestDetail(
        **vars(row), messages=_messages(db, principal, ticket.id),
        context=decode_context(ticket.context, ticket.reference) if principal.is_staff else {},
        assignee_id=ticket.assignee_id, team_id=ticket.team_id, exception_id=ticket.exception_id,
        exception_title=exception_title, merged_into=merged_into, merged_from=merged_from,
        satisfaction=ticket.satisfaction, satisfaction_comment=ticket.satisfaction_comment,
        following=following is not None,
        can_reopen=until is not None and now <= until and ticket.merged_into_id is None,
        can_rate=principal.is_customer and ticket.status in DONE_STATUSES and ticket.merged_into_id is None,
        reopen_until=until,
    )


def reopen_deadline(db: Session, ticket: Ticket) -> datetime | None:
    """Until when a resolved or closed request may be reopened (None while it is still active)."""
    if ticket.status not in DONE_STATUSES:
        return None
    done_at = ticket.resolved_at or ticket.closed_at or ticket.updated_at
    return done_at + timedelta(days=desk_settings(db).reopen_days)

