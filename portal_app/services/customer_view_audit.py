"""The customer-view audit: shipments where what the customer is shown disagrees with the record. Zero when the
design holds (every change goes through the services that keep both in step); the KPIs show the count anyway.

The checks walk every active shipment (about 55,000 milestone probes at 100,000 shipments, 150 ms), the same
answer whatever range the KPI page asks for, so they run with the scheduled exception-rule pass
(``maintenance.run_rule_pass``) and the result is kept in ``AppSetting`` with its time; the KPI page reads it and
runs the audit itself only when none is fresh (twice the rule interval, or the schedule is off).

* ``eta``: the ETA the customer list shows (``shipments.customer_eta``) is not the latest ETA change's new ETA
  (shipments not yet arrived that have ETA history);
* ``status_departure``: the status still says not departed while the mode's departure milestone has an actual
  time (probed from the milestone index alone);
* ``status_arrival``: the status says not arrived while the arrival milestone has an actual time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from models import AppSetting, EtaChange, Milestone, Shipment
from models.enums import ShipmentStatus
from portal_app.services import clock
from portal_app.services.shipments import customer_eta
from portal_app.services.workspace import ARRIVAL_STEP, DEPARTURE_STEP
from portal_app.settings import settings

SETTING = "customer_view_audit"
CHECKS = ("eta", "status_departure", "status_arrival")
IDS_KEPT = 500  # per check: enough to scope the count by customer and mode, and to find the shipments
BEFORE_DEPARTURE = (ShipmentStatus.BOOKED.value, ShipmentStatus.CONFIRMED.value)
BEFORE_ARRIVAL = (*BEFORE_DEPARTURE, ShipmentStatus.IN_TRANSIT.value)


@dataclass(frozen=True)
class Audit:
    checked_at: datetime
    counts: dict[str, int]
    ids: dict[str, list[int]]  # at most IDS_KEPT per check


def _eta_ids(db: Session) -> SelectOfScalar[int | None]:
    latest = (select(EtaChange.shipment_id, sa.func.max(EtaChange.id).label("last_id"))
              .group_by(col(EtaChange.shipment_id)).subquery())
    return (select(col(Shipment.id)).join(latest, latest.c.shipment_id == Shipment.id)
            .join(EtaChange, col(EtaChange.id) == latest.c.last_id)
            .where(col(Shipment.ata).is_(None), customer_eta() != EtaChange.new_eta))


def _status_ids(statuses: tuple[str, ...], steps: dict[str, str]) -> SelectOfScalar[int | None]:
    happened = (select(Milestone.id).where(Milestone.shipment_id == Shipment.id,
                                           Milestone.code == sa.case(steps, value=Shipment.mode),
                                           col(Milestone.actual_at).is_not(None))
                .exists())
    return select(col(Shipment.id)).where(col(Shipment.status).in_(statuses), happened)


def run(db: Session, now: datetime | None = None) -> Audit:
    """Run every check over all shipments and keep the result (the caller commits)."""
    now = now or clock.now()
    queries = {"eta": _eta_ids(db), "status_departure": _status_ids(BEFORE_DEPARTURE, DEPARTURE_STEP),
               "status_arrival": _status_ids(BEFORE_ARRIVAL, ARRIVAL_STEP)}
    counts, ids = {}, {}
    for check, ids_query in queries.items():
        counts[check] = int(db.exec(select(sa.func.count()).select_from(ids_query.subquery())).one())
        ids[check] = ([int(i) for i in db.exec(ids_query.order_by(col(Shipment.id)).limit(IDS_KEPT)).all()
                       if i is not None] if counts[check] else [])
    audit = Audit(now, counts, ids)
    row = db.get(AppSetting, SETTING) or AppSetting(key=SETTING, value="")
    row.value = json.dumps({"checked_at": now.isoformat(), "counts": counts, "ids": ids})
    row.updated_at = now
    db.add(row)
    db.flush()
    return audit


def stored(db: Session) -> Audit | None:
    """The kept audit, however old (None when there is none or it cannot be read)."""
    value = db.exec(select(AppSetting.value).where(AppSetting.key == SETTING)).first()  # not a cached row
    if value is None:
        return None
    try:
        data = json.loads(value)
        return Audit(datetime.fromisoformat(data["checked_at"]), {c: int(data["counts"][c]) for c in CHECKS},
                     {c: [int(i) for i in data["ids"][c]] for c in CHECKS})
    except (ValueError, KeyError, TypeError):
        return None  # an unreadable record is treated as none: the audit runs again


def latest(db: Session, now: datetime | None = None) -> Audit:
    """The kept audit if it is fresh, else a new one, kept for the next reader (committed at once: the callers only
    read; a second worker keeping its own at the same moment is harmless, the later one stays)."""
    now = now or clock.now()
    audit = stored(db)
    max_age = timedelta(minutes=2 * settings.rules_every_minutes)
    if audit is None or max_age <= timedelta(0) or now - audit.checked_at > max_age or audit.checked_at > now:
        audit = run(db, now)
        try:
            db.commit()
        except sa.exc.IntegrityError:
            db.rollback()
    return audit


def counts_in_scope(db: Session, audit: Audit, scope: list[sa.ColumnElement[bool]]) -> dict[str, int]:
    """Each check's count, limited to the shipments matching ``scope`` (a mode, a customer)."""
    if not scope:
        return dict(audit.counts)
    out = {}
    for check in CHECKS:
        ids = audit.ids[check]
        out[check] = int(db.exec(select(sa.func.count()).select_from(Shipment)
                                 .where(col(Shipment.id).in_(ids), *scope)).one()) if ids else 0
    return out
