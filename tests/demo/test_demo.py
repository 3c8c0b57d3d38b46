"""The demo data: deterministic, realistic, and its planted supplier tiers are recovered."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from sangsaeng.core import reference
from sangsaeng.core.ids import normalize_business_no
from sangsaeng.core.models import Membership, Organization, User
from sangsaeng.core.orgs import graph
from sangsaeng.db import make_session_factory
from sangsaeng.demo.generator import generate
from sangsaeng.demo.seed import DEMO_LOGINS, DEMO_PASSWORD, seed_database
from tests.conftest import clear_tables


def test_generator_is_deterministic_and_realistic():
    world = generate(seed=7, sme_count=320)
    assert world == generate(seed=7, sme_count=320)
    assert world != generate(seed=8, sme_count=320)
    smes = [o for o in world.orgs if o.kind == "sme"]
    assert len(smes) == 320
    assert sum(o.kind == "sponsor" for o in world.orgs) == 3
    assert sum(o.kind == "operator" for o in world.orgs) == 2
    assert all(normalize_business_no(o.business_no) == o.business_no for o in world.orgs)
    assert len({o.business_no for o in world.orgs}) == len(world.orgs)
    assert all(reference.parse_ksic(o.ksic_code) == o.ksic_code for o in world.orgs)
    assert all(reference.region(o.region_code) for o in world.orgs)
    divisions = Counter(o.ksic_code[:2] for o in smes)
    regions = Counter(o.region_code for o in smes)
    assert set(divisions) <= {str(d) for d in range(10, 35)} and len(divisions) >= 15
    assert len(regions) >= 12 and regions.most_common(1)[0][0] == "41"  # 경기 leads
    assert all(3 <= o.employees < 300 for o in smes)
    per_head = sorted(o.revenue_krw / o.employees for o in smes)
    assert 100e6 < per_head[len(per_head) // 2] < 600e6  # median revenue per employee, KRW


def test_supplier_trees_are_three_tiers_deep_with_shared_suppliers():
    world = generate(seed=2026)
    for sponsor, tiers in world.planted_tiers.items():
        assert set(tiers.values()) == {1, 2, 3}, sponsor
    memberships = Counter(k for tiers in world.planted_tiers.values() for k in tiers)
    assert any(n > 1 for n in memberships.values())  # some suppliers serve two sponsors


def test_seeded_database_recovers_the_planted_tiers(engine, db):
    clear_tables(engine)
    summary = seed_database(make_session_factory(engine), seed=11, sme_count=300, programs=False)
    world = generate(seed=11, sme_count=300)
    ids = {o.business_no: o.id for o in db.scalars(select(Organization))}
    key_to_id = {spec.key: ids[spec.business_no] for spec in world.orgs}
    for sponsor_key, planted in world.planted_tiers.items():
        derived = graph.supplier_tiers(db, key_to_id[sponsor_key])
        assert derived == {key_to_id[k]: tier for k, tier in planted.items()}, sponsor_key
    assert summary["organizations"] == len(world.orgs)
    roles = {m.role for m in db.scalars(select(Membership))}
    assert roles == {"admin", "operator", "sponsor", "sme", "adviser", "evaluator"}
    assert db.scalar(select(User).where(User.email == DEMO_LOGINS[0][0])) is not None
    _recovers_the_planted_diagnoses(db, world, key_to_id, seed=11)


def _recovers_the_planted_diagnoses(db, world, key_to_id, seed):
    """Every SME has a diagnosis; a second one a year later moves exactly as planted."""
    from sangsaeng.assessments import catalog
    from sangsaeng.assessments import service as assessments
    from sangsaeng.assessments.models import Assessment
    from sangsaeng.core.policy import SYSTEM_ACTOR
    from sangsaeng.demo.diagnoses import generate_diagnoses

    smes = [o for o in world.orgs if o.kind == "sme" and o.key.startswith("sme-")]
    from sangsaeng.demo.seed import demo_sme_key

    featured = demo_sme_key(world)
    planted = generate_diagnoses(
        smes, catalog.find("smart-factory-level"), seed=seed, featured=featured
    )
    assert featured in planted.improvers  # the demo login shows an improvement
    by_org: dict[int, list[Assessment]] = {}
    for a in db.scalars(select(Assessment).order_by(Assessment.assessed_on)):
        by_org.setdefault(a.organization_id, []).append(a)
    assert {key_to_id[o.key] for o in smes} <= set(by_org)
    assert len(planted.improvers) > 40 and len(planted.steady) > 40
    gains = []
    for key in planted.improvers | planted.steady:
        first, second = by_org[key_to_id[key]]
        change = assessments.change_between(db, SYSTEM_ACTOR, first.id, second.id)
        assert 330 <= change.days <= 400
        assert change.dimension_changes["organization"] == 0
        if key in planted.steady:
            assert change.overall_change == 0 and change.level_change == 0
        else:
            assert change.dimension_changes["technology"] >= 0
            assert change.level_change >= 0
            gains.append(change.overall_change)
    # One step up on every process and technology answer (75 % of the weight) is worth up to
    # 0.75 × 25 = 18.75 points; answers already at the top cannot rise, so the mean is a bit less.
    assert 12 < sum(gains) / len(gains) <= 18.75


def test_demo_login_works_for_the_sme(client, engine, db):
    clear_tables(engine)
    seed_database(make_session_factory(engine), seed=3, sme_count=300, programs=False)
    page = client.get("/login")
    from tests.factories import csrf_from

    response = client.post(
        "/login",
        data={
            "email": "sme@demo.sangsaeng.kr",
            "password": DEMO_PASSWORD,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 303
    dashboard = client.get("/")
    assert "후원기업별 협력사 차수" in dashboard.text  # its tiers under the steel sponsor
    assert "2차" in dashboard.text
