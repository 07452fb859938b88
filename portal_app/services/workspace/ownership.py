"""Who owns a shipment: setting its owner and team, and reading them back for the workspace header."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from models import (
    Branch,
    Shipment,
    Team,
    User,
)
from portal_app.auth.permissions import STAFF_ROLES, Permission
from portal_app.auth.principal import Principal
from portal_app.services.errors import ValidationFailed
from portal_app.services.workspace.common import (
    NOTHING_SAVED,
    EditResult,
    Planned,
    _edit,
    _require_staff,
    load_shipment,
)

ASSIGN_FIELDS = ("owner_id", "team_id")


def _staff_user(db: Session, user_id: int) -> User:
    user = db.get(User, int(user_id))
    if user is None or user.role not in STAFF_ROLES or not user.is_active:
        raise ValidationFailed(f"User {user_id} is not an active staff member. Pick an owner from the staff list. "
                               f"{NOTHING_SAVED}")
    return user


def plan_assign(db: Session, shipment: Shipment, changes: Mapping[str, Any]) -> Planned:
    unknown = [k for k in changes if k not in ASSIGN_FIELDS]
    if unknown or not changes:
        raise ValidationFailed(f"Set owner_id, team_id or both (null to clear). {NOTHING_SAVED}")
    values: dict[str, object] = {}
    before: dict[str, object] = {}
    after: dict[str, object] = {}
    if "owner_id" in changes:
        owner = _staff_user(db, changes["owner_id"]) if changes["owner_id"] is not None else None
        values["owner_id"] = owner.id if owner else None
        before["owner"] = _user_name(db, shipment.owner_id)
        after["owner"] = owner.full_name if owner else None
    if "team_id" in changes:
        team = db.get(Team, int(changes["team_id"])) if changes["team_id"] is not None else None
        if changes["team_id"] is not None and team is None:
            raise ValidationFailed(f"Team {changes['team_id']} does not exist. Pick a team from the list. "
                                   f"{NOTHING_SAVED}")
        values["team_id"] = team.id if team else None
        if team is not None and team.branch_id is not None:
            values["branch_id"] = team.branch_id
        old_team = db.get(Team, shipment.team_id) if shipment.team_id else None
        before["team"] = old_team.name if old_team else None
        after["team"] = team.name if team else None
    return Planned("assigned", values, before, after)


def assign(db: Session, principal: Principal, reference: str, changes: Mapping[str, object], *,
           expected_version: int) -> EditResult:
    """Set the owner (a staff user id) and/or the team (its branch follows) of a shipment; None clears."""
    _edit(db, principal, reference, expected_version, dict(changes),
          lambda s, now: plan_assign(db, s, changes), permission=Permission.ASSIGN_WORK)
    shipment = load_shipment(db, principal, reference)
    return EditResult(shipment.reference, shipment.version, "Assignment saved.")


def _user_name(db: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = db.get(User, user_id)
    return user.full_name if user else None



@dataclass(frozen=True)
class Assignment:
    owner_id: int | None
    owner: str | None
    team_id: int | None
    team: str | None
    branch: str | None
    version: int  # the shipment's version: what an editor sends back as ``expected_version``


def assignment(db: Session, principal: Principal, reference: str) -> Assignment:
    """Who owns the shipment: owner, team and branch (for the workspace header)."""
    _require_staff(principal, Permission.VIEW_SHIPMENTS)
    shipment = load_shipment(db, principal, reference)
    team = db.get(Team, shipment.team_id) if shipment.team_id else None
    branch = db.get(Branch, shipment.branch_id) if shipment.branch_id else None
    return Assignment(shipment.owner_id, _user_name(db, shipment.owner_id), shipment.team_id,
                      team.name if team else None, branch.name if branch else None, shipment.version)
