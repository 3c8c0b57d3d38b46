"""Pages of an SME's factory data: its datasets, the upload (file → kind and column mapping →
preview, a dry run → import as a job), a dataset's summary and consents, and the analyses run on
it with their charts; and the JSON API under /api/v1. Thin: who may do what and every check are
in ``factory.datasets`` and ``factory.analyses``; presentation in ``factory.views``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Body, File, Request, Response, UploadFile

from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.exports import XLSX_MEDIA_TYPE, to_xlsx_sheets
from sangsaeng.core.files import service as files
from sangsaeng.core.i18n import gettext
from sangsaeng.core.imports import templates
from sangsaeng.core.imports.mapping import auto_map
from sangsaeng.core.jobs import service as job_service
from sangsaeng.core.web.deps import CsrfChecked, CurrentActor, SessionDep
from sangsaeng.core.web.forms import choice, field_errors, int_or_none, mapping_fields, see_other
from sangsaeng.core.web.templating import register_template_dir, render
from sangsaeng.factory import analyses, datasets, schema, views
from sangsaeng.factory.models import DATASET_KINDS, DONE, FAILED

register_template_dir(Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["factory"])
_PREVIEW_ROWS = 20
_ENCODINGS = ("auto", "utf-8", "cp949")
_MODES = ("all", "good")


def _upload_fields(fields) -> dict:
    return {
        "kind": choice(fields.get("kind"), DATASET_KINDS),
        "name": str(fields.get("name", ""))[:300],
        "organization_id": int_or_none(fields.get("organization_id")),
        "encoding": choice(fields.get("encoding"), _ENCODINGS),
        "mode": choice(fields.get("mode"), _MODES),
    }


def _importer(kind: str) -> str:
    return f"factory.{kind}"


@router.get("/factory")
def dataset_list(request: Request, db: SessionDep, actor: CurrentActor):
    listing = datasets.list_datasets(db, actor)
    return render(
        request,
        "factory/dataset_list.html",
        {
            **views.helpers(),
            "listing": listing,
            "can_upload": bool(datasets.owner_orgs(actor)),
            "own_orgs": datasets.owner_orgs(actor),
        },
    )


@router.get("/factory/datasets/new")
def dataset_new(request: Request, db: SessionDep, actor: CurrentActor, kind: str = ""):
    orgs = datasets.ensure_can_upload(db, actor)
    values = {"kind": choice(kind, DATASET_KINDS), "mode": "all"}
    return render(
        request,
        "factory/dataset_new.html",
        {**views.helpers(), "orgs": orgs, "kinds": DATASET_KINDS, "values": values, "errors": {}},
    )


@router.post("/factory/datasets/new", dependencies=[CsrfChecked])
async def dataset_upload(
    request: Request, db: SessionDep, actor: CurrentActor, file: Annotated[UploadFile, File()]
):
    form = await request.form()
    orgs = datasets.ensure_can_upload(db, actor)
    fields = _upload_fields(form)
    try:
        organization_id = datasets.upload_org(db, actor, fields["organization_id"])
        data = await file.read(files.PLACES["import"].max_bytes + 1)
        stored = files.store(
            db,
            actor,
            request.app.state.storage,
            data=data,
            filename=file.filename or "",
            place="import",
            organization_id=organization_id,
        )
    except InvalidInput as exc:
        context = {
            **views.helpers(),
            "orgs": orgs,
            "kinds": DATASET_KINDS,
            "values": fields,
            "errors": field_errors(exc),
        }
        return render(request, "factory/dataset_new.html", context, 422)
    query = {k: v for k, v in fields.items() if v is not None}
    return see_other(f"/factory/datasets/import/{stored.id}?{urlencode(query)}")


@router.get("/factory/datasets/import/{file_id}")
def dataset_preview(
    request: Request, db: SessionDep, actor: CurrentActor, file_id: str, template: int | None = None
):
    orgs = datasets.ensure_can_upload(db, actor)
    stored = files.get(db, actor, file_id)
    fields = _upload_fields(request.query_params)
    kind = fields["kind"]
    context = {
        **views.helpers(),
        **fields,
        "file": stored,
        "orgs": orgs,
        "kinds": DATASET_KINDS,
        "columns": schema.columns(kind),
        "templates": templates.list_templates(db, actor, _importer(kind)),
        "errors": {},
        "headers": [],
        "sample": [],
        "mapping": {},
        "result": None,
        "read_as": None,
    }
    try:
        data = files.read_for_job(db, actor, request.app.state.storage, file_id)
        frame, read_as = datasets.read_upload(data, stored.original_name, fields["encoding"])
        headers = [str(h) for h in frame.columns]
        context.update(headers=headers, read_as=read_as)
        context["sample"] = frame.head(_PREVIEW_ROWS).astype(str).values.tolist()
        if template is not None:
            mapping = templates.apply_template(db, actor, template, headers)
        else:
            mapping = mapping_fields(request.query_params.items()) or auto_map(
                headers, schema.columns(kind)
            )
        context["mapping"] = mapping
        context["result"] = datasets.import_dataset(
            db,
            actor,
            frame,
            kind=kind,
            name=fields["name"],
            organization_id=fields["organization_id"],
            encoding=read_as,
            mode=fields["mode"],
            mapping=mapping,
            first_row=1 if read_as == "parquet" else 2,
            dry_run=True,
        ).as_dict()
    except InvalidInput as exc:
        context["errors"] = field_errors(exc)
    return render(request, "factory/dataset_preview.html", context)


@router.post("/factory/datasets/import/{file_id}/commit", dependencies=[CsrfChecked])
async def dataset_commit(request: Request, db: SessionDep, actor: CurrentActor, file_id: str):
    form = await request.form()
    fields = _upload_fields(form)
    organization_id = datasets.upload_org(db, actor, fields["organization_id"])
    stored = files.get(db, actor, file_id)  # 404 unless the caller may read the file
    params = {
        "file_id": stored.id,
        "filename": stored.original_name,
        **fields,
        "organization_id": organization_id,
        "mapping": mapping_fields(form.items()) or None,
    }
    job = job_service.submit(db, actor, datasets.JOB_KIND, params, organization_id=organization_id)
    return see_other(f"/jobs/{job.id}")


@router.post("/factory/datasets/import/{file_id}/template", dependencies=[CsrfChecked])
async def dataset_template_save(
    request: Request, db: SessionDep, actor: CurrentActor, file_id: str
):
    form = await request.form()
    datasets.ensure_can_upload(db, actor)
    fields = _upload_fields(form)
    stored = files.get(db, actor, file_id)
    data = files.read_for_job(db, actor, request.app.state.storage, file_id)
    frame, _ = datasets.read_upload(data, stored.original_name, fields["encoding"])
    saved = templates.save_template(
        db,
        actor,
        _importer(fields["kind"]),
        str(form.get("name_template", "")),
        [str(h) for h in frame.columns],
        mapping_fields(form.items()),
    )
    query = {**{k: v for k, v in fields.items() if v is not None}, "template": saved.id}
    return see_other(f"/factory/datasets/import/{file_id}?{urlencode(query)}")


@router.get("/factory/datasets/template/{kind}.xlsx")
def dataset_template(db: SessionDep, actor: CurrentActor, kind: str):
    """A blank sheet of one kind with our headers (Korean) and which are required."""
    datasets.ensure_can_upload(db, actor)
    kind = datasets.check_kind(kind)
    headers, rows = datasets.template_rows(kind)
    body = to_xlsx_sheets([(str(datasets.KIND_LABELS[kind]), headers, rows)])
    return Response(
        body,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="factory-{kind}-template.xlsx"'},
    )


def _dataset_context(db, actor, dataset_id: int) -> dict:
    dataset = datasets.get_dataset(db, actor, dataset_id)
    own = dataset.organization_id in datasets.owner_orgs(actor)
    return {
        **views.helpers(),
        "dataset": dataset,
        "is_owner": own,
        "summary": datasets.summarise(dataset),
        "consents": datasets.consents(db, dataset) if own else [],
        "programs": datasets.consent_choices(db, actor, dataset) if own else [],
        "analyses": analyses.list_analyses(db, actor, dataset.id),
        "offered": analyses.analyses_offered(dataset),
        "column_label": lambda key: views.column_label(dataset.kind, key),
        "errors": {},
    }


@router.get("/factory/datasets/{dataset_id}")
def dataset_page(request: Request, db: SessionDep, actor: CurrentActor, dataset_id: int):
    return render(request, "factory/dataset.html", _dataset_context(db, actor, dataset_id))


@router.post("/factory/datasets/{dataset_id}/consents", dependencies=[CsrfChecked])
async def consent_grant(request: Request, db: SessionDep, actor: CurrentActor, dataset_id: int):
    form = await request.form()
    try:
        datasets.grant_consent(db, actor, dataset_id, form.get("program_id"))
    except InvalidInput as exc:
        context = {**_dataset_context(db, actor, dataset_id), "errors": field_errors(exc)}
        return render(request, "factory/dataset.html", context, 422)
    return see_other(f"/factory/datasets/{dataset_id}#consents")


@router.post(
    "/factory/datasets/{dataset_id}/consents/{consent_id}/revoke", dependencies=[CsrfChecked]
)
def consent_revoke(db: SessionDep, actor: CurrentActor, dataset_id: int, consent_id: int):
    datasets.revoke_consent(db, actor, dataset_id, consent_id)
    return see_other(f"/factory/datasets/{dataset_id}#consents")


@router.post("/factory/datasets/{dataset_id}/delete", dependencies=[CsrfChecked])
def dataset_delete(db: SessionDep, actor: CurrentActor, dataset_id: int):
    datasets.delete_dataset(db, actor, dataset_id)
    return see_other("/factory")


def _analysis_form(request, db, actor, dataset_id: int, kind: str, values: dict, errors: dict):
    dataset = datasets.get_dataset(db, actor, dataset_id)
    offered = analyses.analyses_offered(dataset)
    kind = kind if kind in offered else offered[0]
    context = {
        **views.helpers(),
        "dataset": dataset,
        "kind": kind,
        "offered": offered,
        "values": values,
        "errors": errors,
        "groupings": analyses.OEE_GROUPINGS,
        "charts": analyses.spc_charts_of(dataset),
        "characteristics": analyses.characteristics(dataset),
        "targets": analyses.target_choices(dataset),
        "freqs": analyses.FORECAST_FREQS,
        "column_label": lambda key: views.column_label(dataset.kind, key),
    }
    return render(request, "factory/analysis_new.html", context, 422 if errors else 200)


@router.get("/factory/datasets/{dataset_id}/analyses/new")
def analysis_new(
    request: Request, db: SessionDep, actor: CurrentActor, dataset_id: int, kind: str = ""
):
    values = {k: v for k, v in request.query_params.items() if k != "kind"}
    return _analysis_form(request, db, actor, dataset_id, kind, values, {})


@router.post("/factory/datasets/{dataset_id}/analyses/new", dependencies=[CsrfChecked])
async def analysis_create(request: Request, db: SessionDep, actor: CurrentActor, dataset_id: int):
    form = await request.form()
    kind = str(form.get("kind", ""))
    try:
        analysis = analyses.create_analysis(db, actor, dataset_id, kind, form)
    except InvalidInput as exc:
        values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
        values["by"] = form.getlist("by")
        return _analysis_form(request, db, actor, dataset_id, kind, values, field_errors(exc))
    return see_other(f"/factory/analyses/{analysis.id}")


def _analysis_context(detail: analyses.AnalysisDetail, series: str | None = None) -> dict:
    analysis = detail.analysis
    result = analysis.result if detail.status == DONE else None
    context = {
        **views.helpers(),
        "detail": detail,
        "analysis": analysis,
        "dataset": detail.dataset,
        "params": analysis.params or {},
        "result": result,
        "errors": views.errors(analysis),
        "charts": [],
        "method": views.method(analysis, result) if result else [],
        "column_label": lambda key: views.column_label(detail.dataset.kind, key),
    }
    if result is None:
        return context
    if analysis.kind == "oee":
        context["charts"] = views.oee_charts(result)
    elif analysis.kind == "spc":
        context["charts"] = views.spc_charts(result)
        context["violations"] = views.spc_violations(result)
    elif analysis.kind == "forecast":
        chart, entry = views.forecast_chart(result, series)
        context["charts"] = [chart] if chart else []
        context["entry"] = entry
        context["scores"] = views.forecast_scores(entry) if entry else []
    else:
        context["result"] = views.root_cause_text(result)
        context["charts"] = views.root_cause_charts(result)
    return context


@router.get("/factory/analyses/{analysis_id}.xlsx")
def analysis_xlsx(db: SessionDep, actor: CurrentActor, analysis_id: int):
    detail = analyses.detail(db, actor, analysis_id)
    if detail.status != DONE:
        raise InvalidInput({"": gettext("The analysis has not finished.")})
    body = to_xlsx_sheets(views.sheets(detail.analysis, detail.analysis.result))
    disposition = f'attachment; filename="factory-analysis-{analysis_id}.xlsx"'
    return Response(body, media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": disposition})


@router.get("/factory/analyses/{analysis_id}/status")
def analysis_status(request: Request, db: SessionDep, actor: CurrentActor, analysis_id: int):
    """Polled while the analysis waits or runs; once finished the whole page reloads."""
    detail = analyses.detail(db, actor, analysis_id)
    response = render(
        request, "factory/_analysis_status.html", {**views.helpers(), "detail": detail}
    )
    if detail.status in (DONE, FAILED):
        response.headers["HX-Refresh"] = "true"
    return response


@router.get("/factory/analyses/{analysis_id}")
def analysis_page(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    analysis_id: int,
    series: str = "",
    actuals: str = "",
):
    detail = analyses.detail(db, actor, analysis_id)
    context = _analysis_context(detail, series or None)
    context["actuals_choices"] = analyses.actuals_choices(db, actor, detail.analysis)
    context["actuals_id"] = actuals
    if actuals and detail.status == DONE:
        try:
            context["tracked"] = views.tracked(
                analyses.track_actuals(db, actor, analysis_id, actuals)
            )
        except InvalidInput as exc:
            context["track_errors"] = field_errors(exc)
    return render(request, "factory/analysis.html", context)


# --- the JSON API ----------


def _dataset_json(dataset) -> dict:
    return {
        "id": dataset.id,
        "organization_id": dataset.organization_id,
        "kind": dataset.kind,
        "name": dataset.name,
        "n_rows": dataset.n_rows,
        "period": [dataset.period_start, dataset.period_end],
        "columns": dataset.columns,
        "extra_columns": dataset.extra_columns,
        "uploaded_at": dataset.uploaded_at.isoformat(),
    }


def _analysis_json(detail: analyses.AnalysisDetail) -> dict:
    analysis = detail.analysis
    return {
        "id": analysis.id,
        "dataset_id": analysis.dataset_id,
        "kind": analysis.kind,
        "params": analysis.params,
        "status": detail.status,
        "job_id": analysis.job_id,
        "result": analysis.result if detail.status == DONE else None,
        "errors": views.errors(analysis),
        "created_at": analysis.created_at.isoformat(),
        "finished_at": analysis.finished_at.isoformat() if analysis.finished_at else None,
    }


@api.get("/factory/datasets")
def api_datasets(db: SessionDep, actor: CurrentActor) -> list[dict]:
    """The datasets the caller may read: its SMEs' own and those consented to its operator."""
    return [_dataset_json(d) for d in datasets.list_datasets(db, actor)]


@api.get("/factory/datasets/{dataset_id}")
def api_dataset(dataset_id: int, db: SessionDep, actor: CurrentActor) -> dict:
    dataset = datasets.get_dataset(db, actor, dataset_id)
    return {
        **_dataset_json(dataset),
        "summary": datasets.summarise(dataset),
        "analyses": [a.id for a in analyses.list_analyses(db, actor, dataset.id)],
    }


@api.post("/factory/datasets/{dataset_id}/analyses", status_code=202)
def api_analysis_create(
    dataset_id: int, db: SessionDep, actor: CurrentActor, body: Annotated[dict, Body()]
) -> dict:
    """Run an analysis (``kind``: oee, spc, forecast or root_cause, with its parameters as on
    the page) as a job; poll the analysis for its result."""
    analysis = analyses.create_analysis(db, actor, dataset_id, body.get("kind"), body)
    return _analysis_json(analyses.detail(db, actor, analysis.id))


@api.get("/factory/analyses/{analysis_id}")
def api_analysis(analysis_id: int, db: SessionDep, actor: CurrentActor) -> dict:
    return _analysis_json(analyses.detail(db, actor, analysis_id))
