"""Malformed instruments: every problem names the file, the exact line and the reason template.

Each case edits one line of a small valid instrument (block style, so every field has its own
line) and expects the problem on the line that was edited. Pure: no database.
"""

from __future__ import annotations

import pytest

from sangsaeng.assessments.engine.instrument import InstrumentError, Problem, parse_instrument

FILE = "broken.yaml"

VALID = """\
id: broken
version: "1"
kind: diagnosis
subject: sme
title:
  ko: 시험용 진단
  en: Test diagnosis
scales:
  five:
    type: choice
    options:
      - value: 1
        label: 낮음
      - value: 5
        label: 높음
  ppm:
    type: number
    points: [[0, 1.0], [100, 0.5], [500, 0.0]]
dimensions:
  - id: a
    title: 가 영역
    weight: 0.5
    items:
      - id: A1
        question: 첫째 질문입니까?
        scale: five
      - id: A2
        question: 불량률은 몇 ppm입니까?
        scale: ppm
    actions:
      - id: X
        title: 과제 X
        items: [A1]
        requires: [Y]
      - id: Y
        title: 과제 Y
        items: [A2]
  - id: b
    title: 나 영역
    weight: 0.5
    items:
      - id: B1
        question: 둘째 질문입니까?
        scale: five
      - id: B2
        question: 셋째 질문입니까?
        scale: five
levels:
  - id: L0
    rank: 0
    label: 시작
    min_score: 0
  - id: L1
    rank: 1
    label: 중간
    min_score: 50
  - id: L2
    rank: 2
    label: 높음
    min_score: 80
"""


def edit(old: str, new: str, text: str = VALID) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """The 1-based number of the line holding the ``occurrence``-th ``fragment``."""
    numbers = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    return numbers[occurrence - 1]


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(InstrumentError) as caught:
        parse_instrument(text, FILE)
    return caught.value.problems


def only_problem(text: str) -> Problem:
    problems = problems_of(text)
    assert len(problems) == 1, [p.render() for p in problems]
    return problems[0]


def test_the_valid_base_parses():
    instrument = parse_instrument(VALID, FILE)
    assert [d.id for d in instrument.dimensions] == ["a", "b"]
    assert instrument.path == FILE


def test_unknown_scale():
    text = edit(
        "question: 둘째 질문입니까?\n        scale: five", "question: 둘째?\n        scale: seven"
    )
    assert only_problem(text) == Problem(
        FILE, line_of(text, "scale: seven"), "unknown scale '{scale}'", {"scale": "seven"}
    )
    assert line_of(text, "scale: seven") == 44


def test_dimension_weights_not_summing_to_one():
    text = edit("title: 나 영역\n    weight: 0.5", "title: 나 영역\n    weight: 0.4")
    # Reported where the list of dimensions starts (its first entry).
    assert only_problem(text) == Problem(
        FILE, 20, "dimension weights sum to {total}, not 1", {"total": 0.9}
    )
    assert line_of(text, "  - id: a") == 20


def test_a_level_gap():
    text = edit("rank: 2", "rank: 3")
    assert only_problem(text) == Problem(
        FILE,
        line_of(text, "rank: 3"),
        "level gap: rank {rank} follows rank {previous}",
        {"rank": 3, "previous": 1},
    )


def test_level_thresholds_must_rise():
    text = edit("min_score: 80", "min_score: 40")
    assert only_problem(text) == Problem(
        FILE,
        line_of(text, "min_score: 40"),
        "'{key}' thresholds must rise strictly ('{step}' does not)",
        {"key": "levels", "step": "L2"},
    )
    assert line_of(text, "min_score: 40") == 60


def test_a_duplicate_item_id():
    text = edit("- id: B1", "- id: A1")
    assert only_problem(text) == Problem(
        FILE, line_of(text, "- id: A1", occurrence=2), "duplicate item id '{item}'", {"item": "A1"}
    )


def test_a_duplicate_yaml_key():
    text = edit("title: 나 영역\n", "title: 나 영역\n    title: 다 영역\n")
    assert only_problem(text) == Problem(
        FILE, line_of(text, "title: 다 영역"), "duplicate key '{key}'", {"key": "title"}
    )


def test_invalid_yaml_syntax():
    text = edit("question: 첫째 질문입니까?", "question: 첫째: 질문입니까?")
    problem = only_problem(text)
    assert (problem.file, problem.line) == (FILE, line_of(text, "첫째: 질문"))
    assert problem.reason == "not valid YAML: {detail}"
    assert problem.params == {"detail": "mapping values are not allowed here"}


def test_unclosed_flow_sequence_is_invalid_yaml_at_its_line():
    text = edit("items: [A1]", "items: [A1")
    problem = only_problem(text)
    assert problem.reason == "not valid YAML: {detail}"
    # The parser notices on the next line, where a key appears inside the open sequence.
    assert problem.line == line_of(text, "items: [A1") + 1


def test_an_action_prerequisite_cycle():
    text = edit("items: [A2]\n", "items: [A2]\n        requires: [X]\n")
    assert only_problem(text) == Problem(
        FILE,
        line_of(text, "requires: [Y]"),
        "prerequisites form a cycle: {cycle}",
        {"cycle": "X → Y → X"},
    )


def test_an_action_requiring_itself_is_a_cycle():
    text = edit("requires: [Y]", "requires: [X]")
    assert only_problem(text) == Problem(
        FILE,
        line_of(text, "requires: [X]"),
        "prerequisites form a cycle: {cycle}",
        {"cycle": "X → X"},
    )


def test_an_unknown_prerequisite():
    text = edit("requires: [Y]", "requires: [Z]")
    assert only_problem(text) == Problem(
        FILE,
        line_of(text, "requires: [Z]"),
        "action '{action}' requires unknown action '{required}'",
        {"action": "X", "required": "Z"},
    )


def test_a_text_without_korean():
    text = edit("title: 나 영역", "title:\n      en: Area B only")
    assert only_problem(text) == Problem(
        FILE,
        line_of(text, "en: Area B only"),
        "field '{field}' needs a Korean text ('ko')",
        {"field": "title"},
    )


def test_a_top_level_description_without_korean_is_reported():
    # Regression: top-level fields read after the problem check used to be dropped silently.
    text = VALID + "description:\n  en: English only\n"
    assert only_problem(text) == Problem(
        FILE,
        line_of(text, "en: English only"),
        "field '{field}' needs a Korean text ('ko')",
        {"field": "description"},
    )


@pytest.mark.parametrize(
    ("old", "new", "field", "allowed"),
    [
        ("subject: sme", "subject: company", "subject", "sme, sponsor, application"),
        (
            "subject: sme",
            "subject: sme\nverification: maybe",
            "verification",
            "none, optional, required",
        ),
    ],
)
def test_an_unknown_subject_or_verification_is_reported(old, new, field, allowed):
    # Regression: these used to fall back to a default without a word.
    text = edit(old, new)
    assert only_problem(text) == Problem(
        FILE,
        line_of(text, f"{field}: "),
        "field '{field}' must be one of: {allowed}",
        {"field": field, "allowed": allowed},
    )


def test_a_bad_plan_is_reported_not_raised_as_a_crash():
    text = VALID + "plan:\n  years: three\n  capacity: 0\n"
    assert problems_of(text) == [
        Problem(
            FILE,
            line_of(text, "years: three"),
            "field '{field}' has the wrong type",
            {"field": "years"},
        ),
        Problem(
            FILE,
            line_of(text, "capacity: 0"),
            "field '{field}' must be between {low} and {high}",
            {"field": "capacity", "low": 1, "high": 20},
        ),
    ]


def test_a_numeric_scale_going_up_and_down():
    text = edit("[[0, 1.0], [100, 0.5], [500, 0.0]]", "[[0, 1.0], [100, 0.2], [500, 0.8]]")
    assert only_problem(edit("scale: ppm", "scale: five", text)) == Problem(
        FILE,
        line_of(text, "points: [[0, 1.0]"),
        "scale '{scale}' must only rise or only fall",
        {"scale": "ppm"},
    )
    # A rejected scale is left out, so an item using it names an unknown scale as well.
    assert problems_of(text)[1] == Problem(
        FILE, line_of(text, "scale: ppm"), "unknown scale '{scale}'", {"scale": "ppm"}
    )


def test_several_problems_are_reported_together_in_line_order():
    text = VALID
    text = edit("셋째 질문입니까?\n        scale: five", "셋째?\n        scale: permille", text)
    text = edit("requires: [Y]", "requires: [Z]", text)
    text = edit("title: 나 영역\n    weight: 0.5", "title: 나 영역\n    weight: 0.25", text)
    text = edit("rank: 2", "rank: 4", text)
    text = edit("min_score: 80", "min_score: 50", text)
    problems = problems_of(text)
    assert [(p.line, p.reason) for p in problems] == [
        (20, "dimension weights sum to {total}, not 1"),
        (line_of(text, "requires: [Z]"), "action '{action}' requires unknown action '{required}'"),
        (line_of(text, "scale: permille"), "unknown scale '{scale}'"),
        (line_of(text, "rank: 4"), "level gap: rank {rank} follows rank {previous}"),
        (
            line_of(text, "min_score: 50", occurrence=2),
            "'{key}' thresholds must rise strictly ('{step}' does not)",
        ),
    ]
    # The exception message lists each as file:line: reason, one per line.
    message = str(InstrumentError(problems))
    assert message.splitlines() == [p.render() for p in problems]
    assert message.splitlines()[0] == "broken.yaml:20: dimension weights sum to 0.75, not 1"
    assert f"broken.yaml:{line_of(text, 'scale: permille')}: unknown scale 'permille'" in message


def test_not_a_mapping_and_not_utf8(tmp_path):
    assert only_problem("- just\n- a list\n") == Problem(
        FILE, 1, "an instrument file is a YAML mapping"
    )
    from sangsaeng.assessments.engine.instrument import load_instrument

    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: caf\xe9\n".encode("latin-1"))
    with pytest.raises(InstrumentError) as caught:
        load_instrument(path)
    assert caught.value.problems == [Problem(str(path), 1, "the file is not UTF-8 text")]
