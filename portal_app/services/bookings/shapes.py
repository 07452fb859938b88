"""Bookings' limits, what a customer confirms to book and the views bookings and change requests are read as."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import ConfigDict, Field

from models.enums import ShipmentStatus
from portal_app.services.inputs import Body
from portal_app.services.quotes.shapes import CargoLineView
from portal_app.services.read_models import SERVED_WHOLE

ACCEPT_OPERATION = "accept_option"
MAX_KEY_LENGTH = 100
REASON_MIN = 5
MAX_PAGE_SIZE = 100
NOTHING_BOOKED = "Nothing was booked."
# A shipment can still be amended or cancelled until it has left.
CHANGEABLE_STATUSES = (ShipmentStatus.BOOKED.value, ShipmentStatus.CONFIRMED.value)
AMENDABLE_FIELDS: dict[str, str] = {
    "ready_date": "Ready date",
    "shipper_name": "Shipper",
    "shipper_address": "Shipper address",
    "consignee_name": "Consignee",
    "consignee_address": "Consignee address",
    "notify_party": "Notify party",
    "customer_po": "Your reference (PO)",
    "cargo_description": "Cargo description",
    "packages": "Packages",
    "gross_weight_kg": "Gross weight (kg)",
    "volume_cbm": "Volume (m3)",
}
_LIMITS = {"shipper_name": 200, "shipper_address": 400, "consignee_name": 200, "consignee_address": 400,
           "notify_party": 200, "customer_po": 40, "cargo_description": 400}


# ---------------------------------------------------------------------------------------------------- DTOs


class BookingInput(Body):
    """What the customer confirms when turning an option into a booking (the API's body; the booking form parses
    into it)."""

    model_config = ConfigDict(frozen=True)

    shipper_name: str = Field(max_length=200)
    consignee_name: str = Field(max_length=200)
    cargo_description: str = Field(max_length=400)
    cargo_confirmed: bool = Field(description="The cargo is as quoted")
    shipper_address: str | None = Field(None, max_length=400)
    consignee_address: str | None = Field(None, max_length=400)
    notify_party: str | None = Field(None, max_length=200)
    customer_reference: str | None = Field(None, max_length=40, description="Your PO or reference")


@dataclass(frozen=True)
class BookingDetails:
    """What the booking form of an option shows before the customer confirms: the option chosen, the cargo of
    the quote, and the booking's fields filled in (parties from the company's last booking, the reference and the
    cargo description from the quote), for the customer to check and change."""

    __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

    option_id: int
    quote_reference: str
    carrier_code: str | None
    carrier_name: Annotated[str | None, Field(description="None: a price our team made by hand, no carrier named")]
    currency: str
    total: Decimal
    total_text: str
    transit_days: int
    valid_until: datetime
    ready_date: date | None
    planned_departure: Annotated[date | None, Field(
        description="The departure the booking would be planned with (ready date plus the mode's departure step)")]
    free_time: Annotated[str | None, Field(description="Ocean: demurrage and detention free time in words")]
    shipper_name: str | None
    shipper_address: str | None
    consignee_name: str | None
    consignee_address: str | None
    notify_party: str | None
    customer_reference: str | None
    cargo_description: str | None
    parties_from: Annotated[str | None, Field(
        description="The company's last booking the parties were copied from; None when there is none")]
    gross_weight_kg: Decimal
    volume_m3: Annotated[Decimal, Field(description="Computed from the cargo lines' dimensions")]
    lines: tuple[CargoLineView, ...] = ()


@dataclass(frozen=True)
class BookingResult:
    __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

    shipment_reference: str
    status: str
    quote_reference: str
    option_id: int
    created: Annotated[bool, Field(description="False when this repeated call returned the booking made the first "
                                               "time")]
    message: str


@dataclass(frozen=True)
class BookingRow:
    __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

    shipment_reference: str
    quote_reference: str | None
    company_name: str
    mode: str
    origin: str
    destination: str
    carrier: str | None
    ready_date: date | None
    etd: datetime | None
    status: str
    total_text: str | None
    booked_by: str | None
    created_at: datetime


@dataclass(frozen=True)
class ChangeRequestView:
    __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

    id: int
    shipment_reference: str
    company_name: str
    kind: str  # amend | cancel
    status: str  # pending | approved | rejected
    changes: dict[str, str] = field(default_factory=dict)  # field -> requested value
    current: Annotated[dict[str, str], Field(description="The values when the change was requested")] = field(
        default_factory=dict)
    reason: str | None = None
    decision_reason: str | None = None
    requested_by: str | None = None
    decided_by: str | None = None
    created_at: datetime | None = None
    decided_at: datetime | None = None
    version: int = 1
