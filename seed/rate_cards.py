"""Rate cards: the demo set (the demo customers' common lanes, several carriers per lane so quotes compare) and a
generator of N lanes for load tests (``python -m seed --rate-lanes 10000`` or :func:`add_rate_lanes`).

Charge tuples: (code, description, basis, size_type, min_quantity, rate, minimum_charge, percent_of, service).
Bases and pricing rules: ``portal_app/services/rating.py`` and docs/quotes.md.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from seed.reference_data import (
    ReferenceData,
    air_transit_days,
    distance_km,
    ocean_transit_days,
    road_transit_days,
)
from seed.writer import Batch, IdAllocator, max_ids, sync_sequences

Charge = tuple[str, str, str, str | None, str | None, str, str | None, str | None, str | None]
Card = tuple[str, str, str, str | None, str, int, list[Charge]]


def _c(code: str, desc: str, basis: str, rate: str, *, size: str | None = None, min_qty: str | None = None,
       minimum: str | None = None, percent_of: str | None = None, service: str | None = None) -> Charge:
    return (code, desc, basis, size, min_qty, rate, minimum, percent_of, service)


def _services(pickup: str, customs: str, delivery: str, *, per: str = "per_shipment") -> list[Charge]:
    """Optional services: charged only when the customer asks for them."""
    return [
        _c("PUP", "Pick-up at origin", "per_shipment", pickup, service="pickup"),
        _c("CUS", "Customs clearance", "per_shipment", customs, service="customs"),
        _c("DLV", "Delivery at destination", per, delivery, service="delivery"),
        _c("INS", "Cargo insurance", "percent", "0.35", minimum="35", percent_of="cargo_value", service="insurance"),
    ]


def _fcl(gp20: str, gp40: str, hc40: str, baf: str, thc: str, doc: str, services: tuple[str, str, str]) -> list[Charge]:
    return [
        _c("FRT", "Ocean freight", "per_container", gp20, size="22G1"),
        _c("FRT", "Ocean freight", "per_container", gp40, size="42G1"),
        _c("FRT", "Ocean freight", "per_container", hc40, size="45G1"),
        _c("BAF", "Bunker adjustment factor", "per_container", baf),
        _c("THC", "Terminal handling, destination", "per_container", thc),
        _c("DOC", "Documentation fee", "per_shipment", doc),
        *_services(*services, per="per_container"),
    ]


def _lcl(wm: str, cfs: str, doc: str, services: tuple[str, str, str]) -> list[Charge]:
    return [
        _c("FRT", "Ocean freight (W/M)", "per_wm", wm, minimum=wm),
        _c("CFS", "CFS handling, destination", "per_wm", cfs, minimum="45"),
        _c("DOC", "Documentation fee", "per_shipment", doc),
        *_services(*services),
    ]


def _air(breaks: list[tuple[str, str]], minimum: str, fsc: str, ssc: str,
         services: tuple[str, str, str]) -> list[Charge]:
    rows = [_c("FRT", "Air freight", "per_kg", rate, min_qty=kg, minimum=minimum if kg == "0" else None)
            for kg, rate in breaks]
    return [
        *rows,
        _c("FSC", "Fuel surcharge", "per_kg", fsc),
        _c("SSC", "Security surcharge", "per_kg", ssc),
        _c("AWB", "Air waybill fee", "per_shipment", "35"),
        *_services(*services),
    ]


FCL, LCL = "ocean_fcl", "ocean_lcl"
# (mode, origin, destination, carrier code or None, currency, transit days, charges)
DEMO_RATE_CARDS: list[Card] = [
    (FCL, "CNSHA", "NLRTM", "MAEU", "USD", 32, _fcl("1850", "2950", "3050", "420", "285", "65", ("380", "145", "520"))),
    (FCL, "CNNGB", "GBFXT", "MSCU", "USD", 34, _fcl("1790", "2850", "2890", "410", "260", "60", ("360", "150", "480"))),
    (FCL, "CNYTN", "DEHAM", "HLCU", "EUR", 33, _fcl("1700", "2700", "2750", "390", "275", "55", ("340", "135", "470"))),
    # one lane whose card has expired: quotes on it go to manual pricing
    (FCL, "CNYTN", "USLAX", "COSU", "USD", 16, _fcl("1450", "2100", "2150", "310", "240", "65", ("300", "160", "450"))),
    (LCL, "SGSIN", "NLRTM", None, "USD", 28, _lcl("62", "28", "65", ("120", "125", "140"))),
    ("air", "PVG", "FRA", "LH", "EUR", 2, _air([("0", "4.80"), ("45", "3.90"), ("100", "3.40"), ("300", "3.05"),
                                               ("500", "2.85"), ("1000", "2.60")], "120", "0.95", "0.18",
                                              ("95", "110", "120"))),
    ("air", "HKG", "LHR", "CX", "USD", 2, _air([("0", "5.10"), ("100", "3.70"), ("500", "3.10")], "130", "1.05", "0.20",
                                              ("90", "120", "130"))),
    ("air", "ICN", "ORD", "KE", "USD", 2, _air([("0", "4.60"), ("300", "3.20")], "110", "0.90", "0.15",
                                              ("100", "130", "150"))),
    ("road_ftl", "NLRTM", "DEMUC", "VDTR", "EUR", 2, [
        _c("FRT", "Road freight, full truck", "per_shipment", "1480"),
        _c("TOLL", "Road toll", "per_shipment", "145"),
        _c("CUS", "Customs clearance", "per_shipment", "95", service="customs"),
        _c("INS", "Cargo insurance", "percent", "0.25", minimum="25", percent_of="cargo_value", service="insurance"),
    ]),
    ("road_ltl", "DEDUI", "PLWAW", "VIST", "EUR", 3, [
        _c("FRT", "Groupage freight", "per_kg", "0.21", min_qty="0", minimum="95"),
        _c("FRT", "Groupage freight", "per_kg", "0.16", min_qty="1000"),
        _c("FSC", "Fuel surcharge", "percent", "12", percent_of="freight"),
        _c("PUP", "Pick-up at origin", "per_shipment", "65", service="pickup"),
        _c("DLV", "Delivery at destination", "per_shipment", "65", service="delivery"),
    ]),
    # second and third carriers on the busiest lanes, so customers compare prices and transit times
    (FCL, "CNSHA", "NLRTM", "CMDU", "USD", 34, _fcl("1790", "2890", "2990", "400", "285", "60", ("380", "145", "520"))),
    (FCL, "CNSHA", "NLRTM", "HLCU", "EUR", 31, _fcl("1720", "2780", "2830", "385", "265", "55", ("350", "135", "480"))),
    (FCL, "CNSHA", "GBFXT", "MAEU", "USD", 33, _fcl("1880", "2980", "3080", "420", "250", "65", ("380", "150", "450"))),
    (FCL, "CNNGB", "GBFXT", "ONEY", "USD", 36, _fcl("1740", "2790", "2840", "405", "260", "60", ("360", "150", "480"))),
    (FCL, "CNYTN", "GBSOU", "ONEY", "USD", 35, _fcl("1760", "2810", "2860", "400", "255", "60", ("360", "150", "470"))),
    (FCL, "VNSGN", "GBFXT", "EGLV", "USD", 30, _fcl("1690", "2690", "2740", "380", "250", "60", ("320", "150", "470"))),
    (FCL, "CNYTN", "DEHAM", "COSU", "USD", 34, _fcl("1780", "2820", "2870", "395", "290", "60", ("340", "140", "470"))),
    (FCL, "KRPUS", "DEHAM", "HDMU", "USD", 36, _fcl("1820", "2900", "2950", "410", "290", "60", ("330", "140", "470"))),
    (FCL, "SGSIN", "NLRTM", "MSCU", "USD", 27, _fcl("1550", "2500", "2560", "360", "285", "60", ("300", "145", "520"))),
    (LCL, "CNSHA", "GBFXT", None, "USD", 33, _lcl("58", "30", "55", ("120", "120", "135"))),
    (LCL, "CNSHA", "DEHAM", None, "EUR", 32, _lcl("54", "27", "50", ("110", "115", "130"))),
    ("air", "PVG", "FRA", "CV", "EUR", 3, _air([("0", "4.40"), ("100", "3.20"), ("500", "2.70"), ("1000", "2.45")],
                                             "110", "0.95", "0.18", ("95", "110", "120"))),
    ("air", "PVG", "LHR", "CX", "USD", 2, _air([("0", "5.00"), ("100", "3.60"), ("500", "3.00")], "125", "1.05",
                                             "0.20", ("90", "120", "130"))),
    ("air", "HKG", "LHR", "EK", "USD", 3, _air([("0", "4.70"), ("100", "3.40"), ("500", "2.90")], "120", "1.00",
                                             "0.20", ("90", "120", "130"))),
    ("air", "HKG", "FRA", "LH", "EUR", 2, _air([("0", "4.90"), ("100", "3.50"), ("500", "2.95")], "120", "0.95",
                                             "0.18", ("95", "110", "120"))),
    ("air", "ICN", "FRA", "KE", "USD", 2, _air([("0", "4.80"), ("100", "3.45"), ("500", "2.95")], "115", "0.90",
                                             "0.15", ("95", "110", "120"))),
    ("road_ftl", "DEDUI", "PLWAW", "VIST", "EUR", 2, [
        _c("FRT", "Road freight, full truck", "per_shipment", "1290"),
        _c("TOLL", "Road toll", "per_shipment", "160"),
        _c("CUS", "Customs clearance", "per_shipment", "95", service="customs"),
    ]),
    ("road_ltl", "NLRTM", "DEMUC", "VDTR", "EUR", 2, [
        _c("FRT", "Groupage freight", "per_kg", "0.24", min_qty="0", minimum="85"),
        _c("FRT", "Groupage freight", "per_kg", "0.19", min_qty="500"),
        _c("FRT", "Groupage freight", "per_kg", "0.14", min_qty="2000"),
        _c("FSC", "Fuel surcharge", "percent", "12", percent_of="freight"),
        _c("PUP", "Pick-up at origin", "per_shipment", "60", service="pickup"),
        _c("DLV", "Delivery at destination", "per_shipment", "60", service="delivery"),
    ]),
]
EXPIRED_DEMO_CARD = 3  # index of the card that expired five days before the anchor date
# Free time of the FCL cards (origin, destination, carrier) -> (demurrage, detention free days), as carriers'
# contract tariffs give them. A card left out gives no numbers: its options read "standard terms" (Hapag-Lloyd's
# Shanghai-Rotterdam card shows that case beside two cards with numbers).
DEMO_FREE_DAYS: dict[tuple[str, str, str], tuple[int, int]] = {
    ("CNSHA", "NLRTM", "MAEU"): (7, 14),
    ("CNNGB", "GBFXT", "MSCU"): (5, 10),
    ("CNYTN", "DEHAM", "HLCU"): (5, 7),
    ("CNYTN", "USLAX", "COSU"): (4, 4),
    ("CNSHA", "NLRTM", "CMDU"): (5, 7),
    ("CNSHA", "GBFXT", "MAEU"): (7, 14),
    ("CNNGB", "GBFXT", "ONEY"): (6, 10),
    ("CNYTN", "GBSOU", "ONEY"): (6, 10),
    ("VNSGN", "GBFXT", "EGLV"): (5, 7),
    ("CNYTN", "DEHAM", "COSU"): (7, 7),
    ("KRPUS", "DEHAM", "HDMU"): (7, 14),
    ("SGSIN", "NLRTM", "MSCU"): (5, 10),
}


def _charge_row(ids: IdAllocator, card_id: int, charge: Charge) -> dict:
    code, desc, basis, size_type, min_qty, rate, minimum, percent_of, service = charge
    return {
        "id": ids.next("ratecharge"),
        "rate_card_id": card_id,
        "code": code,
        "description": desc,
        "basis": basis,
        "size_type": size_type,
        "min_quantity": Decimal(min_qty) if min_qty is not None else None,
        "rate": Decimal(rate),
        "minimum_charge": Decimal(minimum) if minimum else None,
        "percent_of": percent_of,
        "service": service,
    }


def add_demo_rate_cards(ids: IdAllocator, batch: Batch, location_ids: dict[str, int], carrier_ids: dict[str, int],
                        today: date, lanes: dict[tuple[str, int, int], int],
                        free_days: dict[int, tuple[int | None, int | None]] | None = None) -> None:
    """The demo cards, valid from 45 days before the anchor date for two to five months (one expired). ``lanes``
    gets each lane's first live card, ``free_days`` each card's demurrage and detention free days."""
    for n, (mode, origin, dest, carrier, currency, transit, charges) in enumerate(DEMO_RATE_CARDS):
        rid = ids.next("ratecard")
        expired = n == EXPIRED_DEMO_CARD
        valid_from = today - timedelta(days=120 if expired else 45)
        valid_to = today - timedelta(days=5) if expired else today + timedelta(days=60 + 3 * n)
        created = datetime(valid_from.year, valid_from.month, valid_from.day, tzinfo=UTC) - timedelta(days=7)
        o, d = location_ids[origin], location_ids[dest]
        demurrage, detention = DEMO_FREE_DAYS.get((origin, dest, carrier or ""), (None, None))
        if free_days is not None:
            free_days[rid] = (demurrage, detention)
        if not expired:
            lanes.setdefault((mode, o, d), rid)
        batch.add("ratecard", {
            "id": rid, "mode": mode, "origin_id": o, "destination_id": d,
            "carrier_id": carrier_ids[carrier] if carrier else None, "valid_from": valid_from, "valid_to": valid_to,
            "currency": currency, "transit_days": transit, "is_active": not expired,
            "notes": "Expired" if expired else "Contract rate, subject to space and equipment availability",
            "demurrage_free_days": demurrage, "detention_free_days": detention,
            "created_at": created, "updated_at": created, "version": 1,
        })
        for charge in charges:
            batch.add("ratecharge", _charge_row(ids, rid, charge))


# ---------------------------------------------------------------------------------------------------- scale


_MODE_MIX = (("ocean_fcl", 40), ("ocean_lcl", 10), ("air", 35), ("road_ftl", 8), ("road_ltl", 7))
_CURRENCIES = ("USD", "USD", "USD", "EUR", "EUR", "GBP")


def _money(x: float) -> str:
    return f"{x:.2f}"


def _lane_charges(rng: random.Random, mode: str, km: float) -> list[Charge]:
    f = rng.uniform(0.85, 1.2)
    if mode == "ocean_fcl":
        base = (900 + km * 0.08) * f
        return _fcl(_money(base), _money(base * 1.6), _money(base * 1.65), _money(base * 0.2), _money(260),
                    "60", ("350", "145", "480"))
    if mode == "ocean_lcl":
        return _lcl(_money((30 + km * 0.003) * f), "28", "60", ("120", "120", "135"))
    if mode == "air":
        base = (2.2 + km / 6000) * f
        return _air([("0", _money(base * 1.4)), ("45", _money(base * 1.2)), ("100", _money(base)),
                     ("500", _money(base * 0.85)), ("1000", _money(base * 0.78))], _money(90 + km / 100),
                    "0.95", "0.18", ("95", "110", "120"))
    if mode == "road_ftl":
        return [_c("FRT", "Road freight, full truck", "per_shipment", _money((400 + km * 1.4) * f)),
                _c("TOLL", "Road toll", "per_shipment", _money(km * 0.12)),
                _c("CUS", "Customs clearance", "per_shipment", "95", service="customs")]
    return [_c("FRT", "Groupage freight", "per_kg", _money((0.08 + km / 9000) * f), min_qty="0", minimum="85"),
            _c("FRT", "Groupage freight", "per_kg", _money((0.06 + km / 12000) * f), min_qty="1000"),
            _c("FSC", "Fuel surcharge", "percent", "12", percent_of="freight")]


def add_rate_lanes(
    engine: sa.Engine, lanes: int, *, seed: int = 7, today: date | None = None, chunk: int = 2000
) -> int:
    """Add ``lanes`` generated rate cards (random lanes between the reference places, every mode, about 10%
    expired and 5% not yet valid) to a seeded database. Returns the number of cards written."""
    from seed.reference_data import load

    ref: ReferenceData = load()
    rng = random.Random(seed)
    today = today or datetime.now(UTC).date()
    with engine.connect() as conn:
        loc = dict(conn.execute(sa.text("SELECT code, id FROM location")).all())
        carriers = conn.execute(sa.text("SELECT code, id, mode FROM carrier")).all()
    by_family: dict[str, list[int]] = {}
    for _code, cid, family in carriers:
        by_family.setdefault(family, []).append(cid)
    pools = {
        "ocean": [p for p in ref.seaports if p.code in loc],
        "air": [p for p in ref.airports if p.code in loc],
        "road": [p for p in ref.places if p.code in loc and p.road_region and p.kind != "airport"],
    }
    modes, weights = zip(*_MODE_MIX, strict=True)
    ids = IdAllocator(max_ids(engine))
    batch = Batch()
    now = datetime.now(UTC).replace(microsecond=0)
    written = 0
    for n in range(lanes):
        mode = rng.choices(modes, weights=weights)[0]
        family = "ocean" if mode.startswith("ocean") else "air" if mode == "air" else "road"
        pool = pools[family]
        o = rng.choice(pool)
        candidates = [p for p in pool if p.code != o.code and (family != "road" or p.road_region == o.road_region)]
        d = rng.choice(candidates)
        km = distance_km(o, d)
        transit = (ocean_transit_days(o, d) if family == "ocean" else air_transit_days(o, d) if family == "air"
                   else road_transit_days(o, d, mode == "road_ltl"))
        roll = rng.random()
        if roll < 0.10:
            valid_from, valid_to = today - timedelta(days=120), today - timedelta(days=rng.randint(1, 30))
        elif roll < 0.15:
            valid_from, valid_to = today + timedelta(days=rng.randint(5, 30)), today + timedelta(days=120)
        else:
            valid_from = today - timedelta(days=rng.randint(0, 60))
            valid_to = today + timedelta(days=rng.randint(30, 120))
        rid = ids.next("ratecard")
        carrier_pool = by_family.get(family) or [None]
        batch.add("ratecard", {
            "id": rid, "mode": mode, "origin_id": loc[o.code], "destination_id": loc[d.code],
            "carrier_id": None if mode == "ocean_lcl" else rng.choice(carrier_pool), "valid_from": valid_from,
            "valid_to": valid_to, "currency": rng.choice(_CURRENCIES),
            "transit_days": max(1, transit + rng.randint(-1, 3)),
            "is_active": True, "notes": "Generated lane", "created_at": now, "updated_at": now, "version": 1,
            # FCL lanes get free time (not drawn from ``rng``, so the lanes themselves stay as they were)
            "demurrage_free_days": 4 + n % 4 if mode == "ocean_fcl" else None,
            "detention_free_days": 7 + 7 * (n % 2) if mode == "ocean_fcl" else None,
        })
        for charge in _lane_charges(rng, mode, km):
            batch.add("ratecharge", _charge_row(ids, rid, charge))
        written += 1
        if (n + 1) % chunk == 0 or n + 1 == lanes:
            with engine.begin() as conn:
                batch.flush(conn)
    sync_sequences(engine)
    return written
