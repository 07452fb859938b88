"""Figures the benchmarks share."""

from __future__ import annotations


def percentile(values: list[float], pct: float) -> float:
    """The value at ``pct`` percent of the sorted ``values`` (nearest rank, no interpolation)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))]
