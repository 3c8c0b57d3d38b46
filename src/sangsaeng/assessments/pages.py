"""Assessment pages: start, answer, submit, results with radar and roadmap, verification,
simulation, certification rankings and exports. Thin: every rule is in ``service``."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from sangsaeng.assessments import presenter, service
from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.i18n import Msg
from sangsaeng.core.reports import html_to_pdf
from sangsaeng.core.web.deps import CsrfChecked, CurrentActor, SessionDep
from sangsaeng.core.web.forms import field_errors, see_other, spreadsheet_response
from sangsaeng.core.web.templating import register_template_dir, render

register_template_dir(Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)

_NOTICES = {
    "saved": Msg("Your answers have been saved."),
    "submitted": Msg("The assessment has been submitted. Your result is below."),
    "verified": Msg("The on-site verification has been recorded."),
    "plan_saved": Msg("The action has been updated."),
    "assessor": Msg("The assessor has been assigned."),
}


def _whole(text: str) -> int | None:
    """A form's whole number (ASCII digits only: "²".isdigit() is true, int("²") fails)."""
    return int(text) if re.fullmatch(r"[0-9]{1,12}", text or "") else None


def _notice(msg: str | None) -> str | None:
    text = _NOTICES.get(msg or "")
    return str(text) if text else None


@router.get("/assessments")
def assessment_list(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    instrument: str = "",
    status: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
    msg: str = "",
):
    filters = service.AssessmentFilters(instrument_id=instrument, status=status)
    result = service.list_assessments(db, actor, filters, page=page)
    context = presenter.list_context(db, actor, result, filters)
    return render(request, "assessments/list.html", {**context, "notice": _notice(msg)})


@router.post("/assessments", dependencies=[CsrfChecked])
def assessment_start(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    organization_id: Annotated[int, Form()],
    instrument_id: Annotated[str, Form()],
    about_organization_id: Annotated[str, Form()] = "",
):
    about = _whole(about_organization_id)
    try:
        assessment = service.start(
            db,
            actor,
            organization_id=organization_id,
            instrument_id=instrument_id,
            about_organization_id=about,
        )
    except InvalidInput as exc:
        filters = service.AssessmentFilters()
        result = service.list_assessments(db, actor, filters)
        context = presenter.list_context(db, actor, result, filters)
        return render(
            request, "assessments/list.html", {**context, "errors": field_errors(exc)}, 422
        )
    return see_other(f"/assessments/{assessment.id}")


@router.get("/assessments/export")
def assessment_export(
    db: SessionDep,
    actor: CurrentActor,
    instrument: str = "",
    status: str = "",
    format: str = "xlsx",
):
    filters = service.AssessmentFilters(instrument_id=instrument, status=status)
    headers, rows = presenter.export_rows(db, actor, filters)
    fmt = "csv" if format == "csv" else "xlsx"
    return spreadsheet_response(fmt, headers, rows, "assessments")


@router.get("/assessments/simulate/{instrument_id}")
def simulate_form(request: Request, db: SessionDep, actor: CurrentActor, instrument_id: str):
    instrument = service.get_instrument(instrument_id)
    context = presenter.simulate_context(instrument, {}, None, {})
    return render(request, "assessments/simulate.html", context)


@router.post("/assessments/simulate/{instrument_id}", dependencies=[CsrfChecked])
async def simulate_run(request: Request, db: SessionDep, actor: CurrentActor, instrument_id: str):
    form = await request.form()
    answers, _comments = presenter.answers_from_form(form)
    survey = {k[2:]: v for k, v in form.items() if k.startswith("s.")}
    instrument = service.get_instrument(instrument_id)
    try:
        instrument, result = service.simulate(db, actor, instrument_id, answers, survey)
    except InvalidInput as exc:
        context = presenter.simulate_context(instrument, answers, None, field_errors(exc), survey)
        return render(request, "assessments/simulate.html", context, 422)
    context = presenter.simulate_context(instrument, answers, result, {}, survey)
    return render(request, "assessments/simulate.html", context)


@router.get("/assessments/rankings/{instrument_id}")
def ranking_page(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    instrument_id: str,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
):
    cohort = year or date.today().year
    instrument, rows = service.certification_ranking(db, actor, instrument_id, cohort)
    context = {
        "instrument": instrument,
        "rows": rows,
        "year": cohort,
        "tie_rules": ", ".join(
            presenter.tie_break_label(instrument, name) for name in instrument.ranking.tie_breaks
        ),
        **presenter.common(instrument),
    }
    return render(request, "assessments/ranking.html", context)


@router.get("/assessments/{assessment_id}")
def assessment_page(
    request: Request, db: SessionDep, actor: CurrentActor, assessment_id: int, msg: str = ""
):
    assessment = service.get_assessment(db, actor, assessment_id)
    if assessment.status == "draft" and service.can_write(db, actor, assessment):
        context = presenter.form_context(db, actor, assessment)
        return render(request, "assessments/form.html", {**context, "notice": _notice(msg)})
    context = presenter.result_context(db, actor, assessment_id)
    return render(request, "assessments/result.html", {**context, "notice": _notice(msg)})


@router.post("/assessments/{assessment_id}/answers", dependencies=[CsrfChecked])
async def assessment_save(
    request: Request, db: SessionDep, actor: CurrentActor, assessment_id: int
):
    form = await request.form()
    answers, comments = presenter.answers_from_form(form)
    storage = request.app.state.storage
    uploads = [
        (key[2:], upload.filename, await upload.read())
        for key, upload in form.multi_items()
        if key.startswith("e.") and isinstance(upload, UploadFile) and upload.filename
    ]
    submitting = form.get("action") == "submit"
    try:
        # All or nothing: a refused file or submission leaves the saved draft as it was.
        with db.begin_nested():
            service.save_answers(db, actor, assessment_id, answers, comments)
            for item_id, filename, data in uploads:
                service.attach_evidence(
                    db, actor, storage, assessment_id, item_id, data=data, filename=filename
                )
            if submitting:
                service.submit(db, actor, assessment_id)
    except InvalidInput as exc:
        context = presenter.form_context(
            db,
            actor,
            service.get_assessment(db, actor, assessment_id),
            posted=answers,
            errors=field_errors(exc),
        )
        return render(request, "assessments/form.html", context, 422)
    if submitting:
        return see_other(f"/assessments/{assessment_id}?msg=submitted")
    return see_other(f"/assessments/{assessment_id}?msg=saved")


@router.get("/assessments/{assessment_id}/verify")
def verify_form(request: Request, db: SessionDep, actor: CurrentActor, assessment_id: int):
    context = presenter.verify_context(db, actor, assessment_id)
    return render(request, "assessments/verify.html", context)


@router.post("/assessments/{assessment_id}/verify", dependencies=[CsrfChecked])
async def verify_save(request: Request, db: SessionDep, actor: CurrentActor, assessment_id: int):
    form = await request.form()
    answers, _comments = presenter.answers_from_form(form)
    try:
        service.verify(db, actor, assessment_id, answers, str(form.get("note", "")))
    except InvalidInput as exc:
        context = presenter.verify_context(
            db, actor, assessment_id, posted=answers, errors=field_errors(exc)
        )
        return render(request, "assessments/verify.html", context, 422)
    return see_other(f"/assessments/{assessment_id}?msg=verified")


@router.post("/assessments/{assessment_id}/assessor", dependencies=[CsrfChecked])
def assessor_assign(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    assessment_id: int,
    email: Annotated[str, Form()] = "",
):
    try:
        service.assign_assessor(db, actor, assessment_id, email)
    except InvalidInput as exc:
        context = presenter.result_context(db, actor, assessment_id)
        return render(
            request, "assessments/result.html", {**context, "errors": field_errors(exc)}, 422
        )
    return see_other(f"/assessments/{assessment_id}?msg=assessor")


@router.post("/assessments/plan/{plan_action_id}", dependencies=[CsrfChecked])
def plan_action_save(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    plan_action_id: int,
    title: Annotated[str, Form()] = "",
    year: Annotated[str, Form()] = "",
    quarter: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "",
    assignee_id: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
):
    try:
        action = service.update_plan_action(
            db,
            actor,
            plan_action_id,
            title=title,
            year=_whole(year),
            quarter=_whole(quarter),
            status=status or None,
            assignee_id=_whole(assignee_id),
            clear_assignee=not assignee_id,
            note=note,
        )
    except InvalidInput as exc:
        assessment_id = presenter.assessment_of_action(db, plan_action_id)
        context = presenter.result_context(db, actor, assessment_id)
        context["plan_errors"] = {plan_action_id: field_errors(exc)}
        return render(request, "assessments/result.html", context, 422)
    return see_other(f"/assessments/{action.assessment_id}?msg=plan_saved#action-{action.id}")


@router.get("/assessments/{assessment_id}/export")
def result_export(db: SessionDep, actor: CurrentActor, assessment_id: int, format: str = "xlsx"):
    headers, rows = presenter.result_rows(db, actor, assessment_id)
    fmt = "csv" if format == "csv" else "xlsx"
    return spreadsheet_response(fmt, headers, rows, f"assessment-{assessment_id}")


@router.get("/assessments/{assessment_id}/report.pdf")
def result_pdf(request: Request, db: SessionDep, actor: CurrentActor, assessment_id: int):
    context = presenter.result_context(db, actor, assessment_id)
    context["radar_svg"] = presenter.radar_svg(context["view"])
    html = request.app.state.templates.get_template("assessments/report.html").render(context)
    pdf = html_to_pdf(html)
    presenter.log_download(db, actor, context["view"].assessment)
    headers = {"Content-Disposition": f'attachment; filename="assessment-{assessment_id}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)
