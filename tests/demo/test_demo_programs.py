"""The demo's support programs: the issue's targets met, every state present, a ledger without
violations, `programs list`, and the planted effect of support recovered through the services.

The seeded demo (seed 2026, 320 companies, as `make demo` builds it) is built once per backend
in a database of its own and only read by these tests.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from statistics import fmean

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from sangsaeng.assessments import catalog
from sangsaeng.assessments import service as assessments
from sangsaeng.assessments.engine import scoring
from sangsaeng.assessments.models import Assessment
from sangsaeng.cli import app
from sangsaeng.core.models import Organization, utcnow
from sangsaeng.core.policy import SYSTEM_ACTOR
from sangsaeng.demo import program_plan
from sangsaeng.demo.generator import generate
from sangsaeng.demo.program_plan import PLANTED_SUPPORT_EFFECT as PLANTED
from sangsaeng.ledger import service as ledger
from sangsaeng.ledger.models import LedgerAccount
from sangsaeng.programs import application_service as applications
from sangsaeng.programs.models import (
    Application as ProgramApplication,
)
from sangsaeng.programs.models import (
    BudgetChange,
    Milestone,
    Objection,
    Program,
    Project,
)
from sangsaeng.settings import get_settings
from tests.demo.test_demo import _recovers_the_planted_diagnoses

pytestmark = pytest.mark.xdist_group("demo-programs")
SEED, SMES = 2026, 320


def _years(session) -> dict[int, Program]:
    """Last year's and this year's program by year (the open call is next year's)."""
    this_year = utcnow().year
    found = {p.year: p for p in session.scalars(select(Program))}
    return {year: found[year] for year in (this_year - 1, this_year)}


def test_the_two_years_meet_the_targets_in_every_state(demo_db):
    years = _years(demo_db)
    ids = [p.id for p in years.values()]
    apps = list(
        demo_db.scalars(select(ProgramApplication).where(ProgramApplication.program_id.in_(ids)))
    )
    assert len(apps) >= 600
    statuses = Counter(a.status for a in apps)
    assert {"draft", "withdrawn", "screened_out", "selected", "reserve", "rejected"} <= set(
        statuses
    )
    assert any(a.status == "draft" and a.eligible is False for a in apps)  # ineligible drafts
    projects = list(demo_db.scalars(select(Project).where(Project.program_id.in_(ids))))
    assert len(projects) >= 250
    assert {p.status for p in projects} == {"active", "suspended", "cancelled", "completed"}
    cancelled = [p for p in projects if p.status == "cancelled"]
    assert any(p.recovered_krw > 0 for p in cancelled)
    assert any(p.recovered_krw == 0 for p in cancelled)
    active = [p.id for p in projects if p.status == "active"]
    stages: dict[int, str] = {}
    for project_id, kind in demo_db.execute(
        select(Milestone.project_id, Milestone.kind)
        .where(Milestone.project_id.in_(active), Milestone.status != "approved")
        .order_by(Milestone.project_id, Milestone.seq)
    ):
        stages.setdefault(project_id, kind)
    assert set(stages.values()) == {"kickoff", "midterm", "completion", "final"}
    objections = Counter(o.status for o in demo_db.scalars(select(Objection)))
    assert objections["open"] > 0 and objections["dismissed"] > 0 and objections["upheld"] > 0
    changes = Counter(c.status for c in demo_db.scalars(select(BudgetChange)))
    assert set(changes) == {"approved", "rejected", "requested"}
    # Last year's call is over, this year's projects are under way, next year's call is open.
    assert years[utcnow().year - 1].results_published_at is not None
    completed = Counter(p.program_id for p in projects if p.status == "completed")
    assert completed[years[utcnow().year - 1].id] > 100
    open_call = demo_db.scalars(select(Program).where(Program.status == "open")).one()
    assert open_call.closes_at > utcnow()


def test_the_ledger_has_no_violations_and_every_sponsor_contributed(demo_db):
    result = ledger.check(demo_db)
    assert result.entries > 500 and result.violations == []
    sponsors = set(demo_db.scalars(select(Organization.id).where(Organization.kind == "sponsor")))
    sources = set(
        demo_db.scalars(select(LedgerAccount.organization_id).where(LedgerAccount.kind == "source"))
    )
    assert sponsors <= sources
    assert "source:government" in set(demo_db.scalars(select(LedgerAccount.code)))


def _completed_changes(session) -> list[tuple[str, int, float]]:
    """(support type, support in KRW, score change) of every completed project, between the
    diagnosis attached to its application and the one linked at completion."""
    rows = []
    for project, application in session.execute(
        select(Project, ProgramApplication)
        .join(ProgramApplication, ProgramApplication.id == Project.application_id)
        .where(Project.status == "completed")
    ):
        first = session.get(Assessment, application.diagnosis_assessment_id)
        second = session.get(Assessment, project.completion_assessment_id)
        assert first.assessed_on <= application.submitted_at.date()
        assert project.completed_on < second.assessed_on <= utcnow().date()
        change = assessments.change_between(session, SYSTEM_ACTOR, first.id, second.id)
        assert change.dimension_changes["organization"] == 0  # only process and technology
        support = applications.support_of(application.requested)
        rows.append((application.support_type, support, change.overall_change))
    return rows


def test_the_planted_effect_of_support_is_recovered(demo_db):
    rows = _completed_changes(demo_db)
    assert len(rows) > 100
    # The planted noise, plus what whole answer steps add (a gain lands within one step, at
    # most 2.86 points, of the planted one; about 0.5 points spread): a 4-sigma band.
    sigma = math.hypot(PLANTED.noise_sd, 0.5)
    groups = {t: [r for r in rows if r[0] == t] for t in ("basic", "advanced")}
    means, expected = {}, {}
    for kind, group in groups.items():
        assert len(group) >= 30, kind
        means[kind] = fmean(r[2] for r in group)
        expected[kind] = fmean(PLANTED.expected(kind, r[1]) for r in group)
        assert abs(means[kind] - expected[kind]) <= 4 * sigma / math.sqrt(len(group)) + 0.5
    n_basic, n_advanced = len(groups["basic"]), len(groups["advanced"])
    band = 4 * sigma * math.sqrt(1 / n_basic + 1 / n_advanced) + 0.5
    difference = means["advanced"] - means["basic"]
    assert difference > 0  # advanced builds raise the score more
    assert abs(difference - (expected["advanced"] - expected["basic"])) <= band
    # More support, more gain: the slope within each support type, pooled.
    sxy = sxx = 0.0
    for group in groups.values():
        mx = fmean(r[1] / 1e8 for r in group)
        my = fmean(r[2] for r in group)
        sxy += sum((r[1] / 1e8 - mx) * (r[2] - my) for r in group)
        sxx += sum((r[1] / 1e8 - mx) ** 2 for r in group)
    slope = sxy / sxx
    assert slope > 0
    assert abs(slope - PLANTED.per_100m_krw) <= 4 * sigma / math.sqrt(sxx)


def test_the_planted_diagnoses_of_the_demo_still_hold_beside_the_programs(demo_db):
    world = generate(seed=SEED, sme_count=SMES)
    ids = dict(demo_db.execute(select(Organization.business_no, Organization.id)).all())
    key_to_id = {spec.key: ids[spec.business_no] for spec in world.orgs}
    _recovers_the_planted_diagnoses(demo_db, world, key_to_id, seed=SEED)


def test_programs_list_prints_every_program_with_its_counts(demo, demo_db, monkeypatch):
    monkeypatch.setenv("SANGSAENG_DATABASE_URL", demo[0])
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["programs", "list", "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    listed = {row["id"]: row for row in json.loads(result.stdout)["programs"]}
    years = _years(demo_db)
    assert {row["year"] for row in listed.values()} >= set(years)
    for program in years.values():
        row = listed[program.id]
        assert (row["name"], row["year"], row["status"]) == (
            program.name_ko,
            program.year,
            "closed",
        )

        def count(*where, model=ProgramApplication, program_id=program.id):
            return demo_db.scalar(
                select(func.count())
                .select_from(model)
                .where(model.program_id == program_id, *where)
            )

        assert row["applications"] == count()
        assert row["submitted"] == count(ProgramApplication.submitted_at.is_not(None))
        assert row["selected"] == count(ProgramApplication.status == "selected") > 100
        assert row["projects"] == {
            s: count(Project.status == s, model=Project)
            for s in ("active", "suspended", "cancelled", "completed")
        }
    assert sum(r["applications"] for r in listed.values()) == demo[2]["programs"]["applications"]


def test_the_plan_is_deterministic_and_within_one_answer_step_of_the_planted_gain():
    keys = [f"sme-{i}" for i in range(320)]
    rng = random.Random(1)
    levels = {k: rng.choice((0, 1, 1, 2, 2, 3, 4)) for k in keys}
    single = set(rng.sample(keys, 150))
    plan = program_plan.plan_programs(keys, levels, single, seed=5, featured="sme-3")
    assert plan == program_plan.plan_programs(keys, levels, single, seed=5, featured="sme-3")
    assert plan != program_plan.plan_programs(keys, levels, single, seed=6, featured="sme-3")
    previous = plan["previous"]
    assert all(a.key in single for a in previous.of(program_plan.COMPLETED))
    assert all(levels[a.key] > 3 for a in previous.of(program_plan.INELIGIBLE))
    instrument = catalog.find("smart-factory-level")
    answers = {i.id: 2.0 for i in instrument.items}
    start = scoring.score(instrument, answers).overall
    for gain in (0.0, 3.3, 8.0, 12.6):
        raised = program_plan.raised_answers(
            random.Random(2), instrument, answers, gain, ("process", "technology")
        )
        reached = scoring.score(instrument, raised).overall - start
        assert abs(reached - gain) <= 2.86 / 2 + 0.01
        organization = next(d for d in instrument.dimensions if d.id == "organization")
        assert all(raised[i.id] == 2.0 for i in organization.items)


def test_the_program_overviews_show_every_stage_and_the_level_change(demo_db):
    from sangsaeng.programs import dashboard_service

    years = _years(demo_db)
    last = dashboard_service.overview(demo_db, SYSTEM_ACTOR, years[utcnow().year - 1].id)
    assert last.n_level_pairs == last.projects_by_status["completed"] > 100
    assert last.level_change.mean > PLANTED.basic_gain
    assert len(last.contributions_by_sponsor) == 2
    assert last.eligibility_failures.get("diagnosed_level", 0) > 0
    assert all(amount > 0 for _org, amount in last.contributions_by_sponsor)
    this = dashboard_service.overview(demo_db, SYSTEM_ACTOR, years[utcnow().year].id)
    assert set(this.active_by_stage) == {"kickoff", "midterm", "completion", "final"}


def test_the_made_up_history_notifies_but_mails_nobody(demo_db):
    from sqlalchemy import func

    from sangsaeng.core.notifications.models import Notification, OutboxEmail

    assert demo_db.scalar(select(func.count()).select_from(Notification)) > 0
    assert demo_db.scalar(select(func.count()).select_from(OutboxEmail)) == 0
