"""Reference data shipped with the project (seed/data/*.csv, see seed/data/README.md) and airports from
the PyPI package ``airportsdata``.

Everything here is plain data (dataclasses and lists); no database access.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

# One definition of which Incoterms suit which mode, shared with the quote forms (re-exported for the seed).
from portal_app.services.trade_codes import SEA_ONLY_INCOTERMS, incoterm_valid_for_mode  # noqa: F401

DATA_DIR = Path(__file__).resolve().parent / "data"

# Countries whose places can be linked by road inside one region.
ROAD_REGION_BY_COUNTRY = {
    **dict.fromkeys(("NL", "BE", "DE", "FR", "GB", "PL", "SE", "ES", "IT", "GR", "CZ", "AT", "CH", "LU", "DK"), "eu"),
    **dict.fromkeys(("US", "CA", "MX"), "na"),
}


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    country: str
    kind: str  # seaport, airport, inland
    latitude: float
    longitude: float
    timezone: str
    region: str  # trade region for ocean/air lanes ("" for inland places)
    road_region: str  # "eu", "na" or ""
    unlocode: str | None = None
    iata_code: str | None = None


@dataclass(frozen=True)
class CarrierInfo:
    code: str
    name: str
    mode: str  # ocean, air, road
    awb_prefix: str | None
    equipment_owner_codes: tuple[str, ...] = ()
    fleet: tuple[str, ...] = ()  # vessel names for ocean carriers
    home: str = ""  # home country for road hauliers


@dataclass(frozen=True)
class Incoterm:
    code: str
    name: str
    sea_only: bool
    carriage_by: str  # buyer or seller


@dataclass(frozen=True)
class ReferenceData:
    seaports: list[Place]
    airports: list[Place]
    inland: list[Place]
    carriers: list[CarrierInfo]
    incoterms: list[Incoterm]
    size_types: dict[str, str]  # code -> description
    by_code: dict[str, Place] = field(default_factory=dict)

    @property
    def places(self) -> list[Place]:
        return [*self.seaports, *self.airports, *self.inland]


def _read(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def _airports() -> list[Place]:
    import airportsdata  # MIT; https://github.com/mborsetti/airportsdata

    table = airportsdata.load("IATA")
    places = []
    for row in _read("airports.csv"):
        code = row["iata_code"]
        a = table[code]
        places.append(
            Place(
                code=code,
                name=a["name"][:120],
                country=a["country"],
                kind="airport",
                latitude=float(a["lat"]),
                longitude=float(a["lon"]),
                timezone=a["tz"],
                region=row["region"],
                road_region="",
                unlocode=None,
                iata_code=code,
            )
        )
    return places


@lru_cache(maxsize=1)
def load() -> ReferenceData:
    seaports = [
        Place(
            code=r["unlocode"],
            name=r["name"],
            country=r["country"],
            kind="seaport",
            latitude=float(r["latitude"]),
            longitude=float(r["longitude"]),
            timezone=r["timezone"],
            region=r["region"],
            road_region=ROAD_REGION_BY_COUNTRY.get(r["country"], ""),
            unlocode=r["unlocode"],
        )
        for r in _read("seaports.csv")
    ]
    inland = [
        Place(
            code=r["unlocode"],
            name=r["name"],
            country=r["country"],
            kind="inland",
            latitude=float(r["latitude"]),
            longitude=float(r["longitude"]),
            timezone=r["timezone"],
            region="",
            road_region=r["road_region"],
            unlocode=r["unlocode"],
        )
        for r in _read("inland_locations.csv")
    ]
    carriers = [
        CarrierInfo(
            code=r["code"],
            name=r["name"],
            mode=r["mode"],
            awb_prefix=r["awb_prefix"] or None,
            equipment_owner_codes=tuple(r["equipment_owner_codes"].split()),
            fleet=tuple(v for v in r["vessels_or_fleet"].split("|") if v) if r["mode"] == "ocean" else (),
            home=r["vessels_or_fleet"] if r["mode"] == "road" else "",
        )
        for r in _read("carriers.csv")
    ]
    incoterms = [
        Incoterm(
            code=r["code"],
            name=r["name"],
            sea_only=r["mode"] != "any",
            carriage_by=r["main_carriage_contracted_by"],
        )
        for r in _read("incoterms_2020.csv")
    ]
    size_types = {r["size_type_code"]: r["description"] for r in _read("iso6346_size_types.csv")}
    data = ReferenceData(
        seaports=seaports,
        airports=_airports(),
        inland=inland,
        carriers=carriers,
        incoterms=incoterms,
        size_types=size_types,
    )
    data.by_code.update({p.code: p for p in data.places})
    return data




def distance_km(a: Place, b: Place) -> float:
    """Great-circle distance."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


# Typical port-to-port ocean transit days between trade regions (liner schedules, rounded).
_OCEAN_TRANSIT = {
    ("east_asia", "north_europe"): 32,
    ("east_asia", "med"): 27,
    ("east_asia", "na_west"): 15,
    ("east_asia", "na_east"): 32,
    ("east_asia", "east_asia"): 4,
    ("east_asia", "southeast_asia"): 6,
    ("east_asia", "south_asia"): 14,
    ("east_asia", "middle_east"): 18,
    ("east_asia", "latam"): 28,
    ("east_asia", "oceania"): 15,
    ("east_asia", "africa"): 25,
    ("southeast_asia", "north_europe"): 28,
    ("southeast_asia", "med"): 23,
    ("southeast_asia", "na_west"): 20,
    ("southeast_asia", "na_east"): 34,
    ("southeast_asia", "southeast_asia"): 3,
    ("southeast_asia", "south_asia"): 8,
    ("southeast_asia", "middle_east"): 14,
    ("southeast_asia", "oceania"): 12,
    ("south_asia", "north_europe"): 24,
    ("south_asia", "med"): 18,
    ("south_asia", "na_east"): 30,
    ("south_asia", "na_west"): 28,
    ("south_asia", "middle_east"): 6,
    ("middle_east", "north_europe"): 20,
    ("middle_east", "med"): 14,
    ("middle_east", "na_east"): 25,
    ("north_europe", "na_east"): 12,
    ("north_europe", "na_west"): 26,
    ("north_europe", "north_europe"): 3,
    ("north_europe", "med"): 8,
    ("north_europe", "latam"): 20,
    ("north_europe", "africa"): 22,
    ("med", "na_east"): 14,
    ("med", "med"): 4,
    ("latam", "na_east"): 10,
    ("latam", "na_west"): 12,
    ("oceania", "na_west"): 20,
}


def ocean_transit_days(a: Place, b: Place) -> int:
    days = _OCEAN_TRANSIT.get((a.region, b.region)) or _OCEAN_TRANSIT.get((b.region, a.region))
    if days is None:
        days = 5 + round(distance_km(a, b) / 500)
    return max(2, days)


def air_transit_days(a: Place, b: Place) -> int:
    km = distance_km(a, b)
    return 1 if km < 4000 else 2 if km < 10000 else 3


def road_transit_days(a: Place, b: Place, ltl: bool) -> int:
    days = max(1, math.ceil(distance_km(a, b) * 1.25 / 650))
    return days + (1 if ltl else 0)
