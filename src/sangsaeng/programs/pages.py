"""Program pages: the public calls (공고) with eligibility for a signed-in company, and the
operator's programs. Thin: every rule is in ``service``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request

from sangsaeng.core import reference
from sangsaeng.core.errors import Forbidden, InvalidInput
from sangsaeng.core.i18n import Msg, get_locale, gettext
from sangsaeng.core.web.deps import CsrfChecked, CurrentActor, OptionalActor, SessionDep
from sangsaeng.core.web.forms import field_errors, see_other
from sangsaeng.core.web.templating import register_template_dir, render
from sangsaeng.programs import service

register_template_dir(Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)

_STATUS = {
    "draft": Msg("Preparing"),
    "open": Msg("Accepting applications"),
    "closed": Msg("Closed"),
}
_KIND = {
    "smart_factory": Msg("Smart-factory build"),
    "innovation": Msg("Industrial innovation"),
    "consulting": Msg("Consulting"),
    "other": Msg("Other"),
}


_NOTICES = {
    "status": Msg("The status has been changed."),
    "created": Msg("The program has been created as a draft. Open the call when it is ready."),
    "updated": Msg("The program has been saved."),
}


def _labels() -> dict:
    return {
        "status_label": lambda s: str(_STATUS.get(s, s)),
        "program_kind_label": lambda k: str(_KIND.get(k, k)),
    }


@router.get("/calls")
def call_list(request: Request, db: SessionDep, actor: OptionalActor):
    """Open calls for applications: public, no sign-in needed."""
    return render(request, "programs/calls.html", {"calls": service.open_calls(db), **_labels()})


@router.get("/calls/{program_id}")
def call_page(
    request: Request, db: SessionDep, actor: OptionalActor, program_id: int, msg: str = ""
):
    program = service.get_program(db, actor, program_id)
    verdicts = None
    if (result := service.own_eligibility(db, actor, program)) is not None:
        verdicts = {
            "eligible": result.eligible,
            "rules": [
                (v.passed, gettext(v.reason, **service.readable_params(v))) for v in result.verdicts
            ],
        }
    context = {
        "program": program,
        "sources": service.sources(db, program),
        "sponsors": service.sponsors(db, program),
        "rules": service.rule_texts(db, program),
        "verdicts": verdicts,
        "manager": actor is not None and service.can_manage(db, actor, program),
        "notice": str(_NOTICES[msg]) if msg in _NOTICES else None,
        "errors": {},
        **_labels(),
    }
    return render(request, "programs/call.html", context)


@router.get("/programs")
def program_list(request: Request, db: SessionDep, actor: CurrentActor):
    programs = service.list_programs(db, actor)
    return render(request, "programs/list.html", {"programs": programs, **_labels()})


def _form_choices(db, actor) -> dict:
    sponsors = service.sponsor_choices(db)
    return {
        "operator_options": [(o.id, o.name_ko) for o in service.operator_orgs_for(db, actor)],
        "sponsor_options": [(o.id, o.name_ko) for o in sponsors],
        "sponsor_orgs": sponsors,
        "kinds": [(k, str(v)) for k, v in _KIND.items()],
        "score_sheets": [(i.id, i.title.get(get_locale())) for i in service.score_sheets()],
        "size_options": [(c.code, c.name) for c in reference.SIZE_CLASSES],
        "region_options": [(r.code, r.name) for r in reference.regions()],
        "level_options": service.level_choices(),
        "combination_options": [
            ("trimmed", gettext("Drop the highest and lowest score with 5 or more evaluators")),
            ("mean", gettext("Mean of all evaluators' scores")),
        ],
    }


def _blank_form() -> dict:
    return {
        "sources": [
            {"code": "government", "name_ko": "정부", "share": "30", "in_kind": ""},
            {"code": "sponsor", "name_ko": "후원기업", "share": "30", "in_kind": ""},
            {"code": "sme", "name_ko": "기업 부담", "share": "40", "in_kind": ""},
        ],
        "remainder_to": "sme",
        "support_types": "basic | 기초 | 50000000\nadvanced | 고도화 | 100000000",
        "score_combination": "trimmed",
        "reserve_size": "5",
        "follow_up_years": "3",
        "objection_days": "7",
    }


@router.get("/programs/new")
def program_new(request: Request, db: SessionDep, actor: CurrentActor):
    service.ensure_can_create(db, actor)
    context = {"values": _blank_form(), "errors": {}, **_form_choices(db, actor), **_labels()}
    return render(request, "programs/form.html", context)


@router.post("/programs", dependencies=[CsrfChecked])
async def program_create(request: Request, db: SessionDep, actor: CurrentActor):
    service.ensure_can_create(db, actor)
    form = await request.form()
    posted = form_values(form)
    operator_org_id = service.whole_or_none(posted["operator_org_id"])
    try:
        if operator_org_id is None:
            raise InvalidInput({"operator_org_id": Msg("Choose a listed value.")})
        program = service.create_program(
            db, actor, operator_org_id, service.values_from_form(posted)
        )
    except InvalidInput as exc:
        context = {
            "values": posted,
            "errors": field_errors(exc),
            **_form_choices(db, actor),
            **_labels(),
        }
        return render(request, "programs/form.html", context, 422)
    return see_other(f"/calls/{program.id}?msg=created")


def form_values(form) -> dict:
    """The posted form as plain strings and lists (the service converts and checks them)."""
    rows = zip(
        form.getlist("src_code"),
        form.getlist("src_name"),
        form.getlist("src_share"),
        form.getlist("src_form"),
        strict=False,
    )
    return {
        **{
            key: str(form.get(key, ""))
            for key in (
                "operator_org_id",
                "name_ko",
                "name_en",
                "year",
                "kind",
                "opens_on",
                "closes_at",
                "quota",
                "budget_krw",
                "cap_per_company_krw",
                "description",
                "remainder_to",
                "score_sheet",
                "rule_divisions",
                "rule_tier_sponsor",
                "rule_tier_max",
                "rule_min_years",
                "rule_max_level",
                "rule_not_supported_years",
                "documents",
                "support_types",
                "score_combination",
                "reserve_size",
                "follow_up_years",
                "objection_days",
                "bonus_tier_sponsor",
                "bonus_tier_max",
                "bonus_tier_points",
                "bonus_region_points",
            )
        },
        "sources": [
            {"code": c, "name_ko": n, "share": sh, "in_kind": f}
            for c, n, sh, f in rows
            if c.strip() or n.strip() or sh.strip()
        ],
        "rule_sizes": form.getlist("rule_sizes"),
        "rule_regions": form.getlist("rule_regions"),
        "bonus_regions": form.getlist("bonus_regions"),
        "sponsor_ids": form.getlist("sponsor_ids"),
    }


@router.get("/programs/{program_id}/edit")
def program_edit(request: Request, db: SessionDep, actor: CurrentActor, program_id: int):
    program = service.get_program(db, actor, program_id)
    if not service.can_manage(db, actor, program):
        raise Forbidden()
    context = {
        "values": service.form_from_program(db, program),
        "errors": {},
        "program": program,
        **_form_choices(db, actor),
        **_labels(),
    }
    return render(request, "programs/form.html", context)


@router.post("/programs/{program_id}/edit", dependencies=[CsrfChecked])
async def program_update(request: Request, db: SessionDep, actor: CurrentActor, program_id: int):
    program = service.get_program(db, actor, program_id)
    posted = form_values(await request.form())
    try:
        service.update_program(db, actor, program_id, service.values_from_form(posted))
    except InvalidInput as exc:
        context = {
            "values": posted,
            "errors": field_errors(exc),
            "program": program,
            **_form_choices(db, actor),
            **_labels(),
        }
        return render(request, "programs/form.html", context, 422)
    return see_other(f"/calls/{program_id}?msg=updated")


@router.post("/programs/{program_id}/copy", dependencies=[CsrfChecked])
def program_copy(request: Request, db: SessionDep, actor: CurrentActor, program_id: int):
    copy = service.copy_program(db, actor, program_id)
    return see_other(f"/programs/{copy.id}/edit")


@router.post("/programs/{program_id}/status", dependencies=[CsrfChecked])
def program_status(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    program_id: int,
    status: Annotated[str, Form()] = "",
):
    try:
        service.set_status(db, actor, program_id, status)
    except InvalidInput:
        return see_other(f"/calls/{program_id}")
    return see_other(f"/calls/{program_id}?msg=status")
