"""The board's bulk actions: pick shipments (or take the whole filter), then assign an owner or team or post one
customer-visible update; or change every shipment of one vessel voyage or flight (departure, arrival, a new ETA).

The work is done by ``services/bulk.py``: each shipment in its own savepoint, so the report lists which shipments
changed and which did not, and why. The selection is a list of references kept in state (at most a bulk
action's limit); "the whole filter" is resolved on the server from the board's current filters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.form_refusal import placed
from portal_app.components.ops import id_or_none, parse_local
from portal_app.components.ui import (
    DANGER,
    MUTED_TEXT,
    data_table,
    error_callout,
    info_callout,
    primary_button,
    responsive_grid,
    secondary_button,
)
from portal_app.components.work_queue import native_select, stacked_form, text_field
from portal_app.services import bulk, words
from portal_app.services import workspace as ws
from portal_app.services.errors import FormInvalid, ServiceError
from portal_app.services.inputs import parse
from portal_app.ui.session import page_event, run_db

KEEP = "keep"
SCOPE_CHOICES = [("selected", "The shipments I ticked"), ("filter", "Every shipment matching the filters")]
VOYAGE_ACTIONS = [("departure", "Record the departure"), ("arrival", "Record the arrival"),
                  ("eta", "Set a new ETA")]
# The voyage form's fields in its own words, for a value the voyage inputs (bulk.VoyageEta, VoyageMilestone) refuse.
VOYAGE_WORDS = {"vessel": "Vessel", "voyage": "Voyage", "flight": "Flight", "flight_date": "Flight date",
                "new_eta": "Time", "actual_at": "Time", "location": "Place", "reason_code": "ETA reason",
                "reason_text": "Note to customers", "milestone": "What to record"}
# What the report line names, so two reports in a row read differently.
ACTION_LABELS = {"assign": "Owner and team", "customer_update": "Customer update", "milestone": "Milestone",
                 "eta": "New ETA"}
# The template step a voyage action records: the ocean steps for a vessel voyage, the air steps for a flight.
VOYAGE_STEPS = {("departure", False): ws.DEPARTURE_STEP["ocean_fcl"], ("arrival", False): ws.ARRIVAL_STEP["ocean_fcl"],
                ("departure", True): ws.DEPARTURE_STEP["air"], ("arrival", True): ws.ARRIVAL_STEP["air"]}


@dataclass(frozen=True)
class BulkFailureLine:
    """A shipment the last bulk action did not change, and why."""

    reference: str
    reason: str


class BoardBulkMixin(rx.State, mixin=True):
    """Selection and bulk actions for the board. Needs ``rows``, ``params``, ``_filters_from``, ``_fetch``,
    and ``_tz`` from the page's other bases."""

    selected: list[str] = []
    bulk_scope: str = "selected"
    bulk_message: str = ""
    bulk_failures: list[BulkFailureLine] = []
    bulk_error: str = ""
    bulk_busy: bool = False
    bulk_form_key: int = 0
    voyage_fields: dict[str, str] = {}  # what the voyage form names so far (vessel, voyage, flight, flight_date)
    voyage_preview: str = ""  # what a change would touch, in words, before it is applied
    voyage_preview_refs: list[str] = []

    @rx.var
    def page_all_selected(self) -> bool:
        refs = [r.reference for r in self.rows]
        return bool(refs) and all(r in self.selected for r in refs)

    def toggle_row(self, reference: str, checked: bool) -> None:
        reference = str(reference)[:40]
        if checked and reference not in self.selected and len(self.selected) < bulk.MAX_BULK:
            self.selected = [*self.selected, reference]
        elif not checked:
            self.selected = [r for r in self.selected if r != reference]

    def toggle_page(self, checked: bool) -> None:
        page = [r.reference for r in self.rows]
        if checked:
            self.selected = (self.selected + [r for r in page if r not in self.selected])[: bulk.MAX_BULK]
        else:
            self.selected = [r for r in self.selected if r not in page]

    def clear_selection(self) -> None:
        self.selected = []

    def set_bulk_scope(self, value: str) -> None:
        self.bulk_scope = value if value in dict(SCOPE_CHOICES) else "selected"

    def _selection(self, principal: Principal) -> bulk.Selection:
        if self.bulk_scope == "filter":
            return bulk.Selection(filters=self._filters_from(self.params, principal))
        return bulk.Selection(references=tuple(self.selected))

    async def _run_bulk(self, principal: Principal, action: Callable[..., bulk.BulkReport], *args: Any) -> None:
        self.bulk_busy = True
        try:
            report: bulk.BulkReport = await run_db(action, principal, *args)
        except ServiceError as exc:  # shown in the bulk report, not above the board
            self.bulk_error, self.bulk_message, self.bulk_failures = exc.message, "", []
        else:
            self.bulk_error = ""
            self.bulk_message = f"{ACTION_LABELS.get(report.action, report.action)}: {report.message}"
            self.bulk_failures = [BulkFailureLine(reference=f.reference, reason=f.reason) for f in report.failed]
            self.bulk_form_key += 1
            await self._fetch(principal)
        finally:
            self.bulk_busy = False

    @page_event()
    async def bulk_assign(self, principal: Principal, form: dict) -> None:
        changes: dict[str, object] = {}
        for field in ("owner_id", "team_id"):
            value = str(form.get(field, KEEP))
            if value != KEEP:
                changes[field] = id_or_none(value)
        if not changes:
            self.bulk_error = "Choose a new owner or team (or both). Nothing was changed."
            return
        await self._run_bulk(principal, bulk.bulk_assign, self._selection(principal), changes)

    @page_event()
    async def bulk_update(self, principal: Principal, form: dict) -> None:
        await self._run_bulk(principal, bulk.bulk_customer_update, self._selection(principal),
                             str(form.get("body", "")))

    @page_event()
    async def preview_voyage_field(self, principal: Principal, name: str, value: str) -> None:
        """A voyage field was filled in: once it names a voyage or a flight, show what a change would touch."""
        if name not in ("vessel", "voyage", "flight", "flight_date"):
            return
        self.voyage_fields = {**self.voyage_fields, name: str(value or "").strip()[:80]}
        f = self.voyage_fields
        named = (f.get("vessel") and f.get("voyage")) or (f.get("flight") and f.get("flight_date"))
        if not named:
            self.voyage_preview, self.voyage_preview_refs = "", []
            return
        flight = f.get("flight") or None
        try:
            voyage = parse(bulk.Voyage, {"vessel": f.get("vessel") or None, "voyage": f.get("voyage") or None,
                                         "flight": flight, "flight_date": f.get("flight_date") if flight else None})
            found = await run_db(bulk.preview_voyage, principal, voyage)
        except ServiceError as exc:  # a voyage nobody is on, or a value the form refuses: said where the list goes
            self.voyage_preview, self.voyage_preview_refs = exc.message, []
            return
        self.voyage_preview = preview_words(found)
        self.voyage_preview_refs = found.references + ([f"and {found.total - len(found.references)} more"]
                                                       if found.total > len(found.references) else [])

    @page_event()
    async def voyage_action(self, principal: Principal, form: dict) -> None:
        try:
            when = parse_local(str(form.get("at", "")), self._tz)
        except ValueError:
            self.bulk_error = "Give dates and times as the date pickers offer them. Nothing was changed."
            return
        if when is None:
            self.bulk_error = "Give the time (the departure, the arrival or the new ETA). Nothing was changed."
            return
        flight = str(form.get("flight", "")).strip()
        voyage = {"vessel": str(form.get("vessel", "")).strip() or None,
                  "voyage": str(form.get("voyage", "")).strip() or None, "flight": flight or None,
                  "flight_date": (str(form.get("flight_date", "")).strip() or None) if flight else None}
        action = str(form.get("action", ""))
        try:
            if action == "eta":
                eta = parse(bulk.VoyageEta, {**voyage, "new_eta": when, "reason_code": str(form.get("reason_code", "")),
                                             "reason_text": str(form.get("reason_text", "")) or None})
                await self._run_bulk(principal, bulk.bulk_eta, eta, eta.new_eta, eta.reason_code, eta.reason_text)
                return
            code = VOYAGE_STEPS.get((action, bool(flight)))
            if code is None:
                self.bulk_error = ("Choose what to record: the departure, the arrival or a new ETA. Nothing was "
                                   "changed.")
                return
            place = str(form.get("location", "")).strip().upper()
            step = parse(bulk.VoyageMilestone, {**voyage, "milestone": code, "actual_at": when,
                                                **({"location": place} if place else {})})
        except FormInvalid as exc:  # said in the bulk report, naming each field as the form labels it
            self.bulk_message, self.bulk_failures = "", []
            self.bulk_error = placed(exc, {}, VOYAGE_WORDS, nothing=bulk.NOTHING_CHANGED)[1]
            return
        await self._run_bulk(principal, bulk.bulk_milestone, step, step.milestone, step.changes())


def select_all_box(state: type[BoardBulkMixin]) -> rx.Component:
    return rx.checkbox(checked=state.page_all_selected, on_change=state.toggle_page,
                       aria_label="Select every shipment on this page")


def select_row_box(state: type[BoardBulkMixin], reference: rx.Var) -> rx.Component:
    return rx.checkbox(checked=state.selected.contains(reference),
                       on_change=lambda checked: state.toggle_row(reference, checked),
                       aria_label="Select shipment " + reference)


def bulk_report(state: type[BoardBulkMixin]) -> rx.Component:
    """The last bulk action's outcome: what changed, and each shipment that did not with the reason."""
    return rx.fragment(
        rx.cond(state.bulk_error != "", error_callout(state.bulk_error, data_testid="bulk-error"), rx.fragment()),
        rx.cond(state.bulk_message != "", info_callout(state.bulk_message, data_testid="bulk-report"),
                rx.fragment()),
        rx.cond(
            state.bulk_failures.length() > 0,
            data_table("Shipments not changed", ("Shipment", "Why not"), state.bulk_failures, lambda f: rx.table.row(
                rx.table.row_header_cell(f.reference), rx.table.cell(rx.text(f.reason, color=DANGER)))),
            rx.fragment(),
        ),
    )


def _scope_choice(state: type[BoardBulkMixin], value: str, text: rx.Component) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="radio", name="bulk-scope", value=value, checked=state.bulk_scope == value,
                    on_change=lambda _: state.set_bulk_scope(value), style={"accent_color": "#0b5cad"}),
        text,
        style={"display": "flex", "gap": "6px", "align_items": "center"},
    )


def _scope(state: type[BoardBulkMixin]) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Apply to", style={"font_weight": "600"}),
        # Plain radio inputs: a Radix radio group would add its script to every page's download.
        rx.hstack(
            _scope_choice(state, "selected", rx.text("The shipments I ticked (", state.selected.length(), ")")),
            _scope_choice(state, "filter", rx.text("Every shipment matching the filters (", state.total, ")")),
            spacing="4",
            wrap="wrap",
        ),
        rx.hstack(
            rx.text(f"At most {bulk.MAX_BULK} shipments at once. Each is changed on its own: one refusal never "
                    "stops the others.", size="1", color=MUTED_TEXT),
            rx.cond(state.selected.length() > 0,
                    rx.button("Clear the ticks", type="button", variant="ghost", size="1",
                              on_click=state.clear_selection),
                    rx.fragment()),
            align="center",
        ),
        style={"border": "none", "padding": "0", "margin": "0"},
    )


def bulk_panel(state: type[BoardBulkMixin]) -> rx.Component:
    """The selection's actions: owner and team, and one customer-visible update."""
    return rx.card(
        rx.vstack(
            rx.heading("Bulk actions", size="4", as_="h2"),
            _scope(state),
            responsive_grid(
                stacked_form(
                    responsive_grid(
                        native_select("New owner", "owner_id", [(KEEP, "Keep as is"), ("", "Nobody")],
                                      select_id="bulk-owner", more=state.people),
                        native_select("New team", "team_id", [(KEEP, "Keep as is"), ("", "No team")],
                                      select_id="bulk-team", more=state.teams),
                        wide=2, spacing="3",
                    ),
                    primary_button("Assign", type="submit", disabled=state.bulk_busy | ~state.can_assign),
                    rx.cond(state.can_assign, rx.fragment(),
                            rx.text("Ops managers assign shipments.", size="1", color=MUTED_TEXT)),
                    on_submit=state.bulk_assign, label="Assign owner or team", key=state.bulk_form_key,
                ),
                stacked_form(
                    text_field("Customer-visible update", "body", "bulk-update-body",
                               hint="Every customer of these shipments reads it on the shipment page.", rows="2"),
                    primary_button("Post the update", type="submit", disabled=state.bulk_busy),
                    on_submit=state.bulk_update, label="Post one customer update", key=state.bulk_form_key,
                ),
                wide=2,
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="bulk-actions",
    )


def preview_words(found: bulk.VoyagePreview) -> str:
    who = ", ".join(f"{name} {count}" for name, count in found.customers)
    return (f"This change will reach {words.count(found.total, 'open shipment')} ({who}). "
            "Check the list, then apply.")


def voyage_panel(state: type[BoardBulkMixin]) -> rx.Component:
    """Every open shipment on one vessel voyage or flight: record its departure or arrival, or a new ETA."""
    def field(label: str, name: str, field_id: str, *, preview: bool = False, **props: Any) -> rx.Component:
        if preview:  # names the voyage: leaving the field shows what a change would touch
            props["on_blur"] = lambda value: state.preview_voyage_field(name, value)
        return rx.box(
            rx.el.label(label, html_for=field_id, style={"display": "block", "font_weight": "600"}),
            rx.input(id=field_id, name=name, width="100%", **props),
        )

    return rx.card(
        rx.vstack(
            rx.heading("One vessel voyage or flight", size="4", as_="h2"),
            rx.text("Name the vessel and voyage, or the flight and its date: the change reaches every open shipment "
                    "on it.", size="2", color=MUTED_TEXT),
            stacked_form(
                responsive_grid(
                    field("Vessel", "vessel", "voyage-vessel", preview=True, placeholder="e.g. MAERSK ESSEN",
                          max_length=80),
                    field("Voyage", "voyage", "voyage-number", preview=True, placeholder="e.g. 447W", max_length=20),
                    field("Flight", "flight", "voyage-flight", preview=True, placeholder="e.g. LH8400", max_length=12),
                    field("Flight date", "flight_date", "voyage-flight-date", preview=True, type="date"),
                    wide=4, middle=2, spacing="3",
                ),
                responsive_grid(
                    native_select("What to record", "action", VOYAGE_ACTIONS, select_id="voyage-action"),
                    field("Time (your time zone)", "at", "voyage-at", type="datetime-local"),
                    field("Place (UN/LOCODE or airport)", "location", "voyage-location", max_length=5),
                    native_select("ETA reason", "reason_code", [("", "Pick a reason for a new ETA"), *ws.eta_reasons()],
                                  select_id="voyage-reason"),
                    wide=4, middle=2, spacing="3",
                ),
                field("Note to customers about the ETA (optional)", "reason_text", "voyage-reason-text",
                      max_length=400),
                rx.cond(state.voyage_preview != "",
                        rx.box(rx.text(state.voyage_preview, weight="medium", role="status"),
                               rx.text(rx.foreach(state.voyage_preview_refs, lambda r: rx.text.span(r, " ")),
                                       size="1", color=MUTED_TEXT),
                               data_testid="voyage-preview"),
                        rx.fragment()),
                rx.hstack(primary_button("Apply to the voyage or flight", type="submit", disabled=state.bulk_busy),
                          secondary_button("Clear", type="reset")),
                on_submit=state.voyage_action, label="Change one voyage or flight", key=state.bulk_form_key,
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="voyage-actions",
    )

