"""OEE read from the same Parquet with Spark SQL (local[2]) gives the DuckDB path's rows, total,
trend, downtime reasons and standards report — standards filled from the calendar and cycle
times included — and ``dataset_oee`` takes that path when ``SANGSAENG_SPARK_MASTER`` is set."""

from __future__ import annotations

import shutil

import pytest

from sangsaeng.factory import datasets
from sangsaeng.factory.oee_data import DuckRunner, dataset_oee, oee_from_parquet
from sangsaeng.factory.spark import SparkSqlRunner
from sangsaeng.settings import get_settings
from tests.factory.conftest import SPARK_MASTER
from tests.factory.test_oee_data import CYCLES, SHIFTS, assert_rows_equal, random_records, stored
from tests.factory.test_oee_data import world as world

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java")


def assert_same(ours: dict, theirs: dict) -> None:
    assert_rows_equal(ours["rows"], theirs["rows"])
    assert_rows_equal([ours["total"]], [theirs["total"]])
    assert_rows_equal(ours["trend"], theirs["trend"])
    assert ours["downtime_reasons"] == pytest.approx(theirs["downtime_reasons"])
    assert ours["missing_standards"] == theirs["missing_standards"]
    # the same SQL but for how each engine spells a date and its text
    spelled = theirs["query"]
    for attribute in ("day_text", "week", "month"):
        spelled = spelled.replace(
            getattr(DuckRunner, attribute), getattr(SparkSqlRunner, attribute)
        )
    day = "date_from_unix_date(CAST(floor(date / 86400000000000D) AS INT))"
    assert ours["query"] == spelled.replace(DuckRunner.day, day)


def test_spark_gives_the_duckdb_figures(tmp_path, spark_session):
    from sangsaeng.factory.spark import oee_on_spark

    path = tmp_path / "records.parquet"
    random_records(n=300, seed=8).to_parquet(path)  # pandas writes nanosecond timestamps
    by, start = ("line", "shift", "week"), "2026-03-05"
    embedded = oee_from_parquet(path, SHIFTS, CYCLES, by=by, start=start)
    on_spark = oee_on_spark(path, SHIFTS, CYCLES, SPARK_MASTER, by=by, start=start)
    assert embedded["missing_standards"]["excluded"] > 0
    assert_same(on_spark, embedded)


def test_dataset_oee_runs_on_spark_when_a_master_is_set(
    db, world, backend, monkeypatch, spark_session
):
    if backend != "sqlite":
        pytest.skip("the database only supplies the standards; one backend is enough")
    dataset = stored(db, world, random_records(n=120, seed=5))
    embedded = dataset_oee(db, dataset, by=("machine", "day"))
    monkeypatch.setenv("SANGSAENG_SPARK_MASTER", SPARK_MASTER)
    get_settings.cache_clear()
    try:
        on_spark = dataset_oee(db, dataset, by=("machine", "day"))
    finally:
        monkeypatch.delenv("SANGSAENG_SPARK_MASTER")
        get_settings.cache_clear()
    assert "date_from_unix_date" in on_spark["query"]
    assert_same(on_spark, embedded)
    assert datasets.dataset_path(dataset).exists()
