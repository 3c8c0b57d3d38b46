"""Pages for a program's funds and projects, one project's agreement, money, milestones,
inspections, budget changes, status and follow-up, and a company's own projects. Thin: every
rule is in ``project_service``; a refused action shows its reason beside its form and stores
nothing (each action runs in a savepoint)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile

from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import Conflict, InvalidInput
from sangsaeng.core.files import service as files
from sangsaeng.core.i18n import Msg, gettext
from sangsaeng.core.web.deps import CsrfChecked, CurrentActor, SessionDep
from sangsaeng.core.web.forms import field_errors, see_other, spreadsheet_response
from sangsaeng.core.web.templating import register_template_dir, render
from sangsaeng.programs import project_service as projects
from sangsaeng.programs import project_views as views
from sangsaeng.programs import service as programs
from sangsaeng.programs.models import INSPECTION_RESULTS, PROJECT_STATUSES

register_template_dir(Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)

_LABELS = {
    "milestone_kind": {
        "kickoff": Msg("Kickoff"),
        "midterm": Msg("Midterm check"),
        "completion": Msg("Completion"),
        "final": Msg("Final inspection"),
    },
    "project_status": {
        "active": Msg("In progress"),
        "suspended": Msg("Suspended"),
        "cancelled": Msg("Cancelled"),
        "completed": Msg("Completed"),
    },
    "milestone_status": {
        "planned": Msg("Planned"),
        "submitted": Msg("Reported"),
        "approved": Msg("Approved"),
        "rejected": Msg("Sent back"),
    },
    "inspection_result": {
        "pass": Msg("Passed"),
        "fix_required": Msg("Fixes required"),
        "fail": Msg("Failed"),
    },
    "change_status": {
        "requested": Msg("Awaiting approval"),
        "approved": Msg("Approved"),
        "rejected": Msg("Rejected"),
    },
    "follow_up_kind": {"kpi_report": Msg("KPI report"), "site_visit": Msg("Site visit")},
    "entry_kind": {
        "contribution": Msg("Contribution"),
        "disbursement": Msg("Disbursement"),
        "recovery": Msg("Recovery"),
        "reversal": Msg("Reversal"),
    },
}

_NOTICES = {
    "contributed": Msg("The contribution has been booked."),
    "signed": Msg("The agreement has been signed and its budget held in the funds."),
    "reported": Msg("The milestone has been reported."),
    "approved": Msg("The milestone has been approved; its payment has been made."),
    "rejected": Msg("The milestone has been sent back to the company."),
    "inspected": Msg("The inspection has been recorded."),
    "change_requested": Msg("The budget change has been requested."),
    "change_decided": Msg("The budget change has been decided."),
    "suspended": Msg("The project has been suspended."),
    "resumed": Msg("The project has been resumed."),
    "cancelled": Msg("The agreement has been cancelled."),
    "follow_up_done": Msg("The follow-up has been marked done."),
}


def _label_functions() -> dict[str, Callable[[str], str]]:
    def labeler(table: dict[str, Msg]) -> Callable[[str], str]:
        return lambda code: str(table.get(code, code))

    return {f"{name}_label": labeler(table) for name, table in _LABELS.items()}


def _notice(msg: str) -> str | None:
    text = _NOTICES.get(msg)
    return str(text) if text else None


def _failure(exc: InvalidInput | Conflict) -> tuple[dict[str, str], str | None, int]:
    """Field errors, a message for the whole form, and the status of a refused action."""
    if isinstance(exc, InvalidInput):
        return field_errors(exc), None, 422
    return {}, str(exc.message), 409


def _form_date(text: str, field: str, errors: dict[str, Msg]) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        errors[field] = Msg("Enter a date.")
        return None


def _text(form, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


# --- funds --------------------------------------------------------------------------------------


def _funds_page(
    request: Request,
    db,
    actor,
    program_id: int,
    *,
    values: dict | None = None,
    errors: dict | None = None,
    message: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
):
    program = views.managed_program(db, actor, program_id)
    funds = views.funds_of(db, actor, program)
    context = {
        "program": program,
        "funds": funds,
        "recent": funds.entries[: views.RECENT_ENTRIES],
        "source_options": views.contribution_choices(db, program),
        "sponsor_options": [(o.id, o.name_ko) for o in programs.sponsors(db, program)],
        # A fresh key per rendered form: submitting the same form twice books once.
        "values": values or {"idempotency_key": secrets.token_hex(16)},
        "errors": errors or {},
        "message": message,
        "notice": notice,
        **_label_functions(),
    }
    return render(request, "programs/projects/funds.html", context, status_code)


@router.get("/programs/{program_id}/funds")
def funds_page(
    request: Request, db: SessionDep, actor: CurrentActor, program_id: int, msg: str = ""
):
    return _funds_page(request, db, actor, program_id, notice=_notice(msg))


@router.post("/programs/{program_id}/funds/contributions", dependencies=[CsrfChecked])
async def contribute(request: Request, db: SessionDep, actor: CurrentActor, program_id: int):
    views.managed_program(db, actor, program_id)
    form = await request.form()
    values = {
        k: _text(form, k).strip()
        for k in ("source", "amount", "contributor", "memo", "idempotency_key")
    }
    try:
        amount = views.parse_krw(values["amount"])
        if amount is None:
            raise InvalidInput({"amount": Msg("Enter a positive whole amount in KRW.")})
        contributor = values["contributor"]
        with db.begin_nested():
            projects.contribute(
                db,
                actor,
                program_id,
                source_code=values["source"],
                amount=amount,
                key=values["idempotency_key"][:64],
                contributor_org_id=int(contributor) if contributor.isdecimal() else None,
                memo=values["memo"][:300],
            )
    except (InvalidInput, Conflict) as exc:
        errors, message, status_code = _failure(exc)
        return _funds_page(
            request,
            db,
            actor,
            program_id,
            values=values,
            errors=errors,
            message=message,
            status_code=status_code,
        )
    return see_other(f"/programs/{program_id}/funds?msg=contributed")


@router.get("/programs/{program_id}/funds.xlsx")
def funds_export(db: SessionDep, actor: CurrentActor, program_id: int):
    program = views.managed_program(db, actor, program_id)
    funds = views.funds_of(db, actor, program)
    headers = [
        gettext("Entry"),
        gettext("Time (KST)"),
        gettext("Kind"),
        gettext("Account"),
        gettext("Amount (KRW)"),
        gettext("Reference"),
        gettext("Memo"),
    ]
    return spreadsheet_response(
        "xlsx", headers, views.entry_rows(funds.entries), f"program-{program.id}-ledger"
    )


# --- projects of a program ----------------------------------------------------------------------


def _projects_page(
    request: Request,
    db,
    actor,
    program_id: int,
    *,
    status: str = "",
    notice: str | None = None,
    sign_for: int | None = None,
    values: dict | None = None,
    errors: dict | None = None,
    message: str | None = None,
    status_code: int = 200,
):
    program = views.managed_program(db, actor, program_id)
    context = {
        "program": program,
        "rows": views.project_rows(db, actor, program.id, status),
        "unsigned": views.unsigned(db, actor, program),
        "status": status,
        "statuses": PROJECT_STATUSES,
        "sign_for": sign_for,
        "values": values or {},
        "errors": errors or {},
        "message": message,
        "notice": notice,
        **_label_functions(),
    }
    return render(request, "programs/projects/list.html", context, status_code)


@router.get("/programs/{program_id}/projects")
def projects_page(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    program_id: int,
    status: str = "",
    msg: str = "",
):
    return _projects_page(request, db, actor, program_id, status=status, notice=_notice(msg))


@router.get("/programs/{program_id}/projects.xlsx")
def projects_export(db: SessionDep, actor: CurrentActor, program_id: int, status: str = ""):
    rows = views.project_rows(db, actor, program_id, status)
    headers = [
        gettext("Agreement no."),
        gettext("Company"),
        gettext("Solution provider"),
        gettext("Status"),
        gettext("Total (KRW)"),
        gettext("Paid (KRW)"),
        gettext("Held (KRW)"),
        gettext("Next milestone"),
        gettext("Due"),
        gettext("Overdue"),
        gettext("Starts"),
        gettext("Ends"),
    ]
    labels = _label_functions()
    body = views.project_export_rows(
        rows,
        labels["project_status_label"],
        labels["milestone_kind_label"],
        gettext("Overdue"),
    )
    record(
        db,
        actor,
        "project.export",
        object_type="program",
        object_id=program_id,
        details={"rows": len(body)},
    )
    return spreadsheet_response("xlsx", headers, body, f"program-{program_id}-projects")


@router.post(
    "/programs/{program_id}/applications/{application_id}/agreement", dependencies=[CsrfChecked]
)
async def sign(
    request: Request, db: SessionDep, actor: CurrentActor, program_id: int, application_id: int
):
    views.application_in(db, actor, program_id, application_id)
    views.managed_program(db, actor, program_id)
    form = await request.form()
    values = {k: _text(form, k) for k in ("starts_on", "ends_on", "cost_lines")}
    try:
        errors: dict[str, Msg] = {}
        starts_on = _form_date(values["starts_on"], "starts_on", errors)
        ends_on = _form_date(values["ends_on"], "ends_on", errors)
        try:
            lines = views.parse_lines(values["cost_lines"], "cost_lines")
        except InvalidInput as exc:
            errors.update(exc.fields)
        if errors:
            raise InvalidInput(errors)
        with db.begin_nested():
            project = projects.sign(
                db, actor, application_id, starts_on=starts_on, ends_on=ends_on, cost_lines=lines
            )
    except (InvalidInput, Conflict) as exc:
        errors, message, status_code = _failure(exc)
        return _projects_page(
            request,
            db,
            actor,
            program_id,
            sign_for=application_id,
            values=values,
            errors=errors,
            message=message,
            status_code=status_code,
        )
    return see_other(f"/projects/{project.id}?msg=signed")


# --- a company's own projects -------------------------------------------------------------------


@router.get("/projects")
def my_projects(request: Request, db: SessionDep, actor: CurrentActor):
    context = {"rows": views.my_project_rows(db, actor), **_label_functions()}
    return render(request, "programs/projects/mine.html", context)


@router.get("/projects.xlsx")
def my_projects_export(db: SessionDep, actor: CurrentActor):
    labels = _label_functions()
    status, kind = labels["project_status_label"], labels["milestone_kind_label"]
    headers = [
        gettext("Program"),
        gettext("Agreement no."),
        gettext("Status"),
        gettext("Total (KRW)"),
        gettext("Paid (KRW)"),
        gettext("Next milestone"),
        gettext("Due"),
        gettext("Overdue"),
        gettext("Starts"),
        gettext("Ends"),
    ]
    rows = []
    for r, program in views.my_project_rows(db, actor):
        p, nxt = r.project, r.next_milestone
        rows.append(
            [
                program.name_ko,
                p.agreement_no,
                status(p.status),
                p.total_krw,
                r.paid,
                kind(nxt.kind) if nxt else None,
                nxt.due_on.isoformat() if nxt else None,
                gettext("Overdue") if r.overdue else None,
                p.starts_on.isoformat(),
                p.ends_on.isoformat(),
            ]
        )
    record(
        db,
        actor,
        "project.export",
        object_type="user",
        object_id=actor.user_id,
        details={"rows": len(rows)},
    )
    return spreadsheet_response("xlsx", headers, rows, f"projects-{date.today().isoformat()}")


# --- one project --------------------------------------------------------------------------------


def _project_page(
    request: Request,
    db,
    actor,
    project_id: int,
    *,
    notice: str | None = None,
    form: str = "",
    values: dict | None = None,
    errors: dict | None = None,
    message: str | None = None,
    status_code: int = 200,
):
    view = views.project_view(db, actor, project_id)
    labels = _label_functions()
    context = {
        "v": view,
        "p": view.project,
        "notice": notice,
        # Which form the errors belong to (several forms share the page).
        "form": form,
        "values": values or {},
        "errors": errors or {},
        "message": message,
        "today": views.today().isoformat(),
        "report_kinds": projects.NEEDS_REPORT,
        "result_options": [(r, labels["inspection_result_label"](r)) for r in INSPECTION_RESULTS],
        "milestone_options": [
            (m.id, labels["milestone_kind_label"](m.kind)) for m in view.milestones
        ],
        "lines_text": views.lines_text,
        **labels,
    }
    return render(request, "programs/projects/project.html", context, status_code)


@router.get("/projects/{project_id}")
def project_page(
    request: Request, db: SessionDep, actor: CurrentActor, project_id: int, msg: str = ""
):
    return _project_page(request, db, actor, project_id, notice=_notice(msg))


def _act(request, db, actor, project_id: int, form: str, values: dict, done: str, action):
    """Run one action in a savepoint; refused, the page shows why beside the form."""
    try:
        with db.begin_nested():
            action()
    except (InvalidInput, Conflict) as exc:
        errors, message, status_code = _failure(exc)
        return _project_page(
            request,
            db,
            actor,
            project_id,
            form=form,
            values=values,
            errors=errors,
            message=message,
            status_code=status_code,
        )
    return see_other(f"/projects/{project_id}?msg={done}")


@router.post("/projects/{project_id}/milestones/{milestone_id}/report", dependencies=[CsrfChecked])
async def report_milestone(
    request: Request, db: SessionDep, actor: CurrentActor, project_id: int, milestone_id: int
):
    project = projects.get_project(db, actor, project_id)
    views.milestone_in(db, project_id, milestone_id)
    form = await request.form()
    report = _text(form, "report")
    uploads = [
        (u.filename, await u.read())
        for u in form.getlist("files")
        if isinstance(u, UploadFile) and u.filename
    ]
    storage = request.app.state.storage

    def action():
        file_ids = [
            files.store(
                db,
                actor,
                storage,
                data=data,
                filename=name,
                place="program",
                organization_id=project.organization_id,
            ).id
            for name, data in uploads
        ]
        projects.submit_milestone(db, actor, milestone_id, report=report, file_ids=file_ids)

    return _act(
        request,
        db,
        actor,
        project_id,
        f"report-{milestone_id}",
        {"report": report},
        "reported",
        action,
    )


@router.post("/projects/{project_id}/milestones/{milestone_id}/approve", dependencies=[CsrfChecked])
async def approve_milestone(
    request: Request, db: SessionDep, actor: CurrentActor, project_id: int, milestone_id: int
):
    projects.get_project(db, actor, project_id)
    views.milestone_in(db, project_id, milestone_id)
    note = _text(await request.form(), "note")
    return _act(
        request,
        db,
        actor,
        project_id,
        f"decide-{milestone_id}",
        {"note": note},
        "approved",
        lambda: projects.approve_milestone(db, actor, milestone_id, note=note),
    )


@router.post("/projects/{project_id}/milestones/{milestone_id}/reject", dependencies=[CsrfChecked])
async def reject_milestone(
    request: Request, db: SessionDep, actor: CurrentActor, project_id: int, milestone_id: int
):
    projects.get_project(db, actor, project_id)
    views.milestone_in(db, project_id, milestone_id)
    note = _text(await request.form(), "note")
    return _act(
        request,
        db,
        actor,
        project_id,
        f"decide-{milestone_id}",
        {"note": note},
        "rejected",
        lambda: projects.reject_milestone(db, actor, milestone_id, note=note),
    )


@router.post("/projects/{project_id}/inspections", dependencies=[CsrfChecked])
async def record_inspection(request: Request, db: SessionDep, actor: CurrentActor, project_id: int):
    form = await request.form()
    values = {k: _text(form, k) for k in ("inspected_on", "result", "findings", "milestone_id")}

    def action():
        errors: dict[str, Msg] = {}
        inspected_on = _form_date(values["inspected_on"], "inspected_on", errors)
        if errors:
            projects.get_project(db, actor, project_id)  # strangers learn nothing, even here
            raise InvalidInput(errors)
        milestone = values["milestone_id"]
        projects.record_inspection(
            db,
            actor,
            project_id,
            inspected_on=inspected_on,
            result=values["result"],
            findings=values["findings"],
            milestone_id=int(milestone) if milestone.isdecimal() else None,
        )

    return _act(request, db, actor, project_id, "inspection", values, "inspected", action)


@router.post("/projects/{project_id}/budget-changes", dependencies=[CsrfChecked])
async def request_budget_change(
    request: Request, db: SessionDep, actor: CurrentActor, project_id: int
):
    projects.get_project(db, actor, project_id)
    form = await request.form()
    values = {k: _text(form, k) for k in ("lines", "reason")}

    def action():
        lines = views.parse_lines(values["lines"], "lines") or {}
        projects.request_budget_change(db, actor, project_id, lines=lines, reason=values["reason"])

    return _act(request, db, actor, project_id, "change", values, "change_requested", action)


@router.post("/projects/{project_id}/budget-changes/{change_id}/decide", dependencies=[CsrfChecked])
async def decide_budget_change(
    request: Request, db: SessionDep, actor: CurrentActor, project_id: int, change_id: int
):
    projects.get_project(db, actor, project_id)
    views.change_in(db, project_id, change_id)
    approve = _text(await request.form(), "decision") == "approve"
    return _act(
        request,
        db,
        actor,
        project_id,
        f"change-{change_id}",
        {},
        "change_decided",
        lambda: projects.decide_budget_change(db, actor, change_id, approve=approve),
    )


@router.post("/projects/{project_id}/suspend", dependencies=[CsrfChecked])
async def suspend(request: Request, db: SessionDep, actor: CurrentActor, project_id: int):
    reason = _text(await request.form(), "reason")
    return _act(
        request,
        db,
        actor,
        project_id,
        "suspend",
        {"reason": reason},
        "suspended",
        lambda: projects.suspend(db, actor, project_id, reason=reason),
    )


@router.post("/projects/{project_id}/resume", dependencies=[CsrfChecked])
def resume(request: Request, db: SessionDep, actor: CurrentActor, project_id: int):
    return _act(
        request,
        db,
        actor,
        project_id,
        "resume",
        {},
        "resumed",
        lambda: projects.resume(db, actor, project_id),
    )


@router.post("/projects/{project_id}/cancel", dependencies=[CsrfChecked])
async def cancel(request: Request, db: SessionDep, actor: CurrentActor, project_id: int):
    form = await request.form()
    values = {k: _text(form, k) for k in ("reason", "recover_krw")}

    def action():
        text = values["recover_krw"].strip()
        recover = views.parse_krw(text) if text else 0
        if recover is None:
            projects.get_project(db, actor, project_id)
            raise InvalidInput({"recover_krw": Msg("Enter a positive whole amount in KRW.")})
        projects.cancel(db, actor, project_id, reason=values["reason"], recover_krw=recover)

    return _act(request, db, actor, project_id, "cancel", values, "cancelled", action)


@router.post("/projects/{project_id}/follow-ups/{follow_up_id}/done", dependencies=[CsrfChecked])
async def follow_up_done(
    request: Request, db: SessionDep, actor: CurrentActor, project_id: int, follow_up_id: int
):
    projects.get_project(db, actor, project_id)
    views.follow_up_in(db, project_id, follow_up_id)
    note = _text(await request.form(), "note")
    return _act(
        request,
        db,
        actor,
        project_id,
        f"follow-up-{follow_up_id}",
        {"note": note},
        "follow_up_done",
        lambda: projects.complete_follow_up(db, actor, follow_up_id, note=note),
    )
