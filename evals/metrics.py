"""Pure metric functions: each takes what one case produced and returns a number."""

from __future__ import annotations

from collections.abc import Sequence


def hit_at(ranked: Sequence[str], expected: Sequence[str], k: int) -> float:
    return 1.0 if set(ranked[:k]) & set(expected) else 0.0


def reciprocal_rank(ranked: Sequence[str], expected: Sequence[str], k: int = 10) -> float:
    for rank, record_id in enumerate(ranked[:k], start=1):
        if record_id in expected:
            return 1.0 / rank
    return 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
