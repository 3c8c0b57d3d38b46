"""JSON routes under /api/v1 for instruments and assessments (thin: parse, call service, return)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status

from sangsaeng.assessments import catalog, service
from sangsaeng.assessments.engine import roadmap
from sangsaeng.assessments.engine.instrument import Instrument, Level
from sangsaeng.assessments.engine.scoring import Result
from sangsaeng.assessments.models import Assessment
from sangsaeng.assessments.schemas import (
    AnswersIn,
    AssessmentDetailOut,
    AssessmentIn,
    AssessmentOut,
    AssessmentPageOut,
    DimensionOut,
    EvidenceIn,
    InstrumentOut,
    ItemOut,
    LevelOut,
    PeersOut,
    PlanActionOut,
    PlanActionPatch,
    RankOut,
    ResultOut,
    SimulateIn,
    StepOut,
    VerifyIn,
)
from sangsaeng.core.i18n import get_locale
from sangsaeng.core.web.deps import CurrentActor, SessionDep

router = APIRouter(prefix="/api/v1", tags=["assessments"])


def _level(level: Level | None) -> LevelOut | None:
    if level is None:
        return None
    locale = get_locale()
    return LevelOut(
        id=level.id,
        rank=level.rank,
        label=level.label.get(locale),
        group=level.group.get(locale) if level.group else None,
        min_score=level.min_score,
    )


def result_out(result: Result) -> ResultOut:
    locale = get_locale()
    return ResultOut(
        overall=result.overall,
        level=_level(result.level),
        next_level=_level(result.next_level),
        points_to_next=result.points_to_next,
        dimension_shortfalls=result.dimension_shortfalls,
        path_to_next=[
            StepOut(item=s.item_id, from_value=s.from_value, to_value=s.to_value, gain=s.gain)
            for s in result.path_to_next
        ],
        dimensions=[
            DimensionOut(
                id=d.id,
                title=d.title.get(locale),
                weight=d.weight,
                score=d.score,
                grade=d.grade.id if d.grade else None,
                answered=d.answered,
                total=d.total,
            )
            for d in result.dimensions
        ],
        items=[
            ItemOut(
                id=i.item_id,
                dimension=i.dimension_id,
                answer=i.answer,
                fraction=round(i.fraction, 6),
                points=i.points,
                max_points=i.max_points,
                gain_to_next=i.gain_to_next,
            )
            for i in result.items
        ],
        answered=result.answered,
        total=result.total,
    )


def assessment_out(a: Assessment) -> AssessmentOut:
    return AssessmentOut.model_validate(a, from_attributes=True)


def _instrument_out(instrument: Instrument) -> InstrumentOut:
    origin = catalog.catalog().origin.get((instrument.id, instrument.version), "shipped")
    return InstrumentOut(
        id=instrument.id,
        version=instrument.version,
        kind=instrument.kind,
        subject=instrument.subject,
        title=instrument.title.get(get_locale()),
        origin=origin,
        sha256=instrument.sha256,
        dimensions=len(instrument.dimensions),
        items=len(instrument.items),
        levels=[_level(lv) for lv in instrument.levels],
    )


@router.get("/instruments", response_model=list[InstrumentOut])
def list_instruments(actor: CurrentActor):
    return [_instrument_out(i) for i in service.available_instruments()]


@router.get("/instruments/{instrument_id}", response_model=InstrumentOut)
def get_instrument(instrument_id: str, actor: CurrentActor, version: str | None = None):
    return _instrument_out(service.get_instrument(instrument_id, version))


@router.post("/instruments/{instrument_id}/simulate", response_model=ResultOut)
def simulate(instrument_id: str, body: SimulateIn, db: SessionDep, actor: CurrentActor):
    _instrument, result = service.simulate(
        db, actor, instrument_id, body.answers, body.survey_answers
    )
    return result_out(result)


@router.get("/assessments", response_model=AssessmentPageOut)
def list_assessments(
    db: SessionDep,
    actor: CurrentActor,
    instrument: str = "",
    status: str = "",
    organization_id: int | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
):
    filters = service.AssessmentFilters(instrument, status, organization_id)
    result = service.list_assessments(db, actor, filters, page=page, per_page=per_page)
    return AssessmentPageOut(
        items=[assessment_out(a) for a in result.items],
        total=result.total,
        page=result.page,
        pages=result.pages,
    )


@router.post("/assessments", response_model=AssessmentOut, status_code=status.HTTP_201_CREATED)
def start_assessment(body: AssessmentIn, db: SessionDep, actor: CurrentActor):
    assessment = service.start(db, actor, **body.model_dump())
    return assessment_out(assessment)


@router.get("/assessments/{assessment_id}", response_model=AssessmentDetailOut)
def get_assessment(assessment_id: int, db: SessionDep, actor: CurrentActor):
    view = service.result_view(db, actor, assessment_id)
    peers = (
        PeersOut(n_peers=view.peers.n_peers, percentile=view.peers.percentile)
        if view.peers
        else None
    )
    return AssessmentDetailOut(
        **assessment_out(view.assessment).model_dump(),
        result=result_out(view.result),
        verified_result=result_out(view.verified) if view.verified else None,
        peers=peers,
        plan=[_plan_out(view.instrument, p) for p in view.plan],
    )


def _plan_out(instrument: Instrument, p) -> PlanActionOut:
    return PlanActionOut(
        id=p.id,
        action_id=p.action_id,
        title=service.plan_title(instrument, p),
        dimension=p.dimension_id,
        rank=p.rank,
        start_quarter=p.start,
        end_quarter=p.end,
        year=roadmap.year_quarter(p.start)[0] if p.start else None,
        requires=p.requires,
        kpis=p.kpis,
        impact=p.impact,
        effort=p.effort,
        status=p.status,
        assignee_id=p.assignee_id,
        note=p.note,
    )


@router.patch("/assessments/{assessment_id}", response_model=AssessmentOut)
def save_answers(assessment_id: int, body: AnswersIn, db: SessionDep, actor: CurrentActor):
    return assessment_out(
        service.save_answers(db, actor, assessment_id, body.answers, body.comments)
    )


@router.post("/assessments/{assessment_id}/evidence", response_model=AssessmentOut)
def attach_evidence(assessment_id: int, body: EvidenceIn, db: SessionDep, actor: CurrentActor):
    assessment = service.link_evidence(db, actor, assessment_id, body.item_id, body.file_id)
    return assessment_out(assessment)


@router.post("/assessments/{assessment_id}/submit", response_model=AssessmentOut)
def submit(assessment_id: int, db: SessionDep, actor: CurrentActor):
    return assessment_out(service.submit(db, actor, assessment_id))


@router.post("/assessments/{assessment_id}/verify", response_model=AssessmentOut)
def verify(assessment_id: int, body: VerifyIn, db: SessionDep, actor: CurrentActor):
    return assessment_out(service.verify(db, actor, assessment_id, body.answers, body.note))


@router.patch("/assessment-plan-actions/{plan_action_id}", response_model=PlanActionOut)
def update_plan_action(
    plan_action_id: int, body: PlanActionPatch, db: SessionDep, actor: CurrentActor
):
    changes = body.model_dump(exclude_unset=True)
    # An explicit null unassigns the action; a missing field leaves it as it is.
    clear = "assignee_id" in changes and changes["assignee_id"] is None
    action = service.update_plan_action(db, actor, plan_action_id, clear_assignee=clear, **changes)
    assessment = service.get_assessment(db, actor, action.assessment_id)
    return _plan_out(service.instrument_of(db, assessment), action)


@router.get("/instruments/{instrument_id}/ranking", response_model=list[RankOut])
def ranking(
    instrument_id: str,
    db: SessionDep,
    actor: CurrentActor,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
):
    _instrument, rows = service.certification_ranking(
        db, actor, instrument_id, year or date.today().year
    )
    return [
        RankOut(
            rank=r.ranked.rank,
            assessment_id=r.assessment.id,
            organization_id=r.assessment.organization_id,
            organization=r.organization_name,
            overall=r.ranked.overall,
            certified=r.ranked.certified,
            reason=r.ranked.reason,
            decided_by=r.ranked.decided_by,
        )
        for r in rows
    ]
