"""The shipments list used by the portal (one company) and the tower (all companies).

Filtering, sorting and paging run in the database; state holds one page of small typed rows (``ShipmentLine``).
The current filters live in the URL's query-string form (``params``), so links, saved views and exports share one
format; with the sort and the page they are written back into the address bar after every change
(``components/sortable.py``, as every sortable list does), so a reload, Back from a shipment and a shared link show
the same list. Sortable column headers are buttons inside ``th`` elements that carry ``aria-sort``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode

import reflex as rx
from reflex.components.react_router.dom import ReactRouterLink

from models.enums import Mode, ShipmentStatus
from portal_app.auth.principal import Principal
from portal_app.components.formatting import (
    MODE_LABELS,
    ShipmentLine,
    shipment_row_view,
    status_label,
)
from portal_app.components.sortable import SortedListMixin, sort_header
from portal_app.components.ui import (
    LABEL_STYLE,
    MUTED_TEXT,
    NATIVE_SELECT_STYLE,
    download_link,
    error_callout,
    labelled_checkbox,
    labelled_input,
    pager,
    plain_table,
    primary_button,
    secondary_button,
    status_badge,
    table_row,
)
from portal_app.services import saved_views
from portal_app.services import shipments as svc
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.routes import link
from portal_app.ui.session import page_event, run_db

PAGE_SIZE = 25
ALL = "all"
DEFAULT_SORT = "updated"
# Column header -> the service's sort key (ascending; "-key" descending). Only indexed orders are offered.
SORTABLE: dict[str, str] = {"Reference": "reference", "Arrival": "eta"}


@dataclass(frozen=True)
class SavedViewLine:
    """A saved view offered above the list: its id (names which one was picked) and name."""

    id: str
    name: str


class ShipmentListBase(SortedListMixin, mixin=True):
    """Shared by the portal and tower lists; each concrete state sets ``AREA``. The tower's board widens the
    filters (``PARAMS``, ``_filters_from``) and the rows (``_query``)."""

    AREA: ClassVar[str] = "portal"
    PARAMS: ClassVar[tuple[str, ...]] = svc.FILTER_PARAMS
    SORTS: ClassVar[tuple[str, ...]] = tuple(SORTABLE.values())
    DEFAULT_SORT: ClassVar[str] = DEFAULT_SORT

    rows: list[ShipmentLine] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    sort: str = DEFAULT_SORT
    params: dict[str, str] = {}
    views: list[SavedViewLine] = []
    error: str = ""
    notice: str = ""
    loading: bool = False
    form_key: int = 0

    @rx.var
    def export_query(self) -> str:
        return urlencode(self.params)

    @rx.var
    def filters_active(self) -> bool:
        return bool(self.params)

    @page_event()
    async def load(self, principal: Principal) -> None:
        raw = parse_qs(self.router.url.query)
        self.notice = ""
        self._read_address(raw)
        query = {k: v for k, v in raw.items() if k in self.PARAMS}
        await self._prepare(principal)
        await self._use_params(principal, query, keep_page=True)
        await self._load_views(principal)

    def _sort_choices(self) -> set[str]:
        return set(svc.SORTS)  # the headers' and the service's other orders (a saved link may use "-updated")

    def _list_path(self) -> str:
        return routes.in_area(self.AREA, routes.PORTAL_SHIPMENTS, routes.TOWER_SHIPMENTS)

    def _list_params(self) -> dict[str, str]:
        return dict(self.params)

    async def _prepare(self, principal: Principal) -> None:
        """What a page loads once before its first rows (the board: its pickers)."""

    @page_event()
    async def apply_filters(self, principal: Principal, form: dict) -> Any:
        self.page, self.notice = 1, ""
        await self._use_params(principal, {k: str(v) for k, v in form.items() if k in self.PARAMS})
        return self._show_address()

    @page_event()
    async def clear_filters(self, principal: Principal) -> Any:
        self.page, self.notice = 1, ""
        await self._use_params(principal, {}, reset_form=True)  # also empties fields typed but not applied
        return self._show_address()

    @page_event()
    async def go_to_page(self, principal: Principal, delta: int) -> Any:
        self.page = max(1, min(self.pages, self.page + int(delta)))
        await self._fetch(principal)
        return self._show_address()

    @page_event()
    async def save_view(self, principal: Principal, form: dict) -> None:
        try:  # the message only; the rows stay
            view = await run_db(saved_views.save_view, principal, self._views_page(), str(form.get("view_name", "")),
                                self.params)
        except ServiceError as exc:
            self.error = exc.message
            return
        self.error, self.notice = "", f"Saved the view “{view.name}”. Pick it from Saved views any time."
        await self._load_views(principal)

    @page_event()
    async def apply_view(self, principal: Principal, view_id: str) -> Any:
        chosen = next((v for v in self.views if v.id == view_id), None)
        if chosen is None:
            self.error = "That saved view no longer exists. Reload the page."
            return None
        views = await run_db(saved_views.list_views, principal, self._views_page())
        stored = next((v for v in views if str(v.id) == view_id), None)  # the server's copy, not the browser's
        self.page, self.notice = 1, f"Showing your view “{chosen.name}”."
        await self._use_params(principal, dict(stored.params) if stored else {})
        return self._show_address()

    @page_event()
    async def delete_view(self, principal: Principal, view_id: str) -> None:
        try:
            await run_db(saved_views.delete_view, principal, int(view_id))
        except (ServiceError, ValueError):
            self.error = "That saved view no longer exists. Reload the page."
            return
        self.notice = "The view was deleted."
        await self._load_views(principal)

    def _views_page(self) -> str:
        return f"{self.AREA}_shipments"

    async def _load_views(self, principal: Principal) -> None:
        views = await run_db(saved_views.list_views, principal, self._views_page())
        self.views = [SavedViewLine(id=str(v.id), name=v.name) for v in views]

    def _filters_from(self, params: dict, principal) -> svc.ShipmentFilters:  # noqa: ANN001
        return svc.ShipmentFilters.from_params(params)

    async def _query(self, principal, filters: svc.ShipmentFilters) -> tuple[list[ShipmentLine], int, int]:  # noqa: ANN001
        """One page of rows for the table, the total and the page count."""
        result = await run_db(svc.list_shipments, principal, filters, page=self.page, page_size=PAGE_SIZE,
                              sort=self.sort)
        route = routes.in_area(self.AREA, routes.PORTAL_SHIPMENT, routes.TOWER_SHIPMENT)
        rows = [shipment_row_view(r, link(route, reference=r.reference)) for r in result.rows]
        return rows, result.total, result.pages

    async def _use_params(self, principal: Principal, params: dict, *, reset_form: bool = False,
                          keep_page: bool = False) -> None:
        """Show the list for ``params``. The filter form is rebuilt (a new ``form_key``) only when it would show
        something else, or on ``reset_form``: rebuilding every field is most of the cost of showing a page."""
        try:
            filters = self._filters_from(params, principal)
            filters.validate()
        except ServiceError as exc:  # filters the list cannot use: the message instead of any rows
            self.error, self.rows, self.total, self.pages = exc.message, [], 0, 1
            return
        new_params = filters.to_params()
        if reset_form or new_params != self.params:
            self.form_key += 1
        self.params = new_params
        await self._fetch(principal)
        if keep_page and self.page > self.pages:  # an address from a longer list: its last page instead
            self.page = self.pages
            await self._fetch(principal)

    async def _fetch(self, principal: Principal) -> None:
        self.loading = True
        try:
            rows, total, pages = await self._query(principal, self._filters_from(self.params, principal))
        except ServiceError as exc:  # the message instead of any rows
            self.error, self.rows, self.total, self.pages = exc.message, [], 0, 1
        else:
            self.error, self.rows, self.total, self.pages = "", rows, total, pages
        finally:
            self.loading = False


def _select(label: str, name: str, items: list[tuple[str, str]], state: type[ShipmentListBase]) -> rx.Component:
    return rx.box(
        rx.el.label(label, html_for=f"filter-{name}", style=LABEL_STYLE),
        rx.el.select(*[rx.el.option(text, value=value) for value, text in items], id=f"filter-{name}", name=name,
                     default_value=state.params.get(name, ALL), style=NATIVE_SELECT_STYLE),
    )


def filters_form(state: type[ShipmentListBase], extra: tuple[rx.Component, ...] = ()) -> rx.Component:
    """The list's filter form; ``extra`` fields (the board's) go after the common ones."""
    status_items = [(ALL, "All statuses"), (svc.ACTIVE, "Active (not yet delivered)")] + [
        (s.value, status_label(s.value).capitalize()) for s in ShipmentStatus]
    mode_items = [(ALL, "All modes")] + [(m.value, MODE_LABELS[m.value]) for m in Mode]
    p = state.params
    return rx.el.form(
        rx.flex(
            rx.box(
                labelled_input("Search by any reference", "q", id="shipment-search", default_value=p.get("q", ""),
                               placeholder="Shipment, booking, BL, AWB, container or PO"),
                width="320px",
            ),
            _select("Status", "status", status_items, state),
            _select("Mode", "mode", mode_items, state),
            rx.box(labelled_input("From (port code)", "origin", default_value=p.get("origin", ""), max_length=5,
                                  placeholder="e.g. CNSHA"), width="170px"),
            rx.box(labelled_input("To (port code)", "destination", default_value=p.get("destination", ""), max_length=5,
                                  placeholder="e.g. NLRTM"), width="170px"),
            rx.box(labelled_input("Departure from", "etd_from", type="date", default_value=p.get("etd_from", ""))),
            rx.box(labelled_input("Departure to", "etd_to", type="date", default_value=p.get("etd_to", ""))),
            rx.box(labelled_input("Arrival from", "eta_from", type="date", default_value=p.get("eta_from", ""))),
            rx.box(labelled_input("Arrival to", "eta_to", type="date", default_value=p.get("eta_to", ""))),
            *extra,
            labelled_checkbox("Delayed only", "delayed", checked=p.get("delayed", "") == "1",
                              input_id="filter-delayed"),
            rx.hstack(
                primary_button("Apply filters", type="submit"),
                secondary_button("Clear", type="button", on_click=state.clear_filters),
            ),
            spacing="3",
            wrap="wrap",
            align="end",
        ),
        on_submit=state.apply_filters,
        key=state.form_key,
        role="search",
        aria_label="Filter shipments",
        width="100%",
    )


def views_bar(state: type[ShipmentListBase], *, exports: bool = True) -> rx.Component:
    """Saved views (apply, delete, save the current filters) and, with ``exports``, the CSV and Excel links."""
    return rx.flex(
        rx.cond(
            state.views.length() > 0,
            rx.hstack(
                rx.text("Saved views:", weight="medium"),
                rx.foreach(
                    state.views,
                    lambda v: rx.hstack(
                        rx.button(v.name, variant="soft", size="1", on_click=state.apply_view(v.id),
                                  aria_label="Show view " + v.name),
                        rx.icon_button(rx.icon("x", size=12), variant="ghost", size="1",
                                       on_click=state.delete_view(v.id), aria_label="Delete view " + v.name),
                        spacing="1",
                    ),
                ),
                wrap="wrap",
                align="center",
            ),
            rx.fragment(),
        ),
        rx.spacer(),
        rx.el.form(
            rx.hstack(
                rx.box(labelled_input("Save these filters as", "view_name", placeholder="View name", max_length=80)),
                secondary_button("Save view", type="submit"),
                align="end",
            ),
            on_submit=state.save_view,
            reset_on_submit=True,
        ),
        rx.hstack(
            download_link("Export CSV", "/api/v1/shipments/export?format=csv&" + state.export_query),
            download_link("Export Excel", "/api/v1/shipments/export?format=xlsx&" + state.export_query),
            align="end",
        ) if exports else rx.fragment(),
        spacing="4",
        wrap="wrap",
        align="end",
        width="100%",
    )


def list_messages(state: type[ShipmentListBase]) -> rx.Component:
    """The error, the notice and the live count line above the table."""
    return rx.fragment(
        rx.cond(state.error != "", error_callout(state.error), rx.fragment()),
        rx.cond(state.notice != "", rx.callout(state.notice, icon="info", role="status", width="100%"), rx.fragment()),
        rx.text(
            state.total, " shipments", rx.cond(state.filters_active, " match these filters", ""),
            rx.cond(state.loading, " · loading…", ""),
            color=MUTED_TEXT, role="status", data_testid="shipment-count",
        ),
    )


def _row(row: rx.Var, show_company: bool) -> rx.Component:
    cells = [row.company] if show_company else []
    cells += [
        row.mode,
        status_badge(row.status),
        row.origin,
        row.destination,
        row.carrier,
        row.etd,
        rx.fragment(row.eta_kind, ": ", row.eta),
        rx.el.span(row.delay, data_late=row.late),
        row.po,
    ]
    return table_row(ReactRouterLink.create(row.reference, to=row.href, class_name="row-link"), *cells)


def _header(state: type[ShipmentListBase], label: str) -> rx.Component:
    return sort_header(state, label, SORTABLE.get(label))


def shipments_table(state: type[ShipmentListBase], *, show_company: bool, heading: str) -> rx.Component:
    headers = ["Reference"] + (["Customer"] if show_company else []) + [
        "Mode", "Status", "From", "To", "Carrier", "Departure", "Arrival", "Delay", "Customer PO",
    ]
    return rx.vstack(
        rx.heading(heading, size="7", as_="h1"),
        filters_form(state),
        views_bar(state),
        list_messages(state),
        plain_table(heading, [_header(state, h) for h in headers], state.rows, lambda r: _row(r, show_company),
                    labels=headers),
        rx.cond(
            state.total == 0,
            rx.text("No shipments match these filters. Select Clear, or change the search.", color=MUTED_TEXT),
            rx.fragment(),
        ),
        pager(state),
        spacing="4",
        width="100%",
    )
