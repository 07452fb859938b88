"""Tower: one shipment's workspace. The record as the customer reads it (timeline, updates, ETA history), and what
staff change on it: milestones, the ETA with a reason, owner and team, internal notes and customer-visible
updates (two separate forms that look different), document review, closing the shipment once it is done (the
closeout checklist, ``workspace_closeout.py``), and the audit trail.

Every edit sends the shipment version this page loaded (kept on the server, never taken from the browser). When
someone saved in between, the service refuses with what changed since; the page shows it, keeps what was typed
in the form, and takes the new version so a second save applies the change on top.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.document_upload import (
    ShipmentDocumentsBase,
    document_status_badge,
    documents_for_shipment_view,
)
from portal_app.components.formatting import fmt_local
from portal_app.components.layout import area_page
from portal_app.components.ops import StaffDirectoryMixin, id_or_none, parse_local
from portal_app.components.outcome import outcome
from portal_app.components.shipment_detail import ShipmentDetailBase, shipment_detail_view
from portal_app.components.ui import (
    DANGER,
    MUTED_TEXT,
    data_table,
    pager,
    primary_button,
    responsive_grid,
    secondary_button,
)
from portal_app.components.work_queue import native_select, stacked_form, text_field
from portal_app.services import words
from portal_app.services import workspace as ws
from portal_app.services.errors import ServiceError
from portal_app.tower.workspace_closeout import CloseoutMixin, closeout_card
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

NOTHING_SAVED = ws.NOTHING_SAVED
AUDIT_PAGE_SIZE = 15
INTERNAL_COLOUR = "#b54708"  # amber border: staff-only notes (matches the updates list)
CUSTOMER_COLOUR = "#0b5cad"  # blue border: what the customer reads


# The audit's field keys in the words the workspace uses for them (others: services/words.field_words).
FIELD_LABELS = {
    "eta_estimated": "Estimated arrival", "eta_planned": "Planned arrival", "etd_estimated": "Estimated departure",
    "etd_planned": "Planned departure", "atd": "Departed", "ata": "Arrived", "delivered_at": "Delivered",
    "reason_code": "Reason", "reason_text": "Explanation", "rejection_reason": "Reason for rejection",
    "owner_id": "Owner", "team_id": "Team", "branch_id": "Branch", "delay_minutes": "Delay (minutes)",
    "override_reason": "Reason to close with items open", "status": "Status",
}


def _field(key: str) -> str:
    return FIELD_LABELS.get(key) or words.field_words(key)


def _value(value: object, tz: str = "UTC") -> str:
    """A changed value in words: an instant in the viewer's zone, a reason or a status by its label."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return fmt_local(value, tz)
    if isinstance(value, dict):  # a group of changes (an import's milestones: step -> its times)
        return "; ".join(f"{words.code_words(str(k))}: {_value(v, tz)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(_value(v, tz) for v in value) or "—"
    text = str(value)
    if len(text) >= 19 and text[4] == "-" and "T" in text[10:11]:  # an instant as the audit stores it (ISO)
        try:
            return fmt_local(datetime.fromisoformat(text), tz)
        except ValueError:
            return text
    return ws.ETA_REASONS.get(text) or words.code_words(text)


@dataclass(frozen=True)
class AuditLine:
    """One audit entry in words, in the viewer's zone."""

    at: str
    actor: str
    action: str
    entity: str
    changes: str


@dataclass(frozen=True)
class ConflictLine:
    """What someone else changed since the page loaded the shipment."""

    field: str
    old: str
    new: str
    by: str
    at: str


@dataclass(frozen=True)
class Assignment:
    """Who owns the shipment, and its team and branch."""

    owner: str
    team: str
    branch: str
    owner_id: str
    team_id: str
    version: str


def audit_row_view(row: ws.AuditRow, tz: str) -> AuditLine:
    changes = "; ".join(f"{_field(c.field)}: {_value(c.old, tz)} → {_value(c.new, tz)}" for c in row.changes)
    return AuditLine(at=fmt_local(row.at, tz), actor=row.actor, action=row.action.replace("_", " "),
                     entity=row.entity, changes=changes or "—")


class TowerWorkspaceState(ShipmentDetailBase, ShipmentDocumentsBase, StaffDirectoryMixin, CloseoutMixin, SessionState):
    AREA: ClassVar[str] = "tower"

    assigned: Assignment | None = None
    ws_notice: str = ""
    ws_error: str = ""
    field_errors: dict[str, str] = {}
    conflict: list[ConflictLine] = []
    audit_rows: list[AuditLine] = []
    page: int = 1
    pages: int = 1
    ws_key: int = 0
    ws_at: str = ""  # the form whose result is shown, under its own button ("eta", "milestone", "review"...)
    _version: int = 0
    _loaded: str = ""

    async def _load_more(self, principal, reference: str) -> None:  # noqa: ANN001
        if reference != self._loaded:  # another shipment: the last one's messages do not belong here
            self.ws_notice, self.ws_error, self.conflict, self.field_errors, self.ws_at = "", "", [], {}, ""
            self._loaded = reference
        self.page = 1
        await self._load_directory(principal)
        a = await run_db(ws.assignment, principal, reference)
        self._version = a.version
        self.assigned = Assignment(owner=a.owner or "Nobody", team=a.team or "No team", branch=a.branch or "—",
                                   owner_id=str(a.owner_id or ""), team_id=str(a.team_id or ""),
                                   version=str(a.version))
        await self._load_closeout(principal, reference)
        await self._load_audit(principal, reference)

    async def _load_audit(self, principal, reference: str) -> None:  # noqa: ANN001
        page = await run_db(ws.audit_trail, principal, reference, page=self.page, page_size=AUDIT_PAGE_SIZE)
        self.audit_rows = [audit_row_view(r, self._tz) for r in page.rows]
        self.pages = page.pages

    @property
    def _reference(self) -> str:
        return self.summary.reference

    async def _save(self, principal: Principal, action: Callable[..., Any], *args: Any, at: str = "",
                    **kwargs: Any) -> Any:
        """Run one edit; success reloads the record and clears the forms, a refusal keeps what was typed. The
        outcome is shown under the button of the form ``at``."""
        self.ws_at = at
        try:
            result = await run_db(action, principal, self._reference, *args, **kwargs)
        except ws.EditConflict as exc:
            self.ws_error, self.ws_notice, self.field_errors = exc.message, "", {}
            self.conflict = [ConflictLine(field=_field(c.field), old=_value(c.old, self._tz),
                                          new=_value(c.new, self._tz), by=c.changed_by,
                                          at=fmt_local(c.changed_at, self._tz) if c.changed_at else "—")
                             for c in exc.changes]
            return TowerWorkspaceState.load
        except ServiceError as exc:
            self.ws_error, self.ws_notice, self.conflict = exc.message, "", []
            return None
        self.ws_error, self.conflict, self.field_errors = "", [], {}
        self.ws_notice = result.message
        self.ws_key += 1
        return TowerWorkspaceState.load

    def _time(self, form: dict, name: str, label: str, changes: dict) -> bool:
        text = str(form.get(name, "")).strip()
        if not text:
            return True
        try:
            changes[name] = parse_local(text, self._tz)
        except ValueError:
            self.field_errors = {name: f"{label}: give a date and time. {NOTHING_SAVED}"}
            return False
        return True

    @page_event("tower")
    async def save_milestone(self, principal: Principal, form: dict) -> Any:
        changes: dict[str, object] = {}
        for name, label in (("planned_at", "Planned"), ("estimated_at", "Estimated"), ("actual_at", "Actual")):
            if not self._time(form, name, label, changes):
                return None
        if str(form.get("location", "")).strip():
            changes["location"] = str(form["location"]).strip().upper()
        if not changes:
            self.field_errors = {"milestone": f"Fill in at least one time or the place. {NOTHING_SAVED}"}
            return None
        return await self._save(principal, ws.edit_milestone, str(form.get("step", "")), changes,
                                at="milestone", expected_version=self._version)

    @page_event("tower")
    async def save_eta(self, principal: Principal, form: dict) -> Any:
        changes: dict[str, object] = {}
        if not self._time(form, "new_eta", "New ETA", changes):
            return None
        if "new_eta" not in changes:
            self.field_errors = {"new_eta": f"Give the new estimated arrival. {NOTHING_SAVED}"}
            return None
        return await self._save(principal, ws.change_eta, changes["new_eta"], str(form.get("reason_code", "")),
                                str(form.get("reason_text", "")).strip() or None, at="eta",
                                expected_version=self._version)

    @page_event("tower")
    async def save_assignment(self, principal: Principal, form: dict) -> Any:
        changes = {"owner_id": id_or_none(form.get("owner_id")), "team_id": id_or_none(form.get("team_id"))}
        return await self._save(principal, ws.assign, changes, at="assign", expected_version=self._version)

    @page_event("tower")
    async def add_internal_note(self, principal: Principal, form: dict) -> Any:
        return await self._save(principal, ws.add_note, str(form.get("body", "")), at="internal_note",
                                visibility="internal")

    @page_event("tower")
    async def add_customer_update(self, principal: Principal, form: dict) -> Any:
        return await self._save(principal, ws.add_note, str(form.get("body", "")), at="customer_update",
                                visibility="customer")

    @page_event("tower")
    async def approve(self, principal: Principal, document_id: str) -> Any:
        return await self._review(principal, str(document_id), True, "")

    @page_event("tower")
    async def reject(self, principal: Principal, form: dict) -> Any:
        return await self._review(principal, str(form.get("document_id", "")), False, str(form.get("reason", "")))

    async def _review(self, principal: Principal, document_id: str, approve: bool, reason: str) -> Any:
        row = next((r for r in self.doc_rows if r.id == document_id), None)  # the version this page showed
        if row is None:
            self.ws_at, self.ws_notice = "review", ""
            self.ws_error = f"That document is not on this page any more; reload it. {NOTHING_SAVED}"
            return None
        return await self._save(principal, ws.review_document, int(document_id), approve=approve, reason=reason,
                                at="review", expected_version=int(row.row_version))

    @page_event("tower")
    async def go_to_page(self, principal: Principal, delta: int) -> None:
        self.page = max(1, min(self.pages, self.page + int(delta)))
        await self._load_audit(principal, self._reference)


S = TowerWorkspaceState


def _card(title: str, test_id: str, *children: rx.Component, **props: Any) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="4", as_="h3"), *children, spacing="3", width="100%"),
                   width="100%", data_testid=test_id, **props)


def _time_input(label: str, name: str, field_id: str) -> rx.Component:
    error_id = f"{field_id}-error"
    return rx.box(
        rx.el.label(label, html_for=field_id, style={"display": "block", "font_weight": "600"}),
        rx.input(id=field_id, name=name, type="datetime-local", width="100%", aria_describedby=error_id),
        rx.cond(S.field_errors.contains(name), rx.text(S.field_errors[name], id=error_id, color=DANGER, size="2",
                                                       role="alert"), rx.fragment()),
    )


def _result(here: str) -> rx.Component:
    """The outcome of the form ``here``, under its button: what was saved, or why not and (after someone else's
    change) what changed meanwhile."""
    return rx.fragment(
        outcome(S.ws_notice, S.ws_error, where=S.ws_at, here=here, test_id="workspace-notice",
                error_test_id="workspace-error"),
        rx.cond(
            (S.ws_at == here) & (S.conflict.length() > 0),
            data_table("What changed since you opened the shipment", ("Field", "Was", "Now", "Changed by", "When"),
                       S.conflict, lambda c: rx.table.row(
                           rx.table.row_header_cell(c.field), rx.table.cell(c.old), rx.table.cell(c.new),
                           rx.table.cell(c.by), rx.table.cell(c.at)),
                       data_testid="conflict-changes"),
            rx.fragment(),
        ),
    )


def _assignment_card() -> rx.Component:
    a = S.assigned
    return _card(
        "Owner and team", "workspace-assign",
        rx.text("Owner: ", rx.text.strong(a.owner), " · Team: ", rx.text.strong(a.team), " · Branch: ",
                a.branch, size="2"),
        rx.cond(
            S.can_assign,
            stacked_form(
                responsive_grid(
                    native_select("Owner", "owner_id", [("", "Nobody")], value=a.owner_id,
                                  select_id="ws-owner", more=S.people),
                    native_select("Team", "team_id", [("", "No team")], value=a.team_id, select_id="ws-team",
                                  more=S.teams),
                    wide=2, spacing="3",
                ),
                primary_button("Save owner and team", type="submit"),
                _result("assign"),
                on_submit=S.save_assignment, label="Owner and team", key=S.ws_key,
            ),
            rx.text("Ops managers assign shipments.", size="2", color=MUTED_TEXT),
        ),
    )


def _milestone_card() -> rx.Component:
    return _card(
        "Edit a milestone", "workspace-milestone",
        rx.text("Times are in your time zone. Leave a field empty to keep it. Departure and arrival steps also set "
                "the shipment's dates and status.", size="2", color=MUTED_TEXT),
        stacked_form(
            rx.box(
                rx.el.label("Milestone", html_for="ws-step", style={"display": "block", "font_weight": "600"}),
                rx.el.select(rx.foreach(S.milestones, lambda m: rx.el.option(m["name"], value=m["step"])),
                             id="ws-step", name="step", class_name="native-select",
                             style={"width": "100%", "padding": "6px", "border_radius": "6px",
                                    "border": "1px solid var(--portal-field-border)"}),
                rx.cond(S.field_errors.contains("milestone"),
                        rx.text(S.field_errors["milestone"], color=DANGER, size="2", role="alert"), rx.fragment()),
            ),
            responsive_grid(
                _time_input("Planned", "planned_at", "ws-planned"),
                _time_input("Estimated", "estimated_at", "ws-estimated"),
                _time_input("Actual", "actual_at", "ws-actual"),
                rx.box(rx.el.label("Place (UN/LOCODE or airport)", html_for="ws-location",
                                   style={"display": "block", "font_weight": "600"}),
                       rx.input(id="ws-location", name="location", max_length=5, width="100%")),
                wide=4, middle=2, spacing="3",
            ),
            primary_button("Save milestone", type="submit"),
            _result("milestone"),
            on_submit=S.save_milestone, label="Edit a milestone", key=S.ws_key,
        ),
    )


def _eta_card() -> rx.Component:
    return _card(
        "Change the ETA", "workspace-eta",
        rx.text("The customer sees the new ETA, the reason and the shift on their timeline; followers are told.",
                size="2", color=MUTED_TEXT),
        stacked_form(
            responsive_grid(
                _time_input("New ETA (your time zone)", "new_eta", "ws-new-eta"),
                native_select("Reason", "reason_code", [("", "Pick a reason"), *ws.eta_reasons()],
                              select_id="ws-eta-reason"),
                wide=2, spacing="3",
            ),
            rx.box(rx.el.label("Explanation for the customer (optional)", html_for="ws-eta-text",
                               style={"display": "block", "font_weight": "600"}),
                   rx.input(id="ws-eta-text", name="reason_text", max_length=400, width="100%")),
            primary_button("Save the new ETA", type="submit"),
            _result("eta"),
            on_submit=S.save_eta, label="Change the ETA", key=S.ws_key,
        ),
    )


def _notes_cards() -> rx.Component:
    return responsive_grid(
        _card(
            "Internal note (staff only)", "workspace-internal-note",
            rx.text("The customer never sees internal notes.", size="2", color=MUTED_TEXT),
            stacked_form(
                text_field("Internal note", "body", "ws-internal-note", rows="3"),
                secondary_button("Add internal note", type="submit"),
                _result("internal_note"),
                on_submit=S.add_internal_note, label="Add an internal note", key=S.ws_key,
            ),
            style={"border_left": f"4px solid {INTERNAL_COLOUR}", "background": "var(--portal-note)"},
        ),
        _card(
            "Update for the customer", "workspace-customer-update",
            rx.text("The customer reads this on the shipment page, in the updates log.", size="2", color=MUTED_TEXT),
            stacked_form(
                text_field("Customer-visible update", "body", "ws-customer-update", rows="3"),
                primary_button("Post to the customer", type="submit"),
                _result("customer_update"),
                on_submit=S.add_customer_update, label="Post an update the customer sees", key=S.ws_key,
            ),
            style={"border_left": f"4px solid {CUSTOMER_COLOUR}"},
        ),
        wide=2,
    )


def _review_row(r: rx.Var) -> rx.Component:
    name = r.type + " v" + r.version
    return rx.table.row(
        rx.table.row_header_cell(name),
        rx.table.cell(document_status_badge(r.status),
                      rx.cond(r.reason != "", rx.text(r.reason, size="1", color=MUTED_TEXT), rx.fragment())),
        rx.table.cell(
            rx.cond(
                r.status == "superseded",
                rx.text("Replaced by a newer version", size="2", color=MUTED_TEXT),
                rx.hstack(
                    rx.button("Approve", type="button", variant="soft", color_scheme="green", high_contrast=True,
                              on_click=S.approve(r.id), aria_label="Approve " + name),
                    rx.el.form(
                        rx.hstack(
                            rx.el.input(type="hidden", name="document_id", value=r.id),
                            rx.input(name="reason", placeholder="Reason the customer reads", max_length=400,
                                     aria_label="Reason to reject " + name),
                            rx.button("Reject", type="submit", variant="soft", color_scheme="red",
                                      high_contrast=True, aria_label="Reject " + name),
                            spacing="2",
                        ),
                        on_submit=S.reject,
                        key=r.id + "-" + r.row_version,  # a decision makes a new version: the reason empties
                        aria_label="Reject " + name,
                    ),
                    spacing="2",
                    wrap="wrap",
                ),
            )
        ),
    )


def _review_card() -> rx.Component:
    return _card(
        "Review documents", "workspace-review",
        rx.cond(
            S.doc_rows.length() > 0,
            data_table("Documents to review", ("Document", "Status", "Decision"), S.doc_rows, _review_row),
            rx.text("No documents on this shipment yet.", color=MUTED_TEXT),
        ),
        _result("review"),
    )


def _audit_card() -> rx.Component:
    return _card(
        "Audit trail", "workspace-audit",
        rx.cond(
            S.audit_rows.length() > 0,
            data_table("Audit trail of the shipment and its documents", ("When", "Who", "What", "Record", "Changes"),
                       S.audit_rows, lambda a: rx.table.row(
                           rx.table.cell(a.at), rx.table.cell(a.actor), rx.table.row_header_cell(a.action),
                           rx.table.cell(a.entity), rx.table.cell(rx.text(a.changes, size="1")))),
            rx.text("No changes recorded yet.", color=MUTED_TEXT),
        ),
        pager(S),
    )


@area_page("tower", routes.TOWER_SHIPMENT, "Shipment workspace", TowerWorkspaceState.load)
def tower_shipment_workspace() -> rx.Component:
    return rx.vstack(
        shipment_detail_view(S, routes.TOWER_SHIPMENTS),
        rx.cond(
            S.not_found == "",
            rx.vstack(
                rx.heading("Workspace", size="6", as_="h2"),
                _result(""),
                closeout_card(S, _result("closeout")),
                responsive_grid(_assignment_card(), _eta_card(), wide=2),
                _milestone_card(),
                _notes_cards(),
                _review_card(),
                documents_for_shipment_view(S),
                _audit_card(),
                spacing="4",
                width="100%",
            ),
            rx.fragment(),
        ),
        width="100%",
        spacing="5",
    )
