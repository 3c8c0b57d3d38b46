"""Demand forecasts on a local[2] Spark session through statsforecast's Fugue backend give the
embedded path's chosen models, CV scores and forecasts."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java")

MASTER = "local[2]"  # the session of tests/factory/conftest.py


@pytest.fixture(scope="module")
def series() -> pd.DataFrame:
    """Four weekly series: two trending, one flat with noise, one intermittent."""
    rng = np.random.default_rng(4)
    n = 60
    t = np.arange(n)
    values = {
        "up": 50 + 0.8 * t + rng.normal(0, 2, n),
        "down": 120 - 0.5 * t + rng.normal(0, 3, n),
        "flat": 30 + rng.normal(0, 4, n),
        "spare": np.where(rng.random(n) < 0.3, rng.integers(1, 6, n), 0).astype(float),
    }
    return pd.concat(
        [
            pd.DataFrame(
                {"unique_id": k, "ds": pd.date_range("2024-01-01", periods=n, freq="W-MON"), "y": v}
            )
            for k, v in values.items()
        ],
        ignore_index=True,
    )


def test_spark_gives_the_embedded_models_and_forecasts(series, spark_session):
    from sangsaeng.factory.engine.forecast import forecast
    from sangsaeng.factory.spark import forecast_on_spark

    kwargs = {"horizon": 6, "freq": "W-MON", "n_windows": 2}
    embedded = forecast(series, **kwargs)
    on_spark = forecast_on_spark(series, MASTER, **kwargs)
    assert [s["id"] for s in on_spark["series"]] == [s["id"] for s in embedded["series"]]
    for ours, theirs in zip(on_spark["series"], embedded["series"], strict=True):
        assert ours["model"] == theirs["model"], ours["id"]
        assert ours["cv"].keys() == theirs["cv"].keys()
        for name, score in theirs["cv"].items():
            assert ours["cv"][name]["mase"] == pytest.approx(score["mase"], rel=1e-6, abs=1e-6)
        for a, b in zip(ours["forecast"], theirs["forecast"], strict=True):
            assert a["time"] == b["time"]
            for key in ("mean", "lo80", "hi80", "lo95", "hi95"):
                assert a[key] == pytest.approx(b[key], rel=1e-6, abs=1e-4), (ours["id"], key)
    assert on_spark["summary"]["models_chosen"] == embedded["summary"]["models_chosen"]
    assert on_spark["summary"]["n_intermittent"] == 1
