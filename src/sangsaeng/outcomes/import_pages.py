"""Pages of the KPI sheet import: upload → encoding and column mapping → preview (a dry run)
→ commit as a job (its page shows the progress and the rejected rows); and a blank sheet to fill.
Thin: who may import and every check on a row are in ``outcomes.imports``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from sangsaeng.core import reference
from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.exports import XLSX_MEDIA_TYPE, to_xlsx_sheets
from sangsaeng.core.files import service as files
from sangsaeng.core.i18n import get_locale, gettext
from sangsaeng.core.imports import reader, templates
from sangsaeng.core.imports.mapping import auto_map
from sangsaeng.core.jobs import service as job_service
from sangsaeng.core.web.deps import CsrfChecked, CurrentActor, SessionDep
from sangsaeng.core.web.forms import choice, field_errors, mapping_fields, see_other
from sangsaeng.core.web.templating import register_template_dir, render
from sangsaeng.outcomes import imports

register_template_dir(Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)
_PREVIEW_ROWS = 20
_ENCODINGS = ("auto", "utf-8", "cp949")


def _base(scope: imports.Scope) -> dict:
    return {
        "program": scope.program,
        "manages": scope.manages,
        "columns": imports.KPI_COLUMNS,
        "kpis": list(reference.kpis().values()),
    }


@router.get("/programs/{program_id}/kpis/import")
def import_new(request: Request, db: SessionDep, actor: CurrentActor, program_id: int):
    scope = imports.ensure_can_import(db, actor, program_id)
    return render(request, "outcomes/kpi_import.html", {**_base(scope), "errors": {}})


@router.post("/programs/{program_id}/kpis/import", dependencies=[CsrfChecked])
async def import_upload(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    program_id: int,
    file: Annotated[UploadFile, File()],
    encoding: Annotated[str, Form()] = "auto",
    mode: Annotated[str, Form()] = "all",
    source: Annotated[str, Form()] = "self",
):
    scope = imports.ensure_can_import(db, actor, program_id)
    data = await file.read(files.PLACES["import"].max_bytes + 1)
    try:
        stored = files.store(
            db,
            actor,
            request.app.state.storage,
            data=data,
            filename=file.filename or "",
            place="import",
            organization_id=None if scope.manages else scope.organization_id,
        )
    except InvalidInput as exc:
        context = {**_base(scope), "errors": field_errors(exc)}
        return render(request, "outcomes/kpi_import.html", context, 422)
    query = (
        f"encoding={choice(encoding, _ENCODINGS)}&mode={choice(mode, ('all', 'good'))}"
        f"&source={choice(source, ('self', 'imported'))}"
    )
    return see_other(f"/programs/{program_id}/kpis/import/{stored.id}?{query}")


@router.get("/programs/{program_id}/kpis/import/template.xlsx")
def import_template(db: SessionDep, actor: CurrentActor, program_id: int):
    """A blank sheet with our headers (in the reader's language) and one example row; a second
    sheet lists the KPIs with their units and valid ranges."""
    imports.ensure_can_import(db, actor, program_id)
    english = get_locale() == "en"
    headers = [c.label_en if english else c.label_ko for c in imports.KPI_COLUMNS]
    example = [
        gettext("EXAMPLE-0001"),
        "",
        "불량률" if not english else "Defect rate",
        "기준" if not english else "baseline",
        "",
        date(2025, 1, 1),
        date(2025, 12, 31),
        3.2,
        "%",
        gettext("Quality report 2025"),
    ]
    catalogue = [
        (k.code, k.name_ko, k.name_en, k.unit, k.min_value, k.max_value)
        for k in reference.kpis().values()
    ]
    body = to_xlsx_sheets(
        [
            (gettext("KPI values"), headers, [example]),
            (
                gettext("KPI catalogue"),
                [
                    gettext("Code"),
                    gettext("Name (Korean)"),
                    gettext("Name (English)"),
                    gettext("Unit"),
                    gettext("Minimum"),
                    gettext("Maximum"),
                ],
                catalogue,
            ),
        ]
    )
    return Response(
        body,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="kpi-import-template.xlsx"'},
    )


@router.get("/programs/{program_id}/kpis/import/{file_id}")
def import_preview(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    program_id: int,
    file_id: str,
    encoding: str = "auto",
    mode: str = "all",
    source: str = "self",
    template: int | None = None,
):
    scope = imports.ensure_can_import(db, actor, program_id)
    stored = files.get(db, actor, file_id)
    data = files.read_for_job(db, actor, request.app.state.storage, file_id)
    context = {
        **_base(scope),
        "file": stored,
        "encoding": choice(encoding, _ENCODINGS),
        "mode": choice(mode, ("all", "good")),
        "source": choice(source, ("self", "imported")) if scope.manages else "self",
        "errors": {},
        "templates": templates.list_templates(db, actor, imports.IMPORTER),
        "table": None,
        "result": None,
        "mapping": {},
        "sample": [],
    }
    try:
        table = reader.read_table(data, stored.original_name, context["encoding"])
        context["table"] = table
        if template is not None:
            mapping = templates.apply_template(db, actor, template, table.headers)
        else:
            mapping = mapping_fields(request.query_params.items()) or auto_map(
                table.headers, imports.KPI_COLUMNS
            )
        context["mapping"] = mapping
        context["sample"] = table.rows[:_PREVIEW_ROWS]
        context["result"] = imports.import_kpis(
            db,
            actor,
            program_id,
            table,
            mode=context["mode"],
            source=context["source"],
            mapping=mapping,
            dry_run=True,
        )
    except InvalidInput as exc:
        context["errors"] = field_errors(exc)
    return render(request, "outcomes/kpi_import_preview.html", context)


@router.post("/programs/{program_id}/kpis/import/{file_id}/commit", dependencies=[CsrfChecked])
async def import_commit(
    request: Request, db: SessionDep, actor: CurrentActor, program_id: int, file_id: str
):
    form = await request.form()
    scope = imports.ensure_can_import(db, actor, program_id)
    stored = files.get(db, actor, file_id)  # 404 unless the caller may read the file
    params = {
        "program_id": scope.program.id,
        "file_id": stored.id,
        "filename": stored.original_name,
        "mode": choice(str(form.get("mode", "all")), ("all", "good")),
        "source": choice(str(form.get("source", "self")), ("self", "imported")),
        "encoding": choice(str(form.get("encoding", "auto")), _ENCODINGS),
        "mapping": mapping_fields(form.items()) or None,
    }
    job = job_service.submit(
        db, actor, imports.JOB_KIND, params, organization_id=scope.organization_id
    )
    return see_other(f"/jobs/{job.id}")


@router.post("/programs/{program_id}/kpis/import/{file_id}/template", dependencies=[CsrfChecked])
async def import_template_save(
    request: Request, db: SessionDep, actor: CurrentActor, program_id: int, file_id: str
):
    form = await request.form()
    imports.ensure_can_import(db, actor, program_id)
    stored = files.get(db, actor, file_id)
    data = files.read_for_job(db, actor, request.app.state.storage, file_id)
    encoding = choice(str(form.get("encoding", "auto")), _ENCODINGS)
    table = reader.read_table(data, stored.original_name, encoding)
    saved = templates.save_template(
        db,
        actor,
        imports.IMPORTER,
        str(form.get("name", "")),
        table.headers,
        mapping_fields(form.items()),
    )
    return see_other(
        f"/programs/{program_id}/kpis/import/{file_id}?encoding={encoding}&template={saved.id}"
    )
