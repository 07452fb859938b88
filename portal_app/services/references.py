"""Normalising references so that a search finds a shipment however the customer types it."""

from __future__ import annotations

import re

from models import ShipmentReference

_NOISE = re.compile(r"[\s\-/._]+")


def normalize_reference(value: str) -> str:
    """Upper-case and drop spaces, dashes, slashes, dots and underscores: 'msku 907-0323' -> 'MSKU9070323'."""
    return _NOISE.sub("", value or "").upper()[:40]


MIN_PART = 3  # a part shorter than this finds too much to be worth a row


def search_values(display: str) -> list[str]:
    """What a reference is found by: its normalised whole, then each part after a separator to its end, so a
    search for the number inside ACME-PO-477671 ("477671", or "PO-4776") finds it with the same index range scan
    as a search from its start. ``['ACMEPO477671', 'PO477671', '477671']``."""
    whole = normalize_reference(display)
    values = [whole] if whole else []
    for match in _NOISE.finditer(display or ""):
        part = normalize_reference(display[match.end():])
        if len(part) >= MIN_PART and part not in values:
            values.append(part)
    return values


def reference_rows(shipment_id: int, company_id: int, kind: str, display: str) -> list[ShipmentReference]:
    """The search rows of one reference of a shipment (see :func:`search_values`)."""
    return [ShipmentReference(shipment_id=shipment_id, company_id=company_id, kind=kind, value=value,
                              display_value=display[:40])
            for value in search_values(display)]


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix`` (for index range scans)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else prefix
