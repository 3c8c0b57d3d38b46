"""The job status page: polls its status with htmx until the job is done."""

from __future__ import annotations

from fastapi import APIRouter, Request

from sangsaeng.core.jobs import service
from sangsaeng.core.web.deps import CsrfChecked, CurrentActor, SessionDep
from sangsaeng.core.web.forms import see_other
from sangsaeng.core.web.templating import render

router = APIRouter(include_in_schema=False)


def _context(job) -> dict:
    kind = service.KINDS.get(job.kind)
    return {
        "job": job,
        "title": kind.title if kind else job.kind,
        "finished": job.status in ("succeeded", "failed"),
    }


@router.get("/jobs/{job_id}")
def job_page(request: Request, db: SessionDep, actor: CurrentActor, job_id: str):
    return render(request, "jobs/detail.html", _context(service.get(db, actor, job_id)))


@router.get("/jobs/{job_id}/status")
def job_status(request: Request, db: SessionDep, actor: CurrentActor, job_id: str):
    return render(request, "jobs/_status.html", _context(service.get(db, actor, job_id)))


@router.post("/jobs/{job_id}/retry", dependencies=[CsrfChecked])
def job_retry(db: SessionDep, actor: CurrentActor, job_id: str):
    service.retry(db, actor, job_id)
    return see_other(f"/jobs/{job_id}")
