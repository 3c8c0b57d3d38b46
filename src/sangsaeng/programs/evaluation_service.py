"""Screening, evaluators, score sheets, ranking, selection, publication and objections.

An evaluator is never assigned to an application of an organization they belong to, nor of one
linked with it in a supply chain, nor of its chosen solution provider. Before seeing an
application an evaluator declares that they have no conflict of interest; one who declares a
conflict never sees it. Scores are combined as the program states (trimmed or mean), bonus points
(가점) added by rule, and the ranking and selection are deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from sangsaeng.assessments import service as assessments
from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sangsaeng.core.i18n import Msg
from sangsaeng.core.models import Membership, Organization, SupplierLink, User, utcnow
from sangsaeng.core.policy import Actor, Role
from sangsaeng.programs import application_service as applications
from sangsaeng.programs import notices
from sangsaeng.programs import service as programs
from sangsaeng.programs.engine import selection
from sangsaeng.programs.models import (
    A_REJECTED,
    A_RESERVE,
    A_SCREENED_OUT,
    A_SELECTED,
    A_SUBMITTED,
    A_UNDER_REVIEW,
    CONFLICT,
    NO_CONFLICT,
    OBJECTION_DISMISSED,
    OBJECTION_OPEN,
    OBJECTION_UPHELD,
    Application,
    EvaluatorAssignment,
    Objection,
    Program,
)

# --- screening ----------


def _managed(session: Session, actor: Actor, application_id: int) -> tuple[Application, Program]:
    application = applications.get_application(session, actor, application_id)
    program = applications.program_of(session, application)
    if not programs.can_manage(session, actor, program):
        raise Forbidden()
    return application, program


def _not_published(program: Program) -> None:
    if program.results_published_at is not None:
        raise Conflict(Msg("The results are published; the selection is closed."))


def screen(
    session: Session, actor: Actor, application_id: int, *, passed: bool, note: str = ""
) -> Application:
    """서면 검토: a submitted application goes on to evaluation, or is screened out (with a
    reason the applicant sees)."""
    application, program = _managed(session, actor, application_id)
    _not_published(program)
    if application.status not in (A_SUBMITTED, A_UNDER_REVIEW, A_SCREENED_OUT):
        raise Conflict(Msg("Only submitted applications can be screened."))
    note = (note or "").strip()
    if not passed and not note:
        raise InvalidInput({"note": Msg("Give the reason the application is screened out.")})
    application.status = A_UNDER_REVIEW if passed else A_SCREENED_OUT
    application.screening_note = note
    session.flush()
    if not passed:
        notices.tell_company(
            session,
            application.organization_id,
            title=Msg("Your application to {program} was screened out.", program=program.name_ko),
            body=Msg("Reason: {reason}", reason=note),
            link=f"/applications/{application.id}",
        )
    record(
        session,
        actor,
        "application.screen",
        object_type="application",
        object_id=application.id,
        organization_id=application.organization_id,
        details={"passed": passed},
    )
    return application


# --- evaluators ----------


def linked_organizations(session: Session, organization_id: int) -> set[int]:
    """The organization and everyone linked with it as buyer or supplier (confirmed or not: a
    pending link is still a relationship an evaluator must not judge)."""
    rows = session.execute(
        select(SupplierLink.buyer_id, SupplierLink.supplier_id).where(
            or_(
                SupplierLink.buyer_id == organization_id,
                SupplierLink.supplier_id == organization_id,
            )
        )
    ).all()
    return {organization_id} | {org for row in rows for org in row}


def conflicts_of(session: Session, evaluator: User, application: Application) -> list[int]:
    """The organizations behind a conflict of interest (empty: none found on record)."""
    own = set(
        session.scalars(
            select(Membership.organization_id).where(Membership.user_id == evaluator.id)
        )
    )
    related = linked_organizations(session, application.organization_id)
    if application.solution_id is not None:
        related.add(applications.provider_org_of(session, application.solution_id))
    return sorted(own & related)


def assign(session: Session, actor: Actor, application_id: int, email: str) -> EvaluatorAssignment:
    application, program = _managed(session, actor, application_id)
    _not_published(program)
    if application.status != A_UNDER_REVIEW:
        raise Conflict(Msg("Only applications under review get evaluators."))
    evaluator = session.scalars(
        select(User).where(User.email == (email or "").strip().lower())
    ).first()
    is_evaluator = evaluator is not None and (
        session.scalars(
            select(Membership).where(
                Membership.user_id == evaluator.id, Membership.role == Role.EVALUATOR
            )
        ).first()
        is not None
    )
    if not is_evaluator:
        raise InvalidInput({"email": Msg("No evaluator is registered with this email.")})
    conflicts = conflicts_of(session, evaluator, application)
    if conflicts:
        names = session.scalars(select(Organization.name_ko).where(Organization.id.in_(conflicts)))
        raise InvalidInput(
            {
                "email": Msg(
                    "This evaluator belongs to an organization related to the applicant ({orgs}).",
                    orgs=", ".join(names),
                )
            }
        )
    found = session.scalars(
        select(EvaluatorAssignment).where(
            EvaluatorAssignment.application_id == application.id,
            EvaluatorAssignment.evaluator_id == evaluator.id,
        )
    ).first()
    if found is not None:
        return found
    assignment = EvaluatorAssignment(
        application_id=application.id,
        evaluator_id=evaluator.id,
        assigned_by_id=actor.user_id or None,
    )
    session.add(assignment)
    session.flush()
    record(
        session,
        actor,
        "evaluation.assign",
        object_type="application",
        object_id=application.id,
        organization_id=application.organization_id,
        details={"evaluator": evaluator.id},
    )
    notices.tell_user(
        session,
        evaluator.id,
        title=Msg("You have been assigned an application to evaluate."),
        body=Msg(
            "{program}: the application of {company}. Declare whether you have a conflict of "
            "interest before you read and score it.",
            program=program.name_ko,
            company=session.get(Organization, application.organization_id).name_ko,
        ),
        link=f"/evaluations/{assignment.id}",
    )
    return assignment


def assignments_of(session: Session, application_id: int) -> list[tuple[EvaluatorAssignment, User]]:
    return list(
        session.execute(
            select(EvaluatorAssignment, User)
            .join(User, User.id == EvaluatorAssignment.evaluator_id)
            .where(EvaluatorAssignment.application_id == application_id)
            .order_by(EvaluatorAssignment.id)
        ).all()
    )


def get_assignment(session: Session, actor: Actor, assignment_id: int) -> EvaluatorAssignment:
    """An evaluator's own assignment; nobody else's (operators read scores via the program)."""
    assignment = session.get(EvaluatorAssignment, assignment_id)
    if assignment is None or assignment.evaluator_id != actor.user_id or not actor.user_id:
        raise NotFound()
    return assignment


def my_assignments(
    session: Session, actor: Actor
) -> list[tuple[EvaluatorAssignment, Application, Program, Organization]]:
    return list(
        session.execute(
            select(EvaluatorAssignment, Application, Program, Organization)
            .join(Application, Application.id == EvaluatorAssignment.application_id)
            .join(Program, Program.id == Application.program_id)
            .join(Organization, Organization.id == Application.organization_id)
            .where(EvaluatorAssignment.evaluator_id == actor.user_id)
            .order_by(EvaluatorAssignment.assigned_at.desc())
        ).all()
    )


def declare(
    session: Session, actor: Actor, assignment_id: int, *, conflict: bool, note: str = ""
) -> EvaluatorAssignment:
    """서약: no conflict of interest (then the application opens), or a conflict (then it never
    does and the operator assigns someone else). Declared once."""
    assignment = get_assignment(session, actor, assignment_id)
    if assignment.declaration is not None:
        raise Conflict(Msg("The declaration has already been made."))
    assignment.declaration = CONFLICT if conflict else NO_CONFLICT
    assignment.declaration_note = (note or "").strip()[:2000]
    assignment.declared_at = utcnow()
    session.flush()
    record(
        session,
        actor,
        "evaluation.declare",
        object_type="application",
        object_id=assignment.application_id,
        details={"conflict": conflict},
    )
    return assignment


def application_for_evaluator(
    session: Session, actor: Actor, assignment_id: int
) -> tuple[EvaluatorAssignment, Application]:
    assignment = get_assignment(session, actor, assignment_id)
    if assignment.declaration != NO_CONFLICT:
        raise Forbidden(Msg("Declare that you have no conflict of interest first."))
    return assignment, applications.get_application(session, actor, assignment.application_id)


def score(
    session: Session,
    actor: Actor,
    assignment_id: int,
    answers: dict[str, object],
    comments: dict[str, str] | None = None,
) -> EvaluatorAssignment:
    """Score on the program's score sheet (every criterion, comments where low scores ask)."""
    assignment, application = application_for_evaluator(session, actor, assignment_id)
    program = applications.program_of(session, application)
    _not_published(program)
    if application.status != A_UNDER_REVIEW:
        raise Conflict(Msg("This application is not under review."))
    instrument, result = assessments.score_sheet(program.score_sheet, answers, comments)
    assignment.sheet_version = instrument.version
    assignment.answers = {k: v for k, v in assessments.clean_answers(instrument, answers).items()}
    assignment.comments = {k: v.strip() for k, v in (comments or {}).items() if v and v.strip()}
    assignment.score = round(result.overall, 4)
    assignment.submitted_at = utcnow()
    session.flush()
    record(
        session,
        actor,
        "evaluation.score",
        object_type="application",
        object_id=application.id,
        details={"score": assignment.score},
    )
    return assignment


# --- ranking and selection ----------


@dataclass(frozen=True)
class RankedRow:
    application: Application
    organization: Organization
    combined: selection.Combined | None
    bonus: selection.Bonus
    decision: selection.Decision | None
    pending: int  # evaluators who declared no conflict but have not scored


@dataclass(frozen=True)
class Preview:
    rows: list[RankedRow]
    method: str
    budget: int
    quota: int
    selected_support: int

    @property
    def ready(self) -> bool:
        return bool(self.rows) and all(r.combined is not None and r.pending == 0 for r in self.rows)


def preview(session: Session, actor: Actor, program_id: int) -> Preview:
    """The ranking and selection as they would be decided now (nothing stored)."""
    program = programs.get_program(session, actor, program_id)
    if not programs.can_manage(session, actor, program):
        raise Forbidden()
    reviewed = session.execute(
        select(Application, Organization)
        .join(Organization, Organization.id == Application.organization_id)
        .where(
            Application.program_id == program.id,
            Application.status.in_((A_UNDER_REVIEW, A_SELECTED, A_RESERVE, A_REJECTED)),
        )
    ).all()
    bonus_rules = selection.parse_bonus_rules(program.bonus_rules or [])
    scored: dict[int, list[float]] = {}
    pending: dict[int, int] = {}
    ids = [a.id for a, _o in reviewed]
    for assignment in session.scalars(
        select(EvaluatorAssignment).where(EvaluatorAssignment.application_id.in_(ids))
    ):
        if assignment.score is not None:
            scored.setdefault(assignment.application_id, []).append(assignment.score)
        elif assignment.declaration != CONFLICT:
            pending[assignment.application_id] = pending.get(assignment.application_id, 0) + 1
    candidates, rows = [], {}
    for application, org in reviewed:
        combined = (
            selection.combine(scored[application.id], program.score_combination)
            if application.id in scored
            else None
        )
        facts = programs.facts_for(session, program, org)
        earned = selection.bonus(bonus_rules, facts)
        rows[application.id] = (application, org, combined, earned)
        if combined is not None:
            candidates.append(
                selection.Candidate(
                    application_id=application.id,
                    base_score=combined.score,
                    bonus_points=earned.points,
                    submitted_at=application.submitted_at,
                    requested_support=applications.support_of(application.requested or {}),
                )
            )
    decisions = {
        d.application_id: d
        for d in selection.select(
            selection.rank(candidates),
            quota=program.quota,
            budget=program.budget_krw,
            reserve_size=program.reserve_size,
        )
    }
    ordered = sorted(
        rows.values(),
        key=lambda r: (decisions[r[0].id].rank if r[0].id in decisions else 10**9, r[0].id),
    )
    selected_support = sum(
        applications.support_of(r[0].requested or {})
        for r in ordered
        if r[0].id in decisions and decisions[r[0].id].outcome == selection.SELECTED
    )
    return Preview(
        rows=[
            RankedRow(a, o, c, b, decisions.get(a.id), pending.get(a.id, 0))
            for a, o, c, b in ordered
        ],
        method=program.score_combination,
        budget=program.budget_krw,
        quota=program.quota,
        selected_support=selected_support,
    )


_OUTCOME_STATUS = {
    selection.SELECTED: A_SELECTED,
    selection.RESERVE: A_RESERVE,
    selection.REJECTED: A_REJECTED,
}


def decide(session: Session, actor: Actor, program_id: int) -> Preview:
    """Store the ranking and the selection (after the deadline, before publication); every
    application under review must have all its scores."""
    program = programs.get_program(session, actor, program_id)
    if not programs.can_manage(session, actor, program):
        raise Forbidden()
    _not_published(program)
    if program.closes_at > utcnow():
        raise Conflict(Msg("Selection starts after the deadline."))
    result = preview(session, actor, program_id)
    if not result.ready:
        raise Conflict(Msg("Every application under review needs all its evaluators' scores."))
    for row in result.rows:
        application = row.application
        application.base_score = row.combined.score
        application.bonus_points = row.bonus.points
        application.final_score = round(row.combined.score + row.bonus.points, 4)
        application.rank = row.decision.rank
        application.status = _OUTCOME_STATUS[row.decision.outcome]
    session.flush()
    record(
        session,
        actor,
        "program.select",
        object_type="program",
        object_id=program.id,
        organization_id=program.operator_org_id,
        details={"ranked": len(result.rows), "method": result.method},
    )
    return result


def publish(session: Session, actor: Actor, program_id: int) -> Program:
    program = programs.get_program(session, actor, program_id)
    if not programs.can_manage(session, actor, program):
        raise Forbidden()
    _not_published(program)
    decided = session.scalar(
        select(Application.id)
        .where(Application.program_id == program.id, Application.rank.is_not(None))
        .limit(1)
    )
    if decided is None:
        raise Conflict(Msg("Decide the selection before publishing it."))
    program.results_published_at = utcnow()
    session.flush()
    _announce_results(session, program)
    record(
        session,
        actor,
        "program.publish",
        object_type="program",
        object_id=program.id,
        organization_id=program.operator_org_id,
    )
    return program


def _announce_results(session: Session, program: Program) -> None:
    """Every ranked applicant learns its outcome and its place in the ranking."""
    ranked = list(
        session.scalars(
            select(Application)
            .where(Application.program_id == program.id, Application.rank.is_not(None))
            .order_by(Application.rank)
        )
    )
    for application in ranked:
        notices.tell_company(
            session,
            application.organization_id,
            title=Msg("The results of {program} are published.", program=program.name_ko),
            body=Msg(
                "Your application: {outcome} (rank {rank} of {total}).",
                outcome=notices.outcome(application.status),
                rank=application.rank,
                total=len(ranked),
            ),
            link=f"/applications/{application.id}",
        )


def result_for_applicant(session: Session, actor: Actor, application_id: int) -> dict | None:
    """What an applicant sees of the selection: nothing before publication."""
    application = applications.get_application(session, actor, application_id)
    program = applications.program_of(session, application)
    if program.results_published_at is None and application.status != A_SCREENED_OUT:
        return None
    ranked = session.scalar(
        select(Application.id)
        .where(Application.program_id == program.id, Application.rank.is_not(None))
        .order_by(Application.rank.desc())
        .limit(1)
    )
    total_ranked = (
        session.get(Application, ranked).rank if ranked is not None else 0
    )  # the last rank is the number ranked
    return {
        "status": application.status,
        "rank": application.rank,
        "ranked": total_ranked,
        "base_score": application.base_score,
        "bonus_points": application.bonus_points,
        "final_score": application.final_score,
        "method": program.score_combination,
        "note": application.screening_note,
        "objection_until": (
            program.results_published_at + timedelta(days=program.objection_days)
            if program.results_published_at
            else None
        ),
    }


# --- objections (이의신청) ----------


def lodge_objection(session: Session, actor: Actor, application_id: int, reason: str) -> Objection:
    application = applications.get_application(session, actor, application_id)
    if application.organization_id not in actor.org_ids(Role.SME, Role.SPONSOR, Role.OPERATOR):
        raise Forbidden()
    program = applications.program_of(session, application)
    published = program.results_published_at
    if application.status not in (A_SCREENED_OUT, A_REJECTED, A_RESERVE) or (
        published is None and application.status != A_SCREENED_OUT
    ):
        raise Conflict(Msg("An objection can be lodged only against a published result."))
    if published is not None and utcnow() > published + timedelta(days=program.objection_days):
        raise Conflict(Msg("The objection period has ended."))
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise InvalidInput({"reason": Msg("State the reason in at least {n} characters.", n=10)})
    if session.scalar(
        select(Objection.id).where(
            Objection.application_id == application.id, Objection.status == OBJECTION_OPEN
        )
    ):
        raise Conflict(Msg("An objection is already waiting for an answer."))
    objection = Objection(
        application_id=application.id, lodged_by_id=actor.user_id or None, reason=reason[:4000]
    )
    session.add(objection)
    session.flush()
    notices.tell_operators(
        session,
        program,
        title=Msg(
            "{company} lodged an objection to the result of {program}.",
            company=session.get(Organization, application.organization_id).name_ko,
            program=program.name_ko,
        ),
        body=objection.reason,
        link=f"/programs/{program.id}/objections",
    )
    record(
        session,
        actor,
        "objection.lodge",
        object_type="application",
        object_id=application.id,
        organization_id=application.organization_id,
    )
    return objection


def objections_of(session: Session, application_id: int) -> list[Objection]:
    return list(
        session.scalars(
            select(Objection)
            .where(Objection.application_id == application_id)
            .order_by(Objection.lodged_at)
        )
    )


def open_objections(session: Session, actor: Actor, program_id: int) -> list[Objection]:
    program = programs.get_program(session, actor, program_id)
    if not programs.can_manage(session, actor, program):
        raise Forbidden()
    return list(
        session.scalars(
            select(Objection)
            .join(Application, Application.id == Objection.application_id)
            .where(Application.program_id == program.id, Objection.status == OBJECTION_OPEN)
            .order_by(Objection.lodged_at)
        )
    )


def answer_objection(
    session: Session,
    actor: Actor,
    objection_id: int,
    *,
    upheld: bool,
    answer: str,
    new_status: str | None = None,
) -> Objection:
    """The operator answers in writing; an upheld objection may change the outcome (to the
    reserve list or selected, within the quota)."""
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound()
    application, program = _managed(session, actor, objection.application_id)
    if objection.status != OBJECTION_OPEN:
        raise Conflict(Msg("This objection has already been answered."))
    answer = (answer or "").strip()
    if len(answer) < 10:
        raise InvalidInput({"answer": Msg("State the answer in at least {n} characters.", n=10)})
    if new_status is not None:
        if not upheld or new_status not in (A_SELECTED, A_RESERVE, A_UNDER_REVIEW):
            raise InvalidInput({"new_status": Msg("Choose a listed value.")})
        if new_status == A_SELECTED:
            taken = session.scalar(
                select(func.count())
                .select_from(Application)
                .where(Application.program_id == program.id, Application.status == A_SELECTED)
            )
            if taken >= program.quota:
                raise Conflict(Msg("The quota is filled."))
        application.status = new_status
    objection.status = OBJECTION_UPHELD if upheld else OBJECTION_DISMISSED
    objection.answer = answer[:4000]
    objection.answered_by_id = actor.user_id or None
    objection.answered_at = utcnow()
    session.flush()
    _tell_answer(session, program, application, objection, changed=new_status is not None)
    record(
        session,
        actor,
        "objection.answer",
        object_type="application",
        object_id=application.id,
        organization_id=application.organization_id,
        details={"upheld": upheld, "new_status": new_status},
    )
    return objection


def _tell_answer(
    session: Session,
    program: Program,
    application: Application,
    objection: Objection,
    *,
    changed: bool,
) -> None:
    upheld = objection.status == OBJECTION_UPHELD
    title = (
        Msg("Your objection to the result of {program} was upheld.", program=program.name_ko)
        if upheld
        else Msg(
            "Your objection to the result of {program} was dismissed.", program=program.name_ko
        )
    )
    body = (
        Msg(
            "Your application is now: {outcome}. The operator's answer: {answer}",
            outcome=notices.outcome(application.status),
            answer=objection.answer,
        )
        if changed
        else Msg("The operator's answer: {answer}", answer=objection.answer)
    )
    notices.tell_company(
        session,
        application.organization_id,
        title=title,
        body=body,
        link=f"/applications/{application.id}",
    )
