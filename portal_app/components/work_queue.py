"""Shared pieces of the tower's work queues (bookings, manual quotes, change requests, rate cards).

``PagedQueueBase`` holds one page of small typed rows and pages through a service's ``Page``; a concrete state
declares ``rows: list[ItsLine]`` (a frozen dataclass of display strings, a field per column) and implements
``_query()`` (the service call) and ``_row(item)`` (the DTO as its line). A queue with sortable headers also
mixes in ``components/sortable.SortedListMixin`` (before this base) and passes ``(label, sort key)`` headers to
``queue_table``; its sort and page are then kept in the address after every move. The widgets give
every field a visible label, an error line tied to it (``aria-describedby``) and the result announced in a
status or alert region. The decision about one row (confirm a booking, price a quote) is asked in a dialog that
opens over the list where the person clicked (``components/decision_dialog.py``); a refusal is shown in it, beside
its buttons, and what was typed stays.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.decision_dialog import FOCUS_AFTER_DIALOG, decision_dialog
from portal_app.components.outcome import outcome
from portal_app.components.sortable import sort_header
from portal_app.components.ui import (
    ACCENT,
    ACCENT_FILL,
    BUTTON_STYLE,
    DANGER,
    LABEL_STYLE,
    MUTED_TEXT,
    NATIVE_SELECT_STYLE,
    pager,
    table_caption,
)
from portal_app.services.errors import ServiceError
from portal_app.services.paging import Page
from portal_app.ui.session import page_event, run_db

PAGE_SIZE = 25


def fmt_time_left(due: datetime | None, now: datetime) -> tuple[str, bool]:
    """("5 h 20 min left" | "Breached 2 h 5 min ago" | "No SLA", breached?) for an SLA due time."""
    if due is None:
        return "No SLA", False
    minutes = int((due - now).total_seconds() // 60)
    span = abs(minutes)
    days, rem = divmod(span, 1440)
    hours, mins = divmod(rem, 60)
    text = f"{days} d {hours} h" if days else f"{hours} h {mins} min" if hours else f"{mins} min"
    return (f"{text} left", False) if minutes >= 0 else (f"Breached {text} ago", True)


class PagedQueueBase(rx.State, mixin=True):
    """One page of a tower queue. Handlers re-authorize on every event; the service decides what is visible."""

    AREA: ClassVar[str] = "tower"

    rows: list[Any] = []  # each queue declares its own line type: ``rows: list[BookingLine] = []``
    total: int = 0
    page: int = 1
    pages: int = 1
    error: str = ""
    notice: str = ""
    selected: str = ""  # the key of the row being decided (only names the row; the service checks it)
    field_errors: dict[str, str] = {}

    def _query(self) -> tuple[Callable[..., Page], dict[str, Any]]:
        """The service function for this list and its keyword arguments (filters, page, page size)."""
        raise NotImplementedError

    def _row(self, item: Any) -> Any:
        """The service's row as the page's line (the type the page declares ``rows`` with)."""
        raise NotImplementedError

    async def _fetch(self, principal: Principal) -> None:
        fn, kwargs = self._query()
        try:
            result = await run_db(fn, principal, **kwargs)
        except ServiceError as exc:  # the message instead of any rows
            self.error, self.rows, self.total, self.pages = exc.message, [], 0, 1
            return
        if result.page > result.pages and result.page > 1:  # the last row of the last page just left
            self.page = result.pages
            await self._fetch(principal)
            return
        self.error = ""
        self.rows = [self._row(r) for r in result.rows]
        self.total, self.pages = result.total, result.pages

    async def _decided(self, principal, notice: str) -> None:  # noqa: ANN001
        """A decision was saved: announce it, close the panel and reload the page (the row leaves the list)."""
        self.notice, self.error, self.selected, self.field_errors = notice, "", "", {}
        await self._fetch(principal)

    def _refusal(self, exc: ServiceError, field: str = "reason") -> None:
        """Show why the service refused: beside ``field`` when the input was wrong, else above the list."""
        self.notice = ""
        if exc.status_code == 422:
            self.field_errors, self.error = {field: exc.message}, ""
        else:
            self.error = exc.message

    def _start(self, principal) -> None:  # noqa: ANN001
        """What a page sets on load besides the paging (filters, sort and page from the URL, what the role may
        do)."""

    def _moved(self) -> Any:
        """What a move through the list (a page, a filter) sends back; a sortable queue: its address."""
        return None

    async def _prepare(self, principal) -> None:  # noqa: ANN001
        """What a page reads on load before its first page of rows (pickers' options, the viewer's zone)."""

    @page_event()
    async def load(self, principal: Principal) -> None:
        self.page, self.selected, self.field_errors, self.notice = 1, "", {}, ""
        self._start(principal)
        await self._prepare(principal)
        await self._fetch(principal)

    @page_event()
    async def go_to_page(self, principal: Principal, delta: int) -> Any:
        self.page = max(1, min(self.pages, self.page + int(delta)))
        self.selected, self.field_errors = "", {}
        await self._fetch(principal)
        return self._moved()

    @page_event()
    async def select_row(self, principal: Principal, key: str) -> None:
        self.selected, self.field_errors, self.notice = str(key)[:40], {}, ""

    @page_event()
    async def close_panel(self, principal: Principal) -> None:
        self.selected, self.field_errors = "", {}

    @page_event()
    async def panel_open_change(self, principal: Principal, open_it: bool) -> None:
        """The decision dialog asks to close (Escape, or a click outside it): nothing is decided."""
        if not open_it:
            self.selected, self.field_errors = "", {}


def line_errors(fields: dict[str, str], sent: list[int], prefix: str = "charges") -> dict[str, str]:
    """Service errors keyed by the form's line numbers. The service numbers the lines it was sent
    (``charges.1.rate``); the form leaves blank lines out, so ``sent[i]`` is the form line of sent line ``i``."""
    out = {}
    for sent_key, text in fields.items():
        parts = sent_key.split(".")
        key = sent_key
        if len(parts) == 3 and parts[0] == prefix and parts[1].isdigit() and int(parts[1]) < len(sent):
            key = f"{prefix}.{sent[int(parts[1])]}.{parts[2]}"
        out[key] = text
    return out


def field_error(errors: rx.Var, key: str | rx.Var, error_id: str | rx.Var) -> rx.Component:
    return rx.cond(
        errors.contains(key),
        rx.text(errors[key], id=error_id, color=DANGER, size="2", role="alert"),
        rx.fragment(),
    )


def checked_input(label: str | rx.Var, name: str | rx.Var, errors: rx.Var, key: str | rx.Var | None = None, *,
                  hint: str = "", input_id: str | rx.Var | None = None, **props: Any) -> rx.Component:
    """A labelled input with its error (from ``errors[key]``) right below it, announced and tied by id.

    Inside ``rx.foreach`` pass ``name``, ``key`` and ``input_id`` as string Vars built from the index."""
    key = name if key is None else key
    input_id = f"field-{name}" if input_id is None else input_id
    error_id = input_id + "-error"
    return rx.box(
        rx.el.label(label, html_for=input_id, style=LABEL_STYLE),
        rx.input(id=input_id, name=name, width="100%", aria_describedby=error_id,
                 aria_invalid=rx.cond(errors.contains(key), "true", "false"), **props),
        rx.text(hint, size="1", color=MUTED_TEXT) if hint else rx.fragment(),
        field_error(errors, key, error_id),
        width="100%",
    )


def native_select(label: str | rx.Var, name: str | rx.Var, options: list[tuple[str, str]], *,
                  value: rx.Var | str | None = None, select_id: str | rx.Var | None = None,
                  errors: rx.Var | None = None, key: str | rx.Var | None = None,
                  more: rx.Var | None = None) -> rx.Component:
    """A plain ``<select>`` (submitted with its form) with a visible label. ``more``: options loaded into state,
    a list of ``{"value", "label"}`` dicts, listed after the fixed ``options``."""
    select_id = f"field-{name}" if select_id is None else select_id
    extra: dict[str, Any] = {"default_value": value} if value is not None else {}
    loaded = [rx.foreach(more, lambda o: rx.el.option(o["label"], value=o["value"]))] if more is not None else []
    return rx.box(
        rx.el.label(label, html_for=select_id, style=LABEL_STYLE),
        rx.el.select(*[rx.el.option(text, value=v) for v, text in options], *loaded, id=select_id, name=name,
                     style=NATIVE_SELECT_STYLE, **extra),
        field_error(errors, name if key is None else key, select_id + "-error") if errors is not None
        else rx.fragment(),
        width="100%",
    )


def text_field(label: str, name: str, field_id: str, errors: rx.Var | None = None, *, hint: str = "",
               key: str | None = None, rows: str = "3") -> rx.Component:
    """A labelled text area; with ``errors``, its error (``errors[key or name]``) below it, tied by id."""
    key = key or name
    error_id = f"{field_id}-error"
    checked = {} if errors is None else {
        "aria_describedby": error_id, "aria_invalid": rx.cond(errors.contains(key), "true", "false")}
    return rx.box(
        rx.el.label(label, html_for=field_id, style=LABEL_STYLE),
        rx.text_area(id=field_id, name=name, rows=rows, width="100%", **checked),
        rx.text(hint, size="1", color=MUTED_TEXT) if hint else rx.fragment(),
        field_error(errors, key, error_id) if errors is not None else rx.fragment(),
        width="100%",
    )


def reason_field(label: str, errors: rx.Var, *, hint: str, field_id: str = "decision-reason") -> rx.Component:
    return text_field(label, "reason", field_id, errors, hint=hint)


def stacked_form(*children: rx.Component, on_submit: Any, label: str, **props: Any) -> rx.Component:
    """A full-width form of ``children`` one below the other, named ``label`` for assistive technology."""
    return rx.el.form(
        rx.vstack(*children, spacing="3", width="100%"),
        on_submit=on_submit,
        aria_label=label,
        style={"width": "100%"},
        **props,
    )


def filter_form(grid: rx.Component, state: type[rx.State], label: str, *, key: rx.Var) -> rx.Component:
    """A search form: the filter fields, Apply (``state.apply_filters``) and Clear (``state.clear_filters``)."""
    return rx.el.form(
        grid,
        rx.hstack(
            rx.button("Apply filters", type="submit", style=BUTTON_STYLE, cursor="pointer"),
            rx.button("Clear filters", type="button", variant="outline", color=ACCENT, cursor="pointer",
                      on_click=state.clear_filters),
            margin_top="12px",
        ),
        on_submit=state.apply_filters,
        key=key,
        role="search",
        aria_label=label,
        style={"width": "100%"},
    )


def queue_messages(state: type[PagedQueueBase]) -> rx.Component:
    """The page's result line (status) and error (alert), above the list; focus comes here when a decision's row
    has left the list with its dialog. While a decision dialog is open its refusal is shown in the dialog."""
    return rx.box(
        outcome(state.notice, rx.cond(state.selected == "", state.error, ""), test_id="queue-notice",
                error_test_id="queue-error"),
        width="100%",
        **FOCUS_AFTER_DIALOG,
    )


def button_link(text: str, href: str) -> rx.Component:
    """A link that looks like the primary button (a link inside a button would nest two controls)."""
    return rx.link(text, href=href, underline="none", weight="medium",
                   style={"background_color": ACCENT_FILL, "color": "white", "padding": "6px 14px",
                          "border_radius": "6px", "_hover": {"background_color": "#084685"}})


def queue_table(state: type[PagedQueueBase], caption: str, headers: list[str] | list[tuple[str, str | None]],
                row: Callable[[rx.Var], rx.Component], empty: str) -> rx.Component:
    """The page of rows as a table named ``caption`` (or ``empty`` when there are none), and the pager. Headers
    given as ``(label, sort key or None)`` are sortable (the state mixes in ``SortedListMixin``)."""
    cells = [sort_header(state, *h, rx.table.column_header_cell) if isinstance(h, tuple)
             else rx.table.column_header_cell(h, scope="col") for h in headers]
    return rx.fragment(
        rx.cond(
            state.rows.length() > 0,
            rx.table.root(
                table_caption(caption),
                rx.table.header(rx.table.row(*cells)),
                rx.table.body(rx.foreach(state.rows, row)),
                variant="surface",
                width="100%",
            ),
            rx.text(empty, color=MUTED_TEXT),
        ),
        pager(state),
    )


def queue_page(state: type[PagedQueueBase], heading: str, intro: rx.Component, panel: rx.Component,
               table: rx.Component, *extra: rx.Component) -> rx.Component:
    """A work queue: heading, a line about the list, ``extra`` (filters), messages, the decision panel while a
    row is selected, then the table."""
    return rx.vstack(
        rx.heading(heading, size="7", as_="h1"),
        intro,
        *extra,
        queue_messages(state),
        rx.cond(state.selected != "", panel, rx.fragment()),
        table,
        spacing="4",
        width="100%",
    )


def decision_panel(state: type[PagedQueueBase], heading: str, test_id: str, *children: rx.Component) -> rx.Component:
    """The decision about the selected row, in a dialog titled ``heading`` + the row's key: the forms, then the
    refusal of the last try (the page's ``error``) beside their buttons."""
    return decision_dialog(
        heading + state.selected,
        "Nothing is saved until you choose. Escape or Close leaves without deciding.",
        *children,
        outcome("", state.error, error_test_id="queue-error"),
        open=state.selected != "",
        on_open_change=state.panel_open_change,
        test_id=test_id,
        width="960px",
    )


def submit_or_close(state: type[PagedQueueBase], text: str) -> rx.Component:
    return rx.hstack(
        rx.button(text, type="submit", style=BUTTON_STYLE, cursor="pointer"),
        rx.button("Close", type="button", variant="outline", color=ACCENT, cursor="pointer",
                  on_click=state.close_panel),
        spacing="3",
        wrap="wrap",
    )
