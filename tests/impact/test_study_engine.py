"""The study engine on a small synthetic panel with planted selection and a planted effect."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from sangsaeng.impact.engine.did import PanelError
from sangsaeng.impact.engine.study import StudySpec, analyse

BANDS = [("s", 0, 5_000_000_000), ("m", 5_000_000_000, 50_000_000_000), ("l", 50_000_000_000, None)]
YEARS = list(range(2016, 2025))
EFFECT = {2020: 0.10, 2022: 0.05}  # log points from the cohort year on, per cohort


def _panel(seed: int = 3, n_participants: int = 240, n_others: int = 3000):
    rng = np.random.default_rng(seed)
    n = n_participants + n_others
    ids = [f"{i:010d}" for i in range(n)]
    participant = np.arange(n) < n_participants
    trend = rng.normal(0.02, 0.04, n) + np.where(participant, 0.05, 0.0)  # selection on growth
    ksic = np.where(
        participant, rng.choice(["291", "251"], n), rng.choice(["291", "251", "262", "101"], n)
    )
    level = rng.normal(np.log(8e9), 0.6, n)
    cohort = np.where(participant, rng.choice(list(EFFECT), n), 0)
    rows = []
    for k, year in enumerate(YEARS):
        treated = (cohort > 0) & (year >= cohort)
        effect = np.where(treated, np.vectorize(lambda g: EFFECT.get(g, 0.0))(cohort), 0.0)
        y = level + trend * k + 0.02 * k + effect + rng.normal(0, 0.01, n)
        rows.append(
            pd.DataFrame(
                {
                    "business_no": ids,
                    "year": year,
                    "ksic_code": ksic,
                    "revenue": np.exp(y).round(),
                    "operating_profit": np.nan,
                    "rnd_spend": np.nan,
                    "employees": np.nan,
                    "exports": np.nan,
                }
            )
        )
    cohorts = {ids[i]: int(cohort[i]) for i in range(n_participants)}
    return pd.concat(rows, ignore_index=True), cohorts


@pytest.fixture(scope="module")
def panel():
    return _panel()


def _true_simple(cohort_counts: dict) -> float:
    num = den = 0.0
    for g, n in cohort_counts.items():
        for year in YEARS:
            if year >= int(g):
                num += n * EFFECT[int(g)]
                den += n
    return num / den


def test_matched_did_recovers_the_planted_effect_and_the_naive_comparison_does_not(panel):
    rows, cohorts = panel
    seen = []
    result = analyse(rows, cohorts, StudySpec(), BANDS, progress=lambda d, t: seen.append((d, t)))
    truth = _true_simple(result["n"]["cohorts"])
    simple = result["did"]["aggregations"]["simple"]
    assert simple["ci"][0] <= truth <= simple["ci"][1]
    naive = result["naive"]
    assert naive["ci"][0] > truth + 0.1  # selection on growth inflates it
    pre = result["balance"][1]
    assert pre["variable"] == "pre_growth"
    assert abs(pre["smd_after"]) < 0.1 < abs(pre["smd_before"])
    assert seen[-1][0] == seen[-1][1]
    assert result["did"]["pretrend_p"] > 0.01


def test_without_matching_the_did_is_biased_by_selection(panel):
    rows, cohorts = panel
    result = analyse(rows, cohorts, StudySpec(refine="none"), BANDS)
    truth = _true_simple(result["n"]["cohorts"])
    simple = result["did"]["aggregations"]["simple"]
    assert simple["ci"][0] > truth
    messages = [m for m, _ in result["warnings"]]
    assert any(m.startswith("Pre-trends") for m in messages)
    assert any(m.startswith("Imbalance after matching") for m in messages)


def test_steps_count_every_firm_dropped(panel):
    rows, cohorts = panel
    cohorts = {**cohorts, "9999999999": 2020}  # listed but absent from the panel
    result = analyse(rows, cohorts, StudySpec(refine="mahalanobis", caliper=0.5), BANDS)
    steps = {s["step"]: s for s in result["steps"]}
    assert steps["participants"]["treated_dropped"] == 1
    assert steps["participants"]["treated"] == 240
    chain = [
        "participants",
        "cohort_range",
        "pre_period_data",
        "exact_cell",
        "caliper",
        "complete_years",
    ]
    for before, after in itertools.pairwise(chain):
        assert steps[after]["treated"] + steps[after]["treated_dropped"] == steps[before]["treated"]
    assert result["n"]["treated"] == steps["complete_years"]["treated"]
    groups = {g["group"]: g for g in result["descriptive"]["groups"]}
    assert groups["participants"]["n"] == result["n"]["treated"]
    assert groups["participants"]["total_growth"] > groups["all_non_participants"]["total_growth"]


def test_a_study_the_panel_cannot_support_is_refused(panel):
    rows, cohorts = panel
    with pytest.raises(PanelError) as caught:
        analyse(rows, {"nobody": 2020}, StudySpec(), BANDS)
    assert "participants is in the panel" in str(caught.value)
    with pytest.raises(PanelError):
        analyse(rows, cohorts, StudySpec(outcome="weight"), BANDS)
    with pytest.raises(PanelError):
        analyse(rows, {k: 2030 for k in cohorts}, StudySpec(), BANDS)


def test_growth_of_a_group_too_small_to_hide_single_firms_is_withheld(panel):
    rows, cohorts = panel
    few = dict(list(cohorts.items())[:3])
    result = analyse(rows, few, StudySpec(ratio=3), BANDS)
    groups = {g["group"]: g for g in result["descriptive"]["groups"]}
    small = [g for g in groups.values() if 0 < g["n"] < 5]
    assert small, groups
    for group in small:
        assert group["withheld"] and group["total_growth"] is None and group["mean_growth"] is None
    assert not groups["all_non_participants"]["withheld"]
    assert groups["all_non_participants"]["total_growth"] is not None
