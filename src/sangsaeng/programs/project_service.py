"""Funds, agreements (협약), projects, milestones, inspections, changes and follow-up (사후관리).

Money moves only through the ledger: contributions credit a program's fund (one fund account per
funding source); signing an agreement holds its cash budget per source (the SME's own cash share
is deposited first); approving a milestone pays the solution provider from those holds in the
agreed shares (integer KRW, largest remainder, the remainder's owner stated in the agreement);
cancelling releases what is held and books recoveries (환수). Every ledger write carries an
idempotency key derived from the object it settles, so a retried click never pays twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sangsaeng.assessments import service as assessments
from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sangsaeng.core.files import service as files
from sangsaeng.core.i18n import Msg
from sangsaeng.core.models import Organization, utcnow
from sangsaeng.core.money import split_by_shares
from sangsaeng.core.policy import SYSTEM_ACTOR, Actor, Role
from sangsaeng.ledger import reports as ledger_reports
from sangsaeng.ledger import service as ledger
from sangsaeng.programs import application_service as applications
from sangsaeng.programs import notices
from sangsaeng.programs import service as programs
from sangsaeng.programs.models import (
    A_SELECTED,
    CHANGE_APPROVED,
    CHANGE_REJECTED,
    CHANGE_REQUESTED,
    FOLLOW_UP_KINDS,
    INSPECTION_RESULTS,
    M_APPROVED,
    M_PLANNED,
    M_REJECTED,
    M_SUBMITTED,
    MILESTONE_KINDS,
    P_ACTIVE,
    P_CANCELLED,
    P_COMPLETED,
    P_SUSPENDED,
    Application,
    BudgetChange,
    FollowUp,
    Inspection,
    Milestone,
    Program,
    ProgramSource,
    Project,
)

# Share of the cash budget paid when each milestone is approved (착수금 30 %, 중도금 30 %, 잔금 40 %
# after the final inspection); the completion report itself pays nothing.
PAYMENT_SHARES = {
    "kickoff": Decimal("0.3"),
    "midterm": Decimal("0.3"),
    "completion": Decimal(0),
    "final": Decimal("0.4"),
}
NEEDS_REPORT = {"kickoff", "midterm", "completion"}  # the final inspection is the operator's
DEFAULT_COST_LINE = "사업비"

# --- ledger accounts ----------------------------------------------------------------------------


def fund_code(program_id: int, source_code: str) -> str:
    return f"program:{program_id}:fund:{source_code}"


def source_code_for(source_code: str, contributor_org_id: int | None) -> str:
    return f"source:org:{contributor_org_id}" if contributor_org_id else f"source:{source_code}"


def payee_code(org_id: int) -> str:
    return f"payee:org:{org_id}"


def _fund_account(session: Session, program: Program, source: ProgramSource) -> int:
    return ledger.ensure_account(
        session,
        SYSTEM_ACTOR,
        code=fund_code(program.id, source.code),
        kind="fund",
        name=f"{program.name_ko} — {source.name_ko}",
    ).id


def _source_account(
    session: Session, source_code: str, contributor: Organization | None, name: str
) -> int:
    return ledger.ensure_account(
        session,
        SYSTEM_ACTOR,
        code=source_code_for(source_code, contributor.id if contributor else None),
        kind="source",
        name=contributor.name_ko if contributor else name,
        organization_id=contributor.id if contributor else None,
    ).id


def _payee_account(session: Session, org: Organization) -> int:
    return ledger.ensure_account(
        session,
        SYSTEM_ACTOR,
        code=payee_code(org.id),
        kind="payee",
        name=org.name_ko,
        organization_id=org.id,
    ).id


def _manager(session: Session, actor: Actor, program_id: int) -> Program:
    program = programs.get_program(session, actor, program_id)
    if not programs.can_manage(session, actor, program):
        raise Forbidden()
    return program


def _source(session: Session, program: Program, code: str) -> ProgramSource:
    found = next((s for s in programs.sources(session, program) if s.code == code), None)
    if found is None:
        raise InvalidInput({"source": Msg("Choose one of the program's funding sources.")})
    return found


def contribute(
    session: Session,
    actor: Actor,
    program_id: int,
    *,
    source_code: str,
    amount: int,
    key: str,
    contributor_org_id: int | None = None,
    memo: str = "",
):
    """출연 or an allocation into the program's fund for one source; a contributing company
    must be one of the program's sponsors."""
    program = _manager(session, actor, program_id)
    source = _source(session, program, source_code)
    if source.code == applications.SME_SOURCE or source.in_kind:
        raise InvalidInput(
            {"source": Msg("The companies' own and in-kind shares are not contributed here.")}
        )
    contributor = None
    if contributor_org_id is not None:
        contributor = next(
            (s for s in programs.sponsors(session, program) if s.id == contributor_org_id), None
        )
        if contributor is None:
            raise InvalidInput({"contributor": Msg("Choose one of the program's sponsors.")})
    with session.begin_nested():
        entry = ledger.contribute(
            session,
            actor,
            fund_account_id=_fund_account(session, program, source),
            source_account_id=_source_account(session, source.code, contributor, source.name_ko),
            amount=amount,
            key=f"program:{program.id}:contribution:{key}",
            memo=memo,
            reference=f"program:{program.id}:contribution",
        )
    record(
        session,
        actor,
        "program.contribute",
        object_type="program",
        object_id=program.id,
        organization_id=program.operator_org_id,
        details={"source": source.code, "amount": amount, "entry": entry.id},
    )
    return entry


# --- agreements -----------------------------------------------------------------------------


def _cash_budget(session: Session, program: Program, budget: dict[str, int]) -> dict[str, int]:
    cash = {s.code for s in programs.sources(session, program) if not s.in_kind}
    return {code: amount for code, amount in budget.items() if code in cash and amount > 0}


def milestone_plan(cash_total: int, starts_on: date, ends_on: date) -> list[dict]:
    payments = split_by_shares(cash_total, PAYMENT_SHARES, remainder_to="final")
    midpoint = starts_on + (ends_on - starts_on) / 2
    due = {
        "kickoff": starts_on + timedelta(days=14),
        "midterm": midpoint,
        "completion": ends_on,
        "final": ends_on + timedelta(days=30),
    }
    return [
        {"kind": kind, "seq": seq, "due_on": due[kind], "payment_krw": payments[kind]}
        for seq, kind in enumerate(MILESTONE_KINDS, start=1)
    ]


def sign(
    session: Session,
    actor: Actor,
    application_id: int,
    *,
    starts_on: date,
    ends_on: date,
    cost_lines: dict[str, int] | None = None,
) -> Project:
    """협약 체결: the selected application becomes an agreement and a project; its cash budget
    is held per source (all or nothing: a fund short of money refuses the whole agreement)."""
    application = applications.get_application(session, actor, application_id)
    program = _manager(session, actor, application.program_id)
    if application.status != A_SELECTED:
        raise Conflict(Msg("Only a selected application can be signed."))
    if program.results_published_at is None:
        raise Conflict(Msg("Publish the results before signing agreements."))
    if session.scalar(select(Project.id).where(Project.application_id == application.id)):
        raise Conflict(Msg("This application already has an agreement."))
    errors: dict[str, Msg] = {}
    if not isinstance(starts_on, date) or not isinstance(ends_on, date):
        errors["starts_on"] = Msg("Enter a date.")
    elif ends_on <= starts_on:
        errors["ends_on"] = Msg("The end must come after the start.")
    total = application.total_krw
    lines = cost_lines or {DEFAULT_COST_LINE: total}
    if not _valid_lines(lines, total):
        errors["cost_lines"] = Msg(
            "The cost lines must add up to the total of {total:,} KRW.", total=total
        )
    if errors:
        raise InvalidInput(errors)
    provider_org = session.get(
        Organization, applications.provider_org_of(session, application.solution_id)
    )
    budget = dict(application.requested)
    cash = _cash_budget(session, program, budget)
    with session.begin_nested():
        project = Project(
            application_id=application.id,
            program_id=program.id,
            organization_id=application.organization_id,
            provider_org_id=provider_org.id,
            agreement_no=f"{program.year}-{program.id:04d}-{application.id:06d}",
            total_krw=total,
            budget=budget,
            cost_lines=lines,
            remainder_to=program.remainder_to,
            signed_by_id=actor.user_id or None,
            starts_on=starts_on,
            ends_on=ends_on,
        )
        session.add(project)
        session.flush()
        holds = {}
        sme = session.get(Organization, application.organization_id)
        for code, amount in sorted(cash.items()):
            source = _source(session, program, code)
            fund = _fund_account(session, program, source)
            if code == applications.SME_SOURCE:  # the company deposits its own cash share
                ledger.contribute(
                    session,
                    actor,
                    fund_account_id=fund,
                    source_account_id=_source_account(session, code, sme, source.name_ko),
                    amount=amount,
                    key=f"project:{project.id}:deposit",
                    memo=f"{project.agreement_no} 자부담 입금",
                    reference=f"program:{program.id}:project:{project.id}",
                )
            held = ledger.hold(
                session,
                actor,
                account_id=fund,
                amount=amount,
                key=f"project:{project.id}:hold:{code}",
                reference=f"program:{program.id}:project:{project.id}",
            )
            holds[code] = held.id
        project.holds = holds
        for row in milestone_plan(sum(cash.values()), starts_on, ends_on):
            session.add(Milestone(project_id=project.id, **row))
        session.flush()
    record(
        session,
        actor,
        "agreement.sign",
        object_type="project",
        object_id=project.id,
        organization_id=project.organization_id,
        details={"agreement": project.agreement_no, "budget": budget},
    )
    notices.tell_company(
        session,
        project.organization_id,
        title=Msg("Your agreement for {program} has been signed.", program=program.name_ko),
        body=Msg(
            "Agreement no. {number}; the project runs from {starts} to {ends}.",
            number=project.agreement_no,
            starts=starts_on.isoformat(),
            ends=ends_on.isoformat(),
        ),
        link=f"/projects/{project.id}",
    )
    return project


def _valid_lines(lines: dict, total: int) -> bool:
    return (
        bool(lines)
        and all(isinstance(k, str) and k.strip() for k in lines)
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in lines.values())
        and sum(lines.values()) == total
    )


# --- reading projects -------------------------------------------------------------------------


def get_project(session: Session, actor: Actor, project_id: int) -> Project:
    """The company's members and the program's operators read a project; nobody else learns
    that it exists."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound()
    program = session.get(Program, project.program_id)
    own = project.organization_id in actor.org_ids(Role.SME, Role.SPONSOR, Role.OPERATOR)
    if own or programs.can_manage(session, actor, program):
        return project
    raise NotFound()


def _managed_project(session: Session, actor: Actor, project_id: int) -> tuple[Project, Program]:
    project = get_project(session, actor, project_id)
    program = session.get(Program, project.program_id)
    if not programs.can_manage(session, actor, program):
        raise Forbidden()
    return project, program


def milestones(session: Session, project_id: int) -> list[Milestone]:
    return list(
        session.scalars(
            select(Milestone).where(Milestone.project_id == project_id).order_by(Milestone.seq)
        )
    )


def inspections(session: Session, project_id: int) -> list[Inspection]:
    return list(
        session.scalars(
            select(Inspection)
            .where(Inspection.project_id == project_id)
            .order_by(Inspection.inspected_on, Inspection.id)
        )
    )


def budget_changes(session: Session, project_id: int) -> list[BudgetChange]:
    return list(
        session.scalars(
            select(BudgetChange)
            .where(BudgetChange.project_id == project_id)
            .order_by(BudgetChange.requested_at)
        )
    )


def follow_ups(session: Session, project_id: int) -> list[FollowUp]:
    return list(
        session.scalars(
            select(FollowUp)
            .where(FollowUp.project_id == project_id)
            .order_by(FollowUp.year_no, FollowUp.kind)
        )
    )


@dataclass(frozen=True)
class Money:
    budget: int  # cash budget held at signing
    paid: int
    held: int  # still reserved for later milestones
    released: int
    recovered: int


def money_of(session: Session, project: Project) -> Money:
    found = ledger_reports.holds(session, SYSTEM_ACTOR, project.holds.values())
    budget = sum(h.amount for h in found.values())
    held = sum(h.remaining for h in found.values())
    released = sum(h.released for h in found.values())
    return Money(
        budget=budget,
        paid=budget - held - released,
        held=held,
        released=released,
        recovered=project.recovered_krw,
    )


def my_projects(session: Session, actor: Actor) -> list[tuple[Project, Program]]:
    own = actor.org_ids(Role.SME, Role.SPONSOR, Role.OPERATOR)
    return list(
        session.execute(
            select(Project, Program)
            .join(Program, Program.id == Project.program_id)
            .where(Project.organization_id.in_(own))
            .order_by(Project.signed_at.desc())
        ).all()
    )


def program_projects(
    session: Session, actor: Actor, program_id: int
) -> list[tuple[Project, Organization]]:
    program = _manager(session, actor, program_id)
    return list(
        session.execute(
            select(Project, Organization)
            .join(Organization, Organization.id == Project.organization_id)
            .where(Project.program_id == program.id)
            .order_by(Project.id)
        ).all()
    )


# --- milestones --------------------------------------------------------------------------------


def _milestone(session: Session, actor: Actor, milestone_id: int) -> tuple[Milestone, Project]:
    milestone = session.get(Milestone, milestone_id)
    if milestone is None:
        raise NotFound()
    return milestone, get_project(session, actor, milestone.project_id)


def _active(project: Project) -> None:
    if project.status != P_ACTIVE:
        raise Conflict(Msg("The project is not active."))


def submit_milestone(
    session: Session,
    actor: Actor,
    milestone_id: int,
    *,
    report: str,
    file_ids: list[str] | None = None,
) -> Milestone:
    """The company reports a milestone (착수계, 중간보고, 완료보고) with its deliverables."""
    milestone, project = _milestone(session, actor, milestone_id)
    if project.organization_id not in actor.org_ids(Role.SME, Role.SPONSOR, Role.OPERATOR):
        raise Forbidden()
    _active(project)
    if milestone.kind not in NEEDS_REPORT:
        raise Conflict(Msg("The final inspection is recorded by the operator."))
    if milestone.status not in (M_PLANNED, M_REJECTED):
        raise Conflict(Msg("This milestone has already been reported."))
    report = (report or "").strip()
    if len(report) < 10:
        raise InvalidInput(
            {"report": Msg("Describe the work done in at least {n} characters.", n=10)}
        )
    for file_id in file_ids or []:
        stored = files.get(session, actor, file_id)
        if stored.organization_id != project.organization_id:
            raise InvalidInput({"files": Msg("Upload the files for this organization first.")})
    milestone.report = report[:20000]
    milestone.deliverables = list(milestone.deliverables or []) + list(file_ids or [])
    milestone.status = M_SUBMITTED
    milestone.submitted_at = utcnow()
    session.flush()
    notices.tell_operators(
        session,
        session.get(Program, project.program_id),
        title=Msg(
            "{company} reported a milestone: {milestone}.",
            company=_company_name(session, project),
            milestone=notices.milestone_name(milestone.kind),
        ),
        body=Msg(
            "Agreement no. {number}. Approve it or send it back.", number=project.agreement_no
        ),
        link=f"/projects/{project.id}",
    )
    return milestone


def _company_name(session: Session, project: Project) -> str:
    return session.get(Organization, project.organization_id).name_ko


def _draws(session: Session, project: Project, milestone: Milestone) -> dict[int, int]:
    """Hold id → amount for this milestone's payment: split over the cash sources in the agreed
    shares (largest remainder; the remainder to the source the agreement names); the last paying
    milestone takes whatever each hold has left, so the holds end at exactly 0."""
    found = ledger_reports.holds(session, SYSTEM_ACTOR, project.holds.values())
    remaining = {code: found[hold].remaining for code, hold in project.holds.items()}
    later = session.scalar(
        select(Milestone.id).where(
            Milestone.project_id == project.id,
            Milestone.seq > milestone.seq,
            Milestone.payment_krw > 0,
        )
    )
    if later is None:
        parts = remaining
    else:
        cash = {code: project.budget[code] for code in project.holds}
        total = sum(cash.values())
        shares = {code: Decimal(amount) / Decimal(total) for code, amount in cash.items()}
        shares = _exact_shares(shares)
        owner = project.remainder_to if project.remainder_to in shares else None
        parts = split_by_shares(milestone.payment_krw, shares, owner)
        parts = {code: min(amount, remaining[code]) for code, amount in parts.items()}
    return {project.holds[code]: amount for code, amount in parts.items() if amount > 0}


def _exact_shares(shares: dict[str, Decimal]) -> dict[str, Decimal]:
    """Fractions that add up to exactly 1 (Decimal division may leave a last-digit residue)."""
    codes = sorted(shares)
    fixed = {code: shares[code] for code in codes[:-1]}
    fixed[codes[-1]] = Decimal(1) - sum(fixed.values(), Decimal(0))
    return fixed


def approve_milestone(
    session: Session, actor: Actor, milestone_id: int, *, note: str = ""
) -> Milestone:
    """Approve in order; the milestone's payment goes to the solution provider from the holds.
    Approving the final inspection completes the project and schedules its follow-up years."""
    milestone, project = _milestone(session, actor, milestone_id)
    project, program = _managed_project(session, actor, project.id)
    _active(project)
    if milestone.status == M_APPROVED:
        raise Conflict(Msg("This milestone has already been approved."))
    earlier = session.scalar(
        select(Milestone.id).where(
            Milestone.project_id == project.id,
            Milestone.seq < milestone.seq,
            Milestone.status != M_APPROVED,
        )
    )
    if earlier is not None:
        raise Conflict(Msg("Approve the earlier milestones first."))
    if milestone.kind in NEEDS_REPORT and milestone.status != M_SUBMITTED:
        raise Conflict(Msg("The company has not reported this milestone yet."))
    if milestone.kind == "final" and not any(
        i.result == "pass" for i in inspections(session, project.id)
    ):
        raise Conflict(Msg("Record a passed final inspection first."))
    draws = _draws(session, project, milestone)
    provider = session.get(Organization, project.provider_org_id)
    payee = _payee_account(session, provider) if draws else None
    with session.begin_nested():
        # Everything else is written first and the payment last: the payment's balance updates
        # lock the program's shared fund rows until commit, so that window stays short.
        milestone.status = M_APPROVED
        milestone.decided_at = utcnow()
        milestone.decided_by_id = actor.user_id or None
        milestone.decision_note = (note or "").strip()[:4000]
        if milestone.kind == "final":
            _complete(session, project, program)
        record(
            session,
            actor,
            "milestone.approve",
            object_type="project",
            object_id=project.id,
            organization_id=project.organization_id,
            details={"milestone": milestone.kind, "paid": sum(draws.values())},
        )
        _tell_approved(session, project, milestone, provider, sum(draws.values()))
        session.flush()
        if draws:
            entry = ledger.disburse(
                session,
                actor,
                draws=draws,
                payee_account_id=payee,
                key=f"milestone:{milestone.id}:payment",
                memo=f"{project.agreement_no} {milestone.kind}",
                reference=f"program:{program.id}:project:{project.id}",
            )
            milestone.ledger_entry_id = entry.id
    return milestone


def _tell_approved(
    session: Session, project: Project, milestone: Milestone, provider: Organization, paid: int
) -> None:
    body = (
        Msg("{amount:,} KRW is paid to {provider}.", amount=paid, provider=provider.name_ko)
        if paid
        else Msg("No payment is due at this milestone.")
    )
    notices.tell_company(
        session,
        project.organization_id,
        title=Msg(
            "Milestone approved: {milestone} ({number})",
            milestone=notices.milestone_name(milestone.kind),
            number=project.agreement_no,
        ),
        body=body,
        link=f"/projects/{project.id}",
    )


def reject_milestone(session: Session, actor: Actor, milestone_id: int, *, note: str) -> Milestone:
    milestone, project = _milestone(session, actor, milestone_id)
    _managed_project(session, actor, project.id)
    if milestone.status != M_SUBMITTED:
        raise Conflict(Msg("Only a reported milestone can be sent back."))
    note = (note or "").strip()
    if len(note) < 5:
        raise InvalidInput({"note": Msg("Say what must be fixed.")})
    milestone.status = M_REJECTED
    milestone.decision_note = note[:4000]
    milestone.decided_at = utcnow()
    milestone.decided_by_id = actor.user_id or None
    session.flush()
    notices.tell_company(
        session,
        project.organization_id,
        title=Msg(
            "Milestone sent back: {milestone} ({number})",
            milestone=notices.milestone_name(milestone.kind),
            number=project.agreement_no,
        ),
        body=Msg("What must be fixed: {note}", note=milestone.decision_note),
        link=f"/projects/{project.id}",
    )
    return milestone


def record_inspection(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    inspected_on: date,
    result: str,
    findings: str,
    milestone_id: int | None = None,
) -> Inspection:
    project, _program = _managed_project(session, actor, project_id)
    errors: dict[str, Msg] = {}
    if result not in INSPECTION_RESULTS:
        errors["result"] = Msg("Choose a listed value.")
    if not isinstance(inspected_on, date) or inspected_on > utcnow().date():
        errors["inspected_on"] = Msg("Enter a date that is not in the future.")
    findings = (findings or "").strip()
    if len(findings) < 5:
        errors["findings"] = Msg("Record the findings.")
    if milestone_id is not None and (
        (m := session.get(Milestone, milestone_id)) is None or m.project_id != project.id
    ):
        errors["milestone_id"] = Msg("Choose a listed value.")
    if errors:
        raise InvalidInput(errors)
    inspection = Inspection(
        project_id=project.id,
        milestone_id=milestone_id,
        inspected_on=inspected_on,
        inspector_id=actor.user_id or None,
        result=result,
        findings=findings[:20000],
    )
    session.add(inspection)
    session.flush()
    return inspection


# --- changes, suspension, cancellation, completion --------------------------------------------


def request_budget_change(
    session: Session, actor: Actor, project_id: int, *, lines: dict[str, int], reason: str
) -> BudgetChange:
    """The company asks to re-allocate its cost lines (the total stays as agreed)."""
    project = get_project(session, actor, project_id)
    if project.organization_id not in actor.org_ids(Role.SME, Role.SPONSOR, Role.OPERATOR):
        raise Forbidden()
    _active(project)
    errors: dict[str, Msg] = {}
    if not _valid_lines(lines, project.total_krw):
        errors["lines"] = Msg(
            "The cost lines must add up to the total of {total:,} KRW.", total=project.total_krw
        )
    if len((reason or "").strip()) < 10:
        errors["reason"] = Msg("State the reason in at least {n} characters.", n=10)
    if errors:
        raise InvalidInput(errors)
    if session.scalar(
        select(BudgetChange.id).where(
            BudgetChange.project_id == project.id, BudgetChange.status == CHANGE_REQUESTED
        )
    ):
        raise Conflict(Msg("A change is already waiting for approval."))
    change = BudgetChange(
        project_id=project.id,
        requested_by_id=actor.user_id or None,
        before=dict(project.cost_lines),
        after=dict(lines),
        reason=reason.strip()[:4000],
    )
    session.add(change)
    session.flush()
    notices.tell_operators(
        session,
        session.get(Program, project.program_id),
        title=Msg(
            "{company} asks to change its budget ({number}).",
            company=_company_name(session, project),
            number=project.agreement_no,
        ),
        body=Msg("Reason: {reason}", reason=change.reason),
        link=f"/projects/{project.id}",
    )
    return change


def decide_budget_change(
    session: Session, actor: Actor, change_id: int, *, approve: bool
) -> BudgetChange:
    change = session.get(BudgetChange, change_id)
    if change is None:
        raise NotFound()
    project, _program = _managed_project(session, actor, change.project_id)
    if change.status != CHANGE_REQUESTED:
        raise Conflict(Msg("This change has already been decided."))
    if approve and change.before != project.cost_lines:
        raise Conflict(Msg("The cost lines changed since this request; ask for a new one."))
    change.status = CHANGE_APPROVED if approve else CHANGE_REJECTED
    change.decided_by_id = actor.user_id or None
    change.decided_at = utcnow()
    if approve:
        project.cost_lines = dict(change.after)
    session.flush()
    record(
        session,
        actor,
        "project.budget_change",
        object_type="project",
        object_id=project.id,
        organization_id=project.organization_id,
        details={"approved": approve, "after": change.after},
    )
    notices.tell_company(
        session,
        project.organization_id,
        title=(
            Msg("Your budget change was approved ({number}).", number=project.agreement_no)
            if approve
            else Msg("Your budget change was not approved ({number}).", number=project.agreement_no)
        ),
        link=f"/projects/{project.id}",
    )
    return change


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise InvalidInput({"reason": Msg("State the reason in at least {n} characters.", n=5)})
    return reason[:4000]


def suspend(session: Session, actor: Actor, project_id: int, *, reason: str) -> Project:
    project, _program = _managed_project(session, actor, project_id)
    _active(project)
    reason = _reason(reason)  # checked first: a refused suspension leaves the project active
    project.status = P_SUSPENDED
    project.status_reason = reason
    session.flush()
    _audit_status(session, actor, project)
    _tell_status(
        session,
        project,
        Msg("Your project has been suspended ({number}).", number=project.agreement_no),
        Msg("Reason: {reason}", reason=project.status_reason),
    )
    return project


def resume(session: Session, actor: Actor, project_id: int) -> Project:
    project, _program = _managed_project(session, actor, project_id)
    if project.status != P_SUSPENDED:
        raise Conflict(Msg("Only a suspended project can be resumed."))
    project.status = P_ACTIVE
    session.flush()
    _audit_status(session, actor, project)
    _tell_status(
        session,
        project,
        Msg("Your project has been resumed ({number}).", number=project.agreement_no),
    )
    return project


def cancel(
    session: Session, actor: Actor, project_id: int, *, reason: str, recover_krw: int = 0
) -> Project:
    """협약 해지: every hold is released; ``recover_krw`` of what was paid comes back from the
    provider to the funds (환수), split over the sources in proportion to what each paid."""
    project, program = _managed_project(session, actor, project_id)
    if project.status not in (P_ACTIVE, P_SUSPENDED):
        raise Conflict(Msg("Only an active or suspended project can be cancelled."))
    reason = _reason(reason)
    money = money_of(session, project)
    if (
        not isinstance(recover_krw, int)
        or isinstance(recover_krw, bool)
        or not 0 <= recover_krw <= money.paid
    ):
        raise InvalidInput(
            {"recover_krw": Msg("Recover between 0 and the {paid:,} KRW paid.", paid=money.paid)}
        )
    found = ledger_reports.holds(session, SYSTEM_ACTOR, project.holds.values())
    with session.begin_nested():
        for code, hold_id in sorted(project.holds.items()):
            if found[hold_id].status == "active":
                ledger.release(
                    session, actor, hold_id=hold_id, key=f"project:{project.id}:release:{code}"
                )
        if recover_krw:
            paid = {
                code: found[h].amount - found[h].remaining - found[h].released
                for code, h in project.holds.items()
            }
            paid_total = sum(paid.values())
            shares = _exact_shares({c: Decimal(v) / Decimal(paid_total) for c, v in paid.items()})
            provider = session.get(Organization, project.provider_org_id)
            payee = _payee_account(session, provider)
            for code, amount in split_by_shares(recover_krw, shares).items():
                if amount:
                    ledger.recover(
                        session,
                        actor,
                        payee_account_id=payee,
                        fund_account_id=_fund_account(
                            session, program, _source(session, program, code)
                        ),
                        amount=amount,
                        key=f"project:{project.id}:recover:{code}",
                        memo=f"{project.agreement_no} 환수",
                        reference=f"program:{program.id}:project:{project.id}",
                    )
        project.status = P_CANCELLED
        project.status_reason = reason
        project.recovered_krw = recover_krw
        session.flush()
    _audit_status(session, actor, project, recovered=recover_krw)
    _tell_status(
        session,
        project,
        Msg("Your agreement has been cancelled ({number}).", number=project.agreement_no),
        (
            Msg(
                "Reason: {reason} {amount:,} KRW of the payments is recovered.",
                reason=reason,
                amount=recover_krw,
            )
            if recover_krw
            else Msg("Reason: {reason}", reason=reason)
        ),
    )
    return project


def _tell_status(session: Session, project: Project, title: Msg, body: Msg | str = "") -> None:
    notices.tell_company(
        session, project.organization_id, title=title, body=body, link=f"/projects/{project.id}"
    )


def _complete(session: Session, project: Project, program: Program) -> None:
    today = utcnow().date()
    project.status = P_COMPLETED
    project.completed_on = today
    found = assessments.level_at(
        session, SYSTEM_ACTOR, project.organization_id, programs.LEVEL_INSTRUMENT, today
    )
    if found is not None and found.assessed_on >= project.starts_on:
        project.completion_assessment_id = found.assessment_id
    schedule_follow_ups(session, project, program.follow_up_years, today)


def schedule_follow_ups(session: Session, project: Project, years: int, completed_on: date) -> None:
    for year_no in range(1, years + 1):
        due = programs.add_years(completed_on, year_no)
        for kind in FOLLOW_UP_KINDS:
            session.add(FollowUp(project_id=project.id, year_no=year_no, kind=kind, due_on=due))
    session.flush()


def complete_follow_up(
    session: Session, actor: Actor, follow_up_id: int, *, note: str = ""
) -> FollowUp:
    """The company files its yearly KPI report; the operator records the site visit."""
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None:
        raise NotFound()
    project = get_project(session, actor, follow_up.project_id)
    program = session.get(Program, project.program_id)
    manager = programs.can_manage(session, actor, program)
    if follow_up.kind == "site_visit" and not manager:
        raise Forbidden()
    if follow_up.done_at is not None:
        raise Conflict(Msg("This follow-up is already done."))
    follow_up.done_at = utcnow()
    follow_up.done_by_id = actor.user_id or None
    follow_up.note = (note or "").strip()[:4000]
    session.flush()
    return follow_up


def remind_follow_ups(session: Session, *, today: date, days_ahead: int = 30) -> int:
    """Remind of every open follow-up due within ``days_ahead`` days, and again once it is
    overdue: at most once per stage, remembered on the follow-up. The company is told of its KPI
    report; the program's operators of their site visit. Returns the follow-ups reminded."""
    rows = session.execute(
        select(FollowUp, Project)
        .join(Project, Project.id == FollowUp.project_id)
        .where(
            FollowUp.done_at.is_(None),
            FollowUp.due_on <= today + timedelta(days=days_ahead),
            Project.status == P_COMPLETED,
            or_(
                (FollowUp.due_on >= today) & FollowUp.reminded_at.is_(None),
                (FollowUp.due_on < today) & FollowUp.overdue_reminded_at.is_(None),
            ),
        )
        .order_by(FollowUp.due_on, FollowUp.id)
        # Two runs at once (the worker and the CLI) never remind of the same follow-up twice.
        .with_for_update(of=FollowUp, skip_locked=True)
    ).all()
    now = utcnow()
    for follow_up, project in rows:
        overdue = follow_up.due_on < today
        if overdue:
            follow_up.overdue_reminded_at = now
        else:
            follow_up.reminded_at = now
        _tell_follow_up(session, follow_up, project, overdue=overdue)
    session.flush()
    return len(rows)


_FOLLOW_UP_TASKS = {"kpi_report": Msg("KPI report"), "site_visit": Msg("Site visit")}


def _tell_follow_up(
    session: Session, follow_up: FollowUp, project: Project, *, overdue: bool
) -> None:
    values = {
        "task": _FOLLOW_UP_TASKS.get(follow_up.kind, follow_up.kind),
        "year": follow_up.year_no,
        "number": project.agreement_no,
        "company": _company_name(session, project),
    }
    title = (
        Msg("Overdue: {task}, year {year} ({number})", **values)
        if overdue
        else Msg("Due soon: {task}, year {year} ({number})", **values)
    )
    body = Msg("{company}: due on {due}.", due=follow_up.due_on.isoformat(), **values)
    if follow_up.kind == "site_visit":  # the operator's task (the company cannot record it)
        notices.tell_operators(
            session,
            session.get(Program, project.program_id),
            title=title,
            body=body,
            link=f"/projects/{project.id}",
        )
    else:
        notices.tell_company(
            session, project.organization_id, title=title, body=body, link=f"/projects/{project.id}"
        )


def _audit_status(session: Session, actor: Actor, project: Project, **details) -> None:
    record(
        session,
        actor,
        "project.status",
        object_type="project",
        object_id=project.id,
        organization_id=project.organization_id,
        details={"status": project.status, **details},
    )


def selected_without_agreement(session: Session, program_id: int) -> list[Application]:
    return list(
        session.scalars(
            select(Application)
            .outerjoin(Project, Project.application_id == Application.id)
            .where(
                Application.program_id == program_id,
                Application.status == A_SELECTED,
                Project.id.is_(None),
            )
        )
    )
