"""Milestone templates per transport mode: the steps, their order, which the customer sees, and when each is
expected (days from the ready date for origin steps, from the planned arrival for destination steps).

A booking copies the mode's active template into its milestones when it is made (``bookings._milestones``), so a
saved template applies to new bookings from then on and never rewrites shipments already booked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pydantic import Field
from sqlmodel import Session, col, select

from models import MilestoneTemplate, MilestoneTemplateStep
from models.enums import Mode
from portal_app.auth.principal import Principal
from portal_app.services import clock
from portal_app.services.config.common import CODE, check_version, int_in, record, refuse_if, require_admin
from portal_app.services.errors import NotFound
from portal_app.services.inputs import Body, WholeNumber

MODES = tuple(m.value for m in Mode)
ANCHORS = ("origin", "destination")
MAX_STEPS = 30


class StepInput(Body, frozen=True):
    """One step of a template as sent: the API's request body and what the tower's editor rows are parsed into.
    The rules beyond each value's shape (code pattern, ranges, order) are :func:`save_template`'s."""

    code: str = Field(max_length=40, description="e.g. vessel_departure")
    name: str = Field(max_length=120)
    anchor: str = Field("origin", description="origin (days from the ready date) or destination (days from the "
                                              "planned arrival)")
    offset_days: WholeNumber = 0
    customer_visible: bool = True
    event_code: str | None = Field(None, max_length=8)


@dataclass(frozen=True)
class TemplateView:
    mode: str
    name: str
    version: int
    steps: list[dict] = field(default_factory=list)


def _active(db: Session, mode: str) -> MilestoneTemplate | None:
    return db.exec(select(MilestoneTemplate)
                   .where(MilestoneTemplate.mode == mode, col(MilestoneTemplate.is_active).is_(True))
                   .order_by(col(MilestoneTemplate.version).desc(), col(MilestoneTemplate.id).desc()).limit(1)).first()


def _steps(db: Session, template_id: int | None) -> list[dict]:
    rows = db.exec(select(MilestoneTemplateStep).where(MilestoneTemplateStep.template_id == template_id)
                   .order_by(col(MilestoneTemplateStep.sequence))).all()
    return [{"sequence": s.sequence, "code": s.code, "name": s.name, "anchor": s.anchor, "offset_days": s.offset_days,
             "customer_visible": s.customer_visible, "event_code": s.event_code} for s in rows]


def list_templates(db: Session, principal: Principal) -> list[TemplateView]:
    require_admin(principal)
    out = []
    for mode in MODES:
        t = _active(db, mode)
        out.append(TemplateView(mode, t.name, t.version, _steps(db, t.id)) if t else TemplateView(mode, "", 0, []))
    return out


def get_template(db: Session, principal: Principal, mode: str) -> TemplateView:
    require_admin(principal)
    if mode not in MODES:
        raise NotFound(f"There is no transport mode {mode!r}. Choose one of: {', '.join(MODES)}.")
    t = _active(db, mode)
    return TemplateView(mode, t.name, t.version, _steps(db, t.id)) if t else TemplateView(mode, "", 0, [])


def _clean_steps(steps: list[StepInput], problems: dict[str, str]) -> list[dict]:
    if not 2 <= len(steps) <= MAX_STEPS:
        problems["steps"] = f"give 2 to {MAX_STEPS} steps"
        return []
    out: list[dict[str, Any]] = []
    seen = set()
    for n, s in enumerate(steps, start=1):
        key = f"steps.{n}"
        code = str(s.code or "").strip().lower()
        if not CODE.match(code):
            problems[f"{key}.code"] = "use 2 to 40 lower-case letters, digits or _, starting with a letter"
        elif code in seen:
            problems[f"{key}.code"] = f"{code!r} is used twice; each step needs its own code"
        seen.add(code)
        name = " ".join(str(s.name or "").split())
        if not 2 <= len(name) <= 120:
            problems[f"{key}.name"] = "use 2 to 120 characters"
        if s.anchor not in ANCHORS:
            problems[f"{key}.anchor"] = "choose origin or destination"
        offset = int_in(s.offset_days, -60, 365, problems, f"{key}.offset_days")
        event = (str(s.event_code).strip().upper() or None) if s.event_code else None
        if event is not None and not (len(event) <= 8 and event.isalnum()):
            problems[f"{key}.event_code"] = "use up to 8 letters or digits (a DCSA or IATA status code), or nothing"
        out.append({"sequence": n, "code": code, "name": name, "anchor": s.anchor, "offset_days": offset,
                    "customer_visible": bool(s.customer_visible), "event_code": event})
    if problems:
        return out
    anchors = [s["anchor"] for s in out]
    if "origin" not in anchors or "destination" not in anchors:
        problems["steps"] = ("give at least one origin step (the last one is the departure) and one destination "
                             "step (the first one is the arrival)")
    elif anchors != sorted(anchors, key=ANCHORS.index):
        problems["steps"] = "put every origin step before the destination steps"
    else:
        for anchor in ANCHORS:
            offsets = [s["offset_days"] for s in out if s["anchor"] == anchor]
            if offsets != sorted(offsets):
                problems["steps"] = f"the {anchor} steps' expected days must not go back in time from one to the next"
    if not any(s["customer_visible"] for s in out):
        problems["steps"] = "let the customer see at least one step"
    return out


def save_template(db: Session, principal: Principal, mode: str, name: str, steps: list[StepInput], *,
                  expected_version: int | None = None) -> TemplateView:
    """Replace the mode's active template with these steps, in this order (a new version; all or nothing)."""
    require_admin(principal)
    if mode not in MODES:
        raise NotFound(f"There is no transport mode {mode!r}. Choose one of: {', '.join(MODES)}. Nothing was saved.")
    problems: dict[str, str] = {}
    title = " ".join(str(name or "").split())
    if not 2 <= len(title) <= 120:
        problems["name"] = "use 2 to 120 characters"
    cleaned = _clean_steps(list(steps), problems)
    template = _active(db, mode)
    if template is not None:
        check_version(template.version, expected_version, f"The {mode} template")
    refuse_if(problems, f"The {mode} template")
    now = clock.now()
    before = {"name": template.name, "version": template.version, "steps": _steps(db, template.id)} if template \
        else None
    if template is None:
        template = MilestoneTemplate(mode=mode, name=title, version=1, updated_at=now)
        db.add(template)
        db.flush()
    else:
        db.exec(sa.delete(MilestoneTemplateStep).where(col(MilestoneTemplateStep.template_id) == template.id))
        template.name, template.version, template.updated_at = title, template.version + 1, now
        db.add(template)
    assert template.id is not None  # flushed: the row has its key
    for s in cleaned:
        db.add(MilestoneTemplateStep(template_id=template.id, **s))
    db.flush()
    after = {"name": template.name, "version": template.version, "steps": cleaned}
    record(db, principal, "config_template_saved", "milestone_template", mode, before, after)
    db.commit()
    return TemplateView(mode, template.name, template.version, cleaned)
