"""Canned replies: texts staff insert into a reply and adapt. Staff who handle requests read them; administrators
keep them (audited).

A canned reply may hold placeholders. The ones the request's record answers are filled in when the reply is
inserted (:func:`placeholder_values`): ``{eta}`` (the shipment's arrival estimate, in the customer's time zone),
``{shipment}`` (its reference), ``{request}``, ``{customer}`` (who raised it) and ``{company}``; any other one
(``{reason}``) stays for the agent to write, and a reply still holding one is not sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from models import CannedReply, Company, Shipment, User
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services.config.common import record, refuse_if, require_admin, text_in
from portal_app.services.errors import Conflict, ErrorCode, NotFound
from portal_app.services.requests.common import CATEGORY_LABELS, NOTHING_SAVED, load

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class PlaceholderValues:
    """What a request's record answers for the placeholders (the page formats the ETA in ``timezone``)."""

    request: str
    customer: str
    company: str
    shipment: str | None
    eta: datetime | None
    timezone: str


def placeholder_values(db: Session, principal: Principal, reference: str) -> PlaceholderValues:
    principal.require(Permission.HANDLE_REQUESTS)
    ticket = load(db, principal, reference)
    raiser = db.get(User, ticket.raised_by_id)
    company = db.get(Company, ticket.company_id)
    shipment = db.get(Shipment, ticket.shipment_id) if ticket.shipment_id else None
    return PlaceholderValues(
        request=ticket.reference, customer=raiser.full_name if raiser else "", company=company.name if company else "",
        shipment=shipment.reference if shipment else None,
        eta=(shipment.eta_estimated or shipment.eta_planned) if shipment and shipment.ata is None else None,
        timezone=raiser.timezone if raiser else "UTC",
    )


def fill_placeholders(body: str, values: dict[str, str]) -> str:
    """``body`` with every placeholder ``values`` answers replaced; the others are left as they are."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1)) or m.group(0), body)


@dataclass(frozen=True)
class CannedView:
    id: int
    title: str
    body: str
    category: str | None


def list_canned(db: Session, principal: Principal, category: str | None = None) -> list[CannedView]:
    """Replies for ``category`` first, then the general ones (no category), then the rest, by title."""
    principal.require(Permission.HANDLE_REQUESTS)
    rows = db.exec(select(CannedReply).order_by(CannedReply.title)).all()
    rank = {category: 0, None: 1}
    rows = sorted(rows, key=lambda r: rank.get(r.category, 2))
    return [CannedView(r.id, r.title, r.body, r.category) for r in rows if r.id is not None]


def save_canned(db: Session, principal: Principal, *, title: str, body: str, category: str | None,
                canned_id: int | None = None) -> CannedView:
    require_admin(principal)
    problems: dict[str, str] = {}
    title = text_in(title, 3, 120, problems, "title")
    body = (body or "").strip()
    if not 3 <= len(body) <= 5000:
        problems["body"] = "write the reply (3 to 5,000 characters)"
    category = category or None
    if category is not None and category not in CATEGORY_LABELS:
        problems["category"] = f"choose one of {', '.join(CATEGORY_LABELS)} or none"
    refuse_if(problems, "The canned reply")
    row = CannedReply(title=title, body=body) if canned_id is None else db.get(CannedReply, int(canned_id))
    if row is None:
        raise NotFound(f"There is no canned reply #{canned_id}. Reload the list. {NOTHING_SAVED}")
    same = db.exec(select(CannedReply).where(CannedReply.title == title)).first()
    if same is not None and same.id != row.id:
        raise Conflict(f"A canned reply called {title!r} exists already. Pick another title. {NOTHING_SAVED}",
                       code=ErrorCode.DUPLICATE_NAME)
    before = None if canned_id is None else {"title": row.title, "body": row.body, "category": row.category}
    row.title, row.body, row.category = title, body, category
    db.add(row)
    db.flush()
    assert row.id is not None  # flushed: the row has its key
    record(db, principal, "config_canned_reply_saved", "canned_reply", row.id, before,
           {"title": title, "body": body, "category": category})
    db.commit()
    return CannedView(row.id, row.title, row.body, row.category)
