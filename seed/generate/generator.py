"""The generator: its tables, counters and helpers; its parts (one module each) build the rows."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from pathlib import Path

from seed import config_data as cfg
from seed import org_data as org
from seed.generate.common import (
    AIR_CARRIER_COUNTRIES,
    AIR_CARRIER_HUBS,
    AIR_LANES,
    AIRPORTS_NOT_FOR_CARGO_LANES,
    INCOTERM_WEIGHTS_BUYER,
    INCOTERM_WEIGHTS_SELLER,
    OCEAN_CARRIER_SHARE,
    OCEAN_LANES,
    _midnight,
)
from seed.generate.documents import Documents
from seed.generate.exceptions import Exceptions
from seed.generate.money import Money
from seed.generate.narrative import Narrative
from seed.generate.planning import ShipmentPlanning
from seed.generate.quotes import Quotes
from seed.generate.requests import Requests
from seed.generate.rows import ShipmentRows
from seed.generate.steps import ShipmentSteps
from seed.reference_data import (
    Place,
    ReferenceData,
    distance_km,
    incoterm_valid_for_mode,
)
from seed.static_rows import CompanyCtx, StaticContext
from seed.writer import IdAllocator


class ShipmentGenerator(
    ShipmentSteps, ShipmentPlanning, ShipmentRows, Money, Documents, Narrative, Quotes, Requests, Exceptions
):
    """Every shipment and what hangs off it, drawn from one random generator in a fixed order."""

    def __init__(
        self,
        rng: random.Random,
        seed: int,
        ids: IdAllocator,
        ctx: StaticContext,
        ref: ReferenceData,
        today: date,
        *,
        files_dir: Path | None,
        write_files: bool,
    ) -> None:
        self.rng = rng
        self.seed = seed
        self.ids = ids
        self.ctx = ctx
        self.ref = ref
        self.today = today
        self.now = _midnight(today)
        self.files_dir = files_dir
        self.write_files = write_files and files_dir is not None
        self.files_written = 0

        self.seaports_by_region: dict[str, list[Place]] = {}
        for p in ref.seaports:
            self.seaports_by_region.setdefault(p.region, []).append(p)
        self.airports_by_region: dict[str, list[Place]] = {}
        for p in ref.airports:
            if p.code not in AIRPORTS_NOT_FOR_CARGO_LANES:
                self.airports_by_region.setdefault(p.region, []).append(p)
        self.road_places: dict[str, list[Place]] = {}
        for p in [*ref.inland, *ref.seaports]:
            if p.road_region:
                self.road_places.setdefault(p.road_region, []).append(p)
        self.by_code = ref.by_code

        self.ocean_carriers = list(OCEAN_CARRIER_SHARE)
        self.ocean_carrier_weights = [OCEAN_CARRIER_SHARE[c] for c in self.ocean_carriers]
        self.air_carriers = [c.code for c in ref.carriers if c.mode == "air"]
        road = [c for c in ref.carriers if c.mode == "road"]
        self.road_carriers = {
            "eu": [c.code for c in road if c.home not in ("US", "CA", "MX")],
            "na": [c.code for c in road if c.home in ("US", "CA", "MX")],
        }
        self.incoterm_names = {i.code: i.name for i in ref.incoterms}

        self.template_index = {}
        for mode, t in cfg.TEMPLATES.items():
            codes = [s.code for s in t.steps]
            self.template_index[mode] = (codes.index(t.departure), codes.index(t.arrival), codes.index(t.delivery))
        self.requirements: dict[str, list[tuple[str | None, str, int, str]]] = {}
        for mode, incoterm, doc_type, due, provided_by in cfg.DOCUMENT_REQUIREMENTS:
            self.requirements.setdefault(mode, []).append((incoterm, doc_type, due, provided_by))

        customers = ctx.customers
        demo = {"ACME", "NORD"}
        others = [c for c in customers if c.code not in demo]
        other_total = sum(c.profile.weight for c in others) or 1
        self.company_choices = customers
        self.company_weights = [0.2 if c.code in demo else 0.6 * c.profile.weight / other_total for c in customers]
        self.vat = {c.id: Decimal(org.VAT_RATE_BY_COUNTRY.get(c.country, "0")) for c in customers}
        self.fx = {c.id: Decimal(org.FX_PER_USD[c.currency]) for c in customers}

        # counters for identifiers
        self.container_seq = 0
        self.invoice_seq = 0
        self.sample_refs: dict[int, list[str]] = {c.id: [] for c in customers}
        self.counts: dict[str, int] = {}

    # ------------------------------------------------------------------ helpers

    def _perm(self, n: int, modulus: int, mult: int, salt: int) -> int:
        """A bijection on [0, modulus): unique, random-looking serial numbers without a lookup table."""
        return (n * mult + (self.seed * 7_654_321 + salt)) % modulus

    def _pick_company(self) -> CompanyCtx:
        return self.rng.choices(self.company_choices, weights=self.company_weights)[0]

    def _two_distinct(self, pool: list[Place], min_km: float = 0) -> tuple[Place, Place]:
        rng = self.rng
        for _ in range(20):
            a, b = rng.choice(pool), rng.choice(pool)
            if a.code != b.code and a.country + a.name != b.country + b.name and distance_km(a, b) >= min_km:
                return a, b
        a = pool[0]
        b = max(pool, key=lambda p: distance_km(a, p))
        return a, b

    def _lane(self, company: CompanyCtx, mode: str) -> tuple[Place, Place]:
        rng = self.rng
        prof = company.profile
        by_code = self.by_code
        if mode.startswith("ocean"):
            if rng.random() < 0.8:
                o = by_code[rng.choice(prof.ocean_origins)]
                d = by_code[rng.choice(prof.ocean_destinations)]
                if o.code != d.code:
                    return o, d
            ro, rd, _w = rng.choices(OCEAN_LANES, weights=[w for *_x, w in OCEAN_LANES])[0]
            o = rng.choice(self.seaports_by_region[ro])
            d = rng.choice(self.seaports_by_region[rd])
            if o.code == d.code:
                o, d = self._two_distinct(self.seaports_by_region[ro])
            return o, d
        if mode == "air":
            if rng.random() < 0.8:
                o = by_code[rng.choice(prof.air_origins)]
                d = by_code[rng.choice(prof.air_destinations)]
                if o.code != d.code:
                    return o, d
            ro, rd, _w = rng.choices(AIR_LANES, weights=[w for *_x, w in AIR_LANES])[0]
            o = rng.choice(self.airports_by_region[ro])
            d = rng.choice(self.airports_by_region[rd])
            if o.code == d.code:
                o, d = self._two_distinct(self.airports_by_region[ro])
            return o, d
        region = prof.road_region or rng.choice(("eu", "na"))
        pool = self.road_places[region]
        home = [p for p in pool if p.country == company.country]
        if home and rng.random() < 0.6:
            a = rng.choice(home)
            for _ in range(20):
                b = rng.choice(pool)
                if b.code != a.code and distance_km(a, b) >= 150:
                    return (a, b) if rng.random() < 0.5 else (b, a)
        return self._two_distinct(pool, 150)

    def _incoterm(self, mode: str, customer_is_consignee: bool) -> str:
        weights = INCOTERM_WEIGHTS_BUYER if customer_is_consignee else INCOTERM_WEIGHTS_SELLER
        terms = [t for t in weights if incoterm_valid_for_mode(t, mode)]
        return self.rng.choices(terms, weights=[weights[t] for t in terms])[0]

    def _carrier(self, family: str, o: Place, d: Place) -> str:
        rng = self.rng
        if family == "ocean":
            return rng.choices(self.ocean_carriers, weights=self.ocean_carrier_weights)[0]
        if family == "air":
            weights = []
            for code in self.air_carriers:
                hubs = AIR_CARRIER_HUBS[code]
                home = AIR_CARRIER_COUNTRIES[code]
                w = 6 if (o.code in hubs or d.code in hubs) else 3 if home in (o.country, d.country) else 1
                weights.append(w)
            return rng.choices(self.air_carriers, weights=weights)[0]
        region = o.road_region or d.road_region or "eu"
        return rng.choice(self.road_carriers[region])

    # ------------------------------------------------------------------ identifiers

    @staticmethod
    def _ocean_booking(code: str, origin: Place, n: int) -> str:
        port = origin.code[2:]
        return {
            "MAEU": f"2{n:08d}",
            "MSCU": f"EBKG{n:08d}",
            "CMDU": f"{port}{n:07d}",
            "HLCU": f"{n + 10_000_000:08d}",
            "ONEY": f"{port}E{n:07d}",
            "EGLV": f"14{n:010d}",
            "COSU": f"63{n:08d}",
            "YMLU": f"{port}{n:07d}Y",
            "HDMU": f"{port}M{n:07d}",
            "ZIMU": f"ZIMU{port}{n:07d}",
        }[code]
