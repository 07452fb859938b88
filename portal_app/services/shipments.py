"""Reading shipments: the list with paging, filters and search by any reference, and one shipment in detail.

Every query is scoped by :func:`portal_app.auth.scope.company_filter` from the acting principal; the list's
cached statements bind the same scope (:func:`portal_app.auth.scope.company_scope`) on every call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select, SelectOfScalar

from models import (
    Carrier,
    Company,
    Container,
    Location,
    Milestone,
    Shipment,
    ShipmentReference,
)
from models.enums import ACTIVE_SHIPMENT_STATUSES, Mode, ShipmentStatus
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter, company_scope
from portal_app.services import isodates
from portal_app.services.errors import NotFound, ValidationFailed
from portal_app.services.paging import Page, check_paging
from portal_app.services.references import normalize_reference, prefix_upper_bound
from portal_app.services.spreadsheets import Sheet

MAX_PAGE_SIZE = 200
SORTS: dict[str, sa.UnaryExpression[Any]] = {
    "updated": col(Shipment.updated_at).desc(),
    "-updated": col(Shipment.updated_at).asc(),
    "eta": col(Shipment.eta_estimated).asc(),
    "-eta": col(Shipment.eta_estimated).desc(),
    "reference": col(Shipment.reference).asc(),
    "-reference": col(Shipment.reference).desc(),
}


ACTIVE = "active"  # the status filter's word for every status before delivery
ACTIVE_STATUS_VALUES: tuple[str, ...] = tuple(s.value for s in ACTIVE_SHIPMENT_STATUSES)
FILTER_PARAMS = ("q", "status", "mode", "origin", "destination", "etd_from", "etd_to", "eta_from", "eta_to", "delayed")


def _parse_date(name: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return isodates.parse_date(value)
    except ValueError as exc:
        raise ValidationFailed(f"{name}: {exc}.") from None


@dataclass(frozen=True)
class ShipmentFilters:
    """What a list page or API call asks for. Never identity: the company comes from the principal."""

    statuses: tuple[str, ...] = ()
    mode: str | None = None
    search: str | None = None
    origin: str | None = None  # location code (UN/LOCODE or IATA)
    destination: str | None = None
    etd_from: date | None = None
    etd_to: date | None = None
    eta_from: date | None = None
    eta_to: date | None = None
    delayed_only: bool = False
    company_id: int | None = None  # staff only; ignored scope-wise for customers (they never leave their company)

    def extra_values(self, principal: Principal) -> dict[str, object]:
        """The values of a richer filter's own WHERE clauses (the tower board's owner, team, exceptions, SLA), by
        the names ``extra_clauses`` builds them under; none here."""
        return {}

    @classmethod
    def extra_clauses(cls) -> dict[str, ClauseBuilder]:
        """A richer filter's own WHERE clauses by value name (see ``LIST_CLAUSES``); none here."""
        return {}

    def sqlite_index(self) -> str | None:
        """An index SQLite must read for this filter (``INDEXED BY``), where its planner would pick a worse one."""
        return None

    def validate(self) -> None:
        bad = [s for s in self.statuses if s not in ShipmentStatus._value2member_map_]
        if bad:
            allowed = ", ".join(s.value for s in ShipmentStatus)
            raise ValidationFailed(f"Unknown status {bad[0]!r}. Use one of: {allowed}.")
        if self.mode and self.mode not in Mode._value2member_map_:
            allowed = ", ".join(m.value for m in Mode)
            raise ValidationFailed(f"Unknown mode {self.mode!r}. Use one of: {allowed}.")
        for label, start, end in (("Departure", self.etd_from, self.etd_to), ("Arrival", self.eta_from, self.eta_to)):
            if start and end and start > end:
                raise ValidationFailed(f"{label} dates: the 'from' date is after the 'to' date. Swap them and try "
                                       "again.")

    @classmethod
    def from_params(cls, params: Mapping[str, str | list[str] | None]) -> ShipmentFilters:
        """Build filters from query-string style values (URL, API query, saved view)."""

        def one(key: str) -> str | None:
            value = params.get(key)
            if isinstance(value, list):
                value = value[0] if value else None
            value = (value or "").strip()
            return value or None

        status = params.get("status")
        statuses = tuple(v for v in (status if isinstance(status, list) else [status]) if v and v != "all")
        if ACTIVE in statuses:  # "active": every status before delivery (booked, confirmed, in transit)
            statuses = tuple(dict.fromkeys([*(s for s in statuses if s != ACTIVE), *ACTIVE_STATUS_VALUES]))
        mode = one("mode")
        return cls(
            statuses=statuses,
            mode=None if mode == "all" else mode,
            search=one("q"),
            origin=(one("origin") or "").upper()[:5] or None,
            destination=(one("destination") or "").upper()[:5] or None,
            etd_from=_parse_date("Departure from", one("etd_from")),
            etd_to=_parse_date("Departure to", one("etd_to")),
            eta_from=_parse_date("Arrival from", one("eta_from")),
            eta_to=_parse_date("Arrival to", one("eta_to")),
            delayed_only=(one("delayed") or "").lower() in {"1", "true", "yes", "on"},
        )

    def to_params(self) -> dict[str, str]:
        """The query-string form (inverse of from_params), without empty values."""
        out = {
            "q": self.search or "",
            "status": ACTIVE if set(self.statuses) == set(ACTIVE_STATUS_VALUES)
            else self.statuses[0] if len(self.statuses) == 1 else "",
            "mode": self.mode or "",
            "origin": self.origin or "",
            "destination": self.destination or "",
            "etd_from": self.etd_from.isoformat() if self.etd_from else "",
            "etd_to": self.etd_to.isoformat() if self.etd_to else "",
            "eta_from": self.eta_from.isoformat() if self.eta_from else "",
            "eta_to": self.eta_to.isoformat() if self.eta_to else "",
            "delayed": "1" if self.delayed_only else "",
        }
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True)
class ShipmentRow:
    reference: str
    company_name: str
    mode: str
    status: str
    origin: str
    origin_name: str
    destination: str
    destination_name: str
    carrier: str | None
    etd: datetime | None
    eta: datetime | None
    ata: datetime | None
    delay_minutes: int
    customer_po: str | None
    updated_at: datetime


@dataclass(frozen=True)
class MilestoneView:
    sequence: int
    code: str
    name: str
    event_code: str | None
    location: str | None
    planned_at: datetime | None
    estimated_at: datetime | None
    actual_at: datetime | None
    source: str
    location_timezone: str | None = None  # the place's IANA zone: its times are shown there (services/display.py)


@dataclass(frozen=True)
class ContainerView:
    number: str
    size_type: str
    seal_number: str | None


@dataclass(frozen=True)
class ShipmentDetail(ShipmentRow):
    """One shipment in full: its list row's fields, then the rest (the API serves this record as it is)."""

    incoterm: str | None
    shipper_name: str | None
    consignee_name: str | None
    vessel_name: str | None
    voyage_number: str | None
    flight_number: str | None
    booking_number: str | None
    mbl_number: str | None
    hbl_number: str | None
    awb_number: str | None
    cargo_description: str | None
    packages: int | None
    gross_weight_kg: float | None
    volume_cbm: float | None
    version: int
    milestones: list[MilestoneView]
    containers: list[ContainerView]
    destination_timezone: str | None = None  # where arrival times (the ETA) are shown

    @property
    def row(self) -> ShipmentRow:
        """The shipment as its list shows it."""
        return ShipmentRow(**{f.name: getattr(self, f.name) for f in fields(ShipmentRow)})


_Select = TypeVar("_Select", bound=sa.Select)
_Origin = aliased(Location, name="origin_loc")
_Destination = aliased(Location, name="destination_loc")


def customer_eta() -> sa.ColumnElement:
    """The arrival estimate a customer is shown in the list and on the shipment (the latest estimate, else the
    plan). The tower's mismatch check compares it with the ETA history."""
    return sa.func.coalesce(Shipment.eta_estimated, Shipment.eta_planned)


def _row_columns() -> tuple:
    return (
        Shipment.reference,
        Company.name,
        Shipment.mode,
        Shipment.status,
        _Origin.code,
        _Origin.name,
        _Destination.code,
        _Destination.name,
        Carrier.name,
        _departure(),
        customer_eta(),
        Shipment.ata,
        Shipment.delay_minutes,
        Shipment.customer_po,
        Shipment.updated_at,
    )


def _joined(stmt: _Select) -> _Select:
    return (
        stmt.join(Company, col(Company.id) == col(Shipment.company_id))
        .join(_Origin, col(_Origin.id) == col(Shipment.origin_id))
        .join(_Destination, col(_Destination.id) == col(Shipment.destination_id))
        .outerjoin(Carrier, col(Carrier.id) == col(Shipment.carrier_id))
    )


def _departure() -> sa.ColumnElement:
    """The departure the list's date filter reads: the actual one once there is one, else the estimate or plan."""
    return sa.func.coalesce(Shipment.atd, Shipment.etd_estimated, Shipment.etd_planned)


def _arrival() -> sa.ColumnElement:
    """The arrival the list's date filter reads: the actual one once there is one, else the estimate or plan."""
    return sa.func.coalesce(Shipment.ata, Shipment.eta_estimated, Shipment.eta_planned)


def _reference_search(keys: frozenset[str]) -> sa.ColumnElement[bool]:
    refs = select(ShipmentReference.shipment_id).where(
        ShipmentReference.value >= sa.bindparam("search_from"),
        ShipmentReference.value < sa.bindparam("search_before"),
    )
    if "company_id" in keys:
        refs = refs.where(ShipmentReference.company_id == sa.bindparam("company_id"))
    return col(Shipment.id).in_(refs)


def _at_location(column: sa.SQLColumnExpression[Any], name: str) -> sa.ColumnElement[bool]:
    return column == select(Location.id).where(Location.code == sa.bindparam(name)).scalar_subquery()


ClauseBuilder = Callable[[frozenset[str]], sa.ColumnElement[bool]]

# The WHERE clause behind each filter value, by the value's name; it reads the value from a bound parameter of the
# same name. (``search_before`` belongs to ``search_from``'s clause.)
LIST_CLAUSES: dict[str, ClauseBuilder] = {
    "company_id": lambda _: col(Shipment.company_id) == sa.bindparam("company_id"),
    "picked_company": lambda _: col(Shipment.company_id) == sa.bindparam("picked_company"),
    "statuses": lambda _: col(Shipment.status).in_(sa.bindparam("statuses", expanding=True)),
    "mode": lambda _: col(Shipment.mode) == sa.bindparam("mode"),
    "origin": lambda _: _at_location(col(Shipment.origin_id), "origin"),
    "destination": lambda _: _at_location(col(Shipment.destination_id), "destination"),
    "etd_from": lambda _: _departure() >= sa.bindparam("etd_from"),
    "etd_before": lambda _: _departure() < sa.bindparam("etd_before"),
    "eta_from": lambda _: _arrival() >= sa.bindparam("eta_from"),
    "eta_before": lambda _: _arrival() < sa.bindparam("eta_before"),
    # Delayed: late and not yet delivered (a delivered shipment that arrived late is history, not a delay).
    "delayed": lambda _: sa.and_(col(Shipment.delay_minutes) > 0,
                                 col(Shipment.status).in_(ACTIVE_STATUS_VALUES)),
    "search_from": _reference_search,
}


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _filter_values(principal: Principal, filters: ShipmentFilters) -> dict[str, object]:
    """The values of a list request's WHERE clauses, by clause name (LIST_CLAUSES and the filters' own); a clause
    is in the query only when its value is. The company scope always comes from the principal."""
    principal.require(Permission.VIEW_SHIPMENTS)
    filters.validate()
    company_id = company_scope(principal)
    term = normalize_reference(filters.search or "")
    values: dict[str, object] = {
        "company_id": company_id,
        "picked_company": filters.company_id if company_id is None else None,
        "statuses": list(filters.statuses) or None,
        "mode": filters.mode,
        "origin": filters.origin,
        "destination": filters.destination,
        "etd_from": _day_start(filters.etd_from) if filters.etd_from else None,
        "etd_before": _day_start(filters.etd_to) + timedelta(days=1) if filters.etd_to else None,
        "eta_from": _day_start(filters.eta_from) if filters.eta_from else None,
        "eta_before": _day_start(filters.eta_to) + timedelta(days=1) if filters.eta_to else None,
        "delayed": True if filters.delayed_only else None,
        "search_from": term or None,
        "search_before": prefix_upper_bound(term) if term else None,
    }
    extra = filters.extra_values(principal)
    _refuse_shared_names(extra)
    return {name: value for name, value in {**values, **extra}.items() if value is not None}


def _refuse_shared_names(extra: Mapping[str, object]) -> None:
    """A richer filter's names must be its own: one named like a list value (``company_id`` above all) would
    replace that value or its clause, and with it the company scope."""
    shared = set(extra) & (set(LIST_CLAUSES) | {"search_before", "page_offset", "page_limit"})
    if shared:
        raise RuntimeError(f"filter values {sorted(shared)} reuse names of the shipments list's own")


def _to_row(r: sa.Row | tuple) -> ShipmentRow:
    return ShipmentRow(*r)


def _order(sort: str) -> tuple[sa.ColumnElement, ...]:
    if sort not in SORTS:
        raise ValidationFailed(f"Unknown sort {sort!r}. Use one of: {', '.join(SORTS)}.")
    return SORTS[sort], col(Shipment.id).desc()


@dataclass(frozen=True)
class ListQuery:
    """A list request as SQL: the WHERE clause, the count and the page statements, and the values they run with.

    The statements depend only on which filters are set, the sort and the index hint, so they are built once per
    such shape and reused (building and fingerprinting them cost more than running them); ``values`` holds
    everything that comes from the request, the company scope included.
    """

    where: sa.ColumnElement[bool]
    count: SelectOfScalar[int]
    rows: Select[*tuple[Any, ...]]
    values: dict[str, object]

    def total(self, db: Session) -> int:
        return int(db.exec(self.count, params=self.values).one())

    def page_rows(self, db: Session) -> list[ShipmentRow]:
        return [_to_row(r) for r in db.exec(self.rows, params=self.values).all()]


@lru_cache(maxsize=512)
def _statements(clauses: tuple[tuple[str, ClauseBuilder], ...], sort: str, index: str | None
                ) -> tuple[sa.ColumnElement[bool], SelectOfScalar[int], Select[*tuple[Any, ...]]]:
    keys = frozenset(name for name, _ in clauses)
    where = sa.and_(sa.true(), *(build(keys) for _, build in clauses))
    order = _order(sort)
    count = select(sa.func.count()).select_from(Shipment).where(where)
    page_ids = select(Shipment.id).where(where)
    if index:
        count = count.with_hint(Shipment, f"INDEXED BY {index}", dialect_name="sqlite")
        page_ids = page_ids.with_hint(Shipment, f"INDEXED BY {index}", dialect_name="sqlite")
    # The page's ids come from the shipment table alone (an index walk in the sort order); only those rows are
    # joined to their names. Joining first lets a planner start from the small company table and sort every
    # shipment (400 ms instead of 1 ms for staff at 100,000 shipments).
    page_ids = (page_ids.order_by(*order).offset(sa.bindparam("page_offset", type_=sa.Integer))
                .limit(sa.bindparam("page_limit", type_=sa.Integer)))
    rows = _joined(select(*_row_columns()).select_from(Shipment)).where(col(Shipment.id).in_(page_ids)).order_by(*order)
    return where, count, rows


def list_query(principal: Principal, filters: ShipmentFilters, *, page: int, page_size: int, sort: str) -> ListQuery:
    """The count and the page query for a list request (also used by the benchmark to time raw SQL)."""
    _order(sort)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    values = _filter_values(principal, filters)
    extra_clauses = filters.extra_clauses()
    _refuse_shared_names(extra_clauses)
    builders = {**LIST_CLAUSES, **extra_clauses}
    clauses = tuple((name, builders[name]) for name in sorted(values) if name in builders)
    where, count, rows = _statements(clauses, sort, filters.sqlite_index())
    return ListQuery(where, count, rows, {**values, "page_offset": (page - 1) * page_size, "page_limit": page_size})


def list_shipments(
    db: Session,
    principal: Principal,
    filters: ShipmentFilters = ShipmentFilters(),
    *,
    page: int = 1,
    page_size: int = 25,
    sort: str = "updated",
) -> Page:
    """One page of the shipments the principal may see, newest change first by default."""
    query = list_query(principal, filters, page=page, page_size=page_size, sort=sort)
    return Page(rows=query.page_rows(db), total=query.total(db), page=page, page_size=page_size)


def not_found(reference: str) -> NotFound:
    return NotFound(f"No shipment {reference!r} was found in your account. Check the reference and try again.")


def shipment_record(db: Session, principal: Principal, reference: str) -> Shipment:
    """The shipment row itself, for a service that changes it; another company's raises NotFound like a missing
    one. (Permission checks are the caller's.)"""
    found = db.exec(select(Shipment).where(Shipment.reference == (reference or "").strip().upper(),
                                           company_filter(col(Shipment.company_id), principal))).first()
    if found is None:
        raise not_found(reference)
    return found


def resolve_shipment_id(db: Session, principal: Principal, reference: str) -> int:
    """The id of a shipment the principal may see, by reference; NotFound otherwise (also for other companies)."""
    principal.require(Permission.VIEW_SHIPMENTS)
    found = db.exec(
        select(Shipment.id).where(
            col(Shipment.reference) == (reference or "").strip().upper(),
            company_filter(col(Shipment.company_id), principal),
        )
    ).first()
    if found is None:
        raise not_found(reference)
    return int(found)


def row_by_id(db: Session, shipment_id: int) -> ShipmentRow | None:
    """A shipment as the list shows it, by its id, with no principal: for a caller that has already decided who may
    see it (the webhooks: services/webhooks.py sends it only to its own company's subscriptions)."""
    stmt = _joined(select(*_row_columns()).select_from(Shipment)).where(col(Shipment.id) == shipment_id)
    found = db.exec(stmt).first()
    return _to_row(tuple(found)) if found is not None else None


def get_shipment(db: Session, principal: Principal, reference: str) -> ShipmentDetail:
    """One shipment by its reference. Another company's shipment raises NotFound, exactly like a missing one."""
    principal.require(Permission.VIEW_SHIPMENTS)
    ref = (reference or "").strip().upper()
    stmt = _joined(select(Shipment, *_row_columns()).select_from(Shipment)).where(
        col(Shipment.reference) == ref, company_filter(col(Shipment.company_id), principal)
    )
    found = db.exec(stmt).first()
    if found is None:
        raise not_found(reference)
    shipment: Shipment = found[0]
    row = _to_row(tuple(found[1:]))
    milestone_rows = db.exec(
        select(Milestone, Location.code, Location.timezone)
        .outerjoin(Location, col(Location.id) == col(Milestone.location_id))
        .where(Milestone.shipment_id == shipment.id)
        .where(sa.true() if principal.is_staff else col(Milestone.customer_visible).is_(True))
        .order_by(col(Milestone.sequence))
    ).all()
    containers = db.exec(select(Container).where(Container.shipment_id == shipment.id).order_by(Container.number)).all()
    return ShipmentDetail(
        **vars(row),
        incoterm=shipment.incoterm,
        shipper_name=shipment.shipper_name,
        consignee_name=shipment.consignee_name,
        vessel_name=shipment.vessel_name,
        voyage_number=shipment.voyage_number,
        flight_number=shipment.flight_number,
        booking_number=shipment.booking_number,
        mbl_number=shipment.mbl_number,
        hbl_number=shipment.hbl_number,
        awb_number=shipment.awb_number,
        cargo_description=shipment.cargo_description,
        packages=shipment.packages,
        gross_weight_kg=float(shipment.gross_weight_kg) if shipment.gross_weight_kg is not None else None,
        volume_cbm=float(shipment.volume_cbm) if shipment.volume_cbm is not None else None,
        version=shipment.version,
        milestones=[
            MilestoneView(
                sequence=m.sequence,
                code=m.code,
                name=m.name,
                event_code=m.event_code,
                location=loc,
                planned_at=m.planned_at,
                estimated_at=m.estimated_at,
                actual_at=m.actual_at,
                source=m.source,
                location_timezone=tz,
            )
            for m, loc, tz in milestone_rows
        ],
        containers=[ContainerView(c.number, c.size_type, c.seal_number) for c in containers],
        destination_timezone=db.exec(select(Location.timezone).where(Location.id == shipment.destination_id)).first(),
    )


EXPORT_COLUMNS = {
    "reference": "Shipment",
    "company_name": "Customer",
    "mode": "Mode",
    "status": "Status",
    "origin": "Origin",
    "origin_name": "Origin name",
    "destination": "Destination",
    "destination_name": "Destination name",
    "carrier": "Carrier",
    "etd": "Departure ({zone})",
    "eta": "Arrival estimate ({zone})",
    "ata": "Arrived ({zone})",
    "delay_minutes": "Delay (minutes)",
    "customer_po": "Customer PO",
    "updated_at": "Last update ({zone})",
}
MAX_EXPORT_ROWS = 200_000
EXPORT_CHUNK_ROWS = 2000


def export_sheet(
    db: Session, principal: Principal, filters: ShipmentFilters, *, sort: str = "updated",
    chunk_rows: int = EXPORT_CHUNK_ROWS,
) -> Sheet:
    """Every shipment matching the filters (at most ``MAX_EXPORT_ROWS``) as a sheet whose rows are read from the
    database in chunks while it is written, never all in memory. Filters and sort are checked here, before any
    row is read."""
    query = list_query(principal, filters, page=1, page_size=1, sort=sort)
    stmt = (_joined(select(*_row_columns()).select_from(Shipment)).where(query.where).order_by(*_order(sort))
            .limit(MAX_EXPORT_ROWS))

    def rows() -> Iterator[ShipmentRow]:  # runs when the writer asks for the first row
        for row in db.execute(stmt.execution_options(yield_per=chunk_rows), query.values):
            yield _to_row(row)

    return Sheet.of("Shipments", EXPORT_COLUMNS, rows(), timezone=principal.timezone)
