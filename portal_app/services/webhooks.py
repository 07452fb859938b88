"""Signed webhooks out: customers' (and the forwarder's) systems hear about events as they happen.

Who manages which subscriptions (``Permission.MANAGE_API_KEYS``, the integration administrators):

- a customer admin: their own company's; a subscription hears only of that company's records;
- a staff administrator: every subscription of the installation; the ones they create hear of every company's
  records (``all_companies``), for the forwarder's own systems.

Events (:data:`KINDS`) are recorded where they happen (milestones, ETAs, documents, invoices, requests, bookings)
with :func:`record`. Nothing is sent then: at the commit of the change, in the same transaction, one
:class:`models.WebhookDelivery` row per matching subscription is written with the JSON body
``{id, kind, created_at, data}``, ``data`` being the record as the API shows it. A change rolled back queues
nothing. The webhook worker (:mod:`portal_app.services.webhook_outbox`) sends the rows, signed.

Receivers' addresses are checked against server-side request forgery (:mod:`portal_app.services.outbound`) when
subscribing and again at every send. The signing secret is shown once; it is kept encrypted
(:mod:`portal_app.services.secret_box`). See docs/webhooks.md.
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import Field, TypeAdapter
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from models import Company, User, WebhookDelivery, WebhookSubscription
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import audit, clock, outbound, secret_box
from portal_app.services.errors import Conflict, ErrorCode, NotFound, PermissionDenied, ValidationFailed
from portal_app.services.inputs import Body
from portal_app.services.paging import Page, check_paging
from portal_app.settings import settings

log = logging.getLogger(__name__)

KINDS: dict[str, str] = {
    "milestone_reached": "Milestone reached",
    "eta_changed": "ETA changed",
    "document_added": "Document added",
    "invoice_issued": "Invoice issued",
    "request_updated": "Request updated",
    "booking_confirmed": "Booking confirmed",
}
ALL = "*"
TEST_KIND = "webhook_test"
QUEUED, SENT, FAILED = "queued", "sent", "failed"
URL_MAX = 500
MAX_PER_COMPANY = 20
MAX_PAGE_SIZE = 100
SECRET_PREFIX = "whsec_"
NOTHING_SAVED = "Nothing was saved."
_PENDING = "webhook_events"


class NewWebhook(Body):
    """A subscription to create: the API's body and what the account pages' form is parsed into."""

    url: str = Field(max_length=URL_MAX, description="Where to POST the events: https://, publicly reachable")
    events: list[str] = Field(max_length=len(KINDS) + 1,
                              description="Event kinds to receive: " + ", ".join(KINDS) + '; ["*"] for all')


@dataclass(frozen=True)
class CreatedWebhook:
    """A new subscription. ``secret`` signs its deliveries: in this answer only, never shown again."""

    id: int
    url: str
    events: list[str]
    secret: str
    all_companies: bool
    created_at: datetime


@dataclass(frozen=True)
class WebhookRow:
    """One subscription in a list: everything about it but the secret."""

    id: int
    url: str
    events: list[str]
    company_name: str
    all_companies: bool
    status: str  # active | paused
    paused_at: datetime | None
    pause_reason: str | None
    consecutive_failures: int
    last_success_at: datetime | None
    created_by: str | None
    created_at: datetime


@dataclass(frozen=True)
class DeliveryRow:
    """One delivery in a subscription's log."""

    id: int
    event_id: str
    kind: str
    status: str  # queued | sent | failed
    attempts: int
    response_code: int | None
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    sent_at: datetime | None


# ------------------------------------------------------------------------------------------------ managing


def can_manage(principal: Principal) -> bool:
    return principal.can(Permission.MANAGE_API_KEYS)


def _require_manager(principal: Principal) -> None:
    if not can_manage(principal):
        raise PermissionDenied("Only an administrator of your company can manage webhooks. Ask one of them to add "
                               "or remove the subscription. " + NOTHING_SAVED)


def check_receiver(url: str) -> str:
    """The cleaned URL when events may be sent there; ValidationFailed saying why not otherwise."""
    value = (url or "").strip()
    if not value or len(value) > URL_MAX:
        raise ValidationFailed(f"URL: give the full address of your receiver (up to {URL_MAX} characters), for "
                               f"example https://erp.example.com/hooks/portal. {NOTHING_SAVED}",
                               code=ErrorCode.INVALID_URL, fields={"url": "Give a full https:// address."})
    try:
        outbound.check_url(value, allow_private=settings.webhook_allow_private, what="the receiver")
    except outbound.AddressRefused as exc:
        raise ValidationFailed(f"Events cannot be sent to {value}: {exc.reason}. Use an address of your system that "
                               f"is reachable on the internet over https. {NOTHING_SAVED}",
                               code=ErrorCode.INVALID_URL, fields={"url": exc.reason}) from None
    return value


def clean_events(events: list[str]) -> list[str]:
    """The subscribed kinds, in the product's order, or ``["*"]``; ValidationFailed for an unknown kind."""
    chosen = [(e or "").strip() for e in events or []]
    if not chosen:
        raise ValidationFailed(f"Events: choose at least one event kind ({', '.join(KINDS)}), or * for all. "
                               f"{NOTHING_SAVED}", code=ErrorCode.UNKNOWN_EVENT_KIND,
                               fields={"events": "Choose at least one."})
    if ALL in chosen:
        return [ALL]
    unknown = [e for e in chosen if e not in KINDS]
    if unknown:
        raise ValidationFailed(f"Events: {', '.join(repr(u[:40]) for u in unknown[:5])} is not an event kind. Use "
                               f"{', '.join(KINDS)}, or * for all. {NOTHING_SAVED}",
                               code=ErrorCode.UNKNOWN_EVENT_KIND, fields={"events": "Unknown event kind."})
    return [k for k in KINDS if k in chosen]


def _kinds(stored: str) -> list[str]:
    return [k for k in (stored or "").split(",") if k]


def _audit_view(row: WebhookSubscription) -> dict[str, object]:
    return {"url": row.url, "events": row.event_kinds, "all_companies": row.all_companies}


def create_subscription(db: Session, principal: Principal, new: NewWebhook) -> CreatedWebhook:
    """Subscribe a URL; the answer holds the signing secret, which is stored only encrypted."""
    _require_manager(principal)
    url = check_receiver(new.url)
    kinds = clean_events(new.events)
    count = db.exec(select(sa.func.count()).select_from(WebhookSubscription)
                    .where(WebhookSubscription.company_id == principal.company_id)).one()
    if count >= MAX_PER_COMPANY:
        raise Conflict(f"Your company has {count} webhook subscriptions, the most there may be. Remove one you no "
                       f"longer use first. {NOTHING_SAVED}", code=ErrorCode.TOO_MANY_WEBHOOKS)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    try:
        sealed = secret_box.encrypt(secret)
    except secret_box.SecretKeyMissing:
        raise Conflict("Webhooks cannot be set up yet: the installation has no key to keep signing secrets "
                       f"encrypted. {secret_box.NO_KEY_ADVICE} {NOTHING_SAVED}",
                       code=ErrorCode.SECRET_KEY_MISSING) from None
    now = clock.now()
    row = WebhookSubscription(company_id=principal.company_id, url=url, secret=sealed, event_kinds=",".join(kinds),
                              is_active=True, created_by_id=principal.user_id, created_at=now,
                              all_companies=principal.is_staff)
    db.add(row)
    db.flush()
    assert row.id is not None  # flushed
    audit.record(db, principal, "webhook_created", "webhook", row.id, row.company_id, None, _audit_view(row))
    db.commit()
    return CreatedWebhook(id=row.id, url=url, events=kinds, secret=secret, all_companies=row.all_companies,
                          created_at=now)


def _rows_query(principal: Principal) -> sa.Select:
    return (sa.select(WebhookSubscription, col(Company.name), col(User.full_name))
            .join(Company, col(Company.id) == col(WebhookSubscription.company_id))
            .outerjoin(User, col(User.id) == col(WebhookSubscription.created_by_id))
            .where(company_filter(col(WebhookSubscription.company_id), principal)))


def _row(sub: WebhookSubscription, company_name: str, created_by: str | None) -> WebhookRow:
    assert sub.id is not None  # a stored row
    return WebhookRow(id=sub.id, url=sub.url, events=_kinds(sub.event_kinds), company_name=company_name,
                      all_companies=sub.all_companies, status="paused" if sub.paused_at else "active",
                      paused_at=sub.paused_at, pause_reason=sub.pause_reason,
                      consecutive_failures=sub.consecutive_failures, last_success_at=sub.last_success_at,
                      created_by=created_by, created_at=sub.created_at)


def list_subscriptions(db: Session, principal: Principal, page: int = 1,
                       page_size: int = 50) -> Page[WebhookRow]:
    """The subscriptions ``principal`` manages, newest first: their company's, or every one for staff."""
    _require_manager(principal)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    total = db.exec(select(sa.func.count()).select_from(WebhookSubscription)
                    .where(company_filter(col(WebhookSubscription.company_id), principal))).one()
    found = db.execute(_rows_query(principal).order_by(col(WebhookSubscription.id).desc())
                       .offset((page - 1) * page_size).limit(page_size)).all()
    return Page([_row(s, c, u) for s, c, u in found], int(total), page, page_size)


def _load(db: Session, principal: Principal, webhook_id: int) -> tuple[WebhookSubscription, str, str | None]:
    _require_manager(principal)
    found = db.execute(_rows_query(principal).where(col(WebhookSubscription.id) == webhook_id)
                       .execution_options(populate_existing=True)).first()
    if found is None:
        raise NotFound("There is no such webhook subscription among the ones you manage. Reload the list.")
    return found[0], found[1], found[2]


def get_subscription(db: Session, principal: Principal, webhook_id: int) -> WebhookRow:
    return _row(*_load(db, principal, webhook_id))


def delete_subscription(db: Session, principal: Principal, webhook_id: int) -> None:
    """Remove a subscription and its delivery log: nothing more is sent to it (a send under way may finish)."""
    sub, _company, _by = _load(db, principal, webhook_id)
    db.exec(sa.delete(WebhookDelivery).where(col(WebhookDelivery.subscription_id) == webhook_id)
            .execution_options(synchronize_session=False))
    audit.record(db, principal, "webhook_deleted", "webhook", webhook_id, sub.company_id, _audit_view(sub), None)
    db.delete(sub)
    db.commit()


def resume_subscription(db: Session, principal: Principal, webhook_id: int) -> WebhookRow:
    """Start sending to a paused subscription again (its queued deliveries are due at once)."""
    sub, company, by = _load(db, principal, webhook_id)
    if sub.paused_at is not None:
        now = clock.now()
        before = {"paused_at": sub.paused_at, "pause_reason": sub.pause_reason}
        sub.paused_at, sub.pause_reason, sub.consecutive_failures, sub.failing_since = None, None, 0, None
        db.add(sub)
        db.exec(sa.update(WebhookDelivery).where(col(WebhookDelivery.subscription_id) == webhook_id,
                                                 col(WebhookDelivery.status) == QUEUED)
                .values(next_attempt_at=now).execution_options(synchronize_session=False))
        audit.record(db, principal, "webhook_resumed", "webhook", webhook_id, sub.company_id, before,
                     {"paused_at": None})
        db.commit()
    return _row(sub, company, by)


def _delivery_row(d: WebhookDelivery) -> DeliveryRow:
    assert d.id is not None  # a stored row
    return DeliveryRow(id=d.id, event_id=d.event_id, kind=d.event_kind, status=d.status, attempts=d.attempts,
                       response_code=d.response_code, last_error=d.last_error, created_at=d.created_at,
                       last_attempt_at=d.last_attempt_at,
                       next_attempt_at=d.next_attempt_at if d.status == QUEUED else None, sent_at=d.sent_at)


def list_deliveries(db: Session, principal: Principal, webhook_id: int, page: int = 1,
                    page_size: int = 50) -> Page[DeliveryRow]:
    """A subscription's delivery log, newest first."""
    _load(db, principal, webhook_id)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    where = col(WebhookDelivery.subscription_id) == webhook_id
    total = db.exec(select(sa.func.count()).select_from(WebhookDelivery).where(where)).one()
    rows = db.exec(select(WebhookDelivery).where(where).order_by(col(WebhookDelivery.id).desc())
                   .offset((page - 1) * page_size).limit(page_size)
                   .execution_options(populate_existing=True)).all()
    return Page([_delivery_row(d) for d in rows], int(total), page, page_size)


def body_of(event_id: str, kind: str, at: datetime, data: Any) -> str:
    """The JSON a receiver gets (the bytes that are signed)."""
    return json.dumps({"id": event_id, "kind": kind, "created_at": at.isoformat(), "data": data},
                      separators=(",", ":"), ensure_ascii=False)


def send_test(db: Session, principal: Principal, webhook_id: int) -> DeliveryRow:
    """Queue a test delivery (kind ``webhook_test``); the worker sends it within seconds."""
    sub, company, _by = _load(db, principal, webhook_id)
    now = clock.now()
    event_id = str(uuid.uuid4())
    data = {"message": "A test delivery from the portal: your receiver is set up.", "subscription_id": sub.id,
            "company": company}
    row = WebhookDelivery(subscription_id=webhook_id, event_kind=TEST_KIND, event_id=event_id,
                          payload=body_of(event_id, TEST_KIND, now, data), status=QUEUED, next_attempt_at=now,
                          created_at=now, company_id=sub.company_id)
    db.add(row)
    db.commit()
    return _delivery_row(row)


# ------------------------------------------------------------------------------------- recording events


@dataclass(frozen=True)
class PendingEvent:
    """An event waiting for its transaction's commit. ``internal``: staff only (never a customer subscription)."""

    kind: str
    company_id: int
    record_id: int
    internal: bool = False
    at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def record(db: Session | OrmSession, kind: str, *, company_id: int, record_id: int | None, internal: bool = False,
           at: datetime | None = None, **extra: Any) -> None:
    """Note an event of ``kind`` about a record of ``company_id``; deliveries are written when the change commits
    (in its transaction) with the record as it is then. Cheap when nobody subscribes."""
    if kind not in KINDS or record_id is None:
        raise ValueError(f"unknown webhook event {kind!r} or no record")
    db.info.setdefault(_PENDING, []).append(PendingEvent(kind, company_id, record_id, internal, at, extra))


def _dump(value: Any) -> Any:
    return TypeAdapter(type(value)).dump_python(value, mode="json")


def _shipment_data(db: Session, shipment_id: int) -> dict[str, Any] | None:
    from portal_app.services import shipments

    row = shipments.row_by_id(db, shipment_id)
    return {"shipment": _dump(row)} if row is not None else None


def _milestone(db: Session, e: PendingEvent) -> dict[str, Any] | None:
    from models import Location, Milestone
    from portal_app.services.shipments import MilestoneView

    step = db.get(Milestone, e.record_id)
    if step is None or step.actual_at is None:
        return None
    data = _shipment_data(db, step.shipment_id)
    if data is None:
        return None
    place = db.get(Location, step.location_id) if step.location_id else None
    data["milestone"] = _dump(MilestoneView(
        sequence=step.sequence, code=step.code, name=step.name, event_code=step.event_code,
        location=place.code if place else None, planned_at=step.planned_at, estimated_at=step.estimated_at,
        actual_at=step.actual_at, source=step.source, location_timezone=place.timezone if place else None))
    return data


def _eta(db: Session, e: PendingEvent) -> dict[str, Any] | None:
    from models import EtaChange
    from portal_app.services.shipment_activity import REASON_LABELS

    change = db.get(EtaChange, e.record_id)
    if change is None:
        return None
    data = _shipment_data(db, change.shipment_id)
    if data is None:
        return None
    data["eta_change"] = {
        "previous_eta": change.previous_eta.isoformat() if change.previous_eta else None,
        "new_eta": change.new_eta.isoformat(), "reason_code": change.reason_code,
        "reason": REASON_LABELS.get(change.reason_code, change.reason_code), "note": change.reason_text,
        "changed_at": change.created_at.isoformat()}
    return data


def _document(db: Session, e: PendingEvent) -> dict[str, Any] | None:
    from models import Document, Shipment
    from portal_app.services import documents

    doc = db.get(Document, e.record_id)
    if doc is None or doc.shipment_id is None:
        return None
    reference = db.exec(select(Shipment.reference).where(Shipment.id == doc.shipment_id)).first()
    return {"document": _dump(documents.row_of(doc, reference or ""))}


def _invoice(db: Session, e: PendingEvent) -> dict[str, Any] | None:
    from portal_app.services import finance

    row = finance.invoice_row(db, e.record_id)
    return {"invoice": _dump(row)} if row is not None else None


def _request(db: Session, e: PendingEvent) -> dict[str, Any] | None:
    from portal_app.services.requests import reading

    row = reading.customer_row(db, e.record_id, clock.now())
    if row is None:
        return None
    return {"request": _dump(row), "change": e.extra.get("change")}


def _booking(db: Session, e: PendingEvent) -> dict[str, Any] | None:
    return _shipment_data(db, e.record_id)


BUILDERS: dict[str, Callable[[Session, PendingEvent], dict[str, Any] | None]] = {
    "milestone_reached": _milestone, "eta_changed": _eta, "document_added": _document, "invoice_issued": _invoice,
    "request_updated": _request, "booking_confirmed": _booking,
}


def _listening(db: Session) -> list[tuple[int, int, bool, str]]:
    return [(r[0], r[1], r[2], r[3]) for r in db.execute(
        sa.select(col(WebhookSubscription.id), col(WebhookSubscription.company_id),
                  col(WebhookSubscription.all_companies), col(WebhookSubscription.event_kinds))
        .where(col(WebhookSubscription.is_active).is_(True), col(WebhookSubscription.paused_at).is_(None))).all()]


def enqueue(db: Session, events: list[PendingEvent]) -> int:
    """One delivery per event and subscription that wants it: a customer's subscription only for its own company's
    records (never an internal one), a staff subscription for every company's. Returns how many were queued."""
    if not events:
        return 0
    subs = _listening(db)
    if not subs:
        return 0
    made = 0
    for e in events:
        wanted = [(sid, company) for sid, company, everyone, kinds in subs
                  if (everyone or (company == e.company_id and not e.internal))
                  and (kinds == ALL or e.kind in _kinds(kinds))]
        if not wanted:
            continue
        data = BUILDERS[e.kind](db, e)
        if data is None:  # the record is gone or the event did not happen after all (a savepoint rolled back)
            continue
        at = e.at or clock.now()
        event_id = str(uuid.uuid4())
        body = body_of(event_id, e.kind, at, data)
        for sid, _company in wanted:
            db.add(WebhookDelivery(subscription_id=sid, event_kind=e.kind, event_id=event_id, payload=body,
                                   status=QUEUED, next_attempt_at=clock.now(), created_at=clock.now(),
                                   company_id=e.company_id))
            made += 1
    return made


@sa_event.listens_for(OrmSession, "before_commit")
def _write_pending(session: OrmSession) -> None:
    """Queue the deliveries of the events noted in the transaction as it commits. A savepoint's release fires this
    hook too: its events wait for the enclosing transaction's commit (one query for the subscriptions per commit,
    not per savepoint: a carrier batch has hundreds)."""
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()
    try:
        enqueue(session, pending)  # type: ignore[arg-type]
    except Exception:  # the change itself must not fail because a webhook could not be written
        log.exception("Webhook deliveries for %s events could not be queued", len(pending))


@sa_event.listens_for(OrmSession, "after_transaction_end")
def _forget_pending(session: OrmSession, transaction: Any) -> None:
    """A transaction that ended without its commit (rolled back, or the session closed) sends nothing. A savepoint
    leaves the events to its enclosing transaction (one that did not happen after all finds no record to send)."""
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_PENDING, None)
