"""Notification preferences: which events reach a user, on which channel.

The one place that names the event kinds, the channels and the defaults. The account pages and API edit them
here, and the notification sender reads them here (:func:`preferences_for_user`, :func:`wants`), so what a user
set is exactly what they get.

Defaults (used for every kind and channel a user has not saved):

- **In-app**: on for every kind. It is a quiet list inside the portal, so nothing important is missed.
- **Email**: on for what usually needs action or money: ETA changed, document rejected, invoice issued,
  invoice overdue, and a reply to or the resolution of one's request. Off for milestone reached, document added
  and document required soon (a reminder per missing document, repeated on every shipment), which would flood an
  inbox; users switch them on when they want them.
- **ETA changed** notifies only when the ETA moves by more than 24 hours (1 to 720 hours may be chosen), so
  small carrier re-estimates do not cause noise. The threshold is kept per channel.
- **Digest**: off. An email preference with ``digest`` on collects that kind into one email a day instead of
  sending it at once (see ``docs/notifications.md``); it applies to the email channel only.

**Which shipments**: a customer hears about every shipment of their company (``all``, the default: nobody has to
follow a shipment to be told its ETA moved) or only about the shipments they follow (``followed``); following a
shipment adds it either way. Staff hear about the shipments they follow.

Customers and staff hear about different things, so each sees and sets only their own kinds (:func:`kinds_for`):
customers the shipment, document, invoice and request kinds; staff the work given to them (exceptions, tasks,
requests, a colleague's work handed over), a customer's reply on a request they own, and replies to or the
resolution of requests they follow. Staff kinds are in-app only until the person asks for email too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from pydantic import Field
from sqlmodel import Session, col, select

from models import AuditLog, NotificationPreference, User
from models.enums import Channel
from portal_app.auth.principal import Principal
from portal_app.services.errors import ValidationFailed
from portal_app.services.inputs import Body, WholeNumber

_CUSTOMER_KIND_LABELS: dict[str, str] = {
    "milestone_reached": "Milestone reached",
    "eta_changed": "ETA changed",
    "document_added": "Document added",
    "document_rejected": "Document rejected",
    "document_required": "Document required soon",
    "invoice_issued": "Invoice issued",
    "invoice_overdue": "Invoice overdue",
    "request_replied": "Reply to a request",
    "request_resolved": "Request resolved",
}
_STAFF_WORK_KIND_LABELS: dict[str, str] = {
    "exception_assigned": "Exception given to me",
    "task_assigned": "Task given to me",
    "request_assigned": "Request given to me",
    "request_customer_reply": "Customer reply on my request",
    "work_assigned": "A colleague's work handed to me",
}
KIND_LABELS: dict[str, str] = {**_CUSTOMER_KIND_LABELS, **_STAFF_WORK_KIND_LABELS}
EVENT_KINDS: tuple[str, ...] = tuple(KIND_LABELS)
CUSTOMER_KINDS: tuple[str, ...] = tuple(_CUSTOMER_KIND_LABELS)
STAFF_KINDS: tuple[str, ...] = (*_STAFF_WORK_KIND_LABELS, "request_replied", "request_resolved")  # as followers
CHANNEL_LABELS: dict[str, str] = {Channel.IN_APP.value: "In-app", Channel.EMAIL.value: "Email"}
CHANNELS: tuple[str, ...] = tuple(CHANNEL_LABELS)

SHIPMENTS_ALL = "all"
SHIPMENTS_FOLLOWED = "followed"
SHIPMENT_NEWS_LABELS: dict[str, str] = {
    SHIPMENTS_ALL: "Every shipment of my company",
    SHIPMENTS_FOLLOWED: "Only the shipments I follow",
}

THRESHOLD_KINDS = frozenset({"eta_changed"})  # kinds that carry "only when it moves by more than N hours"
DEFAULT_ETA_THRESHOLD_HOURS = 24
MIN_THRESHOLD_HOURS = 1
MAX_THRESHOLD_HOURS = 720  # 30 days

_EMAIL_OFF_BY_DEFAULT = frozenset({"milestone_reached", "document_added", "document_required",
                                   *_STAFF_WORK_KIND_LABELS})


@dataclass(frozen=True)
class Preference:
    event_kind: str
    channel: str
    enabled: bool
    threshold_hours: int | None = None  # only for kinds in THRESHOLD_KINDS; None elsewhere
    digest: bool | None = False  # email only: batch into the daily digest instead of sending at once (None on
    # input: keep the stored choice)


class PreferenceChoice(Body):
    """One kind and channel as a caller sets it (what ``save_preferences`` reads; a left-out ``digest`` keeps the
    stored value)."""

    event_kind: str = Field(max_length=30, description=f"One of {', '.join(EVENT_KINDS)}")
    channel: str = Field(max_length=10, description=f"One of {', '.join(CHANNELS)}")
    enabled: bool
    threshold_hours: WholeNumber | None = Field(
        default=None,
        description=f"Only for eta_changed: notify when the ETA moves by more than this many hours "
        f"({MIN_THRESHOLD_HOURS}-{MAX_THRESHOLD_HOURS}, default {DEFAULT_ETA_THRESHOLD_HOURS})",
    )
    digest: bool | None = Field(
        default=None,
        description="Email only: collect this kind into one email a day instead of sending it at once "
        "(left out: unchanged)",
    )


class PreferenceView(PreferenceChoice):
    """One kind and channel as the account shows it, with the kind's label (the API serves it as it is)."""

    label: str

    @classmethod
    def of(cls, preference: Preference) -> PreferenceView:
        return cls(**asdict(preference), label=KIND_LABELS[preference.event_kind])


def default_preference(event_kind: str, channel: str) -> Preference:
    enabled = not (channel == Channel.EMAIL and event_kind in _EMAIL_OFF_BY_DEFAULT)
    threshold = DEFAULT_ETA_THRESHOLD_HOURS if event_kind in THRESHOLD_KINDS else None
    return Preference(event_kind, channel, enabled, threshold)


def _from_row(row: NotificationPreference) -> Preference:
    threshold = None
    if row.event_kind in THRESHOLD_KINDS:
        threshold = row.threshold_hours if row.threshold_hours is not None else DEFAULT_ETA_THRESHOLD_HOURS
    digest = bool(row.digest) and row.channel == Channel.EMAIL.value
    return Preference(row.event_kind, row.channel, bool(row.enabled), threshold, digest)


def _stored(db: Session, user_id: int) -> dict[tuple[str, str], NotificationPreference]:
    rows = db.exec(select(NotificationPreference).where(NotificationPreference.user_id == user_id)).all()
    return {(r.event_kind, r.channel): r for r in rows}


def preferences_for_users(db: Session, user_ids: Iterable[int]) -> dict[int, dict[tuple[str, str], Preference]]:
    """The stored preferences of many recipients in one query per 500 users (kinds not stored are absent: the
    caller falls back to :func:`default_preference`)."""
    ids = sorted(set(user_ids))
    out: dict[int, dict[tuple[str, str], Preference]] = {uid: {} for uid in ids}
    for i in range(0, len(ids), 500):
        rows = db.exec(select(NotificationPreference)
                       .where(col(NotificationPreference.user_id).in_(ids[i:i + 500]))).all()
        for r in rows:
            if r.event_kind in KIND_LABELS and r.channel in CHANNEL_LABELS:
                out[r.user_id][(r.event_kind, r.channel)] = _from_row(r)
    return out


def preferences_for_user(db: Session, user_id: int) -> dict[tuple[str, str], Preference]:
    """Every kind × channel for one recipient, stored values over defaults.

    For the notification sender, which decides for a recipient it already chose from the event's company;
    request handlers use :func:`get_preferences`, which takes the user from the principal.
    """
    stored = _stored(db, user_id)
    return {
        (kind, channel): _from_row(stored[(kind, channel)]) if (kind, channel) in stored
        else default_preference(kind, channel)
        for kind in EVENT_KINDS
        for channel in CHANNELS
    }


def wants(preference: Preference, eta_shift_hours: float | None = None) -> bool:
    """Whether this preference asks for a notification; ETA changes also need a shift beyond the threshold."""
    if not preference.enabled:
        return False
    if preference.event_kind in THRESHOLD_KINDS and eta_shift_hours is not None:
        return abs(eta_shift_hours) > (preference.threshold_hours or DEFAULT_ETA_THRESHOLD_HOURS)
    return True


def kinds_for(principal: Principal) -> tuple[str, ...]:
    """The event kinds a person hears about, in display order: staff kinds for staff, customer kinds otherwise."""
    return STAFF_KINDS if principal.is_staff else CUSTOMER_KINDS


def get_preferences(db: Session, principal: Principal) -> list[Preference]:
    """The acting user's matrix of their own kinds in display order (kinds, then channels), defaults for rows not
    stored."""
    mine = preferences_for_user(db, principal.user_id)
    return [mine[(kind, channel)] for kind in kinds_for(principal) for channel in CHANNELS]


def _field(item: Preference | Mapping[str, Any], name: str) -> Any:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def _validated(item: Preference | Mapping[str, Any], kinds: tuple[str, ...]) -> Preference:
    kind, channel = _field(item, "event_kind"), _field(item, "channel")
    enabled, threshold = _field(item, "enabled"), _field(item, "threshold_hours")
    digest = _field(item, "digest")
    if kind not in kinds:
        raise ValidationFailed(
            f"Unknown event kind {kind!r}. Use one of: {', '.join(kinds)}. Nothing was saved."
        )
    if channel not in CHANNEL_LABELS:
        raise ValidationFailed(f"Unknown channel {channel!r}. Use one of: {', '.join(CHANNELS)}. Nothing was saved.")
    if not isinstance(enabled, bool):
        raise ValidationFailed(f"'enabled' for {kind} / {channel} must be true or false. Nothing was saved.")
    if kind in THRESHOLD_KINDS:
        if threshold is None:
            threshold = DEFAULT_ETA_THRESHOLD_HOURS
        if isinstance(threshold, bool) or not isinstance(threshold, int) or not (
            MIN_THRESHOLD_HOURS <= threshold <= MAX_THRESHOLD_HOURS
        ):
            raise ValidationFailed(
                f"The threshold for {KIND_LABELS[kind]} must be a whole number of hours from {MIN_THRESHOLD_HOURS} "
                f"to {MAX_THRESHOLD_HOURS}. Nothing was saved."
            )
    elif threshold is not None:
        raise ValidationFailed(
            f"{KIND_LABELS[kind]} has no hour threshold; leave threshold_hours empty. Nothing was saved."
        )
    if digest is not None and not isinstance(digest, bool):
        raise ValidationFailed(f"'digest' for {kind} / {channel} must be true or false. Nothing was saved.")
    if digest and channel != Channel.EMAIL.value:
        raise ValidationFailed(f"The daily digest is for email only; {kind} / {channel} cannot use it. "
                               "Nothing was saved.")
    return Preference(kind, channel, enabled, threshold, digest)  # digest None: keep the stored value


def shipment_news(db: Session, principal: Principal) -> str:
    """Which shipments the acting person hears about: ``all`` of their company's or only those they ``followed``
    (staff always: the ones they follow)."""
    if principal.is_staff:
        return SHIPMENTS_FOLLOWED
    choice = db.exec(select(User.shipment_news).where(User.id == principal.user_id)).first()
    return choice if choice in SHIPMENT_NEWS_LABELS else SHIPMENTS_ALL


def _save_shipment_news(db: Session, principal: Principal, choice: str) -> dict[str, str] | None:
    """Set the choice for the acting customer; returns the audit's before/after when it changed."""
    if choice not in SHIPMENT_NEWS_LABELS:
        raise ValidationFailed(f"Choose which shipments to hear about: {', '.join(SHIPMENT_NEWS_LABELS)}. "
                               "Nothing was saved.", fields={"shipments": "Choose one of the offered values."})
    if principal.is_staff:
        if choice != SHIPMENTS_FOLLOWED:
            raise ValidationFailed("Staff hear only about the shipments they follow. Nothing was saved.",
                                   fields={"shipments": "Choose one of the offered values."})
        return None
    user = db.get(User, principal.user_id)
    assert user is not None  # the verified session's own user
    if user.shipment_news == choice:
        return None
    before, user.shipment_news = user.shipment_news, choice
    db.add(user)
    return {"before": before, "after": choice}


def save_preferences(
    db: Session, principal: Principal, matrix: Iterable[Preference | Mapping[str, Any]],
    shipments: str | None = None,
) -> list[Preference]:
    """Validate every entry, then upsert them for the acting user only; kinds and channels left out keep their
    current values; ``shipments`` (``all`` or ``followed``; None keeps it) says which shipments they hear about.
    All or nothing: one bad entry saves none. Returns the full matrix after saving."""
    wanted: dict[tuple[str, str], Preference] = {}
    kinds = kinds_for(principal)
    for item in matrix:
        pref = _validated(item, kinds)
        key = (pref.event_kind, pref.channel)
        if key in wanted:
            raise ValidationFailed(
                f"{pref.event_kind} / {pref.channel} is listed twice. Send each kind and channel once. "
                "Nothing was saved."
            )
        wanted[key] = pref
    news = _save_shipment_news(db, principal, shipments) if shipments is not None else None
    before = preferences_for_user(db, principal.user_id)
    wanted = {key: pref if pref.digest is not None else replace(pref, digest=before[key].digest)
              for key, pref in wanted.items()}
    changed = {key: pref for key, pref in wanted.items() if before[key] != pref}
    if changed:
        stored = _stored(db, principal.user_id)
        for (kind, channel), pref in changed.items():
            row = stored.get((kind, channel)) or NotificationPreference(
                user_id=principal.user_id, event_kind=kind, channel=channel
            )
            row.enabled, row.threshold_hours, row.digest = pref.enabled, pref.threshold_hours, bool(pref.digest)
            db.add(row)
        db.add(
            AuditLog(
                actor_id=principal.user_id,
                company_id=principal.company_id,
                action="notification_preferences_updated",
                entity_type="user",
                entity_id=str(principal.user_id),
                before=json.dumps([asdict(before[k]) for k in changed]),
                after=json.dumps([asdict(p) for p in changed.values()]),
            )
        )
    if news:
        db.add(AuditLog(actor_id=principal.user_id, company_id=principal.company_id,
                        action="shipment_news_changed", entity_type="user", entity_id=str(principal.user_id),
                        before=json.dumps(news["before"]), after=json.dumps(news["after"])))
    if changed or news:
        db.commit()
    return get_preferences(db, principal)
