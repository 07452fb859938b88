"""The board's bulk actions: pick shipments (or take the whole filter), then assign an owner or team or post one
customer-visible update; or change every shipment of one vessel voyage or flight (departure, arrival, a new ETA).

The selection's actions sit in a bar that appears, stuck to the bottom of the window, only while a shipment is
ticked ("3 selected", "Clear selection"). Before an action on every shipment matching the filters the bar shows
what it will touch (how many, whose, the first references), as the voyage form does for a voyage. Each action's
result is shown under its own button; a refused form keeps what was typed and is cleared only by a success.

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
from portal_app.components.outcome import outcome
from portal_app.components.ui import (
    DANGER,
    MUTED_TEXT,
    data_table,
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
    bulk_at: str = ""  # where the last result is shown: "bar" (the selection's actions) or "voyage"
    bulk_form_key: int = 0  # the bar's forms: a new key (cleared fields) only after a success
    voyage_form_key: int = 0
    bulk_preview: str = ""  # what an action on every shipment matching the filters would touch, in words
    bulk_preview_refs: list[str] = []
    _preview_params: dict[str, str] = {}  # the filters bulk_preview was read for
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
        self._selection_changed()

    def toggle_page(self, checked: bool) -> None:
        page = [r.reference for r in self.rows]
        if checked:
            self.selected = (self.selected + [r for r in page if r not in self.selected])[: bulk.MAX_BULK]
        else:
            self.selected = [r for r in self.selected if r not in page]
        self._selection_changed()

    def clear_selection(self) -> None:
        self.selected = []
        self._selection_changed()

    def _selection_changed(self) -> None:
        """Nothing ticked: the bar goes, and with it the whole-filter choice and the bar's last result."""
        if self.selected:
            return
        self.bulk_scope, self.bulk_preview, self.bulk_preview_refs, self._preview_params = "selected", "", [], {}
        if self.bulk_at == "bar":
            self.bulk_at, self.bulk_message, self.bulk_error, self.bulk_failures = "", "", "", []

    @page_event()
    async def set_bulk_scope(self, principal: Principal, value: str) -> None:
        self.bulk_scope = value if value in dict(SCOPE_CHOICES) else "selected"
        self._preview_params = {}
        await self._preview_filter(principal)

    async def _preview_filter(self, principal: Principal) -> None:
        """On the whole filter: what an action would touch, read again whenever the filters change."""
        if self.bulk_scope != "filter":
            self.bulk_preview, self.bulk_preview_refs, self._preview_params = "", [], {}
            return
        if self._preview_params == self.params and self.bulk_preview:
            return
        self._preview_params = dict(self.params)
        try:
            found = await run_db(bulk.preview_selection, principal, self._selection(principal))
        except ServiceError as exc:  # too many, or not allowed: said before anything is tried
            self.bulk_preview, self.bulk_preview_refs = exc.message, []
            return
        self.bulk_preview = (f"This will reach {words.count(found.total, 'shipment')}"
                             + (f" ({customers_words(found)})" if found.customers else "")
                             + ". Check the list, then choose the action.")
        self.bulk_preview_refs = reference_list(found)

    def _selection(self, principal: Principal) -> bulk.Selection:
        if self.bulk_scope == "filter":
            return bulk.Selection(filters=self._filters_from(self.params, principal))
        return bulk.Selection(references=tuple(self.selected))

    async def _run_bulk(self, principal: Principal, at: str, action: Callable[..., bulk.BulkReport],
                        *args: Any) -> None:
        """Run a bulk action and show its report under the button at ``at`` ("bar" or "voyage")."""
        self.bulk_busy, self.bulk_at = True, at
        try:
            report: bulk.BulkReport = await run_db(action, principal, *args)
        except ServiceError as exc:  # shown under the button; the form keeps what was typed
            self.bulk_error, self.bulk_message, self.bulk_failures = exc.message, "", []
        else:
            self.bulk_error = ""
            self.bulk_message = f"{ACTION_LABELS.get(report.action, report.action)}: {report.message}"
            self.bulk_failures = [BulkFailureLine(reference=f.reference, reason=f.reason) for f in report.failed]
            if report.succeeded:  # something changed: the form is done with; none did: what was typed stays
                if at == "voyage":
                    self.voyage_form_key += 1
                    self.voyage_fields, self.voyage_preview, self.voyage_preview_refs = {}, "", []
                else:
                    self.bulk_form_key += 1
                self._preview_params = {}  # what the filter matches may have changed with the action
            await self._fetch(principal)
        finally:
            self.bulk_busy = False

    def _refuse(self, at: str, message: str) -> None:
        self.bulk_at, self.bulk_error, self.bulk_message, self.bulk_failures = at, message, "", []

    @page_event()
    async def bulk_assign(self, principal: Principal, form: dict) -> None:
        changes: dict[str, object] = {}
        for field in ("owner_id", "team_id"):
            value = str(form.get(field, KEEP))
            if value != KEEP:
                changes[field] = id_or_none(value)
        if not changes:
            self._refuse("bar", "Choose a new owner or team (or both). Nothing was changed.")
            return
        await self._run_bulk(principal, "bar", bulk.bulk_assign, self._selection(principal), changes)

    @page_event()
    async def bulk_update(self, principal: Principal, form: dict) -> None:
        await self._run_bulk(principal, "bar", bulk.bulk_customer_update, self._selection(principal),
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
        self.voyage_preview_refs = reference_list(found)

    def clear_voyage(self) -> None:
        """The voyage form's Clear: the fields empty (the browser resets them) and so does the preview."""
        self.voyage_fields, self.voyage_preview, self.voyage_preview_refs = {}, "", []

    @page_event()
    async def voyage_action(self, principal: Principal, form: dict) -> None:
        try:
            when = parse_local(str(form.get("at", "")), self._tz)
        except ValueError:
            self._refuse("voyage", "Give dates and times as the date pickers offer them. Nothing was changed.")
            return
        if when is None:
            self._refuse("voyage", "Give the time (the departure, the arrival or the new ETA). Nothing was changed.")
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
                await self._run_bulk(principal, "voyage", bulk.bulk_eta, eta, eta.new_eta, eta.reason_code,
                                     eta.reason_text)
                return
            code = VOYAGE_STEPS.get((action, bool(flight)))
            if code is None:
                self._refuse("voyage", "Choose what to record: the departure, the arrival or a new ETA. Nothing "
                                       "was changed.")
                return
            place = str(form.get("location", "")).strip().upper()
            step = parse(bulk.VoyageMilestone, {**voyage, "milestone": code, "actual_at": when,
                                                **({"location": place} if place else {})})
        except FormInvalid as exc:  # said under the button, naming each field as the form labels it
            self._refuse("voyage", placed(exc, {}, VOYAGE_WORDS, nothing=bulk.NOTHING_CHANGED)[1])
            return
        await self._run_bulk(principal, "voyage", bulk.bulk_milestone, step, step.milestone, step.changes())


def select_all_box(state: type[BoardBulkMixin]) -> rx.Component:
    return rx.checkbox(checked=state.page_all_selected, on_change=state.toggle_page,
                       aria_label="Select every shipment on this page")


def select_row_box(state: type[BoardBulkMixin], reference: rx.Var) -> rx.Component:
    return rx.checkbox(checked=state.selected.contains(reference),
                       on_change=lambda checked: state.toggle_row(reference, checked),
                       aria_label="Select shipment " + reference)


def customers_words(found: bulk.BulkPreview) -> str:
    return ", ".join(f"{name} {count}" for name, count in found.customers)


def reference_list(found: bulk.BulkPreview) -> list[str]:
    """The first references, and how many more there are."""
    more = found.total - len(found.references)
    return found.references + ([f"and {more} more"] if more > 0 else [])


def preview_words(found: bulk.BulkPreview) -> str:
    return (f"This change will reach {words.count(found.total, 'open shipment')} ({customers_words(found)}). "
            "Check the list, then apply.")


def bulk_report(state: type[BoardBulkMixin], here: str) -> rx.Component:
    """The last bulk action's outcome under the button that ran it (``here``: "bar" or "voyage"): what changed,
    and each shipment that did not with the reason."""
    return rx.box(
        outcome(state.bulk_message, state.bulk_error, where=state.bulk_at, here=here, test_id="bulk-report",
                error_test_id="bulk-error"),
        rx.cond(
            (state.bulk_at == here) & (state.bulk_failures.length() > 0),
            data_table("Shipments not changed", ("Shipment", "Why not"), state.bulk_failures, lambda f: rx.table.row(
                rx.table.row_header_cell(f.reference), rx.table.cell(rx.text(f.reason, color=DANGER)))),
            rx.fragment(),
        ),
        width="100%",
    )


def _preview_box(text: rx.Var, refs: rx.Var, test_id: str) -> rx.Component:
    return rx.box(
        rx.cond(text != "",
                rx.box(rx.text(text, weight="medium"),
                       rx.text(rx.foreach(refs, lambda r: rx.text.span(r, " ")), size="1", color=MUTED_TEXT),
                       data_testid=test_id),
                rx.fragment()),
        role="status",
        aria_live="polite",
        width="100%",
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
        rx.text(f"At most {bulk.MAX_BULK} shipments at once. Each is changed on its own: one refusal never stops "
                "the others.", size="1", color=MUTED_TEXT),
        _preview_box(state.bulk_preview, state.bulk_preview_refs, "bulk-preview"),
        style={"border": "none", "padding": "0", "margin": "0"},
    )


BAR_STYLE = {"position": "sticky", "bottom": "0", "z_index": "5", "max_height": "70vh", "overflow_y": "auto",
             "box_shadow": "0 -4px 16px rgba(0, 0, 0, 0.18)", "border_top": "3px solid #0b5cad"}


def bulk_bar(state: type[BoardBulkMixin]) -> rx.Component:
    """The selection's actions (owner and team, one customer-visible update) in a bar that is there only while a
    shipment is ticked, stuck to the bottom of the window so it stays in view while the list scrolls."""
    return rx.cond(
        state.selected.length() > 0,
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading("Bulk actions", size="4", as_="h2"),
                    rx.text(state.selected.length(), " selected", weight="bold", data_testid="bulk-count"),
                    secondary_button("Clear selection", type="button", size="1", on_click=state.clear_selection),
                    align="center",
                    spacing="4",
                    wrap="wrap",
                ),
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
                                   hint="Every customer of these shipments reads it on the shipment page.",
                                   rows="2"),
                        primary_button("Post the update", type="submit", disabled=state.bulk_busy),
                        on_submit=state.bulk_update, label="Post one customer update", key=state.bulk_form_key,
                    ),
                    wide=2,
                ),
                bulk_report(state, "bar"),
                spacing="3",
                width="100%",
            ),
            width="100%",
            style=BAR_STYLE,
            data_testid="bulk-actions",
        ),
        rx.fragment(),
    )


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
                _preview_box(state.voyage_preview, state.voyage_preview_refs, "voyage-preview"),
                rx.hstack(primary_button("Apply to the voyage or flight", type="submit", disabled=state.bulk_busy),
                          secondary_button("Clear", type="reset", on_click=state.clear_voyage)),
                bulk_report(state, "voyage"),
                on_submit=state.voyage_action, label="Change one voyage or flight", key=state.voyage_form_key,
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="voyage-actions",
    )

