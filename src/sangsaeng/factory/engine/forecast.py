"""Demand forecasts per series, the model chosen per series by rolling-origin cross-validation.

Public API (the web layer and the CLI call these three; all pure, no files or settings):

``prepare(frame, *, id_col, time_col, value_col, freq=None, first_row=2, aggregate=False)``
    → ``(series, freq)``. ``series`` is a long frame ``unique_id`` (str), ``ds`` (datetime64),
    ``y`` (float ≥ 0), sorted, one row per series and period, gaps filled with 0 (no demand
    recorded); ``series.attrs["warnings"]`` lists ``[msgid, params]`` messages (filled gaps,
    a frequency that was inferred). ``freq`` is a pandas frequency (``D``, ``B``, ``W-MON``,
    ``MS``, ``ME``, ``h``…), inferred from the dates when not given. With ``aggregate=True``
    raw lines (order lines) are summed per series and period, each date falling into the period
    that contains it (weeks are labelled by their first day, months by ``MS``/``ME``), and
    every series runs to the file's last period (no lines: no demand).
    Bad rows raise ``ForecastError(problems)``, ``problems`` = ``[(msgid, params)]`` naming the
    file's rows (``first_row`` is the first data row's number in the file).

``forecast(series, *, horizon, freq, season_length=None, holidays=True, level=(80, 95),
n_windows=3, seed=0, progress=None, n_jobs=1, max_history=-1, runner=None)`` → ::

    {"series": [{"id", "model", "season_length", "intermittent", "cv_windows", "n_obs",
                 "mase_scale", "members" (the combination's models, else []),
                 "cv": {MODEL: {"mase", "smape"}, ...},          # every candidate
                 "forecast": [{"time", "mean", "lo80", "hi80", "lo95", "hi95"}, ...],
                 "warnings": [[msgid, params], ...]}, ...],
     "summary": {"n_series", "n_intermittent", "freq", "horizon", "season_length",
                 "seasonal_periods", "levels", "cv": {...}, "history", "candidates",
                 "combination", "selection", "intervals", "holiday_regressor", "seed",
                 "models_chosen": {MODEL: n}, "cv_mase": {MODEL: mean}, "warnings",
                 "method": [[msgid, params], ...]}}

    Candidates per series (statsforecast 2.1): SeasonalNaive, AutoETS, AutoARIMA, AutoTheta,
    AutoCES and "Combination", the plain mean of AutoETS, AutoCES and AutoTheta (combinations
    won M4; on M4 Weekly the mean of ETS, CES and dynamic optimized Theta alone scored OWA
    0.767 here). Frequencies with two seasonal
    periods (hourly: 24 and 168) add SeasonalNaive168, SeasonalWindowAverage (the same hour
    over the last 7 days), SeasonalWindowAverage168 (the same hour of the week over the last
    2 weeks) and MSTL, when the series covers two of the longer periods. ETS and ARIMA are
    seasonal up to 12 periods (longer seasons: Theta, CES, MSTL and the naive family).
    Intermittent series — average demand interval ADI = periods ÷ periods with demand ≥ 1.32
    (Syntetos, Boylan & Croston 2005) — also get CrostonOptimized, ADIDA, IMAPA and TSB
    (α_d = α_p = 0.1). "BestTwoMean" is the mean of a series' two best single models in
    cross-validation, scored on the same windows that pick them (so its CV score flatters it a
    little; on M4 Hourly choosing it that way still beat choosing single models). Models see
    the last five years of periods (hourly: five weeks; ``history_periods``). Each candidate
    is scored by rolling-origin cross-validation (``n_windows`` windows of ``horizon``
    periods, step ``horizon``; models with a ``forward`` are fitted at the first origin and
    updated with the data up to each later one, the rest refitted per window): MASE
    (mean absolute error ÷ the in-sample MAE of the seasonal naive forecast, as in M4;
    averaged over windows) and sMAPE (as a fraction, 0–2: M4's percentage ÷ 100). The model
    with the lowest CV MASE is chosen and refitted; its forecast starts at the period after
    the last observation. Intervals: the models' own where they have them, statsforecast's
    conformal intervals for the window averages and the intermittent models, the members'
    bounds averaged for the two means. Demand is never negative: forecasts and bounds are
    clipped at 0. Korean public holidays enter AutoARIMA as a regressor for daily (holiday
    dummy), weekly (holiday days in the week from its labelled first day) and monthly
    (holiday days in the month) data. Short series get fewer windows; a series too short for
    one window gets SeasonalNaive with a warning. ``progress(done, total)`` is called as
    series pass cross-validation and forecasting. ``runner`` runs statsforecast's two calls
    (see ``LocalRunner``); the Spark module passes one that runs them through Fugue, so
    selection and output are the same code.

``track(forecast_result, actuals)`` → ::

    {"series": [{"id", "n", "mae", "mase", "bias", "coverage": {"80", "95"},
                 "periods": [{"time", "actual", "mean", "error", "in80", "in95"}, ...]}, ...],
     "overall": {"n", "n_series", "mae", "mase", "coverage": {...}}, "method": [...]}

    Forecast against actual as new data arrives: every period with both a forecast and an
    actual; error = actual − forecast; MASE = MAE ÷ the series' in-sample scale stored with the
    forecast; coverage = share of actuals inside each interval.
"""

from __future__ import annotations

import warnings as pywarnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sangsaeng.factory.engine.problems import N_, InputProblems, row_list

MIN_OBS = 4  # fewer periods than this are no series to forecast
MIN_TRAIN = 8  # the shortest training set a cross-validation window may have
INTERMITTENT_ADI = 1.32  # Syntetos, Boylan & Croston (2005): ADI cut-off for intermittent demand
TSB_ALPHA = 0.1
COMBINATION = "Combination"
BEST_TWO = "BestTwoMean"  # the mean of a series' two best single models in cross-validation
COMBINED = ("AutoETS", "AutoCES", "AutoTheta")
REGULAR = ("SeasonalNaive", "AutoETS", "AutoARIMA", "AutoTheta", "AutoCES")
# Seasonal ETS and ARIMA only up to 12 periods: beyond, a fit takes seconds (ETS has no
# seasonal models beyond 24 at all) and on hourly data they lose to the seasonal-naive family,
# MSTL, Theta and CES, which carry longer seasons here.
MAX_ETS_ARIMA_SEASON = 12
HISTORY_CYCLES = 5  # models see the last five yearly cycles (hourly data: five weeks)
INTERMITTENT = ("CrostonOptimized", "ADIDA", "IMAPA", "TSB")
NATIVE_INTERVALS = {"SeasonalNaive", "AutoETS", "AutoARIMA", "AutoTheta", "AutoCES", "MSTL"}
WINDOW_AVERAGE = "SeasonalWindowAverage"
HOLIDAY = "holiday_days"


class ForecastError(InputProblems):
    pass


def _names(values: Sequence[str]) -> str:
    shown = ", ".join(str(v) for v in values[:10])
    return shown + (f" (+{len(values) - 10})" if len(values) > 10 else "")


# ---------------------------------------------------------------------------------------------
# prepare


def prepare(
    frame: pd.DataFrame,
    *,
    id_col: str | None,
    time_col: str,
    value_col: str,
    freq: str | None = None,
    first_row: int = 2,
    aggregate: bool = False,
) -> tuple[pd.DataFrame, str]:
    """The long series frame (``unique_id``, ``ds``, ``y``) and its frequency; see the module
    docstring. ``id_col=None`` reads one series named after the value column."""
    wanted = [c for c in (id_col, time_col, value_col) if c is not None]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise ForecastError(
            [(N_("Missing column(s): {columns}."), {"columns": ", ".join(missing)})]
        )
    offset = None
    if freq is not None:
        offset = _offset(freq)
        if offset is None:
            raise ForecastError([(N_("Unknown frequency '{freq}'."), {"freq": freq})])
    problems: list[tuple[str, dict]] = []
    ids = (
        pd.Series(str(value_col), index=frame.index)
        if id_col is None
        else frame[id_col].astype(str).str.strip()
    )
    blank_id = (ids == "") | (ids.str.lower() == "nan")
    if blank_id.any():
        problems.append(
            (
                N_("Rows {rows}: '{column}' is empty."),
                {"rows": row_list(blank_id.to_numpy(), first_row), "column": id_col},
            )
        )
    times = _dates(frame[time_col])
    bad = times.isna().to_numpy()
    if bad.any():
        problems.append(
            (
                N_("Rows {rows}: '{column}' is not a date."),
                {"rows": row_list(bad, first_row), "column": time_col},
            )
        )
    raw = frame[value_col]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna().to_numpy() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        problems.append(
            (
                N_("Rows {rows}: '{column}' is empty or not a number."),
                {"rows": row_list(bad, first_row), "column": value_col},
            )
        )
    negative = (values < 0).to_numpy()
    if negative.any():
        problems.append(
            (
                N_("Rows {rows}: '{column}' is negative."),
                {"rows": row_list(negative, first_row), "column": value_col},
            )
        )
    if problems:
        raise ForecastError(problems)
    notes: list[list] = []
    long = pd.DataFrame({"unique_id": ids.to_numpy(), "ds": times.to_numpy(), "y": values})
    long["y"] = long["y"].astype(float)
    if freq is None:
        freq = _infer_freq(long, aggregate)
        if freq is None:
            raise ForecastError(
                [
                    (
                        N_(
                            "The dates in '{column}' have no regular spacing; give the "
                            "frequency (e.g. D, W-MON, MS)."
                        ),
                        {"column": time_col},
                    )
                ]
            )
        notes.append([N_("Frequency inferred from the dates: {freq}."), {"freq": freq}])
        offset = _offset(freq)
    period = _period_start(long["ds"], offset)
    if aggregate:
        partial = _partial_periods(long["ds"], period, offset)
        long["ds"] = period
        long = long.groupby(["unique_id", "ds"], as_index=False, sort=True)["y"].sum()
        if partial:
            # a week or month the file covers only in part would read as a drop in demand
            long = long[~long["ds"].isin(partial)].reset_index(drop=True)
            notes.append(
                [
                    N_("Period(s) {periods} only partly in the file: left out."),
                    {"periods": ", ".join(p.strftime("%Y-%m-%d") for p in partial)},
                ]
            )
    else:
        off = (period != long["ds"]).to_numpy()
        if off.any():
            raise ForecastError(
                [
                    (
                        N_(
                            "Rows {rows}: '{column}' is not on the {freq} calendar; sum the "
                            "lines per period or give another frequency."
                        ),
                        {"rows": row_list(off, first_row), "column": time_col, "freq": freq},
                    )
                ]
            )
        duplicated = long.duplicated(["unique_id", "ds"], keep=False).to_numpy()
        if duplicated.any():
            raise ForecastError(
                [
                    (
                        N_("Rows {rows}: the same series and period appear more than once."),
                        {"rows": row_list(duplicated, first_row)},
                    )
                ]
            )
        long = long.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    # summed order lines: a product without orders in the file's last periods had no demand
    long, filled = _fill_gaps(long, freq, end=long["ds"].max() if aggregate else None)
    if filled:
        notes.append(
            [
                N_("Series {ids}: {n} missing period(s) filled with 0 (no demand recorded)."),
                {"ids": _names(list(filled)), "n": int(sum(filled.values()))},
            ]
        )
    sizes = long.groupby("unique_id").size()
    short = sizes[sizes < MIN_OBS]
    if len(short):
        raise ForecastError(
            [
                (
                    N_("Series {ids}: fewer than {n} periods; a forecast needs at least {n}."),
                    {"ids": _names(list(short.index)), "n": MIN_OBS},
                )
            ]
        )
    long.attrs["warnings"] = notes
    return long, freq


def _dates(column: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column):
        dates = column
    else:
        text = column.astype(str).str.strip()
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            dates = pd.to_datetime(text.where(text != ""), errors="coerce", format="mixed")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert("Asia/Seoul").dt.tz_localize(None)
    return dates.astype("datetime64[ns]")


def _offset(freq: str):
    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            return pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError):
        return None


def _period_start(times: pd.Series, offset) -> pd.Series:
    """The label of the period each time falls in: ticks floor (days, hours), anchored offsets
    roll back to their anchor (a week's first day, a month's start) or, for period-end offsets
    (ME, QE, YE), forward to the period's end."""
    if isinstance(offset, pd.offsets.Tick):
        return times.dt.floor(offset)
    normalized = times.dt.normalize()
    unique = pd.Series(normalized.unique())
    roll = offset.rollforward if _is_end_anchored(offset) else offset.rollback
    mapping = dict(zip(unique, unique.map(roll), strict=True))
    labels = normalized.map(mapping)
    # a time of day inside a period still belongs to it: labels are dates
    return labels.astype("datetime64[ns]")


def _partial_periods(times: pd.Series, period: pd.Series, offset) -> list[pd.Timestamp]:
    """The first and last period when the file's dates cover them only in part (calendar
    periods of several days: weeks, months, quarters, years)."""
    if isinstance(offset, pd.offsets.Tick):
        return []
    first_day, last_day = times.min().normalize(), times.max().normalize()
    first, last = period.min(), period.max()
    partial = []
    if _is_end_anchored(offset):
        starts = first - offset + pd.Timedelta(days=1)
        if first_day > starts:
            partial.append(first)
        if last_day < last:
            partial.append(last)
    else:
        if first_day > first:
            partial.append(first)
        if last_day < last + offset - pd.Timedelta(days=1):
            partial.append(last)
    return sorted(set(partial))


def _is_end_anchored(offset) -> bool:
    return type(offset).__name__ in {
        "MonthEnd",
        "QuarterEnd",
        "YearEnd",
        "BusinessMonthEnd",
        "BQuarterEnd",
        "BYearEnd",
    }


def _infer_freq(long: pd.DataFrame, aggregate: bool) -> str | None:
    """The frequency of the dates: the commonest step between consecutive periods of a series
    (order lines: between distinct dates), named the pandas way."""
    steps = []
    for _, ds in long.groupby("unique_id")["ds"]:
        unique = np.unique(ds.to_numpy())
        if len(unique) > 1:
            steps.append(np.diff(unique))
    if not steps:
        return None
    diffs = pd.to_timedelta(np.concatenate(steps))
    step = diffs.value_counts().idxmax()
    dates = pd.DatetimeIndex(long["ds"].unique())
    midnight = bool((dates == dates.normalize()).all())
    day = pd.Timedelta(days=1)
    if step < day or not midnight:
        if step >= day:
            step = day if aggregate else step
        offset = pd.tseries.frequencies.to_offset(step)
        return offset.freqstr if offset is not None else None
    if step == day:
        weekend = dates.dayofweek >= 5
        three_day = (diffs == 3 * day).sum() > 0
        return "B" if (not weekend.any() and three_day) else "D"
    if step == 7 * day:
        weekdays = np.unique(dates.dayofweek)
        if len(weekdays) != 1 and not aggregate:
            return None
        names = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
        return f"W-{names[int(pd.Series(dates.dayofweek).mode()[0])]}"
    for low, high, start, end in (
        (28, 31, "MS", "ME"),
        (89, 92, "QS", "QE"),
        (365, 366, "YS", "YE"),
    ):
        if low * day <= step <= high * day:
            if (dates.is_month_start).all():
                return start
            if (dates.is_month_end).all():
                return end
            return start if aggregate else None
    if step % day == pd.Timedelta(0):
        return f"{step // day}D"
    return None


def _fill_gaps(
    long: pd.DataFrame, freq: str, end: pd.Timestamp | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Every series on its full calendar from its first period to its last (or ``end``);
    missing periods are 0."""
    filled: dict[str, int] = {}
    parts = []
    for uid, group in long.groupby("unique_id", sort=True):
        last = end if end is not None else group["ds"].iloc[-1]
        full = pd.date_range(group["ds"].iloc[0], last, freq=freq)
        if len(full) != len(group):
            filled[str(uid)] = len(full) - len(group)
            y = group.set_index("ds")["y"].reindex(full, fill_value=0.0).to_numpy()
            parts.append(pd.DataFrame({"unique_id": uid, "ds": full, "y": y}))
        else:
            parts.append(group)
    if not filled:
        return long.reset_index(drop=True), filled
    return pd.concat(parts, ignore_index=True), filled


# ---------------------------------------------------------------------------------------------
# forecast


class LocalRunner:
    """statsforecast's cross-validation and forecast in this process (``n_jobs`` processes)."""

    def cross_validation(self, sf, df: pd.DataFrame, **kwargs) -> pd.DataFrame:
        return sf.cross_validation(df=df, **kwargs)

    def forecast(self, sf, df: pd.DataFrame, **kwargs) -> pd.DataFrame:
        return sf.forecast(df=df, **kwargs)


@dataclass
class _Plan:
    uid: str
    y: np.ndarray
    season: int  # the season length the models use for this series (1: none)
    seasons: tuple[int, ...]  # all usable seasonal periods (MSTL when two or more)
    windows: int
    intermittent: bool
    history: int | None  # the models see the last this many periods (None: all)
    warnings: list = field(default_factory=list)

    @property
    def key(self) -> tuple:
        return (self.season, self.seasons, self.windows, self.intermittent, self.history)


def default_seasons(freq: str) -> tuple[int, ...]:
    """Seasonal periods by frequency: hours 24 and 168, days 7, business days 5, weeks 52,
    months 12, quarters 4; the first is the season length of the single-season models."""
    offset = _offset(freq)
    name = type(offset).__name__ if offset is not None else ""
    n = getattr(offset, "n", 1) or 1
    if name == "Hour":
        return (24 // n, 168 // n) if 24 % n == 0 else (1,)
    if name == "Minute":
        per_day = 1440 // n if 1440 % n == 0 else 1
        return (per_day, per_day * 7) if per_day > 1 else (1,)
    if name == "Day":
        return (7,) if n == 1 else (1,)
    if name == "BusinessDay":
        return (5,)
    if name == "Week":
        return (52,)
    if name in {"MonthBegin", "MonthEnd", "BusinessMonthBegin", "BusinessMonthEnd"}:
        return (12,)
    if name.startswith("Quarter") or name.startswith("BQuarter"):
        return (4,)
    return (1,)


def history_periods(freq: str) -> int | None:
    """How many recent periods the models are fitted to: five years of days, weeks, months or
    quarters, five weeks of hours. Older demand seldom helps a short-term forecast (on M4
    Weekly, Theta fitted to the last 260 weeks scored OWA 0.785 against 0.872 on all of them)."""
    offset = _offset(freq)
    name = type(offset).__name__ if offset is not None else ""
    n = getattr(offset, "n", 1) or 1
    cycle = {
        "Hour": 168 // n if 168 % n == 0 else 0,
        "Minute": 10080 // n if 10080 % n == 0 else 0,
        "Day": 365 // n,
        "BusinessDay": 260,
        "Week": 52,
        "MonthBegin": 12,
        "MonthEnd": 12,
        "QuarterBegin": 4,
        "QuarterEnd": 4,
    }.get(name, 0)
    return HISTORY_CYCLES * cycle if cycle else None


def _holiday_kind(freq: str) -> str | None:
    name = type(_offset(freq)).__name__
    if name in {"Day", "BusinessDay"} and getattr(_offset(freq), "n", 1) == 1:
        return "day"
    if name == "Week":
        return "week"
    if name in {"MonthBegin", "MonthEnd"}:
        return "month"
    return None


def holiday_days(ds: pd.Series | pd.DatetimeIndex, kind: str) -> np.ndarray:
    """Korean public holidays (``holidays.KR``, substitute holidays included) per period: a
    dummy for days, the number of holiday days in the week (from the labelled first day) or in
    the month."""
    import holidays as holiday_calendars

    dates = pd.DatetimeIndex(ds)
    if len(dates) == 0:
        return np.zeros(0)
    first, last = dates.min(), dates.max() + pd.Timedelta(days=31)
    calendar = holiday_calendars.KR(years=range(first.year, last.year + 1))
    days = pd.DatetimeIndex(sorted(pd.Timestamp(d) for d in calendar))
    if kind == "day":
        return dates.normalize().isin(days).astype(float)
    if kind == "week":
        starts = dates.normalize().to_numpy()
        sorted_days = days.to_numpy()
        lo = np.searchsorted(sorted_days, starts, side="left")
        hi = np.searchsorted(sorted_days, starts + np.timedelta64(7, "D"), side="left")
        return (hi - lo).astype(float)
    months = dates.to_period("M")
    counts = pd.Series(1.0, index=days.to_period("M")).groupby(level=0).sum()
    return counts.reindex(months, fill_value=0.0).to_numpy()


def _plan(
    uid: str,
    y: np.ndarray,
    seasons: tuple[int, ...],
    horizon: int,
    n_windows: int,
    history: int | None,
) -> _Plan:
    n = len(y)
    primary = seasons[0]
    # seasonal models need two full seasons in the first training window
    season = primary if primary > 1 and n - horizon >= 2 * primary else 1
    min_train = max(MIN_TRAIN, horizon + 1, 2 * season)
    windows = int(min(n_windows, max(0, (n - min_train) // horizon)))
    first_train = n - windows * horizon
    usable = tuple(s for s in seasons if s > 1 and first_train >= 2 * s)
    multi = usable if len(usable) >= 2 else ()
    nonzero = int(np.count_nonzero(y))
    intermittent = nonzero >= 2 and n / nonzero >= INTERMITTENT_ADI
    # the cap never cuts below what the seasons and the first window need
    cap = max(history, 2 * max(seasons) + horizon, min_train) if history else None
    plan = _Plan(uid, y, season, multi, windows, intermittent, cap)
    if windows == 0:
        plan.warnings.append(
            [
                N_(
                    "Too short for cross-validation ({n} periods, horizon {h}): "
                    "seasonal naive forecast without model selection."
                ),
                {"n": n, "h": horizon},
            ]
        )
    elif windows < n_windows:
        plan.warnings.append(
            [
                N_("Short series: {w} cross-validation window(s) instead of {n}."),
                {"w": windows, "n": n_windows},
            ]
        )
    if primary > 1 and season == 1:
        plan.warnings.append(
            [
                N_("Fewer than two seasons of {m} periods: models without seasonality."),
                {"m": primary},
            ]
        )
    if nonzero == 0:
        plan.warnings.append([N_("No demand recorded: the forecast is 0."), {}])
    return plan


def _candidates(plan: _Plan) -> list[str]:
    if plan.windows == 0:
        return ["SeasonalNaive"]
    names = list(REGULAR)
    if plan.seasons:
        # two seasonal periods (hours in a day and in a week): naive at the longer one, the
        # same hour averaged over the last week's days and over the last two weeks, and MSTL
        longest = plan.seasons[-1]
        names += [f"SeasonalNaive{longest}", WINDOW_AVERAGE, f"{WINDOW_AVERAGE}{longest}", "MSTL"]
    names.append(COMBINATION)
    if plan.intermittent:
        names.extend(INTERMITTENT)
    names.append(BEST_TWO)
    return names


def _model(name: str, plan: _Plan, horizon: int, conformal_windows: int | None):
    """A statsforecast model; ``conformal_windows`` adds conformal intervals to models that
    have no native ones (the final fit only: cross-validation needs no intervals)."""
    from statsforecast.models import (
        ADIDA,
        IMAPA,
        MSTL,
        TSB,
        AutoARIMA,
        AutoCES,
        AutoETS,
        AutoTheta,
        CrostonOptimized,
        SeasonalNaive,
        SeasonalWindowAverage,
    )
    from statsforecast.utils import ConformalIntervals

    m = plan.season
    short = m if m <= MAX_ETS_ARIMA_SEASON else 1
    conformal = None
    if conformal_windows and not _native_intervals(name):
        conformal = ConformalIntervals(h=horizon, n_windows=max(2, conformal_windows))
    if name == "SeasonalNaive":
        return SeasonalNaive(season_length=m)
    if name.startswith("SeasonalNaive"):
        return SeasonalNaive(season_length=int(name.removeprefix("SeasonalNaive")), alias=name)
    if name == WINDOW_AVERAGE:
        window = plan.seasons[-1] // m
        return SeasonalWindowAverage(
            season_length=m, window_size=window, alias=name, prediction_intervals=conformal
        )
    if name.startswith(WINDOW_AVERAGE):
        longest = int(name.removeprefix(WINDOW_AVERAGE))
        return SeasonalWindowAverage(
            season_length=longest, window_size=2, alias=name, prediction_intervals=conformal
        )
    if name == "AutoETS":
        return AutoETS(season_length=short)
    if name == "AutoARIMA":
        # The order search is R's auto.arima default for long or seasonal series
        # (approximation = n > 150 or m > 12) applied always, with orders up to 2 (seasonal:
        # 1): five to seven times faster than statsforecast's defaults, on M4 Weekly about 1 %
        # less accurate alone.
        return AutoARIMA(
            season_length=short,
            max_p=2,
            max_q=2,
            max_P=1,
            max_Q=1,
            approximation=True,
        )
    if name == "AutoTheta":
        return AutoTheta(season_length=m)
    if name == "AutoCES":
        return AutoCES(season_length=m, alias="AutoCES")
    if name == "MSTL":
        return MSTL(season_length=list(plan.seasons), trend_forecaster=AutoETS(model="ZZN"))
    if name == "CrostonOptimized":
        return CrostonOptimized(prediction_intervals=conformal)
    if name == "ADIDA":
        return ADIDA(prediction_intervals=conformal)
    if name == "IMAPA":
        return IMAPA(prediction_intervals=conformal)
    if name == "TSB":
        return TSB(alpha_d=TSB_ALPHA, alpha_p=TSB_ALPHA, prediction_intervals=conformal)
    raise ValueError(name)


def _native_intervals(name: str) -> bool:
    return name in NATIVE_INTERVALS or name.startswith("SeasonalNaive")


def _fitted_names(names: Iterable[str]) -> list[str]:
    """The statsforecast models behind candidate names (the combination is its members; the
    best two are among the others)."""
    out: list[str] = []
    for name in names:
        if name == BEST_TWO:
            continue
        for part in COMBINED if name == COMBINATION else (name,):
            if part not in out:
                out.append(part)
    return out


def _scales(y: np.ndarray, ends: Iterable[int], m: int) -> np.ndarray:
    """In-sample MAE of the seasonal naive forecast on ``y[:end]`` for each end (M4's MASE
    denominator); naive (m = 1) when a series is too short, and 1 for a constant series."""
    out = []
    for end in ends:
        train = y[:end]
        scale = 0.0
        for period in (m, 1):
            if len(train) > period:
                scale = float(np.mean(np.abs(train[period:] - train[:-period])))
                if scale > 0:
                    break
        if scale <= 0:
            scale = float(np.mean(np.abs(train))) or 1.0
        out.append(scale)
    return np.asarray(out)


def _smape(actual: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Per point: 2|y − f| / (|y| + |f|), 0 where both are 0 (a fraction, 0–2)."""
    denominator = np.abs(actual) + np.abs(predicted)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, 2 * np.abs(actual - predicted) / denominator, 0.0)


def _score_cv(cv: pd.DataFrame, plans: dict[str, _Plan], names: list[str], horizon: int):
    """CV MASE and sMAPE of every candidate per series, {uid: {name: {"mase", "smape"}}}, and
    the two single models whose mean is the series' BestTwoMean, {uid: (a, b)}. The pair is
    picked on the same windows that score it, so its CV score flatters it a little (the
    method says so); on M4 Hourly choosing it that way still beat choosing single models."""
    cv = cv.sort_values(["unique_id", "cutoff", "ds"], kind="stable")
    for name in _fitted_names(names):
        cv[name] = cv[name].clip(lower=0.0)
    if COMBINATION in names:
        cv[COMBINATION] = cv[list(COMBINED)].mean(axis=1)
    scores: dict[str, dict[str, dict[str, float]]] = {}
    pairs: dict[str, tuple[str, ...]] = {}
    for uid, group in cv.groupby("unique_id", sort=False):
        plan = plans[str(uid)]
        n = len(plan.y)
        windows = group["cutoff"].nunique()
        ends = [n - (windows - k) * horizon for k in range(windows)]
        scale = np.repeat(_scales(plan.y, ends, plan.season), horizon)
        actual = group["y"].to_numpy(float)
        window = np.repeat(np.arange(windows), horizon)

        args = (actual, window, scale, horizon)
        per_series = {
            name: _window_scores(group[name].to_numpy(float), *args)
            for name in names
            if name != BEST_TWO
        }
        if BEST_TWO in names:
            singles = [n for n in names if n not in (COMBINATION, BEST_TWO)]
            pair = tuple(
                sorted(singles, key=lambda n: (per_series[n]["mase"], singles.index(n)))[:2]
            )
            pairs[str(uid)] = pair
            per_series[BEST_TWO] = _window_scores(
                group[list(pair)].to_numpy(float).mean(axis=1), *args
            )
        scores[str(uid)] = per_series
    return scores, pairs


def _window_scores(predicted, actual, window, scale, horizon) -> dict[str, float]:
    """MASE (per window, then averaged) and sMAPE of one candidate's CV forecasts."""
    if not np.isfinite(predicted).all():
        return {"mase": float("inf"), "smape": float("inf")}
    error = np.abs(actual - predicted)
    return {
        "mase": float(np.mean(np.bincount(window, error / scale) / horizon)),
        "smape": float(np.mean(_smape(actual, predicted))),
    }


def _choose(scores: dict[str, dict[str, float]], names: list[str]) -> str:
    # the first of equals wins, and SeasonalNaive comes first: a model must beat it to be chosen
    best = min(names, key=lambda name: (scores[name]["mase"], names.index(name)))
    return best


def forecast(
    series: pd.DataFrame,
    *,
    horizon: int,
    freq: str,
    season_length: int | None = None,
    holidays: bool = True,
    level: Sequence[int] = (80, 95),
    n_windows: int = 3,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    n_jobs: int = 1,
    max_history: int | None = -1,
    runner=None,
) -> dict:
    """Forecasts per series with the model chosen by cross-validation; see the module
    docstring for the shape. ``seed`` is recorded: every model here is deterministic.
    ``max_history``: the models see at most this many recent periods (-1: ``history_periods``
    of the frequency; None: all)."""
    _check_arguments(series, horizon, freq, season_length, level, n_windows)
    runner = runner or LocalRunner()
    levels = sorted({int(lv) for lv in level})
    seasons = default_seasons(freq)
    if season_length:
        # a given season length replaces the first period; longer multiples of it stay (MSTL)
        m = int(season_length)
        longer = tuple(s for s in seasons if m > 1 and s > m and s % m == 0)
        seasons = (m, *longer)
    kind = _holiday_kind(freq) if holidays else None
    history = history_periods(freq) if max_history == -1 else max_history
    series = series.sort_values(["unique_id", "ds"], kind="stable")
    starts: dict[str, pd.Timestamp] = {}
    plans: dict[str, _Plan] = {}
    for uid, group in series.groupby("unique_id", sort=True):
        uid = str(uid)
        plans[uid] = _plan(uid, group["y"].to_numpy(float), seasons, horizon, n_windows, history)
        starts[uid] = group["ds"].iloc[0]
    total = 2 * len(plans)
    done = 0

    def tick(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, total)

    groups: dict[tuple, list[_Plan]] = {}
    for plan in plans.values():
        groups.setdefault(plan.key, []).append(plan)
    results: dict[str, dict] = {}
    for members in groups.values():
        results.update(
            _run_group(members, starts, horizon, freq, kind, levels, n_jobs, runner, tick)
        )
    ordered = [results[uid] for uid in plans]
    return {
        "series": ordered,
        "summary": _summary(
            ordered, plans, freq, horizon, seasons, levels, n_windows, kind, seed, series, history
        ),
    }


def _check_arguments(series, horizon, freq, season_length, level, n_windows) -> None:
    problems: list[tuple[str, dict]] = []
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        problems.append((N_("The horizon must be a whole number of periods ≥ 1."), {}))
    if _offset(freq) is None:
        problems.append((N_("Unknown frequency '{freq}'."), {"freq": freq}))
    if season_length is not None and (int(season_length) != season_length or season_length < 1):
        problems.append((N_("The season length must be a whole number ≥ 1."), {}))
    if any(not 0 < lv < 100 for lv in level):
        problems.append((N_("Interval levels must lie between 0 and 100."), {}))
    if n_windows < 1:
        problems.append((N_("At least one cross-validation window is needed."), {}))
    if series.empty:
        problems.append((N_("No data rows."), {}))
    if problems:
        raise ForecastError(problems)


def _with_dates(
    plans: list[_Plan], starts: dict, freq: str, kind: str | None, recent: bool = False
) -> pd.DataFrame:
    """The series as statsforecast takes them; ``recent``: only the periods the final fit sees
    (cross-validation caps each window's training set itself, by ``input_size``)."""
    parts = []
    for plan in plans:
        ds = pd.date_range(starts[plan.uid], periods=len(plan.y), freq=freq)
        y = plan.y
        if recent and plan.history and len(y) > plan.history:
            ds, y = ds[-plan.history :], y[-plan.history :]
        part = pd.DataFrame({"unique_id": plan.uid, "ds": ds, "y": y})
        if kind:
            part[HOLIDAY] = holiday_days(ds, kind)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _future(plans: list[_Plan], starts: dict, freq: str, horizon: int, kind: str | None):
    parts = []
    for plan in plans:
        ds = pd.date_range(starts[plan.uid], periods=len(plan.y) + horizon, freq=freq)[-horizon:]
        part = pd.DataFrame({"unique_id": plan.uid, "ds": ds})
        if kind:
            part[HOLIDAY] = holiday_days(ds, kind)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _statsforecast(models: list, freq: str, n_jobs: int, season: int):
    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    # a model that fails on a series is replaced there by seasonal naive (said in the method)
    return StatsForecast(
        models=models, freq=freq, n_jobs=n_jobs, fallback_model=SeasonalNaive(season_length=season)
    )


def _uses_holidays(names: Iterable[str], kind: str | None) -> bool:
    return kind is not None and "AutoARIMA" in _fitted_names(names)


def _cross_validate(fitted, plan0, data, horizon, freq, n_jobs, runner) -> pd.DataFrame:
    """Every model's forecasts in every window. Models that can be run forward (ETS, ARIMA,
    Theta, CES, MSTL, seasonal naive) are fitted at the first origin and then only updated
    with each later window's data (statsforecast's refit=False: the orders and parameters of
    the first fit, the data up to each origin); the cheap rest are refitted per window. An
    ARIMA search costs as much as all the other models together, so this halves the time."""
    models = [_model(n, plan0, horizon, None) for n in fitted]
    updated = [m for m in models if hasattr(m, "forward")]
    refitted = [m for m in models if not hasattr(m, "forward")]
    parts = []
    for batch, refit in ((updated, False), (refitted, True)):
        if not batch:
            continue
        sf = _statsforecast(batch, freq, n_jobs, plan0.season)
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            part = runner.cross_validation(
                sf,
                data,
                h=horizon,
                n_windows=plan0.windows,
                step_size=horizon,
                input_size=plan0.history,
                refit=refit,
            )
        parts.append(part.set_index(["unique_id", "ds", "cutoff"]))
    joined = parts[0] if len(parts) == 1 else parts[0].join(parts[1].drop(columns="y"))
    return joined.reset_index()


def _run_group(members, starts, horizon, freq, kind, levels, n_jobs, runner, tick) -> dict:
    plan0 = members[0]
    names = _candidates(plan0)
    by_uid = {p.uid: p for p in members}
    pairs: dict[str, tuple[str, ...]] = {}
    if plan0.windows == 0:
        chosen = {p.uid: "SeasonalNaive" for p in members}
        scores: dict[str, dict] = {p.uid: {} for p in members}
        tick(len(members))
    else:
        exog = kind if _uses_holidays(names, kind) else None
        data = _with_dates(members, starts, freq, exog)
        cv = _cross_validate(_fitted_names(names), plan0, data, horizon, freq, n_jobs, runner)
        scores, pairs = _score_cv(cv, by_uid, names, horizon)
        chosen = {uid: _choose(scores[uid], names) for uid in by_uid}
        tick(len(members))
    # the models each series' forecast needs: its chosen model, or the members of its mean
    needs = {
        uid: pairs[uid] if name == BEST_TWO else tuple(COMBINED) if name == COMBINATION else (name,)
        for uid, name in chosen.items()
    }
    out = {}
    for name, fitted in dict.fromkeys((chosen[uid], needs[uid]) for uid in chosen):
        subset = [by_uid[uid] for uid in chosen if (chosen[uid], needs[uid]) == (name, fitted)]
        exog = kind if _uses_holidays(fitted, kind) else None
        data = _with_dates(subset, starts, freq, exog, recent=True)
        future = _future(subset, starts, freq, horizon, exog) if exog else None
        sf = _statsforecast(
            [_model(n, plan0, horizon, max(plan0.windows, 2)) for n in fitted],
            freq,
            n_jobs,
            plan0.season,
        )
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            fc = runner.forecast(sf, data, h=horizon, X_df=future, level=levels)
        out.update(_series_results(fc, subset, name, fitted, scores, levels, freq, horizon))
        tick(len(subset))
    return out


def _series_results(fc, subset, name, members, scores, levels, freq, horizon) -> dict:
    fc = fc.sort_values(["unique_id", "ds"], kind="stable")
    members = list(members)
    columns = {"mean": members}
    for lv in levels:
        columns[f"lo{lv}"] = [f"{m}-lo-{lv}" for m in members]
        columns[f"hi{lv}"] = [f"{m}-hi-{lv}" for m in members]
    # the combination's bounds are the members' bounds averaged (quantile averaging)
    values = {
        key: np.clip(fc[cols].to_numpy(float).mean(axis=1), 0.0, None)
        for key, cols in columns.items()
    }
    times = _time_text(fc["ds"], freq)
    uids = fc["unique_id"].astype(str).to_numpy()
    out = {}
    plans = {p.uid: p for p in subset}
    bounds = np.flatnonzero(np.r_[True, uids[1:] != uids[:-1]])
    for start in bounds:
        uid = uids[start]
        stop = start + horizon
        rows = [
            {
                "time": times[i],
                **{key: round(float(v[i]), 4) for key, v in values.items()},
            }
            for i in range(start, stop)
        ]
        plan = plans[uid]
        out[uid] = {
            "id": uid,
            "model": name,
            "members": members if len(members) > 1 else [],
            "season_length": plan.season,
            "intermittent": plan.intermittent,
            "n_obs": len(plan.y),
            "cv_windows": plan.windows,
            "mase_scale": float(_scales(plan.y, [len(plan.y)], plan.season)[0]),
            "cv": {
                k: {"mase": _round(s["mase"]), "smape": _round(s["smape"])}
                for k, s in scores.get(uid, {}).items()
            },
            "forecast": rows,
            "warnings": plan.warnings,
        }
    return out


def _round(value: float) -> float | None:
    return round(value, 4) if np.isfinite(value) else None


def _time_text(ds: pd.Series, freq: str) -> list[str]:
    offset = _offset(freq)
    daily = not isinstance(offset, pd.offsets.Tick) or offset.nanos % 86_400_000_000_000 == 0
    fmt = "%Y-%m-%d" if daily else "%Y-%m-%dT%H:%M:%S"
    return pd.DatetimeIndex(ds).strftime(fmt).tolist()


def _summary(
    results, plans, freq, horizon, seasons, levels, n_windows, kind, seed, series, history
):
    chosen: dict[str, int] = {}
    for row in results:
        chosen[row["model"]] = chosen.get(row["model"], 0) + 1
    candidates = sorted({name for plan in plans.values() for name in _candidates(plan)})
    cv_mase = {}
    for name in candidates:
        values = [r["cv"][name]["mase"] for r in results if r["cv"].get(name, {}).get("mase")]
        if values:
            cv_mase[name] = round(float(np.mean(values)), 4)
    n_intermittent = sum(p.intermittent for p in plans.values())
    holiday_used = kind is not None and any(
        "AutoARIMA" in _fitted_names(_candidates(p)) for p in plans.values()
    )
    method = _method(horizon, seasons, n_windows, levels, kind if holiday_used else None, history)
    notes = list(series.attrs.get("warnings", []))
    return {
        "n_series": len(results),
        "n_intermittent": n_intermittent,
        "freq": freq,
        "horizon": horizon,
        "season_length": seasons[0],
        "seasonal_periods": list(seasons),
        "levels": levels,
        "cv": {
            "windows": n_windows,
            "horizon": horizon,
            "step": horizon,
            "refit": "first origin; later origins update the fitted models (refitted: "
            "window averages, intermittent models)",
        },
        "history": history,
        "candidates": candidates,
        "combination": list(COMBINED),
        "selection": "lowest mean CV MASE",
        "intervals": {
            "native": sorted(NATIVE_INTERVALS),
            "conformal": [WINDOW_AVERAGE, *INTERMITTENT],
            "combination": "mean of the members' bounds (Combination, BestTwoMean)",
        },
        "holiday_regressor": {
            "used": holiday_used,
            "kind": kind if holiday_used else None,
            "models": ["AutoARIMA"] if holiday_used else [],
        },
        "models_chosen": chosen,
        "cv_mase": cv_mase,
        "seed": seed,
        "warnings": notes,
        "method": method,
    }


def _method(horizon, seasons, n_windows, levels, kind, history) -> list[list]:
    lines = [
        [
            N_(
                "Candidates per series (statsforecast): seasonal naive, AutoETS, AutoARIMA, "
                "AutoTheta, AutoCES and their combination (the plain mean of AutoETS, AutoCES "
                "and AutoTheta); with two seasonal periods (hours of the day and of the week) "
                "also seasonal naive at the longer period, the same hour averaged over the last "
                "week's days and over the last two weeks, and MSTL; intermittent series "
                "(average demand interval ≥ {adi}) also CrostonOptimized, ADIDA, IMAPA and TSB; "
                "and BestTwoMean, the mean of the series' two best single models in "
                "cross-validation (scored on the same windows that pick them, so its CV score "
                "flatters it a little)."
            ),
            {"adi": INTERMITTENT_ADI},
        ],
        [
            N_(
                "Season length {m} (ETS and ARIMA seasonal up to {max} periods); the models "
                "see the last {history} periods; rolling-origin cross-validation over up to "
                "{w} window(s) of {h} period(s): ETS, ARIMA, Theta, CES, MSTL and seasonal "
                "naive fitted at the first origin and updated with the data up to each later "
                "one, the other models refitted; short series get fewer windows."
            ),
            {
                "m": ", ".join(str(s) for s in seasons),
                "max": MAX_ETS_ARIMA_SEASON,
                "history": history if history else "—",
                "w": n_windows,
                "h": horizon,
            },
        ],
        [
            N_(
                "Scores: MASE (mean absolute error ÷ the in-sample mean absolute error of the "
                "seasonal naive forecast) and sMAPE (a fraction, 0–2); the model with the "
                "lowest mean CV MASE is chosen and refitted."
            ),
            {},
        ],
        [
            N_(
                "Intervals {levels} %: the models' own for seasonal naive, ETS, ARIMA, Theta, "
                "CES and MSTL; conformal (statsforecast) for the window averages and the "
                "intermittent models; the combination's and BestTwoMean's bounds are their "
                "members' bounds averaged. Forecasts and bounds are clipped at 0."
            ),
            {"levels": "/".join(str(lv) for lv in levels)},
        ],
    ]
    if kind:
        unit = {
            "day": N_("a holiday dummy per day"),
            "week": N_("the number of holiday days in the week"),
            "month": N_("the number of holiday days in the month"),
        }[kind]
        lines.append(
            [
                N_("Korean public holidays (holidays.KR) enter AutoARIMA as {unit}."),
                {"unit": [unit, {}]},
            ]
        )
    else:
        lines.append([N_("No holiday regressor at this frequency."), {}])
    lines.append(
        [
            N_(
                "A model that fails to fit a series is replaced there by seasonal naive; "
                "a series too short for one window gets seasonal naive without selection."
            ),
            {},
        ]
    )
    return lines


# ---------------------------------------------------------------------------------------------
# track


def track(forecast_result: dict | list, actuals: pd.DataFrame) -> dict:
    """Forecast against actual for every period that has both; see the module docstring.
    ``actuals`` is a long frame ``unique_id``, ``ds``, ``y`` (as ``prepare`` returns)."""
    entries = forecast_result["series"] if isinstance(forecast_result, dict) else forecast_result
    stamps = pd.DatetimeIndex(actuals["ds"])
    fmt = "%Y-%m-%d" if (stamps == stamps.normalize()).all() else "%Y-%m-%dT%H:%M:%S"
    actual = actuals.assign(unique_id=actuals["unique_id"].astype(str), time=stamps.strftime(fmt))
    by_key = {
        (uid, t): float(y)
        for uid, t, y in zip(actual["unique_id"], actual["time"], actual["y"], strict=True)
    }
    levels: list[int] = []
    rows_out = []
    all_errors: list[float] = []
    inside_all: dict[int, list[bool]] = {}
    mases = []
    for entry in entries:
        uid = str(entry["id"])
        periods = []
        for row in entry["forecast"]:
            key = (uid, str(row["time"]))
            if key not in by_key:
                continue
            y = by_key[key]
            record = {"time": row["time"], "actual": y, "mean": row["mean"]}
            record["error"] = round(y - row["mean"], 4)
            for name in row:
                if name.startswith("lo") and name[2:].isdigit():
                    lv = int(name[2:])
                    if lv not in levels:
                        levels.append(lv)
                    record[f"in{lv}"] = bool(row[name] <= y <= row[f"hi{lv}"])
            periods.append(record)
        if not periods:
            continue
        errors = np.array([p["error"] for p in periods])
        mae = float(np.mean(np.abs(errors)))
        scale = entry.get("mase_scale")
        mase = mae / scale if scale else None
        if mase is not None:
            mases.append(mase)
        coverage = {}
        for lv in sorted(levels):
            flags = [p[f"in{lv}"] for p in periods if f"in{lv}" in p]
            if flags:
                coverage[str(lv)] = round(float(np.mean(flags)), 4)
                inside_all.setdefault(lv, []).extend(flags)
        all_errors.extend(np.abs(errors).tolist())
        rows_out.append(
            {
                "id": uid,
                "model": entry.get("model"),
                "n": len(periods),
                "mae": round(mae, 4),
                "mase": _round(mase) if mase is not None else None,
                "bias": round(float(np.mean(errors)), 4),
                "coverage": coverage,
                "periods": periods,
            }
        )
    overall = {
        "n": len(all_errors),
        "n_series": len(rows_out),
        "mae": round(float(np.mean(all_errors)), 4) if all_errors else None,
        "mase": round(float(np.mean(mases)), 4) if mases else None,
        "coverage": {
            str(lv): round(float(np.mean(flags)), 4) for lv, flags in sorted(inside_all.items())
        },
    }
    method = [
        [
            N_(
                "Each period with both a forecast and an actual: error = actual − forecast; "
                "MAE per series and over all periods; MASE = MAE ÷ the series' in-sample "
                "seasonal-naive MAE, averaged over series; coverage = share of actuals inside "
                "each interval."
            ),
            {},
        ]
    ]
    return {"series": rows_out, "overall": overall, "method": method}
