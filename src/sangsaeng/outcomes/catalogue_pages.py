"""The KPI catalogue: every signed-in user reads it; operators add KPIs. Thin: the rules are in
``core.reference.catalogue``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from sangsaeng.core.errors import Conflict, InvalidInput
from sangsaeng.core.i18n import Msg
from sangsaeng.core.reference.catalogue import (
    CATEGORIES,
    DIRECTIONS,
    IMPROVEMENTS,
    can_define,
    define_kpi,
    kpi_catalogue,
)
from sangsaeng.core.web.deps import CsrfChecked, CurrentActor, SessionDep
from sangsaeng.core.web.forms import field_errors, notice, see_other
from sangsaeng.core.web.templating import render

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["outcomes"])

CATEGORY_LABELS = {
    "operations": Msg("Operations and quality"),
    "business": Msg("Business results"),
    "input": Msg("Inputs for valuing the financial effect"),
}
DIRECTION_LABELS = {"higher": Msg("Higher is better"), "lower": Msg("Lower is better")}
IMPROVEMENT_LABELS = {
    "relative": Msg("Relative change: (after − before) ÷ before, signed so better is positive"),
    "difference": Msg("Difference: after − before, signed so better is positive"),
}
FIELDS = (
    "code",
    "name_ko",
    "name_en",
    "unit",
    "direction",
    "min_value",
    "max_value",
    "category",
    "improvement",
)


def _context(db, actor, *, values=None, errors=None, message=None) -> dict:
    return {
        "kpis": list(kpi_catalogue(db).values()),
        "can_define": can_define(actor),
        "values": values or {"direction": "higher", "category": "operations"},
        "errors": errors or {},
        "message": message,
        "category_label": lambda c: str(CATEGORY_LABELS.get(c, c)),
        "direction_label": lambda d: str(DIRECTION_LABELS.get(d, d)),
        "improvement_label": lambda i: str(IMPROVEMENT_LABELS.get(i, i)),
        "category_options": [(c, str(CATEGORY_LABELS[c])) for c in CATEGORIES],
        "direction_options": [(d, str(DIRECTION_LABELS[d])) for d in DIRECTIONS],
        "improvement_options": [(i, str(IMPROVEMENT_LABELS[i])) for i in IMPROVEMENTS],
    }


@router.get("/kpis")
def catalogue_page(request: Request, db: SessionDep, actor: CurrentActor, msg: str | None = None):
    context = _context(db, actor)
    context["notice"] = notice(msg) or (
        str(Msg("The KPI has been added to the catalogue.")) if msg == "kpi-added" else None
    )
    return render(request, "outcomes/catalogue.html", context)


@router.post("/kpis", dependencies=[CsrfChecked])
async def catalogue_add(request: Request, db: SessionDep, actor: CurrentActor):
    form = await request.form()
    values = {name: str(form.get(name) or "") for name in FIELDS}
    try:
        define_kpi(db, actor, values)
    except InvalidInput as exc:
        context = _context(db, actor, values=values, errors=field_errors(exc))
        return render(request, "outcomes/catalogue.html", context, 422)
    except Conflict as exc:
        context = _context(db, actor, values=values, errors={"code": str(exc.message)})
        return render(request, "outcomes/catalogue.html", context, 409)
    return see_other("/kpis?msg=kpi-added")


class KpiOut(BaseModel):
    code: str
    name_ko: str
    name_en: str
    unit: str
    direction: str
    min_value: float | None
    max_value: float | None
    category: str
    improvement: str


class KpiIn(BaseModel):
    code: str = Field(max_length=40)
    name_ko: str = Field(max_length=100)
    name_en: str = Field(max_length=100)
    unit: str = Field(max_length=30)
    direction: str
    min_value: float | None = None
    max_value: float | None = None
    category: str = "operations"
    improvement: str = "relative"


@api.get("/kpis", response_model=list[KpiOut])
def list_kpis(db: SessionDep, actor: CurrentActor) -> list[KpiOut]:
    return [KpiOut(**vars(k)) for k in kpi_catalogue(db).values()]


@api.post("/kpis", response_model=KpiOut, status_code=201)
def add_kpi(body: KpiIn, db: SessionDep, actor: CurrentActor) -> KpiOut:
    values = body.model_dump()
    for bound in ("min_value", "max_value"):
        values[bound] = "" if values[bound] is None else str(values[bound])
    return KpiOut(**vars(define_kpi(db, actor, values)))
