"""Scoring: answers → item fractions → dimension scores (0–100) → overall score, level and grades.

Item fraction: the answer's position on its scale in [0, 1] (see :class:`Scale`). Dimension score:
100 × Σ wᵢ·fᵢ / Σ wᵢ over all its items (an unanswered item counts as the lowest answer, so a
better answer can only raise a score). Overall: Σ W_d · D_d with the dimension weights (Σ W_d = 1).
Scores are rounded to two decimals before levels and grades are read, so a result is reproducible.
A level is reached when the overall score and every dimension minimum of that level are reached.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sangsaeng.assessments.engine.instrument import (
    N_,
    Dimension,
    Grade,
    Instrument,
    Item,
    Level,
    Option,
    Text,
)

DECIMALS = 2


@dataclass(frozen=True)
class ItemResult:
    item_id: str
    dimension_id: str
    answer: float | None
    fraction: float
    points: float  # contribution to the overall score
    max_points: float  # contribution at the best answer
    label: Text | None
    feedback: Text | None
    next_option: Option | None
    gain_to_next: float  # overall points gained by the next better answer (0 at the top)


@dataclass(frozen=True)
class DimensionResult:
    id: str
    title: Text
    weight: float
    score: float
    grade: Grade | None
    answered: int
    total: int


@dataclass(frozen=True)
class Step:
    """One answer to improve on the way to the next level."""

    item_id: str
    from_value: float | None
    to_value: float
    to_label: Text | None
    gain: float


@dataclass(frozen=True)
class Result:
    overall: float
    level: Level | None
    next_level: Level | None
    points_to_next: float
    dimension_shortfalls: dict[str, float]
    path_to_next: tuple[Step, ...]
    dimensions: tuple[DimensionResult, ...]
    items: tuple[ItemResult, ...]
    answered: int
    total: int

    @property
    def complete(self) -> bool:
        return self.answered == self.total

    def dimension(self, dim_id: str) -> DimensionResult:
        return next(d for d in self.dimensions if d.id == dim_id)

    def item(self, item_id: str) -> ItemResult:
        return next(i for i in self.items if i.item_id == item_id)  # ≤ a few dozen items


def check_answers(instrument: Instrument, answers: Mapping[str, object]) -> dict[str, str]:
    """Problems per item id (English message ids); empty when every answer fits its scale."""
    problems: dict[str, str] = {}
    for item_id, value in answers.items():
        item = instrument.item(item_id)
        if item is None:
            problems[item_id] = N_("This question is not part of the instrument.")
            continue
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems[item_id] = N_("Enter a number.")
        elif not _accepts(item, float(value)):
            problems[item_id] = N_("This answer is not on the question's scale.")
    return problems


def _accepts(item: Item, value: float) -> bool:
    scale = item.scale
    if item.respondent == "supplier" and scale.kind == "choice":
        # A survey-fed item holds the suppliers' mean answer, which may fall between options.
        return scale.lowest <= value <= scale.highest
    return scale.accepts(value)


def _fraction(item: Item, value: float | None) -> float:
    if value is None:
        return 0.0 if item.scale.kind == "choice" else min(p[1] for p in item.scale.points)
    return item.scale.fraction(value)


def _shares(dim: Dimension) -> dict[str, float]:
    """Each item's share of the overall score (points at the best answer)."""
    total = sum(i.weight for i in dim.items)
    return {i.id: 100.0 * dim.weight * i.weight / total for i in dim.items}


def _dimension_score(dim: Dimension, fractions: Mapping[str, float]) -> float:
    total = sum(i.weight for i in dim.items)
    return 100.0 * sum(i.weight * fractions[i.id] for i in dim.items) / total


def _level(instrument: Instrument, overall: float, dims: Mapping[str, float]) -> Level | None:
    reached = None
    for level in instrument.levels:
        if overall + 1e-9 >= level.min_score and all(
            dims[d] + 1e-9 >= minimum for d, minimum in level.dimension_min.items()
        ):
            reached = level
    return reached


def _grade(grades: tuple[Grade, ...], score: float) -> Grade | None:
    reached = None
    for grade in grades:
        if score + 1e-9 >= grade.min_score:
            reached = grade
    return reached


def _next_value(item: Item, value: float | None) -> tuple[float, Option | None] | None:
    """The next better answer: the next option up, or the best value of a numeric scale."""
    scale = item.scale
    if scale.kind == "choice":
        current = scale.lowest if value is None else value
        better = scale.better_options(current)
        if value is None and scale.option(current) is not None:
            return current, scale.option(current)  # answering at all is the first step
        return (better[0].value, better[0]) if better else None
    best_x = max(scale.points, key=lambda p: p[1])[0]
    if _fraction(item, value) >= max(p[1] for p in scale.points) - 1e-12:
        return None
    return best_x, None


def _raw(instrument: Instrument, answers: Mapping[str, float | None]):
    fractions = {i.id: _fraction(i, answers.get(i.id)) for i in instrument.items}
    dims = {d.id: round(_dimension_score(d, fractions), DECIMALS) for d in instrument.dimensions}
    overall = round(
        sum(d.weight * _dimension_score(d, fractions) for d in instrument.dimensions),
        DECIMALS,
    )
    return fractions, dims, overall


def score(instrument: Instrument, answers: Mapping[str, float | None]) -> Result:
    """Score answers (item id → value) on an instrument. Invalid answers raise ``ValueError``."""
    if problems := check_answers(instrument, answers):
        raise ValueError(problems)
    fractions, dims, overall = _raw(instrument, answers)
    level = _level(instrument, overall, dims)
    next_level = _following(instrument, level)
    items = []
    for dim in instrument.dimensions:
        shares = _shares(dim)
        for item in dim.items:
            value = answers.get(item.id)
            option = item.scale.option(value) if value is not None else None
            step = _next_value(item, value)
            gain = 0.0
            if step is not None:
                gain = shares[item.id] * (_fraction(item, step[0]) - fractions[item.id])
            items.append(
                ItemResult(
                    item_id=item.id,
                    dimension_id=dim.id,
                    answer=value,
                    fraction=fractions[item.id],
                    points=round(shares[item.id] * fractions[item.id], DECIMALS),
                    max_points=round(shares[item.id], DECIMALS),
                    label=option.label if option else None,
                    feedback=option.feedback if option else None,
                    next_option=step[1] if step else None,
                    gain_to_next=round(gain, DECIMALS),
                )
            )
    dim_results = tuple(
        DimensionResult(
            id=d.id,
            title=d.title,
            weight=d.weight,
            score=dims[d.id],
            grade=_grade(instrument.grades, dims[d.id]),
            answered=sum(1 for i in d.items if answers.get(i.id) is not None),
            total=len(d.items),
        )
        for d in instrument.dimensions
    )
    shortfalls: dict[str, float] = {}
    if next_level is not None:
        shortfalls = {
            d: round(minimum - dims[d], DECIMALS)
            for d, minimum in next_level.dimension_min.items()
            if dims[d] + 1e-9 < minimum
        }
    answered = sum(1 for i in instrument.items if answers.get(i.id) is not None)
    return Result(
        overall=overall,
        level=level,
        next_level=next_level,
        points_to_next=round(max(0.0, next_level.min_score - overall), DECIMALS)
        if next_level
        else 0.0,
        dimension_shortfalls=shortfalls,
        path_to_next=_path_to(instrument, answers, next_level) if next_level else (),
        dimensions=dim_results,
        items=tuple(items),
        answered=answered,
        total=len(instrument.items),
    )


def _following(instrument: Instrument, level: Level | None) -> Level | None:
    if not instrument.levels:
        return None
    if level is None:
        return instrument.levels[0]
    later = [lv for lv in instrument.levels if lv.rank > level.rank]
    return later[0] if later else None


def _path_to(
    instrument: Instrument, answers: Mapping[str, float | None], target: Level
) -> tuple[Step, ...]:
    """Greedy: raise one answer by one step at a time, largest gain first (favouring dimensions
    still short of the target's minimum), until the target level is reached."""
    current = dict(answers)
    steps: list[Step] = []
    for _ in range(sum(len(i.scale.options) or 1 for i in instrument.items)):
        _fr, dims, overall = _raw(instrument, current)
        if _level_reached(target, overall, dims):
            break
        short = {d for d, m in target.dimension_min.items() if dims[d] + 1e-9 < m}
        best: tuple[tuple, Step] | None = None
        for dim in instrument.dimensions:
            shares = _shares(dim)
            for item in dim.items:
                if item.respondent != "self":
                    continue  # the organization cannot answer for its suppliers
                step = _next_value(item, current.get(item.id))
                if step is None:
                    continue
                gain = shares[item.id] * (
                    _fraction(item, step[0]) - _fraction(item, current.get(item.id))
                )
                key = (dim.id in short, round(gain, 9))
                candidate = Step(
                    item.id,
                    current.get(item.id),
                    step[0],
                    step[1].label if step[1] else None,
                    round(gain, DECIMALS),
                )
                if best is None or key > best[0]:
                    best = (key, candidate)
        if best is None:
            break
        steps.append(best[1])
        current[best[1].item_id] = best[1].to_value
    return tuple(steps)


def _level_reached(level: Level, overall: float, dims: Mapping[str, float]) -> bool:
    return overall + 1e-9 >= level.min_score and all(
        dims[d] + 1e-9 >= m for d, m in level.dimension_min.items()
    )


def level_at(instrument: Instrument, answers: Mapping[str, float | None]) -> Level | None:
    _fr, dims, overall = _raw(instrument, answers)
    return _level(instrument, overall, dims)
