"""Defect root causes on the demo's planted process data: the two planted causes ranked first
with their thresholds, the correlated-only parameter marked as such, the traps (leak, constant,
duplicate, identifier, dates) left out with reasons, valid q-values, imbalanced labels, rates,
determinism, per-lot explanations and the CLI contract with exit 2 on bad input."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sangsaeng.cli import app
from sangsaeng.demo.factory_process import PLANTED_ROOT_CAUSES as PLANTED
from sangsaeng.demo.factory_process import english, one_year
from sangsaeng.factory.engine.rootcause import PARAMS, RootCauseError, analyse, explain, fit

runner = CliRunner()
TEMPERATURE, PRESSURE, HUMIDITY = PLANTED.temperature, PLANTED.pressure, PLANTED.correlated_only


@pytest.fixture(scope="module")
def lots() -> pd.DataFrame:
    return one_year(0)  # 17,520 lots, about 4 % defective


@pytest.fixture(scope="module")
def model(lots):
    return fit(lots, target="판정", seed=0)


@pytest.fixture(scope="module")
def result(model) -> dict:
    return model.result


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return one_year(1, lots_per_machine_day=2)  # 4,380 lots


def _factor(result: dict, name: str) -> dict:
    return next(f for f in result["factors"] if f["name"] == name)


def _reason(result: dict, name: str) -> str:
    return next(e["reason"][0] for e in result["excluded"] if e["name"] == name)


def test_the_planted_causes_rank_first_with_their_thresholds(result, lots):
    top3 = [f["name"] for f in result["factors"][:3]]
    assert TEMPERATURE in top3 and PRESSURE in top3
    importance = [f["importance"] for f in result["factors"]]
    assert importance == sorted(importance, reverse=True)
    for name, threshold, factor in (
        (TEMPERATURE, PLANTED.temperature_threshold, PLANTED.temperature_factor),
        (PRESSURE, PLANTED.pressure_threshold, PLANTED.pressure_factor),
    ):
        row = _factor(result, name)
        assert row["role"] == "driver" and row["independent"]
        assert row["direction"] == "higher" and row["side"] == "above"
        # LightGBM splits only between histogram bins (max_bin of them over the range), so the
        # step its SHAP values take can sit up to one bin away from the planted threshold.
        one_bin = np.ptp(lots[name].dropna()) / PARAMS["max_bin"]
        assert abs(row["threshold"] - threshold) <= one_bin
        # Causes are independent of each other, so the rate ratio across the threshold is the
        # planted factor: its 95 % interval covers it and excludes 1.
        lo, hi = row["ci"]
        assert 1 < lo <= factor <= hi
        assert row["n"] == int((lots[name] > row["threshold"]).sum())
        assert row["summary"][0].startswith("Above {threshold}")


def test_the_correlated_only_parameter_is_marked_weaker(result):
    humidity = _factor(result, HUMIDITY)
    assert humidity["importance"] < _factor(result, PRESSURE)["importance"]
    assert humidity["importance"] < _factor(result, TEMPERATURE)["importance"]
    # Linked to defects on its own, but adds nothing once temperature is known.
    assert humidity["univariate"]["q"] < 0.05
    assert humidity["adjusted"]["q"] >= 0.05
    assert humidity["role"] == "correlated_only" and humidity["independent"] is False
    assert humidity["through"] == TEMPERATURE
    assert humidity["note"][1]["through"] == TEMPERATURE
    # The shift it goes with is in the same position.
    shift = _factor(result, PLANTED.through)
    assert shift["role"] == "correlated_only" and shift["through"] == TEMPERATURE
    assert shift["importance"] < humidity["importance"] or shift["importance"] == 0


def test_traps_are_left_out_with_reasons(result):
    assert _reason(result, "로트").startswith("Identifier")
    assert _reason(result, "전원전압(V)").startswith("Constant")
    assert _reason(result, "불량유형").startswith("Leakage")
    assert any(w[1].get("name") == "불량유형" for w in result["warnings"])
    duplicate = next(e for e in result["excluded"] if e["name"] == "온도(°F)")
    assert duplicate["reason"][0].startswith("Near-duplicate") and (
        duplicate["reason"][1]["twin"] == TEMPERATURE
    )
    assert _reason(result, "일시").startswith("Date/time")
    names = {f["name"] for f in result["factors"]}
    assert {"일시:hour", "일시:weekday"} <= names
    # The date column's weekday is the date-time's: one of the two is kept.
    assert _reason(result, "일자:weekday").startswith("Same grouping")
    excluded = {e["name"] for e in result["excluded"]}
    assert not names & excluded - {"일시:hour", "일시:weekday"}


def test_missing_values_and_many_categories_are_kept(result, lots):
    vibration = _factor(result, "진동(mm/s)")
    assert vibration["missing"] == int(lots["진동(mm/s)"].isna().sum()) > 0
    assert result["model"]["missing_cells"] >= vibration["missing"]
    operators = _factor(result, "작업자")
    assert operators["kind"] == "categorical"
    assert result["model"]["categories"]["pooled"]["작업자"] == lots["작업자"].nunique() - 20


def test_q_values_are_benjamini_hochberg(result):
    for key in ("univariate", "adjusted"):
        tests = [f[key] for f in result["factors"] if f[key]["p"] is not None]
        p = np.array([t["p"] for t in tests])
        q = np.array([t["q"] for t in tests])
        assert np.all((q >= p - 1e-15) & (q <= 1))
        order = np.argsort(p, kind="stable")
        assert np.all(np.diff(q[order]) >= -1e-15)  # monotone in p
        m = len(p)
        expected = np.minimum.accumulate((p[order] * m / np.arange(1, m + 1))[::-1])[::-1]
        assert np.allclose(q[order], np.minimum(expected, 1))


def test_the_model_states_how_it_was_computed(result):
    model = result["model"]
    assert model["shap"]["sample"] == min(20_000, result["n_rows"])
    assert model["shap"]["of"] == result["n_rows"] == 17_520
    cv = model["cv"]
    assert cv["folds"] == len(cv["auc_folds"]) == len(cv["rounds_folds"]) == 3
    assert 0.6 < cv["auc"] < 0.9
    assert cv["pr_auc"] > cv["base_rate"]  # better than guessing
    assert result["n_positive"] == round(result["rate"] * result["n_rows"])


def test_per_lot_explanations_name_the_causes(result, model, lots):
    assert len(result["lots"]) == 10
    first = result["lots"][0]
    row = lots.iloc[first["row"] - 2]
    assert row["판정"] == "불합격" and first["lot"] == row["로트"]
    assert all(lot["factors"][0]["name"] in (TEMPERATURE, PRESSURE) for lot in result["lots"])
    # explain() on other rows: a hot, high-pressure lot is explained by both causes.
    hot = lots[(lots[TEMPERATURE] > 214) & (lots[PRESSURE] > 8.8)].head(1)
    why = explain(model, hot)[0]
    assert {f["name"] for f in why["factors"][:2]} == {TEMPERATURE, PRESSURE}
    assert why["score"] > result["rate"]


def test_imbalanced_labels_still_find_the_strong_cause():
    rare = one_year(2, planted=replace(PLANTED, base_rate=0.004))
    result = analyse(rare, target="판정", explain_top=0)
    assert result["n_positive"] / result["n_rows"] < 0.01
    assert result["factors"][0]["name"] == TEMPERATURE
    assert result["factors"][0]["role"] == "driver"
    assert PRESSURE in [f["name"] for f in result["factors"][:3]]
    assert result["model"]["cv"]["pr_auc"] > 1.5 * result["model"]["cv"]["base_rate"]


def test_labels_in_words_numbers_and_rates(small):
    data = english(small).drop(columns=["defect_type"])
    data["ok"] = np.where(data["result"] == "불합격", "NG", "OK")
    data["flag"] = (data["result"] == "불합격").astype(int)
    text = analyse(data.drop(columns=["result", "flag"]), target="ok", explain_top=0)
    number = analyse(data.drop(columns=["result", "ok"]), target="flag", explain_top=0)
    assert text["target"]["positive"] == "NG" and number["target"]["positive"] == "1"
    assert text["n_positive"] == number["n_positive"] == int(data["flag"].sum())
    # A defect count per lot with the lot size: a rate, modelled per unit.
    rng = np.random.default_rng(5)
    units = rng.integers(100, 400, len(data))
    rate = 0.01 * np.where(data["temperature_c"] > 212, 3.0, 1.0)
    counts = data.drop(columns=["result", "ok", "flag"]).assign(
        defects=rng.binomial(units, rate), units=units
    )
    result = analyse(counts, target="defects", quantity="units", explain_top=0)
    assert result["target"]["kind"] == "rate"
    top = result["factors"][0]
    assert top["name"] == "temperature_c" and abs(top["threshold"] - 212) <= 0.8
    assert top["ci"][0] < 3.0 < top["ci"][1]


def test_same_seed_same_result(small):
    first = analyse(small, target="판정", seed=3, explain_top=3)
    again = analyse(small, target="판정", seed=3, explain_top=3)
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)


def test_bad_input_is_refused(small):
    with pytest.raises(RootCauseError, match="Missing column"):
        analyse(small, target="없는열")
    with pytest.raises(RootCauseError, match="only one value"):
        analyse(small.assign(판정="합격"), target="판정")
    with pytest.raises(RootCauseError, match="does not occur"):
        analyse(small, target="판정", positive="NG")
    with pytest.raises(RootCauseError, match="marks a defective lot"):
        analyse(small, target="제품")
    few = pd.concat([small[small["판정"] == "불합격"].head(5), small.head(15)])
    with pytest.raises(RootCauseError, match="Too few rows"):
        analyse(few, target="판정")
    with pytest.raises(RootCauseError, match="No usable factor") as caught:
        analyse(small[["판정", "로트", "전원전압(V)", "불량유형"]], target="판정")
    assert {e["name"] for e in caught.value.excluded} == {"로트", "전원전압(V)", "불량유형"}


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory, small):
    path = tmp_path_factory.mktemp("rootcause") / "lots.csv"
    # A defect count recorded with the verdict: a numeric leak (blank for good lots).
    defects = np.where(small["판정"] == "불합격", np.arange(len(small)) % 3 + 1, np.nan)
    small.assign(불량수량=defects).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def test_cli_prints_the_contract(csv_file):
    outcome = runner.invoke(
        app, ["factory", "root-cause", "--data", str(csv_file), "--target", "판정", "--json"]
    )
    assert outcome.exit_code == 0, outcome.output
    payload = json.loads(outcome.stdout)
    assert {"factors", "excluded", "n_rows", "n_positive", "model"} <= set(payload)
    assert payload["n_rows"] == 4380
    for factor in payload["factors"]:
        assert {"name", "importance", "direction", "effect", "threshold", "ci"} <= set(factor)
    assert payload["factors"][0]["name"] == TEMPERATURE
    assert isinstance(payload["factors"][0]["summary"], str)
    assert all(isinstance(e["reason"], str) for e in payload["excluded"])
    leak = next(e for e in payload["excluded"] if e["name"] == "불량수량")
    assert "AUC 1.000" in leak["reason"]
    assert all(isinstance(w, str) for w in payload["warnings"])


@pytest.mark.parametrize(
    "extra",
    [
        ["--target", "없는열"],
        ["--target", "판정", "--positive", "NG"],
        ["--target", "전원전압(V)"],
    ],
)
def test_cli_exits_2_on_bad_input(csv_file, extra):
    outcome = runner.invoke(
        app, ["factory", "root-cause", "--data", str(csv_file), *extra, "--json"]
    )
    assert outcome.exit_code == 2
    error = json.loads(outcome.stdout)
    assert error["code"] == "invalid_input" and error["message"]


def test_cli_exits_2_on_too_few_rows(tmp_path, small):
    path = tmp_path / "few.csv"
    pd.concat([small[small["판정"] == "불합격"].head(5), small.head(10)]).to_csv(path, index=False)
    outcome = runner.invoke(
        app, ["factory", "root-cause", "--data", str(path), "--target", "판정", "--json"]
    )
    assert outcome.exit_code == 2
    assert json.loads(outcome.stdout)["code"] == "invalid_input"
