"""Small summaries with their interval (no SciPy: Student's t quantiles are tabulated)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean, stdev

# Two-sided 95 % quantiles of Student's t by degrees of freedom (1–30); above 30, 1.96 (normal).
_T95 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t95(df: int) -> float:
    return _T95[df - 1] if df <= len(_T95) else 1.96


@dataclass(frozen=True)
class MeanInterval:
    mean: float
    n: int
    low: float | None  # None when n < 2: no interval from one value
    high: float | None
    method: str = "mean ± t(0.975, n−1) × s/√n"


def mean_interval(values: Sequence[float]) -> MeanInterval:
    """The mean with its 95 % t-interval."""
    if not values:
        raise ValueError("no values")
    mean = fmean(values)
    if len(values) < 2:
        return MeanInterval(round(mean, 4), len(values), None, None)
    half = t95(len(values) - 1) * stdev(values) / math.sqrt(len(values))
    return MeanInterval(round(mean, 4), len(values), round(mean - half, 4), round(mean + half, 4))
