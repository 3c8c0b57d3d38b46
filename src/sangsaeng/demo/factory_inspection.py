"""A demo SME's quality inspections for a year, with a PLANTED mean shift and known capability.

One row per measurement, as a quality team's inspection log has them under Korean headers:
일자, 로트, 제품, 설비, 검사항목, 측정값, 하한규격, 상한규격, 판정 (합격/불합격: within the
specification or not) and 불량유형 (치수불량 for a measurement out of specification). Every
working day two lots of P-A100 come off M-201 (one a shift) and one lot of P-B110 off M-301;
``sample_size`` parts of each lot are measured on each characteristic of its product.

PLANTED (``PLANTED_INSPECTION``): every characteristic is normal around its ``mean`` with
standard deviation ``sigma`` (within and between lots alike), so in control, except the
``shifted`` one — 외경(mm) of P-A100 — whose mean moves up by ``shift_sigmas`` × ``sigma`` from
the first working day on or after ``shift_fraction`` of the period (``shift_date`` of
``planted_shift``). Its Cpk is ``cpk_before`` before the shift and ``cpk_after`` after it
(``capability``): an X̄-R chart by lot with limits from the lots before the shift sees the
shift at once and no more than chance alarms before it.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from sangsaeng.demo.factory_process import FAIL, PASS
from sangsaeng.demo.factory_production import working_days

DIMENSION_DEFECT = "치수불량"

PLANTED_INSPECTION: dict = {
    "sample_size": 5,
    "lots": (  # (product, machine, lots a day)
        ("P-A100", "M-201", 2),
        ("P-B110", "M-301", 1),
    ),
    "characteristics": {
        # product → characteristic → mean, sigma, lsl, usl
        "P-A100": {
            "외경(mm)": {"mean": 25.00, "sigma": 0.0375, "lsl": 24.85, "usl": 25.15},
            "길이(mm)": {"mean": 120.00, "sigma": 0.05, "lsl": 119.70, "usl": 120.30},
        },
        "P-B110": {
            "두께(mm)": {"mean": 3.20, "sigma": 0.02, "lsl": 3.10, "usl": 3.30},
        },
    },
    "shifted": {"product": "P-A100", "characteristic": "외경(mm)"},
    "shift_sigmas": 1.5,
    "shift_fraction": 0.6,
}


def capability(planted: dict = PLANTED_INSPECTION) -> dict:
    """The planted Cpk of the shifted characteristic before and after the shift (and Cp)."""
    spec = _shifted_spec(planted)
    sigma = spec["sigma"]
    after = spec["mean"] + planted["shift_sigmas"] * sigma

    def cpk(mean: float) -> float:
        return min(spec["usl"] - mean, mean - spec["lsl"]) / (3 * sigma)

    return {
        "cp": (spec["usl"] - spec["lsl"]) / (6 * sigma),
        "cpk_before": cpk(spec["mean"]),
        "cpk_after": cpk(after),
        "mean_after": after,
    }


def _shifted_spec(planted: dict) -> dict:
    shifted = planted["shifted"]
    return planted["characteristics"][shifted["product"]][shifted["characteristic"]]


def planted_shift(start: date, end: date, planted: dict = PLANTED_INSPECTION) -> date:
    """The first working day with the shifted mean."""
    days = working_days(start, end)
    moment = days[0] + (days[-1] - days[0]) * planted["shift_fraction"]
    return days[days >= moment][0].date()


def inspections(
    rng: np.random.Generator, start: date, end: date, *, planted: dict = PLANTED_INSPECTION
) -> pd.DataFrame:
    """One row per measurement from ``start`` to ``end`` (inclusive), lot by lot in time order;
    Korean headers. Deterministic for a given generator state."""
    days = working_days(start, end)
    shift_day = pd.Timestamp(planted_shift(start, end, planted))
    size = planted["sample_size"]
    frames = []
    for product, machine, per_day in planted["lots"]:
        characteristics = planted["characteristics"][product]
        lot_day = np.repeat(days, per_day)
        lots = np.array(
            [
                f"Q{d:%y%m%d}-{machine[2:]}-{k + 1}"
                for d, k in zip(lot_day, np.tile(np.arange(per_day), len(days)), strict=True)
            ],
            dtype=object,
        )
        for name, spec in characteristics.items():
            mean = np.full(len(lots), spec["mean"])
            if planted["shifted"] == {"product": product, "characteristic": name}:
                mean[lot_day >= shift_day] += planted["shift_sigmas"] * spec["sigma"]
            values = rng.normal(np.repeat(mean, size), spec["sigma"]).round(3)
            outside = (values < spec["lsl"]) | (values > spec["usl"])
            frames.append(
                pd.DataFrame(
                    {
                        "일자": np.repeat(lot_day, size),
                        "로트": np.repeat(lots, size),
                        "제품": product,
                        "설비": machine,
                        "검사항목": name,
                        "측정값": values,
                        "하한규격": spec["lsl"],
                        "상한규격": spec["usl"],
                        "판정": np.where(outside, FAIL, PASS),
                        "불량유형": np.where(outside, DIMENSION_DEFECT, ""),
                    }
                )
            )
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.sort_values(["일자", "로트", "검사항목"], kind="stable").reset_index(drop=True)
    frame["일자"] = frame["일자"].dt.date
    return frame


def one_year(seed: int = 0, *, end: date | None = None, **options) -> pd.DataFrame:
    """A year of inspections ending ``end`` (default 2025-12-31), for the demo and tests."""
    end = end or date(2025, 12, 31)
    return inspections(np.random.default_rng(seed), end - timedelta(days=364), end, **options)
