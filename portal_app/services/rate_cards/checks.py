"""Checking a rate card and its charges, from a form or an import row, in plain words."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlmodel import Session, select

from models import Carrier, Location
from models.enums import Mode
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import rating
from portal_app.services.errors import FormInvalid, PermissionDenied
from portal_app.services.locations import find_location
from portal_app.services.rate_cards.shapes import (
    BASES_BY_MODE,
    MAX_CHARGES,
    MAX_FREE_DAYS,
    MAX_TRANSIT_DAYS,
    RATE_QUANTUM,
    RateCardInput,
)
from portal_app.services.trade_codes import PRICING_CURRENCIES, SERVICES, SIZE_TYPES, location_kinds_for_mode


@dataclass
class _Checked:
    """A card that passed its checks, ready to store."""

    mode: str
    origin_id: int
    destination_id: int
    carrier_id: int | None
    valid_from: date
    valid_to: date
    currency: str
    transit_days: int
    notes: str | None
    charges: list[dict] = field(default_factory=list)
    demurrage_free_days: int | None = None
    detention_free_days: int | None = None


def _require_manage(principal: Principal) -> None:
    principal.require(Permission.MANAGE_RATES)


def _require_read(principal: Principal) -> None:
    if not (principal.can(Permission.MANAGE_RATES) or principal.can(Permission.PRICE_QUOTES)):
        raise PermissionDenied("Your account cannot see rate cards. Ask your administrator if you need access.")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def _str(value: object) -> str:
    return "" if _blank(value) else " ".join(str(value).split())


def _num(value: object) -> Decimal | None:
    text = _str(value).replace(",", "")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _str(value)
    for candidate in (text, text[:10]):
        try:
            return date.fromisoformat(candidate)
        except ValueError:
            continue
    return None


class _Carriers:
    """Carrier and location lookups cached for one check (an import touches the same codes many times)."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.carriers: dict[str, tuple[int, str] | None] = {}
        self.places: dict[str, Location | None] = {}

    def carrier(self, code: str) -> tuple[int, str] | None:
        if code not in self.carriers:
            found = self.db.exec(select(Carrier.id, Carrier.mode).where(Carrier.code == code)).first()
            carrier_id = found[0] if found else None  # a stored row always has its key
            self.carriers[code] = (carrier_id, found[1]) if found and carrier_id is not None else None
        return self.carriers[code]

    def place(self, code: str) -> Location | None:
        if code not in self.places:
            self.places[code] = find_location(self.db, code)
        return self.places[code]


def _carrier_family(mode: str) -> str:
    return "ocean" if mode.startswith("ocean") else "air" if mode == Mode.AIR else "road"


def _check_card_fields(look: _Carriers, values: Mapping[str, object]) -> tuple[dict[str, str], _Checked | None]:
    """Card-level columns. Returns problems by column and the checked card (None when something is wrong)."""
    p: dict[str, str] = {}
    mode = _str(values.get("mode")).lower()
    if mode not in Mode._value2member_map_:
        p["mode"] = f"{mode or 'empty'!r} is not a mode. Use one of: {', '.join(m.value for m in Mode)}."
    places: dict[str, Location | None] = {}
    for key in ("origin", "destination"):
        code = _str(values.get(key)).upper().replace(" ", "")
        loc = look.place(code) if code else None
        places[key] = loc
        if not code:
            p[key] = "Missing: give a UN/LOCODE (e.g. NLRTM) or, for air, an IATA airport code (e.g. FRA)."
        elif loc is None:
            p[key] = f"{code!r} is not a known location code (UN/LOCODE or IATA airport)."
        elif mode in Mode._value2member_map_ and loc.kind not in location_kinds_for_mode(mode):
            need = {"air": "an IATA airport", "ocean": "a seaport"}.get(_carrier_family(mode), "a UN/LOCODE place")
            p[key] = f"{code} is {'an' if loc.kind[0] in 'aeiou' else 'a'} {loc.kind}; {mode} needs {need}."
    if places.get("origin") is not None and places.get("origin") is places.get("destination"):
        p["destination"] = "Origin and destination are the same place."
    carrier_id = None
    carrier = _str(values.get("carrier")).upper()
    if carrier:
        found = look.carrier(carrier)
        if found is None:
            p["carrier"] = f"{carrier!r} is not a known carrier code (SCAC for ocean, IATA 2-letter for air)."
        elif mode in Mode._value2member_map_ and found[1] != _carrier_family(mode):
            p["carrier"] = f"{carrier} is a {found[1]} carrier; this card is {mode}."
        else:
            carrier_id = found[0]
    valid_from, valid_to = _day(values.get("valid_from")), _day(values.get("valid_to"))
    for key, day in (("valid_from", valid_from), ("valid_to", valid_to)):
        if day is None:
            p[key] = f"{_str(values.get(key)) or 'empty'!r} is not a date. Use YYYY-MM-DD, e.g. 2026-12-31."
    if valid_from and valid_to and valid_from > valid_to:
        p["valid_to"] = f"The card ends ({valid_to.isoformat()}) before it starts ({valid_from.isoformat()})."
    currency = _str(values.get("currency")).upper()
    if currency not in PRICING_CURRENCIES:
        p["currency"] = f"{currency or 'empty'!r} is not a currency we price in (three letters, e.g. USD or EUR)."
    transit = _num(values.get("transit_days"))
    if transit is None or transit != transit.to_integral_value() or not 0 <= transit <= MAX_TRANSIT_DAYS:
        p["transit_days"] = f"Transit days must be a whole number from 0 to {MAX_TRANSIT_DAYS}."
    notes = _str(values.get("notes"))
    if len(notes) > 400:
        p["notes"] = "Notes can have at most 400 characters."
    free_days: dict[str, int | None] = {}
    for key, what in (("demurrage_free_days", "Demurrage"), ("detention_free_days", "Detention")):
        days = _num(values.get(key))
        free_days[key] = int(days) if days is not None else None
        if not _blank(values.get(key)) and (days is None or days != days.to_integral_value()
                                             or not 0 <= days <= MAX_FREE_DAYS):
            p[key] = (f"{what} free days must be a whole number from 0 to {MAX_FREE_DAYS}, or empty for the "
                      "carrier's standard terms.")
    if p:
        return p, None
    origin, destination = places["origin"], places["destination"]
    # Nothing is wrong, so every value is there (and the places are stored rows).
    assert origin is not None and origin.id is not None and destination is not None and destination.id is not None
    assert valid_from is not None and valid_to is not None and transit is not None
    return p, _Checked(mode=mode, origin_id=origin.id, destination_id=destination.id,
                       carrier_id=carrier_id, valid_from=valid_from, valid_to=valid_to, currency=currency,
                       transit_days=int(transit), notes=notes or None,
                       demurrage_free_days=free_days["demurrage_free_days"],
                       detention_free_days=free_days["detention_free_days"])


def _check_charge(mode: str | None, values: Mapping[str, object]) -> tuple[dict[str, str], dict | None]:
    """One charge's columns (named as in the import file)."""
    p: dict[str, str] = {}
    code = _str(values.get("charge_code")).upper()
    if not code or len(code) > 20 or not code.replace("_", "").isalnum():
        p["charge_code"] = "Give a short charge code of letters and digits, e.g. FRT, BAF, THC, DOC, INS."
    description = _str(values.get("charge_description")) or code
    if len(description) > 120:
        p["charge_description"] = "At most 120 characters."
    basis = _str(values.get("basis")).lower()
    if basis not in rating.BASES:
        p["basis"] = f"{basis or 'empty'!r} is not a basis. Use one of: {', '.join(rating.BASES)}."
    elif mode in BASES_BY_MODE and basis not in BASES_BY_MODE[mode]:
        p["basis"] = f"{basis} does not apply to {mode}. Use one of: {', '.join(BASES_BY_MODE[mode])}."
    size_type = _str(values.get("size_type")).upper() or None
    if size_type and basis != "per_container":
        p["size_type"] = "A size-type is only for per_container charges; leave it empty."
    elif size_type and size_type not in SIZE_TYPES:
        p["size_type"] = f"{size_type!r} is not an ISO 6346 size-type we ship (e.g. 22G1, 42G1, 45G1)."
    raw_min_qty = values.get("min_quantity")
    min_qty = _num(raw_min_qty)
    if not _blank(raw_min_qty):
        if basis != "per_kg":
            p["min_quantity"] = "A weight break (min_quantity) is only for per_kg charges; leave it empty."
        elif min_qty is None or min_qty < 0:
            p["min_quantity"] = "The weight break must be a number of kg, 0 or more."
    raw_rate = values.get("rate")
    rate = _num(raw_rate)
    if rate is None or rate < 0 or rate >= Decimal("1e11"):
        p["rate"] = f"{_str(raw_rate) or 'empty'!r} is not a rate: give a number of 0 or more, e.g. 1850 or 0.35."
    elif rate != rate.quantize(RATE_QUANTUM):
        p["rate"] = "A rate has at most four decimals."
    elif basis == "percent" and rate > 100:
        p["rate"] = "A percentage is at most 100 (0.35 means 0.35 %)."
    raw_minimum = values.get("minimum_charge")
    minimum = _num(raw_minimum)
    if not _blank(raw_minimum) and (minimum is None or minimum < 0 or minimum >= Decimal("1e11")):
        p["minimum_charge"] = "The minimum charge must be an amount of 0 or more."
    percent_of = _str(values.get("percent_of")).lower() or None
    if basis == "percent" and percent_of not in rating.PERCENT_OF:
        p["percent_of"] = "A percent charge needs percent_of: freight or cargo_value."
    elif basis != "percent" and percent_of:
        p["percent_of"] = "percent_of is only for percent charges; leave it empty."
    service = _str(values.get("service")).lower() or None
    if service and service not in SERVICES:
        p["service"] = f"{service!r} is not a service. Use one of: {', '.join(SERVICES)}, or leave it empty."
    if p:
        return p, None
    return p, {"code": code, "description": description, "basis": basis, "size_type": size_type,
               "min_quantity": min_qty.quantize(rating.KG_QUANTUM) if min_qty is not None else None,
               "rate": rate, "minimum_charge": minimum.quantize(Decimal("0.01")) if minimum is not None else None,
               "percent_of": percent_of, "service": service}


def _check_card_charges(mode: str, charges: Sequence[dict]) -> str | None:
    """Whole-card rules: a freight charge exists, no duplicate charges."""
    if not any(c["code"] == rating.FREIGHT_CODE for c in charges):
        return f"The card has no freight charge: add a row with charge_code {rating.FREIGHT_CODE}."
    seen: set[tuple] = set()
    for c in charges:
        key = (c["code"], c["basis"], c["size_type"], c["min_quantity"], c["service"])
        if key in seen:
            break_text = f", break {c['min_quantity']}" if c["min_quantity"] is not None else ""
            size_text = f" for {c['size_type']}" if c["size_type"] else ""
            return f"Charge {c['code']}{size_text}{break_text} appears twice on the card."
        seen.add(key)
    if mode == Mode.OCEAN_FCL and not any(c["code"] == rating.FREIGHT_CODE and c["basis"] == "per_container"
                                          for c in charges):
        return "An FCL card needs its freight (FRT) per container."
    return None


def _check_input(db: Session, data: RateCardInput) -> _Checked:
    """Check a card typed in a form; raises FormInvalid with a message per field."""
    look = _Carriers(db)
    card_values = {"mode": data.mode, "origin": data.origin, "destination": data.destination,
                   "carrier": data.carrier_code, "valid_from": data.valid_from, "valid_to": data.valid_to,
                   "currency": data.currency, "transit_days": data.transit_days, "notes": data.notes,
                   "demurrage_free_days": data.demurrage_free_days, "detention_free_days": data.detention_free_days}
    problems, checked = _check_card_fields(look, card_values)
    mode = _str(data.mode).lower()
    charges = []
    if not data.charges:
        problems["charges"] = "Add at least the freight charge (FRT)."
    if len(data.charges) > MAX_CHARGES:
        problems["charges"] = f"A card can have at most {MAX_CHARGES} charges."
    for i, c in enumerate(data.charges[:MAX_CHARGES]):
        found, charge = _check_charge(mode, {
            "charge_code": c.code, "charge_description": c.description, "basis": c.basis, "size_type": c.size_type,
            "min_quantity": c.min_quantity, "rate": c.rate, "minimum_charge": c.minimum_charge,
            "percent_of": c.percent_of, "service": c.service,
        })
        for col, text in found.items():
            problems[f"charges.{i}.{col.removeprefix('charge_')}"] = f"Charge {i + 1}: {text}"
        if charge:
            charges.append(charge)
    if checked is not None and len(charges) == len(data.charges) and data.charges:
        whole = _check_card_charges(mode, charges)
        if whole:
            problems["charges"] = whole
    if problems or checked is None:
        first = next(iter(problems.values()))
        raise FormInvalid(f"{first} Nothing was saved.", problems)
    checked.charges = charges
    return checked
