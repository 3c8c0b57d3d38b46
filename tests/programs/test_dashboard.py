"""The program overview, the sponsor's view, and copying a program into the next year."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from sangsaeng.core.errors import Conflict, Forbidden, NotFound
from sangsaeng.core.policy import SYSTEM_ACTOR
from sangsaeng.programs import dashboard_service as dashboards
from sangsaeng.programs import project_service as projects
from sangsaeng.programs import service as programs
from sangsaeng.programs.engine.stats import mean_interval
from tests.assessments.helpers import actor_of
from tests.factories import link, make_user
from tests.programs import lifecycle
from tests.programs.test_lifecycle import _report, _signed


def test_overview_counts_money_and_stages(db):
    world = lifecycle.build(db)
    _apps, project = _signed(db, world)
    _report(db, world, project, "kickoff")
    board = dashboards.overview(db, world.operator, world.program.id)
    assert board.applications_by_status == {"selected": 2, "reserve": 1}
    assert (board.n_ranked, board.n_selected, board.selection_rate) == (3, 2, 2 / 3)
    funds = {f.code: f for f in board.funds}
    # 1,000,000,000 contributed per outside source; 30,000,000 held each at signing; the kickoff
    # paid 30 % of it (9,000,000 per outside source, 12,000,000 of the SME's 40,000,000).
    assert funds["government"].contributed == 1_000_000_000
    assert (funds["government"].held, funds["government"].disbursed) == (21_000_000, 9_000_000)
    assert (funds["sme"].contributed, funds["sme"].held, funds["sme"].disbursed) == (
        40_000_000,
        28_000_000,
        12_000_000,
    )
    assert funds["sponsor"].free == 1_000_000_000 - 30_000_000
    assert [(org.id, amount) for org, amount in board.contributions_by_sponsor] == [
        (world.sponsor.id, 1_000_000_000)
    ]
    assert board.projects_by_status == {"active": 1}
    assert board.active_by_stage == {"midterm": 1}
    assert board.overdue == []
    with pytest.raises(Forbidden):
        dashboards.overview(db, world.sme_actors[0], world.program.id)


def test_overdue_milestones_are_listed(db):
    world = lifecycle.build(db)
    _apps, project = _signed(db, world)
    kickoff = projects.milestones(db, project.id)[0]
    kickoff.due_on = date.today() - timedelta(days=3)
    db.flush()
    board = dashboards.overview(db, world.operator, world.program.id)
    assert [(o.kind, o.project_id, o.days_late) for o in board.overdue] == [
        ("milestone", project.id, 3)
    ]


def test_sponsor_sees_its_contribution_and_the_tiers_it_reached(db):
    world = lifecycle.build(db)
    link(db, world.sponsor, world.smes[0])
    _apps, _project = _signed(db, world)
    sponsor_actor = actor_of(db, make_user(db, roles=[(world.sponsor, "sponsor")]))
    sponsor, rows = dashboards.sponsor_overview(db, sponsor_actor, world.sponsor.id)
    assert sponsor.id == world.sponsor.id
    assert [(r.program.id, r.contributed, r.smes_reached, r.by_tier) for r in rows] == [
        (world.program.id, 1_000_000_000, 1, {"1": 1})
    ]
    with pytest.raises(NotFound):
        dashboards.sponsor_overview(db, world.sme_actors[0], world.sponsor.id)


def test_copy_into_the_next_year_keeps_the_rules_and_drops_the_applications(db):
    world = lifecycle.build(db)
    lifecycle.fill(db, world, 0)
    copy = programs.copy_program(db, world.operator, world.program.id)
    assert (copy.year, copy.status, copy.copied_from_id) == (2028, "draft", world.program.id)
    assert copy.name_ko == "2028 상생형 스마트공장 구축 — 한빛철강"
    for field in ("eligibility_rules", "support_types", "required_documents", "score_sheet"):
        assert getattr(copy, field) == getattr(world.program, field)
    assert [(s.code, s.share) for s in programs.sources(db, copy)] == [
        (s.code, s.share) for s in programs.sources(db, world.program)
    ]
    assert [o.id for o in programs.sponsors(db, copy)] == [world.sponsor.id]
    assert copy.closes_at.year == world.program.closes_at.year + 1
    board = dashboards.overview(db, world.operator, copy.id)
    assert board.n_applications == 0 and board.n_drafts == 0
    with pytest.raises(Forbidden):
        programs.copy_program(db, world.other_operator, world.program.id)


def test_only_a_draft_can_be_edited(db):
    world = lifecycle.build(db)
    values = lifecycle.program_values(quota=7)
    with pytest.raises(Conflict):
        programs.update_program(db, world.operator, world.program.id, values)
    copy = programs.copy_program(db, world.operator, world.program.id)
    programs.update_program(db, world.operator, copy.id, values)
    assert copy.quota == 7
    assert [s.code for s in programs.sources(db, copy)] == ["government", "sponsor", "sme"]
    assert programs.sponsors(db, copy) == []


def test_edit_form_round_trips_a_program(db):
    world = lifecycle.build(db)
    copy = programs.copy_program(db, world.operator, world.program.id)
    posted = programs.form_from_program(db, copy)
    values = programs.values_from_form(posted | {"closes_at": "2099-01-31T18:00"})
    programs.update_program(db, world.operator, copy.id, values)
    assert copy.support_types == world.program.support_types
    assert copy.eligibility_rules == world.program.eligibility_rules
    assert SYSTEM_ACTOR.is_admin


def test_mean_interval():
    result = mean_interval([1.0, 2.0, 3.0, 4.0])
    assert result.mean == 2.5 and result.n == 4
    # s = 1.291, t(0.975, 3) = 3.182 → half-width 2.054
    assert result.low == pytest.approx(0.4459, abs=1e-3)
    assert result.high == pytest.approx(4.5541, abs=1e-3)
    assert mean_interval([5.0]).low is None
