"""One timeline that cannot contradict itself: the rule for estimates along a shipment's milestones.

A shipment's steps follow its template in sequence. Each step's *expected time* is its actual time once it
happened, else its estimate, else its plan. The rule, applied by every estimate change (an ETA change, a step's
estimate edited in the workspace, the bulk voyage ETA):

1. **Not before what comes first.** A new estimate earlier than the expected time of a step before it is refused
   (the vessel cannot be expected to arrive before it is expected to leave); nothing is saved.
2. **What follows moves with it.** Every later step that has not happened is re-estimated at the new time plus its
   planned distance from the moved step (the gap between the two steps' planned times, which the template's
   offsets set when the shipment was planned; never negative). Moving the ETA by 69 hours moves discharge,
   customs release and delivery by 69 hours.
3. **The ETA is changed only as an ETA change.** The arrival step's estimate is the shipment's ETA, changed with a
   reason the customer reads. A step before arrival may not be estimated after the ETA (change the ETA first), and
   the steps it moves stop at the arrival's expected time.

Actual times are facts and are never moved. ``tests/services/test_timeline.py`` checks the rule on examples and,
as a property, that no sequence of estimate changes leaves the expected times running backwards.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from models import Milestone
from portal_app.services import display
from portal_app.services.errors import ValidationFailed

NOTHING_SAVED = "Nothing was saved."


@dataclass(frozen=True)
class Moved:
    """One following step re-estimated by the rule (for the audit row)."""

    code: str
    before: datetime | None
    after: datetime


def expected(step: Milestone) -> datetime | None:
    """When a step happened or is expected to: actual, else estimated, else planned."""
    return step.actual_at or step.estimated_at or step.planned_at


def _gap(start: Milestone, later: Milestone) -> timedelta:
    if start.planned_at is None or later.planned_at is None:
        return timedelta(0)
    return max(later.planned_at - start.planned_at, timedelta(0))


def check_not_before_earlier(steps: Sequence[Milestone], step: Milestone, new: datetime,
                             field: str = "estimated_at") -> None:
    """Refuse ``new`` for ``step`` when a step before it is expected (or happened) later (``field``: the form
    field the refusal is shown beside)."""
    for earlier in steps:
        if earlier.sequence >= step.sequence:
            continue
        when = expected(earlier)
        if when is not None and when > new:
            raise ValidationFailed(
                f"{display.utc(new)} for {step.name} is before {earlier.name} ({display.utc(when)}), "
                f"which comes first. Check the date, or change {earlier.name} first. {NOTHING_SAVED}",
                fields={field: f"Later than {earlier.name} ({display.utc(when)}), please."},
            )


def check_not_after(step: Milestone, new: datetime, limit: Milestone | None) -> None:
    """Refuse ``new`` for a step before arrival when it would come after the arrival's expected time (the ETA)."""
    when = expected(limit) if limit is not None else None
    if limit is not None and when is not None and new > when:
        raise ValidationFailed(
            f"{display.utc(new)} for {step.name} is after {limit.name} ({display.utc(when)}), which "
            f"comes later. Change the ETA first (with a reason the customer reads). {NOTHING_SAVED}",
            fields={"estimated_at": f"Before {limit.name} ({display.utc(when)}), or change the ETA first."},
        )


def plan_following(steps: Sequence[Milestone], step: Milestone, new: datetime, *,
                   stop_at: Collection[str] = ()) -> list[Moved]:
    """The new estimates of every later step that has not happened: ``new`` plus its planned gap after ``step``,
    never before a step that comes earlier. Nothing is written (see :func:`apply_moves`).

    With ``stop_at`` (the arrival codes, for a step before arrival) the steps from the first such code on are left
    alone and the moved ones never pass its expected time.
    """
    ordered = sorted((s for s in steps if s.sequence > step.sequence), key=lambda s: s.sequence)
    stop = next((s for s in ordered if s.code in stop_at), None)
    ceiling = expected(stop) if stop is not None else None
    moved: list[Moved] = []
    floor = new
    for later in ordered:
        if stop is not None and later.sequence >= stop.sequence:
            break
        if later.actual_at is not None:
            floor = max(floor, later.actual_at)
            continue
        target = max(new + _gap(step, later), floor)
        if ceiling is not None:
            target = min(target, ceiling)
        floor = target
        if later.estimated_at != target:
            moved.append(Moved(later.code, later.estimated_at, target))
    return moved


def apply_moves(steps: Sequence[Milestone], moves: Sequence[Moved], now: datetime) -> list[Milestone]:
    """Write the planned estimates onto the steps (the caller adds them to the session); returns the steps."""
    by_code = {s.code: s for s in steps}
    changed = []
    for move in moves:
        later = by_code[move.code]
        later.estimated_at = move.after
        later.updated_at = now
        later.version += 1
        changed.append(later)
    return changed
