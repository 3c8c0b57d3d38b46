"""Process data per lot for the defect root-cause demo, with PLANTED ground truth.

One row per lot as an injection-moulding SME's MES would export it: lot number, time, shift
(주간 08–20 h, 야간 20–08 h), line, machine, product, operator, a dozen process parameters,
the inspection verdict (판정: 합격/불합격) and, for rejected lots, the defect type (불량유형).

PLANTED (``PLANTED_ROOT_CAUSES``):

- **Two causes with thresholds.** A lot's defect probability is ``base_rate`` times
  ``temperature_factor`` when 온도(°C) is above ``temperature_threshold`` and times
  ``pressure_factor`` when 압력(bar) is above ``pressure_threshold`` (both multiply). Nothing
  else changes it.
- **One parameter correlated only through the shift.** The night shift runs hotter (its mean
  온도 is ``night_extra_temperature`` higher, so more of its lots cross the threshold) and the
  plant is more humid at night (습도(%) ``night_extra_humidity`` higher). Humidity has no effect
  of its own: it goes with defects only because both go with the night shift — and so does the
  shift itself.

Traps a careful analysis must handle, as real exports have them: a leak (불량유형 is filled in
exactly for rejected lots: it is recorded from the outcome), a constant column (전원전압(V)),
a near-duplicate (온도(°F), the same sensor converted), identifiers (로트, unique per lot), a
high-cardinality categorical (작업자, 150 operators), date/time columns, and missing sensor
readings (진동, 원료수분, 습도).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PlantedRootCauses:
    base_rate: float = 0.02
    temperature: str = "온도(°C)"
    temperature_threshold: float = 212.0
    temperature_factor: float = 4.0
    pressure: str = "압력(bar)"
    pressure_threshold: float = 8.5
    pressure_factor: float = 3.0
    correlated_only: str = "습도(%)"
    through: str = "근무조"
    night_extra_temperature: float = 8.0
    night_extra_humidity: float = 10.0

    @property
    def causes(self) -> dict[str, float]:
        """The planted causes and their thresholds (defects are likelier above them)."""
        return {
            self.temperature: self.temperature_threshold,
            self.pressure: self.pressure_threshold,
        }


PLANTED_ROOT_CAUSES = PlantedRootCauses()

# Korean header → English name (the import maps either).
HEADERS: dict[str, str] = {
    "로트": "lot",
    "일시": "datetime",
    "일자": "date",
    "근무조": "shift",
    "라인": "line",
    "설비": "machine",
    "제품": "product",
    "작업자": "operator",
    "온도(°C)": "temperature_c",
    "온도(°F)": "temperature_f",
    "압력(bar)": "pressure_bar",
    "속도(rpm)": "speed_rpm",
    "습도(%)": "humidity_pct",
    "냉각수온도(°C)": "coolant_temperature_c",
    "사이클타임(초)": "cycle_time_s",
    "금형온도(°C)": "mould_temperature_c",
    "사출시간(초)": "injection_time_s",
    "보압(bar)": "holding_pressure_bar",
    "진동(mm/s)": "vibration_mm_s",
    "원료수분(%)": "material_moisture_pct",
    "전원전압(V)": "supply_voltage_v",
    "판정": "result",
    "불량유형": "defect_type",
}
PASS, FAIL = "합격", "불합격"
DEFECT_TYPES = ("치수불량", "외관불량", "기포", "버(Burr)", "미성형")
LINES = {"1라인": ("M-101", "M-102"), "2라인": ("M-201", "M-202"), "3라인": ("M-301", "M-302")}
PRODUCTS = ("P-A100", "P-A200", "P-B110", "P-C300")


def process_lots(
    rng: np.random.Generator,
    start: date,
    end: date,
    *,
    lots_per_machine_day: int = 8,
    planted: PlantedRootCauses = PLANTED_ROOT_CAUSES,
) -> pd.DataFrame:
    """One row per lot from ``start`` to ``end`` (inclusive), every machine running
    ``lots_per_machine_day`` lots a day around the clock; Korean headers (``HEADERS`` maps them
    to English). Deterministic for a given generator state."""
    days = pd.date_range(start, end, freq="D")
    machines = [(line, m) for line, pair in LINES.items() for m in pair]
    slots = len(days) * len(machines) * lots_per_machine_day
    day_index = np.repeat(np.arange(len(days)), len(machines) * lots_per_machine_day)
    machine_index = np.tile(np.repeat(np.arange(len(machines)), lots_per_machine_day), len(days))
    # Lots start at random minutes of the day; a lot after midnight belongs to the night shift.
    minute = rng.integers(0, 24 * 60, slots)
    moment = days.values[day_index] + minute.astype("timedelta64[m]")
    hour = minute // 60
    night = (hour >= 20) | (hour < 8)

    params = _parameters(rng, slots, night, planted)
    probability = np.full(slots, planted.base_rate)
    probability *= np.where(
        params[planted.temperature] > planted.temperature_threshold, planted.temperature_factor, 1.0
    )
    probability *= np.where(
        params[planted.pressure] > planted.pressure_threshold, planted.pressure_factor, 1.0
    )
    defective = rng.random(slots) < probability

    frame = pd.DataFrame(
        {
            "로트": [
                f"L{pd.Timestamp(t):%y%m%d}-{machines[m][1][2:]}-{i:05d}"
                for i, (t, m) in enumerate(zip(moment, machine_index, strict=True))
            ],
            "일시": pd.DatetimeIndex(moment).tz_localize("Asia/Seoul"),
            "일자": pd.DatetimeIndex(moment).date,
            "근무조": np.where(night, "야간", "주간"),
            "라인": [machines[m][0] for m in machine_index],
            "설비": [machines[m][1] for m in machine_index],
            "제품": rng.choice(PRODUCTS, slots, p=[0.4, 0.3, 0.2, 0.1]),
            "작업자": [f"OP-{k:03d}" for k in rng.integers(1, 151, slots)],
            **params,
            "판정": np.where(defective, FAIL, PASS),
            "불량유형": np.where(defective, rng.choice(DEFECT_TYPES, slots), ""),
        }
    )
    order = np.argsort(moment, kind="stable")
    return frame.iloc[order].reset_index(drop=True)


def _parameters(
    rng: np.random.Generator, n: int, night: np.ndarray, planted: PlantedRootCauses
) -> dict[str, np.ndarray]:
    temperature = rng.normal(203.0, 4.0, n) + night * planted.night_extra_temperature
    humidity = rng.normal(45.0, 5.0, n) + night * planted.night_extra_humidity
    params = {
        "온도(°C)": temperature.round(1),
        # The same sensor converted, with its own rounding: a near-duplicate column.
        "온도(°F)": (temperature * 9 / 5 + 32 + rng.normal(0, 0.05, n)).round(1),
        "압력(bar)": rng.normal(8.0, 0.35, n).round(2),
        "속도(rpm)": rng.normal(1500, 60, n).round(0),
        "습도(%)": humidity.round(1),
        "냉각수온도(°C)": rng.normal(22.0, 1.5, n).round(1),
        "사이클타임(초)": rng.normal(38.0, 2.0, n).round(1),
        "금형온도(°C)": rng.normal(180.0, 6.0, n).round(1),
        "사출시간(초)": rng.normal(2.4, 0.2, n).round(2),
        "보압(bar)": rng.normal(55.0, 4.0, n).round(1),
        "진동(mm/s)": rng.lognormal(np.log(2.5), 0.2, n).round(2),
        "원료수분(%)": rng.normal(0.12, 0.03, n).clip(0.01).round(3),
        "전원전압(V)": np.full(n, 380.0),
    }
    for name, share in (("진동(mm/s)", 0.05), ("원료수분(%)", 0.03), ("습도(%)", 0.02)):
        params[name] = np.where(rng.random(n) < share, np.nan, params[name])
    return params


def english(frame: pd.DataFrame) -> pd.DataFrame:
    """The same lots with English headers."""
    return frame.rename(columns=HEADERS)


def one_year(seed: int = 0, *, end: date | None = None, **options) -> pd.DataFrame:
    """A year of lots ending ``end`` (default 2025-12-31), for the demo and tests."""
    end = end or date(2025, 12, 31)
    return process_lots(np.random.default_rng(seed), end - timedelta(days=364), end, **options)
