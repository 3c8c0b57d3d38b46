"""One local[2] Spark session for every factory test that needs one: starting Spark costs
about ten seconds, so the forecast and OEE tests share it; it stops when the run ends."""

from __future__ import annotations

import pytest

SPARK_MASTER = "local[2]"


@pytest.fixture(scope="session")
def spark_session():
    from sangsaeng.factory.spark import spark_session

    session = spark_session(SPARK_MASTER)
    yield session
    session.stop()
    spark_session.cache_clear()
