"""Tower: configuration, exception rules and SLA policies. Each rule: on or off, the severity it opens with and
its threshold (hours or days, by rule); the engine reads them on its next pass. SLA policies: target hours per
subject (exceptions, customer requests, hand-priced quotes), kind and severity, '*' for any."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.layout import area_page
from portal_app.components.ops import KIND_LABELS
from portal_app.components.ui import MUTED_TEXT, primary_button, responsive_grid, secondary_button, table_caption
from portal_app.components.work_queue import checked_input, native_select, stacked_form
from portal_app.services.config import rules, sla
from portal_app.tower.config_base import ConfigMixin, check, config_page, form_bool, form_text
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

ROUTE = routes.TOWER_CONFIG_RULES
SEVERITY_CHOICES = [(s, s.capitalize()) for s in rules.SEVERITIES]
SUBJECT_CHOICES = [(k, v[0]) for k, v in sla.SUBJECTS.items()]


@dataclass(frozen=True)
class RuleRow:
    """An exception rule as the page shows and edits it."""

    kind: str
    label: str
    name: str
    active: str
    status: str
    severity: str
    threshold: str
    value: str
    unit: str
    meaning: str
    version: str


@dataclass(frozen=True)
class PolicyRow:
    """An SLA policy as the page shows and edits it."""

    id: str
    subject: str
    subject_label: str
    kind: str
    severity: str
    first: str
    resolution: str
    active: str
    status: str


def rule_row(r: rules.RuleView) -> RuleRow:
    value = r.threshold_hours if r.unit == "hours" else r.threshold_days if r.unit == "days" else None
    shown = "—" if r.unit is None else (f"{value} {r.unit}" if value is not None else
                                        f"not set (uses {r.default_threshold} {r.unit})"
                                        if r.default_threshold is not None else "not set (off)")
    return RuleRow(kind=r.kind, label=KIND_LABELS.get(r.kind, r.kind), name=r.name,
                   active="yes" if r.is_active else "", status="On" if r.is_active else "Off", severity=r.severity,
                   threshold=shown, value="" if value is None else str(value), unit=r.unit or "", meaning=r.meaning,
                   version=str(r.version))


def policy_row(p: sla.PolicyView) -> PolicyRow:
    return PolicyRow(id=str(p.id), subject=p.subject,
                     subject_label=sla.SUBJECTS[p.subject][0] if p.subject in sla.SUBJECTS else p.subject,
                     kind=p.kind, severity=p.severity,
                     first="" if p.first_response_hours is None else str(p.first_response_hours),
                     resolution=str(p.resolution_hours), active="yes" if p.is_active else "",
                     status="On" if p.is_active else "Off")


def _rules_and_policies(db, principal):  # noqa: ANN001, ANN202
    return rules.list_rules(db, principal), sla.list_policies(db, principal)


class ConfigRulesState(ConfigMixin, SessionState):
    rule_rows: list[RuleRow] = []
    policy_rows: list[PolicyRow] = []
    editing_rule: str = ""
    editing_policy: str = ""

    async def _read(self, principal) -> None:  # noqa: ANN001
        found, policies = await run_db(_rules_and_policies, principal)
        self.rule_rows = [rule_row(r) for r in found]
        self.policy_rows = [policy_row(p) for p in policies]

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        if not self._may_configure(principal):
            return
        self.notice, self.error, self.field_errors, self.editing_rule, self.editing_policy = "", "", {}, "", ""
        await self._read(principal)

    @page_event("tower")
    async def edit_rule(self, principal: Principal, kind: str) -> None:
        if not self._may_configure(principal):
            return
        self.editing_rule, self.editing_policy, self.field_errors = str(kind)[:30], "", {}

    @page_event("tower")
    async def edit_policy(self, principal: Principal, policy_id: str) -> None:
        if not self._may_configure(principal):
            return
        self.editing_policy, self.editing_rule, self.field_errors = str(policy_id)[:12], "", {}

    @page_event("tower")
    async def close(self, principal: Principal) -> None:
        if not self._may_configure(principal):
            return
        self.editing_rule, self.editing_policy, self.field_errors = "", "", {}

    @page_event("tower")
    async def save_rule(self, principal: Principal, form: dict) -> None:
        if not self._may_configure(principal):
            return
        row = next((r for r in self.rule_rows if r.kind == self.editing_rule), None)
        if row is None:
            return
        saved = await self._save(principal, rules.update_rule, row.kind, is_active=form_bool(form.get("is_active")),
                                 severity=form_text(form, "severity", 12), threshold=form_text(form, "threshold", 8),
                                 expected_version=int(row.version),
                                 done=f"Rule {row.label} saved; the next evaluation uses it.")
        if saved is not None:
            self.editing_rule = ""
            await self._read(principal)

    @page_event("tower")
    async def save_policy(self, principal: Principal, form: dict) -> None:
        if not self._may_configure(principal):
            return
        policy_id = int(self.editing_policy) if self.editing_policy.isdigit() else None
        subject, kind, severity = (form_text(form, k, 30) for k in ("subject", "kind", "severity"))
        saved = await self._save(principal, sla.save_policy, subject=subject, kind=kind or "*",
                                 severity=severity or "*", resolution_hours=form_text(form, "resolution_hours", 8),
                                 first_response_hours=form_text(form, "first_response_hours", 8) or None,
                                 is_active=form_bool(form.get("is_active")), policy_id=policy_id,
                                 done=f"SLA policy {subject} / {kind or '*'} / {severity or '*'} saved; it applies "
                                      "to what is opened from now on.")
        if saved is not None:
            self.editing_policy = ""
            await self._read(principal)


S = ConfigRulesState


def _rule_editor() -> rx.Component:
    return rx.foreach(S.rule_rows, lambda r: rx.cond(
        r.kind == S.editing_rule,
        rx.card(stacked_form(
            rx.heading("Edit rule: ", r.label, size="4", as_="h3"),
            rx.text(r.meaning, color=MUTED_TEXT),
            check("Rule is on", "is_active", "rule-active", r.active == "yes"),
            native_select("Severity of new exceptions", "severity", SEVERITY_CHOICES, value=r.severity,
                          select_id="rule-severity", errors=S.field_errors),
            rx.cond(r.unit != "",
                    checked_input(rx.cond(r.unit == "hours", "Threshold in hours", "Threshold in days"),
                                  "threshold", S.field_errors, default_value=r.value, input_id="rule-threshold",
                                  type="number"),
                    rx.fragment()),
            rx.hstack(primary_button("Save rule", type="submit"),
                      secondary_button("Cancel", type="button", on_click=S.close)),
            on_submit=S.save_rule, label="Edit rule", key=S.form_key,
        ), width="100%", data_testid="rule-editor"),
        rx.fragment(),
    ))


def _rules_table() -> rx.Component:
    return rx.table.root(
        table_caption("Exception rules"),
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in
                                       ("Rule", "On", "Severity", "Threshold", "")])),
        rx.table.body(rx.foreach(S.rule_rows, lambda r: rx.table.row(
            rx.table.row_header_cell(rx.vstack(rx.text(r.label, weight="bold"), rx.text(r.name, size="1",
                                                                                            color=MUTED_TEXT),
                                               spacing="0")),
            rx.table.cell(r.status),
            rx.table.cell(r.severity),
            rx.table.cell(r.threshold),
            rx.table.cell(secondary_button("Edit", size="1", aria_label="Edit rule " + r.label,
                                           on_click=S.edit_rule(r.kind))),
        ))),
        variant="surface", width="100%",
    )


def _policy_form(heading: str, test_id: str, row: rx.Var | None) -> rx.Component:
    value = (lambda k, d="": getattr(row, k)) if row is not None else (lambda k, d="": d)
    prefix = "policy-edit" if row is not None else "policy-new"
    return rx.card(stacked_form(
        rx.heading(heading, size="4", as_="h3"),
        responsive_grid(
            native_select("Subject", "subject", SUBJECT_CHOICES, value=value("subject", "exception"),
                          select_id=f"{prefix}-subject", errors=S.field_errors),
            checked_input("Kind ('*' for any)", "kind", S.field_errors, default_value=value("kind", "*"),
                          input_id=f"{prefix}-kind", hint="An exception kind, request category or mode"),
            checked_input("Severity or priority ('*' for any)", "severity", S.field_errors,
                          default_value=value("severity", "*"), input_id=f"{prefix}-severity"),
            checked_input("Resolve within (hours)", "resolution_hours", S.field_errors,
                          default_value=value("resolution", ""), input_id=f"{prefix}-resolution", type="number"),
            checked_input("First response within (hours, optional)", "first_response_hours", S.field_errors,
                          default_value=value("first", ""), input_id=f"{prefix}-first", type="number"),
            wide=3,
        ),
        check("Policy is on", "is_active", f"{prefix}-active", (row.active == "yes") if row is not None else True),
        rx.hstack(primary_button("Save policy", type="submit"),
                  secondary_button("Cancel", type="button", on_click=S.close) if row is not None else rx.fragment()),
        on_submit=S.save_policy, label=heading, key=S.form_key,
    ), width="100%", data_testid=test_id)


def _policies() -> rx.Component:
    return rx.vstack(
        rx.foreach(S.policy_rows, lambda p: rx.cond(p.id == S.editing_policy,
                                                     _policy_form("Edit SLA policy", "policy-editor", p),
                                                     rx.fragment())),
        rx.table.root(
            table_caption("SLA policies"),
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in
                                           ("Subject", "Kind", "Severity", "First response (h)", "Resolve (h)",
                                            "On", "")])),
            rx.table.body(rx.foreach(S.policy_rows, lambda p: rx.table.row(
                rx.table.cell(p.subject_label), rx.table.cell(p.kind), rx.table.cell(p.severity),
                rx.table.cell(p.first), rx.table.cell(p.resolution, data_testid="policy-hours"),
                rx.table.cell(p.status),
                rx.table.cell(secondary_button("Edit", size="1", on_click=S.edit_policy(p.id),
                                               aria_label="Edit SLA policy " + p.subject + " " + p.kind + " "
                                               + p.severity)),
            ))),
            variant="surface", width="100%",
        ),
        rx.cond(S.editing_policy == "", _policy_form("New SLA policy", "policy-new", None), rx.fragment()),
        spacing="3", width="100%",
    )


@area_page("tower", ROUTE, "Configuration: rules and SLAs", S.load)
def config_rules() -> rx.Component:
    return config_page(
        S, ROUTE, "Rules and SLAs",
        "Exception rules decide what the engine opens by itself; SLA policies set the due time of exceptions, "
        "customer requests and hand-priced quotes (most specific match first, '*' for any).",
        rx.heading("Exception rules", size="5", as_="h2"),
        _rule_editor(),
        _rules_table(),
        rx.heading("SLA policies", size="5", as_="h2"),
        _policies(),
    )
