"""The outcomes engine: improvements, target achievement, the per-company average, the financial
effect against a hand-computed example, and the summaries with their bootstrap interval."""

from __future__ import annotations

import numpy as np
import pytest

from sangsaeng.core import reference
from sangsaeng.outcomes.engine.improvement import (
    CompanyInputs,
    company_average,
    financial_effect,
    improvement,
    target_achievement,
)
from sangsaeng.outcomes.engine.summary import bootstrap_ci, summarize, trimmed_mean


def test_improvements_are_positive_when_the_kpi_got_better():
    assert improvement("relative", "lower", 4.0, 3.0) == pytest.approx(0.25)
    assert improvement("relative", "higher", 10.0, 12.0) == pytest.approx(0.2)
    assert improvement("relative", "higher", 10.0, 8.0) == pytest.approx(-0.2)
    assert improvement("relative", "lower", 0.0, 1.0) is None  # undefined from 0, not 0
    assert improvement("difference", "lower", 3, 1) == 2  # two fewer incidents
    assert improvement("difference", "higher", 0, 5) == 5  # five new hires
    with pytest.raises(ValueError):
        improvement("relative", "sideways", 1, 2)


def test_target_achievement():
    # Defect rate 4 % → target 2 %, reached 3 %: half of the targeted reduction.
    assert target_achievement("lower", 4.0, 2.0, 3.0) == pytest.approx(0.5)
    assert target_achievement("higher", 80.0, 90.0, 95.0) == pytest.approx(1.5)
    assert target_achievement("higher", 80.0, 80.0, 95.0) is None


def test_the_per_company_average_then_the_mean_over_companies():
    # Company A: defect −50 %, productivity +10 % → 0.30; company B: OEE +20 % → 0.20.
    a = company_average({"defect_rate": 0.5, "productivity": 0.1})
    b = company_average({"oee": 0.2, "revenue": None})
    assert (a, b) == (pytest.approx(0.3), pytest.approx(0.2))
    assert summarize([a, b, None], resamples=200).mean == pytest.approx(0.25)
    assert summarize([a, b, None], resamples=200).n == 2  # the company without values is missing


def test_the_financial_effect_against_a_hand_computed_example():
    inputs = CompanyInputs(
        annual_output=200_000, unit_cost=15_000, annual_hours=50_000, value_added_per_hour=40_000
    )
    parts, missing = financial_effect(
        {"defect_rate": 3.0, "productivity": 20.0, "unit_cost": 15_000},
        {"defect_rate": 1.5, "productivity": 23.0, "unit_cost": 14_500},
        inputs,
    )
    by_kind = {p.kind: p.krw for p in parts}
    # (3.0 − 1.5) / 100 × 200,000 × 15,000 = 45,000,000
    assert by_kind["defect_rate"] == pytest.approx(45_000_000)
    # (15,000 − 14,500) × 200,000 = 100,000,000
    assert by_kind["unit_cost"] == pytest.approx(100_000_000)
    # (23 − 20) / 20 × 50,000 × 40,000 = 300,000,000
    assert by_kind["productivity"] == pytest.approx(300_000_000)
    assert missing == []
    parts, missing = financial_effect(
        {"defect_rate": 3.0}, {"defect_rate": 1.5}, CompanyInputs(annual_output=200_000)
    )
    assert parts == [] and missing == ["defect_rate"]  # missing inputs: missing, not 0


def test_summaries_and_the_bootstrap_interval():
    rng = np.random.default_rng(7)
    values = rng.normal(0.3, 0.1, size=2000)
    result = summarize(list(values), resamples=2000, seed=1)
    assert result.n == 2000
    low, high = result.ci
    assert low < 0.3 < high and high - low == pytest.approx(2 * 1.96 * 0.1 / np.sqrt(2000), rel=0.2)
    assert summarize(list(values), resamples=2000, seed=1).ci == result.ci  # reproducible
    assert trimmed_mean(np.array([0.0, 1, 1, 1, 1, 1, 1, 1, 1, 100])) == 1.0
    assert summarize([0.5], resamples=100).ci is None and summarize([]).n == 0
    assert bootstrap_ci(np.array([1.0, 1.0, 1.0]), resamples=50) == (1.0, 1.0)


def test_the_catalogue_states_how_each_kpi_improves():
    catalogue = reference.kpis()
    assert {"revenue", "operating_profit", "new_hires", "investment", "defect_ppm"} <= set(
        catalogue
    )
    assert catalogue["defect_rate"].improvement == "relative"
    assert catalogue["new_hires"].improvement == "difference"
    assert {k.category for k in catalogue.values()} == {"operations", "business", "input"}
