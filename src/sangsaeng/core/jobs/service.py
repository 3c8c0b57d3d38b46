"""Submitting, running, recovering and retrying jobs.

A job's work runs in one transaction: it is committed whole or not at all, so a worker killed
mid-job leaves nothing half-applied. Progress is written in short transactions of its own, so the
job page sees it while the work is under way. A job is handed to the queue only after the
transaction that created it commits (an uncommitted job is never run).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from sangsaeng.core.accounts.service import load_actor
from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import InvalidInput, NotFound, SangsaengError
from sangsaeng.core.i18n import Msg
from sangsaeng.core.jobs.models import FAILED, QUEUED, RUNNING, SUCCEEDED, Job
from sangsaeng.core.models import User, utcnow
from sangsaeng.core.notifications import service as notifications
from sangsaeng.core.policy import Actor

log = logging.getLogger("sangsaeng.jobs")

Reporter = Callable[[int, str], None]
Work = Callable[[Session, Actor, dict, Reporter], dict]
STALLED_AFTER = timedelta(minutes=2)  # no heartbeat for this long: the worker is gone


@dataclass(frozen=True)
class JobKind:
    title: Msg
    work: Work


KINDS: dict[str, JobKind] = {}
# Set by the composition root (the Huey task); called with a job id after commit.
dispatcher: Callable[[str], None] | None = None


def register_kind(kind: str, title: Msg, work: Work) -> None:
    KINDS[kind] = JobKind(title, work)


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    for job_id in session.info.pop("jobs_to_dispatch", []):
        if dispatcher is not None:
            dispatcher(job_id)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop("jobs_to_dispatch", None)


def submit(
    session: Session, actor: Actor, kind: str, params: dict, *, organization_id: int | None = None
) -> Job:
    if kind not in KINDS:
        raise InvalidInput({"kind": Msg("Unknown job kind.")})
    job = Job(
        id=secrets.token_hex(16),
        kind=kind,
        owner_user_id=actor.user_id or None,
        organization_id=organization_id,
        params=params,
        message=str(Msg("Waiting for a worker.")),
    )
    session.add(job)
    session.flush()
    session.info.setdefault("jobs_to_dispatch", []).append(job.id)
    record(
        session,
        actor,
        "job.submit",
        object_type="job",
        object_id=job.id,
        organization_id=organization_id,
        details={"kind": kind},
    )
    return job


def _visible(actor: Actor, job: Job) -> bool:
    return actor.is_admin or (job.owner_user_id is not None and job.owner_user_id == actor.user_id)


def get(session: Session, actor: Actor, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None or not _visible(actor, job):
        raise NotFound()
    return job


def list_own(session: Session, actor: Actor, limit: int = 50) -> list[Job]:
    stmt = select(Job).order_by(Job.created_at.desc()).limit(limit)
    if not actor.is_admin:
        stmt = stmt.where(Job.owner_user_id == actor.user_id)
    return list(session.scalars(stmt))


def retry(session: Session, actor: Actor, job_id: str) -> Job:
    job = get(session, actor, job_id)
    if job.status != FAILED:
        raise InvalidInput({"status": Msg("Only a failed job can be run again.")})
    job.status, job.progress, job.error = QUEUED, 0, None
    job.message = str(Msg("Waiting for a worker."))
    job.started_at = job.finished_at = job.heartbeat_at = None
    session.flush()
    session.info.setdefault("jobs_to_dispatch", []).append(job.id)
    record(session, actor, "job.retry", object_type="job", object_id=job.id)
    return job


def _set(factory: sessionmaker[Session], job_id: str, **values) -> bool:
    with factory() as session:
        changed = session.execute(update(Job).where(Job.id == job_id).values(**values)).rowcount
        session.commit()
        return bool(changed)


def execute(factory: sessionmaker[Session], job_id: str) -> str | None:
    """Run one job (the worker's task). Returns its final status, or None if it was not queued."""
    now = utcnow()
    with factory() as session:
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == QUEUED)
            .values(
                status=RUNNING,
                started_at=now,
                heartbeat_at=now,
                attempts=Job.attempts + 1,
                message=str(Msg("Running.")),
            )
        ).rowcount
        session.commit()
        if not claimed:
            return None  # already taken by another worker, or not queued
        job = session.get(Job, job_id)
        kind, params, owner_id = job.kind, dict(job.params or {}), job.owner_user_id

    work_session: Session | None = None

    def report(percent: int, message: str) -> None:
        if work_session is not None and _holds_sqlite_write_lock(work_session):
            return  # SQLite has one writer at a time: the work itself; progress resumes later
        try:
            _set(
                factory,
                job_id,
                progress=max(0, min(99, int(percent))),
                message=message[:300],
                heartbeat_at=utcnow(),
            )
        except OperationalError:  # SQLite: the work's own write lock; progress can wait
            log.debug("progress of %s not written (database busy)", job_id)

    with factory() as session:
        work_session = session
        try:
            owner = session.get(User, owner_id) if owner_id else None
            if owner is None or not owner.is_active:
                raise InvalidInput(
                    {"owner": Msg("The job's owner no longer has an active account.")}
                )
            actor = load_actor(session, owner)
            result = KINDS[kind].work(session, actor, params, report)
            session.commit()
        except Exception as exc:
            session.rollback()
            message = (
                str(exc.message)
                if isinstance(exc, SangsaengError)
                else str(
                    Msg("The job failed unexpectedly. Try again, or contact the administrator.")
                )
            )
            if not isinstance(exc, SangsaengError):
                log.exception("job %s (%s) failed", job_id, kind)
            details = exc.details if isinstance(exc, SangsaengError) else None
            if isinstance(details, dict):
                details = {k: str(v) if isinstance(v, Msg) else v for k, v in details.items()}
            _tell_owner(factory, job_id, owner_id, Msg("A job failed"), message)
            _set(
                factory,
                job_id,
                status=FAILED,
                finished_at=utcnow(),
                error=message[:1000],
                message=message[:300],
                result=details if isinstance(details, dict) else None,
            )
            return FAILED
    _set(
        factory,
        job_id,
        status=SUCCEEDED,
        progress=100,
        finished_at=utcnow(),
        result=result,
        message=str(Msg("Done.")),
        heartbeat_at=utcnow(),
    )
    _tell_owner(factory, job_id, owner_id, Msg("A job is done"), str(KINDS[kind].title))
    return SUCCEEDED


def _tell_owner(factory, job_id: str, owner_id: int | None, title: Msg, text: str) -> None:
    if owner_id is None:
        return
    with factory() as session:
        notifications.notify(
            session, [owner_id], title=title, body=text, link=f"/jobs/{job_id}", email=False
        )
        session.commit()


def _holds_sqlite_write_lock(session: Session) -> bool:
    if session.get_bind().dialect.name != "sqlite" or not session.in_transaction():
        return False
    return bool(session.connection().connection.dbapi_connection.in_transaction)


def reap_stalled(session: Session, now: datetime | None = None) -> int:
    """Mark running jobs whose worker stopped (no heartbeat) as failed, so they can be retried.
    Their work was never committed: nothing of them is in the database."""
    now = now or utcnow()
    return session.execute(
        update(Job)
        .where(Job.status == RUNNING, Job.heartbeat_at < now - STALLED_AFTER)
        .values(
            status=FAILED,
            finished_at=now,
            error=str(Msg("The worker stopped while running this job. Run it again.")),
            message=str(Msg("The worker stopped while running this job. Run it again.")),
        )
    ).rowcount
