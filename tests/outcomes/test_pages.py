"""The KPI pages on both databases: a company reports values with evidence, a refused value
shows its error and stores nothing, the program's operators verify and reject (with a reason),
another company sees nothing, a follow-up value files its year's KPI report, the comparison
with the program's median (withheld under n = 5), and the operator's queue with its filters and
spreadsheet."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from sangsaeng.core import reference
from sangsaeng.core.audit.models import AuditEvent
from sangsaeng.core.files.models import StoredFile
from sangsaeng.core.models import User
from sangsaeng.outcomes import comparison as comparisons
from sangsaeng.outcomes import service as outcomes
from sangsaeng.outcomes.models import KpiMeasurement
from sangsaeng.programs import project_service as projects
from sangsaeng.programs import service as programs
from sangsaeng.programs.models import FollowUp
from tests.factories import make_org, session_cookie
from tests.programs import lifecycle
from tests.programs.lifecycle import PDF
from tests.programs.test_lifecycle import _signed
from tests.programs.test_project_pages import bare_project

BASE = outcomes.Report("defect_rate", "baseline", date(2025, 1, 1), date(2025, 12, 31), 3.2, "%")


def _browser(db, make_client, actor):
    cookie, csrf = session_cookie(db, db.get(User, actor.user_id))
    db.commit()
    client = make_client()
    client.cookies.set("ss_session", cookie)
    client.cookies.set("ss_lang", "en")  # texts checked in English (Korean comes with the catalog)
    return client, csrf


def _count(db, model=KpiMeasurement) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def _form(csrf: str, **overrides) -> dict:
    values = {
        "csrf_token": csrf,
        "kpi_code": "defect_rate",
        "stage": "baseline",
        "year_no": "",
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
        "value": "3.2",
        "unit": "%",
    }
    values.update(overrides)
    return values


def _world(db):
    world = lifecycle.build(db)
    _apps, project = _signed(db, world)
    db.commit()
    return world, project


def test_report_with_evidence_then_verify_and_reject(db, make_client):
    world, project = _world(db)
    url = f"/projects/{project.id}/kpis"
    company, csrf = _browser(db, make_client, world.sme_actors[0])
    operator, op_csrf = _browser(db, make_client, world.operator)

    assert url in company.get(f"/projects/{project.id}").text  # linked from the project
    page = company.get(url)
    assert page.status_code == 200
    assert "3 → 1.5 %" in page.text  # the target from the application
    if any(k.category == "input" for k in reference.kpis().values()):
        assert 'id="group-input"' in page.text  # the inputs of the financial effect, apart
    sent = company.post(
        url,
        data=_form(csrf),
        files={"evidence": ("quality-ledger.pdf", PDF, "application/pdf")},
    )
    assert sent.status_code == 303, sent.text[:800]
    base = db.scalar(select(KpiMeasurement))
    assert (base.value, base.source, base.status) == (3.2, "self", "reported")
    [file_id] = base.evidence
    page = company.get(url).text
    assert "quality-ledger.pdf" in page and f"/api/v1/files/{file_id}/content" in page
    assert 'data-source="self"' in page and "Self-reported" in page
    assert 'data-status="reported"' in page
    assert f"/kpis/{base.id}/verify" not in page  # the company does not decide

    # The program's operator reads the evidence and verifies.
    assert operator.get(f"/api/v1/files/{file_id}/content").content == PDF
    stranger, _c = _browser(db, make_client, world.sme_actors[1])
    assert stranger.get(f"/api/v1/files/{file_id}/content").status_code == 404
    assert stranger.get(url).status_code == 404
    assert stranger.post(url, data=_form(_c)).status_code == 404
    assert f"/kpis/{base.id}/verify" in operator.get(url).text
    refused = company.post(f"{url}/{base.id}/verify", data={"csrf_token": csrf})
    assert refused.status_code == 403
    done = operator.post(f"{url}/{base.id}/verify", data={"csrf_token": op_csrf})
    assert done.status_code == 303
    assert 'data-status="verified"' in company.get(url).text

    after = company.post(
        url,
        data=_form(
            csrf,
            stage="completion",
            period_start="2026-07-01",
            period_end="2026-12-31",
            value="1.4",
        ),
    )
    assert after.status_code == 303, after.text[:800]
    later = db.scalar(select(KpiMeasurement).where(KpiMeasurement.stage == "completion"))
    no_reason = operator.post(f"{url}/{later.id}/reject", data={"csrf_token": op_csrf})
    assert no_reason.status_code == 422
    assert 'class="field-error"' in no_reason.text and "5 characters" in no_reason.text
    db.expire_all()
    assert db.get(KpiMeasurement, later.id).status == "reported"
    reason = "증빙의 측정 기간이 보고 기간과 다릅니다."
    rejected = operator.post(
        f"{url}/{later.id}/reject", data={"csrf_token": op_csrf, "reason": reason}
    )
    assert rejected.status_code == 303
    page = company.get(url).text
    assert 'data-status="rejected"' in page and reason in page


def test_a_refused_value_shows_its_errors_and_stores_nothing(db, make_client):
    world, project = _world(db)
    url = f"/projects/{project.id}/kpis"
    company, csrf = _browser(db, make_client, world.sme_actors[0])
    measurements, stored = _count(db), _count(db, StoredFile)
    impossible = company.post(
        url,
        data=_form(csrf, value="120"),
        files={"evidence": ("ledger.pdf", PDF, "application/pdf")},
    )
    assert impossible.status_code == 422
    assert 'id="f-value-error"' in impossible.text
    assert "Nothing has been stored" in impossible.text
    assert 'value="120"' in impossible.text  # the form keeps what was typed
    unreadable = company.post(
        url, data=_form(csrf, value="삼점이", period_end="2025-13-01", unit="")
    )
    assert unreadable.status_code == 422
    for name in ("value", "period_end", "unit"):
        assert f'id="f-{name}-error"' in unreadable.text
    wrong_unit = company.post(url, data=_form(csrf, unit="ppm"))
    assert wrong_unit.status_code == 422 and 'id="f-unit-error"' in wrong_unit.text
    not_a_pdf = company.post(
        url, data=_form(csrf), files={"evidence": ("run.exe", b"MZ\x90\x00", "text/plain")}
    )
    assert not_a_pdf.status_code == 422 and 'id="f-evidence-error"' in not_a_pdf.text
    # A company cannot claim administrative data as its source.
    claimed = company.post(url, data=_form(csrf, source="imported"))
    assert claimed.status_code == 422
    assert (_count(db), _count(db, StoredFile)) == (measurements, stored)


def test_a_follow_up_value_files_that_year_s_kpi_report(db, make_client):
    world, project = _world(db)
    sme = world.sme_actors[0]
    projects.schedule_follow_ups(db, project, 2, date.today())
    outcomes.report(db, sme, project.id, BASE)
    completion = outcomes.Report(
        "defect_rate", "completion", date(2026, 1, 1), date(2026, 6, 30), 2.0, "%"
    )
    outcomes.report(db, sme, project.id, completion)

    def kpi_tasks():
        db.expire_all()
        return {
            f.year_no: f
            for f in db.scalars(
                select(FollowUp).where(
                    FollowUp.project_id == project.id, FollowUp.kind == "kpi_report"
                )
            )
        }

    assert all(f.done_at is None for f in kpi_tasks().values())  # completion files nothing
    db.commit()
    company, csrf = _browser(db, make_client, sme)
    url = f"/projects/{project.id}/kpis"
    assert "Follow-up year 1" in company.get(url).text  # the open follow-ups are named on the page
    sent = company.post(
        url,
        data=_form(
            csrf,
            stage="follow_up",
            year_no="2",
            period_start="2027-01-01",
            period_end="2027-12-31",
            value="1.8",
        ),
    )
    assert sent.status_code == 303, sent.text[:800]
    tasks = kpi_tasks()
    assert tasks[2].done_at is not None and tasks[2].done_by_id == sme.user_id
    assert tasks[1].done_at is None
    site_visits = db.scalars(
        select(FollowUp).where(FollowUp.project_id == project.id, FollowUp.kind == "site_visit")
    )
    assert all(f.done_at is None for f in site_visits)
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "follow_up.done"))
    assert event.details["year_no"] == 2 and event.details["by"] == "kpi.report"
    # Once filed, another value of that year leaves the follow-up as it is.
    again = outcomes.Report(
        "defect_rate", "follow_up", date(2027, 1, 1), date(2027, 12, 31), 1.7, "%", year_no=2
    )
    outcomes.report(db, sme, project.id, again)
    assert kpi_tasks()[2].done_at == tasks[2].done_at


def _planted(db, world, n_companies: int):
    """``n_companies`` projects of the program, each with verified defect-rate and on-time
    values; company i goes from 4.0 % to 4.0 − 0.4 (i + 1) % defects (improvement
    0.1 (i + 1)); only the first 3 have on-time delivery pairs."""
    found = []
    for i in range(n_companies):
        org = make_org(db, name_ko=f"비교기업 {i}")
        project = bare_project(db, world.program.id, org.id, world.provider.id)
        found.append(project)
        rows = [("defect_rate", "baseline", 4.0, date(2025, 12, 31), "%")]
        rows += [("defect_rate", "completion", 4.0 - 0.4 * (i + 1), date(2026, 12, 31), "%")]
        if i < 3:
            rows += [("on_time_delivery", "baseline", 80.0, date(2025, 12, 31), "%")]
            rows += [("on_time_delivery", "completion", 88.0, date(2026, 12, 31), "%")]
        for code, stage, value, end, unit in rows:
            db.add(
                KpiMeasurement(
                    project_id=project.id,
                    organization_id=org.id,
                    kpi_code=code,
                    stage=stage,
                    period_start=end - timedelta(days=364),
                    period_end=end,
                    value=value,
                    unit=unit,
                    status="verified",
                )
            )
    db.flush()
    return found


def test_the_company_sees_its_improvement_beside_the_program_median(db, make_client):
    world, project = _world(db)
    sme, operator = world.sme_actors[0], world.operator
    _planted(db, world, 6)
    base = outcomes.report(db, sme, project.id, BASE)  # 3.2 %
    first = outcomes.report(
        db,
        sme,
        project.id,
        outcomes.Report("defect_rate", "completion", date(2026, 1, 1), date(2026, 6, 30), 2.4, "%"),
    )
    latest = outcomes.report(
        db,
        sme,
        project.id,
        outcomes.Report(
            "defect_rate", "follow_up", date(2027, 1, 1), date(2027, 12, 31), 1.6, "%", year_no=1
        ),
    )
    unverified = outcomes.Report(
        "on_time_delivery", "baseline", date(2025, 1, 1), date(2025, 12, 31), 90.0, "%"
    )
    outcomes.report(db, sme, project.id, unverified)
    for m in (base, first, latest):
        outcomes.verify(db, operator, m.id)
    found = {c.code: c for c in comparisons.company_comparison(db, sme, project.id)}
    defect = found["defect_rate"]
    # Own: the baseline 3.2 to the latest verified later value 1.6 (by period end) = 0.5.
    assert defect.own_improvement == 0.5 and (defect.own.before, defect.own.after) == (3.2, 1.6)
    # Others: 0.1, 0.2, …, 0.6 → the median of six is (0.3 + 0.4) / 2.
    assert defect.n_others == 6 and abs(defect.program_median - 0.35) < 1e-12
    on_time = found["on_time_delivery"]
    assert on_time.own_improvement is None and on_time.own_missing == comparisons.NO_BASELINE
    assert (on_time.n_others, on_time.program_median, on_time.suppressed) == (3, None, True)

    db.commit()
    company, _csrf = _browser(db, make_client, sme)
    page = company.get(f"/projects/{project.id}/kpis").text
    own = re.search(r'id="own-defect_rate">(.*?)</dd>', page, re.S).group(1)
    assert "+50.0 %" in own
    median = re.search(r'id="median-defect_rate">(.*?)</dd>', page, re.S).group(1)
    assert "+35.0 %" in median and "n = 6" in median
    withheld = re.search(r'id="median-on_time_delivery">(.*?)</dd>', page, re.S).group(1)
    assert "n &lt; 5" in withheld or "n < 5" in withheld
    assert 'id="method"' in page
    assert "비교기업" not in page  # no other company is named


def test_the_operator_queue_filters_pages_and_exports(db, make_client):
    world, project = _world(db)
    sme, operator = world.sme_actors[0], world.operator
    planted = _planted(db, world, 3)
    outcomes.report(db, sme, project.id, BASE)
    cost = outcomes.Report(
        "unit_cost", "baseline", date(2025, 1, 1), date(2025, 12, 31), 15_000, "KRW/unit"
    )
    outcomes.report(db, sme, project.id, cost)
    slip = outcomes.Report(
        "unit_cost", "completion", date(2026, 1, 1), date(2026, 12, 31), 14_500_000, "KRW/unit"
    )
    flagged = outcomes.report(db, sme, project.id, slip)
    assert flagged.flags
    db.commit()
    url = f"/programs/{world.program.id}/kpis"
    browser, csrf = _browser(db, make_client, operator)

    def ids(text: str) -> set[int]:
        return {int(i) for i in re.findall(r'<tr id="m-(\d+)"', text)}

    reported = browser.get(url)
    assert reported.status_code == 200
    assert f'href="{url}" aria-current="page"' in reported.text  # in the program's subnav
    mine = {m.id for m in outcomes.measurements_of(db, operator, project.id)}
    assert ids(reported.text) == mine  # reported only by default; the planted ones are verified
    assert "× the previous value" in reported.text  # the flag's text
    assert ids(browser.get(url, params={"flagged": "1"}).text) == {flagged.id}
    by_kpi = browser.get(url, params={"kpi": "unit_cost"}).text
    assert ids(by_kpi) == {m for m in mine if m != mine_base(db, project.id)}
    everything = browser.get(url, params={"status": "all"}).text
    assert len(ids(everything)) == 3 + 2 * 3 + 2 * 3  # mine, then two per planted KPI pair
    assert ids(browser.get(url, params={"status": "all", "company": "비교기업 1"}).text) == {
        m.id
        for m in db.scalars(
            select(KpiMeasurement).where(KpiMeasurement.project_id == planted[1].id)
        )
    }
    assert ids(browser.get(url, params={"company": "100%_"}).text) == set()

    # Verify inline (the filters are kept), and a rejection without a reason is refused.
    kept = {"csrf_token": csrf, "status": "reported", "kpi": "", "flagged": "1", "company": ""}
    refused = browser.post(f"{url}/{flagged.id}/reject", data=kept)
    assert refused.status_code == 422 and 'class="field-error"' in refused.text
    rejected = browser.post(
        f"{url}/{flagged.id}/reject", data={**kept, "reason": "단위를 원/개로 다시 확인하십시오."}
    )
    assert rejected.status_code == 303 and "flagged=1" in rejected.headers["location"]
    assert ids(browser.get(url, params={"flagged": "1"}).text) == set()
    first = min(mine)
    assert browser.post(f"{url}/{first}/verify", data=kept).status_code == 303
    assert browser.post(f"{url}/{first}/verify", data=kept).status_code == 409  # decided
    # A value named under another program of the same operator does not exist there.
    other = programs.create_program(db, operator, world.operator_org.id, lifecycle.program_values())
    db.commit()
    assert browser.post(f"/programs/{other.id}/kpis/{first}/verify", data=kept).status_code == 404

    # Pages of 50: 60 more values in the queue make two pages.
    for i in range(60):
        db.add(
            KpiMeasurement(
                project_id=planted[0].id,
                organization_id=planted[0].organization_id,
                kpi_code="lead_time",
                stage="baseline",
                period_start=date(2025, 1, 1),
                period_end=date(2025, 12, 31),
                value=10 + i,
                unit="hours",
            )
        )
    db.commit()
    one = browser.get(url).text
    two = browser.get(url, params={"page": "2"}).text
    assert len(ids(one)) == 50 and len(ids(two)) == 61 - 50 and not ids(one) & ids(two)
    assert "page=2" in one

    sheet = browser.get(f"{url}.xlsx", params={"status": "all", "kpi": "unit_cost"})
    assert sheet.status_code == 200
    rows = list(
        load_workbook(io.BytesIO(sheet.content), read_only=True).active.iter_rows(values_only=True)
    )
    assert rows[0][0] == "Company"
    assert len(rows) == 1 + 2
    by_status = {r[10]: r for r in rows[1:]}
    assert by_status["Rejected with a reason"][7] == 14_500_000 and by_status[
        "Rejected with a reason"
    ][11].startswith("단위")
    assert all(r[0] == world.smes[0].name_ko for r in rows[1:])

    # A company name that looks like a formula is neutralised in the export.
    org = make_org(db, name_ko="=HYPERLINK(1)")
    risky = bare_project(db, world.program.id, org.id, world.provider.id)
    db.add(
        KpiMeasurement(
            project_id=risky.id,
            organization_id=org.id,
            kpi_code="oee",
            stage="baseline",
            period_start=date(2025, 1, 1),
            period_end=date(2025, 12, 31),
            value=61.5,
            unit="%",
        )
    )
    db.commit()
    sheet = browser.get(f"{url}.xlsx", params={"kpi": "oee"})
    rows = list(
        load_workbook(io.BytesIO(sheet.content), read_only=True).active.iter_rows(values_only=True)
    )
    assert rows[1][0] == "'=HYPERLINK(1)"
    sme_browser, _c = _browser(db, make_client, sme)
    assert sme_browser.get(url).status_code == 403
    assert sme_browser.get(f"{url}.xlsx").status_code == 403


def mine_base(db, project_id: int) -> int:
    return db.scalar(
        select(KpiMeasurement.id).where(
            KpiMeasurement.project_id == project_id, KpiMeasurement.kpi_code == "defect_rate"
        )
    )


def test_a_kpi_without_a_target_shows_once_with_all_its_values(db, make_client):
    world, project = _world(db)
    sme = world.sme_actors[0]
    for stage, start, end, value in (
        ("baseline", date(2025, 1, 1), date(2025, 12, 31), 10.0),
        ("completion", date(2026, 7, 1), date(2026, 12, 31), 12.0),
    ):
        outcomes.report(
            db,
            sme,
            project.id,
            outcomes.Report("productivity", stage, start, end, value, "units/labour hour"),
        )
    db.commit()
    company, _csrf = _browser(db, make_client, sme)
    html = company.get(f"/projects/{project.id}/kpis").text
    assert html.count('id="kpi-productivity"') == 1
    assert len(set(re.findall(r'<tr id="(m-\d+)"', html))) == len(
        re.findall(r'<tr id="m-\d+"', html)
    )
