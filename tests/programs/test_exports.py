"""Every program list downloads as .xlsx: the operator's objections, overdue items and overview
workbook, the sponsor's programs, the evaluator's assignments, the provider registry and a
company's own projects — headers in the reader's language, KRW as integers, dates ISO, formulas
neutralised, each download logged, and other tenants kept out."""

from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from sangsaeng.core.audit.models import AuditEvent
from sangsaeng.core.exports import to_xlsx_sheets
from sangsaeng.core.i18n import Msg, reset_locale, set_locale
from sangsaeng.core.models import User
from sangsaeng.programs import evaluation_service as evaluation
from sangsaeng.programs import project_service as projects
from sangsaeng.programs.models import Solution
from tests.assessments.helpers import actor_of
from tests.factories import make_user, session_cookie
from tests.programs import lifecycle
from tests.programs.test_lifecycle import _signed

EVIL = '=HYPERLINK("http://evil")'
REASON = "=1+1 평가 점수 산정을 다시 확인해 주십시오."


def _korean(msgid: str) -> str:
    """A header as a Korean reader gets it (the catalog's Korean once merged)."""
    token = set_locale("ko")
    try:
        return str(Msg(msgid))
    finally:
        reset_locale(token)


def _browser(db, make_client, actor):
    client = make_client()
    cookie, _csrf = session_cookie(db, db.get(User, actor.user_id))
    client.cookies.set("ss_session", cookie)
    return client


def _sheets(response) -> dict[str, list[tuple]]:
    """Every sheet of a downloaded workbook, by title, as rows of values."""
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="') and disposition.endswith('.xlsx"')
    book = load_workbook(io.BytesIO(response.content))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def _only_sheet(response) -> list[tuple]:
    (rows,) = _sheets(response).values()
    return rows


def _world(db):
    """A published program with A's signed project (kickoff overdue), a formula-like company
    name, and an open objection whose reason starts with "="."""
    world = lifecycle.build(db)
    world.smes[2].name_ko = EVIL
    apps, project = _signed(db, world)
    kickoff = projects.milestones(db, project.id)[0]
    kickoff.due_on = date.today() - timedelta(days=3)
    evaluation.lodge_objection(db, world.sme_actors[2], apps[2].id, REASON)
    db.flush()
    return world, apps, project


def _logged(db, action: str) -> list[AuditEvent]:
    db.rollback()  # see what the app committed
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_operator_exports_objections_overdue_items_and_the_overview(db, make_client):
    world, apps, project = _world(db)
    pid = world.program.id
    operator = _browser(db, make_client, world.operator)
    other = _browser(db, make_client, world.other_operator)
    sme = _browser(db, make_client, world.sme_actors[0])
    db.commit()

    rows = _only_sheet(operator.get(f"/programs/{pid}/objections.xlsx"))
    assert rows[0][:2] == (_korean("Company"), _korean("Application no."))
    assert rows[0][5] == _korean("Status")
    assert len(rows) == 2
    company, app_no, title, lodged, reason, status, answer, answered = rows[1]
    assert (company, app_no, title) == ("'" + EVIL, apps[2].id, "MES 구축 2")
    assert reason == "'" + REASON
    assert status == _korean("Waiting for an answer")
    assert (answer, answered) == (None, None)
    assert lodged.startswith(date.today().isoformat()[:4]) and len(lodged) == 19

    rows = _only_sheet(operator.get(f"/programs/{pid}/overdue.xlsx"))
    assert rows[0] == tuple(_korean(h) for h in ("Kind", "Overdue item", "Due", "Days late"))
    assert rows[1:] == [
        (
            _korean("Milestone"),
            f"{project.agreement_no} 착수",
            (date.today() - timedelta(days=3)).isoformat(),
            3,
        )
    ]

    sheets = _sheets(operator.get(f"/programs/{pid}/overview.xlsx"))
    assert len(sheets) == 8
    summary, by_status, failures, funds, sponsors, by_project, stages, levels = sheets.values()
    assert summary[0] == (_korean("Figure"), _korean("Value"))
    assert (_korean("Applications ranked"), 3) in summary
    assert sorted(by_status[1:]) == sorted([(_korean("Selected"), 2), (_korean("Reserve list"), 1)])
    assert failures[1:] == []
    government = next(r for r in funds[1:] if r[0] == "정부")
    # 1,000,000,000 contributed; 30,000,000 held at signing, nothing paid yet: whole KRW.
    assert government[2:] == (1_000_000_000, 30_000_000, 0, 0, 970_000_000)
    assert sponsors[1:] == [(world.sponsor.name_ko, 1_000_000_000)]
    assert by_project[1:] == [(_korean("In progress"), 1)]
    assert stages[1:] == [(_korean("Kickoff (착수)"), 1)]
    assert levels[1] == (0, None, None, None, 0, None)

    # Another operator and the applicant are refused; a stranger's id is unknown.
    for path in ("objections.xlsx", "overdue.xlsx", "overview.xlsx"):
        assert other.get(f"/programs/{pid}/{path}").status_code == 403
        assert sme.get(f"/programs/{pid}/{path}").status_code == 403
        assert operator.get(f"/programs/999999/{path}").status_code == 404
    for action in ("objection.export", "program.overdue.export", "program.overview.export"):
        (event,) = _logged(db, action)
        assert event.object_id == str(pid)


def test_sponsors_evaluators_companies_and_everyone_export_their_lists(db, make_client):
    world, _apps, project = _world(db)
    db.get(Solution, world.solution_id).description = "@SUM(A1) 실시간 수집"
    sponsor_actor = actor_of(db, make_user(db, roles=[(world.sponsor, "sponsor")]))
    sponsor = _browser(db, make_client, sponsor_actor)
    judge = _browser(db, make_client, world.evaluators[0])
    owner = _browser(db, make_client, world.sme_actors[0])
    stranger = _browser(db, make_client, world.sme_actors[1])
    db.commit()

    rows = _only_sheet(sponsor.get("/sponsor/programs.xlsx"))
    assert rows[0][:4] == tuple(
        _korean(h) for h in ("Sponsor", "Program", "Program year", "Our contribution (KRW)")
    )
    # One company reached; it is outside the sponsor's supply chain.
    assert rows[1:] == [
        (world.sponsor.name_ko, world.program.name_ko, 2027, 1_000_000_000, 1, 0, 0, 0, 1)
    ]
    assert owner.get("/sponsor/programs.xlsx").status_code == 404

    rows = _only_sheet(judge.get("/evaluations.xlsx"))
    assert rows[0] == tuple(
        _korean(h)
        for h in (
            "Program",
            "Applicant",
            "Assigned (KST)",
            "Declaration",
            "Declared (KST)",
            "Score",
            "Scored (KST)",
        )
    )
    assert len(rows) == 4
    assert {r[1] for r in rows[1:]} == {"중소기업 0", "중소기업 1", "'" + EVIL}
    assert {(r[3], r[5]) for r in rows[1:]} == {
        (_korean("No conflict declared"), 90.0),
        (_korean("No conflict declared"), 70.0),
        (_korean("No conflict declared"), 60.0),
    }
    assert all(r[6] for r in rows[1:])
    assert _only_sheet(owner.get("/evaluations.xlsx"))[1:] == []  # not an evaluator of any

    rows = _only_sheet(stranger.get("/providers.xlsx"))
    assert rows[0][:3] == tuple(
        _korean(h) for h in ("Solution provider", "Business registration no.", "Solution")
    )
    assert [(r[0], r[2], r[3], r[4]) for r in rows[1:]] == [
        ("스마트솔루션", "스마트 MES", "MES", "'@SUM(A1) 실시간 수집")
    ]

    rows = _only_sheet(owner.get("/projects.xlsx"))
    assert rows[0][:5] == tuple(
        _korean(h) for h in ("Program", "Agreement no.", "Status", "Total (KRW)", "Paid (KRW)")
    )
    assert rows[1:] == [
        (
            world.program.name_ko,
            project.agreement_no,
            _korean("In progress"),
            100_000_000,
            0,
            _korean("Kickoff"),
            (date.today() - timedelta(days=3)).isoformat(),
            _korean("Overdue"),
            project.starts_on.isoformat(),
            project.ends_on.isoformat(),
        )
    ]
    # Another company's member gets its own (empty) list, never A's project.
    assert _only_sheet(stranger.get("/projects.xlsx"))[1:] == []
    for action in (
        "sponsor.programs.export",
        "evaluation.export",
        "provider.export",
        "project.export",
    ):
        assert _logged(db, action), action


def test_a_workbook_of_several_sheets_neutralises_every_one():
    body = to_xlsx_sheets(
        [
            ("요약", ["항목", "값"], [["=cmd|' /C calc'!A0", 1]]),
            ("a/b:c*d?[e]", ["+x"], [[date(2026, 3, 1).isoformat()]]),
            ("요약", ["n"], [[2]]),  # a repeated name gets a suffix
            ("x" * 40, ["n"], []),
        ]
    )
    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["요약", "a b c d  e", "요약~2", "x" * 31]
    first, second, third, fourth = (list(ws.iter_rows(values_only=True)) for ws in book)
    assert first == [("항목", "값"), ("'=cmd|' /C calc'!A0", 1)]
    assert second == [("'+x",), ("2026-03-01",)]
    assert third == [("n",), (2,)]
    assert fourth == [("n",)]
