"""The demo's firm-year panel (demo/impact.py): one administrative extract owned by the demo
programs' operator, every participating company and ten times as many non-participants, the
planted selection visible in the rows, and an impact study on it recovering the planted effect
where the naive comparison does not.

Reads the demo seeded once per backend (tests/demo/conftest.py); nothing here seeds again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from sangsaeng.core.ids import normalize_business_no
from sangsaeng.core.models import Organization
from sangsaeng.core.orgs.service import revenue_bands
from sangsaeng.demo.impact import PLANTED_IMPACT, Truth, demo_participants, seed_impact
from sangsaeng.impact.engine.study import StudySpec, analyse
from sangsaeng.impact.models import FirmPanel, FirmYear
from sangsaeng.impact.panels import load_rows
from sangsaeng.impact.service import participant_cohorts
from sangsaeng.programs.models import Program, Project
from tests.demo.conftest import DEMO_GROUP, SEED

pytestmark = DEMO_GROUP


@pytest.fixture
def seeded(demo):
    return demo[2]["impact"]


@pytest.fixture
def panel(demo_db, seeded) -> FirmPanel:
    return demo_db.get(FirmPanel, seeded["panel_id"])


@pytest.fixture
def rows(demo_db, panel) -> pd.DataFrame:
    return load_rows(demo_db, panel.id)


def _program_ids(session) -> list[int]:
    return list(session.scalars(select(Program.id).join(Project).distinct()))


def _study(session, rows: pd.DataFrame, rule: str, spec: StudySpec):
    """The study of the demo programs as the product runs it: the service's cohorts and left-out
    firms (participants without a cohort under ``rule``), the installation's revenue bands."""
    ids = _program_ids(session)
    cohorts, left_out = participant_cohorts(session, ids, rule)
    bands = [(b.code, b.min_krw, b.max_krw) for b in revenue_bands(session)]
    used = rows.loc[~rows["business_no"].isin(left_out)]
    return demo_participants(session, ids), analyse(used, cohorts, spec, bands)


def test_the_truth_has_the_cohorts_a_study_gives(demo_db):
    ids = _program_ids(demo_db)
    participants = demo_participants(demo_db, ids)
    for rule in ("completed", "started"):
        cohorts, _ = participant_cohorts(demo_db, ids, rule)
        assert cohorts == {
            p.business_no: getattr(p, rule) for p in participants if getattr(p, rule)
        }


def test_one_administrative_panel_owned_by_the_programs_operator(demo_db, panel, seeded):
    operators = set(demo_db.scalars(select(Program.operator_org_id)))
    assert operators == {panel.organization_id}
    assert panel.source == "administrative"
    assert panel.name == f"국세청·신용평가 재무 추출 {panel.year_min}–{panel.year_max} (합성)"
    stored = demo_db.execute(
        select(func.count(), func.count(func.distinct(FirmYear.business_no))).where(
            FirmYear.panel_id == panel.id
        )
    ).one()
    assert tuple(stored) == (panel.n_rows, panel.n_firms) == (seeded["rows"], seeded["firms"])
    assert demo_db.scalar(select(func.count()).select_from(FirmPanel)) == 1


def test_every_participating_company_and_ten_times_as_many_others(demo_db, panel, rows):
    participants = demo_participants(demo_db, _program_ids(demo_db))
    own = {p.business_no for p in participants}
    with_projects = set(
        demo_db.scalars(
            select(Organization.business_no).join(
                Project, Project.organization_id == Organization.id
            )
        )
    )
    assert own == with_projects
    years = list(range(panel.year_min, panel.year_max + 1))
    counts = rows.groupby("business_no")["year"].nunique()
    assert (counts[sorted(own)] == len(years)).all()  # every participant in every year
    others = set(rows["business_no"]) - own
    assert len(others) >= 10 * len(own)
    assert all(normalize_business_no(b) == b for b in others)
    assert not others & set(demo_db.scalars(select(Organization.business_no)))
    # The extract's usual flaws: a few missing figures and a few firms absent some years.
    assert 0 < rows["employees"].isna().mean() < 0.01
    assert 0 < (counts < len(years)).sum() < 0.1 * len(counts)
    # The participants' own figures match their company profiles in the last year.
    profile = dict(
        demo_db.execute(
            select(Organization.business_no, Organization.ksic_code).where(
                Organization.business_no.in_(own)
            )
        ).all()
    )
    last = rows.loc[rows["business_no"].isin(own) & (rows["year"] == panel.year_max)]
    assert (last["ksic_code"] == last["business_no"].map(profile)).all()


def test_the_years_cover_pre_periods_before_every_cohort(demo_db, panel, seeded):
    cohorts = {int(g) for rule in seeded["cohorts"].values() for g in rule}
    assert min(cohorts) - panel.year_min >= 5
    assert max(cohorts) <= panel.year_max
    # The demo's projects complete in one year (last year's call); they started in two.
    assert len(seeded["cohorts"]["completed"]) == 1
    assert len(seeded["cohorts"]["started"]) == 2


def test_participants_grew_faster_before_their_support(demo_db, panel, rows):
    participants = demo_participants(demo_db, _program_ids(demo_db))
    first = min(p.started for p in participants if p.started)
    wide = rows.pivot(index="business_no", columns="year", values="revenue")
    growth = np.log(wide[first - 1] / wide[panel.year_min]) / (first - 1 - panel.year_min)
    own = growth.index.isin({p.business_no for p in participants})
    gap = growth[own].mean() - growth[~own].mean()
    planted = PLANTED_IMPACT.trend_participants - PLANTED_IMPACT.trend_others
    assert gap == pytest.approx(planted, abs=0.012)


def test_seeding_again_changes_nothing(demo_db, panel, seeded):
    again = seed_impact(demo_db, program_ids={"p": pid for pid in _program_ids(demo_db)}, seed=SEED)
    assert again.panel_id == panel.id
    assert demo_db.scalar(select(func.count()).select_from(FirmYear)) == seeded["rows"]


def test_the_matched_did_recovers_the_planted_effect_and_the_naive_comparison_does_not(
    demo_db, panel, rows
):
    participants, result = _study(demo_db, rows, "completed", StudySpec())
    years = list(range(panel.year_min, panel.year_max + 1))
    truth = Truth.of(participants, years)
    sizes = {int(g): n for g, n in result["n"]["cohorts"].items()}
    true = truth.simple_att(sizes, years)
    simple = result["did"]["aggregations"]["simple"]
    assert simple["ci"][0] <= true <= simple["ci"][1]
    naive = result["naive"]
    assert not naive["ci"][0] <= true <= naive["ci"][1]
    assert naive["ci"][0] > true + 0.05  # selection on growth inflates it
    growth = next(b for b in result["balance"] if b["variable"] == "pre_growth")
    assert abs(growth["smd_after"]) < abs(growth["smd_before"])
    assert abs(growth["smd_after"]) < 0.1 < abs(growth["smd_before"])
    assert result["n"]["treated"] >= 0.8 * result["n"]["participants"]


def test_by_start_year_the_effect_waits_for_completion(demo_db, panel, rows):
    """Cohorts by start year: last year's starters gain only from their completion (this
    year); this year's starters have not completed and gain nothing yet."""
    participants, result = _study(demo_db, rows, "started", StudySpec(cohort_rule="started"))
    years = list(range(panel.year_min, panel.year_max + 1))
    truth = Truth.of(participants, years)
    sizes = {int(g): n for g, n in result["n"]["cohorts"].items()}
    true = truth.simple_att(sizes, years, rule="started")
    simple = result["did"]["aggregations"]["simple"]
    assert simple["ci"][0] <= true <= simple["ci"][1]
    cells = {(c["group"], c["time"]): c for c in result["did"]["att_gt"]}
    first = min(sizes)
    assert cells[(first, first)]["ci"][0] <= 0 <= cells[(first, first)]["ci"][1]
    assert not result["naive"]["ci"][0] <= true <= result["naive"]["ci"][1]
