"""Staggered difference-in-differences after Callaway & Sant'Anna (2021).

The group-time effects ATT(g,t) and their influence functions come from ``diff-diff``'s
``CallawaySantAnna`` (R ``did``'s ``att_gt``: varying base period, no anticipation, analytic
standard errors clustered by unit). ``diff-diff`` has no calendar aggregation, so all four
aggregations of R's ``aggte`` — simple, dynamic (event study), group and calendar — are built here
from those per-cell influence functions, with R's correction for estimated group weights
("wif"). Building them in one place lets one multiplier-bootstrap draw set serve every figure, so
the uniform event-study band and the aggregates agree. The pre-trend test is R's Wald test on the
pre-period ATT(g,t).

Influence functions are kept in diff-diff's scale: a column ψ gives the standard error
``sqrt(Σ ψ²)`` (R's ``inffunc / n``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

Control = Literal["never", "notyet"]
Method = Literal["dr", "reg", "ipw"]
CONTROLS: tuple[str, ...] = ("never", "notyet")
METHODS: tuple[str, ...] = ("dr", "reg", "ipw")
MIN_NEVER_TREATED = 5
_ROWS_SHOWN = 10
_BOOTSTRAP_CHUNK = 128


def N_(msgid: str) -> str:
    """Mark a message for translation; the caller translates it."""
    return msgid


class PanelError(ValueError):
    """The data cannot be estimated on: English msgids with their parameters, per problem."""

    def __init__(self, problems: list[tuple[str, dict]]):
        self.problems = problems
        super().__init__("; ".join(msgid.format(**params) for msgid, params in problems))


@dataclass(frozen=True)
class Estimate:
    att: float
    se: float
    ci: tuple[float, float]

    def as_dict(self) -> dict:
        return {"att": _num(self.att), "se": _num(self.se), "ci": [_num(v) for v in self.ci]}


@dataclass
class DidResult:
    cells: list[tuple[int, int]]  # (group, time) in order
    att_gt: list[Estimate]
    simple: Estimate
    dynamic_overall: Estimate
    by_event: list[tuple[int, Estimate]]
    event_band: list[tuple[float, float]] | None
    group_overall: Estimate
    by_group: list[tuple[int, Estimate]]
    calendar_overall: Estimate
    by_time: list[tuple[int, Estimate]]
    pretrend: dict | None
    n_units: int
    n_periods: int
    n_treated: int
    n_never: int
    control: str
    method: str
    covariates: tuple[str, ...]
    bootstrap: int
    seed: int
    crit_value: float | None
    alpha: float
    warnings: list[tuple[str, dict]] = field(default_factory=list)

    @property
    def se_type(self) -> str:
        return "bootstrap" if self.bootstrap else "analytic"

    def as_dict(self) -> dict:
        """The CLI contract (see ``sangsaeng impact estimate --json``)."""
        by_event = []
        for index, (event, est) in enumerate(self.by_event):
            band = self.event_band[index] if self.event_band else None
            by_event.append(
                {"event": event, **est.as_dict(), "band": [_num(v) for v in band] if band else None}
            )
        return {
            "att_gt": [
                {"group": g, "time": t, **est.as_dict(), "post": t >= g}
                for (g, t), est in zip(self.cells, self.att_gt, strict=True)
            ],
            "aggregations": {
                "simple": self.simple.as_dict(),
                "dynamic": {"overall": self.dynamic_overall.as_dict(), "by_event": by_event},
                "group": {
                    "overall": self.group_overall.as_dict(),
                    "by_group": [{"group": g, **e.as_dict()} for g, e in self.by_group],
                },
                "calendar": {
                    "overall": self.calendar_overall.as_dict(),
                    "by_time": [{"time": t, **e.as_dict()} for t, e in self.by_time],
                },
            },
            "pretrend_p": self.pretrend["p"] if self.pretrend else None,
            "pretrend": self.pretrend,
            "n_units": self.n_units,
            "n_periods": self.n_periods,
            "n_treated": self.n_treated,
            "n_never": self.n_never,
            "control": self.control,
            "method": self.method,
            "se_type": self.se_type,
            "bootstrap": self.bootstrap,
            "seed": self.seed,
            "alpha": self.alpha,
            "crit_value": _num(self.crit_value) if self.crit_value is not None else None,
            "covariates": list(self.covariates),
            "warnings": [[msgid, params] for msgid, params in self.warnings],
        }


def _num(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


# --- input checks --------------------------------------------------------------------------------


def _rows(frame: pd.DataFrame, mask: np.ndarray, first_row: int) -> str:
    positions = np.flatnonzero(mask)
    shown = ", ".join(str(p + first_row) for p in positions[:_ROWS_SHOWN])
    more = len(positions) - _ROWS_SHOWN
    return shown + (f" (+{more})" if more > 0 else "")


def prepare(
    frame: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    covariates: Sequence[str] = (),
    control: str = "never",
    method: str = "dr",
    first_row: int = 1,
) -> tuple[pd.DataFrame, list[tuple[str, dict]]]:
    """Check the panel and return it in the estimator's shape (unit, time, cohort, outcome,
    covariates; cohort 0 = never treated; balanced), with notes on what was dropped.

    ``first_row`` is the number the user sees for the frame's first row (2 for a CSV file with a
    header), so errors name the rows of their file."""
    problems: list[tuple[str, dict]] = []
    notes: list[tuple[str, dict]] = []
    missing = [c for c in (unit, time, cohort, outcome, *covariates) if c not in frame.columns]
    if missing:
        raise PanelError([(N_("Missing column(s): {columns}."), {"columns": ", ".join(missing)})])
    if control not in CONTROLS:
        problems.append((N_("Unknown control group '{value}'."), {"value": control}))
    if method not in METHODS:
        problems.append((N_("Unknown estimation method '{value}'."), {"value": method}))
    if frame.empty:
        problems.append((N_("The data has no rows."), {}))
    if problems:
        raise PanelError(problems)

    times = pd.to_numeric(frame[time], errors="coerce")
    bad_time = (times.isna() | (times != times.round())).to_numpy()
    if bad_time.any():
        problems.append(
            (
                N_("Rows {rows}: the time '{column}' is not a whole number."),
                {"rows": _rows(frame, bad_time, first_row), "column": time},
            )
        )
    raw_cohort = frame[cohort]
    cohorts = pd.to_numeric(raw_cohort, errors="coerce")
    blank_cohort = raw_cohort.isna()
    if not pd.api.types.is_numeric_dtype(raw_cohort):  # text cells: an empty one means never
        blank_cohort |= raw_cohort.astype(str).str.strip() == ""
    bad_cohort = (~blank_cohort & (cohorts.isna() | (cohorts != cohorts.round()))).to_numpy()
    if bad_cohort.any():
        problems.append(
            (
                N_("Rows {rows}: the cohort '{column}' is not a year (0 or empty: never treated)."),
                {"rows": _rows(frame, bad_cohort, first_row), "column": cohort},
            )
        )
    cohorts = cohorts.fillna(0)
    values = pd.to_numeric(frame[outcome], errors="coerce")
    bad_value = (values.isna() | ~np.isfinite(values.fillna(0))).to_numpy()
    if bad_value.any():
        problems.append(
            (
                N_("Rows {rows}: the outcome '{column}' is empty or not a number."),
                {"rows": _rows(frame, bad_value, first_row), "column": outcome},
            )
        )
    covariate_values = {}
    for name in covariates:
        column = pd.to_numeric(frame[name], errors="coerce")
        bad = column.isna().to_numpy()
        if bad.any():
            problems.append(
                (
                    N_("Rows {rows}: the covariate '{column}' is empty or not a number."),
                    {"rows": _rows(frame, bad, first_row), "column": name},
                )
            )
        covariate_values[name] = column
    units = frame[unit]
    if units.isna().any():
        problems.append(
            (
                N_("Rows {rows}: the unit '{column}' is empty."),
                {"rows": _rows(frame, units.isna().to_numpy(), first_row), "column": unit},
            )
        )
    if problems:
        raise PanelError(problems)

    # Units as integer codes: the checks below and the package's own grouping stay numeric.
    codes, labels = pd.factorize(units, sort=True)
    time_values = times.to_numpy(dtype=np.int64)
    cohort_values = cohorts.to_numpy(dtype=np.int64)
    work = pd.DataFrame(
        {
            "unit": codes.astype(np.int64),
            "time": time_values,
            "cohort": cohort_values,
            "y": values.to_numpy(dtype=float),
        }
    )
    for name, column in covariate_values.items():
        work[name] = column.to_numpy(dtype=float)

    periods = np.unique(time_values)
    first, last = int(periods[0]), int(periods[-1])
    period_index = np.searchsorted(periods, time_values)
    cell = codes.astype(np.int64) * len(periods) + period_index
    duplicated = np.bincount(cell, minlength=len(labels) * len(periods))[cell] > 1
    if duplicated.any():
        problems.append(
            (
                N_("Rows {rows}: the same unit appears twice in one period."),
                {"rows": _rows(frame, duplicated, first_row)},
            )
        )
    n_units = len(labels)
    low = np.full(n_units, np.iinfo(np.int64).max)
    high = np.full(n_units, np.iinfo(np.int64).min)
    np.minimum.at(low, codes, cohort_values)
    np.maximum.at(high, codes, cohort_values)
    two = np.flatnonzero(low != high)
    if len(two):
        mask = np.isin(codes, two)
        problems.append(
            (
                N_("Rows {rows}: units {units} have more than one cohort."),
                {
                    "rows": _rows(frame, mask, first_row),
                    "units": ", ".join(map(str, labels[two[:_ROWS_SHOWN]])),
                },
            )
        )
    treated = cohort_values > 0
    outside = treated & ((cohort_values <= first) | (cohort_values > last))
    if outside.any():
        problems.append(
            (
                N_(
                    "Rows {rows}: the cohort is outside the time range {first}–{last} "
                    "(a cohort needs at least one period before it and must start by the last)."
                ),
                {"rows": _rows(frame, outside, first_row), "first": first, "last": last},
            )
        )
    if problems:
        raise PanelError(problems)

    # R's att_gt on a panel keeps only units observed in every period.
    per_unit = np.bincount(codes, minlength=n_units)
    incomplete = per_unit[codes] < len(periods)
    if incomplete.any():
        notes.append(
            (
                N_("{n} units not observed in every period were left out (balanced panel)."),
                {"n": int(np.count_nonzero(per_unit < len(periods)))},
            )
        )
        work = work.loc[~incomplete]
    complete_units = per_unit >= len(periods)
    n_never = int(np.count_nonzero(complete_units & (low == 0)))
    n_treated = int(np.count_nonzero(complete_units & (low > 0)))
    if n_treated == 0:
        raise PanelError([(N_("No treated units remain."), {})])
    if control == "never" and n_never < MIN_NEVER_TREATED:
        raise PanelError(
            [
                (
                    N_("Only {n} never-treated units; at least {min} are needed as controls."),
                    {"n": int(n_never), "min": MIN_NEVER_TREATED},
                )
            ]
        )
    if control == "notyet" and n_never == 0 and work["cohort"].nunique() < 2:
        raise PanelError([(N_("No never-treated or not-yet-treated units to compare with."), {})])
    return work.reset_index(drop=True), notes


# --- estimation ----------------------------------------------------------------------------------


def estimate(
    frame: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    covariates: Sequence[str] = (),
    control: str = "never",
    method: str = "dr",
    bootstrap: int = 0,
    seed: int = 0,
    alpha: float = 0.05,
    first_row: int = 1,
) -> DidResult:
    """ATT(g,t) and the four aggregations with standard errors clustered by unit: analytic
    unless ``bootstrap`` multiplier draws are asked for (then also the uniform event-study band)."""
    work, notes = prepare(
        frame,
        unit=unit,
        time=time,
        cohort=cohort,
        outcome=outcome,
        covariates=covariates,
        control=control,
        method=method,
        first_row=first_row,
    )
    return estimate_prepared(
        work,
        covariates=tuple(covariates),
        control=control,
        method=method,
        bootstrap=bootstrap,
        seed=seed,
        alpha=alpha,
        notes=notes,
    )


def fit_cells(work: pd.DataFrame, *, covariates: Sequence[str], control: str, method: str):
    """The package's estimator on a prepared panel: ATT(g,t) per cell, with per-cell influence
    functions as a dense (units × cells) matrix, and the package's warnings."""
    from diff_diff import CallawaySantAnna

    estimator = CallawaySantAnna(
        control_group="never_treated" if control == "never" else "not_yet_treated",
        estimation_method=method,
        base_period="varying",
        anticipation=0,
        n_bootstrap=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = estimator.fit(
            work,
            outcome="y",
            unit="unit",
            time="time",
            first_treat="cohort",
            covariates=list(covariates) or None,
        )
    kit = fitted._aggregation_kit  # the package's per-cell influence functions
    unit_cohorts = np.asarray(kit.bookkeeping["unit_cohorts"], dtype=float)
    cells = sorted(
        (int(g), int(t))
        for (g, t), info in fitted.group_time_effects.items()
        if np.isfinite(info["effect"])
    )
    psi = np.zeros((len(unit_cohorts), len(cells)), order="F")  # columns are read whole
    for j, (g, t) in enumerate(cells):
        info = kit.influence.get((g, t))
        if info is None:
            info = kit.influence[(np.int64(g), np.int64(t))]
        psi[info["treated_idx"], j] += info["treated_inf"]
        psi[info["control_idx"], j] += info["control_inf"]
    att = np.array([fitted.group_time_effects[cell]["effect"] for cell in cells], dtype=float)
    messages = sorted(
        {
            str(w.message).splitlines()[0][:300]
            for w in caught
            if not issubclass(w.category, (FutureWarning, DeprecationWarning))
        }
    )
    return cells, att, psi, unit_cohorts, messages


@dataclass(frozen=True)
class _Aggregate:
    att: float
    psi: np.ndarray


def _weighted(att, psi, keep, pg, cohort_of_cell, unit_cohort_index, *, wif: bool) -> _Aggregate:
    """R ``aggte``'s weighted average of the kept cells by group share, with the influence of
    estimating the shares (``wif``) when the weights vary by group."""
    keep = np.asarray(keep)
    weights = pg[keep] / pg[keep].sum()
    value = float(weights @ att[keep])
    combined = psi[:, keep] @ weights
    if wif:
        total = pg[keep].sum()
        d = float(pg[keep] @ att[keep])
        # Per unit: the effects and the count of kept cells of its own cohort (via the unit's
        # cohort code, so the cost is one gather per aggregate).
        codes, cohort_values = unit_cohort_index
        slot = np.searchsorted(cohort_values, cohort_of_cell[keep])
        a = np.bincount(slot, weights=att[keep], minlength=len(cohort_values))[codes]
        c = np.bincount(slot, minlength=len(cohort_values)).astype(float)[codes]
        n = len(codes)
        wif_term = (a - d) / total - (c - total) * d / total**2
        # a − d and c − total above already subtract Σ pg·att and Σ pg over the kept cells.
        combined = combined + wif_term / n
    return _Aggregate(value, combined)


def _mean_of(aggregates: list[_Aggregate]) -> _Aggregate:
    return _Aggregate(
        float(np.mean([a.att for a in aggregates])),
        np.mean(np.column_stack([a.psi for a in aggregates]), axis=1),
    )


def estimate_prepared(
    work: pd.DataFrame,
    *,
    covariates: tuple[str, ...] = (),
    control: str = "never",
    method: str = "dr",
    bootstrap: int = 0,
    seed: int = 0,
    alpha: float = 0.05,
    notes: list[tuple[str, dict]] | None = None,
) -> DidResult:
    cells, att, psi, unit_cohorts, messages = fit_cells(
        work, covariates=covariates, control=control, method=method
    )
    found: list[tuple[str, dict]] = list(notes or [])
    for text in messages:
        found.append((N_("The estimator warned: {text}"), {"text": text}))
    if not cells:
        raise PanelError([(N_("No group-time effect could be estimated."), {})])
    n = len(unit_cohorts)
    groups = np.array([g for g, _ in cells])
    times = np.array([t for _, t in cells])
    cohort_values = np.unique(unit_cohorts[unit_cohorts > 0])
    share = {g: np.count_nonzero(unit_cohorts == g) / n for g in cohort_values}
    pg = np.array([share[g] for g in groups])

    cohort_index = np.unique(unit_cohorts, return_inverse=True)[::-1]

    def weighted(keep, wif=True):
        return _weighted(att, psi, keep, pg, groups.astype(float), cohort_index, wif=wif)

    post = np.flatnonzero(times >= groups)
    simple = weighted(post)

    events = np.unique(times - groups)
    by_event = [weighted(np.flatnonzero(times - groups == e)) for e in events]
    dynamic = _mean_of([a for e, a in zip(events, by_event, strict=True) if e >= 0])

    group_list = np.unique(groups[post])
    by_group = [
        weighted(np.flatnonzero((groups == g) & (times >= g)), wif=False) for g in group_list
    ]
    group_pg = np.array([share[g] for g in group_list])
    group_att = np.array([a.att for a in by_group])
    group_psi = np.column_stack([a.psi for a in by_group])
    group_overall = _weighted(
        group_att,
        group_psi,
        np.arange(len(group_list)),
        group_pg,
        group_list.astype(float),
        cohort_index,
        wif=True,
    )

    calendar_times = np.unique(times[times >= groups.min()])
    calendar_times = np.array([t for t in calendar_times if np.any((times == t) & (groups <= t))])
    by_time = [weighted(np.flatnonzero((times == t) & (groups <= t))) for t in calendar_times]
    calendar = _mean_of(by_time)

    # One matrix of every reported figure's influence function: the bootstrap draws once.
    named: list[_Aggregate] = [
        simple,
        dynamic,
        group_overall,
        calendar,
        *by_event,
        *by_group,
        *by_time,
    ]
    if bootstrap:
        all_psi = np.hstack([psi, np.column_stack([a.psi for a in named])])
        se_all, draws_scaled = _multiplier_bootstrap(all_psi, bootstrap, seed)
    else:
        se_all = np.sqrt(
            np.r_[np.einsum("ij,ij->j", psi, psi), [float(a.psi @ a.psi) for a in named]]
        )
        draws_scaled = None
    z = stats.norm.ppf(1 - alpha / 2)

    def est(value: float, se: float) -> Estimate:
        return Estimate(value, se, (value - z * se, value + z * se))

    k = len(cells)
    att_gt = [est(att[j], se_all[j]) for j in range(k)]
    agg_se = se_all[k:]
    s = iter(range(len(named)))
    simple_e = est(simple.att, agg_se[next(s)])
    dynamic_e = est(dynamic.att, agg_se[next(s)])
    group_e = est(group_overall.att, agg_se[next(s)])
    calendar_e = est(calendar.att, agg_se[next(s)])
    event_idx = [next(s) for _ in by_event]
    group_idx = [next(s) for _ in by_group]
    time_idx = [next(s) for _ in by_time]
    event_estimates = [est(a.att, agg_se[i]) for a, i in zip(by_event, event_idx, strict=True)]

    crit = None
    band = None
    if draws_scaled is not None:
        crit = _uniform_critical_value(draws_scaled[:, [k + i for i in event_idx]], alpha)
        band = [(e.att - crit * e.se, e.att + crit * e.se) for e in event_estimates]

    pretrend = _pretrend_test(att, psi, times < groups)
    if pretrend is None and np.any(times < groups):
        found.append((N_("The pre-trend test could not be computed (singular covariance)."), {}))
    return DidResult(
        cells=cells,
        att_gt=att_gt,
        simple=simple_e,
        dynamic_overall=dynamic_e,
        by_event=[(int(e), x) for e, x in zip(events, event_estimates, strict=True)],
        event_band=band,
        group_overall=group_e,
        by_group=[
            (int(g), est(a.att, agg_se[i]))
            for g, a, i in zip(group_list, by_group, group_idx, strict=True)
        ],
        calendar_overall=calendar_e,
        by_time=[
            (int(t), est(a.att, agg_se[i]))
            for t, a, i in zip(calendar_times, by_time, time_idx, strict=True)
        ],
        pretrend=pretrend,
        n_units=n,
        n_periods=int(work["time"].nunique()),
        n_treated=int(np.count_nonzero(unit_cohorts > 0)),
        n_never=int(np.count_nonzero(unit_cohorts == 0)),
        control=control,
        method=method,
        covariates=tuple(covariates),
        bootstrap=int(bootstrap),
        seed=int(seed),
        crit_value=crit,
        alpha=alpha,
        warnings=found,
    )


def _multiplier_bootstrap(psi: np.ndarray, draws: int, seed: int):
    """R ``did``'s multiplier bootstrap: Rademacher weights per unit (clusters are units), the
    standard error from the interquartile range of the draws. Returns the standard errors and
    the draws divided by them (for uniform bands)."""
    rng = np.random.default_rng(seed)
    n, k = psi.shape
    out = np.empty((draws, k))
    for start in range(0, draws, _BOOTSTRAP_CHUNK):
        stop = min(draws, start + _BOOTSTRAP_CHUNK)
        signs = rng.integers(0, 2, size=(stop - start, n), dtype=np.int8) * 2 - 1
        out[start:stop] = signs.astype(np.float64) @ psi
    q75, q25 = np.quantile(out, [0.75, 0.25], axis=0, method="inverted_cdf")
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.where(se > 0, out / se, 0.0)
    return se, scaled


def _uniform_critical_value(scaled: np.ndarray, alpha: float) -> float:
    """The sup-t critical value of a simultaneous band over the given columns."""
    if scaled.shape[1] == 0:
        return float("nan")
    sup = np.max(np.abs(scaled), axis=1)
    return float(np.quantile(sup, 1 - alpha, method="inverted_cdf"))


def _pretrend_test(att: np.ndarray, psi: np.ndarray, pre: np.ndarray) -> dict | None:
    """R ``att_gt``'s Wald test that every pre-period ATT(g,t) is zero (χ² with one degree of
    freedom per pre-period cell)."""
    if not np.any(pre):
        return None
    values = att[pre]
    covariance = psi[:, pre].T @ psi[:, pre]
    if np.linalg.cond(covariance) * np.finfo(float).eps >= 1:
        return None
    statistic = float(values @ np.linalg.solve(covariance, values))
    df = int(np.count_nonzero(pre))
    return {"statistic": statistic, "df": df, "p": float(stats.chi2.sf(statistic, df))}
