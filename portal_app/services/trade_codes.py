"""Trade vocabularies the quote and booking forms check against: Incoterms 2020, ISO 6346 size-type codes,
dangerous-goods classes, currencies and their minor units, optional services, and which places suit which mode.

Pure data and functions, no I/O. The Incoterms and size types are the ones in ``seed/data/`` (copied from the
public reference files; a test keeps them in step).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.enums import LocationKind, Mode


@dataclass(frozen=True)
class Incoterm:
    code: str
    name: str
    sea_only: bool


# Incoterms 2020 (ICC). FAS, FOB, CFR and CIF are for sea and inland waterway transport only.
INCOTERMS: dict[str, Incoterm] = {
    t.code: t
    for t in (
        Incoterm("EXW", "Ex Works", False),
        Incoterm("FCA", "Free Carrier", False),
        Incoterm("CPT", "Carriage Paid To", False),
        Incoterm("CIP", "Carriage and Insurance Paid To", False),
        Incoterm("DAP", "Delivered at Place", False),
        Incoterm("DPU", "Delivered at Place Unloaded", False),
        Incoterm("DDP", "Delivered Duty Paid", False),
        Incoterm("FAS", "Free Alongside Ship", True),
        Incoterm("FOB", "Free On Board", True),
        Incoterm("CFR", "Cost and Freight", True),
        Incoterm("CIF", "Cost Insurance and Freight", True),
    )
}
SEA_ONLY_INCOTERMS = frozenset(code for code, term in INCOTERMS.items() if term.sea_only)


def is_ocean(mode: str) -> bool:
    return mode in (Mode.OCEAN_FCL, Mode.OCEAN_LCL)


def incoterm_valid_for_mode(incoterm: str | None, mode: str) -> bool:
    """Incoterms 2020: FAS, FOB, CFR and CIF are for sea and inland waterway transport only."""
    if incoterm is None:
        return True
    return is_ocean(mode) or incoterm not in SEA_ONLY_INCOTERMS


def incoterms_for_mode(mode: str) -> list[Incoterm]:
    """The terms a form offers for a mode (every term for ocean; the seven any-mode terms otherwise)."""
    return [t for t in INCOTERMS.values() if incoterm_valid_for_mode(t.code, mode)]


# ISO 6346 size-type codes offered for FCL (code -> what a shipper calls it).
SIZE_TYPES: dict[str, str] = {
    "22G1": "20' standard (20GP)",
    "22G0": "20' standard, end openings (20GP)",
    "42G1": "40' standard (40GP)",
    "45G1": "40' high cube (40HC)",
    "L5G1": "45' high cube (45HC)",
    "22R1": "20' reefer (20RF)",
    "42R1": "40' reefer (40RF)",
    "45R1": "40' high cube reefer (40RH)",
    "22U1": "20' open top (20OT)",
    "42U1": "40' open top (40OT)",
    "22P1": "20' flat rack (20FR)",
    "42P1": "40' flat rack (40FR)",
    "45P3": "40' high cube flat rack, collapsible",
    "22T1": "20' tank, non-dangerous liquids (20TK)",
    "22T6": "20' tank, dangerous liquids (20TK)",
    "22V0": "20' ventilated (20VH)",
    "22B0": "20' bulk (20BU)",
}



def container_words(size_type: str | None) -> str:
    """What a shipper calls a container, without codes: '45G1' -> "40' high cube"; an unknown code as given."""
    code = (size_type or "").strip().upper()
    words = SIZE_TYPES.get(code)
    if words is None:
        return code
    return re.sub(r"\s*\([0-9A-Z]+\)$", "", words)


# UN dangerous goods classes and divisions (UN Model Regulations).
DG_CLASSES: dict[str, str] = {
    "1": "Explosives",
    "1.1": "Explosives with a mass explosion hazard",
    "1.2": "Explosives with a projection hazard",
    "1.3": "Explosives with a fire hazard",
    "1.4": "Explosives with no significant hazard",
    "1.5": "Very insensitive explosives",
    "1.6": "Extremely insensitive articles",
    "2.1": "Flammable gases",
    "2.2": "Non-flammable, non-toxic gases",
    "2.3": "Toxic gases",
    "3": "Flammable liquids",
    "4.1": "Flammable solids",
    "4.2": "Substances liable to spontaneous combustion",
    "4.3": "Substances which emit flammable gases with water",
    "5.1": "Oxidizing substances",
    "5.2": "Organic peroxides",
    "6.1": "Toxic substances",
    "6.2": "Infectious substances",
    "7": "Radioactive material",
    "8": "Corrosives",
    "9": "Miscellaneous dangerous goods",
}

_UN_NUMBER = re.compile(r"^(?:UN)?\s*(\d{4})$")


def normalize_un_number(value: str | None) -> str | None:
    """'UN 1263', 'un1263' and '1263' -> '1263'; None when it is not a four-digit UN number."""
    m = _UN_NUMBER.match((value or "").strip().upper())
    if not m or m.group(1) == "0000":
        return None
    return m.group(1)


# Optional services a customer can add to a quote; a rate-card charge with a service applies only when asked for.
SERVICES: dict[str, str] = {
    "pickup": "Pick-up at origin",
    "customs": "Customs clearance",
    "insurance": "Cargo insurance",
    "delivery": "Delivery at destination",
}

# ISO 4217 minor units (digits after the decimal point) of the currencies the product handles.
CURRENCY_DIGITS: dict[str, int] = {
    **dict.fromkeys(("USD", "EUR", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "RON", "AUD", "NZD",
                     "CAD", "MXN", "BRL", "CNY", "HKD", "SGD", "TWD", "THB", "MYR", "INR", "AED", "SAR", "ZAR",
                     "TRY", "ILS", "EGP", "PHP", "IDR"), 2),
    **dict.fromkeys(("JPY", "KRW", "VND", "CLP", "ISK", "XOF", "XAF"), 0),
    **dict.fromkeys(("BHD", "KWD", "OMR", "JOD", "TND"), 3),
}
# Amounts are stored with two decimals, so prices are kept in currencies with at most two.
PRICING_CURRENCIES = frozenset(c for c, digits in CURRENCY_DIGITS.items() if digits <= 2)


def location_kinds_for_mode(mode: str) -> tuple[str, ...]:
    """Places a mode can start or end at: airports (IATA) for air, seaports for ocean, UN/LOCODE places by road."""
    if mode == Mode.AIR:
        return (LocationKind.AIRPORT.value,)
    if is_ocean(mode):
        return (LocationKind.SEAPORT.value,)
    return (LocationKind.SEAPORT.value, LocationKind.INLAND.value)


def place_word(mode: str) -> str:
    """How a form names the places of a mode, with its article."""
    if mode == Mode.AIR:
        return "an airport (IATA code, e.g. FRA)"
    if is_ocean(mode):
        return "a seaport (UN/LOCODE, e.g. NLRTM)"
    return "a place with a UN/LOCODE (e.g. DEDUI)"


MODE_LABELS: dict[str, str] = {
    Mode.OCEAN_FCL.value: "Ocean, full container (FCL)",
    Mode.OCEAN_LCL.value: "Ocean, less than container (LCL)",
    Mode.AIR.value: "Air",
    Mode.ROAD_FTL.value: "Road, full truck (FTL)",
    Mode.ROAD_LTL.value: "Road, groupage (LTL)",
}
