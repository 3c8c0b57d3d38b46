"""JSON routes under /api/v1 for screening, evaluators, ranking and selection, publication and
objections (thin: parse, call the evaluation service, return)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from sangsaeng.core.web.deps import CurrentActor, SessionDep
from sangsaeng.programs import evaluation_service as evaluation
from sangsaeng.programs import selection_presenter as presenter
from sangsaeng.programs.models import Application, EvaluatorAssignment

router = APIRouter(prefix="/api/v1", tags=["programs"])


# --- shapes ----------


class ApplicationRowOut(BaseModel):
    id: int
    organization_id: int
    organization_name: str
    title: str
    support_type: str | None
    status: str
    total_krw: int | None
    requested_support: int
    eligible: bool | None
    failed_rules: list[str]
    evaluators_assigned: int
    evaluators_scored: int
    base_score: float | None
    bonus_points: float | None
    final_score: float | None
    rank: int | None
    submitted_at: datetime | None


class ScreeningIn(BaseModel):
    passed: bool
    note: str = Field(default="", max_length=4000)


class ApplicationOut(BaseModel):
    id: int
    status: str
    screening_note: str


class EvaluatorIn(BaseModel):
    email: str = Field(max_length=320)


class AssignmentOut(BaseModel):
    id: int
    application_id: int
    evaluator_id: int
    declaration: str | None
    score: float | None
    submitted_at: datetime | None


class CombinedOut(BaseModel):
    score: float
    method: str  # what was done: "trimmed" (highest and lowest dropped) or "mean"
    used: list[float]
    dropped: list[float]


class BonusOut(BaseModel):
    points: float
    earned: list[dict]  # [{rule: index in the program's bonus rules, text, points}]


class SelectionRowOut(BaseModel):
    application_id: int
    organization_id: int
    combined: CombinedOut | None
    bonus: BonusOut
    final_score: float | None
    rank: int | None
    outcome: str | None  # selected / reserve / rejected (the application status it gives)
    reason: str
    pending: int
    requested_support: int


class SelectionOut(BaseModel):
    method: str  # the program's rule: "trimmed" or "mean"
    method_text: str
    tie_break: str
    quota: int
    budget: int
    selected_support: int
    pending: int
    decided: bool
    published_at: datetime | None
    rows: list[SelectionRowOut]


class PublishedOut(BaseModel):
    program_id: int
    results_published_at: datetime


class ObjectionOut(BaseModel):
    id: int
    application_id: int
    organization_id: int
    status: str
    reason: str
    lodged_at: datetime
    days_open: int
    answer: str
    answered_at: datetime | None
    application_status: str


class AnswerIn(BaseModel):
    upheld: bool
    answer: str = Field(max_length=4000)
    new_status: str | None = None


# --- helpers ----------


def _application_out(application: Application) -> ApplicationOut:
    return ApplicationOut(
        id=application.id, status=application.status, screening_note=application.screening_note
    )


def _assignment_out(assignment: EvaluatorAssignment) -> AssignmentOut:
    return AssignmentOut(
        id=assignment.id,
        application_id=assignment.application_id,
        evaluator_id=assignment.evaluator_id,
        declaration=assignment.declaration,
        score=assignment.score,
        submitted_at=assignment.submitted_at,
    )


def _selection_out(view: presenter.SelectionView) -> SelectionOut:
    rows = []
    for r in view.rows:
        combined = None
        if r.combined is not None:
            combined = CombinedOut(
                score=r.combined.score,
                method=r.combined.method,
                used=list(r.combined.used),
                dropped=list(r.combined.dropped),
            )
        earned = [{"rule": i, "text": text, "points": points} for i, text, points in r.bonus_met]
        rows.append(
            SelectionRowOut(
                application_id=r.application.id,
                organization_id=r.organization.id,
                combined=combined,
                bonus=BonusOut(points=r.bonus_points, earned=earned),
                final_score=r.final_score,
                rank=r.rank,
                outcome=r.outcome,
                reason=r.reason,
                pending=r.pending,
                requested_support=r.requested_support,
            )
        )
    return SelectionOut(
        method=view.method,
        method_text=view.method_text,
        tie_break=view.tie_break,
        quota=view.quota,
        budget=view.budget,
        selected_support=view.selected_support,
        pending=view.pending,
        decided=view.decided,
        published_at=view.published_at,
        rows=rows,
    )


# --- routes ----------


@router.get("/programs/{program_id}/applications", response_model=list[ApplicationRowOut])
def list_applications(
    program_id: int, db: SessionDep, actor: CurrentActor, status: str | None = None
):
    """Submitted applications of a program you run (drafts are not listed); ``status`` filters."""
    _program, rows = presenter.application_rows(db, actor, program_id, status)
    return [
        ApplicationRowOut(
            id=r.application.id,
            organization_id=r.organization.id,
            organization_name=r.organization.name_ko,
            title=r.application.title,
            support_type=r.application.support_type,
            status=r.application.status,
            total_krw=r.application.total_krw,
            requested_support=r.requested_support,
            eligible=r.application.eligible,
            failed_rules=r.failed_rules,
            evaluators_assigned=r.assigned,
            evaluators_scored=r.scored,
            base_score=r.application.base_score,
            bonus_points=r.application.bonus_points,
            final_score=r.application.final_score,
            rank=r.application.rank,
            submitted_at=r.application.submitted_at,
        )
        for r in rows
    ]


@router.post("/applications/{application_id}/screening", response_model=ApplicationOut)
def screen(application_id: int, body: ScreeningIn, db: SessionDep, actor: CurrentActor):
    """Pass an application on to evaluation, or screen it out with a reason."""
    application = evaluation.screen(db, actor, application_id, passed=body.passed, note=body.note)
    return _application_out(application)


@router.post(
    "/applications/{application_id}/evaluators",
    response_model=AssignmentOut,
    status_code=status.HTTP_201_CREATED,
)
def assign_evaluator(application_id: int, body: EvaluatorIn, db: SessionDep, actor: CurrentActor):
    """Assign an evaluator by email (an evaluator related to the applicant is refused, naming
    the organization); assigning the same evaluator again returns the assignment."""
    return _assignment_out(evaluation.assign(db, actor, application_id, body.email))


@router.get("/programs/{program_id}/selection", response_model=SelectionOut)
def selection_preview(program_id: int, db: SessionDep, actor: CurrentActor):
    """The ranking and selection as deciding now would store them (after publication: as
    decided), with the combination method and the tie-break stated."""
    view = presenter.selection_view(db, actor, program_id)
    return _selection_out(view)


@router.post("/programs/{program_id}/selection/decide", response_model=SelectionOut)
def decide(program_id: int, db: SessionDep, actor: CurrentActor):
    """Store the ranking and the selection (after the deadline, with every score in)."""
    evaluation.decide(db, actor, program_id)
    view = presenter.selection_view(db, actor, program_id)
    return _selection_out(view)


@router.post("/programs/{program_id}/selection/publish", response_model=PublishedOut)
def publish(program_id: int, db: SessionDep, actor: CurrentActor):
    program = evaluation.publish(db, actor, program_id)
    return PublishedOut(program_id=program.id, results_published_at=program.results_published_at)


@router.get("/programs/{program_id}/objections", response_model=list[ObjectionOut])
def list_objections(program_id: int, db: SessionDep, actor: CurrentActor):
    """Every objection of a program you run, the open ones first."""
    return [
        ObjectionOut(
            id=r.objection.id,
            application_id=r.application.id,
            organization_id=r.organization.id,
            status=r.objection.status,
            reason=r.objection.reason,
            lodged_at=r.objection.lodged_at,
            days_open=r.days_open,
            answer=r.objection.answer,
            answered_at=r.objection.answered_at,
            application_status=r.application.status,
        )
        for r in presenter.objection_rows(db, actor, program_id)
    ]


@router.post("/objections/{objection_id}/answer", response_model=ObjectionOut)
def answer_objection(objection_id: int, body: AnswerIn, db: SessionDep, actor: CurrentActor):
    """Answer in writing: upheld (optionally with a new status: selected, reserve or review) or
    dismissed."""
    objection = evaluation.answer_objection(
        db,
        actor,
        objection_id,
        upheld=body.upheld,
        answer=body.answer,
        new_status=body.new_status,
    )
    application = db.get(Application, objection.application_id)
    return ObjectionOut(
        id=objection.id,
        application_id=application.id,
        organization_id=application.organization_id,
        status=objection.status,
        reason=objection.reason,
        lodged_at=objection.lodged_at,
        days_open=((objection.answered_at or objection.lodged_at) - objection.lodged_at).days,
        answer=objection.answer,
        answered_at=objection.answered_at,
        application_status=application.status,
    )
