"""Demand forecasts: the CLI contract, where the forecast starts, the chosen model beating
seasonal naive on planted series (trend + weekly season; intermittent spare parts; the demo
order book), interval coverage on simulated data, the holiday regressor, tracking, and bad
input refused by row (exit 2)."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sangsaeng.cli import app
from sangsaeng.demo.factory_demand import HEADERS, PLANTED_DEMAND, expected_daily, order_file
from sangsaeng.factory.engine.forecast import (
    ForecastError,
    forecast,
    holiday_days,
    prepare,
    track,
)

runner = CliRunner()


def _long(values: dict[str, np.ndarray], start: str, freq: str) -> pd.DataFrame:
    parts = [
        pd.DataFrame(
            {"unique_id": uid, "ds": pd.date_range(start, periods=len(y), freq=freq), "y": y}
        )
        for uid, y in values.items()
    ]
    return pd.concat(parts, ignore_index=True)


def _mae(entry: dict, actual: np.ndarray) -> float:
    return float(np.mean(np.abs(np.array([r["mean"] for r in entry["forecast"]]) - actual)))


def _seasonal_naive_mae(history: np.ndarray, actual: np.ndarray, m: int) -> float:
    repeated = np.resize(history[-m:], len(actual))
    return float(np.mean(np.abs(repeated - actual)))


def _trend_weekly(rng: np.random.Generator, n: int) -> np.ndarray:
    t = np.arange(n)
    week = np.array([1.3, 1.2, 1.1, 1.0, 0.9, 0.5, 0.4])[t % 7]
    return (50 + 0.4 * t) * week + rng.normal(0, 3, n)


def _spare_part(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.where(rng.random(n) < 0.25, rng.integers(1, 7, n), 0).astype(float)


# ------------------------------------------------------------------------------- planted


@pytest.fixture(scope="module")
def planted():
    """Daily series, the last 14 days held out: trending with a weekly season."""
    rng = np.random.default_rng(7)
    n, h = 140, 14
    full = {f"trend{i}": _trend_weekly(rng, n) for i in range(2)}
    train = _long({k: v[:-h] for k, v in full.items()}, "2024-01-01", "D")
    result = forecast(train, horizon=h, freq="D", holidays=False, n_windows=2)
    return full, h, result


@pytest.fixture(scope="module")
def spares():
    """Weekly spare-part demand over a year and a half, ordered in about one week of four;
    the last eight weeks held out."""
    rng = np.random.default_rng(8)
    n, h = 80, 8
    full = {f"spare{i}": _spare_part(rng, n) for i in range(6)}
    train = _long({k: v[:-h] for k, v in full.items()}, "2023-01-02", "W-MON")
    result = forecast(train, horizon=h, freq="W-MON", holidays=False, n_windows=3)
    return full, h, result


def test_the_contract_shape(planted):
    full, h, result = planted
    assert set(result) == {"series", "summary"}
    assert [s["id"] for s in result["series"]] == sorted(full)
    for entry in result["series"]:
        assert {"id", "model", "cv", "forecast"} <= set(entry)
        assert "SeasonalNaive" in entry["cv"] and entry["model"] in entry["cv"]
        assert set(entry["cv"]["SeasonalNaive"]) == {"mase", "smape"}
        assert len(entry["forecast"]) == h
        for row in entry["forecast"]:
            assert set(row) == {"time", "mean", "lo80", "hi80", "lo95", "hi95"}
            assert 0 <= row["lo95"] <= row["lo80"] <= row["mean"] <= row["hi80"] <= row["hi95"]
    summary = result["summary"]
    assert summary["n_series"] == len(full)
    assert summary["selection"] == "lowest mean CV MASE"
    assert (summary["cv"]["windows"], summary["cv"]["horizon"], summary["cv"]["step"]) == (2, h, h)
    assert "SeasonalNaive" in summary["candidates"] and summary["method"]
    json.dumps(result)  # plain JSON


def test_the_forecast_starts_the_period_after_the_last_observation(planted):
    _, _, result = planted
    # 140 − 14 = 126 days from 2024-01-01: the last is 2024-05-05
    assert result["series"][0]["forecast"][0]["time"] == "2024-05-06"
    assert result["series"][0]["forecast"][-1]["time"] == "2024-05-19"


def test_chosen_model_beats_seasonal_naive_in_cv_and_on_held_out_days(planted):
    full, h, result = planted
    for entry in result["series"]:
        y = full[entry["id"]]
        cv = entry["cv"]
        assert cv[entry["model"]]["mase"] < cv["SeasonalNaive"]["mase"], entry["id"]
        assert entry["model"] == min(cv, key=lambda k: cv[k]["mase"])
        assert _mae(entry, y[-h:]) < _seasonal_naive_mae(y[:-h], y[-h:], 7), entry["id"]


def test_spare_parts_are_intermittent_and_beat_seasonal_naive(spares, planted):
    """Per part, MAE over a few windows of mostly-zero weeks is noisy (and rewards forecasting
    nothing, the median), so the comparison is pooled over the six parts: mean CV MASE, and
    on the held-out weeks the squared error and the error of each part's eight-week total —
    the quantity a spare-part plan orders."""
    full, h, result = spares
    assert result["summary"]["n_intermittent"] == 6
    assert not any(e["intermittent"] for e in planted[2]["series"])
    chosen, naive_cv = [], []
    ours, naive = {"sq": 0.0, "total": 0.0}, {"sq": 0.0, "total": 0.0}
    for entry in result["series"]:
        assert entry["intermittent"]
        assert {"CrostonOptimized", "ADIDA", "IMAPA", "TSB"} <= set(entry["cv"])
        chosen.append(entry["cv"][entry["model"]]["mase"])
        naive_cv.append(entry["cv"]["SeasonalNaive"]["mase"])
        y = full[entry["id"]]
        actual = y[-h:]
        mean = np.array([r["mean"] for r in entry["forecast"]])
        repeated = np.resize(y[:-h][-entry["season_length"] :], h)
        for errors, predicted in ((ours, mean), (naive, repeated)):
            errors["sq"] += float(np.sum((predicted - actual) ** 2))
            errors["total"] += abs(float(predicted.sum() - actual.sum()))
    assert np.mean(chosen) < np.mean(naive_cv)
    assert ours["sq"] < naive["sq"] and ours["total"] < naive["total"], (ours, naive)


def test_other_frequencies_start_after_the_last_period():
    rng = np.random.default_rng(1)
    weekly = _long({"a": rng.poisson(20, 40).astype(float)}, "2024-01-01", "W-MON")
    result = forecast(weekly, horizon=4, freq="W-MON", n_windows=1)
    assert [r["time"] for r in result["series"][0]["forecast"]][:2] == ["2024-10-07", "2024-10-14"]
    monthly = _long({"a": rng.poisson(20, 30).astype(float)}, "2022-01-01", "MS")
    result = forecast(monthly, horizon=3, freq="MS", n_windows=1)
    assert result["series"][0]["forecast"][0]["time"] == "2024-07-01"


def test_a_series_too_short_for_cross_validation_gets_seasonal_naive_with_a_warning():
    series = _long({"new": np.array([3.0, 5, 4, 6, 5])}, "2024-01-01", "D")
    result = forecast(series, horizon=7, freq="D")
    entry = result["series"][0]
    assert entry["model"] == "SeasonalNaive" and entry["cv"] == {}
    assert entry["warnings"] and "Too short" in entry["warnings"][0][0]
    assert len(entry["forecast"]) == 7


# ----------------------------------------------------------------------- intervals, holidays


def test_intervals_cover_near_their_nominal_rate_on_simulated_data():
    """Random walks with noise (no season): held-out coverage of 8 steps over 16 series.
    Intervals of a model chosen by its CV error run a little narrow (the selection and the
    parameters' own uncertainty are not in them): over 60 such series 0.76 and 0.92 here."""
    rng = np.random.default_rng(3)
    n, h = 60, 8
    full = {f"s{i}": 100 + np.cumsum(rng.normal(0, 2, n)) + rng.normal(0, 2, n) for i in range(16)}
    train = _long({k: v[:-h] for k, v in full.items()}, "2020-01-06", "W-MON")
    result = forecast(train, horizon=h, freq="W-MON", holidays=False, n_windows=1)
    inside = {80: [], 95: []}
    for entry in result["series"]:
        actual = full[entry["id"]][-h:]
        for row, y in zip(entry["forecast"], actual, strict=True):
            for lv in inside:
                inside[lv].append(row[f"lo{lv}"] <= y <= row[f"hi{lv}"])
    assert 0.65 <= np.mean(inside[80]) <= 0.92
    assert 0.83 <= np.mean(inside[95]) <= 1.0


def test_holiday_days_per_period():
    days = holiday_days(pd.date_range("2024-09-15", periods=4, freq="D"), "day")
    assert days.tolist() == [0.0, 1.0, 1.0, 1.0]  # 추석 2024: 16–18 September
    weeks = holiday_days(pd.DatetimeIndex(["2024-09-16", "2024-09-23"]), "week")
    assert weeks.tolist() == [3.0, 0.0]
    months = holiday_days(pd.DatetimeIndex(["2024-09-01"]), "month")
    assert months[0] == 3.0


def test_the_holiday_regressor_reduces_error_on_planted_holiday_dips():
    """Daily demand that falls to a fifth on public holidays; the held-out fortnight holds
    추석 (16–18 September 2024)."""
    rng = np.random.default_rng(11)
    ds = pd.date_range("2024-01-01", "2024-09-22", freq="D")
    base = 100 + 10 * np.sin(np.arange(len(ds)) * 2 * np.pi / 7)
    y = base * np.where(holiday_days(ds, "day") > 0, 0.2, 1.0) + rng.normal(0, 3, len(ds))
    h = 14
    train = pd.DataFrame({"unique_id": "a", "ds": ds[:-h], "y": y[:-h]})
    actual = y[-h:]
    # four months of history hold 어린이날, 현충일 and 광복절 (in a CV window)
    kwargs = {"horizon": h, "freq": "D", "n_windows": 2, "max_history": 120}
    with_holidays = forecast(train, holidays=True, **kwargs)
    without = forecast(train, holidays=False, **kwargs)
    assert with_holidays["summary"]["holiday_regressor"]["models"] == ["AutoARIMA"]
    assert without["summary"]["holiday_regressor"]["used"] is False
    entry = with_holidays["series"][0]
    assert _mae(entry, actual) < 0.6 * _mae(without["series"][0], actual)
    dips = [r["mean"] for r in entry["forecast"][7:10]]  # 16–18 September
    assert max(dips) < 0.5 * entry["forecast"][3]["mean"]


# --------------------------------------------------------------------------------- demo


@pytest.fixture(scope="module")
def demo():
    rng = np.random.default_rng(2026)
    lines = order_file(rng, date(2025, 1, 1))
    series, freq = prepare(
        lines, id_col="제품", time_col="주문일", value_col="수량", aggregate=True
    )
    h = 14
    cut = series["ds"].max() - pd.Timedelta(days=h)
    train = series[series["ds"] <= cut]
    # the last twelve weeks are plenty for a fortnight ahead, and keeps the test quick
    result = forecast(train, horizon=h, freq=freq, n_windows=1, max_history=84)
    return lines, series, freq, h, result


def test_demo_order_lines_sum_to_daily_series(demo):
    lines, series, freq, _, _ = demo
    assert freq == "D"
    assert set(lines.columns) == set(HEADERS.values())
    assert series["y"].sum() == pd.to_numeric(lines["수량"]).sum()
    # days without orders are 0, up to the file's last day for every product
    assert series.groupby("unique_id")["ds"].max().eq(pd.Timestamp("2025-12-31")).all()
    assert series.groupby("unique_id").size().max() == 365


def test_demo_forecasts_beat_seasonal_naive_and_recover_the_planted_demand(demo):
    """Against the planted expectation of the held-out fortnight (not its noisy orders): the
    chosen model's forecast is closer than seasonal naive's, and for the regular products
    the fortnight's total (trend included) is within 20 %."""
    _, series, _, h, result = demo
    expected = expected_daily(date(2025, 1, 1))
    products = PLANTED_DEMAND["products"]
    for entry in result["series"]:
        cv = entry["cv"]
        assert cv[entry["model"]]["mase"] < cv["SeasonalNaive"]["mase"], entry["id"]
        assert entry["intermittent"] is (products[entry["id"]]["kind"] == "intermittent")
        history = series.loc[series["unique_id"] == entry["id"], "y"].to_numpy()[:-h]
        truth = expected[entry["id"]].to_numpy()[-h:]
        naive = np.resize(history[-7:], h)
        assert _mae(entry, truth) < float(np.mean(np.abs(naive - truth))), entry["id"]
        if products[entry["id"]]["kind"] != "intermittent":
            forecast_total = sum(r["mean"] for r in entry["forecast"])
            assert abs(forecast_total / truth.sum() - 1) < 0.2, entry["id"]


# ---------------------------------------------------------------------------------- track


def test_track_compares_forecasts_with_actuals_as_they_arrive():
    result = {
        "series": [
            {
                "id": "a",
                "model": "AutoETS",
                "mase_scale": 2.0,
                "forecast": [
                    {
                        "time": "2024-07-01",
                        "mean": 10,
                        "lo80": 8,
                        "hi80": 12,
                        "lo95": 6,
                        "hi95": 14,
                    },
                    {
                        "time": "2024-07-02",
                        "mean": 10,
                        "lo80": 8,
                        "hi80": 12,
                        "lo95": 6,
                        "hi95": 14,
                    },
                    {
                        "time": "2024-07-03",
                        "mean": 10,
                        "lo80": 8,
                        "hi80": 12,
                        "lo95": 6,
                        "hi95": 14,
                    },
                ],
            }
        ]
    }
    actuals = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.to_datetime(["2024-06-30", "2024-07-01", "2024-07-02"]),
            "y": [9, 11, 15],
        }
    )
    tracked = track(result, actuals)
    entry = tracked["series"][0]
    assert entry["n"] == 2 and entry["mae"] == 3.0 and entry["mase"] == 1.5
    assert entry["bias"] == 3.0  # actual − forecast: under-forecast
    assert entry["coverage"] == {"80": 0.5, "95": 0.5}
    assert [p["in95"] for p in entry["periods"]] == [True, False]
    assert tracked["overall"] == {
        "n": 2,
        "n_series": 1,
        "mae": 3.0,
        "mase": 1.5,
        "coverage": {"80": 0.5, "95": 0.5},
    }


# ------------------------------------------------------------------------------ bad input


def _orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "제품": ["A"] * 6,
            "주문일": [f"2024-01-0{d}" for d in range(1, 7)],
            "수량": ["5", "3", "4", "6", "2", "5"],
        }
    )


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda f: f.drop(columns="수량"), "수량"),
        (lambda f: f.assign(주문일=f["주문일"].where(f.index != 2, "내일")), "Rows 4"),
        (lambda f: f.assign(수량=f["수량"].where(f.index != 1, "다섯")), "Rows 3"),
        (
            lambda f: f.assign(수량=f["수량"].where(f.index != 4, "-2")),
            "Rows 6: '수량' is negative",
        ),
        (lambda f: f.assign(주문일=f["주문일"].where(f.index != 5, "2024-01-05")), "Rows 6, 7"),
        (lambda f: f.head(3), "fewer than 4"),
    ],
)
def test_bad_rows_are_named(change, fragment):
    with pytest.raises(ForecastError) as caught:
        prepare(change(_orders()), id_col="제품", time_col="주문일", value_col="수량", freq="D")
    assert fragment in str(caught.value)


def test_prepare_infers_frequency_fills_gaps_and_sums_order_lines():
    frame = pd.DataFrame(
        {
            "p": ["A", "A", "A", "A", "A"],
            "d": ["2024-01-01", "2024-01-08", "2024-01-22", "2024-01-29", "2024-02-05"],
            "q": [1, 2, 3, 4, 5],
        }
    )
    series, freq = prepare(frame, id_col="p", time_col="d", value_col="q")
    assert freq == "W-MON"
    assert series["y"].tolist() == [1, 2, 0, 3, 4, 5]
    assert any("filled with 0" in w[0] for w in series.attrs["warnings"])
    days = ["2024-01-01", "2024-01-03", "2024-01-09", "2024-01-16", "2024-01-24", "2024-01-28"]
    lines = pd.DataFrame({"p": "A", "d": days, "q": [1, 2, 3, 4, 5, 1]})
    weekly, freq = prepare(
        lines, id_col="p", time_col="d", value_col="q", freq="W-MON", aggregate=True
    )
    assert weekly["y"].tolist() == [3, 3, 4, 6]
    assert weekly["ds"].iloc[0] == pd.Timestamp("2024-01-01")  # weeks labelled by Monday
    # a week the file covers only in part (up to Wednesday 31 January) is left out, and said
    more = pd.concat([lines, pd.DataFrame({"p": ["A"], "d": ["2024-01-31"], "q": [9]})])
    weekly, _ = prepare(more, id_col="p", time_col="d", value_col="q", freq="W-MON", aggregate=True)
    assert weekly["y"].tolist() == [3, 3, 4, 6]
    assert any("only partly" in w[0] for w in weekly.attrs["warnings"])


def test_cli_prints_the_contract_and_refuses_bad_input(tmp_path):
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "제품": "A",
            "주문일": pd.date_range("2024-01-01", periods=40, freq="W-MON").strftime("%Y-%m-%d"),
            "수량": rng.poisson(30, 40),
        }
    )
    path = tmp_path / "orders.csv"
    frame.to_csv(path, index=False, encoding="cp949")
    args = ["factory", "forecast", "--data", str(path), "--id", "제품", "--time", "주문일"]
    result = runner.invoke(
        app, [*args, "--value", "수량", "--horizon", "4", "--windows", "1", "--json"]
    )
    assert result.exit_code == 0, result.stdout
    payload = json.loads(result.stdout)
    entry = payload["series"][0]
    assert entry["id"] == "A" and "SeasonalNaive" in entry["cv"]
    assert entry["forecast"][0]["time"] == "2024-10-07"
    assert payload["summary"]["freq"] == "W-MON"
    assert all(isinstance(line, str) for line in payload["summary"]["method"])
    frame["수량"] = frame["수량"].astype(str)
    frame.loc[3, "수량"] = "많음"
    frame.to_csv(path, index=False, encoding="cp949")
    refused = runner.invoke(app, [*args, "--value", "수량", "--horizon", "4", "--json"])
    assert refused.exit_code == 2
    error = json.loads(refused.stdout)
    assert (
        error["code"] == "invalid_input" and "5" in error["message"] and "수량" in error["message"]
    )
    missing = runner.invoke(app, [*args, "--value", "금액", "--horizon", "4", "--json"])
    assert missing.exit_code == 2 and "금액" in json.loads(missing.stdout)["message"]
    horizon = runner.invoke(app, [*args, "--value", "수량", "--horizon", "0", "--json"])
    assert horizon.exit_code == 2
