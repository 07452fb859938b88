"""Normalising references so that a search finds a shipment however the customer types it."""

from __future__ import annotations

import re

_NOISE = re.compile(r"[\s\-/._]+")


def normalize_reference(value: str) -> str:
    """Upper-case and drop spaces, dashes, slashes, dots and underscores: 'msku 907-0323' -> 'MSKU9070323'."""
    return _NOISE.sub("", value or "").upper()[:40]


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix`` (for index range scans)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else prefix
