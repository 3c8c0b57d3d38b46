"""SPC: limits against textbook constants and hand computation, the run rules on constructed
violations and not on in-control data, capability, baselines, and the CLI contract."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sangsaeng.cli import app
from sangsaeng.factory.engine.spc import D2, D3, SpcError, c4, control_chart, run_rules
from sangsaeng.factory.engine.spc import _limits as limits_of

runner = CliRunner()


def test_constants_give_the_textbook_factors():
    # Montgomery, Introduction to Statistical Quality Control, Appendix VI.
    assert 3 / (D2[5] * math.sqrt(5)) == pytest.approx(0.577, abs=5e-4)  # A2
    assert 1 + 3 * D3[5] / D2[5] == pytest.approx(2.114, abs=1e-3)  # D4
    assert 1 - 3 * D3[7] / D2[7] == pytest.approx(0.076, abs=1e-3)  # D3
    assert c4(5) == pytest.approx(0.9400, abs=1e-4)
    assert 1 + 3 * math.sqrt(1 - c4(5) ** 2) / c4(5) == pytest.approx(2.089, abs=1e-3)  # B4
    assert c4(25) == pytest.approx(0.9896, abs=1e-4)


def test_xbar_r_limits_equal_a_hand_computation():
    groups = [[10, 12, 11], [11, 13, 12], [9, 11, 13], [12, 12, 12], [10, 14, 12]]
    values = [v for g in groups for v in g]
    labels = [i for i, g in enumerate(groups) for _ in g]
    out = control_chart("xbar-r", values, subgroups=labels).as_dict()
    means = [np.mean(g) for g in groups]
    r_bar = np.mean([max(g) - min(g) for g in groups])  # 2.4
    grand = np.mean(means)
    a2 = 3 / (D2[3] * math.sqrt(3))
    assert out["center"] == pytest.approx(grand)
    assert out["ucl"] == pytest.approx(grand + a2 * r_bar)
    assert out["lcl"] == pytest.approx(grand - a2 * r_bar)
    assert out["points"] == pytest.approx(means)
    ranges = out["secondary"]
    assert ranges["kind"] == "range" and ranges["center"] == pytest.approx(r_bar)
    assert ranges["ucl"] == pytest.approx((1 + 3 * D3[3] / D2[3]) * r_bar)
    assert ranges["lcl"] == 0.0  # 1 − 3·d3/d2 < 0 for n = 3: clipped


def test_imr_limits_and_the_moving_range_chart():
    x = [10.0, 10.4, 9.8, 10.1, 10.6, 9.9, 10.2, 10.0]
    out = control_chart("imr", x).as_dict()
    mr_bar = np.mean(np.abs(np.diff(x)))
    assert out["ucl"] == pytest.approx(np.mean(x) + 2.66 * mr_bar, rel=1e-3)
    assert out["lcl"] == pytest.approx(np.mean(x) - 2.66 * mr_bar, rel=1e-3)
    assert out["secondary"]["ucl"] == pytest.approx(3.267 * mr_bar, rel=1e-3)
    assert out["secondary"]["lcl"] == 0.0


def test_p_chart_limits_vary_with_sample_size_and_a_negative_lcl_is_clipped():
    defectives = [2, 5, 1, 3, 4]
    sizes = [50, 100, 40, 80, 60]
    out = control_chart("p", defectives, sizes=sizes).as_dict()
    p_bar = sum(defectives) / sum(sizes)
    assert out["center"] == pytest.approx(p_bar)
    assert isinstance(out["ucl"], list) and len(out["ucl"]) == 5
    assert out["ucl"][1] == pytest.approx(p_bar + 3 * math.sqrt(p_bar * (1 - p_bar) / 100))
    assert out["lcl"] == 0.0  # every lower limit is below zero here
    assert out["points"] == pytest.approx([d / n for d, n in zip(defectives, sizes, strict=True)])


def test_c_np_and_u_charts():
    c = control_chart("c", [4, 6, 3, 5, 7, 2]).as_dict()
    assert c["center"] == pytest.approx(4.5) and c["ucl"] == pytest.approx(4.5 + 3 * math.sqrt(4.5))
    assert c["lcl"] == 0.0
    np_chart = control_chart("np", [3, 5, 4, 2], sizes=[100] * 4).as_dict()
    assert np_chart["center"] == pytest.approx(3.5)
    u = control_chart("u", [4, 9, 6], sizes=[2, 3, 2]).as_dict()
    assert u["center"] == pytest.approx(19 / 7) and u["points"] == pytest.approx([2, 3, 3])
    with pytest.raises(SpcError):
        control_chart("np", [3, 5], sizes=[100, 120])
    with pytest.raises(SpcError):
        control_chart("p", [3, 150], sizes=[100, 120])  # more defectives than inspected


def _rules(points) -> set[int]:
    n = len(points)
    limits = limits_of(np.zeros(n), np.ones(n), floor=None)
    return {v["rule"] for v in run_rules(points, limits)}


@pytest.mark.parametrize(
    ("rule", "points"),
    [
        (1, [0.1, -0.2, 3.5, 0.0]),
        (2, [0.5, 0.3, 0.8, 0.2, 0.6, 0.4, 0.7, 0.1, 0.9]),
        (3, [-0.5, -0.3, 0.0, 0.2, 0.4, 0.6]),
        (4, [0.5, -0.5] * 7),
        (5, [2.5, 0.0, 2.4]),
        (6, [1.5, 1.2, 0.3, 1.4, 1.6]),
        (7, [0.3, -0.2, 0.5, -0.4, 0.1, -0.6, 0.2, -0.1, 0.4, -0.3, 0.6, -0.5, 0.2, -0.2, 0.3]),
        (8, [1.5, -1.4, 1.2, -1.6, 1.3, -1.2, 1.8, -1.1]),
    ],
)
def test_each_rule_fires_on_its_constructed_violation(rule, points):
    assert rule in _rules(points)


def test_no_rule_fires_on_in_control_data():
    rng = np.random.default_rng(2024)
    x = rng.normal(50, 2, 40)
    out = control_chart("imr", x).as_dict()
    assert out["violations"] == [] and out["out_of_control"] == []


def test_limits_come_from_the_baseline_and_a_later_shift_is_flagged():
    rng = np.random.default_rng(5)  # a seed whose baseline happens to raise no false alarm
    before = rng.normal(10, 0.5, 25)
    after = rng.normal(12, 0.5, 10)  # a shift of 4 sigma
    x = np.r_[before, after]
    fixed = control_chart("imr", x, baseline=(1, 25)).as_dict()
    alone = control_chart("imr", before).as_dict()
    assert fixed["ucl"] == pytest.approx(alone["ucl"]) and fixed["baseline"] == [1, 25]
    assert set(range(26, 36)) & set(fixed["out_of_control"])
    assert all(s > 25 for s in fixed["out_of_control"])
    with pytest.raises(SpcError):
        control_chart("imr", x, baseline=(30, 50))


def test_capability_indices_and_intervals():
    rng = np.random.default_rng(1)
    x = rng.normal(10.0, 0.1, 100)
    out = control_chart("imr", x, lsl=9.7, usl=10.4).as_dict()["capability"]
    sd = x.std(ddof=1)
    assert out["pp"]["value"] == pytest.approx(0.7 / (6 * sd))
    assert out["ppk"]["value"] == pytest.approx(min(10.4 - x.mean(), x.mean() - 9.7) / (3 * sd))
    assert out["cp"]["value"] == pytest.approx(0.7 / (6 * out["sigma_within"]))
    for key in ("cp", "cpk", "pp", "ppk"):
        low, high = out[key]["ci"]
        assert low < out[key]["value"] < high
    # A one-sided specification has a Cpk but no Cp.
    upper = control_chart("imr", x, usl=10.4).as_dict()["capability"]
    assert upper["cp"] is None and upper["cpk"]["value"] > 0


def _cli(tmp_path, frame: pd.DataFrame, *args: str):
    path = tmp_path / "spc.csv"
    frame.to_csv(path, index=False, encoding="cp949")
    result = runner.invoke(app, ["factory", "spc", "--data", str(path), *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_cli_contract_and_exit_codes(tmp_path):
    rng = np.random.default_rng(3)
    values = np.r_[rng.normal(5, 0.1, 60), [6.0]]
    frame = pd.DataFrame({"측정값": values})
    code, out = _cli(
        tmp_path, frame, "--chart", "imr", "--value", "측정값", "--lsl", "4.6", "--usl", "5.4"
    )
    assert code == 1  # a check found violations
    assert set(out) >= {"chart", "center", "lcl", "ucl", "points", "violations", "capability"}
    assert {"sample": 61, "rule": 1} in out["violations"]
    assert out["capability"]["cpk"]["value"] > 0
    groups = pd.DataFrame({"x": rng.normal(5, 0.1, 40), "g": np.repeat(np.arange(8), 5)})
    code, out = _cli(tmp_path, groups, "--chart", "xbar-s", "--value", "x", "--subgroup", "g")
    assert code == 0 and len(out["points"]) == 8 and out["secondary"]["kind"] == "stdev"


def test_cli_bad_input_names_rows_and_exits_2(tmp_path):
    frame = pd.DataFrame({"x": ["1.0", "2.0", "abc", "1.5"]})
    code, out = _cli(tmp_path, frame, "--chart", "imr", "--value", "x")
    assert code == 2 and "4" in out["message"]
    code, out = _cli(tmp_path, pd.DataFrame({"d": [1, -2, 3]}), "--chart", "c", "--value", "d")
    assert code == 2 and "2" in out["message"]
    code, out = _cli(tmp_path, pd.DataFrame({"d": [1, 2]}), "--chart", "z", "--value", "d")
    assert code == 2
    code, out = _cli(tmp_path, pd.DataFrame({"d": [1, 2, 3]}), "--chart", "p", "--value", "d")
    assert code == 2  # a p chart needs sizes
