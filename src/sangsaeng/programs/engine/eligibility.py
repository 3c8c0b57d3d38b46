"""Eligibility rules as data, each checked with the reason it passed or failed.

A program lists its rules (JSON in the program's settings); an SME sees, before it applies, every
rule with its verdict and why. Facts about the SME (its industry, size, region, founding year,
supplier tier under each sponsor, diagnosed level, earlier support) are gathered by the service;
this module only decides. Reasons are English message ids with parameters, translated by callers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any


def N_(msgid: str) -> str:
    """Marks a message id for the translation catalog; the caller translates it."""
    return msgid


RULES = (
    "ksic_division",
    "size_class",
    "region",
    "supplier_tier",
    "years_since_founding",
    "not_supported_recently",
    "diagnosed_level",
)


@dataclass(frozen=True)
class Rule:
    kind: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Facts:
    ksic_code: str
    size_class: str
    region_code: str
    founded_year: int | None
    on: date
    supplier_tiers: Mapping[int, int] = field(default_factory=dict)  # sponsor id → tier
    level_ranks: Mapping[str, int | None] = field(default_factory=dict)  # instrument → rank
    supported_years: Mapping[str, Sequence[int]] = field(default_factory=dict)  # kind → years


@dataclass(frozen=True)
class Verdict:
    rule: Rule
    passed: bool
    reason: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Eligibility:
    verdicts: tuple[Verdict, ...]

    @property
    def eligible(self) -> bool:
        return all(v.passed for v in self.verdicts)

    @property
    def failed(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if not v.passed)


class RuleError(ValueError):
    """Rules that cannot be read: (index, English reason) per problem."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"rule {i + 1}: {reason}" for i, reason in problems))


def _codes(params: Mapping[str, Any], key: str = "in") -> list[str] | None:
    value = params.get(key)
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return value
    return None


def _int(params: Mapping[str, Any], key: str) -> int | None:
    value = params.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_rules(raw: Sequence[Mapping[str, Any]]) -> list[Rule]:
    """Rules from their stored form, every problem reported at once."""
    rules: list[Rule] = []
    problems: list[tuple[int, str]] = []
    for index, spec in enumerate(raw):
        kind = spec.get("rule") if isinstance(spec, Mapping) else None
        if kind not in RULES:
            problems.append((index, N_("unknown rule")))
            continue
        params = {k: v for k, v in spec.items() if k != "rule"}
        problem = _check(kind, params)
        if problem:
            problems.append((index, problem))
        else:
            rules.append(Rule(kind, params))
    if problems:
        raise RuleError(problems)
    return rules


def _check(kind: str, params: Mapping[str, Any]) -> str | None:
    if kind in ("ksic_division", "size_class", "region"):
        return None if _codes(params) else N_("list the allowed codes under 'in'")
    if kind == "supplier_tier":
        if _int(params, "sponsor") is None or (_int(params, "max") or 0) < 1:
            return N_("name the sponsor and a maximum tier of at least 1")
        return None
    if kind == "years_since_founding":
        low, high = _int(params, "min"), _int(params, "max")
        if low is None and high is None:
            return N_("give a minimum or a maximum number of years")
        if low is not None and high is not None and low > high:
            return N_("the minimum is above the maximum")
        return None
    if kind == "not_supported_recently":
        if not isinstance(params.get("kind"), str) or (_int(params, "years") or 0) < 1:
            return N_("name the kind of support and a number of years of at least 1")
        return None
    # diagnosed_level
    if not isinstance(params.get("instrument"), str):
        return N_("name the diagnosis instrument")
    low, high = _int(params, "min_rank"), _int(params, "max_rank")
    if low is None and high is None:
        return N_("give a minimum or a maximum level")
    if low is not None and high is not None and low > high:
        return N_("the minimum is above the maximum")
    return None


def evaluate(rules: Sequence[Rule], facts: Facts) -> Eligibility:
    return Eligibility(tuple(_verdict(rule, facts) for rule in rules))


def _verdict(rule: Rule, facts: Facts) -> Verdict:
    p = rule.params
    match rule.kind:
        case "ksic_division":
            division = facts.ksic_code[:2]
            ok = division in p["in"]
            return Verdict(
                rule,
                ok,
                N_("industry division {value}; allowed: {allowed}"),
                {"value": division, "allowed": ", ".join(p["in"])},
            )
        case "size_class":
            ok = facts.size_class in p["in"]
            return Verdict(
                rule,
                ok,
                N_("size class {value}; allowed: {allowed}"),
                {"value": facts.size_class, "allowed": ", ".join(p["in"])},
            )
        case "region":
            ok = facts.region_code in p["in"]
            return Verdict(
                rule,
                ok,
                N_("region {value}; allowed: {allowed}"),
                {"value": facts.region_code, "allowed": ", ".join(p["in"])},
            )
        case "supplier_tier":
            tier = facts.supplier_tiers.get(p["sponsor"])
            if tier is None:
                return Verdict(rule, False, N_("not in the sponsor's confirmed supply chain"), {})
            return Verdict(
                rule,
                tier <= p["max"],
                N_("tier {tier} supplier of the sponsor; allowed up to tier {max}"),
                {"tier": tier, "max": p["max"]},
            )
        case "years_since_founding":
            if facts.founded_year is None:
                return Verdict(rule, False, N_("the founding year is not on record"), {})
            years = facts.on.year - facts.founded_year
            low, high = p.get("min"), p.get("max")
            ok = (low is None or years >= low) and (high is None or years <= high)
            return Verdict(
                rule,
                ok,
                N_("{years} years since founding; allowed {range}"),
                {"years": years, "range": _range(low, high)},
            )
        case "not_supported_recently":
            since = facts.on.year - p["years"] + 1
            recent = sorted(y for y in facts.supported_years.get(p["kind"], ()) if y >= since)
            if recent:
                return Verdict(
                    rule,
                    False,
                    N_("already supported ({kind}) in {year}; not again within {n} years"),
                    {"kind": p["kind"], "year": recent[-1], "n": p["years"]},
                )
            return Verdict(
                rule,
                True,
                N_("no support of this kind ({kind}) since {since}"),
                {"kind": p["kind"], "since": since},
            )
        case _:  # diagnosed_level
            if p["instrument"] not in facts.level_ranks:
                return Verdict(rule, False, N_("no submitted diagnosis on record"), {})
            rank = facts.level_ranks[p["instrument"]]
            low, high = p.get("min_rank"), p.get("max_rank")
            if rank is None:
                return Verdict(rule, False, N_("the diagnosis gave no level"), {})
            ok = (low is None or rank >= low) and (high is None or rank <= high)
            return Verdict(
                rule,
                ok,
                N_("diagnosed level {rank}; allowed {range}"),
                {"rank": rank, "range": _range(low, high)},
            )


def _range(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"{low}–{high}"
    return f"≥ {low}" if low is not None else f"≤ {high}"


def describe(rule: Rule) -> tuple[str, dict[str, Any]]:
    """What a rule asks, in words (English message id and parameters), for the public call page."""
    p = rule.params
    match rule.kind:
        case "ksic_division":
            return N_("Industry division: {allowed}"), {"allowed": p["in"]}
        case "size_class":
            return N_("Size class: {allowed}"), {"allowed": p["in"]}
        case "region":
            return N_("Region: {allowed}"), {"allowed": p["in"]}
        case "supplier_tier":
            return N_("A supplier of {sponsor} up to tier {max}"), {
                "sponsor": p["sponsor"],
                "max": p["max"],
            }
        case "years_since_founding":
            return N_("Years since founding: {range}"), {
                "range": _range(p.get("min"), p.get("max"))
            }
        case "not_supported_recently":
            return N_("No support of this kind ({kind}) in the last {n} years"), {
                "kind": p["kind"],
                "n": p["years"],
            }
        case _:
            return N_("Diagnosed level ({instrument}): {range}"), {
                "instrument": p["instrument"],
                "range": _range(p.get("min_rank"), p.get("max_rank")),
            }
