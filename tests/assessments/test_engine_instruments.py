"""The shipped instruments: each loads cleanly and scores a hand-computed fixture exactly.

Every fixture writes its arithmetic out in comments. Choice scales map an answer linearly onto
[0, 1] between the lowest and the highest option, so on the 1–5 scales used here 1→0, 2→0.25,
3→0.5, 4→0.75 and 5→1. A dimension score is 100 × Σ wᵢfᵢ / Σ wᵢ, the overall score Σ W_d·D_d.
Pure: no database, no application.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from sangsaeng.assessments.engine.instrument import Instrument, load_instrument
from sangsaeng.assessments.engine.ranking import Entry, rank_entries
from sangsaeng.assessments.engine.roadmap import plan, year_quarter
from sangsaeng.assessments.engine.scoring import score
from sangsaeng.core import reference

INSTRUMENTS = Path(__file__).resolve().parents[2] / "src/sangsaeng/assessments/instruments"
SHIPPED = {
    "smart-factory-level": ("diagnosis", "sme"),
    "innovation-capability": ("diagnosis", "sme"),
    "shared-growth-supplier-survey": ("survey", "sponsor"),
    "shared-growth-evaluation": ("evaluation", "sponsor"),
    "partner-certification": ("certification", "sme"),
    "application-score-sheet": ("score_sheet", "application"),
    "application-score-sheet-5pt": ("score_sheet", "application"),
}
# The KPI catalogue is reference data in core; every action must move catalogued KPIs.
KPI_CODES = set(reference.kpis())


def approx(value: float) -> object:
    return pytest.approx(value, abs=0.01)


def load(instrument_id: str) -> Instrument:
    return load_instrument(INSTRUMENTS / f"{instrument_id}.yaml")


def assert_scores(result, dimensions: dict[str, float], overall: float) -> None:
    assert {d.id: d.score for d in result.dimensions} == {
        dim_id: approx(value) for dim_id, value in dimensions.items()
    }
    assert result.overall == approx(overall)


# --- every shipped file -----------------------------------------------------------------------


def test_the_shipped_set_is_exactly_the_known_instruments():
    assert sorted(p.stem for p in INSTRUMENTS.glob("*.yaml")) == sorted(SHIPPED)


@pytest.mark.parametrize("instrument_id", sorted(SHIPPED))
def test_each_instrument_loads_with_its_id_version_kind_and_subject(instrument_id):
    instrument = load(instrument_id)
    kind, subject = SHIPPED[instrument_id]
    assert instrument.id == instrument_id
    assert instrument.version == "2026.1"
    assert (instrument.kind, instrument.subject) == (kind, subject)
    assert sum(d.weight for d in instrument.dimensions) == pytest.approx(1.0)
    assert instrument.title.ko and instrument.title.en
    # Korean first, English second: every user-facing text has both.
    for dim in instrument.dimensions:
        assert dim.title.ko and dim.title.en, dim.id
        for item in dim.items:
            assert item.question.ko and item.question.en, item.id
            for option in item.scale.options:
                assert option.label.ko and option.label.en, item.id
        for action in dim.actions:
            assert action.title.ko and action.title.en, action.id
    for level in instrument.levels:
        assert level.label.ko and level.label.en, level.id


@pytest.mark.parametrize("instrument_id", sorted(SHIPPED))
def test_action_kpis_come_from_the_kpi_catalog(instrument_id):
    for action in load(instrument_id).actions:
        assert set(action.kpis) <= KPI_CODES, action.id


@pytest.mark.parametrize("instrument_id", sorted(SHIPPED))
def test_the_source_is_block_style_with_a_comment_header(instrument_id):
    source = (INSTRUMENTS / f"{instrument_id}.yaml").read_text(encoding="utf-8")
    assert source.startswith("# ")
    # Flow mappings only where they cannot hide a quoting mistake: none at all.
    assert not any(line.rstrip().endswith("}") for line in source.splitlines()), instrument_id


def test_smart_factory_ladder_and_groups():
    instrument = load("smart-factory-level")
    assert instrument.verification == "optional"
    assert (instrument.plan_years, instrument.plan_capacity) == (3, 2)
    assert [(lv.id, lv.rank, lv.min_score) for lv in instrument.levels] == [
        ("L0", 0, 0),
        ("L1", 1, 20),
        ("L2", 2, 40),
        ("L3", 3, 60),
        ("L4", 4, 75),
        ("L5", 5, 90),
    ]
    assert [lv.group.ko for lv in instrument.levels] == [
        "미적용",
        "기초",
        "기초",
        "중간1",
        "중간2",
        "고도화",
    ]
    assert instrument.levels[0].label.ko == "ICT 미적용"
    assert instrument.levels[5].label.ko == "Level 5 자율운영"
    assert [d.id for d in instrument.dimensions] == ["process", "technology", "organization"]
    assert 12 <= len(instrument.items) <= 18
    assert 8 <= len(instrument.actions) <= 12
    assert any(item.evidence == "required" for item in instrument.items)
    assert all(o.feedback is not None for i in instrument.items for o in i.scale.options)
    requires = {a.id: a.requires for a in instrument.actions}
    assert requires["SF-MES"] == ("SF-POP",)
    assert requires["SF-ANALYTICS"] == ("SF-MES",)


def test_innovation_capability_shape():
    instrument = load("innovation-capability")
    assert [d.id for d in instrument.dimensions] == [
        "production",
        "quality",
        "delivery",
        "cost",
        "safety",
        "people",
    ]
    assert (instrument.plan_years, instrument.plan_capacity) == (3, 3)
    assert 12 <= len(instrument.items) <= 18
    assert 12 <= len(instrument.actions) <= 18
    numeric = {i.id: i.scale.points for i in instrument.items if i.scale.kind == "number"}
    assert numeric["QU3"][0][1] > numeric["QU3"][-1][1]  # defect rate: lower is better
    assert numeric["DE2"][0][1] < numeric["DE2"][-1][1]  # on-time delivery: higher is better
    assert [lv.rank for lv in instrument.levels] == [0, 1, 2, 3, 4]


def test_the_evaluation_reads_the_survey_items_on_the_same_scale():
    evaluation = load("shared-growth-evaluation")
    survey = load("shared-growth-supplier-survey")
    assert evaluation.survey == survey.id
    assert survey.levels == () and len(survey.dimensions) == 1
    assert survey.dimensions[0].weight == 1
    assert 6 <= len(survey.items) <= 8
    fed = [i for i in evaluation.items if i.respondent == "supplier"]
    assert sorted(i.survey_item for i in fed) == sorted(i.id for i in survey.items)
    assert {evaluation.dimension_of(i.id).id for i in fed} == {"supplier"}
    for item in fed:
        asked = survey.item(item.survey_item)
        assert [o.value for o in item.scale.options] == [o.value for o in asked.scale.options]
    assert [(g.label.ko, g.min_score) for g in evaluation.grades] == [
        ("하", 0),
        ("중", 50),
        ("상", 80),
    ]
    assert [lv.rank for lv in evaluation.levels] == [0, 1, 2, 3, 4]


def test_the_score_sheets_share_their_criteria():
    hundred = load("application-score-sheet")
    five = load("application-score-sheet-5pt")
    assert [(d.id, d.weight) for d in hundred.dimensions] == [
        (d.id, d.weight) for d in five.dimensions
    ]
    assert (hundred.comment_required_below, five.comment_required_below) == (0.6, 0.5)
    for item in hundred.items:
        assert item.scale.points == ((0, 0), (100, 1))
        assert (item.scale.minimum, item.scale.maximum) == (0, 100)
    for item in five.items:
        assert [o.value for o in item.scale.options] == [1, 2, 3, 4, 5]
    assert all(len(d.items) == 1 for d in hundred.dimensions + five.dimensions)


# --- smart-factory level ----------------------------------------------------------------------

SMART_FACTORY_ANSWERS = {
    # process (5 items, weight 1 each): 0.5 + 0.25 + 0.5 + 0.75 + 0.5 = 2.5 → 100 × 2.5 / 5 = 50
    "P1": 3,
    "P2": 2,
    "P3": 3,
    "P4": 4,
    "P5": 3,
    # technology (T1 and T3 weigh 2, total weight 7):
    # 2 × 0.5 + 0.25 + 2 × 0.25 + 0.25 + 0.25 = 2.25 → 100 × 2.25 / 7 = 32.142857 → 32.14
    "T1": 3,
    "T2": 2,
    "T3": 2,
    "T4": 2,
    "T5": 2,
    # organization (4 items): 0.75 + 0.25 + 0.5 + 0.25 = 1.75 → 100 × 1.75 / 4 = 43.75
    "O1": 4,
    "O2": 2,
    "O3": 3,
    "O4": 2,
}
# overall = 0.35 × 50 + 0.40 × 32.142857 + 0.25 × 43.75 = 17.5 + 12.857143 + 10.9375 = 41.29
# → Level 2 (40 ≤ 41.29 < 60); Level 3 also needs technology ≥ 50: short by 50 − 32.14 = 17.86.


def test_smart_factory_fixture_scores_by_hand():
    result = score(load("smart-factory-level"), SMART_FACTORY_ANSWERS)
    assert_scores(result, {"process": 50.0, "technology": 32.14, "organization": 43.75}, 41.29)
    assert result.level.id == "L2"
    assert result.level.label.ko == "Level 2 모니터링"
    assert result.level.group.ko == "기초"
    assert result.next_level.id == "L3"
    assert result.points_to_next == approx(60 - 41.29)
    assert result.dimension_shortfalls == {"technology": approx(17.86)}
    assert result.complete
    # Item points: a process item is worth 100 × 0.35 / 5 = 7 points; P4 = 0.75 × 7 = 5.25.
    assert result.item("P4").points == approx(5.25)
    assert result.item("P4").max_points == approx(7.0)
    # T1 weighs 2 of 7 in technology: 100 × 0.40 × 2 / 7 = 11.43 points; one step = 2.86.
    assert result.item("T1").gain_to_next == approx(11.428571 * 0.25)
    assert result.item("T1").label.ko == "연결·통합"
    assert result.item("T1").feedback.ko.startswith("설비와 시스템이 연결되어")
    # The path to Level 3 starts in the short dimension, with its largest step (T1 3 → 4; T1
    # comes before the equally large T3), and following the whole path reaches Level 3.
    first = result.path_to_next[0]
    assert (first.item_id, first.from_value, first.to_value) == ("T1", 3, 4)
    improved = dict(SMART_FACTORY_ANSWERS)
    for step in result.path_to_next:
        assert step.from_value == improved[step.item_id]
        improved[step.item_id] = step.to_value
    assert score(load("smart-factory-level"), improved).level.rank >= 3


def test_smart_factory_fixture_roadmap_by_hand():
    """Triggered when an addressed item is below ``below``; gap = share × (below − f); priority =
    impact × gap / effort. Shares: process 7, technology 5.714 per weight unit, organization 6.25.

    SF-LEAD  O4 0.25 < 0.5:    gap 6.25 × 0.25   = 1.5625; 4 × 1.5625 / 1 = 6.25     → rank 1
    SF-MES   T3 0.25 < 0.75:   gap 11.43 × 0.5   = 5.7143; 5 × 5.7143 / 5 = 5.714    → rank 2
    SF-STD   P2 0.25 < 0.5:    gap 7 × 0.25      = 1.75;   3 × 1.75 / 1   = 5.25     → rank 3
    SF-SKILL O2 0.25 < 0.75:   gap 6.25 × 0.5    = 3.125;  3 × 3.125 / 2  = 4.6875   → rank 4
    SF-ANALYTICS T5 0.25:      gap 5.714 × 0.5   = 2.857;  4 × 2.857 / 3  = 3.810    → rank 5
    SF-QC    P3 0.5 < 0.75:    gap 7 × 0.25      = 1.75;   4 × 1.75 / 2   = 3.5      → rank 6
    SF-AUTO  T4 0.25 < 0.75:   gap 5.714 × 0.5   = 2.857;  4 × 2.857 / 4  = 2.857    → rank 7
    SF-INV   P5 0.5 < 0.75:    gap 1.75;                   3 × 1.75 / 2   = 2.625    → rank 8
    SF-PLAN  P1 0.5 < 0.75:    gap 1.75;                   4 × 1.75 / 3   = 2.333    → rank 9
    SF-NET   T2 0.25 < 0.5:    gap 5.714 × 0.25  = 1.4286; 3 × 1.4286 / 3 = 1.4286   → rank 10
    Not triggered: SF-POP (T1 = 0.5 is not below 0.5), SF-PM (P4 = 0.75 is not below 0.75).

    Placement (capacity 2, 12 quarters), best-ranked ready action first:
    LEAD Q1; MES Q1–Q4 (its prerequisite POP is already in place); STD Q2 (Q1 full);
    SKILL after LEAD, Q3–Q4; ANALYTICS after MES, Q5–Q6; QC after STD, Q5–Q6 (Q3, Q4 full);
    INV Q7–Q8; PLAN after MES, Q7–Q8; NET Q9–Q10; AUTO after NET needs Q11–Q13: beyond the horizon.
    """
    instrument = load("smart-factory-level")
    planned = plan(instrument, score(instrument, SMART_FACTORY_ANSWERS))
    assert [(p.action_id, p.rank, p.start, p.end) for p in planned] == [
        ("SF-LEAD", 1, 1, 1),
        ("SF-MES", 2, 1, 4),
        ("SF-STD", 3, 2, 2),
        ("SF-SKILL", 4, 3, 4),
        ("SF-ANALYTICS", 5, 5, 6),
        ("SF-QC", 6, 5, 6),
        ("SF-AUTO", 7, None, None),
        ("SF-INV", 8, 7, 8),
        ("SF-PLAN", 9, 7, 8),
        ("SF-NET", 10, 9, 10),
    ]
    by_id = {p.action_id: p for p in planned}
    assert by_id["SF-LEAD"].gap == approx(1.5625)
    assert by_id["SF-MES"].gap == approx(5.714286)
    assert by_id["SF-MES"].priority == pytest.approx(5.714, abs=0.001)
    assert by_id["SF-MES"].requires == ()  # SF-POP was not triggered: already in place
    assert by_id["SF-ANALYTICS"].requires == ("SF-MES",)
    assert year_quarter(by_id["SF-ANALYTICS"].start) == (2, 1)
    # Every scheduled action starts after each of its scheduled prerequisites has ended.
    for p in planned:
        for required in p.requires:
            if p.start is not None:
                assert by_id[required].end is not None
                assert p.start > by_id[required].end, (p.action_id, required)
    # Never more than two actions in one quarter.
    for quarter in range(1, 13):
        running = [p for p in planned if p.start and p.start <= quarter <= p.end]
        assert len(running) <= 2, quarter


# --- innovation capability --------------------------------------------------------------------

INNOVATION_ANSWERS = {
    # production: 0.75 + 0.5 + OEE 62.5 % → (62.5 − 40) / (85 − 40) = 0.5
    #   → 100 × 1.75 / 3 = 58.333
    "PR1": 4,
    "PR2": 3,
    "PR3": 62.5,
    # quality: 0.5 + 0.25 + defect 2 % → between (1 %, 0.75) and (3 %, 0.25): 0.75 − 0.5 × 1/2
    #   = 0.5 → 100 × 1.25 / 3 = 41.667
    "QU1": 3,
    "QU2": 2,
    "QU3": 2.0,
    # delivery: 0.75 + on time 93 % → between (80 %, 0) and (95 %, 0.75): 0.75 × 13/15 = 0.65
    #   → 100 × 1.4 / 2 = 70
    "DE1": 4,
    "DE2": 93,
    # cost: 0.5 + 0.25 → 37.5
    "CO1": 3,
    "CO2": 2,
    # safety: 1 + 0.75 → 87.5
    "SA1": 5,
    "SA2": 4,
    # people: 0.5 + 0.25 + 0 → 25
    "PE1": 3,
    "PE2": 2,
    "PE3": 1,
}
# overall = 0.2 × 58.333 + 0.2 × 41.667 + 0.15 × 70 + 0.15 × 37.5 + 0.15 × 87.5 + 0.15 × 25
#         = 11.667 + 8.333 + 10.5 + 5.625 + 13.125 + 3.75 = 53.0 → 확산 (50 ≤ 53 < 70);
# 고도화 needs 70 and quality ≥ 60 (short by 18.33) and safety ≥ 60 (met).


def test_innovation_fixture_scores_by_hand():
    instrument = load("innovation-capability")
    result = score(instrument, INNOVATION_ANSWERS)
    assert_scores(
        result,
        {
            "production": 58.33,
            "quality": 41.67,
            "delivery": 70.0,
            "cost": 37.5,
            "safety": 87.5,
            "people": 25.0,
        },
        53.0,
    )
    assert result.item("DE2").fraction == pytest.approx(0.65)
    assert result.item("QU3").fraction == pytest.approx(0.5)
    assert (result.level.id, result.level.label.ko) == ("S2", "확산")
    assert result.next_level.label.ko == "고도화"
    assert result.points_to_next == approx(17.0)
    assert result.dimension_shortfalls == {"quality": approx(18.33)}
    # The numeric item's next step is its best value: defect rate 0.1 % (fraction 1).
    assert result.item("QU3").gain_to_next == approx(100 * 0.2 / 3 * 0.5)


def test_innovation_fixture_gives_a_three_year_plan():
    """Shares: production and quality 6.667 per item, delivery, cost and safety 7.5, people 5.

    Triggered (f < below): STD 1.667, TPM 6.667 × (0.8 − 0.5) = 2.0, INSP 1.667, RCA 3.333,
    SPC 1.667, FLOW 7.5 × (0.8 − 0.65) = 1.125, COST 1.875, WASTE 3.75, TEAM 1.25, EDU 2.5,
    IDEA 5 × 0.75 = 3.75. Not triggered: 5S (0.75), PLAN (0.75), RISK (1), SAFE (0.75).
    Priorities: IDEA 2 × 3.75 / 1 = 7.5; WASTE 4 × 3.75 / 3 = 5.0; RCA 4 × 3.333 / 3 = 4.444;
    EDU and TEAM 3.75 (tie: id order); INSP and STD 3.333; COST 2.8125; TPM 2.667; SPC 2.083;
    FLOW 1.125.

    Placement (capacity 3), the best-ranked ready action first: TEAM Q1; IDEA and EDU after TEAM,
    Q2–Q3; STD Q1–Q2 (Q2 now full); INSP after STD, Q3–Q4 (Q3 full); RCA after INSP, Q5–Q6;
    COST from Q4 (Q2, Q3 full), Q4–Q5; WASTE after COST, Q6–Q7; TPM (3 quarters) after STD,
    Q4–Q6 (Q4–Q6 full); SPC after RCA, Q7–Q9; FLOW after STD, first free Q7–Q9. Year 3 begins
    in Q9.
    """
    instrument = load("innovation-capability")
    planned = plan(instrument, score(instrument, INNOVATION_ANSWERS))
    assert [p.action_id for p in planned] == [
        "IN-IDEA",
        "IN-WASTE",
        "IN-RCA",
        "IN-EDU",
        "IN-TEAM",
        "IN-INSP",
        "IN-STD",
        "IN-COST",
        "IN-TPM",
        "IN-SPC",
        "IN-FLOW",
    ]
    by_id = {p.action_id: p for p in planned}
    assert by_id["IN-IDEA"].gap == approx(3.75)
    assert by_id["IN-TPM"].gap == approx(2.0)
    assert by_id["IN-FLOW"].gap == approx(1.125)
    # Prerequisites that were triggered are scheduled first; untriggered ones are in place.
    assert by_id["IN-IDEA"].requires == ("IN-TEAM",)
    assert by_id["IN-FLOW"].requires == ("IN-STD",)  # IN-PLAN was not triggered
    assert by_id["IN-IDEA"].start > by_id["IN-TEAM"].end
    assert by_id["IN-SPC"].start > by_id["IN-RCA"].end > by_id["IN-INSP"].end
    assert by_id["IN-INSP"].start > by_id["IN-STD"].end
    assert {p.action_id: (p.start, p.end) for p in planned} == {
        "IN-TEAM": (1, 1),
        "IN-IDEA": (2, 3),
        "IN-EDU": (2, 3),
        "IN-STD": (1, 2),
        "IN-INSP": (3, 4),
        "IN-RCA": (5, 6),
        "IN-COST": (4, 5),
        "IN-WASTE": (6, 7),
        "IN-TPM": (4, 6),
        "IN-SPC": (7, 9),
        "IN-FLOW": (7, 9),
    }
    # Everything fits the three years with at most three actions at a time.
    for quarter in range(1, 13):
        assert sum(1 for p in planned if p.start <= quarter <= p.end) <= 3
    assert year_quarter(max(p.end for p in planned)) == (3, 1)


# --- supplier survey --------------------------------------------------------------------------


def test_supplier_survey_fixture_scores_by_hand():
    # 0.75 + 1 + 0.5 + 0.25 + 0.75 + 0.5 + 0.75 = 4.5 → 100 × 4.5 / 7 = 64.2857 → 64.29
    answers = {
        "fair_dealing": 4,
        "payment_terms": 5,
        "win_win_payment": 3,
        "price_adjustment": 2,
        "tech_cooperation": 4,
        "communication": 3,
        "support_programs": 4,
    }
    result = score(load("shared-growth-supplier-survey"), answers)
    assert_scores(result, {"supplier_view": 64.29}, 64.29)
    assert result.level is None and result.next_level is None
    assert result.path_to_next == ()


# --- shared-growth evaluation -----------------------------------------------------------------

EVALUATION_ANSWERS = {
    # fair trade: 0.75 + 0.5 + indexation 55 % → between (30, 0.5) and (80, 1): 0.5 + 0.5 × 25/50
    #   = 0.75 → 100 × 2.0 / 3 = 66.67 → 중 (50 ≤ 66.67 < 80)
    "FT1": 4,
    "FT2": 3,
    "FT3": 55,
    # finance: 0.5 + supported 10 % of 40 % → 0.25 → 100 × 0.75 / 2 = 37.5 → 하
    "FN1": 3,
    "FN2": 10,
    # technology: 0.75 + 1 → 87.5 → 상
    "TC1": 4,
    "TC2": 5,
    # people: 0.5 + 0.25 → 37.5 → 하
    "HR1": 3,
    "HR2": 2,
    # win-win payment: 90 % → 0.9, 0.75 → 100 × 1.65 / 2 = 82.5 → 상
    "PY1": 90,
    "PY2": 4,
    # suppliers (survey means): (4.2−1)/4 = 0.8, 0.9, 0.7, 0.5, 0.75, 0.6, 0.8 → Σ 5.05
    #   → 100 × 5.05 / 7 = 72.142857 → 72.14 → 중
    "SV-FAIR": 4.2,
    "SV-PAYMENT": 4.6,
    "SV-WINWIN": 3.8,
    "SV-INDEX": 3.0,
    "SV-TECH": 4.0,
    "SV-TALK": 3.4,
    "SV-SUPPORT": 4.2,
}
# overall = 0.2 × 66.667 + 0.15 × 37.5 + 0.15 × 87.5 + 0.1 × 37.5 + 0.15 × 82.5 + 0.25 × 72.143
#         = 13.333 + 5.625 + 13.125 + 3.75 + 12.375 + 18.036 = 66.244 → 66.24
# → 3단계 협력 (50 ≤ 66.24 < 70); 4단계 needs 70 and suppliers ≥ 60 (met): 3.76 points to go.


def test_evaluation_fixture_scores_and_grades_by_hand():
    result = score(load("shared-growth-evaluation"), EVALUATION_ANSWERS)
    assert_scores(
        result,
        {
            "fair_trade": 66.67,
            "finance": 37.5,
            "technology": 87.5,
            "people": 37.5,
            "payment": 82.5,
            "supplier": 72.14,
        },
        66.24,
    )
    assert {d.id: d.grade.label.ko for d in result.dimensions} == {
        "fair_trade": "중",
        "finance": "하",
        "technology": "상",
        "people": "하",
        "payment": "상",
        "supplier": "중",
    }
    assert (result.level.rank, result.level.label.ko) == (2, "3단계 협력")
    assert result.next_level.label.ko == "4단계 공유"
    assert result.points_to_next == approx(3.76)
    assert result.dimension_shortfalls == {}
    # A supplier mean between two options has no option label.
    assert result.item("SV-FAIR").label is None
    # The path uses only the sponsor's own answers: the largest step is financial support
    # 10 % → 40 %, worth 100 × 0.15 / 2 × 0.75 = 5.625 points, enough for 70.
    assert [(s.item_id, s.to_value) for s in result.path_to_next] == [("FN2", 40)]
    assert result.path_to_next[0].gain == approx(5.625)


def test_evaluation_fixture_actions_skip_what_is_done():
    instrument = load("shared-growth-evaluation")
    planned = plan(instrument, score(instrument, EVALUATION_ANSWERS))
    # EV-ESCROW: TC2 is at the top (1 ≥ 0.75); EV-PAY: 0.9 ≥ 0.8. Both are left out, and the
    # spread of 상생결제 to lower tiers no longer waits for EV-PAY.
    ids = {p.action_id for p in planned}
    assert ids == {"EV-CONTRACT", "EV-INDEX", "EV-EDU", "EV-TIER"}
    by_id = {p.action_id: p for p in planned}
    assert by_id["EV-TIER"].requires == ()
    assert by_id["EV-INDEX"].start > by_id["EV-CONTRACT"].end
    # EV-CONTRACT: FT1 0.75 is not below 0.75, FT2 0.5 is: gap 6.667 × 0.25 = 1.667.
    assert by_id["EV-CONTRACT"].gap == approx(1.67)


# --- partner certification --------------------------------------------------------------------

CERTIFICATION_A = {
    # management: debt 175 % → falling (100 %, 1) to (400 %, 0): 1 − 75/300 = 0.75;
    #   margin 6 % of 10 % → 0.6 → 100 × 1.35 / 2 = 67.5
    "MG1": 175,
    "MG2": 6,
    # quality: QA1 weighs 2: 2 × 0.75 = 1.5; 1525 ppm → 1 − 1475/2950 = 0.5 → 100 × 2 / 3 = 66.67
    "QA1": 4,
    "QA2": 1525,
    # delivery: 98 % → (98 − 90)/10 = 0.8; 0.75 → 100 × 1.55 / 2 = 77.5
    "DL1": 98,
    "DL2": 4,
    # technology: R&D 3 % of 5 % → 0.6; 0.75; 0.5 → 100 × 1.85 / 3 = 61.67
    "TE1": 3,
    "TE2": 4,
    "TE3": 3,
    # ESG: 1 + 0.5 + 0.75 → 100 × 2.25 / 3 = 75
    "ES1": 5,
    "ES2": 3,
    "ES3": 4,
}
# A: 0.2 × 67.5 + 0.25 × 66.667 + 0.2 × 77.5 + 0.2 × 61.667 + 0.15 × 75
#    = 13.5 + 16.667 + 15.5 + 12.333 + 11.25 = 69.25 (below the 70 cut-off)
# B = A with QA1 = 5: quality 100 × 2.5 / 3 = 83.33; overall 69.25 + 0.25 × 16.667 = 73.42
# C = A with TE2 = 5 and DL2 = 5: technology 100 × 2.1 / 3 = 70, delivery 100 × 1.8 / 2 = 90;
#    overall 13.5 + 16.667 + 18 + 14 + 11.25 = 73.42 — the same as B; quality decides: B first.
# D = every answer at its best: 100.
CERTIFICATION_B = {**CERTIFICATION_A, "QA1": 5}
CERTIFICATION_C = {**CERTIFICATION_A, "TE2": 5, "DL2": 5}
CERTIFICATION_D = {
    "MG1": 50,
    "MG2": 12,
    "QA1": 5,
    "QA2": 10,
    "DL1": 100,
    "DL2": 5,
    "TE1": 6,
    "TE2": 5,
    "TE3": 5,
    "ES1": 5,
    "ES2": 5,
    "ES3": 5,
}


def test_certification_fixture_scores_by_hand():
    instrument = load("partner-certification")
    a = score(instrument, CERTIFICATION_A)
    assert_scores(
        a,
        {
            "management": 67.5,
            "quality": 66.67,
            "delivery": 77.5,
            "technology": 61.67,
            "esg": 75.0,
        },
        69.25,
    )
    b = score(instrument, CERTIFICATION_B)
    c = score(instrument, CERTIFICATION_C)
    assert b.dimension("quality").score == approx(83.33)
    assert (c.dimension("technology").score, c.dimension("delivery").score) == (
        approx(70.0),
        approx(90.0),
    )
    assert b.overall == c.overall == approx(73.42)
    assert score(instrument, CERTIFICATION_D).overall == 100.0
    assert a.level is None  # certification ranks; it has no levels


def test_certification_ranking_with_a_tie_decided_by_quality():
    instrument = load("partner-certification")
    ranking = instrument.ranking
    assert (ranking.top_n, ranking.min_score) == (100, 70)
    assert ranking.tie_breaks == ("quality", "technology", "submitted_at")
    # C was submitted first; the quality tie-break still puts B ahead.
    submitted = {
        1: datetime(2026, 3, 2, tzinfo=UTC),
        2: datetime(2026, 3, 5, tzinfo=UTC),
        3: datetime(2026, 3, 1, tzinfo=UTC),
        4: datetime(2026, 3, 9, tzinfo=UTC),
    }
    answers = {1: CERTIFICATION_A, 2: CERTIFICATION_B, 3: CERTIFICATION_C, 4: CERTIFICATION_D}
    entries = []
    for key, given in answers.items():
        result = score(instrument, given)
        dims = {d.id: d.score for d in result.dimensions}
        entries.append(Entry(key, result.overall, dims, submitted[key]))
    ranked = rank_entries(
        entries,
        top_n=ranking.top_n,
        min_score=ranking.min_score,
        tie_breaks=ranking.tie_breaks,
    )
    assert [(r.key, r.rank, r.certified, r.decided_by, r.reason) for r in ranked] == [
        (4, 1, True, None, ""),
        (2, 2, True, None, ""),
        (3, 3, True, "quality", ""),
        (1, 4, False, None, "min_score"),
    ]


# --- score sheets -----------------------------------------------------------------------------


def test_score_sheet_fixture_scores_by_hand():
    instrument = load("application-score-sheet")
    answers = {
        "necessity_score": 80,
        "feasibility_score": 55,
        "capability_score": 70,
        "impact_score": 60,
        "cooperation_score": 90,
    }
    # 0.2 × 80 + 0.25 × 55 + 0.2 × 70 + 0.2 × 60 + 0.15 × 90 = 16 + 13.75 + 14 + 12 + 13.5 = 69.25
    result = score(instrument, answers)
    assert_scores(
        result,
        {"necessity": 80, "feasibility": 55, "capability": 70, "impact": 60, "cooperation": 90},
        69.25,
    )
    # A comment is required below 0.6: 55 needs one, exactly 60 does not.
    needs_comment = [
        i.item_id for i in result.items if i.fraction < instrument.comment_required_below
    ]
    assert needs_comment == ["feasibility_score"]


def test_score_sheet_5pt_fixture_scores_by_hand():
    instrument = load("application-score-sheet-5pt")
    answers = {
        "necessity_score": 4,
        "feasibility_score": 2,
        "capability_score": 3,
        "impact_score": 5,
        "cooperation_score": 3,
    }
    # fractions 0.75, 0.25, 0.5, 1, 0.5 → scores 75, 25, 50, 100, 50;
    # 0.2 × 75 + 0.25 × 25 + 0.2 × 50 + 0.2 × 100 + 0.15 × 50 = 15 + 6.25 + 10 + 20 + 7.5 = 58.75
    result = score(instrument, answers)
    assert_scores(
        result,
        {"necessity": 75, "feasibility": 25, "capability": 50, "impact": 100, "cooperation": 50},
        58.75,
    )
    # Below 0.5 needs a comment: "미흡" (0.25) does, "보통" (exactly 0.5) does not.
    needs_comment = [
        i.item_id for i in result.items if i.fraction < instrument.comment_required_below
    ]
    assert needs_comment == ["feasibility_score"]
    assert result.item("feasibility_score").label.ko == "미흡"
