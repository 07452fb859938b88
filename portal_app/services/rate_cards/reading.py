"""Reading rate cards: the list with each card's state, and one card with its charges."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import Carrier, Location, RateCard, RateCharge
from models.enums import Mode
from portal_app.auth.principal import Principal
from portal_app.services import clock, rating
from portal_app.services.errors import NotFound, ValidationFailed
from portal_app.services.paging import Page, check_paging
from portal_app.services.rate_cards.checks import _require_read
from portal_app.services.rate_cards.shapes import MAX_PAGE_SIZE, RateCardRow, RateCardView, RateChargeView


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


def _rows_stmt() -> sa.Select[tuple[RateCard, str, str, str, str, str | None, str | None, int]]:
    charge_count = (select(sa.func.count()).select_from(RateCharge)
                    .where(col(RateCharge.rate_card_id) == col(RateCard.id)).scalar_subquery())
    return (
        sa.select(RateCard, col(_Origin.code), col(_Origin.name), col(_Destination.code), col(_Destination.name),
                  col(Carrier.code), col(Carrier.name), charge_count)
        .join(_Origin, col(_Origin.id) == col(RateCard.origin_id))
        .join(_Destination, col(_Destination.id) == col(RateCard.destination_id))
        .outerjoin(Carrier, col(Carrier.id) == col(RateCard.carrier_id))
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
) -> Page[RateCardRow]:
    """One page of rate cards by lane and carrier code; ``state``: active (valid today), expired, future,
    inactive."""
    _require_read(principal)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    today = clock.today()
    clauses: list[sa.ColumnElement[bool]] = []
    if mode and mode != "all":
        if mode not in Mode._value2member_map_:
            raise ValidationFailed(f"Unknown mode {mode!r}. Use one of: {', '.join(m.value for m in Mode)}.")
        clauses.append(col(RateCard.mode) == mode)
    for column, code in ((col(RateCard.origin_id), origin), (col(RateCard.destination_id), destination)):
        if code:
            clauses.append(column == select(col(Location.id)).where(col(Location.code) == code.strip().upper())
                           .scalar_subquery())
    if carrier and carrier.strip():
        clauses.append(col(RateCard.carrier_id) == select(col(Carrier.id))
                       .where(col(Carrier.code) == carrier.strip().upper()).scalar_subquery())
    if state and state != "all":
        states = {
            "active": sa.and_(col(RateCard.is_active).is_(True), col(RateCard.valid_from) <= today,
                              col(RateCard.valid_to) >= today),
            "expired": sa.and_(col(RateCard.is_active).is_(True), col(RateCard.valid_to) < today),
            "future": sa.and_(col(RateCard.is_active).is_(True), col(RateCard.valid_from) > today),
            "inactive": col(RateCard.is_active).is_(False),
        }
        if state not in states:
            raise ValidationFailed(f"Unknown state {state!r}. Use one of: {', '.join(states)}.")
        clauses.append(states[state])
    total = db.exec(select(sa.func.count()).select_from(RateCard).where(*clauses)).one()
    rows = db.execute(
        _rows_stmt().where(*clauses)
        .order_by(col(RateCard.mode), col(_Origin.code), col(_Destination.code), col(RateCard.valid_from).desc(),
                  col(RateCard.id))
        .offset((page - 1) * page_size).limit(page_size)
    ).all()
    return Page(rows=[_row(r, today) for r in rows], total=int(total), page=page, page_size=page_size)


def get_rate_card(db: Session, principal: Principal, card_id: int) -> RateCardView:
    _require_read(principal)
    found = db.execute(_rows_stmt().where(col(RateCard.id) == int(card_id))).first()
    if found is None:
        raise NotFound(f"No rate card {card_id}. It may have been removed; reload the list.")
    charges = db.exec(select(RateCharge).where(col(RateCharge.rate_card_id) == int(card_id))
                      .order_by(col(RateCharge.id))).all()
    card = found[0]
    return RateCardView(**vars(_row(found, clock.today())), notes=card.notes, version=card.version,
                        charge_lines=tuple(_charge_view(c) for c in charges),
                        demurrage_free_days=card.demurrage_free_days, detention_free_days=card.detention_free_days)


def _charge_view(c: RateCharge) -> RateChargeView:
    assert c.id is not None  # a stored row
    return RateChargeView(c.id, c.code, c.description, c.basis, rating.BASIS_LABELS.get(c.basis, c.basis),
                          c.size_type, c.min_quantity, c.rate, c.minimum_charge, c.percent_of, c.service)
