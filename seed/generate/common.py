"""What the generator's parts share: tables of choices, small helpers, the records of the shipment being built."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from seed import config_data as cfg
from seed import org_data as org
from seed.reference_data import (
    CarrierInfo,
    Place,
)
from seed.static_rows import CompanyCtx

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

MODES = ("ocean_fcl", "ocean_lcl", "air", "road_ftl", "road_ltl")

OCEAN_LANES = [
    ("east_asia", "north_europe", 25),
    ("east_asia", "na_west", 15),
    ("southeast_asia", "north_europe", 8),
    ("east_asia", "med", 5),
    ("north_europe", "na_east", 8),
    ("east_asia", "na_east", 6),
    ("south_asia", "north_europe", 5),
    ("southeast_asia", "na_west", 4),
    ("east_asia", "southeast_asia", 4),
    ("north_europe", "east_asia", 5),
    ("latam", "north_europe", 3),
    ("north_europe", "middle_east", 2),
    ("east_asia", "oceania", 3),
    ("latam", "na_east", 2),
    ("med", "na_east", 2),
    ("north_europe", "latam", 1),
    ("middle_east", "north_europe", 1),
    ("east_asia", "africa", 1),
]
AIR_LANES = [
    ("east_asia", "north_europe", 25),
    ("east_asia", "na_east", 12),
    ("east_asia", "na_west", 8),
    ("north_europe", "na_east", 10),
    ("na_east", "north_europe", 6),
    ("south_asia", "north_europe", 6),
    ("southeast_asia", "north_europe", 5),
    ("middle_east", "north_europe", 3),
    ("north_europe", "east_asia", 6),
    ("east_asia", "southeast_asia", 4),
    ("latam", "na_east", 3),
    ("med", "na_east", 2),
    ("north_europe", "middle_east", 2),
    ("east_asia", "oceania", 2),
]
AIRPORTS_NOT_FOR_CARGO_LANES = {"ANC"}  # transit hub, not a shipper's origin or destination

OCEAN_CARRIER_SHARE = {
    "MSCU": 20,
    "MAEU": 16,
    "CMDU": 14,
    "COSU": 12,
    "HLCU": 8,
    "ONEY": 7,
    "EGLV": 6,
    "HDMU": 4,
    "YMLU": 4,
    "ZIMU": 3,
}
AIR_CARRIER_HUBS = {
    "LH": ("FRA", "LEJ"),
    "EK": ("DXB", "DWC"),
    "QR": ("DOH",),
    "CX": ("HKG",),
    "KE": ("ICN",),
    "SQ": ("SIN",),
    "AF": ("CDG", "AMS"),
    "CV": ("LUX",),
    "FX": ("MEM",),
    "5X": ("SDF",),
    "TK": ("IST",),
}
AIR_CARRIER_COUNTRIES = {
    "LH": "DE",
    "EK": "AE",
    "QR": "QA",
    "CX": "HK",
    "KE": "KR",
    "SQ": "SG",
    "AF": "FR",
    "CV": "LU",
    "FX": "US",
    "5X": "US",
    "TK": "TR",
}
LESSOR_OWNER_CODES = ("TGHU", "TCNU", "TRHU", "FCIU", "SEGU", "CAIU", "TEMU", "TLLU", "BMOU")

BUYER_TERMS = ("EXW", "FCA", "FAS", "FOB")
INCOTERM_WEIGHTS_BUYER = {"FOB": 40, "FCA": 25, "EXW": 20, "FAS": 2, "DAP": 6, "DDP": 4, "CIF": 3}
INCOTERM_WEIGHTS_SELLER = {"CIF": 20, "CFR": 10, "CPT": 12, "CIP": 8, "DAP": 25, "DDP": 12, "DPU": 5, "FCA": 8}

# (reason code, first affected step code, min days, max days, weight) per mode family
DELAY_CAUSES = {
    "ocean": [
        ("ROLLED_OVER", "loaded_on_vessel", 7, 7, 3),
        ("MECHANICAL", "vessel_departure", 1, 5, 1),
        ("CUSTOMS_INSPECTION", "loaded_on_vessel", 2, 6, 1),
        ("PORT_CONGESTION", "vessel_arrival", 2, 10, 4),
        ("WEATHER", "vessel_arrival", 1, 4, 2),
    ],
    "air": [
        ("CAPACITY", "manifested", 1, 2, 3),
        ("WEATHER", "departed", 1, 2, 1),
        ("MECHANICAL", "departed", 1, 3, 1),
        ("CUSTOMS_INSPECTION", "manifested", 1, 2, 1),
    ],
    "road": [
        ("TRAFFIC", "@arrival", 1, 1, 3),
        ("BORDER_DELAY", "@arrival", 1, 2, 2),
        ("MECHANICAL", "@arrival", 1, 2, 1),
        ("WEATHER", "@arrival", 1, 2, 1),
    ],
}
ARRIVAL_SIDE_CAUSES = {"PORT_CONGESTION", "WEATHER", "TRAFFIC", "BORDER_DELAY"}

REJECTION_REASONS = [
    "Invoice value does not match the packing list",
    "Unsigned copy; please upload the signed original",
    "Scan is illegible; please upload a clearer PDF",
    "HS codes are missing on the commercial invoice",
    "Consignee details differ from the booking",
    "Gross weight differs from the booking by more than 10%",
]
DISPUTE_REASONS = [
    "Detention charges not agreed in the quote",
    "Customs clearance fee charged twice",
    "Rate differs from the accepted quotation",
    "Delivery charge for a shipment we collected ourselves",
    "Currency conversion rate queried",
]
INTERNAL_DELAY_NOTES = {
    "ROLLED_OVER": "Carrier confirmed the rollover; cargo is on the next sailing. Customer informed by phone.",
    "MECHANICAL": "Carrier reports a technical problem; asked for a firm new departure time.",
    "CUSTOMS_INSPECTION": "Export customs selected the cargo for inspection; broker is attending.",
    "PORT_CONGESTION": "Berth window missed due to congestion; monitoring daily vessel line-up.",
    "WEATHER": "Weather routing by the carrier; no action needed, keep customer updated.",
    "CAPACITY": "Offloaded by the airline (capacity); rebooked on the next flight, no extra cost.",
    "TRAFFIC": "Driver reports heavy traffic and road works; delivery slot moved with the consignee.",
    "BORDER_DELAY": "Long waiting time at the border crossing; documents are complete.",
}
PAYMENT_METHODS = ("bank_transfer", "bank_transfer", "bank_transfer", "card", "direct_debit")
LOCAL_CHARGE_CODES = {"THD", "CUS", "DEL", "DOC", "CFS", "PUP"}


def money(x: float) -> Decimal:
    return Decimal(f"{x:.2f}")


def qty(x: float) -> Decimal:
    return Decimal(f"{x:.3f}")


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _fmt(dt: datetime) -> str:
    return f"{dt.day:02d} {dt:%b} {dt.year}"


@dataclass
class Charge:
    code: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    local: bool


@dataclass
class Ship:
    """What the sub-generators need to know about the shipment being built."""

    id: int
    ref: str
    company: CompanyCtx
    mode: str
    family: str  # ocean, air, road
    origin: Place
    dest: Place
    carrier_code: str
    incoterm: str
    owner_id: int
    team: str
    created_at: datetime
    status: str
    planned: list[datetime]
    estimated: list[datetime]
    actual: list[datetime | None]
    dep_idx: int
    arr_idx: int
    dlv_idx: int
    cutoff: datetime
    consignee: str
    is_dg: bool
    cargo_value_usd: float
    eta_changes: list[tuple[int, datetime, datetime, datetime, str]] = field(default_factory=list)
    delay_reason: str | None = None
    known_slip: timedelta = timedelta(0)
    charges: list[Charge] = field(default_factory=list)
    fx: Decimal = Decimal("1")
    customer_is_consignee: bool = True
    rejected_docs: list[tuple[int, str, datetime, str]] = field(default_factory=list)  # id, type, time, reason
    missing_docs: list[tuple[str, datetime]] = field(default_factory=list)
    late_docs: list[tuple[str, datetime, datetime]] = field(default_factory=list)  # type, due, uploaded
    invoices: list[tuple[int, str, str, date, Decimal, datetime]] = field(default_factory=list)
    last_tracking_at: datetime | None = None
    delivered_at: datetime | None = None
    closed_at: datetime | None = None
    disputed: tuple[int, str, str, datetime] | None = None

    def happened(self, idx: int) -> bool:
        return self.actual[idx] is not None


@dataclass
class _Route:
    """Who ships what how (the first step of a shipment)."""

    company: CompanyCtx
    mode: str
    family: str  # ocean, air, road
    origin: Place
    dest: Place
    customer_is_consignee: bool
    incoterm: str
    carrier_code: str
    carrier: CarrierInfo
    transit: int  # days
    team: str
    owner_id: int


@dataclass
class _Timeline:
    """Planned, estimated and actual milestone times, the delay that moved them and the status they give."""

    steps: tuple[cfg.Step, ...]
    dep_idx: int
    arr_idx: int
    dlv_idx: int
    ready: date
    created: datetime
    planned: list[datetime]
    cancelled: bool
    cutoff: datetime  # nothing happens after it (``now``, or the cancellation)
    reason: str | None  # delay cause code
    cause_idx: int  # the first step the delay moves
    increments: list[tuple[timedelta, datetime]]  # slip learned, and when
    known_slip: timedelta
    actual: list[datetime | None]
    estimated: list[datetime]
    status: str
    awaiting_confirmation: bool


@dataclass
class _Load:
    cargo: org.Cargo
    is_dg: bool
    containers: list[tuple[str, str, float, int]]  # size type, seal, weight kg, packages
    gross: float
    packages: int
    volume: float
    chargeable: float
    package_type: str
    cargo_value_usd: float


@dataclass
class _Numbers:
    booking: str
    vessel: str | None
    voyage: str | None
    flight: str | None
    mbl: str | None
    hbl: str | None
    awb: str | None
    hawb: str | None
    cmr: str | None
    customer_po: str
    container_numbers: list[str]


@dataclass
class _Parties:
    shipper: str
    shipper_addr: str
    consignee: str
    consignee_addr: str
    notify: str


_EU = {"NL", "BE", "DE", "FR", "PL", "SE", "ES", "IT", "GR", "CZ", "AT", "LU", "DK"}
