"""Roadmaps: actions triggered by a result's gaps, ranked, and placed into quarters over years.

An action is triggered when any item it addresses scores below its ``below`` fraction. Its gap is
the overall points at stake, Σ shareᵢ · max(0, below − fᵢ); its expected value impact × gap; its
priority value ÷ effort. Actions are placed in priority order, each only after every triggered
prerequisite has finished (a prerequisite that was not triggered is already in place), with at most
``capacity`` actions running in any quarter. What does not fit the horizon is kept unscheduled.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

from sangsaeng.assessments.engine.instrument import Action, Instrument, Text
from sangsaeng.assessments.engine.scoring import Result

QUARTERS_PER_YEAR = 4


@dataclass(frozen=True)
class PlannedAction:
    action_id: str
    dimension_id: str
    title: Text
    rank: int
    gap: float
    value: float
    priority: float
    impact: int
    effort: int
    quarters: int
    start: int | None  # 1-based quarter from the plan's start; None = beyond the horizon
    end: int | None
    requires: tuple[str, ...]
    kpis: tuple[str, ...]
    milestone: Text | None

    @property
    def year(self) -> int | None:
        return None if self.start is None else (self.start - 1) // QUARTERS_PER_YEAR + 1


def period(year: int, quarter: int) -> int:
    return (year - 1) * QUARTERS_PER_YEAR + quarter


def year_quarter(start: int) -> tuple[int, int]:
    return (start - 1) // QUARTERS_PER_YEAR + 1, (start - 1) % QUARTERS_PER_YEAR + 1


def _gap_of(instrument: Instrument, action: Action, result: Result) -> float:
    dim = next(d for d in instrument.dimensions if d.id == action.dimension)
    total = sum(i.weight for i in dim.items)
    gap = 0.0
    for item in dim.items:
        if item.id in action.items:
            share = 100.0 * dim.weight * item.weight / total
            gap += share * max(0.0, action.below - result.item(item.id).fraction)
    return gap


def plan(instrument: Instrument, result: Result) -> tuple[PlannedAction, ...]:
    """The triggered actions in rank order, each with its start and end quarter (or None)."""
    triggered: dict[str, tuple[Action, float]] = {}
    for action in instrument.actions:
        gap = _gap_of(instrument, action, result)
        if gap > 1e-9:
            triggered[action.id] = (action, gap)
    ranked = sorted(triggered.values(), key=lambda pair: (-_priority(*pair), pair[0].id))
    rank_of = {action.id: index + 1 for index, (action, _points) in enumerate(ranked)}
    horizon = instrument.plan_years * QUARTERS_PER_YEAR
    load = [0] * (horizon + 2)
    placed: dict[str, tuple[int | None, int | None]] = {}
    for action_id in _priority_topological(triggered, rank_of):
        action = triggered[action_id][0]
        quarters = max(1, math.ceil(action.months / 3))
        prereqs = [r for r in action.requires if r in triggered]
        if any(placed[r][0] is None for r in prereqs):
            placed[action_id] = (None, None)
            continue
        earliest = max((placed[r][1] + 1 for r in prereqs), default=1)
        start = _first_free(load, earliest, quarters, horizon, instrument.plan_capacity)
        if start is None:
            placed[action_id] = (None, None)
            continue
        for q in range(start, start + quarters):
            load[q] += 1
        placed[action_id] = (start, start + quarters - 1)
    planned = []
    for action, gap in ranked:
        start, end = placed[action.id]
        value = action.impact * gap
        planned.append(
            PlannedAction(
                action_id=action.id,
                dimension_id=action.dimension,
                title=action.title,
                rank=rank_of[action.id],
                gap=round(gap, 2),
                value=round(value, 2),
                priority=round(value / action.effort, 3),
                impact=action.impact,
                effort=action.effort,
                quarters=max(1, math.ceil(action.months / 3)),
                start=start,
                end=end,
                requires=tuple(r for r in action.requires if r in triggered),
                kpis=action.kpis,
                milestone=action.milestone,
            )
        )
    return tuple(planned)


def _priority(action: Action, gap: float) -> float:
    return action.impact * gap / action.effort


def _priority_topological(triggered, rank_of) -> list[str]:
    """Kahn's algorithm taking the best-ranked ready action first (the instrument has no cycles)."""
    waiting = {
        a_id: {r for r in action.requires if r in triggered}
        for a_id, (action, _g) in triggered.items()
    }
    ready = [(rank_of[a], a) for a, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _rank, action_id = heapq.heappop(ready)
        order.append(action_id)
        for other, needs in waiting.items():
            if action_id in needs:
                needs.discard(action_id)
                if not needs:
                    heapq.heappush(ready, (rank_of[other], other))
    return order


def _first_free(load, earliest, quarters, horizon, capacity) -> int | None:
    for start in range(earliest, horizon - quarters + 2):
        if all(load[q] < capacity for q in range(start, start + quarters)):
            return start
    return None


def check_move(
    plan_items: dict[str, tuple[int | None, int | None, tuple[str, ...]]],
    action_id: str,
    start: int,
) -> str | None:
    """Why moving ``action_id`` to quarter ``start`` would break an order, or None when it fits.

    ``plan_items`` maps action ids to (start, end, requires) as currently planned.
    """
    begin, end, requires = plan_items[action_id]
    length = 0 if begin is None or end is None else end - begin
    for required in requires:
        _s, required_end, _r = plan_items.get(required, (None, None, ()))
        if required in plan_items and (required_end is None or start <= required_end):
            return required
    new_end = start + length
    for other, (other_start, _e, other_requires) in plan_items.items():
        if action_id in other_requires and other_start is not None and other_start <= new_end:
            return other
    return None
