"""The performance report as users see it — the page, the Excel workbook, the PDF, the JSON API
and the CLI — on the small program computed by hand in test_report_service: two companies,
average improvements 0.225 and 0.25 (mean 23.75 %), defect rate 0.25 for both, productivity
0.2 for A, target achievement 0.4 and 1.0 (mean 70 %), A's effect ₩5,000,000, B's missing."""

from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from sangsaeng.cli import app as cli_app
from sangsaeng.core.i18n import gettext as _
from sangsaeng.core.models import User
from tests.assessments.helpers import actor_of
from tests.factories import api_token, bearer, make_user, session_cookie
from tests.outcomes.test_report_service import program  # noqa: F401 - the fixture


def _browser(db, make_client, user_id: int):
    cookie, _csrf = session_cookie(db, db.get(User, user_id))
    db.commit()
    client = make_client()
    client.cookies.set("ss_session", cookie)
    return client


def _text(html: str) -> str:
    """The page's visible text, tags dropped and spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_page_shows_the_hand_computed_figures(db, make_client, program):  # noqa: F811
    world, first, _second = program
    client = _browser(db, make_client, world.operator.user_id)
    page = client.get(f"/programs/{world.program.id}/outcomes")
    assert page.status_code == 200, page.text[:500]
    html = page.text
    text = _text(html)
    assert re.search(r'id="n-participants">\s*2\s*<', html)
    assert _("with verified before/after values: {n}", n=2) in text
    assert re.search(r'id="avg-mean">\s*23\.8%\s*<', html)  # (0.225 + 0.25) / 2
    assert (
        _("median {median} · 10 % trimmed mean {trimmed}", median="23.8%", trimmed="23.8%") in text
    )
    assert "[" in re.search(
        r'id="avg-mean">.*?</div>\s*<div class="muted small">(.*?)</div>', html, re.S
    ).group(1)
    assert re.search(r'id="target-mean">\s*70\.0%\s*<', html)
    assert re.search(r'id="effect-total">\s*500만원\s*<', html)
    assert re.search(r'id="effect-missing">\s*1\s*<', html)  # B: missing, not 0
    # Per KPI: defect rate 25 % (n = 2), productivity 20 % (n = 1).
    row = re.search(r'<tr id="kpi-defect_rate">(.*?)</tr>', html, re.S).group(1)
    assert "불량률" in row and ">2<" in row and "25.0%" in row
    row = re.search(r'<tr id="kpi-productivity">(.*?)</tr>', html, re.S).group(1)
    assert ">1<" in row and "20.0%" in row
    # The formula of each kind, the value counts with the queue, the method with its n.
    assert "(불량률 전 − 후) / 100 × 연간 생산량 × 단위당 원가" in text
    assert f'href="/programs/{world.program.id}/kpis"' in html
    assert "확인된 전후 값만 사용합니다" in text and "2000회 재표본" in text
    # Breakdowns with labels in words; the company table with its inputs.
    assert 'id="by-region"' in html and 'id="by-support_type"' in html
    support = re.search(r'id="by-support_type".*?</table>', html, re.S).group(0)
    assert "고도화" in support  # the program's own name for support type "advanced"
    companies = re.search(r'id="companies".*?</table>', html, re.S).group(0)
    assert first.agreement_no in companies and "100,000" in companies and "5,000" in companies
    # Charts from the vendored Plotly, never a CDN.
    data = json.loads(re.search(r'id="chart-data">(.*?)</script>', html, re.S).group(1))
    kpi_chart = next(c for c in data if c["id"] == "chart-kpis")
    assert kpi_chart["values"] == [20.0, 25.0] or kpi_chart["values"] == [25.0, 20.0]
    assert {c["type"] for c in data} >= {"interval", "histogram"}
    assert "/static/vendor/plotly-strict" in html and "cdn" not in html.lower()
    # The subnav links here, and the completion view is one control away.
    assert f'href="/programs/{world.program.id}/outcomes" aria-current="page"' in html
    done = client.get(f"/programs/{world.program.id}/outcomes?after=completion")
    assert done.status_code == 200
    assert client.get(f"/programs/{world.program.id}/outcomes?after=best").status_code == 422


def test_sponsors_see_their_scope_and_other_operators_nothing(db, make_client, program):  # noqa: F811
    world, _first, _second = program
    sponsor_user = make_user(db, roles=[(world.sponsor, "sponsor")])
    client = _browser(db, make_client, sponsor_user.id)
    page = client.get(f"/programs/{world.program.id}/outcomes")
    assert page.status_code == 200
    assert world.sponsor.name_ko in _text(
        re.search(r'id="report-scope">(.*?)<', page.text).group(1)
    )
    assert f'href="/programs/{world.program.id}/kpis"' not in page.text  # no queue for sponsors
    assert 'class="actions subnav"' not in page.text  # nor the operators' pages
    overview = client.get("/sponsor/programs")
    assert f"/programs/{world.program.id}/outcomes?sponsor={world.sponsor.id}" in overview.text
    assert client.get(f"/programs/{world.program.id}/outcomes.xlsx").status_code == 200

    other = _browser(db, make_client, world.other_operator.user_id)
    for suffix in ("", ".xlsx", ".pdf"):
        assert other.get(f"/programs/{world.program.id}/outcomes{suffix}").status_code == 404
    sme = _browser(db, make_client, world.sme_actors[0].user_id)
    assert sme.get(f"/programs/{world.program.id}/outcomes").status_code == 404


def test_the_workbook_holds_the_figures(db, make_client, program):  # noqa: F811
    world, first, _second = program
    client = _browser(db, make_client, world.operator.user_id)
    response = client.get(f"/programs/{world.program.id}/outcomes.xlsx?after=latest")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    names = ["Summary", "By KPI", "Breakdowns", "By company", "Method"]
    assert book.sheetnames == [_(n) for n in names] and book.sheetnames[0] == "요약"
    sheet = dict(zip(names, book.worksheets, strict=True))
    summary = {row[0]: row[1:] for row in sheet["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary[_("Participating companies")][:2] == (2, 2)
    assert summary[_("Average improvement per company, mean (%)")][:2] == (23.75, 2)
    assert summary[_("Target achievement, mean (%)")][:2] == (70.0, 2)
    assert summary[_("Annual financial effect, total (KRW)")][:2] == (5_000_000, 1)
    kpis = {row[0]: row for row in sheet["By KPI"].iter_rows(min_row=2, values_only=True)}
    assert kpis["defect_rate"][4:6] == (2, 25.0)
    assert kpis["productivity"][4:6] == (1, 20.0)
    companies = list(sheet["By company"].iter_rows(min_row=2, values_only=True))
    a = next(r for r in companies if r[1] == first.agreement_no)
    assert a[9:14] == (2, 22.5, 5_000_000, 100_000, 5_000)  # pairs, average, effect, inputs
    methods = [row[1] for row in sheet["Method"].iter_rows(min_row=2, values_only=True)]
    assert any("0이 아닌 결측" in m for m in methods)


def test_the_pdf_renders_and_is_not_blank(db, make_client, program):  # noqa: F811
    pdfium = pytest.importorskip("pypdfium2")
    world, _first, _second = program
    client = _browser(db, make_client, world.operator.user_id)
    response = client.get(f"/programs/{world.program.id}/outcomes.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    document = pdfium.PdfDocument(response.content)
    assert len(document) >= 2  # the cover, then the figures
    text = document[1].get_textpage().get_text_range()
    assert "23.8%" in text and "500만원" in text
    image = document[1].render(scale=1).to_pil().convert("L")
    dark = sum(image.histogram()[:128])
    assert dark > 0.002 * image.width * image.height  # text and bars, not a blank page
    assert world.program.name_ko in document[0].get_textpage().get_text_range()


def test_the_json_api(db, make_client, program):  # noqa: F811
    world, _first, _second = program
    token = api_token(db, db.get(User, world.operator.user_id))
    db.commit()
    client = make_client()
    response = client.get(f"/api/v1/programs/{world.program.id}/outcomes", headers=bearer(token))
    assert response.status_code == 200
    data = response.json()
    assert data["avg_improvement"]["mean"] == pytest.approx(0.2375)
    assert data["financial_effect"]["total"] == 5_000_000
    wrong = client.get(
        f"/api/v1/programs/{world.program.id}/outcomes?after=best", headers=bearer(token)
    )
    assert wrong.status_code == 422
    sponsor = actor_of(db, make_user(db, roles=[(world.sponsor, "sponsor")]))
    token = api_token(db, db.get(User, sponsor.user_id))
    db.commit()
    mine = client.get(f"/api/v1/programs/{world.program.id}/outcomes", headers=bearer(token))
    assert mine.json()["scope"]["sponsor"] == world.sponsor.name_ko


def test_the_cli_report(cli_env, db, program, tmp_path):  # noqa: F811
    world, _first, _second = program
    db.commit()  # the CLI reads with its own session
    runner = CliRunner()
    out = tmp_path / "report.xlsx"
    result = runner.invoke(
        cli_app,
        [
            "outcomes",
            "report",
            "--program",
            str(world.program.id),
            "--json",
            "--resamples",
            "200",
            "--xlsx",
            str(out),
            "--pdf",
            str(tmp_path / "report.pdf"),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"n_participants", "n_verified", "avg_improvement", "kpis", "financial_effect"} <= set(
        data
    )
    assert set(data["avg_improvement"]) >= {"mean", "median", "trimmed_mean", "ci"}
    assert data["avg_improvement"]["mean"] == pytest.approx(0.2375)
    assert data["kpis"]["defect_rate"]["n"] == 2 and len(data["kpis"]["defect_rate"]["ci"]) == 2
    assert "defect_rate" in data["financial_effect"]["formula"]
    assert "200 resamples" in data["method"]
    assert load_workbook(out, read_only=True).sheetnames[0] == "요약"
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")

    missing = runner.invoke(cli_app, ["outcomes", "report", "--program", "999999", "--json"])
    assert missing.exit_code == 2
    assert json.loads(missing.stdout)["code"] == "not_found"
    wrong = runner.invoke(
        cli_app,
        ["outcomes", "report", "--program", str(world.program.id), "--after", "x", "--json"],
    )
    assert wrong.exit_code == 2 and json.loads(wrong.stdout)["code"] == "invalid_input"
