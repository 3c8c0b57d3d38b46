"""JSON routes under /api/v1 for programs (thin: parse, call service, return)."""

from __future__ import annotations

from fastapi import APIRouter, status

from sangsaeng.core.i18n import gettext
from sangsaeng.core.web.deps import CurrentActor, SessionDep
from sangsaeng.programs import service
from sangsaeng.programs.models import Program
from sangsaeng.programs.schemas import (
    EligibilityOut,
    ProgramIn,
    ProgramOut,
    SourceOut,
    StatusIn,
    VerdictOut,
)

router = APIRouter(prefix="/api/v1", tags=["programs"])


def program_out(db, program: Program) -> ProgramOut:
    return ProgramOut(
        **{
            f: getattr(program, f)
            for f in ProgramOut.model_fields
            if hasattr(program, f) and f not in ("sources", "sponsor_ids")
        },
        sources=[
            SourceOut(code=s.code, name_ko=s.name_ko, share=s.share, in_kind=s.in_kind)
            for s in service.sources(db, program)
        ],
        sponsor_ids=[o.id for o in service.sponsors(db, program)],
    )


@router.get("/programs", response_model=list[ProgramOut])
def list_programs(db: SessionDep, actor: CurrentActor):
    """The programs you run (administrators: all). Open calls: ``GET /api/v1/calls``."""
    return [program_out(db, p) for p in service.list_programs(db, actor)]


@router.get("/calls", response_model=list[ProgramOut])
def list_calls(db: SessionDep, actor: CurrentActor):
    return [program_out(db, p) for p in service.open_calls(db)]


@router.post("/programs", response_model=ProgramOut, status_code=status.HTTP_201_CREATED)
def create_program(body: ProgramIn, db: SessionDep, actor: CurrentActor):
    values = body.model_dump(exclude={"operator_org_id"})
    program = service.create_program(db, actor, body.operator_org_id, values)
    return program_out(db, program)


@router.get("/programs/{program_id}", response_model=ProgramOut)
def get_program(program_id: int, db: SessionDep, actor: CurrentActor):
    return program_out(db, service.get_program(db, actor, program_id))


@router.post("/programs/{program_id}/status", response_model=ProgramOut)
def set_status(program_id: int, body: StatusIn, db: SessionDep, actor: CurrentActor):
    return program_out(db, service.set_status(db, actor, program_id, body.status))


@router.get("/programs/{program_id}/eligibility", response_model=EligibilityOut)
def eligibility(
    program_id: int, db: SessionDep, actor: CurrentActor, organization_id: int | None = None
):
    """Each rule's verdict for ``organization_id`` (default: your own organization)."""
    result = service.check_eligibility(db, actor, program_id, organization_id)
    return EligibilityOut(
        eligible=result.eligible,
        rules=[
            VerdictOut(
                rule=v.rule.kind,
                passed=v.passed,
                reason=gettext(v.reason, **service.readable_params(v)),
            )
            for v in result.verdicts
        ],
    )
