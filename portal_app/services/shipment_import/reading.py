"""Reading an import file into its two sections (shipments, milestones), each row with the number a spreadsheet
shows for it.

CSV: UTF-8 (a byte-order mark is fine), comma or semicolon separated. The shipments come first under their header;
the milestones follow in the same file under their own header row (it starts ``reference,milestone``), so two
exports of a TMS put one after the other make one import file. Excel (.xlsx): a sheet "Shipments" (or the first
sheet) and an optional sheet "Milestones"; without that sheet the first sheet may hold both sections like a CSV.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from portal_app.services.errors import ValidationFailed
from portal_app.services.shipment_import.shapes import (
    COLUMN_ALIASES,
    MAX_COLUMNS,
    MAX_MILESTONE_ROWS,
    MAX_SHIPMENT_ROWS,
    MILESTONES,
    NOTHING_IMPORTED,
    SHIPMENTS,
)

XLSX_MAGIC = b"PK\x03\x04"
MAX_SCANNED_ROWS = MAX_SHIPMENT_ROWS + MAX_MILESTONE_ROWS + 10_000


@dataclass
class Section:
    """One table of the file: its columns (normalised names, as in the header) and its rows."""

    name: str
    header_row: int = 1
    columns: list[tuple[int, str]] = field(default_factory=list)  # (position, name)
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)  # (spreadsheet row, values by name)


def column_name(header: object) -> str:
    text = "" if header is None else str(header)
    name = "_".join(text.strip().lower().replace("-", " ").replace("/", " ").split())
    return COLUMN_ALIASES.get(name, name)


def _blank_row(cells: Sequence[object]) -> bool:
    return all(c is None or str(c).strip() == "" for c in cells)


def _is_milestone_header(cells: Sequence[object]) -> bool:
    names = [column_name(c) for c in cells if c is not None and str(c).strip()]
    return len(names) >= 2 and names[0] == "reference" and names[1] == "milestone"


def _sections(rows: Iterable[tuple[int, Sequence[object]]], *, split: bool) -> list[Section]:
    """Cut rows into sections: the first non-blank row is a header; with ``split``, a later milestone header
    starts the milestones section."""
    out: list[Section] = []
    current: Section | None = None
    limit = {SHIPMENTS: MAX_SHIPMENT_ROWS, MILESTONES: MAX_MILESTONE_ROWS}
    for row_no, cells in rows:
        if row_no > MAX_SCANNED_ROWS:  # blank rows count too: a sheet of a million empty rows is not read to its end
            raise ValidationFailed(f"The file goes on past row {MAX_SCANNED_ROWS}. Delete the empty rows below the "
                                   f"data, or split the file into several. {NOTHING_IMPORTED}")
        if _blank_row(cells):
            continue
        if current is None or (split and current.name == SHIPMENTS and _is_milestone_header(cells)):
            name = SHIPMENTS if current is None and not _is_milestone_header(cells) else MILESTONES
            if len(cells) > MAX_COLUMNS and not _blank_row(cells[MAX_COLUMNS:]):
                raise ValidationFailed(f"The {name} header has more than {MAX_COLUMNS} columns. Export only the "
                                       f"columns of the import layout (docs/imports.md). {NOTHING_IMPORTED}")
            current = Section(name, row_no, [(i, column_name(c)) for i, c in enumerate(cells[:MAX_COLUMNS])
                                     if c is not None and str(c).strip()])
            out.append(current)
            continue
        if len(current.rows) >= limit[current.name]:
            raise ValidationFailed(f"The {current.name} part has more than {limit[current.name]} rows; import at most "
                                   f"that many at once. Split the file into several. {NOTHING_IMPORTED}")
        current.rows.append((row_no, {name: (cells[i] if i < len(cells) else None) for i, name in current.columns}))
    return out


def _csv_rows(data: bytes) -> Iterable[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(f"The file is not UTF-8 text. Save it as CSV UTF-8 or as Excel (.xlsx). "
                               f"{NOTHING_IMPORTED}") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise ValidationFailed(f"The CSV file could not be read ({exc}). Check it opens in a spreadsheet and save it "
                               f"again as CSV UTF-8. {NOTHING_IMPORTED}") from None


def _sheet_rows(sheet: Any) -> Iterable[tuple[int, tuple[object, ...]]]:
    yield from enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1), start=1)


def _read_xlsx(data: bytes) -> list[Section]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise ValidationFailed(f"The file could not be read as Excel ({type(exc).__name__}). Check it opens in a "
                               f"spreadsheet and save it as .xlsx or as CSV UTF-8. {NOTHING_IMPORTED}") from None
    try:
        by_name = {ws.title.strip().lower(): ws for ws in book.worksheets}
        if not by_name:
            raise ValidationFailed(f"The workbook has no sheets. {NOTHING_IMPORTED}")
        shipments = by_name.get("shipments") or book.worksheets[0]
        milestones = by_name.get("milestones")
        sections = _sections(_sheet_rows(shipments), split=milestones is None)
        if milestones is not None and milestones is not shipments:
            found = _sections(_sheet_rows(milestones), split=False)
            for section in found:
                section.name = MILESTONES
            sections += found[:1]
        return sections
    except ValidationFailed:
        raise
    except Exception as exc:  # noqa: BLE001 (openpyxl raises many kinds for a damaged workbook)
        raise ValidationFailed(f"The file could not be read as Excel ({type(exc).__name__}). Check it opens in a "
                               f"spreadsheet and save it as .xlsx or as CSV UTF-8. {NOTHING_IMPORTED}") from None
    finally:
        book.close()


def read_sections(filename: str, data: bytes) -> tuple[Section | None, Section | None]:
    """The shipments and the milestones of the file (either may be missing)."""
    name = (filename or "").lower()
    if data[:4] == XLSX_MAGIC or name.endswith((".xlsx", ".xlsm")):
        sections = _read_xlsx(data)
    else:
        sections = _sections(_csv_rows(data), split=True)
    shipments = next((s for s in sections if s.name == SHIPMENTS), None)
    milestones = next((s for s in sections if s.name == MILESTONES), None)
    return shipments, milestones
