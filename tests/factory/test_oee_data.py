"""OEE of a stored dataset, summed by DuckDB over its Parquet: equal to the engine's
``oee_table`` on the same records for every grouping, to a hand computation, and — for a file
without planned or ideal times — filled from the SME's shift calendar and cycle times, with what
lacked a standard reported and left out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.files import service as files
from sangsaeng.factory import datasets, standards
from sangsaeng.factory.engine.oee import downtime_reasons, oee_table
from sangsaeng.factory.engine.oee_standards import fill_standards
from sangsaeng.factory.oee_data import dataset_oee, oee_from_parquet
from tests.factory.world import build

SHIFTS = [
    {"name": "주간", "machine": "", "starts": "08:00", "ends": "17:00", "break_minutes": 60,
     "weekdays": "01234"},
    {"name": "야간", "machine": "", "starts": "22:00", "ends": "06:00", "break_minutes": 30,
     "weekdays": "0123"},
]  # fmt: skip
CYCLES = [
    {"product": "A", "machine": "", "ideal_cycle_seconds": 30},
    {"product": "B", "machine": "M1", "ideal_cycle_seconds": 60},
    {"product": "B", "machine": "", "ideal_cycle_seconds": 45},
]
REASONS = ["설비 고장", "금형 교체", "자재 대기", ""]


def random_records(n: int = 240, seed: int = 3) -> pd.DataFrame:
    """Records of three machines on two lines over two weeks; a quarter lack planned time and a
    quarter the ideal cycle time; product C has no cycle time; weekends have no shift."""
    rng = np.random.default_rng(seed)
    machine = rng.choice(["M1", "M2", "M3"], n)
    planned = rng.choice([240.0, 450.0, 480.0], n)
    downtime = np.round(rng.uniform(0, 0.3, n) * planned)
    run = planned - downtime - np.round(rng.uniform(0, 20, n))
    total = rng.integers(100, 800, n).astype(float)
    good = total - rng.integers(0, 30, n)
    startup = np.minimum(rng.integers(0, 5, n), total - good)
    frame = pd.DataFrame(
        {
            "date": pd.Timestamp("2026-03-02") + pd.to_timedelta(rng.integers(0, 14, n), "D"),
            "shift": rng.choice(["주간", "야간"], n),
            "line": np.where(machine == "M3", "2라인", "1라인"),
            "machine": machine,
            "product": rng.choice(["A", "B", "C"], n, p=[0.5, 0.4, 0.1]),
            "total_count": total,
            "good_count": good,
            "run_minutes": run,
            "downtime_minutes": downtime,
            "downtime_reason": np.where(downtime > 0, rng.choice(REASONS, n), ""),
            "minor_stop_minutes": np.round(rng.uniform(0, 10, n)),
            "startup_rejects": startup.astype(float),
            "planned_minutes": np.where(rng.random(n) < 0.25, np.nan, planned),
            "ideal_cycle_seconds": np.where(
                rng.random(n) < 0.25, np.nan, rng.choice([20.0, 30.0, 40.0], n)
            ),
        }
    )
    return frame


def engine_records(rows: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The stored rows as the engine reads them, standards filled, unusable ones left out."""
    records = rows.assign(day=pd.to_datetime(rows["date"]).dt.strftime("%Y-%m-%d"))
    filled, found = fill_standards(records, SHIFTS, CYCLES)
    for column in ("machine", "line", "shift", "product", "downtime_reason"):
        filled[column] = filled[column].fillna("").astype(str)
    for column in ("downtime_minutes", "minor_stop_minutes", "startup_rejects"):
        filled[column] = filled[column].fillna(0.0)
    usable = filled["planned_minutes"].notna() & filled["ideal_cycle_seconds"].notna()
    return filled.loc[usable].reset_index(drop=True), found


@pytest.fixture
def world(app, db, settings):
    files.configure_storage(files.LocalStorage(settings.data_dir / "files"))
    world = build(db)
    for shift in SHIFTS:
        standards.add_shift(db, world.sme, shift)
    for cycle in CYCLES:
        standards.add_cycle_time(db, world.sme, cycle)
    db.commit()
    return world


def stored(db, world, frame: pd.DataFrame):
    result = datasets.import_dataset(db, world.sme, frame, kind="production", first_row=1)
    db.commit()
    assert result.committed, result.errors[:3]
    return datasets.get_dataset(db, world.sme, result.dataset_id)


def assert_rows_equal(ours: list[dict], theirs: list[dict]) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert a.keys() == b.keys()
        for key, value in b.items():
            if key == "losses":
                assert a[key] == pytest.approx(value, rel=1e-9, abs=1e-6)
            elif isinstance(value, float):
                assert a[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key
            else:
                assert a[key] == value, key


def test_the_figures_are_the_engines_on_the_same_records(db, world):
    dataset = stored(db, world, random_records())
    records, found = engine_records(datasets.read_frame(dataset))
    for by in (("machine", "day"), ("line", "shift"), ("product",), ("shift", "machine"), ()):
        result = dataset_oee(db, dataset, by=by)
        assert_rows_equal(result["rows"], oee_table(records, by))
    result = dataset_oee(db, dataset, by=("machine", "day"))
    assert_rows_equal([result["total"]], oee_table(records))
    assert_rows_equal(
        [{k: r[k] for k in ("day", "oee", "availability", "performance", "quality")}
         for r in oee_table(records, ["day"])],
        result["trend"],
    )  # fmt: skip
    assert result["missing_standards"] == found
    assert 0 < found["excluded"] < dataset.n_rows
    assert found["planned_minutes"]["from_calendar"] > 0
    assert found["ideal_cycle_seconds"]["missing"] > 0  # product C
    assert "std_planned" in result["query"] and "FROM records" in result["query"]
    # downtime reasons count every record in the period, standards or not
    everything = datasets.read_frame(dataset).fillna({"downtime_minutes": 0.0})
    everything["downtime_reason"] = everything["downtime_reason"].fillna("")
    assert result["downtime_reasons"] == pytest.approx(downtime_reasons(everything))

    weekly = dataset_oee(db, dataset, by=("week",), start="2026-03-09", end="2026-03-15")
    [week] = weekly["rows"]
    in_week = records.loc[records["day"].between("2026-03-09", "2026-03-15")]
    assert week["week"] == "2026-W11"
    assert week["oee"] == pytest.approx(oee_table(in_week)[0]["oee"], rel=1e-9)
    with pytest.raises(InvalidInput):
        dataset_oee(db, dataset, by=("colour",))


def test_a_file_without_planned_or_ideal_times_uses_the_calendar_and_cycle_times(db, world):
    frame = pd.DataFrame(
        {
            "일자": ["2026-03-02", "2026-03-02", "2026-03-07"],  # Monday, Monday, Saturday
            "근무조": ["주간", "주간", "주간"],
            "설비": ["M1", "M1", "M1"],
            "제품": ["A", "B", "A"],
            "생산수량": [500, 90, 100],
            "양품수량": [490, 80, 100],
            "가동시간(분)": [300, 100, 60],
            "비가동시간(분)": [60, 20, 0],
            "비가동사유": ["설비 고장", "자재 대기", ""],
        }
    )
    dataset = stored(db, world, frame)
    result = dataset_oee(db, dataset, by=("machine", "day"))
    [row] = result["rows"]  # Saturday has no shift: left out
    # Hand: the 480-minute day shift split 360:120 by occupied time; run 480 − 80 = 400;
    # ideal time 0.5 min × 500 (A) + 1 min × 90 (B on M1) = 340, of good units 245 + 80 = 325.
    assert (row["machine"], row["day"]) == ("M1", "2026-03-02")
    assert row["planned_minutes"] == pytest.approx(480)
    assert row["availability"] == pytest.approx(400 / 480)
    assert row["performance"] == pytest.approx(340 / 400)
    assert row["quality"] == pytest.approx(570 / 590)
    assert row["oee"] == pytest.approx(325 / 480)
    assert row["losses"]["breakdown"] == 60 and row["losses"]["other_stops"] == 20
    missing = result["missing_standards"]
    assert missing["planned_minutes"]["from_calendar"] == 2
    assert missing["planned_minutes"]["examples"] == [
        {"machine": "M1", "day": "2026-03-07", "shift": "주간"}
    ]
    assert missing["ideal_cycle_seconds"]["from_cycle_times"] == 3 and missing["excluded"] == 1
    assert "2" in result["method"] and "3" in result["method"]


def test_a_parquet_path_with_given_standards_needs_no_tables(tmp_path):
    # The engine test's fixture: M1 on 2026-03-02 has OEE 0.5 × 665 / 480.
    path = tmp_path / "records.parquet"
    pd.DataFrame(
        {
            "date": pd.to_datetime(["2026-03-02", "2026-03-02"]),
            "machine": ["M1", "M2"],
            "product": ["A", "B"],
            "planned_minutes": [480.0, 480.0],
            "downtime_minutes": [60.0, 0.0],
            "downtime_reason": ["설비 고장", None],
            "minor_stop_minutes": [20.0, 0.0],
            "ideal_cycle_seconds": [30.0, 60.0],
            "total_count": [700.0, 450.0],
            "good_count": [665.0, 441.0],
            "startup_rejects": [5.0, 9.0],
        }
    ).to_parquet(path)
    result = oee_from_parquet(path, [], [], by=["machine"])
    m1 = result["rows"][0]
    assert m1["oee"] == pytest.approx(332.5 / 480)
    assert m1["losses"]["reduced_speed"] == pytest.approx(420 - 350 - 20)
    assert result["missing_standards"]["excluded"] == 0
    assert "std_planned" not in result["query"]
