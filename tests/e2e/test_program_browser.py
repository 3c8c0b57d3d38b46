"""The program lifecycle in a real browser (under the CSP): an SME applies to the open call, an
evaluator pledges and scores, the operator screens, selects, publishes, funds and signs, the SME
reports the kickoff and the operator approves it — the fund's disbursed total and the SME's
project page change by the kickoff payment."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from sangsaeng.core.models import Membership, User, utcnow
from sangsaeng.db import make_engine, make_session_factory
from sangsaeng.programs import application_service as applications
from sangsaeng.programs.models import Application, EvaluatorAssignment, Program, Project
from tests.e2e.test_assessment_browser import SME_EMAIL, TINY_PDF, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

OPERATOR_EMAIL = "operator@demo.sangsaeng.kr"
EVALUATOR_EMAIL = "evaluator@demo.sangsaeng.kr"


class Database:
    """Direct reads of the seeded database, and the one write a browser cannot do: letting the
    call's deadline pass."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.factory = make_session_factory(self.engine)

    def scalar(self, statement):
        with self.factory() as session:
            return session.scalar(statement)

    def open_call_for(self, email: str) -> int:
        """An open call with no submitted application of the SME's company."""
        with self.factory() as session:
            org_id = session.scalar(
                select(Membership.organization_id)
                .join(User, User.id == Membership.user_id)
                .where(User.email == email, Membership.role == "sme")
            )
            for program in session.scalars(
                select(Program).where(Program.status == "open", Program.closes_at > utcnow())
            ):
                taken = session.scalar(
                    select(Application.status).where(
                        Application.program_id == program.id,
                        Application.organization_id == org_id,
                    )
                )
                if taken in (None, "draft"):
                    return program.id
        raise AssertionError("the demo has no open call the demo SME can apply to")

    def fitting_total(self, program_id: int, support_type: str | None) -> int:
        """A project cost whose support stays under the caps (per company and per type)."""
        with self.factory() as session:
            program = session.get(Program, program_id)
            cap = program.cap_per_company_krw
            kind = applications.support_type(program, support_type)
            if kind and kind.get("cap_krw"):
                cap = min(cap, kind["cap_krw"])
            split = applications.expected_split(session, program, 1_000_000)
            support_share = applications.support_of(split) / 1_000_000
        return int(cap / support_share * 0.8) // 1_000_000 * 1_000_000

    def close_call(self, program_id: int) -> None:
        with self.factory() as session:
            session.execute(
                update(Program)
                .where(Program.id == program_id)
                .values(closes_at=utcnow() - timedelta(minutes=1))
            )
            session.commit()


def _new_page(browser, e2e_server, console):
    context = browser.new_context(
        base_url=e2e_server.base_url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    return context, page


def _figure(page, element_id: str) -> int:
    return int(page.locator(f"#{element_id}").get_attribute("value"))


def test_a_call_from_application_to_the_first_payment(page, browser, e2e_server, console):
    db = Database(e2e_server.database_url)
    program_id = db.open_call_for(SME_EMAIL)

    # --- the SME applies
    sign_in(page, SME_EMAIL)
    page.goto(f"/calls/{program_id}")
    page.get_by_role("button", name="신청하기").click()
    expect(page).to_have_url(re.compile(r"/applications/\d+/edit$"))
    application_id = int(re.search(r"/applications/(\d+)/", page.url).group(1))
    page.fill("#f-title", "MES 구축으로 불량률 절반 줄이기")
    page.fill(
        "#f-plan", "생산 실적을 실시간으로 수집하고 불량 원인을 공정별로 추적하는 MES를 구축합니다."
    )
    support = page.locator("#f-support_type")
    chosen = None
    if support.count():
        chosen = support.locator("option").nth(1).get_attribute("value")
        support.select_option(chosen)
    page.locator("#f-solution_id").select_option(index=1)
    page.fill("#f-total_krw", f"{db.fitting_total(program_id, chosen):,}")
    page.locator("select[name=kpi_code]").first.select_option("defect_rate")
    page.locator("input[name=kpi_baseline]").first.fill("3.2")
    page.locator("input[name=kpi_target]").first.fill("1.5")
    for upload in page.locator("input[type=file]").all():
        upload.set_input_files(
            {"name": "plan.pdf", "mimeType": "application/pdf", "buffer": TINY_PDF}
        )
    page.get_by_role("button", name="신청서 제출").click()
    expect(page).to_have_url(re.compile(rf"/applications/{application_id}(\?.*)?$"))
    assert db.scalar(select(Application.status).where(Application.id == application_id)) == (
        "submitted"
    )

    # --- the operator screens it in and assigns the evaluator
    operator_context, operator = _new_page(browser, e2e_server, console)
    sign_in(operator, OPERATOR_EMAIL)
    review = f"/programs/{program_id}/applications/{application_id}/review"
    operator.goto(review)
    screening = operator.locator('form[action$="/screen"]')
    screening.locator("input[value=pass]").check()
    screening.locator("button[type=submit]").click()
    assign = operator.locator('form[action$="/evaluators"]')
    assign.locator("input[name=email]").fill(EVALUATOR_EMAIL)
    assign.locator("button[type=submit]").click()
    expect(operator.get_by_text(EVALUATOR_EMAIL)).to_be_visible()

    # --- the evaluator pledges no conflict, then scores on the program's score sheet
    evaluator_context, evaluator = _new_page(browser, e2e_server, console)
    sign_in(evaluator, EVALUATOR_EMAIL)
    assignment_id = db.scalar(
        select(EvaluatorAssignment.id).where(EvaluatorAssignment.application_id == application_id)
    )
    evaluator.goto("/evaluations")
    evaluator.locator(f'a[href="/evaluations/{assignment_id}"]').first.click()
    evaluator.locator("input[name=choice][value=none]").check()
    evaluator.locator('form[action$="/declare"] button[type=submit]').click()
    sheet = evaluator.locator('form[action$="/score"]')
    numbers = sheet.locator('input[name^="a."]:not([type=radio])')
    if numbers.count():
        for field in numbers.all():
            field.fill("85")
    else:  # a five-point sheet: the second-best option of every question
        for group in sorted(
            {r.get_attribute("name") for r in sheet.locator("input[type=radio]").all()}
        ):
            sheet.locator(f'input[type=radio][name="{group}"]').nth(-2).check()
    sheet.locator("button[type=submit]").click()
    expect(evaluator.get_by_text(re.compile("85"))).not_to_have_count(0)

    # --- the deadline passes; the operator decides, publishes, funds and signs
    db.close_call(program_id)
    operator.goto(f"/programs/{program_id}/selection")
    operator.locator('form[action$="/selection/decide"] button').click()
    operator.locator('form[action$="/selection/publish"] button').click()
    assert db.scalar(select(Application.status).where(Application.id == application_id)) == (
        "selected"
    )
    operator.goto(f"/programs/{program_id}/funds")
    sources = operator.locator("#f-source option")
    codes = [sources.nth(i).get_attribute("value") for i in range(sources.count())]
    for code in [c for c in codes if c and c != "sme"]:
        operator.locator("#f-source").select_option(code)
        operator.fill("#f-amount", "5,000,000,000")
        operator.locator('form[action$="/funds/contributions"] button[type=submit]').click()
        expect(operator.locator("#f-amount")).to_have_value("")
    disbursed_before = _figure(operator, "fig-disbursed")
    operator.goto(f"/programs/{program_id}/projects")
    agreement = operator.locator(f'form[action$="/applications/{application_id}/agreement"]')
    agreement.locator("input[name=starts_on]").fill(date.today().isoformat())
    agreement.locator("input[name=ends_on]").fill((date.today() + timedelta(days=180)).isoformat())
    agreement.locator("button[type=submit]").click()
    project_id = db.scalar(select(Project.id).where(Project.application_id == application_id))
    assert project_id is not None

    # --- the SME sees its project and reports the kickoff
    page.goto(f"/projects/{project_id}")
    assert _figure(page, "fig-paid") == 0
    report = page.locator('form[action*="/milestones/"][action$="/report"]').first
    report.locator("textarea").fill("착수 보고: 설비 발주와 세부 일정을 확정하였습니다.")
    report.locator("button[type=submit]").click()

    # --- the operator approves it: the provider is paid from the holds
    operator.goto(f"/projects/{project_id}")
    operator.locator('form[action$="/approve"] button[type=submit]').first.click()
    paid = _figure(operator, "fig-paid")
    assert paid > 0
    operator.goto(f"/programs/{program_id}/funds")
    assert _figure(operator, "fig-disbursed") - disbursed_before == paid
    page.reload()
    assert _figure(page, "fig-paid") == paid
    expect(page.locator("h1")).to_be_visible()

    operator_context.close()
    evaluator_context.close()
    db.engine.dispose()
    assert console.problems() == []
