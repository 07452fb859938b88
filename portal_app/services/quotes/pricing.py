"""Pricing a submitted request against the matching rate cards, or sending it to ops for a manual price."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from models import (
    QuoteCargoLine,
    QuoteOption,
    QuoteOptionCharge,
    QuoteRequest,
    RateCard,
    RateCharge,
)
from models.enums import PortalEventKind, QuoteStatus
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import clock, funnel, rating
from portal_app.services.errors import Conflict, NotFound
from portal_app.services.quotes.common import _find, _lines, _services, _view, cargo_of, exchange_rates
from portal_app.services.quotes.drafts import _draft
from portal_app.services.quotes.shapes import NOTHING_SUBMITTED, OPTION_VALID_DAYS, QuoteView
from portal_app.services.quotes.validation import _form_error, _problems
from portal_app.services.sla import DEFAULT_QUOTE_HOURS
from portal_app.services.sla import due_at as sla_due_at
from portal_app.services.trade_codes import (
    SERVICES,
)


def candidate_cards(db: Session, mode: str, origin_id: int, destination_id: int, ready: date) -> list[rating.CardRules]:
    """Active cards of the lane valid on ``ready`` (one indexed query) with their charges (one more query)."""
    cards = db.exec(
        select(RateCard).where(
            RateCard.mode == mode, RateCard.origin_id == origin_id, RateCard.destination_id == destination_id,
            col(RateCard.valid_to) >= ready, col(RateCard.valid_from) <= ready, col(RateCard.is_active).is_(True),
        )
    ).all()
    if not cards:
        return []
    charges: dict[int, list[rating.ChargeRule]] = {}
    for c in db.exec(
        select(RateCharge).where(col(RateCharge.rate_card_id).in_([card.id for card in cards]))
        .order_by(col(RateCharge.id))
    ).all():
        charges.setdefault(c.rate_card_id, []).append(rating.ChargeRule(
            code=c.code, description=c.description, basis=c.basis, rate=c.rate, size_type=c.size_type,
            min_quantity=c.min_quantity, minimum_charge=c.minimum_charge, percent_of=c.percent_of, service=c.service,
        ))
    rules = []
    for card in cards:
        assert card.id is not None  # a stored row
        rules.append(rating.CardRules(card_id=card.id, mode=card.mode, currency=card.currency,
                                      valid_from=card.valid_from, valid_to=card.valid_to,
                                      transit_days=card.transit_days, charges=tuple(charges.get(card.id, ())),
                                      carrier_id=card.carrier_id, demurrage_free_days=card.demurrage_free_days,
                                      detention_free_days=card.detention_free_days))
    return rules


def price_request(
    db: Session, q: QuoteRequest, lines: Sequence[QuoteCargoLine], per_usd: Mapping[str, Decimal] | None = None
) -> list[rating.Priced]:
    """Every matching card priced for this request, cheapest first (no writes)."""
    if q.mode is None or q.origin_id is None or q.destination_id is None or q.ready_date is None:
        return []  # no lane yet: no card can match
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
    assert q.id is not None  # a stored row
    option = QuoteOption(
        quote_request_id=q.id, rate_card_id=p.card_id, carrier_id=p.carrier_id, currency=p.currency, total=p.total,
        transit_days=p.transit_days, valid_until=valid_until, status="offered", notes=_option_notes(p),
        demurrage_free_days=p.demurrage_free_days, detention_free_days=p.detention_free_days, created_at=now,
    )
    db.add(option)
    db.flush()
    assert option.id is not None  # flushed: the row has its key
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
    lines = _lines(db, q)
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
            select(RateCard).where(col(RateCard.id).in_([p.card_id for p in priced]))).all()}
        for p in priced:
            _add_option(db, q, p, _valid_until(card_end[p.card_id], now), now)
        q.status = QuoteStatus.QUOTED.value
        q.is_manual = False
        detail = f"{q.reference}: {len(priced)} options"
    else:
        q.status = QuoteStatus.REQUESTED.value
        q.is_manual = True
        q.manual_due_at = sla_due_at(db, "quote", q.mode or "*", "*", now, default=DEFAULT_QUOTE_HOURS)
        detail = f"{q.reference}: no rate matched, manual pricing"
    db.add(q)
    funnel.record(db, principal, PortalEventKind.QUOTE_SUBMITTED, detail)
    db.commit()
    return _view(db, q, lines=lines)
