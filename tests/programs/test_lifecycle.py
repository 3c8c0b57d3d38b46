"""From the call to the money: apply, evaluate, select, sign, pay milestones, complete, cancel —
on both databases, through the services."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from sangsaeng.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sangsaeng.core.policy import SYSTEM_ACTOR
from sangsaeng.ledger import service as ledger
from sangsaeng.programs import application_service as applications
from sangsaeng.programs import evaluation_service as evaluation
from sangsaeng.programs import project_service as projects
from sangsaeng.programs.models import FollowUp, Milestone
from tests.programs import lifecycle
from tests.programs.lifecycle import close_call, evaluate_all, fill, fund


def _signed(db, world, scores=None):
    apps = [fill(db, world, i) for i in range(3)]
    for a, actor in zip(apps, world.sme_actors, strict=True):
        applications.submit(db, actor, a.id)
    close_call(db, world)
    scores = scores or {
        apps[0].id: [90, 80, 85],
        apps[1].id: [70, 75, 72],
        apps[2].id: [60, 65, 61],
    }
    evaluate_all(db, world, [a.id for a in apps], scores)
    evaluation.decide(db, world.operator, world.program.id)
    evaluation.publish(db, world.operator, world.program.id)
    fund(db, world)
    project = projects.sign(
        db,
        world.operator,
        apps[0].id,
        starts_on=date.today(),
        ends_on=date.today() + timedelta(days=180),
    )
    return apps, project


def _report(db, world, project, kind):
    milestone = next(m for m in projects.milestones(db, project.id) if m.kind == kind)
    projects.submit_milestone(
        db, world.sme_actors[0], milestone.id, report="착수 보고: 설비 발주와 일정 확정."
    )
    return projects.approve_milestone(db, world.operator, milestone.id)


def test_the_whole_lifecycle_moves_money_exactly_once(db):
    world = lifecycle.build(db)
    apps, project = _signed(db, world)
    assert [a.status for a in apps] == ["selected", "selected", "reserve"]
    assert [a.rank for a in apps] == [1, 2, 3]
    # Cash budget 100,000,000 held: 30 % government, 30 % sponsor, 40 % the SME's deposit.
    money = projects.money_of(db, project)
    assert (money.budget, money.held, money.paid) == (100_000_000, 100_000_000, 0)
    _report(db, world, project, "kickoff")
    assert projects.money_of(db, project).paid == 30_000_000
    _report(db, world, project, "midterm")
    _report(db, world, project, "completion")
    final = next(m for m in projects.milestones(db, project.id) if m.kind == "final")
    with pytest.raises(Conflict):  # no passed final inspection yet
        projects.approve_milestone(db, world.operator, final.id)
    projects.record_inspection(
        db,
        world.operator,
        project.id,
        inspected_on=date.today(),
        result="pass",
        findings="최종 점검 결과 이상 없음",
        milestone_id=final.id,
    )
    projects.approve_milestone(db, world.operator, final.id)
    money = projects.money_of(db, project)
    assert (money.paid, money.held, money.released) == (100_000_000, 0, 0)
    assert project.status == "completed"
    follow_ups = db.scalars(select(FollowUp).where(FollowUp.project_id == project.id)).all()
    assert sorted({f.year_no for f in follow_ups}) == [1, 2, 3] and len(follow_ups) == 6
    with pytest.raises(Conflict):
        projects.approve_milestone(db, world.operator, final.id)
    assert ledger.check(db).violations == []


def test_cancellation_releases_holds_and_recovers_payments(db):
    world = lifecycle.build(db)
    _apps, project = _signed(db, world)
    _report(db, world, project, "kickoff")
    with pytest.raises(InvalidInput):
        projects.cancel(db, world.operator, project.id, reason="사업 포기", recover_krw=30_000_001)
    projects.cancel(db, world.operator, project.id, reason="사업 포기", recover_krw=30_000_000)
    money = projects.money_of(db, project)
    assert (money.paid, money.held, money.released, money.recovered) == (
        30_000_000,
        0,
        70_000_000,
        30_000_000,
    )
    assert project.status == "cancelled"
    assert ledger.check(db).violations == []


def test_a_fund_short_of_money_refuses_the_whole_agreement(db):
    world = lifecycle.build(db)
    apps = [fill(db, world, 0)]
    applications.submit(db, world.sme_actors[0], apps[0].id)
    close_call(db, world)
    evaluate_all(db, world, [apps[0].id], {apps[0].id: [80, 80, 80]})
    evaluation.decide(db, world.operator, world.program.id)
    evaluation.publish(db, world.operator, world.program.id)
    fund(db, world, amount=10_000_000)  # less than the 30,000,000 each source must hold
    with pytest.raises(InvalidInput):
        projects.sign(
            db,
            world.operator,
            apps[0].id,
            starts_on=date.today(),
            ends_on=date.today() + timedelta(days=90),
        )
    assert projects.selected_without_agreement(db, world.program.id)[0].id == apps[0].id
    assert ledger.check(db).violations == []


def test_amounts_over_the_cap_and_off_the_shares_are_refused_and_nothing_is_saved(db):
    world = lifecycle.build(db)
    actor = world.sme_actors[0]
    application = applications.start(db, actor, world.program.id)
    split = applications.expected_split(db, world.program, 200_000_000)
    with pytest.raises(InvalidInput) as caught:  # support 120,000,000 > the 60,000,000 cap
        applications.save(db, actor, application.id, {"total_krw": 200_000_000, "requested": split})
    assert "total_krw" in caught.value.fields
    wrong = dict(applications.expected_split(db, world.program, 100_000_000), sme=40_000_001)
    with pytest.raises(InvalidInput) as caught:
        applications.save(db, actor, application.id, {"total_krw": 100_000_000, "requested": wrong})
    assert "requested" in caught.value.fields
    with pytest.raises(InvalidInput) as caught:  # the 기초 cap is 40,000,000 of support
        applications.save(
            db,
            actor,
            application.id,
            {
                "support_type": "basic",
                "total_krw": 100_000_000,
                "requested": applications.expected_split(db, world.program, 100_000_000),
            },
        )
    db.refresh(application)
    assert application.total_krw is None and application.requested == {}


def test_a_document_of_a_forbidden_type_is_refused(db):
    world = lifecycle.build(db)
    actor = world.sme_actors[0]
    application = applications.start(db, actor, world.program.id)
    with pytest.raises(InvalidInput):
        applications.attach_document(
            db,
            actor,
            lifecycle._storage(),
            application.id,
            "사업계획서",
            data=b"MZ\x90\x00binary",
            filename="plan.exe",
        )
    db.refresh(application)
    assert application.documents == {}


def test_submission_is_refused_with_reasons_and_locked_after_the_deadline(db):
    world = lifecycle.build(db)
    actor = world.sme_actors[0]
    application = applications.start(db, actor, world.program.id)
    with pytest.raises(InvalidInput) as caught:
        applications.submit(db, actor, application.id)
    assert {
        "title",
        "plan",
        "solution_id",
        "total_krw",
        "target_kpis",
        "document:사업계획서",
    } <= set(caught.value.fields)
    filled = fill(db, world, 1)
    close_call(db, world)
    with pytest.raises(Conflict):
        applications.submit(db, world.sme_actors[1], filled.id)
    with pytest.raises(Conflict):
        applications.save(db, world.sme_actors[1], filled.id, {"title": "늦은 수정"})


def test_an_ineligible_company_learns_which_rule_failed(db):
    world = lifecycle.build(db)
    world.smes[0].size_class = "large"
    db.flush()
    application = fill(db, world, 0)
    with pytest.raises(InvalidInput) as caught:
        applications.submit(db, world.sme_actors[0], application.id)
    assert "eligibility" in caught.value.fields
    db.refresh(application)
    assert application.eligible is False
    assert [v["rule"] for v in application.eligibility if not v["passed"]] == ["size_class"]


def test_evaluator_conflicts(db):
    world = lifecycle.build(db)
    application = fill(db, world, 0)
    applications.submit(db, world.sme_actors[0], application.id)
    evaluation.screen(db, world.operator, application.id, passed=True)
    from tests.factories import make_user

    insider = make_user(db, email="insider@example.kr", roles=[(world.smes[0], "evaluator")])
    with pytest.raises(InvalidInput):  # a member of the applicant
        evaluation.assign(db, world.operator, application.id, insider.email)
    provider_person = make_user(
        db, email="vendor@example.kr", roles=[(world.provider, "evaluator")]
    )
    with pytest.raises(InvalidInput):  # a member of the chosen solution provider
        evaluation.assign(db, world.operator, application.id, provider_person.email)
    assignment = evaluation.assign(db, world.operator, application.id, world.evaluator_emails[0])
    evaluator = world.evaluators[0]
    with pytest.raises(NotFound):  # not before declaring
        applications.get_application(db, evaluator, application.id)
    with pytest.raises(Forbidden):
        evaluation.application_for_evaluator(db, evaluator, assignment.id)
    evaluation.declare(db, evaluator, assignment.id, conflict=True, note="거래 관계")
    with pytest.raises(Forbidden):
        evaluation.score(db, evaluator, assignment.id, {})
    with pytest.raises(NotFound):
        applications.get_application(db, evaluator, application.id)
    with pytest.raises(NotFound):  # another evaluator's assignment does not exist for you
        evaluation.get_assignment(db, world.evaluators[1], assignment.id)


def test_objection_is_lodged_and_must_be_answered(db):
    world = lifecycle.build(db)
    apps, _project = _signed(db, world)
    reserve = apps[2]
    with pytest.raises(NotFound):  # another company's application does not exist for you
        evaluation.lodge_objection(
            db, world.sme_actors[0], reserve.id, "점수 산정에 오류가 있습니다."
        )
    objection = evaluation.lodge_objection(
        db, world.sme_actors[2], reserve.id, "점수 산정에 오류가 있습니다."
    )
    assert [o.id for o in evaluation.open_objections(db, world.operator, world.program.id)] == [
        objection.id
    ]
    with pytest.raises(Conflict):  # the quota (2) is filled
        evaluation.answer_objection(
            db,
            world.operator,
            objection.id,
            upheld=True,
            answer="재검토 결과 타당합니다.",
            new_status="selected",
        )
    evaluation.answer_objection(
        db, world.operator, objection.id, upheld=False, answer="평가 절차에 오류가 없었습니다."
    )
    assert evaluation.open_objections(db, world.operator, world.program.id) == []


def test_another_operator_cannot_see_or_manage(db):
    world = lifecycle.build(db)
    apps, project = _signed(db, world)
    other = world.other_operator
    with pytest.raises(NotFound):
        applications.get_application(db, other, apps[0].id)
    with pytest.raises(NotFound):
        projects.get_project(db, other, project.id)
    with pytest.raises(Forbidden):
        applications.list_applications(db, other, world.program.id)
    with pytest.raises(NotFound):
        applications.get_application(db, world.sme_actors[1], apps[0].id)
    milestone = projects.milestones(db, project.id)[0]
    with pytest.raises(NotFound):
        projects.approve_milestone(db, other, milestone.id)
    assert db.get(Milestone, milestone.id).status == "planned"
    assert SYSTEM_ACTOR.is_admin


def test_program_files_are_read_by_the_programs_operators_and_declared_evaluators(db):
    from sangsaeng.core.files import service as files

    world = lifecycle.build(db)
    application = fill(db, world, 0)
    file_id = application.documents["사업계획서"][0]
    assert files.get(db, world.operator, file_id).id == file_id
    for stranger in (world.other_operator, world.sme_actors[1], world.evaluators[0]):
        with pytest.raises(NotFound):
            files.get(db, stranger, file_id)
    applications.submit(db, world.sme_actors[0], application.id)
    evaluation.screen(db, world.operator, application.id, passed=True)
    assignment = evaluation.assign(db, world.operator, application.id, world.evaluator_emails[0])
    with pytest.raises(NotFound):  # not before the pledge
        files.get(db, world.evaluators[0], file_id)
    evaluation.declare(db, world.evaluators[0], assignment.id, conflict=False)
    assert files.get(db, world.evaluators[0], file_id).id == file_id


def test_milestone_deliverables_are_read_by_the_programs_operators(db):
    from sangsaeng.core.files import service as files

    world = lifecycle.build(db)
    _apps, project = _signed(db, world)
    stored = files.store(
        db,
        world.sme_actors[0],
        lifecycle._storage(),
        data=lifecycle.PDF,
        filename="d.pdf",
        place="program",
        organization_id=world.smes[0].id,
    )
    kickoff = projects.milestones(db, project.id)[0]
    projects.submit_milestone(
        db,
        world.sme_actors[0],
        kickoff.id,
        report="착수 보고: 설비 발주 완료.",
        file_ids=[stored.id],
    )
    assert files.get(db, world.operator, stored.id).id == stored.id
    with pytest.raises(NotFound):
        files.get(db, world.other_operator, stored.id)


def test_a_company_supported_recently_by_the_same_kind_of_program_is_not_eligible(db):
    from sangsaeng.programs import service as programs

    world = lifecycle.build(db)
    _apps, _project = _signed(db, world)  # SME 0 has an agreement in a 2027 smart-factory program
    rule = {"rule": "not_supported_recently", "kind": "smart_factory", "years": 3}
    later = programs.create_program(
        db,
        world.operator,
        world.operator_org.id,
        lifecycle.program_values(year=2028, eligibility_rules=[rule]),
    )
    programs.set_status(db, world.operator, later.id, "open")
    supported = programs.check_eligibility(db, world.sme_actors[0], later.id)
    assert not supported.eligible
    assert supported.failed[0].params["year"] == 2027
    assert programs.check_eligibility(db, world.sme_actors[2], later.id).eligible
