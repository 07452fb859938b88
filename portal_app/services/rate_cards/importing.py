"""Importing rate cards from CSV or Excel, all or nothing, and the template file."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from sqlmodel import Session

from portal_app.auth.principal import Principal
from portal_app.services import clock
from portal_app.services.errors import ValidationFailed
from portal_app.services.rate_cards.checks import (
    _blank,
    _Carriers,
    _check_card_charges,
    _check_card_fields,
    _check_charge,
    _Checked,
    _day,
    _num,
    _require_manage,
    _str,
)
from portal_app.services.rate_cards.shapes import (
    CARD_COLUMNS,
    IMPORT_COLUMNS,
    MAX_CHARGES,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    MAX_REPORTED_PROBLEMS,
    NOTHING_IMPORTED,
    REQUIRED_COLUMNS,
    ImportProblem,
    ImportRefused,
    ImportReport,
)
from portal_app.services.rate_cards.writing import _audit, _store
from portal_app.services.spreadsheets import Sheet, csv_bytes

if TYPE_CHECKING:  # pandas is imported where it is used: importing it costs every server start most of a second
    import pandas as pd


def _read_frame(filename: str, data: bytes) -> pd.DataFrame:
    import pandas as pd

    name = (filename or "").lower()
    is_xlsx = data[:4] == b"PK\x03\x04" or name.endswith((".xlsx", ".xlsm"))
    try:
        if is_xlsx:
            frame = pd.read_excel(io.BytesIO(data), dtype=object, engine="openpyxl")
        else:
            text = data.decode("utf-8-sig")
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True)
    except UnicodeDecodeError:
        raise ValidationFailed(f"The file is not UTF-8 text. Save it as CSV UTF-8 or as Excel (.xlsx). "
                               f"{NOTHING_IMPORTED}") from None
    except Exception as exc:  # noqa: BLE001 (pandas and openpyxl raise many kinds for a damaged file)
        raise ValidationFailed(f"The file could not be read as {'Excel' if is_xlsx else 'CSV'} ({type(exc).__name__})."
                               f" Check it opens in a spreadsheet and save it as .csv or .xlsx. "
                               f"{NOTHING_IMPORTED}") from None
    frame.columns = [str(c).strip().lower().replace(" ", "_") for c in frame.columns]
    return frame


def _same(column: str, a: object, b: object) -> bool:
    """Whether two rows of one card agree on a card column (dates and numbers compared by value)."""
    if _str(a).upper() == _str(b).upper():
        return True
    if column in ("valid_from", "valid_to"):
        return _day(a) is not None and _day(a) == _day(b)
    if column in ("transit_days", "demurrage_free_days", "detention_free_days"):
        return _num(a) is not None and _num(a) == _num(b)
    return False


def import_template_csv() -> bytes:
    """A small example file in the import layout (two cards: an FCL lane and an air lane with weight breaks)."""
    rows = [
        ["SHA-RTM-1", "ocean_fcl", "CNSHA", "NLRTM", "MAEU", "2026-01-01", "2026-03-31", "USD", "32", "", "7", "14",
         "FRT", "Ocean freight", "per_container", "22G1", "", "1850", "", "", ""],
        ["SHA-RTM-1", "ocean_fcl", "CNSHA", "NLRTM", "MAEU", "2026-01-01", "2026-03-31", "USD", "32", "", "7", "14",
         "FRT", "Ocean freight", "per_container", "45G1", "", "3050", "", "", ""],
        ["SHA-RTM-1", "ocean_fcl", "CNSHA", "NLRTM", "MAEU", "2026-01-01", "2026-03-31", "USD", "32", "", "7", "14",
         "BAF", "Bunker adjustment factor", "per_container", "", "", "420", "", "", ""],
        ["SHA-RTM-1", "ocean_fcl", "CNSHA", "NLRTM", "MAEU", "2026-01-01", "2026-03-31", "USD", "32", "", "7", "14",
         "INS", "Cargo insurance", "percent", "", "", "0.35", "35", "cargo_value", "insurance"],
        ["PVG-FRA-1", "air", "PVG", "FRA", "LH", "2026-01-01", "2026-03-31", "EUR", "2", "", "", "",
         "FRT", "Air freight", "per_kg", "", "0", "4.80", "120", "", ""],
        ["PVG-FRA-1", "air", "PVG", "FRA", "LH", "2026-01-01", "2026-03-31", "EUR", "2", "", "", "",
         "FRT", "Air freight", "per_kg", "", "100", "3.40", "", "", ""],
        ["PVG-FRA-1", "air", "PVG", "FRA", "LH", "2026-01-01", "2026-03-31", "EUR", "2", "", "", "",
         "FSC", "Fuel surcharge", "per_kg", "", "", "0.95", "", "", ""],
    ]
    return csv_bytes(Sheet("Rate cards", IMPORT_COLUMNS, rows))


def import_rate_cards(db: Session, principal: Principal, filename: str, data: bytes) -> ImportReport:
    """Import rate cards from a CSV or Excel file (one row per charge). All or nothing: any bad row refuses the
    whole file with :class:`ImportRefused` (its ``report`` has row, column and problem for every bad row)."""
    _require_manage(principal)
    name = (filename or "rates").rsplit("/", 1)[-1][:120]
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationFailed(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB. Split it into "
                               f"several files. {NOTHING_IMPORTED}")
    if not data.strip():
        raise ValidationFailed(f"The file is empty. {NOTHING_IMPORTED}")
    frame = _read_frame(name, data)
    problems: list[ImportProblem] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    unknown = [c for c in frame.columns if c not in IMPORT_COLUMNS and not c.startswith("unnamed")]
    for c in missing:
        problems.append(ImportProblem(1, c, f"The column {c!r} is missing from the header row."))
    for c in unknown:
        problems.append(ImportProblem(1, c, f"Unknown column {c!r}. Columns are: {', '.join(IMPORT_COLUMNS)}."))
    if problems:
        raise ImportRefused(ImportReport(name, len(frame), 0, 0, False, tuple(problems)))
    if frame.empty:
        raise ValidationFailed(f"The file has a header but no rows. {NOTHING_IMPORTED}")
    if len(frame) > MAX_IMPORT_ROWS:
        raise ValidationFailed(f"The file has {len(frame)} rows; at most {MAX_IMPORT_ROWS} are imported at once. "
                               f"Split it into several files. {NOTHING_IMPORTED}")
    look = _Carriers(db)
    cards: dict[str, tuple[int, dict, _Checked | None, list[tuple[int, dict]]]] = {}
    records = frame.to_dict("records")
    for index, values in enumerate(records):
        row_no = index + 2
        if all(_blank(values.get(c)) for c in IMPORT_COLUMNS):
            continue
        label = _str(values.get("card"))
        if not label:
            problems.append(ImportProblem(row_no, "card", "Give the card a label (any text); rows with the same label "
                                                          "form one card."))
            continue
        card_values = {c: values.get(c) for c in CARD_COLUMNS if c != "card"}
        if label not in cards:
            found, checked = _check_card_fields(look, card_values)
            problems += [ImportProblem(row_no, col, text) for col, text in found.items()]
            cards[label] = (row_no, card_values, checked, [])
        else:
            first_row, first_values, checked, _ = cards[label]
            for col, value in card_values.items():
                if not _same(col, value, first_values[col]):
                    shown = _str(first_values[col]) or "empty"
                    problems.append(ImportProblem(
                        row_no, col, f"Differs from row {first_row} of card {label!r} ({shown!r}); every row of a "
                                     "card repeats the same card columns."))
        mode = _str(card_values.get("mode")).lower()
        found, charge = _check_charge(mode, values)
        problems += [ImportProblem(row_no, col, text) for col, text in found.items()]
        if charge is not None:
            cards[label][3].append((row_no, charge))
    for label, (first_row, _values, checked, charges) in cards.items():
        if checked is None or not charges:
            continue
        whole = _check_card_charges(checked.mode, [c for _r, c in charges])
        if whole:
            problems.append(ImportProblem(first_row, "charge_code", f"Card {label!r}: {whole}"))
        if len(charges) > MAX_CHARGES:
            problems.append(ImportProblem(first_row, "card", f"Card {label!r} has more than {MAX_CHARGES} charges."))
    total_charges = sum(len(c[3]) for c in cards.values())
    if problems:
        problems.sort(key=lambda p: (p.row, IMPORT_COLUMNS.index(p.column) if p.column in IMPORT_COLUMNS else 99))
        raise ImportRefused(ImportReport(name, len(records), len(cards), total_charges, False,
                                         tuple(problems[:MAX_REPORTED_PROBLEMS])))
    now = clock.now()
    ids: list[int] = []
    try:
        for _row_no, _values, checked, charges in cards.values():
            assert checked is not None  # a card with a problem refused the file above
            checked.charges = [c for _r, c in charges]
            card = _store(db, checked, now)
            assert card.id is not None  # flushed: the row has its key
            ids.append(card.id)
        _audit(db, principal, "rate_cards_imported", name[:40], None,
               {"file": name, "cards": len(ids), "charges": total_charges, "first_id": ids[0] if ids else None,
                "last_id": ids[-1] if ids else None})
        db.commit()
    except Exception:
        db.rollback()
        raise
    return ImportReport(name, len(records), len(ids), total_charges, True, (), tuple(ids))
