"""KPIs in a real browser (under the CSP): the operator verifies a reported completion value on
the seeded demo and the performance report's n for that KPI goes up by one; the demo SME cannot
open another company's KPIs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import aliased

from sangsaeng.core.models import Membership, User
from sangsaeng.outcomes.models import KpiMeasurement
from sangsaeng.programs.models import Program, Project
from tests.e2e.test_assessment_browser import SME_EMAIL, sign_in
from tests.e2e.test_program_browser import OPERATOR_EMAIL, Database, _new_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _unpaired_value(db: Database) -> tuple[int, int, int, str]:
    """A reported value after the baseline whose KPI has a verified baseline and no verified
    later value yet: verifying it adds one company to that KPI's n. (program, project,
    measurement, KPI code)"""
    after = aliased(KpiMeasurement)
    with db.factory() as session:
        operator_org = session.scalar(
            select(Membership.organization_id)
            .join(User, User.id == Membership.user_id)
            .where(User.email == OPERATOR_EMAIL, Membership.role == "operator")
        )
        rows = session.execute(
            select(Project.program_id, Project.id, KpiMeasurement.id, KpiMeasurement.kpi_code)
            .join(Project, Project.id == KpiMeasurement.project_id)
            .join(Program, Program.id == Project.program_id)
            .where(
                Program.operator_org_id == operator_org,
                KpiMeasurement.status == "reported",
                KpiMeasurement.stage != "baseline",
                KpiMeasurement.kpi_code.in_(("defect_rate", "productivity", "on_time_delivery")),
            )
            .order_by(KpiMeasurement.id)
        ).all()
        for program_id, project_id, measurement_id, code in rows:
            statuses = {
                (stage == "baseline", status)
                for stage, status in session.execute(
                    select(after.stage, after.status).where(
                        after.project_id == project_id, after.kpi_code == code
                    )
                )
            }
            if (True, "verified") in statuses and (False, "verified") not in statuses:
                return program_id, project_id, measurement_id, code
    raise AssertionError("the demo has no reported value that would complete a pair")


def _other_company_project(db: Database, email: str) -> int:
    with db.factory() as session:
        own = select(Membership.organization_id).join(User, User.id == Membership.user_id)
        own = own.where(User.email == email)
        return session.scalar(
            select(Project.id).where(Project.organization_id.not_in(own)).order_by(Project.id)
        )


def _kpi_n(page, code: str) -> int:
    return int(page.locator(f"#kpi-{code} td").nth(2).inner_text().replace(",", ""))


def test_verifying_a_value_adds_it_to_the_report(page, browser, e2e_server, console):
    db = Database(e2e_server.database_url)
    program_id, project_id, measurement_id, code = _unpaired_value(db)

    operator_context, operator = _new_page(browser, e2e_server, console)
    sign_in(operator, OPERATOR_EMAIL)
    operator.goto(f"/programs/{program_id}/outcomes")
    before = _kpi_n(operator, code) if operator.locator(f"#kpi-{code}").count() else 0
    verified_before = db.scalar(
        select(KpiMeasurement.status).where(KpiMeasurement.id == measurement_id)
    )
    assert verified_before == "reported"

    operator.goto(f"/projects/{project_id}/kpis")
    row = operator.locator(f"#m-{measurement_id}")
    expect(row).to_be_visible()
    operator.locator(f'form[action$="/{measurement_id}/verify"] button[type=submit]').click()
    expect(operator.locator("p.notice[role=status]").first).to_be_visible()
    assert db.scalar(select(KpiMeasurement.status).where(KpiMeasurement.id == measurement_id)) == (
        "verified"
    )

    operator.goto(f"/programs/{program_id}/outcomes")
    assert _kpi_n(operator, code) == before + 1
    expect(operator.locator("#method")).to_be_visible()
    operator_context.close()

    # --- the demo SME sees its own KPIs, never another company's
    sign_in(page, SME_EMAIL)
    other = _other_company_project(db, SME_EMAIL)
    response = page.goto(f"/projects/{other}/kpis")
    assert response.status == 404
    assert console.problems(expected_404s=(e2e_server.url(f"/projects/{other}/kpis"),)) == []
