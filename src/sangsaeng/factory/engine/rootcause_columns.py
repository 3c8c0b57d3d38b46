"""Reading an uploaded table for the defect root-cause model: the defect label, and every other
column as a number, a category or a date/time — or left out, with the reason.

The label is a 0/1 column, a verdict in words (합격/불합격, OK/NG, pass/fail…; ``positive``
names the defective value where the words do not say it), a defect count (a lot is defective
when it is above 0), or a defect count with a quantity column (a defect *rate*, modelled per
unit).

Left out, each with a message id and its parameters:

- empty and constant columns;
- identifiers: a text column with a different value in at least half of its rows (a lot number),
  or an integer column with a different value in nearly every row (a serial or timestamp number);
- leakage: a column that on its own separates defective from good lots with AUC ≥ 0.99 — missing
  values count as a value of their own, so a defect type filled in exactly for rejected lots is
  caught; categories are scored out of fold so that many small categories cannot fake it;
- near-duplicates: |Pearson r| > 0.98 between numbers, or the very same grouping of rows between
  columns of few values; the first in column order is kept and named.

Date/time columns become the hour of day (where times vary) and the ISO day of the week
(1 = Monday, as a category). Categories beyond the 20 most frequent are pooled as "(other)";
a missing category is the category "(empty)".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
from scipy import stats

from sangsaeng.factory.engine.problems import N_, InputProblems

MIN_ROWS = 30
MIN_EACH_CLASS = 5
LEAK_AUC = 0.99
LEAK_WARN_AUC = 0.95
DUPLICATE_R = 0.98
TOP_CATEGORIES = 20
FEW_LEVELS = 50  # columns with at most this many values are also compared as groupings
CHECK_ROWS = 200_000  # leak and duplicate checks look at this many evenly spaced rows at most
OTHER = N_("(other)")
EMPTY = N_("(empty)")
HOUR, WEEKDAY = "hour", "weekday"

DEFECT_WORDS = frozenset(
    [
        "불합격",
        "불량",
        "부적합",
        "ng",
        "nok",
        "fail",
        "failed",
        "failure",
        "reject",
        "rejected",
        "defect",
        "defective",
        "bad",
        "x",
        "n",
    ]
)
GOOD_WORDS = frozenset(
    ["합격", "양품", "적합", "정상", "ok", "pass", "passed", "good", "accept", "accepted", "o", "y"]
)
_DATE_LIKE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}")


class RootCauseError(InputProblems):
    """Input the analysis cannot run on; ``excluded`` says why each column was left out."""

    def __init__(self, problems: list[tuple[str, dict]], excluded: list[dict] | None = None):
        super().__init__(problems)
        self.excluded = excluded or []


@dataclass(frozen=True)
class Label:
    """Defects per row (``events``) out of units (``trials``): 0/1 of 1 for lots."""

    column: str
    kind: str  # "binary" | "rate"
    positive: str | None
    events: np.ndarray
    trials: np.ndarray
    quantity: str | None = None

    @property
    def defective(self) -> np.ndarray:
        return self.events > 0


@dataclass
class Factor:
    """A model input. Numbers as float64 (NaN missing); categories as codes 0..k-1 into
    ``categories`` (most frequent first)."""

    name: str
    kind: str  # "numeric" | "categorical"
    values: np.ndarray
    source: str
    part: str | None = None  # HOUR | WEEKDAY for parts of a date/time column
    categories: tuple[str, ...] = ()
    missing: int = 0
    pooled: int = 0  # categories pooled as OTHER
    separation: float | None = None  # the leak check's AUC (the larger of AUC and 1 − AUC)

    def encode(self, frame: pd.DataFrame, timezone: str) -> np.ndarray:
        """The same encoding for other rows (unknown categories count as OTHER, or missing)."""
        column = frame[self.source]
        if self.part is not None:
            moments = _as_datetimes(column, timezone)
            if moments is None:
                return np.full(len(frame), np.nan)
            return _datetime_part(moments, self.part)
        if self.kind == "numeric":
            numbers = _as_numbers(column)
            return numbers if numbers is not None else np.full(len(frame), np.nan)
        labels = _labels(column)
        index = {label: code for code, label in enumerate(self.categories)}
        fallback = index.get(OTHER, np.nan)
        return np.array([index.get(label, fallback) for label in labels], dtype=float)

    def label(self, value: float) -> object:
        if np.isnan(value):
            return None
        if self.kind == "categorical":
            return self.categories[int(value)]
        return float(value)


@dataclass
class Prepared:
    label: Label
    factors: list[Factor]
    rows: np.ndarray  # positions in the input frame of the rows analysed
    excluded: list[dict] = field(default_factory=list)
    warnings: list[tuple[str, dict]] = field(default_factory=list)
    lot_ids: np.ndarray | None = None  # the first identifier column (names rows in explanations)
    lot_column: str | None = None

    def matrix(self) -> np.ndarray:
        return np.column_stack([f.values for f in self.factors]).astype(np.float32)


def prepare(
    frame: pd.DataFrame,
    *,
    target: str,
    positive: object = None,
    quantity: str | None = None,
    first_row: int = 2,
    timezone: str = "Asia/Seoul",
) -> Prepared:
    """The label and the usable factors of ``frame``; raises RootCauseError on input that
    cannot be analysed (``first_row`` numbers rows in messages: 2 for a file with a header)."""
    missing = [c for c in (target, quantity) if c and c not in frame.columns]
    if missing:
        raise RootCauseError(
            [(N_("Missing column(s): {columns}."), {"columns": ", ".join(missing)})]
        )
    label, keep, warnings = _read_label(frame, target, positive, quantity, first_row)
    rows = np.flatnonzero(keep)
    data = frame.iloc[rows].reset_index(drop=True) if len(rows) < len(frame) else frame
    _check_size(label)
    prepared = Prepared(label=label, factors=[], rows=rows, warnings=warnings)
    defective = label.defective
    check = _check_rows(len(rows))
    for column in data.columns:
        if column in (target, quantity):
            continue
        for item in _read_column(data[column], str(column), timezone):
            if isinstance(item, Factor):
                leak = _leak(item, label, defective, check)
                if leak is not None:
                    prepared.excluded.append(leak[0])
                    prepared.warnings.append(leak[1])
                else:
                    prepared.factors.append(item)
            else:
                prepared.excluded.append(item)
                if item["identifier"] and prepared.lot_column is None:
                    prepared.lot_column = str(column)
                    prepared.lot_ids = data[column].astype(str).to_numpy()
    for entry in prepared.excluded:
        entry.pop("identifier", None)
    _drop_duplicates(prepared, check)
    _warn_near_leaks(prepared)
    if not prepared.factors:
        raise RootCauseError(
            [(N_("No usable factor: every other column was left out (see the reasons)."), {})],
            prepared.excluded,
        )
    return prepared


# ---- the label -------------------------------------------------------------------------------


def _read_label(frame, target, positive, quantity, first_row):
    raw = _blank_to_nan(frame[target])
    present = raw.notna().to_numpy()
    warnings: list[tuple[str, dict]] = []
    dropped = int((~present).sum())
    if dropped:
        warnings.append(
            (
                N_("{count} rows without a value in '{column}' were left out."),
                {"count": dropped, "column": target},
            )
        )
    values = raw[present]
    if quantity:
        return _rate_label(frame, target, quantity, present, first_row), present, warnings
    numbers = _as_numbers(values)
    if positive is not None:
        hit = _equals(values, numbers, positive)
        if not hit.any():
            raise RootCauseError(
                [
                    (
                        N_("'{value}' does not occur in '{column}'; its values are: {values}."),
                        {"value": str(positive), "column": target, "values": _some_values(values)},
                    )
                ]
            )
        events = hit.astype(float)
        return _binary(target, str(positive), events), present, warnings
    distinct = pd.unique(values.astype(str).str.strip())
    if len(distinct) < 2:
        raise RootCauseError(
            [
                (
                    N_("'{column}' has only one value ({value}): there is nothing to compare."),
                    {"column": target, "value": str(distinct[0]) if len(distinct) else ""},
                )
            ]
        )
    if numbers is not None and set(np.unique(numbers)) <= {0.0, 1.0}:
        return _binary(target, "1", numbers), present, warnings
    if numbers is not None and (numbers >= 0).all() and np.all(numbers == np.round(numbers)):
        # A defect count per lot: a lot is defective when it has any.
        return _binary(target, ">0", (numbers > 0).astype(float)), present, warnings
    if len(distinct) == 2:
        marked = [v for v in distinct if v.lower() in DEFECT_WORDS]
        if len(marked) != 1:
            marked = [v for v in distinct if v.lower() not in GOOD_WORDS]
        if len(marked) == 1:
            hit = values.astype(str).str.strip().to_numpy() == marked[0]
            return _binary(target, marked[0], hit.astype(float)), present, warnings
    raise RootCauseError(
        [
            (
                N_(
                    "Say which value of '{column}' marks a defective lot; its values are: {values}."
                ),
                {"column": target, "values": _some_values(values)},
            )
        ]
    )


def _binary(column: str, positive: str, events: np.ndarray) -> Label:
    return Label(column, "binary", positive, np.asarray(events, float), np.ones(len(events)))


def _rate_label(frame, target, quantity, present, first_row) -> Label:
    counts = _as_numbers(_blank_to_nan(frame[target]))
    units = _as_numbers(_blank_to_nan(frame[quantity]))
    problems = []
    if counts is None or np.any(counts[present] < 0):
        bad = _bad_rows(frame[target], present, lambda x: x >= 0)
        problems.append(
            (
                N_(
                    "'{column}' must be a number of defects (0 or more) in every row; "
                    "rows {rows} are not."
                ),
                {"column": target, "rows": _row_list(bad, first_row)},
            )
        )
    if units is None or np.any(~(units[present] > 0)):
        bad = _bad_rows(frame[quantity], present, lambda x: x > 0)
        problems.append(
            (
                N_(
                    "'{column}' must be a positive number of units in every row; "
                    "rows {rows} are not."
                ),
                {"column": quantity, "rows": _row_list(bad, first_row)},
            )
        )
    if not problems and np.any(counts[present] > units[present]):
        bad = np.flatnonzero(present & (counts > units))
        problems.append(
            (N_("More defects than units in rows {rows}."), {"rows": _row_list(bad, first_row)})
        )
    if problems:
        raise RootCauseError(problems)
    return Label(target, "rate", None, counts[present], units[present], quantity)


def _bad_rows(column: pd.Series, present: np.ndarray, good) -> np.ndarray:
    numbers = pd.to_numeric(_blank_to_nan(column), errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        ok = good(numbers) & ~np.isnan(numbers)
    return np.flatnonzero(present & ~ok)


def _row_list(positions: np.ndarray, first_row: int) -> str:
    shown = ", ".join(str(i + first_row) for i in positions[:10])
    return shown + (f" (+{len(positions) - 10})" if len(positions) > 10 else "")


def _equals(values: pd.Series, numbers: np.ndarray | None, positive: object) -> np.ndarray:
    try:
        wanted = float(str(positive).strip())
    except ValueError:
        wanted = None
    if numbers is not None and wanted is not None:
        return numbers == wanted
    text = values.astype(str).str.strip().str.lower().to_numpy()
    return text == str(positive).strip().lower()


def _some_values(values: pd.Series) -> str:
    counts = values.astype(str).str.strip().value_counts()
    shown = ", ".join(str(v) for v in counts.index[:8])
    return shown + (" …" if len(counts) > 8 else "")


def _check_size(label: Label) -> None:
    rows = len(label.events)
    if rows < MIN_ROWS:
        raise RootCauseError(
            [
                (
                    N_("Too few rows: {rows} with a label; at least {minimum} are needed."),
                    {"rows": rows, "minimum": MIN_ROWS},
                )
            ]
        )
    defective = int(label.defective.sum())
    good = int((label.events < label.trials).sum())  # rows with at least one good unit
    if defective == 0 or good == 0:
        raise RootCauseError(
            [
                (
                    N_("'{column}' has only one value ({value}): there is nothing to compare."),
                    {"column": label.column, "value": label.positive if good == 0 else "0"},
                )
            ]
        )
    if defective < MIN_EACH_CLASS:
        raise RootCauseError(
            [
                (
                    N_("Too few defective lots: {count}; at least {minimum} are needed."),
                    {"count": defective, "minimum": MIN_EACH_CLASS},
                )
            ]
        )
    if label.kind == "binary" and good < MIN_EACH_CLASS:
        raise RootCauseError(
            [
                (
                    N_("Too few good lots: {count}; at least {minimum} are needed."),
                    {"count": good, "minimum": MIN_EACH_CLASS},
                )
            ]
        )


# ---- reading a column ------------------------------------------------------------------------


def _blank_to_nan(series: pd.Series) -> pd.Series:
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        text = series.astype("string").str.strip()
        return series.where(text.notna() & (text != ""), np.nan)
    return series


def _as_numbers(series: pd.Series) -> np.ndarray | None:
    """The column as float64, or None when a present cell is not a number."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return None
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=float, na_value=np.nan)
    series = _blank_to_nan(series)
    present = series.notna()
    if not present.any():
        return None
    sample = series[present]
    if isinstance(sample.iloc[0], date | datetime):
        return None
    numbers = pd.to_numeric(series.astype("string").str.strip(), errors="coerce")
    if numbers[present].isna().any():
        return None
    return numbers.to_numpy(dtype=float, na_value=np.nan)


def _as_datetimes(series: pd.Series, timezone: str) -> pd.Series | None:
    """The column as naive local date-times, or None when it does not read as dates."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert(timezone).dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series
    if series.dtype != object and not pd.api.types.is_string_dtype(series.dtype):
        return None
    present = _blank_to_nan(series).dropna()
    if present.empty:
        return None
    head = present.iloc[: min(200, len(present))]
    if isinstance(head.iloc[0], date | datetime):
        parsed = pd.to_datetime(series, errors="coerce")
    elif head.astype(str).str.strip().str.match(_DATE_LIKE).all():
        text = (
            series.astype("string")
            .str.strip()
            .str.replace(r"^(\d{4})[./](\d{1,2})[./]", r"\1-\2-", regex=True)
        )
        try:
            parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
        except (ValueError, TypeError):  # mixed offsets: read as UTC, shown locally
            parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
    else:
        return None
    if parsed.isna().sum() > series.isna().sum() + 0.05 * len(present):
        return None
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert(timezone).dt.tz_localize(None)
    return parsed


def _datetime_part(moments: pd.Series, part: str) -> np.ndarray:
    # Hours 0..23 as numbers; weekdays as codes 0..6 (Monday..Sunday) of the labels "1".."7".
    values = moments.dt.hour if part == HOUR else moments.dt.dayofweek
    return values.to_numpy(dtype=float, na_value=np.nan)


def _labels(series: pd.Series) -> list[str]:
    text = _blank_to_nan(series).astype("string").str.strip()
    return text.fillna(EMPTY).tolist()


def _read_column(series: pd.Series, name: str, timezone: str) -> list:
    """Factors from one column (a date/time gives up to two), or one exclusion entry."""
    present = _blank_to_nan(series).notna().to_numpy()
    n_present = int(present.sum())
    if n_present == 0:
        return [_excluded(name, N_("Empty: the column has no values."), {})]
    numbers = _as_numbers(series)
    if numbers is not None:
        return [_numeric(name, numbers, present)]
    moments = _as_datetimes(series, timezone)
    if moments is not None:
        return _datetime_factors(name, moments)
    return [_categorical(name, series, present)]


def _numeric(name: str, numbers: np.ndarray, present: np.ndarray):
    finite = numbers[present]
    distinct = np.unique(finite)
    if len(distinct) <= 1 and present.all():
        return _constant(name, distinct[0])
    integer = bool(np.all(finite == np.round(finite)))
    if integer and len(finite) >= 50 and len(distinct) >= 0.95 * len(finite):
        return _identifier(name, len(distinct), len(finite))
    return Factor(name, "numeric", numbers, name, missing=int((~present).sum()))


def _categorical(name: str, series: pd.Series, present: np.ndarray):
    labels = pd.Series(_labels(series))
    counts = labels.value_counts(sort=False)
    counts = counts.sort_values(ascending=False, kind="stable")
    known = counts.drop(EMPTY, errors="ignore")
    if len(counts) <= 1:
        return _constant(name, counts.index[0])
    if len(known) > TOP_CATEGORIES and len(known) >= 0.5 * present.sum():
        return _identifier(name, len(known), int(present.sum()))
    kept = list(known.index[:TOP_CATEGORIES])
    pooled = len(known) - len(kept)
    categories = kept + ([OTHER] if pooled else []) + ([EMPTY] if EMPTY in counts.index else [])
    index = {label: code for code, label in enumerate(categories)}
    other = index.get(OTHER, -1)
    codes = labels.map(index).fillna(other).to_numpy(dtype=float)
    return Factor(
        name,
        "categorical",
        codes,
        name,
        categories=tuple(categories),
        missing=int((~present).sum()),
        pooled=pooled,
    )


def _datetime_factors(name: str, moments: pd.Series) -> list:
    factors: list = []
    present = moments.notna().to_numpy()
    hours = _datetime_part(moments, HOUR)
    if len(np.unique(hours[present])) > 1:
        factors.append(
            Factor(f"{name}:{HOUR}", "numeric", hours, name, HOUR, missing=int((~present).sum()))
        )
    weekdays = _datetime_part(moments, WEEKDAY)
    if len(np.unique(weekdays[present])) > 1:
        factors.append(
            Factor(
                f"{name}:{WEEKDAY}",
                "categorical",
                weekdays,
                name,
                WEEKDAY,
                categories=tuple(str(d) for d in range(1, 8)),
                missing=int((~present).sum()),
            )
        )
    if not factors:
        return [_constant(name, str(moments.dropna().iloc[0]))]
    features = ", ".join(f.name for f in factors)
    reason = {
        2: N_("Date/time: used as its hour of day and day of the week ({features})."),
        1: N_("Date/time: used as {features}."),
    }[len(factors)]
    return [_excluded(name, reason, {"features": features}), *factors]


def _excluded(name: str, msgid: str, params: dict, identifier: bool = False) -> dict:
    return {"name": name, "reason": [msgid, params], "identifier": identifier}


def _constant(name: str, value: object) -> dict:
    shown = value if not isinstance(value, float) else f"{value:g}"
    return _excluded(
        name, N_("Constant: every row has the same value ({value})."), {"value": str(shown)}
    )


def _identifier(name: str, distinct: int, rows: int) -> dict:
    return _excluded(
        name,
        N_(
            "Identifier: {distinct} different values in {rows} rows, like a lot number; "
            "it names lots rather than describing them."
        ),
        {"distinct": distinct, "rows": rows},
        identifier=True,
    )


# ---- leakage ---------------------------------------------------------------------------------


def _check_rows(n: int) -> np.ndarray:
    """Evenly spaced rows for the checks (every row when the data are small)."""
    if n <= CHECK_ROWS:
        return np.arange(n)
    return np.linspace(0, n - 1, CHECK_ROWS).round().astype(int)


def auc(score: np.ndarray, defective: np.ndarray) -> float:
    """Area under the ROC curve of a score (ties half), from the Mann–Whitney rank sum."""
    n1 = int(defective.sum())
    n0 = len(defective) - n1
    if n1 == 0 or n0 == 0:
        return 0.5
    ranks = stats.rankdata(score)
    return float((ranks[defective].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def separation(factor: Factor, defective: np.ndarray, rows: np.ndarray) -> float:
    """How well the factor alone separates defective from good rows: the larger of AUC and
    1 − AUC; missing values are a value of their own (below or above every number), and
    columns of few values are scored by their categories' defect rates out of fold."""
    values = factor.values[rows]
    y = defective[rows]
    best = 0.5
    if factor.kind == "numeric":
        for a in _auc_missing_low_and_high(values, y):
            best = max(best, a, 1 - a)
    codes = _codes(factor, values)
    if codes is not None:
        a = auc(_out_of_fold_rates(codes, y), y)
        best = max(best, a, 1 - a)
    return best


def _auc_missing_low_and_high(values: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """AUC with missing values ranked below every number, and above: one ranking of the
    numbers present, the pairs with a missing side counted directly (ties count half)."""
    missing = np.isnan(values)
    positives, total = int(y.sum()), len(y)
    pairs = positives * (total - positives)
    if pairs == 0:
        return 0.5, 0.5
    pos_missing = int((y & missing).sum())
    neg_missing = int(missing.sum()) - pos_missing
    pos_present, neg_present = positives - pos_missing, total - positives - neg_missing
    present = auc(values[~missing], y[~missing]) * pos_present * neg_present
    tied = 0.5 * pos_missing * neg_missing
    low = (present + pos_present * neg_missing + tied) / pairs
    high = (present + pos_missing * neg_present + tied) / pairs
    return low, high


def _codes(factor: Factor, values: np.ndarray) -> np.ndarray | None:
    """Codes 0..k-1 (missing its own) for categorical factors and numbers of few values."""
    if factor.kind == "categorical":
        return np.nan_to_num(values, nan=len(factor.categories)).astype(np.int64)
    present = values[~np.isnan(values)]
    distinct = np.unique(present)
    if len(distinct) > FEW_LEVELS:
        return None
    codes = np.searchsorted(distinct, np.nan_to_num(values, nan=np.inf))
    return codes.astype(np.int64)  # missing → len(distinct)


def _out_of_fold_rates(codes: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each row scored by its category's defect rate in the other half of the rows (alternate
    rows), so a column of many small categories cannot separate by chance."""
    size = int(codes.max()) + 1
    score = np.empty(len(codes))
    overall = y.mean()
    halves = np.arange(len(codes)) % 2
    for half in (0, 1):
        other = halves != half
        totals = np.bincount(codes[other], minlength=size)
        hits = np.bincount(codes[other], weights=y[other], minlength=size)
        rates = np.where(totals > 0, hits / np.maximum(totals, 1), overall)
        score[~other] = rates[codes[~other]]
    return score


def _leak(factor: Factor, label: Label, defective: np.ndarray, rows: np.ndarray):
    if label.kind == "rate":
        rate = label.events / label.trials
        values = factor.values[rows]
        ok = ~np.isnan(values)
        if factor.kind != "numeric" or ok.sum() < 3:
            return None
        rho = stats.spearmanr(values[ok], rate[rows][ok]).statistic
        if not np.isfinite(rho) or abs(rho) < LEAK_AUC:
            return None
        strength = abs(float(rho))
    else:
        strength = factor.separation = separation(factor, defective, rows)
        if strength < LEAK_AUC:
            return None
    name = factor.name
    reason = _excluded(
        name,
        N_(
            "Leakage: on its own it separates defective from good lots (AUC {auc}); "
            "it is most likely recorded from the verdict."
        ),
        {"auc": f"{strength:.3f}"},
    )
    warning = (
        N_(
            "'{name}' was left out: on its own it separates defective from good lots "
            "(AUC {auc}), so it is most likely recorded from the verdict, not a cause."
        ),
        {"name": name, "auc": f"{strength:.3f}"},
    )
    return reason, warning


def _warn_near_leaks(prepared: Prepared) -> None:
    if prepared.label.kind != "binary":
        return
    for factor in prepared.factors:
        strength = factor.separation
        if strength is not None and strength >= LEAK_WARN_AUC:
            prepared.warnings.append(
                (
                    N_(
                        "'{name}' alone separates defective from good lots almost perfectly "
                        "(AUC {auc}); check that it is measured before the verdict."
                    ),
                    {"name": factor.name, "auc": f"{strength:.3f}"},
                )
            )


# ---- near-duplicates -------------------------------------------------------------------------


def _drop_duplicates(prepared: Prepared, rows: np.ndarray) -> None:
    """Keeps the first of each near-duplicate pair (column order) and names it."""
    factors = prepared.factors
    dropped: dict[int, dict] = {}
    numeric = [i for i, f in enumerate(factors) if f.kind == "numeric"]
    if len(numeric) > 1:
        table = pd.DataFrame({i: factors[i].values[rows] for i in numeric})
        r = table.corr(min_periods=max(10, len(rows) // 20)).to_numpy()
        for a, i in enumerate(numeric):
            for b in range(a):
                j = numeric[b]
                if j not in dropped and i not in dropped and abs(r[a, b]) > DUPLICATE_R:
                    dropped[i] = _excluded(
                        factors[i].name,
                        N_("Near-duplicate of '{twin}' (correlation {r})."),
                        {"twin": factors[j].name, "r": f"{r[a, b]:.3f}"},
                    )
    groupings = {}
    for i, factor in enumerate(factors):
        if i not in dropped:
            codes = _codes(factor, factor.values)
            if codes is not None:
                groupings[i] = codes
    keys = list(groupings)
    for a, i in enumerate(keys):
        for j in keys[:a]:
            if i not in dropped and j not in dropped and _same_grouping(groupings[i], groupings[j]):
                dropped[i] = _excluded(
                    factors[i].name,
                    N_("Same grouping of rows as '{twin}'."),
                    {"twin": factors[j].name},
                )
    for i in sorted(dropped):
        entry = dropped[i]
        entry.pop("identifier")
        prepared.excluded.append(entry)
    prepared.factors = [f for i, f in enumerate(factors) if i not in dropped]


def _same_grouping(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two codings split the rows identically (a one-to-one map between values)."""
    ka, kb = int(a.max()) + 1, int(b.max()) + 1
    pairs = np.count_nonzero(np.bincount(a * kb + b, minlength=ka * kb))
    return pairs == len(np.unique(a)) == len(np.unique(b))
