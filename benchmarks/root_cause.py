"""Defect root causes at scale: does the product find planted causes among many correlated
parameters, how long does it take, and how much memory does it need?

Data (``planted``): per seed, 200,000 lots × 50 parameters — 48 numbers in blocks of six that
share a latent factor (pairwise correlation about 0.64 inside a block, like the sensors of one
machine) and 2 categories (machine, 8 values; shift, 2) — 2 % of the numbers missing. Three
numbers chosen at random are causes: the defect probability (2 % base) is multiplied by 2–3.5
above a threshold at their 75th–95th percentile. Every other parameter of a cause's block is
correlated with defects only through it.

Per seed: ``top3_recall`` (the share of the planted causes among the product's three most
important factors), the planted causes marked ``driver``, other parameters marked ``driver``
(false discoveries of the model-adjusted test), each cause's threshold error in percentile
points, seconds. Baselines in the same run on the same data:

- ``univariate``: ranking the parameters by their own Mann–Whitney p-value (what a spreadsheet
  of per-parameter tests gives) — correlated block-mates compete with the causes;
- ``bare``: LightGBM with its default parameters (100 rounds) and SHAP TreeExplainer on the same
  20,000-row sample, nothing else — ``ratio_vs_bare`` is product seconds ÷ bare seconds.

Then one run at 1,000,000 lots in a fresh process: seconds and peak memory (the process's
peak resident set, ``resource.getrusage`` ru_maxrss — it counts LightGBM's C++ buffers,
which tracemalloc would not), with the resident set before the analysis (data generated).

    .venv/bin/python benchmarks/root_cause.py            # 20 seeds × 200,000 lots, 1M run
    .venv/bin/python benchmarks/root_cause.py --quick    # 2 seeds × 10,000 lots, 50,000 run

Prints one JSON object; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import time
import warnings

import numpy as np
import pandas as pd

PARAMETERS = 50
BLOCK = 6
CAUSES = 3


def planted(seed: int, rows: int) -> tuple[pd.DataFrame, dict[str, dict]]:
    """Lots with three planted causes; returns the frame (``defect`` 0/1) and the truth."""
    rng = np.random.default_rng(seed)
    numbers = PARAMETERS - 2
    latent = rng.normal(size=(rows, numbers // BLOCK)).astype(np.float32)
    values = np.repeat(latent, BLOCK, axis=1) * 0.8
    values += rng.normal(size=(rows, numbers)).astype(np.float32) * 0.6
    scale = rng.uniform(0.5, 20.0, numbers).astype(np.float32)
    values = values * scale + rng.uniform(10.0, 500.0, numbers).astype(np.float32)
    names = [f"p{j:02d}" for j in range(numbers)]
    probability = np.full(rows, 0.02)
    truth = {}
    for j in rng.choice(numbers, CAUSES, replace=False):
        quantile = rng.uniform(0.75, 0.95)
        threshold = float(np.quantile(values[:, j], quantile))
        factor = rng.uniform(2.0, 3.5)
        probability *= np.where(values[:, j] > threshold, factor, 1.0)
        truth[names[j]] = {"threshold": threshold, "quantile": quantile, "factor": factor}
    defect = rng.random(rows) < probability
    values = values.round(3)
    values[rng.random(values.shape) < 0.02] = np.nan
    frame = pd.DataFrame(values, columns=names)
    frame["machine"] = rng.choice([f"M{k}" for k in range(8)], rows)
    frame["shift"] = rng.choice(["주간", "야간"], rows)
    frame["defect"] = defect.astype(np.int8)
    return frame, truth


def product(frame: pd.DataFrame, seed: int) -> tuple[dict, float]:
    from sangsaeng.factory.engine.rootcause import analyse

    started = time.perf_counter()
    result = analyse(frame, target="defect", seed=seed)
    return result, time.perf_counter() - started


def univariate_top3(result: dict) -> list[str]:
    """The product's own univariate tests, ranked by p-value alone."""
    tested = [f for f in result["factors"] if f["univariate"]["p"] is not None]
    return [f["name"] for f in sorted(tested, key=lambda f: f["univariate"]["p"])[:3]]


def bare(frame: pd.DataFrame, seed: int, sample: int) -> tuple[list[str], float]:
    import lightgbm as lgb
    import shap

    started = time.perf_counter()
    features = frame.drop(columns=["defect"]).copy()
    for column in ("machine", "shift"):
        features[column] = features[column].astype("category")
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "num_threads": 2, "seed": seed},
        lgb.Dataset(features, frame["defect"]),
        num_boost_round=100,
    )
    rows = features.sample(min(sample, len(features)), random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = shap.TreeExplainer(booster).shap_values(rows)
    values = np.asarray(values[-1] if isinstance(values, list) else values)
    importance = np.abs(values).mean(axis=0)
    top = [features.columns[j] for j in np.argsort(-importance)[:3]]
    return top, time.perf_counter() - started


def one_seed(seed: int, rows: int) -> dict:
    frame, truth = planted(seed, rows)
    result, seconds = product(frame, seed)
    top3 = [f["name"] for f in result["factors"][:3]]
    rows_by_name = {f["name"]: f for f in result["factors"]}
    errors = []
    for name, planted_cause in truth.items():
        found = rows_by_name[name]["threshold"]
        if found is not None:
            share_below = float((frame[name].dropna() <= found).mean())
            errors.append(abs(share_below - planted_cause["quantile"]) * 100)
    bare_top3, bare_seconds = bare(frame, seed, 20_000)
    drivers = {f["name"] for f in result["factors"] if f["role"] == "driver"}
    return {
        "seed": seed,
        "seconds": round(seconds, 2),
        "top3_recall": sum(name in top3 for name in truth) / len(truth),
        "causes_marked_driver": len(drivers & set(truth)),
        "other_drivers": len(drivers - set(truth)),
        "threshold_error_pct_points": [round(e, 2) for e in errors],
        "cv_auc": result["model"]["cv"]["auc"],
        "rounds": result["model"]["cv"]["rounds_folds"],
        "univariate_top3_recall": sum(n in univariate_top3(result) for n in truth) / len(truth),
        "bare_seconds": round(bare_seconds, 2),
        "bare_top3_recall": sum(name in bare_top3 for name in truth) / len(truth),
    }


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _large(rows: int, queue) -> None:
    warnings.simplefilter("ignore")
    import sangsaeng.factory.engine.rootcause  # noqa: F401  (imports are not timed)

    frame, truth = planted(1000, rows)
    before = _peak_mb()
    result, seconds = product(frame, 1000)
    top3 = [f["name"] for f in result["factors"][:3]]
    queue.put(
        {
            "rows": rows,
            "seconds": round(seconds, 1),
            "peak_rss_mb": round(_peak_mb(), 1),
            "rss_before_mb": round(before, 1),
            "frame_mb": round(frame.memory_usage(deep=True).sum() / 2**20, 1),
            "top3_recall": sum(name in top3 for name in truth) / len(truth),
            "cv_rows": result["model"]["cv"]["rows"],
            "shap_sample": result["model"]["shap"]["sample"],
            "cv_auc": result["model"]["cv"]["auc"],
        }
    )


def large(rows: int) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_large, args=(rows, queue))
    process.start()
    out = queue.get()
    process.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds × 10,000 lots; 50,000")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--large", type=int, default=None, help="rows of the single big run")
    args = parser.parse_args()
    seeds = args.seeds or (2 if args.quick else 20)
    rows = args.rows or (10_000 if args.quick else 200_000)
    big = args.large if args.large is not None else (50_000 if args.quick else 1_000_000)
    warnings.simplefilter("ignore")
    runs = []
    for seed in range(seeds):
        runs.append(one_seed(seed, rows))
        print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    seconds = [r["seconds"] for r in runs]
    bare_seconds = [r["bare_seconds"] for r in runs]
    errors = [e for r in runs for e in r["threshold_error_pct_points"]]
    summary = {
        "rows": rows,
        "parameters": PARAMETERS,
        "causes_per_seed": CAUSES,
        "seeds": seeds,
        "top3_recall": round(float(np.mean([r["top3_recall"] for r in runs])), 3),
        "target_top3_recall": 0.9,
        "univariate_top3_recall": round(
            float(np.mean([r["univariate_top3_recall"] for r in runs])), 3
        ),
        "bare_top3_recall": round(float(np.mean([r["bare_top3_recall"] for r in runs])), 3),
        "causes_marked_driver": round(
            float(np.mean([r["causes_marked_driver"] for r in runs])) / CAUSES, 3
        ),
        "other_drivers_per_seed": round(float(np.mean([r["other_drivers"] for r in runs])), 2),
        "threshold_error_pct_points_median": round(float(np.median(errors)), 2),
        "threshold_error_pct_points_max": round(float(np.max(errors)), 2),
        "seconds_mean": round(float(np.mean(seconds)), 2),
        "seconds_max": round(float(np.max(seconds)), 2),
        "bare_seconds_mean": round(float(np.mean(bare_seconds)), 2),
        "ratio_vs_bare": round(float(np.sum(seconds) / np.sum(bare_seconds)), 2),
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "runs": runs,
    }
    if big:
        print(f"one run at {big:,} rows…", file=sys.stderr, flush=True)
        summary["large"] = large(big)
    sys.stdout.write(json.dumps(summary) + "\n")


if __name__ == "__main__":
    main()
