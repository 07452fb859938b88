"""Tower: import shipments from the forwarder's TMS. The template (CSV or Excel), a file drop, and the answer: a
refused file shows its report row by row (sheet, row, column, problem) and says nothing was imported; an applied
file says how many shipments were created, updated and left unchanged, with links to them
(``services/shipment_import``, docs/imports.md).

Ops managers and admins import (``Permission.IMPORT_SHIPMENTS``); anyone else sees why not, and the service
refuses them whatever the page shows.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import reflex as rx

from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.components.document_upload import file_dropzone
from portal_app.components.layout import area_page
from portal_app.components.ui import (
    MUTED_TEXT,
    download_link,
    error_callout,
    info_callout,
    primary_button,
    table_caption,
)
from portal_app.edge.body_limit import shipment_import_form, upload_form_limit
from portal_app.services import shipment_import as svc
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

log = logging.getLogger(__name__)

UPLOAD_ID = "shipment-import"
TEMPLATE_URL = "/api/v1/shipments/import/template"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MANAGERS_ONLY = ("Shipment imports are for ops managers and admins. Ask one of them to import the TMS export, or "
                 "edit a shipment on the board.")
MAX_SHOWN = 200  # imported shipments listed on the page (the summary counts all of them)


@dataclass(frozen=True)
class ImportProblemLine:
    """One problem of a refused file: where it is (sheet, row, column) and what is wrong."""

    sheet: str
    row: str
    column: str
    problem: str


@dataclass(frozen=True)
class ImportedLine:
    """A shipment the import created or updated, with the link to it on the board."""

    reference: str
    href: str
    outcome: str


class TowerImportsState(SessionState):
    can_import: bool = False
    import_error: str = ""
    import_notice: str = ""
    import_problems: list[ImportProblemLine] = []
    imported: list[ImportedLine] = []

    def _clear(self) -> None:
        self.import_error, self.import_notice, self.import_problems, self.imported = "", "", [], []

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        self.can_import = principal.can(Permission.IMPORT_SHIPMENTS)
        self._clear()

    @page_event("tower")
    async def import_rejected(self, principal: Principal, rejected: list[dict[str, Any]]) -> Any:
        self._clear()
        self.import_error = (f"That file cannot be sent: choose one .csv or .xlsx file of at most "
                             f"{svc.MAX_IMPORT_BYTES // (1024 * 1024)} MB. {svc.NOTHING_IMPORTED}")
        return rx.clear_selected_files(UPLOAD_ID)

    @upload_form_limit(shipment_import_form)
    @page_event("tower", upload=True)
    async def import_file(self, principal: Principal, files: list[rx.UploadFile]) -> Any:
        self._clear()
        try:
            if len(files) != 1:
                self.import_error = f"Choose one file to import first. {svc.NOTHING_IMPORTED}"
                return None
            name = files[0].filename or "shipments.csv"
            data = await asyncio.to_thread(files[0].file.read, svc.MAX_IMPORT_BYTES + 1)
            report = await run_db(svc.import_shipments, principal, name, data)
        except svc.ImportRefused as exc:
            count = len(exc.report.problems)
            self.import_error = (f"{exc.report.filename} was refused: {count} {'problem' if count == 1 else 'problems'}"
                                 f" in the report below. Fix the file and import all of it again. "
                                 f"{svc.NOTHING_IMPORTED}")
            self.import_problems = [ImportProblemLine(p.sheet, str(p.row), p.column, p.problem)
                                    for p in exc.report.problems]
        except ServiceError as exc:
            self.import_error = exc.message
        except Exception:  # a failure on our side must still end with a clear message
            log.exception("shipment import failed")
            self.import_error = f"The import failed on our side. {svc.NOTHING_IMPORTED} Try again in a minute."
        else:
            self.import_notice = (f"Imported {report.filename}: created {report.created}, updated {report.updated}, "
                                  f"unchanged {report.unchanged}.")
            lines = [(r, "Created") for r in report.created_references] + \
                    [(r, "Updated") for r in report.updated_references]
            self.imported = [ImportedLine(r, routes.link(routes.TOWER_SHIPMENT, reference=r), outcome)
                             for r, outcome in lines[:MAX_SHOWN]]
        return rx.clear_selected_files(UPLOAD_ID)


S = TowerImportsState


def _problems_table() -> rx.Component:
    return rx.table.root(
        table_caption("Import report"),
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col")
                                       for h in ("Sheet", "Row", "Column", "Problem")])),
        rx.table.body(rx.foreach(S.import_problems, lambda p: rx.table.row(
            rx.table.cell(p.sheet), rx.table.row_header_cell(p.row), rx.table.cell(p.column),
            rx.table.cell(p.problem),
        ))),
        size="1",
        width="100%",
    )


def _imported_table() -> rx.Component:
    return rx.table.root(
        table_caption("Imported shipments"),
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col")
                                       for h in ("Shipment", "Outcome")])),
        rx.table.body(rx.foreach(S.imported, lambda r: rx.table.row(
            rx.table.row_header_cell(rx.link(r.reference, href=r.href, aria_label="Open imported " + r.reference)),
            rx.table.cell(r.outcome),
        ))),
        size="1",
        width="100%",
    )


def _import_block() -> rx.Component:
    limit = svc.MAX_IMPORT_BYTES // (1024 * 1024)
    return rx.card(
        rx.vstack(
            rx.text("A CSV (UTF-8) or Excel file from your TMS: one row per shipment, and its milestones below (CSV) "
                    "or on a Milestones sheet (Excel). Every row is checked first: a file with any bad row is refused "
                    "whole and nothing is imported. A shipment already here (same reference) is updated, never "
                    "duplicated; a blank cell leaves the stored value. Customers are not notified of imported "
                    "milestones.", size="2"),
            rx.hstack(
                download_link("Download the shipment template (CSV)", TEMPLATE_URL + "?format=csv"),
                download_link("Download the shipment template (Excel)", TEMPLATE_URL + "?format=xlsx"),
                spacing="4",
                wrap="wrap",
            ),
            file_dropzone("Shipment file to import", UPLOAD_ID, f".csv or .xlsx; up to {limit} MB.",
                          svc.MAX_IMPORT_BYTES, S.import_rejected,
                          accept={"text/csv": [".csv"], XLSX_TYPE: [".xlsx"]}),
            primary_button("Import shipments file", on_click=S.import_file(rx.upload_files(upload_id=UPLOAD_ID))),
            rx.cond(S.import_error != "", error_callout(S.import_error, data_testid="shipment-import-error"),
                    rx.fragment()),
            rx.cond(S.import_notice != "", info_callout(S.import_notice, data_testid="shipment-import-notice"),
                    rx.fragment()),
            rx.cond(S.import_problems.length() > 0, _problems_table(), rx.fragment()),
            rx.cond(S.imported.length() > 0, _imported_table(), rx.fragment()),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


@area_page("tower", routes.TOWER_IMPORTS, "Import shipments", TowerImportsState.load)
def tower_imports() -> rx.Component:
    return rx.vstack(
        rx.heading("Import shipments", size="6", as_="h1"),
        rx.text("Bring shipments from the forwarder's TMS into the portal, with their parties, containers and "
                "milestones.", color=MUTED_TEXT),
        rx.cond(S.can_import, _import_block(), info_callout(MANAGERS_ONLY)),
        spacing="4",
        width="100%",
    )
