"""Import of KPI sheets on both databases: CP949 CSV and xlsx, every row checked by the same
rules as the form (``service.prepare``) with the earlier rows of the file counted, bad rows
named by row and column, all-or-nothing and keep-the-good modes, who may import for which
project, the job with its progress, the pages and the CLI."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from sangsaeng.core.audit.models import AuditEvent
from sangsaeng.core.errors import InvalidInput, NotFound
from sangsaeng.core.i18n import set_locale
from sangsaeng.core.imports import reader
from sangsaeng.core.jobs.models import Job
from sangsaeng.core.policy import Actor
from sangsaeng.outcomes import imports
from sangsaeng.outcomes.models import KpiMeasurement
from sangsaeng.programs import service as programs
from tests.assessments.helpers import actor_of
from tests.factories import make_org, make_user, session_cookie
from tests.programs.lifecycle import program_values
from tests.programs.test_project_pages import bare_project

HEADER = "협약번호,성과지표,단계,연차,기간 시작,기간 종료,값,단위,증빙\n"


@dataclass
class World:
    program_id: int
    operator: Actor
    sme_a: Actor
    sme_b: Actor
    sme_c: Actor
    stranger: Actor
    operator_email: str
    sme_a_email: str
    a: object  # A's project
    b: object  # B's project
    c: object
    biz_a: str
    biz_c: str


def build(db) -> World:
    office = make_org(db, kind="operator", size_class="large", name_ko="추진단")
    provider = make_org(db, name_ko="솔루션공급")
    orgs = [make_org(db, name_ko=f"중소기업 {x}") for x in "ABC"]
    operator_user = make_user(db, roles=[(office, "operator")])
    operator = actor_of(db, operator_user)
    program = programs.create_program(db, operator, office.id, program_values())
    programs.set_status(db, operator, program.id, "open")
    a, b, c = (bare_project(db, program.id, org.id, provider.id) for org in orgs)
    users = [make_user(db, roles=[(org, "sme")]) for org in orgs]
    other = make_org(db, kind="operator", size_class="large", name_ko="다른 추진단")
    stranger = actor_of(db, make_user(db, roles=[(other, "operator")]))
    db.commit()
    return World(
        program.id,
        operator,
        *(actor_of(db, u) for u in users),
        stranger,
        operator_user.email,
        users[0].email,
        a,
        b,
        c,
        orgs[0].business_no,
        orgs[2].business_no,
    )


def csv_of(lines: list[str], header: str = HEADER, encoding: str = "cp949") -> bytes:
    return (header + "".join(line + "\n" for line in lines)).encode(encoding)


def table_of(data: bytes, name: str = "kpi.csv"):
    return reader.read_table(data, name)


def stored(db, project_id=None) -> list[KpiMeasurement]:
    db.expire_all()
    stmt = select(KpiMeasurement).order_by(KpiMeasurement.id)
    if project_id is not None:
        stmt = stmt.where(KpiMeasurement.project_id == project_id)
    return list(db.scalars(stmt))


def count(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(KpiMeasurement))


# --- reading cells -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-01", date(2025, 1, 1)),
        ("2025.01.01", date(2025, 1, 1)),
        ("2025. 1. 31.", date(2025, 1, 31)),
        ("2025/12/31", date(2025, 12, 31)),
        ("2025년 3월 1일", date(2025, 3, 1)),
        ("20250101", date(2025, 1, 1)),
        ("2025-01-01 00:00:00", date(2025, 1, 1)),  # an Excel date cell as the reader gives it
        ("45658", date(2025, 1, 1)),  # an Excel serial day number
        ("2025-02-30", None),
        ("2025", None),
        ("", None),
    ],
)
def test_dates_in_the_forms_sheets_use(text, expected):
    assert imports.parse_date(text) == expected


def test_values_stages_and_years():
    assert imports.parse_value("1,234") == (1234.0, False)
    assert imports.parse_value(" 3.2% ") == (3.2, True)
    assert imports.parse_value("\u22120.5") == (-0.5, False)
    assert imports.parse_value("nan")[0] is None and imports.parse_value("3,2,a")[0] is None
    assert imports.parse_stage("착수 전") == ("baseline", None)
    assert imports.parse_stage("기준") == ("baseline", None)
    assert imports.parse_stage("완료") == ("completion", None)
    assert imports.parse_stage("Follow-up") == ("follow_up", None)
    assert imports.parse_stage("사후관리 2년차") == ("follow_up", 2)
    assert imports.parse_stage("중간") == (None, None)
    assert [imports.parse_year(t) for t in ("1", "2년차", "3차년도", "x")] == [1, 2, 3, None]


# --- importing ---------------------------------------------------------------------------------


def test_cp949_csv_with_korean_headers_imports_baseline_and_completion(db):
    w = build(db)
    no = w.a.agreement_no
    data = csv_of(
        [
            f"{no},불량률,기준,,2025-01-01,2025-12-31,3.2%,,품질 실적 보고서",
            f"{no},불량률,완료,,2026.07.01,2026.12.31,1.5,%,",
            f'{no},Revenue,착수 전,,20250101,20251231,"1,234,000,000",KRW/year,',
            f'{no},revenue,사후관리,1,2027-01-01,2027-12-31,"1,500,000,000",,',
        ]
    )
    table = table_of(data)
    assert table.encoding == "cp949"
    result = imports.import_kpis(db, w.operator, w.program_id, table, source="imported")
    assert result.committed and result.rejected == [] and result.created == 4
    assert result.by_stage == {"baseline": 2, "completion": 1, "follow_up": 1}
    assert result.evidence_named == 1
    values = [(m.kpi_code, m.stage, m.year_no, m.value, m.unit, m.source) for m in stored(db)]
    assert values == [
        ("defect_rate", "baseline", None, 3.2, "%", "imported"),
        ("defect_rate", "completion", None, 1.5, "%", "imported"),
        ("revenue", "baseline", None, 1_234_000_000, "KRW/year", "imported"),
        ("revenue", "follow_up", 1, 1_500_000_000, "KRW/year", "imported"),
    ]
    assert {m.status for m in stored(db)} == {"reported"}
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "kpi.import"))
    assert event.details["created"] == 4 and event.details["rejected"] == 0
    assert event.details["source"] == "imported" and event.object_id == str(w.program_id)


def test_rows_may_come_in_any_order_and_by_business_number(db):
    w = build(db)
    data = csv_of(
        [
            f"{w.biz_a},불량률,완료,,2026-07-01,2026-12-31,1.5,,",  # before its baseline row
            f"{w.biz_a[:3]}-{w.biz_a[3:5]}-{w.biz_a[5:]},defect_rate,baseline,,2025-01-01,"
            "2025-12-31,3.2,,",
        ],
        header="사업자등록번호,KPI,Stage,Year,Period start,Period end,Value,Unit,Evidence\n",
    )
    result = imports.import_kpis(db, w.sme_a, w.program_id, table_of(data))
    assert result.rejected == [] and result.created == 2
    assert [(m.stage, m.source) for m in stored(db)] == [
        ("completion", "self"),
        ("baseline", "self"),
    ]


def test_xlsx_with_excel_dates_and_numbers(db):
    w = build(db)
    book = Workbook()
    sheet = book.active
    sheet.append(["협약번호", "성과지표", "단계", "연차", "기간 시작", "기간 종료", "값", "단위"])
    sheet.append(
        [
            w.a.agreement_no,
            "납기준수율",
            "기준",
            None,
            datetime(2025, 1, 1),
            datetime(2025, 12, 31),
            91.5,
            "%",
        ]
    )
    sheet.append([w.a.agreement_no, "on_time_delivery", "완료", None, 46204, 46387, 97, None])
    sheet.append([])  # a blank row keeps its number
    sheet.append(
        [
            w.a.agreement_no,
            "납기준수율",
            "사후관리",
            1,
            datetime(2027, 1, 1),
            datetime(2027, 12, 31),
            130,
            None,
        ]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    table = table_of(buffer.getvalue(), "kpi.xlsx")
    assert table.encoding == "xlsx"
    result = imports.import_kpis(db, w.sme_a, w.program_id, table, mode="good")
    assert result.committed and result.created == 2
    assert [(e.row, e.column) for e in result.rejected] == [(5, "값")]  # 130 % on-time delivery
    completion = stored(db)[1]
    assert (completion.period_start, completion.period_end) == (
        date(2026, 7, 1),
        date(2026, 12, 31),
    )


def bad_sheet(w: World) -> bytes:
    a, b = w.a.agreement_no, w.b.agreement_no
    return csv_of(
        [
            f"{a},불량률,기준,,2025-01-01,2025-12-31,3.2,%,",  # 2 good
            f"{a},불량률,완료,,2026-07-01,2026-12-31,120,%,",  # 3 defect rate above 100 %
            f"{a},불량률,완료,,2026-07-01,2026-12-31,1.5,ppm,",  # 4 unit mismatch
            f"{a},불량률,완료,,2024-01-01,2024-12-31,1.5,%,",  # 5 period before the baseline
            "NO-SUCH-0001,불량률,기준,,2025-01-01,2025-12-31,3.2,%,",  # 6 unknown agreement
            f"{b},불량률,기준,,2025-01-01,2025-12-31,3.2,%,",  # 7 B's project
            f"{a},불량률,완료,,2026-01-01,2026-06-30,2.0,%,",  # 8 good
            f"{a},불량률,완료,,2026-01-01,2026-06-30,2.0,%,",  # 9 duplicate of row 8
            f"{a},생산성,기준,,2025-01-01,2025-13-01,3,,",  # 10 unknown KPI, bad date
        ]
    )


def test_bad_rows_are_named_by_row_and_column_and_all_mode_writes_nothing(db):
    w = build(db)
    set_locale("ko")
    table = table_of(bad_sheet(w))
    before = count(db)
    result = imports.import_kpis(db, w.sme_a, w.program_id, table, mode="all")
    assert not result.committed and count(db) == before
    where = [(e.row, e.column) for e in result.rejected]
    assert where == [
        (3, "값"),
        (4, "단위"),
        (5, "기간 종료"),
        (6, "협약번호"),
        (7, "협약번호"),
        (9, "기간 종료"),
        (10, "기간 종료"),
        (10, "성과지표"),
    ]
    reasons = {e.row: e.reason for e in result.rejected}
    assert "허용 범위" in reasons[3] and "단위는 %" in reasons[4]
    assert reasons[7] == reasons[6]  # another company's project is not revealed
    assert "8" in reasons[9]  # the duplicate names the earlier row
    assert db.scalar(select(func.count()).where(AuditEvent.action == "kpi.import")) == 0


def test_good_mode_writes_the_good_rows_and_lists_the_others(db):
    w = build(db)
    result = imports.import_kpis(db, w.sme_a, w.program_id, table_of(bad_sheet(w)), mode="good")
    assert result.committed and result.created == 2
    assert sorted({e.row for e in result.rejected}) == [3, 4, 5, 6, 7, 9, 10]
    assert [(m.stage, m.period_end) for m in stored(db)] == [
        ("baseline", date(2025, 12, 31)),
        ("completion", date(2026, 6, 30)),
    ]
    assert stored(db, w.b.id) == []
    # The same file again: every row is already recorded or bad; nothing new is stored.
    again = imports.import_kpis(db, w.sme_a, w.program_id, table_of(bad_sheet(w)), mode="good")
    assert again.created == 0 and {e.row for e in again.rejected} >= {2, 8}
    assert count(db) == 2


def test_a_thousandfold_jump_against_the_previous_row_is_flagged(db):
    w = build(db)
    no = w.a.agreement_no
    data = csv_of(
        [
            f'{no},단위당 원가,기준,,2025-01-01,2025-12-31,"15,000",KRW/unit,',
            f'{no},단위당 원가,완료,,2026-01-01,2026-12-31,"15,000,000",KRW/unit,',
        ]
    )
    preview = imports.import_kpis(db, w.operator, w.program_id, table_of(data), dry_run=True)
    assert preview.created == 2 and count(db) == 0  # a dry run writes nothing
    assert [(e.row, e.column) for e in preview.flagged] == [(3, "값")]
    result = imports.import_kpis(db, w.operator, w.program_id, table_of(data))
    [base, after] = stored(db)
    assert base.flags == [] and after.flags[0][1]["ratio"] == 1000
    assert result.flagged[0].row == 3


def test_business_number_of_a_company_with_two_projects_is_ambiguous(db, monkeypatch):
    w = build(db)
    real = imports.scope_of

    def two_projects_of_c(session, actor, program_id):
        # One application per company and program keeps this rare; a row must still not guess.
        scope = real(session, actor, program_id)
        scope.by_company[w.biz_c] = [w.c, w.b]
        return scope

    monkeypatch.setattr(imports, "scope_of", two_projects_of_c)
    data = csv_of(
        [
            f"{w.biz_c},불량률,기준,,2025-01-01,2025-12-31,3.2,%,",
            f"{w.biz_a},불량률,기준,,2025-01-01,2025-12-31,3.2,%,",
            "123-45-67890,불량률,기준,,2025-01-01,2025-12-31,3.2,%,",
        ],
        header="사업자등록번호,성과지표,단계,연차,기간 시작,기간 종료,값,단위,증빙\n",
    )
    result = imports.import_kpis(db, w.operator, w.program_id, table_of(data), mode="good")
    assert result.created == 1 and [m.project_id for m in stored(db)] == [w.a.id]
    assert [(e.row, e.column) for e in result.rejected] == [
        (2, "사업자등록번호"),
        (4, "사업자등록번호"),
    ]
    assert "2" in result.rejected[0].reason  # the company's number of projects
    # An agreement number with another company's business number is refused.
    mixed = csv_of(
        [f"{w.a.agreement_no},{w.biz_c},불량률,기준,,2025-01-01,2025-12-31,3.2,%,"],
        header="협약번호,사업자등록번호,성과지표,단계,연차,기간 시작,기간 종료,값,단위,증빙\n",
    )
    refused = imports.import_kpis(db, w.operator, w.program_id, table_of(mixed))
    assert [(e.row, e.column) for e in refused.rejected] == [(2, "사업자등록번호")]


def test_who_may_import_and_with_which_source(db):
    w = build(db)
    data = csv_of([f"{w.a.agreement_no},불량률,기준,,2025-01-01,2025-12-31,3.2,%,"])
    for outsider in (w.stranger,):
        with pytest.raises(NotFound):
            imports.import_kpis(db, outsider, w.program_id, table_of(data))
    with pytest.raises(InvalidInput) as caught:  # a company reports its own values as "self"
        imports.import_kpis(db, w.sme_a, w.program_id, table_of(data), source="imported")
    assert "source" in caught.value.fields
    # B may import only for B's project: A's row is refused like an unknown one.
    result = imports.import_kpis(db, w.sme_b, w.program_id, table_of(data), mode="good")
    assert result.created == 0 and [(e.row, e.column) for e in result.rejected] == [(2, "협약번호")]
    with pytest.raises(InvalidInput) as caught:  # neither 협약번호 nor 사업자등록번호
        imports.import_kpis(
            db, w.operator, w.program_id, table_of(csv_of([], header="성과지표,단계\n"))
        )
    assert "mapping" in caught.value.fields


def test_progress_is_reported_up_to_the_total(db):
    w = build(db)
    lines = [
        f"{p.agreement_no},{kpi},기준,,2025-01-01,2025-12-31,{i + 1},,"
        for p in (w.a, w.b, w.c)
        for i, kpi in enumerate(("lead_time", "unit_cost", "productivity", "energy_per_unit"))
    ]
    seen = []
    result = imports.import_kpis(
        db,
        w.operator,
        w.program_id,
        table_of(csv_of(lines)),
        progress=lambda d, t: seen.append((d, t)),
    )
    assert result.created == 12
    assert seen[-1] == (24, 24) and [d for d, _t in seen] == sorted(d for d, _t in seen)


# --- the job, the pages and the CLI ------------------------------------------------------------


def test_pages_preview_and_the_job_through_the_queue(client, db):
    w = build(db)
    from sangsaeng.core.models import User

    user = db.scalar(select(User).where(User.email == w.operator_email))
    cookie, csrf = session_cookie(db, user)
    db.commit()
    client.cookies.set("ss_session", cookie)
    base = f"/programs/{w.program_id}/kpis/import"
    page = client.get(base)
    assert page.status_code == 200 and 'value="imported"' in page.text
    sheet = client.get(f"{base}/template.xlsx")
    assert sheet.status_code == 200
    headers = [c.value for c in next(load_workbook(io.BytesIO(sheet.content)).worksheets[0].rows)]
    assert headers[:3] == ["협약번호", "사업자등록번호", "성과지표"]
    # The blank sheet reads back as a valid table (its example row names no real project).
    example = imports.import_kpis(
        db, w.operator, w.program_id, table_of(sheet.content, "t.xlsx"), dry_run=True
    )
    assert [(e.row, e.column) for e in example.rejected] == [(2, "협약번호")]

    uploaded = client.post(
        base,
        data={"csrf_token": csrf, "encoding": "auto", "mode": "good", "source": "imported"},
        files={"file": ("성과.csv", bad_sheet(w), "text/csv")},
    )
    assert uploaded.status_code == 303
    preview = client.get(uploaded.headers["location"])
    assert preview.status_code == 200 and 'id="import-errors"' in preview.text
    assert '<td class="num">6</td><td>협약번호</td>' in preview.text
    assert count(db) == 0  # the preview writes nothing
    file_id = uploaded.headers["location"].split("/")[-1].split("?")[0]
    committed = client.post(
        f"{base}/{file_id}/commit",
        data={"csrf_token": csrf, "mode": "good", "source": "imported", "encoding": "auto"},
    )
    assert committed.status_code == 303 and committed.headers["location"].startswith("/jobs/")
    db.expire_all()
    job = db.get(Job, committed.headers["location"].removeprefix("/jobs/"))
    assert job.kind == "import.kpis" and job.status == "succeeded" and job.progress == 100
    # A-only rows (B's project is the operator's too: row 7 is good for an operator).
    assert job.result["created"] == 3 and job.result["source"] == "imported"
    assert {m.source for m in stored(db)} == {"imported"}
    status = client.get(f"{committed.headers['location']}/status")
    assert status.status_code == 200 and '<td class="num">6</td><td>협약번호</td>' in status.text
    errors = client.get(f"{committed.headers['location']}/errors.csv")
    assert errors.status_code == 200 and "기간 종료" in errors.content.decode("utf-8-sig")


def test_an_all_or_nothing_job_with_bad_rows_fails_and_writes_nothing(client, db):
    w = build(db)
    from sangsaeng.core.models import User

    user = db.scalar(select(User).where(User.email == w.sme_a_email))
    cookie, csrf = session_cookie(db, user)
    db.commit()
    client.cookies.set("ss_session", cookie)
    base = f"/programs/{w.program_id}/kpis/import"
    uploaded = client.post(
        base,
        data={"csrf_token": csrf, "mode": "all"},
        files={"file": ("성과.csv", bad_sheet(w), "text/csv")},
    )
    file_id = uploaded.headers["location"].split("/")[-1].split("?")[0]
    preview = client.get(uploaded.headers["location"])
    assert preview.status_code == 200 and 'value="imported"' not in preview.text
    saved = client.post(
        f"{base}/{file_id}/template",
        data={"csrf_token": csrf, "name": "우리 양식", "map_agreement_no": "0", "map_kpi": "1"},
    )
    assert saved.status_code == 303 and "template=" in saved.headers["location"]
    committed = client.post(f"{base}/{file_id}/commit", data={"csrf_token": csrf, "mode": "all"})
    db.expire_all()
    job = db.get(Job, committed.headers["location"].removeprefix("/jobs/"))
    assert job.status == "failed" and count(db) == 0
    assert {r["row"] for r in job.result["rejected"]} == {3, 4, 5, 6, 7, 9, 10}


def test_strangers_do_not_find_the_import_pages(client, db):
    w = build(db)
    other = make_user(db)
    cookie, _csrf = session_cookie(db, other)
    db.commit()
    client.cookies.set("ss_session", cookie)
    for path in ("", "/template.xlsx"):
        assert client.get(f"/programs/{w.program_id}/kpis/import{path}").status_code == 404


def cli(*args):
    from sangsaeng.cli import app as cli_app

    result = CliRunner().invoke(cli_app, ["outcomes", "import-kpis", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_cli_import_kpis(cli_env, db, tmp_path):
    w = build(db)
    path = tmp_path / "kpi.csv"
    path.write_bytes(bad_sheet(w))
    args = ["--program", str(w.program_id), "--file", str(path)]
    code, out = cli(*args, "--as", w.sme_a_email)
    assert code == 2 and out["committed"] is False and count(db) == 0
    assert (out["rejected"][0]["row"], out["rejected"][0]["column"]) == (3, "값")
    code, out = cli(*args, "--as", w.operator_email, "--mode", "good", "--source", "imported")
    assert code == 0 and out["created"] == 3 and out["source"] == "imported"
    assert count(db) == 3
    code, out = cli(*args, "--as", "nobody@example.kr")
    assert code == 2 and out["code"] == "invalid_input"
    code, out = cli(*args, "--as", w.sme_a_email, "--source", "imported")
    assert code == 2 and "source" in out["details"]
