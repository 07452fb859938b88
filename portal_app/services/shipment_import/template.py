"""The import template: the layout with two example shipments (ocean FCL with containers, air) and their
milestones, dated around today so that the example imports as it is."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import IO

from sqlmodel import Session, col, select

from models import Company
from models.enums import CompanyKind
from portal_app.auth.principal import Principal
from portal_app.services import clock
from portal_app.services.shipment_import.importing import require_import
from portal_app.services.shipment_import.shapes import MILESTONE_COLUMNS, MILESTONES, SHIPMENT_COLUMNS, SHIPMENTS
from portal_app.services.spreadsheets import Sheet, csv_bytes, xlsx_file


def _at(days: int, hour: int) -> str:
    day = clock.today() + timedelta(days=days)
    return datetime.combine(day, time(hour, 0), tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _sheets(db: Session) -> tuple[Sheet, Sheet]:
    customer = db.exec(select(Company.code).where(Company.kind == CompanyKind.CUSTOMER.value,
                                                  col(Company.is_active).is_(True))
                       .order_by(col(Company.id)).limit(1)).first() or "ACME"
    example = {
        "reference": "TMS-OCN-000101", "customer": customer, "mode": "ocean_fcl", "origin": "CNSHA",
        "destination": "NLRTM", "carrier": "MAEU", "vessel": "MAERSK ESSEN", "voyage": "612W",
        "booking": "MAEU261234567", "mbl": "MAEU261234567", "hbl": "HSLSHA0101", "incoterm": "FOB",
        "shipper": "Shanghai Homeware Co., Ltd", "consignee": "Acme Home Goods Ltd",
        "cargo_description": "Stoneware dinnerware sets", "packages": 1240, "gross_weight_kg": 18450.5,
        "volume_cbm": 66.2, "ready_date": (clock.today() - timedelta(days=12)).isoformat(),
        "containers": "MSKU9070323:45G1;MRKU4827310:40HC",
    }
    air = {
        "reference": "TMS-AIR-000102", "customer": customer, "mode": "air", "origin": "PVG", "destination": "FRA",
        "carrier": "LH", "flight": "LH8405", "awb": "020-12345675", "hawb": "HSLPVG0102", "incoterm": "FCA",
        "shipper": "Pudong Electronics Ltd", "consignee": "Acme Home Goods Ltd",
        "cargo_description": "Bluetooth speakers", "packages": 24, "gross_weight_kg": 412, "volume_cbm": 2.1,
    }
    shipments = [[row.get(c) for c in SHIPMENT_COLUMNS] for row in (example, air)]
    milestones = [
        ["TMS-OCN-000101", "booking_confirmed", "", "", _at(-14, 9), ""],
        ["TMS-OCN-000101", "gate_in_full_at_pol", _at(-6, 14), "", _at(-6, 15), "CNSHA"],
        ["TMS-OCN-000101", "loaded_on_vessel", _at(-4, 20), "", _at(-4, 21), "CNSHA"],
        ["TMS-OCN-000101", "vessel_departure", _at(-3, 6), "", _at(-3, 8), "CNSHA"],
        ["TMS-OCN-000101", "vessel_arrival", _at(27, 8), _at(28, 10), "", "NLRTM"],
        ["TMS-AIR-000102", "booking_confirmed", "", "", _at(-3, 10), ""],
        ["TMS-AIR-000102", "departed", _at(2, 22), _at(2, 23), "", "PVG"],
        ["TMS-AIR-000102", "arrived", _at(3, 8), "", "", "FRA"],
    ]
    return Sheet(SHIPMENTS, SHIPMENT_COLUMNS, shipments), Sheet(MILESTONES, MILESTONE_COLUMNS, milestones)


def import_template_csv(db: Session, principal: Principal) -> bytes:
    """The template as one CSV file: the shipments, a blank line, then the milestones under their own header.
    Every line has as many cells as the shipments' header, as a spreadsheet program saves it."""
    require_import(principal)
    shipments, milestones = _sheets(db)
    width = len(SHIPMENT_COLUMNS)

    def padded(cells: Sequence[object]) -> list[object]:
        return [*cells, *[""] * (width - len(cells))]

    rows = [*shipments.rows, padded([]), padded(MILESTONE_COLUMNS), *[padded(r) for r in milestones.rows]]
    return csv_bytes(Sheet(SHIPMENTS, SHIPMENT_COLUMNS, rows))


def import_template_xlsx(db: Session, principal: Principal) -> IO[bytes]:
    """The template as a workbook with the sheets Shipments and Milestones (the caller closes the file)."""
    require_import(principal)
    return xlsx_file(_sheets(db))
