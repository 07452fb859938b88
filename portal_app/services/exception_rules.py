"""The exception rule engine: finds what is wrong with shipments now, opens one exception per cause and resolves
it by itself when the cause clears.

Each kind is a small function that, given its ``ExceptionRule`` row (thresholds and severity admins edit), returns
the causes present now: ``(shipment, kind, cause_key)`` plus a title and detail. The same functions serve both
entry points:

- ``evaluate_shipment(db, shipment_id, now)``: the rules for one changed shipment (a handful of indexed queries);
- ``evaluate_shipments(db, shipment_ids, now)``: the same for many changed shipments at once (a batch of carrier
  events): the set-based queries of the full pass, limited to those shipments, 500 at a time;
- ``evaluate_all(db, now)``: a full pass over the active shipments, set-based (one query per rule, one per
  required document), then one batched insert and one batched update.

De-duplication: an open exception carries ``open_key = "<shipment>|<kind>|<cause>"`` under a unique constraint;
opening is ``INSERT ... ON CONFLICT DO NOTHING``, so two evaluations racing over the same shipment make one
exception. Kinds with one cause per shipment (ETA slip, stale tracking, holds) match any open exception of that
kind on the shipment, whatever its cause key, so an exception raised by hand for the same problem is not doubled.
Only exceptions the engine opened (``created_by_rule``) are resolved by it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from models import (
    AuditLog,
    ChangeRequest,
    Document,
    DocumentRequirement,
    ExceptionRule,
    Invoice,
    Milestone,
    OpsException,
    Shipment,
)
from models.enums import (
    OPEN_INVOICE_STATUSES,
    ChangeRequestStatus,
    DocumentStatus,
    ExceptionKind,
    ExceptionStatus,
    ShipmentStatus,
)
from portal_app.services import clock, exception_tasks, notifications, words
from portal_app.services import sla as sla_policy

log = logging.getLogger(__name__)

K = ExceptionKind
SUBJECT = "exception"
# Kinds the engine evaluates (``other`` is only raised by hand).
RULE_KINDS = (K.ETA_SLIP, K.DOCUMENT_MISSING, K.NO_TRACKING_UPDATE, K.CUSTOMS_HOLD, K.CARRIER_HOLD,
              K.CHANGE_REQUESTED, K.INVOICE_OVERDUE)
# One cause per shipment: any open exception of the kind on the shipment stands for it.
SINGLE_CAUSE_KINDS = frozenset({K.ETA_SLIP.value, K.NO_TRACKING_UPDATE.value, K.CUSTOMS_HOLD.value,
                                K.CARRIER_HOLD.value})
SINGLE_CAUSE_KEYS = {K.ETA_SLIP.value: "eta", K.NO_TRACKING_UPDATE.value: "stale", K.CUSTOMS_HOLD.value: "customs",
                     K.CARRIER_HOLD.value: "freight_release"}
OPEN_STATUSES = (ExceptionStatus.OPEN.value, ExceptionStatus.IN_PROGRESS.value)
BEFORE_ARRIVAL = (ShipmentStatus.BOOKED.value, ShipmentStatus.CONFIRMED.value, ShipmentStatus.IN_TRANSIT.value)
AFTER_ARRIVAL = (ShipmentStatus.IN_TRANSIT.value, ShipmentStatus.ARRIVED.value)
PROVIDED = (DocumentStatus.RECEIVED.value, DocumentStatus.APPROVED.value)
OCEAN_MODES = ("ocean_fcl", "ocean_lcl")
# Defaults when an admin left a threshold empty.
DEFAULT_ETA_SLIP_HOURS = 24
DEFAULT_STALE_HOURS = 72
DEFAULT_CUSTOMS_HOURS = 48
DEFAULT_DOCUMENT_GRACE_DAYS = 0
DEFAULT_OVERDUE_DAYS = 14
CHUNK = 500

RESOLVED_NOTES = {
    K.ETA_SLIP.value: "Cleared automatically: the ETA is back within the threshold or the shipment has arrived.",
    K.DOCUMENT_MISSING.value: "Cleared automatically: the document was received or is no longer required.",
    K.NO_TRACKING_UPDATE.value: "Cleared automatically: tracking updates arrive again or the shipment has arrived.",
    K.CUSTOMS_HOLD.value: "Cleared automatically: customs released the cargo.",
    K.CARRIER_HOLD.value: "Cleared automatically: the carrier released the cargo.",
    K.CHANGE_REQUESTED.value: "Cleared automatically: the change request was decided.",
    K.INVOICE_OVERDUE.value: "Cleared automatically: the invoice was paid, credited or voided.",
}


@dataclass(frozen=True)
class Rule:
    kind: str
    severity: str
    threshold_hours: int | None
    threshold_days: int | None


@dataclass(frozen=True)
class Cause:
    shipment_id: int
    company_id: int
    owner_id: int | None
    team_id: int | None
    kind: str
    cause_key: str
    title: str
    detail: str

    @property
    def match(self) -> tuple:
        return _match_key(self.shipment_id, self.kind, self.cause_key)


@dataclass(frozen=True)
class PassResult:
    """What one evaluation did: exceptions opened, resolved automatically, and causes still present."""

    opened: int
    resolved: int
    present: int
    seconds: float


def _match_key(shipment_id: int | None, kind: str, cause_key: str) -> tuple:
    return (shipment_id, kind) if kind in SINGLE_CAUSE_KINDS else (shipment_id, kind, cause_key)


def open_key(shipment_id: int | None, kind: str, cause_key: str) -> str:
    return f"{shipment_id}|{kind}|{cause_key}"[:200]


def active_rules(db: Session) -> dict[str, Rule]:
    rows = db.exec(select(ExceptionRule).where(col(ExceptionRule.is_active).is_(True))).all()
    known = {k.value for k in RULE_KINDS}
    return {r.kind: Rule(r.kind, r.severity, r.threshold_hours, r.threshold_days) for r in rows if r.kind in known}


# --------------------------------------------------------------------------------------------- the rules

_SHIP = (col(Shipment.id), col(Shipment.reference), col(Shipment.company_id), col(Shipment.owner_id),
         col(Shipment.team_id))


def _cause(row, kind: str, cause_key: str, title: str, detail: str) -> Cause:  # noqa: ANN001 - a result row
    return Cause(row.id, row.company_id, row.owner_id, row.team_id, kind, cause_key[:120], title[:200], detail)


Scope = int | tuple[int, ...] | None  # one shipment, a set of shipments, or all of them


def _scoped(scope: Scope, column: Mapped[Any]) -> list[sa.ColumnElement[bool]]:
    if scope is None:
        return []
    return [column.in_(scope)] if isinstance(scope, tuple) else [column == scope]


def _fmt(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "never"


def _hours_text(minutes: int) -> str:
    hours = minutes // 60
    return words.count(hours // 24, "day") if hours >= 48 else words.count(hours, "hour")


def eta_slip(db: Session, rule: Rule, now: datetime, shipment_id: Scope) -> list[Cause]:
    """Not yet arrived and the latest estimate is more than ``threshold_hours`` after the planned arrival."""
    hours = rule.threshold_hours if rule.threshold_hours is not None else DEFAULT_ETA_SLIP_HOURS
    rows = db.execute(sa.select(*_SHIP, col(Shipment.delay_minutes), col(Shipment.eta_planned),
                                col(Shipment.eta_estimated)).where(
        col(Shipment.status).in_(BEFORE_ARRIVAL), col(Shipment.ata).is_(None), col(Shipment.delay_minutes) > hours * 60,
        *_scoped(shipment_id, col(Shipment.id)))).all()
    return [_cause(r, rule.kind, "eta", f"ETA of {r.reference} moved by {_hours_text(r.delay_minutes)}",
                   f"New ETA {_fmt(r.eta_estimated)} (planned {_fmt(r.eta_planned)}); the threshold is "
                   f"{words.count(hours, 'hour')}.") for r in rows]


def document_missing(db: Session, rule: Rule, now: datetime, shipment_id: Scope) -> list[Cause]:
    """A document the customer must provide (the checklist for the shipment's mode, Incoterm and dangerous goods)
    is not received ``due_days_before_departure`` days before departure, plus ``threshold_days`` of grace."""
    grace = rule.threshold_days if rule.threshold_days is not None else DEFAULT_DOCUMENT_GRACE_DAYS
    reqs = db.exec(select(DocumentRequirement).where(col(DocumentRequirement.is_active).is_(True),
                                                     DocumentRequirement.provided_by == "customer")).all()
    if shipment_id is not None:
        return _documents_of(db, rule, reqs, grace, now, (shipment_id,) if isinstance(shipment_id, int)
                             else shipment_id)
    etd = sa.func.coalesce(Shipment.etd_estimated, Shipment.etd_planned)
    out: list[Cause] = []
    for req in reqs:
        provided = sa.exists().where(col(Document.shipment_id) == Shipment.id, col(Document.doc_type) == req.doc_type,
                                     col(Document.status).in_(PROVIDED))
        clauses = [col(Shipment.status).in_(BEFORE_ARRIVAL), col(Shipment.mode) == req.mode,
                   col(Shipment.atd).is_(None),
                   etd <= now + timedelta(days=req.due_days_before_departure - grace), ~provided,
                   *_scoped(shipment_id, col(Shipment.id))]
        if req.incoterm is not None:
            clauses.append(col(Shipment.incoterm) == req.incoterm)
        if req.dangerous_goods_only:
            clauses.append(col(Shipment.is_dangerous_goods).is_(True))
        out += [_document_cause(r, rule, req, r.etd) for r in db.execute(sa.select(*_SHIP, etd.label("etd"))
                                                                         .where(*clauses)).all()]
    return out


def _documents_of(db: Session, rule: Rule, reqs: Sequence[DocumentRequirement], grace: int, now: datetime,
                  shipment_ids: Sequence[int]) -> list[Cause]:
    """The same test for given shipments: their rows and received document types (a query each per 500), then the
    checklist in memory, instead of a query per checklist line (a carrier's batch re-evaluates a thousand)."""
    out: list[Cause] = []
    etd = sa.func.coalesce(Shipment.etd_estimated, Shipment.etd_planned).label("etd")
    ids = sorted(set(shipment_ids))
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        rows = db.execute(sa.select(*_SHIP, col(Shipment.mode), col(Shipment.incoterm),
                                    col(Shipment.is_dangerous_goods), col(Shipment.status), col(Shipment.atd), etd)
                          .where(col(Shipment.id).in_(chunk))).all()
        rows = [s for s in rows if s.status in BEFORE_ARRIVAL and s.atd is None and s.etd is not None]
        have: dict[int, set[str]] = {}
        for sid, doc_type in db.execute(sa.select(col(Document.shipment_id), col(Document.doc_type)).where(
                col(Document.shipment_id).in_([s.id for s in rows]), col(Document.status).in_(PROVIDED))).all():
            have.setdefault(sid, set()).add(doc_type)
        out += [_document_cause(s, rule, r, s.etd) for s in rows for r in reqs
                if r.mode == s.mode and r.incoterm in (None, s.incoterm) and r.doc_type not in have.get(s.id, ())
                and (s.is_dangerous_goods or not r.dangerous_goods_only)
                and s.etd <= now + timedelta(days=r.due_days_before_departure - grace)]
    return out


def _document_cause(row, rule: Rule, req: DocumentRequirement, etd: datetime) -> Cause:  # noqa: ANN001
    due = etd - timedelta(days=req.due_days_before_departure)
    ahead = words.count(req.due_days_before_departure, "day")
    return _cause(row, rule.kind, req.doc_type, f"{req.doc_type.replace('_', ' ').capitalize()} missing for "
                  f"{row.reference}", f"Due {_fmt(due)} ({ahead} before departure on {_fmt(etd)}); not received.")


def no_tracking_update(db: Session, rule: Rule, now: datetime, shipment_id: Scope) -> list[Cause]:
    """In transit and nothing heard (tracking event, or departure when nothing came since) for ``threshold_hours``."""
    hours = rule.threshold_hours if rule.threshold_hours is not None else DEFAULT_STALE_HOURS
    last = sa.func.coalesce(Shipment.last_tracking_at, Shipment.atd)
    rows = db.execute(sa.select(*_SHIP, last.label("last")).where(
        col(Shipment.status) == ShipmentStatus.IN_TRANSIT.value, last < now - timedelta(hours=hours),
        *_scoped(shipment_id, col(Shipment.id)))).all()
    return [_cause(r, rule.kind, "stale", f"No tracking update for {r.reference} since {_fmt(r.last)}",
                   f"Nothing received for more than {words.count(hours, 'hour')}.") for r in rows]


def _customs_open() -> sa.ColumnElement[bool]:
    return sa.exists().where(col(Milestone.shipment_id) == Shipment.id, col(Milestone.code).like("%customs%"),
                             col(Milestone.actual_at).is_(None))


def customs_hold(db: Session, rule: Rule, now: datetime, shipment_id: Scope) -> list[Cause]:
    """Arrived more than ``threshold_hours`` ago and the customs milestone has no actual time yet."""
    hours = rule.threshold_hours if rule.threshold_hours is not None else DEFAULT_CUSTOMS_HOURS
    rows = db.execute(sa.select(*_SHIP, col(Shipment.ata)).where(
        col(Shipment.status).in_(AFTER_ARRIVAL), col(Shipment.ata) < now - timedelta(hours=hours),
        col(Shipment.delivered_at).is_(None), _customs_open(), *_scoped(shipment_id, col(Shipment.id)))).all()
    return [_cause(r, rule.kind, "customs", f"Customs hold on {r.reference}",
                   f"Arrived {_fmt(r.ata)}; customs has not released the cargo after {words.count(hours, 'hour')}.")
            for r in rows]


def carrier_hold(db: Session, rule: Rule, now: datetime, shipment_id: Scope) -> list[Cause]:
    """Ocean cargo cleared by customs but not delivered ``threshold_hours`` after arrival: the carrier has not
    released it. Off until an admin sets the threshold (the shipped rule raises carrier holds by hand)."""
    if rule.threshold_hours is None:
        return []
    rows = db.execute(sa.select(*_SHIP, col(Shipment.ata)).where(
        col(Shipment.status) == ShipmentStatus.ARRIVED.value, col(Shipment.mode).in_(OCEAN_MODES),
        col(Shipment.ata) < now - timedelta(hours=rule.threshold_hours), col(Shipment.delivered_at).is_(None),
        ~_customs_open(), *_scoped(shipment_id, col(Shipment.id)))).all()
    return [_cause(r, rule.kind, "freight_release", f"Carrier hold on {r.reference}",
                   f"Arrived {_fmt(r.ata)} and cleared, but not released for delivery after "
                   f"{words.count(rule.threshold_hours or 0, 'hour')}.") for r in rows]


def change_requested(db: Session, rule: Rule, now: datetime, shipment_id: Scope) -> list[Cause]:
    """A customer's amend or cancel request waits for a decision."""
    rows = db.execute(sa.select(*_SHIP, col(ChangeRequest.id).label("cr_id"), col(ChangeRequest.kind).label("cr_kind"))
                      .join(ChangeRequest, col(ChangeRequest.shipment_id) == Shipment.id)
                      .where(col(ChangeRequest.status) == ChangeRequestStatus.PENDING.value,
                             *_scoped(shipment_id, col(ChangeRequest.shipment_id)))).all()
    return [_cause(r, rule.kind, f"cr:{r.cr_id}",
                   f"Customer asks to {'cancel' if r.cr_kind == 'cancel' else 'amend'} the booking {r.reference}",
                   f"Change request #{r.cr_id} waits for a decision.") for r in rows]


def invoice_overdue(db: Session, rule: Rule, now: datetime, shipment_id: Scope) -> list[Cause]:
    """An open invoice with a balance, more than ``threshold_days`` past its due date."""
    days = rule.threshold_days if rule.threshold_days is not None else DEFAULT_OVERDUE_DAYS
    rows = db.execute(sa.select(*_SHIP, col(Invoice.number), col(Invoice.due_date), col(Invoice.currency),
                                col(Invoice.balance))
                      .join(Invoice, col(Invoice.shipment_id) == Shipment.id)
                      .where(col(Invoice.status).in_([s.value for s in OPEN_INVOICE_STATUSES]),
                             col(Invoice.balance) > 0, col(Invoice.due_date) < now.date() - timedelta(days=days),
                             *_scoped(shipment_id, col(Invoice.shipment_id)))).all()
    return [_cause(r, rule.kind, r.number, f"Invoice {r.number} overdue",
                   f"Balance {r.currency} {r.balance}, due {r.due_date.isoformat()}.") for r in rows]


CHECKS = {
    K.ETA_SLIP.value: eta_slip,
    K.DOCUMENT_MISSING.value: document_missing,
    K.NO_TRACKING_UPDATE.value: no_tracking_update,
    K.CUSTOMS_HOLD.value: customs_hold,
    K.CARRIER_HOLD.value: carrier_hold,
    K.CHANGE_REQUESTED.value: change_requested,
    K.INVOICE_OVERDUE.value: invoice_overdue,
}


# --------------------------------------------------------------------------------------------- evaluation


def evaluate_shipment(db: Session, shipment_id: int, now: datetime | None = None, *, commit: bool = True) -> PassResult:
    """Run every active rule for one shipment: open what is wrong now, resolve what cleared.

    Call it after changing a shipment, its milestones, documents or invoices. It commits (pass ``commit=False``
    to keep it inside the caller's transaction, so the change and its exceptions are saved together).
    """
    return _evaluate(db, int(shipment_id), now or clock.now(), commit)


def evaluate_shipments(db: Session, shipment_ids: Iterable[int], now: datetime | None = None, *,
                       commit: bool = True) -> PassResult:
    """Run every active rule for a set of changed shipments, as :func:`evaluate_shipment` would for each one, but
    with the full pass's set-based queries over 500 shipments at a time (a batch of carrier events can touch a
    thousand shipments; one evaluation each cost seconds). Commits once at the end unless ``commit=False``."""
    started = time.perf_counter()
    when = now or clock.now()
    opened = resolved = present = 0
    for chunk in _chunks(sorted({int(i) for i in shipment_ids})):
        done = _evaluate(db, tuple(chunk), when, False)
        opened, resolved, present = opened + done.opened, resolved + done.resolved, present + done.present
    if commit:
        db.commit()
    return PassResult(opened, resolved, present, time.perf_counter() - started)


def evaluate_all(db: Session, now: datetime | None = None) -> PassResult:
    """A full pass: every rule over every shipment it concerns, set-based; commits once at the end."""
    return _evaluate(db, None, now or clock.now(), True)


def _evaluate(db: Session, shipment_id: Scope, now: datetime, commit: bool) -> PassResult:
    started = time.perf_counter()
    rules = active_rules(db)
    present: dict[tuple, Cause] = {}
    for kind, rule in rules.items():
        for cause in CHECKS[kind](db, rule, now, shipment_id):
            present.setdefault(cause.match, cause)
    existing = _open_exceptions(db, shipment_id)
    known = {_match_key(sid, kind, key) for _id, sid, kind, key, _by_rule in existing}
    to_open = [c for m, c in present.items() if m not in known]
    to_resolve = [(xid, kind) for xid, sid, kind, key, by_rule in existing
                  if by_rule and kind in rules and _match_key(sid, kind, key) not in present]
    opened = _open(db, to_open, rules, now) if to_open else 0
    resolved = _resolve(db, to_resolve, now) if to_resolve else 0
    if commit:
        db.commit()
    return PassResult(opened, resolved, len(present), time.perf_counter() - started)


def _open_exceptions(db: Session, shipment_id: Scope) -> list[tuple]:
    q = sa.select(col(OpsException.id), col(OpsException.shipment_id), col(OpsException.kind),
                  col(OpsException.cause_key), col(OpsException.created_by_rule)).where(
        col(OpsException.status).in_(OPEN_STATUSES), col(OpsException.kind).in_([k.value for k in RULE_KINDS]))
    q = q.where(*_scoped(shipment_id, col(OpsException.shipment_id)))
    return [tuple(r) for r in db.execute(q).all()]


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _insert(db: Session):  # noqa: ANN202 - a dialect's INSERT construct
    name = db.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(OpsException)
    if name == "sqlite":
        return sqlite.insert(OpsException)
    raise NotImplementedError(f"exception rules need SQLite or PostgreSQL, not {name}")


def _open(db: Session, causes: list[Cause], rules: dict[str, Rule], now: datetime) -> int:
    """Insert the new exceptions; a cause another evaluation opened a moment ago is skipped by the unique key."""
    policies = sla_policy.policy_table(db, SUBJECT)
    opened = 0
    for chunk in _chunks(causes):
        values = []
        for c in chunk:
            severity = rules[c.kind].severity
            hours = sla_policy.hours_in(policies, c.kind, severity, default=sla_policy.DEFAULT_EXCEPTION_HOURS)
            values.append({
                "shipment_id": c.shipment_id, "company_id": c.company_id, "kind": c.kind, "cause_key": c.cause_key,
                "severity": severity, "status": ExceptionStatus.OPEN.value, "title": c.title, "detail": c.detail,
                "owner_id": c.owner_id, "team_id": c.team_id, "sla_due_at": now + timedelta(hours=hours),
                "created_by_rule": True, "auto_resolved": False,
                "open_key": open_key(c.shipment_id, c.kind, c.cause_key),
                "created_at": now, "updated_at": now, "version": 1,
            })
        stmt = (_insert(db).values(values).on_conflict_do_nothing(index_elements=["open_key"])
                .returning(OpsException.id, OpsException.open_key))
        made = db.exec(stmt).all()
        by_key = {v["open_key"]: v for v in values}
        db.add_all([AuditLog(actor_id=None, company_id=by_key[key]["company_id"], action="exception_opened",
                             entity_type="exception", entity_id=str(xid), created_at=now,
                             after=json.dumps({"kind": by_key[key]["kind"], "cause": by_key[key]["cause_key"],
                                               "severity": by_key[key]["severity"], "by": "rule"}))
                    for xid, key in made])
        notifications.notify_many(db, [
            notifications.Event("exception_assigned", (by_key[key]["owner_id"],), by_key[key]["title"],
                                by_key[key]["detail"], f"/tower/exceptions/{xid}", f"exception:{xid}", at=now)
            for xid, key in made if by_key[key]["owner_id"] is not None])
        _tell_customers(db, [by_key[key] for _xid, key in made], now)
        opened += len(made)
    db.flush()
    return opened


def _tell_customers(db: Session, opened: list[dict], now: datetime) -> None:
    """An overdue invoice and a required document still missing before departure are also news for the
    shipment's customers (its audience: see ``notifications.audience``), once per cause."""
    news = [v for v in opened if v["kind"] in (K.INVOICE_OVERDUE.value, K.DOCUMENT_MISSING.value)]
    if not news:
        return
    ship_ids = sorted({v["shipment_id"] for v in news})
    follows = notifications.audience(db, ship_ids)
    refs = dict(db.exec(select(Shipment.id, Shipment.reference).where(col(Shipment.id).in_(ship_ids))).all())

    def event(v: dict) -> notifications.Event:
        if v["kind"] == K.INVOICE_OVERDUE.value:
            kind, link = "invoice_overdue", "/portal/invoices"
        else:
            kind, link = "document_required", f"/portal/shipments/{refs.get(v['shipment_id'], '')}"
        return notifications.Event(kind, tuple(follows.get(v["shipment_id"], ())), v["title"], v["detail"], link,
                                   f"{kind}:{v['shipment_id']}:{v['cause_key']}", company_id=v["company_id"], at=now)

    notifications.notify_many(db, [event(v) for v in news if follows.get(v["shipment_id"])])


def _resolve(db: Session, rows: list[tuple[int, str]], now: datetime) -> int:
    resolved = 0
    by_kind: dict[str, list[int]] = {}
    for xid, kind in rows:
        by_kind.setdefault(kind, []).append(xid)
    for kind, ids in by_kind.items():
        for chunk in _chunks(ids):
            done = db.exec(
                sa.update(OpsException)
                .where(col(OpsException.id).in_(chunk), col(OpsException.open_key).is_not(None))
                .values(status=ExceptionStatus.RESOLVED.value, open_key=None, resolved_at=now, auto_resolved=True,
                        resolved_by_id=None, resolution_note=RESOLVED_NOTES[kind], updated_at=now,
                        version=OpsException.version + 1)
                .returning(col(OpsException.id), col(OpsException.company_id))
                .execution_options(synchronize_session=False)
            ).all()
            db.add_all([AuditLog(actor_id=None, company_id=company_id, action="exception_auto_resolved",
                                 entity_type="exception", entity_id=str(xid), created_at=now,
                                 after=json.dumps({"status": "resolved", "note": RESOLVED_NOTES[kind]}))
                        for xid, company_id in done])
            exception_tasks.close_for_rules(db, [(xid, company_id) for xid, company_id in done], now)
            resolved += len(done)
    db.flush()
    return resolved


def evaluate_quietly(db: Session, shipment_id: int | None, now: datetime | None = None) -> None:
    """For services that just saved a change: re-evaluate, but never let a rule problem undo or fail that save."""
    if shipment_id is None:
        return
    try:
        evaluate_shipment(db, shipment_id, now)
    except Exception:
        db.rollback()
        log.warning("Re-evaluating the exception rules of shipment %s failed", shipment_id, exc_info=True)
