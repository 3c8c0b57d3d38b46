"""Factory data in a real browser (under the CSP): the demo SME uploads a CP949 production file,
checks the column mapping and rows, imports it as a job, runs OEE on it and sees the Pareto
of the six losses and the trend drawn by Plotly; then runs the root-cause analysis of its demo
process data and sees the importance chart with the planted temperature among the drivers."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from playwright.sync_api import expect

from sangsaeng.demo import factory_production
from tests.e2e.test_assessment_browser import SME_EMAIL, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_sme_uploads_production_runs_oee_and_root_causes(page, e2e_server, console, tmp_path):
    records = factory_production.production_records(
        np.random.default_rng(7), date(2026, 1, 5), date(2026, 2, 27)
    )
    upload = tmp_path / "생산실적.csv"
    upload.write_bytes(records.to_csv(index=False).encode("cp949"))

    sign_in(page, SME_EMAIL)
    page.goto("/factory")
    page.locator("#upload-dataset").click()
    page.select_option("#f-kind", "production")
    page.fill("#f-name", "1~2월 생산실적")
    page.set_input_files("#f-file", str(upload))
    page.locator("form.panel button[type=submit]").click()

    # The preview: CP949 detected, Korean headers mapped, every row valid, nothing saved yet.
    expect(page.locator("#import-summary")).to_contain_text(f"{len(records):,}")
    expect(page.locator("#map-machine")).to_have_value(str(list(records.columns).index("설비")))
    with page.expect_navigation(timeout=120_000):  # the import job runs inside the server
        page.locator("#import-commit").click(no_wait_after=True)
    expect(page.locator("#job-result-link")).to_be_visible(timeout=60_000)
    page.locator("#job-result-link").click()
    expect(page.locator("h1")).to_have_text("1~2월 생산실적")

    page.locator("#run-oee").click()
    with page.expect_navigation(timeout=120_000):
        page.locator("#analysis-run").click(no_wait_after=True)
    expect(page.locator("#analysis-status-label")).to_have_text("완료", timeout=60_000)
    for chart in ("#chart-pareto", "#chart-trend", "#chart-machines"):
        expect(page.locator(chart).locator("svg.main-svg").first).to_be_attached(timeout=20_000)
    expect(page.locator("#chart-pareto .barlayer .point").first).to_be_attached()
    expect(page.locator("#oee-total")).to_contain_text("%")
    expect(page.locator("#oee-query")).to_contain_text("SELECT")

    # The demo's process dataset: lots with their conditions and verdicts.
    page.goto("/factory")
    page.locator("#dataset-list a", has_text="공정 조건").first.click()
    page.locator("#run-root_cause").click()
    # Jobs run inside the server here: the page answers once the analysis has run.
    with page.expect_navigation(timeout=180_000):
        page.locator("#analysis-run").click(no_wait_after=True)
    expect(page.locator("#analysis-status-label")).to_have_text("완료", timeout=120_000)
    chart = page.locator("#chart-importance")
    expect(chart.locator("svg.main-svg").first).to_be_attached(timeout=20_000)
    expect(chart.locator(".barlayer .point").first).to_be_attached()
    top = page.locator("#root-cause-factors tbody tr").nth(0)
    expect(top).to_be_visible()
    drivers = page.locator("#root-cause-factors tbody tr", has_text="주요 원인")
    expect(drivers.filter(has_text="온도").first).to_be_visible()
    assert console.problems() == []
