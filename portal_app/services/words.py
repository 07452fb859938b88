"""Counts in words with the right plural ("1 day", "2 days"), so no screen says "day(s)" or "1 shipments"."""

from __future__ import annotations


def count(n: int, one: str, many: str | None = None) -> str:
    """``n`` with the singular ``one`` or the plural ``many`` (default: ``one`` + "s")."""
    return f"{n} {one if n == 1 else (many or one + 's')}"
