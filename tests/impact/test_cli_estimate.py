"""``sangsaeng impact estimate``: the JSON contract and bad input named by its rows (exit 2)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from sangsaeng.cli import app

runner = CliRunner()
ARGS = ["--unit", "countyreal", "--time", "year", "--cohort", "first.treat", "--outcome", "lemp"]


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    from moderndid.core.data import load_mpdta

    return load_mpdta().to_pandas()


def _run(path, *extra: str) -> tuple[int, dict]:
    result = runner.invoke(
        app, ["impact", "estimate", "--data", str(path), *ARGS, *extra, "--json"]
    )
    return result.exit_code, json.loads(result.stdout)


def test_the_json_contract(tmp_path, mpdta):
    path = tmp_path / "mpdta.csv"
    mpdta.to_csv(path, index=False, encoding="cp949")
    code, out = _run(path, "--control", "notyet", "--covariates", "lpop", "--method", "reg")
    assert code == 0
    assert set(out) >= {
        "att_gt",
        "aggregations",
        "pretrend_p",
        "n_units",
        "n_periods",
        "control",
        "method",
        "se_type",
    }
    assert (out["n_units"], out["n_periods"]) == (500, 5)
    assert (out["control"], out["method"], out["se_type"]) == ("notyet", "reg", "analytic")
    assert set(out["att_gt"][0]) >= {"group", "time", "att", "se"}
    agg = out["aggregations"]
    assert set(agg["simple"]) >= {"att", "se", "ci"} and len(agg["simple"]["ci"]) == 2
    assert set(agg["dynamic"]["by_event"][0]) >= {"event", "att", "se"}
    assert set(agg["group"]["by_group"][0]) >= {"group", "att", "se"}
    assert set(agg["calendar"]["by_time"][0]) >= {"time", "att", "se"}
    for kind in ("dynamic", "group", "calendar"):
        assert set(agg[kind]["overall"]) >= {"att", "se", "ci"}
    assert 0 < out["pretrend_p"] < 1


def test_bootstrap_and_xlsx(tmp_path, mpdta):
    path = tmp_path / "mpdta.xlsx"
    mpdta.to_excel(path, index=False)
    code, out = _run(path, "--bootstrap", "199", "--seed", "3")
    assert code == 0
    assert out["se_type"] == "bootstrap" and out["bootstrap"] == 199
    assert all(item["band"] for item in out["aggregations"]["dynamic"]["by_event"])


def _broken(tmp_path, mpdta, change) -> tuple[int, dict]:
    frame = mpdta.copy()
    change(frame)
    path = tmp_path / "broken.csv"
    frame.to_csv(path, index=False)
    return _run(path)


def test_a_unit_with_two_cohorts_is_named(tmp_path, mpdta):
    def change(frame):
        frame.loc[1, "first.treat"] = 2006  # unit 8001's second year; its others say 2007

    code, out = _broken(tmp_path, mpdta, change)
    assert code == 2
    assert "8001" in out["message"] and "2, 3, 4, 5, 6" in out["message"]


def test_a_cohort_outside_the_time_range_is_named(tmp_path, mpdta):
    def change(frame):
        frame.loc[frame["countyreal"] == 8001, "first.treat"] = 2009

    code, out = _broken(tmp_path, mpdta, change)
    assert code == 2 and "2, 3, 4, 5, 6" in out["message"] and "2003" in out["message"]


def test_a_non_numeric_outcome_is_named(tmp_path, mpdta):
    def change(frame):
        frame["lemp"] = frame["lemp"].astype(object)
        frame.loc[9, "lemp"] = "n/a"

    code, out = _broken(tmp_path, mpdta, change)
    assert code == 2 and "11" in out["message"] and "lemp" in out["message"]


def test_too_few_never_treated_units_are_refused(tmp_path, mpdta):
    def change(frame):
        never = frame.loc[frame["first.treat"] == 0, "countyreal"].unique()
        frame.loc[frame["countyreal"].isin(never[3:]), "first.treat"] = 2007

    code, out = _broken(tmp_path, mpdta, change)
    assert code == 2 and "3" in out["message"]
    code, _ = _run(tmp_path / "missing.csv")
    assert code == 2
