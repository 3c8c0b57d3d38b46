"""Seeds the demo's support programs through the program services, following demo/program_plan.

Last year's call (every phase done, results published, projects mostly completed and diagnosed
again after completion with the planted gain), this year's (published, projects at every
milestone stage, suspended and cancelled ones) and next year's open call with a few drafts;
solution providers, an evaluation panel, objections, budget changes, inspections and the ledger
activity that goes with them (contributions from the government and every sponsor, holds,
milestone payments, releases and recoveries).

The services stamp their clock (submission, decisions, completion); where a story needs a past
date the demo moves it afterwards with a direct UPDATE — as tests/programs/lifecycle.close_call
does — and says why at that place. Ledger entries keep the time they were written.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from sangsaeng.assessments import catalog
from sangsaeng.assessments import service as assessments
from sangsaeng.assessments.engine import scoring
from sangsaeng.assessments.models import Assessment
from sangsaeng.core import reference
from sangsaeng.core.accounts import service as accounts
from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.files.service import LocalStorage
from sangsaeng.core.models import Membership, Organization, User, utcnow
from sangsaeng.core.notifications.models import OutboxEmail
from sangsaeng.core.policy import SYSTEM_ACTOR, Actor, Role
from sangsaeng.demo import program_plan as plan_
from sangsaeng.demo.diagnoses import DemoDiagnoses
from sangsaeng.demo.generator import DemoWorld
from sangsaeng.demo.program_plan import AppPlan, ProgramPlan
from sangsaeng.programs import application_service as applications
from sangsaeng.programs import evaluation_service as evaluation
from sangsaeng.programs import project_service as projects
from sangsaeng.programs import service as programs
from sangsaeng.programs.models import (
    A_REJECTED,
    A_RESERVE,
    A_SELECTED,
    Application,
    EvaluatorAssignment,
    FollowUp,
    Milestone,
    Objection,
    Program,
    Project,
)

LEVEL_INSTRUMENT = programs.LEVEL_INSTRUMENT
SCORE_SHEET = "application-score-sheet"
SHEET_ITEMS = (
    "necessity_score",
    "feasibility_score",
    "capability_score",
    "impact_score",
    "cooperation_score",
)
PLAN_DOCUMENT = "사업계획서"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
UNUSABLE_PASSWORD = "!"  # noqa: S105 - not an argon2 hash: nobody can sign in with it
KST_MORNING = time(1, 0, tzinfo=UTC)  # 10:00 in Seoul
DEADLINE = time(9, 0, tzinfo=UTC)  # 18:00 in Seoul

EVALUATORS = (  # the demo login evaluator@demo.sangsaeng.kr is the first of the panel
    ("evaluator2@demo.sangsaeng.kr", "서정민 (평가위원)"),
    ("evaluator3@demo.sangsaeng.kr", "강현우 (평가위원)"),
    ("evaluator4@demo.sangsaeng.kr", "오수진 (평가위원)"),
    ("evaluator5@demo.sangsaeng.kr", "임태호 (평가위원)"),
    ("evaluator6@demo.sangsaeng.kr", "장미경 (평가위원)"),
    ("evaluator7@demo.sangsaeng.kr", "신동욱 (평가위원)"),
    ("evaluator8@demo.sangsaeng.kr", "황보람 (평가위원)"),
)
_SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
_GIVEN = ("민준", "서연", "도윤", "지우", "현수", "수빈", "영호", "미란", "성민", "은정", "재훈")
PROVIDER_DIVISIONS = ("26", "27", "28", "29")
PROVIDER_COUNT = 12
SOLUTION_TYPES = ("MES", "ERP", "QMS", "FEMS", "POP")
BASIC_TYPES, ADVANCED_TYPES = ("POP", "MES", "QMS"), ("MES", "ERP", "QMS", "FEMS")
GOALS = {
    "MES": ("생산 실적 실시간 집계", "defect_rate"),
    "POP": ("작업 실적 자동 수집", "productivity"),
    "QMS": ("품질 이력 추적", "defect_rate"),
    "ERP": ("수주·자재 통합 관리", "on_time_delivery"),
    "FEMS": ("에너지 사용량 절감", "energy_per_unit"),
}
KPI_VALUES = {  # code → (baseline range, improvement factor range)
    "defect_rate": ((1.5, 6.0), (0.5, 0.8)),
    "productivity": ((40.0, 200.0), (1.1, 1.3)),
    "on_time_delivery": ((78.0, 93.0), (1.03, 1.07)),
    "energy_per_unit": ((2.0, 9.0), (0.75, 0.92)),
    "lead_time": ((24.0, 120.0), (0.7, 0.9)),
    "oee": ((45.0, 70.0), (1.08, 1.25)),
}
SCREENING_NOTES = (
    "사업계획서에 구축 범위와 일정이 구체적으로 제시되지 않았습니다.",
    "필수 제출 서류의 내용이 신청 내용과 일치하지 않습니다.",
    "신청 사업비 산정 근거가 부족합니다.",
)
SHEET_COMMENTS = {
    "necessity_score": "도입 필요성과 현재 문제점이 구체적으로 제시되어 있습니다.",
    "feasibility_score": "추진 일정과 예산 배분이 현실적인지 검토가 필요합니다.",
    "capability_score": "전담 인력 배치 계획을 보완하면 좋겠습니다.",
    "impact_score": "목표 지표의 개선 폭이 구체적입니다.",
    "cooperation_score": "수요기업과의 협력 체계가 제시되어 있습니다.",
}


@dataclass
class SeededPrograms:
    program_ids: dict[str, int]  # previous / current / next → program id
    applications: int = 0
    projects: dict[str, int] = field(default_factory=dict)  # status → count
    rediagnosed_after_completion: int = 0
    planted_gains: dict[int, float] = field(default_factory=dict)  # project id → planted points

    def summary(self) -> dict:
        return {
            "programs": len(self.program_ids),
            "applications": self.applications,
            "projects": dict(sorted(self.projects.items())),
            "rediagnosed_after_completion": self.rediagnosed_after_completion,
        }


@dataclass
class _Ctx:
    session: Session
    rng: random.Random
    today: date
    storage: LocalStorage
    instrument: object
    diagnoses: dict[str, list]  # company key → its diagnosis specs, in date order
    org_ids: dict[str, int]
    smes: dict[str, Actor]
    evaluators: list[Actor]
    solutions: list[tuple[int, str, int]]  # (solution id, type, provider organization id)
    advance: Callable[[int], None]
    app_ids: dict[tuple[str, str], int] = field(default_factory=dict)  # (role, key) → id
    milestone_times: dict[int, dict] = field(default_factory=dict)  # milestone id → times
    # The session's identity map holds objects weakly: the services look the same companies,
    # programs and applications up by id thousands of times, and each lookup of a forgotten
    # object is a query. Holding them here keeps seeding fast.
    keep: list = field(default_factory=list)
    assessments: dict[int, list[tuple[date, int]]] = field(default_factory=dict)
    result: SeededPrograms | None = None


def seed_programs(
    session: Session,
    *,
    world: DemoWorld,
    org_ids: dict[str, int],
    diagnoses: DemoDiagnoses,
    storage: LocalStorage,
    seed: int,
    featured: str | None,
    today: date | None = None,
    advance: Callable[[int], None] = lambda n: None,
) -> SeededPrograms:
    """Called by seed_database once organizations, diagnoses and the demo logins exist."""
    instrument = catalog.find(LEVEL_INSTRUMENT)
    by_key: dict[str, list] = {}
    for spec in sorted(diagnoses.diagnoses, key=lambda d: d.assessed_on):
        by_key.setdefault(spec.org_key, []).append(spec)
    keys = [o.key for o in world.orgs if o.kind == "sme" and o.key.startswith("sme-")]
    levels = {k: _level(instrument, by_key[k][-1].answers) for k in keys}
    single = {k for k in keys if len(by_key[k]) == 1}
    plans = plan_.plan_programs(keys, levels, single, seed=seed, featured=featured)
    ctx = _Ctx(
        session=session,
        rng=random.Random(seed * 17 + 3),
        today=today or utcnow().date(),
        storage=storage,
        instrument=instrument,
        diagnoses=by_key,
        org_ids=org_ids,
        smes=_sme_actors(session, world, org_ids, featured, seed),
        evaluators=_evaluators(session, org_ids["evaluator-org"]),
        solutions=[],
        advance=advance,
    )
    ctx.keep.extend(session.scalars(select(Organization)))
    ctx.assessments = _diagnoses_on_record(session)
    operator = _login_actor(session, "operator@demo.sangsaeng.kr")
    ctx.solutions = _providers(ctx, operator, world, featured)
    sponsors = {k: org_ids[k] for k in ("sponsor-steel", "sponsor-power", "sponsor-elec")}
    ids = {
        "previous": _create(ctx, operator, "previous", plans["previous"], sponsors),
        "current": _create(ctx, operator, "current", plans["current"], sponsors),
        "next": _create(ctx, operator, "next", plans["next"], sponsors),
    }
    ctx.result = SeededPrograms(program_ids=ids)
    # Order matters for the diagnoses: every call's applications are submitted (and attach the
    # diagnosis on record) before last year's projects are completed and diagnosed again.
    for role in ("previous", "current", "next"):
        _apply(ctx, role, ids[role], plans[role])
    _fund(ctx, operator, ids["next"], plans["next"])
    for role in ("previous", "current"):
        _close(ctx, operator, ids[role], _schedule(ctx.today, role))
        _select(ctx, operator, role, ids[role], plans[role])
        _fund(ctx, operator, ids[role], plans[role])
        _run_projects(ctx, operator, role, ids[role], plans[role])
    _store_milestone_times(ctx)
    _count(ctx, ids)
    # The services queued an e-mail for every notification of this made-up history; the demo's
    # addresses are fiction, so none of them may ever be sent (the notifications stay).
    session.execute(delete(OutboxEmail))
    return ctx.result


# --- people -----------------------------------------------------------------------------------


def _login_actor(session: Session, email: str) -> Actor:
    user = session.scalars(select(User).where(User.email == email)).one()
    return accounts.load_actor(session, user)


def _person_name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)


def _new_user(session: Session, email: str, name: str, org_id: int, role: str) -> Actor:
    user = User(email=email, name=name, password_hash=UNUSABLE_PASSWORD)
    session.add(user)
    session.flush()
    session.add(Membership(user_id=user.id, organization_id=org_id, role=role))
    return Actor(user_id=user.id, email=email, name=name, memberships=frozenset({(org_id, role)}))


def _sme_actors(
    session: Session, world: DemoWorld, org_ids: dict[str, int], featured: str | None, seed: int
) -> dict[str, Actor]:
    """One contact person per company (who cannot sign in); the demo login's company acts
    through the demo login."""
    rng = random.Random(seed * 19 + 7)
    actors = {}
    for spec in world.orgs:
        if spec.kind != "sme" or not spec.key.startswith("sme-"):
            continue
        if spec.key == featured:
            actors[spec.key] = _login_actor(session, "sme@demo.sangsaeng.kr")
            continue
        email = f"contact.{spec.business_no}@demo.sangsaeng.kr"
        name = f"{_person_name(rng)} (담당자)"
        actors[spec.key] = _new_user(session, email, name, org_ids[spec.key], Role.SME)
    session.flush()
    return actors


def _evaluators(session: Session, panel_id: int) -> list[Actor]:
    panel = [_login_actor(session, "evaluator@demo.sangsaeng.kr")]
    panel += [_new_user(session, e, n, panel_id, Role.EVALUATOR) for e, n in EVALUATORS]
    session.flush()
    return panel


def _providers(ctx: _Ctx, operator: Actor, world: DemoWorld, featured: str | None) -> list:
    """Twelve makers of machinery and electronics that also sell factory software."""
    candidates = [
        o
        for o in world.orgs
        if o.kind == "sme"
        and o.key.startswith("sme-")
        and o.key != featured
        and o.ksic_code[:2] in PROVIDER_DIVISIONS
    ]
    chosen = ctx.rng.sample(candidates, min(PROVIDER_COUNT, len(candidates)))
    solutions = []
    for index, spec in enumerate(chosen):
        org_id = ctx.org_ids[spec.key]
        provider = applications.register_provider(ctx.session, operator, org_id)
        brand = spec.name_ko.replace("(주)", "").replace("주식회사 ", "").split()[0]
        kinds = {SOLUTION_TYPES[index % len(SOLUTION_TYPES)]}
        kinds |= set(ctx.rng.sample(SOLUTION_TYPES, ctx.rng.randint(1, 2)))
        for kind in sorted(kinds):
            solution = applications.add_solution(
                ctx.session,
                operator,
                provider.id,
                name=f"{brand} 스마트 {kind}",
                solution_type=kind,
                description=f"중소 제조기업용 {kind} 패키지 (클라우드·설치형)",
            )
            solutions.append((solution.id, kind, org_id))
            ctx.keep.extend((provider, solution))
    return solutions


# --- programs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    year: int
    opens_on: date
    closes_on: date
    published_on: date
    starts_on: date  # projects start within three weeks of this day


def _schedule(today: date, role: str) -> Schedule:
    """Dates relative to the seeding day: last year's call closed 400 days ago, this year's 200
    days ago, next year's closes in four weeks."""
    closes = {"previous": -400, "current": -200, "next": 28}[role]
    year = today.year + {"previous": -1, "current": 0, "next": 1}[role]
    closes_on = today + timedelta(days=closes)
    return Schedule(
        year=year,
        opens_on=closes_on - timedelta(days=45 if role != "next" else 33),
        closes_on=closes_on,
        published_on=closes_on + timedelta(days=25),
        starts_on=closes_on + timedelta(days=45),
    )


_NAMES = {
    "previous": ("{year} 대·중소 상생형 스마트공장 구축 — 한빛철강·동해에너지", ("steel", "power")),
    "current": ("{year} 대·중소 상생형 스마트공장 구축 — 한빛철강·미래전자", ("steel", "elec")),
    "next": ("{year} 상생형 스마트공장 구축 (1차 공고) — 동해에너지", ("power",)),
}


def _create(
    ctx: _Ctx, operator: Actor, role: str, plan: ProgramPlan, sponsors: dict[str, int]
) -> int:
    schedule = _schedule(ctx.today, role)
    name, sponsor_keys = _NAMES[role]
    sponsor_ids = [sponsors[f"sponsor-{k}"] for k in sponsor_keys]
    selected = plan.selected or plan.apps
    budget = -(-sum(a.support_krw for a in selected) * 11 // 10 // 100_000_000) * 100_000_000
    values = {
        "name_ko": name.format(year=schedule.year),
        "name_en": f"{schedule.year} Win-win smart factory program",
        "year": schedule.year,
        "kind": "smart_factory",
        "opens_on": schedule.opens_on,
        # The service refuses a deadline in the past (as it must for operators): every call is
        # created open with a future deadline, and once the demo's applications are in, _close
        # moves the deadline to where the story puts it.
        "closes_at": datetime.combine(
            max(schedule.closes_on, ctx.today + timedelta(days=30)), DEADLINE
        ),
        "quota": max(1, len(plan.selected)) if role != "next" else 120,
        "budget_krw": budget if role != "next" else 8_000_000_000,
        "cap_per_company_krw": 100_000_000,
        "description": "후원기업과 정부가 사업비의 60 %를 지원하고 기업이 40 %를 부담하는 "
        "스마트공장 구축 사업입니다. 기초(기초 단계 구축)와 고도화(시스템 연계·고도화) 중 "
        "선택하여 신청합니다.",
        "sources": [
            {"code": "government", "name_ko": "정부", "share": "0.3"},
            {"code": "sponsor", "name_ko": "후원기업", "share": "0.3"},
            {"code": "sme", "name_ko": "기업 부담", "share": "0.4"},
        ],
        "remainder_to": "sme",
        "score_sheet": SCORE_SHEET,
        "eligibility_rules": [
            {"rule": "size_class", "in": ["sme", "micro"]},
            {
                "rule": "diagnosed_level",
                "instrument": LEVEL_INSTRUMENT,
                "max_rank": plan_.MAX_LEVELS[role],
            },
        ],
        "required_documents": [
            {"name_ko": PLAN_DOCUMENT, "required": True},
            {"name_ko": "기타 증빙", "required": False},
        ],
        "support_types": [
            {"code": "basic", "name_ko": "기초", "cap_krw": 40_000_000},
            {"code": "advanced", "name_ko": "고도화", "cap_krw": 100_000_000},
        ],
        "bonus_rules": _bonus_rules(role, sponsor_ids),
        "score_combination": "trimmed",
        "reserve_size": 10,
        "follow_up_years": 3,
        "objection_days": 7,
        "sponsor_ids": sponsor_ids,
    }
    program = programs.create_program(
        ctx.session,
        operator,
        ctx.org_ids["operator-smart"],
        values,
    )
    programs.set_status(ctx.session, operator, program.id, "open")
    ctx.keep.append(program)
    return program.id


CAPITAL_AREA = ("11", "28", "41")  # Seoul, Incheon, Gyeonggi


def _bonus_rules(role: str, sponsor_ids: list[int]) -> list[dict]:
    """가점 (2 points each): last year's call for suppliers (up to tier 3) of its lead sponsor,
    this year's and next year's for companies outside the capital area. Each supplier-tier rule
    walks the sponsor's supply chain for every eligibility check, so the demo keeps to one."""
    if role == "previous":
        return [{"rule": "supplier_tier", "sponsor": sponsor_ids[0], "max": 3, "points": 2}]
    outside = [r.code for r in reference.regions() if r.code not in CAPITAL_AREA]
    return [{"rule": "region", "in": outside, "points": 2}]


def _close(ctx: _Ctx, operator: Actor, program_id: int, schedule: Schedule) -> None:
    """The call closed on its day (the deadline is moved into the past: see _create)."""
    closes_at = datetime.combine(schedule.closes_on, DEADLINE)
    ctx.session.execute(update(Program).where(Program.id == program_id).values(closes_at=closes_at))
    ctx.session.flush()
    programs.set_status(ctx.session, operator, program_id, "closed")


# --- applications -----------------------------------------------------------------------------


def _level(instrument, answers: dict[str, float]) -> int:
    result = scoring.score(instrument, answers)
    return result.level.rank if result.level else 0


def _values(ctx: _Ctx, app: AppPlan, program: Program) -> dict:
    rng = ctx.rng
    own = ctx.org_ids[app.key]
    kinds = ADVANCED_TYPES if app.support_type == "advanced" else BASIC_TYPES
    choices = [s for s in ctx.solutions if s[1] in kinds and s[2] != own]
    solution_id, kind, _provider = rng.choice(choices)
    goal, main_kpi = GOALS[kind]
    codes = [main_kpi, *rng.sample([c for c in KPI_VALUES if c != main_kpi], rng.randint(0, 2))]
    kpis = []
    for code in codes:
        (low, high), (f_low, f_high) = KPI_VALUES[code]
        baseline = round(rng.uniform(low, high), 1)
        target = round(baseline * rng.uniform(f_low, f_high), 1)
        if code in ("on_time_delivery", "oee"):
            target = min(target, 99.5)
        if target == baseline:
            continue
        kpis.append({"code": code, "baseline": baseline, "target": target})
    label = "고도화" if app.support_type == "advanced" else "기초"
    return {
        "title": f"{kind} {'고도화' if app.support_type == 'advanced' else '도입'}을 통한 {goal}",
        "plan": (
            f"{goal}을(를) 목표로 {kind}을(를) {label} 단계로 구축합니다. 1단계에서 현행 공정과 "
            "데이터 흐름을 분석하고, 2단계에서 설비·작업자 데이터를 수집하며, 3단계에서 현장 "
            "적용과 교육을 거쳐 목표 지표를 관리합니다."
        ),
        "support_type": app.support_type,
        "solution_id": solution_id,
        "total_krw": app.total_krw,
        "requested": applications.expected_split(ctx.session, program, app.total_krw),
        "target_kpis": kpis,
    }


def _apply(ctx: _Ctx, role: str, program_id: int, plan: ProgramPlan) -> None:
    session = ctx.session
    program = session.get(Program, program_id)
    schedule = _schedule(ctx.today, role)
    submitted_times: list[dict] = []
    for app in plan.apps:
        actor = ctx.smes[app.key]
        application = applications.start(session, actor, program_id)
        ctx.app_ids[(role, app.key)] = application.id
        ctx.keep.append(application)
        values = _values(ctx, app, program)
        if app.fate == plan_.DRAFT:  # begun, never finished: no solution, amounts or document
            partial = {k: values[k] for k in ("title", "plan", "support_type")}
            applications.save(session, actor, application.id, partial)
            continue
        applications.save(session, actor, application.id, values)
        applications.attach_document(
            session,
            actor,
            ctx.storage,
            application.id,
            PLAN_DOCUMENT,
            data=PDF,
            filename=f"사업계획서_{app.key}.pdf",
        )
        if app.fate == plan_.INELIGIBLE:
            # Refused: the eligibility verdicts stay on the draft, naming the failed rule.
            with contextlib.suppress(InvalidInput):
                applications.submit(session, actor, application.id)
            continue
        applications.submit(session, actor, application.id)
        if app.fate == plan_.WITHDRAWN:
            applications.withdraw(session, actor, application.id)
        if role != "next":
            submitted_times.append(_submission_time(ctx, application.id, app, schedule))
        ctx.advance(1)
    # The service stamps submission "now" and attaches the diagnosis on record now; the story
    # has these calls submitted before their past deadlines, so both are set as of that day.
    if submitted_times:
        session.execute(update(Application), submitted_times)
        session.flush()


def _submission_time(ctx: _Ctx, application_id: int, app: AppPlan, schedule: Schedule) -> dict:
    """A day within the call, never before the company's first diagnosis (diagnosed to apply)."""
    days = (schedule.closes_on - schedule.opens_on).days
    on = schedule.opens_on + timedelta(days=ctx.rng.randint(1, days - 1))
    on_record = ctx.assessments.get(ctx.org_ids[app.key], [])
    if on_record and on < on_record[0][0]:
        on = min(on_record[0][0] + timedelta(days=ctx.rng.randint(1, 5)), schedule.closes_on)
    at = datetime.combine(on, time(ctx.rng.randint(0, 8), ctx.rng.randint(0, 59)), UTC)
    row = {"id": application_id, "submitted_at": at}
    earlier = [d for d in on_record if d[0] <= on]
    if earlier:  # the latest diagnosis on record that day, as the service picks it
        row["diagnosis_assessment_id"] = earlier[-1][1]
    return row


def _diagnoses_on_record(session: Session) -> dict[int, list[tuple[date, int]]]:
    """Organization → its submitted smart-factory diagnoses (date, id), oldest first."""
    found: dict[int, list[tuple[date, int]]] = {}
    for org_id, assessed_on, assessment_id in session.execute(
        select(Assessment.organization_id, Assessment.assessed_on, Assessment.id)
        .where(
            Assessment.instrument_id == LEVEL_INSTRUMENT,
            Assessment.status.in_(assessments.DONE_STATUSES),
        )
        .order_by(Assessment.assessed_on, Assessment.id)
    ):
        found.setdefault(org_id, []).append((assessed_on, assessment_id))
    return found


# --- evaluation and selection -----------------------------------------------------------------


def _select(ctx: _Ctx, operator: Actor, role: str, program_id: int, plan: ProgramPlan) -> None:
    session, rng = ctx.session, ctx.rng
    schedule = _schedule(ctx.today, role)
    for app in plan.apps:
        if app.fate in (plan_.DRAFT, plan_.INELIGIBLE, plan_.WITHDRAWN):
            continue
        application_id = ctx.app_ids[(role, app.key)]
        if app.fate == plan_.SCREENED_OUT:
            note = rng.choice(SCREENING_NOTES)
            evaluation.screen(session, operator, application_id, passed=False, note=note)
            continue
        evaluation.screen(session, operator, application_id, passed=True)
        _evaluate(ctx, operator, application_id, app.score)
        ctx.advance(1)
    evaluation.decide(session, operator, program_id)
    _check_selection(ctx, role, plan)
    evaluation.publish(session, operator, program_id)
    _objections(ctx, operator, role, plan)
    # Evaluated in the weeks after the deadline; published 25 days after it (the services
    # stamped today's date).
    assessed = datetime.combine(schedule.closes_on + timedelta(days=10), time(5, 0), UTC)
    program_apps = select(Application.id).where(Application.program_id == program_id)
    session.execute(
        update(EvaluatorAssignment)
        .where(EvaluatorAssignment.application_id.in_(program_apps))
        .values(
            assigned_at=assessed - timedelta(days=6),
            declared_at=assessed - timedelta(days=5),
            submitted_at=assessed,
        )
    )
    session.execute(
        update(Program)
        .where(Program.id == program_id)
        .values(results_published_at=datetime.combine(schedule.published_on, KST_MORNING))
    )
    session.flush()


def _evaluate(ctx: _Ctx, operator: Actor, application_id: int, target: float) -> None:
    """Three evaluators score; now and then one declares a conflict of interest and a fourth
    takes the place."""
    session, rng = ctx.session, ctx.rng
    panel = rng.sample(ctx.evaluators, 4)
    scored = 0
    for n, evaluator in enumerate(panel):
        if scored == 3:
            break
        assignment = evaluation.assign(session, operator, application_id, evaluator.email)
        if n < 3 and rng.random() < 0.01:
            evaluation.declare(
                session,
                evaluator,
                assignment.id,
                conflict=True,
                note="신청기업 대표와 최근 3년 이내 공동 연구를 수행했습니다.",
            )
            continue
        evaluation.declare(session, evaluator, assignment.id, conflict=False)
        answers = {
            item: max(0, min(100, round(target) + rng.randint(-1, 1) * rng.randint(0, 4)))
            for item in SHEET_ITEMS
        }
        comments = {item: SHEET_COMMENTS[item] for item in SHEET_ITEMS}
        evaluation.score(session, evaluator, assignment.id, answers, comments)
        scored += 1


def _check_selection(ctx: _Ctx, role: str, plan: ProgramPlan) -> None:
    wanted = {ctx.app_ids[(role, a.key)] for a in plan.selected}
    got = set(
        ctx.session.scalars(
            select(Application.id).where(
                Application.id.in_(list(ctx.app_ids[(role, a.key)] for a in plan.apps)),
                Application.status == A_SELECTED,
            )
        )
    )
    if got != wanted:  # the plan's score bands guarantee this; a change that breaks it shows here
        raise RuntimeError(f"demo selection differs from the plan ({len(got)} ≠ {len(wanted)})")


OBJECTION_REASONS = (
    "평가 의견에 비해 사업 필요성 점수가 낮게 산정되었습니다. 재검토를 요청합니다.",
    "제출한 증빙 서류가 서면 검토에서 누락된 것으로 보입니다. 다시 확인해 주십시오.",
    "협력사 가점이 반영되지 않았습니다. 공급망 등록 내역을 확인해 주십시오.",
)
OBJECTION_ANSWERS = {
    "dismissed": "평가위원 점수와 의견을 재검토한 결과 평가 결과를 유지합니다.",
    "upheld": "재검토 결과 누락된 증빙을 확인하여 예비 대상으로 조정합니다.",
}


def _objections(ctx: _Ctx, operator: Actor, role: str, plan: ProgramPlan) -> None:
    session, rng = ctx.session, ctx.rng
    schedule = _schedule(ctx.today, role)
    times = []
    for app in plan.apps:
        if app.objection is None:
            continue
        application_id = ctx.app_ids[(role, app.key)]
        objection = evaluation.lodge_objection(
            session, ctx.smes[app.key], application_id, rng.choice(OBJECTION_REASONS)
        )
        lodged = datetime.combine(
            schedule.published_on + timedelta(days=rng.randint(1, 6)), KST_MORNING
        )
        row = {"id": objection.id, "lodged_at": lodged}
        if app.objection != "open":
            # Upheld moves a rejected application to the reserve list; anything else keeps its
            # result and is answered as dismissed.
            current = session.get(Application, application_id).status
            upheld = app.objection == "upheld" and current == A_REJECTED
            answer = "upheld" if upheld else "dismissed"
            evaluation.answer_objection(
                session,
                operator,
                objection.id,
                upheld=upheld,
                answer=OBJECTION_ANSWERS[answer],
                new_status=A_RESERVE if upheld else None,
            )
            row["answered_at"] = lodged + timedelta(days=rng.randint(3, 10))
        times.append(row)
    # Lodged within the week after publication, answered within days (services stamp today).
    if times:
        session.execute(update(Objection), times)


# --- funds, agreements and projects --------------------------------------------------------------


def _fund(ctx: _Ctx, operator: Actor, program_id: int, plan: ProgramPlan) -> None:
    """The government in two tranches and every sponsor of the program (the first by name gives
    60 %): what the agreements will hold with a margin of about 5 %, rounded up to
    100,000,000 KRW; an open call gets a first allocation of 1,000,000,000 KRW per source, so
    that agreements can be signed once it is decided."""
    program = ctx.session.get(Program, program_id)
    needed = {"government": 0, "sponsor": 0}
    for app in plan.selected:
        if app.fate != plan_.UNSIGNED:
            split = applications.expected_split(ctx.session, program, app.total_krw)
            for code in needed:
                needed[code] += split[code]
    hundred_m = 100_000_000
    total = {
        code: -(-amount * 105 // 100 // hundred_m) * hundred_m if plan.selected else 10 * hundred_m
        for code, amount in needed.items()
    }
    first = total["government"] * 6 // 10 // hundred_m * hundred_m
    for n, amount in enumerate((first, total["government"] - first), start=1):
        if amount:
            projects.contribute(
                ctx.session,
                operator,
                program_id,
                source_code="government",
                amount=amount,
                key=f"government-{n}",
                memo=f"국비 {n}차 교부",
            )
    sponsor_orgs = programs.sponsors(ctx.session, program)
    shares = [total["sponsor"] * 6 // 10 // hundred_m * hundred_m] if len(sponsor_orgs) > 1 else []
    shares.append(total["sponsor"] - sum(shares))
    for org, amount in zip(sponsor_orgs, shares, strict=True):
        projects.contribute(
            ctx.session,
            operator,
            program_id,
            source_code="sponsor",
            amount=amount,
            key=f"sponsor-{org.id}",
            contributor_org_id=org.id,
            memo=f"{org.name_ko} 상생협력 출연금",
        )


STAGES = ("kickoff", "midterm", "completion", "final")
APPROVED_BEFORE = {  # milestones approved, by fate (None: chosen per project)
    plan_.KICKOFF: 0,
    plan_.MIDTERM: 1,
    plan_.COMPLETION: 2,
    plan_.FINAL: 3,
    plan_.COMPLETED: 4,
    plan_.SUSPENDED: 1,
    plan_.CANCELLED_RECOVERED: None,
    plan_.CANCELLED: None,
}
REPORTS = {
    "kickoff": "착수 보고: 공급기업과 착수 회의를 열고 세부 일정과 설비 발주를 확정했습니다.",
    "midterm": "중간 보고: 데이터 수집 장비 설치와 시스템 기본 설정을 마치고 시범 운영 중입니다.",
    "completion": "완료 보고: 전 공정 적용과 사용자 교육을 마치고 목표 지표를 측정했습니다.",
}


def _run_projects(ctx: _Ctx, operator: Actor, role: str, program_id: int, plan: ProgramPlan):
    schedule = _schedule(ctx.today, role)
    signed_times, completed = [], []
    for app in plan.selected:
        if app.fate == plan_.UNSIGNED:
            continue
        starts_on = schedule.starts_on + timedelta(days=ctx.rng.randint(0, 20))
        ends_on = starts_on + timedelta(days=ctx.rng.randint(180, 240))
        lines = _cost_lines(app.total_krw)
        project = projects.sign(
            ctx.session,
            operator,
            ctx.app_ids[(role, app.key)],
            starts_on=starts_on,
            ends_on=ends_on,
            cost_lines=lines,
        )
        ctx.keep.append(project)
        signed = datetime.combine(starts_on - timedelta(days=5), KST_MORNING)
        signed_times.append({"id": project.id, "signed_at": signed})
        if app.budget_change:
            _budget_change(ctx, operator, project, app)
        done_on = _advance_project(ctx, operator, project, app)
        if done_on is not None:
            completed.append((project, done_on))
        ctx.advance(1)
    # Signed a few days before the start (the service stamps today's date).
    ctx.session.execute(update(Project), signed_times)
    _backdate_completion(ctx, completed)


def _cost_lines(total: int) -> dict[str, int]:
    software = total * 55 // 100
    hardware = total * 35 // 100
    return {
        "솔루션 구축비": software,
        "하드웨어·설비": hardware,
        "컨설팅·교육": total - software - hardware,
    }


def _budget_change(ctx: _Ctx, operator: Actor, project: Project, app: AppPlan) -> None:
    lines = dict(project.cost_lines)
    moved = lines["하드웨어·설비"] // 5 // 1_000_000 * 1_000_000
    lines["하드웨어·설비"] -= moved
    lines["솔루션 구축비"] += moved
    change = projects.request_budget_change(
        ctx.session,
        ctx.smes[app.key],
        project.id,
        lines=lines,
        reason="기존 설비 재활용이 가능해져 하드웨어 구입비 일부를 솔루션 연동 개발비로 "
        "변경하고자 합니다.",
    )
    if app.budget_change != "pending":
        projects.decide_budget_change(
            ctx.session, operator, change.id, approve=app.budget_change == "approved"
        )


def _advance_project(ctx: _Ctx, operator: Actor, project: Project, app: AppPlan) -> date | None:
    """Walks a project to its planned state; returns the completion day of a completed one."""
    rng = ctx.rng
    approved = APPROVED_BEFORE[app.fate]
    if approved is None:  # cancelled: before any payment, after the kickoff or the midterm
        if app.fate == plan_.CANCELLED_RECOVERED:
            approved = rng.choice((1, 1, 2))
        else:
            approved = rng.choice((0, 1))
    ms = {m.kind: m for m in projects.milestones(ctx.session, project.id)}
    sme = ctx.smes[app.key]
    cursor = project.starts_on
    done_on = None
    for kind in STAGES[:approved]:
        cursor, done_on = _pass(ctx, operator, sme, project, ms[kind], cursor, app)
    if app.fate in (plan_.KICKOFF, plan_.MIDTERM, plan_.COMPLETION, plan_.FINAL):
        _leave_open(ctx, operator, sme, project, ms[STAGES[approved]], cursor)
    elif app.fate == plan_.SUSPENDED:
        projects.suspend(
            ctx.session,
            operator,
            project.id,
            reason="공장 이전으로 설비 설치가 불가하여 이전 완료 시까지 사업을 중지합니다.",
        )
    elif app.fate in (plan_.CANCELLED, plan_.CANCELLED_RECOVERED):
        _cancel(ctx, operator, project, app)
    return done_on if app.fate == plan_.COMPLETED else None


def _at(day: date, ctx: _Ctx) -> datetime:
    return datetime.combine(min(day, ctx.today), KST_MORNING)


def _pass(
    ctx: _Ctx,
    operator: Actor,
    sme: Actor,
    project: Project,
    milestone: Milestone,
    cursor: date,
    app: AppPlan,
) -> tuple[date, date | None]:
    """One milestone reported (or inspected) and approved; returns the day it was approved."""
    rng, session = ctx.rng, ctx.session
    reported = min(max(cursor, milestone.due_on - timedelta(days=rng.randint(0, 6))), ctx.today)
    decided = min(reported + timedelta(days=rng.randint(2, 9)), ctx.today)
    done_on = None
    if milestone.kind == "final":
        inspected = decided
        if rng.random() < 0.15:  # first visit finds something to fix
            projects.record_inspection(
                session,
                operator,
                project.id,
                inspected_on=reported,
                result="fix_required",
                findings="일부 설비의 데이터 수집 누락이 확인되어 보완을 요청했습니다.",
                milestone_id=milestone.id,
            )
        projects.record_inspection(
            session,
            operator,
            project.id,
            inspected_on=inspected,
            result="pass",
            findings="최종 점검 결과 구축 범위와 목표 지표 측정이 확인되었습니다.",
            milestone_id=milestone.id,
        )
        done_on = inspected
        if app.fate == plan_.COMPLETED:
            _rediagnose(ctx, project, app, inspected)
    else:
        projects.submit_milestone(session, sme, milestone.id, report=REPORTS[milestone.kind])
        if milestone.kind == "midterm":
            projects.record_inspection(
                session,
                operator,
                project.id,
                inspected_on=decided,
                result="pass",
                findings="중간 점검: 장비 설치와 시범 운영 상태가 계획과 일치합니다.",
                milestone_id=milestone.id,
            )
    projects.approve_milestone(session, operator, milestone.id)
    ctx.milestone_times[milestone.id] = {
        "id": milestone.id,
        "submitted_at": _at(reported, ctx) if milestone.kind != "final" else None,
        "decided_at": _at(decided, ctx),
    }
    return decided, done_on


def _leave_open(
    ctx: _Ctx, operator: Actor, sme: Actor, project: Project, milestone: Milestone, cursor: date
) -> None:
    """The stage an active project is at: not reported yet, reported and waiting, or sent back
    (and maybe reported again); at the final stage an inspection that asked for fixes."""
    rng, session = ctx.rng, ctx.session
    if milestone.kind == "final":
        if rng.random() < 0.5:
            projects.record_inspection(
                session,
                operator,
                project.id,
                inspected_on=min(cursor + timedelta(days=7), ctx.today),
                result="fix_required",
                findings="완료 보고와 달리 일부 공정의 실적 수집이 수작업으로 이루어지고 있습니다.",
                milestone_id=milestone.id,
            )
        return
    state = rng.choice(("planned", "submitted", "submitted", "rejected", "resubmitted"))
    if state == "planned":
        return
    reported = min(cursor + timedelta(days=rng.randint(5, 30)), ctx.today)
    projects.submit_milestone(session, sme, milestone.id, report=REPORTS[milestone.kind])
    times = {"id": milestone.id, "submitted_at": _at(reported, ctx)}
    if state in ("rejected", "resubmitted"):
        projects.reject_milestone(
            session, operator, milestone.id, note="증빙 사진과 실적 자료를 보완해 주십시오."
        )
        times["decided_at"] = _at(reported + timedelta(days=3), ctx)
        if state == "resubmitted":
            projects.submit_milestone(session, sme, milestone.id, report=REPORTS[milestone.kind])
            times["submitted_at"] = _at(reported + timedelta(days=8), ctx)
    ctx.milestone_times[milestone.id] = times


def _cancel(ctx: _Ctx, operator: Actor, project: Project, app: AppPlan) -> None:
    rng = ctx.rng
    if rng.random() < 0.4:
        projects.suspend(
            ctx.session, operator, project.id, reason="사업 수행 의사 확인을 위해 중지합니다."
        )
    paid = projects.money_of(ctx.session, project).paid
    recover = 0
    if app.fate == plan_.CANCELLED_RECOVERED and paid:
        recover = paid if rng.random() < 0.5 else paid // 2 // 1000 * 1000
    reason = (
        "협약 의무 불이행(사업비 목적 외 사용)으로 협약을 해지하고 지급액을 환수합니다."
        if recover
        else "기업의 경영 사정으로 사업 포기 의사를 밝혀 협약을 해지합니다."
    )
    projects.cancel(ctx.session, operator, project.id, reason=reason, recover_krw=recover)


def _rediagnose(ctx: _Ctx, project: Project, app: AppPlan, completed_on: date) -> None:
    """The planted second diagnosis, imported before the final approval so that completion
    links it: its answers are the attached diagnosis's, raised by the planted gain."""
    rng = ctx.rng
    effect = plan_.PLANTED_SUPPORT_EFFECT
    attached = ctx.diagnoses[app.key][-1]  # diagnosed once (the plan's rule for completers)
    gain = plan_.planted_gain(rng, app, effect)
    answers = plan_.raised_answers(rng, ctx.instrument, attached.answers, gain, effect.dimensions)
    assessed_on = min(completed_on + timedelta(days=rng.randint(45, 120)), ctx.today)
    if assessed_on <= max(completed_on, attached.assessed_on):
        return  # no room before today: this project keeps a single diagnosis
    assessments.import_submitted(
        ctx.session,
        SYSTEM_ACTOR,
        organization_id=ctx.org_ids[app.key],
        instrument_id=LEVEL_INSTRUMENT,
        answers=answers,
        assessed_on=assessed_on,
    )
    ctx.result.planted_gains[project.id] = round(gain, 2)
    ctx.result.rediagnosed_after_completion += 1


def _backdate_completion(ctx: _Ctx, completed: list[tuple[Project, date]]) -> None:
    """Completion is stamped today by the service; last year's projects were completed on their
    final inspection day, and their yearly follow-ups fall due from then."""
    if not completed:
        return
    ctx.session.execute(
        update(Project), [{"id": p.id, "completed_on": day} for p, day in completed]
    )
    rows = []
    days = {p.id: day for p, day in completed}
    for follow_up in ctx.session.scalars(
        select(FollowUp).where(FollowUp.project_id.in_(list(days)))
    ):
        rows.append(
            {
                "id": follow_up.id,
                "due_on": _add_years(days[follow_up.project_id], follow_up.year_no),
            }
        )
    ctx.session.execute(update(FollowUp), rows)
    ctx.session.flush()


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _store_milestone_times(ctx: _Ctx) -> None:
    """Reports and decisions on the days the story has them (the services stamped today)."""
    rows = [{k: v for k, v in row.items() if v is not None} for row in ctx.milestone_times.values()]
    for keys in {tuple(sorted(r)) for r in rows}:  # one executemany per set of columns
        ctx.session.execute(update(Milestone), [r for r in rows if tuple(sorted(r)) == keys])
    ctx.session.flush()


def _count(ctx: _Ctx, ids: dict[str, int]) -> None:
    program_ids = list(ids.values())
    ctx.result.applications = ctx.session.scalar(
        select(func.count()).select_from(Application).where(Application.program_id.in_(program_ids))
    )
    ctx.result.projects = dict(
        ctx.session.execute(
            select(Project.status, func.count())
            .where(Project.program_id.in_(program_ids))
            .group_by(Project.status)
        ).all()
    )
