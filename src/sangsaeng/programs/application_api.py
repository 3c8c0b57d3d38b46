"""JSON routes under /api/v1 for applications, evaluations and solution providers (thin: parse,
call the service, return)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from sqlalchemy.orm import Session

from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.i18n import Msg
from sangsaeng.core.orgs import service as orgs
from sangsaeng.core.policy import Actor
from sangsaeng.core.web.deps import CurrentActor, SessionDep
from sangsaeng.programs import application_service as applications
from sangsaeng.programs import application_views as views
from sangsaeng.programs import evaluation_service as evaluation
from sangsaeng.programs import service as programs
from sangsaeng.programs.application_schemas import (
    ApplicationIn,
    ApplicationOut,
    AssignmentOut,
    DeclarationIn,
    DocumentIn,
    DocumentOut,
    KpiOut,
    ObjectionIn,
    ObjectionOut,
    ProviderIn,
    ProviderOut,
    ResultOut,
    ScoresIn,
    SolutionIn,
    SolutionOut,
    VerdictOut,
)
from sangsaeng.programs.models import Application

router = APIRouter(prefix="/api/v1", tags=["applications"])


def application_out(db: Session, actor: Actor, application: Application) -> ApplicationOut:
    evaluator = views.read_as_evaluator(db, actor, application)
    context = views.application_context(db, actor, application, for_evaluator=evaluator)
    result = context["result"]
    return ApplicationOut(
        id=application.id,
        program_id=application.program_id,
        program_name=context["program"].name_ko,
        organization_id=application.organization_id,
        status=application.status,
        status_text=views.status_label(application.status),
        title=application.title,
        plan=application.plan,
        support_type=application.support_type,
        solution_id=application.solution_id,
        solution=context["solution"],
        total_krw=application.total_krw,
        requested=application.requested or {},
        support_krw=context["support_krw"],
        target_kpis=[KpiOut(**vars(k)) for k in context["kpis"]],
        documents={
            name: [DocumentOut(file_id=f.id, original_name=f.original_name) for f in stored if f]
            for name, stored in context["documents"].items()
        },
        eligible=application.eligible,
        eligibility=[VerdictOut(passed=r.passed, reason=r.reason) for r in context["eligibility"]],
        diagnosis_assessment_id=application.diagnosis_assessment_id,
        submitted_at=application.submitted_at,
        result=ResultOut(**result, method_text=views.method_text(result["method"]))
        if result
        else None,
        objections=[
            ObjectionOut(
                id=o.id,
                status=o.status,
                reason=o.reason,
                answer=o.answer,
                lodged_at=o.lodged_at,
                answered_at=o.answered_at,
            )
            for o in context["objections"]
        ],
    )


@router.post(
    "/programs/{program_id}/applications",
    response_model=ApplicationOut,
    status_code=status.HTTP_201_CREATED,
)
def start_application(program_id: int, db: SessionDep, actor: CurrentActor):
    """Your company's application to the call: a new draft, or the one it already has."""
    return application_out(db, actor, applications.start(db, actor, program_id))


@router.get("/applications", response_model=list[ApplicationOut])
def my_applications(db: SessionDep, actor: CurrentActor):
    return [application_out(db, actor, a) for a, _p in applications.my_applications(db, actor)]


@router.get("/applications/{application_id}", response_model=ApplicationOut)
def get_application(application_id: int, db: SessionDep, actor: CurrentActor):
    return application_out(db, actor, applications.get_application(db, actor, application_id))


@router.put("/applications/{application_id}", response_model=ApplicationOut)
def save_application(application_id: int, body: ApplicationIn, db: SessionDep, actor: CurrentActor):
    """Save the whole draft (fields left out are cleared); nothing is saved on any error."""
    values = body.model_dump()
    saved = applications.save(db, actor, application_id, values)
    return application_out(db, actor, saved)


@router.post("/applications/{application_id}/documents", response_model=ApplicationOut)
def attach_document(
    request: Request, application_id: int, body: DocumentIn, db: SessionDep, actor: CurrentActor
):
    """Attach an uploaded file you may read; it is stored again under the program's rules for
    application documents (types and size), so the same checks apply as to a form upload."""
    application = applications.get_application(db, actor, application_id)
    views.ensure_applicant(actor, application)
    storage = request.app.state.storage
    stored, data = views.file_bytes(db, actor, storage, body.file_id)
    saved = applications.attach_document(
        db,
        actor,
        storage,
        application_id,
        body.document,
        data=data,
        filename=stored.original_name,
    )
    return application_out(db, actor, saved)


@router.post("/applications/{application_id}/submit", response_model=ApplicationOut)
def submit_application(application_id: int, db: SessionDep, actor: CurrentActor):
    return application_out(db, actor, applications.submit(db, actor, application_id))


@router.post("/applications/{application_id}/withdraw", response_model=ApplicationOut)
def withdraw_application(application_id: int, db: SessionDep, actor: CurrentActor):
    return application_out(db, actor, applications.withdraw(db, actor, application_id))


@router.post(
    "/applications/{application_id}/objections",
    response_model=ObjectionOut,
    status_code=status.HTTP_201_CREATED,
)
def lodge_objection(application_id: int, body: ObjectionIn, db: SessionDep, actor: CurrentActor):
    objection = evaluation.lodge_objection(db, actor, application_id, body.reason)
    return ObjectionOut(
        id=objection.id,
        status=objection.status,
        reason=objection.reason,
        answer=objection.answer or "",
        lodged_at=objection.lodged_at,
        answered_at=objection.answered_at,
    )


# --- evaluations ----------


def assignment_out(assignment, application, program, organization) -> AssignmentOut:
    return AssignmentOut(
        id=assignment.id,
        application_id=application.id,
        program_id=program.id,
        program_name=program.name_ko,
        applicant_name=organization.name_ko,
        declaration=assignment.declaration,
        declared_at=assignment.declared_at,
        score=assignment.score,
        scored_at=assignment.submitted_at,
    )


@router.get("/evaluations", response_model=list[AssignmentOut])
def my_evaluations(db: SessionDep, actor: CurrentActor):
    """The applications assigned to you (applicant named, so that you can judge a conflict)."""
    return [assignment_out(*row) for row in evaluation.my_assignments(db, actor)]


@router.post("/evaluations/{assignment_id}/declaration", response_model=AssignmentOut)
def declare(assignment_id: int, body: DeclarationIn, db: SessionDep, actor: CurrentActor):
    evaluation.declare(db, actor, assignment_id, conflict=body.conflict, note=body.note)
    return assignment_out(*views.assignment_row(db, actor, assignment_id))


@router.post("/evaluations/{assignment_id}/scores", response_model=AssignmentOut)
def record_scores(assignment_id: int, body: ScoresIn, db: SessionDep, actor: CurrentActor):
    evaluation.score(db, actor, assignment_id, dict(body.answers), body.comments)
    return assignment_out(*views.assignment_row(db, actor, assignment_id))


# --- solution providers ----------


def provider_out(row) -> ProviderOut:
    return ProviderOut(
        id=row.provider.id,
        organization_id=row.organization.id,
        name=row.organization.name_ko,
        business_no=row.organization.business_no,
        solutions=[
            SolutionOut(
                id=s.id, name=s.name, solution_type=s.solution_type, description=s.description
            )
            for s in row.solutions
        ],
    )


def _provider_row(db: Session, actor: Actor, provider_id: int):
    return next(r for r in applications.list_providers(db, actor) if r.provider.id == provider_id)


@router.get("/providers", response_model=list[ProviderOut])
def list_providers(db: SessionDep, actor: CurrentActor):
    return [provider_out(r) for r in applications.list_providers(db, actor)]


@router.post("/providers", response_model=ProviderOut, status_code=status.HTTP_201_CREATED)
def register_provider(body: ProviderIn, db: SessionDep, actor: CurrentActor):
    """Register an organization as a solution provider by its business registration number."""
    programs.ensure_can_create(db, actor)
    org = orgs.find_by_business_no(db, body.business_no)
    if org is None:
        raise InvalidInput(
            {"business_no": Msg("No organization is registered with this business number.")}
        )
    provider = applications.register_provider(db, actor, org.id)
    return provider_out(_provider_row(db, actor, provider.id))


@router.post(
    "/providers/{provider_id}/solutions",
    response_model=SolutionOut,
    status_code=status.HTTP_201_CREATED,
)
def add_solution(provider_id: int, body: SolutionIn, db: SessionDep, actor: CurrentActor):
    solution = applications.add_solution(
        db,
        actor,
        provider_id,
        name=body.name,
        solution_type=body.solution_type,
        description=body.description,
    )
    return SolutionOut(
        id=solution.id,
        name=solution.name,
        solution_type=solution.solution_type,
        description=solution.description,
    )
