"""JSON routes under /api/v1 for KPI measurements (thin: parse, call the outcomes services,
return). Evidence files are uploaded first with ``POST /api/v1/files`` (place ``kpi``) and named
by id in the value's ``evidence``."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from sangsaeng.core.i18n import gettext
from sangsaeng.core.web.deps import CurrentActor, SessionDep
from sangsaeng.outcomes import comparison as comparisons
from sangsaeng.outcomes import measured, queue, service, views
from sangsaeng.outcomes.models import KpiMeasurement
from sangsaeng.outcomes.schemas import (
    AutoOfferOut,
    AutoReportIn,
    AutoValueOut,
    ComparisonOut,
    MeasurementIn,
    MeasurementOut,
    ProjectKpisOut,
    QueueItemOut,
    QueueOut,
    RejectIn,
    TargetOut,
)
from sangsaeng.programs import project_service as projects
from sangsaeng.programs.models import Application

router = APIRouter(prefix="/api/v1", tags=["outcomes"])


def _out(m: KpiMeasurement) -> dict:
    return {
        **{f: getattr(m, f) for f in MeasurementOut.model_fields if f not in ("flags", "evidence")},
        "flags": views.flag_texts(m.flags),
        "evidence": list(m.evidence or []),
    }


@router.get("/projects/{project_id}/kpis", response_model=ProjectKpisOut)
def project_kpis(project_id: int, db: SessionDep, actor: CurrentActor):
    """The project's targets, every value (rejected ones with their reason), and its
    improvement beside the program's median over other companies (n < 5: withheld)."""
    found = service.measurements_of(db, actor, project_id)
    project = projects.get_project(db, actor, project_id)
    targets = db.scalar(
        select(Application.target_kpis).where(Application.id == project.application_id)
    )
    compared = comparisons.company_comparison(db, actor, project_id)
    return ProjectKpisOut(
        project_id=project.id,
        targets=[
            TargetOut(
                kpi_code=t.get("code", ""), baseline=t.get("baseline"), target=t.get("target")
            )
            for t in targets or []
            if isinstance(t, dict)
        ],
        measurements=[MeasurementOut(**_out(m)) for m in found],
        comparison=[
            ComparisonOut(
                kpi_code=c.code,
                kind=c.kind,
                before=c.own.before if c.own else None,
                after=c.own.after if c.own else None,
                improvement=c.own_improvement,
                missing=gettext(c.own_missing) if c.own_missing else None,
                program_median=c.program_median,
                n_others=c.n_others,
                suppressed=c.suppressed,
            )
            for c in compared
        ],
        min_others=comparisons.MIN_OTHERS,
        method=gettext(comparisons.METHOD, min_n=comparisons.MIN_OTHERS),
    )


@router.post(
    "/projects/{project_id}/kpis",
    response_model=MeasurementOut,
    status_code=status.HTTP_201_CREATED,
)
def report(project_id: int, body: MeasurementIn, db: SessionDep, actor: CurrentActor):
    values = service.Report(
        kpi_code=body.kpi_code,
        stage=body.stage,
        period_start=body.period_start,
        period_end=body.period_end,
        value=body.value,
        unit=body.unit,
        year_no=body.year_no,
        source=body.source,
        evidence=tuple(body.evidence),
    )
    return MeasurementOut(**_out(service.report(db, actor, project_id, values)))


def auto_out(auto: measured.AutoValue) -> AutoValueOut:
    m = auto.measurement
    return AutoValueOut(
        kpi_code=auto.kpi_code,
        value=auto.value,
        unit=auto.unit,
        interval=list(auto.interval) if auto.interval else None,
        interval_method=m.interval_method,
        period_start=m.period[0],
        period_end=m.period[1],
        n=m.n,
        numerator=m.numerator,
        denominator=m.denominator,
        basis=m.basis,
        datasets=[{"id": d.id, "name": d.name, "kind": d.kind} for d in m.datasets],
        covered=list(m.covered) if m.covered else None,
        warnings=list(m.warnings),
        details=dict(m.extra),
        method=m.method,
        query=m.query,
    )


@router.get("/projects/{project_id}/kpis/auto/offers", response_model=list[AutoOfferOut])
def auto_offers(project_id: int, db: SessionDep, actor: CurrentActor):
    """The KPIs that can be measured from the company's factory datasets the caller may read,
    with each dataset's days."""
    return [AutoOfferOut(**vars(o)) for o in measured.offers(db, actor, project_id)]


@router.get("/projects/{project_id}/kpis/auto", response_model=AutoValueOut)
def auto_value(
    project_id: int,
    db: SessionDep,
    actor: CurrentActor,
    kpi_code: str = Query(max_length=40),
    period_start: date = Query(),
    period_end: date = Query(),
    dataset_id: int | None = Query(default=None, ge=1),
):
    """The KPI measured from the company's factory data, with its provenance (not stored)."""
    found = measured.measure(db, actor, project_id, kpi_code, period_start, period_end, dataset_id)
    return auto_out(found)


@router.post(
    "/projects/{project_id}/kpis/auto",
    response_model=MeasurementOut,
    status_code=status.HTTP_201_CREATED,
)
def auto_report(project_id: int, body: AutoReportIn, db: SessionDep, actor: CurrentActor):
    """Record the value measured now, with the source "auto" and its provenance as evidence."""
    values = service.Report(
        kpi_code=body.kpi_code,
        stage=body.stage,
        period_start=body.period_start,
        period_end=body.period_end,
        value=0.0,  # measured on the server
        unit="",
        year_no=body.year_no,
        evidence=tuple(body.evidence),
    )
    stored = measured.report(db, actor, project_id, values, dataset_id=body.dataset_id)
    return MeasurementOut(**_out(stored))


@router.post("/kpi-measurements/{measurement_id}/verify", response_model=MeasurementOut)
def verify(measurement_id: int, db: SessionDep, actor: CurrentActor):
    return MeasurementOut(**_out(service.verify(db, actor, measurement_id)))


@router.post("/kpi-measurements/{measurement_id}/reject", response_model=MeasurementOut)
def reject(measurement_id: int, body: RejectIn, db: SessionDep, actor: CurrentActor):
    return MeasurementOut(**_out(service.reject(db, actor, measurement_id, body.reason)))


@router.get("/programs/{program_id}/kpis", response_model=QueueOut)
def program_kpis(
    program_id: int,
    db: SessionDep,
    actor: CurrentActor,
    status: Literal["reported", "verified", "rejected", "all"] = "all",
    kpi: str = Query(default="", max_length=40),
    flagged: bool = False,
    company: str = Query(default="", max_length=100),
    page: int = Query(default=1, ge=1),
    per_page: int = Query(default=50, ge=1, le=200),
):
    """The program's values for its operators: ``status`` (default every status), ``kpi``
    code, ``flagged`` only, ``company`` name contains; oldest first."""
    filters = queue.Filters(
        status=None if status == "all" else status, kpi=kpi, flagged=flagged, company=company
    )
    found = queue.queue(db, actor, program_id, filters, page=page, per_page=per_page)
    return QueueOut(
        items=[
            QueueItemOut(**_out(r.measurement), company=r.company, agreement_no=r.agreement_no)
            for r in found.items
        ],
        total=found.total,
        page=found.page,
        per_page=found.per_page,
    )
