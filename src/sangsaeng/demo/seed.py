"""Writes the generated demo world and one login per role into the database."""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sangsaeng.assessments import catalog
from sangsaeng.assessments import service as assessments
from sangsaeng.core.accounts.passwords import hash_password
from sangsaeng.core.files.service import LocalStorage
from sangsaeng.core.models import Membership, Organization, SupplierLink, User, utcnow
from sangsaeng.core.policy import SYSTEM_ACTOR
from sangsaeng.db import transaction
from sangsaeng.demo.diagnoses import generate_diagnoses
from sangsaeng.demo.factory_seed import FACTORY_LOGINS, seed_factory
from sangsaeng.demo.generator import generate
from sangsaeng.demo.impact import seed_impact
from sangsaeng.demo.outcomes import seed_outcomes
from sangsaeng.demo.programs import seed_programs

SMART_FACTORY = "smart-factory-level"

DEMO_PASSWORD = "sangsaeng-demo-2026"  # noqa: S105 - published demo login
DEMO_LOGINS = (
    # email, name, organization key, roles
    ("admin@demo.sangsaeng.kr", "관리자", "platform", ("admin",)),
    ("operator@demo.sangsaeng.kr", "김운영 (추진단)", "operator-smart", ("operator",)),
    ("operator2@demo.sangsaeng.kr", "이재단 (협력재단)", "operator-coop", ("operator",)),
    ("sponsor@demo.sangsaeng.kr", "박상생 (한빛철강 동반성장실)", "sponsor-steel", ("sponsor",)),
    ("sponsor2@demo.sangsaeng.kr", "최동해 (동해에너지 상생협력부)", "sponsor-power", ("sponsor",)),
    ("sme@demo.sangsaeng.kr", "정중소 (대표)", "@sme", ("sme",)),
    ("adviser@demo.sangsaeng.kr", "한자문 (자문위원)", "adviser-firm", ("adviser",)),
    ("evaluator@demo.sangsaeng.kr", "윤평가 (평가위원)", "evaluator-org", ("evaluator",)),
    # Made with the factory data (demo/factory_seed.py): their companies come from the programs.
    *((email, name, "@factory", ("sme",)) for email, name in FACTORY_LOGINS),
)


def demo_sme_key(world) -> str:
    """The SME of the demo login: a tier-2 supplier of the steel sponsor (its dashboard shows a
    supply chain above it), diagnosed twice with the planted improvement."""
    steel_tier2 = sorted(k for k, t in world.planted_tiers["sponsor-steel"].items() if t == 2)
    return steel_tier2[0]


def has_data(session: Session) -> bool:
    return session.scalar(select(Organization.id).limit(1)) is not None


def seed_database(
    factory: sessionmaker[Session],
    *,
    seed: int = 2026,
    sme_count: int = 320,
    console: Console | None = None,
    storage: LocalStorage | None = None,
    programs: bool = True,
    factory_data: bool = True,
) -> dict:
    """``storage``: where application documents go (the installation's file storage when
    none is given; factory datasets go to the ``factory`` folder beside it); ``programs``: also
    seed the support programs (demo/programs.py), which tests about other parts of the demo may
    leave out for speed; ``factory_data``: with the programs, also the factory datasets of
    three of their companies (demo/factory_seed.py)."""
    world = generate(seed=seed, sme_count=sme_count)
    # The SME demo login belongs to a tier-2 supplier of the steel sponsor: its dashboard then
    # shows a supply chain above it.
    sme_key = demo_sme_key(world)
    password_hash = hash_password(DEMO_PASSWORD)
    now = utcnow()  # argon2 is slow by design: hash once, reuse
    smes = [spec for spec in world.orgs if spec.kind == "sme" and spec.key.startswith("sme-")]
    diagnoses = generate_diagnoses(smes, catalog.find(SMART_FACTORY), seed=seed, featured=sme_key)
    with transaction(factory) as session, Progress(console=console, transient=True) as progress:
        total = len(world.orgs) + len(world.links) + len(diagnoses.diagnoses)
        task = progress.add_task("demo data", total=total)
        ids: dict[str, int] = {}
        for spec in world.orgs:
            org = Organization(
                business_no=spec.business_no,
                name_ko=spec.name_ko,
                name_en=spec.name_en,
                kind=spec.kind,
                ksic_code=spec.ksic_code,
                region_code=spec.region_code,
                size_class=spec.size_class,
                employees=spec.employees,
                revenue_krw=spec.revenue_krw,
                founded_year=spec.founded_year,
            )
            session.add(org)
            session.flush()
            ids[spec.key] = org.id
            progress.advance(task)
        for buyer, supplier in world.links:
            session.add(
                SupplierLink(
                    buyer_id=ids[buyer],
                    supplier_id=ids[supplier],
                    buyer_confirmed_at=now,
                    supplier_confirmed_at=now,
                )
            )
            progress.advance(task)
        for diagnosis in diagnoses.diagnoses:
            assessments.import_submitted(
                session,
                SYSTEM_ACTOR,
                organization_id=ids[diagnosis.org_key],
                instrument_id=SMART_FACTORY,
                answers=diagnosis.answers,
                assessed_on=diagnosis.assessed_on,
            )
            progress.advance(task)
        logins = []
        for email, name, org_key, roles in DEMO_LOGINS:
            if org_key == "@factory":
                continue
            user = User(email=email, name=name, password_hash=password_hash)
            session.add(user)
            session.flush()
            key = sme_key if org_key == "@sme" else org_key
            for role in roles:
                session.add(Membership(user_id=user.id, organization_id=ids[key], role=role))
            logins.append({"email": email, "roles": list(roles)})
        session.flush()
        seeded = outcomes = impact = factory_seeded = None
        if programs:
            storage = storage or _installation_storage()
            task = progress.add_task("demo programs", total=None)
            seeded = seed_programs(
                session,
                world=world,
                org_ids=ids,
                diagnoses=diagnoses,
                storage=storage,
                seed=seed,
                featured=sme_key,
                advance=lambda n: progress.advance(task, n),
            )
            outcomes = seed_outcomes(
                session, program_ids=seeded.program_ids, seed=seed, featured_org=ids[sme_key]
            )
            impact = seed_impact(session, program_ids=seeded.program_ids, seed=seed)
            if factory_data:
                task = progress.add_task("demo factory data", total=3)
                factory_seeded = seed_factory(
                    session,
                    program_ids=seeded.program_ids,
                    featured_org=ids[sme_key],
                    storage=storage,
                    password_hash=password_hash,
                    seed=seed,
                    advance=lambda n: progress.advance(task, n),
                )
                logins += [
                    {"email": c["login"], "roles": ["sme"]}
                    for c in factory_seeded.companies
                    if c["login"] not in {login["email"] for login in logins}
                ]
    kinds: dict[str, int] = {}
    for spec in world.orgs:
        kinds[spec.kind] = kinds.get(spec.kind, 0) + 1
    return {
        "organizations": len(world.orgs),
        "by_kind": kinds,
        "supplier_links": len(world.links),
        "diagnoses": len(diagnoses.diagnoses),
        "rediagnosed_improvers": len(diagnoses.improvers),
        "rediagnosed_steady": len(diagnoses.steady),
        "logins": logins,
        "password": DEMO_PASSWORD,
        "programs": seeded.summary() if seeded else None,
        "outcomes": outcomes.summary() if outcomes else None,
        "impact": impact.summary() if impact else None,
        "factory": factory_seeded.summary() if factory_seeded else None,
    }


def _installation_storage() -> LocalStorage:
    from sangsaeng.settings import get_settings

    return LocalStorage(get_settings().data_dir / "files")


def describe(summary: dict) -> str:
    text = (
        f"Seeded {summary['organizations']} organizations {summary['by_kind']} and "
        f"{summary['supplier_links']} supplier links"
    )
    if summary.get("programs"):
        seeded = summary["programs"]
        text += (
            f"; {seeded['programs']} programs with {seeded['applications']} applications and "
            f"projects {seeded['projects']}"
        )
    if summary.get("outcomes"):
        text += f"; KPI values {summary['outcomes']['values']}"
    if summary.get("impact"):
        panel = summary["impact"]
        text += (
            f"; firm-year panel {panel['years'][0]}–{panel['years'][1]}: {panel['firms']} firms "
            f"({panel['participants']} participants), {panel['rows']} rows"
        )
    if summary.get("factory"):
        factory = summary["factory"]
        text += (
            f"; factory datasets of {len(factory['companies'])} companies "
            f"({factory['rows']} rows, {factory['period'][0]}–{factory['period'][1]})"
        )
    return text + "; `sangsaeng demo logins` lists the logins."
