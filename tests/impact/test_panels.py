"""Firm-year panel import on both databases: CP949 CSV and xlsx, every rule refusing with its
row and the file's own header, all-or-nothing and keep-the-good modes, duplicates against the
stored rows, gaps as warnings per firm, KSIC changes, who may import, use and read a panel, the
summary and rows pages, the API, the job and the CLI."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date

import numpy as np
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from sangsaeng.core.audit.models import AuditEvent
from sangsaeng.core.errors import Forbidden, InvalidInput, NotFound
from sangsaeng.core.i18n import reset_locale, set_locale
from sangsaeng.core.imports import reader
from sangsaeng.core.jobs.models import Job
from sangsaeng.core.policy import Actor
from sangsaeng.impact import panels
from sangsaeng.impact.models import FirmPanel, FirmYear
from sangsaeng.programs import service as programs
from tests.assessments.helpers import actor_of
from tests.factories import business_no, make_org, make_user, session_cookie
from tests.programs.lifecycle import program_values

HEADER = "사업자등록번호,연도,KSIC 업종코드,지역,매출액(원),영업이익,연구개발비,종업원수,수출액\n"
TODAY = date(2026, 6, 30)
F1, F2, F3, F4 = (business_no(9100 + i) for i in range(4))


def dashed(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


@dataclass
class World:
    office_id: int
    operator: Actor
    sponsor: Actor
    sme: Actor
    stranger: Actor  # an operator of another organization with its own program
    admin: Actor
    program_id: int
    users: dict


def build(db) -> World:
    office = make_org(db, kind="operator", size_class="large", name_ko="추진단")
    sponsor_org = make_org(db, kind="sponsor", size_class="large", name_ko="후원철강")
    sme_org = make_org(db, name_ko="중소기업 A")
    other = make_org(db, kind="operator", size_class="large", name_ko="다른 추진단")
    platform = make_org(db, kind="other", name_ko="플랫폼")
    users = {
        "operator": make_user(db, roles=[(office, "operator")]),
        "sponsor": make_user(db, roles=[(sponsor_org, "sponsor")]),
        "sme": make_user(db, roles=[(sme_org, "sme")]),
        "stranger": make_user(db, roles=[(other, "operator")]),
        "admin": make_user(db, roles=[(platform, "admin")]),
    }
    actors = {k: actor_of(db, u) for k, u in users.items()}
    program = programs.create_program(
        db, actors["operator"], office.id, program_values(sponsor_ids=[sponsor_org.id])
    )
    programs.create_program(db, actors["stranger"], other.id, program_values())
    db.commit()
    return World(
        office.id,
        actors["operator"],
        actors["sponsor"],
        actors["sme"],
        actors["stranger"],
        actors["admin"],
        program.id,
        users,
    )


def csv_of(lines: list[str], header: str = HEADER, encoding: str = "cp949") -> bytes:
    return (header + "".join(line + "\n" for line in lines)).encode(encoding)


def table_of(data: bytes, name: str = "panel.csv"):
    return reader.read_table(data, name)


def run(db, actor, data: bytes, **kwargs):
    kwargs.setdefault("today", TODAY)
    if "panel_id" not in kwargs:
        kwargs.setdefault("name", "2019–2024 행정자료")
    return panels.import_panel(db, actor, table_of(data), **kwargs)


def firm_years(db) -> list[tuple]:
    db.expire_all()
    return list(
        db.execute(
            select(
                FirmYear.business_no,
                FirmYear.year,
                FirmYear.ksic_code,
                FirmYear.region_code,
                FirmYear.revenue,
                FirmYear.operating_profit,
                FirmYear.rnd_spend,
                FirmYear.employees,
                FirmYear.exports,
            ).order_by(FirmYear.business_no, FirmYear.year)
        )
    )


def n_panels(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(FirmPanel))


GOOD = [
    f'{dashed(F1)},2021,C291,경기,"1,250,000,000","△35,000,000","48,000,000",42,"310,000,000"',
    f'{F1},2022,291,경기도,"1,400,000,000","52,000,000",,45,',
    f"{F2},2022년,C25,경남,900000000,-1000,0,12,0",
]


# --- importing ---------------------------------------------------------------------------------


def test_cp949_csv_with_korean_headers(db):
    w = build(db)
    table = table_of(csv_of(GOOD))
    assert table.encoding == "cp949"
    result = panels.import_panel(
        db, w.operator, table, name="2019–2024 행정자료", note="국세청 자료", today=TODAY
    )
    assert result.committed and result.rejected == [] and result.created == 3
    assert (
        result.new_panel
        and result.firms == 2
        and (result.year_min, result.year_max)
        == (
            2021,
            2022,
        )
    )
    assert firm_years(db) == [
        (F1, 2021, "291", "41", 1_250_000_000, -35_000_000, 48_000_000, 42, 310_000_000),
        (F1, 2022, "291", "41", 1_400_000_000, 52_000_000, None, 45, None),
        (F2, 2022, "25", "48", 900_000_000, -1000, 0, 12, 0),
    ]
    panel = db.get(FirmPanel, result.panel_id)
    assert (panel.organization_id, panel.source, panel.note) == (
        w.office_id,
        "administrative",
        "국세청 자료",
    )
    assert (panel.n_firms, panel.n_rows, panel.year_min, panel.year_max) == (2, 3, 2021, 2022)
    assert panel.imported_by_id == w.operator.user_id
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "impact.panel.import"))
    assert event.details["created"] == 3 and event.object_id == str(panel.id)

    frame = panels.load_rows(db, panel.id)
    assert list(frame.columns) == list(panels.ROW_COLUMNS)
    assert frame["business_no"].tolist() == [F1, F1, F2]
    assert frame["year"].dtype == np.int64 and frame["revenue"].dtype == np.float64
    assert np.isnan(frame["rnd_spend"][1]) and frame["operating_profit"][0] == -35_000_000
    empty = panels.load_rows(db, panel.id + 1)
    assert len(empty) == 0 and list(empty.columns) == list(panels.ROW_COLUMNS)


def test_xlsx_with_english_headers_and_number_cells(db):
    w = build(db)
    book = Workbook()
    sheet = book.active
    sheet.append(["Business no", "Year", "KSIC code", "Revenue", "Employees", "Exports"])
    sheet.append([F1, 2020, "C29", 1_000_000_000, 10, 0])
    sheet.append([])  # a blank row keeps its number
    sheet.append([F1, 2021, "C29", 1_100_000_000.0, 11, None])
    sheet.append([F2, 2021, "C29", -5, 3, None])
    buffer = io.BytesIO()
    book.save(buffer)
    table = table_of(buffer.getvalue(), "panel.xlsx")
    assert table.encoding == "xlsx"
    result = panels.import_panel(
        db,
        w.operator,
        table,
        name="신용평가 자료",
        source="credit_bureau",
        mode="good",
        today=TODAY,
    )
    assert result.committed and result.created == 2
    assert [(e.row, e.column) for e in result.rejected] == [(5, "Revenue")]
    assert [(r[0], r[1], r[4], r[7]) for r in firm_years(db)] == [
        (F1, 2020, 1_000_000_000, 10),
        (F1, 2021, 1_100_000_000, 11),
    ]
    assert db.get(FirmPanel, result.panel_id).source == "credit_bureau"
    frame = panels.load_rows(db, result.panel_id)
    assert frame["region_code"].tolist() == [None, None] and frame["exports"].isna().tolist() == [
        False,
        True,
    ]


def bad_sheet() -> bytes:
    return csv_of(
        [
            f"{F1},2021,C291,경기,1000,0,0,1,0",  # 2 good
            "123-45-67890,2021,C291,,1000,,,,",  # 3 check digit
            f"{F2},1989,C291,,1000,,,,",  # 4 year before 1990
            f"{F2},2027,C291,,1000,,,,",  # 5 year after this year
            f"{F2},이천이십,C291,,1000,,,,",  # 6 not a year
            f"{F2},2021,C99,,1000,,,,",  # 7 unknown KSIC
            f"{F2},2020,C291,,-1000,,,,",  # 8 negative revenue
            f'{F3},2020,C291,,"1,000,000,000,000,001",,,,',  # 9 revenue above 10^15
            f"{F3},2021,C291,,1000,,abc,-3,1.5",  # 10 R&D text, employees < 0, decimal exports
            f"{F1},2021,C291,경기,1000,0,0,1,0",  # 11 same firm-year as row 2
            f"{F4},2021,C291,제주특별시,1000,,,,",  # 12 unknown region
            f"{F4},2022,,,1000,,,,",  # 13 no KSIC code
            f"{F1},2022,C291,경기,1100,△20,0,1,0",  # 14 good
        ]
    )


def test_each_rule_refuses_with_its_row_and_column_and_all_mode_stores_nothing(db):
    w = build(db)
    set_locale("ko")
    result = run(db, w.operator, bad_sheet(), mode="all")
    assert not result.committed and result.created == 0
    assert n_panels(db) == 0 and firm_years(db) == []  # not even the new panel
    assert [(e.row, e.column) for e in result.rejected] == [
        (3, "사업자등록번호"),
        (4, "연도"),
        (5, "연도"),
        (6, "연도"),
        (7, "KSIC 업종코드"),
        (8, "매출액(원)"),
        (9, "매출액(원)"),
        (10, "수출액"),
        (10, "연구개발비"),
        (10, "종업원수"),
        (11, "연도"),
        (12, "지역"),
        (13, "KSIC 업종코드"),
    ]
    reasons = {(e.row, e.column): e.reason for e in result.rejected}
    assert "1990" in reasons[(4, "연도")] and "2026" in reasons[(5, "연도")]
    assert "C99" in reasons[(7, "KSIC 업종코드")]
    assert "2" in reasons[(11, "연도")]  # the duplicate names the earlier row
    assert reasons[(8, "매출액(원)")] != reasons[(9, "매출액(원)")]
    assert db.scalar(select(func.count()).where(AuditEvent.action == "impact.panel.import")) == 0
    # A dry run of the same file reports the same rows and writes nothing either.
    preview = run(db, w.operator, bad_sheet(), mode="good", dry_run=True)
    assert preview.created == 2 and preview.rejected == result.rejected and n_panels(db) == 0


def test_good_mode_stores_the_good_rows_and_lists_the_others(db):
    w = build(db)
    result = run(db, w.operator, bad_sheet(), mode="good")
    assert result.committed and result.created == 2
    assert sorted({e.row for e in result.rejected}) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    assert [(r[0], r[1], r[5]) for r in firm_years(db)] == [(F1, 2021, 0), (F1, 2022, -20)]
    panel = db.get(FirmPanel, result.panel_id)
    assert (panel.n_firms, panel.n_rows, panel.year_min, panel.year_max) == (1, 2, 2021, 2022)
    assert result.as_dict()["rejected"][0] == {
        "row": 3,
        "column": "사업자등록번호",
        "reason": result.rejected[0].reason,
    }


def test_appending_refuses_firm_years_already_stored(db):
    w = build(db)
    first = run(db, w.operator, csv_of(GOOD))
    more = csv_of(
        [
            f"{F1},2023,C291,경기,1500000000,,,46,",  # new year
            f"{F1},2022,C291,경기,1400000000,,,45,",  # stored already
            f"{F3},2023,C30,,800000000,,,9,",  # new firm
        ]
    )
    refused = run(db, w.operator, more, panel_id=first.panel_id)
    assert not refused.committed and [(e.row, e.column) for e in refused.rejected] == [(3, "연도")]
    assert "이미" in refused.rejected[0].reason or "already" in refused.rejected[0].reason
    assert len(firm_years(db)) == 3
    added = run(db, w.operator, more, panel_id=first.panel_id, mode="good")
    assert added.committed and added.created == 2 and not added.new_panel
    assert added.panel_id == first.panel_id and n_panels(db) == 1
    panel = db.get(FirmPanel, first.panel_id)
    db.refresh(panel)
    assert (panel.n_firms, panel.n_rows, panel.year_min, panel.year_max) == (3, 5, 2021, 2023)
    # Another panel of the same organization may hold the same firm-years.
    again = run(db, w.operator, csv_of(GOOD), name="다른 추출본")
    assert again.committed and again.created == 3 and n_panels(db) == 2


def test_gaps_are_warnings_listed_per_firm_and_ksic_changes_are_counted(db):
    w = build(db)
    set_locale("ko")
    data = csv_of(
        [
            f"{F1},2018,C291,,100,,,,",
            f"{F1},2019,C291,,110,,,,",
            f"{F1},2022,C292,,150,,,,",  # 2020 and 2021 missing; the industry changed
            f"{F2},2019,C25,,90,,,,",
            f"{F2},2020,C25,,95,,,,",
            f"{F3},2018,C30,,10,,,,",
            f"{F3},2020,C30,,12,,,,",  # 2019 missing
        ]
    )
    result = run(db, w.operator, data, mode="all")
    assert result.committed and result.created == 7 and result.rejected == []
    assert result.gaps == [(F1, [2020, 2021]), (F3, [2019])]
    assert result.ksic_changes == 1
    out = result.as_dict()
    assert out["gaps_are_errors"] is False and out["gap_firms"] == 2
    assert out["gaps"][0] == {"business_no": F1, "missing": [2020, 2021]}
    token = set_locale("en")
    try:
        assert "a warning, not an error" in result.as_dict()["warnings"][0]
    finally:
        reset_locale(token)

    summary = panels.summarise(db, w.operator, result.panel_id)
    assert summary.gap_firms == 2 and summary.gaps == [(F1, [2020, 2021]), (F3, [2019])]
    assert summary.ksic_changes == 1
    assert summary.by_year == [(2018, 2), (2019, 2), (2020, 2), (2022, 1)]
    assert [(code, n) for code, _name, n in summary.by_division] == [
        ("25", 1),
        ("29", 1),
        ("30", 1),
    ]
    assert summary.outcome_share["revenue"] == 1.0 and summary.outcome_share["exports"] == 0.0
    # A sponsor sees the counts, not which firms.
    seen = panels.summarise(db, w.sponsor, result.panel_id)
    assert seen.gap_firms == 2 and seen.gaps == [] and not seen.rows_readable
    # Appending the missing years closes the gap of F3.
    closed = run(db, w.operator, csv_of([f"{F3},2019,C30,,11,,,,"]), panel_id=result.panel_id)
    assert closed.gaps == []
    assert panels.summarise(db, w.operator, result.panel_id).gap_firms == 1


def test_mapping_problems_and_panel_fields_are_refused(db):
    w = build(db)
    with pytest.raises(InvalidInput) as caught:  # no year column
        run(db, w.operator, csv_of([], header="사업자등록번호,업종코드\n"))
    assert "mapping" in caught.value.fields
    with pytest.raises(InvalidInput) as caught:
        run(db, w.operator, csv_of(GOOD), name=" ", source="rumour")
    assert set(caught.value.fields) == {"name", "source"}
    with pytest.raises(InvalidInput) as caught:  # an organization the operator does not run
        run(db, w.operator, csv_of(GOOD), organization_id=w.office_id + 100)
    assert "organization_id" in caught.value.fields
    with pytest.raises(InvalidInput) as caught:  # the administrator must say whose panel it is
        run(db, w.admin, csv_of(GOOD))
    assert "organization_id" in caught.value.fields
    made = run(db, w.admin, csv_of(GOOD), organization_id=w.office_id)
    assert db.get(FirmPanel, made.panel_id).organization_id == w.office_id


def test_who_may_import_use_and_read_a_panel(db):
    w = build(db)
    panel_id = run(db, w.operator, csv_of(GOOD)).panel_id
    for outsider in (w.sme, w.sponsor):
        with pytest.raises(Forbidden):
            run(db, outsider, csv_of(GOOD))
    with pytest.raises(NotFound):  # another operator does not learn the panel exists
        run(db, w.stranger, csv_of(GOOD), panel_id=panel_id)
    with pytest.raises(Forbidden):  # the sponsor may use it, not add to it
        run(db, w.sponsor, csv_of(GOOD), panel_id=panel_id)

    for actor in (w.operator, w.sponsor, w.admin):
        assert panels.get_panel(db, actor, panel_id).id == panel_id
    for actor in (w.sme, w.stranger):
        with pytest.raises(NotFound):
            panels.get_panel(db, actor, panel_id)
    panel = db.get(FirmPanel, panel_id)
    assert [panels.can_read_rows(db, a, panel) for a in (w.operator, w.admin, w.sponsor)] == [
        True,
        True,
        False,
    ]
    with pytest.raises(NotFound):
        panels.panel_rows(db, w.sponsor, panel_id, panels.RowFilters())
    _p, page = panels.panel_rows(db, w.operator, panel_id, panels.clean_filters(F1[:5], "2022"))
    assert [(r.business_no, r.year) for r in page.items] == [(F1, 2022)]

    assert [p.id for p in panels.panels_for_programs(db, w.sponsor, [w.program_id])] == [panel_id]
    assert [p.id for p in panels.panels_for_programs(db, w.admin, [w.program_id])] == [panel_id]
    assert panels.panels_for_programs(db, w.stranger, [w.program_id]) == []
    assert panels.panels_for_programs(db, w.sme, [w.program_id]) == []
    assert [i.panel.id for i in panels.list_panels(db, w.sponsor)] == [panel_id]
    assert panels.list_panels(db, w.stranger) == []
    with pytest.raises(Forbidden):
        panels.list_panels(db, w.sme)


def test_progress_is_reported_up_to_the_total(db):
    w = build(db)
    lines = [
        f"{business_no(9200 + i)},{y},C291,,{1000 + y},,,," for i in range(40) for y in (2020, 2021)
    ]
    seen = []
    result = run(db, w.operator, csv_of(lines), progress=lambda d, t: seen.append((d, t)))
    assert result.created == 80
    assert seen[-1] == (160, 160) and [d for d, _t in seen] == sorted(d for d, _t in seen)


# --- the pages, the API, the job and the CLI ---------------------------------------------------


def signed_in(client, db, user):
    cookie, csrf = session_cookie(db, user)
    db.commit()
    client.cookies.set("ss_session", cookie)
    return csrf


def test_pages_preview_and_the_job_through_the_queue(client, db):
    w = build(db)
    csrf = signed_in(client, db, w.users["operator"])
    assert client.get("/impact/panels/new").status_code == 200
    sheet = client.get("/impact/panels/template.xlsx")
    assert sheet.status_code == 200
    headers = [c.value for c in next(load_workbook(io.BytesIO(sheet.content)).worksheets[0].rows)]
    assert headers[:3] == ["사업자등록번호", "연도", "KSIC 업종코드"]
    # The blank sheet reads back; its example row fails the check digit and stores nothing.
    example = run(db, w.operator, sheet.content, dry_run=True)
    assert [(e.row, e.column) for e in example.rejected] == [(2, "사업자등록번호")]

    refused = client.post(
        "/impact/panels/new",
        data={"csrf_token": csrf, "name": "", "source": "administrative"},
        files={"file": ("패널.csv", bad_sheet(), "text/csv")},
    )
    assert refused.status_code == 422 and "f-name-error" in refused.text
    uploaded = client.post(
        "/impact/panels/new",
        data={"csrf_token": csrf, "name": "행정자료", "source": "administrative", "mode": "good"},
        files={"file": ("패널.csv", bad_sheet(), "text/csv")},
    )
    assert uploaded.status_code == 303
    preview = client.get(uploaded.headers["location"])
    assert preview.status_code == 200 and 'id="import-errors"' in preview.text
    assert '<td class="num">3</td><td>사업자등록번호</td>' in preview.text
    assert n_panels(db) == 0  # the preview writes nothing
    file_id = uploaded.headers["location"].split("/")[-1].split("?")[0]
    saved = client.post(
        f"/impact/panels/import/{file_id}/template",
        data={
            "csrf_token": csrf,
            "name_template": "국세청 양식",
            "name": "행정자료",
            "map_business_no": "0",
            "map_year": "1",
            "map_ksic": "2",
        },
    )
    assert saved.status_code == 303 and "template=" in saved.headers["location"]
    assert client.get(saved.headers["location"]).status_code == 200
    committed = client.post(
        f"/impact/panels/import/{file_id}/commit",
        data={
            "csrf_token": csrf,
            "mode": "good",
            "encoding": "auto",
            "name": "행정자료",
            "source": "administrative",
        },
    )
    assert committed.status_code == 303 and committed.headers["location"].startswith("/jobs/")
    db.expire_all()
    job = db.get(Job, committed.headers["location"].removeprefix("/jobs/"))
    assert job.kind == "import.impact_panel" and job.status == "succeeded" and job.progress == 100
    assert job.result["created"] == 2 and job.organization_id == w.office_id
    panel_id = job.result["panel_id"]
    status = client.get(f"{committed.headers['location']}/status")
    assert '<td class="num">3</td><td>사업자등록번호</td>' in status.text
    errors = client.get(f"{committed.headers['location']}/errors.csv")
    assert errors.status_code == 200 and "연도" in errors.content.decode("utf-8-sig")

    listing = client.get("/impact/panels")
    assert listing.status_code == 200 and f'href="/impact/panels/{panel_id}/rows"' in listing.text
    summary = client.get(f"/impact/panels/{panel_id}")
    assert summary.status_code == 200 and 'id="panel-years"' in summary.text
    rows = client.get(f"/impact/panels/{panel_id}/rows", params={"year": "2022"})
    assert rows.status_code == 200 and dashed(F1) in rows.text and ">2021<" not in rows.text
    # Appending from the summary's link: the form offers the panel.
    assert f'value="{panel_id}" selected' in client.get(f"/impact/panels/new?panel={panel_id}").text


def test_an_all_or_nothing_job_with_bad_rows_fails_and_writes_nothing(client, db):
    w = build(db)
    csrf = signed_in(client, db, w.users["operator"])
    uploaded = client.post(
        "/impact/panels/new",
        data={"csrf_token": csrf, "name": "행정자료", "mode": "all"},
        files={"file": ("패널.csv", bad_sheet(), "text/csv")},
    )
    file_id = uploaded.headers["location"].split("/")[-1].split("?")[0]
    committed = client.post(
        f"/impact/panels/import/{file_id}/commit",
        data={"csrf_token": csrf, "mode": "all", "name": "행정자료"},
    )
    db.expire_all()
    job = db.get(Job, committed.headers["location"].removeprefix("/jobs/"))
    assert job.status == "failed" and n_panels(db) == 0 and firm_years(db) == []
    assert {r["row"] for r in job.result["rejected"]} == set(range(3, 14))


def test_who_sees_which_page(client, make_client, db):
    w = build(db)
    panel_id = run(db, w.operator, csv_of(GOOD)).panel_id
    db.commit()
    anonymous = make_client()
    for path in ("/impact/panels", f"/impact/panels/{panel_id}", f"/impact/panels/{panel_id}/rows"):
        response = anonymous.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert anonymous.get("/api/v1/impact/panels").status_code == 401

    signed_in(client, db, w.users["sponsor"])
    listing = client.get("/impact/panels")
    assert listing.status_code == 200 and "2019–2024 행정자료" in listing.text
    assert "/rows" not in listing.text
    summary = client.get(f"/impact/panels/{panel_id}")
    assert summary.status_code == 200 and F1 not in summary.text and dashed(F1) not in summary.text
    assert client.get(f"/impact/panels/{panel_id}/rows").status_code == 404
    assert client.get("/impact/panels/new").status_code == 403
    api = client.get(f"/api/v1/impact/panels/{panel_id}")
    assert api.status_code == 200 and api.json()["n_rows"] == 3 and F1 not in api.text
    assert api.json()["rows_readable"] is False
    assert api.json()["by_year"] == [{"year": 2021, "firms": 1}, {"year": 2022, "firms": 2}]

    for key, listed in (("sme", 403), ("stranger", 200)):
        other = make_client()
        signed_in(other, db, w.users[key])
        assert other.get("/impact/panels").status_code == listed
        assert other.get(f"/impact/panels/{panel_id}").status_code == 404
        assert other.get(f"/impact/panels/{panel_id}/rows").status_code == 404
        assert other.get(f"/api/v1/impact/panels/{panel_id}").status_code == 404
    stranger_list = make_client()
    signed_in(stranger_list, db, w.users["stranger"])
    assert "2019–2024 행정자료" not in stranger_list.get("/impact/panels").text


def cli(*args):
    from sangsaeng.cli import app as cli_app

    result = CliRunner().invoke(cli_app, ["impact", "import-panel", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_cli_import_panel(cli_env, db, tmp_path):
    w = build(db)
    path = tmp_path / "panel.csv"
    path.write_bytes(bad_sheet())
    args = ["--file", str(path), "--org", str(w.office_id)]
    code, out = cli(*args, "--panel-name", "행정자료")
    assert code == 2 and out["committed"] is False and n_panels(db) == 0
    assert (out["rejected"][0]["row"], out["rejected"][0]["column"]) == (3, "사업자등록번호")
    code, out = cli(
        *args, "--panel-name", "행정자료", "--mode", "good", "--source", "credit_bureau"
    )
    assert code == 0 and out["created"] == 2 and out["new_panel"] is True
    panel = db.get(FirmPanel, out["panel_id"])
    assert panel.source == "credit_bureau" and panel.organization_id == w.office_id
    path.write_bytes(csv_of([f"{F1},2023,C291,,1,,,,"]))
    code, out = cli(*args, "--panel", str(panel.id))
    assert code == 0 and out["created"] == 1 and out["panel_id"] == panel.id
    code, out = cli("--file", str(path), "--org", str(w.office_id + 100), "--panel-name", "x")
    assert code == 2 and out["code"] == "invalid_input" and "organization_id" in out["details"]
    code, out = cli(*args)
    assert code == 2 and out["code"] == "invalid_input"


def test_amounts_in_thousands_or_millions_of_won_are_converted_as_the_header_or_user_states(db):
    w = build(db)
    header = "사업자등록번호,연도,업종,매출액(천원),영업이익 (백만원),연구개발비,종업원수,수출액\n"
    data = csv_of([f"{F1},2022,C291,1234,-2,5,10,0"], header=header)
    preview = run(db, w.operator, data, dry_run=True)
    assert preview.amount_scales == {
        "revenue": 1_000,
        "operating_profit": 1_000_000,
        "rnd_spend": 1,
        "exports": 1,
    }
    token = set_locale("ko")
    try:
        assert any("원 단위로 환산" in note for note in preview.warnings), preview.warnings
    finally:
        reset_locale(token)
    result = run(db, w.operator, data)
    assert result.committed
    stored = db.execute(
        select(FirmYear.revenue, FirmYear.operating_profit, FirmYear.rnd_spend)
    ).one()
    assert tuple(stored) == (1_234_000, -2_000_000, 5)
    # A unit chosen for the whole file overrides the headers.
    plain = csv_of([f"{F2},2022,C291,,7,1,1,3,0"])
    forced = run(db, w.operator, plain, panel_id=result.panel_id, amount_unit="million")
    assert forced.committed
    revenue = db.scalar(select(FirmYear.revenue).where(FirmYear.business_no == F2))
    assert revenue == 7_000_000
    # A conversion that makes an impossible amount is refused like one written in won.
    huge = csv_of([f"{F3},2022,C291,2000000000000,1,1,3,0"], header=header)
    refused = run(db, w.operator, huge, panel_id=result.panel_id)
    assert not refused.committed and refused.rejected[0].column == "매출액(천원)"
    with pytest.raises(InvalidInput):
        run(db, w.operator, plain, panel_id=result.panel_id, amount_unit="billion")
