"""Exception rules: on or off, severity, and the threshold each kind reads (the engine in
``services/exception_rules.py`` reads these rows on every evaluation, so a change applies from the next pass)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlmodel import Session, select

from models import ExceptionRule
from models.enums import Severity
from portal_app.auth.principal import Principal
from portal_app.services import clock
from portal_app.services.config.common import MAX_HOURS, check_version, int_in, record, refuse_if, require_admin
from portal_app.services.errors import NotFound
from portal_app.services.exception_rules import (
    DEFAULT_CUSTOMS_HOURS,
    DEFAULT_DOCUMENT_GRACE_DAYS,
    DEFAULT_ETA_SLIP_HOURS,
    DEFAULT_OVERDUE_DAYS,
    DEFAULT_STALE_HOURS,
    RULE_KINDS,
)

# Which threshold each kind reads, and what it means (shown on the page and in the API).
THRESHOLDS: dict[str, tuple[str | None, str]] = {
    "eta_slip": ("hours", "Open when the estimated arrival is more than this many hours after the planned one."),
    "document_missing": ("days", ("Days of grace after a required document's due date (due dates are set per "
                                  "document under Required documents).")),
    "no_tracking_update": ("hours", ("Open when an in-transit shipment has had no tracking update for this many "
                                     "hours.")),
    "customs_hold": ("hours", "Open when customs has not released the cargo this many hours after arrival."),
    "carrier_hold": ("hours", ("Open when cleared cargo is not released this many hours after arrival "
                               "(empty: raised by hand only).")),
    "change_requested": (None, "Open while a customer's amend or cancel request waits for a decision."),
    "invoice_overdue": ("days", "Open when an invoice is unpaid this many days after its due date."),
}
DEFAULTS = {"eta_slip": DEFAULT_ETA_SLIP_HOURS, "document_missing": DEFAULT_DOCUMENT_GRACE_DAYS,
            "no_tracking_update": DEFAULT_STALE_HOURS, "customs_hold": DEFAULT_CUSTOMS_HOURS,
            "invoice_overdue": DEFAULT_OVERDUE_DAYS}
SEVERITIES = tuple(s.value for s in Severity)
MAX_DAYS = 365


@dataclass(frozen=True)
class RuleView:
    kind: str
    name: str
    is_active: bool
    severity: str
    threshold_hours: int | None
    threshold_days: int | None
    unit: str | None
    meaning: str
    version: int
    default_threshold: int | None  # what the engine uses while the threshold is empty


def _view(r: ExceptionRule) -> RuleView:
    unit, meaning = THRESHOLDS.get(r.kind, (None, ""))
    return RuleView(r.kind, r.name, r.is_active, r.severity, r.threshold_hours, r.threshold_days, unit, meaning,
                    r.version, DEFAULTS.get(r.kind))


def _snapshot(r: ExceptionRule) -> dict:
    return {"is_active": r.is_active, "severity": r.severity, "threshold_hours": r.threshold_hours,
            "threshold_days": r.threshold_days}


def list_rules(db: Session, principal: Principal) -> list[RuleView]:
    require_admin(principal)
    order = {k.value: n for n, k in enumerate(RULE_KINDS)}
    rows = db.exec(select(ExceptionRule)).all()
    return sorted((_view(r) for r in rows if r.kind in order), key=lambda v: order[v.kind])


def update_rule(db: Session, principal: Principal, kind: str, *, is_active: bool, severity: str,
                threshold: int | str | None, expected_version: int | None = None) -> RuleView:
    """Set a rule's on/off, severity and its one threshold (hours or days, by kind) in one step."""
    require_admin(principal)
    rule = db.exec(select(ExceptionRule).where(ExceptionRule.kind == str(kind))).first()
    if rule is None or rule.kind not in THRESHOLDS:
        raise NotFound(f"There is no exception rule {kind!r}. Choose one of: {', '.join(THRESHOLDS)}. "
                       "Nothing was saved.")
    check_version(rule.version, expected_version, f"The rule {rule.name!r}")
    problems: dict[str, str] = {}
    if severity not in SEVERITIES:
        problems["severity"] = f"choose one of {', '.join(SEVERITIES)}"
    if not isinstance(is_active, bool):
        problems["is_active"] = "give true or false"
    unit = THRESHOLDS[rule.kind][0]
    value = None
    if unit == "hours":
        value = int_in(threshold, 1, MAX_HOURS, problems, "threshold", optional=rule.kind == "carrier_hold")
    elif unit == "days":
        value = int_in(threshold, 0, MAX_DAYS, problems, "threshold")
    elif threshold not in (None, ""):
        problems["threshold"] = "this rule has no threshold; leave it empty"
    refuse_if(problems, f"The rule {rule.name!r}")
    before = _snapshot(rule)
    rule.is_active, rule.severity = is_active, severity
    if unit == "hours":
        rule.threshold_hours = value
    elif unit == "days":
        rule.threshold_days = value
    after = _snapshot(rule)
    if after == before:
        return _view(rule)
    rule.version += 1
    rule.updated_at = clock.now()
    db.add(rule)
    record(db, principal, "config_rule_updated", "exception_rule", rule.kind, before, after)
    db.commit()
    return _view(rule)


def as_dict(v: RuleView) -> dict:
    return asdict(v)
