"""The main flow in a real browser, under the app's strict Content-Security-Policy."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from sangsaeng.core.models import Membership, Organization, User
from sangsaeng.db import make_engine, make_session_factory
from sangsaeng.demo.seed import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SME_EMAIL = "sme@demo.sangsaeng.kr"
SPONSOR_EMAIL = "sponsor@demo.sangsaeng.kr"


def org_of(database_url: str, email: str) -> Organization:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            return session.scalars(
                select(Organization)
                .join(Membership, Membership.organization_id == Organization.id)
                .join(User, User.id == Membership.user_id)
                .where(User.email == email)
            ).one()
    finally:
        engine.dispose()


def test_sme_main_flow(page, e2e_server, console):
    own = org_of(e2e_server.database_url, SME_EMAIL)
    # The steel sponsor buys (through a tier-1 supplier) from the SME; an SME may not read it.
    hidden = org_of(e2e_server.database_url, SPONSOR_EMAIL)
    login_url = re.compile(re.escape(e2e_server.base_url) + r"/login(\?.*)?$")

    # Anonymous: the dashboard sends us to the Korean login form.
    page.goto("/")
    expect(page).to_have_url(login_url)
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    page.fill("#email", SME_EMAIL)
    page.fill("#password", DEMO_PASSWORD)
    page.get_by_role("button", name="로그인").click()

    # Korean dashboard.
    expect(page).to_have_url(e2e_server.url("/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("대시보드")
    expect(page.get_by_role("heading", name="소속 기관 및 역할")).to_be_visible()

    # Switch to English.
    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(e2e_server.url("/"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")

    # Own organization, from "My organizations and roles".
    memberships = page.locator("section.panel", has=page.get_by_text("My organizations and roles"))
    memberships.get_by_role("link", name=own.name_ko).click()
    expect(page).to_have_url(e2e_server.url(f"/orgs/{own.id}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(own.name_ko)
    expect(page.get_by_role("heading", name="Supply chain")).to_be_visible()

    # Another organization by URL: 404, as if it did not exist.
    response = page.goto(f"/orgs/{hidden.id}")
    assert response is not None and response.status == 404
    expect(page.locator(".error-code")).to_have_text("404")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_text("The requested item was not found.")).to_be_visible()
    expect(page.get_by_text(hidden.name_ko)).to_have_count(0)

    # Sign out: back at the login form, and the dashboard asks for a login again.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(login_url)
    expect(page.locator("#password")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto("/")
    expect(page).to_have_url(login_url)
    expect(page.locator("#password")).to_be_visible()

    # Chrome logs a 404 load as a console error: the 404 page itself is expected. Anything else
    # (a CSP violation, a script or style that failed to load, an uncaught exception) is a problem.
    expected_404s = (e2e_server.url(f"/orgs/{hidden.id}"),)
    assert console.problems(expected_404s=expected_404s) == []


def test_operator_dashboard_charts_render_under_the_csp(page, e2e_server, console):
    page.goto("/login")
    page.fill("#email", "operator@demo.sangsaeng.kr")
    page.fill("#password", DEMO_PASSWORD)
    page.get_by_role("button", name="로그인").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("대시보드")
    charts = page.locator(".chart")
    expect(charts).to_have_count(3)
    for index in range(3):
        expect(charts.nth(index).locator(".main-svg").first).to_be_visible()
    expect(page.locator(".chart").first).to_contain_text("경기도")
    assert console.problems(expected_404s=()) == []


def test_operator_imports_a_cp949_file_fixing_the_mapping(page, e2e_server, console, tmp_path):
    from sangsaeng.core.ids import business_no_check_digit

    def number(i: int) -> str:
        first = f"{700 + i:03d}87{4321 + i:04d}"
        return first + str(business_no_check_digit(first))

    # "회사 이름" is no header we know: the operator has to map it. Row 3 has a bad number.
    lines = [
        "사업자등록번호,회사 이름,업종코드,지역,기업규모,매출액",
        f"{number(1)},브라우저가져오기일(주),C29,경기,중소,3000000000",
        "123-45-67890,잘못된번호기업,C25,부산,중소,1000000000",
        f"{number(2)},브라우저가져오기이(주),291,경남,중소기업,5000000000",
    ]
    path = tmp_path / "기업목록.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp949"))

    page.goto("/login")
    page.fill("#email", "operator@demo.sangsaeng.kr")
    page.fill("#password", DEMO_PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.goto("/imports/new")
    page.set_input_files("#f-file", str(path))
    page.get_by_role("button", name="올리고 미리 보기").click()

    expect(page.get_by_text("cp949 형식으로 읽었습니다.")).to_be_visible()
    expect(page.locator("#mapping-error")).to_contain_text("기업명")
    page.select_option("#map-name_ko", label="회사 이름")
    page.get_by_role("button", name="다시 확인").click()

    errors = page.locator("#import-errors")
    expect(errors).to_contain_text("올바른 사업자등록번호를 입력해 주십시오")
    expect(errors.locator("tbody tr")).to_have_count(1)
    expect(errors.locator("tbody td").first).to_have_text("3")
    page.get_by_label("정상 행만 저장하고 오류 행은 보고").check()
    page.get_by_role("button", name="가져오기").click()

    expect(page.locator(".badge.job-succeeded")).to_have_text("완료")
    expect(page.get_by_text("신규 2건")).to_be_visible()
    page.goto("/orgs?q=브라우저가져오기")
    rows = page.locator("table.table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("브라우저가져오기")
    assert console.problems(expected_404s=()) == []
