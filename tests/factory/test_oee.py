"""OEE against a hand computation on a small fixture, the six big losses adding up to the
planned time, downtime reasons ranked, bad records refused by row, and the CLI contract."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from sangsaeng.cli import app
from sangsaeng.factory.engine.oee import (
    LOSSES,
    OeeError,
    downtime_reasons,
    oee_table,
    prepare,
)

runner = CliRunner()

# Two machines, two days. M1 day 1: 480 min planned, 60 min breakdown, 20 min minor stops,
# 30 s ideal cycle, 700 produced, 665 good of which 5 start-up rejects... (see hand values below)
FIXTURE = pd.DataFrame(
    {
        "설비": ["M1", "M1", "M2", "M2"],
        "일자": ["2026-03-02", "2026-03-03", "2026-03-02", "2026-03-03"],
        "계획시간(분)": [480, 480, 480, 480],
        "비가동시간(분)": [60, 30, 0, 45],
        "비가동사유": ["설비 고장", "금형 교체", "", "자재 대기"],
        "순간정지(분)": [20, 10, 0, 5],
        "이상사이클타임(초)": [30, 30, 60, 60],
        "생산수량": [700, 800, 450, 400],
        "양품수량": [665, 790, 441, 400],
        "초기불량": [5, 0, 9, 0],
    }
)


def test_oee_equals_a_hand_computation():
    records = prepare(FIXTURE)
    [m1_day1] = [
        r
        for r in oee_table(records, ["machine", "day"])
        if r["machine"] == "M1" and r["day"] == "2026-03-02"
    ]
    # Hand: A = 420/480 = 0.875; P = 0.5·700/420 = 0.833333; Q = 665/700 = 0.95;
    # OEE = 0.5·665/480 = 0.692708.
    assert m1_day1["availability"] == pytest.approx(0.875)
    assert m1_day1["performance"] == pytest.approx(350 / 420)
    assert m1_day1["quality"] == pytest.approx(0.95)
    assert m1_day1["oee"] == pytest.approx(332.5 / 480)
    assert m1_day1["oee"] == pytest.approx(
        m1_day1["availability"] * m1_day1["performance"] * m1_day1["quality"]
    )
    [m1] = [r for r in oee_table(records, ["machine"]) if r["machine"] == "M1"]
    # Ratios of sums over both days: ideal good time (665 + 790)·0.5 over 960 planned minutes.
    assert m1["oee"] == pytest.approx(727.5 / 960)
    assert m1["availability"] == pytest.approx(870 / 960)


def test_the_six_big_losses_and_the_productive_time_add_up_to_the_planned_time():
    records = prepare(FIXTURE)
    for row in oee_table(records, ["machine", "day"]):
        productive = row["oee"] * row["planned_minutes"]
        assert productive + sum(row["losses"].values()) == pytest.approx(row["planned_minutes"])
    [m1_day1] = [
        r
        for r in oee_table(records, ["machine", "day"])
        if r["machine"] == "M1" and r["day"] == "2026-03-02"
    ]
    losses = m1_day1["losses"]
    assert set(losses) == set(LOSSES)
    assert losses["breakdown"] == 60 and losses["setup"] == 0 and losses["minor_stops"] == 20
    assert losses["reduced_speed"] == pytest.approx(420 - 350 - 20)
    assert losses["startup_rejects"] == pytest.approx(2.5)
    assert losses["process_defects"] == pytest.approx(0.5 * 30)


def test_downtime_reasons_are_ranked():
    ranked = downtime_reasons(prepare(FIXTURE))
    assert [r["reason"] for r in ranked] == ["설비 고장", "자재 대기", "금형 교체"]
    assert [r["kind"] for r in ranked] == ["breakdown", "other_stops", "setup"]
    assert sum(r["share"] for r in ranked) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda f: f.__setitem__("생산수량", ["700", "많음", "450", "400"]), "3"),
        (lambda f: f.__setitem__("양품수량", [665, 790, 441, -1]), "5"),
        (lambda f: f.__setitem__("양품수량", [665, 900, 441, 400]), "3"),
        (lambda f: f.__setitem__("비가동시간(분)", [60, 30, 500, 45]), "4"),
        (lambda f: f.__setitem__("일자", ["2026-03-02", "어제", "2026-03-02", "2026-03-03"]), "3"),
    ],
)
def test_bad_records_are_refused_by_row(change, fragment):
    frame = FIXTURE.copy().astype(object)
    change(frame)
    with pytest.raises(OeeError) as caught:
        prepare(frame)
    assert fragment in str(caught.value)


def test_cli_prints_rows_and_refuses_bad_input(tmp_path):
    path = tmp_path / "oee.csv"
    FIXTURE.to_csv(path, index=False, encoding="cp949")
    result = runner.invoke(
        app, ["factory", "oee", "--data", str(path), "--by", "machine,day", "--json"]
    )
    assert result.exit_code == 0, result.stdout
    rows = json.loads(result.stdout)
    assert len(rows) == 4
    assert set(rows[0]) >= {
        "machine",
        "day",
        "availability",
        "performance",
        "quality",
        "oee",
        "losses",
    }
    other = tmp_path / "orders.csv"
    pd.DataFrame({"주문번호": [1], "수량": [3]}).to_csv(other, index=False)
    refused = runner.invoke(app, ["factory", "oee", "--data", str(other), "--json"])
    assert refused.exit_code == 2 and "계획시간" in json.loads(refused.stdout)["message"]
    grouped = runner.invoke(app, ["factory", "oee", "--data", str(path), "--by", "colour"])
    assert grouped.exit_code == 2
