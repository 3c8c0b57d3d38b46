"""JSON API for jobs: status (for polling), list and retry."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from sangsaeng.core.jobs import service
from sangsaeng.core.web.deps import CurrentActor, SessionDep

router = APIRouter(prefix="/api/v1", tags=["jobs"])


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    status: str
    progress: int
    message: str
    result: dict | None
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@router.get("/jobs", response_model=list[JobOut])
def list_jobs(db: SessionDep, actor: CurrentActor):
    return service.list_own(db, actor)


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: str, db: SessionDep, actor: CurrentActor):
    return service.get(db, actor, job_id)


@router.post("/jobs/{job_id}/retry", response_model=JobOut)
def retry_job(job_id: str, db: SessionDep, actor: CurrentActor):
    return service.retry(db, actor, job_id)
