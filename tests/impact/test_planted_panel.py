"""The synthetic firm-year panel with planted truth (demo/impact.py), on its own: deterministic,
well-formed, ten times as many non-participants, the planted selection and effect where the
truth says they are, and the study engine recovering them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from sangsaeng.core.ids import normalize_business_no
from sangsaeng.core.reference import DEFAULT_REVENUE_BANDS
from sangsaeng.demo.impact import (
    PARTICIPANT_DIVISIONS,
    PLANTED_IMPACT,
    Participant,
    Truth,
    firm_year_panel,
    synthetic_participants,
)
from sangsaeng.impact.engine.study import StudySpec, analyse

YEARS = list(range(2017, 2025))
BANDS = [(code, low, high) for code, _ko, _en, low, high in DEFAULT_REVENUE_BANDS]
COLUMNS = [
    "business_no",
    "year",
    "ksic_code",
    "region_code",
    "revenue",
    "operating_profit",
    "rnd_spend",
    "employees",
    "exports",
]
MONEY = ["revenue", "operating_profit", "rnd_spend", "employees", "exports"]


@pytest.fixture(scope="module")
def participants():
    return synthetic_participants(300, YEARS, seed=5)


@pytest.fixture(scope="module")
def panel(participants):
    return firm_year_panel(participants, years=YEARS, seed=5)


def _band(revenue: pd.Series) -> pd.Series:
    edges = [low for _c, low, _h in BANDS[1:]]
    return pd.Series(np.searchsorted(edges, revenue.to_numpy(float), side="right"), revenue.index)


def _log_wide(rows: pd.DataFrame, column: str = "revenue") -> pd.DataFrame:
    wide = rows.pivot(index="business_no", columns="year", values=column).astype(float)
    return np.log(wide.where(wide > 0))


def test_the_same_seed_gives_the_same_panel_and_another_seed_another(participants, panel):
    rows, truth = panel
    again, truth_again = firm_year_panel(participants, years=YEARS, seed=5)
    pd.testing.assert_frame_equal(rows, again)
    assert truth == truth_again
    other, _ = firm_year_panel(participants, years=YEARS, seed=6)
    assert not rows["revenue"].equals(other["revenue"])
    assert synthetic_participants(300, YEARS, seed=5) == participants


def test_rows_are_an_extract_of_firm_years_in_krw(panel):
    rows, _ = panel
    assert list(rows.columns) == COLUMNS
    assert not rows.duplicated(["business_no", "year"]).any()
    assert set(rows["year"]) == set(YEARS)
    for column in MONEY:
        assert str(rows[column].dtype) == "Int64"  # whole KRW (persons), missing allowed
    assert (rows["revenue"].dropna() > 0).all()
    assert (rows["employees"].dropna() >= 1).all()
    assert (rows["operating_profit"].dropna() < 0).mean() > 0.05  # losses happen
    exporters = rows.groupby("business_no")["exports"].max() > 0
    assert 0.1 < exporters.mean() < 0.5  # exports 0 for most firms
    # A few values missing and a few firms absent some years, as extracts have them.
    missing = rows[MONEY].isna().mean()
    assert ((missing > 0) & (missing < 0.01)).all()
    years_per_firm = rows.groupby("business_no")["year"].nunique()
    assert 0 < (years_per_firm < len(YEARS)).mean() < 0.1


def test_ten_times_as_many_non_participants_with_valid_numbers(participants, panel):
    rows, _ = panel
    own = {p.business_no for p in participants}
    firms = rows["business_no"].unique()
    others = [b for b in firms if b not in own]
    assert own <= set(firms)
    assert len(others) >= 10 * len(own)
    assert all(normalize_business_no(b) == b for b in firms)
    # Numbers already taken (the demo's organizations) are never drawn.
    taken = set(others[:50])
    again, _ = firm_year_panel(participants, years=YEARS, seed=5, exclude=taken)
    assert not taken & set(again["business_no"])
    with pytest.raises(ValueError):
        firm_year_panel(participants, years=YEARS, seed=5, non_participant_ratio=9)


def test_participants_cluster_where_non_participants_spread(participants, panel):
    rows, _ = panel
    own = rows["business_no"].isin({p.business_no for p in participants})
    division = rows["ksic_code"].str[:2]
    assert set(division[own]) == set(PARTICIPANT_DIVISIONS)
    assert division[~own].nunique() >= 20
    bands = _band(rows["revenue"].dropna())
    is_own = own[bands.index]
    assert bands[~is_own].nunique() > bands[is_own].nunique()
    mid = bands.isin([2, 3])  # ₩5–10bn, ₩10–50bn
    assert mid[is_own].mean() > 0.85 > 0.7 > mid[~is_own].mean()


def test_participants_grew_faster_before_any_support(participants, panel):
    """Planted selection: over the years before the first cohort, participants' log revenue
    grew faster per year than non-participants', by about the planted gap of trends."""
    rows, truth = panel
    y = _log_wide(rows)
    first = truth.boosted_cohort
    growth = (y[first - 1] - y[YEARS[0]]) / (first - 1 - YEARS[0])
    own = growth.index.isin({p.business_no for p in participants})
    gap = growth[own].mean() - growth[~own].mean()
    planted = PLANTED_IMPACT.trend_participants - PLANTED_IMPACT.trend_others
    assert gap == pytest.approx(planted, abs=0.01)


def test_the_data_carry_exactly_the_planted_effect(participants, panel):
    """The same seed without any effect draws the same firms: the difference in log revenue
    is the truth's ATT, firm by firm, year by year (up to rounding to 1,000 KRW)."""
    rows, truth = panel
    none = dataclasses.replace(
        PLANTED_IMPACT,
        revenue_base=0.0,
        revenue_per_year=0.0,
        first_cohort_extra=0.0,
        employees_base=0.0,
        employees_per_year=0.0,
    )
    without, _ = firm_year_panel(participants, years=YEARS, seed=5, impact=none)
    effect = (_log_wide(rows) - _log_wide(without)).stack().dropna()
    completed = {p.business_no: p.completed for p in participants if p.completed}
    expected = np.array(
        [
            truth.att(completed[b], year) if b in completed else 0.0
            for b, year in effect.index.to_list()
        ]
    )
    assert np.abs(effect.to_numpy() - expected).max() < 1e-5
    heads = _log_wide(rows, "employees") - _log_wide(without, "employees")
    treated = [b for b in completed if completed[b] <= 2022]
    assert heads.loc[treated, 2024].mean() == pytest.approx(
        np.mean([truth.att(completed[b], 2024, "employees") for b in treated]), abs=0.01
    )


def test_truth_is_staggered_and_heterogeneous():
    people = [
        Participant("1", "291", "41", 2020, 2019),
        Participant("2", "291", "41", 2022, 2021),
        Participant("3", "291", "41", None, 2023),
    ]
    truth = Truth.of(people, YEARS)
    assert truth.boosted_cohort == 2020
    assert truth.att(2022, 2021) == 0.0  # nothing before completion
    assert truth.att(2022, 2022) == pytest.approx(0.03)
    assert truth.att(2022, 2024) == pytest.approx(0.03 + 2 * 0.02)
    assert truth.att(2020, 2020) == pytest.approx(0.06)  # the first cohort gained more
    assert 0 < truth.att(2022, 2024, "employees") < truth.att(2022, 2024)
    # Simple aggregation: post cells weighted by cohort size.
    sizes = {2020: 10, 2022: 30}
    cells = [(2020, t, 10) for t in range(2020, 2025)] + [(2022, t, 30) for t in (2022, 2023, 2024)]
    expected = sum(n * truth.att(g, t) for g, t, n in cells) / sum(n for *_, n in cells)
    assert truth.simple_att(sizes, YEARS) == pytest.approx(expected)
    # By start year: the 2021 starter's effect begins at its completion in 2022.
    assert truth.att_started(2021, 2021) == 0.0
    assert truth.att_started(2021, 2023) == truth.att(2022, 2023)
    assert truth.att_started(2023, 2024) == 0.0  # still running


def test_synthetic_participants_have_staggered_cohorts():
    people = synthetic_participants(2000, YEARS, seed=1)
    completed = {p.completed for p in people if p.completed}
    assert completed == set(YEARS[3:])  # each cohort has two pre-years of growth
    running = [p for p in people if p.completed is None]
    assert 0.05 < len(running) / len(people) < 0.15
    assert all(p.started <= p.completed for p in people if p.completed)


def test_the_study_recovers_the_planted_effect_the_naive_comparison_misses(participants, panel):
    rows, truth = panel
    running = {p.business_no for p in participants if not p.completed}
    rows = rows[~rows["business_no"].isin(running)]  # participants without a cohort yet
    cohorts = {p.business_no: p.completed for p in participants if p.completed}
    result = analyse(rows, cohorts, StudySpec(), BANDS)
    sizes = {int(g): n for g, n in result["n"]["cohorts"].items()}
    assert len(sizes) == len(YEARS) - 3
    true = truth.simple_att(sizes, YEARS)
    simple = result["did"]["aggregations"]["simple"]
    assert simple["ci"][0] <= true <= simple["ci"][1]
    assert result["naive"]["ci"][0] > true + 0.1  # selection on growth inflates it
    growth = next(b for b in result["balance"] if b["variable"] == "pre_growth")
    assert abs(growth["smd_after"]) < abs(growth["smd_before"]) / 3
    by_event = {e["event"]: e for e in result["did"]["aggregations"]["dynamic"]["by_event"]}
    assert by_event[3]["att"] > by_event[0]["att"]  # the effect grows after completion
