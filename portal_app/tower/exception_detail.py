"""Tower: one exception. Its cause, shipment and customer, SLA timer, history (the audit log in words) and the
tasks made from it; take it or assign owner and team, start it, resolve it with a note and an optional message
the customer reads on the shipment, reopen it, and make a task from it. Every change sends the version the person
saw, so a change made meanwhile by someone else is refused with nothing saved (``services/exceptions.py``).

Resolving and reopening are decisions asked in a dialog (``components/decision_dialog.py``); each action's result
is shown under its own button (``components/outcome.py``); a refused form keeps what was typed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.decision_dialog import FOCUS_AFTER_DIALOG, cancel_button, decision_dialog
from portal_app.components.form_refusal import placed
from portal_app.components.formatting import fmt_local
from portal_app.components.layout import area_page
from portal_app.components.ops import (
    KIND_LABELS,
    STATUS_LABELS,
    TASK_WORDS,
    StaffDirectoryMixin,
    id_or_none,
    parse_local,
    refusal,
    severity_badge,
    timer_view,
)
from portal_app.components.outcome import outcome
from portal_app.components.ui import (
    ACCENT,
    CHECKBOX_STYLE,
    DANGER,
    MUTED_TEXT,
    checked,
    primary_button,
    responsive_grid,
    secondary_button,
    table_caption,
)
from portal_app.components.work_queue import checked_input, native_select, stacked_form, text_field
from portal_app.services import clock, tasks
from portal_app.services import exceptions as svc
from portal_app.services.errors import FormInvalid, ServiceError
from portal_app.services.inputs import parse
from portal_app.services.tasks import TaskFilters, TaskInput
from portal_app.ui import routes
from portal_app.ui.session import SessionState, last_path_segment, page_event, run_db

SAVED_NOTHING = "Nothing was saved."
TASK_FIELDS = {"title": "task_title", "detail": "task_detail", "due_at": "task_due"}  # the task form's error keys
KEEP_FIELD = "keep_"
KEEP_REASON_FIELD = "keep_reason_"
DECISIONS = ("resolve", "reopen")  # the decisions asked in a dialog


@dataclass(frozen=True)
class ExceptionSummary:
    """One exception as the page shows it (display strings; "yes" or "" for the page's switches)."""

    id: str
    title: str
    kind: str
    cause: str
    detail: str
    severity: str
    status: str
    status_label: str
    reference: str
    shipment_href: str
    company: str
    owner: str
    owner_id: str
    mine: str
    team: str
    team_id: str
    opened: str
    origin: str
    resolved: str
    resolved_at: str
    resolved_by: str
    resolution_note: str
    left: str
    breached: str
    due: str


@dataclass(frozen=True)
class HistoryLine:
    at: str
    actor: str
    summary: str


@dataclass(frozen=True)
class TaskLine:
    id: str
    title: str
    assignee: str
    status: str
    due: str
    overdue: str
    open: bool = False  # open or in progress: it closes with the exception unless kept


def detail_view(d: svc.ExceptionDetail, now, tz: str, me: int = 0) -> ExceptionSummary:  # noqa: ANN001
    e = d.row
    resolved = e.status == "resolved"
    resolved_by = "the rules (the cause cleared)" if d.auto_resolved else d.resolved_by or ""
    return ExceptionSummary(
        id=str(e.id),
        title=e.title,
        kind=KIND_LABELS.get(e.kind, e.kind),
        cause=e.cause_key,
        detail=d.detail or "",
        severity=e.severity,
        status=e.status,
        status_label=STATUS_LABELS.get(e.status, e.status),
        reference=e.shipment_reference or "",
        shipment_href=(routes.link(routes.TOWER_SHIPMENT, reference=e.shipment_reference)
                       if e.shipment_reference else ""),
        company=e.company_name or "—",
        owner=e.owner_name or "Nobody",
        owner_id=str(e.owner_id or ""),
        mine="yes" if me and e.owner_id == me else "",
        team=e.team_name or "No team",
        team_id=str(e.team_id or ""),
        opened=fmt_local(e.created_at, tz),
        origin="Opened by the rules" if e.created_by_rule else "Raised by hand",
        resolved="yes" if resolved else "",
        resolved_at=fmt_local(d.resolved_at, tz) if d.resolved_at else "",
        resolved_by=resolved_by,
        resolution_note=d.resolution_note or "",
        **timer_view(e.timer, now, not resolved),
    )


def history_view(h: svc.HistoryEntry, tz: str) -> HistoryLine:
    return HistoryLine(at=fmt_local(h.at, tz), actor=h.actor, summary=h.summary)


def task_view(t: tasks.TaskRow, tz: str) -> TaskLine:
    return TaskLine(id=str(t.id), title=t.title, assignee=t.assignee_name or "Nobody",
                    status=STATUS_LABELS.get(t.status, t.status),
                    due=fmt_local(t.due.due_at, tz) if t.due.due_at else "No due time",
                    overdue="yes" if t.overdue else "", open=t.status in tasks.OPEN_TASK_STATUSES)


def _read(db, principal, exception_id: int):  # noqa: ANN001, ANN202
    """The exception, its history and its tasks, in one trip to the worker thread."""
    return (svc.get_exception(db, principal, exception_id), svc.exception_history(db, principal, exception_id),
            tasks.list_tasks(db, principal, TaskFilters(status="all", exception_id=exception_id), page_size=50))


class TowerExceptionState(StaffDirectoryMixin, SessionState):
    exception: ExceptionSummary | None = None
    history: list[HistoryLine] = []
    tasks: list[TaskLine] = []
    open_tasks: list[TaskLine] = []
    error: str = ""
    notice: str = ""
    field_errors: dict[str, str] = {}
    form_key: int = 0  # a new key empties the forms: after a success, never after a refusal
    at: str = ""  # the action whose result is shown, under its own button: "assign", "decision", "task"
    deciding: str = ""  # the decision whose dialog is open: "resolve", "reopen" or ""
    _exception_id: int = 0
    _version: int = 0

    async def _reload(self, principal, *, keep_forms: bool = False) -> bool:  # noqa: ANN001
        try:
            detail, history, found = await run_db(_read, principal, self._exception_id)
        except ServiceError as exc:
            self.exception, self.history, self.tasks, self.error = None, [], [], exc.message
            return False
        now = clock.now()
        self._version = detail.row.version
        self.exception = detail_view(detail, now, self._tz, self._me)
        self.history = [history_view(h, self._tz) for h in history]
        self.tasks = [task_view(t, self._tz) for t in found.rows]
        self.open_tasks = [t for t in self.tasks if t.open]
        if not keep_forms:
            self.form_key += 1
        return True

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        key = last_path_segment(self.router.url.path)
        self.error, self.notice, self.field_errors, self.at, self.deciding = "", "", {}, "", ""
        if not key.isdigit():
            self.exception, self.error = None, "That is not an exception number. Go back to the queue and open one."
            return
        self._exception_id = int(key)
        await self._load_directory(principal)
        await self._reload(principal)

    @page_event("tower")
    async def decide(self, principal: Principal, name: str, open_it: bool) -> None:
        """Open (or, on Escape or Cancel, close) the dialog of one decision."""
        self.deciding = str(name) if open_it and name in DECISIONS else ""
        self.field_errors = {}
        if self.at == "decision":
            self.error = ""

    async def _save(self, principal: Principal, call: Callable[..., Any], done: str, field: str = "",
                    at: str = "decision", **kwargs: Any) -> None:
        """Run a change with the version the person saw; show the outcome under the button at ``at`` and read the
        exception again. A refusal keeps the form's input (and its dialog open); a success closes the dialog."""
        self.at = at
        try:
            await run_db(call, principal, self._exception_id, **kwargs)
        except ServiceError as exc:
            self.notice = ""
            if exc.status_code == 422 and field and not exc.fields:
                self.field_errors, self.error = {field: exc.message}, ""
            else:
                self.field_errors, self.error = {}, exc.message
            if exc.status_code == 409:  # show what is there now; the message says nothing was saved
                await self._reload(principal, keep_forms=True)
            return
        self.error, self.field_errors, self.notice, self.deciding = "", {}, done, ""
        await self._reload(principal)

    @page_event("tower")
    async def take(self, principal: Principal) -> None:
        team = self.exception.team_id if self.exception is not None else None
        await self._save(principal, svc.assign_exception, "You own this exception now.", at="assign",
                         owner_id=self._me,
                         team_id=id_or_none(team), expected_version=self._version)

    @page_event("tower")
    async def assign(self, principal: Principal, form: dict) -> None:
        owner, team = id_or_none(form.get("owner_id")), id_or_none(form.get("team_id"))
        await self._save(principal, svc.assign_exception, "Owner and team saved; the new owner was notified.",
                         "owner_id", at="assign", owner_id=owner, team_id=team, expected_version=self._version)

    @page_event("tower")
    async def start(self, principal: Principal) -> None:
        await self._save(principal, svc.start_exception, "Marked in progress.", at="assign",
                         expected_version=self._version)

    @page_event("tower")
    async def resolve(self, principal: Principal, form: dict) -> None:
        message = str(form.get("customer_message", "")).strip()
        done = ("Resolved. The customer sees your message in the shipment's updates and was notified."
                if message else "Resolved. The customer was not told (no message).")
        note = str(form.get("note", ""))
        if len(note.strip()) < svc.NOTE_MIN:
            self.field_errors = {"note": f"Write a resolution note (what was done). {SAVED_NOTHING}"}
            self.notice, self.error, self.at = "", "", "decision"
            return
        keep = kept_tasks(form)
        if self.open_tasks:
            closing = len(self.open_tasks) - len(keep)
            done += f" {closing} open task{'s' if closing != 1 else ''} closed with it" + (
                f", {len(keep)} kept open." if keep else ".")
        await self._save(principal, svc.resolve_exception, done, "customer_message", note=note,
                         customer_message=message or None, expected_version=self._version, keep_tasks=keep)

    @page_event("tower")
    async def reopen(self, principal: Principal, form: dict) -> None:
        await self._save(principal, svc.reopen_exception, "Reopened with a fresh SLA.", "reason",
                         reason=str(form.get("reason", "")), expected_version=self._version)

    @page_event("tower")
    async def add_task(self, principal: Principal, form: dict) -> None:
        self.at = "task"
        try:
            due = parse_local(str(form.get("due_at", "")), self._tz)
        except ValueError:
            self.field_errors = {"task_due": "Give the due time as a date and time, or leave it empty. "
                                             + SAVED_NOTHING}
            return
        try:
            data = parse(TaskInput, {
                "title": str(form.get("task_title", "")), "detail": str(form.get("task_detail", "")) or None,
                "exception_id": self._exception_id, "assignee_id": id_or_none(form.get("assignee_id")),
                "team_id": id_or_none(form.get("task_team_id")), "due_at": due})
        except FormInvalid as exc:
            self.notice = ""
            self.field_errors, self.error = placed(exc, TASK_FIELDS, TASK_WORDS)
            return
        try:
            made = await run_db(tasks.create_task, principal, data)
        except ServiceError as exc:
            self.notice = ""
            self.field_errors, self.error = refusal(exc, "task_title")
            return
        self.error, self.field_errors = "", {}
        self.notice = f"Task #{made.id} created for {made.assignee_name or 'the team'}."
        await self._reload(principal)


S = TowerExceptionState


def _fact(label: str, value: rx.Component | rx.Var | str) -> rx.Component:
    return rx.box(rx.text(label, size="1", color=MUTED_TEXT, as_="div"), rx.box(value, font_weight="500"))


def _summary() -> rx.Component:
    e = S.exception
    return rx.card(
        rx.vstack(
            responsive_grid(
                _fact("Shipment", rx.cond(e.shipment_href != "",
                                          rx.link(e.reference, href=e.shipment_href, color=ACCENT,
                                                  data_testid="exception-shipment"),
                                          rx.text("—"))),
                _fact("Customer", e.company),
                _fact("Kind", e.kind),
                _fact("Cause", e.cause),
                _fact("Severity", severity_badge(e.severity)),
                _fact("Status", rx.text(e.status_label, data_testid="exception-status")),
                _fact("Owner", rx.text(e.owner, data_testid="exception-owner")),
                _fact("Team", e.team),
                _fact("SLA", rx.vstack(
                    rx.text(e.left, weight="bold", color=rx.cond(e.breached == "yes", DANGER, "inherit"),
                            data_testid="sla-left"),
                    rx.text("Due ", e.due, size="1", color=MUTED_TEXT), spacing="0")),
                _fact("Opened", rx.text(e.opened, " · ", e.origin)),
                narrow=2, middle=3, wide=5,
                spacing="3",
            ),
            rx.cond(e.detail != "", rx.text(e.detail), rx.fragment()),
            rx.cond(
                e.resolved == "yes",
                rx.box(
                    rx.text("Resolved ", e.resolved_at, " by ", e.resolved_by, weight="medium"),
                    rx.text(e.resolution_note, size="2"),
                    data_testid="resolution",
                ),
                rx.fragment(),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _note(label: str, name: str, field_id: str, hint: str) -> rx.Component:
    return text_field(label, name, field_id, S.field_errors, hint=hint)


def _section(title: str, test_id: str, *children: rx.Component) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="4", as_="h2"), *children, spacing="3", width="100%"),
                   width="100%", data_testid=test_id)


def _assign_card() -> rx.Component:
    e = S.exception
    return _section(
        "Owner and team", "assign-exception",
        rx.hstack(
            rx.cond(e.mine == "", secondary_button("Take it myself", type="button", on_click=S.take),
                    rx.text("You own it.", size="2", color=MUTED_TEXT)),
            rx.cond((e.status == "open"), secondary_button("Start work", type="button", on_click=S.start),
                    rx.fragment()),
            spacing="3",
            wrap="wrap",
        ),
        rx.cond(
            S.can_assign,
            stacked_form(
                responsive_grid(
                    native_select("Owner", "owner_id", [("", "Nobody")], value=e.owner_id,
                                  select_id="assign-owner", more=S.people, errors=S.field_errors),
                    native_select("Team", "team_id", [("", "No team")], value=e.team_id, select_id="assign-team",
                                  more=S.teams),
                    wide=2,
                    spacing="3",
                ),
                primary_button("Save owner and team", type="submit"),
                on_submit=S.assign, label="Assign owner and team", key=S.form_key,
            ),
            rx.text("Ops managers assign exceptions to others; you can take it yourself.", size="2",
                    color=MUTED_TEXT),
        ),
        _result("assign"),
    )


def kept_tasks(form: dict) -> dict[int, str]:
    """The tasks ticked "keep open" in the resolve form (``keep_<id>``), with the reason typed beside each."""
    keep: dict[int, str] = {}
    for name, value in form.items():
        task_id = str(name).removeprefix(KEEP_FIELD)
        if str(name).startswith(KEEP_FIELD) and task_id.isdigit() and checked(value):
            keep[int(task_id)] = str(form.get(f"{KEEP_REASON_FIELD}{task_id}", ""))
    return keep


def _keep_task(t: TaskLine) -> rx.Component:
    return rx.hstack(
        rx.el.label(
            rx.el.input(type="checkbox", name=KEEP_FIELD + t.id, style=CHECKBOX_STYLE),
            rx.text("Keep #", t.id, " ", t.title, " open"),
            style={"display": "flex", "gap": "8px", "align_items": "center"},
        ),
        rx.el.input(name=KEEP_REASON_FIELD + t.id, aria_label="Why task #" + t.id + " stays open",
                    placeholder="Why it stays open", max_length=400,
                    style={"flex": "1", "min_width": "180px", "padding": "4px 8px"}),
        wrap="wrap",
        width="100%",
        align="center",
    )


def _open_tasks_choice() -> rx.Component:
    return rx.cond(
        S.open_tasks.length() > 0,
        rx.el.fieldset(
            rx.el.legend("Open tasks from this exception", style={"font_weight": "600"}),
            rx.text("They close (as cancelled) with the exception. Tick one to keep it open, and say why.",
                    size="2", color=MUTED_TEXT),
            rx.foreach(S.open_tasks, _keep_task),
            style={"border": "none", "padding": "0", "margin": "0", "display": "flex", "flex_direction": "column",
                   "gap": "6px"},
        ),
        rx.fragment(),
    )


def _result(here: str) -> rx.Component:
    """The result (or refusal) of the action at ``here``, under its button."""
    return outcome(S.notice, S.error, where=S.at, here=here, test_id="exception-notice",
                   error_test_id="exception-error")


def _decision_result() -> rx.Component:
    """Where a decision's result is read once its dialog has closed (and where focus lands if its button went)."""
    return rx.box(outcome(S.notice, "", where=S.at, here="decision", test_id="exception-notice"),
                  width="100%", **FOCUS_AFTER_DIALOG)


def _open_button(text: str, name: str, primary: bool) -> rx.Component:
    button = primary_button if primary else secondary_button
    return rx.box(button(text, type="button", aria_haspopup="dialog", on_click=S.decide(name, True)))


def _resolve_card() -> rx.Component:
    return _section(
        "Resolve", "resolve-exception",
        rx.text("Write what was done and, if you like, a message the customer reads; open tasks close with it unless "
                "you keep them.", size="2", color=MUTED_TEXT),
        _open_button("Resolve this exception", "resolve", True),
        _decision_result(),
    )


def _reopen_card() -> rx.Component:
    return _section(
        "Reopen", "reopen-exception",
        rx.text("Reopening gives it a fresh SLA from now.", size="2", color=MUTED_TEXT),
        _open_button("Reopen this exception", "reopen", False),
        _decision_result(),
    )


def _dialog_buttons(submit: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.hstack(submit, cancel_button(), spacing="3", wrap="wrap"),
        outcome("", S.error, where=S.at, here="decision", error_test_id="exception-error"),
        spacing="2",
        width="100%",
    )


def _resolve_dialog() -> rx.Component:
    e = S.exception
    return decision_dialog(
        "Resolve exception #" + e.id, "The note is for staff; the message, if you write one, is what the customer "
        "reads on the shipment. Nothing is saved until you select Resolve exception.",
        stacked_form(
            _note("Resolution note (internal)", "note", "resolve-note",
                  "What was done. Staff only; the customer never sees it."),
            _note("Message to the customer (optional)", "customer_message", "resolve-message",
                  "Leave empty to tell the customer nothing. Written here, it becomes an update on the shipment the "
                  "customer reads, and they are notified."),
            _open_tasks_choice(),
            _dialog_buttons(primary_button("Resolve exception", type="submit")),
            on_submit=S.resolve, label="Resolve exception", key=S.form_key,
        ),
        open=S.deciding == "resolve",
        on_open_change=lambda open_it: S.decide("resolve", open_it),
        test_id="resolve-dialog",
    )


def _reopen_dialog() -> rx.Component:
    e = S.exception
    return decision_dialog(
        "Reopen exception #" + e.id, "Say why it is reopened; the reason goes into its history.",
        stacked_form(
            _note("Why it is reopened", "reason", "reopen-reason", "It gets a fresh SLA from now."),
            _dialog_buttons(secondary_button("Reopen exception", type="submit")),
            on_submit=S.reopen, label="Reopen exception", key=S.form_key,
        ),
        open=S.deciding == "reopen",
        on_open_change=lambda open_it: S.decide("reopen", open_it),
        test_id="reopen-dialog",
    )


def _task_card() -> rx.Component:
    return _section(
        "Tasks from this exception", "exception-tasks",
        rx.cond(
            S.tasks.length() > 0,
            rx.table.root(
                table_caption("Tasks from this exception"),
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col")
                                               for h in ("Task", "Assignee", "Due", "Status")])),
                rx.table.body(rx.foreach(S.tasks, lambda t: rx.table.row(
                    rx.table.row_header_cell("#", t.id, " ", t.title),
                    rx.table.cell(t.assignee),
                    rx.table.cell(rx.text(t.due, color=rx.cond(t.overdue == "yes", DANGER, "inherit"))),
                    rx.table.cell(t.status),
                ))),
                size="1",
                width="100%",
            ),
            rx.text("No tasks yet.", color=MUTED_TEXT, size="2"),
        ),
        stacked_form(
            rx.heading("New task", size="3", as_="h3"),
            rx.text("Assignee, team and due time default to the exception's owner, team and SLA.", size="2",
                    color=MUTED_TEXT),
            checked_input("Task title", "task_title", S.field_errors, input_id="task-title", max_length=200),
            responsive_grid(
                native_select("Assignee", "assignee_id", [("", "The exception's owner")],
                              select_id="task-assignee", more=S.people),
                native_select("Task team", "task_team_id", [("", "The exception's team")], select_id="task-team",
                              more=S.teams),
                checked_input("Due (your time zone)", "due_at", S.field_errors, key="task_due",
                              input_id="task-due", type="datetime-local"),
                wide=3,
                spacing="3",
            ),
            text_field("Task details (optional)", "task_detail", "task-detail", S.field_errors, rows="2"),
            secondary_button("Create task", type="submit"),
            _result("task"),
            on_submit=S.add_task, label="Create a task from this exception", key=S.form_key,
        ),
    )


def _history() -> rx.Component:
    return _section(
        "History", "exception-history",
        rx.cond(
            S.history.length() > 0,
            rx.el.ol(
                rx.foreach(S.history, lambda h: rx.el.li(
                    rx.text(h.summary),
                    rx.text(h.at, " · ", h.actor, size="1", color=MUTED_TEXT),
                    style={"margin_bottom": "8px"},
                )),
                style={"padding_left": "20px", "margin": "0"},
            ),
            rx.text("Nothing recorded yet.", color=MUTED_TEXT, size="2"),
        ),
    )


@area_page("tower", routes.TOWER_EXCEPTION, "Exception", TowerExceptionState.load)
def tower_exception_detail() -> rx.Component:
    e = S.exception
    return rx.vstack(
        rx.link("← Exceptions", href=routes.TOWER_EXCEPTIONS, color=ACCENT),
        rx.heading(rx.cond(e, "Exception #" + e.id + ": " + e.title, "Exception"),
                   size="7", as_="h1"),
        _result(""),  # what is not about one action: the exception could not be read
        rx.cond(
            e,
            rx.vstack(
                _summary(),
                _resolve_dialog(),
                _reopen_dialog(),
                rx.cond(
                    e.resolved == "yes",
                    _reopen_card(),
                    responsive_grid(_assign_card(), _resolve_card(), wide=2, spacing="4"),
                ),
                _task_card(),
                _history(),
                spacing="4",
                width="100%",
            ),
            rx.fragment(),
        ),
        spacing="4",
        width="100%",
    )
