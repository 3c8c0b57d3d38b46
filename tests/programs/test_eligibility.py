"""Eligibility rules as data: every rule's verdict with its reason; unreadable rules refused."""

from __future__ import annotations

from datetime import date

import pytest

from sangsaeng.programs.engine.eligibility import Facts, RuleError, evaluate, parse_rules

FACTS = Facts(
    ksic_code="291",
    size_class="sme",
    region_code="47",
    founded_year=2015,
    on=date(2026, 3, 1),
    supplier_tiers={7: 2},
    level_ranks={"smart-factory-level": 1},
    supported_years={"smart_factory_basic": [2021]},
)

RULES = [
    {"rule": "ksic_division", "in": ["29", "25"]},
    {"rule": "size_class", "in": ["sme", "micro"]},
    {"rule": "region", "in": ["47", "48"]},
    {"rule": "supplier_tier", "sponsor": 7, "max": 3},
    {"rule": "years_since_founding", "min": 3},
    {"rule": "not_supported_recently", "kind": "smart_factory_basic", "years": 3},
    {"rule": "diagnosed_level", "instrument": "smart-factory-level", "max_rank": 2},
]


def test_an_eligible_sme_passes_every_rule_with_its_reason():
    result = evaluate(parse_rules(RULES), FACTS)
    assert result.eligible and result.failed == ()
    reasons = [(v.reason, dict(v.params)) for v in result.verdicts]
    assert reasons[3] == (
        "tier {tier} supplier of the sponsor; allowed up to tier {max}",
        {"tier": 2, "max": 3},
    )
    assert reasons[4][1] == {"years": 11, "range": "≥ 3"}
    # 2021 is outside 2024–2026, the last three years
    assert reasons[5][1] == {"kind": "smart_factory_basic", "since": 2024}


@pytest.mark.parametrize(
    ("rule", "facts", "reason"),
    [
        (
            {"rule": "ksic_division", "in": ["25"]},
            {},
            "industry division {value}; allowed: {allowed}",
        ),
        ({"rule": "size_class", "in": ["micro"]}, {}, "size class {value}; allowed: {allowed}"),
        ({"rule": "region", "in": ["11"]}, {}, "region {value}; allowed: {allowed}"),
        (
            {"rule": "supplier_tier", "sponsor": 7, "max": 1},
            {},
            "tier {tier} supplier of the sponsor; allowed up to tier {max}",
        ),
        (
            {"rule": "supplier_tier", "sponsor": 8, "max": 3},
            {},
            "not in the sponsor's confirmed supply chain",
        ),
        (
            {"rule": "years_since_founding", "max": 5},
            {},
            "{years} years since founding; allowed {range}",
        ),
        (
            {"rule": "years_since_founding", "min": 1},
            {"founded_year": None},
            "the founding year is not on record",
        ),
        (
            {"rule": "not_supported_recently", "kind": "smart_factory_basic", "years": 6},
            {},
            "already supported ({kind}) in {year}; not again within {n} years",
        ),
        (
            {"rule": "diagnosed_level", "instrument": "smart-factory-level", "min_rank": 2},
            {},
            "diagnosed level {rank}; allowed {range}",
        ),
        (
            {"rule": "diagnosed_level", "instrument": "innovation-capability", "max_rank": 2},
            {},
            "no submitted diagnosis on record",
        ),
        (
            {"rule": "diagnosed_level", "instrument": "smart-factory-level", "max_rank": 2},
            {"level_ranks": {"smart-factory-level": None}},
            "the diagnosis gave no level",
        ),
    ],
)
def test_each_rule_fails_with_its_reason(rule, facts, reason):
    from dataclasses import replace

    result = evaluate(parse_rules([rule]), replace(FACTS, **facts))
    assert not result.eligible
    assert result.failed[0].reason == reason


def test_a_year_boundary_counts_as_recent():
    rule = parse_rules([{"rule": "not_supported_recently", "kind": "k", "years": 3}])
    from dataclasses import replace

    # On 2026-03-01 "within 3 years" means 2024, 2025 or 2026: 2024 is recent, 2023 is not.
    assert not evaluate(rule, replace(FACTS, supported_years={"k": [2024]})).eligible
    assert evaluate(rule, replace(FACTS, supported_years={"k": [2023]})).eligible


def test_unreadable_rules_are_all_reported():
    with pytest.raises(RuleError) as caught:
        parse_rules(
            [
                {"rule": "ksic_division", "in": []},
                {"rule": "nope"},
                {"rule": "supplier_tier", "sponsor": 7, "max": 0},
                {"rule": "years_since_founding", "min": 10, "max": 3},
                {"rule": "diagnosed_level", "instrument": "x"},
                {"rule": "region", "in": ["47"]},
            ]
        )
    assert [index for index, _reason in caught.value.problems] == [0, 1, 2, 3, 4]
