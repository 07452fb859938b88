"""The tower's shipments board: every shipment across companies with the staff filters (branch, team, owner,
customer, open exception, SLA breached or breaching within N hours) and one page at a time.

The filters extend the customer list's :class:`ShipmentFilters`, so the board shares its count and page queries
(the "deferred join": the page's ids from one index walk, then names for those rows only); the board's extra
columns (owner, team, open exceptions, the next SLA due) are read for the page's rows only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import Company, Shipment, Team, User
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import clock
from portal_app.services.errors import ValidationFailed
from portal_app.services.numbers import parse_id
from portal_app.services.paging import Page
from portal_app.services.shipments import FILTER_PARAMS, ClauseBuilder, ShipmentFilters, ShipmentRow, list_query

BOARD_PARAMS = (*FILTER_PARAMS, "branch", "team", "owner", "customer", "exception", "sla", "sla_hours")
SLA_CHOICES = ("breached", "breaching")
DEFAULT_SLA_HOURS = 4
MAX_SLA_HOURS = 24 * 14
UNASSIGNED = "none"


def _int(name: str, value: str | None) -> int | None:
    if value in (None, ""):
        return None
    found = parse_id(value) if value != "0" else 0
    if found is None:
        raise ValidationFailed(f"{name} must be a number (an id from the list), not {str(value)[:40]!r}.")
    return found


# The board's own WHERE clauses by value name (see shipments.LIST_CLAUSES).
BOARD_CLAUSES: dict[str, ClauseBuilder] = {
    "branch_id": lambda _: col(Shipment.branch_id) == sa.bindparam("branch_id"),
    "team_id": lambda _: col(Shipment.team_id) == sa.bindparam("team_id"),
    "owner_id": lambda _: col(Shipment.owner_id) == sa.bindparam("owner_id"),
    "unowned": lambda _: col(Shipment.owner_id).is_(None),
    "customer_id": lambda _: col(Shipment.company_id) == sa.bindparam("customer_id"),
    "customer_code": lambda _: col(Shipment.company_id) == select(col(Company.id)).where(
        Company.code == sa.bindparam("customer_code")).scalar_subquery(),
    # The shipment's own summary columns (kept by triggers) and the partial index over them.
    "open_exception": lambda _: Shipment.open_exceptions > sa.literal_column("0"),
    "sla_due_from": lambda _: Shipment.next_sla_due_at >= sa.bindparam("sla_due_from"),
    "sla_due_before": lambda _: Shipment.next_sla_due_at < sa.bindparam("sla_due_before"),
}


@dataclass(frozen=True)
class BoardFilters(ShipmentFilters):
    """The board's filters. ``owner_id`` 0 means "no owner"; ``customer`` is a company id or code."""

    branch_id: int | None = None
    team_id: int | None = None
    owner_id: int | None = None
    customer: str | None = None
    open_exception: bool = False
    sla: str | None = None  # breached | breaching
    sla_hours: int = DEFAULT_SLA_HOURS

    def validate(self) -> None:
        super().validate()
        if self.sla and self.sla not in SLA_CHOICES:
            raise ValidationFailed(f"Unknown SLA filter {self.sla!r}. Use 'breached' or 'breaching'.")
        if not 1 <= self.sla_hours <= MAX_SLA_HOURS:
            raise ValidationFailed(f"'Breaching within' takes 1 to {MAX_SLA_HOURS} hours.")

    def extra_values(self, principal: Principal) -> dict[str, object]:
        principal.require(Permission.USE_TOWER)
        values: dict[str, object] = {"branch_id": self.branch_id, "team_id": self.team_id}
        if self.owner_id == 0:
            values["unowned"] = True
        elif self.owner_id is not None:
            values["owner_id"] = self.owner_id
        if self.customer and parse_id(self.customer) is not None:
            values["customer_id"] = parse_id(self.customer)
        elif self.customer:
            values["customer_code"] = self.customer.strip().upper()
        if self.open_exception or self.sla:
            values["open_exception"] = True
            now = clock.now()
            if self.sla == "breached":
                values["sla_due_before"] = now
            elif self.sla == "breaching":
                values["sla_due_from"] = now
                values["sla_due_before"] = now + timedelta(hours=self.sla_hours)
        return values

    @classmethod
    def extra_clauses(cls) -> dict[str, ClauseBuilder]:
        return BOARD_CLAUSES

    def sqlite_index(self) -> str | None:
        # Shipments with an open exception are one in ten; SQLite's planner would rather walk every shipment of
        # the status or mode and look each row up (30 ms) than scan this small covering index (2 ms).
        return "ix_shipment_open_exceptions" if self.open_exception or self.sla else None

    @classmethod
    def from_params(cls, params: Mapping[str, str | list[str] | None], principal: Principal | None = None
                    ) -> BoardFilters:
        base = ShipmentFilters.from_params(params)

        def one(key: str) -> str | None:
            value = params.get(key)
            if isinstance(value, list):
                value = value[0] if value else None
            return (value or "").strip() or None

        owner = one("owner")
        if owner == "me" and principal is not None:
            owner_id: int | None = principal.user_id
        elif owner == UNASSIGNED:
            owner_id = 0
        else:
            owner_id = _int("Owner", owner)
        sla = one("sla")
        return cls(
            **{f.name: getattr(base, f.name) for f in fields(ShipmentFilters)},
            branch_id=_int("Branch", one("branch")),
            team_id=_int("Team", one("team")),
            owner_id=owner_id,
            customer=one("customer"),
            open_exception=(one("exception") or "").lower() in {"1", "true", "yes", "on", "open"},
            sla=None if sla in (None, "all") else sla,
            sla_hours=_int("Breaching within (hours)", one("sla_hours")) or DEFAULT_SLA_HOURS,
        )

    def to_params(self) -> dict[str, str]:
        out = super().to_params()
        extra = {
            "branch": "" if self.branch_id is None else str(self.branch_id),
            "team": "" if self.team_id is None else str(self.team_id),
            "owner": "" if self.owner_id is None else (UNASSIGNED if self.owner_id == 0 else str(self.owner_id)),
            "customer": self.customer or "",
            "exception": "1" if self.open_exception else "",
            "sla": self.sla or "",
            "sla_hours": str(self.sla_hours) if self.sla == "breaching" else "",
        }
        return {**out, **{k: v for k, v in extra.items() if v}}


@dataclass(frozen=True)
class BoardRow(ShipmentRow):
    """A shipment as the board lists it: its list row's fields, then who owns it and its exceptions' SLA (the API
    serves this record as it is)."""

    owner: str | None
    team: str | None
    open_exceptions: int
    next_sla_due_at: datetime | None
    sla_breached: bool

    @property
    def shipment(self) -> ShipmentRow:
        """The shipment as its list shows it."""
        return ShipmentRow(**{f.name: getattr(self, f.name) for f in fields(ShipmentRow)})


_OWNER = aliased(User, name="owner")  # built once: an alias per call costs more than the query


def _extras(db: Session, references: list[str]) -> dict[str, tuple]:
    if not references:
        return {}
    rows = db.execute(
        sa.select(col(Shipment.reference), col(_OWNER.full_name), col(Team.name), col(Shipment.open_exceptions),
                  col(Shipment.next_sla_due_at))
        .outerjoin(_OWNER, col(_OWNER.id) == col(Shipment.owner_id))
        .outerjoin(Team, col(Team.id) == col(Shipment.team_id))
        .where(col(Shipment.reference).in_(references))
    ).all()
    return {ref: (owner, team, n, due) for ref, owner, team, n, due in rows}


def list_board(db: Session, principal: Principal, filters: BoardFilters = BoardFilters(), *, page: int = 1,
               page_size: int = 25, sort: str = "updated") -> Page:
    """One page of the board for staff: the shipment row plus owner, team, open exceptions and SLA state."""
    principal.require(Permission.USE_TOWER)
    query = list_query(principal, filters, page=page, page_size=page_size, sort=sort)
    total = query.total(db)
    shipment_rows = query.page_rows(db)
    extras = _extras(db, [r.reference for r in shipment_rows])
    now = clock.now()
    rows = []
    for r in shipment_rows:
        owner, team, n, due = extras.get(r.reference, (None, None, 0, None))
        rows.append(BoardRow(**vars(r), owner=owner, team=team, open_exceptions=int(n), next_sla_due_at=due,
                             sla_breached=bool(due and due < now)))
    return Page(rows=rows, total=int(total), page=page, page_size=page_size)


def matching_ids(db: Session, principal: Principal, filters: BoardFilters, *, limit: int) -> list[int]:
    """The ids of up to ``limit`` shipments matching the filters (the bulk actions' "whole filter" selection)."""
    principal.require(Permission.USE_TOWER)
    query = list_query(principal, filters, page=1, page_size=1, sort="updated")
    stmt = select(col(Shipment.id)).where(query.where).order_by(col(Shipment.id)).limit(limit)
    return [int(i) for i in db.exec(stmt, params=query.values).all() if i is not None]
