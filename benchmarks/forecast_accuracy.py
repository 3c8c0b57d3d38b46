"""Accuracy of the product's automatic forecaster against seasonal naive on held-out data:
the demo order book (planted demand) and real series shipped inside installed packages.

Series (the last ``h`` periods held out, the rest given to ``forecast``):

- demo: ``sangsaeng.demo.factory_demand`` order lines (seed 2026), summed per product and day
  (h = 14) and per product and week (h = 8);
- statsforecast: AirPassengers (monthly 1949–1960, h = 12);
- statsmodels.datasets: co2 (Mauna Loa, weekly, as monthly means, h = 12), elnino (sea
  surface temperature, monthly, h = 12), macrodata (quarterly: real GDP, consumption,
  investment, CPI, unemployment, M1; h = 8), sunspots (yearly, h = 10), nile (yearly, h = 10).

Per series: the chosen model, its held-out MASE and seasonal naive's (both scaled by the
in-sample MAE of the seasonal naive forecast at the season length the product used, 1 where
it used none) and their ratio; the holiday regressor is on for the demo only. Overall: mean
MASE of each, the geometric mean of the ratios, and the share of series where the chosen
model is better.

    .venv/bin/python benchmarks/forecast_accuracy.py
    .venv/bin/python benchmarks/forecast_accuracy.py --quick     # demo and AirPassengers only

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from datetime import date

import numpy as np
import pandas as pd


def _long(name: str, ds: pd.DatetimeIndex, y: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": name, "ds": ds, "y": np.asarray(y, float)})


def demo_sets() -> list[dict]:
    from sangsaeng.demo.factory_demand import order_lines
    from sangsaeng.factory.engine.forecast import prepare

    lines = order_lines(np.random.default_rng(2026), date(2025, 1, 1))
    out = []
    for freq, h, label in (("D", 14, "daily"), ("W-MON", 8, "weekly")):
        series, freq = prepare(
            lines,
            id_col="product",
            time_col="order_date",
            value_col="quantity",
            freq=freq,
            aggregate=True,
        )
        if label == "weekly":  # the first and last weeks are partial
            first, last = series["ds"].min(), series["ds"].max()
            series = series[(series["ds"] > first) & (series["ds"] < last)]
        series = series.assign(unique_id="demo " + label + ": " + series["unique_id"])
        out.append({"source": "sangsaeng demo", "freq": freq, "h": h, "series": series})
    return out


def package_sets(quick: bool) -> list[dict]:
    from statsforecast.utils import AirPassengers

    sets = [
        {
            "source": "statsforecast",
            "freq": "MS",
            "h": 12,
            "series": _long(
                "AirPassengers", pd.date_range("1949-01-01", periods=144, freq="MS"), AirPassengers
            ),
        }
    ]
    if quick:
        return sets
    import statsmodels.api as sm

    co2 = sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
    elnino = sm.datasets.elnino.load_pandas().data.set_index("YEAR")
    temps = elnino.to_numpy().ravel()
    macro = sm.datasets.macrodata.load_pandas().data
    quarters = pd.date_range("1959-01-01", periods=len(macro), freq="QS")
    sun = sm.datasets.sunspots.load_pandas().data
    nile = sm.datasets.nile.load_pandas().data
    sets += [
        {
            "source": "statsmodels",
            "freq": "MS",
            "h": 12,
            "series": pd.concat(
                [
                    _long("co2", co2.index, co2.to_numpy()),
                    _long(
                        "elnino",
                        pd.date_range("1950-01-01", periods=len(temps), freq="MS"),
                        temps,
                    ),
                ]
            ),
        },
        {
            "source": "statsmodels",
            "freq": "QS-JAN",
            "h": 8,
            "series": pd.concat(
                [
                    _long(f"macrodata {c}", quarters, macro[c].to_numpy())
                    for c in ("realgdp", "realcons", "realinv", "cpi", "unemp", "m1")
                ]
            ),
        },
        {
            "source": "statsmodels",
            "freq": "YS",
            "h": 10,
            "series": pd.concat(
                [
                    _long(
                        "sunspots",
                        pd.date_range("1700-01-01", periods=len(sun), freq="YS"),
                        sun["SUNACTIVITY"],
                    ),
                    _long(
                        "nile",
                        pd.date_range("1871-01-01", periods=len(nile), freq="YS"),
                        nile["volume"],
                    ),
                ]
            ),
        },
    ]
    return sets


def evaluate(entry: dict) -> tuple[list[dict], float]:
    from sangsaeng.factory.engine.forecast import forecast

    h, freq = entry["h"], entry["freq"]
    data = entry["series"].sort_values(["unique_id", "ds"])
    sizes = data.groupby("unique_id")["ds"].transform("size")
    position = data.groupby("unique_id").cumcount()
    train = data[position < sizes - h]
    test = data[position >= sizes - h]
    started = time.perf_counter()
    # Korean holidays mean something for the demo SME only
    result = forecast(train, horizon=h, freq=freq, holidays=entry["source"] == "sangsaeng demo")
    seconds = time.perf_counter() - started
    rows = []
    for series in result["series"]:
        history = train.loc[train["unique_id"] == series["id"], "y"].to_numpy()
        actual = test.loc[test["unique_id"] == series["id"], "y"].to_numpy()
        m = series["season_length"]
        m = m if len(history) > m else 1
        scale = np.mean(np.abs(history[m:] - history[:-m])) or 1.0
        ours = np.array([r["mean"] for r in series["forecast"]])
        naive = np.resize(history[-m:], h)
        mase = float(np.mean(np.abs(actual - ours)) / scale)
        mase_naive = float(np.mean(np.abs(actual - naive)) / scale)
        rows.append(
            {
                "series": series["id"],
                "source": entry["source"],
                "freq": freq,
                "n": len(history),
                "horizon": h,
                "season_length": m,
                "model": series["model"],
                "mase": round(mase, 4),
                "mase_seasonal_naive": round(mase_naive, 4),
                "ratio": round(mase / mase_naive, 4) if mase_naive else None,
            }
        )
    return rows, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    rows: list[dict] = []
    seconds = 0.0
    for entry in demo_sets() + package_sets(args.quick):
        print(f"{entry['source']} {entry['freq']} …", file=sys.stderr)
        found, took = evaluate(entry)
        rows += found
        seconds += took
    ratios = np.array([r["ratio"] for r in rows if r["ratio"]])
    print(
        json.dumps(
            {
                "benchmark": "forecast_accuracy",
                "quick": args.quick,
                "n_series": len(rows),
                "series": rows,
                "overall": {
                    "mase_chosen_mean": round(float(np.mean([r["mase"] for r in rows])), 4),
                    "mase_seasonal_naive_mean": round(
                        float(np.mean([r["mase_seasonal_naive"] for r in rows])), 4
                    ),
                    "ratio_geometric_mean": round(float(np.exp(np.mean(np.log(ratios)))), 4),
                    "share_better_than_seasonal_naive": round(float(np.mean(ratios < 1)), 4),
                    "forecast_seconds": round(seconds, 1),
                },
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
