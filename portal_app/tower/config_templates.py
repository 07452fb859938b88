"""Tower: configuration, milestone templates and required documents. A mode's template is edited as a table of
steps (position, code, name, origin or destination, expected days, customer-visible); saving makes a new version
that bookings use from then on. Required documents per mode and Incoterm are added or switched on and off."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import MODE_LABELS
from portal_app.components.layout import area_page
from portal_app.components.ui import MUTED_TEXT, primary_button, responsive_grid, secondary_button, table_caption
from portal_app.components.work_queue import checked_input, native_select, stacked_form
from portal_app.services.config import documents, templates
from portal_app.services.documents import DOCUMENT_TYPE_NAMES
from portal_app.services.errors import FormInvalid
from portal_app.services.inputs import NOTHING_SAVED, parse
from portal_app.services.trade_codes import INCOTERMS
from portal_app.tower.config_base import ConfigMixin, check, config_page, form_bool, form_text
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

ROUTE = routes.TOWER_CONFIG_TEMPLATES
MODE_CHOICES = [(m, MODE_LABELS.get(m, m)) for m in templates.MODES]
ANCHOR_CHOICES = [("origin", "Origin (days from ready date)"), ("destination", "Destination (days from arrival)")]
INCOTERM_CHOICES = [("", "Any Incoterm")] + [(c, f"{c} – {t.name}") for c, t in INCOTERMS.items()]
DOC_CHOICES = list(DOCUMENT_TYPE_NAMES.items())
PROVIDER_CHOICES = [("customer", "Customer"), ("forwarder", "Forwarder")]
INPUT_STYLE = {"width": "100%", "padding": "4px 6px", "border": "1px solid var(--portal-field-border)",
               "border_radius": "6px"}


@dataclass(frozen=True)
class StepRow:
    """One milestone step of the template's editor; ``n`` numbers its fields in the form."""

    n: str
    code: str
    name: str
    anchor: str
    offset: str
    visible: str


@dataclass(frozen=True)
class RequirementRow:
    """A required document as the page shows and edits it."""

    id: str
    mode: str
    mode_label: str
    incoterm: str
    incoterm_label: str
    doc_type: str
    doc_name: str
    days: str
    provided_by: str
    dg: str
    active: str
    status: str


def step_row(n: int, s: dict) -> StepRow:
    return StepRow(n=str(n), code=s.get("code", ""), name=s.get("name", ""), anchor=s.get("anchor", "origin"),
                   offset=str(s.get("offset_days", 0)), visible="yes" if s.get("customer_visible", True) else "")


STEP_WORDS = {"code": "code", "name": "name", "anchor": "anchor", "offset_days": "expected days",
              "customer_visible": "customer sees it", "event_code": "event code"}  # the editor's column words


def steps_from_form(form: dict[str, Any], numbers: list[str]) -> list[templates.StepInput]:
    """The template's steps from the editor's fields, in the order of their positions; rows marked to remove and
    rows left entirely blank are left out. Each row is read into the API's step (``StepInput``); a value that does
    not fit raises FormInvalid keyed ``steps.<k>.<field>`` by the order sent, as the service keys its own."""
    rows = []
    for n in numbers:
        code, name = form_text(form, f"code_{n}", 60), form_text(form, f"name_{n}", 160)
        if form_bool(form.get(f"remove_{n}")) or (not code and not name):
            continue
        position = form_text(form, f"position_{n}", 6)
        order = int(position) if position.lstrip("-").isdigit() else int(n)
        rows.append((order, int(n), {"code": code, "name": name, "anchor": form_text(form, f"anchor_{n}", 20),
                                     "offset_days": form_text(form, f"offset_{n}", 6),
                                     "customer_visible": form_bool(form.get(f"visible_{n}"))}))
    steps: list[templates.StepInput] = []
    problems: dict[str, str] = {}
    for k, (_o, _n, data) in enumerate(sorted(rows, key=lambda t: (t[0], t[1])), start=1):
        try:
            steps.append(parse(templates.StepInput, data))
        except FormInvalid as exc:
            problems.update({f"steps.{k}.{field}": message for field, message in exc.fields.items()})
    if problems:
        raise FormInvalid(f"The template was not saved. {NOTHING_SAVED}", problems)
    return steps


def in_words(fields: dict[str, str]) -> dict[str, str]:
    """A refused template's problems keyed by what the editor calls each place ("Step 3, expected days"), not by
    the field paths the service and the step input use ("steps.3.offset_days")."""
    out: dict[str, str] = {}
    for path, message in fields.items():
        parts = path.split(".")
        if parts[0] == "steps" and len(parts) == 3 and parts[1].isdigit():
            place = f"Step {parts[1]}, {STEP_WORDS.get(parts[2], 'a value')}"
        else:
            place = {"steps": "Steps", "name": "Template name"}.get(parts[0], "Template")
        out.setdefault(place, message)
    return out


def requirement_row(r: documents.RequirementView) -> RequirementRow:
    return RequirementRow(id=str(r.id), mode=r.mode, mode_label=MODE_LABELS.get(r.mode, r.mode),
                          incoterm=r.incoterm or "", incoterm_label=r.incoterm or "Any", doc_type=r.doc_type,
                          doc_name=r.doc_type_name, days=str(r.due_days_before_departure),
                          provided_by=r.provided_by, dg="yes" if r.dangerous_goods_only else "",
                          active="yes" if r.is_active else "", status="On" if r.is_active else "Off")


def _read(db, principal, mode: str):  # noqa: ANN001, ANN202
    return templates.get_template(db, principal, mode), documents.list_requirements(db, principal)


class ConfigTemplatesState(ConfigMixin, SessionState):
    mode: str = "ocean_fcl"
    template_name: str = ""
    version: int = 0
    steps: list[StepRow] = []
    requirement_rows: list[RequirementRow] = []
    editing_requirement: str = ""
    _next: int = 0

    async def _fetch(self, principal) -> None:  # noqa: ANN001
        template, reqs = await run_db(_read, principal, self.mode)
        self.template_name, self.version = template.name, template.version
        self.steps = [step_row(n, s) for n, s in enumerate(template.steps, start=1)]
        self._next = len(self.steps) + 1
        self.requirement_rows = [requirement_row(r) for r in reqs]
        self.form_key += 1

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        if not self._may_configure(principal):
            return
        self.notice, self.error, self.field_errors = "", "", {}
        await self._fetch(principal)

    @page_event("tower")
    async def choose_mode(self, principal: Principal, form: dict) -> None:
        if not self._may_configure(principal):
            return
        mode = form_text(form, "mode", 12)
        self.mode = mode if mode in templates.MODES else "ocean_fcl"
        self.notice, self.error, self.field_errors = "", "", {}
        await self._fetch(principal)

    @page_event("tower")
    async def add_step(self, principal: Principal) -> None:
        if not self._may_configure(principal):
            return
        if len(self.steps) < templates.MAX_STEPS:
            self.steps = [*self.steps, step_row(self._next, {"anchor": "destination"})]
            self._next += 1

    @page_event("tower")
    async def save_template(self, principal: Principal, form: dict) -> None:
        if not self._may_configure(principal):
            return
        try:
            steps = steps_from_form(form, [s.n for s in self.steps])
        except FormInvalid as exc:
            self._service_refused(exc)
        else:
            saved = await self._save(
                principal, templates.save_template, self.mode, form_text(form, "template_name", 160), steps,
                expected_version=self.version or None,
                done=f"{MODE_LABELS.get(self.mode, self.mode)} template saved; new bookings use it from now on "
                     "(shipments already booked keep their milestones).")
            if saved is not None:
                await self._fetch(principal)
                return
        if self.field_errors:  # said in the editor's words: "Step 3, code", never "steps.3.code"
            self.field_errors = in_words(self.field_errors)
            first = "; ".join(f"{place}: {problem}" for place, problem in list(self.field_errors.items())[:3])
            self.error = f"The template was not saved: {first}. Correct the marked fields. {NOTHING_SAVED}"

    @page_event("tower")
    async def add_requirement(self, principal: Principal, form: dict) -> None:
        if not self._may_configure(principal):
            return
        saved = await self._save(
            principal, documents.save_requirement, mode=form_text(form, "req_mode", 12),
            incoterm=form_text(form, "req_incoterm", 3) or None, doc_type=form_text(form, "req_doc_type", 40),
            due_days_before_departure=form_text(form, "req_days", 4),
            provided_by=form_text(form, "req_provided_by", 12) or "customer",
            dangerous_goods_only=form_bool(form.get("req_dg")), done="Required document added.")
        if saved is not None:
            await self._fetch(principal)

    @page_event("tower")
    async def edit_requirement(self, principal: Principal, row_key: str) -> None:
        if not self._may_configure(principal):
            return
        self.editing_requirement, self.field_errors = str(row_key)[:12], {}

    @page_event("tower")
    async def close_requirement(self, principal: Principal) -> None:
        if not self._may_configure(principal):
            return
        self.editing_requirement, self.field_errors = "", {}

    @page_event("tower")
    async def save_requirement(self, principal: Principal, form: dict) -> None:
        """Change the selected required document (the row names it; the service checks it)."""
        if not self._may_configure(principal):
            return
        row = next((r for r in self.requirement_rows if r.id == self.editing_requirement), None)
        if row is None:
            return
        saved = await self._save(
            principal, documents.save_requirement, requirement_id=int(row.id), mode=row.mode,
            incoterm=form_text(form, "edit_incoterm", 3) or None, doc_type=row.doc_type,
            due_days_before_departure=form_text(form, "edit_days", 4),
            provided_by=form_text(form, "edit_provided_by", 12) or "customer",
            dangerous_goods_only=form_bool(form.get("edit_dg")), is_active=form_bool(form.get("edit_active")),
            done=f"{row.doc_name} for {row.mode_label} saved; checklists and the missing-document rule use "
                 "it from now on.")
        if saved is not None:
            self.editing_requirement = ""
            await self._fetch(principal)

    @page_event("tower")
    async def toggle_requirement(self, principal: Principal, requirement_id: str) -> None:
        if not self._may_configure(principal):
            return
        row = next((r for r in self.requirement_rows if r.id == str(requirement_id)), None)
        if row is None:
            return
        on = row.active != "yes"
        saved = await self._save(
            principal, documents.save_requirement, requirement_id=int(row.id), mode=row.mode,
            incoterm=row.incoterm or None, doc_type=row.doc_type, due_days_before_departure=row.days,
            provided_by=row.provided_by, dangerous_goods_only=row.dg == "yes", is_active=on,
            done=f"{row.doc_name} for {row.mode_label} / {row.incoterm_label} switched "
                 f"{'on' if on else 'off'}.")
        if saved is not None:
            await self._fetch(principal)


S = ConfigTemplatesState


def _cell_input(label: rx.Var, name: rx.Var, value: rx.Var, **props: Any) -> rx.Component:
    return rx.el.input(name=name, default_value=value, aria_label=label, style=INPUT_STYLE, **props)


def _step(s: rx.Var) -> rx.Component:
    n = s.n
    return rx.table.row(
        rx.table.cell(_cell_input("Position of step " + n, "position_" + n, n, type="number", size=3)),
        rx.table.cell(_cell_input("Code of step " + n, "code_" + n, s.code)),
        rx.table.cell(_cell_input("Name of step " + n, "name_" + n, s.name)),
        rx.table.cell(rx.el.select(*[rx.el.option(t, value=v) for v, t in ANCHOR_CHOICES], name="anchor_" + n,
                                   default_value=s.anchor, aria_label="Anchor of step " + n, style=INPUT_STYLE)),
        rx.table.cell(_cell_input("Expected days of step " + n, "offset_" + n, s.offset, type="number")),
        rx.table.cell(rx.el.input(type="checkbox", name="visible_" + n, default_checked=s.visible == "yes",
                                  aria_label="Customer sees step " + n)),
        rx.table.cell(rx.el.input(type="checkbox", name="remove_" + n, aria_label="Remove step " + n)),
    )


def _template_editor() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Milestone template", size="5", as_="h2"),
        rx.el.form(
            rx.hstack(
                native_select("Transport mode", "mode", MODE_CHOICES, value=S.mode, select_id="template-mode"),
                secondary_button("Show template", type="submit"),
                align="end",
            ),
            on_submit=S.choose_mode, aria_label="Choose a transport mode", key=S.mode,
        ),
        rx.text("Version ", S.version, ". Origin steps count days from the cargo's ready date (the last one is the "
                "departure); destination steps count from the planned arrival (the first one is the arrival). Change "
                "a position number to reorder.", color=MUTED_TEXT),
        stacked_form(
            checked_input("Template name", "template_name", S.field_errors, default_value=S.template_name,
                          input_id="template-name"),
            rx.table.root(
                table_caption("Steps of the template"),
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in (
                    "Position", "Code", "Name", "Anchor", "Expected days", "Customer sees it", "Remove")])),
                rx.table.body(rx.foreach(S.steps, _step)),
                variant="surface", width="100%",
            ),
            rx.cond(S.field_errors.length() > 0,
                    rx.box(rx.foreach(S.field_errors, lambda kv: rx.text(kv[0], ": ", kv[1], size="2",
                                                                          color="var(--portal-danger)")),
                           role="alert", data_testid="template-errors"),
                    rx.fragment()),
            rx.hstack(
                primary_button("Save template", type="submit"),
                secondary_button("Add a step", type="button", on_click=S.add_step),
            ),
            on_submit=S.save_template, label="Milestone template", key=S.form_key,
        ),
        spacing="3", width="100%",
    ), width="100%")


def _requirement_editor(r: rx.Var) -> rx.Component:
    return rx.card(stacked_form(
        rx.heading("Edit: ", r.doc_name, " for ", r.mode_label, size="4", as_="h3"),
        responsive_grid(
            native_select("Incoterm", "edit_incoterm", INCOTERM_CHOICES, value=r.incoterm,
                          select_id="edit-req-incoterm", errors=S.field_errors, key="incoterm"),
            checked_input("Due days before departure", "edit_days", S.field_errors, key="due_days_before_departure",
                          input_id="edit-req-days", default_value=r.days, type="number"),
            native_select("Provided by", "edit_provided_by", PROVIDER_CHOICES, value=r.provided_by,
                          select_id="edit-req-provided-by"),
            wide=3,
        ),
        check("Only for dangerous goods", "edit_dg", "edit-req-dg", r.dg == "yes"),
        check("Required (on)", "edit_active", "edit-req-active", r.active == "yes"),
        rx.hstack(primary_button("Save required document", type="submit"),
                  secondary_button("Cancel", type="button", on_click=S.close_requirement)),
        on_submit=S.save_requirement, label="Edit required document", key=S.form_key,
    ), width="100%", data_testid="requirement-editor")


def _requirements() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Required documents", size="5", as_="h2"),
        rx.text("What the customer (or the forwarder) must provide per mode and Incoterm, and how many days before "
                "departure. The customer's checklist and the missing-document rule read this list.", color=MUTED_TEXT),
        rx.table.root(
            table_caption("Required documents"),
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in (
                "Mode", "Incoterm", "Document", "Due (days before departure)", "Provided by", "Dangerous goods only",
                "On", "")])),
            rx.table.body(rx.foreach(S.requirement_rows, lambda r: rx.table.row(
                rx.table.cell(r.mode_label), rx.table.cell(r.incoterm_label), rx.table.cell(r.doc_name),
                rx.table.cell(r.days), rx.table.cell(r.provided_by),
                rx.table.cell(rx.cond(r.dg == "yes", "Yes", "No")), rx.table.cell(r.status),
                rx.table.cell(rx.hstack(
                    secondary_button("Edit", size="1", on_click=S.edit_requirement(r.id),
                                     aria_label="Edit " + r.doc_name + " for " + r.mode_label + " "
                                     + r.incoterm_label),
                    secondary_button(rx.cond(r.active == "yes", "Switch off", "Switch on"), size="1",
                                     on_click=S.toggle_requirement(r.id),
                                     aria_label="Switch " + r.doc_name + " for " + r.mode_label + " "
                                     + r.incoterm_label + rx.cond(r.active == "yes", " off", " on")),
                    spacing="2",
                )),
            ))),
            variant="surface", width="100%",
        ),
        rx.foreach(S.requirement_rows, lambda r: rx.cond(r.id == S.editing_requirement, _requirement_editor(r),
                                                         rx.fragment())),
        stacked_form(
            rx.heading("Add a required document", size="4", as_="h3"),
            responsive_grid(
                native_select("Mode", "req_mode", MODE_CHOICES, select_id="req-mode", errors=S.field_errors,
                              key="mode"),
                native_select("Incoterm", "req_incoterm", INCOTERM_CHOICES, select_id="req-incoterm",
                              errors=S.field_errors, key="incoterm"),
                native_select("Document", "req_doc_type", DOC_CHOICES, select_id="req-doc-type",
                              errors=S.field_errors, key="doc_type"),
                checked_input("Due days before departure", "req_days", S.field_errors,
                              key="due_days_before_departure", input_id="req-days", default_value="3", type="number"),
                native_select("Provided by", "req_provided_by", PROVIDER_CHOICES, select_id="req-provided-by"),
                wide=3,
            ),
            check("Only for dangerous goods", "req_dg", "req-dg"),
            primary_button("Add required document", type="submit"),
            on_submit=S.add_requirement, label="Add a required document", key=S.form_key,
        ),
        spacing="3", width="100%",
    ), width="100%")


@area_page("tower", ROUTE, "Configuration: milestones and documents", S.load)
def config_templates() -> rx.Component:
    return config_page(
        S, ROUTE, "Milestones and documents",
        "Templates give every new booking its milestones; required documents make the customer's checklist.",
        _template_editor(),
        _requirements(),
    )
