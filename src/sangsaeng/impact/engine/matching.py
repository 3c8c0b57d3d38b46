"""Comparison groups: exact matching on industry × revenue band, optionally refined by
nearest-neighbour matching on the propensity score or the Mahalanobis distance, and the balance
table that shows whether it worked.

Matching is per cohort: a participant of cohort g is compared on its values in year g − 1 with
non-participants' values in that same year. Nearest neighbours are drawn without replacement
inside the participant's exact cell; a caliper leaves out participants with no close enough
non-participant. Every step says how many firms it dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

REFINEMENTS: tuple[str, ...] = ("none", "pscore", "mahalanobis")
LEVELS: tuple[str, ...] = ("division", "class")


def N_(msgid: str) -> str:
    return msgid


@dataclass(frozen=True)
class Candidates:
    """Firms on one cohort's base year: identifiers, exact cell keys and matching variables
    (rows with a missing variable are not comparable)."""

    ids: np.ndarray  # str
    cells: np.ndarray  # str: "KSIC|band"
    features: np.ndarray  # (n, k) float


@dataclass
class CohortMatch:
    treated: list[str]
    controls: list[str]
    dropped_no_data: int
    dropped_no_cell: int
    dropped_caliper: int
    controls_no_data: int
    controls_in_cells: int
    treated_features: np.ndarray = field(repr=False)
    control_features: np.ndarray = field(repr=False)


def _logit_scores(x: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Linear propensity scores (log odds) from a logit of participation on the variables."""
    import statsmodels.api as sm

    design = sm.add_constant(_standardise(x), has_constant="add")
    try:
        fitted = sm.Logit(treated.astype(float), design).fit(disp=0, maxiter=200)
        return design @ fitted.params
    except (np.linalg.LinAlgError, ValueError):
        # Perfect separation or a singular design: a ridge-penalised fit still ranks firms.
        fitted = sm.Logit(treated.astype(float), design).fit_regularized(disp=0, alpha=1.0)
        return design @ fitted.params


def _standardise(x: np.ndarray) -> np.ndarray:
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    return (x - x.mean(axis=0)) / scale


def match_cohort(
    treated: Candidates,
    controls: Candidates,
    *,
    refine: str = "pscore",
    ratio: int = 3,
    caliper: float | None = 0.2,
    used: set[str] | frozenset[str] = frozenset(),
) -> CohortMatch:
    """Match one cohort's participants to non-participants of the same exact cell: greedy
    nearest neighbours without replacement (``used``: non-participants already drawn for
    another cohort), so each comparison firm counts once and the DiD needs no weights."""
    t_ok = ~np.isnan(treated.features).any(axis=1)
    c_ok = ~np.isnan(controls.features).any(axis=1)
    t_ids, t_cells, t_x = treated.ids[t_ok], treated.cells[t_ok], treated.features[t_ok]
    c_ids, c_cells, c_x = controls.ids[c_ok], controls.cells[c_ok], controls.features[c_ok]
    in_cell = np.isin(t_cells, c_cells)
    control_in_cell = np.isin(c_cells, t_cells[in_cell])
    t_ids, t_cells, t_x = t_ids[in_cell], t_cells[in_cell], t_x[in_cell]
    c_ids, c_cells, c_x = c_ids[control_in_cell], c_cells[control_in_cell], c_x[control_in_cell]
    result = CohortMatch(
        treated=[],
        controls=[],
        dropped_no_data=int(np.count_nonzero(~t_ok)),
        dropped_no_cell=int(np.count_nonzero(~in_cell)),
        dropped_caliper=0,
        controls_no_data=int(np.count_nonzero(~c_ok)),
        controls_in_cells=len(c_ids),
        treated_features=np.empty((0, treated.features.shape[1])),
        control_features=np.empty((0, treated.features.shape[1])),
    )
    if len(t_ids) == 0:
        return result
    if refine == "none":
        result.treated = list(t_ids)
        result.controls = list(c_ids)
        result.treated_features, result.control_features = t_x, c_x
        return result

    if refine == "pscore":
        scores = _logit_scores(np.vstack([t_x, c_x]), np.r_[np.ones(len(t_x)), np.zeros(len(c_x))])
        t_pos, c_pos = scores[: len(t_x), None], scores[len(t_x) :, None]
        limit = caliper * scores.std() if caliper else None
    else:
        pooled = np.cov(np.vstack([t_x, c_x]), rowvar=False).reshape(t_x.shape[1], -1)
        inverse_root = np.linalg.cholesky(np.linalg.pinv(pooled) + 1e-12 * np.eye(len(pooled)))
        t_pos, c_pos = t_x @ inverse_root, c_x @ inverse_root
        limit = caliper if caliper else None

    kept_t, kept_c, kept_tx, kept_cx = [], [], [], []
    for cell in np.unique(t_cells):
        t_idx = np.flatnonzero(t_cells == cell)
        c_idx = np.flatnonzero((c_cells == cell) & ~np.isin(c_ids, list(used)))
        # Hardest first: the participants farthest from the cell's non-participants choose first.
        centre = c_pos[c_idx].mean(axis=0) if len(c_idx) else np.zeros(t_pos.shape[1])
        order = t_idx[np.argsort(-np.abs(t_pos[t_idx] - centre).sum(axis=1), kind="stable")]
        free = np.ones(len(c_idx), dtype=bool)
        for i in order:
            if not free.any():
                result.dropped_caliper += 1
                continue
            distance = np.sqrt(((c_pos[c_idx] - t_pos[i]) ** 2).sum(axis=1))
            distance[~free] = np.inf
            k = min(ratio, int(free.sum()))
            chosen = np.argpartition(distance, k - 1)[:k] if k < len(c_idx) else np.arange(k)
            chosen = chosen[np.lexsort((chosen, distance[chosen]))]
            chosen = chosen[np.isfinite(distance[chosen])]
            if limit is not None:
                chosen = chosen[distance[chosen] <= limit]
            if len(chosen) == 0:
                result.dropped_caliper += 1
                continue
            free[chosen] = False
            kept_t.append(t_ids[i])
            kept_tx.append(t_x[i])
            kept_c.extend(c_ids[c_idx[chosen]])
            kept_cx.extend(c_x[c_idx[chosen]])
    result.treated, result.controls = kept_t, kept_c
    width = t_x.shape[1]
    result.treated_features = np.array(kept_tx).reshape(-1, width)
    result.control_features = np.array(kept_cx).reshape(-1, width)
    return result


def smd(treated: np.ndarray, control: np.ndarray, scale: float) -> float | None:
    """Standardised mean difference with a fixed denominator (the pre-matching pooled SD), so
    before and after are comparable."""
    if len(treated) == 0 or len(control) == 0 or not scale:
        return None
    return float((treated.mean() - control.mean()) / scale)


def balance_rows(
    names: Sequence[str],
    before_treated: np.ndarray,
    before_control: np.ndarray,
    after_treated: np.ndarray,
    after_control: np.ndarray,
) -> list[dict]:
    """One row per matching variable: means and SMDs before and after matching."""
    rows = []
    for k, name in enumerate(names):
        bt, bc = before_treated[:, k], before_control[:, k]
        at, ac = after_treated[:, k], after_control[:, k]
        bt, bc, at, ac = (v[~np.isnan(v)] for v in (bt, bc, at, ac))
        scale = float(np.sqrt((bt.var(ddof=1) + bc.var(ddof=1)) / 2)) if len(bt) > 1 else 0.0
        rows.append(
            {
                "variable": name,
                "treated_mean": float(bt.mean()) if len(bt) else None,
                "control_mean_before": float(bc.mean()) if len(bc) else None,
                "smd_before": smd(bt, bc, scale),
                "treated_mean_after": float(at.mean()) if len(at) else None,
                "control_mean_after": float(ac.mean()) if len(ac) else None,
                "smd_after": smd(at, ac, scale),
            }
        )
    return rows
