"""The performance report engine against a small example computed by hand."""

from __future__ import annotations

import pytest

from sangsaeng.outcomes.engine.improvement import CompanyInputs
from sangsaeng.outcomes.engine.report import CompanyOutcome, KpiRule, Pair, build_report

RULES = {
    "defect_rate": KpiRule("relative", "lower"),
    "productivity": KpiRule("relative", "higher"),
    "oee": KpiRule("relative", "higher"),
    "new_hires": KpiRule("difference", "higher"),
}


def test_a_hand_computed_program():
    companies = [
        # A: defect 4 → 2 (+0.5, target 2: achieved 1.0), productivity 10 → 11 (+0.1): avg 0.3.
        CompanyOutcome(
            1,
            {"region": "경북"},
            {
                "defect_rate": Pair(4.0, 2.0, target=2.0),
                "productivity": Pair(10.0, 11.0),
                "new_hires": Pair(0, 3),
            },
            CompanyInputs(annual_output=100_000, unit_cost=10_000),
        ),
        # B: OEE 50 → 60 (+0.2, target 70: achieved 0.5): avg 0.2; no inputs for any effect.
        CompanyOutcome(2, {"region": "경북"}, {"oee": Pair(50.0, 60.0, target=70.0)}),
        # C: defect 5 → 6 (−0.2): avg −0.2; its defect pair has no inputs — missing, not 0.
        CompanyOutcome(3, {"region": "울산"}, {"defect_rate": Pair(5.0, 6.0)}),
        # D: took part, nothing verified yet.
        CompanyOutcome(4, {"region": "울산"}, {}),
    ]
    report = build_report(5, companies, RULES, resamples=500, seed=3)
    assert (report.n_participants, report.n_verified) == (5, 3)
    avg = report.avg_improvement
    assert avg.n == 3 and avg.mean == pytest.approx((0.3 + 0.2 - 0.2) / 3)
    assert avg.median == pytest.approx(0.2)
    assert avg.ci[0] <= avg.mean <= avg.ci[1]
    assert report.kpis["defect_rate"].n == 2
    assert report.kpis["defect_rate"].mean == pytest.approx((0.5 - 0.2) / 2)
    assert report.target_achievement.n == 2
    assert report.target_achievement.mean == pytest.approx((1.0 + 0.5) / 2)
    effect = report.financial_effect
    # A: (4 − 2) / 100 × 100,000 × 10,000 = 20,000,000; C lacks inputs (missing); B has no
    # cost-side KPI at all.
    assert (effect.total, effect.per_company, effect.n, effect.n_missing) == (
        pytest.approx(20_000_000),
        pytest.approx(20_000_000),
        1,
        1,
    )
    assert report.totals["new_hires"] == (3.0, 1)
    by_region = report.breakdowns["region"]
    assert by_region["경북"].n == 2 and by_region["경북"].mean == pytest.approx(0.25)
    assert by_region["울산"].n == 1  # D has no average: missing
    data = report.as_dict()
    assert set(data) >= {
        "n_participants",
        "n_verified",
        "avg_improvement",
        "kpis",
        "financial_effect",
        "method",
    }
    assert set(data["avg_improvement"]) >= {"mean", "median", "trimmed_mean", "ci"}
    assert "formula" in data["financial_effect"]
