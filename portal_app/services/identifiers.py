"""Check digits and validation for transport identifiers: ISO 6346 container numbers and IATA air waybills.

Pure functions, no I/O. Used by forms, the API, tracking ingestion and the seed.
"""

from __future__ import annotations

import re

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _letter_values() -> dict[str, int]:
    """ISO 6346 letter values: A=10, counting up and skipping multiples of 11 (so B=12, L=23, V=34)."""
    values: dict[str, int] = {}
    n = 10
    for letter in _LETTERS:
        if n % 11 == 0:
            n += 1
        values[letter] = n
        n += 1
    return values


_ISO6346_VALUES: dict[str, int] = {**_letter_values(), **{str(d): d for d in range(10)}}
_CONTAINER_RE = re.compile(r"^[A-Z]{3}[UJZ][0-9]{6}[0-9]$")
_AWB_RE = re.compile(r"^([0-9]{3})[-\s]?([0-9]{7})([0-9])$")


def iso6346_check_digit(owner_serial10: str) -> int:
    """Check digit for the first 10 characters of a container number (owner + category + 6-digit serial).

    Raises ValueError when the text is not 4 letters followed by 6 digits.
    """
    text = owner_serial10.strip().upper()
    if not re.fullmatch(r"[A-Z]{4}[0-9]{6}", text):
        raise ValueError(f"expected 4 letters and 6 digits, got {owner_serial10!r}")
    total = sum(_ISO6346_VALUES[ch] * (2**i) for i, ch in enumerate(text))
    return total % 11 % 10


def is_valid_container_number(s: str | None) -> bool:
    """True for an ISO 6346 container number (owner code, category U/J/Z, serial, correct check digit).

    Lower case is accepted; spaces or other separators are not.
    """
    if not isinstance(s, str):
        return False
    text = s.strip().upper()
    if not _CONTAINER_RE.match(text):
        return False
    return iso6346_check_digit(text[:10]) == int(text[10])


def make_container_number(owner3: str, category: str, serial6: int | str) -> str:
    """Build a valid container number, e.g. ``make_container_number("MSK", "U", 907032) == "MSKU9070323"``."""
    owner = owner3.strip().upper()
    cat = category.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", owner):
        raise ValueError(f"owner code must be 3 letters, got {owner3!r}")
    if cat not in {"U", "J", "Z"}:
        raise ValueError(f"category must be U, J or Z, got {category!r}")
    serial = f"{int(serial6):06d}" if isinstance(serial6, int) else serial6.strip()
    if not re.fullmatch(r"[0-9]{6}", serial):
        raise ValueError(f"serial must be 6 digits, got {serial6!r}")
    head = owner + cat + serial
    return head + str(iso6346_check_digit(head))


def awb_check_digit(serial7: int | str) -> int:
    """IATA air waybill check digit: the 7-digit serial number modulo 7."""
    if isinstance(serial7, str):
        if not re.fullmatch(r"[0-9]{7}", serial7.strip()):
            raise ValueError(f"serial must be 7 digits, got {serial7!r}")
        serial7 = int(serial7)
    if not 0 <= serial7 <= 9_999_999:
        raise ValueError(f"serial must be 7 digits, got {serial7!r}")
    return serial7 % 7


def is_valid_awb(s: str | None) -> bool:
    """True for an 11-digit air waybill (3-digit prefix + 7-digit serial + mod-7 check digit).

    Accepts ``02012345675``, ``020-12345675`` and ``020 12345675``.
    """
    if not isinstance(s, str):
        return False
    m = _AWB_RE.match(s.strip())
    if not m:
        return False
    return int(m.group(2)) % 7 == int(m.group(3))


def make_awb(prefix3: str, serial7: int | str) -> str:
    """Build an 11-digit air waybill number without a dash, e.g. ``make_awb("020", 1234567) == "02012345675"``."""
    prefix = prefix3.strip()
    if not re.fullmatch(r"[0-9]{3}", prefix):
        raise ValueError(f"airline prefix must be 3 digits, got {prefix3!r}")
    serial = f"{int(serial7):07d}" if isinstance(serial7, int) else serial7.strip()
    return f"{prefix}{serial}{awb_check_digit(serial)}"


def format_awb(awb11: str) -> str:
    """Display form of an 11-digit air waybill: ``020-12345675``."""
    digits = re.sub(r"[-\s]", "", awb11)
    return f"{digits[:3]}-{digits[3:]}" if len(digits) == 11 else awb11
