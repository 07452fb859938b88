"""Report document rows whose file is missing and files in private storage without a row (changes nothing).

``python -m portal_app.files_audit [--json]`` (``make files-audit``) reads the installation's database and files
directory (``PORTAL_DATABASE_URL``, ``PORTAL_DATA_DIR``) as the operator on the host; staff administrators get the same
report from ``GET /api/v1/admin/files-audit``. Exit status 0 when everything matches, 1 when something was found.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import datetime
from typing import Any, TextIO

from sqlmodel import Session

from portal_app.db import get_engine
from portal_app.services.files_audit import FilesAuditReport, scan


def write_text(report: FilesAuditReport, out: TextIO) -> None:
    """The report for a person: the counts, then each finding with what identifies it."""
    print(f"Files audit of {report.files_dir} at {report.checked_at:%Y-%m-%d %H:%M:%S %Z}", file=out)
    print(f"  {report.rows_checked} document rows, {report.files_checked} stored files checked", file=out)
    print(f"  {report.rows_without_file_count} rows without their file, {report.files_without_row_count} files "
          f"without a row, {report.stale_staging_count} half-received uploads older than an hour", file=out)
    for r in report.rows_without_file:
        where = f"shipment {r.shipment_reference}" if r.shipment_reference else "a request attachment"
        print(f"  row without file: document {r.document_id} ({where}, company {r.company_id}) "
              f"“{r.filename}”, key {r.storage_key}, uploaded {r.uploaded_at:%Y-%m-%d %H:%M}", file=out)
    for f in report.files_without_row:
        print(f"  file without row: {f.key} ({f.size_bytes} bytes, modified {f.modified_at:%Y-%m-%d %H:%M})",
              file=out)
    for f in report.stale_staging:
        print(f"  half-received upload: {f.key} ({f.size_bytes} bytes, modified {f.modified_at:%Y-%m-%d %H:%M})",
              file=out)
    shown = len(report.rows_without_file) + len(report.files_without_row) + len(report.stale_staging)
    total = report.rows_without_file_count + report.files_without_row_count + report.stale_staging_count
    if shown < total:
        print(f"  ({total - shown} more not listed; use --json for the first of each kind)", file=out)
    if report.clean:
        print("Every document row has its file and every stored file has its row.", file=out)
    else:
        print("Nothing was changed. See docs/operations.md (Faults, Files directory) for what to do.", file=out)


def _json_value(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal_app.files_audit", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    with Session(get_engine()) as db:
        report = scan(db)
    if args.json:
        json.dump(dataclasses.asdict(report), sys.stdout, default=_json_value, indent=2)
        print()
    else:
        write_text(report, sys.stdout)
    return 0 if report.clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
