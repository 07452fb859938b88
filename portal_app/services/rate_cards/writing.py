"""Writing rate cards: create, edit (with the version the editor saw) and deactivate, each audited."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import AuditLog, RateCard, RateCharge
from portal_app.auth.principal import Principal
from portal_app.services import clock
from portal_app.services.errors import Conflict, NotFound
from portal_app.services.rate_cards.checks import _check_input, _Checked, _require_manage
from portal_app.services.rate_cards.reading import get_rate_card
from portal_app.services.rate_cards.shapes import RateCardInput, RateCardView


def _snapshot(card: RateCard, charges: Sequence[dict] | None = None) -> dict:
    out = {"mode": card.mode, "origin_id": card.origin_id, "destination_id": card.destination_id,
           "carrier_id": card.carrier_id, "valid_from": card.valid_from.isoformat(),
           "valid_to": card.valid_to.isoformat(), "currency": card.currency, "transit_days": card.transit_days,
           "demurrage_free_days": card.demurrage_free_days, "detention_free_days": card.detention_free_days,
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
                    demurrage_free_days=checked.demurrage_free_days, detention_free_days=checked.detention_free_days,
                    is_active=True, created_at=now, updated_at=now)
    db.add(card)
    db.flush()
    assert card.id is not None  # flushed: the row has its key
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
    assert card.id is not None  # a stored row
    _audit(db, principal, "rate_card_created", str(card.id), None, _snapshot(card, checked.charges))
    db.commit()
    return get_rate_card(db, principal, card.id)


def update_rate_card(
    db: Session, principal: Principal, card_id: int, data: RateCardInput, *, expected_version: int | None = None
) -> RateCardView:
    """Replace a card's fields and charges. Options already offered keep the prices they were given."""
    _require_manage(principal)
    card = _card_to_change(db, card_id, expected_version)
    assert card.id is not None  # a stored row
    checked = _check_input(db, data)
    before = _snapshot(card, [
        {"code": c.code, "basis": c.basis, "size_type": c.size_type, "min_quantity": c.min_quantity, "rate": c.rate}
        for c in db.exec(select(RateCharge).where(RateCharge.rate_card_id == card.id)).all()
    ])
    now = clock.now()
    changed = db.exec(
        sa.update(RateCard).where(col(RateCard.id) == card.id, col(RateCard.version) == card.version)
        .values(mode=checked.mode, origin_id=checked.origin_id, destination_id=checked.destination_id,
                carrier_id=checked.carrier_id, valid_from=checked.valid_from, valid_to=checked.valid_to,
                currency=checked.currency, transit_days=checked.transit_days, notes=checked.notes,
                demurrage_free_days=checked.demurrage_free_days, detention_free_days=checked.detention_free_days,
                updated_at=now, version=RateCard.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.rollback()
        raise Conflict("Someone changed this rate card a moment ago. Reload it and make your change again. "
                       "Nothing was saved.")
    db.exec(sa.delete(RateCharge).where(col(RateCharge.rate_card_id) == card.id))
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
    return get_rate_card(db, principal, int(card_id))
