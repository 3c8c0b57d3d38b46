"""The background job queue: SqliteHuey embedded by default, RedisHuey when Redis is configured.

Composition only: tasks here call domain services inside a unit of work.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import cache

from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey

from sangsaeng.settings import Settings, get_settings

log = logging.getLogger("sangsaeng.jobs")


def build_huey(settings: Settings) -> Huey:
    if settings.redis_url:
        return RedisHuey("sangsaeng", url=settings.redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("sangsaeng", filename=str(settings.data_dir / "jobs.db"))


@cache
def get_huey() -> Huey:
    huey = build_huey(get_settings())
    register_tasks(huey)
    return huey


def purge_expired_accounts_data(settings: Settings) -> dict[str, int]:
    from sangsaeng.core.accounts import service as accounts
    from sangsaeng.db import make_engine, make_session_factory, transaction

    policy = accounts.SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_absolute_hours),
    )
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            purged = accounts.purge_expired(session, policy)
    finally:
        engine.dispose()
    log.info("purged expired account data: %s", purged)
    return purged


def register_tasks(huey: Huey) -> None:
    @huey.periodic_task(crontab(minute="17"), name="accounts.purge_expired")
    def hourly_purge() -> dict[str, int]:
        return purge_expired_accounts_data(get_settings())
