"""Defect root causes: which process parameters and conditions drive defects, as a pure function
of a table with one row per lot (or per time slot) and a defect label.

1. **Columns** (``rootcause_columns``): the label is read (0/1, a verdict in words, a count, or a
   count with a quantity → a rate); identifiers, constant columns, leaks and near-duplicates are
   left out with their reasons; date/times become hour of day and day of week.
2. **Model**: LightGBM gradient-boosted trees on all factors jointly — missing values handled
   natively, categories as LightGBM categories, every split free to choose any factor (so a true
   cause wins over its correlates). Imbalanced labels: log-loss boosting without re-weighting
   (re-weighting distorts the probabilities the explanations are in and, measured on the demo,
   adds spurious importance), stratified folds, PR-AUC beside AUC, leaves of at least
   ``min_data_in_leaf`` rows. Stratified k-fold cross-validation with early stopping on held-out
   log-loss; the k fold models, averaged on the log-odds scale, are the model (a cross-validated
   ensemble: every row has a model that never saw it).
3. **Attribution**: SHAP values (TreeExplainer, tree-path-dependent, log-odds) of the ensemble
   on a uniform sample of at most ``shap_sample`` rows; importance = mean |SHAP| on that sample.
4. **Readable effects** (``rootcause_effects``): the threshold of a number is the best single
   split of its SHAP values (a stump on the dependence plot); the rate ratio beyond it against
   the rest comes from all rows, with its 95 % Katz interval. A category: the one with the
   highest mean SHAP value against all others.
5. **Tests**: each factor on its own (Mann–Whitney U / χ² / Fisher; Spearman for rates) and
   adjusted for the others (a score test of the factor's out-of-fold SHAP part against the
   out-of-fold model without it), each with Benjamini–Hochberg q-values. Roles: ``driver``
   (adds information given the others, q < 0.05), ``correlated_only`` (linked to defects on its
   own but adds nothing given the others: its link runs through another factor, which is
   named), ``minor`` (neither).
6. **Per-lot explanations** for the defective lots the model finds likeliest.

Deterministic for a given seed: LightGBM ``deterministic`` with a fixed thread count, seeded
folds and samples.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass

# OpenMP threads that spin while waiting make LightGBM ten times slower on a machine whose
# cores are busy with other work (measured: 2.8 s → 21–45 s on 2 shared cores). Passive waiting
# costs nothing when the cores are free. Read when the OpenMP runtime loads, so set before
# LightGBM is imported; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from sangsaeng.factory.engine import rootcause_effects as fx
from sangsaeng.factory.engine.problems import N_
from sangsaeng.factory.engine.rootcause_columns import (
    TOP_CATEGORIES,
    Factor,
    Prepared,
    RootCauseError,
    prepare,
)

__all__ = ["RootCauseError", "RootCauseModel", "analyse", "explain", "fit"]


Progress = Callable[[int, int], None]

SHAP_SAMPLE = 20_000
CV_ROWS = 300_000  # the folds are drawn from at most this many rows (a stratified sample)
FOLDS = 3
MAX_ROUNDS = 2000
PATIENCE = 40
ALPHA = 0.05
FEW_DEFECTS = 30
PARAMS = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 7,
    "min_sum_hessian_in_leaf": 1e-3,
    "lambda_l2": 1.0,
    "feature_fraction": 1.0,
    "max_bin": 63,
    "min_data_per_group": 50,
    "cat_smooth": 10.0,
    "max_cat_to_onehot": 4,
    "verbose": -1,
    "deterministic": True,
    "force_row_wise": True,
}
LARGE = 100_000  # above this many training rows each tree sees a random subset of them


@dataclass
class RootCauseModel:
    """A fitted analysis: the fold models (averaged), the factors' encodings and the result."""

    boosters: list[lgb.Booster]
    factors: list[Factor]
    result: dict
    timezone: str


def analyse(
    frame: pd.DataFrame,
    *,
    target: str,
    positive: object = None,
    quantity: str | None = None,
    seed: int = 0,
    shap_sample: int = SHAP_SAMPLE,
    explain_top: int = 10,
    threads: int = 2,
    first_row: int = 2,
    timezone: str = "Asia/Seoul",
    progress: Progress | None = None,
) -> dict:
    """The root-cause analysis of ``frame`` as a JSON-ready dict (``fit(...).result``; the
    options and the result are described there)."""
    return fit(
        frame,
        target=target,
        positive=positive,
        quantity=quantity,
        seed=seed,
        shap_sample=shap_sample,
        explain_top=explain_top,
        threads=threads,
        first_row=first_row,
        timezone=timezone,
        progress=progress,
    ).result


def fit(
    frame: pd.DataFrame,
    *,
    target: str,
    positive: object = None,
    quantity: str | None = None,
    seed: int = 0,
    shap_sample: int = SHAP_SAMPLE,
    explain_top: int = 10,
    threads: int = 2,
    first_row: int = 2,
    timezone: str = "Asia/Seoul",
    progress: Progress | None = None,
) -> RootCauseModel:
    """Fits the model and summarises it. ``positive`` is the label value that means defective
    (found from the words where not given); ``quantity`` makes ``target`` a defect count per
    that many units. ``first_row`` numbers rows in messages (2: a file with a header line).
    ``progress(done, total)`` is called between steps. The result::

        {"target": {"column", "kind": "binary"|"rate", "positive", "quantity"},
         "n_rows", "n_positive", "rate",
         "factors": [  # most important first
            {"name", "kind": "numeric"|"categorical", "source", "part": None|"hour"|"weekday",
             "rank", "importance" (mean |SHAP|, log-odds), "share" (of the total),
             "direction": "higher"|"lower"|"category"|"none", "threshold", "side":
             "above"|"at_or_below"|"category"|None, "category", "basis": "model"|"data"
             (threshold from the SHAP values for drivers, else from the defect rates),
             "effect" (rate ratio), "ci",
             "n", "defects", "rate_in", "n_out", "rate_out", "missing",
             "univariate": {"test", "statistic", "p", "q", ...},
             "adjusted": {"test": "score", "z", "p", "q"},
             "role": "driver"|"correlated_only"|"minor", "independent", "through",
             "summary": [msgid, params], "note": [msgid, params]|None,
             "profile": [{"lo", "hi", "n", "rate", "shap"}...]|None, "levels": [...]}...],
         "excluded": [{"name", "reason": [msgid, params]}...],
         "warnings": [[msgid, params]...],
         "lots": [{"row", "lot", "score", "factors": [{"name", "value", "shap"}...]}...],
         "model": {...how it was computed: parameters, folds, AUC, PR-AUC, SHAP sample}}

    Raises RootCauseError (``problems``: msgids with parameters) for input that cannot be
    analysed."""
    steps = FOLDS + 4
    _tick(progress, 0, steps)
    prepared = prepare(
        frame,
        target=target,
        positive=positive,
        quantity=quantity,
        first_row=first_row,
        timezone=timezone,
    )
    _tick(progress, 1, steps)
    label = prepared.label
    matrix = prepared.matrix()
    categorical = [i for i, f in enumerate(prepared.factors) if f.kind == "categorical"]
    params = _params(prepared, seed, threads)
    boosters, held_by, cv = _cross_validate(
        matrix, prepared, categorical, params, seed, lambda k: _tick(progress, 1 + k, steps)
    )
    sample = _sample(len(matrix), shap_sample, np.random.default_rng(seed))
    attributions = _shap(boosters, matrix[sample])
    margin, out_of_fold = _out_of_fold(boosters, matrix[sample], held_by[sample], attributions)
    _tick(progress, FOLDS + 2, steps)
    factors = _summarise(prepared, matrix[sample], sample, attributions, margin, out_of_fold)
    _tick(progress, FOLDS + 3, steps)
    scores = _predict(boosters, matrix)
    result = {
        "target": {
            "column": label.column,
            "kind": label.kind,
            "positive": label.positive,
            "quantity": label.quantity,
        },
        "n_rows": len(matrix),
        "n_positive": int(label.defective.sum()),
        "rate": fx.rounded(float(label.events.sum() / label.trials.sum()), 6),
        "factors": factors,
        "excluded": prepared.excluded,
        "warnings": [list(w) for w in prepared.warnings + _warnings(prepared, cv, factors)],
        "lots": _lot_explanations(boosters, prepared, matrix, scores, explain_top, first_row),
        "model": _model_facts(prepared, params, cv, len(sample), seed, threads),
    }
    _tick(progress, steps, steps)
    return RootCauseModel(boosters, prepared.factors, result, timezone)


def explain(model: RootCauseModel, rows: pd.DataFrame, *, top: int = 3) -> list[dict]:
    """Why these lots (rows with the analysed columns): per row the model's score and the
    ``top`` factors that pushed it most towards a defect, with their values and SHAP values."""
    values = np.column_stack([f.encode(rows, model.timezone) for f in model.factors])
    matrix = values.astype(np.float32)
    scores = _predict(model.boosters, matrix)
    attributions = _shap(model.boosters, matrix)
    return [
        {
            "score": fx.rounded(scores[i], 4),
            "factors": _top_factors(model.factors, values[i], attributions[i], top),
        }
        for i in range(len(matrix))
    ]


# ---- the model -------------------------------------------------------------------------------


def _tick(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def _params(prepared: Prepared, seed: int, threads: int) -> dict:
    label = prepared.label
    rows = len(label.events)
    training = min(rows, CV_ROWS) * (FOLDS - 1) // FOLDS
    defective = int(label.defective.sum())
    # Enough rows per leaf for a rate to mean something: 40, more with much data (1 in 2,000
    # training rows), never above a twentieth of the rows or four per defective row.
    leaf = min(max(40, training // 2000), max(10, training // 20), max(5, 4 * defective))
    params = dict(PARAMS, seed=seed, num_threads=threads, min_data_in_leaf=int(leaf))
    if training > LARGE:  # most of the speed-up of big data, little of its signal
        params.update(bagging_fraction=round(max(0.25, LARGE / training), 4), bagging_freq=1)
    if label.kind == "rate":  # binomial log-likelihood of the rate, weighted by units
        params.update(objective="cross_entropy")
    return params


def _dataset(matrix, prepared, rows, categorical, reference=None) -> lgb.Dataset:
    label = prepared.label
    if label.kind == "rate":
        target, weight = label.events[rows] / label.trials[rows], label.trials[rows]
    else:
        target, weight = label.events[rows], None
    return lgb.Dataset(
        matrix[rows],
        label=target,
        weight=weight,
        categorical_feature=categorical,
        reference=reference,
        params={"max_bin": PARAMS["max_bin"], "verbose": -1},
        free_raw_data=True,
    )


def _cross_validate(matrix, prepared, categorical, params, seed, done):
    """Stratified k-fold with early stopping on held-out log-loss. Returns the fold models
    (each cut at its best round), which fold holds each row out (−1: a row outside the
    cross-validation sample, which no model saw) and the scores."""
    label = prepared.label
    n = len(matrix)
    defective = label.defective
    rows = np.arange(n) if n <= CV_ROWS else _stratified_sample(defective, CV_ROWS, seed)
    folds = min(FOLDS, int(defective[rows].sum()), int((~defective[rows]).sum()))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    held_by = np.full(n, -1)
    boosters, rounds, aucs, pr_aucs, losses = [], [], [], [], []
    for k, (fit_at, test_at) in enumerate(splitter.split(rows, defective[rows])):
        train = _dataset(matrix, prepared, rows[fit_at], categorical)
        valid = _dataset(matrix, prepared, rows[test_at], categorical, reference=train)
        booster = lgb.train(
            params | {"metric": "cross_entropy" if label.kind == "rate" else "binary_logloss"},
            train,
            num_boost_round=MAX_ROUNDS,
            valid_sets=[valid],
            callbacks=[lgb.early_stopping(PATIENCE, verbose=False)],
        )
        best = booster.best_iteration or booster.current_iteration()
        losses.append(float(next(iter(booster.best_score["valid_0"].values()))))
        booster = _trimmed(booster, best)
        boosters.append(booster)
        rounds.append(best)
        held = rows[test_at]
        held_by[held] = k
        if label.kind == "binary":
            scores = booster.predict(matrix[held])
            aucs.append(float(roc_auc_score(defective[held], scores)))
            pr_aucs.append(float(average_precision_score(defective[held], scores)))
        done(k + 1)
    cv = {
        "folds": folds,
        "stratified": True,
        "rows": len(rows),
        "rounds_folds": rounds,
        "auc": fx.rounded(np.mean(aucs), 4) if aucs else None,
        "auc_folds": [fx.rounded(a, 4) for a in aucs],
        "pr_auc": fx.rounded(np.mean(pr_aucs), 4) if pr_aucs else None,
        "pr_auc_folds": [fx.rounded(a, 4) for a in pr_aucs],
        "base_rate": fx.rounded(defective[rows].mean(), 6),
        "logloss": fx.rounded(np.mean(losses), 5),
        "logloss_folds": [fx.rounded(a, 5) for a in losses],
    }
    return boosters, held_by, cv


def _stratified_sample(defective: np.ndarray, size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    share = size / len(defective)
    parts = []
    for cls in (True, False):
        members = np.flatnonzero(defective == cls)
        parts.append(rng.choice(members, max(1, round(len(members) * share)), replace=False))
    return np.sort(np.concatenate(parts))


def _trimmed(booster: lgb.Booster, rounds: int) -> lgb.Booster:
    """The booster cut at its best round, so that SHAP sees only the trees that count."""
    if booster.current_iteration() == rounds:
        return booster
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=rounds))


def _sample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size, replace=False))


def _predict(boosters: list[lgb.Booster], rows: np.ndarray) -> np.ndarray:
    """The ensemble's probability (or rate): the mean of the fold models' log-odds."""
    margin = np.mean([b.predict(rows, raw_score=True) for b in boosters], axis=0)
    return 1.0 / (1.0 + np.exp(-margin))


def _shap(boosters: list[lgb.Booster], rows: np.ndarray) -> np.ndarray:
    """SHAP values (log-odds) of the ensemble, rows × factors: the mean of the fold models'
    values (SHAP values add up like the model outputs they explain)."""
    return np.mean([_tree_shap(b, rows) for b in boosters], axis=0)


def _shap_module():
    """shap, imported on first use (it takes seconds) without its plotting modules' notices
    about matplotlib deprecations."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import shap
    return shap


def _tree_shap(booster: lgb.Booster, rows: np.ndarray) -> np.ndarray:
    shap = _shap_module()
    explainer = shap.TreeExplainer(booster, feature_perturbation="tree_path_dependent")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shap's notice about LightGBM's list output
        values = explainer.shap_values(rows)
    if isinstance(values, list):  # older output: one array per class
        values = values[-1]
    values = np.asarray(values, dtype=float)
    return values[..., -1] if values.ndim == 3 else values


def _out_of_fold(boosters, rows, held_by, ensemble_shap):
    """Log-odds and SHAP values of each sampled row from the fold model that did not see it
    (rows outside the cross-validation sample: the ensemble, which saw none of them)."""
    margin = np.mean([b.predict(rows, raw_score=True) for b in boosters], axis=0)
    values = ensemble_shap.copy()
    for k, booster in enumerate(boosters):
        mine = held_by == k
        if mine.any():
            margin[mine] = booster.predict(rows[mine], raw_score=True)
            values[mine] = _tree_shap(booster, rows[mine])
    return margin, values


# ---- the summary -----------------------------------------------------------------------------


def _summarise(prepared, sample_matrix, sample, attributions, margin, out_of_fold) -> list[dict]:
    label = prepared.label
    importance = np.abs(attributions).mean(axis=0)
    total = float(importance.sum()) or 1.0
    marginal = fx.univariate(prepared.factors, label)
    observed = label.events[sample] / label.trials[sample]
    adjusted = fx.adjusted(margin, out_of_fold, label.events[sample], label.trials[sample])
    rows = []
    for j, factor in enumerate(prepared.factors):
        values = sample_matrix[:, j].astype(float)
        shap = attributions[:, j]
        independent = _significant(adjusted[j])
        role = (
            "driver"
            if independent
            else ("correlated_only" if _significant(marginal[j]) else "minor")
        )
        # A driver's threshold is read from its SHAP values (its own effect, the others held);
        # any other factor's from the defects themselves (what one sees in the raw data).
        basis = shap if independent else observed
        if not np.any(basis):
            effect = fx.no_effect()
        elif factor.kind == "numeric":
            effect = fx.numeric_effect(factor, values, basis, label)
        else:
            effect = fx.categorical_effect(factor, values, basis, label)
        effect["basis"] = "model" if independent else "data"
        rows.append(
            {
                "name": factor.name,
                "kind": factor.kind,
                "source": factor.source,
                "part": factor.part,
                "importance": fx.rounded(importance[j], 6),
                "share": fx.rounded(importance[j] / total, 4),
                **effect,
                "missing": factor.missing,
                "univariate": marginal[j],
                "adjusted": adjusted[j],
                "role": role,
                "independent": independent,
                "through": None,
                "note": None,
                "profile": fx.profile(values, shap, label.events[sample], label.trials[sample])
                if factor.kind == "numeric"
                else None,
            }
        )
    order = np.argsort(-importance, kind="stable")
    ranked = [rows[j] for j in order]
    for rank, row in enumerate(ranked, start=1):
        row["rank"] = rank
    _name_paths(ranked, prepared.factors, sample_matrix)
    return ranked


def _significant(test: dict) -> bool:
    return test.get("q") is not None and test["q"] < ALPHA


def _name_paths(ranked: list[dict], factors: list[Factor], sample_matrix) -> None:
    """For a correlated-only factor, the driver it is most associated with on the sample (at
    least 0.1): the way its link to defects most likely runs."""
    position = {f.name: j for j, f in enumerate(factors)}
    drivers = [row["name"] for row in ranked if row["role"] == "driver"]
    for row in ranked:
        if row["role"] != "correlated_only":
            continue
        j = position[row["name"]]
        best, strongest = None, 0.1
        for name in drivers:
            k = position[name]
            strength = fx.association(
                factors[j], sample_matrix[:, j], factors[k], sample_matrix[:, k]
            )
            if strength > strongest:
                best, strongest = name, strength
        row["through"] = best
        q = fx.p_text(row["univariate"]["q"])
        row["note"] = (
            [
                N_(
                    "Linked to defects on its own (q = {q}) but adds nothing once the other "
                    "factors are known: the link most likely runs through '{through}'."
                ),
                {"q": q, "through": best},
            ]
            if best
            else [
                N_(
                    "Linked to defects on its own (q = {q}) but adds nothing once the other "
                    "factors are known: not an independent cause."
                ),
                {"q": q},
            ]
        )


def _lot_explanations(boosters, prepared, matrix, scores, top, first_row) -> list[dict]:
    """The ``top`` defective lots the model finds likeliest, and why."""
    if top <= 0:
        return []
    defective = np.flatnonzero(prepared.label.defective)
    chosen = defective[np.argsort(-scores[defective], kind="stable")[:top]]
    attributions = _shap(boosters, matrix[chosen])
    out = []
    for i, row in enumerate(chosen):
        values = [f.values[row] for f in prepared.factors]
        out.append(
            {
                "row": int(prepared.rows[row]) + first_row,
                "lot": None if prepared.lot_ids is None else str(prepared.lot_ids[row]),
                "score": fx.rounded(scores[row], 4),
                "factors": _top_factors(prepared.factors, values, attributions[i], 3),
            }
        )
    return out


def _top_factors(factors, values, contributions, top: int) -> list[dict]:
    order = np.argsort(-contributions, kind="stable")[:top]
    return [
        {
            "name": factors[j].name,
            "value": factors[j].label(float(values[j])),
            "shap": fx.rounded(contributions[j], 4),
        }
        for j in order
        if contributions[j] > 0
    ]


# ---- how it was computed ---------------------------------------------------------------------


def _model_facts(prepared: Prepared, params, cv, sample_size, seed, threads) -> dict:
    shap = _shap_module()
    label = prepared.label
    factors = prepared.factors
    shown = (
        "objective",
        "learning_rate",
        "num_leaves",
        "min_data_in_leaf",
        "lambda_l2",
        "feature_fraction",
        "max_bin",
        "min_data_per_group",
        "cat_smooth",
        "bagging_fraction",
    )
    return {
        "kind": "lightgbm",
        "versions": {"lightgbm": lgb.__version__, "shap": shap.__version__},
        "params": {k: params[k] for k in shown if k in params},
        "ensemble": "mean log-odds of the cross-validation fold models",
        "early_stopping": {
            "metric": "held-out log-loss",
            "patience": PATIENCE,
            "max_rounds": MAX_ROUNDS,
        },
        "imbalance": "no re-weighting; stratified folds; PR-AUC beside AUC",
        "cv": cv,
        "shap": {
            "explainer": "TreeExplainer",
            "perturbation": "tree_path_dependent",
            "output": "log-odds",
            "sample": sample_size,
            "of": len(label.events),
            "sampling": "uniform" if sample_size < len(label.events) else "all rows",
        },
        "factors_used": len(factors),
        "numeric": sum(f.kind == "numeric" for f in factors),
        "categorical": sum(f.kind == "categorical" for f in factors),
        "missing_cells": int(sum(f.missing for f in factors)),
        "missing": "LightGBM native: each split learns which side missing values go",
        "categories": {
            "kept": TOP_CATEGORIES,
            "pooled": {f.name: f.pooled for f in factors if f.pooled},
        },
        "tests": {
            "univariate": "spearman" if label.kind == "rate" else "mann-whitney",
            "categorical": "chi-square; fisher for a 2x2 table with an expected count below 5",
            "adjusted": "one-sided score test of the out-of-fold SHAP part against the "
            "out-of-fold model without it (SHAP sample)",
            "fdr": "benjamini-hochberg",
            "alpha": ALPHA,
        },
        "threshold": "one-split stump on the SHAP values (sample) over rounded percentile "
        "cuts; rate ratio on all rows with a 95% Katz log interval",
        "seed": seed,
        "threads": threads,
    }


def _warnings(prepared: Prepared, cv: dict, factors: list[dict]) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = []
    defective = int(prepared.label.defective.sum())
    if defective < FEW_DEFECTS:
        out.append(
            (
                N_("Only {count} defective lots: the ranking may change with more data."),
                {"count": defective},
            )
        )
    if cv["auc"] is not None and cv["auc"] < 0.6:
        out.append(
            (
                N_(
                    "The model barely tells defective from good lots (cross-validated AUC {auc}): "
                    "these factors explain little of the defects."
                ),
                {"auc": f"{cv['auc']:.2f}"},
            )
        )
    rows = len(prepared.label.events)
    for row in factors:
        if row["missing"] > 0.3 * rows:
            out.append(
                (
                    N_("'{name}' is missing in {count} of {rows} rows."),
                    {"name": row["name"], "count": row["missing"], "rows": rows},
                )
            )
    return out
