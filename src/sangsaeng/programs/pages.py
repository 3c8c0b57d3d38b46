"""Program pages: the public calls (공고) with eligibility for a signed-in company, and the
operator's programs. Thin: every rule is in ``service``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request

from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.i18n import Msg, gettext
from sangsaeng.core.policy import Role
from sangsaeng.core.web.deps import CsrfChecked, CurrentActor, OptionalActor, SessionDep
from sangsaeng.core.web.forms import see_other
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
    if actor is not None and actor.org_ids(Role.SME, Role.SPONSOR):
        result = service.check_eligibility(db, actor, program.id)
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
        "notice": str(Msg("The status has been changed.")) if msg == "status" else None,
        "errors": {},
        **_labels(),
    }
    return render(request, "programs/call.html", context)


@router.get("/programs")
def program_list(request: Request, db: SessionDep, actor: CurrentActor):
    programs = service.list_programs(db, actor)
    return render(request, "programs/list.html", {"programs": programs, **_labels()})


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
