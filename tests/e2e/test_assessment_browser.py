"""An SME fills the smart-factory diagnosis in a real browser (under the CSP), sees its level,
radar and roadmap in Korean, edits one action; another SME cannot see the result."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from sangsaeng.core.accounts.passwords import hash_password
from sangsaeng.core.models import Membership, Organization, User
from sangsaeng.db import make_engine, make_session_factory
from sangsaeng.demo.seed import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SME_EMAIL = "sme@demo.sangsaeng.kr"
OTHER_EMAIL = "other-sme@demo.sangsaeng.kr"
TINY_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def add_other_sme_user(database_url: str) -> None:
    """A second SME's login (the demo has one SME login), in another company."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            if session.scalar(select(User.id).where(User.email == OTHER_EMAIL)):
                return
            own = session.scalar(
                select(Membership.organization_id).join(User).where(User.email == SME_EMAIL)
            )
            other = session.scalars(
                select(Organization)
                .where(Organization.kind == "sme", Organization.id != own)
                .order_by(Organization.id)
            ).first()
            user = User(
                email=OTHER_EMAIL, name="다른 중소기업", password_hash=hash_password(DEMO_PASSWORD)
            )
            session.add(user)
            session.flush()
            session.add(Membership(user_id=user.id, organization_id=other.id, role="sme"))
            session.commit()
    finally:
        engine.dispose()


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.locator("form").filter(has=page.locator("#email")).locator("button[type=submit]").click()
    korean = page.get_by_role("button", name="한국어")
    if korean.count():  # another test may have left this user in English
        korean.click()


def test_sme_fills_the_smart_factory_diagnosis(page, browser, e2e_server, console, tmp_path):
    add_other_sme_user(e2e_server.database_url)
    evidence = tmp_path / "증빙자료.pdf"
    evidence.write_bytes(TINY_PDF)
    sign_in(page, SME_EMAIL)

    page.get_by_role("link", name="진단·평가").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("진단·평가")
    page.locator("form").filter(has=page.locator("input[value=smart-factory-level]")).get_by_role(
        "button", name="시작"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("스마트공장 수준 자가진단")
    questions = page.locator("fieldset.question")
    count = questions.count()
    assert count == 14
    for index in range(count):
        question = questions.nth(index)
        question.locator("input[type=radio][value='2']").check()
        upload = question.locator("input[type=file]")
        if upload.count() and question.get_by_text("증빙 필수").count():
            upload.set_input_files(str(evidence))
    page.get_by_role("button", name="제출").click()

    # The result, in Korean: level, radar chart, the gap to the next level and the roadmap.
    expect(page.get_by_role("status")).to_contain_text("진단을 제출했습니다")
    expect(page.get_by_test_id("level")).to_have_text("Level 1 점검(Check)")
    expect(page.get_by_test_id("overall")).to_have_text("25.0")
    expect(page.locator("#chart-radar .main-svg").first).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("다음 수준까지의 차이"))).to_be_visible()
    expect(page.get_by_role("heading", name="로드맵: 3개년 실행계획")).to_be_visible()
    result_url = page.url

    # Edit the first action of the plan: a new title and "in progress".
    first_edit = page.locator("#plan tr.plan-edit").first
    first_edit.get_by_text("수정").click()
    first_edit.locator("input[name=title]").fill("생산실적 자동 수집 1단계(1라인)")
    first_edit.locator("select[name=status]").select_option("doing")
    first_edit.get_by_role("button", name="저장").click()
    expect(page.get_by_role("status")).to_contain_text("실행과제를 수정했습니다")
    expect(page.locator("#plan")).to_contain_text("생산실적 자동 수집 1단계(1라인)")
    expect(page.locator("#plan")).to_contain_text("진행 중")
    assert console.problems() == []

    # Another SME: the result does not exist for it.
    other = browser.new_context(base_url=e2e_server.base_url)
    try:
        other_page = other.new_page()
        sign_in(other_page, OTHER_EMAIL)
        response = other_page.goto(result_url)
        assert response.status == 404
        expect(other_page.locator("body")).not_to_contain_text("생산실적 자동 수집 1단계")
    finally:
        other.close()
