"""KPI pages: a project's KPIs (targets, values with their source and status, evidence, the
comparison with the program) with the form to report a value, and the program's verification
queue with its spreadsheet. Thin: every rule is in the outcomes services; a refused action shows
its reason beside its form and stores nothing (each action runs in a savepoint)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile

from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import Conflict, InvalidInput
from sangsaeng.core.i18n import Msg, gettext
from sangsaeng.core.reference.catalogue import kpi_catalogue
from sangsaeng.core.web.deps import CsrfChecked, CurrentActor, SessionDep
from sangsaeng.core.web.forms import field_errors, see_other, spreadsheet_response
from sangsaeng.core.web.templating import register_template_dir, render
from sangsaeng.outcomes import evidence, measured, queue, service, views
from sangsaeng.programs import project_service as projects

register_template_dir(Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)

_NOTICES = {
    "reported": Msg("The value has been reported. The program office verifies it."),
    "verified": Msg("The value has been verified."),
    "rejected": Msg("The value has been rejected; the company sees the reason."),
}
_FORM_FIELDS = (
    "kpi_code",
    "stage",
    "year_no",
    "period_start",
    "period_end",
    "value",
    "unit",
    "source",
)


def _text(form, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _notice(msg: str) -> str | None:
    text = _NOTICES.get(msg)
    return str(text) if text else None


def _failure(exc: InvalidInput | Conflict) -> tuple[dict[str, str], str | None, int]:
    if isinstance(exc, InvalidInput):
        return field_errors(exc), None, 422
    return {}, str(exc.message), 409


def _labels() -> dict:
    return {
        "source_label": lambda s: str(views.SOURCE_LABELS.get(s, s)),
        "status_label": lambda s: str(views.STATUS_LABELS.get(s, s)),
        "format_value": views.format_value,
        "improvement_text": views.improvement_text,
        "seoul": views.seoul,
    }


# --- one project ------------------------------------------------------------------------------


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
    auto: measured.AutoValue | None = None,
):
    view = views.project_kpis(db, actor, project_id)
    context = {
        "offers": measured.offers(db, actor, project_id)
        if view.is_company or view.is_manager
        else [],
        "auto": auto,
        "v": view,
        "p": view.project,
        "notice": notice,
        "form": form,
        "values": values or {"stage": "baseline", "source": "self"},
        "errors": errors or {},
        "message": message,
        "kpi_options": views.kpi_options(view.catalogue),
        "stage_options": views.stage_options(),
        "source_options": views.source_options(),
        **_labels(),
    }
    return render(request, "outcomes/project.html", context, status_code)


@router.get("/projects/{project_id}/kpis")
def project_kpis(
    request: Request, db: SessionDep, actor: CurrentActor, project_id: int, msg: str = ""
):
    return _project_page(request, db, actor, project_id, notice=_notice(msg))


@router.post("/projects/{project_id}/kpis", dependencies=[CsrfChecked])
async def report(request: Request, db: SessionDep, actor: CurrentActor, project_id: int):
    project = projects.get_project(db, actor, project_id)  # strangers learn nothing
    form = await request.form()
    values = {k: _text(form, k) for k in _FORM_FIELDS}
    uploads = [
        (u.filename, await u.read())
        for u in form.getlist("evidence")
        if isinstance(u, UploadFile) and u.filename
    ]
    storage = request.app.state.storage
    auto = _text(form, "auto") == "1"
    try:
        parsed = views.parse_report(values)
        with db.begin_nested():
            stored = [
                evidence.store(db, actor, storage, project, data=data, filename=name).id
                for name, data in uploads
            ]
            parsed = views.parse_report(values, tuple(stored))
            if auto:  # measured again here: the number in the form is not trusted
                dataset_id = views.parse_dataset_id(_text(form, "dataset_id"))
                measured.report(
                    db, actor, project_id, parsed, dataset_id=dataset_id, storage=storage
                )
            else:
                service.report(db, actor, project_id, parsed)
    except (InvalidInput, Conflict) as exc:
        errors, message, status_code = _failure(exc)
        if "file" in errors:  # the upload itself refused (kind, size)
            errors["evidence"] = errors.pop("file")
        if auto:
            values.update(auto="1", dataset_id=_text(form, "dataset_id"))
        return _project_page(
            request,
            db,
            actor,
            project_id,
            form="report",
            values=values,
            errors=errors,
            message=message,
            status_code=status_code,
        )
    return see_other(f"/projects/{project_id}/kpis?msg=reported#kpi-{parsed.kpi_code}")


@router.post("/projects/{project_id}/kpis/auto", dependencies=[CsrfChecked])
async def auto_fill(request: Request, db: SessionDep, actor: CurrentActor, project_id: int):
    """The report form filled with the KPI measured from the company's factory data, its
    provenance shown; nothing is stored until the value is reported."""
    projects.get_project(db, actor, project_id)  # strangers learn nothing
    form = await request.form()
    values = {k: _text(form, k) for k in _FORM_FIELDS}
    try:
        period = views.parse_period(values)
        dataset_id = views.parse_dataset_id(_text(form, "dataset_id"))
        found = measured.measure(
            db, actor, project_id, values["kpi_code"].strip(), *period, dataset_id
        )
    except (InvalidInput, Conflict) as exc:
        errors, message, status_code = _failure(exc)
        return _project_page(
            request,
            db,
            actor,
            project_id,
            form="report",
            values=values,
            errors=errors,
            message=message,
            status_code=status_code,
        )
    dataset = found.measurement.datasets[0]
    values.update(
        value=f"{found.value:.{measured.DIGITS}f}".rstrip("0").rstrip("."),
        unit=found.unit,
        source=service.AUTO,
        auto="1",
        dataset_id=str(dataset.id),
    )
    return _project_page(request, db, actor, project_id, form="report", values=values, auto=found)


def _decide(request, db, actor, project_id: int, measurement_id: int, action, done: str, values):
    views.measurement_in(db, project_id, measurement_id)
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
            form=f"decide-{measurement_id}",
            values=values,
            errors=errors,
            message=message,
            status_code=status_code,
        )
    return see_other(f"/projects/{project_id}/kpis?msg={done}#m-{measurement_id}")


@router.post("/projects/{project_id}/kpis/{measurement_id}/verify", dependencies=[CsrfChecked])
def verify(
    request: Request, db: SessionDep, actor: CurrentActor, project_id: int, measurement_id: int
):
    projects.get_project(db, actor, project_id)
    return _decide(
        request,
        db,
        actor,
        project_id,
        measurement_id,
        lambda: service.verify(db, actor, measurement_id),
        "verified",
        {},
    )


@router.post("/projects/{project_id}/kpis/{measurement_id}/reject", dependencies=[CsrfChecked])
async def reject(
    request: Request, db: SessionDep, actor: CurrentActor, project_id: int, measurement_id: int
):
    projects.get_project(db, actor, project_id)
    reason = _text(await request.form(), "reason")
    return _decide(
        request,
        db,
        actor,
        project_id,
        measurement_id,
        lambda: service.reject(db, actor, measurement_id, reason),
        "rejected",
        {"reason": reason},
    )


# --- the program's verification queue ---------------------------------------------------------


def _filters(status: str, kpi: str, flagged: str, company: str) -> queue.Filters:
    return queue.Filters(
        status=status if status in queue.STATUSES else None,
        kpi=kpi.strip()[:40],
        flagged=flagged in ("1", "true", "on"),
        company=company.strip()[:100],
    )


def _query(filters: queue.Filters) -> str:
    return urlencode(
        {
            "status": filters.status or "all",
            "kpi": filters.kpi,
            "flagged": "1" if filters.flagged else "",
            "company": filters.company,
        }
    )


def _queue_page(
    request: Request,
    db,
    actor,
    program_id: int,
    filters: queue.Filters,
    page: int,
    *,
    notice: str | None = None,
    form: str = "",
    values: dict | None = None,
    errors: dict | None = None,
    message: str | None = None,
    status_code: int = 200,
):
    result = queue.queue(db, actor, program_id, filters, page=page)
    program = queue.managed_program(db, actor, program_id)
    rows = views.value_rows(db, [r.measurement for r in result.items], with_flags=True)
    catalogue = kpi_catalogue(db)
    context = {
        "program": program,
        "result": result,
        "rows": list(zip(result.items, rows, strict=True)),
        "filters": filters,
        "query": _query(filters),
        "kpi_options": views.kpi_options(catalogue),
        "statuses": queue.STATUSES,
        "kpi_name": lambda code: catalogue[code].name if code in catalogue else code,
        "notice": notice,
        "form": form,
        "values": values or {},
        "errors": errors or {},
        "message": message,
        **_labels(),
    }
    return render(request, "outcomes/queue.html", context, status_code)


@router.get("/programs/{program_id}/kpis")
def program_queue(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    program_id: int,
    status: str = "reported",
    kpi: str = "",
    flagged: str = "",
    company: str = "",
    page: int = 1,
    msg: str = "",
):
    filters = _filters(status, kpi, flagged, company)
    return _queue_page(request, db, actor, program_id, filters, page, notice=_notice(msg))


@router.get("/programs/{program_id}/kpis.xlsx")
def program_queue_export(
    db: SessionDep,
    actor: CurrentActor,
    program_id: int,
    status: str = "reported",
    kpi: str = "",
    flagged: str = "",
    company: str = "",
):
    filters = _filters(status, kpi, flagged, company)
    rows = views.export_rows(db, queue.all_rows(db, actor, program_id, filters))
    record(
        db,
        actor,
        "kpi.export",
        object_type="program",
        object_id=program_id,
        details={"rows": len(rows), "status": filters.status or "all"},
    )
    headers = [gettext(h) for h in views.EXPORT_HEADERS]
    return spreadsheet_response("xlsx", headers, rows, f"program-{program_id}-kpis")


async def _queue_decide(request, db, actor, program_id: int, measurement_id: int, reject: bool):
    queue.managed_program(db, actor, program_id)
    queue.measurement_in(db, program_id, measurement_id)
    form = await request.form()
    filters = _filters(
        _text(form, "status"), _text(form, "kpi"), _text(form, "flagged"), _text(form, "company")
    )
    page_text = _text(form, "page")
    page = int(page_text) if page_text.isdecimal() and page_text.isascii() else 1
    reason = _text(form, "reason")
    try:
        with db.begin_nested():
            if reject:
                service.reject(db, actor, measurement_id, reason)
            else:
                service.verify(db, actor, measurement_id)
    except (InvalidInput, Conflict) as exc:
        errors, message, status_code = _failure(exc)
        return _queue_page(
            request,
            db,
            actor,
            program_id,
            filters,
            page,
            form=f"decide-{measurement_id}",
            values={"reason": reason},
            errors=errors,
            message=message,
            status_code=status_code,
        )
    done = "rejected" if reject else "verified"
    return see_other(f"/programs/{program_id}/kpis?{_query(filters)}&page={page}&msg={done}")


@router.post("/programs/{program_id}/kpis/{measurement_id}/verify", dependencies=[CsrfChecked])
async def queue_verify(
    request: Request, db: SessionDep, actor: CurrentActor, program_id: int, measurement_id: int
):
    return await _queue_decide(request, db, actor, program_id, measurement_id, reject=False)


@router.post("/programs/{program_id}/kpis/{measurement_id}/reject", dependencies=[CsrfChecked])
async def queue_reject(
    request: Request, db: SessionDep, actor: CurrentActor, program_id: int, measurement_id: int
):
    return await _queue_decide(request, db, actor, program_id, measurement_id, reject=True)
