"""Evaluation and selection, as pure functions: combining evaluators' scores, bonus points (가점),
ranking with a deterministic tie-break, and selection within quota and budget with a reserve list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import fmean
from typing import Any

from sangsaeng.programs.engine import eligibility

TRIMMED, MEAN = "trimmed", "mean"
COMBINATIONS = (TRIMMED, MEAN)
TRIM_FROM = 5  # committees drop the highest and the lowest score from five evaluators up
MAX_BONUS_PER_RULE = 10.0


@dataclass(frozen=True)
class Combined:
    score: float
    method: str  # what was actually done: "trimmed" (one highest and lowest dropped) or "mean"
    used: tuple[float, ...]
    dropped: tuple[float, ...]


def combine(scores: Sequence[float], method: str) -> Combined:
    """The committee's score of one application. ``trimmed`` drops one highest and one lowest
    score when at least five evaluators scored, and averages all of them otherwise."""
    if not scores:
        raise ValueError("no scores")
    if method not in COMBINATIONS:
        raise ValueError(f"unknown combination {method!r}")
    ordered = sorted(scores)
    if method == TRIMMED and len(ordered) >= TRIM_FROM:
        used = tuple(ordered[1:-1])
        return Combined(round(fmean(used), 4), TRIMMED, used, (ordered[0], ordered[-1]))
    return Combined(round(fmean(ordered), 4), MEAN, tuple(ordered), ())


@dataclass(frozen=True)
class BonusRule:
    rule: eligibility.Rule
    points: float


def parse_bonus_rules(raw: Sequence[Mapping[str, Any]]) -> list[BonusRule]:
    """Bonus rules are eligibility rules with the points they add; problems as RuleError."""
    problems: list[tuple[int, str]] = []
    parsed: list[BonusRule] = []
    for index, item in enumerate(raw):
        points = item.get("points") if isinstance(item, Mapping) else None
        if (
            not isinstance(points, int | float)
            or isinstance(points, bool)
            or not 0 < points <= MAX_BONUS_PER_RULE
        ):
            problems.append((index, eligibility.N_("Bonus points must be between 0 and 10.")))
            continue
        rule_part = {k: v for k, v in item.items() if k != "points"}
        try:
            (rule,) = eligibility.parse_rules([rule_part])
        except eligibility.RuleError as error:
            problems.append((index, error.problems[0][1]))
            continue
        parsed.append(BonusRule(rule, float(points)))
    if problems:
        raise eligibility.RuleError(problems)
    return parsed


@dataclass(frozen=True)
class Bonus:
    points: float
    earned: tuple[tuple[int, float], ...]  # (rule index, points) for every rule met


def bonus(rules: Sequence[BonusRule], facts: eligibility.Facts) -> Bonus:
    earned = tuple(
        (index, item.points)
        for index, item in enumerate(rules)
        if eligibility.evaluate([item.rule], facts).eligible
    )
    return Bonus(round(sum(points for _i, points in earned), 4), earned)


@dataclass(frozen=True)
class Candidate:
    application_id: int
    base_score: float
    bonus_points: float
    submitted_at: datetime
    requested_support: int  # KRW asked of the program's budget (every source but the SME's own)

    @property
    def final_score(self) -> float:
        return round(self.base_score + self.bonus_points, 4)


def rank(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Highest final score first; ties go to the higher score before bonus points, then to the
    earlier submission, then to the lower application number — never to chance."""
    return sorted(
        candidates,
        key=lambda c: (-c.final_score, -c.base_score, c.submitted_at, c.application_id),
    )


SELECTED, RESERVE, REJECTED = "selected", "reserve", "rejected"


@dataclass(frozen=True)
class Decision:
    application_id: int
    rank: int
    outcome: str
    reason: str  # msgid: why this outcome


def select(
    ranked: Sequence[Candidate],
    *,
    quota: int,
    budget: int,
    reserve_size: int,
    min_score: float = 0.0,
) -> list[Decision]:
    """Walk the ranking: select while the quota and the budget allow; one whose request no
    longer fits the budget left goes to the reserve list and the next is considered; after the
    quota is filled the next ``reserve_size`` form the reserve list; the rest are not selected.
    Below ``min_score`` nobody is selected or reserved."""
    decisions: list[Decision] = []
    selected = reserves = 0
    spent = 0
    for position, candidate in enumerate(ranked, start=1):
        if candidate.final_score < min_score:
            outcome, reason = REJECTED, eligibility.N_("Below the minimum score.")
        elif selected < quota and spent + candidate.requested_support <= budget:
            selected += 1
            spent += candidate.requested_support
            outcome, reason = SELECTED, eligibility.N_("Selected within quota and budget.")
        elif reserves < reserve_size:
            reserves += 1
            outcome = RESERVE
            reason = (
                eligibility.N_("The remaining budget does not cover the request.")
                if selected < quota
                else eligibility.N_("The quota is filled.")
            )
        else:
            outcome, reason = REJECTED, eligibility.N_("Ranked below the reserve list.")
        decisions.append(Decision(candidate.application_id, position, outcome, reason))
    return decisions
