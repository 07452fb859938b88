"""Reading shipments: the list with paging, filters and search by any reference, and one shipment in detail.

Every query is scoped by :func:`portal_app.services.scope.company_filter` from the acting principal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from models import Carrier, Company, Container, Location, Milestone, Shipment, ShipmentReference
from models.enums import Mode, ShipmentStatus
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services.errors import NotFound, ValidationFailed
from portal_app.services.references import normalize_reference, prefix_upper_bound
from portal_app.services.scope import company_filter

MAX_PAGE_SIZE = 200
SORTS = {
    "updated": Shipment.updated_at.desc(),
    "-updated": Shipment.updated_at.asc(),
    "eta": Shipment.eta_estimated.asc(),
    "-eta": Shipment.eta_estimated.desc(),
    "reference": Shipment.reference.asc(),
    "-reference": Shipment.reference.desc(),
}


@dataclass(frozen=True)
class ShipmentFilters:
    statuses: tuple[str, ...] = ()
    mode: str | None = None
    search: str | None = None
    company_id: int | None = None  # staff only; ignored scope-wise for customers (they never leave their company)

    def validate(self) -> None:
        bad = [s for s in self.statuses if s not in ShipmentStatus._value2member_map_]
        if bad:
            allowed = ", ".join(s.value for s in ShipmentStatus)
            raise ValidationFailed(f"Unknown status {bad[0]!r}. Use one of: {allowed}.")
        if self.mode and self.mode not in Mode._value2member_map_:
            allowed = ", ".join(m.value for m in Mode)
            raise ValidationFailed(f"Unknown mode {self.mode!r}. Use one of: {allowed}.")


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
class Page:
    rows: list[ShipmentRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


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


@dataclass(frozen=True)
class ContainerView:
    number: str
    size_type: str
    seal_number: str | None


@dataclass(frozen=True)
class ShipmentDetail:
    row: ShipmentRow
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
    milestones: list[MilestoneView] = field(default_factory=list)
    containers: list[ContainerView] = field(default_factory=list)


_Origin = aliased(Location, name="origin_loc")
_Destination = aliased(Location, name="destination_loc")


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
        sa.func.coalesce(Shipment.atd, Shipment.etd_estimated, Shipment.etd_planned),
        sa.func.coalesce(Shipment.eta_estimated, Shipment.eta_planned),
        Shipment.ata,
        Shipment.delay_minutes,
        Shipment.customer_po,
        Shipment.updated_at,
    )


def _joined(stmt: sa.Select) -> sa.Select:
    return (
        stmt.join(Company, Company.id == Shipment.company_id)
        .join(_Origin, _Origin.id == Shipment.origin_id)
        .join(_Destination, _Destination.id == Shipment.destination_id)
        .outerjoin(Carrier, Carrier.id == Shipment.carrier_id)
    )


def _where(principal: Principal, filters: ShipmentFilters) -> list[sa.ColumnElement[bool]]:
    principal.require(Permission.VIEW_SHIPMENTS)
    filters.validate()
    clauses: list[sa.ColumnElement[bool]] = [company_filter(Shipment.company_id, principal)]
    if filters.company_id is not None and principal.sees_all_companies:
        clauses.append(Shipment.company_id == filters.company_id)
    if filters.statuses:
        clauses.append(Shipment.status.in_(filters.statuses))
    if filters.mode:
        clauses.append(Shipment.mode == filters.mode)
    term = normalize_reference(filters.search or "")
    if term:
        refs = select(ShipmentReference.shipment_id).where(
            ShipmentReference.value >= term,
            ShipmentReference.value < prefix_upper_bound(term),
            company_filter(ShipmentReference.company_id, principal),
        )
        clauses.append(Shipment.id.in_(refs))
    return clauses


def _to_row(r: sa.Row | tuple) -> ShipmentRow:
    return ShipmentRow(*r)


def list_statements(
    principal: Principal, filters: ShipmentFilters, *, page: int, page_size: int, sort: str
) -> tuple[sa.Select, sa.Select]:
    """The count and the page query for a list request (also used by the benchmark to time raw SQL)."""
    if sort not in SORTS:
        raise ValidationFailed(f"Unknown sort {sort!r}. Use one of: {', '.join(SORTS)}.")
    if page < 1:
        raise ValidationFailed("Page numbers start at 1.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationFailed(f"Page size must be between 1 and {MAX_PAGE_SIZE}.")
    clauses = _where(principal, filters)
    count = select(sa.func.count()).select_from(Shipment).where(*clauses)
    rows = (
        _joined(select(*_row_columns()).select_from(Shipment))
        .where(*clauses)
        .order_by(SORTS[sort], Shipment.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return count, rows


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
    count, stmt = list_statements(principal, filters, page=page, page_size=page_size, sort=sort)
    total = db.exec(count).one()
    rows = [_to_row(r) for r in db.exec(stmt).all()]
    return Page(rows=rows, total=int(total), page=page, page_size=page_size)


def get_shipment(db: Session, principal: Principal, reference: str) -> ShipmentDetail:
    """One shipment by its reference. Another company's shipment raises NotFound, exactly like a missing one."""
    principal.require(Permission.VIEW_SHIPMENTS)
    ref = (reference or "").strip().upper()
    stmt = _joined(select(Shipment, *_row_columns()).select_from(Shipment)).where(
        Shipment.reference == ref, company_filter(Shipment.company_id, principal)
    )
    found = db.exec(stmt).first()
    if found is None:
        raise NotFound(f"No shipment {reference!r} was found in your account. Check the reference and try again.")
    shipment: Shipment = found[0]
    row = _to_row(tuple(found[1:]))
    milestone_rows = db.exec(
        select(Milestone, Location.code)
        .outerjoin(Location, Location.id == Milestone.location_id)
        .where(Milestone.shipment_id == shipment.id)
        .where(sa.true() if principal.is_staff else Milestone.customer_visible.is_(True))
        .order_by(Milestone.sequence)
    ).all()
    containers = db.exec(select(Container).where(Container.shipment_id == shipment.id).order_by(Container.number)).all()
    return ShipmentDetail(
        row=row,
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
            )
            for m, loc in milestone_rows
        ],
        containers=[ContainerView(c.number, c.size_type, c.seal_number) for c in containers],
    )
