"""ETA changes with a reason code: the ETA history, the customer's timeline and the followers' notifications."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from models import (
    EtaChange,
    Location,
    Milestone,
    Shipment,
    ShipmentUpdate,
)
from models.base import row_values
from models.enums import Visibility
from portal_app.auth.principal import Principal
from portal_app.services import display, notifications, webhooks
from portal_app.services.errors import ValidationFailed
from portal_app.services.shipment_activity import REASON_LABELS
from portal_app.services.workspace import timeline
from portal_app.services.workspace.common import (
    ARRIVAL_STEPS,
    NOTHING_SAVED,
    EditResult,
    Planned,
    _aware,
    _edit,
    _text,
    delay_minutes,
    load_shipment,
)
from portal_app.services.workspace.milestones import shipment_steps

# The fixed list of reasons for an ETA change (code -> label the customer reads).
ETA_REASONS: dict[str, str] = REASON_LABELS
ENGLISH = display.Reader()  # stored texts are written in English; times in the place's zone


def eta_reasons() -> list[tuple[str, str]]:
    return list(ETA_REASONS.items())


def _notify_followers(db: Session, shipment: Shipment, change_id: int, at: datetime, shift_hours: float | None,
                      text: str) -> int:
    """Tell the shipment's followers who want ETA changes of this size (their preferences decide, per channel)."""
    done = notifications.notify(db, "eta_changed", [], f"New ETA for {shipment.reference}", text,
                                f"/portal/shipments/{shipment.reference}", f"eta_change:{change_id}",
                                shipment_id=shipment.id, company_id=shipment.company_id,
                                eta_shift_hours=shift_hours, at=at)
    webhooks.record(db, "eta_changed", company_id=shipment.company_id, record_id=change_id, at=at)
    return len(done.recipients)



def plan_eta(db: Session, principal: Principal, shipment: Shipment, now: datetime, new_eta: object,
              reason_code: str, reason_text: str | None, *, source: str = "ops",
              steps: list[Milestone] | None = None) -> Planned:
    """``steps``: as for :func:`~portal_app.services.workspace.milestones.plan_milestone`."""
    eta = _aware("New ETA", new_eta)
    if eta is None:
        raise ValidationFailed(f"Give the new estimated arrival. {NOTHING_SAVED}")
    code = (reason_code or "").strip().upper()
    if code not in ETA_REASONS:
        # In words for the pages (a code list once read "Unknown reason ''. Use one of: PORT_CONGESTION, ...");
        # the codes stay in the API's description of the field.
        raise ValidationFailed(
            f"Choose why the ETA changes: {', '.join(ETA_REASONS.values())}. {NOTHING_SAVED}",
            fields={"reason_code": "Choose one of the offered reasons."})
    if shipment.ata is not None:
        raise ValidationFailed(f"Shipment {shipment.reference} has already arrived "
                               f"({display.utc(shipment.ata)}); correct the arrival milestone instead. "
                               f"{NOTHING_SAVED}")
    if abs(eta - now) > timedelta(days=730):
        raise ValidationFailed(f"{eta:%Y-%m-%d} is more than two years away. Check the year. {NOTHING_SAVED}")
    previous = shipment.eta_estimated or shipment.eta_planned
    if previous is not None and previous == eta:
        raise ValidationFailed(f"The ETA of {shipment.reference} is already {display.utc(eta)}. "
                               f"{NOTHING_SAVED}")
    note = _text(reason_text, 400) or None
    label = ETA_REASONS[code]
    shift = round((eta - previous).total_seconds() / 3600, 1) if previous else None
    steps = steps if steps is not None else shipment_steps(db, shipment)
    step = next((m for m in steps if m.code in ARRIVAL_STEPS), None)
    moves: list[timeline.Moved] = []
    if step is not None:
        timeline.check_not_before_earlier(steps, step, eta, "new_eta")
        moves = timeline.plan_following(steps, step, eta)

    def write_rows() -> None:
        assert shipment.id is not None  # a stored row
        # written at once for its id (the notices name it), alone: a flush would write everything else pending
        table = EtaChange.__table__  # type: ignore[attr-defined]
        change_id = db.connection().execute(sa.insert(table).values(row_values(
            EtaChange, shipment_id=shipment.id, previous_eta=previous, new_eta=eta, reason_code=code,
            reason_text=note, changed_by_id=principal.user_id, source=source, created_at=now))
            .returning(table.c.id)).scalar_one()
        if step is not None:
            step.estimated_at = eta
            step.updated_at = now
            step.version += 1
            db.add(step)
            db.add_all(timeline.apply_moves(steps, moves, now))
        # An arrival happens at the destination: written in its zone with the zone's name, as the ETA table and the
        # timeline show it (services/display.py), so the update and the table read the same.
        destination = db.get(Location, shipment.destination_id) if shipment.destination_id else None
        place = destination.timezone if destination else None  # read once per place in a transaction
        was = f" (was {display.at_place(previous, place, ENGLISH)})" if previous else ""
        text = (f"New estimated arrival: {display.at_place(eta, place, ENGLISH)}{was}. Reason: {label}."
                + (f" {note}" if note else ""))
        db.add(ShipmentUpdate(shipment_id=shipment.id, company_id=shipment.company_id,
                              visibility=Visibility.CUSTOMER.value, body=text, author_id=principal.user_id,
                              created_at=now))
        _notify_followers(db, shipment, change_id, now, shift, text)

    values = {"eta_estimated": eta, "delay_minutes": delay_minutes(shipment.eta_planned, eta)}
    before: dict[str, object] = {"eta_estimated": shipment.eta_estimated}
    after: dict[str, object] = {"eta_estimated": eta, "reason_code": code, "reason_text": note}
    for move in moves:  # the steps that follow arrival move with it (services/workspace/timeline.py)
        before[f"{move.code}.estimated_at"], after[f"{move.code}.estimated_at"] = move.before, move.after
    return Planned("eta_changed", values, before, after, result=shift, after_lock=write_rows)


def change_eta(db: Session, principal: Principal, reference: str, new_eta: object, reason_code: str,
               reason_text: str | None = None, *, expected_version: int) -> EditResult:
    """A new estimated arrival with a reason code: the ETA history, the customer's timeline and a notification
    to each follower who wants it."""
    your_input = {"new_eta": new_eta, "reason_code": reason_code, "reason_text": reason_text}
    _edit(db, principal, reference, expected_version, your_input,
          lambda s, now: plan_eta(db, principal, s, now, new_eta, reason_code, reason_text))
    shipment = load_shipment(db, principal, reference)
    return EditResult(shipment.reference, shipment.version,
                      f"ETA changed to {display.utc(shipment.eta_estimated)}; the customer sees it.")
