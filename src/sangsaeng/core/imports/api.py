"""Starting an import of an uploaded file as a background job."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel

from sangsaeng.core.imports import jobs as import_jobs
from sangsaeng.core.imports import service
from sangsaeng.core.jobs import service as job_service
from sangsaeng.core.jobs.api import JobOut
from sangsaeng.core.web.deps import CurrentActor, SessionDep

router = APIRouter(prefix="/api/v1", tags=["imports"])


class ImportIn(BaseModel):
    file_id: str
    mode: Literal["all", "good"] = "all"
    encoding: Literal["auto", "utf-8", "cp949"] = "auto"
    # Column key → position in the file's header row; omitted: recognised from the headers.
    mapping: dict[str, int] | None = None


_KINDS = {"organizations": import_jobs.IMPORT_ORGS, "links": import_jobs.IMPORT_LINKS}


@router.post("/imports/{what}", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED)
def start_import(
    what: Literal["organizations", "links"], body: ImportIn, db: SessionDep, actor: CurrentActor
):
    """Runs in the background; poll ``GET /api/v1/jobs/{id}`` or open ``/jobs/{id}``."""
    service.ensure_can_import(db, actor, what, body.file_id)
    return job_service.submit(db, actor, _KINDS[what], body.model_dump())
