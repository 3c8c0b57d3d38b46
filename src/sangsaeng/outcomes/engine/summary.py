"""Summaries of improvements across companies: mean, median, a trimmed mean and a bootstrap
interval of the mean, each with its n."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
TRIM = 0.10  # the share cut from each end for the trimmed mean


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float | None
    median: float | None
    trimmed_mean: float | None
    ci: tuple[float, float] | None  # 95 % percentile bootstrap interval of the mean
    method: str

    def as_dict(self) -> dict:
        return {
            "n": self.n,
            "mean": self.mean,
            "median": self.median,
            "trimmed_mean": self.trimmed_mean,
            "ci": list(self.ci) if self.ci else None,
            "method": self.method,
        }


def trimmed_mean(values: np.ndarray, trim: float = TRIM) -> float:
    """The mean after cutting ⌊n × trim⌋ values from each end of the sorted values."""
    ordered = np.sort(values)
    cut = int(len(ordered) * trim)
    kept = ordered[cut : len(ordered) - cut] if cut else ordered
    return float(kept.mean())


def bootstrap_ci(
    values: np.ndarray, *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (resampling companies with replacement), in
    blocks so that memory stays bounded for tens of thousands of companies."""
    rng = np.random.default_rng(seed)
    n = len(values)
    means = np.empty(resamples)
    block = max(1, 4_000_000 // max(n, 1))  # ≤ 4 M indices (32 MB) at a time
    for start in range(0, resamples, block):
        stop = min(resamples, start + block)
        picks = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = values[picks].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def summarize(
    values: Sequence[float | None], *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0
) -> Summary:
    """Mean, median, 10 % trimmed mean and the 95 % bootstrap interval of the mean over the
    defined values (None is missing and left out, never counted as 0)."""
    data = np.asarray([v for v in values if v is not None], dtype=float)
    method = (
        f"mean over companies; median; {int(TRIM * 100)} % trimmed mean; 95 % percentile "
        f"bootstrap interval of the mean ({resamples} resamples of companies, seed {seed})"
    )
    if len(data) == 0:
        return Summary(0, None, None, None, None, method)
    ci = bootstrap_ci(data, resamples=resamples, seed=seed) if len(data) >= 2 else None
    return Summary(
        n=len(data),
        mean=float(data.mean()),
        median=float(np.median(data)),
        trimmed_mean=trimmed_mean(data),
        ci=ci,
        method=method,
    )


def joint_bootstrap_cis(
    sums: np.ndarray,
    counts: np.ndarray,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
    level: float = 0.95,
) -> list[tuple[float, float] | None]:
    """Percentile bootstrap intervals of several means at once, resampling companies.

    ``sums`` and ``counts`` are (companies × statistics): statistic j's estimate is
    Σ sums[:, j] / Σ counts[:, j] (a company without the value has count 0). Every resample
    draws the same companies for every statistic, so a company's values move together (a
    cluster bootstrap), and the draws are turned into per-company weights so that all statistics
    come from one matrix product — 30,000 companies × 2,000 resamples × dozens of statistics
    in about a second. A statistic with fewer than 2 companies gets no interval.
    """
    n, k = sums.shape
    if n == 0 or k == 0:
        return [None] * k
    rng = np.random.default_rng(seed)
    means = np.empty((resamples, k))
    block = max(1, 4_000_000 // n)
    both = np.hstack([sums, counts])  # one matrix product gives numerators and denominators
    for start in range(0, resamples, block):
        size = min(resamples, start + block) - start
        picks = rng.integers(0, n, size=(size, n))
        picks += np.arange(size)[:, None] * n
        weights = np.bincount(picks.ravel(), minlength=size * n).reshape(size, n).astype(float)
        totals = weights @ both
        with np.errstate(invalid="ignore", divide="ignore"):
            means[start : start + size] = totals[:, :k] / totals[:, k:]
    tail = (1 - level) / 2 * 100
    intervals: list[tuple[float, float] | None] = []
    companies = (counts > 0).sum(axis=0)
    for j in range(k):
        column = means[:, j]
        column = column[~np.isnan(column)]
        if companies[j] < 2 or len(column) == 0:
            intervals.append(None)
            continue
        low, high = np.percentile(column, [tail, 100 - tail])
        intervals.append((float(low), float(high)))
    return intervals


def describe(values: Sequence[float], ci: tuple[float, float] | None, method: str) -> Summary:
    """A summary of defined values with an interval computed elsewhere (the joint bootstrap)."""
    data = np.asarray(values, dtype=float)
    if len(data) == 0:
        return Summary(0, None, None, None, None, method)
    return Summary(
        n=len(data),
        mean=float(data.mean()),
        median=float(np.median(data)),
        trimmed_mean=trimmed_mean(data),
        ci=ci,
        method=method,
    )
