"""Turning service DTOs into the small typed rows of display strings pages keep in state."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime

from portal_app.services import display
from portal_app.services.shipments import ShipmentRow

MODE_LABELS = {
    "ocean_fcl": "Ocean FCL",
    "ocean_lcl": "Ocean LCL",
    "air": "Air",
    "road_ftl": "Road FTL",
    "road_ltl": "Road LTL",
}


def fmt_date(value: date | datetime | None) -> str:
    """A day in the reader's language (an instant's day in the reader's zone); see services/display.py."""
    return display.day(value)


def fmt_datetime(value: datetime | None) -> str:
    """An instant in the reader's own zone and language, with the zone's abbreviation."""
    return display.when(value)


def fmt_local(value: datetime | None, tz: str | None) -> str:
    """A time in the zone ``tz`` (IANA name; unknown names fall back to UTC) with the zone's abbreviation for that
    date, in the reader's language: "10 Nov 2026 18:00 CET"."""
    return display.at_place(value, tz)


def fmt_delay(minutes: int) -> str:
    if minutes <= 0:
        return "On time"
    days, rem = divmod(minutes, 1440)
    hours = rem // 60
    if days:
        return f"{days} d {hours} h late" if hours else f"{days} d late"
    return f"{max(hours, 1)} h late"


def status_label(status: str) -> str:
    return status.replace("_", " ")


@dataclass(frozen=True)
class ShipmentLine:
    """One shipment as the lists and the detail's heading show it. ``late`` is "yes" or "no" (the list's
    ``data-late``); ``href`` is the shipment's page in the viewer's area (empty on the detail page itself)."""

    reference: str
    company: str
    mode: str
    status: str
    origin: str
    destination: str
    carrier: str
    etd: str
    eta: str
    eta_kind: str
    delay: str
    late: str
    po: str
    href: str

    @classmethod
    def blank(cls) -> ShipmentLine:
        """Every field empty: what a page holds before its shipment is loaded (or when it is not found)."""
        return cls(**dict.fromkeys((f.name for f in fields(cls)), ""))


def shipment_row_view(row: ShipmentRow, href: str = "") -> ShipmentLine:
    return ShipmentLine(
        reference=row.reference,
        company=row.company_name,
        mode=MODE_LABELS.get(row.mode, row.mode),
        status=status_label(row.status),
        origin=f"{row.origin_name} ({row.origin})",
        destination=f"{row.destination_name} ({row.destination})",
        carrier=row.carrier or "—",
        etd=fmt_date(row.etd),
        eta=fmt_date(row.ata or row.eta),
        eta_kind="Arrived" if row.ata else "ETA",
        delay=fmt_delay(row.delay_minutes),
        late="yes" if row.delay_minutes > 0 else "no",
        po=row.customer_po or "—",
        href=href,
    )
