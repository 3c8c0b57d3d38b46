"""What a program's operators, its sponsors and its companies see at a glance.

Every figure carries its n; the level change of completed projects states its interval and how
it was computed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sangsaeng.assessments import service as assessments
from sangsaeng.core.errors import Forbidden, NotFound
from sangsaeng.core.models import Organization, utcnow
from sangsaeng.core.orgs import graph
from sangsaeng.core.policy import SYSTEM_ACTOR, Actor, Role
from sangsaeng.ledger import reports as ledger_reports
from sangsaeng.programs import project_service as projects
from sangsaeng.programs import service as programs
from sangsaeng.programs.engine.stats import MeanInterval, mean_interval
from sangsaeng.programs.models import (
    A_DRAFT,
    A_REJECTED,
    A_RESERVE,
    A_SELECTED,
    M_APPROVED,
    OBJECTION_OPEN,
    P_ACTIVE,
    P_COMPLETED,
    Application,
    FollowUp,
    Milestone,
    Objection,
    Program,
    ProgramSponsor,
    Project,
)


@dataclass(frozen=True)
class SourceFunds:
    code: str
    name: str
    in_kind: bool
    contributed: int
    held: int
    disbursed: int
    recovered: int
    reversed: int  # the signed sum of reversing entries on the account
    balance: int
    free: int


@dataclass(frozen=True)
class Overdue:
    kind: str  # milestone, follow_up, objection
    project_id: int | None
    application_id: int | None
    reference: str  # the agreement number, or the application number of an objection
    what: str | None  # the milestone or follow-up kind (a code the pages put in words)
    year_no: int | None  # the follow-up year
    due_on: date
    days_late: int


@dataclass
class Overview:
    program: Program
    applications_by_status: dict[str, int]
    n_applications: int  # every application but drafts
    n_drafts: int
    eligibility_failures: dict[str, int]  # rule kind → applications failing it
    n_checked: int  # applications whose eligibility was checked
    n_ranked: int
    n_selected: int
    funds: list[SourceFunds]
    contributions_by_sponsor: list[tuple[Organization, int]]
    projects_by_status: dict[str, int]
    active_by_stage: dict[str, int]  # the next milestone to approve → active projects
    overdue: list[Overdue]
    level_distribution: assessments.Distribution | None
    level_change: MeanInterval | None
    level_ups: int
    n_level_pairs: int
    as_of: object = field(default_factory=utcnow)

    @property
    def selection_rate(self) -> float | None:
        return self.n_selected / self.n_ranked if self.n_ranked else None


def _managed(session: Session, actor: Actor, program_id: int) -> Program:
    program = programs.get_program(session, actor, program_id)
    if not programs.can_manage(session, actor, program):
        raise Forbidden()
    return program


def fund_figures(session: Session, program: Program) -> list[SourceFunds]:
    """Per funding source, from the ledger: contributed (including the companies' deposits of
    their own share), held for signed agreements, disbursed, recovered, and free to commit."""
    sources = programs.sources(session, program)
    codes = {s.code: projects.fund_code(program.id, s.code) for s in sources}
    found = ledger_reports.figures(session, SYSTEM_ACTOR, codes.values())
    out = []
    for source in sources:
        f = found.get(codes[source.code])
        kinds = f.by_kind if f else {}
        out.append(
            SourceFunds(
                code=source.code,
                name=source.name_ko,
                in_kind=source.in_kind,
                contributed=kinds.get("contribution", 0),
                held=f.held if f else 0,
                disbursed=-kinds.get("disbursement", 0),
                recovered=kinds.get("recovery", 0),
                reversed=kinds.get("reversal", 0),
                balance=f.balance if f else 0,
                free=f.free if f else 0,
            )
        )
    return out


def contributions_by_sponsor(session: Session, program: Program) -> list[tuple[Organization, int]]:
    """What each of the program's sponsors put into its funds (net of reversals)."""
    sponsors = programs.sponsors(session, program)
    accounts = ledger_reports.figures(
        session, SYSTEM_ACTOR, [f"source:org:{s.id}" for s in sponsors]
    )
    funds = ledger_reports.figures(
        session,
        SYSTEM_ACTOR,
        [projects.fund_code(program.id, s.code) for s in programs.sources(session, program)],
    )
    totals = ledger_reports.flows_between(
        session,
        SYSTEM_ACTOR,
        [a.account_id for a in accounts.values()],
        [f.account_id for f in funds.values()],
    )
    out = []
    for sponsor in sponsors:
        account = accounts.get(f"source:org:{sponsor.id}")
        out.append((sponsor, totals.get(account.account_id, 0) if account else 0))
    return out


def overview(session: Session, actor: Actor, program_id: int) -> Overview:
    program = _managed(session, actor, program_id)
    today = utcnow().date()
    by_status = dict(
        session.execute(
            select(Application.status, func.count())
            .where(Application.program_id == program.id)
            .group_by(Application.status)
        ).all()
    )
    failures: Counter[str] = Counter()
    checked = 0
    for (verdicts,) in session.execute(
        select(Application.eligibility).where(
            Application.program_id == program.id, Application.eligible.is_not(None)
        )
    ):
        checked += 1
        for verdict in verdicts or []:
            if not verdict.get("passed"):
                failures[verdict.get("rule", "?")] += 1
    ranked = sum(by_status.get(s, 0) for s in (A_SELECTED, A_RESERVE, A_REJECTED))
    project_rows = list(session.scalars(select(Project).where(Project.program_id == program.id)))
    stages = _next_stages(session, [p.id for p in project_rows if p.status == P_ACTIVE])
    applicant_ids = list(
        session.scalars(
            select(Application.organization_id).where(
                Application.program_id == program.id, Application.status != A_DRAFT
            )
        )
    )
    distribution = (
        assessments.level_distribution(
            session, SYSTEM_ACTOR, applicant_ids, programs.LEVEL_INSTRUMENT, today
        )
        if applicant_ids
        else None
    )
    change, ups, pairs = level_change_of(
        session, program.id, [p.id for p in project_rows if p.status == P_COMPLETED]
    )
    return Overview(
        program=program,
        applications_by_status=by_status,
        n_applications=sum(v for k, v in by_status.items() if k != A_DRAFT),
        n_drafts=by_status.get(A_DRAFT, 0),
        eligibility_failures=dict(failures.most_common()),
        n_checked=checked,
        n_ranked=ranked,
        n_selected=by_status.get(A_SELECTED, 0),
        funds=fund_figures(session, program),
        contributions_by_sponsor=contributions_by_sponsor(session, program),
        projects_by_status=dict(Counter(p.status for p in project_rows)),
        active_by_stage=dict(Counter(stages.values())),
        overdue=_overdue(session, program, today),
        level_distribution=distribution,
        level_change=change,
        level_ups=ups,
        n_level_pairs=pairs,
    )


def _next_stages(session: Session, project_ids: list[int]) -> dict[int, str]:
    """Active project → the first milestone not yet approved."""
    stages: dict[int, str] = {}
    if not project_ids:
        return stages
    for project_id, kind in session.execute(
        select(Milestone.project_id, Milestone.kind)
        .where(Milestone.project_id.in_(project_ids), Milestone.status != M_APPROVED)
        .order_by(Milestone.project_id, Milestone.seq)
    ):
        stages.setdefault(project_id, kind)
    return stages


OBJECTION_ANSWER_DAYS = 14  # an objection waiting longer than this counts as overdue


def _overdue(session: Session, program: Program, today: date) -> list[Overdue]:
    items: list[Overdue] = []
    for milestone, project in session.execute(
        select(Milestone, Project)
        .join(Project, Project.id == Milestone.project_id)
        .where(
            Project.program_id == program.id,
            Project.status == P_ACTIVE,
            Milestone.status != M_APPROVED,
            Milestone.due_on < today,
        )
        .order_by(Milestone.due_on)
    ):
        items.append(
            Overdue(
                "milestone",
                project.id,
                project.application_id,
                project.agreement_no,
                milestone.kind,
                None,
                milestone.due_on,
                (today - milestone.due_on).days,
            )
        )
    for follow_up, project in session.execute(
        select(FollowUp, Project)
        .join(Project, Project.id == FollowUp.project_id)
        .where(
            Project.program_id == program.id,
            FollowUp.done_at.is_(None),
            FollowUp.due_on < today,
        )
        .order_by(FollowUp.due_on)
    ):
        items.append(
            Overdue(
                "follow_up",
                project.id,
                project.application_id,
                project.agreement_no,
                follow_up.kind,
                follow_up.year_no,
                follow_up.due_on,
                (today - follow_up.due_on).days,
            )
        )
    limit = today - timedelta(days=OBJECTION_ANSWER_DAYS)
    for objection in session.scalars(
        select(Objection)
        .join(Application, Application.id == Objection.application_id)
        .where(Application.program_id == program.id, Objection.status == OBJECTION_OPEN)
    ):
        lodged = objection.lodged_at.date()
        if lodged < limit:
            due = lodged + timedelta(days=OBJECTION_ANSWER_DAYS)
            items.append(
                Overdue(
                    "objection",
                    None,
                    objection.application_id,
                    f"#{objection.application_id}",
                    None,
                    None,
                    due,
                    (today - due).days,
                )
            )
    return items


def level_change_of(
    session: Session, program_id: int, project_ids: list[int]
) -> tuple[MeanInterval | None, int, int]:
    """Score change between the diagnosis attached at application and the one after completion,
    over the given projects of a program having both (same instrument): (mean interval,
    level-ups, n)."""
    pairs = []
    wanted = set(project_ids)
    for project_id, first, second in session.execute(
        select(Project.id, Application.diagnosis_assessment_id, Project.completion_assessment_id)
        .join(Application, Application.id == Project.application_id)
        .where(
            Project.program_id == program_id,
            Project.completion_assessment_id.is_not(None),
            Application.diagnosis_assessment_id.is_not(None),
        )
    ):
        if project_id in wanted:
            pairs.append((first, second))
    changes: list[float] = []
    ups = 0
    for first, second in pairs:
        change = assessments.change_between(session, SYSTEM_ACTOR, first, second)
        changes.append(change.overall_change)
        ups += 1 if (change.level_change or 0) > 0 else 0
    return (mean_interval(changes) if changes else None), ups, len(changes)


# --- sponsors -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SponsorProgram:
    program: Program
    contributed: int
    smes_reached: int
    by_tier: dict[str, int]  # "1", "2", "3+", "outside the chain" → companies with a project


def sponsor_overview(
    session: Session, actor: Actor, sponsor_id: int
) -> tuple[Organization, list[SponsorProgram]]:
    """A sponsor's programs: what it contributed, and the companies the projects reached by
    their tier in its supply chain."""
    sponsor = session.get(Organization, sponsor_id)
    if sponsor is None:
        raise NotFound()
    if not (actor.is_admin or sponsor.id in actor.org_ids(Role.SPONSOR)):
        raise NotFound()
    tiers = graph.supplier_tiers(session, sponsor.id)
    out = []
    for program in session.scalars(
        select(Program)
        .join(ProgramSponsor, ProgramSponsor.program_id == Program.id)
        .where(ProgramSponsor.organization_id == sponsor.id)
        .order_by(Program.year.desc(), Program.id.desc())
    ):
        reached = set(
            session.scalars(select(Project.organization_id).where(Project.program_id == program.id))
        )
        by_tier: Counter[str] = Counter()
        for org_id in reached:
            tier = tiers.get(org_id)
            by_tier["-" if tier is None else (str(tier) if tier < 3 else "3+")] += 1
        contributed = next(
            (
                amount
                for org, amount in contributions_by_sponsor(session, program)
                if org.id == sponsor.id
            ),
            0,
        )
        out.append(SponsorProgram(program, contributed, len(reached), dict(by_tier)))
    return sponsor, out
