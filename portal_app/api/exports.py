"""Streaming list exports: CSV row chunks as they come from the database, Excel built once (pandas)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import datetime

import pandas as pd
from fastapi.responses import Response, StreamingResponse

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _frame(rows: list, columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame([{k: getattr(r, k) for k in columns} for r in rows], columns=list(columns))
    for col in frame.columns:
        if frame[col].map(lambda v: isinstance(v, datetime)).any():
            frame[col] = frame[col].map(lambda v: v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else v)
    return frame.rename(columns=columns)


def csv_stream(chunks: Iterable[list], columns: dict[str, str], filename: str) -> StreamingResponse:
    def body() -> Iterator[bytes]:
        yield "\ufeff".encode()  # byte-order mark so spreadsheet programs read UTF-8
        header = True
        for rows in chunks:
            yield _frame(rows, columns).to_csv(index=False, header=header).encode()
            header = False
        if header:  # nothing matched: still a valid CSV with its header
            yield _frame([], columns).to_csv(index=False).encode()

    return StreamingResponse(
        body(), media_type=CSV_TYPE, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def xlsx_response(chunks: Iterable[list], columns: dict[str, str], filename: str, sheet: str) -> Response:
    frames = [_frame(rows, columns) for rows in chunks] or [_frame([], columns)]
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        pd.concat(frames, ignore_index=True).to_excel(writer, index=False, sheet_name=sheet)
    return Response(
        buffer.getvalue(), media_type=XLSX_TYPE, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
