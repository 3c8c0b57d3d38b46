"""A demo SME's production records for a year, with PLANTED availability, speed and quality.

One row per machine and shift on every working day (weekdays that are not Korean public
holidays), as an SME's MES or POP export has them under Korean headers: 일자, 근무조 (주간
08–20 h, 야간 20–08 h, an hour's break each), 라인, 설비, 제품 (one product per shift),
계획수량, 생산수량, 양품수량, 불량수량, 불량유형, 계획시간(분), 가동시간(분), 비가동시간(분),
비가동사유 (the longest stop's reason: 설비고장, 금형교체, 자재대기, 품질점검), 순간정지(분) and
초기불량. The machines and products are those of ``factory_process`` so that one SME's datasets
speak of the same plant.

The ideal cycle times are not in the file, as in most exports: they are the standards the SME
enters (``standards()``: the shift calendar and the cycle time per product and machine);
``with_standards`` joins them, which is what OEE needs. ``planned_minutes=False`` leaves
계획시간(분) out too, so that planned time must come from the shift calendar.

PLANTED (``PLANTED_PRODUCTION``), in expectation over many records:

- **availability** = 1 − downtime ÷ planned time: each machine's ``availability``, stable over
  the year, except ``degrading`` whose availability falls linearly from ``start`` on the first
  day to ``end`` on the last; all of its extra downtime is breakdowns (설비고장), so its
  breakdown minutes grow over the year while the other reasons stay as they were;
- **performance** = ideal cycle × produced ÷ run time = (1 − ``minor_stop_share``) ×
  ``speed`` for every machine (minor stops take that share of the run time; the rest runs at
  ``speed`` of the ideal rate);
- **quality** = 1 − the machine's ``defect_rate`` (the defects are binomial per record);
- the ideal cycle time of a product on a machine is ``cycle_seconds[product]`` ×
  ``machine_factor[machine]`` (``ideal_cycle_seconds``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

import numpy as np
import pandas as pd

from sangsaeng.demo.factory_demand import korean_holidays
from sangsaeng.demo.factory_process import DEFECT_TYPES, LINES, PRODUCTS

BREAKDOWN, CHANGEOVER, MATERIAL, CHECK = "설비고장", "금형교체", "자재대기", "품질점검"
# How a stable machine's downtime divides among the reasons (a degrading machine adds
# breakdowns on top).
REASON_SHARES = {BREAKDOWN: 0.30, CHANGEOVER: 0.35, MATERIAL: 0.20, CHECK: 0.15}
SHIFTS = {
    # name → (starts, ends, break minutes); planned time = 720 − 60 = 660 minutes.
    "주간": (time(8, 0), time(20, 0), 60),
    "야간": (time(20, 0), time(8, 0), 60),
}
WORKDAYS = "01234"  # Monday … Friday
NO_STOP_SHARE = 0.1  # records without any stop


def _planted() -> dict:
    machines = [m for pair in LINES.values() for m in pair]
    return {
        "machines": machines,
        "lines": {m: line for line, pair in LINES.items() for m in pair},
        "products": {  # what each machine makes
            "M-101": ["P-A100", "P-A200"],
            "M-102": ["P-A100", "P-A200"],
            "M-201": ["P-A100", "P-B110"],
            "M-202": ["P-B110", "P-C300"],
            "M-301": ["P-B110", "P-C300"],
            "M-302": ["P-A200", "P-C300"],
        },
        "availability": {
            "M-101": None,  # degrading: see "degrading"
            "M-102": 0.88,
            "M-201": 0.92,
            "M-202": 0.85,
            "M-301": 0.90,
            "M-302": 0.87,
        },
        "degrading": {"machine": "M-101", "start": 0.90, "end": 0.70, "reason": BREAKDOWN},
        "speed": {"M-101": 0.95, "M-102": 0.95, "M-201": 0.97, "M-202": 0.93, "M-301": 0.96},
        "default_speed": 0.94,
        "minor_stop_share": 0.03,
        "defect_rate": {
            "M-101": 0.020,
            "M-102": 0.015,
            "M-201": 0.010,
            "M-202": 0.030,
            "M-301": 0.012,
            "M-302": 0.020,
        },
        "cycle_seconds": {"P-A100": 30.0, "P-A200": 36.0, "P-B110": 45.0, "P-C300": 60.0},
        "machine_factor": {"1라인": 1.0, "2라인": 0.9, "3라인": 1.1},
        "shifts": {name: {"planned_minutes": 660} for name in SHIFTS},
        "reason_shares": REASON_SHARES,
    }


PLANTED_PRODUCTION: dict = _planted()
assert set(PLANTED_PRODUCTION["products"]) == set(PLANTED_PRODUCTION["machines"])
assert {p for ps in PLANTED_PRODUCTION["products"].values() for p in ps} <= set(PRODUCTS)


def ideal_cycle_seconds(product: str, machine: str, planted: dict = PLANTED_PRODUCTION) -> float:
    line = planted["lines"][machine]
    return round(planted["cycle_seconds"][product] * planted["machine_factor"][line], 1)


def performance(machine: str, planted: dict = PLANTED_PRODUCTION) -> float:
    """The planted performance of a machine: minor stops and reduced speed."""
    speed = planted["speed"].get(machine, planted["default_speed"])
    return (1 - planted["minor_stop_share"]) * speed


def availability(machine: str, fraction, planted: dict = PLANTED_PRODUCTION):
    """The planted availability of ``machine`` at ``fraction`` (0 = the first day, 1 = the
    last) of the period."""
    spec = planted["degrading"]
    if machine == spec["machine"]:
        return spec["start"] + (spec["end"] - spec["start"]) * np.asarray(fraction, dtype=float)
    return np.full(np.shape(fraction), planted["availability"][machine], dtype=float)


@dataclass(frozen=True)
class Standards:
    """What the SME enters besides its data: rows of the ``Shift`` and ``CycleTime`` tables."""

    shifts: list[dict]  # name, starts, ends, break_minutes, weekdays, machine ("" = every)
    cycle_times: list[dict]  # product, machine, ideal_cycle_seconds


def standards(planted: dict = PLANTED_PRODUCTION) -> Standards:
    shifts = [
        {
            "name": name,
            "machine": "",
            "starts": starts,
            "ends": ends,
            "break_minutes": pause,
            "weekdays": WORKDAYS,
        }
        for name, (starts, ends, pause) in SHIFTS.items()
    ]
    cycles = [
        {"product": p, "machine": m, "ideal_cycle_seconds": ideal_cycle_seconds(p, m, planted)}
        for m in planted["machines"]
        for p in planted["products"][m]
    ]
    return Standards(shifts, cycles)


def shift_minutes(shift: dict) -> int:
    """Planned minutes of one shift of the calendar (length less breaks; past midnight too)."""
    start = shift["starts"].hour * 60 + shift["starts"].minute
    end = shift["ends"].hour * 60 + shift["ends"].minute
    return (end - start) % (24 * 60) - shift["break_minutes"]


def working_days(start: date, end: date) -> pd.DatetimeIndex:
    days = pd.date_range(start, end, freq="D")
    off = korean_holidays(start, (end - start).days + 1)
    keep = days.dayofweek.isin([int(d) for d in WORKDAYS]) & ~days.isin(pd.DatetimeIndex(off))
    return days[keep]


def production_records(
    rng: np.random.Generator,
    start: date,
    end: date,
    *,
    planted: dict = PLANTED_PRODUCTION,
    planned_minutes: bool = True,
) -> pd.DataFrame:
    """One row per machine, shift and working day from ``start`` to ``end`` (inclusive), under
    Korean headers; see the module docstring. Deterministic for a given generator state."""
    days = working_days(start, end)
    machines = planted["machines"]
    shifts = list(SHIFTS)
    per_day = len(machines) * len(shifts)
    n = len(days) * per_day
    day_index = np.repeat(np.arange(len(days)), per_day)
    machine_index = np.tile(np.repeat(np.arange(len(machines)), len(shifts)), len(days))
    shift_index = np.tile(np.arange(len(shifts)), len(days) * len(machines))
    machine = np.asarray(machines, dtype=object)[machine_index]
    span = max((days[-1] - days[0]).days, 1)
    fraction = (days[day_index] - days[0]).days.to_numpy() / span

    choice = rng.integers(0, 2, n)
    product = np.array(
        [planted["products"][m][c] for m, c in zip(machine, choice, strict=True)], dtype=object
    )
    cycle = np.array(
        [ideal_cycle_seconds(p, m, planted) for p, m in zip(product, machine, strict=True)]
    )
    planned = np.array([planted["shifts"][shifts[s]]["planned_minutes"] for s in shift_index])

    # Downtime: its expectation is planned × (1 − availability); a share of records has no stop,
    # the rest a gamma-distributed total so that the mean over all records is as planted.
    target = np.empty(n)
    base = np.empty(n)
    for i, m in enumerate(machines):
        rows = machine_index == i
        target[rows] = 1 - availability(m, fraction[rows], planted)
        stable = planted["degrading"]["start"] if m == planted["degrading"]["machine"] else None
        base[rows] = 1 - (stable if stable is not None else planted["availability"][m])
    mean_down = planned * target / (1 - NO_STOP_SHARE)
    stopped = rng.random(n) >= NO_STOP_SHARE
    downtime = np.where(stopped, rng.gamma(4.0, mean_down / 4.0), 0.0)
    downtime = np.minimum(np.round(downtime), planned * 0.9)
    # The longest stop's reason: breakdowns take the stable share of the base downtime and all
    # the extra of a degrading machine.
    shares = np.array(list(planted["reason_shares"].values()))
    names = list(planted["reason_shares"])
    weights = np.outer(base, shares)
    weights[:, names.index(planted["degrading"]["reason"])] += target - base
    weights /= weights.sum(axis=1, keepdims=True)
    pick = (rng.random(n)[:, None] > np.cumsum(weights, axis=1)).sum(axis=1)
    reason = np.where(downtime > 0, np.asarray(names, dtype=object)[np.minimum(pick, 3)], "")

    run = planned - downtime
    minor = np.round(run * planted["minor_stop_share"] * rng.uniform(0.7, 1.3, n), 1)
    speed = np.array([planted["speed"].get(m, planted["default_speed"]) for m in machine])
    # Produced at the planted speed, scaled so the expected performance is as planted.
    producing = run - minor
    produced = np.floor(producing * 60 / cycle * speed * rng.normal(1.0, 0.01, n)).clip(0)
    produced = produced.astype(int)
    defect_rate = np.array([planted["defect_rate"][m] for m in machine])
    defects = rng.binomial(produced, defect_rate)
    good = produced - defects
    after_changeover = reason == CHANGEOVER
    startup = np.where(after_changeover, rng.binomial(defects, 0.4), 0)
    defect_type = np.where(
        defects > 0, np.asarray(DEFECT_TYPES, dtype=object)[rng.integers(0, 5, n)], ""
    )
    target_qty = np.floor(planned * 60 / cycle * 0.85).astype(int)

    frame = pd.DataFrame(
        {
            "일자": days[day_index].date,
            "근무조": np.asarray(shifts, dtype=object)[shift_index],
            "라인": [planted["lines"][m] for m in machine],
            "설비": machine,
            "제품": product,
            "계획수량": target_qty,
            "생산수량": produced,
            "양품수량": good,
            "불량수량": defects,
            "불량유형": defect_type,
            "계획시간(분)": planned,
            "가동시간(분)": run,
            "비가동시간(분)": downtime,
            "비가동사유": reason,
            "순간정지(분)": minor,
            "초기불량": startup,
        }
    )
    if not planned_minutes:
        frame = frame.drop(columns=["계획시간(분)", "가동시간(분)"])
    return frame


def with_standards(
    records: pd.DataFrame, standards_: Standards | None = None, *, planned: str = "계획시간(분)"
) -> pd.DataFrame:
    """The records with 이상사이클타임(초) from the cycle times and, where the file has no
    planned time, 계획시간(분) from the shift calendar: what OEE is computed from."""
    standards_ = standards_ or standards()
    cycles = pd.DataFrame(standards_.cycle_times).rename(
        columns={"product": "제품", "machine": "설비", "ideal_cycle_seconds": "이상사이클타임(초)"}
    )
    out = records.merge(cycles, on=["제품", "설비"], how="left", validate="many_to_one")
    if planned not in out.columns:
        minutes = {s["name"]: shift_minutes(s) for s in standards_.shifts}
        out[planned] = out["근무조"].map(minutes)
    return out


def one_year(seed: int = 0, *, end: date | None = None, **options) -> pd.DataFrame:
    """A year of records ending ``end`` (default 2025-12-31), for the demo and tests."""
    end = end or date(2025, 12, 31)
    return production_records(
        np.random.default_rng(seed), end - timedelta(days=364), end, **options
    )
