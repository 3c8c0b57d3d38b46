"""``dataset_oee`` reads the same Parquet with Spark SQL (local[2]) when ``SANGSAENG_SPARK_MASTER``
is set and gives the DuckDB path's rows, total, trend, downtime reasons and standards report —
standards filled from the SME's calendar and cycle times, and records lacking one, included."""

from __future__ import annotations

import shutil

import pytest

from sangsaeng.factory import datasets
from sangsaeng.factory.oee_data import DuckRunner, dataset_oee
from sangsaeng.factory.spark import SparkSqlRunner
from sangsaeng.settings import get_settings
from tests.factory.conftest import SPARK_MASTER
from tests.factory.test_oee_data import assert_rows_equal, random_records, stored
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


def test_dataset_oee_runs_on_spark_when_a_master_is_set(
    db, world, backend, monkeypatch, spark_session
):
    if backend != "sqlite":
        pytest.skip("the database only supplies the standards; one backend is enough")
    # The world's calendar and cycle times fill a quarter of the records; product C has none.
    dataset = stored(db, world, random_records(n=300, seed=8))  # pandas writes nanoseconds
    asked = {"by": ("line", "shift", "week"), "start": "2026-03-05"}
    embedded = dataset_oee(db, dataset, **asked)
    assert embedded["missing_standards"]["excluded"] > 0
    monkeypatch.setenv("SANGSAENG_SPARK_MASTER", SPARK_MASTER)
    get_settings.cache_clear()
    try:
        on_spark = dataset_oee(db, dataset, **asked)
    finally:
        monkeypatch.delenv("SANGSAENG_SPARK_MASTER")
        get_settings.cache_clear()
    assert "date_from_unix_date" in on_spark["query"]
    assert_same(on_spark, embedded)
    assert datasets.dataset_path(dataset).exists()
