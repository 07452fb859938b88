"""The shipment import's file layout, limits, and the report it answers with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar

from pydantic import ConfigDict, Field

from portal_app.services.errors import FileRefused
from portal_app.services.read_models import SERVED_WHOLE

MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_SHIPMENT_ROWS = 2_000
MAX_MILESTONE_ROWS = 30_000
MAX_COLUMNS = 80
MAX_REPORTED_PROBLEMS = 500
MAX_CONTAINERS = 200
NOTHING_IMPORTED = "Nothing was imported."

SHIPMENTS = "Shipments"
MILESTONES = "Milestones"

# One row per shipment. A blank cell leaves what is stored as it is (an import never erases a value).
SHIPMENT_COLUMNS = (
    "reference", "customer", "mode", "origin", "destination", "carrier", "vessel", "voyage", "flight", "booking",
    "mbl", "hbl", "awb", "hawb", "customer_po", "incoterm", "shipper", "shipper_address", "consignee",
    "consignee_address", "notify_party", "cargo_description", "packages", "gross_weight_kg", "volume_cbm",
    "ready_date", "containers",
)
SHIPMENT_REQUIRED = ("reference", "customer", "mode", "origin", "destination")
# One row per milestone of a shipment (a step of the shipment's milestone template).
MILESTONE_COLUMNS = ("reference", "milestone", "planned", "estimated", "actual", "location")
MILESTONE_REQUIRED = ("reference", "milestone")
# Header names a TMS export often uses for the same columns.
COLUMN_ALIASES = {
    "shipment_reference": "reference", "shipment": "reference", "customer_code": "customer", "company": "customer",
    "pol": "origin", "pod": "destination", "carrier_code": "carrier", "vessel_name": "vessel",
    "voyage_number": "voyage", "flight_number": "flight", "booking_number": "booking", "mbl_number": "mbl",
    "hbl_number": "hbl", "awb_number": "awb", "hawb_number": "hawb", "po": "customer_po",
    "shipper_name": "shipper", "consignee_name": "consignee", "step": "milestone", "milestone_code": "milestone",
    "planned_at": "planned", "estimated_at": "estimated", "actual_at": "actual",
}


@dataclass(frozen=True)
class ImportProblem:
    __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

    sheet: Annotated[str, Field(description="Shipments or Milestones (the sheet, or the section of a CSV file)")]
    row: Annotated[int, Field(description="Row as a spreadsheet shows it: the file's first line is row 1")]
    column: str
    problem: str


@dataclass(frozen=True)
class ImportReport:
    __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

    filename: str
    shipment_rows: int
    milestone_rows: int
    imported: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: tuple[ImportProblem, ...] = ()
    created_references: tuple[str, ...] = ()
    updated_references: tuple[str, ...] = ()


class ImportRefused(FileRefused):
    """The file has bad rows; ``report`` lists each one. Nothing was imported."""

    def __init__(self, report: ImportReport) -> None:
        shown = report.problems[0]
        super().__init__(report, f"{shown.sheet} row {shown.row}, column {shown.column}")
