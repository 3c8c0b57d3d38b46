"""An impact study in a real browser (under the CSP): the demo operator chooses the demo
programs and the demo firm-year panel in the wizard, runs the study as a job and sees the
event-study plot drawn by Plotly, with the warnings, balance and descriptive sections."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from sangsaeng.impact.models import FirmPanel, ImpactStudy
from tests.e2e.test_assessment_browser import sign_in
from tests.e2e.test_program_browser import OPERATOR_EMAIL, Database

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_a_study_on_the_demo_panel_shows_the_event_study(page, e2e_server, console):
    db = Database(e2e_server.database_url)
    panel_id = db.scalar(select(FirmPanel.id).order_by(FirmPanel.id))
    assert panel_id is not None, "the demo seeds a firm-year panel"

    sign_in(page, OPERATOR_EMAIL)
    page.goto("/impact/studies/new")
    boxes = page.locator("#study-programs input[name=program]")
    assert boxes.count() > 0
    for box in boxes.all():
        box.check()
    page.locator("#choose-programs").click()
    expect(page.locator("#study-form")).to_be_visible()
    page.select_option("#f-panel", str(panel_id))
    page.fill("#f-title", "브라우저 매출 효과 분석")
    page.locator("#run-study").click()

    # The job runs; the study page polls until it is done, then draws the chart.
    expect(page.locator("#study-status-label")).to_have_text("완료", timeout=60_000)
    chart = page.locator("#event-study-chart")
    expect(chart.locator("svg.main-svg").first).to_be_attached(timeout=20_000)
    expect(chart.locator(".scatterlayer .point").first).to_be_attached()
    for section in ("#headline", "#warnings", "#balance", "#steps", "#descriptive", "#method"):
        expect(page.locator(section)).to_be_visible()

    study_id = int(page.url.rsplit("/", 1)[1])
    with db.factory() as session:
        study = session.get(ImpactStudy, study_id)
        assert study.status == "done" and study.panel_id == panel_id
        assert study.result["n"]["treated"] > 0
    assert console.problems() == []
