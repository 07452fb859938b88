"""A picker's choice as the tower's pages hold it in state (a typed row, not a dict)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    """One choice of a picker: the value the form sends and the label people read."""

    value: str
    label: str
