"""Pages of firm-year panels: the list, the import (upload → encoding and column mapping →
preview, a dry run → commit as a job), a panel's summary and, for the importing operators only,
its firm-year rows; and the JSON summaries under /api/v1. Thin: who may do what and every check
on a row are in ``impact.panels``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Request, Response, UploadFile

from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.exports import XLSX_MEDIA_TYPE, to_xlsx_sheets
from sangsaeng.core.files import service as files
from sangsaeng.core.i18n import gettext
from sangsaeng.core.imports import reader, templates
from sangsaeng.core.imports.mapping import auto_map
from sangsaeng.core.jobs import service as job_service
from sangsaeng.core.web.deps import CsrfChecked, CurrentActor, SessionDep
from sangsaeng.core.web.forms import choice, field_errors, int_or_none, mapping_fields, see_other
from sangsaeng.core.web.templating import register_template_dir, render
from sangsaeng.impact import panels
from sangsaeng.impact.models import OUTCOMES, PANEL_SOURCES

register_template_dir(Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["impact"])
_PREVIEW_ROWS = 20
_ENCODINGS = ("auto", "utf-8", "cp949")
_MODES = ("all", "good")
_UNITS = ("auto", *panels.AMOUNT_UNITS)


def _labels() -> dict:
    return {
        "source_label": lambda code: str(panels.SOURCE_LABELS.get(code, code)),
        "outcome_label": lambda code: str(panels.OUTCOME_LABELS.get(code, code)),
    }


def _target_fields(fields) -> dict:
    """Where the rows go, from a form or a query: an existing panel, or a new one."""
    panel_id = int_or_none(fields.get("panel"))
    if panel_id is not None:
        return {"panel_id": panel_id}
    return {
        "name": str(fields.get("name", "")),
        "source": choice(str(fields.get("source", "")), PANEL_SOURCES),
        "note": str(fields.get("note", "")),
        "organization_id": int_or_none(fields.get("organization_id")),
    }


def _target_query(target: dict) -> dict:
    if "panel_id" in target:
        return {"panel": target["panel_id"]}
    query = {k: v for k, v in target.items() if k != "organization_id"}
    if target.get("organization_id") is not None:
        query["organization_id"] = target["organization_id"]
    return query


def _base(db, actor) -> dict:
    return {
        **_labels(),
        "columns": panels.PANEL_COLUMNS,
        "sources": PANEL_SOURCES,
        "orgs": panels.ensure_can_import(db, actor),
        "existing": panels.importable_panels(db, actor),
    }


@router.get("/impact/panels")
def panel_list(request: Request, db: SessionDep, actor: CurrentActor):
    listing = panels.list_panels(db, actor)
    can_import = bool(panels.operator_orgs(db, actor)) or actor.is_admin
    return render(
        request,
        "impact/panel_list.html",
        {**_labels(), "listing": listing, "can_import": can_import},
    )


@router.get("/impact/panels/new")
def panel_new(request: Request, db: SessionDep, actor: CurrentActor, panel: int | None = None):
    context = _base(db, actor)
    return render(
        request,
        "impact/panel_new.html",
        {**context, "errors": {}, "values": {"panel": panel or "", "source": "administrative"}},
    )


@router.post("/impact/panels/new", dependencies=[CsrfChecked])
async def panel_upload(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    file: Annotated[UploadFile, File()],
):
    form = await request.form()
    context = _base(db, actor)
    target = _target_fields(form)
    values = {k: str(v) for k, v in form.items() if k not in ("file", "csrf_token")}
    try:
        resolved = panels.resolve_target(db, actor, **target)
        data = await file.read(files.PLACES["import"].max_bytes + 1)
        stored = files.store(
            db,
            actor,
            request.app.state.storage,
            data=data,
            filename=file.filename or "",
            place="import",
            organization_id=resolved.organization_id,
        )
    except InvalidInput as exc:
        errors = field_errors(exc)
        return render(
            request, "impact/panel_new.html", {**context, "errors": errors, "values": values}, 422
        )
    query = {
        "encoding": choice(str(form.get("encoding", "auto")), _ENCODINGS),
        "mode": choice(str(form.get("mode", "all")), _MODES),
        "amount_unit": choice(str(form.get("amount_unit", "auto")), _UNITS),
        **_target_query(target),
    }
    return see_other(f"/impact/panels/import/{stored.id}?{urlencode(query)}")


@router.get("/impact/panels/template.xlsx")
def panel_template(db: SessionDep, actor: CurrentActor):
    """A blank sheet with our headers (in the reader's language) and one example row."""
    panels.ensure_can_import(db, actor)
    headers, rows = panels.template_rows()
    body = to_xlsx_sheets([(gettext("Firm-year panel"), headers, rows)])
    return Response(
        body,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="firm-year-panel-template.xlsx"'},
    )


@router.get("/impact/panels/import/{file_id}")
def panel_preview(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    file_id: str,
    encoding: str = "auto",
    mode: str = "all",
    template: int | None = None,
    amount_unit: str = "auto",
):
    panels.ensure_can_import(db, actor)
    stored = files.get(db, actor, file_id)
    data = files.read_for_job(db, actor, request.app.state.storage, file_id)
    target = _target_fields(request.query_params)
    context = {
        **_labels(),
        "file": stored,
        "encoding": choice(encoding, _ENCODINGS),
        "mode": choice(mode, _MODES),
        "amount_unit": choice(amount_unit, _UNITS),
        "target": target,
        "target_query": urlencode(_target_query(target)),
        "columns": panels.PANEL_COLUMNS,
        "errors": {},
        "templates": templates.list_templates(db, actor, panels.IMPORTER),
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
                table.headers, panels.PANEL_COLUMNS
            )
        context["mapping"] = mapping
        context["sample"] = table.rows[:_PREVIEW_ROWS]
        context["result"] = panels.import_panel(
            db,
            actor,
            table,
            mode=context["mode"],
            mapping=mapping,
            dry_run=True,
            amount_unit=context["amount_unit"],
            **target,
        )
    except InvalidInput as exc:
        context["errors"] = field_errors(exc)
    return render(request, "impact/panel_preview.html", context)


@router.post("/impact/panels/import/{file_id}/commit", dependencies=[CsrfChecked])
async def panel_commit(request: Request, db: SessionDep, actor: CurrentActor, file_id: str):
    form = await request.form()
    target = _target_fields(form)
    resolved = panels.resolve_target(db, actor, **target)
    stored = files.get(db, actor, file_id)  # 404 unless the caller may read the file
    params = {
        "file_id": stored.id,
        "filename": stored.original_name,
        "mode": choice(str(form.get("mode", "all")), _MODES),
        "encoding": choice(str(form.get("encoding", "auto")), _ENCODINGS),
        "amount_unit": choice(str(form.get("amount_unit", "auto")), _UNITS),
        "mapping": mapping_fields(form.items()) or None,
        **target,
    }
    job = job_service.submit(
        db, actor, panels.JOB_KIND, params, organization_id=resolved.organization_id
    )
    return see_other(f"/jobs/{job.id}")


@router.post("/impact/panels/import/{file_id}/template", dependencies=[CsrfChecked])
async def panel_template_save(request: Request, db: SessionDep, actor: CurrentActor, file_id: str):
    form = await request.form()
    panels.ensure_can_import(db, actor)
    stored = files.get(db, actor, file_id)
    data = files.read_for_job(db, actor, request.app.state.storage, file_id)
    encoding = choice(str(form.get("encoding", "auto")), _ENCODINGS)
    table = reader.read_table(data, stored.original_name, encoding)
    saved = templates.save_template(
        db,
        actor,
        panels.IMPORTER,
        str(form.get("name_template", "")),
        table.headers,
        mapping_fields(form.items()),
    )
    query = {
        "encoding": encoding,
        "template": saved.id,
        "amount_unit": choice(str(form.get("amount_unit", "auto")), _UNITS),
        **_target_query(_target_fields(form)),
    }
    return see_other(f"/impact/panels/import/{file_id}?{urlencode(query)}")


@router.get("/impact/panels/{panel_id}")
def panel_summary(request: Request, db: SessionDep, actor: CurrentActor, panel_id: int):
    summary = panels.summarise(db, actor, panel_id)
    return render(
        request,
        "impact/panel_summary.html",
        {**_labels(), "summary": summary, "outcomes": OUTCOMES},
    )


@router.get("/impact/panels/{panel_id}/rows")
def panel_rows(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    panel_id: int,
    business_no: str = "",
    year: str = "",
    ksic: str = "",
    page: int = 1,
):
    filters = panels.clean_filters(business_no, year, ksic)
    panel, rows = panels.panel_rows(db, actor, panel_id, filters, page=page)
    return render(
        request,
        "impact/panel_rows.html",
        {**_labels(), "panel": panel, "rows": rows, "filters": filters, "outcomes": OUTCOMES},
    )


@api.get("/impact/panels")
def api_panels(db: SessionDep, actor: CurrentActor) -> list[dict]:
    """Panels the caller may use in impact studies: their size and years, never a row."""
    return [
        {
            "id": item.panel.id,
            "name": item.panel.name,
            "source": item.panel.source,
            "organization": {"id": item.panel.organization_id, "name": item.organization},
            "n_firms": item.panel.n_firms,
            "n_rows": item.panel.n_rows,
            "years": [item.panel.year_min, item.panel.year_max],
            "rows_readable": item.rows_readable,
        }
        for item in panels.list_panels(db, actor)
    ]


@api.get("/impact/panels/{panel_id}")
def api_panel(panel_id: int, db: SessionDep, actor: CurrentActor) -> dict:
    """A panel's summary: firms per year and KSIC division, the share of firm-years with each
    outcome (a fraction), firms with gaps and with KSIC changes. Aggregates only."""
    return panels.summarise(db, actor, panel_id).as_dict()
