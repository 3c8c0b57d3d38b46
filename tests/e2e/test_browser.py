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
