"""Programs tell the people concerned what happened, each in their own language (Korean by
default), inside the event's transaction: nobody else hears of it and a refused action tells
nobody. Follow-ups are reminded once when due soon and once when overdue."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from sangsaeng.cli import app as cli_app
from sangsaeng.core.errors import Conflict, InvalidInput
from sangsaeng.core.models import User
from sangsaeng.core.notifications.models import Notification, OutboxEmail
from sangsaeng.jobs import build_huey, register_tasks
from sangsaeng.programs import application_service as applications
from sangsaeng.programs import evaluation_service as evaluation
from sangsaeng.programs import project_service as projects
from sangsaeng.programs.models import P_COMPLETED, FollowUp
from tests.factories import make_user
from tests.programs import lifecycle
from tests.programs.lifecycle import close_call, evaluate_all, fill, fund

PLAN_SCORES = ([90, 80, 85], [70, 75, 72], [60, 65, 61])


class Inbox:
    """What each user received since the last look."""

    def __init__(self, db):
        self.db = db
        self.mark = self._last()

    def _last(self) -> int:
        return self.db.scalar(select(func.max(Notification.id))) or 0

    def new(self) -> dict[int, list[Notification]]:
        rows = self.db.scalars(
            select(Notification).where(Notification.id > self.mark).order_by(Notification.id)
        ).all()
        self.mark = self._last()
        found: dict[int, list[Notification]] = {}
        for row in rows:
            found.setdefault(row.user_id, []).append(row)
        return found

    def one_each(self, expected: set[int]) -> dict[int, Notification]:
        """Exactly one new notification for each expected user and none for anyone else."""
        found = self.new()
        assert set(found) == expected
        assert all(len(items) == 1 for items in found.values()), found
        return {user: items[0] for user, items in found.items()}


def _english_user(db, org, role: str) -> User:
    user = make_user(db, roles=[(org, role)])
    user.locale = "en"
    db.flush()
    return user


def _world(db):
    world = lifecycle.build(db, n_smes=4)
    world.en_member = _english_user(db, world.smes[0], "sme")  # type: ignore[attr-defined]
    world.en_operator = _english_user(db, world.operator_org, "operator")  # type: ignore[attr-defined]
    return world


def _members(world, index: int) -> set[int]:
    ids = {world.sme_actors[index].user_id}
    return ids | ({world.en_member.id} if index == 0 else set())


def _operators(world) -> set[int]:
    return {world.operator.user_id, world.en_operator.id}


def _selected(db, world, inbox: Inbox):
    """Four applications: three evaluated, ranked and published, the fourth screened out."""
    apps = [fill(db, world, i) for i in range(4)]
    for application, actor in zip(apps, world.sme_actors, strict=True):
        applications.submit(db, actor, application.id)
    close_call(db, world)
    evaluate_all(db, world, [a.id for a in apps[:3]], dict(zip((a.id for a in apps), PLAN_SCORES)))
    inbox.new()
    return apps


def test_evaluation_events_tell_the_evaluator_the_applicants_and_the_operators(db):
    world = _world(db)
    inbox = Inbox(db)
    apps = [fill(db, world, i) for i in range(4)]
    for application, actor in zip(apps, world.sme_actors, strict=True):
        applications.submit(db, actor, application.id)
    close_call(db, world)
    assert inbox.new() == {}

    # Screened out: the company's members, with the reason; a refused screening tells nobody.
    with pytest.raises(InvalidInput):
        evaluation.screen(db, world.operator, apps[3].id, passed=False, note="")
    evaluation.screen(db, world.operator, apps[3].id, passed=False, note="사업계획서가 누락됨")
    told = inbox.one_each({world.sme_actors[3].user_id})
    item = told[world.sme_actors[3].user_id]
    assert item.title == f"{world.program.name_ko} 신청서가 서면 검토에서 제외되었습니다."
    assert item.body == "사유: 사업계획서가 누락됨" and item.link == f"/applications/{apps[3].id}"
    evaluation.screen(db, world.operator, apps[0].id, passed=True)
    assert inbox.new() == {}

    # Assigned: the evaluator alone (in English for one who chose English); assigning the same
    # evaluator again, or someone who is not an evaluator, tells nobody.
    evaluator, en_evaluator = world.evaluators[0], world.evaluators[1]
    db.get(User, en_evaluator.user_id).locale = "en"
    assignment = evaluation.assign(db, world.operator, apps[0].id, world.evaluator_emails[0])
    told = inbox.one_each({evaluator.user_id})[evaluator.user_id]
    assert told.title == "신청서 평가가 배정되었습니다."
    assert told.link == f"/evaluations/{assignment.id}" and world.smes[0].name_ko in told.body
    evaluation.assign(db, world.operator, apps[0].id, world.evaluator_emails[0])
    with pytest.raises(InvalidInput):
        evaluation.assign(
            db, world.operator, apps[0].id, db.get(User, world.sme_actors[1].user_id).email
        )
    assert inbox.new() == {}
    evaluation.assign(db, world.operator, apps[0].id, world.evaluator_emails[1])
    told = inbox.one_each({en_evaluator.user_id})[en_evaluator.user_id]
    assert told.title == "You have been assigned an application to evaluate."
    # An e-mail goes with it, in the same language.
    mail = db.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()
    assert mail.subject == told.title and mail.body.endswith(told.link)

    # Published: every ranked company, its outcome and rank; not the screened-out one.
    evaluate_all(db, world, [a.id for a in apps[:3]], dict(zip((a.id for a in apps), PLAN_SCORES)))
    evaluation.decide(db, world.operator, world.program.id)
    inbox.new()
    evaluation.publish(db, world.operator, world.program.id)
    told = inbox.one_each(_members(world, 0) | _members(world, 1) | _members(world, 2))
    assert told[world.sme_actors[0].user_id].body == "신청 결과: 선정 (3건 중 1위)."
    assert told[world.en_member.id].body == "Your application: Selected (rank 1 of 3)."
    assert told[world.sme_actors[2].user_id].body == "신청 결과: 예비 선정 (3건 중 3위)."
    assert told[world.sme_actors[1].user_id].link == f"/applications/{apps[1].id}"
    with pytest.raises(Conflict):  # published twice: refused, nobody told again
        evaluation.publish(db, world.operator, world.program.id)
    assert inbox.new() == {}

    # An objection: the program's operators (not another operator's); the answer: the company.
    with pytest.raises(InvalidInput):
        evaluation.lodge_objection(db, world.sme_actors[2], apps[2].id, "짧음")
    assert inbox.new() == {}
    objection = evaluation.lodge_objection(
        db, world.sme_actors[2], apps[2].id, "평가 점수 산정에 오류가 있습니다."
    )
    told = inbox.one_each(_operators(world))
    assert told[world.operator.user_id].link == f"/programs/{world.program.id}/objections"
    assert world.smes[2].name_ko in told[world.operator.user_id].title
    assert told[world.en_operator.id].title.startswith(world.smes[2].name_ko + " lodged")
    evaluation.answer_objection(
        db, world.operator, objection.id, upheld=False, answer="점수 산정을 다시 확인했습니다."
    )
    told = inbox.one_each(_members(world, 2))[world.sme_actors[2].user_id]
    assert told.title == f"{world.program.name_ko} 결과에 대한 이의신청이 기각되었습니다."
    assert told.body == "운영기관 답변: 점수 산정을 다시 확인했습니다."


def _signed(db, world, inbox: Inbox):
    apps = _selected(db, world, inbox)
    evaluation.decide(db, world.operator, world.program.id)
    evaluation.publish(db, world.operator, world.program.id)
    fund(db, world)
    inbox.new()
    starts = date.today()
    project = projects.sign(
        db, world.operator, apps[0].id, starts_on=starts, ends_on=starts + timedelta(days=180)
    )
    return apps, project


def test_project_events_tell_the_company_or_the_operators(db):
    world = _world(db)
    inbox = Inbox(db)
    _apps, project = _signed(db, world, inbox)
    company, operators = _members(world, 0), _operators(world)
    sme = world.sme_actors[0]
    link = f"/projects/{project.id}"

    told = inbox.one_each(company)
    assert told[sme.user_id].title == f"{world.program.name_ko} 협약이 체결되었습니다."
    assert project.agreement_no in told[sme.user_id].body and told[sme.user_id].link == link
    assert told[world.en_member.id].body.startswith(f"Agreement no. {project.agreement_no};")

    kickoff, midterm = projects.milestones(db, project.id)[:2]
    # Refused actions tell nobody: out of order, not reported, reported by another company.
    with pytest.raises(Conflict):
        projects.approve_milestone(db, world.operator, midterm.id)
    with pytest.raises(Conflict):
        projects.approve_milestone(db, world.operator, kickoff.id)
    with pytest.raises(InvalidInput):
        projects.submit_milestone(db, sme, kickoff.id, report="짧음")
    assert inbox.new() == {}

    projects.submit_milestone(db, sme, kickoff.id, report="착수 보고: 설비 발주와 일정 확정.")
    told = inbox.one_each(operators)
    assert told[world.operator.user_id].title == (
        f"단계 보고가 접수되었습니다: {world.smes[0].name_ko} — 착수"
    )
    assert (
        told[world.en_operator.id].title
        == f"{world.smes[0].name_ko} reported a milestone: Kickoff."
    )
    projects.reject_milestone(db, world.operator, kickoff.id, note="일정표를 첨부하세요.")
    told = inbox.one_each(company)
    assert told[sme.user_id].title == f"단계 보완 요청: 착수 ({project.agreement_no})"
    assert told[sme.user_id].body == "보완할 사항: 일정표를 첨부하세요."
    projects.submit_milestone(db, sme, kickoff.id, report="착수 보고: 일정표를 첨부했습니다.")
    inbox.one_each(operators)
    projects.approve_milestone(db, world.operator, kickoff.id)
    told = inbox.one_each(company)
    assert told[sme.user_id].title == f"단계 승인: 착수 ({project.agreement_no})"
    assert told[sme.user_id].body == f"{world.provider.name_ko}에 30,000,000원이 지급되었습니다."
    assert told[world.en_member.id].body == f"30,000,000 KRW is paid to {world.provider.name_ko}."

    # Budget changes: the request to the operators, the decision to the company.
    lines = {"사업비": 60_000_000, "장비비": 40_000_000}
    with pytest.raises(InvalidInput):
        projects.request_budget_change(db, sme, project.id, lines={"사업비": 1}, reason="x" * 20)
    assert inbox.new() == {}
    change = projects.request_budget_change(
        db, sme, project.id, lines=lines, reason="장비 구입 비중을 늘립니다."
    )
    told = inbox.one_each(operators)
    assert told[world.operator.user_id].body == "사유: 장비 구입 비중을 늘립니다."
    projects.decide_budget_change(db, world.operator, change.id, approve=True)
    told = inbox.one_each(company)
    assert told[sme.user_id].title == f"사업비 변경이 승인되었습니다({project.agreement_no})."

    # Suspended, resumed, cancelled: the company, with the reason and the recovered amount.
    with pytest.raises(InvalidInput):
        projects.suspend(db, world.operator, project.id, reason="")
    with pytest.raises(Conflict):
        projects.resume(db, world.operator, project.id)
    assert inbox.new() == {}
    projects.suspend(db, world.operator, project.id, reason="현장 점검 필요")
    assert inbox.one_each(company)[sme.user_id].body == "사유: 현장 점검 필요"
    projects.resume(db, world.operator, project.id)
    told = inbox.one_each(company)
    assert told[sme.user_id].title == f"사업이 재개되었습니다({project.agreement_no})."
    projects.cancel(db, world.operator, project.id, reason="사업 포기", recover_krw=10_000_000)
    told = inbox.one_each(company)
    assert told[sme.user_id].title == f"협약이 해지되었습니다({project.agreement_no})."
    assert told[sme.user_id].body == "사유: 사업 포기 지급액 중 10,000,000원을 환수합니다."
    assert told[world.en_member.id].link == link
    with pytest.raises(Conflict):
        projects.cancel(db, world.operator, project.id, reason="다시 해지")
    assert inbox.new() == {}


def _completed_with_follow_ups(db, world, inbox: Inbox, completed_on: date):
    _apps, project = _signed(db, world, inbox)
    # The follow-up years as the final approval schedules them (the milestones are walked in
    # test_lifecycle; here only the schedule matters).
    project.status = P_COMPLETED
    projects.schedule_follow_ups(db, project, 2, completed_on)
    inbox.new()
    return project


def test_follow_ups_are_reminded_once_when_due_soon_and_once_when_overdue(db):
    world = _world(db)
    inbox = Inbox(db)
    completed = date(2025, 3, 10)
    project = _completed_with_follow_ups(db, world, inbox, completed)
    year1 = date(2026, 3, 10)  # both year-1 tasks are due then; year 2 a year later
    company, operators = _members(world, 0), _operators(world)

    assert projects.remind_follow_ups(db, today=year1 - timedelta(days=31)) == 0
    assert inbox.new() == {}

    # Due within 30 days: the KPI report to the company, the site visit to the operators.
    assert projects.remind_follow_ups(db, today=year1 - timedelta(days=30)) == 2
    found = inbox.new()
    assert set(found) == company | operators
    sme_item = found[world.sme_actors[0].user_id][0]
    assert sme_item.title == f"기한 임박: 1차년도 성과지표(KPI) 보고 ({project.agreement_no})"
    assert sme_item.body == f"{world.smes[0].name_ko}: 기한 2026-03-10."
    assert sme_item.link == f"/projects/{project.id}"
    assert found[world.en_operator.id][0].title == (
        f"Due soon: Site visit, year 1 ({project.agreement_no})"
    )
    assert all(len(items) == 1 for items in found.values())
    assert projects.remind_follow_ups(db, today=year1 - timedelta(days=5)) == 0  # once per stage
    assert projects.remind_follow_ups(db, today=year1) == 0  # due today is not overdue yet
    assert inbox.new() == {}

    # The KPI report is filed; the site visit is overdue the next day: one reminder, once.
    kpi = db.scalars(
        select(FollowUp).where(FollowUp.project_id == project.id, FollowUp.year_no == 1)
    ).all()
    report = next(f for f in kpi if f.kind == "kpi_report")
    projects.complete_follow_up(db, world.sme_actors[0], report.id, note="불량률 1.4%")
    assert projects.remind_follow_ups(db, today=year1 + timedelta(days=1)) == 1
    found = inbox.new()
    assert set(found) == operators
    assert found[world.operator.user_id][0].title.startswith("기한 경과: 1차년도 현장 방문")
    assert projects.remind_follow_ups(db, today=year1 + timedelta(days=2)) == 0
    assert inbox.new() == {}

    # Year 2, first met when already overdue: only the overdue reminder, each once.
    late = date(2027, 4, 1)
    assert projects.remind_follow_ups(db, today=late) == 2
    found = inbox.new()
    assert set(found) == company | operators
    assert found[world.en_member.id][0].title.startswith("Overdue: KPI report, year 2")
    assert projects.remind_follow_ups(db, today=late) == 0
    assert inbox.new() == {}


def test_the_cli_and_the_daily_task_remind(cli_env, db, settings, tmp_path):
    world = _world(db)
    inbox = Inbox(db)
    soon = date.today() + timedelta(days=10) - timedelta(days=365)
    _completed_with_follow_ups(db, world, inbox, soon)
    db.commit()

    runner = CliRunner()
    result = runner.invoke(cli_app, ["programs", "remind", "--days", "5", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == {"reminded": 0}
    result = runner.invoke(cli_app, ["programs", "remind", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == {"reminded": 2}
    result = runner.invoke(cli_app, ["programs", "remind", "--json"])
    assert json.loads(result.stdout) == {"reminded": 0}
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Notification)) > 0

    huey = build_huey(settings.model_copy(update={"data_dir": tmp_path}))
    register_tasks(huey, settings, factory=object())
    due = {task.name for task in huey.read_periodic(datetime(2026, 1, 1, 23, 5))}
    assert "programs.remind_follow_ups" in due
    assert "programs.remind_follow_ups" not in {
        task.name for task in huey.read_periodic(datetime(2026, 1, 1, 23, 6))
    }
