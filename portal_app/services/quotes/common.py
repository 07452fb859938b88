"""Reading typed values, finding a caller's quote and building its view (statuses derived on read)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    AppSetting,
    Carrier,
    Company,
    Location,
    QuoteCargoLine,
    QuoteOption,
    QuoteOptionCharge,
    QuoteRequest,
    Shipment,
    User,
)
from models.enums import Mode, QuoteStatus
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import clock, isodates, rating
from portal_app.services.errors import NotFound, ValidationFailed
from portal_app.services.quotes.shapes import SORTS, CargoLineView, OptionChargeView, OptionView, QuoteView
from portal_app.services.trade_codes import (
    MODE_LABELS,
    container_words,
    is_ocean,
)

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


def _qty(value: Decimal) -> Decimal:
    return value.quantize(rating.KG_QUANTUM)


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
        col(QuoteRequest.reference) == (reference or "").strip().upper(),
        company_filter(col(QuoteRequest.company_id), principal),
    )
    found = db.exec(stmt).first()
    if found is None:
        raise _not_found(reference)
    return found


def _lines(db: Session, q: QuoteRequest) -> list[QuoteCargoLine]:
    return list(db.exec(
        select(QuoteCargoLine).where(QuoteCargoLine.quote_request_id == q.id).order_by(col(QuoteCargoLine.id))
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
        (sa.and_(col(QuoteRequest.status) == QuoteStatus.QUOTED.value, sa.not_(_live_offer(now))),
         QuoteStatus.EXPIRED.value),
        else_=QuoteRequest.status,
    )


def _status_of(q: QuoteRequest, options: Sequence[OptionView]) -> str:
    if q.status == QuoteStatus.QUOTED and not any(o.status == "offered" for o in options):
        return QuoteStatus.EXPIRED.value
    return q.status


STANDARD_TERMS = "Standard terms"


def free_time_words(demurrage_days: int | None, detention_days: int | None) -> str:
    """Free time as a customer reads it: "Demurrage 7 free days, detention 14 free days", "Standard terms" when
    the card gives no numbers (the carrier's usual free time at the port applies)."""
    if demurrage_days is None and detention_days is None:
        return STANDARD_TERMS

    def part(days: int | None) -> str:
        if days is None:
            return "standard terms"
        return f"{days} free day{'' if days == 1 else 's'}"

    return f"Demurrage {part(demurrage_days)}, detention {part(detention_days)}"


def line_view(ln: QuoteCargoLine) -> CargoLineView:
    """A stored cargo line with its volume computed from its dimensions and its container type in words."""
    volume = rating.line_volume_m3(ln.packages, ln.length_cm, ln.width_cm, ln.height_cm)
    return CargoLineView(
        ln.description, ln.packages, ln.length_cm, ln.width_cm, ln.height_cm, ln.weight_kg, ln.container_size_type,
        ln.container_count, ln.is_dangerous_goods, ln.un_number, ln.dg_class,
        volume_m3=_qty(volume) if volume is not None and not ln.container_size_type else None,
        container_type=container_words(ln.container_size_type) if ln.container_size_type else None,
    )


def _options(db: Session, quote_ids: Sequence[int], now: datetime) -> dict[int, list[OptionView]]:
    if not quote_ids:
        return {}
    rows = db.execute(
        sa.select(QuoteOption, col(QuoteRequest.reference), col(QuoteRequest.mode), col(Carrier.code),
                  col(Carrier.name), col(Shipment.reference))
        .join(QuoteRequest, col(QuoteRequest.id) == col(QuoteOption.quote_request_id))
        .outerjoin(Carrier, col(Carrier.id) == col(QuoteOption.carrier_id))
        .outerjoin(Shipment, col(Shipment.quote_option_id) == col(QuoteOption.id))
        .where(col(QuoteOption.quote_request_id).in_(list(quote_ids)))
    ).all()
    option_ids = [o.id for o, *_ in rows]
    charges: dict[int, list[OptionChargeView]] = {}
    if option_ids:
        for c in db.exec(
            select(QuoteOptionCharge).where(col(QuoteOptionCharge.quote_option_id).in_(option_ids))
            .order_by(col(QuoteOptionCharge.id))
        ).all():
            charges.setdefault(c.quote_option_id, []).append(
                OptionChargeView(c.code, c.description, c.quantity, c.unit_price, c.amount)
            )
    out: dict[int, list[OptionView]] = {}
    for o, ref, mode, carrier_code, carrier_name, shipment_ref in rows:
        out.setdefault(o.quote_request_id, []).append(
            OptionView(
                id=o.id, quote_reference=ref, carrier_code=carrier_code, carrier_name=carrier_name,
                currency=o.currency, total=o.total, total_text=rating.format_money(o.currency, o.total),
                transit_days=o.transit_days, valid_until=o.valid_until, status=_option_status(o, now),
                is_manual=o.rate_card_id is None, notes=o.notes, shipment_reference=shipment_ref,
                charges=tuple(charges.get(o.id, ())), demurrage_free_days=o.demurrage_free_days,
                detention_free_days=o.detention_free_days,
                free_time=free_time_words(o.demurrage_free_days, o.detention_free_days)
                if mode and is_ocean(mode) else None,
            )
        )
    return out


def _view(db: Session, q: QuoteRequest, *, sort: str = "cheapest", problems: Mapping[str, str] | None = None,
          lines: list[QuoteCargoLine] | None = None) -> QuoteView:
    assert q.id is not None  # a stored row
    now = clock.now()
    lines = _lines(db, q) if lines is None else lines
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
        lines=tuple(line_view(ln) for ln in lines),
        options=tuple(options),
        problems=dict(problems or {}),
    )
