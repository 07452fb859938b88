"""SLA policies: target hours per subject (exceptions, customer requests, hand-priced quotes), kind and severity,
with '*' for any. The exception engine, the request desk and the manual-quote queue read them through
``services/sla.py`` when they set a due time, so a change applies to what is opened from then on."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from models import SlaPolicy
from models.enums import ExceptionKind, Mode, Priority, Severity, TicketCategory
from portal_app.auth.principal import Principal
from portal_app.services.config.common import MAX_HOURS, int_in, record, refuse_if, require_admin
from portal_app.services.errors import Conflict, ErrorCode, NotFound, ValidationFailed

SUBJECTS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    # each subject maps to its label, its kinds and its severities
    "exception": ("Exceptions", tuple(k.value for k in ExceptionKind), tuple(s.value for s in Severity)),
    "ticket": ("Customer requests", tuple(c.value for c in TicketCategory), tuple(p.value for p in Priority)),
    "quote": ("Quotes priced by hand", tuple(m.value for m in Mode), ()),
}


@dataclass(frozen=True)
class PolicyView:
    id: int
    subject: str
    kind: str
    severity: str
    first_response_hours: int | None
    resolution_hours: int
    is_active: bool


def _view(p: SlaPolicy) -> PolicyView:
    assert p.id is not None  # a stored row
    return PolicyView(p.id, p.subject, p.kind, p.severity, p.first_response_hours, p.resolution_hours, p.is_active)


def _snapshot(p: SlaPolicy) -> dict:
    return {"subject": p.subject, "kind": p.kind, "severity": p.severity,
            "first_response_hours": p.first_response_hours, "resolution_hours": p.resolution_hours,
            "is_active": p.is_active}


def list_policies(db: Session, principal: Principal) -> list[PolicyView]:
    require_admin(principal)
    rows = db.exec(select(SlaPolicy).order_by(SlaPolicy.subject, SlaPolicy.kind, SlaPolicy.severity)).all()
    return [_view(p) for p in rows]


def _check(subject: str, kind: str, severity: str, first: object, resolution: object, problems: dict[str, str]
           ) -> tuple[int | None, int | None]:
    if subject not in SUBJECTS:
        problems["subject"] = f"choose one of {', '.join(SUBJECTS)}"
        return None, None
    _label, kinds, severities = SUBJECTS[subject]
    if kind != "*" and kind not in kinds:
        problems["kind"] = f"choose '*' (any) or one of {', '.join(kinds)}"
    if severity != "*" and severity not in severities:
        problems["severity"] = ("use '*': quotes have no severity" if not severities
                                else f"choose '*' (any) or one of {', '.join(severities)}")
    res = int_in(resolution, 1, MAX_HOURS, problems, "resolution_hours")
    fr = int_in(first, 1, MAX_HOURS, problems, "first_response_hours", optional=True)
    if fr is not None and res is not None and fr > res:
        problems["first_response_hours"] = "the first response cannot be due after the resolution"
    return fr, res


def save_policy(db: Session, principal: Principal, *, subject: str, kind: str, severity: str,
                resolution_hours: object, first_response_hours: object = None, is_active: bool = True,
                policy_id: int | None = None) -> PolicyView:
    """Create a policy (no ``policy_id``) or change one; subject, kind and severity identify it."""
    require_admin(principal)
    subject, kind, severity = str(subject or "").strip(), str(kind or "").strip(), str(severity or "").strip()
    problems: dict[str, str] = {}
    fr, res = _check(subject, kind, severity, first_response_hours, resolution_hours, problems)
    if not isinstance(is_active, bool):
        problems["is_active"] = "give true or false"
    refuse_if(problems, "The SLA policy")
    assert res is not None  # _check recorded a problem otherwise
    same = db.exec(select(SlaPolicy).where(SlaPolicy.subject == subject, SlaPolicy.kind == kind,
                                           SlaPolicy.severity == severity)).first()
    if policy_id is None:
        if same is not None:
            raise Conflict(f"A policy for {subject} / {kind} / {severity} exists already (#{same.id}). Edit that "
                           "one instead. Nothing was saved.", code=ErrorCode.DUPLICATE_POLICY)
        created = SlaPolicy(subject=subject, kind=kind, severity=severity, first_response_hours=fr,
                            resolution_hours=res, is_active=is_active)
        db.add(created)
        db.flush()
        record(db, principal, "config_sla_created", "sla_policy", created.id, None, _snapshot(created))
        db.commit()
        return _view(created)
    policy = db.get(SlaPolicy, int(policy_id))
    if policy is None:
        raise NotFound(f"There is no SLA policy #{policy_id}. Reload the list. Nothing was saved.")
    if same is not None and same.id != policy.id:
        raise Conflict(f"Another policy (#{same.id}) covers {subject} / {kind} / {severity}. Edit that one instead. "
                       "Nothing was saved.", code=ErrorCode.DUPLICATE_POLICY)
    if (policy.kind, policy.severity) == ("*", "*") and not is_active:
        raise ValidationFailed(f"The {subject} / * / * policy is the fallback every other case uses; it cannot be "
                               "switched off. Change its hours instead. Nothing was saved.",
                               code=ErrorCode.FALLBACK_POLICY)
    before = _snapshot(policy)
    policy.subject, policy.kind, policy.severity = subject, kind, severity
    policy.first_response_hours, policy.resolution_hours, policy.is_active = fr, res, is_active
    after = _snapshot(policy)
    if after != before:
        db.add(policy)
        record(db, principal, "config_sla_updated", "sla_policy", policy.id, before, after)
        db.commit()
    return _view(policy)
