"""Tower: the shipments board across all companies, with the staff filters (branch, team, owner, customer, open
exception, SLA breached or breaching within N hours), saved views, and bulk actions on a selection, on the whole
filter (in a bar shown while a shipment is ticked) or on one vessel voyage or flight. One shipment's workspace is
``tower/workspace.py``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

import reflex as rx

from portal_app.components.board_bulk import (
    BoardBulkMixin,
    bulk_bar,
    select_all_box,
    select_row_box,
    voyage_panel,
)
from portal_app.components.formatting import ShipmentLine, shipment_row_view
from portal_app.components.layout import area_page
from portal_app.components.ops import StaffDirectoryMixin
from portal_app.components.shipment_list import (
    PAGE_SIZE,
    SORTABLE,
    ShipmentListBase,
    filters_form,
    list_messages,
    views_bar,
)
from portal_app.components.sortable import sort_header
from portal_app.components.ui import (
    DANGER,
    MUTED_TEXT,
    labelled_cells,
    labelled_checkbox,
    labelled_input,
    pager,
    status_badge,
    table_caption,
)
from portal_app.components.work_queue import fmt_time_left, native_select
from portal_app.services import board, clock
from portal_app.ui import routes
from portal_app.ui.session import SessionState, run_db

SLA_CHOICES = [("all", "Any"), ("breached", "Breached"), ("breaching", "Breaching soon")]


@dataclass(frozen=True)
class BoardLine(ShipmentLine):
    """A shipment on the board: the list's columns and the owner, team, open exceptions and next SLA (shown only
    with an open exception; ``breached`` is "yes" once it is past)."""

    owner: str
    team: str
    exceptions: str
    sla: str
    breached: str


def board_row_view(r: board.BoardRow, now) -> BoardLine:  # noqa: ANN001
    left, breached = fmt_time_left(r.next_sla_due_at, now) if r.open_exceptions else ("", False)
    return BoardLine(
        **asdict(shipment_row_view(r.shipment, routes.link(routes.TOWER_SHIPMENT, reference=r.shipment.reference))),
        owner=r.owner or "Nobody",
        team=r.team or "—",
        exceptions=str(r.open_exceptions) if r.open_exceptions else "—",
        sla=left or "—",
        breached="yes" if breached else "",
    )


class TowerShipmentsState(BoardBulkMixin, StaffDirectoryMixin, ShipmentListBase, SessionState):
    AREA: ClassVar[str] = "tower"
    PARAMS: ClassVar[tuple[str, ...]] = board.BOARD_PARAMS

    rows: list[BoardLine] = []

    def _filters_from(self, params: dict, principal) -> board.BoardFilters:  # noqa: ANN001
        return board.BoardFilters.from_params(params, principal)

    async def _query(self, principal, filters: board.BoardFilters):  # noqa: ANN001, ANN202
        result = await run_db(board.list_board, principal, filters, page=self.page, page_size=PAGE_SIZE,
                              sort=self.sort)
        now = clock.now()
        return [board_row_view(r, now) for r in result.rows], result.total, result.pages

    async def _prepare(self, principal) -> None:  # noqa: ANN001
        await self._load_directory(principal)

    async def _fetch(self, principal) -> None:  # noqa: ANN001
        """The page of rows; with the bulk actions on the whole filter, what they would touch is read again."""
        await super()._fetch(principal)
        await self._preview_filter(principal)


S = TowerShipmentsState


def _board_filters() -> tuple[rx.Component, ...]:
    p = S.params
    return (
        rx.box(native_select("Branch", "branch", [("", "All branches")], value=p.get("branch", ""),
                             select_id="filter-branch", more=S.branches)),
        rx.box(native_select("Team", "team", [("", "All teams")], value=p.get("team", ""), select_id="filter-team",
                             more=S.teams)),
        rx.box(native_select("Owner", "owner", [("", "Anyone"), ("none", "Nobody")], value=p.get("owner", ""),
                             select_id="filter-owner", more=S.people)),
        rx.box(labelled_input("Customer code", "customer", default_value=p.get("customer", ""), max_length=20,
                              placeholder="e.g. ACME"), width="140px"),
        labelled_checkbox("Open exception", "exception", checked=p.get("exception", "") == "1",
                          input_id="filter-exception"),
        rx.box(native_select("SLA", "sla", SLA_CHOICES, value=p.get("sla", "all"), select_id="filter-sla")),
        rx.box(labelled_input("Breaching within (hours)", "sla_hours", type="number", min="1",
                              max=str(board.MAX_SLA_HOURS),
                              default_value=p.get("sla_hours", str(board.DEFAULT_SLA_HOURS))), width="170px"),
    )


HEADERS = ["Reference", "Customer", "Mode", "Status", "Route", "Arrival", "Owner", "Team", "Open exceptions",
           "Next SLA"]


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(select_row_box(S, r.reference)),
        rx.table.row_header_cell(rx.link(r.reference, href=r.href, weight="bold")),
        rx.table.cell(r.company),
        rx.table.cell(r.mode),
        rx.table.cell(status_badge(r.status)),
        rx.table.cell(rx.text(r.origin, " → ", r.destination, size="2")),
        rx.table.cell(rx.text(r.eta_kind, ": ", r.eta),
                      rx.text(r.delay, size="1", color=rx.cond(r.late == "yes", DANGER, MUTED_TEXT))),
        rx.table.cell(r.owner),
        rx.table.cell(r.team),
        rx.table.cell(r.exceptions),
        rx.table.cell(rx.text(r.sla, weight=rx.cond(r.breached == "yes", "bold", "regular"),
                              color=rx.cond(r.breached == "yes", DANGER, "inherit"))),
    )


@area_page("tower", routes.TOWER_SHIPMENTS, "Shipments board", TowerShipmentsState.load)
def tower_shipments() -> rx.Component:
    return rx.vstack(
        rx.heading("Shipments board", size="7", as_="h1"),
        filters_form(S, _board_filters()),
        views_bar(S, exports=False),
        list_messages(S),
        rx.table.root(
            table_caption("Shipments board"),
            rx.table.header(rx.table.row(
                rx.table.column_header_cell(select_all_box(S), scope="col"),
                *[sort_header(S, h, SORTABLE.get(h), rx.table.column_header_cell) for h in HEADERS],
            )),
            # On a phone each row is a card (portal.css .card-rows), its cells labelled by their columns.
            rx.table.body(rx.foreach(S.rows, lambda r: labelled_cells(_row(r), ["Select", *HEADERS]))),
            variant="surface",
            width="100%",
            class_name="card-rows",
        ),
        rx.cond(S.total == 0,
                rx.text("No shipments match these filters. Select Clear, or change the filters.", color=MUTED_TEXT),
                rx.fragment()),
        pager(S),
        bulk_bar(S),
        voyage_panel(S),
        spacing="4",
        width="100%",
    )
