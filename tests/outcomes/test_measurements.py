"""KPI measurements of a project on both databases: reported by the company, checked as they
arrive (impossible refused, nothing stored; suspicious flagged), verified or rejected by the
program's operators only."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from sangsaeng.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sangsaeng.outcomes import service as outcomes
from sangsaeng.outcomes.models import KpiMeasurement
from tests.programs import lifecycle
from tests.programs.test_lifecycle import _signed

BASE = outcomes.Report("defect_rate", "baseline", date(2025, 1, 1), date(2025, 12, 31), 3.2, "%")


def after(value, unit="%", start=date(2026, 7, 1), end=date(2026, 12, 31), **kw):
    return outcomes.Report("defect_rate", "completion", start, end, value, unit, **kw)


def _count(db) -> int:
    return db.scalar(select(func.count()).select_from(KpiMeasurement))


def test_report_verify_and_reject(db):
    world = lifecycle.build(db)
    _apps, project = _signed(db, world)
    sme, operator = world.sme_actors[0], world.operator
    with pytest.raises(InvalidInput) as caught:  # nothing after the baseline before a baseline
        outcomes.report(db, sme, project.id, after(1.5))
    assert "stage" in caught.value.fields
    base = outcomes.report(db, sme, project.id, BASE)
    done = outcomes.report(db, sme, project.id, after(1.5))
    assert (done.status, done.source, done.flags) == ("reported", "self", [])
    with pytest.raises(Forbidden):
        outcomes.verify(db, sme, done.id)
    with pytest.raises(NotFound):
        outcomes.verify(db, world.other_operator, done.id)
    outcomes.verify(db, operator, done.id)
    with pytest.raises(Conflict):
        outcomes.reject(db, operator, done.id, "증빙 불충분")
    with pytest.raises(InvalidInput):
        outcomes.reject(db, operator, base.id, "")
    outcomes.reject(db, operator, base.id, "증빙 자료의 기간이 다릅니다.")
    assert [m.status for m in outcomes.measurements_of(db, sme, project.id)] == [
        "rejected",
        "verified",
    ]
    with pytest.raises(NotFound):
        outcomes.measurements_of(db, world.sme_actors[1], project.id)


def test_impossible_values_are_refused_and_nothing_is_stored(db):
    world = lifecycle.build(db)
    _apps, project = _signed(db, world)
    sme = world.sme_actors[0]
    outcomes.report(db, sme, project.id, BASE)
    before = _count(db)
    cases = [
        (after(120.0), "value"),  # a defect rate above 100 %
        (after(1.5, unit="ppm"), "unit"),
        (after(1.5, start=date(2024, 1, 1), end=date(2024, 12, 31)), "period_end"),
        (after(1.5, start=date(2026, 12, 31), end=date(2026, 1, 1)), "period_end"),
    ]
    for report, field in cases:
        with pytest.raises(InvalidInput) as caught:
            outcomes.report(db, sme, project.id, report)
        assert field in caught.value.fields
    hours = outcomes.Report(
        "lead_time", "baseline", date(2025, 1, 1), date(2025, 12, 31), -3, "hours"
    )
    with pytest.raises(InvalidInput):
        outcomes.report(db, sme, project.id, hours)  # negative hours
    assert _count(db) == before


def test_a_thousandfold_jump_is_stored_with_a_flag(db):
    world = lifecycle.build(db)
    _apps, project = _signed(db, world)
    sme = world.sme_actors[0]
    cost = outcomes.Report(
        "unit_cost", "baseline", date(2025, 1, 1), date(2025, 12, 31), 15_000, "KRW/unit"
    )
    outcomes.report(db, sme, project.id, cost)
    slip = outcomes.Report(
        "unit_cost", "completion", date(2026, 1, 1), date(2026, 12, 31), 14_500_000, "KRW/unit"
    )
    flagged = outcomes.report(db, sme, project.id, slip)
    [[_msgid, params]] = flagged.flags
    assert params["ratio"] == 967 and flagged.status == "reported"
