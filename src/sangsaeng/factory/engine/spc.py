"""Statistical process control: Shewhart charts, Western Electric / Nelson run rules and process
capability, as pure functions of the measured values.

Limits come from a baseline (by default every sample given) and are never revised silently: a
caller who removes assignable causes asks for new limits by choosing another baseline. A lower
limit below zero is clipped to zero where the statistic cannot be negative (ranges, standard
deviations, proportions, counts).

Constants: d2 and d3 of the relative range (n = 2..25, ASTM E2587 / Montgomery, Appendix VI);
c4 exactly from the gamma function.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from sangsaeng.factory.engine.problems import N_, InputProblems

CHARTS: tuple[str, ...] = ("xbar-r", "xbar-s", "imr", "p", "np", "c", "u")
VARIABLE_CHARTS = ("xbar-r", "xbar-s", "imr")

# Relative range: mean (d2) and standard deviation (d3) for subgroups of n = 2..25.
# fmt: off
D2 = dict(zip(range(2, 26), (
    1.128, 1.693, 2.059, 2.326, 2.534, 2.704, 2.847, 2.970, 3.078, 3.173, 3.258, 3.336,
    3.407, 3.472, 3.532, 3.588, 3.640, 3.689, 3.735, 3.778, 3.819, 3.858, 3.895, 3.931,
), strict=True))
D3 = dict(zip(range(2, 26), (
    0.853, 0.888, 0.880, 0.864, 0.848, 0.833, 0.820, 0.808, 0.797, 0.787, 0.778, 0.770,
    0.763, 0.756, 0.750, 0.744, 0.739, 0.734, 0.729, 0.724, 0.720, 0.716, 0.712, 0.708,
), strict=True))
# fmt: on

RULES: dict[int, str] = {
    1: N_("One point beyond 3 sigma"),
    2: N_("Nine points in a row on one side of the centre line"),
    3: N_("Six points in a row steadily increasing or decreasing"),
    4: N_("Fourteen points in a row alternating up and down"),
    5: N_("Two of three points beyond 2 sigma on the same side"),
    6: N_("Four of five points beyond 1 sigma on the same side"),
    7: N_("Fifteen points in a row within 1 sigma"),
    8: N_("Eight points in a row beyond 1 sigma on either side"),
}


class SpcError(InputProblems):
    """Data a chart cannot be drawn from."""


def c4(n: int) -> float:
    """Bias of the sample standard deviation of n normal values: E[s] = c4·σ."""
    return math.sqrt(2 / (n - 1)) * math.exp(math.lgamma(n / 2) - math.lgamma((n - 1) / 2))


@dataclass
class Limits:
    center: np.ndarray
    lcl: np.ndarray
    ucl: np.ndarray
    sigma: np.ndarray  # one sigma of the plotted statistic, per sample (before clipping)


@dataclass
class ChartResult:
    chart: str
    points: np.ndarray
    limits: Limits
    baseline: tuple[int, int]  # 1-based, inclusive
    violations: list[dict] = field(default_factory=list)
    secondary: dict | None = None  # the range, standard-deviation or moving-range chart
    capability: dict | None = None
    sizes: np.ndarray | None = None

    def as_dict(self) -> dict:
        out_of_control = sorted({v["sample"] for v in self.violations})
        return {
            "chart": self.chart,
            "center": _plain(self.limits.center),
            "lcl": _plain(self.limits.lcl),
            "ucl": _plain(self.limits.ucl),
            "points": [float(v) for v in self.points],
            "n_samples": len(self.points),
            "baseline": list(self.baseline),
            "violations": self.violations,
            "out_of_control": out_of_control,
            "secondary": self.secondary,
            "capability": self.capability,
        }


def _baseline(count: int, baseline: tuple[int, int] | None) -> tuple[int, int]:
    if baseline is None:
        return 1, count
    first, last = baseline
    if not 1 <= first < last <= count:
        raise SpcError(
            [(N_("The baseline must be samples from 1 to {n}, first before last."), {"n": count})]
        )
    return first, last


def _limits(center, sigma, *, floor: float | None = 0.0, ceiling: float | None = None) -> Limits:
    center = np.asarray(center, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    lcl = center - 3 * sigma
    ucl = center + 3 * sigma
    if floor is not None:
        lcl = np.maximum(lcl, floor)
    if ceiling is not None:
        ucl = np.minimum(ucl, ceiling)
    return Limits(center, lcl, ucl, sigma)


def _subgroups(values: np.ndarray, labels: Sequence) -> list[np.ndarray]:
    """Consecutive runs of one label form a subgroup, in the order the data gives them."""
    groups: list[np.ndarray] = []
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or labels[i] != labels[start]:
            groups.append(values[start:i])
            start = i
    return groups


def control_chart(
    chart: str,
    values: Sequence[float],
    *,
    sizes: Sequence[float] | None = None,
    subgroups: Sequence | None = None,
    baseline: tuple[int, int] | None = None,
    lsl: float | None = None,
    usl: float | None = None,
) -> ChartResult:
    """One control chart with its limits, run-rule violations and (for measurements with
    specification limits) capability."""
    if chart not in CHARTS:
        raise SpcError([(N_("Unknown chart '{chart}'."), {"chart": chart})])
    x = np.asarray(values, dtype=float)
    if chart in ("xbar-r", "xbar-s"):
        result = _xbar(chart, x, subgroups, baseline)
    elif chart == "imr":
        result = _imr(x, baseline)
    else:
        result = _attribute(chart, x, sizes, baseline)
    result.violations = run_rules(result.points, result.limits)
    if result.secondary is not None:
        sec = result.secondary
        for i, (point, low, high) in enumerate(
            zip(
                sec["points"],
                _as_list(sec["lcl"], len(sec["points"])),
                _as_list(sec["ucl"], len(sec["points"])),
                strict=True,
            )
        ):
            if point is not None and (point > high or point < low):
                result.violations.append(
                    {"sample": i + 1 + sec.get("offset", 0), "rule": 1, "chart": sec["kind"]}
                )
        result.violations.sort(key=lambda v: (v["sample"], v["rule"]))
    if chart in VARIABLE_CHARTS and (lsl is not None or usl is not None):
        result.capability = capability(
            x,
            sigma_within=float(result.limits.sigma[0] * _root_n(result)),
            lsl=lsl,
            usl=usl,
        )
    return result


def _as_list(value, n: int) -> list[float]:
    return list(value) if isinstance(value, list) else [value] * n


def _root_n(result: ChartResult) -> float:
    """σ of single values from σ of the plotted statistic (a mean of n values)."""
    if result.chart in ("xbar-r", "xbar-s"):
        return math.sqrt(result.sizes[0])
    return 1.0


def _xbar(chart: str, x: np.ndarray, labels, baseline) -> ChartResult:
    if labels is None:
        raise SpcError([(N_("X̄ charts need a subgroup column."), {})])
    groups = _subgroups(x, list(labels))
    sizes = np.array([len(g) for g in groups])
    if np.any(sizes < 2):
        raise SpcError(
            [
                (
                    N_("Subgroups {samples} have fewer than 2 measurements."),
                    {"samples": _samples(np.flatnonzero(sizes < 2))},
                )
            ]
        )
    if chart == "xbar-r" and np.any(sizes > 25):
        raise SpcError([(N_("X̄-R charts take subgroups of at most 25; use X̄-S."), {})])
    first, last = _baseline(len(groups), baseline)
    means = np.array([g.mean() for g in groups])
    base = slice(first - 1, last)
    grand = float(np.average(means[base], weights=sizes[base]))
    if chart == "xbar-r":
        spread = np.array([g.max() - g.min() for g in groups])
        sigma = float(np.mean([r / D2[n] for r, n in zip(spread[base], sizes[base], strict=True)]))
        d2 = np.array([D2[n] for n in sizes])
        d3 = np.array([D3[n] for n in sizes])
        secondary = _secondary("range", spread, d2 * sigma, d3 * sigma)
    else:
        spread = np.array([g.std(ddof=1) for g in groups])
        sigma = float(np.mean([s / c4(n) for s, n in zip(spread[base], sizes[base], strict=True)]))
        c = np.array([c4(n) for n in sizes])
        secondary = _secondary("stdev", spread, c * sigma, sigma * np.sqrt(1 - c**2))
    limits = _limits(np.full(len(groups), grand), sigma / np.sqrt(sizes), floor=None)
    return ChartResult(chart, means, limits, (first, last), secondary=secondary, sizes=sizes)


def _secondary(kind: str, points, center, sigma, offset: int = 0) -> dict:
    limits = _limits(center, sigma)
    return {
        "kind": kind,
        "points": [float(p) for p in points],
        "center": _plain(limits.center),
        "lcl": _plain(limits.lcl),
        "ucl": _plain(limits.ucl),
        "offset": offset,
    }


def _plain(values: np.ndarray):
    """One number when every sample shares the value, else the list (limits that vary)."""
    values = np.asarray(values, dtype=float)
    if values.size and np.allclose(values, values[0]):
        return float(values[0])
    return [float(v) for v in values]


def _imr(x: np.ndarray, baseline) -> ChartResult:
    if len(x) < 3:
        raise SpcError([(N_("An I-MR chart needs at least 3 values."), {})])
    first, last = _baseline(len(x), baseline)
    moving = np.abs(np.diff(x))
    base_mr = moving[first - 1 : last - 1]  # the moving ranges inside the baseline
    mr_bar = float(base_mr.mean())
    sigma = mr_bar / D2[2]
    centre = float(x[first - 1 : last].mean())
    limits = _limits(np.full(len(x), centre), np.full(len(x), sigma), floor=None)
    secondary = _secondary(
        "moving_range",
        moving,
        np.full(len(moving), mr_bar),
        np.full(len(moving), D3[2] * sigma),
        offset=1,
    )
    return ChartResult("imr", x, limits, (first, last), secondary=secondary)


def _attribute(chart: str, x: np.ndarray, sizes, baseline) -> ChartResult:
    if np.any(x < 0):
        raise SpcError(
            [
                (
                    N_("Samples {samples} have a negative count."),
                    {"samples": _samples(np.flatnonzero(x < 0))},
                )
            ]
        )
    first, last = _baseline(len(x), baseline)
    base = slice(first - 1, last)
    if chart == "c":
        c_bar = float(x[base].mean())
        limits = _limits(np.full(len(x), c_bar), np.full(len(x), math.sqrt(c_bar)))
        return ChartResult(chart, x, limits, (first, last))
    if sizes is None:
        raise SpcError([(N_("A {chart} chart needs a sample-size column."), {"chart": chart})])
    n = np.asarray(sizes, dtype=float)
    if np.any(n <= 0):
        raise SpcError(
            [
                (
                    N_("Samples {samples} have a sample size of 0 or less."),
                    {"samples": _samples(np.flatnonzero(n <= 0))},
                )
            ]
        )
    if chart == "u":
        u_bar = float(x[base].sum() / n[base].sum())
        limits = _limits(np.full(len(x), u_bar), np.sqrt(u_bar / n))
        return ChartResult(chart, x / n, limits, (first, last), sizes=n)
    if np.any(x > n):
        raise SpcError(
            [
                (
                    N_("Samples {samples} have more defectives than units inspected."),
                    {"samples": _samples(np.flatnonzero(x > n))},
                )
            ]
        )
    p_bar = float(x[base].sum() / n[base].sum())
    if chart == "p":
        limits = _limits(np.full(len(x), p_bar), np.sqrt(p_bar * (1 - p_bar) / n), ceiling=1.0)
        return ChartResult(chart, x / n, limits, (first, last), sizes=n)
    if not np.allclose(n, n[0]):
        raise SpcError([(N_("An np chart needs one sample size; use a p chart."), {})])
    size = float(n[0])
    limits = _limits(
        np.full(len(x), size * p_bar),
        np.full(len(x), math.sqrt(size * p_bar * (1 - p_bar))),
        ceiling=size,
    )
    return ChartResult(chart, x, limits, (first, last), sizes=n)


def _samples(indices: np.ndarray) -> str:
    shown = ", ".join(str(i + 1) for i in indices[:10])
    return shown + (f" (+{len(indices) - 10})" if len(indices) > 10 else "")


def run_rules(points: Sequence[float], limits: Limits) -> list[dict]:
    """Nelson's eight rules (the first four are Western Electric's) on each sample's distance
    from the centre line in its own sigma; a violation is reported at the sample that completes
    the pattern, each rule once per sample."""
    x = np.asarray(points, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(limits.sigma > 0, (x - limits.center) / limits.sigma, 0.0)
    found: list[dict] = []

    def hit(i: int, rule: int) -> None:
        found.append({"sample": i + 1, "rule": rule})

    side = np.sign(z)
    for i in range(len(x)):
        if x[i] > limits.ucl[i] or x[i] < limits.lcl[i]:
            hit(i, 1)
        if i >= 8 and side[i] != 0 and np.all(side[i - 8 : i + 1] == side[i]):
            hit(i, 2)
        if i >= 5:
            steps = np.diff(x[i - 5 : i + 1])
            if np.all(steps > 0) or np.all(steps < 0):
                hit(i, 3)
        if i >= 13:
            steps = np.sign(np.diff(x[i - 13 : i + 1]))
            if np.all(steps != 0) and np.all(steps[1:] == -steps[:-1]):
                hit(i, 4)
        for rule, span, need, level in ((5, 3, 2, 2.0), (6, 5, 4, 1.0)):
            if i >= span - 1 and abs(z[i]) > level:
                window = z[i - span + 1 : i + 1]
                same = np.sign(window) == np.sign(z[i])
                if np.count_nonzero(same & (np.abs(window) > level)) >= need:
                    hit(i, rule)
        if i >= 14 and np.all(np.abs(z[i - 14 : i + 1]) < 1):
            hit(i, 7)
        if i >= 7 and np.all(np.abs(z[i - 7 : i + 1]) > 1):
            hit(i, 8)
    return found


def capability(
    values: Sequence[float],
    *,
    sigma_within: float,
    lsl: float | None,
    usl: float | None,
    alpha: float = 0.05,
) -> dict:
    """Cp, Cpk (within-subgroup sigma) and Pp, Ppk (overall sigma) with (1 − α) intervals:
    χ² intervals for Cp and Pp, Bissell's normal approximation for Cpk and Ppk (n − 1 degrees
    of freedom for both sigmas)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    mean = float(x.mean())
    sigma_overall = float(x.std(ddof=1))
    dof = n - 1
    z = stats.norm.ppf(1 - alpha / 2)
    low_q, high_q = stats.chi2.ppf([alpha / 2, 1 - alpha / 2], dof)

    def spread_index(sigma: float) -> dict | None:
        if lsl is None or usl is None or sigma <= 0:
            return None
        value = (usl - lsl) / (6 * sigma)
        return {
            "value": value,
            "ci": [value * math.sqrt(low_q / dof), value * math.sqrt(high_q / dof)],
        }

    def centred_index(sigma: float) -> dict | None:
        if sigma <= 0:
            return None
        sides = []
        if usl is not None:
            sides.append((usl - mean) / (3 * sigma))
        if lsl is not None:
            sides.append((mean - lsl) / (3 * sigma))
        value = min(sides)
        half = z * math.sqrt(1 / (9 * n) + value**2 / (2 * dof))
        return {"value": value, "ci": [value - half, value + half]}

    return {
        "n": n,
        "mean": mean,
        "sigma_within": sigma_within,
        "sigma_overall": sigma_overall,
        "lsl": lsl,
        "usl": usl,
        "cp": spread_index(sigma_within),
        "cpk": centred_index(sigma_within),
        "pp": spread_index(sigma_overall),
        "ppk": centred_index(sigma_overall),
        "confidence": 1 - alpha,
        "method": N_(
            "Cp and Cpk use the within-subgroup sigma of the chart, Pp and Ppk the overall "
            "sample standard deviation; χ² intervals for Cp and Pp, Bissell's approximation "
            "for Cpk and Ppk."
        ),
    }
