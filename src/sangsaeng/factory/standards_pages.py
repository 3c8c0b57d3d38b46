"""Pages of an SME's OEE standards: its shift calendar and ideal cycle times, added, changed and
removed, and cycle times imported from a CSV or Excel table (all-or-nothing, each bad row named).
Thin: who may do what and every check are in ``factory.standards``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile

from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.files import service as files
from sangsaeng.core.i18n import Msg
from sangsaeng.core.imports import reader
from sangsaeng.core.web.deps import CsrfChecked, CurrentActor, SessionDep
from sangsaeng.core.web.forms import field_errors, see_other
from sangsaeng.core.web.templating import register_template_dir, render
from sangsaeng.factory import datasets, standards

register_template_dir(Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)
WEEKDAYS = "0123456"
_ENCODINGS = ("auto", "utf-8", "cp949")


def _org_or_none(value: object) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def _page(
    request,
    db,
    actor,
    organization_id: int | None,
    *,
    errors: dict | None = None,
    values: dict | None = None,
    form: str = "",
    imported=None,
    status: int = 200,
):
    org_id = standards.standards_org(actor, organization_id)
    context = {
        "orgs": datasets.ensure_can_upload(db, actor),
        "org_id": org_id,
        "shifts": standards.list_shifts(db, actor, org_id),
        "cycles": standards.list_cycle_times(db, actor, org_id),
        "weekdays": WEEKDAYS,
        "errors": errors or {},
        "values": values or {},
        "form": form,  # which form the errors belong to
        "imported": imported,
    }
    return render(request, "factory/standards.html", context, status)


def _shift_values(form) -> dict:
    return {
        "name": str(form.get("name", "")),
        "machine": str(form.get("machine", "")),
        "starts": str(form.get("starts", "")),
        "ends": str(form.get("ends", "")),
        "break_minutes": str(form.get("break_minutes", "")),
        "weekdays": "".join(str(d) for d in form.getlist("weekdays")),
    }


def _cycle_values(form) -> dict:
    return {
        "product": str(form.get("product", "")),
        "machine": str(form.get("machine", "")),
        "ideal_cycle_seconds": str(form.get("ideal_cycle_seconds", "")),
    }


def _back(org_id: int, anchor: str) -> str:
    return f"/factory/standards?org={org_id}#{anchor}"


@router.get("/factory/standards")
def standards_page(request: Request, db: SessionDep, actor: CurrentActor, org: int | None = None):
    return _page(request, db, actor, org)


@router.post("/factory/standards/shifts", dependencies=[CsrfChecked])
async def shift_add(request: Request, db: SessionDep, actor: CurrentActor):
    form = await request.form()
    org_id, values = _org_or_none(form.get("organization_id")), _shift_values(form)
    try:
        shift = standards.add_shift(db, actor, values, org_id)
    except InvalidInput as exc:
        return _page(request, db, actor, org_id, errors=field_errors(exc), values=values,
                     form="shift", status=422)  # fmt: skip
    return see_other(_back(shift.organization_id, "shifts"))


@router.get("/factory/standards/shifts/{shift_id}")
def shift_edit(request: Request, db: SessionDep, actor: CurrentActor, shift_id: int):
    shift = standards.get_shift(db, actor, shift_id)
    values = standards.shift_values(shift)
    context = {"shift": shift, "values": values, "errors": {}, "weekdays": WEEKDAYS}
    return render(request, "factory/standard_edit.html", context)


@router.post("/factory/standards/shifts/{shift_id}", dependencies=[CsrfChecked])
async def shift_update(request: Request, db: SessionDep, actor: CurrentActor, shift_id: int):
    form = await request.form()
    values = _shift_values(form)
    try:
        shift = standards.update_shift(db, actor, shift_id, values)
    except InvalidInput as exc:
        shift = standards.get_shift(db, actor, shift_id)
        context = {"shift": shift, "values": values, "errors": field_errors(exc),
                   "weekdays": WEEKDAYS}  # fmt: skip
        return render(request, "factory/standard_edit.html", context, 422)
    return see_other(_back(shift.organization_id, "shifts"))


@router.post("/factory/standards/shifts/{shift_id}/delete", dependencies=[CsrfChecked])
def shift_delete(db: SessionDep, actor: CurrentActor, shift_id: int):
    org_id = standards.get_shift(db, actor, shift_id).organization_id
    standards.delete_shift(db, actor, shift_id)
    return see_other(_back(org_id, "shifts"))


@router.post("/factory/standards/cycle-times", dependencies=[CsrfChecked])
async def cycle_add(request: Request, db: SessionDep, actor: CurrentActor):
    form = await request.form()
    org_id, values = _org_or_none(form.get("organization_id")), _cycle_values(form)
    try:
        cycle = standards.add_cycle_time(db, actor, values, org_id)
    except InvalidInput as exc:
        return _page(request, db, actor, org_id, errors=field_errors(exc), values=values,
                     form="cycle", status=422)  # fmt: skip
    return see_other(_back(cycle.organization_id, "cycle-times"))


# before the routes of one cycle time, whose {cycle_id} would otherwise take "import"
@router.post("/factory/standards/cycle-times/import", dependencies=[CsrfChecked])
async def cycle_import(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    file: Annotated[UploadFile, File()],
):
    form = await request.form()
    org_id = _org_or_none(form.get("organization_id"))
    standards.standards_org(actor, org_id)  # 403 before reading anything
    try:
        data = await file.read(files.PLACES["import"].max_bytes + 1)
        limit = files.PLACES["import"].max_bytes
        if len(data) > limit:
            raise InvalidInput(
                {"file": Msg("The file is larger than {mb} MB.", mb=limit // (1024 * 1024))}
            )
        encoding = str(form.get("encoding", "auto"))
        encoding = encoding if encoding in _ENCODINGS else "auto"
        table = reader.read_table(data, file.filename or "", encoding)
        result = standards.import_cycle_times(db, actor, table, organization_id=org_id)
    except InvalidInput as exc:
        return _page(request, db, actor, org_id, errors=field_errors(exc), form="import",
                     status=422)  # fmt: skip
    return _page(request, db, actor, org_id, imported=result, form="import",
                 status=200 if result.committed else 422)  # fmt: skip


@router.get("/factory/standards/cycle-times/{cycle_id}")
def cycle_edit(request: Request, db: SessionDep, actor: CurrentActor, cycle_id: int):
    cycle = standards.get_cycle_time(db, actor, cycle_id)
    context = {"cycle": cycle, "values": standards.cycle_values(cycle), "errors": {}}
    return render(request, "factory/standard_edit.html", context)


@router.post("/factory/standards/cycle-times/{cycle_id}", dependencies=[CsrfChecked])
async def cycle_update(request: Request, db: SessionDep, actor: CurrentActor, cycle_id: int):
    form = await request.form()
    values = _cycle_values(form)
    try:
        cycle = standards.update_cycle_time(db, actor, cycle_id, values)
    except InvalidInput as exc:
        cycle = standards.get_cycle_time(db, actor, cycle_id)
        context = {"cycle": cycle, "values": values, "errors": field_errors(exc)}
        return render(request, "factory/standard_edit.html", context, 422)
    return see_other(_back(cycle.organization_id, "cycle-times"))


@router.post("/factory/standards/cycle-times/{cycle_id}/delete", dependencies=[CsrfChecked])
def cycle_delete(db: SessionDep, actor: CurrentActor, cycle_id: int):
    org_id = standards.get_cycle_time(db, actor, cycle_id).organization_id
    standards.delete_cycle_time(db, actor, cycle_id)
    return see_other(_back(org_id, "cycle-times"))
