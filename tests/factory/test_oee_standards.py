"""Standards from the shift calendar and cycle times, against hand-computed values: a shift's
planned time shared by the records of one machine and shift (by occupied time, or equally), the
day's shifts summed for records per day, machine-specific shifts, night shifts, given values kept,
and what lacked a standard reported rather than invented."""

from __future__ import annotations

import math
from datetime import time

import numpy as np
import pandas as pd
import pytest

from sangsaeng.factory.engine.oee_standards import fill_standards, shift_minutes

SHIFTS = [
    # 08:00–17:00 less 60 min = 480 min, Monday to Friday
    {"name": "주간", "machine": "", "starts": time(8), "ends": time(17), "break_minutes": 60,
     "weekdays": "01234"},
    # 22:00–06:00 (past midnight) less 30 min = 450 min, Monday to Thursday
    {"name": "야간", "machine": "", "starts": "22:00", "ends": "06:00", "break_minutes": 30,
     "weekdays": "0123"},
    # M2's own day shift replaces the general one for M2: 4 hours
    {"name": "주간", "machine": "M2", "starts": "08:00", "ends": "12:00", "break_minutes": 0,
     "weekdays": "01234"},
]  # fmt: skip
CYCLES = [
    {"product": "A", "machine": "M1", "ideal_cycle_seconds": 30.0},
    {"product": "A", "machine": "", "ideal_cycle_seconds": 40.0},
    {"product": "B", "machine": "", "ideal_cycle_seconds": 50.0},
]
NAN = np.nan


def records(rows) -> pd.DataFrame:
    columns = ["machine", "day", "shift", "product", "planned_minutes", "run_minutes",
               "downtime_minutes", "ideal_cycle_seconds"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def test_shift_length_less_breaks_past_midnight_and_round_the_clock():
    assert shift_minutes(SHIFTS[0]) == 480
    assert shift_minutes(SHIFTS[1]) == 450
    assert shift_minutes({"starts": "06:00", "ends": "06:00", "break_minutes": 90}) == 1350


def test_a_shift_is_shared_by_its_records_and_gaps_are_reported():
    frame = records(
        [
            # 2026-03-02 is a Monday. Two products on M1's day shift: 480 min split 360:120.
            ("M1", "2026-03-02", "주간", "A", NAN, 300, 60, NAN),
            ("M1", "2026-03-02", "주간", "B", NAN, 100, 20, NAN),
            ("M1", "2026-03-02", "야간", "A", 400, 380, 20, 25),  # given values are kept
            ("M1", "2026-03-03", "야간", "B", NAN, NAN, 10, NAN),  # alone: all 450
            ("M2", "2026-03-02", "주간", "A", NAN, NAN, 0, NAN),  # M2's own shift: 240
            ("M1", "2026-03-07", "주간", "C", NAN, 100, 0, NAN),  # Saturday; no cycle for C
            ("M1", "2026-03-06", "야간", "A", NAN, 100, 0, NAN),  # Friday night is off
            # M2 Tuesday: 200 of 240 given, 40 left but the other record stopped for 60
            ("M2", "2026-03-03", "주간", "B", 200, 190, 10, NAN),
            ("M2", "2026-03-03", "주간", "B", NAN, 0, 60, NAN),
        ]
    )
    filled, report = fill_standards(frame, SHIFTS, CYCLES)
    planned = filled["planned_minutes"].tolist()
    assert planned[:5] == [360, 120, 400, 450, 240]
    assert math.isnan(planned[5]) and math.isnan(planned[6])
    assert planned[7:] == [200, 60]
    assert filled["ideal_cycle_seconds"].tolist()[:5] == [30, 50, 25, 50, 40]
    assert math.isnan(filled["ideal_cycle_seconds"].iloc[5])
    assert filled["ideal_cycle_seconds"].iloc[6] == 30

    assert report["records"] == 9
    assert report["planned_minutes"] == {
        "lacking": 7,
        "from_calendar": 5,
        "missing": 2,
        "over_calendar": 1,
        "examples": [
            {"machine": "M1", "day": "2026-03-06", "shift": "야간"},
            {"machine": "M1", "day": "2026-03-07", "shift": "주간"},
        ],
    }
    assert report["ideal_cycle_seconds"] == {
        "lacking": 8,
        "from_cycle_times": 7,
        "missing": 1,
        "examples": [{"product": "C", "machine": "M1"}],
    }
    assert report["excluded"] == 2


def test_records_per_day_get_the_days_shifts_summed_and_shared():
    frame = records(
        [
            # Wednesday: day 480 + night 450 = 930; one record lacks its run time → equal halves
            ("M1", "2026-03-04", "", "A", NAN, 400, 30, NAN),
            ("M1", "2026-03-04", None, "B", NAN, NAN, 0, NAN),
            # Thursday: M2 runs its own 240-minute day shift and the general night shift (450)
            ("M2", "2026-03-05", "", "A", NAN, 500, 40, NAN),
            ("M2", "2026-03-05", "", "B", NAN, 100, 50, NAN),
        ]
    )
    filled, report = fill_standards(frame, SHIFTS, CYCLES)
    # Thursday M2: 690 split by occupied time 540:150.
    assert filled["planned_minutes"].tolist() == pytest.approx([465, 465, 690 * 540 / 690, 150])
    assert report["planned_minutes"]["missing"] == 0 and report["excluded"] == 0


def test_without_a_calendar_nothing_is_invented():
    frame = records([("M1", "2026-03-02", "주간", "A", NAN, 300, 60, NAN)])
    filled, report = fill_standards(frame, [], [])
    assert filled[["planned_minutes", "ideal_cycle_seconds"]].isna().all().all()
    assert report["planned_minutes"]["missing"] == 1
    assert report["ideal_cycle_seconds"]["missing"] == 1 and report["excluded"] == 1
