"""JSON routes under /api/v1 for funds, agreements and projects (thin: parse, call the project
service, return). Contributions carry the caller's idempotency key: the same key with the same
body books one entry and answers with it again; the same key with another body is a 409."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy.orm import Session

from sangsaeng.core.policy import Actor
from sangsaeng.core.web.deps import CurrentActor, SessionDep
from sangsaeng.programs import project_service as projects
from sangsaeng.programs import project_views as views
from sangsaeng.programs.models import Milestone
from sangsaeng.programs.project_schemas import (
    AgreementIn,
    BudgetChangeIn,
    BudgetChangeOut,
    ContributionIn,
    ContributorOut,
    DecisionIn,
    EntryOut,
    FollowUpOut,
    FundsOut,
    InspectionIn,
    InspectionOut,
    MilestoneOut,
    MoneyOut,
    NoteIn,
    ProjectOut,
    ProjectRowOut,
    ReportIn,
    SourceFiguresOut,
    StatusIn,
)

router = APIRouter(prefix="/api/v1", tags=["projects"])

_METHOD = (
    "Signed sums of the ledger postings on the program's fund accounts, by entry kind; "
    "disbursed = −disbursement postings; free = balance − held."
)


def _figures(row: views.SourceFigures) -> SourceFiguresOut:
    return SourceFiguresOut(**{f: getattr(row, f) for f in SourceFiguresOut.model_fields})


def _entry(entry, lines) -> EntryOut:
    return EntryOut(
        id=entry.id,
        kind=entry.kind,
        created_at=entry.created_at,
        reference=entry.reference,
        memo=entry.memo,
        postings=lines,
    )


@router.get("/programs/{program_id}/funds", response_model=FundsOut)
def funds(program_id: int, db: SessionDep, actor: CurrentActor):
    program = views.managed_program(db, actor, program_id)
    found = views.funds_of(db, actor, program)
    return FundsOut(
        program_id=program.id,
        method=_METHOD,
        sources=[_figures(r) for r in found.sources],
        total=_figures(found.total),
        contributors=[
            ContributorOut(label=label, organization_id=org, amount=amount)
            for label, org, amount in found.contributors
        ],
        recent_entries=[_entry(e, lines) for e, lines in found.entries[: views.RECENT_ENTRIES]],
    )


@router.post(
    "/programs/{program_id}/contributions",
    response_model=EntryOut,
    status_code=status.HTTP_201_CREATED,
)
def contribute(program_id: int, body: ContributionIn, db: SessionDep, actor: CurrentActor):
    entry = projects.contribute(
        db,
        actor,
        program_id,
        source_code=body.source_code,
        amount=body.amount,
        key=body.idempotency_key,
        contributor_org_id=body.contributor_org_id,
        memo=body.memo,
    )
    lines = [
        (projects.fund_code(program_id, body.source_code), body.amount),
        (projects.source_code_for(body.source_code, body.contributor_org_id), -body.amount),
    ]
    return _entry(entry, lines)


@router.get("/programs/{program_id}/projects", response_model=list[ProjectRowOut])
def program_projects(program_id: int, db: SessionDep, actor: CurrentActor, status: str = ""):
    return [
        ProjectRowOut(
            id=r.project.id,
            agreement_no=r.project.agreement_no,
            organization_id=r.project.organization_id,
            company=r.company,
            provider=r.provider,
            status=r.project.status,
            total_krw=r.project.total_krw,
            paid=r.paid,
            held=r.held,
            next_milestone=r.next_milestone.kind if r.next_milestone else None,
            next_due_on=r.next_milestone.due_on if r.next_milestone else None,
            overdue=r.overdue,
        )
        for r in views.project_rows(db, actor, program_id, status)
    ]


def project_out(db: Session, actor: Actor, project_id: int) -> ProjectOut:
    view = views.project_view(db, actor, project_id)
    p = view.project
    return ProjectOut(
        **{
            f: getattr(p, f)
            for f in ProjectOut.model_fields
            if f not in ("money", "milestones", "inspections", "budget_changes", "follow_ups")
        },
        money=MoneyOut(**vars(view.money)),
        milestones=[_milestone(m) for m in view.milestones],
        inspections=[
            InspectionOut(
                id=i.id,
                milestone_id=i.milestone_id,
                inspected_on=i.inspected_on,
                result=i.result,
                findings=i.findings,
            )
            for i in view.inspections
        ],
        budget_changes=[
            BudgetChangeOut(
                id=c.id,
                status=c.status,
                before=c.before,
                after=c.after,
                reason=c.reason,
                requested_at=c.requested_at,
                decided_at=c.decided_at,
            )
            for c in view.changes
        ],
        follow_ups=[_follow_up(f) for f in view.follow_ups],
    )


def _milestone(m: Milestone) -> MilestoneOut:
    return MilestoneOut(
        **{f: getattr(m, f) for f in MilestoneOut.model_fields if f != "deliverables"},
        deliverables=list(m.deliverables or []),
    )


def _follow_up(f) -> FollowUpOut:
    return FollowUpOut(
        id=f.id, year_no=f.year_no, kind=f.kind, due_on=f.due_on, done_at=f.done_at, note=f.note
    )


@router.post(
    "/applications/{application_id}/agreement",
    response_model=ProjectOut,
    status_code=status.HTTP_201_CREATED,
)
def sign(application_id: int, body: AgreementIn, db: SessionDep, actor: CurrentActor):
    project = projects.sign(
        db,
        actor,
        application_id,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        cost_lines=body.cost_lines,
    )
    return project_out(db, actor, project.id)


@router.get("/projects/{project_id}", response_model=ProjectOut)
def get_project(project_id: int, db: SessionDep, actor: CurrentActor):
    return project_out(db, actor, project_id)


@router.post("/milestones/{milestone_id}/report", response_model=MilestoneOut)
def report_milestone(milestone_id: int, body: ReportIn, db: SessionDep, actor: CurrentActor):
    """The company reports; ``file_ids`` are files it uploaded first (``POST /api/v1/files``,
    place ``program``, for its own organization)."""
    return _milestone(
        projects.submit_milestone(
            db, actor, milestone_id, report=body.report, file_ids=body.file_ids
        )
    )


@router.post("/milestones/{milestone_id}/approve", response_model=MilestoneOut)
def approve_milestone(
    milestone_id: int, db: SessionDep, actor: CurrentActor, body: NoteIn | None = None
):
    note = body.note if body else ""
    return _milestone(projects.approve_milestone(db, actor, milestone_id, note=note))


@router.post("/milestones/{milestone_id}/reject", response_model=MilestoneOut)
def reject_milestone(milestone_id: int, body: NoteIn, db: SessionDep, actor: CurrentActor):
    return _milestone(projects.reject_milestone(db, actor, milestone_id, note=body.note))


@router.post(
    "/projects/{project_id}/inspections",
    response_model=InspectionOut,
    status_code=status.HTTP_201_CREATED,
)
def record_inspection(project_id: int, body: InspectionIn, db: SessionDep, actor: CurrentActor):
    found = projects.record_inspection(
        db,
        actor,
        project_id,
        inspected_on=body.inspected_on,
        result=body.result,
        findings=body.findings,
        milestone_id=body.milestone_id,
    )
    return InspectionOut(
        id=found.id,
        milestone_id=found.milestone_id,
        inspected_on=found.inspected_on,
        result=found.result,
        findings=found.findings,
    )


def _change(c) -> BudgetChangeOut:
    return BudgetChangeOut(
        id=c.id,
        status=c.status,
        before=c.before,
        after=c.after,
        reason=c.reason,
        requested_at=c.requested_at,
        decided_at=c.decided_at,
    )


@router.post(
    "/projects/{project_id}/budget-changes",
    response_model=BudgetChangeOut,
    status_code=status.HTTP_201_CREATED,
)
def request_budget_change(
    project_id: int, body: BudgetChangeIn, db: SessionDep, actor: CurrentActor
):
    return _change(
        projects.request_budget_change(db, actor, project_id, lines=body.lines, reason=body.reason)
    )


@router.post("/budget-changes/{change_id}/decision", response_model=BudgetChangeOut)
def decide_budget_change(change_id: int, body: DecisionIn, db: SessionDep, actor: CurrentActor):
    return _change(projects.decide_budget_change(db, actor, change_id, approve=body.approve))


@router.post("/projects/{project_id}/status", response_model=ProjectOut)
def set_status(project_id: int, body: StatusIn, db: SessionDep, actor: CurrentActor):
    """``suspend`` (reason), ``resume``, or ``cancel`` (reason; ``recover_krw`` of what was paid
    comes back to the funds, 환수)."""
    if body.action == "suspend":
        projects.suspend(db, actor, project_id, reason=body.reason)
    elif body.action == "resume":
        projects.resume(db, actor, project_id)
    else:
        projects.cancel(db, actor, project_id, reason=body.reason, recover_krw=body.recover_krw)
    return project_out(db, actor, project_id)


@router.post("/follow-ups/{follow_up_id}/done", response_model=FollowUpOut)
def follow_up_done(follow_up_id: int, body: NoteIn, db: SessionDep, actor: CurrentActor):
    return _follow_up(projects.complete_follow_up(db, actor, follow_up_id, note=body.note))
