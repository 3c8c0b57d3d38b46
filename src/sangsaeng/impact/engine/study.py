"""An impact study from a firm-year panel: who took part and when, a matched comparison group,
the staggered DiD, the naive and the descriptive comparisons, and the warnings an
econometrician would raise. Pure: the caller loads the panel and stores the returned dict.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd
from scipy import stats

from sangsaeng.impact.engine import did
from sangsaeng.impact.engine.matching import LEVELS, REFINEMENTS, Candidates, balance_rows
from sangsaeng.impact.engine.matching import match_cohort as _match_cohort

OUTCOMES: tuple[str, ...] = ("revenue", "operating_profit", "rnd_spend", "employees", "exports")
TRANSFORMS: tuple[str, ...] = ("log", "level")
COHORT_RULES: tuple[str, ...] = ("completed", "started")
COVARIATES: tuple[str, ...] = ("pre_level", "pre_growth")
MATCH_VARIABLES: tuple[str, ...] = ("pre_level", "pre_growth")
SMD_LIMIT = 0.1
MIN_GROUP = 5  # fewer firms and a group's growth would reveal single firms' figures
PRETREND_ALPHA = 0.05
FEW_TREATED = 30
MAX_BOOTSTRAP = 9_999

N_ = did.N_
PanelError = did.PanelError
Progress = Callable[[int, int], None]

VARIABLE_LABELS = {
    "pre_level": N_("Outcome in the year before the cohort"),
    "pre_growth": N_("Yearly growth of the outcome over the two years before"),
}
STEP_LABELS = {
    "participants": N_("Participants listed in the programs, found in the panel"),
    "cohort_range": N_("Cohort year inside the panel with pre-period years"),
    "pre_period_data": N_("Pre-period values present (outcome, revenue band)"),
    "exact_cell": N_("A non-participant in the same industry and revenue band"),
    "caliper": N_("A non-participant within the caliper"),
    "complete_years": N_("Observed in every year of the panel"),
}
GROUP_LABELS = {
    "participants": N_("Participants (analysed)"),
    "matched": N_("Matched non-participants"),
    "all_non_participants": N_("All non-participants"),
}


@dataclass(frozen=True)
class StudySpec:
    outcome: str = "revenue"
    transform: str = "log"
    cohort_rule: str = "completed"
    match_level: str = "division"
    refine: str = "pscore"
    ratio: int = 1
    caliper: float | None = 0.2
    control: str = "never"
    method: str = "dr"
    covariates: tuple[str, ...] = ()
    bootstrap: int = 0
    seed: int = 0
    base_year: int | None = None
    end_year: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping) -> StudySpec:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "covariates" in values:
            values["covariates"] = tuple(values["covariates"] or ())
        return cls(**values)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["covariates"] = list(self.covariates)
        return data

    def problems(self) -> list[tuple[str, str, dict]]:
        """(field, msgid, params) for every choice the study cannot run with."""
        found: list[tuple[str, str, dict]] = []
        choices = {
            "outcome": OUTCOMES,
            "transform": TRANSFORMS,
            "cohort_rule": COHORT_RULES,
            "match_level": LEVELS,
            "refine": REFINEMENTS,
            "control": did.CONTROLS,
            "method": did.METHODS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                found.append((name, N_("Choose a listed value."), {}))
        if not 1 <= self.ratio <= 10:
            found.append(
                ("ratio", N_("Enter a whole number from {min} to {max}."), {"min": 1, "max": 10})
            )
        if self.caliper is not None and not 0 < self.caliper <= 5:
            found.append(
                (
                    "caliper",
                    N_("Enter a number above 0 and at most 5, or leave it empty for no caliper."),
                    {},
                )
            )
        if self.bootstrap and not 99 <= self.bootstrap <= MAX_BOOTSTRAP:
            found.append(
                (
                    "bootstrap",
                    N_("Enter 0 (analytic) or from {min} to {max} draws."),
                    {"min": 99, "max": MAX_BOOTSTRAP},
                )
            )
        for name in self.covariates:
            if name not in COVARIATES:
                found.append(("covariates", N_("Choose a listed value."), {}))
        if self.base_year and self.end_year and self.base_year >= self.end_year:
            found.append(("end_year", N_("The end year must come after the base year."), {}))
        return found


def _transformed(values: pd.DataFrame, transform: str) -> pd.DataFrame:
    if transform == "log":
        return np.log(values.where(values > 0))
    return values


def _band_codes(revenue: np.ndarray, bands: Sequence[tuple[str, int, int | None]]) -> np.ndarray:
    codes = np.full(len(revenue), "", dtype=object)
    known = ~np.isnan(revenue)
    for code, low, high in bands:
        inside = known & (revenue >= low)
        if high is not None:
            inside &= revenue < high
        codes[inside] = code
    return codes


def _features(y: pd.DataFrame, years: list[int], base: int) -> np.ndarray:
    """Level in the base year and yearly growth over up to two years before it."""
    level = y[base].to_numpy() if base in y.columns else np.full(len(y), np.nan)
    back = 2 if base - 2 in years else 1 if base - 1 in years else 0
    growth = (level - y[base - back].to_numpy()) / back if back else np.full(len(y), np.nan)
    return np.column_stack([level, growth])


def _estimate(value: float, se: float, alpha: float = 0.05) -> dict:
    z = stats.norm.ppf(1 - alpha / 2)
    ok = math.isfinite(value) and math.isfinite(se)
    return {
        "att": value if math.isfinite(value) else None,
        "se": se if math.isfinite(se) else None,
        "ci": [value - z * se, value + z * se] if ok else [None, None],
    }


def analyse(
    rows: pd.DataFrame,
    cohorts: Mapping[str, int],
    spec: StudySpec,
    bands: Sequence[tuple[str, int, int | None]],
    progress: Progress | None = None,
) -> dict:
    """Run the study; see the module docstring. Raises ``PanelError`` when the panel cannot
    support it (no participants in it, too few comparable firms, bad cohorts...)."""
    problems = spec.problems()
    if problems:
        raise PanelError([(msgid, params) for _, msgid, params in problems])
    if rows.empty:
        raise PanelError([(N_("The panel has no rows."), {})])
    rows = rows.drop_duplicates(["business_no", "year"], keep="last")
    years = sorted(int(y) for y in rows["year"].unique())
    first, last = years[0], years[-1]
    raw = rows.pivot(index="business_no", columns="year", values=spec.outcome).astype(float)
    revenue = rows.pivot(index="business_no", columns="year", values="revenue").astype(float)
    ksic = rows.pivot(index="business_no", columns="year", values="ksic_code")
    y = _transformed(raw, spec.transform)
    firms = raw.index.to_numpy().astype(str)
    position = {firm: i for i, firm in enumerate(firms)}
    cohort_of = {str(k): int(v) for k, v in cohorts.items() if v}
    participants_in_panel = [f for f in cohort_of if f in position]
    non_participants = np.array([f for f in firms if f not in cohort_of])
    steps: list[dict] = []

    def step(code: str, treated: int, treated_before: int, controls: int, controls_before: int):
        steps.append(
            {
                "step": code,
                "label": STEP_LABELS[code],
                "treated": treated,
                "treated_dropped": treated_before - treated,
                "controls": controls,
                "controls_dropped": controls_before - controls,
            }
        )

    step(
        "participants",
        len(participants_in_panel),
        len(cohort_of),
        len(non_participants),
        len(non_participants),
    )
    if not participants_in_panel:
        raise PanelError([(N_("None of the programs' participants is in the panel."), {})])
    if len(non_participants) < did.MIN_NEVER_TREATED:
        raise PanelError(
            [(N_("The panel has only {n} non-participants."), {"n": len(non_participants)})]
        )
    in_range = [f for f in participants_in_panel if first < cohort_of[f] <= last]
    step(
        "cohort_range",
        len(in_range),
        len(participants_in_panel),
        len(non_participants),
        len(non_participants),
    )
    if not in_range:
        raise PanelError(
            [
                (
                    N_("No participant's cohort lies inside the panel years {first}–{last}."),
                    {"first": first, "last": last},
                )
            ]
        )

    level_digits = 2 if spec.match_level == "division" else 3
    by_cohort: dict[int, list[str]] = {}
    for firm in in_range:
        by_cohort.setdefault(cohort_of[firm], []).append(firm)
    control_rows = np.array([position[f] for f in non_participants])
    total_steps = len(by_cohort) + 3
    done = 0

    def tick():
        nonlocal done
        done += 1
        if progress:
            progress(done, total_steps)

    before_t, before_c, after_t, after_c = [], [], [], []
    matched_treated: dict[str, int] = {}
    matched_controls: list[str] = []
    no_data = no_cell = caliper_out = 0
    controls_with_data: set[str] = set()
    controls_in_cells: set[str] = set()
    for g in sorted(by_cohort):
        base = g - 1
        feats = _features(y, years, base)
        cells = np.array(
            [
                f"{str(k)[:level_digits]}|{b}" if isinstance(k, str) and b else ""
                for k, b in zip(
                    ksic[base].to_numpy(), _band_codes(revenue[base].to_numpy(), bands), strict=True
                )
            ],
            dtype=object,
        )
        missing_cell = cells == ""
        feats = np.where(missing_cell[:, None], np.nan, feats)
        t_rows = np.array([position[f] for f in by_cohort[g]])
        treated = Candidates(firms[t_rows], cells[t_rows], feats[t_rows])
        controls = Candidates(firms[control_rows], cells[control_rows], feats[control_rows])
        found = _match_cohort(
            treated,
            controls,
            refine=spec.refine,
            ratio=spec.ratio,
            caliper=spec.caliper,
            used=set(matched_controls),
        )
        no_data += found.dropped_no_data
        no_cell += found.dropped_no_cell
        caliper_out += found.dropped_caliper
        c_ok = ~np.isnan(controls.features).any(axis=1)
        controls_with_data.update(controls.ids[c_ok])
        controls_in_cells.update(controls.ids[c_ok & np.isin(controls.cells, treated.cells)])
        before_t.append(treated.features[~np.isnan(treated.features).any(axis=1)])
        before_c.append(controls.features[c_ok])
        after_t.append(found.treated_features)
        after_c.append(found.control_features)
        matched_treated.update({f: g for f in found.treated})
        matched_controls.extend(found.controls)
        tick()

    n_in = len(in_range)
    n_np = len(non_participants)
    step("pre_period_data", n_in - no_data, n_in, len(controls_with_data), n_np)
    step(
        "exact_cell",
        n_in - no_data - no_cell,
        n_in - no_data,
        len(controls_in_cells),
        len(controls_with_data),
    )
    unique_controls = sorted(set(matched_controls))
    if spec.refine != "none":
        step(
            "caliper",
            len(matched_treated),
            n_in - no_data - no_cell,
            len(unique_controls),
            len(controls_in_cells),
        )
    balance = balance_rows(
        MATCH_VARIABLES,
        np.vstack(before_t),
        np.vstack(before_c),
        np.vstack(after_t),
        np.vstack(after_c),
    )
    for row in balance:
        row["label"] = VARIABLE_LABELS[row["variable"]]
    if not matched_treated:
        raise PanelError([(N_("No participant has a comparable non-participant."), {})])

    # The DiD sample: matched participants and the non-participants drawn for them, each once.
    sample = list(matched_treated) + unique_controls
    y_sample = y.loc[sample, years]
    complete = y_sample.notna().all(axis=1).to_numpy()
    n_t, n_c = len(matched_treated), len(unique_controls)
    kept_t = int(complete[:n_t].sum())
    kept_c = int(complete[n_t:].sum())
    step("complete_years", kept_t, n_t, kept_c, n_c)
    kept = np.array(sample)[complete]
    frame = y_sample.loc[kept].stack().rename("y").reset_index()
    frame.columns = ["unit", "time", "y"]
    frame["cohort"] = frame["unit"].map(matched_treated).fillna(0).astype(int)
    cov_values = _features(y.loc[kept], years, years[min(2, len(years) - 1)])
    for k, name in enumerate(COVARIATES):
        if name in spec.covariates:
            frame[name] = frame["unit"].map(dict(zip(kept, cov_values[:, k], strict=True)))
    if spec.covariates:
        frame = frame.loc[frame[list(spec.covariates)].notna().all(axis=1)]
    result = did.estimate(
        frame,
        unit="unit",
        time="time",
        cohort="cohort",
        outcome="y",
        covariates=spec.covariates,
        control=spec.control,
        method=spec.method,
        bootstrap=spec.bootstrap,
        seed=spec.seed,
    )
    tick()

    base_year = spec.base_year or first
    end_year = spec.end_year or last
    naive = _naive(y, in_range, non_participants, base_year, end_year)
    descriptive = _descriptive(
        raw, kept[:kept_t], unique_controls, non_participants, base_year, end_year
    )
    tick()
    warnings = _warnings(result, balance, steps, kept_t, n_in)
    tick()
    return {
        "spec": spec.as_dict(),
        "years": [first, last],
        "n": {
            "participants": len(cohort_of),
            "participants_in_panel": len(participants_in_panel),
            "non_participants": n_np,
            "treated": kept_t,
            "controls": kept_c,
            "cohorts": {
                str(g): int(n)
                for g, n in pd.Series(list(matched_treated.values()))
                .value_counts()
                .sort_index()
                .items()
            },
        },
        "steps": steps,
        "balance": balance,
        "did": result.as_dict(),
        "naive": naive,
        "descriptive": descriptive,
        "warnings": [[m, p] for m, p in warnings],
        "method": [[m, p] for m, p in _method(spec, result, first, last)],
    }


def _naive(y: pd.DataFrame, treated: list[str], controls: np.ndarray, base: int, end: int) -> dict:
    """Participants against every non-participant, change from the base to the end year: what a
    comparison without matching or staggered timing would report."""
    out = {
        "base_year": base,
        "end_year": end,
        "n_treated": 0,
        "n_controls": 0,
        **_estimate(float("nan"), float("nan")),
    }
    if base not in y.columns or end not in y.columns:
        return out
    change = (y[end] - y[base]).dropna()
    t = change.loc[change.index.isin(treated)].to_numpy()
    c = change.loc[change.index.isin(controls)].to_numpy()
    out.update(n_treated=len(t), n_controls=len(c))
    if len(t) >= MIN_GROUP and len(c) >= MIN_GROUP:
        se = math.sqrt(t.var(ddof=1) / len(t) + c.var(ddof=1) / len(c))
        out.update(_estimate(float(t.mean() - c.mean()), se))
    return out


def _descriptive(raw, participants, matched, everyone_else, base: int, end: int) -> dict:
    """Growth from the base to the end year in levels, as the field publishes it. Descriptive:
    it compares groups, it does not estimate an effect."""
    groups = []
    for code, members in (
        ("participants", participants),
        ("matched", matched),
        ("all_non_participants", everyone_else),
    ):
        entry = {
            "group": code,
            "label": GROUP_LABELS[code],
            "n": 0,
            "total_growth": None,
            "median_growth": None,
            "mean_growth": None,
            "withheld": False,
        }
        if base in raw.columns and end in raw.columns and len(members):
            pair = raw.loc[raw.index.isin(members), [base, end]].dropna()
            pair = pair.loc[pair[base] > 0]
            entry["n"] = len(pair)
            entry["withheld"] = 0 < len(pair) < MIN_GROUP
            if len(pair) >= MIN_GROUP:
                growth = pair[end] / pair[base] - 1
                entry.update(
                    total_growth=float(pair[end].sum() / pair[base].sum() - 1),
                    median_growth=float(growth.median()),
                    mean_growth=float(growth.mean()),
                )
        groups.append(entry)
    return {"base_year": base, "end_year": end, "groups": groups}


def _warnings(result: did.DidResult, balance, steps, treated: int, eligible: int):
    found: list[tuple[str, dict]] = []
    pretrend = result.pretrend
    if pretrend and pretrend["p"] < PRETREND_ALPHA:
        found.append(
            (
                N_(
                    "Pre-trends: the test rejects parallel trends before participation "
                    "(χ² = {statistic}, df = {df}, p = {p}); the estimate is doubtful."
                ),
                {
                    "statistic": round(pretrend["statistic"], 2),
                    "df": pretrend["df"],
                    "p": round(pretrend["p"], 4),
                },
            )
        )
    for row in balance:
        if row["smd_after"] is not None and abs(row["smd_after"]) > SMD_LIMIT:
            found.append(
                (
                    N_(
                        "Imbalance after matching: '{variable}' differs by {smd} "
                        "standard deviations (limit {limit}); the comparison group is not "
                        "comparable on it."
                    ),
                    {
                        "variable": row["variable"],
                        "smd": round(row["smd_after"], 3),
                        "limit": SMD_LIMIT,
                    },
                )
            )
    if treated < FEW_TREATED:
        found.append(
            (
                N_(
                    "Only {n} participants are analysed; intervals are wide and the normal "
                    "approximation may be poor."
                ),
                {"n": treated},
            )
        )
    if eligible and treated < eligible / 2:
        found.append(
            (
                N_(
                    "Fewer than half the participants ({n} of {total}) could be analysed; "
                    "the estimate describes those who could be matched."
                ),
                {"n": treated, "total": eligible},
            )
        )
    found.extend(result.warnings)
    return found


def _nested(msgid: str, **params) -> list:
    """A message inside another message's parameters: [msgid, params], translated by the
    caller like the outer one."""
    return [N_(msgid), params]


REFINE_LABELS = {
    "none": [N_("none (every non-participant of the cell)"), {}],
    "pscore": [N_("propensity score"), {}],
    "mahalanobis": [N_("Mahalanobis distance"), {}],
}
METHOD_LABELS = {
    "dr": [N_("doubly robust"), {}],
    "reg": [N_("outcome regression"), {}],
    "ipw": [N_("inverse probability weighting"), {}],
}


def _method(spec: StudySpec, result: did.DidResult, first: int, last: int):
    scale = (
        _nested(N_("log points (≈ relative change)"))
        if spec.transform == "log"
        else _nested(N_("the outcome's own unit"))
    )
    lines = [
        (
            N_("Firm-year panel {first}–{last}; outcome '{outcome}' in {scale}."),
            {"first": first, "last": last, "outcome": spec.outcome, "scale": scale},
        ),
        (
            N_("Cohort: the year support {rule} (the first year counted as treated)."),
            {
                "rule": _nested(N_("was completed"))
                if spec.cohort_rule == "completed"
                else _nested(N_("started"))
            },
        ),
        (
            N_(
                "Comparison group: exact matching on KSIC {level} × revenue band in the year "
                "before each cohort; refinement: {refine}, {ratio} nearest non-participant(s) per "
                "participant without replacement (greedy, hardest to match first), caliper "
                "{caliper} (SD of the logit propensity score, or Mahalanobis distance)."
            ),
            {
                "level": _nested(N_("division (2 digits)"))
                if spec.match_level == "division"
                else _nested(N_("class (3 digits)")),
                "refine": REFINE_LABELS[spec.refine],
                "ratio": spec.ratio,
                "caliper": spec.caliper if spec.caliper else "-",
            },
        ),
        (
            N_(
                "Estimator: Callaway & Sant'Anna (2021) staggered difference-in-differences "
                "(diff-diff), {method}, {control} controls, varying base period, no anticipation; "
                "ATT(g,t) aggregated as R did's aggte (simple, dynamic, group, calendar)."
            ),
            {
                "method": METHOD_LABELS[spec.method],
                "control": _nested(N_("never-treated"))
                if spec.control == "never"
                else _nested(N_("not-yet-treated")),
            },
        ),
        (
            N_("Standard errors clustered by firm: {kind}; 95 % intervals; seed {seed}."),
            {
                "kind": _nested(N_("analytic (influence functions)"))
                if not result.bootstrap
                else _nested(
                    N_("multiplier bootstrap, {n} draws, with a uniform band for the event study"),
                    n=result.bootstrap,
                ),
                "seed": result.seed,
            },
        ),
        (N_("Pre-trend test: Wald test that every pre-period ATT(g,t) is zero."), {}),
        (
            N_(
                "Growth figures of a group with fewer than {n} firms are withheld, so that no "
                "single firm's figures can be read from them."
            ),
            {"n": MIN_GROUP},
        ),
        (
            N_(
                "The naive comparison and the growth table are descriptive: they ignore selection "
                "and timing and are never the effect."
            ),
            {},
        ),
    ]
    return lines
