"""Every CSV and Excel file the product writes: one cell conversion, one CSV writer, one workbook writer.

Cells are made safe and plain in one place (:func:`cell`): text a spreadsheet program would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) gets a leading apostrophe, so a customer's PO
such as ``=HYPERLINK(...)`` is shown as text, never run; numbers stay numbers (a negative amount is still a
number); a missing value is an empty cell; a time is ISO 8601 text with its offset, in the reader's zone
(``2026-12-15T10:00:00-05:00``: the reader's wall clock, and still one exact instant for any program that reads
it); a day is ``YYYY-MM-DD``. A sheet names its zone in the headers of its time columns (``{zone}`` in a header
reads "America/New_York"), so a person knows which clock the times are on.

Both writers take rows one at a time, so an export of any length runs in bounded memory: CSV goes out in blocks
of about 64 KiB as the rows arrive, and the workbook is written with openpyxl's write-only mode (rows go to a
temporary file, strings inline, nothing per cell kept in memory).
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import numbers
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES

from portal_app.services import display

Cell = str | int | float | Decimal | bool | None

# What makes Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Control characters an Excel file cannot hold (openpyxl refuses them); dropped from every cell, before the
# formula check, so a hidden character cannot hide a formula behind it.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
ZONE_TOKEN = "{zone}"  # in a header: the sheet's zone name
CSV_BLOCK_BYTES = 64 * 1024
# Workbooks up to this size stay in memory while they are built; bigger ones spill to a temporary file.
XLSX_SPOOL_BYTES = 4 * 1024 * 1024


def neutralise(text: str) -> str:
    """The text as a spreadsheet shows it, never runs it: an apostrophe before a formula-like start."""
    text = _CONTROL.sub("", text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: object, tz: str | None = None) -> Cell:
    """One value as a spreadsheet cell; an instant in the zone ``tz`` (IANA name; UTC by default). Raises
    ``TypeError`` for a type no export has (a programming error)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):  # StrEnum too
        return neutralise(value)
    if isinstance(value, datetime):
        if value != value:  # pandas' NaT is a datetime that equals nothing
            return None
        moment = value if value.tzinfo else value.replace(tzinfo=display.zone(None))  # stored times are UTC
        return moment.astimezone(display.zone(tz)).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, Enum):
        return cell(value.value, tz)
    raise TypeError(f"no spreadsheet cell for a {type(value).__name__} value")


@dataclass(frozen=True)
class Sheet:
    """A table to write: its title (the workbook sheet's name), its header and its rows (iterated once), and the
    zone its times are written in (the reader's: ``Principal.timezone``)."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[object]]
    timezone: str = display.DEFAULT_ZONE

    @classmethod
    def of(cls, title: str, columns: Mapping[str, str], records: Iterable[object], *,
           timezone: str | None = None) -> Sheet:
        """A sheet of records (objects or mappings), one column per ``columns`` key under its header text."""
        keys = tuple(columns)

        def rows() -> Iterator[tuple[object, ...]]:
            for record in records:
                if isinstance(record, Mapping):
                    yield tuple(record.get(k) for k in keys)
                else:
                    yield tuple(getattr(record, k) for k in keys)

        return cls(title, tuple(columns.values()), rows(), display.zone(timezone).key)

    def cells(self) -> Iterator[list[Cell]]:
        """The header (``{zone}`` named), then every row, as cells."""
        tz = display.zone(self.timezone).key
        yield [cell(h.replace(ZONE_TOKEN, tz)) for h in self.header]
        for row in self.rows:
            yield [cell(v, tz) for v in row]


def csv_blocks(sheet: Sheet, *, block_bytes: int = CSV_BLOCK_BYTES) -> Iterator[bytes]:
    """The sheet as UTF-8 CSV (RFC 4180), in blocks of about ``block_bytes``: a byte-order mark (so spreadsheet
    programs read UTF-8) and the header come in the first block with the first rows.

    Text is always quoted and numbers never are: a separator of another locale (``;``) inside a text cannot
    start a new cell, and a number stays a number.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    buffer.write("\ufeff")
    for row in sheet.cells():
        writer.writerow(["" if v is None else v for v in row])
        if buffer.tell() >= block_bytes:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def csv_bytes(sheet: Sheet) -> bytes:
    """A small sheet as one CSV file (templates, tests)."""
    return b"".join(csv_blocks(sheet))


def write_xlsx(sheets: Iterable[Sheet], out: IO[bytes]) -> None:
    """Write the sheets as one Excel workbook to ``out`` (openpyxl write-only: memory does not grow with rows)."""
    book = Workbook(write_only=True)
    try:
        for sheet in sheets:
            worksheet = book.create_sheet(title=sheet.title[:31])
            for row in sheet.cells():
                worksheet.append([_text_cell(worksheet, v) if isinstance(v, str) and v in ERROR_CODES else v
                                  for v in row])
        book.save(out)
    except BaseException:
        _discard(book)
        raise


def _discard(book: Workbook) -> None:
    """Close the sheets of a workbook that will not be saved and delete their temporary files (openpyxl would
    keep them until the process ends)."""
    for worksheet in book.worksheets:
        writer = worksheet._writer
        if writer is None or worksheet.closed:
            continue
        with contextlib.suppress(Exception):
            worksheet.close()
        with contextlib.suppress(OSError, ValueError):
            writer.cleanup()


def _text_cell(worksheet: object, value: str) -> WriteOnlyCell:
    """Text such as ``#N/A`` stays text (openpyxl would store it as an error value)."""
    text = WriteOnlyCell(worksheet, value)
    text.data_type = "s"
    return text


def xlsx_file(sheets: Iterable[Sheet]) -> IO[bytes]:
    """The workbook in a temporary file (in memory while small), positioned at its start. The caller closes it;
    closing deletes it."""
    with contextlib.ExitStack() as on_failure:
        out = on_failure.enter_context(tempfile.SpooledTemporaryFile(max_size=XLSX_SPOOL_BYTES))
        write_xlsx(sheets, out)
        out.seek(0)
        on_failure.pop_all()  # written: the caller owns it now
    return out
