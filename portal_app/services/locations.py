"""Places for forms: type-ahead over locations valid for a mode, and resolving a typed code.

Locations are reference data (not company-owned): every signed-in user may search them.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import Location
from models.enums import Mode
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services.errors import ValidationFailed
from portal_app.services.references import prefix_upper_bound
from portal_app.services.trade_codes import location_kinds_for_mode

MAX_SUGGESTIONS = 20


@dataclass(frozen=True)
class LocationOption:
    code: str
    name: str
    country: str
    kind: str
    label: str  # "NLRTM  Rotterdam (NL)"


def _option(loc: Location) -> LocationOption:
    return LocationOption(loc.code, loc.name, loc.country, loc.kind, f"{loc.code}  {loc.name} ({loc.country})")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _check_mode(mode: str) -> str:
    if mode not in Mode._value2member_map_:
        raise ValidationFailed(f"Choose a transport mode first ({', '.join(m.value for m in Mode)}).")
    return mode


def search_locations(
    db: Session, principal: Principal, mode: str, query: str, *, limit: int = 10
) -> list[LocationOption]:
    """Up to ``limit`` places valid for ``mode`` whose code or name starts with ``query`` (case-insensitive):
    exact code first, then codes, then names. Codes use the unique index (a range scan)."""
    principal.require(Permission.VIEW_SHIPMENTS)
    _check_mode(mode)
    if not 1 <= limit <= MAX_SUGGESTIONS:
        raise ValidationFailed(f"Ask for between 1 and {MAX_SUGGESTIONS} suggestions.")
    text = " ".join((query or "").split())[:60]
    if not text:
        return []
    kinds = location_kinds_for_mode(mode)
    code = text.upper().replace(" ", "")
    found: dict[str, LocationOption] = {}
    if code.isalnum() and len(code) <= 5:
        for loc in db.exec(
            select(Location)
            .where(Location.code >= code, Location.code < prefix_upper_bound(code), col(Location.kind).in_(kinds))
            .order_by((col(Location.code) == code).desc(), Location.code)
            .limit(limit)
        ).all():
            found[loc.code] = _option(loc)
    if len(found) < limit:
        pattern = _escape_like(text.lower()) + "%"
        for loc in db.exec(
            select(Location)
            .where(sa.func.lower(Location.name).like(pattern, escape="\\"), col(Location.kind).in_(kinds))
            .order_by(Location.name, Location.code)
            .limit(limit)
        ).all():
            found.setdefault(loc.code, _option(loc))
    return list(found.values())[:limit]


def find_location(db: Session, code: str | None) -> Location | None:
    """A location by its code (UN/LOCODE or IATA), ignoring case and spaces; None when unknown."""
    value = (code or "").strip().upper().replace(" ", "")
    if not value or len(value) > 5:
        return None
    return db.exec(select(Location).where(Location.code == value)).first()
