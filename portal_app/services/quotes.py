"""Quote requests: drafts kept between visits, validation in a shipper's words, instant pricing against rate
cards, manual pricing by ops when nothing matches, the company's quotes list and one quote with its options.

Every query over quote rows is scoped by :func:`portal_app.auth.scope.company_filter` from the acting
principal. Status shown to people is derived on read: a quoted request whose offered options have all passed
their validity reads ``expired``, an offered option past ``valid_until`` reads ``expired``. Reads never write.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from models import (
    AppSetting,
    AuditLog,
    Carrier,
    Company,
    Location,
    PortalEvent,
    QuoteCargoLine,
    QuoteOption,
    QuoteOptionCharge,
    QuoteRequest,
    RateCard,
    RateCharge,
    Shipment,
    User,
)
from models.enums import Mode, PortalEventKind, QuoteStatus
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import clock, funnel, isodates, notifications, rating
from portal_app.services.errors import Conflict, FormInvalid, NotFound, ValidationFailed
from portal_app.services.locations import find_location
from portal_app.services.paging import Page, check_paging
from portal_app.services.sla import DEFAULT_QUOTE_HOURS
from portal_app.services.sla import due_at as sla_due_at
from portal_app.services.trade_codes import (
    DG_CLASSES,
    INCOTERMS,
    MODE_LABELS,
    PRICING_CURRENCIES,
    SERVICES,
    SIZE_TYPES,
    incoterm_valid_for_mode,
    location_kinds_for_mode,
    normalize_un_number,
    place_word,
)

MAX_PAGE_SIZE = 100
MAX_LINES = 20
MAX_CONTAINERS_PER_LINE = 50
MAX_PACKAGES_PER_LINE = 9999
MAX_DIMENSION_CM = Decimal(1500)
MAX_WEIGHT_KG = Decimal(500000)
MAX_READY_DAYS_AHEAD = 365
OPTION_VALID_DAYS = 7
NOTHING_SUBMITTED = "Your draft is saved; nothing was sent."
SORTS = ("cheapest", "fastest")
LIST_SORTS = ("updated", "-updated", "ready", "reference")
# Incoterms that work for any mode, offered in place of the four sea-only ones.
ANY_MODE_EQUIVALENT = {"FAS": "FCA", "FOB": "FCA", "CFR": "CPT", "CIF": "CIP"}


# ---------------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class CargoLineInput:
    """One cargo line as typed: packages with per-package dimensions and the line's total gross weight, or
    containers of one ISO 6346 size-type (FCL). Numbers may be given as text; blanks are fine in a draft."""

    description: str | None = None
    packages: int | str | None = None
    length_cm: Decimal | int | str | None = None
    width_cm: Decimal | int | str | None = None
    height_cm: Decimal | int | str | None = None
    weight_kg: Decimal | int | str | None = None
    container_size_type: str | None = None
    container_count: int | str | None = None
    is_dangerous_goods: bool = False
    un_number: str | None = None
    dg_class: str | None = None


@dataclass(frozen=True)
class QuoteInput:
    """A quote request form. ``origin`` and ``destination`` are location codes (UN/LOCODE or IATA)."""

    mode: str | None = None
    origin: str | None = None
    destination: str | None = None
    ready_date: date | str | None = None
    incoterm: str | None = None
    services: tuple[str, ...] = ()
    cargo_value: Decimal | int | str | None = None
    cargo_currency: str | None = None
    customer_reference: str | None = None
    lines: tuple[CargoLineInput, ...] = ()


@dataclass(frozen=True)
class ManualChargeInput:
    code: str
    description: str
    quantity: Decimal | int | str
    unit_price: Decimal | int | str


@dataclass(frozen=True)
class ManualOptionInput:
    """A price ops puts together by hand for a request no rate card matched."""

    currency: str
    transit_days: int
    valid_until: date
    charges: tuple[ManualChargeInput, ...]
    carrier_code: str | None = None
    notes: str | None = None


# ---------------------------------------------------------------------------------------------------- views


@dataclass(frozen=True)
class CargoLineView:
    description: str | None
    packages: int | None
    length_cm: Decimal | None
    width_cm: Decimal | None
    height_cm: Decimal | None
    weight_kg: Decimal | None
    container_size_type: str | None
    container_count: int | None
    is_dangerous_goods: bool
    un_number: str | None
    dg_class: str | None


@dataclass(frozen=True)
class OptionChargeView:
    code: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class OptionView:
    id: int
    quote_reference: str
    carrier_code: str | None
    carrier_name: str | None
    currency: str
    total: Decimal
    total_text: str  # "USD 4,785.00"
    transit_days: int
    valid_until: datetime
    status: str  # offered, accepted, expired, declined (expired derived from valid_until)
    is_manual: bool
    notes: str | None
    shipment_reference: str | None
    charges: tuple[OptionChargeView, ...] = ()

    @property
    def can_accept(self) -> bool:
        return self.status == "offered"


@dataclass(frozen=True)
class QuoteRow:
    reference: str
    status: str
    mode: str | None
    origin: str | None
    destination: str | None
    ready_date: date | None
    company_name: str
    requested_by: str
    options: int
    best_total_text: str | None  # cheapest open option, e.g. "EUR 1,234.00"
    is_manual: bool
    manual_due_at: datetime | None
    sla_overdue: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class QuoteView:
    reference: str
    status: str
    mode: str | None
    mode_label: str | None
    origin: str | None
    origin_name: str | None
    destination: str | None
    destination_name: str | None
    ready_date: date | None
    incoterm: str | None
    services: tuple[str, ...]
    cargo_value: Decimal | None
    cargo_currency: str | None
    customer_reference: str | None
    is_manual: bool
    manual_due_at: datetime | None
    submitted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    company_name: str
    requested_by: str
    version: int
    gross_weight_kg: Decimal
    volume_m3: Decimal
    chargeable_weight_kg: Decimal | None  # air and road groupage
    revenue_tonnes: Decimal | None  # ocean LCL (W/M)
    lines: tuple[CargoLineView, ...] = ()
    options: tuple[OptionView, ...] = ()
    problems: Mapping[str, str] = field(default_factory=dict)  # what must still be fixed before submitting


# ---------------------------------------------------------------------------------------------------- parsing


def _text(value: object, limit: int) -> str | None:
    text = " ".join(str(value or "").split())
    return text[:limit] or None


def _decimal(value: object, key: str, label: str, problems: dict[str, str]) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        problems[key] = f"{label} {str(value)[:20]!r} is not a number. Use digits, e.g. 120 or 12.5."
        return None
    if not number.is_finite():
        problems[key] = f"{label} must be a number."
        return None
    return number


def _integer(value: object, key: str, label: str, problems: dict[str, str]) -> int | None:
    number = _decimal(value, key, label, problems)
    if number is None:
        return None
    if number != number.to_integral_value():
        problems[key] = f"{label} must be a whole number."
        return None
    return int(number)


def _date(value: date | str | None, key: str, problems: dict[str, str]) -> date | None:
    if value is None or isinstance(value, date):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        return isodates.parse_date(text)
    except ValueError as exc:
        problems[key] = f"{exc}."
        return None


def _qty(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(rating.KG_QUANTUM)


# ---------------------------------------------------------------------------------------------------- helpers


def quote_reference(quote_id: int) -> str:
    return f"QT{quote_id:07d}"


def _not_found(reference: str) -> NotFound:
    return NotFound(f"No quote {reference!r} was found in your account. Check the reference and try again.")


def _services(q: QuoteRequest) -> tuple[str, ...]:
    try:
        values = json.loads(q.services or "[]")
    except ValueError:
        return ()
    return tuple(v for v in values if isinstance(v, str))


def _find(db: Session, principal: Principal, reference: str) -> QuoteRequest:
    principal.require(Permission.VIEW_QUOTES)
    stmt = select(QuoteRequest).where(
        QuoteRequest.reference == (reference or "").strip().upper(), company_filter(QuoteRequest.company_id, principal)
    )
    found = db.exec(stmt).first()
    if found is None:
        raise _not_found(reference)
    return found


def _lines(db: Session, quote_id: int) -> list[QuoteCargoLine]:
    return list(db.exec(
        select(QuoteCargoLine).where(QuoteCargoLine.quote_request_id == quote_id).order_by(QuoteCargoLine.id)
    ).all())


def _pieces(lines: Iterable[QuoteCargoLine]) -> list[rating.CargoPiece]:
    return [
        rating.CargoPiece(
            packages=ln.packages or 0, length_cm=ln.length_cm, width_cm=ln.width_cm, height_cm=ln.height_cm,
            weight_kg=ln.weight_kg or rating.ZERO, container_size_type=ln.container_size_type,
            container_count=ln.container_count or 0,
        )
        for ln in lines
    ]


def cargo_of(q: QuoteRequest, lines: Iterable[QuoteCargoLine]) -> rating.Cargo:
    return rating.measure(_pieces(lines), cargo_value=q.cargo_value, cargo_currency=q.cargo_currency)


def exchange_rates(db: Session) -> dict[str, Decimal]:
    """Units of each currency per US dollar, from the ``exchange_rates`` setting (admins keep it current)."""
    setting = db.get(AppSetting, "exchange_rates")
    if setting is None:
        return {}
    try:
        raw = json.loads(setting.value)
        return {str(k).upper(): Decimal(str(v)) for k, v in raw.items() if Decimal(str(v)) > 0}
    except (ValueError, AttributeError, InvalidOperation):
        return {}


def _comparable(total: Decimal, currency: str, per_usd: Mapping[str, Decimal]) -> Decimal | None:
    return rating.convert(total, currency, "USD", per_usd) if per_usd else None


def sort_options(options: Sequence[OptionView], sort: str, per_usd: Mapping[str, Decimal]) -> list[OptionView]:
    """Cheapest (all-in total, compared in US dollars when rates are set) or fastest (transit, then price).

    Open options come first, then accepted, expired and declined ones."""
    if sort not in SORTS:
        raise ValidationFailed(f"Unknown sort {sort!r}. Use one of: {', '.join(SORTS)}.")
    rank = {"offered": 0, "accepted": 1, "expired": 2, "declined": 3}

    def price(o: OptionView) -> tuple:
        usd = _comparable(o.total, o.currency, per_usd)
        return (0, usd, o.total) if usd is not None else (1, o.currency, o.total)

    if sort == "cheapest":
        return sorted(options, key=lambda o: (rank.get(o.status, 9), price(o), o.transit_days, o.id))
    return sorted(options, key=lambda o: (rank.get(o.status, 9), o.transit_days, price(o), o.id))


def _option_status(o: QuoteOption, now: datetime) -> str:
    if o.status == "offered" and o.valid_until < now:
        return "expired"
    return o.status


def _live_offer(now: datetime) -> sa.ColumnElement[bool]:
    return sa.exists(
        select(QuoteOption.id).where(
            QuoteOption.quote_request_id == QuoteRequest.id,
            QuoteOption.status == "offered",
            QuoteOption.valid_until >= now,
        )
    )


def _derived_status(now: datetime) -> sa.ColumnElement[str]:
    return sa.case(
        (sa.and_(QuoteRequest.status == QuoteStatus.QUOTED.value, sa.not_(_live_offer(now))),
         QuoteStatus.EXPIRED.value),
        else_=QuoteRequest.status,
    )


def _status_of(q: QuoteRequest, options: Sequence[OptionView]) -> str:
    if q.status == QuoteStatus.QUOTED and not any(o.status == "offered" for o in options):
        return QuoteStatus.EXPIRED.value
    return q.status


def _options(db: Session, quote_ids: Sequence[int], now: datetime) -> dict[int, list[OptionView]]:
    if not quote_ids:
        return {}
    rows = db.exec(
        select(QuoteOption, QuoteRequest.reference, Carrier.code, Carrier.name, Shipment.reference)
        .join(QuoteRequest, QuoteRequest.id == QuoteOption.quote_request_id)
        .outerjoin(Carrier, Carrier.id == QuoteOption.carrier_id)
        .outerjoin(Shipment, Shipment.quote_option_id == QuoteOption.id)
        .where(QuoteOption.quote_request_id.in_(list(quote_ids)))
    ).all()
    option_ids = [o.id for o, *_ in rows]
    charges: dict[int, list[OptionChargeView]] = {}
    if option_ids:
        for c in db.exec(
            select(QuoteOptionCharge).where(QuoteOptionCharge.quote_option_id.in_(option_ids))
            .order_by(QuoteOptionCharge.id)
        ).all():
            charges.setdefault(c.quote_option_id, []).append(
                OptionChargeView(c.code, c.description, c.quantity, c.unit_price, c.amount)
            )
    out: dict[int, list[OptionView]] = {}
    for o, ref, carrier_code, carrier_name, shipment_ref in rows:
        out.setdefault(o.quote_request_id, []).append(
            OptionView(
                id=o.id, quote_reference=ref, carrier_code=carrier_code, carrier_name=carrier_name,
                currency=o.currency, total=o.total, total_text=rating.format_money(o.currency, o.total),
                transit_days=o.transit_days, valid_until=o.valid_until, status=_option_status(o, now),
                is_manual=o.rate_card_id is None, notes=o.notes, shipment_reference=shipment_ref,
                charges=tuple(charges.get(o.id, ())),
            )
        )
    return out


def _view(db: Session, q: QuoteRequest, *, sort: str = "cheapest", problems: Mapping[str, str] | None = None,
          lines: list[QuoteCargoLine] | None = None) -> QuoteView:
    now = clock.now()
    lines = _lines(db, q.id) if lines is None else lines
    origin = db.get(Location, q.origin_id) if q.origin_id else None
    destination = db.get(Location, q.destination_id) if q.destination_id else None
    company = db.get(Company, q.company_id)
    user = db.get(User, q.requested_by_id)
    per_usd = exchange_rates(db)
    options = sort_options(_options(db, [q.id], now).get(q.id, []), sort, per_usd)
    cargo = cargo_of(q, lines)
    return QuoteView(
        reference=q.reference, status=_status_of(q, options), mode=q.mode, mode_label=MODE_LABELS.get(q.mode or ""),
        origin=origin.code if origin else None, origin_name=origin.name if origin else None,
        destination=destination.code if destination else None,
        destination_name=destination.name if destination else None,
        ready_date=q.ready_date, incoterm=q.incoterm, services=_services(q), cargo_value=q.cargo_value,
        cargo_currency=q.cargo_currency, customer_reference=q.customer_reference, is_manual=q.is_manual,
        manual_due_at=q.manual_due_at, submitted_at=q.submitted_at, created_at=q.created_at,
        updated_at=q.updated_at, company_name=company.name if company else "",
        requested_by=user.full_name if user else "",
        version=q.version, gross_weight_kg=_qty(cargo.gross_kg), volume_m3=_qty(cargo.volume_m3),
        chargeable_weight_kg=rating.chargeable_kg(q.mode, cargo) if q.mode in (Mode.AIR, Mode.ROAD_LTL) else None,
        revenue_tonnes=rating.revenue_tonnes(cargo.gross_kg, cargo.volume_m3) if q.mode == Mode.OCEAN_LCL else None,
        lines=tuple(
            CargoLineView(ln.description, ln.packages, ln.length_cm, ln.width_cm, ln.height_cm, ln.weight_kg,
                          ln.container_size_type, ln.container_count, ln.is_dangerous_goods, ln.un_number, ln.dg_class)
            for ln in lines
        ),
        options=tuple(options),
        problems=dict(problems or {}),
    )


# ---------------------------------------------------------------------------------------------------- validation


def _check_place(db: Session, key: str, code: str | None, mode: str | None, role: str,
                 problems: dict[str, str]) -> Location | None:
    if not code:
        where = place_word(mode) if mode else "a port, airport or city"
        problems[key] = f"Enter where the cargo {role}: {where}."
        return None
    loc = find_location(db, code)
    if loc is None:
        problems[key] = (f"We do not know the place {code!r}. Start typing the city, port or airport name and "
                         "pick it from the list.")
        return None
    if mode and loc.kind not in location_kinds_for_mode(mode):
        kind = {"airport": "an airport", "seaport": "a seaport", "inland": "an inland place"}.get(loc.kind, loc.kind)
        problems[key] = (f"{loc.code} ({loc.name}) is {kind}; {MODE_LABELS.get(mode, mode).lower()} needs "
                         f"{place_word(mode)}.")
        return None
    return loc


def _check_line(i: int, ln: QuoteCargoLine, mode: str | None, problems: dict[str, str]) -> None:
    k = f"lines.{i}."
    n = i + 1
    fcl = mode == Mode.OCEAN_FCL
    if fcl:
        if not ln.container_size_type:
            problems[k + "container_size_type"] = f"Line {n}: choose the container type, e.g. 22G1 (20' standard)."
        elif ln.container_size_type not in SIZE_TYPES:
            problems[k + "container_size_type"] = (
                f"Line {n}: {ln.container_size_type!r} is not a container type we ship. Choose one from the list, "
                "e.g. 22G1 (20' standard) or 45G1 (40' high cube).")
        if ln.container_count is None:
            problems[k + "container_count"] = f"Line {n}: enter how many containers you need."
        elif not 1 <= ln.container_count <= MAX_CONTAINERS_PER_LINE:
            problems[k + "container_count"] = (
                f"Line {n}: the number of containers must be between 1 and {MAX_CONTAINERS_PER_LINE}.")
    else:
        if ln.container_size_type or ln.container_count:
            problems[k + "container_size_type"] = (
                f"Line {n}: containers are only for ocean full container load (FCL). Give packages, dimensions and "
                "weight instead.")
        if ln.packages is None:
            problems[k + "packages"] = f"Line {n}: enter the number of packages (pallets, cartons, crates)."
        elif not 1 <= ln.packages <= MAX_PACKAGES_PER_LINE:
            problems[k + "packages"] = (f"Line {n}: the number of packages must be between 1 and "
                                        f"{MAX_PACKAGES_PER_LINE}.")
        for name, label in (("length_cm", "length"), ("width_cm", "width"), ("height_cm", "height")):
            value = getattr(ln, name)
            if value is None:
                problems[k + name] = f"Line {n}: enter the {label} of one package in centimetres."
            elif not Decimal(0) < value <= MAX_DIMENSION_CM:
                problems[k + name] = (f"Line {n}: the {label} must be more than 0 and at most "
                                      f"{MAX_DIMENSION_CM} cm (one package).")
    if ln.weight_kg is None:
        problems[k + "weight_kg"] = f"Line {n}: enter the total gross weight of this line in kg."
    elif not Decimal(0) < ln.weight_kg <= MAX_WEIGHT_KG:
        problems[k + "weight_kg"] = f"Line {n}: the gross weight must be more than 0 and at most {MAX_WEIGHT_KG} kg."
    if ln.is_dangerous_goods:
        if not ln.un_number:
            problems[k + "un_number"] = (f"Line {n}: dangerous goods need their UN number: four digits, e.g. "
                                         "UN 1263 for paint.")
        if not ln.dg_class:
            problems[k + "dg_class"] = f"Line {n}: choose the dangerous goods class, e.g. 3 (flammable liquids)."
        elif ln.dg_class not in DG_CLASSES:
            problems[k + "dg_class"] = (f"Line {n}: {ln.dg_class!r} is not a dangerous goods class. Use 1 to 9 with "
                                        "the division where there is one, e.g. 2.1 or 6.1.")
    elif ln.un_number or ln.dg_class:
        problems[k + "is_dangerous_goods"] = (f"Line {n}: you gave a UN number or class. Tick 'dangerous goods', "
                                              "or clear them if the cargo is not dangerous.")


def _problems(db: Session, q: QuoteRequest, lines: Sequence[QuoteCargoLine], today: date) -> dict[str, str]:
    """Everything that stops a request from being submitted, by field, in a shipper's words."""
    p: dict[str, str] = {}
    mode = q.mode
    if not mode:
        p["mode"] = "Choose how the cargo travels: ocean FCL, ocean LCL, air, road FTL or road LTL."
    elif mode not in Mode._value2member_map_:
        p["mode"] = (f"{mode!r} is not a transport mode we offer. Choose ocean FCL, ocean LCL, air, road FTL or "
                     "road LTL.")
        mode = None
    origin = _check_place(db, "origin", _code(db, q.origin_id), mode, "starts", p)
    destination = _check_place(db, "destination", _code(db, q.destination_id), mode, "goes", p)
    if origin and destination and origin.id == destination.id:
        p["destination"] = "Origin and destination are the same place. Choose where the cargo goes."
    if q.ready_date is None:
        p["ready_date"] = "Enter the date the cargo is ready to be collected."
    elif q.ready_date < today:
        p["ready_date"] = (f"The ready date {q.ready_date.isoformat()} is in the past. Enter today "
                           f"({today.isoformat()}) or a later date.")
    elif q.ready_date > today + timedelta(days=MAX_READY_DAYS_AHEAD):
        p["ready_date"] = f"We price shipments up to {MAX_READY_DAYS_AHEAD} days ahead. Choose an earlier ready date."
    if not q.incoterm:
        p["incoterm"] = "Choose the Incoterm agreed with your buyer or seller, e.g. FCA or DAP."
    elif q.incoterm not in INCOTERMS:
        p["incoterm"] = f"{q.incoterm!r} is not an Incoterms 2020 rule. Choose one from the list, e.g. FCA or DAP."
    elif mode and not incoterm_valid_for_mode(q.incoterm, mode):
        p["incoterm"] = (f"{q.incoterm} ({INCOTERMS[q.incoterm].name}) is for sea transport only. For "
                         f"{MODE_LABELS[mode].lower()} use {ANY_MODE_EQUIVALENT[q.incoterm]} "
                         f"({INCOTERMS[ANY_MODE_EQUIVALENT[q.incoterm]].name}) instead.")
    services = _services(q)
    unknown = [s for s in services if s not in SERVICES]
    if unknown:
        p["services"] = f"Unknown service {unknown[0]!r}. Choose from: {', '.join(SERVICES)}."
    if q.cargo_value is not None and q.cargo_value < 0:
        p["cargo_value"] = "The cargo value cannot be negative."
    if q.cargo_currency and q.cargo_currency not in PRICING_CURRENCIES:
        p["cargo_currency"] = f"{q.cargo_currency!r} is not a currency we price in. Use a code such as EUR or USD."
    if "insurance" in services:
        if not q.cargo_value:
            p["cargo_value"] = "Insurance is priced as a percentage of the cargo value: enter the cargo value."
        if not q.cargo_currency:
            p["cargo_currency"] = "Insurance is priced as a percentage of the cargo value: enter its currency."
    elif q.cargo_value is not None and not q.cargo_currency:
        p["cargo_currency"] = "Enter the currency of the cargo value, e.g. EUR."
    if not lines:
        p["lines"] = ("Add the containers you need: type and number." if mode == Mode.OCEAN_FCL
                      else "Add at least one cargo line: packages, dimensions and weight.")
    elif len(lines) > MAX_LINES:
        p["lines"] = f"A request can have at most {MAX_LINES} cargo lines."
    for i, ln in enumerate(lines):
        _check_line(i, ln, mode, p)
    return p


def _code(db: Session, location_id: int | None) -> str | None:
    if not location_id:
        return None
    loc = db.get(Location, location_id)
    return loc.code if loc else None


def _form_error(problems: Mapping[str, str], tail: str) -> FormInvalid:
    first = next(iter(problems.values()))
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return FormInvalid(f"{first}{more} {tail}", dict(problems), saved=tail == NOTHING_SUBMITTED)


# ---------------------------------------------------------------------------------------------------- drafts


def _draft(db: Session, principal: Principal) -> QuoteRequest | None:
    return db.exec(
        select(QuoteRequest)
        .where(QuoteRequest.requested_by_id == principal.user_id, QuoteRequest.status == QuoteStatus.DRAFT.value,
               QuoteRequest.company_id == principal.company_id)
        .order_by(QuoteRequest.updated_at.desc(), QuoteRequest.id.desc())
        .limit(1)
    ).first()


def get_draft(db: Session, principal: Principal) -> QuoteView | None:
    """The acting user's current draft (one per user), with what still stops it from being submitted."""
    principal.require(Permission.REQUEST_QUOTES)
    q = _draft(db, principal)
    if q is None:
        return None
    lines = _lines(db, q.id)
    return _view(db, q, lines=lines, problems=_problems(db, q, lines, clock.today()))


def _apply(db: Session, q: QuoteRequest, data: QuoteInput, problems: dict[str, str]) -> list[QuoteCargoLine]:
    """Copy the form onto the request; values that cannot be stored become blank with a problem."""
    mode = _text(data.mode, 12)
    q.mode = mode.lower() if mode else None
    for key in ("origin", "destination"):
        code = _text(getattr(data, key), 10)
        loc = find_location(db, code) if code else None
        setattr(q, f"{key}_id", loc.id if loc else None)
        if code and loc is None:
            problems[key] = (f"We do not know the place {code!r}. Start typing the city, port or airport name and "
                             "pick it from the list.")
    q.ready_date = _date(data.ready_date, "ready_date", problems)
    incoterm = _text(data.incoterm, 3)
    q.incoterm = incoterm.upper() if incoterm else None
    services = sorted({s.strip().lower() for s in data.services if s and s.strip()})
    unknown = [s for s in services if s not in SERVICES]
    if unknown:
        problems["services"] = f"Unknown service {unknown[0][:40]!r}. Choose from: {', '.join(SERVICES)}."
    q.services = json.dumps([s for s in services if s in SERVICES])  # known names only: always fits, always whole
    q.cargo_value = _decimal(data.cargo_value, "cargo_value", "The cargo value", problems)
    if q.cargo_value is not None:
        q.cargo_value = q.cargo_value.quantize(Decimal("0.01"))
        if abs(q.cargo_value) >= Decimal("1e13"):
            problems["cargo_value"] = "The cargo value is too large."
            q.cargo_value = None
    currency = _text(data.cargo_currency, 3)
    q.cargo_currency = currency.upper() if currency else None
    q.customer_reference = _text(data.customer_reference, 40)
    lines = []
    for i, raw in enumerate(data.lines[:MAX_LINES]):
        k = f"lines.{i}."
        n = i + 1
        un_raw = _text(raw.un_number, 10)
        un = normalize_un_number(un_raw)
        if un_raw and un is None:
            problems[k + "un_number"] = f"Line {n}: UN numbers have four digits, e.g. UN 1263."

        def dim(name: str, label: str, *, _k: str = k, _n: int = n, _raw: CargoLineInput = raw) -> Decimal | None:
            value = _decimal(getattr(_raw, name), _k + name, f"Line {_n}: the {label}", problems)
            if value is not None and not Decimal("-1e9") < value < Decimal("1e9"):
                problems[_k + name] = f"Line {_n}: the {label} is too large."
                return None
            return None if value is None else value.quantize(rating.KG_QUANTUM)

        size_type = _text(raw.container_size_type, 4)
        dg_class = _text(raw.dg_class, 4)
        packages = _integer(raw.packages, k + "packages", f"Line {n}: the number of packages", problems)
        count = _integer(raw.container_count, k + "container_count", f"Line {n}: the number of containers", problems)
        lines.append(QuoteCargoLine(
            quote_request_id=q.id, description=_text(raw.description, 200),
            packages=packages if packages is None or abs(packages) < 10**9 else None,
            length_cm=dim("length_cm", "length"), width_cm=dim("width_cm", "width"),
            height_cm=dim("height_cm", "height"), weight_kg=dim("weight_kg", "weight"),
            container_size_type=size_type.upper() if size_type else None,
            container_count=count if count is None or abs(count) < 10**9 else None,
            is_dangerous_goods=bool(raw.is_dangerous_goods), un_number=un or (un_raw[:4] if un_raw else None),
            dg_class=dg_class,
        ))
    if len(data.lines) > MAX_LINES:
        problems["lines"] = f"A request can have at most {MAX_LINES} cargo lines; the rest were not kept."
    return lines


def save_draft(
    db: Session, principal: Principal, data: QuoteInput, *, reference: str | None = None,
    expected_version: int | None = None,
) -> QuoteView:
    """Save the acting user's draft (creating it on first save): half-filled is fine. Returns the draft with
    ``problems``: every field still missing or wrong, so the page can show them before submitting.

    ``reference`` (optional) must name that draft (a stale page may not overwrite another request);
    ``expected_version`` (optional) refuses to overwrite a draft saved since in another tab."""
    principal.require(Permission.REQUEST_QUOTES)
    now = clock.now()
    q = _draft(db, principal)
    if reference is not None and (q is None or q.reference != reference.strip().upper()):
        _find(db, principal, reference)  # NotFound for a reference that is not the company's
        raise Conflict(f"Quote {reference.strip().upper()} is not your draft any more (it was submitted or "
                       "discarded). Open your quotes to see it. Nothing was saved.")
    created = q is None
    if q is None:
        q = QuoteRequest(
            reference=f"TMP-{uuid.uuid4().hex[:16]}", company_id=principal.company_id,
            requested_by_id=principal.user_id, status=QuoteStatus.DRAFT.value, created_at=now, updated_at=now,
        )
        db.add(q)
        db.flush()
        q.reference = quote_reference(q.id)
    elif expected_version is not None and q.version != expected_version:
        raise Conflict(
            "This draft was changed in another window since you opened it. Reload it to see the latest version, "
            "then make your change again. Nothing was saved."
        )
    else:
        q.version += 1
    problems: dict[str, str] = {}
    new_lines = _apply(db, q, data, problems)
    q.updated_at = now
    db.add(q)
    db.exec(sa.delete(QuoteCargoLine).where(QuoteCargoLine.quote_request_id == q.id))
    for ln in new_lines:
        ln.quote_request_id = q.id
        db.add(ln)
    if created:
        funnel.record(db, principal, PortalEventKind.QUOTE_STARTED, q.reference)
    db.commit()
    lines = _lines(db, q.id)
    return _view(db, q, lines=lines, problems={**_problems(db, q, lines, clock.today()), **problems})


def discard_draft(db: Session, principal: Principal, reference: str) -> None:
    """Delete the acting user's draft (counted as an abandoned quote)."""
    principal.require(Permission.REQUEST_QUOTES)
    q = _find(db, principal, reference)
    if q.status != QuoteStatus.DRAFT or q.requested_by_id != principal.user_id:
        raise Conflict(f"Quote {q.reference} is not your draft, so it cannot be discarded. Nothing was changed.")
    db.exec(sa.delete(QuoteCargoLine).where(QuoteCargoLine.quote_request_id == q.id))
    db.delete(q)
    funnel.record(db, principal, PortalEventKind.QUOTE_ABANDONED, q.reference)
    db.commit()


def copy_to_draft(db: Session, principal: Principal, reference: str) -> QuoteView:
    """Start a new draft from an earlier request (e.g. after its prices expired), with today's ready date if
    the old one has passed."""
    principal.require(Permission.REQUEST_QUOTES)
    source = _find(db, principal, reference)
    current = _draft(db, principal)
    if current is not None:
        raise Conflict(
            f"You already have an unfinished quote request ({current.reference}). Submit or discard it first, "
            "then copy this one. Nothing was changed."
        )
    lines = _lines(db, source.id)
    today = clock.today()
    data = QuoteInput(
        mode=source.mode, origin=_code(db, source.origin_id), destination=_code(db, source.destination_id),
        ready_date=max(source.ready_date, today) if source.ready_date else None, incoterm=source.incoterm,
        services=_services(source), cargo_value=source.cargo_value, cargo_currency=source.cargo_currency,
        customer_reference=source.customer_reference,
        lines=tuple(CargoLineInput(ln.description, ln.packages, ln.length_cm, ln.width_cm, ln.height_cm,
                                   ln.weight_kg, ln.container_size_type, ln.container_count, ln.is_dangerous_goods,
                                   ln.un_number, ln.dg_class) for ln in lines),
    )
    return save_draft(db, principal, data)


# ---------------------------------------------------------------------------------------------------- pricing


def candidate_cards(db: Session, mode: str, origin_id: int, destination_id: int, ready: date) -> list[rating.CardRules]:
    """Active cards of the lane valid on ``ready`` (one indexed query) with their charges (one more query)."""
    cards = db.exec(
        select(RateCard).where(
            RateCard.mode == mode, RateCard.origin_id == origin_id, RateCard.destination_id == destination_id,
            RateCard.valid_to >= ready, RateCard.valid_from <= ready, RateCard.is_active.is_(True),
        )
    ).all()
    if not cards:
        return []
    charges: dict[int, list[rating.ChargeRule]] = {}
    for c in db.exec(
        select(RateCharge).where(RateCharge.rate_card_id.in_([card.id for card in cards])).order_by(RateCharge.id)
    ).all():
        charges.setdefault(c.rate_card_id, []).append(rating.ChargeRule(
            code=c.code, description=c.description, basis=c.basis, rate=c.rate, size_type=c.size_type,
            min_quantity=c.min_quantity, minimum_charge=c.minimum_charge, percent_of=c.percent_of, service=c.service,
        ))
    return [
        rating.CardRules(card_id=card.id, mode=card.mode, currency=card.currency, valid_from=card.valid_from,
                         valid_to=card.valid_to, transit_days=card.transit_days,
                         charges=tuple(charges.get(card.id, ())),
                         carrier_id=card.carrier_id)
        for card in cards
    ]


def price_request(
    db: Session, q: QuoteRequest, lines: Sequence[QuoteCargoLine], per_usd: Mapping[str, Decimal] | None = None
) -> list[rating.Priced]:
    """Every matching card priced for this request, cheapest first (no writes)."""
    cards = candidate_cards(db, q.mode, q.origin_id, q.destination_id, q.ready_date)
    cargo = cargo_of(q, lines)
    per_usd = exchange_rates(db) if per_usd is None else per_usd
    priced = []
    for card in cards:
        result = rating.price_card(card, cargo, ready_date=q.ready_date, services=_services(q), per_usd=per_usd)
        if isinstance(result, rating.Priced):
            priced.append(result)
    return sorted(priced, key=lambda p: (rating.convert(p.total, p.currency, "USD", per_usd) or p.total, p.card_id))


def _valid_until(card_valid_to: date, now: datetime) -> datetime:
    end_of_card = datetime.combine(card_valid_to, time(23, 59, 59), tzinfo=UTC)
    return min(now + timedelta(days=OPTION_VALID_DAYS), end_of_card)


def _option_notes(p: rating.Priced) -> str | None:
    notes = list(p.notes)
    if p.missing_services:
        names = ", ".join(SERVICES[s].lower() for s in p.missing_services if s in SERVICES)
        notes.append(f"Not included: {names}. Our team adds it to the booking on request.")
    return " ".join(notes)[:400] or None


def _add_option(db: Session, q: QuoteRequest, p: rating.Priced, valid_until: datetime, now: datetime) -> QuoteOption:
    option = QuoteOption(
        quote_request_id=q.id, rate_card_id=p.card_id, carrier_id=p.carrier_id, currency=p.currency, total=p.total,
        transit_days=p.transit_days, valid_until=valid_until, status="offered", notes=_option_notes(p),
        created_at=now,
    )
    db.add(option)
    db.flush()
    for ln in p.lines:
        db.add(QuoteOptionCharge(quote_option_id=option.id, code=ln.code, description=ln.description[:200],
                                 quantity=ln.quantity, unit_price=ln.unit_price, amount=ln.amount))
    return option


def submit_quote(db: Session, principal: Principal, reference: str | None = None) -> QuoteView:
    """Submit the acting user's draft: validate it, price every matching rate card and offer the options. When
    nothing matches, the request goes to the ops queue for manual pricing with an SLA due time.

    Invalid input raises :class:`FormInvalid` with a message per field; the draft stays saved as it was."""
    principal.require(Permission.REQUEST_QUOTES)
    q = _find(db, principal, reference) if reference else _draft(db, principal)
    if q is None:
        raise NotFound("You have no quote request in progress. Start a new one.")
    if q.status != QuoteStatus.DRAFT:
        raise Conflict(f"Quote {q.reference} was already submitted ({q.status}). Open it to see its prices.")
    if q.requested_by_id != principal.user_id:
        raise Conflict(f"Quote {q.reference} is a colleague's draft; only they can submit it. Nothing was sent.")
    lines = _lines(db, q.id)
    now = clock.now()
    problems = _problems(db, q, lines, clock.today())
    if problems:
        funnel.record_now(db, principal, PortalEventKind.QUOTE_FAILED,
                          f"{q.reference}: " + "; ".join(f"{k}: {v}" for k, v in problems.items()))
        raise _form_error(problems, NOTHING_SUBMITTED)
    per_usd = exchange_rates(db)
    priced = price_request(db, q, lines, per_usd)
    q.submitted_at = now
    q.updated_at = now
    q.version += 1
    if priced:
        card_end = {c.id: c.valid_to for c in db.exec(
            select(RateCard).where(RateCard.id.in_([p.card_id for p in priced]))).all()}
        for p in priced:
            _add_option(db, q, p, _valid_until(card_end[p.card_id], now), now)
        q.status = QuoteStatus.QUOTED.value
        q.is_manual = False
        detail = f"{q.reference}: {len(priced)} options"
    else:
        q.status = QuoteStatus.REQUESTED.value
        q.is_manual = True
        q.manual_due_at = sla_due_at(db, "quote", q.mode, "*", now, default=DEFAULT_QUOTE_HOURS)
        detail = f"{q.reference}: no rate matched, manual pricing"
    db.add(q)
    funnel.record(db, principal, PortalEventKind.QUOTE_SUBMITTED, detail)
    db.commit()
    return _view(db, q, lines=lines)


# ---------------------------------------------------------------------------------------------------- reads


def get_quote(db: Session, principal: Principal, reference: str, *, sort: str = "cheapest") -> QuoteView:
    """One request with its options (sorted cheapest or fastest). Another company's is NotFound."""
    q = _find(db, principal, reference)
    lines = _lines(db, q.id)
    problems = _problems(db, q, lines, clock.today()) if q.status == QuoteStatus.DRAFT else {}
    return _view(db, q, sort=sort, lines=lines, problems=problems)


def get_option(db: Session, principal: Principal, option_id: int) -> OptionView:
    """One option of a request the principal may see (NotFound otherwise)."""
    principal.require(Permission.VIEW_QUOTES)
    q_id = db.exec(
        select(QuoteOption.quote_request_id)
        .join(QuoteRequest, QuoteRequest.id == QuoteOption.quote_request_id)
        .where(QuoteOption.id == int(option_id), company_filter(QuoteRequest.company_id, principal))
    ).first()
    if q_id is None:
        raise NotFound(f"No quote option {option_id} was found in your account. Open the quote and pick an option.")
    return next(o for o in _options(db, [q_id], clock.now())[q_id] if o.id == int(option_id))


def list_quotes(
    db: Session,
    principal: Principal,
    *,
    status: str | None = None,
    search: str | None = None,
    page: int = 1,
    page_size: int = 25,
    sort: str = "updated",
) -> Page:
    """One page of the company's quote requests (staff: every company's) with their derived status.

    ``status``: draft, requested, quoted, accepted, expired, declined. Drafts are listed only to the user who
    is writing them. ``search``: the start of a quote reference or of the customer's reference."""
    principal.require(Permission.VIEW_QUOTES)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    if sort not in LIST_SORTS:
        raise ValidationFailed(f"Unknown sort {sort!r}. Use one of: {', '.join(LIST_SORTS)}.")
    now = clock.now()
    derived = _derived_status(now)
    clauses: list[sa.ColumnElement[bool]] = [
        company_filter(QuoteRequest.company_id, principal),
        sa.or_(QuoteRequest.status != QuoteStatus.DRAFT.value, QuoteRequest.requested_by_id == principal.user_id),
    ]
    if status and status != "all":
        if status not in QuoteStatus._value2member_map_:
            raise ValidationFailed(f"Unknown status {status!r}. Use one of: {', '.join(s.value for s in QuoteStatus)}.")
        if status == QuoteStatus.EXPIRED:
            clauses.append(derived == status)
        elif status == QuoteStatus.QUOTED:
            clauses += [QuoteRequest.status == status, _live_offer(now)]
        else:
            clauses.append(QuoteRequest.status == status)
    term = (search or "").strip().upper()[:40]
    if term:
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(sa.or_(QuoteRequest.reference.like(escaped + "%", escape="\\"),
                              sa.func.upper(QuoteRequest.customer_reference).like(escaped + "%", escape="\\")))
    order = {
        "updated": (QuoteRequest.updated_at.desc(),),
        "-updated": (QuoteRequest.updated_at.asc(),),
        "ready": (QuoteRequest.ready_date.asc(),),
        "reference": (QuoteRequest.reference.desc(),),
    }[sort]
    total = db.exec(select(sa.func.count()).select_from(QuoteRequest).where(*clauses)).one()
    origin, dest = aliased(Location), aliased(Location)
    rows = db.exec(
        select(QuoteRequest, derived, origin.code, dest.code, Company.name, User.full_name)
        .join(Company, Company.id == QuoteRequest.company_id)
        .join(User, User.id == QuoteRequest.requested_by_id)
        .outerjoin(origin, origin.id == QuoteRequest.origin_id)
        .outerjoin(dest, dest.id == QuoteRequest.destination_id)
        .where(*clauses)
        .order_by(*order, QuoteRequest.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    options = _options(db, [r[0].id for r in rows], now)
    per_usd = exchange_rates(db)
    out = []
    for q, state, o_code, d_code, company_name, requester in rows:
        opts = options.get(q.id, [])
        open_opts = [o for o in opts if o.status == "offered"]
        best = sort_options(open_opts, "cheapest", per_usd)[0] if open_opts else None
        out.append(QuoteRow(
            reference=q.reference, status=state, mode=q.mode, origin=o_code, destination=d_code,
            ready_date=q.ready_date, company_name=company_name, requested_by=requester, options=len(opts),
            best_total_text=best.total_text if best else None, is_manual=q.is_manual, manual_due_at=q.manual_due_at,
            sla_overdue=bool(state == QuoteStatus.REQUESTED and q.manual_due_at and q.manual_due_at < now),
            created_at=q.created_at, updated_at=q.updated_at,
        ))
    return Page(rows=out, total=int(total), page=page, page_size=page_size)


def manual_queue(db: Session, principal: Principal, *, page: int = 1, page_size: int = 25) -> Page:
    """Requests waiting for a person to price them, most urgent SLA first (ops)."""
    principal.require(Permission.PRICE_QUOTES)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    clauses = [QuoteRequest.status == QuoteStatus.REQUESTED.value, company_filter(QuoteRequest.company_id, principal)]
    total = db.exec(select(sa.func.count()).select_from(QuoteRequest).where(*clauses)).one()
    now = clock.now()
    origin, dest = aliased(Location), aliased(Location)
    rows = db.exec(
        select(QuoteRequest, origin.code, dest.code, Company.name, User.full_name)
        .join(Company, Company.id == QuoteRequest.company_id)
        .join(User, User.id == QuoteRequest.requested_by_id)
        .outerjoin(origin, origin.id == QuoteRequest.origin_id)
        .outerjoin(dest, dest.id == QuoteRequest.destination_id)
        .where(*clauses)
        .order_by(QuoteRequest.manual_due_at.asc(), QuoteRequest.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    out = [
        QuoteRow(
            reference=q.reference, status=q.status, mode=q.mode, origin=o, destination=d, ready_date=q.ready_date,
            company_name=company_name, requested_by=requester, options=0, best_total_text=None, is_manual=True,
            manual_due_at=q.manual_due_at, sla_overdue=bool(q.manual_due_at and q.manual_due_at < now),
            created_at=q.created_at, updated_at=q.updated_at,
        )
        for q, o, d, company_name, requester in rows
    ]
    return Page(rows=out, total=int(total), page=page, page_size=page_size)


# ---------------------------------------------------------------------------------------------------- decisions


def decline_quote(db: Session, principal: Principal, reference: str, reason: str | None = None) -> QuoteView:
    """The customer turns the prices down: open options and the request become declined."""
    principal.require(Permission.REQUEST_QUOTES)
    q = _find(db, principal, reference)
    if q.status not in (QuoteStatus.QUOTED, QuoteStatus.REQUESTED):
        raise Conflict(f"Quote {q.reference} is {q.status}; only open quotes can be declined. Nothing was changed.")
    now = clock.now()
    db.exec(sa.update(QuoteOption).where(QuoteOption.quote_request_id == q.id, QuoteOption.status == "offered")
            .values(status="declined", version=QuoteOption.version + 1))
    q.status = QuoteStatus.DECLINED.value
    q.updated_at = now
    q.version += 1
    db.add(q)
    db.add(AuditLog(actor_id=principal.user_id, company_id=q.company_id, action="quote_declined",
                    entity_type="quote_request", entity_id=q.reference,
                    after=json.dumps({"reason": _text(reason, 400)})))
    db.commit()
    return _view(db, q)


def _check_manual(data: ManualOptionInput, today: date) -> tuple[dict[str, str], list[tuple]]:
    p: dict[str, str] = {}
    currency = (data.currency or "").strip().upper()
    if currency not in PRICING_CURRENCIES:
        p["currency"] = f"{data.currency!r} is not a currency we price in. Use a code such as EUR or USD."
    if not 0 <= int(data.transit_days) <= 120:
        p["transit_days"] = "Transit days must be between 0 and 120."
    if data.valid_until < today:
        p["valid_until"] = "The price must be valid until today or later."
    if not data.charges:
        p["charges"] = "Add at least one charge (the freight)."
    lines = []
    for i, c in enumerate(data.charges):
        qty = _decimal(c.quantity, f"charges.{i}.quantity", f"Charge {i + 1}: the quantity", p)
        price = _decimal(c.unit_price, f"charges.{i}.unit_price", f"Charge {i + 1}: the unit price", p)
        code = (c.code or "").strip().upper()[:20]
        desc = _text(c.description, 200)
        if not code or not desc:
            p[f"charges.{i}.code"] = f"Charge {i + 1}: give a code (e.g. FRT) and a description."
        if qty is not None and not Decimal(0) < qty < Decimal("1e9"):
            p[f"charges.{i}.quantity"] = f"Charge {i + 1}: the quantity must be more than 0."
        if price is not None and not Decimal(0) <= price < Decimal("1e11"):
            p[f"charges.{i}.unit_price"] = f"Charge {i + 1}: the unit price cannot be negative."
        if qty is not None and price is not None and code and desc:
            lines.append((code, desc, qty.quantize(rating.KG_QUANTUM), price.quantize(Decimal("0.0001"))))
    return p, lines


def add_manual_option(db: Session, principal: Principal, reference: str, data: ManualOptionInput) -> QuoteView:
    """Ops prices a request by hand: the option is offered, the request reads quoted, the customer is notified."""
    principal.require(Permission.PRICE_QUOTES)
    q = _find(db, principal, reference)
    if q.status not in (QuoteStatus.REQUESTED, QuoteStatus.QUOTED):
        raise Conflict(f"Quote {q.reference} is {q.status}; only requested or quoted requests can get a price.")
    problems, lines = _check_manual(data, clock.today())
    carrier_id = None
    if data.carrier_code:
        carrier_id = db.exec(select(Carrier.id).where(Carrier.code == data.carrier_code.strip().upper())).first()
        if carrier_id is None:
            problems["carrier_code"] = f"No carrier {data.carrier_code!r}. Use the carrier's code, e.g. MAEU or LH."
    if problems:
        raise _form_error(problems, "Nothing was saved.")
    now = clock.now()
    currency = data.currency.strip().upper()
    amounts = [rating.round_money(qty * price, currency) for _c, _d, qty, price in lines]
    option = QuoteOption(
        quote_request_id=q.id, rate_card_id=None, carrier_id=carrier_id, currency=currency,
        total=sum(amounts, Decimal(0)), transit_days=int(data.transit_days),
        valid_until=datetime.combine(data.valid_until, time(23, 59, 59), tzinfo=UTC), status="offered",
        notes=_text(data.notes, 400), created_at=now,
    )
    db.add(option)
    db.flush()
    for (code, desc, qty, price), amount in zip(lines, amounts, strict=True):
        db.add(QuoteOptionCharge(quote_option_id=option.id, code=code, description=desc, quantity=qty,
                                 unit_price=price, amount=amount))
    was = q.status
    q.status = QuoteStatus.QUOTED.value
    q.updated_at = now
    q.version += 1
    db.add(q)
    notifications.notify(
        db, "quote_priced", [q.requested_by_id], f"Your quote {q.reference} is priced",
        f"{rating.format_money(currency, option.total)}, {option.transit_days} days transit, valid until "
        f"{data.valid_until.isoformat()}.",
        f"/portal/quotes/{q.reference}", f"quote_option:{option.id}", company_id=q.company_id,
    )
    db.add(AuditLog(actor_id=principal.user_id, company_id=q.company_id, action="quote_priced_manually",
                    entity_type="quote_request", entity_id=q.reference, before=json.dumps({"status": was}),
                    after=json.dumps({"status": q.status, "option": option.id, "total": str(option.total),
                                      "currency": currency})))
    db.commit()
    return _view(db, q)


def mark_booking_started(db: Session, principal: Principal, option_id: int) -> OptionView:
    """The customer opened the booking form of an option: recorded once per option and user for the funnel."""
    principal.require(Permission.BOOK)
    option = get_option(db, principal, option_id)
    detail = funnel.booking_detail(option.id)
    seen = db.exec(select(PortalEvent.id).where(
        PortalEvent.user_id == principal.user_id, PortalEvent.kind == PortalEventKind.BOOKING_STARTED.value,
        PortalEvent.detail == detail)).first()
    if seen is None:
        funnel.record(db, principal, PortalEventKind.BOOKING_STARTED, detail)
        db.commit()
    return option
