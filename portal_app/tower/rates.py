"""Tower: rate cards. The list (filters: mode, origin, destination, carrier, state; paged), "New rate card", and
the import of a CSV or Excel file through an upload: a file with any bad row shows the report (row, column,
problem) and nothing is imported; a good file says how many cards were imported (``services/rate_cards.py``).

Ops agents read rate cards (they price requests by hand); changing them is for ops managers and admins, and the
service refuses anyone else whatever the page shows.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import reflex as rx

from models.enums import Mode
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.components.document_upload import file_dropzone
from portal_app.components.formatting import MODE_LABELS, fmt_date
from portal_app.components.layout import area_page
from portal_app.components.ui import (
    MUTED_TEXT,
    download_link,
    error_callout,
    info_callout,
    labelled_input,
    primary_button,
    responsive_grid,
    secondary_button,
    table_caption,
)
from portal_app.components.work_queue import PagedQueueBase, button_link, native_select, queue_page, queue_table
from portal_app.edge.body_limit import rate_import_form, upload_form_limit
from portal_app.services import rate_cards as svc
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

log = logging.getLogger(__name__)

PAGE_SIZE = 50
UPLOAD_ID = "rate-import"
TEMPLATE_URL = "/api/v1/rate-cards/import-template.csv"
MODE_CHOICES = [("all", "All modes")] + [(m.value, MODE_LABELS[m.value]) for m in Mode]
STATE_CHOICES = [("all", "Any state"), ("active", "Active (valid today)"), ("future", "Starts later"),
                 ("expired", "Expired"), ("inactive", "Deactivated")]
FILTERS = ("mode", "origin", "destination", "carrier", "state")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MANAGERS_ONLY = "Rate cards are changed by ops managers and admins. You can read them to price requests by hand."


@dataclass(frozen=True)
class RateCardLine:
    """A rate card as the list shows it."""

    id: str
    href: str
    lane: str
    lane_names: str
    mode: str
    carrier: str
    valid: str
    currency: str
    transit: str
    charges: str
    state: str


def rate_row_view(r: svc.RateCardRow) -> RateCardLine:
    return RateCardLine(
        id=str(r.id),
        href=routes.link(routes.TOWER_RATE_CARD, card_id=r.id),
        lane=f"{r.origin} → {r.destination}",
        lane_names=f"{r.origin_name} to {r.destination_name}",
        mode=MODE_LABELS.get(r.mode, r.mode),
        carrier=r.carrier_code or "Any",
        valid=f"{fmt_date(r.valid_from)} – {fmt_date(r.valid_to)}",
        currency=r.currency,
        transit=f"{r.transit_days} d",
        charges=str(r.charges),
        state=r.state,
    )


@dataclass(frozen=True)
class ImportProblem:
    """One problem of a refused import file: the file's row, the column and what is wrong."""

    row: str
    column: str
    problem: str


def rate_state_badge(state: rx.Var) -> rx.Component:
    return rx.badge(state, color_scheme=rx.match(state, ("active", "green"), ("future", "blue"),
                                                 ("expired", "amber"), "gray"), variant="soft", high_contrast=True)


class TowerRatesState(PagedQueueBase, SessionState):
    rows: list[RateCardLine] = []
    filters: dict[str, str] = {}
    form_key: int = 0
    can_manage: bool = False
    import_error: str = ""
    import_notice: str = ""
    import_problems: list[ImportProblem] = []

    def _query(self):  # noqa: ANN202
        f = self.filters
        return svc.list_rate_cards, {
            "mode": f.get("mode") or None, "origin": f.get("origin") or None,
            "destination": f.get("destination") or None, "carrier": f.get("carrier") or None,
            "state": f.get("state") or None, "page": self.page, "page_size": PAGE_SIZE,
        }

    def _row(self, item: svc.RateCardRow) -> RateCardLine:
        return rate_row_view(item)

    def _start(self, principal) -> None:  # noqa: ANN001
        self.can_manage = principal.can(Permission.MANAGE_RATES)
        self.filters = {}
        self.import_error = self.import_notice = ""
        self.import_problems = []

    @page_event("tower")
    async def apply_filters(self, principal: Principal, form: dict) -> None:
        self.filters = {k: str(form.get(k, "")).strip()[:12] for k in FILTERS if str(form.get(k, "")).strip()
                        and str(form.get(k, "")).strip() != "all"}
        self.page = 1
        await self._fetch(principal)

    @page_event("tower")
    async def clear_filters(self, principal: Principal) -> None:
        self.filters, self.page = {}, 1
        self.form_key += 1
        await self._fetch(principal)

    @page_event("tower")
    async def import_rejected(self, principal: Principal, rejected: list[dict[str, Any]]) -> Any:
        self.import_notice, self.import_problems = "", []
        self.import_error = (f"That file cannot be sent: choose one .csv or .xlsx file of at most "
                             f"{svc.MAX_IMPORT_BYTES // (1024 * 1024)} MB. {svc.NOTHING_IMPORTED}")
        return rx.clear_selected_files(UPLOAD_ID)

    @upload_form_limit(rate_import_form)
    @page_event("tower", upload=True)
    async def import_file(self, principal: Principal, files: list[rx.UploadFile]) -> Any:
        self.import_error, self.import_notice, self.import_problems = "", "", []
        try:
            if len(files) != 1:
                self.import_error = f"Choose one file to import first. {svc.NOTHING_IMPORTED}"
                return None
            name = files[0].filename or "rates.csv"
            data = await asyncio.to_thread(files[0].file.read, svc.MAX_IMPORT_BYTES + 1)
            report = await run_db(svc.import_rate_cards, principal, name, data)
        except svc.ImportRefused as exc:
            count = len(exc.report.problems)
            self.import_error = (f"{exc.report.filename} was refused: {count} {'problem' if count == 1 else 'problems'}"
                                 f" in the report below. Fix the file and import all of it again. "
                                 f"{svc.NOTHING_IMPORTED}")
            self.import_problems = [ImportProblem(str(p.row), p.column, p.problem) for p in exc.report.problems]
        except ServiceError as exc:
            self.import_error = exc.message
        except Exception:  # a failure on our side must still end with a clear message
            log.exception("rate card import failed")
            self.import_error = f"The import failed on our side. {svc.NOTHING_IMPORTED} Try again in a minute."
        else:
            self.import_notice = (f"Imported {report.cards} rate cards with {report.charges} charges from "
                                  f"{report.filename}. They are active from their first valid day.")
            await self._fetch(principal)
        return rx.clear_selected_files(UPLOAD_ID)


S = TowerRatesState


def _filters() -> rx.Component:
    return rx.el.form(
        responsive_grid(
            native_select("Mode", "mode", MODE_CHOICES, select_id="rate-filter-mode"),
            labelled_input("Origin", "origin", id="rate-filter-origin", placeholder="CNSHA or PVG", max_length=5),
            labelled_input("Destination", "destination", id="rate-filter-destination", placeholder="NLRTM or FRA",
                           max_length=5),
            labelled_input("Carrier", "carrier", id="rate-filter-carrier", placeholder="MAEU or LH", max_length=10),
            native_select("State", "state", STATE_CHOICES, select_id="rate-filter-state"),
            narrow=2, wide=5,
            spacing="3",
            width="100%",
        ),
        rx.hstack(
            primary_button("Apply filters", type="submit"),
            secondary_button("Clear filters", type="button", on_click=S.clear_filters),
            margin_top="12px",
        ),
        on_submit=S.apply_filters,
        key=S.form_key,
        role="search",
        aria_label="Filter rate cards",
        style={"width": "100%"},
    )


def _import_block() -> rx.Component:
    limit = svc.MAX_IMPORT_BYTES // (1024 * 1024)
    return rx.card(
        rx.vstack(
            rx.heading("Import rate cards", size="4", as_="h2"),
            rx.text("A CSV (UTF-8) or Excel file, one row per charge. Every row is checked first: a file with any "
                    "bad row is refused whole and nothing is imported.", size="2"),
            download_link("Download the template (CSV)", TEMPLATE_URL),
            file_dropzone("File to import", UPLOAD_ID, f".csv or .xlsx; up to {limit} MB.", svc.MAX_IMPORT_BYTES,
                          S.import_rejected, accept={"text/csv": [".csv"], XLSX_TYPE: [".xlsx"]}),
            primary_button("Import file", on_click=S.import_file(rx.upload_files(upload_id=UPLOAD_ID))),
            rx.cond(S.import_error != "", error_callout(S.import_error, data_testid="import-error"), rx.fragment()),
            rx.cond(S.import_notice != "", info_callout(S.import_notice, data_testid="import-notice"), rx.fragment()),
            rx.cond(
                S.import_problems.length() > 0,
                rx.table.root(
                    table_caption("Import report"),
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col")
                                                   for h in ("Row", "Column", "Problem")])),
                    rx.table.body(rx.foreach(S.import_problems, lambda p: rx.table.row(
                        rx.table.row_header_cell(p.row), rx.table.cell(p.column), rx.table.cell(p.problem),
                    ))),
                    size="1",
                    width="100%",
                ),
                rx.fragment(),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(r.lane, href=r.href, weight="bold",
                                         aria_label="Rate card " + r.id + ": " + r.lane_names)),
        rx.table.cell(r.mode),
        rx.table.cell(r.carrier),
        rx.table.cell(r.valid),
        rx.table.cell(r.currency),
        rx.table.cell(r.transit),
        rx.table.cell(r.charges),
        rx.table.cell(rate_state_badge(r.state)),
    )


@area_page("tower", routes.TOWER_RATES, "Rate cards", TowerRatesState.load)
def tower_rates() -> rx.Component:
    headers = ["Lane", "Mode", "Carrier", "Valid", "Currency", "Transit", "Charges", "State"]
    return rx.vstack(
        queue_page(
            S, "Rate cards",
            rx.text(S.total, " rate cards match", color=MUTED_TEXT, data_testid="rate-count"),
            rx.fragment(),
            queue_table(S, "Rate cards", headers, _row, "No rate cards match these filters."),
            rx.cond(S.can_manage, button_link("New rate card", routes.link(routes.TOWER_RATE_CARD, card_id="new")),
                    info_callout(MANAGERS_ONLY)),
            _filters(),
        ),
        rx.cond(S.can_manage, _import_block(), rx.fragment()),
        spacing="4",
        width="100%",
    )
