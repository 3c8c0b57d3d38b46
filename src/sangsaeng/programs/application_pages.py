"""Pages for applicants (apply, draft, submit, withdraw, object), evaluators (pledge, score) and
the registry of solution providers. Thin: every rule is in the application and evaluation
services; ``application_views`` puts their answers into words."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.datastructures import UploadFile

from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.i18n import Msg, gettext
from sangsaeng.core.ids import format_business_no
from sangsaeng.core.orgs import service as orgs
from sangsaeng.core.policy import Action, can
from sangsaeng.core.web.deps import CsrfChecked, CurrentActor, SessionDep
from sangsaeng.core.web.forms import field_errors, see_other, spreadsheet_response
from sangsaeng.core.web.templating import register_template_dir, render, seoul_time
from sangsaeng.programs import application_service as applications
from sangsaeng.programs import application_views as views
from sangsaeng.programs import evaluation_service as evaluation
from sangsaeng.programs import service as programs
from sangsaeng.programs.models import CONFLICT, NO_CONFLICT, SOLUTION_TYPES

register_template_dir(Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)

_NOTICES = {
    "saved": Msg("The draft has been saved."),
    "submitted": Msg("The application has been submitted. It can no longer be changed."),
    "withdrawn": Msg("The application has been withdrawn."),
    "locked": Msg("This application can no longer be changed (submitted, or the call closed)."),
    "objection": Msg("Your objection has been lodged. The program office will answer it."),
    "declared": Msg("Your declaration has been recorded."),
    "scored": Msg("Your scores have been recorded."),
    "provider": Msg("The solution provider has been registered."),
    "solution": Msg("The solution has been added."),
}


def _notice(msg: str) -> str | None:
    return str(_NOTICES[msg]) if msg in _NOTICES else None


# --- applying ----------


@router.post("/calls/{program_id}/apply", dependencies=[CsrfChecked])
def apply(request: Request, db: SessionDep, actor: CurrentActor, program_id: int):
    application = applications.start(db, actor, program_id)
    return see_other(f"/applications/{application.id}/edit")


@router.get("/applications")
def my_applications(request: Request, db: SessionDep, actor: CurrentActor, msg: str = ""):
    rows = applications.my_applications(db, actor)
    context = {"rows": rows, "notice": _notice(msg), **views.labels()}
    return render(request, "programs/applications/list.html", context)


@router.get("/applications.xlsx")
def my_applications_export(db: SessionDep, actor: CurrentActor):
    headers, rows = views.export_rows(db, actor)
    return spreadsheet_response("xlsx", headers, rows, "applications")


@router.get("/applications/{application_id}")
def application_page(
    request: Request, db: SessionDep, actor: CurrentActor, application_id: int, msg: str = ""
):
    application = applications.get_application(db, actor, application_id)
    evaluator = views.read_as_evaluator(db, actor, application)
    context = {
        **views.application_context(db, actor, application, for_evaluator=evaluator),
        "notice": _notice(msg),
        "errors": {},
        **views.labels(),
    }
    return render(request, "programs/applications/detail.html", context)


@router.get("/applications/{application_id}/edit")
def application_edit(request: Request, db: SessionDep, actor: CurrentActor, application_id: int):
    application = applications.get_application(db, actor, application_id)
    if not views.open_draft(application, applications.program_of(db, application)):
        return see_other(f"/applications/{application_id}?msg=locked")
    views.ensure_applicant(actor, application)
    context = {**views.form_context(db, actor, application), **views.labels()}
    return render(request, "programs/applications/edit.html", context)


async def _uploads(form) -> list[tuple[str, str, bytes]]:
    return [
        (key, upload.filename, await upload.read())
        for key, upload in form.multi_items()
        if key.startswith("doc.") and isinstance(upload, UploadFile) and upload.filename
    ]


def _save_form(db, actor, request, application, values: dict, uploads) -> None:
    """Save the draft and attach the uploads, all or nothing: every refused field and file is
    reported together."""
    program = applications.program_of(db, application)
    errors: dict = {}
    with db.begin_nested():  # an exception leaving the block rolls back to here
        try:
            applications.save(db, actor, application.id, values)
        except InvalidInput as exc:
            errors.update(exc.fields)
        for field, document, filename, data in views.document_uploads(program, uploads):
            try:
                applications.attach_document(
                    db,
                    actor,
                    request.app.state.storage,
                    application.id,
                    document,
                    data=data,
                    filename=filename,
                )
            except InvalidInput as exc:
                errors[field] = views.first_message(exc)
        if errors:
            raise InvalidInput(errors)


async def _posted(request: Request, db, application):
    form = await request.form()
    program = applications.program_of(db, application)
    codes = [s.code for s in programs.sources(db, program)]
    values, posted = views.values_from_form(form, codes)
    return form, values, posted, await _uploads(form)


def _refused(request, db, actor, application, posted, exc: InvalidInput, eligibility=None):
    errors = field_errors(exc)
    context = {
        **views.form_context(db, actor, application, posted, errors, eligibility),
        **views.labels(),
    }
    return render(request, "programs/applications/edit.html", context, 422)


@router.post("/applications/{application_id}/edit", dependencies=[CsrfChecked])
async def application_save(
    request: Request, db: SessionDep, actor: CurrentActor, application_id: int
):
    application = applications.get_application(db, actor, application_id)
    views.ensure_applicant(actor, application)
    _form, values, posted, uploads = await _posted(request, db, application)
    try:
        _save_form(db, actor, request, application, values, uploads)
    except InvalidInput as exc:
        return _refused(request, db, actor, application, posted, exc)
    return see_other(f"/applications/{application_id}/edit?msg=saved")


@router.post("/applications/{application_id}/submit", dependencies=[CsrfChecked])
async def application_submit(
    request: Request, db: SessionDep, actor: CurrentActor, application_id: int
):
    """Submit the draft; from the edit form, the posted values are saved first (together with
    the submission or not at all)."""
    application = applications.get_application(db, actor, application_id)
    views.ensure_applicant(actor, application)
    form, values, posted, uploads = await _posted(request, db, application)
    from_form = form.get("from_form") == "1"
    try:
        with db.begin_nested():
            if from_form:
                _save_form(db, actor, request, application, values, uploads)
            applications.submit(db, actor, application_id)
    except InvalidInput as exc:
        if not from_form:
            posted = None
        eligibility = views.fresh_eligibility(db, actor, application)
        return _refused(request, db, actor, application, posted, exc, eligibility)
    return see_other(f"/applications/{application_id}?msg=submitted")


@router.post("/applications/{application_id}/withdraw", dependencies=[CsrfChecked])
def application_withdraw(
    request: Request, db: SessionDep, actor: CurrentActor, application_id: int
):
    applications.withdraw(db, actor, application_id)
    return see_other(f"/applications/{application_id}?msg=withdrawn")


@router.post("/applications/{application_id}/objections", dependencies=[CsrfChecked])
def objection_lodge(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    application_id: int,
    reason: Annotated[str, Form()] = "",
):
    try:
        evaluation.lodge_objection(db, actor, application_id, reason)
    except InvalidInput as exc:
        application = applications.get_application(db, actor, application_id)
        context = {
            **views.application_context(db, actor, application),
            "errors": field_errors(exc),
            "reason": reason,
            **views.labels(),
        }
        return render(request, "programs/applications/detail.html", context, 422)
    return see_other(f"/applications/{application_id}?msg=objection")


# --- evaluators ----------


@router.get("/evaluations")
def my_evaluations(request: Request, db: SessionDep, actor: CurrentActor):
    rows = evaluation.my_assignments(db, actor)
    context = {"rows": rows, "NO_CONFLICT": NO_CONFLICT, "CONFLICT": CONFLICT, **views.labels()}
    return render(request, "programs/evaluations/list.html", context)


def _declaration_text(declaration: str | None) -> str:
    if declaration == NO_CONFLICT:
        return gettext("No conflict declared")
    if declaration == CONFLICT:
        return gettext("Conflict declared")
    return gettext("Declaration needed")


@router.get("/evaluations.xlsx")
def my_evaluations_export(db: SessionDep, actor: CurrentActor):
    headers = [
        gettext("Program"),
        gettext("Applicant"),
        gettext("Assigned (KST)"),
        gettext("Declaration"),
        gettext("Declared (KST)"),
        gettext("Score"),
        gettext("Scored (KST)"),
    ]
    rows = [
        [
            program.name_ko,
            organization.name_ko,
            _seoul(assignment.assigned_at),
            _declaration_text(assignment.declaration),
            _seoul(assignment.declared_at),
            assignment.score,
            _seoul(assignment.submitted_at),
        ]
        for assignment, _application, program, organization in evaluation.my_assignments(db, actor)
    ]
    # The applicants' names leave the platform: logged, as every export of companies' data is.
    record(
        db,
        actor,
        "evaluation.export",
        object_type="user",
        object_id=actor.user_id,
        details={"rows": len(rows)},
    )
    return spreadsheet_response("xlsx", headers, rows, f"evaluations-{date.today().isoformat()}")


def _seoul(moment) -> str | None:
    return seoul_time(moment) if moment else None


def _evaluation_context(db, actor, assignment_id: int, posted=None, comments=None, errors=None):
    assignment, application, program, organization = views.assignment_row(db, actor, assignment_id)
    context = {
        "assignment": assignment,
        "program": program,
        "applicant": organization,
        "provider": applications.solution_label(db, application.solution_id),
        "errors": errors or {},
        **views.labels(),
    }
    if assignment.declaration == NO_CONFLICT:
        assignment, application = evaluation.application_for_evaluator(db, actor, assignment_id)
        instrument = views.score_sheet_of(program, assignment)
        context.update(
            views.application_context(db, actor, application, for_evaluator=True),
            instrument=instrument,
            values=posted if posted is not None else views.sheet_values(assignment),
            comments=comments if comments is not None else (assignment.comments or {}),
            can_score=application.status == "review" and program.results_published_at is None,
        )
    return context


@router.get("/evaluations/{assignment_id}")
def evaluation_page(
    request: Request, db: SessionDep, actor: CurrentActor, assignment_id: int, msg: str = ""
):
    context = {**_evaluation_context(db, actor, assignment_id), "notice": _notice(msg)}
    return render(request, "programs/evaluations/detail.html", context)


@router.post("/evaluations/{assignment_id}/declare", dependencies=[CsrfChecked])
def evaluation_declare(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    assignment_id: int,
    choice: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
):
    if choice not in (NO_CONFLICT, CONFLICT):
        evaluation.get_assignment(db, actor, assignment_id)  # someone else's: 404 first
        errors = {"choice": str(Msg("Choose one of the two declarations."))}
        context = _evaluation_context(db, actor, assignment_id, errors=errors)
        return render(request, "programs/evaluations/detail.html", context, 422)
    evaluation.declare(db, actor, assignment_id, conflict=choice == CONFLICT, note=note)
    return see_other(f"/evaluations/{assignment_id}?msg=declared")


@router.post("/evaluations/{assignment_id}/score", dependencies=[CsrfChecked])
async def evaluation_score(
    request: Request, db: SessionDep, actor: CurrentActor, assignment_id: int
):
    form = await request.form()
    answers, comments = views.answers_from_form(form)
    try:
        evaluation.score(db, actor, assignment_id, answers, comments)
    except InvalidInput as exc:
        context = _evaluation_context(
            db, actor, assignment_id, answers, comments, field_errors(exc)
        )
        return render(request, "programs/evaluations/detail.html", context, 422)
    return see_other(f"/evaluations/{assignment_id}?msg=scored")


# --- solution providers ----------


def _providers_context(db, actor, errors=None, solution_errors=None, values=None) -> dict:
    rows = applications.list_providers(db, actor)
    return {
        "rows": rows,
        "can_register": can(db, actor, Action.PROGRAM_CREATE),
        "editable": {
            r.provider.id for r in rows if applications.can_edit_provider(db, actor, r.provider)
        },
        "solution_types": SOLUTION_TYPES,
        "errors": errors or {},
        "solution_errors": solution_errors or {},
        "values": values or {},
    }


@router.get("/providers")
def provider_list(request: Request, db: SessionDep, actor: CurrentActor, msg: str = ""):
    context = {**_providers_context(db, actor), "notice": _notice(msg)}
    return render(request, "programs/providers/list.html", context)


@router.get("/providers.xlsx")
def provider_export(db: SessionDep, actor: CurrentActor):
    """The registry, one row per solution (a provider without solutions keeps one row)."""
    headers = [
        gettext("Solution provider"),
        gettext("Business registration no."),
        gettext("Solution"),
        gettext("Type"),
        gettext("Description of the solution"),
    ]
    rows = []
    for row in applications.list_providers(db, actor):
        company = [row.organization.name_ko, format_business_no(row.organization.business_no)]
        rows.extend([*company, s.name, s.solution_type, s.description] for s in row.solutions)
        if not row.solutions:
            rows.append([*company, None, None, None])
    record(db, actor, "provider.export", object_type="provider", details={"rows": len(rows)})
    return spreadsheet_response("xlsx", headers, rows, f"providers-{date.today().isoformat()}")


@router.post("/providers", dependencies=[CsrfChecked])
def provider_register(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    business_no: Annotated[str, Form()] = "",
):
    programs.ensure_can_create(db, actor)
    org = orgs.find_by_business_no(db, business_no)
    if org is None:
        errors = {
            "business_no": str(Msg("No organization is registered with this business number."))
        }
        context = _providers_context(db, actor, errors, values={"business_no": business_no})
        return render(request, "programs/providers/list.html", context, 422)
    applications.register_provider(db, actor, org.id)
    return see_other("/providers?msg=provider")


@router.post("/providers/{provider_id}/solutions", dependencies=[CsrfChecked])
def solution_add(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    provider_id: int,
    name: Annotated[str, Form()] = "",
    solution_type: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
):
    try:
        applications.add_solution(
            db, actor, provider_id, name=name, solution_type=solution_type, description=description
        )
    except InvalidInput as exc:
        context = _providers_context(
            db,
            actor,
            solution_errors={provider_id: field_errors(exc)},
            values={"provider_id": provider_id, "name": name, "description": description},
        )
        return render(request, "programs/providers/list.html", context, 422)
    return see_other(f"/providers?msg=solution#provider-{provider_id}")
