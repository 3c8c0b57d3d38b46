"""The readable side of the root-cause analysis: thresholds and rate ratios with intervals,
univariate tests with false-discovery control, the model-adjusted test, and associations
between factors. Pure functions of arrays."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from sangsaeng.factory.engine.problems import N_
from sangsaeng.factory.engine.rootcause_columns import HOUR, Factor, Label

Z95 = 1.959963984540054


# ---- thresholds and rate ratios --------------------------------------------------------------


def numeric_effect(factor: Factor, values: np.ndarray, shap: np.ndarray, label: Label) -> dict:
    """Threshold (``best_cut`` of ``shap``: the SHAP values on the sample, or the observed
    defect rates), direction (``higher``: the values above it are the worse side, i.e. higher
    values raise the defect probability) and the rate ratio beyond the threshold on all
    rows."""
    present = ~np.isnan(values)
    cut = best_cut(values[present], shap[present], whole=factor.part == HOUR)
    if cut is None:
        return no_effect()
    threshold, above_worse = cut
    direction = "higher" if above_worse else "lower"
    known = ~np.isnan(factor.values)
    beyond = factor.values > threshold if above_worse else factor.values <= threshold
    inside = known & beyond
    ratio = rate_ratio(label, inside, known & ~inside)
    msgid = (
        N_(
            "Above {threshold}, the defect rate is {ratio}× the rate at or below it "
            "({rate_in} vs {rate_out}; n = {n}, 95% CI {lo}–{hi})."
        )
        if above_worse
        else N_(
            "At or below {threshold}, the defect rate is {ratio}× the rate above it "
            "({rate_in} vs {rate_out}; n = {n}, 95% CI {lo}–{hi})."
        )
    )
    return {
        "direction": direction,
        "threshold": threshold,
        "side": "above" if above_worse else "at_or_below",
        "category": None,
        **ratio,
        "summary": [msgid, summary_params(ratio, threshold=f"{threshold:g}")],
    }


def categorical_effect(factor: Factor, codes: np.ndarray, shap: np.ndarray, label: Label) -> dict:
    """The category with the highest mean of ``shap`` (SHAP values, or observed defect rates)
    on the sample — among those seen in at least 0.5 % of it, five rows at least — against
    all other rows."""
    size = len(factor.categories)
    codes = codes.astype(int)
    counts = np.bincount(codes, minlength=size)
    sums = np.bincount(codes, weights=shap, minlength=size)
    means = np.where(counts > 0, sums / np.maximum(counts, 1), -np.inf)
    enough = counts >= max(5, 0.005 * len(codes))
    worst = int(np.argmax(np.where(enough, means, -np.inf) if enough.any() else means))
    category = factor.categories[worst]
    inside = factor.values == worst
    ratio = rate_ratio(label, inside, ~inside)
    return {
        "direction": "category",
        "threshold": None,
        "side": "category",
        "category": category,
        **ratio,
        "summary": [
            N_(
                "In '{category}', the defect rate is {ratio}× the rate elsewhere "
                "({rate_in} vs {rate_out}; n = {n}, 95% CI {lo}–{hi})."
            ),
            summary_params(ratio, category=category),
        ],
        "levels": levels(factor, codes, counts, sums, label),
    }


def no_effect(direction: str = "none") -> dict:
    return {
        "direction": direction,
        "threshold": None,
        "side": None,
        "category": None,
        "effect": None,
        "ci": None,
        "n": None,
        "defects": None,
        "rate_in": None,
        "n_out": None,
        "rate_out": None,
        "summary": None,
    }


def best_cut(v: np.ndarray, s: np.ndarray, *, whole: bool = False) -> tuple[float, bool] | None:
    """The cut of the values that splits their SHAP values best — a one-split regression stump
    on the dependence plot, maximising the between-sides sum of squares — among the 1st..99th
    percentiles rounded to a readable step, each side holding at least 1 % of the rows (ten at
    least); and whether the side above the cut is the worse one."""
    n = len(v)
    minimum = max(10, int(0.01 * n))
    if n < 2 * minimum or np.ptp(v) == 0:
        return None
    order = np.argsort(v, kind="stable")
    v_sorted, s_sorted = v[order], s[order]
    cuts = np.unique(readable(np.quantile(v, np.linspace(0.01, 0.99, 99)), v, whole=whole))
    left_n = np.searchsorted(v_sorted, cuts, side="right")
    ok = (left_n >= minimum) & (n - left_n >= minimum)
    if not ok.any():
        return None
    cuts, left_n = cuts[ok], left_n[ok]
    cumulative = np.concatenate([[0.0], np.cumsum(s_sorted)])
    left_sum = cumulative[left_n]
    right_sum = cumulative[-1] - left_sum
    right_n = n - left_n
    gain = left_sum**2 / left_n + right_sum**2 / right_n
    best = int(np.argmax(gain))
    above_worse = right_sum[best] / right_n[best] > left_sum[best] / left_n[best]
    return float(cuts[best]), bool(above_worse)


def readable(cuts: np.ndarray, v: np.ndarray, *, whole: bool = False) -> np.ndarray:
    """Cuts rounded to a tenth of the order of magnitude of the interquartile range (212.3 °C,
    8.47 bar); whole numbers where the data are whole numbers."""
    q1, q3 = np.quantile(v, [0.25, 0.75])
    spread = q3 - q1 if q3 > q1 else np.ptp(v)
    step = 10.0 ** (math.floor(math.log10(spread)) - 1)
    if whole or np.all(v == np.round(v)):
        step = max(step, 1.0)
    decimals = max(0, -math.floor(math.log10(step)))
    return np.round(np.round(cuts / step) * step, decimals)


def rate_ratio(label: Label, inside: np.ndarray, outside: np.ndarray) -> dict:
    """The defect rate inside vs outside, with the 95 % Katz interval of the log rate ratio;
    when a count is zero (or full) every cell gets 0.5 (Haldane) so the interval exists."""
    a, n1 = float(label.events[inside].sum()), float(label.trials[inside].sum())
    c, n2 = float(label.events[outside].sum()), float(label.trials[outside].sum())
    effect = ci = None
    if n1 and n2:
        if a == 0 or c == 0 or a == n1 or c == n2:
            a_, n1_, c_, n2_ = a + 0.5, n1 + 1.0, c + 0.5, n2 + 1.0
        else:
            a_, n1_, c_, n2_ = a, n1, c, n2
        log_ratio = math.log((a_ / n1_) / (c_ / n2_))
        se = math.sqrt(max(1 / a_ - 1 / n1_ + 1 / c_ - 1 / n2_, 0.0))
        effect = rounded(math.exp(log_ratio), 4)
        ci = [
            rounded(math.exp(log_ratio - Z95 * se), 4),
            rounded(math.exp(log_ratio + Z95 * se), 4),
        ]
    return {
        "effect": effect,
        "ci": ci,
        "n": int(inside.sum()),
        "defects": int(a) if a.is_integer() else rounded(a, 3),
        "rate_in": rounded(a / n1, 6) if n1 else None,
        "n_out": int(outside.sum()),
        "rate_out": rounded(c / n2, 6) if n2 else None,
    }


def summary_params(ratio: dict, **extra) -> dict:
    lo, hi = ratio["ci"] or (None, None)
    return {
        **extra,
        "ratio": _fixed(ratio["effect"]),
        "rate_in": _percent(ratio["rate_in"]),
        "rate_out": _percent(ratio["rate_out"]),
        "n": f"{ratio['n']:,}",
        "lo": _fixed(lo),
        "hi": _fixed(hi),
    }


def levels(factor: Factor, codes, counts, sums, label: Label) -> list[dict]:
    """Every category: rows, defect rate (all rows) and mean SHAP value (sample)."""
    out = []
    for code, name in enumerate(factor.categories):
        members = factor.values == code
        units = float(label.trials[members].sum())
        out.append(
            {
                "category": name,
                "n": int(members.sum()),
                "rate": rounded(float(label.events[members].sum()) / units, 6) if units else None,
                "shap": rounded(float(sums[code] / counts[code]), 5) if counts[code] else None,
            }
        )
    return out


def profile(values: np.ndarray, shap: np.ndarray, events, trials) -> list[dict] | None:
    """A number in ten quantile bins of the sample: range, rows, defect rate and mean SHAP
    value — what a dependence chart draws."""
    present = ~np.isnan(values)
    if present.sum() < 20:
        return None
    v = values[present]
    edges = np.unique(np.quantile(v, np.linspace(0, 1, 11)))
    if len(edges) < 2:
        return None
    bins = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, len(edges) - 2)
    e, t, s = events[present], trials[present], shap[present]
    out = []
    for b in range(len(edges) - 1):
        members = bins == b
        if members.any():
            out.append(
                {
                    "lo": rounded(float(edges[b]), 6),
                    "hi": rounded(float(edges[b + 1]), 6),
                    "n": int(members.sum()),
                    "rate": rounded(float(e[members].sum() / t[members].sum()), 6),
                    "shap": rounded(float(s[members].mean()), 5),
                }
            )
    return out


# ---- tests -----------------------------------------------------------------------------------


def univariate(factors: list[Factor], label: Label) -> list[dict]:
    """Each factor on its own: Mann–Whitney U (numbers; ``auc`` = U ÷ n₁n₀), Spearman's ρ
    against the rate (numbers, rate labels), χ² on defective and good units by category
    (Fisher's exact test for a 2 × 2 table with an expected count below 5); Benjamini–Hochberg
    q-values over all factors."""
    tests = [_test(factor, label) for factor in factors]
    add_q(tests)
    return tests


def add_q(tests: list[dict]) -> None:
    """Benjamini–Hochberg adjusted p-values (``q``) over the tests that have a p-value."""
    p = np.array([t["p"] if t["p"] is not None else np.nan for t in tests], dtype=float)
    tested = ~np.isnan(p)
    q = np.full(len(p), np.nan)
    if tested.any():
        q[tested] = multipletests(p[tested], method="fdr_bh")[1]
    for test, value in zip(tests, q, strict=True):
        test["q"] = None if np.isnan(value) else float(value)


def _test(factor: Factor, label: Label) -> dict:
    if factor.kind == "categorical":
        return _contingency(factor, label)
    present = ~np.isnan(factor.values)
    x = factor.values[present]
    if label.kind == "rate":
        rate = (label.events / label.trials)[present]
        if len(x) < 3 or np.ptp(x) == 0 or np.ptp(rate) == 0:
            return _untested("spearman")
        result = stats.spearmanr(x, rate)
        return {"test": "spearman", "statistic": float(result.statistic), "p": float(result.pvalue)}
    defective = label.defective[present]
    a, b = x[defective], x[~defective]
    if len(a) == 0 or len(b) == 0 or np.ptp(x) == 0:
        return _untested("mann-whitney")
    result = stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
    return {
        "test": "mann-whitney",
        "statistic": float(result.statistic),
        "auc": rounded(float(result.statistic) / (len(a) * len(b)), 4),
        "p": float(result.pvalue),
    }


def _contingency(factor: Factor, label: Label) -> dict:
    codes = factor.values.astype(int)
    size = len(factor.categories)
    bad = np.bincount(codes, weights=label.events, minlength=size)
    good = np.bincount(codes, weights=label.trials - label.events, minlength=size)
    table = np.column_stack([bad, good])
    table = table[table.sum(axis=1) > 0]
    if len(table) < 2 or (table.sum(axis=0) == 0).any():
        return _untested("chi-square")
    expected = stats.contingency.expected_freq(table)
    if table.shape == (2, 2) and expected.min() < 5:
        result = stats.fisher_exact(np.round(table).astype(int))
        return {"test": "fisher", "statistic": float(result.statistic), "p": float(result.pvalue)}
    chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
    return {
        "test": "chi-square",
        "statistic": float(chi2),
        "dof": int(dof),
        "cramers_v": rounded(math.sqrt(chi2 / (table.sum() * (min(table.shape) - 1))), 4),
        "p": float(p),
    }


def _untested(test: str) -> dict:
    return {"test": test, "statistic": None, "p": None}


def adjusted(margin: np.ndarray, shap: np.ndarray, events, trials) -> list[dict]:
    """Does a factor add to what the other factors already tell? For each factor j, a score
    (Rao) test of β = 0 in the logistic model ``logit p = a + b·(m − φⱼ) + β·φⱼ``, where m is
    the out-of-fold log-odds of the model and φⱼ the factor's out-of-fold SHAP value: the model
    without the factor's part, recalibrated (a, b absorb the shrinkage of boosting), and that
    part as the one covariate. One-sided (β > 0: the factor's part predicts defects on lots
    the model was not fitted on); Benjamini–Hochberg q-values over all factors. A factor the
    model never uses gets p = 1."""
    out = []
    for j in range(shap.shape[1]):
        phi = shap[:, j]
        if not np.any(phi):
            out.append({"test": "score", "z": None, "p": 1.0})
            continue
        z = _score_z(margin - phi, phi, events, trials)
        out.append({"test": "score", "z": rounded(z, 3), "p": float(stats.norm.sf(z))})
    add_q(out)
    return out


def _score_z(rest: np.ndarray, phi: np.ndarray, events, trials) -> float:
    """The score statistic for β in ``logit p = a + b·rest + β·phi`` at β = 0, with a and b
    fitted by Newton's method, standardised by its efficient variance (the information of β
    with a and b profiled out)."""
    design = np.column_stack([np.ones_like(rest), rest])
    coef = np.array([0.0, 1.0])
    for _ in range(25):
        p = 1.0 / (1.0 + np.exp(-(design @ coef)))
        weight = trials * p * (1 - p)
        gradient = design.T @ (events - trials * p)
        hessian = design.T @ (design * weight[:, None])
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            break
        coef += step
        if np.max(np.abs(step)) < 1e-8:
            break
    p = 1.0 / (1.0 + np.exp(-(design @ coef)))
    weight = trials * p * (1 - p)
    score = float(phi @ (events - trials * p))
    nuisance = design.T @ (design * weight[:, None])
    cross = design.T @ (phi * weight)
    try:
        variance = float(phi @ (phi * weight) - cross @ np.linalg.solve(nuisance, cross))
    except np.linalg.LinAlgError:
        return 0.0
    return score / math.sqrt(variance) if variance > 0 else 0.0


def association(fa: Factor, a: np.ndarray, fb: Factor, b: np.ndarray) -> float:
    """|Spearman ρ| between numbers, the correlation ratio η between a category and a number,
    Cramér's V between categories; on the rows where both are known."""
    known = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[known].astype(float), b[known].astype(float)
    if len(a) < 10 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    kinds = (fa.kind, fb.kind)
    if kinds == ("numeric", "numeric"):
        rho = stats.spearmanr(a, b).statistic
        return abs(float(rho)) if np.isfinite(rho) else 0.0
    if kinds == ("categorical", "categorical"):
        table = pd.crosstab(a, b).to_numpy()
        if min(table.shape) < 2:
            return 0.0
        chi2 = stats.chi2_contingency(table, correction=False)[0]
        return math.sqrt(chi2 / (table.sum() * (min(table.shape) - 1)))
    groups, numbers = (a, b) if fa.kind == "categorical" else (b, a)
    codes = groups.astype(int)
    counts = np.bincount(codes)
    means = np.bincount(codes, weights=numbers) / np.maximum(counts, 1)
    between = float((counts * (means - numbers.mean()) ** 2).sum())
    total = float(((numbers - numbers.mean()) ** 2).sum())
    return math.sqrt(between / total) if total else 0.0


# ---- numbers for people ----------------------------------------------------------------------


def rounded(value, digits: int):
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def _fixed(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def _percent(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def p_text(value) -> str:
    if value is None:
        return "—"
    return f"{value:.2g}" if value >= 0.001 else "< 0.001"
