"""Reading quotes: one quote, one option, the company's list and the ops queue of manual requests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import (
    Company,
    Location,
    QuoteOption,
    QuoteRequest,
    User,
)
from models.enums import QuoteStatus
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import clock
from portal_app.services.errors import NotFound, ValidationFailed
from portal_app.services.paging import Page, check_paging
from portal_app.services.quotes.common import (
    _derived_status,
    _find,
    _lines,
    _live_offer,
    _options,
    _view,
    exchange_rates,
    sort_options,
)
from portal_app.services.quotes.shapes import LIST_SORTS, MAX_PAGE_SIZE, OptionView, QuoteRow, QuoteView
from portal_app.services.quotes.validation import _problems
from portal_app.services.sorting import SortKeys


def get_quote(db: Session, principal: Principal, reference: str, *, sort: str = "cheapest") -> QuoteView:
    """One request with its options (sorted cheapest or fastest). Another company's is NotFound."""
    q = _find(db, principal, reference)
    lines = _lines(db, q)
    problems = _problems(db, q, lines, clock.today()) if q.status == QuoteStatus.DRAFT else {}
    return _view(db, q, sort=sort, lines=lines, problems=problems)


def get_option(db: Session, principal: Principal, option_id: int) -> OptionView:
    """One option of a request the principal may see (NotFound otherwise)."""
    principal.require(Permission.VIEW_QUOTES)
    q_id = db.exec(
        select(QuoteOption.quote_request_id)
        .join(QuoteRequest, col(QuoteRequest.id) == col(QuoteOption.quote_request_id))
        .where(col(QuoteOption.id) == int(option_id), company_filter(col(QuoteRequest.company_id), principal))
    ).first()
    if q_id is None:
        raise NotFound(f"No quote option {option_id} was found in your account. Open the quote and pick an option.")
    return next(o for o in _options(db, [q_id], clock.now())[q_id] if o.id == int(option_id))


# The list's column orders (``LIST_SORTS`` besides "updated"), each ending on the id.
COLUMN_SORTS = SortKeys({"reference": col(QuoteRequest.reference), "ready": col(QuoteRequest.ready_date)},
                        col(QuoteRequest.id), nullable=frozenset({"ready"}))


def list_quotes(
    db: Session,
    principal: Principal,
    *,
    status: str | None = None,
    search: str | None = None,
    page: int = 1,
    page_size: int = 25,
    sort: str = "updated",
) -> Page[QuoteRow]:
    """One page of the company's quote requests (staff: every company's) with their derived status.

    ``status``: draft, requested, quoted, accepted, expired, declined. Drafts are listed only to the user who
    is writing them. ``search``: the start of a quote reference or of the customer's reference."""
    principal.require(Permission.VIEW_QUOTES)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    if sort not in LIST_SORTS:
        raise ValidationFailed(f"Unknown sort {sort!r}. Use one of: {', '.join(LIST_SORTS)}.")
    now = clock.now()
    derived = _derived_status(now)
    clauses: list[sa.ColumnElement[bool]] = [
        company_filter(col(QuoteRequest.company_id), principal),
        sa.or_(col(QuoteRequest.status) != QuoteStatus.DRAFT.value,
               col(QuoteRequest.requested_by_id) == principal.user_id),
    ]
    if status and status != "all":
        if status not in QuoteStatus._value2member_map_:
            raise ValidationFailed(f"Unknown status {status!r}. Use one of: {', '.join(s.value for s in QuoteStatus)}.")
        if status == QuoteStatus.EXPIRED:
            clauses.append(derived == status)
        elif status == QuoteStatus.QUOTED:
            clauses += [col(QuoteRequest.status) == status, _live_offer(now)]
        else:
            clauses.append(col(QuoteRequest.status) == status)
    term = (search or "").strip().upper()[:40]
    if term:
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(sa.or_(col(QuoteRequest.reference).like(escaped + "%", escape="\\"),
                              sa.func.upper(QuoteRequest.customer_reference).like(escaped + "%", escape="\\")))
    if sort in ("updated", "-updated"):
        newest = sort == "updated"
        order: tuple[sa.ColumnElement[Any], ...] = tuple(
            c.desc() if newest else c.asc() for c in (col(QuoteRequest.updated_at), col(QuoteRequest.id)))
    else:
        order = COLUMN_SORTS.order(sort)
    total = db.exec(select(sa.func.count()).select_from(QuoteRequest).where(*clauses)).one()
    origin, dest = aliased(Location), aliased(Location)
    rows = db.execute(
        sa.select(QuoteRequest, derived, col(origin.code), col(dest.code), col(Company.name), col(User.full_name))
        .join(Company, col(Company.id) == col(QuoteRequest.company_id))
        .join(User, col(User.id) == col(QuoteRequest.requested_by_id))
        .outerjoin(origin, col(origin.id) == col(QuoteRequest.origin_id))
        .outerjoin(dest, col(dest.id) == col(QuoteRequest.destination_id))
        .where(*clauses)
        .order_by(*order)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    options = _options(db, [r[0].id for r in rows], now)
    per_usd = exchange_rates(db)
    out = []
    for q, state, o_code, d_code, company_name, requester in rows:
        opts = options.get(q.id, [])
        open_opts = [o for o in opts if o.status == "offered"]
        best = sort_options(open_opts, "cheapest", per_usd)[0] if open_opts else None
        out.append(QuoteRow(
            reference=q.reference, status=state, mode=q.mode, origin=o_code, destination=d_code,
            ready_date=q.ready_date, company_name=company_name, requested_by=requester, options=len(opts),
            best_total_text=best.total_text if best else None, is_manual=q.is_manual, manual_due_at=q.manual_due_at,
            sla_overdue=bool(state == QuoteStatus.REQUESTED and q.manual_due_at and q.manual_due_at < now),
            created_at=q.created_at, updated_at=q.updated_at,
        ))
    return Page(rows=out, total=int(total), page=page, page_size=page_size)


def manual_queue(db: Session, principal: Principal, *, page: int = 1, page_size: int = 25) -> Page[QuoteRow]:
    """Requests waiting for a person to price them, most urgent SLA first (ops)."""
    principal.require(Permission.PRICE_QUOTES)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    clauses = [col(QuoteRequest.status) == QuoteStatus.REQUESTED.value,
               company_filter(col(QuoteRequest.company_id), principal)]
    total = db.exec(select(sa.func.count()).select_from(QuoteRequest).where(*clauses)).one()
    now = clock.now()
    origin, dest = aliased(Location), aliased(Location)
    rows = db.execute(
        sa.select(QuoteRequest, col(origin.code), col(dest.code), col(Company.name), col(User.full_name))
        .join(Company, col(Company.id) == col(QuoteRequest.company_id))
        .join(User, col(User.id) == col(QuoteRequest.requested_by_id))
        .outerjoin(origin, col(origin.id) == col(QuoteRequest.origin_id))
        .outerjoin(dest, col(dest.id) == col(QuoteRequest.destination_id))
        .where(*clauses)
        .order_by(col(QuoteRequest.manual_due_at).asc(), col(QuoteRequest.id))
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    out = [
        QuoteRow(
            reference=q.reference, status=q.status, mode=q.mode, origin=o, destination=d, ready_date=q.ready_date,
            company_name=company_name, requested_by=requester, options=0, best_total_text=None, is_manual=True,
            manual_due_at=q.manual_due_at, sla_overdue=bool(q.manual_due_at and q.manual_due_at < now),
            created_at=q.created_at, updated_at=q.updated_at,
        )
        for q, o, d, company_name, requester in rows
    ]
    return Page(rows=out, total=int(total), page=page, page_size=page_size)
