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
    N_,
    RELATIVE,
    CompanyInputs,
    company_average,
    financial_effect,
    improvement,
    target_achievement,
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


def build_report(
    n_participants: int,
    companies: Sequence[CompanyOutcome],
    rules: Mapping[str, KpiRule],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> Report:
    averages: list[float | None] = []
    per_kpi: dict[str, dict[int, float]] = defaultdict(dict)  # KPI → company index → value
    achieved: dict[int, list[float]] = defaultdict(list)  # company index → its achievements
    effect_total, valued, missing = 0.0, 0, 0
    formulas: dict[str, str] = {}
    totals: dict[str, list[float]] = defaultdict(list)
    effects: list[float | None] = []
    for index, company in enumerate(companies):
        relative: dict[str, float | None] = {}
        for code, pair in company.pairs.items():
            rule = rules[code]
            value = improvement(rule.improvement, rule.direction, pair.before, pair.after)
            if value is not None:
                per_kpi[code][index] = value
            if rule.improvement == RELATIVE:
                relative[code] = value
            if pair.target is not None:
                reached = target_achievement(rule.direction, pair.before, pair.target, pair.after)
                if reached is not None:
                    achieved[index].append(reached)
            if code in SUMMED:
                totals[code].append(pair.after)
        averages.append(company_average(relative))
        before = {c: p.before for c, p in company.pairs.items()}
        after = {c: p.after for c, p in company.pairs.items()}
        parts, lacking = financial_effect(before, after, company.inputs)
        effects.append(sum(p.krw for p in parts) if parts else None)
        if parts:
            valued += 1
            effect_total += sum(p.krw for p in parts)
            formulas.update({p.kind: p.formula for p in parts})
        elif lacking:
            missing += 1

    # Every statistic is a mean of per-company sums over per-company counts, so that one joint
    # bootstrap of companies gives all the intervals.
    columns: list[tuple[dict[int, float], dict[int, int]]] = []
    defined = {i: v for i, v in enumerate(averages) if v is not None}
    columns.append((defined, dict.fromkeys(defined, 1)))
    kpi_codes = sorted(per_kpi)
    for code in kpi_codes:
        columns.append((per_kpi[code], dict.fromkeys(per_kpi[code], 1)))
    columns.append(
        ({i: sum(v) for i, v in achieved.items()}, {i: len(v) for i, v in achieved.items()})
    )
    groups: list[tuple[str, str, dict[int, float]]] = []
    for name in sorted({name for c in companies for name in c.groups}):
        members: dict[str, dict[int, float]] = defaultdict(dict)
        for index, company in enumerate(companies):
            if name in company.groups and averages[index] is not None:
                members[company.groups[name]][index] = averages[index]
        for group in sorted(members):
            groups.append((name, group, members[group]))
            columns.append((members[group], dict.fromkeys(members[group], 1)))
    sums = np.zeros((len(companies), len(columns)))
    counts = np.zeros((len(companies), len(columns)))
    for j, (column_sums, column_counts) in enumerate(columns):
        for i, value in column_sums.items():
            sums[i, j] = value
            counts[i, j] = column_counts[i]
    cis = joint_bootstrap_cis(sums, counts, resamples=resamples, seed=seed)
    method = SUMMARY_METHOD.format(resamples=resamples, seed=seed)

    breakdowns: dict[str, dict[str, Summary]] = defaultdict(dict)
    first_group = 2 + len(kpi_codes)
    for offset, (name, group, members) in enumerate(groups):
        breakdowns[name][group] = describe(
            list(members.values()), cis[first_group + offset], method
        )
    return Report(
        n_participants=n_participants,
        n_verified=sum(1 for c in companies if c.pairs),
        avg_improvement=describe(list(defined.values()), cis[0], method),
        kpis={
            code: describe(list(per_kpi[code].values()), cis[1 + j], method)
            for j, code in enumerate(kpi_codes)
        },
        target_achievement=describe(
            [v for values in achieved.values() for v in values], cis[1 + len(kpi_codes)], method
        ),
        financial_effect=FinancialEffect(
            total=effect_total,
            per_company=effect_total / valued if valued else None,
            n=valued,
            n_missing=missing,
            formulas=formulas,
        ),
        totals={k: (float(sum(v)), len(v)) for k, v in sorted(totals.items())},
        breakdowns=dict(breakdowns),
        method=METHOD.format(resamples=resamples, seed=seed),
        company_averages=tuple(averages),
        company_effects=tuple(effects),
    )
