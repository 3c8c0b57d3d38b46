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


def build_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    if settings.redis_url:
        return RedisHuey("sangsaeng", url=settings.redis_url, immediate=immediate)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("sangsaeng", filename=str(settings.data_dir / "jobs.db"), immediate=immediate)


def configure(settings: Settings, *, immediate: bool = False) -> Huey:
    """Wire the job services to a queue and the file storage (web app, worker and tests)."""
    from sangsaeng.core.files.service import LocalStorage, configure_storage
    from sangsaeng.core.jobs import service as job_service
    from sangsaeng.db import make_engine, make_session_factory

    huey = build_huey(settings, immediate=immediate)
    factory = make_session_factory(make_engine(settings.database_url))
    configure_storage(LocalStorage(settings.data_dir / "files"))
    register_tasks(huey, settings, factory)
    job_service.dispatcher = huey.run_job  # type: ignore[attr-defined]
    return huey


@cache
def get_huey() -> Huey:
    return configure(get_settings())


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


def register_tasks(huey: Huey, settings: Settings | None = None, factory=None) -> None:
    from sangsaeng.core.jobs import service as job_service
    from sangsaeng.db import transaction

    @huey.periodic_task(crontab(minute="17"), name="accounts.purge_expired")
    def hourly_purge() -> dict[str, int]:
        return purge_expired_accounts_data(settings or get_settings())

    if factory is None:
        return
    from sangsaeng.core.imports import jobs as import_jobs

    import_jobs.register()  # the job kinds this worker can run
    from sangsaeng.outcomes import imports as kpi_imports

    kpi_imports.register()
    from sangsaeng.impact import panels as impact_panels

    impact_panels.register()
    from sangsaeng.impact import service as impact_studies

    impact_studies.register()
    from sangsaeng.factory import datasets as factory_datasets

    factory_datasets.register()
    from sangsaeng.factory import analyses as factory_analyses

    factory_analyses.register()

    @huey.task(name="jobs.execute")
    def run_job(job_id: str) -> str | None:
        return job_service.execute(factory, job_id)

    @huey.periodic_task(crontab(minute="*"), name="jobs.reap_stalled")
    def reap_stalled() -> int:
        with transaction(factory) as session:
            return job_service.reap_stalled(session)

    @huey.periodic_task(crontab(minute="*"), name="notifications.send_outbox")
    def send_outbox() -> dict[str, int]:
        from sangsaeng.core.notifications import service as notifications

        with transaction(factory) as session:
            return notifications.send_outbox(session, (settings or get_settings()).smtp_url)

    # 08:05 in Seoul (the schedule runs on UTC): follow-ups due within 30 days or overdue.
    @huey.periodic_task(crontab(hour="23", minute="5"), name="programs.remind_follow_ups")
    def remind_follow_ups() -> int:
        from sangsaeng.programs import project_service, project_views

        with transaction(factory) as session:
            return project_service.remind_follow_ups(session, today=project_views.today())

    huey.run_job = run_job  # type: ignore[attr-defined]
