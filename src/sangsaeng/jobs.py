"""The background job queue: SqliteHuey embedded by default, RedisHuey when Redis is configured."""

from __future__ import annotations

from functools import cache

from huey import RedisHuey, SqliteHuey
from huey.api import Huey

from sangsaeng.settings import get_settings


@cache
def get_huey() -> Huey:
    settings = get_settings()
    if settings.redis_url:
        return RedisHuey("sangsaeng", url=settings.redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("sangsaeng", filename=str(settings.data_dir / "jobs.db"))
