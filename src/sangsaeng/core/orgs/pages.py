"""Organization pages: searchable list, profile with supply chain, create and edit forms."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request

from sangsaeng.core import reference
from sangsaeng.core.errors import InvalidInput, NotFound
from sangsaeng.core.orgs import service, supply_chain
from sangsaeng.core.web.deps import CsrfChecked, CurrentActor, SessionDep
from sangsaeng.core.web.forms import field_errors, notice, see_other, spreadsheet_response
from sangsaeng.core.web.templating import kind_label, render

router = APIRouter(include_in_schema=False)

_FORM_FIELDS = (
    "business_no",
    "name_ko",
    "name_en",
    "kind",
    "ksic",
    "region",
    "size_class",
    "employees",
    "revenue_krw",
    "founded_year",
)


def _choices(db, bands=None) -> dict[str, object]:
    divisions = reference.ksic_divisions()
    bands = service.revenue_bands(db) if bands is None else bands
    return {
        "divisions": divisions,
        "region_options": [(r.code, r.name) for r in reference.regions()],
        "division_options": [(d.code, f"{d.parent}{d.code} {d.name}") for d in divisions],
        "size_options": [(s.code, s.name) for s in reference.SIZE_CLASSES],
        "kind_options": [(k, kind_label(k)) for k in service.ORG_KINDS],
        "band_options": [(b.code, service.band_label(b)) for b in bands],
    }


async def _form_values(request: Request) -> dict[str, object]:
    form = await request.form()
    return {key: str(form.get(key, "")) for key in _FORM_FIELDS if key in form}


@router.get("/orgs")
def org_list(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    q: str = "",
    region: str = "",
    ksic: str = "",
    size: str = "",
    band: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
):
    filters = service.OrgFilters(
        query=q, region=region, ksic_division=ksic, size_class=size, revenue_band=band
    )
    result = service.list_orgs(db, actor, filters, page=page, per_page=20)
    bands = service.revenue_bands(db)
    context = {
        "result": result,
        "filters": filters,
        "band_of": lambda o: service.band_label(service.band_for(bands, o.revenue_krw)),
        **_choices(db, bands),
        "can_create": service.can_create(db, actor),
    }
    partial = request.headers.get("hx-request") and not request.headers.get(
        "hx-history-restore-request"
    )
    response = render(request, "orgs/_table.html" if partial else "orgs/list.html", context)
    response.headers["Vary"] = "HX-Request"  # caches must not mix the fragment and the page
    return response


@router.get("/orgs/export.{fmt}")
def org_export(
    db: SessionDep,
    actor: CurrentActor,
    fmt: str,
    q: str = "",
    region: str = "",
    ksic: str = "",
    size: str = "",
    band: str = "",
):
    if fmt not in ("csv", "xlsx"):
        raise NotFound()
    filters = service.OrgFilters(
        query=q, region=region, ksic_division=ksic, size_class=size, revenue_band=band
    )
    headers, rows = service.export_orgs(db, actor, filters)
    return spreadsheet_response(fmt, headers, rows, f"organizations-{date.today().isoformat()}")


@router.get("/orgs/new")
def org_new(request: Request, db: SessionDep, actor: CurrentActor):
    service.ensure_can_create(db, actor)
    return render(
        request, "orgs/form.html", {"values": {"kind": "sme"}, "errors": {}, **_choices(db)}
    )


@router.post("/orgs", dependencies=[CsrfChecked])
async def org_create(request: Request, db: SessionDep, actor: CurrentActor):
    values = await _form_values(request)
    try:
        org = service.create_org(db, actor, values)
    except InvalidInput as exc:
        context = {"values": values, "errors": field_errors(exc), **_choices(db)}
        return render(request, "orgs/form.html", context, 422)
    return see_other(f"/orgs/{org.id}?msg=saved")


@router.get("/orgs/{org_id}")
def org_page(
    request: Request, db: SessionDep, actor: CurrentActor, org_id: int, msg: str | None = None
):
    return _detail_page(request, db, actor, org_id, notice=notice(msg))


@router.get("/orgs/{org_id}/edit")
def org_edit(request: Request, db: SessionDep, actor: CurrentActor, org_id: int):
    org = service.get_org_for_update(db, actor, org_id)
    context = {"org": org, "values": service.org_form_values(org), "errors": {}, **_choices(db)}
    return render(request, "orgs/form.html", context)


@router.post("/orgs/{org_id}/edit", dependencies=[CsrfChecked])
async def org_update(request: Request, db: SessionDep, actor: CurrentActor, org_id: int):
    values = await _form_values(request)
    try:
        service.update_org(db, actor, org_id, values)
    except InvalidInput as exc:
        org = service.get_org_for_update(db, actor, org_id)
        context = {"org": org, "values": values, "errors": field_errors(exc), **_choices(db)}
        return render(request, "orgs/form.html", context, 422)
    return see_other(f"/orgs/{org_id}?msg=saved")


def _detail_page(request: Request, db, actor, org_id: int, status: int = 200, **extra):
    detail = service.org_detail(db, actor, org_id)
    context = {
        "d": detail,
        "org": detail.org,
        "band": service.band_label(detail.revenue_band),
        "can_update": service.can_update(db, actor, detail.org),
        **extra,
    }
    return render(request, "orgs/detail.html", context, status)


def _declare(request: Request, db, actor, org_id: int, number: str, side: str, value_key: str):
    """The organization buys from (side "buyer") or supplies (side "supplier") ``number``."""
    try:
        link = supply_chain.declare_link(db, actor, org_id, number, side=side)
    except InvalidInput as exc:
        errors = field_errors(exc)
        return _detail_page(
            request, db, actor, org_id, 422, link_errors=errors, **{value_key: number}
        )
    return see_other(f"/orgs/{org_id}?msg={'link_confirmed' if link.active else 'link_declared'}")


@router.post("/orgs/{org_id}/suppliers", dependencies=[CsrfChecked])
def supplier_declare(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    org_id: int,
    supplier_business_no: Annotated[str, Form()] = "",
):
    return _declare(request, db, actor, org_id, supplier_business_no, "buyer", "supplier_value")


@router.post("/orgs/{org_id}/buyers", dependencies=[CsrfChecked])
def buyer_declare(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    org_id: int,
    buyer_business_no: Annotated[str, Form()] = "",
):
    return _declare(request, db, actor, org_id, buyer_business_no, "supplier", "buyer_value")


@router.post("/orgs/{org_id}/links/{link_id}/confirm", dependencies=[CsrfChecked])
def link_confirm(db: SessionDep, actor: CurrentActor, org_id: int, link_id: int):
    supply_chain.confirm_link(db, actor, org_id, link_id)
    return see_other(f"/orgs/{org_id}?msg=link_confirmed")


@router.post("/orgs/{org_id}/links/{link_id}/remove", dependencies=[CsrfChecked])
def link_remove(db: SessionDep, actor: CurrentActor, org_id: int, link_id: int):
    supply_chain.remove_link(db, actor, org_id, link_id)
    return see_other(f"/orgs/{org_id}?msg=link_removed")


_BAND_FIELDS = ("code", "label_ko", "label_en", "min_krw", "max_krw")


def _band_rows(bands) -> list[dict[str, object]]:
    rows = [{f: getattr(b, f) for f in _BAND_FIELDS} for b in bands]
    return rows + [dict.fromkeys(_BAND_FIELDS, "") for _ in range(2)]  # room for new bands


@router.get("/admin/revenue-bands")
def revenue_bands_form(request: Request, db: SessionDep, actor: CurrentActor):
    service.ensure_can_edit_bands(db, actor)
    rows = _band_rows(service.revenue_bands(db))
    return render(request, "orgs/revenue_bands.html", {"rows": rows, "errors": {}})


@router.post("/admin/revenue-bands", dependencies=[CsrfChecked])
async def revenue_bands_save(request: Request, db: SessionDep, actor: CurrentActor):
    form = await request.form()
    rows = [
        {f: str(v) for f, v in zip(_BAND_FIELDS, values, strict=True)}
        for values in zip(*(form.getlist(f) for f in _BAND_FIELDS), strict=False)
    ]
    try:
        service.replace_revenue_bands_from_form(db, actor, rows)
    except InvalidInput as exc:
        context = {"rows": rows, "errors": field_errors(exc)}
        return render(request, "orgs/revenue_bands.html", context, 422)
    return see_other("/admin/revenue-bands?msg=saved")
