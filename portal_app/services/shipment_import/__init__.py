"""Shipments imported from the forwarder's TMS (CSV or Excel): shipments with their parties, containers and
milestones.

An import is all or nothing: every row is checked first; a file with any bad row is refused whole with a report
(sheet, row number as the spreadsheet shows it, column, problem in plain words) and nothing is stored. A good file
is applied in one transaction. Idempotent by shipment reference: importing a shipment again updates it, never
duplicates it. The layout and every rule are in docs/imports.md.
"""

from portal_app.services.shipment_import.importing import import_shipments, require_import
from portal_app.services.shipment_import.shapes import (
    MAX_IMPORT_BYTES,
    MAX_MILESTONE_ROWS,
    MAX_SHIPMENT_ROWS,
    MILESTONE_COLUMNS,
    NOTHING_IMPORTED,
    SHIPMENT_COLUMNS,
    ImportProblem,
    ImportRefused,
    ImportReport,
)
from portal_app.services.shipment_import.template import import_template_csv, import_template_xlsx

__all__ = [
    "MAX_IMPORT_BYTES",
    "MAX_MILESTONE_ROWS",
    "MAX_SHIPMENT_ROWS",
    "MILESTONE_COLUMNS",
    "NOTHING_IMPORTED",
    "SHIPMENT_COLUMNS",
    "ImportProblem",
    "ImportRefused",
    "ImportReport",
    "import_shipments",
    "import_template_csv",
    "import_template_xlsx",
    "require_import",
]
