"""ISO 6346 container numbers and IATA air waybill numbers, checked against the shared reference lists."""

from __future__ import annotations

import csv

import pytest

from portal_app.services.identifiers import (
    awb_check_digit,
    format_awb,
    is_valid_awb,
    is_valid_container_number,
    iso6346_check_digit,
    make_awb,
    make_container_number,
)
from tests.paths import SHARED_REFERENCE

REFERENCE = SHARED_REFERENCE
needs_reference = pytest.mark.skipif(
    not REFERENCE.is_dir(), reason=f"shared reference data not found at {REFERENCE} (checkout without ../shared)"
)


def _rows(relative: str) -> list[dict[str, str]]:
    if not REFERENCE.is_dir():
        return []
    with open(REFERENCE / relative, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _expected(row: dict[str, str]) -> bool:
    return row["expected_valid"].strip().lower() == "true"


CONTAINER_ROWS = _rows("identifiers/iso6346_container_numbers.csv")
AWB_ROWS = _rows("identifiers/iata_awb_numbers.csv")


@needs_reference
def test_reference_lists_are_not_empty() -> None:
    assert len(CONTAINER_ROWS) >= 10
    assert len(AWB_ROWS) >= 5


@needs_reference
@pytest.mark.parametrize("row", CONTAINER_ROWS, ids=[r["container_number"] for r in CONTAINER_ROWS])
def test_container_numbers_against_reference(row: dict[str, str]) -> None:
    assert is_valid_container_number(row["container_number"]) is _expected(row), row["note"]


@needs_reference
@pytest.mark.parametrize("row", AWB_ROWS, ids=[r["awb_number"] for r in AWB_ROWS])
def test_awb_numbers_against_reference(row: dict[str, str]) -> None:
    assert is_valid_awb(row["awb_number"]) is _expected(row), row["note"]


def test_iso6346_letter_values_and_check_digit() -> None:
    # Wikipedia worked example: CSQU305438 -> 3
    assert iso6346_check_digit("CSQU305438") == 3
    assert iso6346_check_digit("csqu305438") == 3
    with pytest.raises(ValueError):
        iso6346_check_digit("CSQU30543")


def test_make_container_number_round_trips() -> None:
    assert make_container_number("MSK", "U", 907032) == "MSKU9070323"
    assert make_container_number("csq", "u", "305438") == "CSQU3054383"
    for serial in range(0, 1_000_000, 7919):
        assert is_valid_container_number(make_container_number("HLX", "U", serial))
    with pytest.raises(ValueError):
        make_container_number("MSK", "X", 1)


def test_container_rejects_non_strings_and_bad_category() -> None:
    assert not is_valid_container_number(None)
    assert not is_valid_container_number("")
    assert not is_valid_container_number("CSQX3054383")


def test_awb_helpers() -> None:
    assert awb_check_digit("1234567") == 5
    assert awb_check_digit(9999999) == 2
    assert make_awb("020", 1234567) == "02012345675"
    assert make_awb("618", "0000000") == "61800000000"
    assert is_valid_awb("020 12345675")
    assert not is_valid_awb(None)
    assert format_awb("02012345675") == "020-12345675"
    for serial in range(0, 10_000_000, 99991):
        awb = make_awb("176", serial)
        assert len(awb) == 11 and is_valid_awb(awb)
        assert awb[-1] not in "789"
