"""The program performance report (성과보고서) from verified before/after pairs, as a pure
function: every figure carries its n, and the method says how it was computed.

Only verified values count. A company's average improvement is the mean of its relative KPI
improvements; the program's is the mean over companies (each company counts once, however many
KPIs it reports), with its median, 10 % trimmed mean and bootstrap interval. Outliers are not
removed: the median and the trimmed mean show their influence. Missing values are left out and
counted as missing, never as 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from sangsaeng.outcomes.engine.improvement import (
    DIFFERENCE,
    FORMULAS,
    HIGHER,
    LOWER,
    N_,
    RELATIVE,
    CompanyInputs,
)
from sangsaeng.outcomes.engine.summary import (
    BOOTSTRAP_RESAMPLES,
    Summary,
    describe,
    joint_bootstrap_cis,
)


@dataclass(frozen=True)
class KpiRule:
    improvement: str  # "relative" or "difference"
    direction: str  # "higher" or "lower"


@dataclass(frozen=True)
class Pair:
    before: float
    after: float
    target: float | None = None


@dataclass(frozen=True)
class CompanyOutcome:
    company_id: int
    groups: Mapping[str, str] = field(default_factory=dict)  # breakdown → group (e.g. region)
    pairs: Mapping[str, Pair] = field(default_factory=dict)  # KPI code → verified pair
    inputs: CompanyInputs = field(default_factory=CompanyInputs)


@dataclass(frozen=True)
class FinancialEffect:
    total: float
    per_company: float | None
    n: int  # companies valued
    n_missing: int  # companies with a cost-side pair but without the inputs to value it
    formulas: dict[str, str]

    def as_dict(self) -> dict:
        return {
            "total": round(self.total),
            "per_company": None if self.per_company is None else round(self.per_company),
            "n": self.n,
            "n_missing": self.n_missing,
            "formula": self.formulas,
        }


@dataclass(frozen=True)
class Report:
    n_participants: int
    n_verified: int
    avg_improvement: Summary
    kpis: dict[str, Summary]
    target_achievement: Summary
    financial_effect: FinancialEffect
    totals: dict[str, tuple[float, int]]  # new_hires, investment → (sum after, n companies)
    breakdowns: dict[str, dict[str, Summary]]  # breakdown → group → summary of company averages
    method: str
    # Per company (by its position in the input): its average improvement and valued effect.
    company_averages: tuple[float | None, ...] = ()
    company_effects: tuple[float | None, ...] = ()

    def as_dict(self) -> dict:
        avg = self.avg_improvement
        return {
            "n_participants": self.n_participants,
            "n_verified": self.n_verified,
            "avg_improvement": {
                "mean": avg.mean,
                "median": avg.median,
                "trimmed_mean": avg.trimmed_mean,
                "ci": list(avg.ci) if avg.ci else None,
                "n": avg.n,
            },
            "kpis": {code: s.as_dict() for code, s in self.kpis.items()},
            "target_achievement": self.target_achievement.as_dict(),
            "financial_effect": self.financial_effect.as_dict(),
            "totals": {k: {"sum": v, "n": n} for k, (v, n) in self.totals.items()},
            "breakdowns": {
                name: {group: s.as_dict() for group, s in groups.items()}
                for name, groups in self.breakdowns.items()
            },
            "method": self.method,
        }


SUMMED = ("new_hires", "investment")

SUMMARY_METHOD = N_(
    "mean over companies; median; 10 % trimmed mean; 95 % percentile bootstrap interval of the "
    "mean ({resamples} resamples of companies, drawn jointly for every figure, seed {seed})"
)

# How every figure was computed (pages translate it with the same parameters).
METHOD = N_(
    "Verified before/after pairs only. Improvement per KPI signed so that better is positive "
    "(relative to the value before, or the change itself for counts); a company's average is the "
    "mean of its relative KPI improvements; the program's is the mean over companies with its "
    "median, 10 % trimmed mean and 95 % percentile bootstrap interval ({resamples} resamples of "
    "companies, seed {seed}). Outliers are kept (see the median and trimmed mean); missing values "
    "are left out and counted. Target achievement = improvement achieved ÷ improvement targeted, "
    "per company and KPI. Financial effect valued with each company's own baseline inputs; "
    "companies without them are counted as missing, not 0. New hires and investment: sums of the "
    "values verified for the period after."
)  # reported as totals beside the improvements


# Company inputs in the order of ReportData.inputs' columns.
INPUT_COLUMNS = ("annual_output", "unit_cost", "annual_hours", "value_added_per_hour")


@dataclass(frozen=True)
class ReportData:
    """The report's inputs as arrays, one row per verified pair (so 30,000 companies × 8 KPIs
    are computed without a Python object per pair). Missing numbers are NaN."""

    n_participants: int
    n_companies: int
    kpi_codes: tuple[str, ...]
    rules: tuple[KpiRule, ...]  # aligned with kpi_codes
    pair_company: np.ndarray  # int, the company's position (0 … n_companies − 1)
    pair_kpi: np.ndarray  # int, the position in kpi_codes
    before: np.ndarray
    after: np.ndarray
    target: np.ndarray  # NaN where no target was set
    inputs: np.ndarray  # n_companies × INPUT_COLUMNS
    groups: Mapping[str, tuple[np.ndarray, tuple[str, ...]]]  # name → (label index or −1, labels)


def build_report(
    n_participants: int,
    companies: Sequence[CompanyOutcome],
    rules: Mapping[str, KpiRule],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> Report:
    """The report from company objects (small programs, tests); see ``build_report_data``."""
    codes = tuple(sorted({code for c in companies for code in c.pairs}))
    position = {code: k for k, code in enumerate(codes)}
    rows = [
        (i, position[code], pair.before, pair.after, np.nan if pair.target is None else pair.target)
        for i, company in enumerate(companies)
        for code, pair in company.pairs.items()
    ]
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    groups: dict[str, tuple[np.ndarray, tuple[str, ...]]] = {}
    for name in sorted({name for c in companies for name in c.groups}):
        labels = tuple(sorted({c.groups[name] for c in companies if name in c.groups}))
        index = {label: j for j, label in enumerate(labels)}
        groups[name] = (
            np.array([index.get(c.groups.get(name), -1) for c in companies], dtype=int),
            labels,
        )
    data = ReportData(
        n_participants=n_participants,
        n_companies=len(companies),
        kpi_codes=codes,
        rules=tuple(rules[code] for code in codes),
        pair_company=np.array(columns[0], dtype=int),
        pair_kpi=np.array(columns[1], dtype=int),
        before=np.array(columns[2], dtype=float),
        after=np.array(columns[3], dtype=float),
        target=np.array(columns[4], dtype=float),
        inputs=np.array(
            [[_nan(getattr(c.inputs, name)) for name in INPUT_COLUMNS] for c in companies],
            dtype=float,
        ).reshape(len(companies), len(INPUT_COLUMNS)),
        groups=groups,
    )
    return build_report_data(data, resamples=resamples, seed=seed)


def _nan(value: float | None) -> float:
    return np.nan if value is None else value


def _per_company(data: ReportData, code: str) -> tuple[np.ndarray, np.ndarray]:
    """Each company's before and after values of one KPI (NaN where it has no pair)."""
    before = np.full(data.n_companies, np.nan)
    after = np.full(data.n_companies, np.nan)
    if code in data.kpi_codes:
        mask = data.pair_kpi == data.kpi_codes.index(code)
        before[data.pair_company[mask]] = data.before[mask]
        after[data.pair_company[mask]] = data.after[mask]
    return before, after


def _financial_effect(data: ReportData) -> tuple[np.ndarray, FinancialEffect]:
    """Each company's annual effect (NaN when none could be valued) and the program's, with
    the same rules as ``improvement.financial_effect``: a pair whose inputs are missing makes
    the company missing, unless another of its pairs could be valued."""
    output, unit_cost, hours, value_added = data.inputs.T
    defect = _per_company(data, "defect_rate")
    cost = _per_company(data, "unit_cost")
    productivity = _per_company(data, "productivity")
    with np.errstate(invalid="ignore", divide="ignore"):
        parts = {
            "defect_rate": (
                ~np.isnan(defect[0]),
                ~np.isnan(output) & ~np.isnan(unit_cost),
                (defect[0] - defect[1]) / 100 * output * unit_cost,
            ),
            "unit_cost": (~np.isnan(cost[0]), ~np.isnan(output), (cost[0] - cost[1]) * output),
            "productivity": (
                ~np.isnan(productivity[0]),
                ~np.isnan(hours) & ~np.isnan(value_added) & (productivity[0] != 0),
                (productivity[1] - productivity[0]) / productivity[0] * hours * value_added,
            ),
        }
    effect = np.zeros(data.n_companies)
    valued = np.zeros(data.n_companies, dtype=bool)
    lacking = np.zeros(data.n_companies, dtype=bool)
    formulas: dict[str, str] = {}
    for kind, (measured, has_inputs, krw) in parts.items():
        used = measured & has_inputs
        effect[used] += krw[used]
        valued |= used
        lacking |= measured & ~has_inputs
        if used.any():
            formulas[kind] = FORMULAS[kind]
    total = float(effect[valued].sum())
    n_valued = int(valued.sum())
    summary = FinancialEffect(
        total=total,
        per_company=total / n_valued if n_valued else None,
        n=n_valued,
        n_missing=int((lacking & ~valued).sum()),
        formulas=formulas,
    )
    return np.where(valued, effect, np.nan), summary


def build_report_data(
    data: ReportData, *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0
) -> Report:
    n = data.n_companies
    k_count = len(data.kpi_codes)
    higher = np.array([r.direction == HIGHER for r in data.rules], dtype=bool)
    relative = np.array([r.improvement == RELATIVE for r in data.rules], dtype=bool)
    for rule in data.rules:
        if rule.direction not in (HIGHER, LOWER) or rule.improvement not in (RELATIVE, DIFFERENCE):
            raise ValueError(f"unknown rule {rule!r}")
    pair_higher = higher[data.pair_kpi] if k_count else np.zeros(0, dtype=bool)
    pair_relative = relative[data.pair_kpi] if k_count else np.zeros(0, dtype=bool)
    change = np.where(pair_higher, data.after - data.before, data.before - data.after)
    with np.errstate(invalid="ignore", divide="ignore"):
        gain = np.where(
            pair_relative,
            np.where(data.before == 0, np.nan, change / np.abs(data.before)),
            change,
        )
        aimed = np.where(pair_higher, data.target - data.before, data.before - data.target)
        achievement = np.where(aimed > 0, change / aimed, np.nan)
    defined = ~np.isnan(gain)

    # A company's average: the mean of its defined relative improvements.
    counted = defined & pair_relative
    sums = np.bincount(data.pair_company[counted], weights=gain[counted], minlength=n)
    counts = np.bincount(data.pair_company[counted], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        averages = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    has_average = counts > 0

    # Every statistic is a mean of per-company sums over per-company counts, so that one joint
    # bootstrap of companies gives all the intervals.
    column_sums: list[np.ndarray] = [np.where(has_average, averages, 0.0)]
    column_counts: list[np.ndarray] = [has_average.astype(float)]
    kpi_values: list[np.ndarray] = []
    for k in range(k_count):
        mask = (data.pair_kpi == k) & defined
        values = np.zeros(n)
        present = np.zeros(n)
        values[data.pair_company[mask]] = gain[mask]
        present[data.pair_company[mask]] = 1.0
        column_sums.append(values)
        column_counts.append(present)
        kpi_values.append(gain[mask])
    reached = ~np.isnan(achievement)
    column_sums.append(
        np.bincount(data.pair_company[reached], weights=achievement[reached], minlength=n)
    )
    column_counts.append(np.bincount(data.pair_company[reached], minlength=n).astype(float))
    group_columns: list[tuple[str, str, np.ndarray]] = []
    for name in sorted(data.groups):
        index, labels = data.groups[name]
        for j, label in enumerate(labels):
            members = (index == j) & has_average
            if not members.any():
                continue
            group_columns.append((name, label, averages[members]))
            column_sums.append(np.where(members, averages, 0.0))
            column_counts.append(members.astype(float))
    cis = joint_bootstrap_cis(
        np.column_stack(column_sums), np.column_stack(column_counts), resamples=resamples, seed=seed
    )
    method = SUMMARY_METHOD.format(resamples=resamples, seed=seed)

    breakdowns: dict[str, dict[str, Summary]] = defaultdict(dict)
    first_group = 2 + k_count
    for offset, (name, label, values) in enumerate(group_columns):
        breakdowns[name][label] = describe(values, cis[first_group + offset], method)
    kpis = {
        code: describe(kpi_values[k], cis[1 + k], method)
        for k, code in enumerate(data.kpi_codes)
        if len(kpi_values[k])
    }
    totals = {}
    for code in SUMMED:
        if code in data.kpi_codes:
            mask = data.pair_kpi == data.kpi_codes.index(code)
            totals[code] = (float(data.after[mask].sum()), int(mask.sum()))
    effects, financial = _financial_effect(data)
    return Report(
        n_participants=data.n_participants,
        n_verified=len(np.unique(data.pair_company)),
        avg_improvement=describe(averages[has_average], cis[0], method),
        kpis=dict(sorted(kpis.items())),
        target_achievement=describe(achievement[reached], cis[1 + k_count], method),
        financial_effect=financial,
        totals=dict(sorted(totals.items())),
        breakdowns=dict(breakdowns),
        method=METHOD.format(resamples=resamples, seed=seed),
        company_averages=tuple(None if v != v else v for v in averages.tolist()),  # NaN: none
        company_effects=tuple(None if v != v else v for v in effects.tolist()),
    )
