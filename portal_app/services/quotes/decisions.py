"""Decisions on a quote: the customer declining, ops pricing by hand, a booking being started."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    AuditLog,
    Carrier,
    PortalEvent,
    QuoteOption,
    QuoteOptionCharge,
)
from models.enums import PortalEventKind, QuoteStatus
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import clock, funnel, notifications, rating
from portal_app.services.errors import Conflict
from portal_app.services.quotes.common import _decimal, _find, _text, _view
from portal_app.services.quotes.reading import get_option
from portal_app.services.quotes.shapes import ManualOptionInput, OptionView, QuoteView
from portal_app.services.quotes.validation import _form_error
from portal_app.services.trade_codes import (
    PRICING_CURRENCIES,
)


def decline_quote(db: Session, principal: Principal, reference: str, reason: str | None = None) -> QuoteView:
    """The customer turns the prices down: open options and the request become declined."""
    principal.require(Permission.REQUEST_QUOTES)
    q = _find(db, principal, reference)
    if q.status not in (QuoteStatus.QUOTED, QuoteStatus.REQUESTED):
        raise Conflict(f"Quote {q.reference} is {q.status}; only open quotes can be declined. Nothing was changed.")
    now = clock.now()
    db.exec(sa.update(QuoteOption)
            .where(col(QuoteOption.quote_request_id) == q.id, col(QuoteOption.status) == "offered")
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
    assert q.id is not None  # a stored row
    option = QuoteOption(
        quote_request_id=q.id, rate_card_id=None, carrier_id=carrier_id, currency=currency,
        total=sum(amounts, Decimal(0)), transit_days=int(data.transit_days),
        valid_until=datetime.combine(data.valid_until, time(23, 59, 59), tzinfo=UTC), status="offered",
        notes=_text(data.notes, 400), created_at=now,
    )
    db.add(option)
    db.flush()
    assert option.id is not None  # flushed: the row has its key
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
