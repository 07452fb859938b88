"""Notifications: the one way any service tells people about an event, and each user's notification centre.

:func:`notify` (and :func:`notify_many` for many events at once) decides per recipient, per event kind and per
channel from the user's preferences (:mod:`portal_app.services.notification_prefs`, ETA threshold included):

- **in_app**: one :class:`models.Notification` per user per event (``dedup_key``); a repeat is skipped.
- **email**: an email *item* (an :class:`models.EmailMessage` row with status ``pending``, or ``digest`` when the
  user chose the daily digest for that kind), deduplicated by ``n:<user>:<dedup_key>``. Items are not sent one by
  one: :mod:`portal_app.services.email_outbox` folds a user's pending items into one email once the oldest has
  waited ``PORTAL_EMAIL_BATCH_SECONDS``, so a burst (a bulk ETA change over 300 shipments) is one email, not 300.

``shipment_id`` adds the shipment's audience to the recipients (:func:`audience`): the customers of the shipment's
company who hear about all of its shipments (the default), and whoever follows it (customers who chose "only the
shipments I follow", and staff). ``company_id`` keeps customers of any other company out (staff are always
allowed). Inactive users get nothing. Kinds without a preference (bookings,
change requests, quotes, staff work) are always in-app; email only for the customer-facing ones listed in
:data:`EMAIL_KINDS_WITHOUT_PREFERENCE`.

Nothing here commits: the notification is written with the change it reports, in the caller's transaction.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session, col, select

from models import EmailMessage, Notification, Shipment, ShipmentFollower, User
from models.base import row_values
from models.enums import Channel
from portal_app.auth.permissions import CUSTOMER_ROLES, STAFF_ROLES
from portal_app.auth.principal import Principal
from portal_app.db import insert_rows
from portal_app.services import clock
from portal_app.services import notification_prefs as prefs
from portal_app.services.errors import NotFound
from portal_app.services.paging import Page, check_paging
from portal_app.settings import settings

IN_APP = Channel.IN_APP.value
EMAIL = Channel.EMAIL.value
ITEM_PENDING = "pending"  # an email item waiting for its user's batch window
ITEM_DIGEST = "digest"  # an email item waiting for the user's daily digest
EMAIL_KINDS_WITHOUT_PREFERENCE = frozenset({
    "booking_confirmed", "booking_rejected", "change_approved", "change_rejected", "quote_priced", "shipment_update",
})
MAX_PAGE_SIZE = 100
_CHUNK = 500
_HELD = "notifications.held"  # Session.info key: the notices held by held_together


@dataclass(frozen=True)
class Event:
    kind: str
    recipients: tuple[int, ...]
    title: str
    body: str | None
    link: str
    dedup_key: str
    company_id: int | None = None
    eta_shift_hours: float | None = None
    at: datetime | None = None


@dataclass
class Delivered:
    """What one call wrote: in-app notifications, emails to send soon, items for the daily digest."""

    in_app: int = 0
    email: int = 0
    digest: int = 0
    recipients: set[int] = field(default_factory=set)


def preference(stored: dict[tuple[str, str], prefs.Preference], kind: str, channel: str) -> prefs.Preference:
    """A user's preference for one kind and channel: stored, else the default; kinds without preferences get the
    fixed rule above."""
    if kind in prefs.KIND_LABELS:
        return stored.get((kind, channel)) or prefs.default_preference(kind, channel)
    return prefs.Preference(kind, channel, channel == IN_APP or kind in EMAIL_KINDS_WITHOUT_PREFERENCE)


def followers(db: Session, shipment_id: int) -> list[int]:
    return list(db.exec(select(ShipmentFollower.user_id).where(ShipmentFollower.shipment_id == shipment_id)).all())


def audience(db: Session, shipment_ids: Iterable[int]) -> dict[int, tuple[int, ...]]:
    """Who hears about each shipment's events: the active customers of its company whose choice is every
    shipment of the company (``prefs.SHIPMENTS_ALL``, the default), then its followers (customers who chose only
    the shipments they follow, and staff who follow one). A few queries for any number of shipments."""
    ids = sorted(set(shipment_ids))
    found: dict[int, list[int]] = {sid: [] for sid in ids}
    customer_roles = sorted(r.value for r in CUSTOMER_ROLES)
    for chunk in _chunks(ids):
        for sid, uid in db.execute(
                sa.select(col(Shipment.id), col(User.id)).join(User, col(User.company_id) == col(Shipment.company_id))
                .where(col(Shipment.id).in_(chunk), col(User.is_active), col(User.role).in_(customer_roles),
                       col(User.shipment_news) == prefs.SHIPMENTS_ALL)
                .order_by(col(User.id))):
            found[sid].append(uid)
        for sid, uid in db.execute(
                sa.select(col(ShipmentFollower.shipment_id), col(ShipmentFollower.user_id))
                .where(col(ShipmentFollower.shipment_id).in_(chunk)).order_by(col(ShipmentFollower.user_id))):
            found[sid].append(uid)
    return {sid: tuple(dict.fromkeys(users)) for sid, users in found.items()}


def notify(db: Session, event_kind: str, recipients: Iterable[int | None], title: str, body: str | None,
           link: str, dedup_key: str, *, skip: int | None = None, shipment_id: int | None = None,
           company_id: int | None = None, eta_shift_hours: float | None = None,
           at: datetime | None = None) -> Delivered:
    """Tell ``recipients`` (plus the :func:`audience` of ``shipment_id``) about one event, as each of them asked.

    ``skip`` is the person acting (they need no notice of their own change).
    """
    users = tuple(u for u in recipients if u is not None)
    event = Event(event_kind, users, title, body, link, dedup_key, company_id, eta_shift_hours, at)
    held: list[_Held] | None = db.info.get(_HELD)
    if held is not None:  # inside held_together: written with the others at its end
        held.append(_Held(event, shipment_id, skip))
        return Delivered()
    return notify_many(db, [_addressed(event, audience(db, [shipment_id]) if shipment_id is not None else {},
                                       shipment_id, skip)])


@dataclass(frozen=True)
class _Held:
    event: Event  # with the recipients named by the caller; the shipment's audience is added when written
    shipment_id: int | None
    skip: int | None


def _addressed(event: Event, audiences: dict[int, tuple[int, ...]], shipment_id: int | None,
               skip: int | None) -> Event:
    users = event.recipients + (audiences.get(shipment_id, ()) if shipment_id is not None else ())
    return replace(event, recipients=tuple(dict.fromkeys(u for u in users if u != skip)))


@contextlib.contextmanager
def held_together(db: Session) -> Iterator[None]:
    """Inside, :func:`notify` writes nothing: each notice is held and all are written together when the block ends
    without an error (the audiences of all their shipments read once, then one :func:`notify_many`), before the
    caller commits. A carrier's batch of events changes hundreds of shipments; a notice each, written one by one,
    was five queries per change. An error inside drops what was held (the caller rolls back its changes).
    :func:`held_mark` and :func:`drop_held` let a caller drop the notices of one change it undoes (a savepoint)."""
    if _HELD in db.info:  # already holding: the outer block writes them
        yield
        return
    db.info[_HELD] = []
    try:
        yield
        held: list[_Held] = db.info.pop(_HELD)
    except BaseException:
        db.info.pop(_HELD, None)
        raise
    audiences = audience(db, {h.shipment_id for h in held if h.shipment_id is not None})
    notify_many(db, [_addressed(h.event, audiences, h.shipment_id, h.skip) for h in held])


def held_mark(db: Session) -> int:
    """How many notices are held now (0 when not holding)."""
    return len(db.info.get(_HELD, ()))


def drop_held(db: Session, mark: int) -> None:
    """Forget the notices held after ``mark`` (their change was undone)."""
    if _HELD in db.info:
        del db.info[_HELD][mark:]


def _chunks(items: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _email_key(user_id: int, dedup_key: str) -> str:
    return f"n:{user_id}:{dedup_key}"[:200]


def notify_many(db: Session, events: Sequence[Event]) -> Delivered:
    """Many events in a few queries (users, preferences and existing keys are read once for the whole batch)."""
    done = Delivered()
    ids = sorted({u for e in events for u in e.recipients})
    if not ids:
        return done
    users: dict[int, tuple[str, str, int, bool]] = {}
    for chunk in _chunks(ids):
        for uid, email, role, company_id, active in db.execute(
                sa.select(col(User.id), col(User.email), col(User.role), col(User.company_id), col(User.is_active))
                .where(col(User.id).in_(chunk))):
            assert uid is not None  # a stored row
            users[uid] = (email, role, company_id, active)
    stored = prefs.preferences_for_users(db, ids)
    keys = sorted({e.dedup_key[:200] for e in events})
    seen_in_app: set[tuple[int, str | None]] = set()
    for chunk in _chunks(keys):
        seen_in_app |= set(db.exec(select(col(Notification.user_id), col(Notification.dedup_key))
                                   .where(col(Notification.dedup_key).in_(chunk),
                                          col(Notification.user_id).in_(ids))).all())
    email_keys = sorted({_email_key(u, e.dedup_key) for e in events for u in e.recipients})
    seen_email: set[str | None] = set()
    for chunk in _chunks(email_keys):
        seen_email |= set(db.exec(select(col(EmailMessage.dedup_key))
                                  .where(col(EmailMessage.dedup_key).in_(chunk))).all())

    staff = {r.value for r in STAFF_ROLES}
    in_app: list[dict[str, Any]] = []  # rows written together at the end (portal_app.db.insert_rows)
    emails: list[dict[str, Any]] = []
    for event in events:
        at = event.at or clock.now()
        key = event.dedup_key[:200]
        for uid in dict.fromkeys(event.recipients):
            user = users.get(uid)
            if user is None or not user[3]:
                continue
            email, role, company_id, _active = user
            if event.company_id is not None and role not in staff and company_id != event.company_id:
                continue  # never tell a customer about another company's record
            mine = stored.get(uid, {})
            link = staff_link(event.link) if role in staff else event.link
            if prefs.wants(preference(mine, event.kind, IN_APP), event.eta_shift_hours) \
                    and (uid, key) not in seen_in_app:
                in_app.append(row_values(Notification, user_id=uid, event_kind=event.kind[:30],
                                         title=event.title[:200], body=event.body, link=link[:300], dedup_key=key,
                                         created_at=at))
                seen_in_app.add((uid, key))
                done.in_app += 1
                done.recipients.add(uid)
            mail = preference(mine, event.kind, EMAIL)
            ekey = _email_key(uid, event.dedup_key)
            if prefs.wants(mail, event.eta_shift_hours) and email and ekey not in seen_email:
                text, body_html = item_bodies(event.title, event.body, link)
                emails.append(row_values(EmailMessage, to_address=email, user_id=uid, subject=event.title[:300],
                                         body_text=text, body_html=body_html, dedup_key=ekey,
                                         status=ITEM_DIGEST if mail.digest else ITEM_PENDING, created_at=at))
                seen_email.add(ekey)
                if mail.digest:
                    done.digest += 1
                else:
                    done.email += 1
                done.recipients.add(uid)
    insert_rows(db, Notification, in_app)
    insert_rows(db, EmailMessage, emails)
    return done


def staff_link(link: str) -> str:
    """Staff open a shipment or a request in the tower, not on the customer's page."""
    for portal, tower in (("/portal/shipments/", "/tower/shipments/"), ("/portal/requests/", "/tower/requests/")):
        if link.startswith(portal):
            return tower + link[len(portal):]
    return link


def absolute_link(link: str | None) -> str:
    if not link:
        return settings.public_url
    return link if link.startswith(("http://", "https://")) else f"{settings.public_url}{link}"


def item_bodies(title: str, body: str | None, link: str | None) -> tuple[str, str]:
    """The plain-text and HTML fragment of one item; the outbox wraps one or many of them into an email."""
    url = absolute_link(link)
    text = f"{title}\n{body or ''}\n{url}".replace("\n\n", "\n").strip()
    fragment = (f'<h2 style="font-size:16px;margin:16px 0 4px">{html.escape(title)}</h2>'
                + (f'<p style="margin:0 0 4px">{html.escape(body)}</p>' if body else "")
                + f'<p style="margin:0 0 12px"><a href="{html.escape(url, quote=True)}">Open in the portal</a></p>')
    return text, fragment


# ------------------------------------------------------------------------------------------ notification centre


@dataclass(frozen=True)
class NotificationRow:
    """One notification as the centre lists it (the API serves this record as it is)."""

    id: int
    event_kind: str
    title: str
    body: str | None
    link: str | None
    read: bool
    read_at: datetime | None
    created_at: datetime


class NotificationPage(BaseModel):
    """One page of the caller's notifications with how many of all are unread (the API serves it as it is)."""

    items: list[NotificationRow]
    total: int
    unread: int
    page: int
    page_size: int


def _row(n: Notification) -> NotificationRow:
    assert n.id is not None  # a stored row
    return NotificationRow(n.id, n.event_kind, n.title, n.body, n.link, n.read_at is not None, n.read_at,
                           n.created_at)


def list_notifications(db: Session, principal: Principal, *, page: int = 1, page_size: int = 20,
                       unread_only: bool = False) -> Page[NotificationRow]:
    """The caller's own notifications, unread first, then newest first; one page at a time."""
    check_paging(page, page_size, MAX_PAGE_SIZE)
    where: list[sa.ColumnElement[bool]] = [col(Notification.user_id) == principal.user_id]
    if unread_only:
        where.append(col(Notification.read_at).is_(None))
    total = db.exec(select(sa.func.count()).select_from(Notification).where(*where)).one()
    rows = db.exec(
        select(Notification).where(*where)
        .order_by(sa.case((col(Notification.read_at).is_(None), 0), else_=1), col(Notification.created_at).desc(),
                  col(Notification.id).desc())
        .offset((page - 1) * page_size).limit(page_size)
    ).all()
    return Page([_row(n) for n in rows], int(total), page, page_size)


def unread_count(db: Session, principal: Principal) -> int:
    return int(db.exec(select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == principal.user_id, col(Notification.read_at).is_(None))).one())


def mark_read(db: Session, principal: Principal, notification_id: int) -> NotificationRow:
    """Mark one of the caller's notifications read; another user's id is reported like a missing one."""
    row = db.exec(select(Notification).where(Notification.id == int(notification_id),
                                             Notification.user_id == principal.user_id)).first()
    if row is None:
        raise NotFound(f"You have no notification {notification_id}. Nothing was changed.")
    if row.read_at is None:
        row.read_at = clock.now()
        db.add(row)
        db.commit()
        db.refresh(row)
    return _row(row)


def mark_all_read(db: Session, principal: Principal) -> int:
    """Mark every unread notification of the caller read; returns how many."""
    changed = db.exec(
        sa.update(Notification)
        .where(col(Notification.user_id) == principal.user_id, col(Notification.read_at).is_(None))
        .values(read_at=clock.now()).execution_options(synchronize_session=False)
    ).rowcount
    db.commit()
    return int(changed or 0)
