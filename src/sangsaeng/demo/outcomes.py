"""Demo KPI values of the demo programs' projects, with PLANTED ground truth and planted bad data.

Every signed project reports a baseline (the 12 months before it starts) of 4–6 KPIs: its
application's target KPIs, filled up from defect rate, productivity, on-time delivery and unit
cost, and business figures (revenue, new hires, investment; some imported by the program office
from administrative data). Most companies also report their inputs (annual output, labour
hours, value added per hour) — not all, so the report counts some companies as missing inputs.
A project whose build is finished (its completion report approved or awaiting approval) reports
the same KPIs for the quarter before its completion report (business figures for the 12 months
before it). Follow-up years: last year's projects were completed a few months before the demo's
day, so none of their follow-up years has fallen due and none has values.

PLANTED: a company's true improvement of a KPI (signed so that better is positive: relative to
the baseline, or the change itself for counts) is drawn around
``planted_improvement(code, support type, size)`` — larger for an advanced (고도화) build than a
basic (기초) one, and ``PLANTED_SIZE_FACTOR`` of it for a micro firm — with a company-level spread
(``KpiEffect.spread``); every reported value then carries measurement noise
(``MEASUREMENT_NOISE``). Tests recover the planted means within the report's intervals.

Statuses: the program's operator verifies most values; some wait (the operator's backlog and the
completion reports not yet approved); a few are rejected with a reason and reported again
correctly; a few completion values were reported in the wrong unit (unit cost in thousands of
KRW, revenue in millions) — possible, so stored, but flagged as a 1000× jump and left for the
verifier. Values the product refuses (a defect rate of 35,000 %, above 100 %, negative hours, a
wrong unit, a period before the baseline) cannot be stored: they are planted among good rows in
the demo KPI sheet (``kpi_sheet``; ``sangsaeng demo kpi-sheet`` writes it) that the import demo
reads. The sheet is written from the seeded database rather than shipped as a file, because the
demo's programs, agreement numbers and dates follow the day the demo is seeded.

Every value is checked by ``outcomes.prepare`` (the rules of the form, the API and the import: a
value it refuses fails the seeding) and decided with the fields and audit events of
``outcomes.verify`` and ``outcomes.reject``, one flush per project and dated as the story has
them (through the service one value at a time, the seeding took half a minute more).
"""

from __future__ import annotations

import csv
import io
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sangsaeng.core.accounts import service as accounts
from sangsaeng.core.audit.service import record as audit
from sangsaeng.core.models import Membership, Organization, User, utcnow
from sangsaeng.core.policy import Actor, Role
from sangsaeng.core.reference import Kpi
from sangsaeng.core.reference.catalogue import kpi_catalogue
from sangsaeng.outcomes import service as outcomes
from sangsaeng.outcomes.models import REJECTED, REPORTED, VERIFIED, KpiMeasurement
from sangsaeng.programs.models import (
    M_APPROVED,
    M_SUBMITTED,
    P_COMPLETED,
    Application,
    Milestone,
    Program,
    Project,
)


@dataclass(frozen=True)
class KpiEffect:
    """A KPI's planted true improvement: the mean for a basic and an advanced build (relative
    KPIs: a fraction of the baseline; counts: the change itself) and the spread of companies'
    true improvements around it (standard deviation, same scale)."""

    basic: float
    advanced: float
    spread: float


PLANTED_KPI_EFFECT: dict[str, KpiEffect] = {
    "defect_rate": KpiEffect(0.20, 0.35, 0.08),
    "productivity": KpiEffect(0.10, 0.22, 0.06),
    "on_time_delivery": KpiEffect(0.025, 0.05, 0.015),
    "unit_cost": KpiEffect(0.04, 0.08, 0.025),
    "energy_per_unit": KpiEffect(0.08, 0.15, 0.05),
    "lead_time": KpiEffect(0.12, 0.25, 0.07),
    "oee": KpiEffect(0.08, 0.16, 0.05),
    "revenue": KpiEffect(0.03, 0.06, 0.06),
    "investment": KpiEffect(0.30, 0.60, 0.25),
    "new_hires": KpiEffect(0.5, 1.5, 1.0),  # persons per year more than before
}
PLANTED_SIZE_FACTOR = {"micro": 0.6}  # a micro firm gains this share of the effect (others: 1)
MEASUREMENT_NOISE = 0.02  # relative standard deviation of a reported operations value
MAIN_KPIS = ("defect_rate", "productivity", "on_time_delivery", "unit_cost")


def planted_improvement(code: str, support_type: str, size_class: str | None) -> float:
    """The planted mean true improvement of ``code`` for a company of this size and build."""
    effect = PLANTED_KPI_EFFECT[code]
    base = effect.advanced if support_type == "advanced" else effect.basic
    return base * PLANTED_SIZE_FACTOR.get(size_class or "", 1.0)


FILL = MAIN_KPIS  # operations KPIs a company adds to its targets
BUSINESS = ("revenue", "new_hires", "investment")
INPUTS = ("annual_output", "annual_labour_hours", "value_added_per_hour")
INPUT_SHARE = 0.85  # of the companies, those that report their inputs
IMPORTED_SHARE = 0.4  # of the business figures, those the program office imports (국세청 등)
BASELINE_BACKLOG = 0.08  # this year's baselines the operator has not verified yet
AWAITING = {"previous": 0.05, "current": 0.15}  # completion values not verified yet
UNIT_SLIPS = (("unit_cost", 1_000), ("unit_cost", 1_000), ("revenue", 1_000_000))
REJECTIONS = 4  # last year's projects whose main completion value was rejected and redone
REJECTION_REASONS = (
    "증빙 자료(생산일보)와 보고 값이 일치하지 않습니다. 증빙 기준으로 다시 보고하십시오.",
    "측정 기간이 완료 보고서의 운영 기간과 다릅니다. 같은 기간의 실적으로 다시 보고하십시오.",
    "시스템 도입 전 수작업 집계 값이 포함되어 있습니다. MES 실적 기준으로 다시 보고하십시오.",
)
OVERSTATED = 1.6  # a rejected value claimed this many times the true improvement
SHEET_PROJECTS = 4  # this year's projects whose completion values come by the demo KPI sheet
SHEET_KPIS = ("defect_rate", "productivity", "unit_cost")  # each sheet project reports these
QUARTER = timedelta(days=91)
KST_MORNING = time(1, 0, tzinfo=UTC)  # 10:00 in Seoul


@dataclass(frozen=True)
class Facts:
    """What the plan needs of one project (read from the seeded programs)."""

    project_id: int
    organization_id: int
    role: str  # previous / current
    status: str
    support_type: str
    size_class: str | None
    employees: int
    revenue_krw: int
    starts_on: date
    targets: dict[str, float]  # KPI code → the application's baseline
    kickoff: str  # the kickoff milestone's status
    completion: str  # the completion milestone's status
    completion_reported: date | None  # when the completion report was (last) submitted
    featured: bool = False


@dataclass
class Planned:
    code: str
    stage: str
    period_start: date
    period_end: date
    value: float
    source: str = "self"
    status: str = VERIFIED  # verified / reported (left awaiting) / rejected
    reason: str = ""
    reported_on: date | None = None
    improvement: float | None = None  # the planted true improvement (completion values)


@dataclass
class SeededOutcomes:
    values: dict[str, int] = field(default_factory=dict)  # status → values
    flagged: int = 0
    # program role → KPI code → companies with a verified baseline and completion value
    verified_pairs: dict[str, dict[str, int]] = field(default_factory=dict)
    without_inputs: int = 0  # companies that report no inputs
    sheet_projects: list[int] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "values": dict(sorted(self.values.items())),
            "flagged": self.flagged,
            "verified_pairs": {
                role: dict(sorted(pairs.items())) for role, pairs in self.verified_pairs.items()
            },
            "without_inputs": self.without_inputs,
        }


# --- the plan (pure) -------------------------------------------------------------------------


def _noisy(rng: random.Random, value: float) -> float:
    return value * (1 + rng.gauss(0, MEASUREMENT_NOISE))


def _rounded(code: str, value: float) -> float:
    if code in ("defect_rate", "energy_per_unit"):
        return round(value, 2)
    if code in ("productivity", "on_time_delivery", "lead_time", "oee"):
        return round(value, 1)
    if code in ("revenue", "investment"):
        return float(round(value / 1_000_000) * 1_000_000)
    if code == "annual_output":
        return float(round(value, -2))
    if code in ("annual_labour_hours", "value_added_per_hour"):
        return float(round(value, -1))
    return float(round(value))  # unit cost (KRW), counts


def _after(kpi: Kpi, before: float, gain: float) -> float:
    """The true value after an improvement of ``gain`` (signed better-positive)."""
    if kpi.improvement == "difference":
        return before + gain
    return before * (1 - gain) if kpi.direction == "lower" else before * (1 + gain)


def _baselines(rng: random.Random, facts: Facts, codes: list[str]) -> dict[str, float]:
    """True baseline values, consistent with one another: output = productivity × hours, unit
    cost from revenue and output."""
    hours = facts.employees * rng.uniform(0.55, 0.75) * rng.uniform(1_900, 2_150)
    productivity = facts.targets.get("productivity") or rng.uniform(25, 180)
    output = productivity * hours
    revenue = max(facts.revenue_krw, 300_000_000)
    values = {
        "annual_labour_hours": hours,
        "annual_output": output,
        "value_added_per_hour": revenue * rng.uniform(0.22, 0.32) / hours,
        "productivity": productivity,
        "unit_cost": revenue * rng.uniform(0.7, 0.85) / output,
        "defect_rate": facts.targets.get("defect_rate") or 0.5 * 16 ** rng.random(),  # 0.5–8 %
        "on_time_delivery": facts.targets.get("on_time_delivery") or rng.uniform(80, 94),
        "revenue": revenue,
        "new_hires": round(facts.employees * rng.uniform(0.02, 0.10)),
        "investment": revenue * rng.uniform(0.01, 0.04),
    }
    values.update(facts.targets)
    return {code: values[code] for code in codes}


def _kpi_set(rng: random.Random, facts: Facts, sheet: bool) -> list[str]:
    """The targets, filled up to 3–4 operations KPIs, plus 1–3 business figures: 4–6 KPIs
    (the sheet's projects report every KPI of ``SHEET_KPIS`` besides)."""
    ops = list(facts.targets)
    wanted = max(len(ops), rng.randint(3, 4))
    fill = [c for c in FILL if c not in ops]
    rng.shuffle(fill)
    ops += fill[: wanted - len(ops)]
    if sheet:
        ops += [c for c in SHEET_KPIS if c not in ops]
    business = ["revenue", *rng.sample(["new_hires", "investment"], rng.randint(0, 2))]
    return ops + business[: max(1, 6 - len(ops))]


def plan_project(
    rng: random.Random,
    facts: Facts,
    catalogue: dict[str, Kpi],
    *,
    with_inputs: bool,
    sheet: bool = False,
) -> list[Planned]:
    """One project's values in the order they are reported: baselines, then completion values.
    ``sheet``: its completion values come by the demo KPI sheet (none planned here)."""
    codes = _kpi_set(rng, facts, sheet)
    if not with_inputs and "defect_rate" not in codes:
        # A cost-side KPI the report cannot value without inputs: counted as missing.
        codes = ["defect_rate", *codes[: 5 if len(codes) >= 6 else None]]
    inputs = list(INPUTS) + (["unit_cost"] if "unit_cost" not in codes else [])
    true = _baselines(rng, facts, codes + (inputs if with_inputs else []))
    base_end = facts.starts_on - timedelta(days=1)
    base_start = _add_years(facts.starts_on, -1)
    reported_on = facts.starts_on + timedelta(days=rng.randint(3, 20))
    base_status = VERIFIED if facts.kickoff == M_APPROVED else REPORTED
    backlog = facts.role == "current" and facts.completion != M_APPROVED and not facts.featured
    if backlog and rng.random() < BASELINE_BACKLOG:
        base_status = REPORTED
    planned = []
    for code, value in true.items():
        planned.append(
            Planned(
                code,
                "baseline",
                base_start,
                base_end,
                _rounded(code, value),
                source=_source(rng, code),
                status=base_status,
                reported_on=reported_on,
            )
        )
    finished = facts.completion in (M_APPROVED, M_SUBMITTED)
    if sheet or not finished or facts.completion_reported is None:
        return planned
    end = facts.completion_reported - timedelta(days=1)
    baseline = {p.code: p.value for p in planned}
    for code in codes:
        kpi = catalogue[code]
        effect = PLANTED_KPI_EFFECT[code]
        factor = PLANTED_SIZE_FACTOR.get(facts.size_class or "", 1.0)
        gain = planted_improvement(code, facts.support_type, facts.size_class)
        gain += rng.gauss(0, effect.spread * factor)
        value = _after(kpi, baseline[code], gain)
        if kpi.category == "operations":
            value = _noisy(rng, value)
        if kpi.max_value is not None:
            value = min(value, kpi.max_value - 0.1)
        value = max(value, 0.0)
        annual = kpi.category == "business"
        planned.append(
            Planned(
                code,
                "completion",
                _add_years(end, -1) + timedelta(days=1) if annual else end - QUARTER,
                end,
                _rounded(code, value),
                source=_source(rng, code),
                status=_completion_status(rng, facts),
                reported_on=facts.completion_reported,
                improvement=gain,
            )
        )
    if facts.featured:  # the demo login: every value verified but one, awaiting the operator
        for p in planned:
            p.status = VERIFIED
        planned[-1].status = REPORTED
    return planned


def _source(rng: random.Random, code: str) -> str:
    return "imported" if code in BUSINESS and rng.random() < IMPORTED_SHARE else "self"


def _completion_status(rng: random.Random, facts: Facts) -> str:
    if facts.completion == M_SUBMITTED:
        return REPORTED  # the completion report itself is not approved yet
    return REPORTED if rng.random() < AWAITING[facts.role] else VERIFIED


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def plant_bad_data(
    rng: random.Random,
    plans: dict[int, list[Planned]],
    facts: dict[int, Facts],
    catalogue: dict[str, Kpi],
) -> None:
    """On last year's completed projects: unit slips (stored, flagged, left for the verifier)
    and overstated values, rejected with a reason and reported again correctly."""
    done = [pid for pid in sorted(plans) if facts[pid].status == P_COMPLETED]
    order = rng.sample(done, len(done))
    slipped = set()
    for code, factor in UNIT_SLIPS:
        pid = next(
            p
            for p in order
            if p not in slipped
            and any(v.code == code and v.stage == "completion" for v in plans[p])
        )
        slipped.add(pid)
        value = next(v for v in plans[pid] if v.code == code and v.stage == "completion")
        value.value = float(f"{value.value / factor:.3g}")
        value.status = REPORTED
    rejected = [p for p in order if p not in slipped][:REJECTIONS]
    for n, pid in enumerate(rejected):
        completion = [v for v in plans[pid] if v.stage == "completion"]
        first = completion[0]  # the main KPI (the application's first target)
        baseline = next(v for v in plans[pid] if v.code == first.code and v.stage == "baseline")
        corrected = Planned(**{**first.__dict__, "status": VERIFIED})
        kpi = catalogue[first.code]
        claimed = _after(kpi, baseline.value, (first.improvement or 0.1) * OVERSTATED + 0.05)
        if kpi.max_value is not None:
            claimed = min(claimed, kpi.max_value - 0.1)
        first.value = _rounded(first.code, max(claimed, 0.0))
        first.status = REJECTED
        first.reason = REJECTION_REASONS[n % len(REJECTION_REASONS)]
        plans[pid].insert(plans[pid].index(first) + 1, corrected)


# --- seeding ---------------------------------------------------------------------------------


def _facts(session: Session, program_ids: dict[str, int], featured_org: int | None) -> list[Facts]:
    role_of = {pid: role for role, pid in program_ids.items() if role in ("previous", "current")}
    milestones: dict[int, dict[str, Milestone]] = defaultdict(dict)
    for m in session.scalars(
        select(Milestone)
        .join(Project, Project.id == Milestone.project_id)
        .where(Project.program_id.in_(list(role_of)))
    ):
        milestones[m.project_id][m.kind] = m
    rows = session.execute(
        select(Project, Application.support_type, Application.target_kpis, Organization)
        .join(Application, Application.id == Project.application_id)
        .join(Organization, Organization.id == Project.organization_id)
        .where(Project.program_id.in_(list(role_of)))
        .order_by(Project.id)
    ).all()
    facts = []
    for project, support_type, targets, org in rows:
        ms = milestones[project.id]
        completion = ms["completion"]
        facts.append(
            Facts(
                project_id=project.id,
                organization_id=org.id,
                role=role_of[project.program_id],
                status=project.status,
                support_type=support_type or "basic",
                size_class=org.size_class,
                employees=org.employees or 10,
                revenue_krw=org.revenue_krw or 0,
                starts_on=project.starts_on,
                targets={t["code"]: float(t["baseline"]) for t in targets or []},
                kickoff=ms["kickoff"].status,
                completion=completion.status,
                completion_reported=(
                    completion.submitted_at.date() if completion.submitted_at else None
                ),
                featured=org.id == featured_org,
            )
        )
    return facts


def _company_actors(session: Session, org_ids: set[int]) -> dict[int, Actor]:
    """The first SME member of each company (the demo login for its company)."""
    actors: dict[int, Actor] = {}
    for org_id, user in session.execute(
        select(Membership.organization_id, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.role == Role.SME, Membership.organization_id.in_(org_ids))
        .order_by(User.id)
    ):
        actors.setdefault(
            org_id,
            Actor(
                user_id=user.id,
                email=user.email,
                name=user.name,
                memberships=frozenset({(org_id, Role.SME)}),
            ),
        )
    return actors


OPERATOR_LOGIN = "operator@demo.sangsaeng.kr"  # runs both programs: verifies and rejects


def seed_outcomes(
    session: Session,
    *,
    program_ids: dict[str, int],
    seed: int,
    featured_org: int | None = None,
    today: date | None = None,
) -> SeededOutcomes:
    """Called by seed_database once the programs are seeded (``program_ids``: previous /
    current → id); ``featured_org``: the demo SME login's company."""
    today = today or utcnow().date()
    user = session.scalars(select(User).where(User.email == OPERATOR_LOGIN)).one()
    operator = accounts.load_actor(session, user)
    rng = random.Random(seed * 29 + 11)
    catalogue = kpi_catalogue(session)
    facts = {f.project_id: f for f in _facts(session, program_ids, featured_org)}
    sheet = [
        f.project_id
        for f in facts.values()
        if f.role == "current" and f.completion == M_SUBMITTED and f.kickoff == M_APPROVED
    ][:SHEET_PROJECTS]
    result = SeededOutcomes(sheet_projects=sheet)
    plans = {}
    for pid, f in facts.items():
        with_inputs = f.featured or pid in sheet or rng.random() < INPUT_SHARE
        result.without_inputs += not with_inputs
        plans[pid] = plan_project(rng, f, catalogue, with_inputs=with_inputs, sheet=pid in sheet)
    plant_bad_data(rng, plans, facts, catalogue)

    actors = _company_actors(session, {f.organization_id for f in facts.values()})
    # The session's identity map holds objects weakly, and the service looks the projects, their
    # programs and organizations up by id for every value: held here, each lookup is no query.
    keep = [
        *session.scalars(select(Project).where(Project.id.in_(list(plans)))),
        *session.scalars(select(Program).where(Program.id.in_(list(program_ids.values())))),
        *session.scalars(select(Organization)),
    ]
    projects = {p.id: p for p in keep if isinstance(p, Project)}
    for pid, planned in plans.items():
        _write(session, projects[pid], planned, catalogue, actors, operator, rng, today, result)
    session.flush()
    del keep
    for role in ("previous", "current"):
        result.verified_pairs[role] = _verified_pairs(
            [plans[pid] for pid, f in facts.items() if f.role == role], catalogue
        )
    return result


def _write(
    session: Session,
    project: Project,
    planned: list[Planned],
    catalogue: dict[str, Kpi],
    actors: dict[int, Actor],
    operator: Actor,
    rng: random.Random,
    today: date,
    result: SeededOutcomes,
) -> None:
    """One project's values, each checked by ``outcomes.prepare`` (the rules the form, the API
    and the import apply; a value it refuses fails the seeding) and decided with the fields and
    audit events ``outcomes.verify`` and ``outcomes.reject`` write — in one flush per project,
    dated as the story has them (the service would stamp today and flush every value)."""
    company = actors[project.organization_id]
    standing: dict[str, list[KpiMeasurement]] = defaultdict(list)  # not rejected, in order
    decided = []
    for p in planned:
        reporter = operator if p.source != "self" else company
        values = outcomes.Report(
            p.code,
            p.stage,
            p.period_start,
            p.period_end,
            p.value,
            catalogue[p.code].unit,
            source=p.source,
        )
        m = outcomes.prepare(
            session, reporter, project, values, catalogue=catalogue, standing=standing[p.code]
        )
        reported = min(p.reported_on or today, today)
        m.reported_at = datetime.combine(reported, KST_MORNING)
        if p.status != REPORTED:
            m.status = p.status
            m.rejection_reason = p.reason
            m.decided_by_id = operator.user_id
            when = min(reported + timedelta(days=rng.randint(2, 12)), today)
            m.decided_at = datetime.combine(when, KST_MORNING)
            decided.append(m)
        if p.status != REJECTED:
            standing[p.code].append(m)
        session.add(m)
        audit(
            session,
            reporter,
            "kpi.report",
            object_type="project",
            object_id=project.id,
            organization_id=project.organization_id,
            details={"kpi": m.kpi_code, "stage": m.stage, "value": m.value},
        )
        result.values[m.status] = result.values.get(m.status, 0) + 1
        result.flagged += bool(m.flags) and m.status == REPORTED
    session.flush()
    for m in decided:
        audit(
            session,
            operator,
            "kpi.verify" if m.status == VERIFIED else "kpi.reject",
            object_type="project",
            object_id=project.id,
            organization_id=project.organization_id,
            details={"measurement": m.id},
        )


def _verified_pairs(plans: list[list[Planned]], catalogue: dict[str, Kpi]) -> dict[str, int]:
    counts: Counter = Counter()
    for planned in plans:
        base = {p.code for p in planned if p.stage == "baseline" and p.status == VERIFIED}
        after = {p.code for p in planned if p.stage == "completion" and p.status == VERIFIED}
        counts.update(c for c in base & after if catalogue[c].category != "input")
    return dict(counts)


# --- the demo KPI sheet ----------------------------------------------------------------------

SHEET_HEADERS = ("협약번호", "성과지표", "단계", "연차", "기간 시작", "기간 종료", "값", "단위")
STAGE_WORDS = {"baseline": "기준", "completion": "완료", "follow_up": "사후관리"}


@dataclass(frozen=True)
class SheetRow:
    agreement_no: str
    kpi: str  # the KPI's Korean name, as companies write it
    code: str
    stage: str
    period_start: date
    period_end: date
    value: float
    unit: str
    planted: str = ""  # why the product must refuse (or flag) it; "" for a good row

    def cells(self) -> list[str]:
        return [
            self.agreement_no,
            self.kpi,
            STAGE_WORDS[self.stage],
            "",
            self.period_start.isoformat(),
            self.period_end.isoformat(),
            _number(self.value),
            self.unit,
        ]


# Planted rows: the field the product refuses, or "flag" for a value stored with a flag.
PLANTED_ROWS = {
    "ppm_as_percent": "value",  # a defect rate of 3.5 % written as its ppm, 35,000 (in %)
    "above_100_percent": "value",  # a defect rate of 112.5 %
    "negative_hours": "value",  # annual labour hours of −2,080
    "wrong_unit": "unit",  # productivity in units per minute
    "before_baseline": "period_end",  # a completion period ending before the baseline's
    "thousand_krw": "flag",  # unit cost in thousands of KRW: 1000× the baseline, flagged
}


def sheet_rows(session: Session, program_id: int, *, seed: int = 2026) -> list[SheetRow]:
    """The demo KPI sheet of ``program_id``: completion values of its projects whose completion
    report awaits approval and that have none yet (the operator imports them in the demo), with
    the planted bad rows of ``PLANTED_ROWS`` among them, in a company's order (baselines of a
    project, then its completion values)."""
    catalogue = kpi_catalogue(session)
    stored = session.scalars(
        select(KpiMeasurement)
        .join(Project, Project.id == KpiMeasurement.project_id)
        .where(Project.program_id == program_id, KpiMeasurement.status != REJECTED)
        .order_by(KpiMeasurement.project_id, KpiMeasurement.id)
    ).all()
    by_project: dict[int, dict[str, list[KpiMeasurement]]] = defaultdict(lambda: defaultdict(list))
    for m in stored:
        by_project[m.project_id][m.stage].append(m)
    candidates = session.execute(
        select(Project, Application.support_type, Organization.size_class, Milestone.submitted_at)
        .join(Application, Application.id == Project.application_id)
        .join(Organization, Organization.id == Project.organization_id)
        .join(Milestone, Milestone.project_id == Project.id)
        .where(
            Project.program_id == program_id,
            Milestone.kind == "completion",
            Milestone.status == M_SUBMITTED,
        )
        .order_by(Project.id)
    ).all()
    rows: list[SheetRow] = []
    chosen = [
        c
        for c in candidates
        if not by_project[c[0].id]["completion"]
        and set(SHEET_KPIS) <= {m.kpi_code for m in by_project[c[0].id]["baseline"]}
    ][:SHEET_PROJECTS]
    for n, (project, support_type, size_class, submitted_at) in enumerate(chosen):
        rng = random.Random(seed * 31 + project.id)
        end = submitted_at.date() - timedelta(days=1)
        baselines = {m.kpi_code: m for m in by_project[project.id]["baseline"]}
        for code, m in baselines.items():
            kpi = catalogue[code]
            if kpi.category == "input":
                continue
            gain = planted_improvement(code, support_type or "basic", size_class)
            value = _after(kpi, m.value, gain + rng.gauss(0, PLANTED_KPI_EFFECT[code].spread))
            if kpi.max_value is not None:
                value = min(value, kpi.max_value - 0.1)
            annual = kpi.category == "business"
            start = _add_years(end, -1) + timedelta(days=1) if annual else end - QUARTER
            rows.append(
                SheetRow(
                    project.agreement_no,
                    kpi.name_ko,
                    code,
                    "completion",
                    start,
                    end,
                    _rounded(code, max(value, 0.0)),
                    kpi.unit,
                )
            )
        good = {r.code: r for r in rows if r.agreement_no == project.agreement_no}
        for bad in _planted_rows(n, project, baselines, good, catalogue, end):
            # The company wrote this instead of the good value (an extra row for a baseline).
            replaced = good.get(bad.code) if bad.stage == "completion" else None
            if replaced is not None:
                rows.remove(replaced)
            rows.append(bad)
    return rows


def _planted_rows(n, project, baselines, good, catalogue, end) -> list[SheetRow]:
    """Each sheet project carries some of the planted bad rows (all of them over the sheet):
    ``baselines``: its stored baselines by KPI; ``good``: its good completion rows by KPI."""

    def row(code, stage, start, stop, value, unit, planted):
        return SheetRow(
            project.agreement_no,
            catalogue[code].name_ko,
            code,
            stage,
            start,
            stop,
            value,
            unit,
            planted,
        )

    base = baselines["defect_rate"]
    quarter = end - QUARTER
    planted = {
        0: [
            row(
                "defect_rate",
                "completion",
                quarter,
                end,
                round(good["defect_rate"].value * 10_000),  # its ppm, written in the % column
                "%",
                "ppm_as_percent",
            )
        ],
        1: [
            row("defect_rate", "completion", quarter, end, 112.5, "%", "above_100_percent"),
            row(
                "productivity",
                "completion",
                quarter,
                end,
                round(baselines["productivity"].value * 1.15 / 60, 2),
                "개/분",
                "wrong_unit",
            ),
        ],
        2: [
            row(
                "annual_labour_hours",
                "baseline",
                base.period_start,
                base.period_end,
                -2080,
                "hours/year",
                "negative_hours",
            ),
            row(
                "defect_rate",
                "completion",
                base.period_start,
                base.period_end - timedelta(days=30),
                round(base.value * 0.8, 2),
                "%",
                "before_baseline",
            ),
        ],
        3: [
            row(
                "unit_cost",
                "completion",
                quarter,
                end,
                round(baselines["unit_cost"].value * 0.95 / 1000, 2),
                "KRW/unit",
                "thousand_krw",
            )
        ],
    }
    return planted.get(n, [])


def _number(value: float) -> str:
    """As a spreadsheet shows it: whole numbers without decimals, never in exponent form."""
    return str(int(value)) if value == int(value) else f"{value:.10g}"


def kpi_sheet(session: Session, program_id: int, *, seed: int = 2026) -> bytes:
    """The demo KPI sheet as a CP949 CSV with Korean headers, as a company office writes it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SHEET_HEADERS)
    for r in sheet_rows(session, program_id, seed=seed):
        writer.writerow(r.cells())
    return out.getvalue().encode("cp949")


def sheet_program(session: Session) -> int | None:
    """The latest program with a completion report awaiting approval (the demo's this year)."""
    return session.scalar(
        select(Project.program_id)
        .join(Milestone, Milestone.project_id == Project.id)
        .where(Milestone.kind == "completion", Milestone.status == M_SUBMITTED)
        .order_by(Project.program_id.desc())
        .limit(1)
    )
