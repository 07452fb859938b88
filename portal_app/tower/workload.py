"""Tower: workload per team, branch or person (``workload.workload``: shipments in progress, open exceptions by
severity, SLA breaches, overdue tasks, counted in the database), each figure linking to the filtered exception
queue where there is one; and moving one person's open work to another (``workload.reassign``, ops managers and
admins: all of it moves or nothing does)."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.layout import area_page
from portal_app.components.ops import SEVERITY_LABELS, StaffDirectoryMixin, id_or_none, refusal
from portal_app.components.ui import (
    ACCENT,
    DANGER,
    MUTED_TEXT,
    NATIVE_SELECT_STYLE,
    error_callout,
    info_callout,
    primary_button,
    responsive_grid,
    secondary_button,
    table_caption,
)
from portal_app.components.work_queue import LABEL_STYLE, field_error, native_select, stacked_form
from portal_app.services import workload as svc
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

BY_CHOICES = [("team", "Team"), ("branch", "Branch"), ("person", "Person")]
WHAT_LABELS = {"exceptions": "Open exceptions", "tasks": "Open tasks", "shipments": "Active shipments"}


def queue_link(by: str, key: int | None) -> str:
    """The exception queue filtered to this row, where the queue has such a filter (not for branches)."""
    if by == "person":
        return f"{routes.TOWER_EXCEPTIONS}?owner={key if key is not None else 'none'}"
    if by == "team" and key is not None:
        return f"{routes.TOWER_EXCEPTIONS}?team={key}"
    return ""


@dataclass(frozen=True)
class WorkloadLine:
    """One team, branch or person: its counts as the table shows them, and where each links."""

    id: str
    name: str
    shipments: str
    open: str
    critical: str
    high: str
    medium: str
    low: str
    breaches: str
    overdue: str
    href: str
    breached_href: str
    person: str


def workload_row_view(r: svc.WorkloadRow, by: str) -> WorkloadLine:
    sev = r.exceptions_by_severity
    return WorkloadLine(
        id=str(r.id) if r.id is not None else "",
        name=r.name,
        shipments=str(r.shipments_in_progress),
        open=str(r.open_exceptions),
        **{s: str(sev.get(s, 0)) for s in SEVERITY_LABELS},
        breaches=str(r.sla_breaches),
        overdue=str(r.overdue_tasks),
        href=queue_link(by, r.id),
        breached_href=(queue_link(by, r.id) + "&sla=breached") if queue_link(by, r.id) else "",
        person="yes" if by == "person" and r.id is not None else "",
    )


class TowerWorkloadState(StaffDirectoryMixin, SessionState):
    by: str = "team"
    rows: list[WorkloadLine] = []
    move_from: str = ""
    error: str = ""
    notice: str = ""
    field_errors: dict[str, str] = {}
    form_key: int = 0

    async def _fetch(self, principal) -> None:  # noqa: ANN001
        by = self.by
        try:
            found = await run_db(svc.workload, principal, by)
        except ServiceError as exc:
            self.rows, self.error = [], exc.message
            return
        self.rows = [workload_row_view(r, by) for r in found]

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        self.by, self.error, self.notice, self.field_errors, self.move_from = "team", "", "", {}, ""
        await self._load_directory(principal)
        await self._fetch(principal)

    @page_event("tower")
    async def set_by(self, principal: Principal, value: str) -> None:
        self.by = value if value in dict(BY_CHOICES) else "team"
        self.notice = ""
        await self._fetch(principal)

    @page_event("tower")
    async def pick_person(self, principal: Principal, person: str) -> None:
        self.move_from = str(id_or_none(person) or "")
        self.field_errors, self.notice, self.form_key = {}, "", self.form_key + 1

    @page_event("tower")
    async def reassign(self, principal: Principal, form: dict) -> None:
        source, target = id_or_none(form.get("from_user_id")), id_or_none(form.get("to_user_id"))
        what = tuple(w for w in WHAT_LABELS if str(form.get(f"move_{w}", "")) in ("on", "true", w))
        if source is None or target is None:
            self.field_errors = {"move": "Choose whose work to move and who takes it over. Nothing was moved."}
            return
        if not what:
            self.field_errors = {"move": "Tick at least one kind of work to move. Nothing was moved."}
            return
        try:
            result = await run_db(svc.reassign, principal, source, target, what)
        except ServiceError as exc:
            self.notice = ""
            self.field_errors, self.error = refusal(exc, "move")
            return
        self.error, self.field_errors, self.move_from = "", {}, ""
        self.notice = f"{result.message} The new owner was notified."
        self.form_key += 1
        await self._fetch(principal)


S = TowerWorkloadState


def _count(value: rx.Var, href: rx.Var, label: rx.Var, danger: bool = False) -> rx.Component:
    style = {"color": DANGER, "font_weight": "700"} if danger else {}
    text = rx.text(value, as_="span", style=rx.cond(value != "0", style, {}))
    return rx.cond(href != "", rx.link(text, href=href, aria_label=label, color=ACCENT), text)


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(r.name),
        rx.table.cell(r.shipments),
        rx.table.cell(_count(r.open, r.href, "Open exceptions of " + r.name + ": " + r.open)),
        *[rx.table.cell(getattr(r, s)) for s in SEVERITY_LABELS],
        rx.table.cell(_count(r.breaches, r.breached_href, "SLA breaches of " + r.name + ": " + r.breaches,
                             danger=True)),
        rx.table.cell(rx.text(r.overdue, color=rx.cond(r.overdue != "0", DANGER, "inherit"))),
        rx.table.cell(rx.cond(
            (r.person == "yes") & S.can_assign,
            secondary_button("Move work", size="1", on_click=S.pick_person(r.id),
                             aria_label="Move work of " + r.name),
            rx.fragment(),
        )),
    )


def _table() -> rx.Component:
    headers = ["Name", "Shipments in progress", "Open exceptions", *[f"{v} severity" for v in SEVERITY_LABELS.values()],
               "SLA breaches", "Overdue tasks", "Action"]
    return rx.box(
        rx.table.root(
            table_caption("Workload"),
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in headers])),
            rx.table.body(rx.foreach(S.rows, _row)),
            variant="surface",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def _move_form() -> rx.Component:
    return rx.card(
        stacked_form(
            rx.heading("Move a person's work", size="4", as_="h2"),
            rx.text("Their open exceptions, open tasks and active shipments (as ticked) go to the new owner in "
                    "one step: all of it moves, or nothing does. The new owner is notified.", size="2",
                    color=MUTED_TEXT),
            responsive_grid(
                native_select("Move work of", "from_user_id", [("", "Choose a person")], value=S.move_from,
                              select_id="move-from", more=S.people),
                native_select("To", "to_user_id", [("", "Choose a person")], select_id="move-to", more=S.people),
                wide=2,
                spacing="3",
            ),
            rx.el.fieldset(
                rx.el.legend("What to move", style=LABEL_STYLE),
                rx.hstack(
                    *[rx.el.label(rx.el.input(type="checkbox", name=f"move_{w}", id=f"move-{w}",
                                              default_checked=w != "shipments"),
                                  rx.text(text, as_="span", margin_left="6px"), html_for=f"move-{w}",
                                  style={"display": "inline-flex", "align_items": "center"})
                      for w, text in WHAT_LABELS.items()],
                    spacing="5",
                    wrap="wrap",
                ),
                style={"border": "none", "padding": "0", "margin": "0"},
            ),
            field_error(S.field_errors, "move", "move-error"),
            primary_button("Move work", type="submit", aria_describedby="move-error"),
            on_submit=S.reassign, label="Move a person's work", key=S.form_key,
        ),
        width="100%",
        data_testid="move-work",
    )


@area_page("tower", routes.TOWER_WORKLOAD, "Workload", TowerWorkloadState.load)
def tower_workload() -> rx.Component:
    return rx.vstack(
        rx.heading("Workload", size="7", as_="h1"),
        rx.text("Open work now, counted live. Figures with a link open the exception queue filtered to that row.",
                color=MUTED_TEXT),
        rx.box(
            rx.el.label("Group by", html_for="workload-by", style=LABEL_STYLE),
            rx.el.select(
                *[rx.el.option(text, value=v) for v, text in BY_CHOICES],
                id="workload-by", value=S.by, on_change=S.set_by,
                style={**NATIVE_SELECT_STYLE, "width": "auto"},
            ),
        ),
        rx.cond(S.notice != "", info_callout(S.notice, data_testid="workload-notice"), rx.fragment()),
        rx.cond(S.error != "", error_callout(S.error, data_testid="workload-error"), rx.fragment()),
        _table(),
        rx.cond(S.can_assign, _move_form(),
                rx.text("Ops managers and admins move work between people.", color=MUTED_TEXT, size="2")),
        spacing="4",
        width="100%",
    )
