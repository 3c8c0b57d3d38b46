"""Pages of impact studies: the list, the wizard (programs → panel and specification →
a job), a study's status and results, and its Excel and PDF exports. Thin: who may do what and
every check are in ``impact.service``; presentation in ``impact.views``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from jinja2 import Environment

from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.exports import XLSX_MEDIA_TYPE, to_xlsx_sheets
from sangsaeng.core.reports import html_to_pdf
from sangsaeng.core.web.deps import CsrfChecked, CurrentActor, SessionDep
from sangsaeng.core.web.forms import field_errors, see_other
from sangsaeng.core.web.templating import register_template_dir, render
from sangsaeng.impact import service, views
from sangsaeng.impact.engine.study import COVARIATES, StudySpec
from sangsaeng.impact.models import DONE, FAILED

register_template_dir(Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)

PDF_TEMPLATE = "impact/study_pdf.html"
SPEC_FIELDS = (
    "outcome",
    "transform",
    "cohort_rule",
    "match_level",
    "refine",
    "ratio",
    "caliper",
    "control",
    "method",
    "bootstrap",
    "seed",
    "base_year",
    "end_year",
)


def _program_ids(values: list[str]) -> list[int]:
    return list(dict.fromkeys(int(v) for v in values if v.isdigit() and len(v) < 12))


def _wizard(request: Request, db, actor, program_ids: list[int], values: dict, errors: dict):
    choices = service.studiable_programs(db, actor)
    chosen = [p for p in choices if p.id in program_ids]
    context = {
        **views.helpers(),
        "choices": choices,
        "chosen": chosen,
        "panels": service.usable_panels(db, actor, [p.id for p in chosen]) if chosen else [],
        "options": service.CHOICES,
        "covariates": COVARIATES,
        "values": values,
        "errors": errors,
    }
    return render(request, "impact/study_new.html", context, 422 if errors else 200)


def _detail_context(detail: service.StudyDetail) -> dict:
    chart = views.event_chart(detail)
    return {
        **views.helpers(),
        "detail": detail,
        "study": detail.study,
        "spec": detail.spec,
        "result": detail.result,
        "headline": views.headline(detail),
        "warnings": views.warnings(detail),
        "errors": views.errors(detail),
        "method": views.method_lines(detail),
        "aggregations": views.aggregation_rows(detail.result) if detail.result else [],
        "charts": [chart] if chart else [],
        "chart": chart,
        "scale": views.scale_label(detail.spec.transform),
    }


@router.get("/impact/studies")
def study_list(request: Request, db: SessionDep, actor: CurrentActor, program: str = ""):
    program_id = int(program) if program.isdigit() and len(program) < 12 else None
    listing = service.list_studies(db, actor, program_id)
    return render(
        request,
        "impact/study_list.html",
        {**views.helpers(), "listing": listing, "program_id": program_id},
    )


@router.get("/impact/studies/new")
def study_new(request: Request, db: SessionDep, actor: CurrentActor):
    program_ids = _program_ids(request.query_params.getlist("program"))
    defaults = StudySpec().as_dict()
    values = {**defaults, "caliper": defaults["caliper"] or "", "title": "", "panel": ""}
    return _wizard(request, db, actor, program_ids, values, {})


@router.post("/impact/studies/new", dependencies=[CsrfChecked])
async def study_create(request: Request, db: SessionDep, actor: CurrentActor):
    form = await request.form()
    program_ids = form.getlist("program")
    spec = {name: form.get(name, "") for name in SPEC_FIELDS}
    spec["covariates"] = [str(v) for v in form.getlist("covariates")]
    try:
        study = service.create_study(
            db,
            actor,
            title=str(form.get("title", "")),
            program_ids=[str(v) for v in program_ids],
            panel_id=form.get("panel"),
            spec=spec,
        )
    except InvalidInput as exc:
        values = {
            **spec,
            "title": form.get("title", ""),
            "panel": form.get("panel", ""),
        }
        ids = _program_ids([str(v) for v in program_ids])
        return _wizard(request, db, actor, ids, values, field_errors(exc))
    return see_other(f"/impact/studies/{study.id}")


@router.get("/impact/studies/{study_id}.xlsx")
def study_xlsx(db: SessionDep, actor: CurrentActor, study_id: int):
    detail = service.study_detail(db, actor, study_id)
    body = to_xlsx_sheets(views.sheets(detail))
    service.record_export(db, actor, detail.study, "xlsx")
    disposition = f'attachment; filename="impact-study-{study_id}.xlsx"'
    return Response(body, media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": disposition})


def pdf_bytes(env: Environment, detail: service.StudyDetail) -> bytes:
    """The study as PDF: the template rendered with a static SVG event study (no scripts)."""
    context = _detail_context(detail)
    context["svg"] = views.svg_event_study(context["chart"])
    return html_to_pdf(env.get_template(PDF_TEMPLATE).render(context))


@router.get("/impact/studies/{study_id}.pdf")
def study_pdf(request: Request, db: SessionDep, actor: CurrentActor, study_id: int):
    detail = service.study_detail(db, actor, study_id)
    body = pdf_bytes(request.app.state.templates.env, detail)
    service.record_export(db, actor, detail.study, "pdf")
    disposition = f'attachment; filename="impact-study-{study_id}.pdf"'
    return Response(
        body, media_type="application/pdf", headers={"Content-Disposition": disposition}
    )


@router.get("/impact/studies/{study_id}/status")
def study_status(request: Request, db: SessionDep, actor: CurrentActor, study_id: int):
    """The status while the study waits or runs (polled); once it is finished the whole page
    reloads, so its chart is drawn."""
    detail = service.study_detail(db, actor, study_id)
    response = render(request, "impact/_study_status.html", {**views.helpers(), "detail": detail})
    if detail.status in (DONE, FAILED):
        response.headers["HX-Refresh"] = "true"
    return response


@router.post("/impact/studies/{study_id}/run", dependencies=[CsrfChecked])
def study_rerun(db: SessionDep, actor: CurrentActor, study_id: int):
    study = service.rerun(db, actor, study_id)
    return see_other(f"/impact/studies/{study.id}")


@router.get("/impact/studies/{study_id}")
def study_page(request: Request, db: SessionDep, actor: CurrentActor, study_id: int):
    detail = service.study_detail(db, actor, study_id)
    return render(request, "impact/study_detail.html", _detail_context(detail))
