"""Shared pieces of the tower's exception, task and workload pages: labels, the severity badge, the SLA cell, the
owner and team pickers (active staff and teams from ``workload.directory``), and due times typed in the viewer's
own time zone (``User.timezone``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import reflex as rx
from sqlmodel import Session

from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.components.ui import DANGER, MUTED_TEXT
from portal_app.components.work_queue import fmt_time_left
from portal_app.services import workload
from portal_app.services.errors import ServiceError
from portal_app.services.exceptions import SlaTimer, viewer_timezone
from portal_app.ui.session import page_event, run_db

KIND_LABELS = {
    "eta_slip": "ETA slip",
    "document_missing": "Document missing",
    "no_tracking_update": "No tracking update",
    "customs_hold": "Customs hold",
    "carrier_hold": "Carrier hold",
    "change_requested": "Change requested",
    "invoice_overdue": "Invoice overdue",
    "other": "Other",
}
SEVERITY_LABELS = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low"}
STATUS_LABELS = {"open": "Open", "in_progress": "In progress", "resolved": "Resolved", "done": "Done",
                 "cancelled": "Cancelled"}
# A TaskInput field in the words of the task forms, for a problem the form shows no error beside (form_refusal).
TASK_WORDS = {"title": "Title", "detail": "Details", "shipment_reference": "Shipment reference",
              "exception_id": "Exception", "assignee_id": "Assignee", "team_id": "Team", "due_at": "Due"}


def severity_badge(severity: rx.Var) -> rx.Component:
    return rx.badge(
        severity,
        color_scheme=rx.match(severity, ("critical", "red"), ("high", "orange"), ("medium", "amber"), "gray"),
        variant="soft",
        high_contrast=True,
    )


def timer_view(timer: SlaTimer, now: datetime, active: bool) -> dict[str, str]:
    """The SLA as the tower shows it: "5 h 20 min left" / "Breached 2 h 5 min ago" while the work is open, the
    service's "Met ..." / "Missed by ..." once it is closed, and the due time in the viewer's zone."""
    if active:
        left, breached = fmt_time_left(timer.due_at, now)
    else:
        left, breached = timer.label, timer.breached
    return {"left": left, "breached": "yes" if breached and active else "", "due": timer.due_local or "—"}


def sla_cell(r: rx.Var) -> rx.Component:
    """The time left (red once breached) and the due time, from a row holding ``left``, ``breached``, ``due``."""
    return rx.vstack(
        rx.text(r.left, weight="bold", color=rx.cond(r.breached == "yes", DANGER, "inherit"),
                data_testid="sla-left"),
        rx.text("Due ", r.due, size="1", color=MUTED_TEXT),
        spacing="0",
    )


def refusal(exc: ServiceError, field: str) -> tuple[dict[str, str], str]:
    """(field errors, page error) for a refused change: bad input or an unknown record shows beside ``field``,
    anything else (a conflict, a permission) above the page."""
    return ({field: exc.message}, "") if exc.status_code in (404, 422) else ({}, exc.message)


def id_or_none(value: object) -> int | None:
    """A picker's value as an id: digits give the id, anything else (empty, "none") gives None."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def parse_local(text: str, tz: str) -> datetime | None:
    """A ``datetime-local`` value ("2026-11-10T17:00") read in the viewer's zone; empty gives None.
    Raises ValueError for anything that is not a date and time."""
    text = (text or "").strip()
    if not text:
        return None
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        try:
            zone = ZoneInfo(tz or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        value = value.replace(tzinfo=zone)
    return value


def _directory(db: Session, principal: Principal) -> tuple[workload.Directory, str]:
    return workload.directory(db, principal), viewer_timezone(db, principal)


@dataclass(frozen=True)
class PickerOption:
    """One choice in an owner, team or branch picker: the id it submits and the name it shows."""

    value: str
    label: str


class HandMadeMixin(rx.State, mixin=True):
    """A page with a "New ..." form opened and closed by a button."""

    creating: bool = False

    @page_event("tower")
    async def toggle_new(self, principal: Principal) -> None:
        self.creating, self.field_errors = not self.creating, {}


class StaffDirectoryMixin(rx.State, mixin=True):
    """Owner and team options for the pickers, what the viewer may assign, and (backend only) who and where the
    viewer is. Set from the verified principal; never from the browser."""

    people: list[PickerOption] = []
    teams: list[PickerOption] = []
    branches: list[PickerOption] = []
    can_assign: bool = False
    _tz: str = "UTC"
    _me: int = 0
    _my_team: int = 0

    async def _load_directory(self, principal: Principal) -> None:
        found, tz = await run_db(_directory, principal)
        self.people = [PickerOption(value=str(p.id), label=p.name) for p in found.people]
        self.teams = [PickerOption(value=str(t), label=name) for t, name in found.teams]
        self.branches = [PickerOption(value=str(b), label=name) for b, name in found.branches]
        self.can_assign = principal.can(Permission.ASSIGN_WORK)
        self._tz, self._me = tz, principal.user_id
        self._my_team = next((p.team_id or 0 for p in found.people if p.id == principal.user_id), 0)
