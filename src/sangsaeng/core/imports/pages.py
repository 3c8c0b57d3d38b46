"""The web import flow: upload → encoding and column mapping → preview → commit as a job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile

from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.files import service as files
from sangsaeng.core.imports import jobs as import_jobs
from sangsaeng.core.imports import reader, service, templates
from sangsaeng.core.jobs import service as job_service
from sangsaeng.core.web.deps import CsrfChecked, CurrentActor, SessionDep
from sangsaeng.core.web.forms import field_errors, mapping_fields, see_other, spreadsheet_response
from sangsaeng.core.web.templating import render

router = APIRouter(include_in_schema=False)
_KIND = {"organizations": import_jobs.IMPORT_ORGS}
_PREVIEW_ROWS = 20


@router.get("/imports/new")
def import_new(request: Request, db: SessionDep, actor: CurrentActor):
    service.ensure_can_start(db, actor, "organizations")
    return render(request, "imports/new.html", {"errors": {}})


@router.post("/imports", dependencies=[CsrfChecked])
async def import_upload(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    file: Annotated[UploadFile, File()],
    encoding: Annotated[str, Form()] = "auto",
):
    service.ensure_can_start(db, actor, "organizations")
    data = await file.read(files.PLACES["import"].max_bytes + 1)
    try:
        stored = files.store(
            db,
            actor,
            request.app.state.storage,
            data=data,
            filename=file.filename or "",
            place="import",
            organization_id=None,
        )
    except InvalidInput as exc:
        return render(request, "imports/new.html", {"errors": field_errors(exc)}, 422)
    return see_other(f"/imports/{stored.id}?encoding={encoding}")


def _mapping_from(request: Request) -> dict[str, int] | None:
    return mapping_fields(request.query_params.items()) or None


@router.get("/imports/{file_id}")
def import_preview(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    file_id: str,
    encoding: str = "auto",
    mode: str = "all",
    template: int | None = None,
):
    service.ensure_can_start(db, actor, "organizations")
    data = files.read_for_job(db, actor, request.app.state.storage, file_id)
    stored = files.get(db, actor, file_id)
    context = {
        "file": stored,
        "encoding": encoding,
        "mode": mode,
        "columns": service.ORG_COLUMNS,
        "errors": {},
        "templates": templates.list_templates(db, actor, "organizations"),
        "table": None,
        "result": None,
        "mapping": {},
    }
    try:
        table = reader.read_table(data, stored.original_name, encoding)
        context["table"] = table
        if template is not None:
            mapping = templates.apply_template(db, actor, template, table.headers)
        else:
            mapping = _mapping_from(request) or service.auto_map(table.headers, service.ORG_COLUMNS)
        context["mapping"] = mapping
        context["result"] = service.import_organizations(
            db, actor, table, mode="all", mapping=mapping, dry_run=True
        )
        context["sample"] = table.rows[:_PREVIEW_ROWS]
    except InvalidInput as exc:
        context["errors"] = field_errors(exc)
    return render(request, "imports/preview.html", context)


@router.post("/imports/{file_id}/commit", dependencies=[CsrfChecked])
async def import_commit(request: Request, db: SessionDep, actor: CurrentActor, file_id: str):
    form = await request.form()
    mapping = mapping_fields(form.items())
    params = {
        "file_id": file_id,
        "mode": "good" if form.get("mode") == "good" else "all",
        "encoding": str(form.get("encoding", "auto")),
        "mapping": mapping or None,
    }
    service.ensure_can_import(db, actor, "organizations", file_id)
    job = job_service.submit(db, actor, _KIND["organizations"], params)
    return see_other(f"/jobs/{job.id}")


@router.get("/jobs/{job_id}/errors.csv")
def job_errors(db: SessionDep, actor: CurrentActor, job_id: str):
    job = job_service.get(db, actor, job_id)
    rejected = (job.result or {}).get("rejected", [])
    rows = [(e["row"], e["column"], e["reason"]) for e in rejected]
    return spreadsheet_response("csv", ("row", "column", "reason"), rows, f"errors-{job_id}")


@router.post("/imports/{file_id}/template", dependencies=[CsrfChecked])
async def template_save(request: Request, db: SessionDep, actor: CurrentActor, file_id: str):
    form = await request.form()
    service.ensure_can_import(db, actor, "organizations", file_id)
    data = files.read_for_job(db, actor, request.app.state.storage, file_id)
    stored = files.get(db, actor, file_id)
    encoding = str(form.get("encoding", "auto"))
    table = reader.read_table(data, stored.original_name, encoding)
    mapping = mapping_fields(form.items())
    saved = templates.save_template(
        db, actor, "organizations", str(form.get("name", "")), table.headers, mapping
    )
    return see_other(f"/imports/{file_id}?encoding={encoding}&template={saved.id}")
