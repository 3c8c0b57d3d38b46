"""Impact studies as JSON under /api/v1 (thin: parse, call the service, return its figures)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sangsaeng.core.web.deps import CurrentActor, SessionDep
from sangsaeng.impact import service

router = APIRouter(prefix="/api/v1", tags=["impact"])


class StudyIn(BaseModel):
    title: str = ""
    program_ids: list[int] = Field(default_factory=list)
    panel_id: int | None = None
    # outcome, transform, cohort_rule, match_level, refine, ratio, caliper (null: none),
    # control, method, covariates, bootstrap, seed, base_year, end_year; missing: defaults.
    spec: dict = Field(default_factory=dict)


@router.get("/impact/studies")
def api_studies(db: SessionDep, actor: CurrentActor, program: int | None = None) -> list[dict]:
    """The studies the caller may see (on programs it runs or funds), newest first."""
    return [
        {
            "id": item.study.id,
            "title": item.study.title,
            "programs": [{"id": p.id, "name": p.name_ko} for p in item.programs],
            "panel_id": item.study.panel_id,
            "outcome": item.outcome,
            "status": item.status,
            "created_at": item.study.created_at.isoformat(),
        }
        for item in service.list_studies(db, actor, program)
    ]


@router.post("/impact/studies", status_code=202)
def api_create_study(body: StudyIn, db: SessionDep, actor: CurrentActor):
    """Create a study and queue it: 202 with the study and its job; poll the study (or
    /api/v1/jobs/{job_id}) until its status is done or failed."""
    spec = dict(body.spec)
    if "caliper" in spec and spec["caliper"] is None:
        spec["caliper"] = ""  # null: no caliper
    study = service.create_study(
        db,
        actor,
        title=body.title,
        program_ids=[str(i) for i in body.program_ids],
        panel_id=body.panel_id,
        spec=spec,
    )
    return JSONResponse(
        {"id": study.id, "job_id": study.job_id, "status": study.status}, status_code=202
    )


@router.get("/impact/studies/{study_id}")
def api_study(study_id: int, db: SessionDep, actor: CurrentActor) -> dict:
    """The study's specification, status and — once done — its result: n, matching steps,
    balance, ATT(g,t), the four aggregations with 95 % intervals, the pre-trend test, the naive
    and descriptive comparisons, warnings and method as [msgid, params]. Aggregates only."""
    return service.study_detail(db, actor, study_id).as_dict()
