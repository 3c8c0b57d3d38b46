"""The operator's selection pages: applications and their screening, evaluators, the ranking and
selection with its publication, and objections. Thin: the services decide and check; refusals
are shown beside their field (422) or as a message, nothing stored."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import Conflict, InvalidInput
from sangsaeng.core.i18n import Msg, gettext
from sangsaeng.core.web.deps import CsrfChecked, CurrentActor, SessionDep
from sangsaeng.core.web.forms import field_errors, see_other, spreadsheet_response
from sangsaeng.core.web.templating import register_template_dir, render, seoul_time
from sangsaeng.programs import evaluation_service as evaluation
from sangsaeng.programs import selection_presenter as presenter

register_template_dir(Path(__file__).parent / "templates")  # the same folder as programs.pages
router = APIRouter(include_in_schema=False)

_NOTICES = {
    "screened": Msg("The screening has been recorded."),
    "assigned": Msg("The evaluator has been assigned."),
    "decided": Msg("The ranking and the selection have been decided."),
    "published": Msg("The results have been published to the applicants."),
    "answered": Msg("The answer has been recorded."),
}


def _notice(msg: str) -> str | None:
    text = _NOTICES.get(msg)
    return str(text) if text else None


def _helpers() -> dict:
    return {
        "app_status_label": presenter.status_label,
        "score_text": presenter.score_text,
        "declaration_label": presenter.declaration_label,
        "objection_label": lambda s: str(presenter.OBJECTION_LABELS.get(s, s)),
    }


# --- applications ----------


@router.get("/programs/{program_id}/applications")
def application_list(
    request: Request, db: SessionDep, actor: CurrentActor, program_id: int, status: str = ""
):
    program, rows = presenter.application_rows(db, actor, program_id, status)
    context = {
        "program": program,
        "rows": rows,
        "status": presenter.valid_status(status) or "",
        "status_options": [(s, presenter.status_label(s)) for s in presenter.FILTER_STATUSES],
        **_helpers(),
    }
    partial = request.headers.get("hx-request") and not request.headers.get(
        "hx-history-restore-request"
    )
    name = "programs/selection/_applications_table.html" if partial else None
    response = render(request, name or "programs/selection/applications.html", context)
    response.headers["Vary"] = "HX-Request"  # caches must not mix the fragment and the page
    return response


@router.get("/programs/{program_id}/applications.xlsx")
def application_export(db: SessionDep, actor: CurrentActor, program_id: int, status: str = ""):
    headers, rows = presenter.export_table(db, actor, program_id, status)
    name = f"applications-{program_id}-{date.today().isoformat()}"
    return spreadsheet_response("xlsx", headers, rows, name)


def _review_page(
    request: Request,
    db,
    actor,
    program_id: int,
    application_id: int,
    *,
    errors: dict | None = None,
    values: dict | None = None,
    alert: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
):
    context = {
        "review": presenter.review(db, actor, program_id, application_id),
        "program": presenter.managed_program(db, actor, program_id),
        "errors": errors or {},
        "values": values or {},
        "alert": alert,
        "notice": notice,
        **_helpers(),
    }
    return render(request, "programs/selection/review.html", context, status_code)


@router.get("/programs/{program_id}/applications/{application_id}/review")
def application_review(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    program_id: int,
    application_id: int,
    msg: str = "",
):
    return _review_page(request, db, actor, program_id, application_id, notice=_notice(msg))


@router.get("/programs/{program_id}/applications/{application_id}/documents/{document_no}")
def application_document(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    program_id: int,
    application_id: int,
    document_no: int,
):
    stored, data = presenter.document(
        db, actor, request.app.state.storage, program_id, application_id, document_no
    )
    disposition = f"attachment; filename*=UTF-8''{quote(stored.original_name)}"
    return Response(
        data, media_type=stored.content_type, headers={"Content-Disposition": disposition}
    )


@router.post(
    "/programs/{program_id}/applications/{application_id}/screen", dependencies=[CsrfChecked]
)
def application_screen(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    program_id: int,
    application_id: int,
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
):
    presenter.managed_application(db, actor, program_id, application_id)
    values = {"decision": decision, "note": note}
    try:
        if decision not in ("pass", "out"):
            raise InvalidInput({"decision": Msg("Choose a listed value.")})
        evaluation.screen(db, actor, application_id, passed=decision == "pass", note=note)
    except InvalidInput as exc:
        return _review_page(
            request,
            db,
            actor,
            program_id,
            application_id,
            errors=field_errors(exc),
            values=values,
            status_code=422,
        )
    except Conflict as exc:
        db.rollback()
        return _review_page(
            request, db, actor, program_id, application_id, alert=str(exc.message), status_code=409
        )
    return see_other(f"/programs/{program_id}/applications/{application_id}/review?msg=screened")


@router.post(
    "/programs/{program_id}/applications/{application_id}/evaluators",
    dependencies=[CsrfChecked],
)
def application_assign(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    program_id: int,
    application_id: int,
    email: Annotated[str, Form()] = "",
):
    presenter.managed_application(db, actor, program_id, application_id)
    try:
        evaluation.assign(db, actor, application_id, email)
    except InvalidInput as exc:
        return _review_page(
            request,
            db,
            actor,
            program_id,
            application_id,
            errors=field_errors(exc),
            values={"email": email},
            status_code=422,
        )
    except Conflict as exc:
        db.rollback()
        return _review_page(
            request, db, actor, program_id, application_id, alert=str(exc.message), status_code=409
        )
    return see_other(f"/programs/{program_id}/applications/{application_id}/review?msg=assigned")


# --- ranking, selection and publication ----------


@router.get("/programs/{program_id}/selection")
def selection_page(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    program_id: int,
    msg: str = "",
    refused: str = "",
):
    view = presenter.selection_view(db, actor, program_id)
    context = {
        "program": view.program,
        "view": view,
        "notice": _notice(msg),
        "alert": presenter.refusal_text(refused),
        **_helpers(),
    }
    return render(request, "programs/selection/selection.html", context)


@router.post("/programs/{program_id}/selection/decide", dependencies=[CsrfChecked])
def selection_decide(db: SessionDep, actor: CurrentActor, program_id: int):
    try:
        evaluation.decide(db, actor, program_id)
    except Conflict as exc:
        # A refusal is a message on the page (a key in the address, never the text).
        return see_other(f"/programs/{program_id}/selection?refused={presenter.refusal_key(exc)}")
    return see_other(f"/programs/{program_id}/selection?msg=decided")


@router.post("/programs/{program_id}/selection/publish", dependencies=[CsrfChecked])
def selection_publish(db: SessionDep, actor: CurrentActor, program_id: int):
    try:
        evaluation.publish(db, actor, program_id)
    except Conflict as exc:
        return see_other(f"/programs/{program_id}/selection?refused={presenter.refusal_key(exc)}")
    return see_other(f"/programs/{program_id}/selection?msg=published")


# --- objections ----------


def _objections_page(
    request: Request,
    db,
    actor,
    program_id: int,
    *,
    failed: int | None = None,
    errors: dict | None = None,
    values: dict | None = None,
    alert: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
):
    context = {
        "program": presenter.managed_program(db, actor, program_id),
        "rows": presenter.objection_rows(db, actor, program_id),
        "failed": failed,  # the objection whose answer was refused
        "errors": errors or {},
        "values": values or {},
        "alert": alert,
        "notice": notice,
        "new_status_options": [
            (s, presenter.status_label(s)) for s in presenter.OBJECTION_STATUSES
        ],
        **_helpers(),
    }
    return render(request, "programs/selection/objections.html", context, status_code)


@router.get("/programs/{program_id}/objections")
def objection_list(
    request: Request, db: SessionDep, actor: CurrentActor, program_id: int, msg: str = ""
):
    return _objections_page(request, db, actor, program_id, notice=_notice(msg))


@router.get("/programs/{program_id}/objections.xlsx")
def objection_export(db: SessionDep, actor: CurrentActor, program_id: int):
    program = presenter.managed_program(db, actor, program_id)
    rows = presenter.objection_rows(db, actor, program_id)
    headers = [
        gettext("Company"),
        gettext("Application no."),
        gettext("Application title"),
        gettext("Lodged (KST)"),
        gettext("Reason"),
        gettext("Status"),
        gettext("Answer"),
        gettext("Answered (KST)"),
    ]
    table = [
        [
            r.organization.name_ko,
            r.application.id,
            r.application.title,
            seoul_time(r.objection.lodged_at),
            r.objection.reason,
            str(presenter.OBJECTION_LABELS.get(r.objection.status, r.objection.status)),
            r.objection.answer or None,
            seoul_time(r.objection.answered_at) if r.objection.answered_at else None,
        ]
        for r in rows
    ]
    # Objections quote the companies' own words: every export of them is logged.
    record(
        db,
        actor,
        "objection.export",
        object_type="program",
        object_id=program.id,
        organization_id=program.operator_org_id,
        details={"rows": len(table)},
    )
    name = f"objections-{program.id}-{date.today().isoformat()}"
    return spreadsheet_response("xlsx", headers, table, name)


@router.post("/programs/{program_id}/objections/{objection_id}/answer", dependencies=[CsrfChecked])
def objection_answer(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    program_id: int,
    objection_id: int,
    outcome: Annotated[str, Form()] = "",
    answer: Annotated[str, Form()] = "",
    new_status: Annotated[str, Form()] = "",
):
    presenter.objection_in_program(db, program_id, objection_id)
    values = {"outcome": outcome, "answer": answer, "new_status": new_status}
    try:
        if outcome not in ("upheld", "dismissed"):
            raise InvalidInput({"outcome": Msg("Choose a listed value.")})
        evaluation.answer_objection(
            db,
            actor,
            objection_id,
            upheld=outcome == "upheld",
            answer=answer,
            new_status=new_status or None,
        )
    except InvalidInput as exc:
        return _objections_page(
            request,
            db,
            actor,
            program_id,
            failed=objection_id,
            errors=field_errors(exc),
            values=values,
            status_code=422,
        )
    except Conflict as exc:
        db.rollback()
        return _objections_page(
            request,
            db,
            actor,
            program_id,
            failed=objection_id,
            values=values,
            alert=str(exc.message),
            status_code=409,
        )
    return see_other(f"/programs/{program_id}/objections?msg=answered")
