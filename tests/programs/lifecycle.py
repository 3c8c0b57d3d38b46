"""A program world for tests: an operator's open call, sponsors with funds, SMEs, a solution
provider and evaluators — and helpers that walk an application to a signed agreement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.orm import Session

from sangsaeng.core.files.service import LocalStorage
from sangsaeng.core.models import Organization, utcnow
from sangsaeng.core.policy import Actor
from sangsaeng.programs import application_service as applications
from sangsaeng.programs import evaluation_service as evaluation
from sangsaeng.programs import project_service as projects
from sangsaeng.programs import service as programs
from sangsaeng.programs.models import Program
from tests.assessments.helpers import actor_of
from tests.factories import make_org, make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SHEET_ITEMS = (
    "necessity_score",
    "feasibility_score",
    "capability_score",
    "impact_score",
    "cooperation_score",
)


def program_values(**overrides) -> dict:
    values = {
        "name_ko": "2027 상생형 스마트공장 구축 — 한빛철강",
        "year": 2027,
        "kind": "smart_factory",
        "opens_on": date.today() - timedelta(days=1),
        "closes_at": utcnow() + timedelta(days=30),
        "quota": 2,
        "budget_krw": 200_000_000,
        "cap_per_company_krw": 60_000_000,
        "sources": [
            {"code": "government", "name_ko": "정부", "share": Decimal("0.3")},
            {"code": "sponsor", "name_ko": "후원기업", "share": Decimal("0.3")},
            {"code": "sme", "name_ko": "기업 부담", "share": Decimal("0.4")},
        ],
        "remainder_to": "sme",
        "score_sheet": "application-score-sheet",
        "eligibility_rules": [{"rule": "size_class", "in": ["sme", "micro"]}],
        "required_documents": [{"name_ko": "사업계획서", "required": True}],
        "support_types": [
            {"code": "basic", "name_ko": "기초", "cap_krw": 40_000_000},
            {"code": "advanced", "name_ko": "고도화", "cap_krw": 60_000_000},
        ],
    }
    values.update(overrides)
    return values


@dataclass
class World:
    operator_org: Organization
    operator: Actor
    other_operator: Actor
    sponsor: Organization
    provider: Organization
    solution_id: int
    program: Program
    smes: list[Organization] = field(default_factory=list)
    sme_actors: list[Actor] = field(default_factory=list)
    evaluators: list[Actor] = field(default_factory=list)
    evaluator_emails: list[str] = field(default_factory=list)


def build(db: Session, *, n_smes: int = 3, n_evaluators: int = 3, **program_overrides) -> World:
    operator_org = make_org(db, kind="operator", size_class="large", name_ko="추진단")
    other_org = make_org(db, kind="operator", size_class="large", name_ko="다른 추진단")
    sponsor = make_org(db, kind="sponsor", size_class="large", name_ko="한빛철강")
    provider = make_org(db, kind="sme", size_class="sme", name_ko="스마트솔루션")
    operator = actor_of(db, make_user(db, roles=[(operator_org, "operator")]))
    other = actor_of(db, make_user(db, roles=[(other_org, "operator")]))
    program = programs.create_program(
        db, operator, operator_org.id, program_values(sponsor_ids=[sponsor.id], **program_overrides)
    )
    programs.set_status(db, operator, program.id, "open")
    registered = applications.register_provider(db, operator, provider.id)
    solution = applications.add_solution(
        db, operator, registered.id, name="스마트 MES", solution_type="MES"
    )
    world = World(operator_org, operator, other, sponsor, provider, solution.id, program)
    for i in range(n_smes):
        sme = make_org(db, kind="sme", size_class="sme", name_ko=f"중소기업 {i}")
        world.smes.append(sme)
        world.sme_actors.append(actor_of(db, make_user(db, roles=[(sme, "sme")])))
    panel = make_org(db, kind="operator", size_class="large", name_ko="평가위원 풀")
    for i in range(n_evaluators):
        user = make_user(db, email=f"evaluator{i}@example.kr", roles=[(panel, "evaluator")])
        world.evaluators.append(actor_of(db, user))
        world.evaluator_emails.append(user.email)
    db.flush()
    return world


def fill(db, world: World, index: int, total: int = 100_000_000, **extra):
    """A complete draft for SME ``index``, with its plan document attached."""
    actor = world.sme_actors[index]
    application = applications.start(db, actor, world.program.id)
    split = applications.expected_split(db, world.program, total)
    values = {
        "title": f"MES 구축 {index}",
        "plan": "생산 실적을 실시간으로 수집하여 불량률을 낮추는 MES 구축 계획입니다.",
        "support_type": "advanced",
        "solution_id": world.solution_id,
        "total_krw": total,
        "requested": split,
        "target_kpis": [{"code": "defect_rate", "baseline": 3.0, "target": 1.5}],
    }
    values.update(extra)
    applications.save(db, actor, application.id, values)
    applications.attach_document(
        db, actor, _storage(), application.id, "사업계획서", data=PDF, filename="plan.pdf"
    )
    return application


_STORAGE: list[LocalStorage] = []


def _storage() -> LocalStorage:
    if not _STORAGE:
        import tempfile
        from pathlib import Path

        _STORAGE.append(LocalStorage(Path(tempfile.mkdtemp(prefix="sangsaeng-files-"))))
    return _STORAGE[0]


def close_call(db, world: World) -> None:
    """Move the deadline into the past (the call closed)."""
    db.execute(
        update(Program)
        .where(Program.id == world.program.id)
        .values(closes_at=utcnow() - timedelta(minutes=1))
    )
    db.flush()
    db.refresh(world.program)


def evaluate_all(db, world: World, application_ids: list[int], scores: dict[int, list[int]]):
    """Screen in, assign the evaluators, declare no conflict, score (0–100 on every item)."""
    for application_id in application_ids:
        evaluation.screen(db, world.operator, application_id, passed=True)
        for n, email in enumerate(world.evaluator_emails):
            assignment = evaluation.assign(db, world.operator, application_id, email)
            evaluator = world.evaluators[n]
            evaluation.declare(db, evaluator, assignment.id, conflict=False)
            value = scores[application_id][n]
            evaluation.score(
                db,
                evaluator,
                assignment.id,
                {k: value for k in SHEET_ITEMS},
                {k: "보완이 필요합니다." for k in SHEET_ITEMS},
            )


def fund(db, world: World, amount: int = 1_000_000_000) -> None:
    for code in ("government", "sponsor"):
        projects.contribute(
            db,
            world.operator,
            world.program.id,
            source_code=code,
            amount=amount,
            key=f"seed-{code}",
            contributor_org_id=world.sponsor.id if code == "sponsor" else None,
        )
