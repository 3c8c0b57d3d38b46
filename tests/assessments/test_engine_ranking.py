"""Certification ranking (cut-offs, explained tie-breaks) and peer percentiles; no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sangsaeng.assessments.engine.ranking import (
    MIN_PEERS,
    Entry,
    PeerStanding,
    peer_percentile,
    rank_entries,
)

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def entry(key: int, overall: float, quality: float = 50, technology: float = 50, hours: int = 0):
    return Entry(
        key, overall, {"quality": quality, "technology": technology}, T0 + timedelta(hours=hours)
    )


def summary(ranked) -> list[tuple]:
    return [(r.key, r.rank, r.certified, r.decided_by, r.reason) for r in ranked]


# --- cut-offs ---------------------------------------------------------------------------------


def test_orders_by_overall_and_cuts_by_top_n_and_min_score():
    entries = [entry(1, 71.0), entry(2, 95.5), entry(3, 69.99), entry(4, 88.0), entry(5, 70.0)]
    ranked = rank_entries(entries, top_n=3, min_score=70, tie_breaks=[])
    assert summary(ranked) == [
        (2, 1, True, None, ""),
        (4, 2, True, None, ""),
        (1, 3, True, None, ""),
        (5, 4, False, None, "top_n"),  # 70 is enough, but only three are certified
        (3, 5, False, None, "top_n"),  # beyond top_n is named first, even if also too low
    ]


def test_min_score_cut_inside_top_n_and_exactly_at_the_minimum():
    entries = [entry(1, 70.0), entry(2, 69.99), entry(3, 100.0)]
    ranked = rank_entries(entries, top_n=100, min_score=70, tie_breaks=[])
    assert summary(ranked) == [
        (3, 1, True, None, ""),
        (1, 2, True, None, ""),
        (2, 3, False, None, "min_score"),
    ]


def test_no_top_n_certifies_everyone_above_the_minimum():
    ranked = rank_entries(
        [entry(key, 60 + key) for key in range(1, 6)], top_n=None, min_score=63, tie_breaks=[]
    )
    assert [(r.key, r.certified) for r in ranked] == [
        (5, True),
        (4, True),
        (3, True),
        (2, False),
        (1, False),
    ]


def test_empty_entries():
    assert rank_entries([], top_n=100, min_score=70, tie_breaks=["quality"]) == []


# --- tie-breaks -------------------------------------------------------------------------------


def test_a_tie_is_decided_by_the_first_tie_break_dimension():
    entries = [entry(1, 80, quality=70, technology=90), entry(2, 80, quality=75, technology=10)]
    ranked = rank_entries(
        entries, top_n=100, min_score=70, tie_breaks=["quality", "technology", "submitted_at"]
    )
    assert summary(ranked) == [(2, 1, True, None, ""), (1, 2, True, "quality", "")]


def test_the_second_dimension_decides_when_the_first_ties_too():
    entries = [entry(1, 80, quality=75, technology=60), entry(2, 80, quality=75, technology=65)]
    ranked = rank_entries(
        entries, top_n=100, min_score=70, tie_breaks=["quality", "technology", "submitted_at"]
    )
    assert summary(ranked) == [(2, 1, True, None, ""), (1, 2, True, "technology", "")]


def test_then_the_earlier_submission_wins():
    entries = [entry(1, 80, 75, 60, hours=5), entry(2, 80, 75, 60, hours=1)]
    ranked = rank_entries(
        entries, top_n=100, min_score=70, tie_breaks=["quality", "technology", "submitted_at"]
    )
    assert summary(ranked) == [(2, 1, True, None, ""), (1, 2, True, "submitted_at", "")]


def test_submitted_at_decides_even_when_not_named_and_key_decides_last():
    same_time = [entry(7, 80), entry(3, 80)]
    assert summary(rank_entries(same_time, top_n=None, min_score=0, tie_breaks=[])) == [
        (3, 1, True, None, ""),
        (7, 2, True, "key", ""),
    ]
    later_first = [entry(1, 80, hours=2), entry(2, 80, hours=1)]
    assert summary(rank_entries(later_first, top_n=None, min_score=0, tie_breaks=[])) == [
        (2, 1, True, None, ""),
        (1, 2, True, "submitted_at", ""),
    ]


def test_the_tie_break_order_is_the_named_order():
    # Named submitted_at first: the earlier submission wins over the better quality score.
    entries = [entry(1, 80, quality=90, hours=3), entry(2, 80, quality=60, hours=1)]
    ranked = rank_entries(entries, top_n=None, min_score=0, tie_breaks=["submitted_at", "quality"])
    assert summary(ranked) == [(2, 1, True, None, ""), (1, 2, True, "submitted_at", "")]


def test_a_tie_break_can_decide_who_is_certified_at_the_top_n_boundary():
    entries = [
        entry(1, 90),
        entry(2, 85, quality=60),
        entry(3, 85, quality=80),
        entry(4, 85, quality=80, technology=70),
    ]
    ranked = rank_entries(entries, top_n=2, min_score=70, tie_breaks=["quality", "technology"])
    assert summary(ranked) == [
        (1, 1, True, None, ""),
        (4, 2, True, None, ""),  # 85 after 90: the overall score decided
        (3, 3, False, "technology", "top_n"),
        (2, 4, False, "quality", "top_n"),
    ]


def test_a_missing_dimension_counts_as_zero():
    entries = [Entry(1, 80, {}, T0), Entry(2, 80, {"quality": 1.0}, T0 + timedelta(hours=1))]
    ranked = rank_entries(entries, top_n=None, min_score=0, tie_breaks=["quality"])
    assert summary(ranked) == [(2, 1, True, None, ""), (1, 2, True, "quality", "")]


# --- peer percentile --------------------------------------------------------------------------


def test_percentile_is_withheld_below_five_peers():
    assert MIN_PEERS == 5
    assert peer_percentile(80, []) == PeerStanding(0, None)
    assert peer_percentile(80, [10, 20, 30, 40]) == PeerStanding(4, None)
    assert peer_percentile(80, [10, 20, 30, 40, 50]).percentile == 100.0


def test_percentile_uses_mid_rank_for_ties():
    # below = 1 (50), equal = 2 (60, 60): 100 × (1 + ½ × 2) / 5 = 40
    assert peer_percentile(60, [50, 60, 60, 70, 80]) == PeerStanding(5, 40.0)
    # all equal: 100 × (0 + ½ × 6) / 6 = 50
    assert peer_percentile(70, [70] * 6) == PeerStanding(6, 50.0)
    # lowest of all: 0; one of seven below: 100 / 7 = 14.29 → 14.3 (one decimal)
    assert peer_percentile(10, [20, 30, 40, 50, 60]).percentile == 0.0
    assert peer_percentile(35, [30, 40, 50, 60, 70, 80, 90]).percentile == pytest.approx(14.3)


def test_an_ineligible_entry_keeps_its_rank_but_takes_no_place():
    waiting = Entry(9, 99.0, {}, T0, eligible=False)
    entries = [entry(1, 90.0), waiting, entry(2, 80.0), entry(3, 75.0)]
    ranked = rank_entries(entries, top_n=2, min_score=70, tie_breaks=[])
    assert summary(ranked) == [
        (9, 1, False, None, "ineligible"),
        (1, 2, True, None, ""),
        (2, 3, True, None, ""),  # the second place: the ineligible entry took none
        (3, 4, False, None, "top_n"),
    ]
