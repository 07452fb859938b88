"""The rate engine: pure functions that price one cargo against one rate card. Decimal only, never float.

Pricing rules (docs/quotes.md has a worked example):

* A card prices a request when it is valid on the ready date (``valid_from <= ready <= valid_to``, both days
  included) and yields at least one freight (``FRT``) line; an FCL card must also have a freight rate for every
  container size-type requested (a freight rate without a size-type applies to any).
* Quantities by basis:
  ``per_container`` containers of the charge's size-type (or of every type when it has none);
  ``per_wm`` revenue tonnes, the greater of cubic metres and metric tonnes (LCL);
  ``per_kg`` chargeable kilograms: air uses the greater of actual kg and volume cm3 / 6000, rounded up to the
  next half kilogram (IATA); road groupage uses the greater of actual kg and 333 kg per cubic metre; others use
  actual kg. Rows of one code with a ``min_quantity`` are weight breaks: the row with the highest
  ``min_quantity`` not above the chargeable weight applies;
  ``per_shipment`` one (a fixed amount; a full truck is one shipment);
  ``per_unit`` packages (containers for FCL);
  ``percent`` of the freight lines' total (``percent_of = freight``) or of the cargo value
  (``percent_of = cargo_value``, insurance), the rate being a percentage (0.35 means 0.35 %).
* Each line is ``quantity x rate``, raised to its ``minimum_charge`` (for weight breaks: the highest minimum
  among the code's rows), then rounded half-up to the currency's minor unit (JPY 0 decimals, USD 2). The total is
  the sum of the rounded lines.
* A charge tied to a service (pickup, customs, insurance, delivery) applies only when the customer asked for the
  service. A requested service the card has no charge for is listed in ``missing_services``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from models.enums import Mode
from portal_app.services.trade_codes import CURRENCY_DIGITS

ZERO = Decimal(0)
ONE = Decimal(1)
HALF = Decimal("0.5")
KG_QUANTUM = Decimal("0.001")
AIR_VOLUME_DIVISOR_CM3 = Decimal(6000)  # 1 kg per 6,000 cm3 (IATA volumetric ratio 1:6)
ROAD_KG_PER_M3 = Decimal(333)  # road groupage: 1 m3 counts as 333 kg
CM3_PER_M3 = Decimal(1000000)
FREIGHT_CODE = "FRT"

BASES = ("per_container", "per_wm", "per_kg", "per_shipment", "per_unit", "percent")
PERCENT_OF = ("freight", "cargo_value")
BASIS_LABELS = {
    "per_container": "per container",
    "per_wm": "per W/M (revenue tonne)",
    "per_kg": "per kg",
    "per_shipment": "per shipment",
    "per_unit": "per package",
    "percent": "percent",
}


# ----------------------------------------------------------------------------------------------- money


def currency_digits(currency: str) -> int:
    """ISO 4217 minor units; 2 for a currency not in the table."""
    return CURRENCY_DIGITS.get((currency or "").upper(), 2)


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit: JPY 1234.5 -> 1235, USD 10.005 -> 10.01."""
    return Decimal(amount).quantize(Decimal(1).scaleb(-currency_digits(currency)), rounding=ROUND_HALF_UP)


def format_money(currency: str, amount: Decimal) -> str:
    """'USD 1,234.50', 'JPY 1,235'."""
    digits = currency_digits(currency)
    return f"{currency} {round_money(amount, currency):,.{digits}f}"


# ----------------------------------------------------------------------------------------------- cargo


@dataclass(frozen=True)
class CargoPiece:
    """One cargo line as the engine sees it: packages with per-package dimensions and the line's gross weight,
    or containers of one size-type."""

    packages: int = 0
    length_cm: Decimal | None = None
    width_cm: Decimal | None = None
    height_cm: Decimal | None = None
    weight_kg: Decimal = ZERO  # gross weight of the whole line
    container_size_type: str | None = None
    container_count: int = 0


@dataclass(frozen=True)
class Cargo:
    """Totals of a request's cargo."""

    gross_kg: Decimal = ZERO
    volume_m3: Decimal = ZERO
    packages: int = 0
    containers: Mapping[str, int] = field(default_factory=dict)
    cargo_value: Decimal | None = None
    cargo_currency: str | None = None

    @property
    def container_total(self) -> int:
        return sum(self.containers.values())


def line_volume_m3(packages: int | None, length_cm: Decimal | None, width_cm: Decimal | None,
                   height_cm: Decimal | None) -> Decimal | None:
    """One line's volume: length x width x height (cm, per package) x packages, in cubic metres; None while a
    dimension or the number of packages is missing. The one rule every page and the engine use."""
    if not (packages and length_cm and width_cm and height_cm):
        return None
    return length_cm * width_cm * height_cm * packages / CM3_PER_M3


def measure(pieces: Iterable[CargoPiece], *, cargo_value: Decimal | None = None,
            cargo_currency: str | None = None) -> Cargo:
    """Add up cargo lines: weight, volume (length x width x height x packages), packages and containers."""
    gross = volume = ZERO
    packages = 0
    containers: dict[str, int] = {}
    for p in pieces:
        gross += p.weight_kg or ZERO
        if p.container_size_type and p.container_count:
            containers[p.container_size_type] = containers.get(p.container_size_type, 0) + p.container_count
            continue
        packages += p.packages or 0
        volume += line_volume_m3(p.packages, p.length_cm, p.width_cm, p.height_cm) or ZERO
    return Cargo(gross_kg=gross, volume_m3=volume, packages=packages, containers=containers,
                 cargo_value=cargo_value, cargo_currency=cargo_currency)


def air_chargeable_kg(gross_kg: Decimal, volume_m3: Decimal) -> Decimal:
    """max(actual kg, volume cm3 / 6000), rounded up to the next half kilogram."""
    volumetric = volume_m3 * CM3_PER_M3 / AIR_VOLUME_DIVISOR_CM3
    heavier = max(gross_kg, volumetric)
    return ((heavier / HALF).to_integral_value(rounding=ROUND_CEILING) * HALF).quantize(KG_QUANTUM)


def road_chargeable_kg(gross_kg: Decimal, volume_m3: Decimal) -> Decimal:
    """max(actual kg, 333 kg per m3), to the gram."""
    return max(gross_kg, volume_m3 * ROAD_KG_PER_M3).quantize(KG_QUANTUM, rounding=ROUND_HALF_UP)


def revenue_tonnes(gross_kg: Decimal, volume_m3: Decimal) -> Decimal:
    """W/M: the greater of cubic metres and metric tonnes, to three decimals."""
    return max(volume_m3, gross_kg / Decimal(1000)).quantize(KG_QUANTUM, rounding=ROUND_HALF_UP)


def chargeable_kg(mode: str, cargo: Cargo) -> Decimal:
    if mode == Mode.AIR:
        return air_chargeable_kg(cargo.gross_kg, cargo.volume_m3)
    if mode == Mode.ROAD_LTL:
        return road_chargeable_kg(cargo.gross_kg, cargo.volume_m3)
    return cargo.gross_kg.quantize(KG_QUANTUM, rounding=ROUND_HALF_UP)


# ----------------------------------------------------------------------------------------------- cards


@dataclass(frozen=True)
class ChargeRule:
    code: str
    description: str
    basis: str
    rate: Decimal
    size_type: str | None = None
    min_quantity: Decimal | None = None
    minimum_charge: Decimal | None = None
    percent_of: str | None = None
    service: str | None = None


@dataclass(frozen=True)
class CardRules:
    card_id: int | None
    mode: str
    currency: str
    valid_from: date
    valid_to: date
    transit_days: int
    charges: tuple[ChargeRule, ...]
    carrier_id: int | None = None
    demurrage_free_days: int | None = None  # free time of the card; None: the carrier's standard terms
    detention_free_days: int | None = None


@dataclass(frozen=True)
class PricedLine:
    code: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Priced:
    card_id: int | None
    currency: str
    lines: tuple[PricedLine, ...]
    total: Decimal
    transit_days: int
    carrier_id: int | None
    missing_services: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    demurrage_free_days: int | None = None  # carried from the card
    detention_free_days: int | None = None


@dataclass(frozen=True)
class NoMatch:
    card_id: int | None
    reason: str


def _line(rule: ChargeRule, quantity: Decimal, currency: str, *, minimum: Decimal | None = None,
          description: str | None = None) -> PricedLine:
    raw = quantity * rule.rate
    floor = minimum if minimum is not None else rule.minimum_charge
    if floor is not None and raw < floor:
        raw = floor
    return PricedLine(rule.code, description or rule.description, quantity, rule.rate, round_money(raw, currency))


def _quantity(rule: ChargeRule, mode: str, cargo: Cargo, kg: Decimal) -> Decimal | None:
    """How many units a non-percent charge applies to; None when it does not apply to this cargo."""
    if rule.basis == "per_container":
        n = cargo.containers.get(rule.size_type, 0) if rule.size_type else cargo.container_total
        return Decimal(n) if n else None
    if rule.basis == "per_wm":
        return revenue_tonnes(cargo.gross_kg, cargo.volume_m3)
    if rule.basis == "per_kg":
        return kg
    if rule.basis == "per_shipment":
        return ONE
    if rule.basis == "per_unit":
        n = cargo.container_total if mode == Mode.OCEAN_FCL else cargo.packages
        return Decimal(n) if n else None
    return None


def _pick_breaks(rules: Sequence[ChargeRule], kg: Decimal) -> tuple[ChargeRule | None, Decimal | None]:
    """The weight break that applies (highest min_quantity <= kg) and the code's minimum charge."""
    applicable = [r for r in rules if (r.min_quantity or ZERO) <= kg]
    chosen = max(applicable, key=lambda r: r.min_quantity or ZERO) if applicable else None
    minimums = [r.minimum_charge for r in rules if r.minimum_charge is not None]
    return chosen, (max(minimums) if minimums else None)


def convert(amount: Decimal, from_currency: str, to_currency: str, per_usd: Mapping[str, Decimal]) -> Decimal | None:
    """Convert with rates given as units per US dollar; None when a rate is missing."""
    if from_currency == to_currency:
        return amount
    a, b = per_usd.get(from_currency), per_usd.get(to_currency)
    if not a or not b:
        return None
    return amount / a * b


def price_card(
    card: CardRules,
    cargo: Cargo,
    *,
    ready_date: date,
    services: Iterable[str] = (),
    per_usd: Mapping[str, Decimal] | None = None,
) -> Priced | NoMatch:
    """Price ``cargo`` on ``card``. Returns the lines and total, or why the card cannot price it."""
    if not card.valid_from <= ready_date <= card.valid_to:
        return NoMatch(card.card_id, f"valid {card.valid_from.isoformat()} to {card.valid_to.isoformat()}, "
                                     f"not on {ready_date.isoformat()}")
    wanted = frozenset(services)
    currency = card.currency
    rules = [r for r in card.charges if r.service is None or r.service in wanted]
    offered = {r.service for r in card.charges if r.service}
    kg = chargeable_kg(card.mode, cargo)

    if card.mode == Mode.OCEAN_FCL:
        if not cargo.containers:
            return NoMatch(card.card_id, "no containers requested")
        freight_sizes = {r.size_type for r in rules if r.code == FREIGHT_CODE and r.basis == "per_container"}
        missing = sorted(st for st in cargo.containers if st not in freight_sizes and None not in freight_sizes)
        if missing:
            return NoMatch(card.card_id, f"no freight rate for {', '.join(missing)}")

    lines: list[PricedLine] = []
    # Weight-break groups: per_kg rows of one code that carry a min_quantity.
    tiered: dict[str, list[ChargeRule]] = {}
    for r in rules:
        if r.basis == "per_kg" and r.min_quantity is not None:
            tiered.setdefault(r.code, []).append(r)
    done_tiers: set[str] = set()
    for r in rules:
        if r.basis == "percent":
            continue
        if r.code in tiered:
            if r.code in done_tiers:
                continue
            done_tiers.add(r.code)
            chosen, minimum = _pick_breaks(tiered[r.code], kg)
            if chosen is None or kg <= ZERO:
                continue
            label = None
            if chosen.min_quantity:
                label = f"{chosen.description} ({chosen.min_quantity.normalize():f}+ kg break)"
            lines.append(_line(chosen, kg, currency, minimum=minimum, description=label))
            continue
        qty = _quantity(r, card.mode, cargo, kg)
        if qty is None or qty <= ZERO:
            continue
        description = r.description
        if r.basis == "per_container" and r.size_type:
            description = f"{r.description}, {r.size_type}"
        lines.append(_line(r, qty, currency, description=description))

    freight = sum((ln.amount for ln in lines if ln.code == FREIGHT_CODE), ZERO)
    if not any(ln.code == FREIGHT_CODE for ln in lines):
        return NoMatch(card.card_id, "no freight charge applies to this cargo")

    notes: list[str] = []
    for r in rules:
        if r.basis != "percent":
            continue
        pct = f"{r.rate.normalize():f}%"
        if r.percent_of == "cargo_value":
            if cargo.cargo_value is None or cargo.cargo_currency is None:
                notes.append(f"{r.description} not included: no cargo value given.")
                continue
            base = convert(cargo.cargo_value, cargo.cargo_currency, currency, per_usd or {})
            if base is None:
                notes.append(f"{r.description} not included: no exchange rate from {cargo.cargo_currency} to "
                             f"{currency}.")
                continue
            text = f"{r.description} ({pct} of cargo value {format_money(cargo.cargo_currency, cargo.cargo_value)})"
        else:
            base = freight
            text = f"{r.description} ({pct} of freight)"
        amount = base * r.rate / Decimal(100)
        if r.minimum_charge is not None and amount < r.minimum_charge:
            amount = r.minimum_charge
        amount = round_money(amount, currency)
        lines.append(PricedLine(r.code, text, ONE, amount, amount))

    total = sum((ln.amount for ln in lines), ZERO)
    missing_services = tuple(sorted(s for s in wanted if s not in offered))
    return Priced(
        card_id=card.card_id, currency=currency, lines=tuple(lines), total=round_money(total, currency),
        transit_days=card.transit_days, carrier_id=card.carrier_id, missing_services=missing_services,
        notes=tuple(notes), demurrage_free_days=card.demurrage_free_days,
        detention_free_days=card.detention_free_days,
    )
