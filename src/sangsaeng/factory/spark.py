"""Factory analyses on Apache Spark, for when ``SANGSAENG_SPARK_MASTER`` is set.

OEE: ``oee_on_spark(path, shifts, cycle_times, master, **kwargs)`` runs ``oee_data``'s queries
(the records view, the standards' group sums and the main aggregation, same SQL text) on Spark
SQL over the same Parquet file, so the rows, losses and reports are the embedded path's.

Demand forecasts: ``forecast_on_spark(series, master, **kwargs)`` runs exactly the embedded
``engine.forecast.forecast`` — same plans, candidates, cross-validation, selection by CV MASE,
intervals and result — but statsforecast's two heavy calls (cross-validation and the final
forecast) receive Spark DataFrames, so statsforecast runs them through its Fugue backend on
the cluster, each series on an executor. Only the per-series scores and forecasts come back
to the driver.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache

import pandas as pd

from sangsaeng.factory.engine.forecast import forecast


@lru_cache(maxsize=4)
def spark_session(master: str):
    """One session per master and process; no UI, few shuffle partitions (the data per call
    is a few thousand series, not terabytes)."""
    from pyspark.sql import SparkSession

    # executors must run the same interpreter (and so the same statsforecast) as the driver
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    return (
        SparkSession.builder.master(master)
        .appName("sangsaeng-factory")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # the executors' statsforecast warns per series about convergence, as the embedded
        # path's does (which the engine silences): keep the logs readable
        .config("spark.executorEnv.PYTHONWARNINGS", "ignore")
        .getOrCreate()
    )


class SparkRunner:
    """statsforecast's cross-validation and forecast on Spark DataFrames (Fugue backend)."""

    def __init__(self, session):
        self.session = session

    def _spark(self, frame: pd.DataFrame | None):
        if frame is None:
            return None
        frame = frame.copy()
        frame["unique_id"] = frame["unique_id"].astype(str)
        frame["ds"] = pd.to_datetime(frame["ds"]).astype("datetime64[us]")
        return self.session.createDataFrame(frame)

    @staticmethod
    def _pandas(result) -> pd.DataFrame:
        frame = result.toPandas()
        for column in ("ds", "cutoff"):
            if column in frame:
                frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
        return frame

    def cross_validation(self, sf, df: pd.DataFrame, **kwargs) -> pd.DataFrame:
        return self._pandas(sf.cross_validation(df=self._spark(df), **kwargs))

    def forecast(self, sf, df: pd.DataFrame, **kwargs) -> pd.DataFrame:
        kwargs["X_df"] = self._spark(kwargs.get("X_df"))
        return self._pandas(sf.forecast(df=self._spark(df), **kwargs))


def forecast_on_spark(series: pd.DataFrame, master: str, **kwargs) -> dict:
    """``engine.forecast.forecast`` with statsforecast running on the Spark cluster at
    ``master`` (e.g. ``local[2]``, ``spark://host:7077``); same arguments, same result."""
    kwargs.pop("runner", None)
    return forecast(series, runner=SparkRunner(spark_session(master)), **kwargs)


def forecast_many(series: pd.DataFrame, **kwargs) -> dict:
    """On Spark when ``SANGSAENG_SPARK_MASTER`` is set, embedded otherwise."""
    from sangsaeng.settings import get_settings

    master = get_settings().spark_master
    if master:
        return forecast_on_spark(series, master, **kwargs)
    return forecast(series, **kwargs)


class SparkSqlRunner:
    """``oee_data``'s SQL on Spark: the Parquet file as the view ``rows``, in a session of its
    own (temporary views and settings are per session; the cluster and its start-up are shared)."""

    def __init__(self, session, path):
        self.session = session.newSession()
        # pandas writes nanosecond timestamps, which Spark reads only as longs
        self.session.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
        self.session.conf.set("spark.sql.session.timeZone", "UTC")
        frame = self.session.read.parquet(str(path))
        frame.createOrReplaceTempView("rows")
        self._columns = set(frame.columns)
        self._cached = []
        kind = dict(frame.dtypes).get("date", "")
        # nanoseconds since the epoch → the day (no time zone: the file's dates are wall-clock)
        self.day = (
            "date_from_unix_date(CAST(floor(date / 86400000000000D) AS INT))"
            if kind == "bigint"
            else "CAST(date AS DATE)"
        )

    day_text = "date_format(day, 'yyyy-MM-dd')"
    week = (  # ISO week, e.g. 2026-W10
        "concat(CAST(extract(YEAROFWEEK FROM day) AS STRING), '-W', "
        "lpad(CAST(weekofyear(day) AS STRING), 2, '0'))"
    )
    month = "date_format(day, 'yyyy-MM')"

    def columns(self) -> set[str]:
        return self._columns

    def view(self, name: str, sql: str) -> None:
        self.session.sql(sql).createOrReplaceTempView(name)

    def table(self, name: str, sql: str) -> None:
        frame = self.session.sql(sql).cache()
        self._cached.append(frame)
        frame.createOrReplaceTempView(name)

    def register(self, name: str, frame: pd.DataFrame) -> None:
        self.session.createDataFrame(frame).createOrReplaceTempView(name)

    def sql(self, sql: str) -> pd.DataFrame:
        return self.session.sql(sql).toPandas()

    def close(self) -> None:
        for frame in self._cached:
            frame.unpersist()
        for name in ("rows", "records", "std_planned", "std_cycle", "std_reason", "sums"):
            self.session.catalog.dropTempView(name)


def oee_on_spark(path, shifts, cycle_times, master: str, **kwargs) -> dict:
    """``oee_data.oee_from_parquet`` with its queries on the Spark cluster at ``master``."""
    from sangsaeng.factory.oee_data import oee_from_parquet

    runner = SparkSqlRunner(spark_session(master), path)
    try:
        return oee_from_parquet(path, shifts, cycle_times, runner=runner, **kwargs)
    finally:
        runner.close()
