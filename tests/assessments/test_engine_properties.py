"""Properties of the engine over every shipped instrument and the minimal test instrument.

(a) A better answer on any one item never lowers the level, a dimension score or the overall.
(b) Scores (and plans) do not depend on the order the answers were given in.
(c) A plan never starts an action before its scheduled prerequisites have ended, and leaves an
    action unscheduled whenever one of its prerequisites is.
(d) Certification ranks are a permutation of 1..n ordered by overall score.
Pure and quick: a modest number of examples, no example database written to disk.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sangsaeng.assessments.engine.instrument import Instrument, Item, load_instrument
from sangsaeng.assessments.engine.ranking import Entry, rank_entries
from sangsaeng.assessments.engine.roadmap import QUARTERS_PER_YEAR, plan
from sangsaeng.assessments.engine.scoring import score

HERE = Path(__file__).resolve().parent
SHIPPED = HERE.parents[1] / "src/sangsaeng/assessments/instruments"
PATHS = [*sorted(SHIPPED.glob("*.yaml")), HERE / "minimal.yaml"]
INSTRUMENTS = {path.stem: load_instrument(path) for path in PATHS}
WITH_ACTIONS = [name for name, instrument in INSTRUMENTS.items() if instrument.actions]
EXAMPLES = settings(max_examples=30, deadline=None, database=None)


def test_every_instrument_is_covered():
    assert len(PATHS) == 8
    assert {"smart-factory-level", "innovation-capability", "minimal"} <= set(WITH_ACTIONS)


# --- strategies -------------------------------------------------------------------------------


def values(item: Item) -> st.SearchStrategy[float]:
    """Any answer the item accepts: an option, a supplier mean between options, or a number in
    (and around the ends of) the scale's range, including its break points."""
    scale = item.scale
    if scale.kind == "choice":
        options = st.sampled_from([o.value for o in scale.options])
        if item.respondent == "supplier":
            between = st.floats(scale.lowest, scale.highest, allow_nan=False)
            return st.one_of(options, between)
        return options
    xs = [x for x, _fraction in scale.points]
    span = xs[-1] - xs[0]
    low = scale.minimum if scale.minimum is not None else xs[0] - span
    high = scale.maximum if scale.maximum is not None else xs[-1] + span
    inside = [x for x in xs if low <= x <= high]
    return st.one_of(
        st.sampled_from([*inside, low, high]),
        st.floats(low, high, allow_nan=False, allow_infinity=False),
    )


def answers(instrument: Instrument) -> st.SearchStrategy[dict[str, float | None]]:
    """Some items answered, some left out, some explicitly unanswered (None)."""
    return st.fixed_dictionaries(
        {},
        optional={
            item.id: st.one_of(st.none(), values(item), values(item)) for item in instrument.items
        },
    )


def fraction(item: Item, value: float | None) -> float:
    if value is None:  # unanswered counts as the lowest answer
        return 0.0 if item.scale.kind == "choice" else min(y for _x, y in item.scale.points)
    return item.scale.fraction(value)


def rank_of(result) -> int:
    return -1 if result.level is None else result.level.rank


# --- (a) monotonicity -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(INSTRUMENTS))
@EXAMPLES
@given(data=st.data())
def test_a_better_answer_never_lowers_anything(name, data):
    instrument = INSTRUMENTS[name]
    given_answers = data.draw(answers(instrument), label="answers")
    item = data.draw(st.sampled_from(instrument.items), label="item")
    first = data.draw(st.one_of(st.none(), values(item)), label="first")
    second = data.draw(values(item), label="second")
    assume(fraction(item, first) != fraction(item, second))
    worse, better = sorted([first, second], key=lambda v: fraction(item, v))
    if item.scale.kind == "choice" and worse is not None:
        assert better > worse  # on a choice scale a better answer is a higher value
    low = score(instrument, {**given_answers, item.id: worse})
    high = score(instrument, {**given_answers, item.id: better})
    assert rank_of(high) >= rank_of(low)
    assert high.overall >= low.overall
    for before, after in zip(low.dimensions, high.dimensions, strict=True):
        assert after.score >= before.score, before.id
    # Only the item's own dimension can move.
    changed = {d.id for d, e in zip(low.dimensions, high.dimensions, strict=True) if d != e}
    assert changed <= {instrument.dimension_of(item.id).id}


# --- (b) order invariance ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(INSTRUMENTS))
@EXAMPLES
@given(data=st.data())
def test_scores_do_not_depend_on_answer_order(name, data):
    instrument = INSTRUMENTS[name]
    given_answers = data.draw(answers(instrument), label="answers")
    order = data.draw(st.permutations(list(given_answers)), label="order")
    reordered = {key: given_answers[key] for key in order}
    backwards = dict(reversed(list(given_answers.items())))
    expected = score(instrument, given_answers)
    assert score(instrument, reordered) == expected
    assert score(instrument, backwards) == expected
    assert plan(instrument, score(instrument, reordered)) == plan(instrument, expected)


# --- (c) roadmap ordering ---------------------------------------------------------------------


@pytest.mark.parametrize("name", WITH_ACTIONS)
@EXAMPLES
@given(data=st.data())
def test_plans_respect_prerequisites_capacity_and_horizon(name, data):
    instrument = INSTRUMENTS[name]
    planned = plan(instrument, score(instrument, data.draw(answers(instrument))))
    by_id = {p.action_id: p for p in planned}
    actions = {a.id: a for a in instrument.actions}
    horizon = instrument.plan_years * QUARTERS_PER_YEAR
    assert [p.rank for p in planned] == list(range(1, len(planned) + 1))
    for p in planned:
        action = actions[p.action_id]
        # The plan's prerequisites are exactly the instrument's that were triggered too.
        assert p.requires == tuple(r for r in action.requires if r in by_id)
        assert p.quarters == max(1, math.ceil(action.months / 3))
        if p.start is None:
            assert p.end is None
            continue
        assert 1 <= p.start <= p.end <= horizon
        assert p.end - p.start + 1 == p.quarters
        for required in p.requires:
            prerequisite = by_id[required]
            assert prerequisite.end is not None, (p.action_id, required)
            assert p.start > prerequisite.end, (p.action_id, required)
    for p in planned:
        if any(by_id[r].start is None for r in p.requires):
            assert p.start is None, p.action_id
    for quarter in range(1, horizon + 1):
        running = sum(1 for p in planned if p.start is not None and p.start <= quarter <= p.end)
        assert running <= instrument.plan_capacity, quarter


# --- (d) ranking ------------------------------------------------------------------------------

BASE_TIME = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
CERTIFICATION = INSTRUMENTS["partner-certification"]


def check_ranking(entries: list[Entry], ranked, top_n, min_score, tie_breaks) -> None:
    assert sorted(r.rank for r in ranked) == list(range(1, len(entries) + 1))
    assert sorted(r.key for r in ranked) == sorted(e.key for e in entries)
    assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))
    overall = [r.overall for r in ranked]
    assert overall == sorted(overall, reverse=True)
    entry = {e.key: e for e in entries}
    for index, r in enumerate(ranked):
        assert r.certified == ((top_n is None or r.rank <= top_n) and r.overall >= min_score)
        assert r.certified == (r.reason == "")
        tied = index > 0 and ranked[index - 1].overall == r.overall
        assert (r.decided_by is not None) == tied
        if r.decided_by in tie_breaks and r.decided_by != "submitted_at":
            above = entry[ranked[index - 1].key]
            assert above.dimensions[r.decided_by] > entry[r.key].dimensions[r.decided_by]


@EXAMPLES
@given(
    data=st.data(),
    top_n=st.one_of(st.none(), st.integers(1, 6)),
    min_score=st.sampled_from([0, 50, 70]),
)
def test_rank_entries_is_a_permutation_ordered_by_score_with_ties(data, top_n, min_score):
    tie_breaks = data.draw(
        st.lists(st.sampled_from(["quality", "technology", "submitted_at"]), unique=True)
    )
    count = data.draw(st.integers(0, 10))
    entries = [
        Entry(
            key=key,
            overall=data.draw(st.sampled_from([55.0, 70.0, 70.0, 82.5, 90.25])),
            dimensions={
                "quality": data.draw(st.sampled_from([60.0, 75.0])),
                "technology": data.draw(st.sampled_from([60.0, 75.0])),
            },
            submitted_at=BASE_TIME + timedelta(hours=data.draw(st.integers(0, 2))),
        )
        for key in range(1, count + 1)
    ]
    ranked = rank_entries(entries, top_n=top_n, min_score=min_score, tie_breaks=tie_breaks)
    check_ranking(entries, ranked, top_n, min_score, tie_breaks)


@EXAMPLES
@given(scored=st.lists(answers(CERTIFICATION), max_size=6), top_n=st.integers(1, 4))
def test_ranking_scored_certification_entries(scored, top_n):
    entries = []
    for key, given_answers in enumerate(scored, start=1):
        result = score(CERTIFICATION, given_answers)
        dims = {d.id: d.score for d in result.dimensions}
        entries.append(Entry(key, result.overall, dims, BASE_TIME + timedelta(minutes=key)))
    ranking = CERTIFICATION.ranking
    ranked = rank_entries(
        entries, top_n=top_n, min_score=ranking.min_score, tie_breaks=ranking.tie_breaks
    )
    check_ranking(entries, ranked, top_n, ranking.min_score, ranking.tie_breaks)
