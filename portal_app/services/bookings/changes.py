"""The customer asking to amend or cancel a booking, ops deciding, and the list of such requests."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import (
    ChangeRequest,
    Company,
    Milestone,
    OpsException,
    Shipment,
    ShipmentReference,
    User,
)
from models.enums import (
    ChangeRequestKind,
    ChangeRequestStatus,
    ExceptionKind,
    ReferenceKind,
    ShipmentStatus,
)
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import clock, exception_rules, isodates, rating
from portal_app.services.bookings.common import _audit, _notify, _text, _update
from portal_app.services.bookings.decisions import _bump, _shipment
from portal_app.services.bookings.shapes import (
    _LIMITS,
    AMENDABLE_FIELDS,
    CHANGEABLE_STATUSES,
    MAX_PAGE_SIZE,
    REASON_MIN,
    ChangeRequestView,
)
from portal_app.services.errors import Conflict, FormInvalid, NotFound, ValidationFailed
from portal_app.services.paging import Page, check_paging
from portal_app.services.references import reference_rows
from portal_app.services.sla import DEFAULT_EXCEPTION_HOURS
from portal_app.services.sla import due_at as sla_due_at


def _current(shipment: Shipment) -> dict[str, str]:
    out = {}
    for key in AMENDABLE_FIELDS:
        value = getattr(shipment, key)
        out[key] = "" if value is None else (value.isoformat() if isinstance(value, date) else str(value))
    return out


def _parse_changes(changes: dict[str, object], today: date) -> tuple[dict[str, str], dict[str, str]]:
    """Normalise requested changes to strings; returns (changes, problems)."""
    clean: dict[str, str] = {}
    p: dict[str, str] = {}
    for key, raw in changes.items():
        if key not in AMENDABLE_FIELDS:
            p[key] = f"{key!r} cannot be changed here. Changeable: {', '.join(AMENDABLE_FIELDS.values())}."
            continue
        label = AMENDABLE_FIELDS[key]
        text = " ".join(str(raw if raw is not None else "").split())
        if key == "ready_date":
            try:
                value = isodates.parse_date(text)
            except ValueError as exc:
                p[key] = f"{exc}."
                continue
            if value < today:
                p[key] = f"The new ready date must be today ({today.isoformat()}) or later."
                continue
            clean[key] = value.isoformat()
        elif key == "packages":
            if not text.isdigit() or not 1 <= int(text) <= 100000:
                p[key] = f"{label}: enter a whole number of at least 1."
                continue
            clean[key] = str(int(text))
        elif key in ("gross_weight_kg", "volume_cbm"):
            try:
                value_d = Decimal(text)
            except InvalidOperation:
                p[key] = f"{label}: {text[:20]!r} is not a number."
                continue
            if not Decimal(0) < value_d < Decimal("1e9"):
                p[key] = f"{label} must be more than 0."
                continue
            clean[key] = str(value_d.quantize(rating.KG_QUANTUM))
        else:
            if key in ("shipper_name", "consignee_name", "cargo_description") and not text:
                p[key] = f"{label} cannot be empty."
                continue
            if len(text) > _LIMITS[key]:
                p[key] = f"{label}: at most {_LIMITS[key]} characters."
                continue
            clean[key] = text
    return clean, p


def _cr_view(cr: ChangeRequest, shipment_ref: str, company: str, requester: str | None,
             decider: str | None) -> ChangeRequestView:
    try:
        payload = json.loads(cr.changes or "{}")
    except ValueError:
        payload = {}
    assert cr.id is not None  # a stored row
    return ChangeRequestView(
        id=cr.id, shipment_reference=shipment_ref, company_name=company, kind=cr.kind, status=cr.status,
        changes=dict(payload.get("to", payload if "to" not in payload and "from" not in payload else {})),
        current=dict(payload.get("from", {})), reason=cr.reason, decision_reason=cr.decision_reason,
        requested_by=requester, decided_by=decider, created_at=cr.created_at, decided_at=cr.decided_at,
        version=cr.version,
    )


def _open_change_exception(db: Session, shipment: Shipment, cr: ChangeRequest, now: datetime) -> None:
    kind = ExceptionKind.CHANGE_REQUESTED.value
    cause = f"cr:{cr.id}"
    what = "cancel the booking" if cr.kind == ChangeRequestKind.CANCEL else "amend the booking"
    db.add(OpsException(
        shipment_id=shipment.id, company_id=shipment.company_id, kind=kind, cause_key=cause, severity="medium",
        status="open", title=f"Customer asks to {what} {shipment.reference}",
        detail=f"Change request #{cr.id} waits for a decision.", owner_id=shipment.owner_id,
        team_id=shipment.team_id,
        sla_due_at=sla_due_at(db, "exception", kind, "medium", now, default=DEFAULT_EXCEPTION_HOURS),
        created_by_rule=True, open_key=f"{shipment.id}|{kind}|{cause}", created_at=now, updated_at=now,
    ))


def request_change(
    db: Session, principal: Principal, reference: str, changes: dict[str, object], reason: str | None = None
) -> ChangeRequestView:
    """The customer asks to amend a booking (ready date, cargo, parties). Nothing changes until ops approves."""
    return _request(db, principal, reference, ChangeRequestKind.AMEND, changes, reason)


def request_cancellation(db: Session, principal: Principal, reference: str, reason: str) -> ChangeRequestView:
    """The customer asks to cancel a booking. It stays booked until ops approves."""
    return _request(db, principal, reference, ChangeRequestKind.CANCEL, {}, reason)


def _request(db: Session, principal: Principal, reference: str, kind: ChangeRequestKind,
             changes: dict[str, object], reason: str | None) -> ChangeRequestView:
    principal.require(Permission.BOOK)
    shipment = _shipment(db, principal, reference)
    if shipment.status not in CHANGEABLE_STATUSES:
        raise Conflict(f"Shipment {shipment.reference} is {shipment.status.replace('_', ' ')}; it can be changed or "
                       "cancelled only before it departs. Raise a request to talk to our team. Nothing was sent.")
    pending = db.exec(select(ChangeRequest.id).where(ChangeRequest.shipment_id == shipment.id,
                                                     ChangeRequest.status == ChangeRequestStatus.PENDING.value)).first()
    if pending is not None:
        raise Conflict(f"Change request #{pending} on {shipment.reference} is still waiting for our decision. Wait "
                       "for it, then ask again. Nothing was sent.")
    why = _text(reason, 400)
    if kind == ChangeRequestKind.CANCEL:
        if not why or len(why) < REASON_MIN:
            raise ValidationFailed("Tell us why you want to cancel (a few words). Nothing was sent.")
        clean: dict[str, str] = {}
    else:
        clean, problems = _parse_changes(changes or {}, clock.today())
        current = _current(shipment)
        clean = {k: v for k, v in clean.items() if current.get(k) != v}
        if problems:
            first = next(iter(problems.values()))
            raise FormInvalid(f"{first} Nothing was sent.", problems)
        if not clean:
            raise ValidationFailed("Change at least one value; what you sent matches the booking. Nothing was sent.")
    now = clock.now()
    current = _current(shipment)
    assert shipment.id is not None  # a stored row
    cr = ChangeRequest(
        shipment_id=shipment.id, company_id=shipment.company_id, kind=kind.value,
        status=ChangeRequestStatus.PENDING.value,
        changes=json.dumps({"to": clean, "from": {k: current[k] for k in clean}}), reason=why,
        requested_by_id=principal.user_id, created_at=now,
    )
    db.add(cr)
    db.flush()
    _open_change_exception(db, shipment, cr, now)
    what = ("cancellation" if kind == ChangeRequestKind.CANCEL
            else "change of " + ", ".join(AMENDABLE_FIELDS[k].lower() for k in clean))
    _update(db, shipment, principal.user_id, f"{what[0].upper()}{what[1:]} requested (#{cr.id}). The booking stays "
            "as it is until our team approves.")
    _audit(db, principal, f"{kind.value}_requested", "change_request", str(cr.id), shipment.company_id, None,
           {"shipment": shipment.reference, "changes": clean, "reason": why})
    db.commit()
    user = db.get(User, principal.user_id)
    return _cr_view(cr, shipment.reference, principal.company_name, user.full_name if user else None, None)


def _apply_change(shipment: Shipment, changes: dict[str, str]) -> dict[str, object]:
    values: dict[str, object] = {}
    for key, text in changes.items():
        if key == "ready_date":
            values[key] = date.fromisoformat(text)
        elif key == "packages":
            values[key] = int(text)
        elif key in ("gross_weight_kg", "volume_cbm"):
            values[key] = Decimal(text)
        else:
            values[key] = text
    new_ready = values.get("ready_date")
    if isinstance(new_ready, date) and shipment.ready_date:
        shift = timedelta(days=(new_ready - shipment.ready_date).days)
        for name in ("etd_planned", "eta_planned"):
            if getattr(shipment, name) is not None:
                values[name] = getattr(shipment, name) + shift
    return values


def decide_change(
    db: Session, principal: Principal, change_id: int, approve: bool, reason: str,
    *, expected_version: int | None = None,
) -> ChangeRequestView:
    """Ops approves (the shipment changes now) or rejects (nothing changes) a change request, with a reason the
    customer reads. Every step is in the audit log and the shipment's customer-visible updates."""
    principal.require(Permission.MANAGE_BOOKINGS)
    why = _text(reason, 400)
    if not why or len(why) < REASON_MIN:
        raise ValidationFailed("Write the reason the customer will read (a few words). Nothing was changed.")
    found = db.exec(select(ChangeRequest, Shipment)
                    .join(Shipment, col(Shipment.id) == col(ChangeRequest.shipment_id))
                    .where(col(ChangeRequest.id) == int(change_id),
                           company_filter(col(ChangeRequest.company_id), principal))
                    ).first()
    if found is None:
        raise NotFound(f"No change request #{change_id} was found. Check the number and try again.")
    cr, shipment = found
    assert shipment.id is not None  # a stored row
    if cr.status != ChangeRequestStatus.PENDING:
        raise Conflict(f"Change request #{cr.id} was already {cr.status}. Nothing was changed.")
    if expected_version is not None and cr.version != expected_version:
        raise Conflict(f"Change request #{cr.id} changed since you opened it. Reload it. Nothing was changed.")
    now = clock.now()
    payload = json.loads(cr.changes or "{}")
    requested = payload.get("to", {})
    before = _current(shipment)
    if approve:
        if shipment.status not in CHANGEABLE_STATUSES:
            raise Conflict(f"Shipment {shipment.reference} is {shipment.status} now and can no longer be changed. "
                           "Reject the request with an explanation instead. Nothing was changed.")
        if cr.kind == ChangeRequestKind.CANCEL:
            values: dict[str, object] = {"status": ShipmentStatus.CANCELLED.value}
        else:
            values = _apply_change(shipment, requested)
        old_ready = shipment.ready_date
        _bump(db, shipment, None, now, **values)
        if "ready_date" in requested and old_ready and shipment.ready_date:
            shift = timedelta(days=(shipment.ready_date - old_ready).days)
            for m in db.exec(select(Milestone).where(Milestone.shipment_id == shipment.id,
                                                     col(Milestone.actual_at).is_(None))).all():
                if m.planned_at is not None:
                    m.planned_at += shift
                    m.updated_at = now
                    m.version += 1
                    db.add(m)
        if requested.get("customer_po"):
            db.exec(sa.delete(ShipmentReference).where(col(ShipmentReference.shipment_id) == shipment.id,
                                                       col(ShipmentReference.kind) == ReferenceKind.CUSTOMER_PO.value))
            db.add_all(reference_rows(shipment.id, shipment.company_id, ReferenceKind.CUSTOMER_PO.value,
                                      requested["customer_po"]))
    changed = db.exec(
        sa.update(ChangeRequest)
        .where(col(ChangeRequest.id) == cr.id, col(ChangeRequest.status) == ChangeRequestStatus.PENDING)
        .values(status=(ChangeRequestStatus.APPROVED if approve else ChangeRequestStatus.REJECTED).value,
                decision_reason=why, decided_by_id=principal.user_id, decided_at=now,
                version=ChangeRequest.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.rollback()
        raise Conflict(f"Change request #{cr.id} was decided by someone else a moment ago. Nothing was changed.")
    db.exec(
        sa.update(OpsException)
        .where(col(OpsException.open_key) == f"{shipment.id}|{ExceptionKind.CHANGE_REQUESTED.value}|cr:{cr.id}")
        .values(status="resolved", open_key=None, resolved_at=now, resolved_by_id=principal.user_id,
                resolution_note=f"{'Approved' if approve else 'Rejected'}: {why}", updated_at=now,
                version=OpsException.version + 1)
        .execution_options(synchronize_session=False)
    )
    what = "Cancellation" if cr.kind == ChangeRequestKind.CANCEL else "Change"
    verdict = "approved" if approve else "rejected"
    body = f"{what} request #{cr.id} {verdict}: {why}"
    _update(db, shipment, principal.user_id, body)
    _notify(db, cr.requested_by_id, f"change_{verdict}", f"{what} of {shipment.reference} {verdict}", body,
            f"/portal/shipments/{shipment.reference}", f"change_request:{cr.id}")
    _audit(db, principal, f"change_{verdict}", "change_request", str(cr.id), shipment.company_id,
           {"status": "pending", "shipment": before if approve else None},
           {"status": verdict, "reason": why, "shipment": _current(shipment) if approve else None,
            "shipment_status": shipment.status})
    db.commit()
    # New dates or a cancellation change which documents are due and whether the shipment is still active.
    exception_rules.evaluate_quietly(db, shipment.id, now)
    db.refresh(cr)
    company = db.get(Company, shipment.company_id)
    requester = db.get(User, cr.requested_by_id)
    return _cr_view(cr, shipment.reference, company.name if company else "", requester.full_name if requester else None,
                    principal.full_name)


def list_change_requests(
    db: Session, principal: Principal, *, shipment_reference: str | None = None, status: str | None = None,
    page: int = 1, page_size: int = 25,
) -> Page[ChangeRequestView]:
    """Change requests the principal may see, newest first (pending first for ops' queue use status=pending)."""
    principal.require(Permission.VIEW_SHIPMENTS)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    clauses: list[sa.ColumnElement[bool]] = [company_filter(col(ChangeRequest.company_id), principal)]
    if shipment_reference:
        clauses.append(col(ChangeRequest.shipment_id) == _shipment(db, principal, shipment_reference).id)
    if status and status != "all":
        if status not in ChangeRequestStatus._value2member_map_:
            raise ValidationFailed(f"Unknown status {status!r}. Use pending, approved or rejected.")
        clauses.append(col(ChangeRequest.status) == status)
    total = db.exec(select(sa.func.count()).select_from(ChangeRequest).where(*clauses)).one()
    requester = aliased(User)
    decider = aliased(User)
    rows = db.execute(
        sa.select(ChangeRequest, col(Shipment.reference), col(Company.name), col(requester.full_name),
                  col(decider.full_name))
        .join(Shipment, col(Shipment.id) == col(ChangeRequest.shipment_id))
        .join(Company, col(Company.id) == col(ChangeRequest.company_id))
        .outerjoin(requester, col(requester.id) == col(ChangeRequest.requested_by_id))
        .outerjoin(decider, col(decider.id) == col(ChangeRequest.decided_by_id))
        .where(*clauses)
        .order_by(col(ChangeRequest.created_at).desc(), col(ChangeRequest.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return Page(rows=[_cr_view(*r) for r in rows], total=int(total), page=page, page_size=page_size)
