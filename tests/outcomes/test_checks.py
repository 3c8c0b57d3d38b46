"""Impossible KPI values are refused with a reason; suspicious ones are flagged."""

from __future__ import annotations

from datetime import date

from sangsaeng.outcomes.engine.checks import KpiSpec, Reported, check

DEFECT = KpiSpec("defect_rate", "%", 0, 100)
HOURS = KpiSpec("lead_time", "hours", 0, None)
BASELINE = Reported(3.0, "%", date(2025, 1, 1), date(2025, 12, 31))


def reported(value, unit="%", start=date(2026, 1, 1), end=date(2026, 12, 31)):
    return Reported(value, unit, start, end)


def test_a_plausible_value_passes():
    verdict = check(DEFECT, reported(1.5), baseline=BASELINE, previous=3.0)
    assert verdict.ok and verdict.flags == []


def test_impossible_values_are_refused_with_the_field_and_reason():
    assert set(check(DEFECT, reported(120.0)).refused) == {"value"}  # above 100 %
    assert set(check(HOURS, reported(-5.0, "hours")).refused) == {"value"}  # negative hours
    assert set(check(DEFECT, reported(1.5, "ppm")).refused) == {"unit"}  # unit mismatch
    backwards = reported(1.5, start=date(2026, 12, 31), end=date(2026, 1, 1))
    assert set(check(DEFECT, backwards).refused) == {"period_end"}
    too_early = reported(1.5, start=date(2024, 1, 1), end=date(2024, 12, 31))
    msgid, params = check(DEFECT, too_early, baseline=BASELINE).refused["period_end"]
    assert "baseline" in msgid and params == {"baseline": "2025-12-31"}


def test_a_thousandfold_jump_is_flagged_not_refused():
    verdict = check(
        KpiSpec("unit_cost", "KRW/unit", 0, None), reported(15_000_000, "KRW/unit"), previous=15_000
    )
    assert verdict.ok
    [(msgid, params)] = verdict.flags
    assert params["ratio"] == 1000 and "unit" in msgid
    assert check(DEFECT, reported(2.0), previous=3.0).flags == []
    assert check(DEFECT, reported(0.0), previous=3.0).flags == []  # reaching 0 is no jump
