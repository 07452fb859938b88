"""Quote requests' limits, the inputs they are made from and the views they are read as."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import ConfigDict, Field

from portal_app.services.inputs import Amount, Body, IsoDate, WholeNumber
from portal_app.services.read_models import SERVED_WHOLE

MAX_PAGE_SIZE = 100
MAX_LINES = 20
MAX_CONTAINERS_PER_LINE = 50
MAX_PACKAGES_PER_LINE = 9999
MAX_DIMENSION_CM = Decimal(1500)
MAX_WEIGHT_KG = Decimal(500000)
MAX_READY_DAYS_AHEAD = 365
OPTION_VALID_DAYS = 7
NOTHING_SUBMITTED = "Your draft is saved; nothing was sent."
SORTS = ("cheapest", "fastest")
# "updated": the latest change first ("-updated" the oldest); the columns ascending, "-" descending.
LIST_SORTS = ("updated", "-updated", "reference", "-reference", "ready", "-ready")
# Incoterms that work for any mode, offered in place of the four sea-only ones.
ANY_MODE_EQUIVALENT = {"FAS": "FCA", "FOB": "FCA", "CFR": "CPT", "CIF": "CIP"}


# ---------------------------------------------------------------------------------------------------- inputs


class CargoLineInput(Body):
    """One cargo line as typed: packages with per-package dimensions and the line's total gross weight, or
    containers of one ISO 6346 size-type (FCL). Blanks are fine in a draft; the service checks what the line
    needs when the request is submitted."""

    model_config = ConfigDict(frozen=True)

    description: str | None = Field(None, max_length=200)
    packages: WholeNumber | None = Field(None, description="Number of packages (loose cargo)")
    length_cm: Amount | None = Field(None, description="Per package")
    width_cm: Amount | None = None
    height_cm: Amount | None = None
    weight_kg: Amount | None = Field(None, description="Total gross weight of the line")
    container_size_type: str | None = Field(None, max_length=4, description="ISO 6346, e.g. 22G1, 45G1 (FCL only)")
    container_count: WholeNumber | None = None
    is_dangerous_goods: bool = False
    un_number: str | None = Field(None, max_length=10, description="Four digits, e.g. 1263 or 'UN 1263'")
    dg_class: str | None = Field(None, max_length=4, description="e.g. 3, 2.1, 6.1")


class QuoteInput(Body):
    """A quote request; every field may be left out while it is a draft. ``origin`` and ``destination`` are
    location codes (UN/LOCODE or IATA). The API takes it as its body and the quote form parses into it
    (:func:`portal_app.services.inputs.parse`), so both refuse the same values."""

    model_config = ConfigDict(frozen=True)

    mode: str | None = Field(None, max_length=12, description="ocean_fcl, ocean_lcl, air, road_ftl, road_ltl")
    origin: str | None = Field(None, max_length=10, description="UN/LOCODE (ocean, road) or IATA code (air)")
    destination: str | None = Field(None, max_length=10)
    ready_date: IsoDate | None = None
    incoterm: str | None = Field(None, max_length=3)
    # Sequences also take a list or a tuple from Python callers (JSON sends arrays either way).
    services: tuple[Annotated[str, Field(max_length=20)], ...] = Field(
        default_factory=tuple, max_length=4, strict=False, description="pickup, customs, insurance, delivery")
    cargo_value: Amount | None = None
    cargo_currency: str | None = Field(None, max_length=3)
    customer_reference: str | None = Field(None, max_length=40)
    lines: tuple[CargoLineInput, ...] = Field(default_factory=tuple, max_length=MAX_LINES, strict=False)


class ManualChargeInput(Body):
    model_config = ConfigDict(frozen=True)

    code: str = Field(max_length=20)
    description: str = Field(max_length=200)
    quantity: Amount
    unit_price: Amount


class ManualOptionInput(Body):
    """A price ops puts together by hand for a request no rate card matched."""

    model_config = ConfigDict(frozen=True)

    currency: str = Field(max_length=3)
    transit_days: WholeNumber
    valid_until: IsoDate
    charges: tuple[ManualChargeInput, ...] = Field(max_length=40, strict=False)
    carrier_code: str | None = Field(None, max_length=10)
    notes: str | None = Field(None, max_length=400)


# ---------------------------------------------------------------------------------------------------- views


@dataclass(frozen=True)
class CargoLineView:
    __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

    description: str | None
    packages: int | None
    length_cm: Decimal | None
    width_cm: Decimal | None
    height_cm: Decimal | None
    weight_kg: Decimal | None
    container_size_type: str | None
    container_count: int | None
    is_dangerous_goods: bool
    un_number: str | None
    dg_class: str | None
    volume_m3: Annotated[Decimal | None, Field(
        description="Computed: length x width x height x packages, in m3 (none for containers)")] = None
    container_type: Annotated[str | None, Field(description="The container size-type in words, e.g. 40' high "
                                                            "cube")] = None


@dataclass(frozen=True)
class OptionChargeView:
    __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

    code: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class OptionView:
    __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

    id: int
    quote_reference: str
    carrier_code: str | None
    carrier_name: str | None
    currency: str
    total: Annotated[Decimal, Field(description="All-in price")]
    total_text: str  # "USD 4,785.00"
    transit_days: int
    valid_until: datetime
    status: Annotated[str, Field(description="offered, accepted, expired (past valid_until) or declined")]
    is_manual: bool
    notes: str | None
    shipment_reference: str | None
    can_accept: bool = False  # derived from ``status`` (whatever is given is replaced)
    charges: tuple[OptionChargeView, ...] = ()
    demurrage_free_days: Annotated[int | None, Field(
        description="Free days in the terminal, from the rate card the option was priced from; none: the carrier's "
                    "standard terms")] = None
    detention_free_days: Annotated[int | None, Field(
        description="Free days outside the terminal until the empty is returned; none: standard terms")] = None
    free_time: Annotated[str | None, Field(
        description="Ocean options: the free time in words, e.g. 'Demurrage 7 free days, detention 14 free "
                    "days' or 'Standard terms'")] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "can_accept", self.status == "offered")


@dataclass(frozen=True)
class QuoteRow:
    __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

    reference: str
    status: str
    mode: str | None
    origin: str | None
    destination: str | None
    ready_date: date | None
    company_name: str
    requested_by: str
    options: int
    best_total_text: str | None  # cheapest open option, e.g. "EUR 1,234.00"
    is_manual: bool
    manual_due_at: datetime | None
    sla_overdue: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class QuoteView:
    __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

    reference: str
    status: Annotated[str, Field(description="draft, requested (being priced by our team), quoted, accepted, expired, "
                                             "declined")]
    mode: str | None
    mode_label: str | None
    origin: str | None
    origin_name: str | None
    destination: str | None
    destination_name: str | None
    ready_date: date | None
    incoterm: str | None
    services: tuple[str, ...]
    cargo_value: Decimal | None
    cargo_currency: str | None
    customer_reference: str | None
    is_manual: bool
    manual_due_at: Annotated[datetime | None, Field(description="When our team will have priced a manual quote (SLA)")]
    submitted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    company_name: str
    requested_by: str
    version: int
    gross_weight_kg: Decimal
    volume_m3: Decimal
    chargeable_weight_kg: Decimal | None  # air and road groupage
    revenue_tonnes: Decimal | None  # ocean LCL (W/M)
    lines: tuple[CargoLineView, ...] = ()
    options: tuple[OptionView, ...] = ()
    problems: Annotated[Mapping[str, str], Field(description="Drafts: what still stops submitting, by field")] = field(
        default_factory=dict)
