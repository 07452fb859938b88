"""Spreadsheet downloads (CSV and Excel) as HTTP responses; the files themselves come from
:mod:`portal_app.services.spreadsheets`.

A failure must never look like a finished file. So the work that can fail happens before the first byte where
it can: a CSV's query runs and its first block (header and first rows) is written before the response starts,
and a workbook is written whole (to a temporary file) before it is sent, with its length. Either way a failure
there is an ordinary error answer in the API's error shape. Should the database fail later in a CSV stream, the
failure is logged and the connection is cut before the end of the chunked body, so the client reports an
incomplete download instead of keeping a short file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import IO

from fastapi.responses import StreamingResponse

from portal_app.services import spreadsheets
from portal_app.services.spreadsheets import Sheet

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READ_BYTES = 64 * 1024

log = logging.getLogger(__name__)


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def csv_download(sheet: Sheet, filename: str) -> StreamingResponse:
    """The sheet as a streamed CSV download. Call from a sync route (it runs the first query in the worker)."""
    blocks = spreadsheets.csv_blocks(sheet)
    first = next(blocks)  # the header and first rows: any failure so far is still an ordinary error answer
    return StreamingResponse(_rest_logged(first, blocks, filename), media_type=CSV_TYPE,
                             headers=_attachment(filename))


def _rest_logged(first: bytes, rest: Iterator[bytes], filename: str) -> Iterator[bytes]:
    yield first
    try:
        yield from rest
    except Exception:
        log.exception("download %s failed after it started; the connection is cut so it shows as incomplete",
                      filename)
        raise


def xlsx_download(sheets: Iterable[Sheet], filename: str) -> StreamingResponse:
    """The sheets as one Excel workbook, written whole before the first byte is sent (bounded memory: it spills
    to a temporary file). Call from a sync route."""
    file = spreadsheets.xlsx_file(sheets)
    size = file.seek(0, 2)
    file.seek(0)
    return StreamingResponse(_read_and_close(file), media_type=XLSX_TYPE,
                             headers={**_attachment(filename), "Content-Length": str(size)})


def _read_and_close(file: IO[bytes]) -> Iterator[bytes]:
    with file:
        while block := file.read(READ_BYTES):
            yield block
