"""What every part of the request desk shares: labels, statuses, the desk's settings, SLA targets, loading a
request inside the caller's reach, and who hears about it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field
from sqlmodel import Session, col, select

from models import AppSetting, SlaPolicy, Team, Ticket, TicketFollower
from models.enums import Priority, TicketCategory, TicketStatus
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import audit, webhooks
from portal_app.services.config.common import record, refuse_if, require_admin
from portal_app.services.errors import NotFound, ValidationFailed
from portal_app.services.inputs import Body, Id, WholeNumber
from portal_app.services.versioning import update_versioned

NOTHING_SAVED = "Nothing was saved."
CATEGORY_LABELS: dict[str, str] = {
    TicketCategory.TRACKING: "Tracking",
    TicketCategory.DOCUMENTS: "Documents",
    TicketCategory.BILLING: "Billing",
    TicketCategory.BOOKING_CHANGE: "Booking change",
    TicketCategory.OTHER: "Other",
}
PRIORITY_LABELS: dict[str, str] = {
    Priority.LOW: "Low", Priority.NORMAL: "Normal", Priority.HIGH: "High", Priority.URGENT: "Urgent",
}
STATUS_LABELS: dict[str, str] = {
    TicketStatus.OPEN: "Open",
    TicketStatus.WAITING_ON_CUSTOMER: "Waiting on you",
    TicketStatus.WAITING_ON_US: "Waiting on us",
    TicketStatus.RESOLVED: "Resolved",
    TicketStatus.CLOSED: "Closed",
}
STAFF_STATUS_LABELS: dict[str, str] = {**STATUS_LABELS, TicketStatus.WAITING_ON_CUSTOMER: "Waiting on customer",
                                       TicketStatus.WAITING_ON_US: "Waiting on us (ops)"}
ACTIVE_STATUSES = (TicketStatus.OPEN.value, TicketStatus.WAITING_ON_CUSTOMER.value, TicketStatus.WAITING_ON_US.value)
DONE_STATUSES = (TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value)

SETTING_KEY = "requests"
DEFAULT_REOPEN_DAYS = 14
DEFAULT_FIRST_RESPONSE_HOURS = 8
DEFAULT_RESOLUTION_HOURS = 72


def reference_of(ticket_id: int) -> str:
    return f"REQ-{ticket_id:06d}"


# ------------------------------------------------------------------------------------------ settings


class DeskSettings(Body):
    """How requests are routed (category -> team id) and how long a resolved request may be reopened (the API
    reads and serves this model as it is)."""

    routing: dict[str, Id] = Field(description="Request category -> the id of the team it goes to")
    reopen_days: WholeNumber


def desk_settings(db: Session) -> DeskSettings:
    value = db.exec(select(AppSetting.value).where(AppSetting.key == SETTING_KEY)).first()
    data = json.loads(value) if value else {}
    routing = {k: int(v) for k, v in (data.get("routing") or {}).items() if k in CATEGORY_LABELS and v}
    return DeskSettings(routing=routing, reopen_days=int(data.get("reopen_days") or DEFAULT_REOPEN_DAYS))


def save_desk_settings(db: Session, principal: Principal, *, routing: dict[str, Any],
                       reopen_days: Any) -> DeskSettings:
    """Admins choose the team each category goes to and the reopen window (1-90 days). Audited."""
    require_admin(principal)
    problems: dict[str, str] = {}
    clean: dict[str, int] = {}
    teams = set(db.exec(select(Team.id)).all())
    for category, team in (routing or {}).items():
        if category not in CATEGORY_LABELS:
            problems[f"routing.{category}"] = f"unknown category; use one of {', '.join(CATEGORY_LABELS)}"
        elif team not in (None, ""):
            try:
                team_id = int(team)
            except (TypeError, ValueError):
                team_id = -1
            if team_id not in teams:
                problems[f"routing.{category}"] = "choose one of the teams"
            else:
                clean[category] = team_id
    try:
        days = int(reopen_days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 90:
        problems["reopen_days"] = "give a whole number of days from 1 to 90"
    refuse_if(problems, "The request desk settings")
    before = desk_settings(db)
    row = db.get(AppSetting, SETTING_KEY) or AppSetting(key=SETTING_KEY, value="{}")
    row.value = json.dumps({"routing": clean, "reopen_days": days}, sort_keys=True)
    row.updated_by_id = principal.user_id
    db.add(row)
    record(db, principal, "config_request_desk_saved", "app_setting", SETTING_KEY,
           {"routing": before.routing, "reopen_days": before.reopen_days}, {"routing": clean, "reopen_days": days})
    db.commit()
    return desk_settings(db)


# ------------------------------------------------------------------------------------------ SLA


def sla_targets(db: Session, category: str, priority: str) -> tuple[int, int]:
    """(first response hours, resolution hours) for a request: exact category and priority first, then '*'."""
    rows = db.exec(select(SlaPolicy).where(SlaPolicy.subject == "ticket", col(SlaPolicy.is_active).is_(True))).all()
    table = {(r.kind, r.severity): r for r in rows}
    for key in ((category, priority), (category, "*"), ("*", priority), ("*", "*")):
        if key in table:
            policy = table[key]
            return policy.first_response_hours or policy.resolution_hours, policy.resolution_hours
    return DEFAULT_FIRST_RESPONSE_HOURS, DEFAULT_RESOLUTION_HOURS


def due_times(db: Session, category: str, priority: str, start: datetime) -> tuple[datetime, datetime]:
    first, resolution = sla_targets(db, category, priority)
    return start + timedelta(hours=first), start + timedelta(hours=resolution)


# ------------------------------------------------------------------------------------------ checks and loading


def check_choice(value: str, allowed: dict[str, str], what: str) -> str:
    value = (value or "").strip()
    if value not in allowed:
        raise ValidationFailed(f"Unknown {what} {value!r}. Choose one of: {', '.join(allowed)}. {NOTHING_SAVED}")
    return value


def load(db: Session, principal: Principal, reference: str) -> Ticket:
    """The request with this reference if the principal may see it; another company's is NotFound like a
    missing one."""
    if not (principal.can(Permission.RAISE_REQUESTS) or principal.can(Permission.HANDLE_REQUESTS)):
        principal.require(Permission.HANDLE_REQUESTS)
    ticket = db.exec(select(Ticket).where(Ticket.reference == (reference or "").strip().upper(),
                                          company_filter(col(Ticket.company_id), principal))).first()
    if ticket is None:
        raise NotFound(f"No request {reference!r} was found in your account. Check the reference and try again.")
    return ticket


def change(db: Session, ticket: Ticket, expected_version: int | None, **values: object) -> None:
    update_versioned(db, Ticket, ticket, expected_version,
                     f"Request {ticket.reference} was changed by someone else since you opened it. Reload it and "
                     f"try again. {NOTHING_SAVED}", **values)


def snapshot(t: Ticket) -> dict:
    return {"status": t.status, "category": t.category, "priority": t.priority, "assignee_id": t.assignee_id,
            "team_id": t.team_id, "exception_id": t.exception_id, "merged_into_id": t.merged_into_id,
            "version": t.version}


INTERNAL_ACTIONS = frozenset({"request_note"})  # changes customers never see (their webhooks never hear of them)


def record_change(db: Session, principal: Principal | None, action: str, ticket: Ticket, before: dict | None,
                  after: dict | None) -> None:
    audit.record(db, principal, action, "ticket", ticket.id, ticket.company_id, before, after)
    # An internal note is for staff only: never to a customer's subscription.
    webhooks.record(db, "request_updated", company_id=ticket.company_id, record_id=ticket.id,
                    internal=action in INTERNAL_ACTIONS, change=action.removeprefix("request_"))


def followers_of(db: Session, ticket_id: int) -> list[int]:
    return list(db.exec(select(TicketFollower.user_id).where(TicketFollower.ticket_id == ticket_id)).all())


def customer_link(ticket: Ticket) -> str:
    return f"/portal/requests/{ticket.reference}"
