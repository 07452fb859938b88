"""Shipments and everything that hangs off them, as plain dict rows with pre-assigned ids.

One ``ShipmentGenerator`` draws every value from one ``random.Random`` in a fixed order, so the same seed,
anchor date and shipment count always give the same rows, whatever the chunk size.

Time model: ``now`` is midnight UTC at the start of the anchor date. A milestone has an actual time only when
it happened before ``now``; the shipment status, ETD/ETA fields, delay, documents, invoices, requests and
exceptions are all derived from the same milestone timeline.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from portal_app.services.identifiers import format_awb, make_awb, make_container_number
from portal_app.services.references import normalize_reference
from seed import config_data as cfg
from seed import org_data as org
from seed.pdf import tiny_pdf
from seed.reference_data import (
    CarrierInfo,
    Place,
    ReferenceData,
    air_transit_days,
    distance_km,
    incoterm_valid_for_mode,
    ocean_transit_days,
    road_transit_days,
)
from seed.static_rows import CompanyCtx, StaticContext
from seed.writer import Batch, IdAllocator

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


class ShipmentGenerator:
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

    # ------------------------------------------------------------------ the shipment

    def shipment(self, batch: Batch) -> None:
        """One shipment and everything that hangs off it. The steps draw from the generator in this order."""
        sid = self.ids.next("shipment")
        route = self._route()
        line = self._timeline(route)
        load = self._load(route)
        numbers = self._numbers(sid, route, line, load)
        parties = self._parties(route)
        company = route.company
        ship = Ship(
            id=sid,
            ref=f"SH{sid:07d}",
            company=company,
            mode=route.mode,
            family=route.family,
            origin=route.origin,
            dest=route.dest,
            carrier_code=route.carrier_code,
            incoterm=route.incoterm,
            owner_id=route.owner_id,
            team=route.team,
            created_at=line.created,
            status=line.status,
            planned=line.planned,
            estimated=line.estimated,
            actual=line.actual,
            dep_idx=line.dep_idx,
            arr_idx=line.arr_idx,
            dlv_idx=line.dlv_idx,
            cutoff=line.cutoff,
            consignee=parties.consignee,
            is_dg=load.is_dg,
            cargo_value_usd=load.cargo_value_usd,
            fx=self.fx[company.id],
            customer_is_consignee=route.customer_is_consignee,
            delay_reason=line.reason,
            known_slip=line.known_slip,
        )
        self._eta_changes(batch, ship, line)
        last_actual = self._milestone_rows(batch, ship, line)
        stale = self._tracking(ship, last_actual)

        # charges (needed by quotes and invoices)
        ship.charges = self._charges(ship, load.containers, load.volume, load.gross, load.chargeable, route.transit)
        self._charge_rows(batch, ship)

        # the quote that led to this booking (some shipments)
        quote_option_id = None
        if self.rng.random() < 0.1:
            quote_option_id = self._quote_for_shipment(
                batch, ship, line.ready, load.containers, load.gross, load.volume, load.cargo
            )

        # documents, invoices, close-out
        self._documents(batch, ship, load.cargo, load.containers, load.gross, load.packages, line.awaiting_confirmation)
        self._invoices(batch, ship)
        self._close_out(ship)

        self._update_rows(batch, ship, route.carrier.name, numbers.vessel, numbers.voyage, numbers.flight)
        # requests, exceptions, tasks, notifications
        self._tickets(batch, ship)
        self._exceptions(batch, ship, stale)

        self._shipment_row(batch, ship, line, load, numbers, parties, quote_option_id)
        self._cargo_rows(batch, ship, load, numbers)

    def _route(self) -> _Route:
        """Who ships what how: the company, mode, lane, Incoterm, carrier, transit time and the owning agent."""
        rng = self.rng
        ctx = self.ctx
        company = self._pick_company()
        prof = company.profile
        mode = rng.choices(MODES, weights=prof.mode_weights)[0]
        family = "ocean" if mode.startswith("ocean") else "air" if mode == "air" else "road"
        origin, dest = self._lane(company, mode)
        if dest.country == company.country:
            customer_is_consignee = True
        elif origin.country == company.country:
            customer_is_consignee = False
        else:
            customer_is_consignee = rng.random() < 0.5
        incoterm = self._incoterm(mode, customer_is_consignee)
        carrier_code = self._carrier(family, origin, dest)

        if family == "ocean":
            transit = ocean_transit_days(origin, dest) + rng.choice((-1, 0, 0, 1, 2))
            team = "Ocean Import" if dest.region in ("north_europe", "med") else "Ocean Export"
        elif family == "air":
            transit = air_transit_days(origin, dest)
            team = "Air Freight"
        else:
            transit = road_transit_days(origin, dest, mode == "road_ltl")
            team = "Road & Customs"
        transit = max(1, transit)
        owner_id = rng.choices(ctx.agents_by_team[team], weights=ctx.agent_weights_by_team[team])[0]
        return _Route(
            company=company, mode=mode, family=family, origin=origin, dest=dest,
            customer_is_consignee=customer_is_consignee, incoterm=incoterm, carrier_code=carrier_code,
            carrier=ctx.carriers[carrier_code], transit=transit, team=team, owner_id=owner_id,
        )

    def _timeline(self, route: _Route) -> _Timeline:
        """The planned milestones, a possible cancellation or delay, what has happened by ``now`` and the status."""
        rng = self.rng
        now = self.now
        mode, family, transit = route.mode, route.family, route.transit

        # planned timeline
        steps = cfg.TEMPLATES[mode].steps
        dep_idx, arr_idx, dlv_idx = self.template_index[mode]
        ready = self.today + timedelta(days=rng.randint(-120, 30))
        ready_dt = _midnight(ready)
        arr_day = ready_dt + timedelta(days=steps[dep_idx].offset_days + transit)
        minute = rng.randint(0, 50)
        # booked 3-35 days before the cargo is ready (never in the future); the carrier confirms within two days
        created = ready_dt - timedelta(days=rng.uniform(3, 35), hours=rng.uniform(-8, 8))
        if created > now - HOUR:
            created = now - timedelta(days=rng.uniform(0.05, 12))
        created = created.replace(microsecond=0)
        planned: list[datetime] = []
        prev = None
        for i, s in enumerate(steps):
            if i == 0:
                t = (created + timedelta(hours=rng.uniform(3, 40))).replace(second=0, microsecond=0)
            else:
                base = ready_dt if s.anchor == "origin" else arr_day
                t = base + timedelta(days=s.offset_days, hours=s.hour, minutes=minute)
            if prev is not None and t <= prev:
                t = prev + HOUR
            planned.append(t)
            prev = t

        # cancellation
        cancelled = False
        cutoff = now
        if rng.random() < 0.03:
            latest = min(planned[dep_idx] - 6 * HOUR, now)
            if latest > created + 2 * HOUR:
                cancelled = True
                cutoff = created + (latest - created) * rng.uniform(0.3, 1.0)

        # delay: a slip from one step onward, learned in one or two ETA changes
        slip = timedelta(0)
        cause_idx = len(steps)
        reason = None
        increments: list[tuple[timedelta, datetime]] = []
        if not cancelled and rng.random() < 0.3:
            causes = DELAY_CAUSES[family]
            reason, first_step, lo, hi, _w = rng.choices(causes, weights=[c[4] for c in causes])[0]
            cause_idx = arr_idx if first_step == "@arrival" else [s.code for s in steps].index(first_step)
            days = rng.randint(lo, hi)
            slip = timedelta(days=days, hours=rng.randint(0, 6) if family == "ocean" else 0)
            p_cause = planned[cause_idx]
            if reason in ARRIVAL_SIDE_CAUSES:
                first_known = p_cause - timedelta(days=rng.uniform(1, min(6, transit + 0.5)))
            else:
                first_known = p_cause - timedelta(hours=rng.uniform(4, 48))
            if first_known <= created:
                first_known = created + (p_cause - created) * 0.5
            first_known = first_known.replace(microsecond=0)
            if days >= 3 and rng.random() < 0.4:
                part = timedelta(days=days // 2)
                second_known = (first_known + (p_cause - first_known) * rng.uniform(0.3, 0.9)).replace(microsecond=0)
                increments = [(part, first_known), (slip - part, second_known)]
            else:
                increments = [(slip, first_known)]

        # true times, actuals, estimates
        n_steps = len(steps)
        true_times: list[datetime] = []
        prev = None
        for i in range(n_steps):
            t = planned[i] + (slip if i >= cause_idx else timedelta(0))
            if i not in (dep_idx, arr_idx):
                t += timedelta(minutes=rng.randint(-75, 75))
            if prev is not None and t <= prev:
                t = prev + timedelta(minutes=20)
            true_times.append(t)
            prev = t
        known_slip = sum((inc for inc, at in increments if at <= now), timedelta(0))
        actual: list[datetime | None] = [t if t <= cutoff else None for t in true_times]
        estimated = [
            true_times[i] if actual[i] is not None else planned[i] + (known_slip if i >= cause_idx else timedelta(0))
            for i in range(n_steps)
        ]

        # status
        awaiting_confirmation = False
        if cancelled:
            status = "cancelled"
        elif actual[0] is None:
            status = "booked"
        elif actual[dep_idx] is None:
            status = "confirmed"
            if actual[1] is None and rng.random() < 0.2:
                awaiting_confirmation = True
                actual[0] = None
                estimated[0] = planned[0]
                status = "booked"
        elif actual[arr_idx] is None:
            status = "in_transit"
        elif actual[dlv_idx] is None:
            status = "arrived"
        else:
            status = "delivered"
        return _Timeline(
            steps=steps, dep_idx=dep_idx, arr_idx=arr_idx, dlv_idx=dlv_idx, ready=ready, created=created,
            planned=planned, cancelled=cancelled, cutoff=cutoff, reason=reason, cause_idx=cause_idx,
            increments=increments, known_slip=known_slip, actual=actual, estimated=estimated, status=status,
            awaiting_confirmation=awaiting_confirmation,
        )

    def _load(self, route: _Route) -> _Load:
        """The cargo: goods from the company's profile, containers (FCL), weight, volume and packages."""
        rng = self.rng
        mode, prof = route.mode, route.company.profile
        cargo_pool = [c for c in prof.cargo if c.un_number is None]
        dg_pool = [c for c in prof.cargo if c.un_number is not None]
        is_dg = bool(dg_pool) and rng.random() < 0.06
        cargo = rng.choice(dg_pool if is_dg else cargo_pool)
        containers: list[tuple[str, str, float, int]] = []
        if mode == "ocean_fcl":
            n_cont = rng.choices((1, 2, 3), weights=(55, 30, 15))[0]
            for _ in range(n_cont):
                if prof.reefer and rng.random() < 0.8:
                    st = rng.choice(("45R1", "45R1", "22R1", "42R1"))
                else:
                    st = rng.choices(("22G1", "42G1", "45G1", "22U1", "42P1"), weights=(32, 15, 48, 3, 2))[0]
                twenty = st.startswith("2")
                wt = rng.uniform(7000, 18000) if twenty else rng.uniform(9000, 24000)
                if cargo.package_type == "PX":
                    pk = rng.randint(10, 11) if twenty else rng.randint(20, 24)
                elif cargo.package_type == "BG":
                    pk = int(wt / 60)
                elif cargo.package_type == "DR":
                    pk = 80 if twenty else 160
                else:
                    pk = rng.randint(300, 900) if twenty else rng.randint(600, 1800)
                containers.append((st, "", round(wt, 1), pk))
            gross = sum(c[2] for c in containers)
            packages = sum(c[3] for c in containers)
            volume = sum(rng.uniform(24, 32) if c[0].startswith("2") else rng.uniform(55, 74) for c in containers)
            chargeable = gross
        elif mode == "ocean_lcl":
            volume = rng.uniform(0.8, 15)
            gross = volume * rng.uniform(120, 420)
            packages = (
                max(1, int(volume * rng.uniform(6, 20))) if cargo.package_type != "PX" else max(1, int(volume / 1.6))
            )
            chargeable = max(gross, volume * 1000)
        elif mode == "air":
            gross = min(8000.0, rng.lognormvariate(5.6, 1.0) + 20)
            volume = gross / rng.uniform(110, 260)
            packages = max(1, int(gross / rng.uniform(8, 40)))
            chargeable = max(gross, volume * 166.67)
        elif mode == "road_ftl":
            gross = rng.uniform(6000, 24000)
            volume = rng.uniform(40, 88)
            packages = rng.randint(18, 33)
            chargeable = max(gross, volume * 333)
        else:
            packages = rng.randint(1, 8)
            gross = packages * rng.uniform(200, 900)
            volume = packages * rng.uniform(1.1, 1.8)
            chargeable = max(gross, volume * 333)
        package_type = "PX" if mode.startswith("road") else cargo.package_type
        cargo_value_usd = gross * rng.uniform(3, 40)
        return _Load(
            cargo=cargo, is_dg=is_dg, containers=containers, gross=gross, packages=packages, volume=volume,
            chargeable=chargeable, package_type=package_type, cargo_value_usd=cargo_value_usd,
        )

    def _numbers(self, sid: int, route: _Route, line: _Timeline, load: _Load) -> _Numbers:
        """Booking, bill and waybill numbers, the voyage or flight, the customer's PO and the container numbers."""
        rng = self.rng
        family, origin, dest = route.family, route.origin, route.dest
        carrier_code, carrier = route.carrier_code, route.carrier
        branch_code = {"Ocean Export": "SHA", "Ocean Import": "RTM", "Air Freight": "CHI", "Road & Customs": "RTM"}[
            route.team
        ]
        nbk = self._perm(sid, 10_000_000, 6_151_003, 11)
        vessel = voyage = flight = mbl = hbl = awb = hawb = None
        if family == "ocean":
            booking = self._ocean_booking(carrier_code, origin, nbk)
            vessel = rng.choice(carrier.fleet)
            dep_t = line.planned[line.dep_idx]
            dlon = (dest.longitude - origin.longitude + 540) % 360 - 180
            dlat = dest.latitude - origin.latitude
            direction = ("N" if dlat > 0 else "S") if abs(dlat) > abs(dlon) else ("E" if dlon > 0 else "W")
            voyage = f"{dep_t.year % 10}{dep_t.isocalendar()[1]:02d}{direction}"
            mbl = f"{carrier_code}{self._perm(sid, 1_000_000_000, 387_420_489, 13):09d}"
            hbl = f"HSL{branch_code}{self._perm(sid, 10_000_000, 2_718_281, 17):07d}"
        elif family == "air":
            booking = f"{carrier_code}{nbk:08d}"
            flight = f"{carrier_code}{rng.randint(100, 9899)}"
            awb = make_awb(carrier.awb_prefix, self._perm(sid, 10_000_000, 4_837_219, 19))
            hawb = f"HSLA{self._perm(sid, 10_000_000, 3_141_593, 23):07d}"
        else:
            booking = f"{carrier_code}-{nbk:07d}"
        cmr = f"CMR{self._perm(sid, 100_000_000, 16_180_339, 29):08d}" if family == "road" else None
        customer_po = route.company.profile.po_format.format(n=self._perm(sid, 1_000_000, 999_983, 31))
        container_numbers: list[str] = []
        for _ in load.containers:
            self.container_seq += 1
            owner = rng.choice(carrier.equipment_owner_codes) if rng.random() < 0.8 else rng.choice(LESSOR_OWNER_CODES)
            serial = self._perm(self.container_seq, 1_000_000, 738_157, 37)
            container_numbers.append(make_container_number(owner[:3], owner[3], serial))
        return _Numbers(
            booking=booking, vessel=vessel, voyage=voyage, flight=flight, mbl=mbl, hbl=hbl, awb=awb, hawb=hawb,
            cmr=cmr, customer_po=customer_po, container_numbers=container_numbers,
        )

    def _parties(self, route: _Route) -> _Parties:
        """Shipper and consignee (the customer is one of them) and the notify party."""
        rng = self.rng
        company, origin, dest = route.company, route.origin, route.dest
        prof = company.profile
        region_key = (origin.road_region or "eu") if route.family == "road" else None
        if route.customer_is_consignee:
            consignee, consignee_addr = company.name, prof.address
            shipper = rng.choice(org.COUNTERPARTIES[region_key or origin.region])
            shipper_addr = f"{rng.randint(1, 480)} {rng.choice(org.STREETS)}, {origin.name}, {origin.country}"
        else:
            shipper, shipper_addr = company.name, prof.address
            consignee = rng.choice(org.COUNTERPARTIES[region_key or dest.region])
            consignee_addr = f"{rng.randint(1, 480)} {rng.choice(org.STREETS)}, {dest.name}, {dest.country}"
        notify = consignee if rng.random() < 0.7 else f"{consignee} c/o Harbor & Sky Logistics customs desk"
        return _Parties(shipper=shipper, shipper_addr=shipper_addr, consignee=consignee,
                        consignee_addr=consignee_addr, notify=notify)

    def _eta_changes(self, batch: Batch, s: Ship, line: _Timeline) -> None:
        """The ETA changes known by ``now``, each moving the arrival by its part of the slip."""
        rng = self.rng
        reason = line.reason
        running = timedelta(0)
        for inc, at in line.increments:
            if at > self.now:
                break
            prev_eta = s.planned[s.arr_idx] + running
            running += inc
            eid = self.ids.next("etachange")
            by_ops = reason not in ("PORT_CONGESTION", "WEATHER", "MECHANICAL") and rng.random() < 0.6
            text = cfg.DELAY_REASONS[reason].format(
                place=s.dest.name if reason == "PORT_CONGESTION" else s.origin.name,
                vehicle={"ocean": "vessel", "air": "aircraft", "road": "truck"}[s.family],
            )
            batch.add(
                "etachange",
                {
                    "id": eid,
                    "shipment_id": s.id,
                    "previous_eta": prev_eta,
                    "new_eta": s.planned[s.arr_idx] + running,
                    "reason_code": reason,
                    "reason_text": text[:1].upper() + text[1:],
                    "changed_by_id": s.owner_id if by_ops else None,
                    "source": "ops" if by_ops else "carrier",
                    "created_at": at,
                },
            )
            s.eta_changes.append((eid, at, prev_eta, s.planned[s.arr_idx] + running, text))

    def _milestone_rows(self, batch: Batch, s: Ship, line: _Timeline) -> datetime | None:
        """One row per template step; returns the last actual time (None when nothing has happened)."""
        location_ids = self.ctx.location_ids
        last_actual = None
        for i, step in enumerate(line.steps):
            act = s.actual[i]
            if act is not None:
                source = step.reported_by
                last_actual = act
                updated = act
            elif i >= line.cause_idx and s.known_slip:
                source = "carrier"
                updated = max(at for _inc, at in line.increments if at <= self.now)
            else:
                source = "plan"
                updated = s.created_at
            if i == 0 or step.code == "in_transit":
                loc = None
            else:
                loc = location_ids[s.origin.code] if step.anchor == "origin" else location_ids[s.dest.code]
            batch.add(
                "milestone",
                {
                    "id": self.ids.next("milestone"),
                    "shipment_id": s.id,
                    "sequence": i + 1,
                    "code": step.code,
                    "name": step.name,
                    "event_code": step.event_code,
                    "location_id": loc,
                    "planned_at": s.planned[i],
                    "estimated_at": s.estimated[i],
                    "actual_at": act,
                    "source": source,
                    "customer_visible": step.customer_visible,
                    "updated_at": updated,
                    "version": 1 if act is None else 2,
                },
            )
        return last_actual

    def _tracking(self, s: Ship, last_actual: datetime | None) -> bool:
        """When tracking last reported; True when that is stale (no news for days while moving)."""
        rng = self.rng
        now = self.now
        stale = False
        if s.status in ("in_transit", "arrived") and last_actual is not None:
            if rng.random() < 0.07 and last_actual < now - 3 * DAY:
                stale = True
                last_tracking = last_actual
            else:
                last_tracking = max(last_actual, now - timedelta(hours=rng.uniform(0.5, 30)))
        else:
            last_tracking = last_actual
        if s.eta_changes and last_tracking is not None:
            last_tracking = max(last_tracking, s.eta_changes[-1][1])
        s.last_tracking_at = last_tracking
        s.delivered_at = s.actual[s.dlv_idx]
        return stale

    def _charge_rows(self, batch: Batch, s: Ship) -> None:
        for c in s.charges:
            batch.add(
                "shipmentcharge",
                {
                    "id": self.ids.next("shipmentcharge"),
                    "shipment_id": s.id,
                    "code": c.code,
                    "description": c.description,
                    "quantity": c.quantity,
                    "unit_price": c.unit_price,
                    "amount": c.amount,
                    "currency": s.company.currency,
                },
            )

    def _close_out(self, s: Ship) -> None:
        """A shipment delivered over two weeks ago with every invoice paid is usually closed."""
        delivered = s.actual[s.dlv_idx]
        if s.status == "delivered" and delivered is not None and delivered < self.now - 14 * DAY:
            all_paid = all(inv[2] == "paid" for inv in s.invoices) and s.invoices
            if all_paid and self.rng.random() < 0.9:
                last_paid = max(inv[5] for inv in s.invoices)
                closed_at = max(delivered + timedelta(days=self.rng.uniform(7, 20)), last_paid + DAY)
                if closed_at <= self.now:
                    s.status = "closed"
                    s.closed_at = closed_at

    def _update_rows(
        self, batch: Batch, s: Ship, carrier_name: str, vessel: str | None, voyage: str | None, flight: str | None
    ) -> None:
        """The status narrative the customer and ops read."""
        for visibility, body, at, author in self._updates(s, carrier_name, vessel, voyage, flight):
            batch.add(
                "shipmentupdate",
                {
                    "id": self.ids.next("shipmentupdate"),
                    "shipment_id": s.id,
                    "company_id": s.company.id,
                    "visibility": visibility,
                    "body": body,
                    "author_id": author,
                    "created_at": at,
                },
            )

    def _shipment_row(
        self, batch: Batch, s: Ship, line: _Timeline, load: _Load, numbers: _Numbers, parties: _Parties,
        quote_option_id: int | None,
    ) -> None:
        """The shipment row itself, its dates and delay derived from the milestones."""
        rng = self.rng
        ctx = self.ctx
        company = s.company
        planned, estimated, actual = s.planned, s.estimated, s.actual
        eta_planned = planned[s.arr_idx]
        eta_estimated = estimated[s.arr_idx]
        ata = actual[s.arr_idx]
        delay_minutes = 0 if line.cancelled else int(((ata or eta_estimated) - eta_planned).total_seconds() // 60)
        times = [s.created_at, *(a for a in actual if a is not None), *(e[1] for e in s.eta_changes)]
        if line.cancelled:
            times.append(s.cutoff)
        updated_at = max(times)
        if s.status == "closed":
            updated_at = max(updated_at, s.closed_at)
        created_by = rng.choice(company.user_ids) if rng.random() < 0.4 else s.owner_id
        batch.add(
            "shipment",
            {
                "id": s.id,
                "reference": s.ref,
                "company_id": company.id,
                "quote_option_id": quote_option_id,
                "mode": s.mode,
                "status": s.status,
                "incoterm": s.incoterm,
                "shipper_name": parties.shipper,
                "shipper_address": parties.shipper_addr[:400],
                "consignee_name": parties.consignee,
                "consignee_address": parties.consignee_addr[:400],
                "notify_party": parties.notify[:200],
                "origin_id": ctx.location_ids[s.origin.code],
                "destination_id": ctx.location_ids[s.dest.code],
                "carrier_id": ctx.carrier_ids[s.carrier_code],
                "vessel_name": numbers.vessel,
                "voyage_number": numbers.voyage,
                "flight_number": numbers.flight,
                "booking_number": numbers.booking,
                "mbl_number": numbers.mbl,
                "hbl_number": numbers.hbl,
                "awb_number": numbers.awb,
                "hawb_number": numbers.hawb,
                "customer_po": numbers.customer_po,
                "cargo_description": load.cargo.description,
                "packages": load.packages,
                "package_type": load.package_type,
                "gross_weight_kg": qty(round(load.gross, 1)),
                "volume_cbm": qty(load.volume),
                "chargeable_weight_kg": qty(round(load.chargeable, 1)),
                "is_dangerous_goods": load.is_dg,
                "cargo_value": money(load.cargo_value_usd * float(s.fx)),
                "cargo_currency": company.currency,
                "ready_date": line.ready,
                "etd_planned": planned[s.dep_idx],
                "etd_estimated": estimated[s.dep_idx],
                "atd": actual[s.dep_idx],
                "eta_planned": eta_planned,
                "eta_estimated": eta_estimated,
                "ata": ata,
                "delivered_at": actual[s.dlv_idx],
                "delay_minutes": delay_minutes,
                "last_tracking_at": s.last_tracking_at,
                "owner_id": s.owner_id,
                "team_id": ctx.team_ids[s.team],
                "branch_id": ctx.team_branch[s.team],
                "created_by_id": created_by,
                "created_at": s.created_at,
                "updated_at": updated_at,
                "version": 1 + sum(1 for a in actual if a is not None) + len(s.eta_changes),
            },
        )

    def _cargo_rows(self, batch: Batch, s: Ship, load: _Load, numbers: _Numbers) -> None:
        """Cargo line, containers, references (searchable, one per kind and value) and followers."""
        rng = self.rng
        company = s.company
        cargo = load.cargo
        dims = cargo.package_type == "PX" or s.mode.startswith("road")
        batch.add(
            "cargoline",
            {
                "id": self.ids.next("cargoline"),
                "shipment_id": s.id,
                "description": cargo.description,
                "packages": load.packages,
                "package_type": load.package_type,
                "length_cm": qty(120) if dims else None,
                "width_cm": qty(80) if dims else None,
                "height_cm": qty(rng.randint(90, 180)) if dims else None,
                "weight_kg": qty(round(load.gross, 1)),
                "hs_code": cargo.hs_code,
                "un_number": cargo.un_number if load.is_dg else None,
                "dg_class": cargo.dg_class if load.is_dg else None,
            },
        )
        for (st, _s, wt, pk), number in zip(load.containers, numbers.container_numbers, strict=True):
            batch.add(
                "container",
                {
                    "id": self.ids.next("container"),
                    "shipment_id": s.id,
                    "number": number,
                    "size_type": st,
                    "seal_number": f"{s.carrier_code[:2]}{rng.randint(1_000_000, 9_999_999)}",
                    "gross_weight_kg": qty(wt),
                    "packages": pk,
                },
            )
        refs = [("shipment", s.ref), ("booking", numbers.booking), ("customer_po", numbers.customer_po)]
        for kind, value in (("mbl", numbers.mbl), ("hbl", numbers.hbl), ("awb", numbers.awb), ("hawb", numbers.hawb),
                            ("cmr", numbers.cmr)):
            if value:
                refs.append((kind, format_awb(value) if kind == "awb" else value))
        refs.extend(("container", n) for n in numbers.container_numbers)
        seen = set()
        for kind, display in refs:
            value = normalize_reference(display)
            if (kind, value) in seen:
                continue
            seen.add((kind, value))
            batch.add(
                "shipmentreference",
                {
                    "id": self.ids.next("shipmentreference"),
                    "shipment_id": s.id,
                    "company_id": company.id,
                    "kind": kind,
                    "value": value,
                    "display_value": display[:40],
                },
            )
        samples = self.sample_refs[company.id]
        if len(samples) < 40:
            samples.append(s.ref if rng.random() < 0.5 else rng.choice([d for _k, d in refs]))
        if rng.random() < 0.08:
            batch.add(
                "shipmentfollower",
                {"shipment_id": s.id, "user_id": rng.choice(company.user_ids), "created_at": s.created_at},
            )


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

    # ------------------------------------------------------------------ money

    def _charges(
        self, s: Ship, containers: list, volume: float, gross: float, chargeable: float, transit: int
    ) -> list[Charge]:
        rng = self.rng
        fx = float(s.fx)
        lines: list[tuple[str, str, float, float, bool]] = []  # code, desc, qty, unit USD, local
        buyer = s.incoterm in BUYER_TERMS
        d_term = s.incoterm in ("DAP", "DPU", "DDP")
        pays_origin = s.incoterm == "EXW" or not buyer
        pays_dest = buyer or d_term
        if s.mode == "ocean_fcl":
            by_type: dict[str, int] = {}
            for c in containers:
                by_type[c[0]] = by_type.get(c[0], 0) + 1
            base = 250 + 55 * transit
            for st, n in sorted(by_type.items()):
                factor = (1.0 if st.startswith("2") else 1.6) * (1.8 if st[2] == "R" else 1.0)
                lines.append(("FRT", f"Ocean freight {st}", n, base * factor * rng.uniform(0.85, 1.15), False))
            n_all = len(containers)
            lines.append(("BAF", "Bunker adjustment factor", n_all, base * 0.18, False))
            if pays_origin:
                lines.append(("THO", "Terminal handling, origin", n_all, rng.uniform(150, 260), False))
            if pays_dest:
                lines.append(("THD", "Terminal handling, destination", n_all, rng.uniform(210, 340), True))
            lines.append(("ISPS", "ISPS security surcharge", n_all, 12, False))
        elif s.mode == "ocean_lcl":
            wm = max(1.0, volume, gross / 1000)
            lines.append(("FRT", "Ocean freight (per W/M)", round(wm, 3), rng.uniform(35, 95), False))
            if pays_origin:
                lines.append(("CFO", "CFS handling, origin", round(wm, 3), 18, False))
            if pays_dest:
                lines.append(("CFS", "CFS handling, destination", round(wm, 3), 28, True))
        elif s.mode == "air":
            cw = round(chargeable, 1)
            lines.append(("FRT", "Air freight (per kg chargeable)", cw, rng.uniform(2.2, 5.8), False))
            lines.append(("FSC", "Fuel surcharge", cw, 0.95, False))
            lines.append(("SSC", "Security surcharge", cw, 0.18, False))
            lines.append(("AWB", "Air waybill fee", 1, 35, False))
            if pays_dest:
                lines.append(("THD", "Terminal handling, destination", cw, 0.12, True))
        else:
            km = distance_km(s.origin, s.dest) * 1.25
            if s.mode == "road_ftl":
                lines.append(("FRT", "Road freight, full truck", 1, max(450, km * rng.uniform(1.4, 2.1)), False))
                if s.origin.road_region == "eu":
                    lines.append(("TOLL", "Road toll", 1, km * 0.16, False))
            else:
                cwt = round(chargeable / 100, 2)
                frt = max(95, cwt * rng.uniform(9, 22))
                lines.append(("FRT", "Groupage freight (per 100 kg)", cwt, frt / cwt, False))
                lines.append(("FSC", "Fuel surcharge", 1, frt * 0.12, False))
        lines.append(("DOC", "Documentation fee", 1, 65 if s.family == "ocean" else 25, True))
        cross_border = s.origin.country != s.dest.country and not (
            s.family == "road" and s.origin.country in _EU and s.dest.country in _EU
        )
        if cross_border and (pays_dest or s.incoterm == "DDP"):
            lines.append(("CUS", "Import customs clearance", 1, rng.uniform(95, 165), True))
        if s.incoterm == "EXW":
            lines.append(("PUP", "Pick-up at shipper", 1, rng.uniform(180, 650), True))
        if d_term or (buyer and s.family != "road" and rng.random() < 0.5):
            lines.append(("DEL", "Delivery to consignee", 1, rng.uniform(160, 900), True))
        if s.incoterm in ("CIF", "CIP"):
            lines.append(("INS", "Cargo insurance (0.35% of value)", 1, max(35, s.cargo_value_usd * 0.0035), False))
        charges = []
        for code, desc, q, unit_usd, local in lines:
            quantity = qty(q)
            unit = money(unit_usd * fx)
            charges.append(Charge(code, desc, quantity, unit, (quantity * unit).quantize(CENT), local))
        return charges

    def _invoices(self, batch: Batch, s: Ship) -> None:
        rng = self.rng
        now = self.now
        company = s.company
        if s.status == "cancelled":
            issued = s.cutoff + timedelta(days=rng.uniform(1, 3))
            if rng.random() < 0.3 and issued <= now:
                fee = money(150 * float(s.fx))
                self._invoice(
                    batch, s, issued, [Charge("CXL", "Cancellation fee", qty(1), fee, fee, False)], local_vat=False
                )
            return
        atd = s.actual[s.dep_idx]
        if atd is None:
            return
        issue = atd + timedelta(days=rng.uniform(1, 4))
        if issue <= now:
            self._invoice(batch, s, issue, s.charges, local_vat=True)
        if s.incoterm == "DDP" and s.family != "road":
            customs_idx = next((i for i, st in enumerate(cfg.TEMPLATES[s.mode].steps) if "customs" in st.code), None)
            if customs_idx is not None and s.actual[customs_idx] is not None:
                issue2 = s.actual[customs_idx] + timedelta(days=rng.uniform(1, 3))
                if issue2 <= now:
                    value = s.cargo_value_usd * float(s.fx)
                    duty = value * rng.uniform(0.02, 0.08)
                    lines = [Charge("DUT", "Import duty (disbursement)", qty(1), money(duty), money(duty), False)]
                    vat = float(self.vat[company.id])
                    if vat:
                        import_vat = money((value + duty) * vat)
                        lines.append(Charge("VAT", "Import VAT (disbursement)", qty(1), import_vat, import_vat, False))
                    self._invoice(batch, s, issue2, lines, local_vat=False)

    def _invoice(self, batch: Batch, s: Ship, issued_at: datetime, charges: list[Charge], *, local_vat: bool) -> None:
        rng = self.rng
        now = self.now
        today = self.today
        company = s.company
        iid = self.ids.next("invoice")
        self.invoice_seq += 1
        number = f"INV-{issued_at.year}-{self.invoice_seq:06d}"
        issue_date = issued_at.date()
        due_date = issue_date + timedelta(days=company.payment_terms_days)
        vat = self.vat[company.id] if local_vat else ZERO
        subtotal = ZERO
        tax_total = ZERO
        for n, c in enumerate(charges, start=1):
            rate = vat if c.local else ZERO
            tax = (c.amount * rate).quantize(CENT)
            subtotal += c.amount
            tax_total += tax
            batch.add(
                "invoiceline",
                {
                    "id": self.ids.next("invoiceline"),
                    "invoice_id": iid,
                    "line_no": n,
                    "code": c.code,
                    "description": c.description,
                    "quantity": c.quantity,
                    "unit_price": c.unit_price,
                    "tax_rate": rate,
                    "amount": c.amount,
                    "tax_amount": tax,
                },
            )
        total = subtotal + tax_total
        payments: list[tuple[Decimal, datetime]] = []
        disputed_reason = None
        updated = issued_at
        r = rng.random()
        if issued_at > now - 2 * DAY and r < 0.15:
            status = "draft"
        elif r < 0.05 and issued_at < now - 2 * HOUR:
            status = "disputed"
            disputed_reason = rng.choice(DISPUTE_REASONS)
            updated = min(now - HOUR, issued_at + timedelta(days=rng.uniform(1, 10)))
        elif due_date < today:
            r2 = rng.random()
            days_late = (today - due_date).days
            if r2 < (0.75 if days_late < 30 else 0.88 if days_late < 90 else 0.95):
                status = "paid"
            elif r2 < 0.97:
                status = "overdue"
            else:
                status = "overdue"
                payments.append((money(float(total) * rng.uniform(0.2, 0.6)), None))  # type: ignore[arg-type]
        else:
            r2 = rng.random()
            age_days = (now - issued_at).days
            if r2 < 0.55 or age_days < 3:
                status = "issued"
            elif r2 < 0.8:
                status = "paid"
            else:
                status = "partially_paid"
                payments.append((money(float(total) * rng.uniform(0.3, 0.7)), None))  # type: ignore[arg-type]
        if status == "paid":
            if rng.random() < 0.15 and total > 1:
                first = money(float(total) * rng.uniform(0.3, 0.7))
                payments = [(first, None), (total - first, None)]  # type: ignore[list-item]
            else:
                payments = [(total, None)]  # type: ignore[list-item]
        # payment dates: between issue + 2 days and min(due + 10 days, now)
        latest = min(_midnight(due_date) + timedelta(days=10), now - HOUR)
        earliest = issued_at + timedelta(days=2)
        if latest <= earliest:
            earliest = issued_at + HOUR
            latest = max(earliest + HOUR, now - timedelta(minutes=30))
        span = latest - earliest
        dated = []
        fractions = sorted(rng.uniform(0.1, 1.0) for _ in payments)
        for (amount, _), frac in zip(payments, fractions, strict=True):
            dated.append((amount, earliest + span * frac))
        amount_paid = sum((a for a, _t in dated), ZERO)
        for amount, paid_at in dated:
            batch.add(
                "payment",
                {
                    "id": self.ids.next("payment"),
                    "invoice_id": iid,
                    "company_id": company.id,
                    "amount": amount,
                    "currency": company.currency,
                    "paid_at": paid_at,
                    "method": rng.choice(PAYMENT_METHODS),
                    "reference": f"{company.code}-{rng.randint(100000, 999999)}",
                    "created_at": paid_at,
                },
            )
            updated = max(updated, paid_at)
        balance = total - amount_paid
        batch.add(
            "invoice",
            {
                "id": iid,
                "number": number,
                "company_id": company.id,
                "shipment_id": s.id,
                "status": status,
                "currency": company.currency,
                "issue_date": issue_date,
                "due_date": due_date,
                "subtotal": subtotal,
                "tax_total": tax_total,
                "total": total,
                "amount_paid": amount_paid,
                "balance": balance,
                "disputed_reason": disputed_reason,
                "created_at": issued_at,
                "updated_at": updated,
                "version": 1 + len(dated),
            },
        )
        s.invoices.append((iid, number, status, due_date, balance, updated))
        if status == "disputed":
            s.disputed = (iid, number, disputed_reason, updated)
        if status != "draft" and issued_at > now - 30 * DAY:
            for uid in s.company.user_ids:
                self._notify(
                    batch,
                    uid,
                    "invoice_issued",
                    f"New invoice {number}",
                    f"Invoice {number} for shipment {s.ref}: {company.currency} {total}.",
                    f"/portal/invoices/{number}",
                    f"invoice:{iid}",
                    issued_at,
                )

    # ------------------------------------------------------------------ documents

    def _documents(
        self, batch: Batch, s: Ship, cargo: org.Cargo, containers: list, gross: float, packages: int,
        awaiting_confirmation: bool,
    ) -> None:
        rng = self.rng
        now = self.now
        cutoff = s.cutoff
        etd = s.planned[s.dep_idx]
        atd = s.actual[s.dep_idx]
        company = s.company
        users = company.user_ids
        active = s.status in ("booked", "confirmed", "in_transit")
        for incoterm, doc_type, due_days, provided_by in self.requirements[s.mode]:
            if incoterm is not None and incoterm != s.incoterm:
                continue
            if doc_type == "dangerous_goods_declaration" and not s.is_dg:
                continue
            due_at = etd - timedelta(days=due_days)
            if provided_by == "forwarder":
                if doc_type == "export_declaration":
                    at = etd - timedelta(hours=rng.uniform(12, 36))
                else:
                    if atd is None:
                        continue
                    at = atd + timedelta(hours=rng.uniform(2, 40))
                if at > cutoff or at <= s.created_at:
                    continue
                self._document(
                    batch,
                    s,
                    doc_type,
                    1,
                    at,
                    "approved",
                    s.owner_id,
                    s.owner_id,
                    at,
                    None,
                    "customer",
                    cargo,
                    gross,
                    packages,
                )
                continue
            # customer documents
            if rng.random() < 0.85:
                upload = due_at - timedelta(days=rng.uniform(0.2, 6))
            else:
                upload = due_at + timedelta(days=rng.uniform(0.2, 3))
            if upload <= s.created_at:
                upload = s.created_at + timedelta(hours=rng.uniform(1, 48))
            never = active and rng.random() < 0.05
            if never or upload > cutoff or (awaiting_confirmation and rng.random() < 0.5):
                if due_at < now and s.status != "cancelled" and active:
                    s.missing_docs.append((doc_type, due_at))
                continue
            if upload > due_at:
                s.late_docs.append((doc_type, due_at, upload))
            uploader = rng.choice(users)
            review_at = upload + timedelta(hours=rng.uniform(1, 96))
            version = 1
            if review_at > now:
                self._document(
                    batch,
                    s,
                    doc_type,
                    version,
                    upload,
                    "received",
                    uploader,
                    None,
                    None,
                    None,
                    "customer",
                    cargo,
                    gross,
                    packages,
                )
                continue
            r = rng.random()
            if r < 0.1:
                reason = rng.choice(REJECTION_REASONS)
                did = self._document(
                    batch,
                    s,
                    doc_type,
                    1,
                    upload,
                    "rejected",
                    uploader,
                    s.owner_id,
                    review_at,
                    reason,
                    "customer",
                    cargo,
                    gross,
                    packages,
                )
                s.rejected_docs.append((did, doc_type, review_at, reason))
                upload2 = review_at + timedelta(hours=rng.uniform(2, 72))
                if upload2 <= now and rng.random() < 0.85:
                    review2 = upload2 + timedelta(hours=rng.uniform(1, 24))
                    st = "approved" if review2 <= now else "received"
                    self._document(
                        batch,
                        s,
                        doc_type,
                        2,
                        upload2,
                        st,
                        uploader,
                        s.owner_id if st == "approved" else None,
                        review2 if st == "approved" else None,
                        None,
                        "customer",
                        cargo,
                        gross,
                        packages,
                    )
            elif r < 0.13:
                self._document(
                    batch,
                    s,
                    doc_type,
                    1,
                    upload,
                    "superseded",
                    uploader,
                    s.owner_id,
                    review_at,
                    None,
                    "customer",
                    cargo,
                    gross,
                    packages,
                )
                upload2 = review_at + timedelta(hours=rng.uniform(2, 72))
                if upload2 <= now:
                    review2 = upload2 + timedelta(hours=rng.uniform(1, 24))
                    st = "approved" if review2 <= now else "received"
                    self._document(
                        batch,
                        s,
                        doc_type,
                        2,
                        upload2,
                        st,
                        uploader,
                        s.owner_id if st == "approved" else None,
                        review2 if st == "approved" else None,
                        None,
                        "customer",
                        cargo,
                        gross,
                        packages,
                    )
            else:
                self._document(
                    batch,
                    s,
                    doc_type,
                    1,
                    upload,
                    "approved",
                    uploader,
                    s.owner_id,
                    review_at,
                    None,
                    "customer",
                    cargo,
                    gross,
                    packages,
                )
        # forwarder's own papers
        if s.family == "ocean" and s.actual[0] is not None:
            at = s.actual[0] + timedelta(minutes=rng.randint(5, 90))
            if at <= cutoff:
                self._document(
                    batch,
                    s,
                    "booking_confirmation",
                    1,
                    at,
                    "approved",
                    s.owner_id,
                    s.owner_id,
                    at,
                    None,
                    "internal",
                    cargo,
                    gross,
                    packages,
                )
        if s.family == "ocean" and atd is not None:
            at = s.planned[s.arr_idx] - timedelta(days=rng.uniform(1, 3))
            if atd < at <= now:
                self._document(
                    batch,
                    s,
                    "arrival_notice",
                    1,
                    at,
                    "approved",
                    s.owner_id,
                    s.owner_id,
                    at,
                    None,
                    "customer",
                    cargo,
                    gross,
                    packages,
                )
        if s.delivered_at is not None:
            at = s.delivered_at + timedelta(hours=rng.uniform(2, 48))
            if at <= now:
                self._document(
                    batch,
                    s,
                    "proof_of_delivery",
                    1,
                    at,
                    "approved",
                    s.owner_id,
                    s.owner_id,
                    at,
                    None,
                    "customer",
                    cargo,
                    gross,
                    packages,
                )

    def _document(
        self,
        batch: Batch,
        s: Ship,
        doc_type: str,
        version: int,
        at: datetime,
        status: str,
        uploaded_by: int | None,
        reviewed_by: int | None,
        reviewed_at: datetime | None,
        reason: str | None,
        visibility: str,
        cargo: org.Cargo,
        gross: float,
        packages: int,
    ) -> int:
        did = self.ids.next("document")
        title = cfg.DOCUMENT_TYPE_NAMES.get(doc_type, doc_type.replace("_", " ").capitalize())
        named_place = s.dest.name if s.incoterm[0] in "CD" else s.origin.name
        lines = [
            f"Shipment: {s.ref}    Mode: {s.mode}    Incoterm: {s.incoterm} {named_place}",
            f"From: {s.origin.name} ({s.origin.code}), {s.origin.country}",
            f"To: {s.dest.name} ({s.dest.code}), {s.dest.country}",
            f"Customer: {s.company.name}",
            f"Consignee: {s.consignee}",
            f"Cargo: {cargo.description}, HS {cargo.hs_code}",
            f"Packages: {packages}    Gross weight: {gross:.1f} kg",
            f"Version {version}",
            "",
            "Demo document generated by the Harbor & Sky Portal seed. Not a real shipping document.",
        ]
        content = tiny_pdf(f"{title} - {s.ref}", lines)
        key = f"seed/{s.company.code}/{s.ref}/{doc_type}-v{version}.pdf"
        if self.write_files:
            path = self.files_dir / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            self.files_written += 1
        batch.add(
            "document",
            {
                "id": did,
                "company_id": s.company.id,
                "shipment_id": s.id,
                "doc_type": doc_type,
                "version_no": version,
                "filename": f"{doc_type}_{s.ref}_v{version}.pdf",
                "content_type": "application/pdf",
                "size_bytes": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
                "storage_key": key,
                "visibility": visibility,
                "status": status,
                "rejection_reason": reason,
                "uploaded_by_id": uploaded_by,
                "reviewed_by_id": reviewed_by,
                "reviewed_at": reviewed_at,
                "created_at": at,
                "version": 1 if reviewed_at is None else 2,
            },
        )
        if status == "rejected" and at > self.now - 30 * DAY:
            for uid in s.company.user_ids:
                self._notify(
                    batch,
                    uid,
                    "document_rejected",
                    f"{title} for {s.ref} needs a new version",
                    f"Reason: {reason}.",
                    f"/portal/shipments/{s.ref}",
                    f"document_rejected:{did}",
                    reviewed_at or at,
                )
        return did

    # ------------------------------------------------------------------ narrative

    def _updates(
        self, s: Ship, carrier_name: str, vessel: str | None, voyage: str | None, flight: str | None
    ) -> list[tuple[str, str, datetime, int | None]]:
        rng = self.rng
        out: list[tuple[str, str, datetime, int | None]] = []
        a = s.actual
        owner = s.owner_id
        if a[0] is not None:
            if s.family == "ocean":
                body = (
                    f"Booking confirmed with {carrier_name} on {vessel} voyage {voyage}. Planned departure from "
                    f"{s.origin.name} on {_fmt(s.planned[s.dep_idx])}."
                )
            elif s.family == "air":
                body = (
                    f"Booked with {carrier_name} on flight {flight}, planned departure from {s.origin.name} "
                    f"({s.origin.code}) on {_fmt(s.planned[s.dep_idx])}."
                )
            else:
                body = f"Truck booked with {carrier_name}; pick-up planned on {_fmt(s.planned[s.dep_idx])}."
            out.append(("customer", body, a[0] + timedelta(minutes=10), owner))
        for _eid, at, prev, new, text in s.eta_changes:
            out.append(
                (
                    "customer",
                    f"New estimated arrival at {s.dest.name}: {_fmt(new)} (was {_fmt(prev)}). Reason: {text}.",
                    at + timedelta(minutes=30),
                    owner,
                )
            )
            if rng.random() < 0.7 and s.delay_reason in INTERNAL_DELAY_NOTES:
                out.append(("internal", INTERNAL_DELAY_NOTES[s.delay_reason], at + timedelta(minutes=15), owner))
        if a[s.dep_idx] is not None:
            verb = "Picked up" if s.family == "road" else "Departed"
            out.append(
                (
                    "customer",
                    (f"{verb} {s.origin.name} on {_fmt(a[s.dep_idx])}. Estimated arrival at "
                     f"{s.dest.name}: {_fmt(s.estimated[s.arr_idx])}."),
                    a[s.dep_idx] + HOUR,
                    owner,
                )
            )
        if a[s.arr_idx] is not None:
            extra = " Customs clearance is in progress." if s.family != "road" else ""
            out.append(
                ("customer", f"Arrived at {s.dest.name} on {_fmt(a[s.arr_idx])}.{extra}", a[s.arr_idx] + HOUR, owner)
            )
        if s.delivered_at is not None:
            out.append(
                ("customer", f"Delivered to {s.consignee} on {_fmt(s.delivered_at)}.", s.delivered_at + HOUR, owner)
            )
        if s.status == "cancelled":
            out.append(
                ("customer", "Booking cancelled at the customer's request. No further charges apply.", s.cutoff, owner)
            )
            out.append(
                (
                    "internal",
                    "Carrier booking cancelled; equipment release withdrawn.",
                    s.cutoff + timedelta(minutes=20),
                    owner,
                )
            )
        elif rng.random() < 0.15 and s.actual[0] is not None:
            out.append(
                (
                    "internal",
                    rng.choice(
                        (
                            "Customer prefers updates by e-mail to the logistics desk.",
                            "VGM received from shipper.",
                            "Checked cut-off times with the carrier; all on schedule.",
                            "Destination agent pre-alerted.",
                        )
                    ),
                    s.actual[0] + timedelta(hours=3),
                    owner,
                )
            )
        return [u for u in out if u[2] <= self.now]

    # ------------------------------------------------------------------ quotes

    def _quote_for_shipment(
        self, batch: Batch, s: Ship, ready: date, containers: list, gross: float, volume: float, cargo: org.Cargo,
    ) -> int:
        rng = self.rng
        qid = self.ids.next("quoterequest")
        q_created = s.created_at - timedelta(days=rng.uniform(1, 6))
        requester = rng.choice(s.company.user_ids)
        self._quote_request_row(
            batch,
            qid,
            s.company,
            requester,
            "accepted",
            s.mode,
            s.origin,
            s.dest,
            ready,
            s.incoterm,
            q_created,
            s.created_at,
            manual=False,
        )
        self._quote_cargo_row(batch, qid, cargo.description, containers, gross, volume, s.is_dg, cargo)
        total = sum((c.amount for c in s.charges), ZERO)
        accepted_id = 0
        carriers = [s.carrier_code] + [self._carrier(s.family, s.origin, s.dest) for _ in range(rng.randint(1, 2))]
        for n, code in enumerate(dict.fromkeys(carriers)):
            oid = self.ids.next("quoteoption")
            accepted = n == 0
            factor = 1.0 if accepted else rng.uniform(0.9, 1.25)
            charges = [(c.code, c.description, c.quantity, c.unit_price * Decimal(f"{factor:.4f}")) for c in s.charges]
            amounts = [(q * p).quantize(CENT) for _c, _d, q, p in charges]
            opt_total = total if accepted else sum(amounts, ZERO)
            batch.add(
                "quoteoption",
                {
                    "id": oid,
                    "quote_request_id": qid,
                    "rate_card_id": self.ctx.rate_cards.get(
                        (s.mode, self.ctx.location_ids[s.origin.code], self.ctx.location_ids[s.dest.code])
                    ),
                    "carrier_id": self.ctx.carrier_ids[code],
                    "currency": s.company.currency,
                    "total": opt_total,
                    "transit_days": max(
                        1,
                        (s.planned[s.arr_idx] - s.planned[s.dep_idx]).days
                        + rng.randint(-2, 3) * (0 if accepted else 1),
                    ),
                    "valid_until": q_created + timedelta(days=14),
                    "status": "accepted" if accepted else "declined",
                    "accepted_at": s.created_at if accepted else None,
                    "created_at": q_created + timedelta(minutes=1),
                    "version": 2 if accepted else 1,
                },
            )
            for (code_, desc, q, price), amount in zip(charges, amounts, strict=True):
                batch.add(
                    "quoteoptioncharge",
                    {
                        "id": self.ids.next("quoteoptioncharge"),
                        "quote_option_id": oid,
                        "code": code_,
                        "description": desc,
                        "quantity": q,
                        "unit_price": price.quantize(Decimal("0.0001")),
                        "amount": amount if not accepted else (q * price).quantize(CENT),
                    },
                )
            if accepted:
                accepted_id = oid
        return accepted_id

    def _quote_request_row(
        self,
        batch: Batch,
        qid: int,
        company: CompanyCtx,
        requester: int,
        status: str,
        mode: str | None,
        origin: Place | None,
        dest: Place | None,
        ready: date | None,
        incoterm: str | None,
        created: datetime,
        updated: datetime,
        *,
        manual: bool,
    ) -> None:
        rng = self.rng
        services = [s for s in ("pickup", "customs", "insurance", "delivery") if rng.random() < 0.4]
        batch.add(
            "quoterequest",
            {
                "id": qid,
                "reference": f"QT{qid:07d}",
                "company_id": company.id,
                "requested_by_id": requester,
                "status": status,
                "mode": mode,
                "origin_id": self.ctx.location_ids[origin.code] if origin else None,
                "destination_id": self.ctx.location_ids[dest.code] if dest else None,
                "ready_date": ready,
                "incoterm": incoterm,
                "services": json.dumps(services),
                "cargo_value": money(rng.uniform(5000, 250000)) if rng.random() < 0.6 else None,
                "cargo_currency": company.currency,
                "customer_reference": company.profile.po_format.format(n=rng.randint(0, 999_999))
                if rng.random() < 0.5
                else None,
                "is_manual": manual,
                "manual_due_at": created + timedelta(hours=24) if manual else None,
                "created_at": created,
                "updated_at": updated,
                "version": 1 if status in ("draft", "requested") else 2,
            },
        )

    def _quote_cargo_row(
        self,
        batch: Batch,
        qid: int,
        description: str,
        containers: list,
        gross: float,
        volume: float,
        is_dg: bool,
        cargo: org.Cargo,
    ) -> None:
        rng = self.rng
        if containers:
            by_type: dict[str, int] = {}
            for c in containers:
                by_type[c[0]] = by_type.get(c[0], 0) + 1
            items = list(by_type.items())
        else:
            items = [(None, None)]
        for st, count in items:
            batch.add(
                "quotecargoline",
                {
                    "id": self.ids.next("quotecargoline"),
                    "quote_request_id": qid,
                    "description": description,
                    "packages": None if st else rng.randint(1, 40),
                    "length_cm": None if st else qty(120),
                    "width_cm": None if st else qty(80),
                    "height_cm": None if st else qty(rng.randint(80, 170)),
                    "weight_kg": qty(round(gross, 1)),
                    "container_size_type": st,
                    "container_count": count,
                    "is_dangerous_goods": is_dg,
                    "un_number": cargo.un_number if is_dg else None,
                    "dg_class": cargo.dg_class if is_dg else None,
                },
            )

    def standalone_quotes(self, batch: Batch, count: int) -> None:
        """Quotes that did not (yet) become bookings: drafts, manual pricing, offered, expired, declined."""
        rng = self.rng
        now = self.now
        for _ in range(count):
            company = self._pick_company()
            prof = company.profile
            mode = rng.choices(MODES, weights=prof.mode_weights)[0]
            if mode.startswith("road") and not prof.road_region:
                mode = "air"
            family = "ocean" if mode.startswith("ocean") else "air" if mode == "air" else "road"
            origin, dest = self._lane(company, mode)
            incoterm = self._incoterm(mode, dest.country == company.country)
            status = rng.choices(("draft", "requested", "quoted", "expired", "declined"), weights=(10, 15, 40, 25, 10))[
                0
            ]
            age = rng.uniform(0.2, 10) if status in ("draft", "requested", "quoted") else rng.uniform(15, 90)
            created = now - timedelta(days=age)
            ready = (created + timedelta(days=rng.randint(5, 30))).date()
            qid = self.ids.next("quoterequest")
            manual = status == "requested"
            self._quote_request_row(
                batch,
                qid,
                company,
                rng.choice(company.user_ids),
                status,
                mode,
                origin,
                dest if status != "draft" or rng.random() < 0.5 else None,
                ready,
                incoterm if status != "draft" else None,
                created,
                created + HOUR,
                manual=manual,
            )
            cargo = rng.choice([c for c in prof.cargo if c.un_number is None])
            containers = [(rng.choice(("22G1", "45G1")), "", 0, 0)] * rng.randint(1, 3) if mode == "ocean_fcl" else []
            gross = rng.uniform(300, 20000)
            self._quote_cargo_row(batch, qid, cargo.description, containers, gross, gross / 250, False, cargo)
            if status in ("quoted", "expired", "declined"):
                if family == "ocean":
                    transit = ocean_transit_days(origin, dest)
                elif family == "air":
                    transit = air_transit_days(origin, dest)
                else:
                    transit = road_transit_days(origin, dest, mode == "road_ltl")
                fx = float(self.fx[company.id])
                for n in range(rng.randint(1, 3)):
                    oid = self.ids.next("quoteoption")
                    carrier = self._carrier(family, origin, dest)
                    base = (250 + 55 * transit) * (len(containers) or max(1, gross / 1000)) * rng.uniform(0.8, 1.3)
                    lines = [
                        ("FRT", "Freight", qty(1), money(base * fx)),
                        ("DOC", "Documentation fee", qty(1), money(65 * fx)),
                    ]
                    if rng.random() < 0.5:
                        lines.append(("CUS", "Import customs clearance", qty(1), money(rng.uniform(95, 165) * fx)))
                    total = sum((p for _c, _d, _q, p in lines), ZERO)
                    valid_until = created + timedelta(days=14)
                    opt_status = {"quoted": "offered", "expired": "expired", "declined": "declined"}[status]
                    if status == "quoted" and valid_until < now:
                        valid_until = now + timedelta(days=rng.randint(2, 10))
                    batch.add(
                        "quoteoption",
                        {
                            "id": oid,
                            "quote_request_id": qid,
                            "rate_card_id": self.ctx.rate_cards.get(
                                (mode, self.ctx.location_ids[origin.code], self.ctx.location_ids[dest.code])
                            ),
                            "carrier_id": self.ctx.carrier_ids[carrier],
                            "currency": company.currency,
                            "total": total,
                            "transit_days": transit + n,
                            "valid_until": valid_until,
                            "status": opt_status,
                            "accepted_at": None,
                            "created_at": created + timedelta(minutes=1 + n),
                            "version": 1,
                        },
                    )
                    for code, desc, q, p in lines:
                        batch.add(
                            "quoteoptioncharge",
                            {
                                "id": self.ids.next("quoteoptioncharge"),
                                "quote_option_id": oid,
                                "code": code,
                                "description": desc,
                                "quantity": q,
                                "unit_price": p,
                                "amount": p,
                            },
                        )

    # ------------------------------------------------------------------ requests

    def _tickets(self, batch: Batch, s: Ship) -> None:
        rng = self.rng
        now = self.now
        plans: list[
            tuple[str, str, str, datetime, int | None, str]
        ] = []  # category, priority, subject, at, invoice, body
        if s.eta_changes and rng.random() < 0.35:
            at = s.eta_changes[-1][1] + timedelta(hours=rng.uniform(1, 30))
            plans.append(
                (
                    "tracking",
                    rng.choice(("normal", "high", "high", "urgent")),
                    f"New ETA for {s.ref}: what does it mean for our delivery?",
                    at,
                    None,
                    (f"We saw the ETA for {s.ref} has moved. Can you confirm the new delivery date? "
                     "Our warehouse needs to rebook the unloading slot."),
                )
            )
        if s.rejected_docs and rng.random() < 0.3:
            _did, dt, at, reason = s.rejected_docs[0]
            plans.append(
                (
                    "documents",
                    "normal",
                    f"Why was our {dt.replace('_', ' ')} rejected?",
                    at + timedelta(hours=rng.uniform(1, 20)),
                    None,
                    f"The {dt.replace('_', ' ')} for {s.ref} was rejected ({reason}). Which version do you need?",
                )
            )
        if s.disputed:
            iid, number, reason, at = s.disputed
            plans.append(
                (
                    "billing",
                    "normal",
                    f"Query on invoice {number}",
                    at,
                    iid,
                    f"We dispute invoice {number}: {reason}. Please check and send a corrected invoice.",
                )
            )
        if s.status in ("booked", "confirmed") and rng.random() < 0.06:
            plans.append(
                (
                    "booking_change",
                    "high",
                    f"Please change the delivery address for {s.ref}",
                    s.created_at + (now - s.created_at) * rng.uniform(0.3, 0.95),
                    None,
                    "Our consignee moved warehouses. Please deliver to the new address in the attached note.",
                )
            )
        if rng.random() < 0.01:
            plans.append(
                (
                    "other",
                    "low",
                    "CO2 emissions report for last quarter",
                    s.created_at + timedelta(days=rng.uniform(0, 5)),
                    None,
                    "Could you send us the CO2 emissions for our shipments of last quarter?",
                )
            )
        for category, priority, subject, at, invoice_id, body in plans:
            if at >= now:
                continue
            self._ticket(batch, s, category, priority, subject, at, invoice_id, body)

    def _ticket(
        self,
        batch: Batch,
        s: Ship,
        category: str,
        priority: str,
        subject: str,
        created: datetime,
        invoice_id: int | None,
        body: str,
    ) -> None:
        rng = self.rng
        now = self.now
        tid = self.ids.next("ticket")
        raiser = rng.choice(s.company.user_ids)
        fr_hours, res_hours = cfg.sla_hours("ticket", category, priority)
        fr_due = created + timedelta(hours=fr_hours or 8)
        res_due = created + timedelta(hours=res_hours)
        responded = created + timedelta(hours=(fr_hours or 8) * rng.uniform(0.1, 1.4))
        if responded > now:
            responded = None
        age = now - created
        status = "open"
        resolved = closed = None
        if responded is not None:
            if (age > timedelta(days=10) and rng.random() < 0.9) or (age > timedelta(days=2) and rng.random() < 0.4):
                resolved = responded + (now - responded) * rng.uniform(0.05, 0.6)
                if rng.random() < 0.6 and resolved + timedelta(days=2) < now:
                    closed = resolved + timedelta(days=rng.uniform(2, 5))
                    if closed > now:
                        closed = None
                status = "closed" if closed else "resolved"
            else:
                status = rng.choice(("open", "waiting_on_customer", "waiting_on_us"))
        team = self.ctx.team_ids[s.team]
        messages = [(raiser, "customer", body, created)]
        if responded is not None:
            messages.append(
                (
                    s.owner_id,
                    "customer",
                    rng.choice(
                        [r["body"] for r in cfg.CANNED_REPLIES if r["category"] == category]
                        or ["Thank you, we are looking into it and will come back to you shortly."]
                    ).format(eta=_fmt(s.estimated[s.arr_idx]), reason="see the note on the document"),
                    responded,
                )
            )
            if rng.random() < 0.4:
                messages.append(
                    (
                        s.owner_id,
                        "internal",
                        rng.choice(
                            (
                                "Checked with the carrier, waiting for written confirmation.",
                                "Finance asked to review the charge lines before we answer.",
                                "Customer is a key account; keep the manager in copy.",
                            )
                        ),
                        responded + timedelta(minutes=rng.randint(5, 120)),
                    )
                )
        if resolved is not None:
            thanks_at = max(responded + timedelta(minutes=5), resolved - timedelta(minutes=rng.randint(10, 240)))
            messages.append((raiser, "customer", "Thanks, that answers our question.", thanks_at))
        updated = max(m[3] for m in messages)
        if resolved:
            updated = max(updated, resolved)
        if closed:
            updated = max(updated, closed)
        messages = [m for m in messages if m[3] <= now]
        batch.add(
            "ticket",
            {
                "id": tid,
                "reference": f"REQ-{tid:06d}",
                "company_id": s.company.id,
                "raised_by_id": raiser,
                "shipment_id": s.id,
                "invoice_id": invoice_id,
                "document_id": None,
                "merged_into_id": None,
                "category": category,
                "priority": priority,
                "status": status,
                "subject": subject[:200],
                "context": json.dumps({"page": "invoice" if invoice_id else "shipment", "record": s.ref}),
                "assignee_id": s.owner_id if rng.random() < 0.9 else None,
                "team_id": team,
                "first_response_due_at": fr_due,
                "first_responded_at": responded,
                "resolution_due_at": res_due,
                "resolved_at": resolved,
                "closed_at": closed,
                "satisfaction": rng.randint(3, 5) if closed and rng.random() < 0.6 else None,
                "created_at": created,
                "updated_at": min(updated, now),
                "version": len(messages),
            },
        )
        for author, visibility, text, at in messages:
            batch.add(
                "ticketmessage",
                {
                    "id": self.ids.next("ticketmessage"),
                    "ticket_id": tid,
                    "author_id": author,
                    "visibility": visibility,
                    "body": text,
                    "created_at": at,
                },
            )
        batch.add("ticketfollower", {"ticket_id": tid, "user_id": raiser})
        if category == "booking_change":
            self._change_request(batch, s, raiser, created, tid)

    def _change_request(self, batch: Batch, s: Ship, requester: int, at: datetime, ticket_id: int) -> None:
        rng = self.rng
        now = self.now
        crid = self.ids.next("changerequest")
        status = rng.choice(("pending", "pending", "approved", "rejected"))
        decided = at + timedelta(hours=rng.uniform(2, 30)) if status != "pending" else None
        if decided is not None and decided > now:
            status, decided = "pending", None
        changes = {"consignee_address": f"{rng.randint(1, 300)} {rng.choice(org.STREETS)}, {s.dest.name}"}
        batch.add(
            "changerequest",
            {
                "id": crid,
                "shipment_id": s.id,
                "company_id": s.company.id,
                "kind": "amend",
                "status": status,
                "changes": json.dumps(changes),
                "reason": "Consignee moved warehouses",
                "decision_reason": None
                if status == "pending"
                else ("Carrier confirmed the amendment" if status == "approved" else "Too late: cargo already loaded"),
                "requested_by_id": requester,
                "decided_by_id": s.owner_id if decided else None,
                "created_at": at,
                "decided_at": decided,
                "version": 1 if status == "pending" else 2,
            },
        )
        if status == "pending":
            self._exception(
                batch,
                s,
                "change_requested",
                f"cr:{crid}",
                "medium",
                f"Change requested on {s.ref}: new delivery address",
                f"Change request #{crid} (ticket REQ-{ticket_id:06d}) waits for a decision.",
                at,
                None,
                None,
            )

    # ------------------------------------------------------------------ exceptions and tasks

    def _exceptions(self, batch: Batch, s: Ship, stale: bool) -> None:
        rng = self.rng
        now = self.now
        a = s.actual
        arrived = a[s.arr_idx] is not None
        # ETA slip
        if s.eta_changes and s.known_slip >= DAY:
            first_at = s.eta_changes[0][1]
            sev = "high" if s.known_slip >= 5 * DAY else "medium"
            resolved_at = None
            if arrived:
                resolved_at = min(a[s.arr_idx], first_at + timedelta(hours=rng.uniform(2, 48)))
            elif rng.random() < 0.3:
                resolved_at = first_at + timedelta(hours=rng.uniform(2, 48))
            if resolved_at is not None and resolved_at > now:
                resolved_at = None
            self._exception(
                batch,
                s,
                "eta_slip",
                s.delay_reason or "eta",
                sev,
                f"ETA of {s.ref} moved by {s.known_slip.days} day(s)",
                f"New ETA {_fmt(s.estimated[s.arr_idx])} (planned {_fmt(s.planned[s.arr_idx])}); "
                f"reason {s.delay_reason}.",
                first_at + timedelta(minutes=5),
                resolved_at,
                "Customer informed of the new ETA; delivery rebooked." if resolved_at else None,
            )
        # documents missing or late
        for doc_type, due in s.missing_docs:
            sev = "high" if s.planned[s.dep_idx] - now < 2 * DAY else "medium"
            self._exception(
                batch,
                s,
                "document_missing",
                doc_type,
                sev,
                f"{cfg.DOCUMENT_TYPE_NAMES.get(doc_type, doc_type)} missing for {s.ref}",
                f"Due {_fmt(due)}; not received.",
                due + HOUR,
                None,
                None,
            )
        for doc_type, due, uploaded in s.late_docs:
            if due + HOUR < uploaded <= now and rng.random() < 0.7:
                self._exception(
                    batch,
                    s,
                    "document_missing",
                    doc_type,
                    "medium",
                    f"{cfg.DOCUMENT_TYPE_NAMES.get(doc_type, doc_type)} missing for {s.ref}",
                    f"Due {_fmt(due)}.",
                    due + HOUR,
                    uploaded,
                    "Document received.",
                    auto=True,
                )
        # customs and carrier holds
        customs_idx = next((i for i, st in enumerate(cfg.TEMPLATES[s.mode].steps) if "customs" in st.code), None)
        if (
            customs_idx is not None
            and arrived
            and rng.random() < (0.3 if a[customs_idx] is None and s.status == "arrived" else 0.04)
        ):
            start = a[s.arr_idx] + timedelta(hours=rng.uniform(2, 20))
            release = a[customs_idx]
            if start < now:
                if release is not None and release <= start:
                    start = a[s.arr_idx] + (release - a[s.arr_idx]) * 0.5
                self._exception(
                    batch,
                    s,
                    "customs_hold",
                    "customs",
                    rng.choice(("high", "critical")),
                    f"Customs hold on {s.ref}",
                    "Selected for physical inspection by import customs.",
                    start,
                    release,
                    "Released by customs after inspection." if release else None,
                )
        if s.family == "ocean" and arrived and rng.random() < 0.01:
            start = a[s.arr_idx] + timedelta(hours=2)
            end = a[s.dlv_idx]
            if start < now:
                self._exception(
                    batch,
                    s,
                    "carrier_hold",
                    "freight_release",
                    "high",
                    f"Carrier hold on {s.ref}",
                    "Carrier has not released the cargo: original B/L not surrendered.",
                    start,
                    end,
                    "Telex release received." if end else None,
                )
        if stale and s.last_tracking_at is not None:
            start = s.last_tracking_at + timedelta(hours=72)
            if start < now:
                self._exception(
                    batch,
                    s,
                    "no_tracking_update",
                    "stale",
                    "medium",
                    f"No tracking update for {s.ref} since {_fmt(s.last_tracking_at)}",
                    "The carrier feed has sent nothing for more than 72 hours.",
                    start,
                    None,
                    None,
                )
        for _iid, number, status, due, balance, _upd in s.invoices:
            if status == "overdue" and (self.today - due).days >= 14:
                start = _midnight(due) + timedelta(days=14, hours=6)
                sev = "medium" if (self.today - due).days > 30 else "low"
                self._exception(
                    batch,
                    s,
                    "invoice_overdue",
                    number,
                    sev,
                    f"Invoice {number} overdue",
                    f"Balance {s.company.currency} {balance}, due {due.isoformat()}.",
                    start,
                    None,
                    None,
                )
        if s.delivered_at is not None and rng.random() < 0.01:
            start = s.delivered_at + timedelta(hours=rng.uniform(1, 30))
            if start < now:
                end = start + timedelta(days=rng.uniform(1, 6))
                self._exception(
                    batch,
                    s,
                    "other",
                    "damage",
                    "medium",
                    f"Damage reported at delivery of {s.ref}",
                    "Consignee noted two damaged cartons on the delivery receipt.",
                    start,
                    end if end <= now else None,
                    "Claim file opened with the carrier." if end <= now else None,
                )
        # routine tasks
        if s.status in ("confirmed", "in_transit", "arrived") and rng.random() < 0.2:
            title, due = {
                "confirmed": ("Check VGM and cut-off with the carrier", s.planned[s.dep_idx] - DAY),
                "in_transit": ("Send pre-alert to the destination agent", s.planned[s.dep_idx] + DAY),
                "arrived": ("Book the delivery slot with the consignee", s.planned[s.arr_idx] + DAY),
            }[s.status]
            self._task(batch, s, title, None, due, s.created_at + DAY if s.created_at + DAY < now else s.created_at)

    def _exception(
        self,
        batch: Batch,
        s: Ship,
        kind: str,
        cause: str,
        severity: str,
        title: str,
        detail: str,
        created: datetime,
        resolved: datetime | None,
        note: str | None,
        *,
        auto: bool = False,
    ) -> None:
        rng = self.rng
        now = self.now
        if created > now:
            return
        xid = self.ids.next("opsexception")
        _fr, hours = cfg.sla_hours("exception", kind, severity)
        if resolved is not None and resolved <= created:
            resolved = created + timedelta(minutes=30)
        if resolved is not None and resolved > now:
            resolved = None
        if resolved is None:
            status = "in_progress" if rng.random() < 0.4 else "open"
            open_key = f"{s.id}|{kind}|{cause}"
        else:
            status, open_key = "resolved", None
        owner = s.owner_id if (resolved is not None or rng.random() < 0.9) else None
        batch.add(
            "opsexception",
            {
                "id": xid,
                "shipment_id": s.id,
                "company_id": s.company.id,
                "kind": kind,
                "cause_key": cause[:120],
                "severity": severity,
                "status": status,
                "title": title[:200],
                "detail": detail,
                "owner_id": owner,
                "team_id": self.ctx.team_ids[s.team],
                "sla_due_at": created + timedelta(hours=hours),
                "created_by_rule": kind not in ("other", "carrier_hold"),
                "resolution_note": note if resolved else None,
                "resolved_by_id": (None if auto else s.owner_id) if resolved else None,
                "resolved_at": resolved,
                "auto_resolved": bool(auto and resolved),
                "open_key": open_key,
                "created_at": created,
                "updated_at": resolved or created,
                "version": 2 if resolved else 1,
            },
        )
        if owner is not None and created > now - 30 * DAY:
            self._notify(
                batch,
                owner,
                "exception_assigned",
                title[:200],
                detail,
                f"/tower/exceptions/{xid}",
                f"exception:{xid}",
                created,
            )
        if resolved is None and rng.random() < 0.5:
            title_t = {
                "eta_slip": f"Inform the customer about the new ETA of {s.ref}",
                "document_missing": f"Chase the {cause.replace('_', ' ')} for {s.ref}",
                "customs_hold": f"Follow up the customs inspection of {s.ref}",
                "carrier_hold": f"Get the carrier release for {s.ref}",
                "no_tracking_update": f"Ask the carrier for a status update on {s.ref}",
                "invoice_overdue": f"Send a payment reminder for {cause}",
                "change_requested": f"Decide the change request on {s.ref}",
                "other": f"Follow up the issue on {s.ref}",
            }[kind]
            self._task(batch, s, title_t, xid, created + timedelta(hours=hours), created, assignee=owner)
        if kind == "eta_slip" and s.eta_changes:
            for eid, at, _prev, new, text in s.eta_changes:
                if at > now - 30 * DAY:
                    for uid in s.company.user_ids:
                        self._notify(
                            batch,
                            uid,
                            "eta_changed",
                            f"New ETA for {s.ref}: {_fmt(new)}",
                            f"Reason: {text}.",
                            f"/portal/shipments/{s.ref}",
                            f"eta_change:{eid}",
                            at,
                        )

    def _task(
        self,
        batch: Batch,
        s: Ship,
        title: str,
        exception_id: int | None,
        due: datetime,
        created: datetime,
        assignee: int | None = -1,
    ) -> None:
        rng = self.rng
        now = self.now
        if assignee == -1:
            assignee = s.owner_id
        if exception_id is None:
            status = "done" if due < now and rng.random() < 0.8 else rng.choice(("open", "in_progress"))
        else:
            status = rng.choice(("open", "open", "in_progress"))
        completed = None
        if status == "done":
            completed = min(now - HOUR, max(created + HOUR, due - timedelta(hours=rng.uniform(0, 20))))
        batch.add(
            "task",
            {
                "id": self.ids.next("task"),
                "title": title[:200],
                "detail": None,
                "shipment_id": s.id,
                "exception_id": exception_id,
                "assignee_id": assignee,
                "team_id": self.ctx.team_ids[s.team],
                "status": status,
                "due_at": due,
                "completed_at": completed,
                "created_by_id": None if exception_id else s.owner_id,
                "created_at": created,
                "updated_at": completed or created,
                "version": 2 if completed else 1,
            },
        )

    def _notify(
        self, batch: Batch, user_id: int, kind: str, title: str, body: str | None, link: str, dedup: str, at: datetime
    ) -> None:
        rng = self.rng
        if at > self.now:
            return
        read_at = at + timedelta(hours=rng.uniform(0.5, 72)) if rng.random() < 0.6 else None
        if read_at is not None and read_at > self.now:
            read_at = None
        batch.add(
            "notification",
            {
                "id": self.ids.next("notification"),
                "user_id": user_id,
                "event_kind": kind,
                "title": title[:200],
                "body": body,
                "link": link,
                "dedup_key": dedup,
                "read_at": read_at,
                "created_at": at,
            },
        )


_EU = {"NL", "BE", "DE", "FR", "PL", "SE", "ES", "IT", "GR", "CZ", "AT", "LU", "DK"}
