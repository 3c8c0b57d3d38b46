"""The performance report from the database against a small program computed by hand: only
verified values pair up, targets come from the applications, company inputs value the effect,
the "after" value is the latest (or the completion one), and sponsors see their companies."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from sangsaeng.core.errors import InvalidInput, NotFound
from sangsaeng.outcomes import report_service
from sangsaeng.outcomes import service as outcomes
from sangsaeng.programs import project_service as projects
from tests.assessments.helpers import actor_of
from tests.factories import make_user
from tests.programs import lifecycle
from tests.programs.test_lifecycle import _signed

YEAR = (date(2025, 1, 1), date(2025, 12, 31))
DONE = (date(2026, 7, 1), date(2026, 12, 31))
LATER = (date(2027, 7, 1), date(2027, 12, 31))


def _put(db, actor, project, code, stage, period, value, unit, *, verify=None, year_no=None):
    measurement = outcomes.report(
        db,
        actor,
        project.id,
        outcomes.Report(code, stage, period[0], period[1], value, unit, year_no=year_no),
    )
    if verify == "yes":
        outcomes.verify(db, verify_by[0], measurement.id)
    elif verify == "no":
        outcomes.reject(db, verify_by[0], measurement.id, "증빙 기간이 맞지 않습니다.")
    return measurement


verify_by: list = []


@pytest.fixture
def program(db):
    world = lifecycle.build(db)
    apps, first = _signed(db, world)
    second = projects.sign(
        db,
        world.operator,
        apps[1].id,
        starts_on=date.today(),
        ends_on=date.today() + timedelta(days=180),
    )
    verify_by[:] = [world.operator]
    a, b = world.sme_actors[0], world.sme_actors[1]
    # Company A: defect rate 4 → 3 (0.25; target 1.5 → achievement 1/2.5 = 0.4), productivity
    # 10 → 12 (0.2); valued with its output and unit cost: (4 − 3)/100 × 100,000 × 5,000.
    _put(db, a, first, "defect_rate", "baseline", YEAR, 4.0, "%", verify="yes")
    _put(db, a, first, "defect_rate", "completion", DONE, 3.0, "%", verify="yes")
    _put(db, a, first, "productivity", "baseline", YEAR, 10.0, "units/labour hour", verify="yes")
    _put(db, a, first, "productivity", "completion", DONE, 12.0, "units/labour hour", verify="yes")
    _put(db, a, first, "annual_output", "baseline", YEAR, 100_000, "units/year", verify="yes")
    _put(db, a, first, "unit_cost", "baseline", YEAR, 5_000, "KRW/unit", verify="yes")
    # Company B: defect rate 2 → 1.5 (0.25; achievement 0.5/0.5 = 1.0). A rejected value and
    # one awaiting verification do not count; no inputs, so its effect is missing.
    _put(db, b, second, "defect_rate", "baseline", YEAR, 2.0, "%", verify="yes")
    _put(db, b, second, "defect_rate", "completion", DONE, 1.5, "%", verify="yes")
    _put(db, b, second, "productivity", "baseline", YEAR, 10.0, "units/labour hour", verify="no")
    _put(db, b, second, "oee", "baseline", YEAR, 50.0, "%")
    return world, first, second


def test_the_report_matches_the_hand_computed_program(db, program):
    world, _first, _second = program
    result = report_service.program_report(db, world.operator, world.program.id, resamples=200)
    data = result.as_dict()
    assert (data["n_participants"], data["n_verified"]) == (2, 2)
    avg = data["avg_improvement"]
    assert avg["mean"] == pytest.approx((0.225 + 0.25) / 2)
    assert avg["median"] == pytest.approx(0.2375) and avg["n"] == 2
    assert avg["ci"][0] <= avg["mean"] <= avg["ci"][1]
    assert data["kpis"]["defect_rate"]["mean"] == pytest.approx(0.25)
    assert data["kpis"]["productivity"]["n"] == 1
    assert "oee" not in data["kpis"] and "annual_output" not in data["kpis"]
    assert data["target_achievement"]["mean"] == pytest.approx(0.7)
    effect = data["financial_effect"]
    assert (effect["total"], effect["per_company"], effect["n"], effect["n_missing"]) == (
        5_000_000,
        5_000_000,
        1,
        1,  # B's defect-rate pair cannot be valued without its output and unit cost
    )
    assert "defect_rate" in effect["formula"]
    assert data["values"] == {"reported": 1, "verified": 8, "rejected": 1, "flagged": 0}
    line = next(c for c in result.companies if c.project_id == _first.id)
    assert (line.n_pairs, line.average, line.effect_krw) == (2, pytest.approx(0.225), 5_000_000)
    assert line.inputs.annual_output == 100_000 and line.inputs.unit_cost == 5_000
    assert set(data["breakdowns"]) == set(report_service.BREAKDOWNS)
    assert data["breakdowns"]["support_type"]["advanced"]["n"] == 2


def test_the_latest_value_or_the_completion_value(db, program):
    world, first, _second = program
    a = world.sme_actors[0]
    _put(db, a, first, "defect_rate", "follow_up", LATER, 2.0, "%", verify="yes", year_no=1)
    latest = report_service.program_report(db, world.operator, world.program.id, resamples=50)
    at_completion = report_service.program_report(
        db, world.operator, world.program.id, after="completion", resamples=50
    )
    assert latest.as_dict()["kpis"]["defect_rate"]["mean"] == pytest.approx((0.5 + 0.25) / 2)
    assert at_completion.as_dict()["kpis"]["defect_rate"]["mean"] == pytest.approx(0.25)
    with pytest.raises(InvalidInput):
        report_service.program_report(db, world.operator, world.program.id, after="best")


def test_who_sees_the_report(db, program):
    world, _first, _second = program
    with pytest.raises(NotFound):
        report_service.program_report(db, world.other_operator, world.program.id)
    with pytest.raises(NotFound):
        report_service.program_report(db, world.sme_actors[0], world.program.id)
    sponsor = actor_of(db, make_user(db, roles=[(world.sponsor, "sponsor")]))
    mine = report_service.program_report(db, sponsor, world.program.id, resamples=50)
    assert mine.sponsor.id == world.sponsor.id
    assert mine.report.n_participants == 2  # both agreements are funded by this sponsor
    assert mine.as_dict()["scope"]["sponsor"] == world.sponsor.name_ko
