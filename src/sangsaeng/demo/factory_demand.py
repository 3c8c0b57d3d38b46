"""A demo SME's order book: one year of daily order lines with planted demand patterns.

``order_lines(rng, start)`` returns one row per order line — ``product``, ``order_date``,
``quantity``, ``due_date``, ``delivery_date`` — for the products in ``PLANTED_DEMAND``;
``order_file(rng, start)`` is the same frame under the Korean headers an SME's file has
(``HEADERS``: 제품, 주문일, 수량, 납기일, 납품일). ``expected_daily(start, days)`` gives the
planted expected quantity per product and day, so tests can check that forecasts recover it.

What is planted (``PLANTED_DEMAND``):

- each product's level and linear trend (its expected daily quantity grows by
  ``trend_per_year`` × its starting level over a year; one product declines, one is flat);
- one weekly pattern for all products (a factory orders less at weekends);
- Korean public holidays (``holidays.KR``: 설날, 추석, 어린이날 …): the expected demand falls
  to ``holiday_factor`` of a normal day;
- a spare part with intermittent demand: on a share ``intermittent_share`` of days nobody
  orders it; when someone does, 1–6 units;
- late deliveries: each line is late with the product's ``late_share`` (1–5 days after the
  due date), otherwise delivered on or before it, so on-time delivery = 1 − late share.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

HEADERS = {
    "product": "제품",
    "order_date": "주문일",
    "quantity": "수량",
    "due_date": "납기일",
    "delivery_date": "납품일",
}

# Monday … Sunday: relative demand (mean of the seven is 1).
WEEKLY_PATTERN = (1.25, 1.2, 1.15, 1.1, 1.05, 0.75, 0.5)

PLANTED_DEMAND: dict = {
    "weekly_pattern": WEEKLY_PATTERN,
    "holiday_factor": 0.2,
    "intermittent_share": 0.85,
    "products": {
        "BRK-100 브래킷": {
            "kind": "trending",
            "level": 120.0,  # expected units per day at the start (an average weekday)
            "trend_per_year": 0.40,  # + 40 % of the starting level over the year
            "line_size": 12.0,  # mean units per order line
            "lead_days": 10,
            "late_share": 0.08,
        },
        "HSG-200 하우징": {
            "kind": "declining",
            "level": 80.0,
            "trend_per_year": -0.25,
            "line_size": 8.0,
            "lead_days": 14,
            "late_share": 0.15,
        },
        "GSK-300 가스켓": {
            "kind": "seasonal",
            "level": 200.0,
            "trend_per_year": 0.0,
            "line_size": 25.0,
            "lead_days": 7,
            "late_share": 0.05,
        },
        "SP-900 스페어파트": {
            "kind": "intermittent",
            "level": 0.0,  # no daily level: 1–6 units on the days with demand
            "trend_per_year": 0.0,
            "line_size": 3.5,
            "lead_days": 21,
            "late_share": 0.20,
        },
    },
}


def korean_holidays(start: date, days: int) -> set[date]:
    import holidays

    end = pd.Timestamp(start) + pd.Timedelta(days=days)
    calendar = holidays.KR(years=range(pd.Timestamp(start).year, end.year + 1))
    return set(calendar)


def expected_daily(start: date, days: int = 365) -> pd.DataFrame:
    """The planted expected quantity per product and day (columns: products; index: dates).
    The spare part's is its probability of demand × the mean order (1–6 units: 3.5)."""
    dates = pd.date_range(pd.Timestamp(start), periods=days, freq="D")
    weekday = np.asarray(WEEKLY_PATTERN)[dates.dayofweek]
    off = korean_holidays(start, days)
    holiday = np.where([d.date() in off for d in dates], PLANTED_DEMAND["holiday_factor"], 1.0)
    years = np.arange(days) / 365.0
    out = {}
    for product, spec in PLANTED_DEMAND["products"].items():
        if spec["kind"] == "intermittent":
            share = 1 - PLANTED_DEMAND["intermittent_share"]
            out[product] = np.full(days, share * spec["line_size"]) * holiday
        else:
            trend = 1 + spec["trend_per_year"] * years
            out[product] = spec["level"] * trend * weekday * holiday
    return pd.DataFrame(out, index=dates)


def order_lines(rng: np.random.Generator, start: date, days: int = 365) -> pd.DataFrame:
    """One year (``days``) of order lines from ``start``; see the module docstring."""
    expected = expected_daily(start, days)
    frames = []
    for product, spec in PLANTED_DEMAND["products"].items():
        mean = expected[product].to_numpy()
        if spec["kind"] == "intermittent":
            ordered = rng.random(days) < mean / spec["line_size"]
            lines_per_day = ordered.astype(int)
            quantity = rng.integers(1, 7, lines_per_day.sum())
        else:
            # Poisson many lines of Poisson size: the day's total has the planted mean
            size = spec["line_size"]
            lines_per_day = rng.poisson(mean / size)
            quantity = 1 + rng.poisson(size - 1, lines_per_day.sum())
        day_index = np.repeat(np.arange(days), lines_per_day)
        order_date = expected.index[day_index]
        lead = rng.integers(spec["lead_days"] - 3, spec["lead_days"] + 4, len(day_index))
        due = order_date + pd.to_timedelta(lead, unit="D")
        late = rng.random(len(day_index)) < spec["late_share"]
        shift = np.where(
            late, rng.integers(1, 6, len(day_index)), -rng.integers(0, 3, len(day_index))
        )
        delivered = due + pd.to_timedelta(shift, unit="D")
        frames.append(
            pd.DataFrame(
                {
                    "product": product,
                    "order_date": order_date.date,
                    "quantity": quantity.astype(int),
                    "due_date": due.date,
                    "delivery_date": delivered.date,
                }
            )
        )
    lines = pd.concat(frames, ignore_index=True)
    return lines.sort_values(["order_date", "product"], kind="stable").reset_index(drop=True)


def order_file(rng: np.random.Generator, start: date, days: int = 365) -> pd.DataFrame:
    """``order_lines`` under the Korean headers of an SME's order file."""
    return order_lines(rng, start, days).rename(columns=HEADERS)
