"""Largest-remainder splits of integer KRW by shares."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sangsaeng.core.money import split_by_shares

THIRTY_THIRTY_FORTY = {"gov": Decimal("0.3"), "sponsor": Decimal("0.3"), "sme": Decimal("0.4")}


def test_largest_remainder_gets_the_won_left_over():
    # 1,000,001 × (0.3, 0.3, 0.4) = 300,000.3 / 300,000.3 / 400,000.4: one won left, to the .4
    assert split_by_shares(1_000_001, THIRTY_THIRTY_FORTY) == {
        "gov": 300_000,
        "sponsor": 300_000,
        "sme": 400_001,
    }
    third = Decimal(1) / Decimal(3)
    # 100 / 3 = 33.33…: the last share holds the rounding of the Decimal thirds (.34 → 34)
    assert split_by_shares(100, {"a": third, "b": third, "c": 1 - 2 * third}) == {
        "a": 33,
        "b": 33,
        "c": 34,
    }


def test_ties_go_in_the_order_of_the_shares_and_a_stated_owner_takes_all():
    half = Decimal("0.5")
    assert split_by_shares(3, {"x": half, "y": half}) == {"x": 2, "y": 1}
    assert split_by_shares(101, THIRTY_THIRTY_FORTY, remainder_to="sme") == {
        "gov": 30,
        "sponsor": 30,
        "sme": 41,
    }


def test_bad_shares_are_refused():
    with pytest.raises(ValueError):
        split_by_shares(10, {"a": Decimal("0.5"), "b": Decimal("0.4")})
    with pytest.raises(ValueError):
        split_by_shares(-1, THIRTY_THIRTY_FORTY)
    with pytest.raises(ValueError):
        split_by_shares(10, THIRTY_THIRTY_FORTY, remainder_to="nobody")


@settings(max_examples=200, deadline=None)
@given(
    amount=st.integers(min_value=0, max_value=10**13),
    weights=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=6).filter(
        lambda w: sum(w) > 0
    ),
)
def test_parts_add_up_and_stay_within_one_won_of_exact(amount, weights):
    total = sum(weights)
    shares = {f"s{i}": Decimal(w) / Decimal(total) for i, w in enumerate(weights)}
    # Decimal division may leave the sum a hair off 1: give the last share the difference.
    last = f"s{len(weights) - 1}"
    shares[last] += Decimal(1) - sum(shares.values())
    if shares[last] < 0:
        return
    parts = split_by_shares(amount, shares)
    assert sum(parts.values()) == amount
    for key, share in shares.items():
        assert abs(parts[key] - Decimal(amount) * share) < 1
