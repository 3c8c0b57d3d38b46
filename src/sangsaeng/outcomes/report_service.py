"""The program performance report (성과보고서) from the database: which projects count, which
values pair up, the targets, the company inputs and the groups — then the pure engine.

Only verified values count. "Before" is a KPI's verified baseline; "after" is its latest
verified value after the baseline (``after="latest"``: completion or a follow-up year) or the
value at completion (``after="completion"``). Operators see their whole program; a sponsor sees
the same report over the companies whose agreed budget it funds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import String, case, cast, func, select
from sqlalchemy.orm import Session

from sangsaeng.core.errors import InvalidInput, NotFound
from sangsaeng.core.i18n import Msg
from sangsaeng.core.models import Organization
from sangsaeng.core.orgs import graph
from sangsaeng.core.policy import Actor, Role
from sangsaeng.core.reference import Kpi, ksic_division_of
from sangsaeng.core.reference.catalogue import kpi_catalogue
from sangsaeng.outcomes.engine.improvement import CompanyInputs
from sangsaeng.outcomes.engine.report import CompanyOutcome, KpiRule, Pair, Report, build_report
from sangsaeng.outcomes.engine.summary import BOOTSTRAP_RESAMPLES
from sangsaeng.outcomes.models import REJECTED, REPORTED, VERIFIED, KpiMeasurement
from sangsaeng.programs import dashboard_service
from sangsaeng.programs import service as programs
from sangsaeng.programs.engine.stats import MeanInterval
from sangsaeng.programs.models import (
    P_CANCELLED,
    Application,
    Program,
    ProgramSponsor,
    Project,
)

AFTER_CHOICES = ("latest", "completion")
BREAKDOWNS = ("sponsor", "tier", "industry", "region", "size", "support_type", "year")
OUTSIDE_CHAIN = "-"
POOLED = "*"  # funded from the program's pooled sponsor source by several sponsors
# Company inputs the financial effect is valued with, from their verified baseline values.
INPUT_CODES = {
    "annual_output": "annual_output",
    "unit_cost": "unit_cost",
    "annual_labour_hours": "annual_hours",
    "value_added_per_hour": "value_added_per_hour",
}


@dataclass(frozen=True)
class CompanyLine:
    organization_id: int
    name: str
    project_id: int
    agreement_no: str
    groups: dict[str, str]
    n_pairs: int
    average: float | None
    effect_krw: float | None
    inputs: CompanyInputs


@dataclass(frozen=True)
class ProgramReport:
    program: Program
    sponsor: Organization | None
    after: str
    report: Report
    level_change: MeanInterval | None
    level_ups: int
    n_level_pairs: int
    values: dict[str, int]  # status → values of the scope's projects (reported, verified…)
    flagged: int  # values awaiting verification that carry a flag
    companies: list[CompanyLine] = field(default_factory=list)
    catalogue: dict[str, Kpi] = field(default_factory=dict)

    def as_dict(self) -> dict:
        level = self.level_change
        return {
            "program": {
                "id": self.program.id,
                "name": self.program.name_ko,
                "year": self.program.year,
            },
            "scope": {"sponsor": self.sponsor.name_ko if self.sponsor else None},
            "after": self.after,
            **self.report.as_dict(),
            "level_change": {
                "n": self.n_level_pairs,
                "level_ups": self.level_ups,
                "mean": level.mean if level else None,
                "ci": [level.low, level.high] if level and level.low is not None else None,
            },
            "values": self.values | {"flagged": self.flagged},
        }


def _scope(
    session: Session, actor: Actor, program_id: int, sponsor_id: int | None
) -> tuple[Program, Organization | None]:
    """The program and the sponsor whose companies the report covers (None: all of them)."""
    program = programs.get_program(session, actor, program_id)
    sponsor_ids = set(
        session.scalars(
            select(ProgramSponsor.organization_id).where(ProgramSponsor.program_id == program.id)
        )
    )
    if programs.can_manage(session, actor, program):
        if sponsor_id is None:
            return program, None
        if sponsor_id not in sponsor_ids:
            raise InvalidInput({"sponsor": Msg("Choose a listed value.")})
        return program, session.get(Organization, sponsor_id)
    mine = sponsor_ids & actor.org_ids(Role.SPONSOR)
    if not mine or (sponsor_id is not None and sponsor_id not in mine):
        raise NotFound()
    return program, session.get(Organization, sponsor_id or min(mine))


def _funders(budget: dict, sponsor_ids: set[int]) -> list[int]:
    """The sponsors funding a project's agreed budget, largest share first: a source named for
    one sponsor ("sponsor:12") counts for it; the pooled sponsor source ("sponsor") for every
    sponsor of the program."""
    named: dict[int, int] = {}
    pooled = False
    for code, amount in (budget or {}).items():
        if not amount:
            continue
        if code == "sponsor":
            pooled = True
        elif code.startswith("sponsor:") and code[8:].isdigit() and int(code[8:]) in sponsor_ids:
            named[int(code[8:])] = amount
    order = sorted(named, key=lambda i: (-named[i], i))
    if pooled:
        order += sorted(sponsor_ids - set(named))
    return order


def _tier_label(tier: int | None) -> str:
    if tier is None:
        return OUTSIDE_CHAIN
    return str(tier) if tier < 3 else "3+"


def _pairs_query(program_id: int, after: str):
    """Per project and KPI, the latest verified baseline and the latest verified value after
    it (one row each), so that only the rows the report uses leave the database."""
    is_baseline = KpiMeasurement.stage == "baseline"
    ranked = (
        select(
            KpiMeasurement.project_id,
            KpiMeasurement.kpi_code,
            is_baseline.label("is_baseline"),
            KpiMeasurement.value,
            func.row_number()
            .over(
                partition_by=(KpiMeasurement.project_id, KpiMeasurement.kpi_code, is_baseline),
                order_by=(KpiMeasurement.period_end.desc(), KpiMeasurement.id.desc()),
            )
            .label("rank"),
        )
        .join(Project, Project.id == KpiMeasurement.project_id)
        .where(Project.program_id == program_id, KpiMeasurement.status == VERIFIED)
    )
    if after == "completion":
        ranked = ranked.where(KpiMeasurement.stage.in_(("baseline", "completion")))
    ranked = ranked.subquery()
    return select(
        ranked.c.project_id, ranked.c.kpi_code, ranked.c.is_baseline, ranked.c.value
    ).where(ranked.c.rank == 1)


def program_report(
    session: Session,
    actor: Actor,
    program_id: int,
    *,
    sponsor_id: int | None = None,
    after: str = "latest",
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> ProgramReport:
    """The performance report of a program (or of one sponsor's companies in it)."""
    if after not in AFTER_CHOICES:
        raise InvalidInput({"after": Msg("Choose a listed value.")})
    program, sponsor = _scope(session, actor, program_id, sponsor_id)
    catalogue = kpi_catalogue(session)
    sponsor_names = dict(
        session.execute(
            select(Organization.id, Organization.name_ko)
            .join(ProgramSponsor, ProgramSponsor.organization_id == Organization.id)
            .where(ProgramSponsor.program_id == program.id)
        ).all()
    )
    # Plain column rows: executed on the session's connection (Core), which skips the ORM's
    # per-row loading; the pairs are read row by row rather than held as one list of rows.
    connection = session.connection()
    rows = connection.execute(
        select(
            Project.id,
            Project.agreement_no,
            Project.budget,
            Project.starts_on,
            Organization.id,
            Organization.name_ko,
            Organization.ksic_code,
            Organization.region_code,
            Organization.size_class,
            Application.support_type,
            Application.target_kpis,
        )
        .join(Organization, Organization.id == Project.organization_id)
        .join(Application, Application.id == Project.application_id)
        .where(Project.program_id == program.id, Project.status != P_CANCELLED)
        .order_by(Project.id)
    ).all()
    program_sponsors = set(sponsor_names)
    if sponsor is not None:
        rows = [r for r in rows if sponsor.id in _funders(r.budget, program_sponsors)]
    tiers = {sid: graph.supplier_tiers(session, sid) for sid in sponsor_names}

    before: dict[int, dict[str, float]] = defaultdict(dict)
    later: dict[int, dict[str, float]] = defaultdict(dict)
    pair_rows = connection.execute(_pairs_query(program.id, after))
    for project_id, code, is_baseline, value in pair_rows:
        (before if is_baseline else later)[project_id][code] = value

    reportable = {code for code, kpi in catalogue.items() if kpi.category != "input"}
    companies: list[CompanyOutcome] = []
    for row in rows:
        project_id, org_id = row[0], row[4]
        funders = _funders(row.budget, program_sponsors)
        # A project funded from a pool of several sponsors is grouped as pooled.
        funder = (
            funders[0]
            if len(funders) == 1 or (funders and row.budget.get("sponsor") is None)
            else None
        )
        division = ksic_division_of(row.ksic_code or "")
        groups = {
            "sponsor": sponsor_names[funder] if funder else (POOLED if funders else OUTSIDE_CHAIN),
            # The closest tier to any sponsor funding it.
            "tier": _tier_label(
                min((t for f in funders if (t := tiers[f].get(org_id)) is not None), default=None)
            ),
            "industry": division.code if division else OUTSIDE_CHAIN,
            "region": row.region_code or OUTSIDE_CHAIN,
            "size": row.size_class or OUTSIDE_CHAIN,
            "support_type": row.support_type or OUTSIDE_CHAIN,
            "year": str(row.starts_on.year),
        }
        targets = {t.get("code"): t.get("target") for t in row.target_kpis or []}
        base, last = before.get(project_id, {}), later.get(project_id, {})
        pairs = {
            code: Pair(base[code], last[code], targets.get(code))
            for code in sorted(base.keys() & last.keys() & reportable)  # a fixed order
        }
        inputs = CompanyInputs(**{name: base.get(code) for code, name in INPUT_CODES.items()})
        companies.append(CompanyOutcome(org_id, groups, pairs, inputs))

    rules = {
        code: KpiRule(kpi.improvement, kpi.direction)
        for code, kpi in catalogue.items()
        if kpi.category != "input"
    }
    report = build_report(len(rows), companies, rules, resamples=resamples, seed=seed)
    project_ids = [r[0] for r in rows]
    values, flagged = _value_counts(session, program.id, project_ids, sponsor is not None)
    change, ups, n_pairs = dashboard_service.level_change_of(session, project_ids)
    lines = [
        CompanyLine(
            organization_id=row[4],
            name=row.name_ko,
            project_id=row[0],
            agreement_no=row.agreement_no,
            groups=dict(company.groups),
            n_pairs=len(company.pairs),
            average=report.company_averages[i],
            effect_krw=report.company_effects[i],
            inputs=company.inputs,
        )
        for i, (row, company) in enumerate(zip(rows, companies, strict=True))
    ]
    return ProgramReport(
        program=program,
        sponsor=sponsor,
        after=after,
        report=report,
        level_change=change,
        level_ups=ups,
        n_level_pairs=n_pairs,
        values=values,
        flagged=flagged,
        companies=lines,
        catalogue=catalogue,
    )


def _value_counts(
    session: Session, program_id: int, project_ids: list[int], filtered: bool
) -> tuple[dict[str, int], int]:
    """How many values of the scope's projects are verified, awaiting verification or
    rejected, and how many of those awaiting carry a flag."""
    scope = [Project.program_id == program_id]
    if filtered:
        scope.append(Project.id.in_(project_ids))
    counts = {REPORTED: 0, VERIFIED: 0, REJECTED: 0}
    is_flagged = (KpiMeasurement.status == REPORTED) & (cast(KpiMeasurement.flags, String) != "[]")
    flagged = 0
    # One pass over the values: the count per status and, of those awaiting, the flagged ones.
    for status, count, with_flags in session.execute(
        select(KpiMeasurement.status, func.count(), func.sum(case((is_flagged, 1), else_=0)))
        .join(Project, Project.id == KpiMeasurement.project_id)
        .where(*scope)
        .group_by(KpiMeasurement.status)
    ):
        counts[status] = count
        flagged += with_flags or 0
    return counts, flagged
