"""Rate cards for ops managers: list, read, create, edit, deactivate, and import from CSV or Excel.

An import is all or nothing: every row is checked first; a file with any bad row is refused whole with a report
(row number as the spreadsheet shows it, column, problem in plain words) and nothing is stored. A good file is
stored in one transaction. The file layout is in docs/quotes.md and :data:`IMPORT_COLUMNS`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from models import AuditLog, Carrier, Location, RateCard, RateCharge
from models.enums import Mode
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import clock, rating
from portal_app.services.errors import Conflict, ErrorCode, FormInvalid, NotFound, PermissionDenied, ValidationFailed
from portal_app.services.locations import find_location
from portal_app.services.paging import Page, check_paging
from portal_app.services.spreadsheets import Sheet, csv_bytes
from portal_app.services.trade_codes import PRICING_CURRENCIES, SERVICES, SIZE_TYPES, location_kinds_for_mode

MAX_PAGE_SIZE = 200
MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000
MAX_CHARGES = 60
MAX_TRANSIT_DAYS = 120
MAX_REPORTED_PROBLEMS = 500
RATE_QUANTUM = Decimal("0.0001")
NOTHING_IMPORTED = "Nothing was imported."

# The import file: one row per charge; the card columns repeat on every row of the same card.
CARD_COLUMNS = ("card", "mode", "origin", "destination", "carrier", "valid_from", "valid_to", "currency",
                "transit_days", "notes")
CHARGE_COLUMNS = ("charge_code", "charge_description", "basis", "size_type", "min_quantity", "rate",
                  "minimum_charge", "percent_of", "service")
IMPORT_COLUMNS = CARD_COLUMNS + CHARGE_COLUMNS
REQUIRED_COLUMNS = ("card", "mode", "origin", "destination", "valid_from", "valid_to", "currency", "transit_days",
                    "charge_code", "basis", "rate")
# Which bases suit which mode (a full truck is priced per shipment; groupage by weight, W/M or per package).
BASES_BY_MODE: dict[str, tuple[str, ...]] = {
    Mode.OCEAN_FCL.value: ("per_container", "per_shipment", "per_unit", "percent"),
    Mode.OCEAN_LCL.value: ("per_wm", "per_kg", "per_shipment", "per_unit", "percent"),
    Mode.AIR.value: ("per_kg", "per_shipment", "per_unit", "percent"),
    Mode.ROAD_FTL.value: ("per_shipment", "per_kg", "percent"),
    Mode.ROAD_LTL.value: ("per_kg", "per_wm", "per_shipment", "per_unit", "percent"),
}


# ---------------------------------------------------------------------------------------------------- DTOs


@dataclass(frozen=True)
class RateChargeInput:
    code: str
    description: str
    basis: str
    rate: Decimal | int | str
    size_type: str | None = None
    min_quantity: Decimal | int | str | None = None
    minimum_charge: Decimal | int | str | None = None
    percent_of: str | None = None
    service: str | None = None


@dataclass(frozen=True)
class RateCardInput:
    """A rate card as typed; ``origin`` and ``destination`` are location codes, ``carrier_code`` a carrier's code."""

    mode: str
    origin: str
    destination: str
    valid_from: date | str
    valid_to: date | str
    currency: str
    transit_days: int | str
    charges: tuple[RateChargeInput, ...]
    carrier_code: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class RateChargeView:
    id: int
    code: str
    description: str
    basis: str
    basis_label: str
    size_type: str | None
    min_quantity: Decimal | None
    rate: Decimal
    minimum_charge: Decimal | None
    percent_of: str | None
    service: str | None


@dataclass(frozen=True)
class RateCardRow:
    id: int
    mode: str
    origin: str
    origin_name: str
    destination: str
    destination_name: str
    carrier_code: str | None
    carrier_name: str | None
    valid_from: date
    valid_to: date
    currency: str
    transit_days: int
    is_active: bool
    state: str  # active, expired, future, inactive
    charges: int
    updated_at: datetime


@dataclass(frozen=True)
class RateCardView:
    row: RateCardRow
    notes: str | None
    version: int
    charges: tuple[RateChargeView, ...] = ()


@dataclass(frozen=True)
class ImportProblem:
    row: int  # as a spreadsheet shows it: the header is row 1, the first data row is row 2
    column: str
    problem: str


@dataclass(frozen=True)
class ImportReport:
    filename: str
    rows: int
    cards: int
    charges: int
    imported: bool
    problems: tuple[ImportProblem, ...] = ()
    card_ids: tuple[int, ...] = ()


class ImportRefused(ValidationFailed):
    """The file has bad rows; ``report`` lists each one. Nothing was imported."""

    code = ErrorCode.IMPORT_REFUSED

    def __init__(self, report: ImportReport) -> None:
        shown = report.problems[0]
        more = f" and {len(report.problems) - 1} more problems" if len(report.problems) > 1 else ""
        super().__init__(
            f"The file was refused: row {shown.row}, column {shown.column}: {shown.problem}{more}. Fix the rows in "
            f"the report and import the whole file again. {NOTHING_IMPORTED}"
        )
        self.report = report

    def to_dict(self) -> dict:
        body = super().to_dict()
        body["error"]["problems"] = [p.__dict__ for p in self.report.problems]
        return body


# ---------------------------------------------------------------------------------------------------- checks


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


def _require_manage(principal: Principal) -> None:
    principal.require(Permission.MANAGE_RATES)


def _require_read(principal: Principal) -> None:
    if not (principal.can(Permission.MANAGE_RATES) or principal.can(Permission.PRICE_QUOTES)):
        raise PermissionDenied("Your account cannot see rate cards. Ask your administrator if you need access.")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == ""


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
            self.carriers[code] = (found[0], found[1]) if found else None
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
    if p:
        return p, None
    return p, _Checked(mode=mode, origin_id=places["origin"].id, destination_id=places["destination"].id,
                       carrier_id=carrier_id, valid_from=valid_from, valid_to=valid_to, currency=currency,
                       transit_days=int(transit), notes=notes or None)


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
                   "currency": data.currency, "transit_days": data.transit_days, "notes": data.notes}
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


# ---------------------------------------------------------------------------------------------------- reads


def _state(card: RateCard, today: date) -> str:
    if not card.is_active:
        return "inactive"
    if card.valid_to < today:
        return "expired"
    if card.valid_from > today:
        return "future"
    return "active"


_Origin = aliased(Location, name="rc_origin")
_Destination = aliased(Location, name="rc_destination")


def _rows_stmt() -> sa.Select:
    charge_count = (select(sa.func.count()).select_from(RateCharge)
                    .where(RateCharge.rate_card_id == RateCard.id).scalar_subquery())
    return (
        select(RateCard, _Origin.code, _Origin.name, _Destination.code, _Destination.name, Carrier.code,
               Carrier.name, charge_count)
        .join(_Origin, _Origin.id == RateCard.origin_id)
        .join(_Destination, _Destination.id == RateCard.destination_id)
        .outerjoin(Carrier, Carrier.id == RateCard.carrier_id)
    )


def _row(r: sa.Row | tuple, today: date) -> RateCardRow:
    card, o_code, o_name, d_code, d_name, c_code, c_name, count = r
    return RateCardRow(
        id=card.id, mode=card.mode, origin=o_code, origin_name=o_name, destination=d_code, destination_name=d_name,
        carrier_code=c_code, carrier_name=c_name, valid_from=card.valid_from, valid_to=card.valid_to,
        currency=card.currency, transit_days=card.transit_days, is_active=card.is_active,
        state=_state(card, today), charges=int(count or 0), updated_at=card.updated_at,
    )


def list_rate_cards(
    db: Session,
    principal: Principal,
    *,
    mode: str | None = None,
    origin: str | None = None,
    destination: str | None = None,
    state: str | None = None,
    carrier: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Page:
    """One page of rate cards by lane and carrier code; ``state``: active (valid today), expired, future,
    inactive."""
    _require_read(principal)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    today = clock.today()
    clauses: list[sa.ColumnElement[bool]] = []
    if mode and mode != "all":
        if mode not in Mode._value2member_map_:
            raise ValidationFailed(f"Unknown mode {mode!r}. Use one of: {', '.join(m.value for m in Mode)}.")
        clauses.append(RateCard.mode == mode)
    for column, code in ((RateCard.origin_id, origin), (RateCard.destination_id, destination)):
        if code:
            clauses.append(column == select(Location.id).where(Location.code == code.strip().upper())
                           .scalar_subquery())
    if carrier and carrier.strip():
        clauses.append(RateCard.carrier_id == select(Carrier.id).where(Carrier.code == carrier.strip().upper())
                       .scalar_subquery())
    if state and state != "all":
        states = {
            "active": sa.and_(RateCard.is_active.is_(True), RateCard.valid_from <= today, RateCard.valid_to >= today),
            "expired": sa.and_(RateCard.is_active.is_(True), RateCard.valid_to < today),
            "future": sa.and_(RateCard.is_active.is_(True), RateCard.valid_from > today),
            "inactive": RateCard.is_active.is_(False),
        }
        if state not in states:
            raise ValidationFailed(f"Unknown state {state!r}. Use one of: {', '.join(states)}.")
        clauses.append(states[state])
    total = db.exec(select(sa.func.count()).select_from(RateCard).where(*clauses)).one()
    rows = db.exec(
        _rows_stmt().where(*clauses)
        .order_by(RateCard.mode, _Origin.code, _Destination.code, RateCard.valid_from.desc(), RateCard.id)
        .offset((page - 1) * page_size).limit(page_size)
    ).all()
    return Page(rows=[_row(r, today) for r in rows], total=int(total), page=page, page_size=page_size)


def get_rate_card(db: Session, principal: Principal, card_id: int) -> RateCardView:
    _require_read(principal)
    found = db.exec(_rows_stmt().where(RateCard.id == int(card_id))).first()
    if found is None:
        raise NotFound(f"No rate card {card_id}. It may have been removed; reload the list.")
    charges = db.exec(select(RateCharge).where(RateCharge.rate_card_id == int(card_id)).order_by(RateCharge.id)).all()
    card = found[0]
    return RateCardView(
        row=_row(found, clock.today()), notes=card.notes, version=card.version,
        charges=tuple(
            RateChargeView(c.id, c.code, c.description, c.basis, rating.BASIS_LABELS.get(c.basis, c.basis),
                           c.size_type, c.min_quantity, c.rate, c.minimum_charge, c.percent_of, c.service)
            for c in charges
        ),
    )


# ---------------------------------------------------------------------------------------------------- writes


def _snapshot(card: RateCard, charges: Sequence[dict] | None = None) -> dict:
    out = {"mode": card.mode, "origin_id": card.origin_id, "destination_id": card.destination_id,
           "carrier_id": card.carrier_id, "valid_from": card.valid_from.isoformat(),
           "valid_to": card.valid_to.isoformat(), "currency": card.currency, "transit_days": card.transit_days,
           "is_active": card.is_active}
    if charges is not None:
        out["charges"] = [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in c.items()} for c in charges]
    return out


def _audit(db: Session, principal: Principal, action: str, entity_id: str, before: dict | None,
           after: dict | None) -> None:
    db.add(AuditLog(actor_id=principal.user_id, company_id=principal.company_id, action=action,
                    entity_type="rate_card", entity_id=entity_id,
                    before=json.dumps(before, default=str) if before is not None else None,
                    after=json.dumps(after, default=str) if after is not None else None))


def _store(db: Session, checked: _Checked, now: datetime) -> RateCard:
    card = RateCard(mode=checked.mode, origin_id=checked.origin_id, destination_id=checked.destination_id,
                    carrier_id=checked.carrier_id, valid_from=checked.valid_from, valid_to=checked.valid_to,
                    currency=checked.currency, transit_days=checked.transit_days, notes=checked.notes,
                    is_active=True, created_at=now, updated_at=now)
    db.add(card)
    db.flush()
    for c in checked.charges:
        db.add(RateCharge(rate_card_id=card.id, **c))
    return card


def _card_to_change(db: Session, card_id: int, expected_version: int | None) -> RateCard:
    card = db.get(RateCard, int(card_id))
    if card is None:
        raise NotFound(f"No rate card {card_id}. It may have been removed; reload the list.")
    if expected_version is not None and card.version != expected_version:
        raise Conflict("Someone changed this rate card since you opened it. Reload it and make your change again. "
                       "Nothing was saved.")
    return card


def create_rate_card(db: Session, principal: Principal, data: RateCardInput) -> RateCardView:
    """A new active card; every field is checked (FormInvalid lists what is wrong)."""
    _require_manage(principal)
    checked = _check_input(db, data)
    card = _store(db, checked, clock.now())
    _audit(db, principal, "rate_card_created", str(card.id), None, _snapshot(card, checked.charges))
    db.commit()
    return get_rate_card(db, principal, card.id)


def update_rate_card(
    db: Session, principal: Principal, card_id: int, data: RateCardInput, *, expected_version: int | None = None
) -> RateCardView:
    """Replace a card's fields and charges. Options already offered keep the prices they were given."""
    _require_manage(principal)
    card = _card_to_change(db, card_id, expected_version)
    checked = _check_input(db, data)
    before = _snapshot(card, [
        {"code": c.code, "basis": c.basis, "size_type": c.size_type, "min_quantity": c.min_quantity, "rate": c.rate}
        for c in db.exec(select(RateCharge).where(RateCharge.rate_card_id == card.id)).all()
    ])
    now = clock.now()
    changed = db.exec(
        sa.update(RateCard).where(RateCard.id == card.id, RateCard.version == card.version)
        .values(mode=checked.mode, origin_id=checked.origin_id, destination_id=checked.destination_id,
                carrier_id=checked.carrier_id, valid_from=checked.valid_from, valid_to=checked.valid_to,
                currency=checked.currency, transit_days=checked.transit_days, notes=checked.notes, updated_at=now,
                version=RateCard.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.rollback()
        raise Conflict("Someone changed this rate card a moment ago. Reload it and make your change again. "
                       "Nothing was saved.")
    db.exec(sa.delete(RateCharge).where(RateCharge.rate_card_id == card.id))
    for c in checked.charges:
        db.add(RateCharge(rate_card_id=card.id, **c))
    db.flush()
    db.refresh(card)
    _audit(db, principal, "rate_card_updated", str(card.id), before, _snapshot(card, checked.charges))
    db.commit()
    return get_rate_card(db, principal, card.id)


def set_rate_card_active(
    db: Session, principal: Principal, card_id: int, active: bool, *, expected_version: int | None = None
) -> RateCardView:
    """Deactivate (no new quotes use it) or reactivate a card. Idempotent."""
    _require_manage(principal)
    card = _card_to_change(db, card_id, expected_version)
    if card.is_active != active:
        before = {"is_active": card.is_active}
        card.is_active = active
        card.updated_at = clock.now()
        card.version += 1
        db.add(card)
        _audit(db, principal, "rate_card_activated" if active else "rate_card_deactivated", str(card.id), before,
               {"is_active": active})
        db.commit()
    return get_rate_card(db, principal, card.id)


# ---------------------------------------------------------------------------------------------------- import


def _read_frame(filename: str, data: bytes) -> pd.DataFrame:
    name = (filename or "").lower()
    is_xlsx = data[:4] == b"PK\x03\x04" or name.endswith((".xlsx", ".xlsm"))
    try:
        if is_xlsx:
            frame = pd.read_excel(io.BytesIO(data), dtype=object, engine="openpyxl")
        else:
            text = data.decode("utf-8-sig")
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True)
    except UnicodeDecodeError:
        raise ValidationFailed(f"The file is not UTF-8 text. Save it as CSV UTF-8 or as Excel (.xlsx). "
                               f"{NOTHING_IMPORTED}") from None
    except Exception as exc:  # noqa: BLE001 (pandas and openpyxl raise many kinds for a damaged file)
        raise ValidationFailed(f"The file could not be read as {'Excel' if is_xlsx else 'CSV'} ({type(exc).__name__})."
                               f" Check it opens in a spreadsheet and save it as .csv or .xlsx. "
                               f"{NOTHING_IMPORTED}") from None
    frame.columns = [str(c).strip().lower().replace(" ", "_") for c in frame.columns]
    return frame


def _same(column: str, a: object, b: object) -> bool:
    """Whether two rows of one card agree on a card column (dates and numbers compared by value)."""
    if _str(a).upper() == _str(b).upper():
        return True
    if column in ("valid_from", "valid_to"):
        return _day(a) is not None and _day(a) == _day(b)
    if column == "transit_days":
        return _num(a) is not None and _num(a) == _num(b)
    return False


def import_template_csv() -> bytes:
    """A small example file in the import layout (two cards: an FCL lane and an air lane with weight breaks)."""
    rows = [
        ["SHA-RTM-1", "ocean_fcl", "CNSHA", "NLRTM", "MAEU", "2026-01-01", "2026-03-31", "USD", "32", "",
         "FRT", "Ocean freight", "per_container", "22G1", "", "1850", "", "", ""],
        ["SHA-RTM-1", "ocean_fcl", "CNSHA", "NLRTM", "MAEU", "2026-01-01", "2026-03-31", "USD", "32", "",
         "FRT", "Ocean freight", "per_container", "45G1", "", "3050", "", "", ""],
        ["SHA-RTM-1", "ocean_fcl", "CNSHA", "NLRTM", "MAEU", "2026-01-01", "2026-03-31", "USD", "32", "",
         "BAF", "Bunker adjustment factor", "per_container", "", "", "420", "", "", ""],
        ["SHA-RTM-1", "ocean_fcl", "CNSHA", "NLRTM", "MAEU", "2026-01-01", "2026-03-31", "USD", "32", "",
         "INS", "Cargo insurance", "percent", "", "", "0.35", "35", "cargo_value", "insurance"],
        ["PVG-FRA-1", "air", "PVG", "FRA", "LH", "2026-01-01", "2026-03-31", "EUR", "2", "",
         "FRT", "Air freight", "per_kg", "", "0", "4.80", "120", "", ""],
        ["PVG-FRA-1", "air", "PVG", "FRA", "LH", "2026-01-01", "2026-03-31", "EUR", "2", "",
         "FRT", "Air freight", "per_kg", "", "100", "3.40", "", "", ""],
        ["PVG-FRA-1", "air", "PVG", "FRA", "LH", "2026-01-01", "2026-03-31", "EUR", "2", "",
         "FSC", "Fuel surcharge", "per_kg", "", "", "0.95", "", "", ""],
    ]
    return csv_bytes(Sheet("Rate cards", IMPORT_COLUMNS, rows))


def import_rate_cards(db: Session, principal: Principal, filename: str, data: bytes) -> ImportReport:
    """Import rate cards from a CSV or Excel file (one row per charge). All or nothing: any bad row refuses the
    whole file with :class:`ImportRefused` (its ``report`` has row, column and problem for every bad row)."""
    _require_manage(principal)
    name = (filename or "rates").rsplit("/", 1)[-1][:120]
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationFailed(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB. Split it into "
                               f"several files. {NOTHING_IMPORTED}")
    if not data.strip():
        raise ValidationFailed(f"The file is empty. {NOTHING_IMPORTED}")
    frame = _read_frame(name, data)
    problems: list[ImportProblem] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    unknown = [c for c in frame.columns if c not in IMPORT_COLUMNS and not c.startswith("unnamed")]
    for c in missing:
        problems.append(ImportProblem(1, c, f"The column {c!r} is missing from the header row."))
    for c in unknown:
        problems.append(ImportProblem(1, c, f"Unknown column {c!r}. Columns are: {', '.join(IMPORT_COLUMNS)}."))
    if problems:
        raise ImportRefused(ImportReport(name, len(frame), 0, 0, False, tuple(problems)))
    if frame.empty:
        raise ValidationFailed(f"The file has a header but no rows. {NOTHING_IMPORTED}")
    if len(frame) > MAX_IMPORT_ROWS:
        raise ValidationFailed(f"The file has {len(frame)} rows; at most {MAX_IMPORT_ROWS} are imported at once. "
                               f"Split it into several files. {NOTHING_IMPORTED}")
    look = _Carriers(db)
    cards: dict[str, tuple[int, dict, _Checked | None, list[tuple[int, dict]]]] = {}
    records = frame.to_dict("records")
    for index, values in enumerate(records):
        row_no = index + 2
        if all(_blank(values.get(c)) for c in IMPORT_COLUMNS):
            continue
        label = _str(values.get("card"))
        if not label:
            problems.append(ImportProblem(row_no, "card", "Give the card a label (any text); rows with the same label "
                                                          "form one card."))
            continue
        card_values = {c: values.get(c) for c in CARD_COLUMNS if c != "card"}
        if label not in cards:
            found, checked = _check_card_fields(look, card_values)
            problems += [ImportProblem(row_no, col, text) for col, text in found.items()]
            cards[label] = (row_no, card_values, checked, [])
        else:
            first_row, first_values, checked, _ = cards[label]
            for col, value in card_values.items():
                if not _same(col, value, first_values[col]):
                    shown = _str(first_values[col]) or "empty"
                    problems.append(ImportProblem(
                        row_no, col, f"Differs from row {first_row} of card {label!r} ({shown!r}); every row of a "
                                     "card repeats the same card columns."))
        mode = _str(card_values.get("mode")).lower()
        found, charge = _check_charge(mode, values)
        problems += [ImportProblem(row_no, col, text) for col, text in found.items()]
        if charge is not None:
            cards[label][3].append((row_no, charge))
    for label, (first_row, _values, checked, charges) in cards.items():
        if checked is None or not charges:
            continue
        whole = _check_card_charges(checked.mode, [c for _r, c in charges])
        if whole:
            problems.append(ImportProblem(first_row, "charge_code", f"Card {label!r}: {whole}"))
        if len(charges) > MAX_CHARGES:
            problems.append(ImportProblem(first_row, "card", f"Card {label!r} has more than {MAX_CHARGES} charges."))
    total_charges = sum(len(c[3]) for c in cards.values())
    if problems:
        problems.sort(key=lambda p: (p.row, IMPORT_COLUMNS.index(p.column) if p.column in IMPORT_COLUMNS else 99))
        raise ImportRefused(ImportReport(name, len(records), len(cards), total_charges, False,
                                         tuple(problems[:MAX_REPORTED_PROBLEMS])))
    now = clock.now()
    ids: list[int] = []
    try:
        for _row_no, _values, checked, charges in cards.values():
            checked.charges = [c for _r, c in charges]
            ids.append(_store(db, checked, now).id)
        _audit(db, principal, "rate_cards_imported", name[:40], None,
               {"file": name, "cards": len(ids), "charges": total_charges, "first_id": ids[0] if ids else None,
                "last_id": ids[-1] if ids else None})
        db.commit()
    except Exception:
        db.rollback()
        raise
    return ImportReport(name, len(records), len(ids), total_charges, True, (), tuple(ids))
