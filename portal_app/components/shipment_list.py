"""The shipments list used by the portal (one company) and the tower (all companies).

Filtering, sorting and paging run in the database; state holds one page of small string rows.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from typing import ClassVar

import reflex as rx

from models.enums import Mode, ShipmentStatus
from portal_app.auth.state import run_db
from portal_app.components.formatting import MODE_LABELS, shipment_row_view, status_label
from portal_app.components.ui import (
    MUTED_TEXT,
    error_callout,
    primary_button,
    secondary_button,
    status_badge,
    table_caption,
)
from portal_app.services import shipments as svc
from portal_app.services.errors import ServiceError

PAGE_SIZE = 25
ALL = "all"


class ShipmentListBase(rx.State, mixin=True):
    """Shared by the portal and tower lists; each subclass sets ``AREA``."""

    AREA: ClassVar[str] = "portal"  # "portal" or "tower"; subclasses override

    rows: list[dict[str, str]] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    search: str = ""
    status: str = ALL
    mode: str = ALL
    error: str = ""
    loading: bool = False

    async def load(self):  # noqa: ANN201
        principal = await self._authorize(self.AREA)
        if principal is None:
            return self._refused()
        params = parse_qs(self.router.url.query)
        self.search = (params.get("q") or [""])[0][:40]
        status = (params.get("status") or [ALL])[0]
        self.status = status if status in ShipmentStatus._value2member_map_ else ALL
        mode = (params.get("mode") or [ALL])[0]
        self.mode = mode if mode in Mode._value2member_map_ else ALL
        self.page = 1
        await self._fetch(principal)
        return None

    async def apply_filters(self, form: dict):  # noqa: ANN201
        principal = await self._authorize(self.AREA)
        if principal is None:
            return self._refused()
        self.search = str(form.get("q", ""))[:40]
        self.page = 1
        await self._fetch(principal)
        return None

    async def set_status_filter(self, value: str):  # noqa: ANN201
        principal = await self._authorize(self.AREA)
        if principal is None:
            return self._refused()
        self.status, self.page = value, 1
        await self._fetch(principal)
        return None

    async def set_mode_filter(self, value: str):  # noqa: ANN201
        principal = await self._authorize(self.AREA)
        if principal is None:
            return self._refused()
        self.mode, self.page = value, 1
        await self._fetch(principal)
        return None

    async def go_to_page(self, delta: int):  # noqa: ANN201
        principal = await self._authorize(self.AREA)
        if principal is None:
            return self._refused()
        self.page = max(1, min(self.pages, self.page + int(delta)))
        await self._fetch(principal)
        return None

    async def _fetch(self, principal) -> None:  # noqa: ANN001
        filters = svc.ShipmentFilters(
            statuses=(self.status,) if self.status != ALL else (),
            mode=self.mode if self.mode != ALL else None,
            search=self.search or None,
        )
        self.loading = True
        try:
            result = await run_db(svc.list_shipments, principal, filters, page=self.page, page_size=PAGE_SIZE)
        except ServiceError as exc:
            self.error, self.rows, self.total, self.pages = exc.message, [], 0, 1
        else:
            self.error = ""
            self.rows = [{**shipment_row_view(r), "href": f"/{self.AREA}/shipments/{r.reference}"} for r in result.rows]
            self.total, self.pages = result.total, result.pages
        finally:
            self.loading = False


def _filters(state: type[ShipmentListBase]) -> rx.Component:
    status_items = [(ALL, "All statuses")] + [(s.value, status_label(s.value).capitalize()) for s in ShipmentStatus]
    mode_items = [(ALL, "All modes")] + [(m.value, MODE_LABELS[m.value]) for m in Mode]
    return rx.hstack(
        rx.el.form(
            rx.hstack(
                rx.box(
                    rx.el.label("Search by any reference", html_for="shipment-search", style={"font_weight": "600"}),
                    rx.input(
                        id="shipment-search",
                        name="q",
                        default_value=state.search,
                        key=state.search,
                        placeholder="Shipment, booking, BL, AWB, container or PO",
                        width="340px",
                    ),
                ),
                primary_button("Search", type="submit"),
                align="end",
            ),
            on_submit=state.apply_filters,
            role="search",
        ),
        rx.box(
            rx.el.label("Status", html_for="status-filter", style={"font_weight": "600", "display": "block"}),
            rx.select.root(
                rx.select.trigger(id="status-filter", aria_label="Status"),
                rx.select.content(*[rx.select.item(label, value=value) for value, label in status_items]),
                value=state.status,
                on_change=state.set_status_filter,
            ),
        ),
        rx.box(
            rx.el.label("Mode", html_for="mode-filter", style={"font_weight": "600", "display": "block"}),
            rx.select.root(
                rx.select.trigger(id="mode-filter", aria_label="Mode"),
                rx.select.content(*[rx.select.item(label, value=value) for value, label in mode_items]),
                value=state.mode,
                on_change=state.set_mode_filter,
            ),
        ),
        align="end",
        wrap="wrap",
        spacing="4",
    )


def _row(row: rx.Var, show_company: bool) -> rx.Component:
    cells = [rx.table.row_header_cell(rx.link(row["reference"], href=row["href"], weight="bold"))]
    if show_company:
        cells.append(rx.table.cell(row["company"]))
    cells += [
        rx.table.cell(row["mode"]),
        rx.table.cell(status_badge(row["status"])),
        rx.table.cell(row["origin"]),
        rx.table.cell(row["destination"]),
        rx.table.cell(row["carrier"]),
        rx.table.cell(row["etd"]),
        rx.table.cell(rx.text(row["eta_kind"], ": ", row["eta"])),
        rx.table.cell(rx.text(row["delay"], color=rx.cond(row["late"] == "yes", "#b42318", "inherit"))),
        rx.table.cell(row["po"]),
    ]
    return rx.table.row(*cells)


def shipments_table(state: type[ShipmentListBase], *, show_company: bool, heading: str) -> rx.Component:
    headers = ["Reference"] + (["Customer"] if show_company else []) + [
        "Mode", "Status", "From", "To", "Carrier", "Departure", "Arrival", "Delay", "Customer PO",
    ]
    return rx.vstack(
        rx.heading(heading, size="7", as_="h1"),
        _filters(state),
        rx.cond(state.error != "", error_callout(state.error), rx.fragment()),
        rx.text(
            state.total, " shipments", rx.cond(state.loading, " · loading…", ""),
            color=MUTED_TEXT, role="status", data_testid="shipment-count",
        ),
        rx.table.root(
            table_caption(heading),
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in headers])),
            rx.table.body(rx.foreach(state.rows, lambda r: _row(r, show_company))),
            variant="surface",
            width="100%",
        ),
        rx.cond(
            state.total == 0,
            rx.text("No shipments match these filters. Clear the search or choose another status.", color=MUTED_TEXT),
            rx.fragment(),
        ),
        rx.hstack(
            secondary_button("Previous page", on_click=state.go_to_page(-1), disabled=state.page <= 1),
            rx.text("Page ", state.page, " of ", state.pages),
            secondary_button("Next page", on_click=state.go_to_page(1), disabled=state.page >= state.pages),
            align="center",
        ),
        spacing="4",
        width="100%",
    )
