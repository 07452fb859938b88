"""Rate cards' limits, the import file's columns, the inputs cards are made from and the views they are read as."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import ConfigDict, Field

from models.enums import Mode
from portal_app.services.errors import FileRefused
from portal_app.services.inputs import Amount, Body, IsoDate, WholeNumber
from portal_app.services.read_models import SERVED_WHOLE

MAX_PAGE_SIZE = 200
MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000
MAX_CHARGES = 60
MAX_TRANSIT_DAYS = 120
MAX_FREE_DAYS = 90
MAX_REPORTED_PROBLEMS = 500
RATE_QUANTUM = Decimal("0.0001")
NOTHING_IMPORTED = "Nothing was imported."

# The import file: one row per charge; the card columns repeat on every row of the same card.
CARD_COLUMNS = ("card", "mode", "origin", "destination", "carrier", "valid_from", "valid_to", "currency",
                "transit_days", "notes", "demurrage_free_days", "detention_free_days")
CHARGE_COLUMNS = ("charge_code", "charge_description", "basis", "size_type", "min_quantity", "rate",
                  "minimum_charge", "percent_of", "service")
IMPORT_COLUMNS = CARD_COLUMNS + CHARGE_COLUMNS
REQUIRED_COLUMNS = ("card", "mode", "origin", "destination", "valid_from", "valid_to", "currency", "transit_days",
                    "charge_code", "basis", "rate")
# Which bases suit which mode (a full truck is priced per shipment; groupage by weight, W/M or per package).
BASES_BY_MODE: dict[str, tuple[str, ...]] = {
    Mode.OCEAN_FCL.value: ("per_container", "per_shipment", "per_unit", "percent"),
    Mode.OCEAN_LCL.value: ("per_wm", "per_kg", "per_shipment", "per_unit", "percent"),
    Mode.AIR.value: ("per_kg", "per_shipment", "per_unit", "percent"),
    Mode.ROAD_FTL.value: ("per_shipment", "per_kg", "percent"),
    Mode.ROAD_LTL.value: ("per_kg", "per_wm", "per_shipment", "per_unit", "percent"),
}


# ---------------------------------------------------------------------------------------------------- DTOs


class RateChargeInput(Body):
    model_config = ConfigDict(frozen=True)

    code: str = Field(max_length=20, description="FRT (freight, required), BAF, THC, DOC, CUS, INS, ...")
    description: str = Field(max_length=120)
    basis: str = Field(description="per_container, per_wm, per_kg, per_shipment, per_unit, percent")
    rate: Amount = Field(description="Amount per unit, or a percentage for percent (0.35 = 0.35 %)")
    size_type: str | None = Field(None, max_length=4, description="per_container: ISO 6346 code, empty for any")
    min_quantity: Amount | None = Field(None, description="per_kg: weight break lower bound in kg")
    minimum_charge: Amount | None = None
    percent_of: str | None = Field(None, description="percent: freight or cargo_value")
    service: str | None = Field(None, description="pickup, customs, insurance or delivery: charged only when asked")


class RateCardInput(Body):
    """A rate card as typed; ``origin`` and ``destination`` are location codes, ``carrier_code`` a carrier's code.
    The API's body (with the version an update expects) and what the rate card page parses its form into."""

    model_config = ConfigDict(frozen=True)

    mode: str = Field(max_length=12)
    origin: str = Field(max_length=10)
    destination: str = Field(max_length=10)
    valid_from: IsoDate
    valid_to: IsoDate
    currency: str = Field(max_length=3)
    transit_days: WholeNumber
    charges: tuple[RateChargeInput, ...] = Field(max_length=MAX_CHARGES, strict=False)
    carrier_code: str | None = Field(None, max_length=10)
    notes: str | None = Field(None, max_length=400)
    demurrage_free_days: WholeNumber | None = Field(
        None, description=f"Free days in the terminal (0-{MAX_FREE_DAYS}); empty: the carrier's standard terms")
    detention_free_days: WholeNumber | None = Field(
        None, description=f"Free days outside the terminal (0-{MAX_FREE_DAYS}); empty: the carrier's standard terms")


@dataclass(frozen=True)
class RateChargeView:
    __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

    id: int
    code: str
    description: str
    basis: str
    basis_label: str
    size_type: str | None
    min_quantity: Decimal | None
    rate: Decimal
    minimum_charge: Decimal | None
    percent_of: str | None
    service: str | None


@dataclass(frozen=True)
class RateCardRow:
    __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

    id: int
    mode: str
    origin: str
    origin_name: str
    destination: str
    destination_name: str
    carrier_code: str | None
    carrier_name: str | None
    valid_from: date
    valid_to: date
    currency: str
    transit_days: int
    is_active: bool
    state: Annotated[str, Field(description="active (valid today), expired, future, inactive")]
    charges: int
    updated_at: datetime


@dataclass(frozen=True)
class RateCardView(RateCardRow):
    """One card with its notes, version and charge lines (the API serves it as it is: the row's fields flat;
    ``charges`` is the row's count, ``charge_lines`` the charges themselves)."""

    notes: str | None
    version: int
    charge_lines: tuple[RateChargeView, ...] = ()
    demurrage_free_days: Annotated[int | None, Field(description="None: the carrier's standard terms")] = None
    detention_free_days: Annotated[int | None, Field(description="None: the carrier's standard terms")] = None

    @property
    def row(self) -> RateCardRow:
        """The card as the list shows it."""
        return RateCardRow(**{f.name: getattr(self, f.name) for f in fields(RateCardRow)})


@dataclass(frozen=True)
class ImportProblem:
    __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

    row: Annotated[int, Field(description="Spreadsheet row: the header is row 1")]  # first data row is row 2
    column: str
    problem: str


@dataclass(frozen=True)
class ImportReport:
    __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

    filename: str
    rows: int
    cards: int
    charges: int
    imported: bool
    problems: tuple[ImportProblem, ...] = ()
    card_ids: tuple[int, ...] = ()


class ImportRefused(FileRefused):
    """The file has bad rows; ``report`` lists each one. Nothing was imported."""

    def __init__(self, report: ImportReport) -> None:
        shown = report.problems[0]
        super().__init__(report, f"row {shown.row}, column {shown.column}")
