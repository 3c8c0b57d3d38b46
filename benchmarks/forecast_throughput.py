"""Throughput: 10,000 weekly demand series (two years each, horizon 13) through the product's
forecast path against statsforecast called directly with the same models, cross-validation
and selection written by hand — in the same run, each in a fresh process.

- ``product``: ``sangsaeng.factory.engine.forecast.forecast`` (plans, grouping, Korean holiday
  regressor for AutoARIMA, rolling-origin CV, scores, selection, refit of the chosen model,
  intervals, the JSON-ready result);
- ``direct``: ``StatsForecast(...).cross_validation`` (refit=False, as the product runs these
  models) with the same five models
  (SeasonalNaive, AutoETS, AutoARIMA, AutoTheta, AutoCES, as the engine configures them) and
  the same holiday column, MASE per window with numpy, the combination's mean and each
  series' best-two mean, the lowest mean MASE per series, then ``StatsForecast(...).forecast``
  of each chosen model on its series — the least code that gives the same answer, without
  the product's checks and output.

Figures: seconds of each path (one timed call after an untimed warm-up on a few series),
``overhead_ratio`` = product ÷ direct (target ≤ 1.2; also in CPU seconds of the process and
its workers, which other work on a shared machine disturbs less), peak RSS of the process and of its
worker processes, and a check that both paths chose the same models and forecasts.

    .venv/bin/python benchmarks/forecast_throughput.py            # 10,000 series
    .venv/bin/python benchmarks/forecast_throughput.py --quick    # 300 series, under a minute

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

WEEKS = 104
HORIZON = 13
WINDOWS = 3
FREQ = "W-MON"
START = "2023-01-02"


def make_series(n: int, seed: int = 0) -> pd.DataFrame:
    """Weekly demand: a level, a trend of ±30 % a year, a yearly cycle, Poisson noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(WEEKS)
    level = rng.lognormal(4, 0.8, n)[:, None]
    trend = 1 + rng.uniform(-0.3, 0.3, n)[:, None] * t / 52
    cycle = 1 + rng.uniform(0, 0.3, n)[:, None] * np.sin(
        2 * np.pi * (t / 52 + rng.random(n)[:, None])
    )
    y = rng.poisson(level * trend * cycle).astype(float)
    ds = pd.date_range(START, periods=WEEKS, freq=FREQ)
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i:05d}" for i in range(n)], WEEKS),
            "ds": np.tile(ds, n),
            "y": y.ravel(),
        }
    )


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


# ------------------------------------------------------------------------------ product


def _product(df: pd.DataFrame, n_jobs: int) -> dict:
    from sangsaeng.factory.engine.forecast import forecast

    result = forecast(df, horizon=HORIZON, freq=FREQ, n_windows=WINDOWS, n_jobs=n_jobs)
    return {
        e["id"]: (e["model"], np.array([r["mean"] for r in e["forecast"]]))
        for e in result["series"]
    }


# ------------------------------------------------------------------------------- direct


def _models(season: int, conformal: bool = False):
    from statsforecast.models import AutoARIMA, AutoCES, AutoETS, AutoTheta, SeasonalNaive

    nonseasonal = season if season <= 24 else 1
    return {
        "SeasonalNaive": SeasonalNaive(season_length=season),
        "AutoETS": AutoETS(season_length=nonseasonal),
        "AutoARIMA": AutoARIMA(
            season_length=nonseasonal,
            max_p=2,
            max_q=2,
            max_P=1,
            max_Q=1,
            approximation=True,
        ),
        "AutoTheta": AutoTheta(season_length=season),
        "AutoCES": AutoCES(season_length=season, alias="AutoCES"),
    }


def _holiday_weeks(ds: pd.Series) -> np.ndarray:
    import holidays

    days = pd.DatetimeIndex(sorted(holidays.KR(years=range(2022, 2027))))
    starts = pd.DatetimeIndex(ds).to_numpy()
    lo = np.searchsorted(days.to_numpy(), starts)
    hi = np.searchsorted(days.to_numpy(), starts + np.timedelta64(7, "D"))
    return (hi - lo).astype(float)


def _direct(df: pd.DataFrame, n_jobs: int) -> dict:
    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    # two years of weeks: too short for the 52-week season (2 × 52 + 13 > 104)
    season = 1
    models = _models(season)
    data = df.assign(holiday_days=_holiday_weeks(df["ds"]))
    # all five run forward: fitted at the first origin, updated at the later ones
    sf = StatsForecast(
        models=list(models.values()),
        freq=FREQ,
        n_jobs=n_jobs,
        fallback_model=SeasonalNaive(season_length=season),
    )
    cv = sf.cross_validation(
        df=data, h=HORIZON, n_windows=WINDOWS, step_size=HORIZON, input_size=260, refit=False
    )
    names = list(models)
    cv[names] = cv[names].clip(lower=0)
    cv["Combination"] = cv[["AutoETS", "AutoCES", "AutoTheta"]].mean(axis=1)
    names.append("Combination")
    # MASE scale per series and window: in-sample naive MAE up to the cutoff
    y = df["y"].to_numpy().reshape(-1, WEEKS)
    diffs = np.abs(np.diff(y, axis=1))
    ends = [WEEKS - (WINDOWS - k) * HORIZON for k in range(WINDOWS)]
    scale = np.stack([diffs[:, : e - 1].mean(axis=1) for e in ends], axis=1)  # (n, windows)
    scale = np.where(scale > 0, scale, 1.0)
    cv = cv.sort_values(["unique_id", "cutoff", "ds"])
    actual = cv["y"].to_numpy().reshape(len(y), WINDOWS, HORIZON)
    scores = []
    for name in names:
        predicted = cv[name].to_numpy().reshape(len(y), WINDOWS, HORIZON)
        mae = np.abs(actual - predicted).mean(axis=2)
        scores.append((mae / scale).mean(axis=1))
    scores = np.stack(scores, axis=1)  # (series, names)
    # BestTwoMean: the mean of each series' two best single models (not the combination)
    singles = len(models)
    best_two = np.argsort(scores[:, :singles], axis=1, kind="stable")[:, :2]
    rows = np.arange(len(y))
    pair_forecast = np.stack(
        [cv[names[k]].to_numpy().reshape(len(y), WINDOWS, HORIZON) for k in range(singles)],
        axis=1,
    )
    pair_prediction = (
        pair_forecast[rows, best_two[:, 0]] + pair_forecast[rows, best_two[:, 1]]
    ) / 2
    pair_score = ((np.abs(actual - pair_prediction).mean(axis=2)) / scale).mean(axis=1)
    scores = np.column_stack([scores, pair_score])
    names.append("BestTwoMean")
    pick = np.argmin(scores, axis=1)
    chosen = np.asarray(names)[pick]
    needs = [
        tuple(names[k] for k in sorted(best_two[i], key=lambda k: (scores[i, k], k)))
        if chosen[i] == "BestTwoMean"
        else ("AutoETS", "AutoCES", "AutoTheta")
        if chosen[i] == "Combination"
        else (chosen[i],)
        for i in rows
    ]
    ids = df["unique_id"].to_numpy().reshape(-1, WEEKS)[:, 0]
    out = {}
    for name, members in dict.fromkeys(zip(chosen, needs, strict=True)):
        members = list(members)
        subset = ids[
            [c == name and m == tuple(members) for c, m in zip(chosen, needs, strict=True)]
        ]
        part = data[data["unique_id"].isin(subset)]
        fitted = _models(season)
        uses_exog = "AutoARIMA" in members
        future = None
        if uses_exog:
            future_ds = pd.date_range(START, periods=WEEKS + HORIZON, freq=FREQ)[-HORIZON:]
            future = pd.DataFrame(
                {
                    "unique_id": np.repeat(subset, HORIZON),
                    "ds": np.tile(future_ds, len(subset)),
                }
            )
            future["holiday_days"] = _holiday_weeks(future["ds"])
        else:
            part = part.drop(columns="holiday_days")
        sf = StatsForecast(
            models=[fitted[m] for m in members],
            freq=FREQ,
            n_jobs=n_jobs,
            fallback_model=SeasonalNaive(season_length=season),
        )
        fc = sf.forecast(df=part, h=HORIZON, X_df=future, level=[80, 95])
        fc = fc.sort_values(["unique_id", "ds"])
        mean = np.clip(fc[members].to_numpy().mean(axis=1), 0, None).reshape(-1, HORIZON)
        for uid, row in zip(fc["unique_id"].to_numpy()[::HORIZON], mean, strict=True):
            out[str(uid)] = (name, row)
    return out


RUNNERS = {"product": _product, "direct": _direct}


def _measure(kind: str, path: str, n_jobs: int, queue) -> None:
    warnings.simplefilter("ignore")
    import statsforecast  # noqa: F401  (imports are not part of the timed path)

    import sangsaeng.factory.engine.forecast  # noqa: F401

    df = pd.read_parquet(path)
    warm = df[df["unique_id"].isin(df["unique_id"].unique()[:20])]
    RUNNERS[kind](warm, 1)
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    out = RUNNERS[kind](df, n_jobs)
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    queue.put(
        {
            "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2),
            "peak_rss_mb": round(_peak_mb(resource.RUSAGE_SELF), 1),
            "peak_rss_workers_mb": round(_peak_mb(resource.RUSAGE_CHILDREN), 1),
            "out": {k: (m, v.tolist()) for k, (m, v) in out.items()},
        }
    )


def measure(kind: str, path: str, n_jobs: int) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(kind, path, n_jobs, queue))
    process.start()
    out = queue.get()
    process.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 series")
    parser.add_argument("--series", type=int, default=None)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    n = args.series or (300 if args.quick else 10_000)
    df = make_series(n)
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "series.parquet")
        df.to_parquet(path)
        runs = {}
        for kind in ("direct", "product"):
            print(f"{kind}: {n} series …", file=sys.stderr)
            runs[kind] = measure(kind, path, args.n_jobs)
            print(f"{kind}: {runs[kind]['seconds']} s", file=sys.stderr)
    product, direct = runs["product"].pop("out"), runs["direct"].pop("out")
    same_model = np.mean([product[k][0] == direct[k][0] for k in direct])
    differences = [
        float(np.max(np.abs(np.array(product[k][1]) - np.array(direct[k][1])))) for k in direct
    ]
    chosen: dict[str, int] = {}
    for model, _ in product.values():
        chosen[model] = chosen.get(model, 0) + 1
    print(
        json.dumps(
            {
                "benchmark": "forecast_throughput",
                "n_series": n,
                "weeks": WEEKS,
                "horizon": HORIZON,
                "cv_windows": WINDOWS,
                "n_jobs": args.n_jobs,
                "product_s": runs["product"]["seconds"],
                "direct_s": runs["direct"]["seconds"],
                "overhead_ratio": round(runs["product"]["seconds"] / runs["direct"]["seconds"], 3),
                "product_cpu_s": runs["product"]["cpu_seconds"],
                "direct_cpu_s": runs["direct"]["cpu_seconds"],
                "overhead_ratio_cpu": round(
                    runs["product"]["cpu_seconds"] / runs["direct"]["cpu_seconds"], 3
                ),
                "series_per_s_product": round(n / runs["product"]["seconds"], 1),
                "product_peak_rss_mb": runs["product"]["peak_rss_mb"],
                "product_peak_rss_workers_mb": runs["product"]["peak_rss_workers_mb"],
                "direct_peak_rss_mb": runs["direct"]["peak_rss_mb"],
                "direct_peak_rss_workers_mb": runs["direct"]["peak_rss_workers_mb"],
                "same_model_share": round(float(same_model), 4),
                "max_abs_forecast_difference": round(max(differences), 6),
                "models_chosen": chosen,
            }
        )
    )


if __name__ == "__main__":
    main()
