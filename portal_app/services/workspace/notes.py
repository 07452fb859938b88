"""Internal notes (staff only) and customer-visible updates on a shipment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from models import (
    Shipment,
    ShipmentUpdate,
)
from models.enums import Visibility
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import audit, clock, notifications
from portal_app.services.errors import ValidationFailed
from portal_app.services.workspace.common import (
    NOTHING_SAVED,
    _require_staff,
    load_shipment,
)

NOTE_MAX = 2000


@dataclass(frozen=True)
class NoteResult:
    reference: str
    visibility: str
    message: str


def add_update(db: Session, principal: Principal, shipment: Shipment, body: str, visibility: str,
                now: datetime) -> ShipmentUpdate:
    text = (body or "").strip()
    if visibility not in Visibility._value2member_map_:
        raise ValidationFailed(f"Visibility must be 'internal' (staff only) or 'customer' (the customer reads it). "
                               f"{NOTHING_SAVED}")
    if len(text) < 2:
        raise ValidationFailed(f"Write the text of the note or update. {NOTHING_SAVED}")
    if len(text) > NOTE_MAX:
        raise ValidationFailed(f"The text is {len(text)} characters; the limit is {NOTE_MAX}. Shorten it. "
                               f"{NOTHING_SAVED}")
    assert shipment.id is not None  # a stored row
    update = ShipmentUpdate(shipment_id=shipment.id, company_id=shipment.company_id, visibility=visibility,
                            body=text, author_id=principal.user_id, created_at=now)
    db.add(update)
    if visibility == Visibility.CUSTOMER:
        db.flush()
        notifications.notify(db, "shipment_update", [], f"Update on {shipment.reference}", text[:500],
                             f"/portal/shipments/{shipment.reference}", f"shipment_update:{update.id}",
                             shipment_id=shipment.id, company_id=shipment.company_id, skip=principal.user_id, at=now)
    audit.record(db, principal, "internal_note" if visibility == Visibility.INTERNAL else "customer_update",
                 "shipment", shipment.reference, shipment.company_id, None,
                 {"visibility": visibility, "body": text[:200]}, at=now)
    return update


def add_note(db: Session, principal: Principal, reference: str, body: str, *,
             visibility: str = Visibility.INTERNAL.value) -> NoteResult:
    """An internal note (staff only, never shown to the customer) or a customer-visible update.

    Notes are appended, never edited, so they do not take the shipment's version: two people writing at once
    both keep their text.
    """
    _require_staff(principal, Permission.EDIT_SHIPMENTS)
    shipment = load_shipment(db, principal, reference)
    add_update(db, principal, shipment, body, visibility, clock.now())
    db.commit()
    who = "Only staff see it." if visibility == Visibility.INTERNAL else "The customer sees it on the shipment."
    return NoteResult(shipment.reference, visibility, f"Saved. {who}")
