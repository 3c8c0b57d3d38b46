"""The product's automatic forecaster on the M4 competition's Hourly (414 series, h = 48) and
Weekly (359 series, h = 13) sets, scored exactly as the competition did.

The data are read from ``../shared/datasets/m4/`` (override with ``--data`` or the environment
variable ``SANGSAENG_M4_DIR``); they are never copied into the repository. M4 gives no dates,
so the series get synthetic ones (weekly on Mondays, hourly from midnight) and the holiday
regressor is off.

Scoring (the README there, after the organisers' code): per series
sMAPE = 200/h · Σ|y − f| / (|y| + |f|) and MASE = mean|y − f| ÷ the in-sample mean absolute
m-period difference (m = 24 for Hourly, 1 for Weekly); both averaged over the set;
OWA = ½ (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) with Naive2's published set averages.
Naive2 is also computed here, with the organisers' seasonality test and classical
multiplicative decomposition, as a check of the scorer (it must reproduce the published
figures) — and the OWA against it is reported too.

Timed: ``sangsaeng.factory.engine.forecast.forecast`` itself — per-series rolling-origin
cross-validation (3 windows of h), selection by CV MASE, refit, intervals — on ``--n-jobs``
worker processes (2 by default). Wall time in seconds, and CPU seconds of the process and its
workers (on a shared machine the wall time says less).

    .venv/bin/python benchmarks/forecast_m4.py                   # both sets, all series
    .venv/bin/python benchmarks/forecast_m4.py --sets Weekly
    .venv/bin/python benchmarks/forecast_m4.py --quick           # 30 series of each, about a minute

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT.parent / "shared" / "datasets" / "m4"
SETS = {
    # name: horizon, MASE period m (and Naive2's), pandas frequency, synthetic start
    "Hourly": (48, 24, "h", "2017-01-02 00:00"),
    "Weekly": (13, 1, "W-MON", "1990-01-01"),
}
PUBLISHED = {  # set: (sMAPE, MASE, OWA) from the organisers' score sheet
    "Hourly": {"Naive2": (18.383, 2.395, 1.0), "Smyl": (9.328, 0.893, 0.440)},
    "Weekly": {"Naive2": (9.161, 2.777, 1.0), "Smyl": (7.817, 2.356, 0.851)},
}
QUICK_SERIES = 30


def load(directory: Path, name: str, limit: int | None) -> tuple[dict, dict]:
    train = pd.read_csv(directory / f"{name}-train.csv", index_col=0)
    test = pd.read_csv(directory / f"{name}-test.csv", index_col=0)
    ids = list(train.index)[:limit] if limit else list(train.index)
    return (
        {i: train.loc[i].dropna().to_numpy(float) for i in ids},
        {i: test.loc[i].dropna().to_numpy(float) for i in ids},
    )


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(200 * np.abs(actual - predicted) / (np.abs(actual) + np.abs(predicted))))


def mase(history: np.ndarray, actual: np.ndarray, predicted: np.ndarray, m: int) -> float:
    scale = np.mean(np.abs(history[m:] - history[:-m]))
    return float(np.mean(np.abs(actual - predicted)) / scale)


def _acf(data: np.ndarray, k: int) -> float:
    mean = data.mean()
    return float(np.sum((data[k:] - mean) * (data[:-k] - mean)) / np.sum((data - mean) ** 2))


def _seasonal(history: np.ndarray, m: int) -> bool:
    """The organisers' 90 % test: |acf(m)| > 1.645 √((1 + 2 Σ_{k<m} acf(k)²) / n) — their
    code starts the sum with acf(1) unsquared, kept here."""
    s = _acf(history, 1) + sum(_acf(history, k) ** 2 for k in range(2, m))
    return abs(_acf(history, m)) > 1.645 * np.sqrt((1 + 2 * s) / len(history))


def _moving_average(history: np.ndarray, m: int) -> np.ndarray:
    """Centred moving average as the organisers' code computes it: a second 2-term pass
    (then shifted back one) when the *series length* is even — their test, kept."""
    series = pd.Series(history)
    ma = series.rolling(m, center=True).mean()
    if len(history) % 2 == 0:
        ma = np.roll(ma.rolling(2, center=True).mean().to_numpy(), -1)
        return ma
    return ma.to_numpy()


def naive2(history: np.ndarray, h: int, m: int) -> np.ndarray:
    if m > 1 and _seasonal(history, m):
        ratio = history * 100 / _moving_average(history, m)
        padded = np.concatenate([ratio, np.full(m - len(ratio) % m, np.nan)])
        index = np.nanmean(padded.reshape(-1, m), axis=0)
        index = index / (np.sum(index) / (m * 100))
    else:
        index = np.full(m, 100.0)
    n = len(history)
    adjusted = history * 100 / index[np.arange(n) % m]
    return adjusted[-1] * index[np.arange(n, n + h) % m] / 100


def score(train: dict, test: dict, forecasts: dict, m: int) -> tuple[float, float]:
    s = [smape(test[i], forecasts[i]) for i in train]
    q = [mase(train[i], test[i], forecasts[i], m) for i in train]
    return float(np.mean(s)), float(np.mean(q))


def _cpu_seconds() -> float:
    """CPU time of this process and its finished worker processes: what the run costs even
    when other work shares the machine (wall time then says less)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def owa(s: float, q: float, naive: tuple[float, float]) -> float:
    return 0.5 * (s / naive[0] + q / naive[1])


def run_set(directory: Path, name: str, limit: int | None, n_jobs: int, windows: int) -> dict:
    from sangsaeng.factory.engine.forecast import forecast

    h, m, freq, start = SETS[name]
    train, test = load(directory, name, limit)
    long = pd.concat(
        [
            pd.DataFrame(
                {"unique_id": i, "ds": pd.date_range(start, periods=len(y), freq=freq), "y": y}
            )
            for i, y in train.items()
        ],
        ignore_index=True,
    )
    naive = {i: naive2(y, h, m) for i, y in train.items()}
    naive_s, naive_q = score(train, test, naive, m)

    def progress(done: int, total: int) -> None:
        print(f"  {name}: {done}/{total}", file=sys.stderr)

    print(f"{name}: {len(train)} series, h = {h}", file=sys.stderr)
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    result = forecast(
        long,
        horizon=h,
        freq=freq,
        holidays=False,
        n_windows=windows,
        n_jobs=n_jobs,
        progress=progress,
    )
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    ours = {e["id"]: np.array([r["mean"] for r in e["forecast"]]) for e in result["series"]}
    our_s, our_q = score(train, test, ours, m)
    published = PUBLISHED[name]
    naive_published = published["Naive2"][:2]
    figures = {
        "n_series": len(train),
        "horizon": h,
        "mase_period": m,
        "product": {
            "smape": round(our_s, 3),
            "mase": round(our_q, 3),
            "owa": round(owa(our_s, our_q, naive_published), 3),
            "owa_vs_naive2_measured": round(owa(our_s, our_q, (naive_s, naive_q)), 3),
            "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu, 1),
            "models_chosen": result["summary"]["models_chosen"],
            "cv_mase": result["summary"]["cv_mase"],
        },
        "naive2_measured": {"smape": round(naive_s, 3), "mase": round(naive_q, 3)},
        "naive2_published": dict(zip(("smape", "mase", "owa"), published["Naive2"], strict=True)),
        "smyl_published": dict(zip(("smape", "mase", "owa"), published["Smyl"], strict=True)),
    }
    if limit is None:
        figures["beats_smyl"] = figures["product"]["owa"] < published["Smyl"][2]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"first {QUICK_SERIES} series")
    parser.add_argument("--sets", default="Weekly,Hourly")
    parser.add_argument("--data", default=os.environ.get("SANGSAENG_M4_DIR", str(DEFAULT_DIR)))
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--windows", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    directory = Path(args.data)
    limit = QUICK_SERIES if args.quick else None
    out = {
        "benchmark": "forecast_m4",
        "quick": args.quick,
        "n_jobs": args.n_jobs,
        "cv_windows": args.windows,
        "forecaster": "sangsaeng.factory.engine.forecast.forecast (per-series CV selection)",
        "sets": {},
    }
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        out["sets"][name] = run_set(directory, name, limit, args.n_jobs, args.windows)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
