"""The demo's production and inspection data: files the import accepts as they are, whose
planted truths the OEE and SPC engines recover."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from sangsaeng.core.imports.mapping import auto_map
from sangsaeng.demo import factory_inspection as inspection
from sangsaeng.demo import factory_production as production
from sangsaeng.demo.factory_demand import korean_holidays
from sangsaeng.factory import schema
from sangsaeng.factory.datasets import check_rows
from sangsaeng.factory.engine import oee, spc
from sangsaeng.factory.models import INSPECTION, PRODUCTION

START, END = date(2025, 1, 1), date(2025, 12, 31)
PLANTED = production.PLANTED_PRODUCTION


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return production.one_year(5)


@pytest.fixture(scope="module")
def prepared(records) -> pd.DataFrame:
    return oee.prepare(production.with_standards(records))


@pytest.fixture(scope="module")
def measurements() -> pd.DataFrame:
    return inspection.one_year(5)


def _accepted(kind: str, frame: pd.DataFrame) -> dict[str, int]:
    headers = [str(h) for h in frame.columns]
    columns = auto_map(headers, schema.columns(kind))
    _clean, check, _warnings = check_rows(kind, frame, columns, today=END)
    assert not check.errors, check.errors[:5]
    return columns


def test_production_records_are_deterministic_and_an_import_takes_them_as_they_are(records):
    assert records.equals(production.one_year(5))
    assert not records.equals(production.one_year(6))
    columns = _accepted(PRODUCTION, records)
    assert len(columns) == len(records.columns)  # every Korean header is recognised
    days = pd.to_datetime(records["일자"])
    assert days.dt.dayofweek.max() <= 4
    assert not set(days.dt.date) & korean_holidays(START, 365)
    per_record = records.groupby(["일자", "설비", "근무조"]).size()
    assert per_record.eq(1).all() and len(per_record) == len(set(days)) * 6 * 2
    assert (records["양품수량"] + records["불량수량"] == records["생산수량"]).all()
    assert (records["가동시간(분)"] + records["비가동시간(분)"] == records["계획시간(분)"]).all()
    assert set(records["비가동사유"]) == {"", *production.REASON_SHARES}
    assert (records["초기불량"] <= records["불량수량"]).all()


def test_oee_recovers_the_planted_availability_performance_and_quality(prepared):
    by_machine = {row["machine"]: row for row in oee.oee_table(prepared, by=["machine"])}
    degrading = PLANTED["degrading"]["machine"]
    for machine, row in by_machine.items():
        assert row["performance"] == pytest.approx(production.performance(machine), abs=0.01)
        assert row["quality"] == pytest.approx(1 - PLANTED["defect_rate"][machine], abs=0.004)
        if machine != degrading:
            assert row["availability"] == pytest.approx(
                PLANTED["availability"][machine], abs=0.015
            ), machine
    # Over the year the degrading machine averages the middle of its planted line (its
    # downtime varies most: over seeds the standard deviation of this mean is 0.008).
    middle = (PLANTED["degrading"]["start"] + PLANTED["degrading"]["end"]) / 2
    assert by_machine[degrading]["availability"] == pytest.approx(middle, abs=0.03)


def test_the_degrading_machine_loses_availability_to_breakdowns_quarter_by_quarter(prepared):
    machine = PLANTED["degrading"]["machine"]
    rows = prepared.loc[prepared["machine"] == machine].copy()
    day = pd.to_datetime(rows["day"])
    rows["quarter"] = day.dt.quarter
    quarters = {r["quarter"]: r for r in oee.oee_table(rows, by=["quarter"])}
    first, last = quarters[1], quarters[4]
    # Planted: 0.875 in the first quarter's middle, 0.725 in the last's.
    assert first["availability"] - last["availability"] > 0.1
    assert last["losses"]["breakdown"] > 2.5 * first["losses"]["breakdown"]
    # The slope of the daily availability is the planted one: −0.20 over the year (over
    # seeds the fitted slope's standard deviation is 0.024).
    daily = pd.DataFrame(oee.oee_table(rows, by=["day"]))
    t = (pd.to_datetime(daily["day"]) - pd.Timestamp(START)).dt.days / 364
    slope = np.polyfit(t, daily["availability"], 1)[0]
    planted = PLANTED["degrading"]["end"] - PLANTED["degrading"]["start"]
    assert slope == pytest.approx(planted, abs=0.08)
    # A stable machine has no such trend.
    steady = prepared.loc[prepared["machine"] == "M-201"]
    daily = pd.DataFrame(oee.oee_table(steady, by=["day"]))
    t = (pd.to_datetime(daily["day"]) - pd.Timestamp(START)).dt.days / 364
    assert abs(np.polyfit(t, daily["availability"], 1)[0]) < 0.03


def test_planned_time_from_the_shift_calendar_gives_the_same_oee(records, prepared):
    without = production.one_year(5, planned_minutes=False)
    assert "계획시간(분)" not in without.columns
    from_calendar = oee.prepare(production.with_standards(without))
    assert from_calendar["planned_minutes"].eq(660).all()
    for a, b in zip(
        oee.oee_table(from_calendar, by=["machine"]),
        oee.oee_table(prepared, by=["machine"]),
        strict=True,
    ):
        assert a["oee"] == pytest.approx(b["oee"], rel=1e-12)
    cycles = production.standards().cycle_times
    assert {(c["product"], c["machine"]) for c in cycles} == set(
        zip(records["제품"], records["설비"], strict=True)
    )


def _planted_series(measurements: pd.DataFrame) -> pd.DataFrame:
    shifted = inspection.PLANTED_INSPECTION["shifted"]
    return measurements.loc[
        (measurements["제품"] == shifted["product"])
        & (measurements["검사항목"] == shifted["characteristic"])
    ]


def test_inspections_are_deterministic_and_an_import_takes_them_as_they_are(measurements):
    assert measurements.equals(inspection.one_year(5))
    columns = _accepted(INSPECTION, measurements)
    assert len(columns) == len(measurements.columns)
    sizes = measurements.groupby(["로트", "검사항목"]).size()
    assert sizes.eq(inspection.PLANTED_INSPECTION["sample_size"]).all()
    outside = (measurements["측정값"] < measurements["하한규격"]) | (
        measurements["측정값"] > measurements["상한규격"]
    )
    assert (measurements["판정"].eq("불합격") == outside).all()


def test_xbar_r_by_lot_fires_after_the_planted_shift_and_not_before(measurements):
    series = _planted_series(measurements)
    shift = inspection.planted_shift(START, END)
    lots = series.drop_duplicates("로트")
    baseline = int((lots["일자"] < shift).sum())
    assert 0 < baseline < len(lots)
    spec = inspection.PLANTED_INSPECTION["characteristics"]["P-A100"]["외경(mm)"]
    chart = spc.control_chart(
        "xbar-r",
        series["측정값"],
        subgroups=list(series["로트"]),
        baseline=(1, baseline),
        lsl=spec["lsl"],
        usl=spec["usl"],
    )
    flagged = {v["sample"] for v in chart.violations}
    before = {s for s in flagged if s <= baseline}
    after = {s for s in flagged if s > baseline}
    # In control: no more alarms than chance gives (eight rules: a few per cent of samples).
    assert len(before) / baseline < 0.06
    # The shift is 1.5 σ of single parts, 3.4 σ of a lot's mean: seen at once and throughout.
    assert min(after) <= baseline + 3
    assert len(after) / (len(lots) - baseline) > 0.8
    assert np.mean(chart.points[baseline:]) > chart.limits.center[0] + 0.04


def test_capability_is_the_planted_cpk_before_and_after_the_shift(measurements):
    series = _planted_series(measurements)
    shift = inspection.planted_shift(START, END)
    planted = inspection.capability()
    spec = inspection.PLANTED_INSPECTION["characteristics"]["P-A100"]["외경(mm)"]
    for part, expected in (
        (series.loc[series["일자"] < shift], planted["cpk_before"]),
        (series.loc[series["일자"] >= shift], planted["cpk_after"]),
    ):
        chart = spc.control_chart(
            "xbar-r",
            part["측정값"],
            subgroups=list(part["로트"]),
            lsl=spec["lsl"],
            usl=spec["usl"],
        )
        # Over seeds the estimate's standard deviation is 0.03.
        assert chart.capability["cpk"]["value"] == pytest.approx(expected, abs=0.1)
    assert planted["cpk_before"] == pytest.approx(4 / 3)
    assert planted["cpk_after"] == pytest.approx(5 / 6)
