"""Tower: tasks. "My queue" (the default: my tasks and my team's untaken ones, overdue first), a team's tasks or
all of them (``services/tasks.py``); each with assignee, team, due time in the viewer's zone and status, overdue
ones marked; sorted by a column header when one is chosen. The view, status, team, sort and page are kept in the
address (``components/sortable.py``). Mark a task done, change its status, hand it to someone else, or create one
by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.form_refusal import placed
from portal_app.components.layout import area_page
from portal_app.components.ops import (
    STATUS_LABELS,
    TASK_WORDS,
    HandMadeMixin,
    StaffDirectoryMixin,
    id_or_none,
    parse_local,
    refusal,
    sla_cell,
    timer_view,
)
from portal_app.components.sortable import SortedListMixin, first
from portal_app.components.ui import (
    MUTED_TEXT,
    primary_button,
    responsive_grid,
    secondary_button,
)
from portal_app.components.work_queue import (
    PAGE_SIZE,
    PagedQueueBase,
    checked_input,
    decision_panel,
    native_select,
    queue_page,
    queue_table,
    stacked_form,
    submit_or_close,
    text_field,
)
from portal_app.services import clock
from portal_app.services import tasks as svc
from portal_app.services.errors import FormInvalid, ServiceError
from portal_app.services.inputs import parse
from portal_app.services.tasks import TaskFilters, TaskInput
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

VIEW_CHOICES = [("mine", "My queue"), ("team", "A team's tasks"), ("all", "All tasks")]
STATUS_CHOICES = [("active", "Open or in progress"), ("open", "Open"), ("in_progress", "In progress"),
                  ("done", "Done"), ("cancelled", "Cancelled"), ("all", "All")]
TASK_STATUSES = [(s, STATUS_LABELS[s]) for s in svc.STATUSES]
SAVED_NOTHING = "Nothing was saved."
NEW_TASK_FIELDS = {"title": "title", "detail": "detail", "shipment_reference": "shipment_reference",
                   "due_at": "due_at"}  # where the new-task form shows each TaskInput field's problem
# The table's columns and the service's sort key of each sortable one (``tasks.LIST_SORTS``); without a sort the
# queue's own order (overdue first, then the nearest due time).
HEADERS: list[tuple[str, str | None]] = [("Task", "id"), ("Shipment", "shipment"), ("Assignee and team", None),
                                         ("Due", "due"), ("Status", "status"), ("Action", None)]
OVERDUE_BACKGROUND = "var(--portal-alert)"  # behind body text and DANGER: both keep AA contrast


@dataclass(frozen=True)
class TaskQueueLine:
    """A task as the list shows it, with its due-time timer (``left``, ``breached``, ``due``)."""

    id: str
    title: str
    detail: str
    reference: str
    shipment_href: str
    exception: str
    exception_href: str
    assignee: str
    team: str
    status: str
    status_label: str
    active: str
    overdue: str
    left: str
    breached: str
    due: str


def task_row_view(t: svc.TaskRow, now) -> TaskQueueLine:  # noqa: ANN001
    active = t.status in svc.OPEN_TASK_STATUSES
    timer = timer_view(t.due, now, active) if t.due.due_at else {"left": "No due time", "breached": "", "due": "—"}
    return TaskQueueLine(
        id=str(t.id),
        title=t.title,
        detail=t.detail or "",
        reference=t.shipment_reference or "",
        shipment_href=(routes.link(routes.TOWER_SHIPMENT, reference=t.shipment_reference)
                          if t.shipment_reference else ""),
        exception=str(t.exception_id or ""),
        exception_href=routes.link(routes.TOWER_EXCEPTION, exception_id=t.exception_id) if t.exception_id else "",
        assignee=t.assignee_name or "Nobody yet",
        team=t.team_name or "No team",
        status=t.status,
        status_label=STATUS_LABELS.get(t.status, t.status),
        active="yes" if active else "",
        overdue="yes" if t.overdue else "",
        **timer,
    )


class TowerTasksState(SortedListMixin, HandMadeMixin, StaffDirectoryMixin, PagedQueueBase, SessionState):
    SORTS: ClassVar[tuple[str, ...]] = tuple(key for _label, key in HEADERS if key)

    rows: list[TaskQueueLine] = []
    view: str = "mine"
    status: str = "active"
    team: str = ""
    shipment: str = ""  # ?shipment=REF (the closeout checklist's link): only that shipment's tasks
    form_key: int = 0
    _versions: dict[str, int] = {}

    def _query(self):  # noqa: ANN202
        paging = {"page": self.page, "page_size": PAGE_SIZE, "sort": self._sort_arg()}
        if self.view == "mine":
            return svc.my_queue, {"status": self.status, **paging}
        team = (id_or_none(self.team) or self._my_team or None) if self.view == "team" else None
        filters = TaskFilters(status=self.status, team_id=team, shipment_reference=self.shipment or None)
        return svc.list_tasks, {"filters": filters, **paging}

    def _list_path(self) -> str:
        return routes.TOWER_TASKS

    def _list_params(self) -> dict[str, str]:
        return {"view": self.view if self.view != "mine" else "", "status": self.status if self.status != "active"
                else "", "team": self.team if self.view == "team" else "", "shipment": self.shipment}

    def _row(self, item: svc.TaskRow) -> TaskQueueLine:
        self._versions[str(item.id)] = item.version
        return task_row_view(item, clock.now())

    async def _fetch(self, principal) -> None:  # noqa: ANN001
        self._versions = {}
        await super()._fetch(principal)

    def _start(self, principal) -> None:  # noqa: ANN001
        query = parse_qs(self.router.url.query)
        view, status = first(query, "view"), first(query, "status")
        self.view = view if view in dict(VIEW_CHOICES) else "mine"
        self.shipment = first(query, "shipment", 20).upper() if self.view != "mine" else ""
        self.status = status if status in dict(STATUS_CHOICES) else "active"
        self.creating, self.team = False, str(id_or_none(first(query, "team")) or "")
        self._read_address(query)
        self.form_key += 1

    async def _prepare(self, principal) -> None:  # noqa: ANN001
        await self._load_directory(principal)
        self.team = self.team or str(self._my_team or "")

    @page_event("tower")
    async def apply_view(self, principal: Principal, form: dict) -> Any:
        view, status = str(form.get("view", "mine")), str(form.get("status", "active"))
        self.view = view if view in dict(VIEW_CHOICES) else "mine"
        self.status = status if status in dict(STATUS_CHOICES) else "active"
        self.team = str(id_or_none(form.get("team")) or "")
        self.page, self.selected, self.notice, self.shipment = 1, "", "", ""
        await self._fetch(principal)
        return self._show_address()

    def _assignee(self, value: object) -> int | None:
        return self._me if str(value) == "me" else id_or_none(value)

    @page_event("tower")
    async def create(self, principal: Principal, form: dict) -> None:
        try:
            due = parse_local(str(form.get("due_at", "")), self._tz)
        except ValueError:
            self.field_errors = {"due_at": f"Give the due time as a date and time, or leave it empty. {SAVED_NOTHING}"}
            return
        try:
            data = parse(TaskInput, {
                "title": str(form.get("title", "")), "detail": str(form.get("detail", "")) or None,
                "shipment_reference": str(form.get("shipment_reference", "")).strip() or None,
                "assignee_id": self._assignee(form.get("assignee_id")), "team_id": id_or_none(form.get("team_id")),
                "due_at": due})
        except FormInvalid as exc:
            self.notice = ""
            self.field_errors, self.error = placed(exc, NEW_TASK_FIELDS, TASK_WORDS)
            return
        try:
            made = await run_db(svc.create_task, principal, data)
        except ServiceError as exc:
            self.notice = ""
            self.field_errors, self.error = refusal(exc, "shipment_reference" if exc.status_code == 404 else "title")
            return
        self.creating, self.field_errors, self.form_key = False, {}, self.form_key + 1
        await self._decided(principal, f"Task #{made.id} created for {made.assignee_name or 'the team'}.")

    async def _change(self, principal: Principal, call: Callable[..., Any], task_id: str, done: str,
                      **kwargs: Any) -> None:
        key = str(task_id)[:12]
        if key not in self._versions:
            self.error = f"Task #{key} is not on this page any more. Reload the list. {SAVED_NOTHING}"
            return
        try:
            await run_db(call, principal, int(key), expected_version=self._versions[key], **kwargs)
        except ServiceError as exc:
            self._refusal(exc)
            await self._fetch(principal)
            return
        await self._decided(principal, done)

    @page_event("tower")
    async def mark_done(self, principal: Principal, task_id: str) -> None:
        await self._change(principal, svc.complete_task, task_id, f"Task #{str(task_id)[:12]} marked done.")

    @page_event("tower")
    async def change_status(self, principal: Principal, form: dict) -> None:
        status = str(form.get("status", ""))
        await self._change(principal, svc.set_status, self.selected, f"Task #{self.selected} is now "
                           f"{STATUS_LABELS.get(status, status).lower()}.", status=status)

    @page_event("tower")
    async def reassign(self, principal: Principal, form: dict) -> None:
        try:
            due = parse_local(str(form.get("due_at", "")), self._tz)
        except ValueError:
            self.field_errors = {"reason": f"Give the due time as a date and time, or leave it empty. {SAVED_NOTHING}"}
            return
        await self._change(principal, svc.assign_task, self.selected, f"Task #{self.selected} handed on.",
                           assignee_id=self._assignee(form.get("assignee_id")),
                           team_id=id_or_none(form.get("team_id")), due_at=due)


S = TowerTasksState


def _view_form() -> rx.Component:
    return stacked_form(
        responsive_grid(
            native_select("Show", "view", VIEW_CHOICES, value=S.view, select_id="task-view"),
            native_select("Team", "team", [("", "My team")], value=S.team, select_id="task-team-filter",
                          more=S.teams),
            native_select("Status", "status", STATUS_CHOICES, value=S.status, select_id="task-status-filter"),
            rx.box(primary_button("Show tasks", type="submit"), align_self="end"),
            narrow=1, middle=2, wide=4,
            spacing="3",
        ),
        on_submit=S.apply_view, label="Choose tasks", key=S.form_key, role="search",
    )


def _new_form() -> rx.Component:
    errors = S.field_errors
    return rx.card(
        stacked_form(
            rx.heading("New task", size="5", as_="h2"),
            checked_input("Title", "title", errors, input_id="new-task-title", max_length=200),
            responsive_grid(
                checked_input("Shipment reference (optional)", "shipment_reference", errors,
                              input_id="new-task-shipment", placeholder="SH0000123", max_length=20),
                native_select("Assignee", "assignee_id", [("me", "Me"), ("", "Nobody yet (the team)")],
                              select_id="new-task-assignee", more=S.people),
                native_select("Team", "team_id", [("", "No team")], select_id="new-task-team", more=S.teams),
                checked_input("Due (your time zone, optional)", "due_at", errors, input_id="new-task-due",
                              type="datetime-local"),
                narrow=1, middle=2, wide=4,
                spacing="3",
            ),
            text_field("Details (optional)", "detail", "new-task-detail", errors, rows="2"),
            rx.hstack(primary_button("Create task", type="submit"),
                      secondary_button("Cancel", type="button", on_click=S.toggle_new), spacing="3"),
            on_submit=S.create, label="New task",
        ),
        width="100%",
        data_testid="new-task",
    )


def _panel() -> rx.Component:
    return decision_panel(
        S, "Change task #", "task-panel",
        responsive_grid(
            stacked_form(
                native_select("New status", "status", TASK_STATUSES, select_id="task-new-status"),
                primary_button("Save status", type="submit"),
                on_submit=S.change_status, label="Change status",
            ),
            stacked_form(
                native_select("Hand to", "assignee_id", [("me", "Me"), ("", "Nobody (the team)")],
                              select_id="task-hand-to", more=S.people),
                native_select("Team", "team_id", [("", "No team")], select_id="task-hand-team", more=S.teams),
                checked_input("New due time (optional)", "due_at", S.field_errors, key="reason",
                              input_id="task-new-due", type="datetime-local"),
                submit_or_close(S, "Hand on"),
                on_submit=S.reassign, label="Hand the task on",
            ),
            wide=2,
            spacing="5",
        ),
    )


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.text("#", r.id, " ", r.title, weight="bold"),
            rx.cond(r.detail != "", rx.text(r.detail, size="1", color=MUTED_TEXT), rx.fragment()),
            rx.cond(r.overdue == "yes", rx.badge("Overdue", color_scheme="red", variant="soft", high_contrast=True),
                    rx.fragment()),
        ),
        rx.table.cell(
            rx.cond(r.shipment_href != "", rx.link(r.reference, href=r.shipment_href), rx.fragment()),
            rx.cond(r.exception_href != "",
                    rx.link("Exception #" + r.exception, href=r.exception_href, size="1", display="block"),
                    rx.fragment()),
        ),
        rx.table.cell(r.assignee, rx.text(r.team, size="1", color=MUTED_TEXT)),
        rx.table.cell(sla_cell(r)),
        rx.table.cell(r.status_label),
        rx.table.cell(rx.hstack(
            rx.cond(r.active == "yes",
                    secondary_button("Mark done", size="1", on_click=S.mark_done(r.id),
                                     aria_label="Mark task #" + r.id + " done"),
                    rx.fragment()),
            secondary_button("Change", size="1", on_click=S.select_row(r.id),
                             aria_label="Change task #" + r.id),
            spacing="2",
            wrap="wrap",
        )),
        background_color=rx.cond(r.overdue == "yes", OVERDUE_BACKGROUND, "transparent"),
        data_testid="task-row",
    )


@area_page("tower", routes.TOWER_TASKS, "Tasks", TowerTasksState.load)
def tower_tasks() -> rx.Component:
    return queue_page(
        S, "Tasks",
        rx.text(S.total, rx.match(S.view, ("mine", " tasks in your queue (yours and your team's untaken ones)"),
                                  ("team", " tasks of the team"), " tasks"),
                rx.cond(S.shipment != "", " of shipment " + S.shipment, ""),
                "; overdue first unless you sort by a column. Times are in your time zone.", color=MUTED_TEXT,
                data_testid="task-count"),
        _panel(),
        queue_table(S, "Tasks", HEADERS, _row, "No tasks here."),
        rx.cond(S.creating, _new_form(), rx.box(primary_button("New task", on_click=S.toggle_new, type="button"))),
        _view_form(),
    )
