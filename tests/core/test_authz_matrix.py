"""The authorization matrix: every route of the app, every kind of caller.

The route list comes from the app itself; a route nobody classified here fails the suite. For
each route: anonymous callers get 401 (API) or a redirect to the login (pages); a member of
another organization gets 404 where the object's existence is private; a role without the
right gets 403; the allowed callers succeed; and no response leaks another tenant's identifiers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.orm import Session

from sangsaeng.app import create_app
from sangsaeng.core.accounts import service as accounts
from sangsaeng.core.ids import format_business_no
from sangsaeng.settings import Settings
from tests.factories import PASSWORD, business_no, make_org, make_user, session_cookie

ACTORS = ("anon", "sme_a", "sme_b", "eval_a", "sponsor_s", "operator", "admin")
SIGNED_IN = ACTORS[1:]


@dataclass
class World:
    orgs: dict
    users: dict
    tokens: dict = field(default_factory=dict)  # actor -> raw API token
    cookies: dict = field(default_factory=dict)  # actor -> (session cookie, csrf)
    own_token_id: int = 0
    link_a_d: int = 0
    job_a: str = ""
    note_a: int = 0
    file_a: str = ""
    assess_a: int = 0  # a submitted smart-factory diagnosis of A, with its roadmap
    draft_a: int = 0  # a fully answered draft of A, ready to submit
    plan_a: int = 0
    program_o: int = 0  # an open call run by the operator organization O
    program_p: int = 0  # a published program of O (see _program_of_o)
    provider_x: int = 0
    solution_x: int = 0
    app_a: int = 0  # A's complete draft in program_o
    app_b: int = 0  # B's application under review in program_o
    assign_b: int = 0  # eval_a's declared assignment on app_b
    app_a_p: int = 0  # A's selected application in program_p
    app_b_p: int = 0  # B's rejected application in program_p
    project_a: int = 0  # A's signed project in program_p
    kickoff_a: int = 0  # its kickoff milestone, reported
    objection_b: int = 0  # B's open objection in program_p
    change_a: int = 0  # sme_a's requested budget change on project_a (_project_extras_of_a)
    follow_up_a: int = 0  # project_a's first-year KPI-report follow-up (_project_extras_of_a)
    measurement_a: int = 0  # A's reported defect-rate baseline on project_a (_program_of_o)
    panel_o: int = 0  # O's firm-year panel of A, B and D, O's program sponsored by S (_panel_of_o)
    program_s: int = 0  # that program of O sponsored by S (_panel_of_o)
    study_o: int = 0  # O's operator's impact study of program_s on panel_o (_study_of_o)
    dataset_a: int = 0  # A's production records, consented to O through program_p (_factory_of_a)
    consent_a: int = 0  # that consent
    analysis_a: int = 0  # an OEE analysis of dataset_a by sme_a
    shift_a: int = 0  # a shift of A's calendar (_standards_of_a)
    cycle_a: int = 0  # an ideal cycle time of A


def build_world(db: Session, storage=None, with_assessments: bool = False) -> World:
    orgs = {
        "A": make_org(db, name_ko="가나다정밀(주)", business_no=business_no(7001)),
        "B": make_org(db, name_ko="마바사금속(주)", business_no=business_no(7002)),
        "D": make_org(db, name_ko="아자차부품(주)", business_no=business_no(7003)),
        "S": make_org(db, name_ko="후원철강(주)", kind="sponsor", size_class="large"),
        "O": make_org(db, name_ko="운영추진단", kind="operator", ksic_code="84"),
        "P": make_org(db, name_ko="플랫폼사무국", kind="other", ksic_code="63"),
    }
    from tests.factories import link

    link(db, orgs["S"], orgs["A"])
    link(db, orgs["A"], orgs["D"])
    users = {
        "sme_a": make_user(db, roles=[(orgs["A"], "sme")]),
        "sme_b": make_user(db, roles=[(orgs["B"], "sme")]),
        "eval_a": make_user(db, roles=[(orgs["A"], "evaluator")]),
        "sponsor_s": make_user(db, roles=[(orgs["S"], "sponsor")]),
        "operator": make_user(db, roles=[(orgs["O"], "operator")]),
        "admin": make_user(db, roles=[(orgs["P"], "admin")]),
    }
    world = World(orgs=orgs, users=users)
    for actor, user in users.items():
        scopes = ["read", "write", "admin"] if actor == "admin" else ["read", "write"]
        raw, _t = accounts.create_token(
            db, accounts.load_actor(db, user), name="matrix", scopes=scopes
        )
        world.tokens[actor] = raw
        world.cookies[actor] = session_cookie(db, user)
    _raw, own = accounts.create_token(
        db, accounts.load_actor(db, users["sme_a"]), name="own", scopes=["read"]
    )
    world.own_token_id = own.id
    from sangsaeng.core.jobs.models import Job

    job = Job(
        id="a" * 32,
        kind="import.organizations",
        owner_user_id=users["sme_a"].id,
        status="failed",
        params={"file_id": "missing"},
        error="x",
    )
    db.add(job)
    world.job_a = job.id
    from sangsaeng.core.notifications.models import Notification

    note = Notification(user_id=users["sme_a"].id, title="확인 요청")
    db.add(note)
    db.flush()
    world.note_a = note.id
    if storage is not None:
        from sangsaeng.core.files import service as files

        stored = files.store(
            db,
            accounts.load_actor(db, users["sme_a"]),
            storage,
            data=b"a,b\n1,2\n",
            filename="a.csv",
            place="evidence",
            organization_id=orgs["A"].id,
        )
        world.file_a = stored.id
        if with_assessments:
            _assessments_of_a(db, world, storage)
    from sangsaeng.core.models import SupplierLink

    world.link_a_d = db.scalar(
        select(SupplierLink.id).where(
            SupplierLink.buyer_id == orgs["A"].id, SupplierLink.supplier_id == orgs["D"].id
        )
    )
    db.commit()
    return world


def _assessments_of_a(db: Session, world: World, storage) -> None:
    from sangsaeng.assessments import service as assessments
    from sangsaeng.assessments.models import PlanAction
    from tests.assessments.helpers import SMART, answer_all, submitted

    actor = accounts.load_actor(db, world.users["sme_a"])
    world.assess_a = submitted(db, actor, world.orgs["A"], storage, value=2).id
    world.plan_a = db.scalar(
        select(PlanAction.id).where(PlanAction.assessment_id == world.assess_a)
    )
    draft = assessments.start(db, actor, organization_id=world.orgs["A"].id, instrument_id=SMART)
    assessments.save_answers(db, actor, draft.id, answer_all(SMART, 4))
    for item in ("P2", "P3", "T1", "T3"):
        assessments.link_evidence(db, actor, draft.id, item, world.file_a)
    world.draft_a = draft.id


def _program_of_o(db: Session, world: World) -> None:
    """Programs of operator organization O: an open call (A's complete draft; B's application
    under review, evaluator eval_a assigned and declared), and a published one (A selected and
    signed, its kickoff reported; B not selected, with an open objection)."""
    from datetime import date, timedelta

    from sangsaeng.core.files.service import LocalStorage
    from sangsaeng.programs import application_service as applications
    from sangsaeng.programs import evaluation_service as evaluation
    from sangsaeng.programs import project_service as projects
    from sangsaeng.programs import service as programs
    from tests.programs import lifecycle

    operator = accounts.load_actor(db, world.users["operator"])
    sme_a = accounts.load_actor(db, world.users["sme_a"])
    sme_b = accounts.load_actor(db, world.users["sme_b"])
    eval_a = accounts.load_actor(db, world.users["eval_a"])
    provider = make_org(db, name_ko="솔루션공급(주)", business_no=business_no(7009))
    world.provider_x = applications.register_provider(db, operator, provider.id).id
    world.solution_x = applications.add_solution(
        db, operator, world.provider_x, name="스마트 MES", solution_type="MES"
    ).id
    values = lifecycle.program_values(quota=1, reserve_size=0, sponsor_ids=[world.orgs["S"].id])
    open_call = programs.create_program(db, operator, world.orgs["O"].id, values)
    programs.set_status(db, operator, open_call.id, "open")
    world.program_o = open_call.id
    published = programs.create_program(db, operator, world.orgs["O"].id, values)
    programs.set_status(db, operator, published.id, "open")
    world.program_p = published.id
    storage = LocalStorage(__import__("pathlib").Path(__import__("tempfile").mkdtemp()))

    def complete_draft(actor, program):
        application = applications.start(db, actor, program.id)
        total = 100_000_000
        applications.save(
            db,
            actor,
            application.id,
            {
                "title": "MES 구축",
                "plan": "생산 실적을 실시간으로 수집하여 불량률을 낮추는 계획입니다.",
                "support_type": "advanced",
                "solution_id": world.solution_x,
                "total_krw": total,
                "requested": applications.expected_split(db, program, total),
                "target_kpis": [{"code": "defect_rate", "baseline": 3.0, "target": 1.5}],
            },
        )
        applications.attach_document(
            db, actor, storage, application.id, "사업계획서", data=lifecycle.PDF, filename="a.pdf"
        )
        return application

    world.app_a = complete_draft(sme_a, open_call).id
    app_b = complete_draft(sme_b, open_call)
    applications.submit(db, sme_b, app_b.id)
    evaluation.screen(db, operator, app_b.id, passed=True)
    assignment = evaluation.assign(db, operator, app_b.id, world.users["eval_a"].email)
    evaluation.declare(db, eval_a, assignment.id, conflict=False)
    world.app_b, world.assign_b = app_b.id, assignment.id

    done = [complete_draft(sme_a, published), complete_draft(sme_b, published)]
    for application, actor in zip(done, (sme_a, sme_b), strict=True):
        applications.submit(db, actor, application.id)
    published.closes_at = published.closes_at - timedelta(days=40)
    db.flush()
    panel = make_user(db, roles=[(world.orgs["P"], "evaluator")])
    judge = accounts.load_actor(db, panel)
    for application, score in zip(done, (90, 50), strict=True):
        evaluation.screen(db, operator, application.id, passed=True)
        scored = evaluation.assign(db, operator, application.id, panel.email)
        evaluation.declare(db, judge, scored.id, conflict=False)
        evaluation.score(
            db,
            judge,
            scored.id,
            {k: score for k in lifecycle.SHEET_ITEMS},
            {k: "보완이 필요합니다." for k in lifecycle.SHEET_ITEMS},
        )
    evaluation.decide(db, operator, published.id)
    evaluation.publish(db, operator, published.id)
    for code in ("government", "sponsor"):
        projects.contribute(
            db, operator, published.id, source_code=code, amount=10**9, key=f"matrix-{code}"
        )
    project = projects.sign(
        db, operator, done[0].id, starts_on=date.today(), ends_on=date.today() + timedelta(days=90)
    )
    world.app_a_p, world.app_b_p, world.project_a = done[0].id, done[1].id, project.id
    kickoff = projects.milestones(db, project.id)[0]
    projects.submit_milestone(db, sme_a, kickoff.id, report="착수 보고: 설비 발주 완료.")
    world.kickoff_a = kickoff.id
    world.objection_b = evaluation.lodge_objection(
        db, sme_b, done[1].id, "평가 점수 산정을 다시 확인해 주십시오."
    ).id
    from sangsaeng.outcomes import service as outcomes

    baseline = outcomes.Report(
        "defect_rate", "baseline", date(2025, 1, 1), date(2025, 12, 31), 3.2, "%"
    )
    world.measurement_a = outcomes.report(db, sme_a, project.id, baseline).id
    db.commit()


def _project_extras_of_a(db: Session, world: World) -> None:
    """On project_a: a budget change requested by A, and its follow-up years scheduled (as at
    completion), for the routes that decide a change or mark a follow-up done."""
    from datetime import date

    from sangsaeng.programs import project_service as projects
    from sangsaeng.programs.models import FollowUp, Project

    sme_a = accounts.load_actor(db, world.users["sme_a"])
    world.change_a = projects.request_budget_change(
        db,
        sme_a,
        world.project_a,
        lines={"설비": 60_000_000, "소프트웨어": 40_000_000},
        reason="설비 사양 변경에 따른 비목 재배정입니다.",
    ).id
    projects.schedule_follow_ups(db, db.get(Project, world.project_a), 1, date.today())
    world.follow_up_a = db.scalar(
        select(FollowUp.id).where(
            FollowUp.project_id == world.project_a, FollowUp.kind == "kpi_report"
        )
    )
    db.commit()


def _panel_of_o(db: Session, world: World) -> None:
    """A firm-year panel imported by O's operator (firms A, B and D), and a program of O that
    S sponsors: S may use the panel in studies and see its summary, never its rows."""
    from sangsaeng.core.imports import reader
    from sangsaeng.impact import panels
    from sangsaeng.programs import service as programs
    from tests.programs.lifecycle import program_values

    operator = accounts.load_actor(db, world.users["operator"])
    values = program_values(sponsor_ids=[world.orgs["S"].id])
    program = programs.create_program(db, operator, world.orgs["O"].id, values)
    lines = [
        f"{world.orgs[k].business_no},{year},C291,,{1000 + year},,,,"
        for k in ("A", "B", "D")
        for year in (2022, 2023)
    ]
    data = (
        "사업자등록번호,연도,업종코드,지역,매출액,영업이익,연구개발비,종업원수,수출액\n"
        + "\n".join(lines)
    ).encode()
    table = reader.read_table(data, "panel.csv")
    world.panel_o = panels.import_panel(db, operator, table, name="행정자료").panel_id
    world.program_s = program.id
    db.commit()


FACTORY_CSV = (
    "일자,설비,제품,생산수량,양품수량,계획시간(분),비가동시간(분),이상사이클타임(초)\n"
    "2026-03-02,M1,브래킷,700,665,480,60,30\n"
    "2026-03-03,M2,하우징,800,790,480,0,30\n"
)


def _factory_of_a(db: Session, world: World) -> None:
    """A production dataset of A consented to O's operator through a program of O that A applied
    to (its id replaces program_p), and an OEE analysis of it (it runs at commit)."""
    from sangsaeng.factory import analyses, datasets
    from sangsaeng.programs import service as programs
    from sangsaeng.programs.models import Application
    from tests.programs.lifecycle import program_values

    operator = accounts.load_actor(db, world.users["operator"])
    program = programs.create_program(db, operator, world.orgs["O"].id, program_values())
    db.add(
        Application(program_id=program.id, organization_id=world.orgs["A"].id, status="submitted")
    )
    world.program_p = program.id  # A takes part in it (its application is submitted)
    sme = accounts.load_actor(db, world.users["sme_a"])
    frame, _ = datasets.read_upload(FACTORY_CSV.encode(), "records.csv")
    dataset_id = datasets.import_dataset(db, sme, frame, kind="production").dataset_id
    world.dataset_a = dataset_id
    world.consent_a = datasets.grant_consent(db, sme, dataset_id, program.id).id
    world.analysis_a = analyses.create_analysis(db, sme, dataset_id, "oee", {}).id
    db.commit()


def _standards_of_a(db: Session, world: World) -> None:
    from sangsaeng.factory import standards

    sme = accounts.load_actor(db, world.users["sme_a"])
    shift = {"name": "주간", "starts": "08:00", "ends": "17:00", "break_minutes": "60"}
    world.shift_a = standards.add_shift(db, sme, {**shift, "weekdays": "01234"}).id
    cycle = {"product": "브래킷", "machine": "M1", "ideal_cycle_seconds": "30"}
    world.cycle_a = standards.add_cycle_time(db, sme, cycle).id
    db.commit()


def _study_of_o(db: Session, world: World) -> None:
    """An impact study of program_s on panel_o by O's operator (it runs at commit and fails:
    the program has no participants). S, the program's sponsor, sees it too."""
    from sangsaeng.impact import service as studies

    operator = accounts.load_actor(db, world.users["operator"])
    study = studies.create_study(
        db, operator, program_ids=[world.program_s], panel_id=world.panel_o
    )
    world.study_o = study.id
    db.commit()


def program_body(w: World) -> dict:
    from tests.programs.test_programs import program_values

    body = program_values()
    body["opens_on"] = body["opens_on"].isoformat()
    body["closes_at"] = body["closes_at"].isoformat()
    body["sources"] = [{**item, "share": str(item["share"])} for item in body["sources"]]
    return {**body, "operator_org_id": w.orgs["O"].id}


def program_form(w: World) -> dict:
    from datetime import date, timedelta

    from sangsaeng.core.models import utcnow

    return {
        "operator_org_id": str(w.orgs["O"].id),
        "name_ko": "신규 사업",
        "year": "2027",
        "kind": "smart_factory",
        "opens_on": date.today().isoformat(),
        "closes_at": (utcnow() + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M"),
        "quota": "10",
        "budget_krw": "1000000000",
        "cap_per_company_krw": "100000000",
        "score_sheet": "application-score-sheet",
        "src_code": ["government", "sme"],
        "src_name": ["정부", "기업"],
        "src_share": ["50", "50"],
        "src_form": ["cash", "cash"],
    }


def smart_answers(w: World) -> dict:
    from tests.assessments.helpers import SMART, answer_all

    return {f"a.{k}": str(int(v)) for k, v in answer_all(SMART, 3).items()}


def new_org_body(w: World) -> dict:
    return {
        "business_no": business_no(),
        "name_ko": "신규등록기업",
        "ksic": "C25",
        "region": "경기",
        "size_class": "중소",
        "revenue_krw": 1_500_000_000,
    }


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    expect: dict[str, int]  # actor -> status; missing actors use `default`
    default: int = 200
    params: Callable[[World], dict] = lambda w: {}
    body: Callable[[World], dict] | None = None
    # Routes that answer everyone the same (public pages, the login form).
    public: bool = False
    # Multipart form fields sent with a small CSV file (uploads).
    upload: Callable[[World], dict] | None = None
    query: Callable[[World], dict] | None = None
    # Actors to whom this route rightly shows the other tenant (an evaluator assigned to B).
    sees_foreign: tuple[str, ...] = ()

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/") and self.path not in ("/api/docs",)


def org_a(w: World) -> dict:
    return {"org_id": w.orgs["A"].id}


def org_a_link_d(w: World) -> dict:
    return {"org_id": w.orgs["A"].id, "link_id": w.link_a_d}


def sme_a_user(w: World) -> dict:
    return {"user_id": w.users["sme_a"].id}


_KPI_CODES = itertools.count(1)


def _new_kpi() -> dict:
    """A KPI with a fresh code for each caller (codes are unique in the catalogue)."""
    return {
        "code": f"matrix_kpi_{next(_KPI_CODES)}",
        "name_ko": "스크랩률",
        "name_en": "Scrap rate",
        "unit": "%",
        "direction": "lower",
        "min_value": 0,
        "max_value": 100,
        "category": "operations",
        "improvement": "relative",
    }


ONLY_ADMIN = {a: 403 for a in SIGNED_IN if a != "admin"}
ORG_CREATORS_ONLY = {"sme_a": 403, "sme_b": 403, "eval_a": 403, "sponsor_s": 403}
# Object in tenant A: the other tenant must not learn it exists; roles without the right get 403.
READ_A = {"sme_b": 404}
# Links: the organization's own members, operators (registry keepers) and admins.
WRITE_A = {"sme_b": 404, "eval_a": 403, "sponsor_s": 403}
# The profile: only its own members and admins (operators read it but do not edit it).
EDIT_A = {**WRITE_A, "operator": 403}
OWN_TOKEN = {a: 404 for a in SIGNED_IN if a != "sme_a"}
# A job of sme_a: its owner and admins see it.
JOB_A = {a: 404 for a in SIGNED_IN if a not in ("sme_a", "admin")}
# A notification of sme_a's: nobody else's, not even an administrator's.
NOTE_A = {a: 404 for a in SIGNED_IN if a != "sme_a"}
# A file of organization A: its members and admins read it; to anyone else it does not exist.
FILE_A = {"sme_b": 404, "sponsor_s": 404, "operator": 404}
# A diagnosis of A: its members, operators and admins read it; sponsors and others do not see it.
ASSESS_READ_A = {"sme_b": 404, "sponsor_s": 404}
# Answering and the plan: A's own SME users (and admins); operators follow without editing.
ASSESS_WRITE_A = {**ASSESS_READ_A, "eval_a": 403, "operator": 403}
# On-site verification: operators and admins, never A's own members.
ASSESS_VERIFY_A = {**ASSESS_READ_A, "sme_a": 403, "eval_a": 403}
OPERATORS_ONLY = {"sme_a": 403, "sme_b": 403, "eval_a": 403, "sponsor_s": 403}
# The operator's work on app_b (B's application under review in program_o, eval_a declared on
# it): A's member and the sponsor learn nothing; B's member and the evaluator are refused.
MANAGE_APP_B = {"sme_a": 404, "sme_b": 403, "eval_a": 403, "sponsor_s": 404}
# Answering objection_b (on B's application in program_p): only B's member learns it exists.
ANSWER_B_P = {"sme_a": 404, "sme_b": 403, "eval_a": 404, "sponsor_s": 404}


def program_o(w: World) -> dict:
    return {"program_id": w.program_o}


def program_o_app_b(w: World) -> dict:
    return {"program_id": w.program_o, "application_id": w.app_b}


# Project routes (project_a of A in program_p): A's members and the program's managers read it;
# nobody else learns it exists. Managers decide; the company reports and asks for changes.
PROJECT_PATHS = (
    "/projects",
    "/milestones",
    "/budget-changes",
    "/follow-ups",
    "/agreement",
    "/kpi-measurements",
)
PROJECT_A = {"sme_b": 404, "eval_a": 404, "sponsor_s": 404}
AUTO_A = {**PROJECT_A, "operator": 404, "admin": 404}
AUTO_QUERY = {"kpi_code": "defect_rate", "period_start": "2026-03-01", "period_end": "2026-03-31"}
PROJECT_A_MANAGE = {**PROJECT_A, "sme_a": 403}
COMPANY_A = {**PROJECT_A, "operator": 403, "admin": 403}
REPORTED_A = {**COMPANY_A, "sme_a": 409}  # kickoff_a is already reported
SIGN_A = {**PROJECT_A, "sme_a": 403}
# KPI import into program_p: its managers and companies with a project there (A).
KPI_IMPORT_P = {"sme_b": 404, "eval_a": 404, "sponsor_s": 404}

# The performance report of program_p: its managers, and its sponsor S (the companies S funds).
OUTCOMES_P = {"sme_a": 404, "sme_b": 404, "eval_a": 404}
# Firm-year panels: listed to operators, sponsors and admins; imported by operators (and admins).
# O's panel: its summary for O's operators and S (a sponsor of O's program); rows for O only.
PANEL_USERS = {"sme_a": 403, "sme_b": 403, "eval_a": 403}
PANEL_O = {"sme_a": 404, "sme_b": 404, "eval_a": 404}
PANEL_O_ROWS = {**PANEL_O, "sponsor_s": 404}


def panel_o(w: World) -> dict:
    return {"panel_id": w.panel_o}


# Impact studies: for operators, sponsors and admins. study_o (of O's program that S sponsors):
# O's operators, S and admins see it; to anyone else it is not there.
STUDY_O = {"sme_a": 404, "sme_b": 404, "eval_a": 404}


def study_o(w: World) -> dict:
    return {"study_id": w.study_o}


def study_form(w: World) -> dict:
    return {"program": str(w.program_s), "panel": str(w.panel_o), "outcome": "revenue"}


def program_p(w: World) -> dict:
    return {"program_id": w.program_p}


def project_a(w: World) -> dict:
    return {"project_id": w.project_a}


def measurement_a(w: World) -> dict:
    return {"project_id": w.project_a, "measurement_id": w.measurement_a}


def kpi_form() -> dict:
    """A new KPI value of project_a: an OEE baseline."""
    return {
        "kpi_code": "oee",
        "stage": "baseline",
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
        "value": "61.5",
        "unit": "%",
    }


def kickoff_a(w: World) -> dict:
    return {"project_id": w.project_a, "milestone_id": w.kickoff_a}


def agreement_dates(w: World) -> dict:
    from datetime import date, timedelta

    return {
        "starts_on": date.today().isoformat(),
        "ends_on": (date.today() + timedelta(days=90)).isoformat(),
    }


def inspection_form(w: World) -> dict:
    from datetime import date

    return {"inspected_on": date.today().isoformat(), "result": "pass", "findings": "이상 없음"}


# Applications, evaluations and providers (applicant pages): app_a is A's draft in program_o,
# app_b_p B's rejected application (with an open objection), assign_b eval_a's declared one.
APPLICANT_PATHS = ("/applications", "/evaluations", "/providers")
APP_A = {"sme_b": 404, "eval_a": 404, "sponsor_s": 404}  # read: A's members and the managers
APP_A_OWN = {**APP_A, "operator": 403, "admin": 403}  # write: A's members only
ASSIGN_B = {a: 404 for a in SIGNED_IN if a != "eval_a"}  # eval_a's own assignment


def app_a(w: World) -> dict:
    return {"application_id": w.app_a}


def app_b_p(w: World) -> dict:
    return {"application_id": w.app_b_p}


def assign_b(w: World) -> dict:
    return {"assignment_id": w.assign_b}


def application_form(w: World) -> dict:
    return {
        "from_form": "1",
        "title": "MES 구축",
        "plan": "생산 실적을 실시간으로 수집하여 불량률을 낮추는 계획입니다.",
        "support_type": "advanced",
        "solution_id": str(w.solution_x),
        "total_krw": "100,000,000",
        "kpi_code": ["defect_rate"],
        "kpi_baseline": ["3"],
        "kpi_target": ["1.5"],
    }


def application_body(w: World) -> dict:
    return {
        "title": "MES 구축",
        "plan": "생산 실적을 실시간으로 수집하여 불량률을 낮추는 계획입니다.",
        "support_type": "advanced",
        "solution_id": w.solution_x,
        "total_krw": 100_000_000,
        "target_kpis": [{"code": "defect_rate", "baseline": 3.0, "target": 1.5}],
    }


def sheet_scores(w: World) -> dict:
    from tests.programs.lifecycle import SHEET_ITEMS

    return {f"a.{k}": "80" for k in SHEET_ITEMS}


ROUTES = [
    # --- public
    Route("GET", "/healthz", {}, public=True),
    Route("GET", "/login", {"anon": 200}, default=303, public=True),
    Route(
        "POST",
        "/login",
        {},
        default=400,
        public=True,
        body=lambda w: {"email": "nobody@example.kr", "password": "wrong-password"},
    ),
    Route("POST", "/logout", {}, default=303, public=True, body=lambda w: {}),
    Route("POST", "/lang", {}, default=303, public=True, body=lambda w: {"locale": "en"}),
    Route(
        "GET",
        "/reset/{token}",
        {},
        default=404,
        public=True,
        params=lambda w: {"token": "not-a-token"},
    ),
    Route(
        "POST",
        "/reset/{token}",
        {},
        default=404,
        public=True,
        params=lambda w: {"token": "not-a-token"},
        body=lambda w: {"new_password": "x" * 12},
    ),
    Route("GET", "/api/docs", {}, public=True),
    Route("GET", "/api/v1/openapi.json", {}, public=True),
    # --- pages for any signed-in user
    Route("GET", "/", {}),
    Route("GET", "/orgs", {}),
    Route("GET", "/me", {}),
    Route("POST", "/me", {}, default=303, body=lambda w: {"name": "새 이름", "locale": "ko"}),
    Route(
        "POST",
        "/me/password",
        {},
        default=303,
        body=lambda w: {"current_password": PASSWORD, "new_password": "a fresh long passphrase"},
    ),
    Route("GET", "/me/tokens", {}),
    Route("POST", "/me/tokens", {}, body=lambda w: {"name": "t", "scopes": "read"}),
    Route(
        "POST",
        "/me/tokens/{token_id}/revoke",
        OWN_TOKEN,
        default=303,
        params=lambda w: {"token_id": w.own_token_id},
        body=lambda w: {},
    ),
    # --- organization pages
    Route("GET", "/orgs/new", ORG_CREATORS_ONLY),
    Route("GET", "/orgs/export.{fmt}", {}, params=lambda w: {"fmt": "csv"}),
    Route("POST", "/orgs", ORG_CREATORS_ONLY, default=303, body=new_org_body),
    Route("GET", "/orgs/{org_id}", READ_A, params=org_a),
    Route("GET", "/orgs/{org_id}/edit", EDIT_A, params=org_a),
    Route(
        "POST",
        "/orgs/{org_id}/edit",
        EDIT_A,
        default=303,
        params=org_a,
        body=lambda w: {
            "name_ko": "가나다정밀(주)",
            "ksic": "291",
            "region": "41",
            "size_class": "sme",
            "employees": "41",
        },
    ),
    Route(
        "POST",
        "/orgs/{org_id}/suppliers",
        WRITE_A,
        default=303,
        params=org_a,
        body=lambda w: {"supplier_business_no": format_business_no(w.orgs["B"].business_no)},
    ),
    Route(
        "POST",
        "/orgs/{org_id}/buyers",
        WRITE_A,
        default=303,
        params=org_a,
        body=lambda w: {"buyer_business_no": format_business_no(w.orgs["B"].business_no)},
    ),
    Route(
        "POST",
        "/orgs/{org_id}/links/{link_id}/confirm",
        WRITE_A,
        default=303,
        params=org_a_link_d,
        body=lambda w: {},
    ),
    Route(
        "POST",
        "/orgs/{org_id}/links/{link_id}/remove",
        WRITE_A,
        default=303,
        params=org_a_link_d,
        body=lambda w: {},
    ),
    # --- admin pages
    Route("GET", "/admin/users", ONLY_ADMIN),
    Route("GET", "/admin/users/export.{fmt}", ONLY_ADMIN, params=lambda w: {"fmt": "xlsx"}),
    Route("GET", "/admin/audit", ONLY_ADMIN),
    Route("GET", "/admin/revenue-bands", ONLY_ADMIN),
    Route(
        "POST",
        "/admin/revenue-bands",
        ONLY_ADMIN,
        default=303,
        body=lambda w: {
            "code": ["s", "l"],
            "label_ko": ["소", "대"],
            "label_en": ["S", "L"],
            "min_krw": ["0", "5000000000"],
            "max_krw": ["5000000000", ""],
        },
    ),
    Route("GET", "/admin/audit/export.{fmt}", ONLY_ADMIN, params=lambda w: {"fmt": "csv"}),
    Route(
        "POST",
        "/admin/users/{user_id}/reset-link",
        ONLY_ADMIN,
        params=sme_a_user,
        body=lambda w: {},
    ),
    # --- API: own account
    Route("GET", "/api/v1/me", {}),
    Route("GET", "/api/v1/tokens", {}),
    # Tokens are minted only from a browser session, never by another token (the matrix calls
    # the API with tokens); tests/core/test_accounts.py covers the session path.
    Route(
        "POST", "/api/v1/tokens", {}, default=403, body=lambda w: {"name": "ci", "scopes": ["read"]}
    ),
    Route(
        "DELETE",
        "/api/v1/tokens/{token_id}",
        OWN_TOKEN,
        params=lambda w: {"token_id": w.own_token_id},
    ),
    # --- API: users (admin)
    Route("GET", "/api/v1/users", ONLY_ADMIN),
    Route(
        "POST",
        "/api/v1/users",
        ONLY_ADMIN,
        default=201,
        body=lambda w: {
            "email": "new.user@example.kr",
            "name": "신규",
            "password": "a long new passphrase",
        },
    ),
    Route(
        "POST",
        "/api/v1/users/{user_id}/memberships",
        ONLY_ADMIN,
        default=201,
        params=sme_a_user,
        body=lambda w: {"organization_id": w.orgs["A"].id, "role": "adviser"},
    ),
    Route(
        "POST", "/api/v1/users/{user_id}/password-reset", ONLY_ADMIN, default=201, params=sme_a_user
    ),
    # --- API: organizations
    Route("GET", "/api/v1/organizations", {}),
    Route("POST", "/api/v1/organizations", ORG_CREATORS_ONLY, default=201, body=new_org_body),
    Route("GET", "/api/v1/organizations/{org_id}", READ_A, params=org_a),
    Route(
        "PATCH",
        "/api/v1/organizations/{org_id}",
        EDIT_A,
        params=org_a,
        body=lambda w: {"employees": 42},
    ),
    Route(
        "POST",
        "/api/v1/organizations/{org_id}/suppliers",
        WRITE_A,
        default=201,
        params=org_a,
        body=lambda w: {"supplier_business_no": w.orgs["B"].business_no},
    ),
    Route(
        "POST",
        "/api/v1/organizations/{org_id}/buyers",
        WRITE_A,
        default=201,
        params=org_a,
        body=lambda w: {"buyer_business_no": w.orgs["B"].business_no},
    ),
    Route(
        "POST",
        "/api/v1/organizations/{org_id}/links/{link_id}/confirm",
        WRITE_A,
        params=org_a_link_d,
    ),
    Route(
        "DELETE",
        "/api/v1/organizations/{org_id}/links/{link_id}",
        WRITE_A,
        default=204,
        params=org_a_link_d,
    ),
    Route("GET", "/api/v1/revenue-bands", {}),
    Route(
        "PUT",
        "/api/v1/revenue-bands",
        ONLY_ADMIN,
        body=lambda w: [
            {
                "code": "small",
                "label_ko": "100억 미만",
                "label_en": "Under ₩10bn",
                "min_krw": 0,
                "max_krw": 10_000_000_000,
            },
            {
                "code": "large",
                "label_ko": "100억 이상",
                "label_en": "₩10bn and over",
                "min_krw": 10_000_000_000,
                "max_krw": None,
            },
        ],
    ),
    Route("GET", "/api/v1/audit", ONLY_ADMIN),
    # --- jobs (a failed import of sme_a's)
    Route("GET", "/jobs/{job_id}", JOB_A, params=lambda w: {"job_id": w.job_a}),
    Route("GET", "/jobs/{job_id}/status", JOB_A, params=lambda w: {"job_id": w.job_a}),
    Route(
        "POST",
        "/jobs/{job_id}/retry",
        JOB_A,
        default=303,
        params=lambda w: {"job_id": w.job_a},
        body=lambda w: {},
    ),
    Route("GET", "/api/v1/jobs", {}),
    Route("GET", "/api/v1/jobs/{job_id}", JOB_A, params=lambda w: {"job_id": w.job_a}),
    Route("POST", "/api/v1/jobs/{job_id}/retry", JOB_A, params=lambda w: {"job_id": w.job_a}),
    # --- notifications (the inbox is everyone's own; the outbox is the administrators')
    Route("GET", "/notifications", {}),
    Route("POST", "/notifications/read", {}, default=303, body=lambda w: {}),
    Route(
        "POST",
        "/notifications/{notification_id}/read",
        NOTE_A,
        default=303,
        params=lambda w: {"notification_id": w.note_a},
        body=lambda w: {},
    ),
    Route("GET", "/admin/outbox", ONLY_ADMIN),
    # --- the web import flow (the file is sme_a's: operators may import but not read it)
    Route("GET", "/imports/new", ORG_CREATORS_ONLY),
    Route("POST", "/imports", ORG_CREATORS_ONLY, default=303, upload=lambda w: {}),
    Route(
        "GET",
        "/imports/{file_id}",
        {**ORG_CREATORS_ONLY, "operator": 404},
        params=lambda w: {"file_id": w.file_a},
    ),
    Route(
        "POST",
        "/imports/{file_id}/commit",
        {**ORG_CREATORS_ONLY, "operator": 404},
        default=303,
        params=lambda w: {"file_id": w.file_a},
        body=lambda w: {"mode": "good"},
    ),
    Route(
        "POST",
        "/imports/{file_id}/template",
        {**ORG_CREATORS_ONLY, "operator": 404},
        default=303,
        params=lambda w: {"file_id": w.file_a},
        body=lambda w: {"name": "표준", "map_business_no": "0"},
    ),
    Route("GET", "/jobs/{job_id}/errors.csv", JOB_A, params=lambda w: {"job_id": w.job_a}),
    # An import needs the right to register organizations, then a file the caller may read.
    Route(
        "POST",
        "/api/v1/imports/{what}",
        {**ORG_CREATORS_ONLY, "operator": 404},
        default=202,
        params=lambda w: {"what": "organizations"},
        body=lambda w: {"file_id": w.file_a, "mode": "good"},
    ),
    # --- API: files (one uploaded by sme_a for organization A)
    Route(
        "POST",
        "/api/v1/files",
        EDIT_A,
        default=201,
        upload=lambda w: {"place": "evidence", "organization_id": str(w.orgs["A"].id)},
    ),
    Route("GET", "/api/v1/files/{file_id}", FILE_A, params=lambda w: {"file_id": w.file_a}),
    Route("GET", "/api/v1/files/{file_id}/content", FILE_A, params=lambda w: {"file_id": w.file_a}),
    # --- assessments
    Route("GET", "/assessments", {}),
    Route(
        "POST",
        "/assessments",
        EDIT_A,
        default=303,
        body=lambda w: {"organization_id": w.orgs["A"].id, "instrument_id": "smart-factory-level"},
    ),
    Route("GET", "/assessments/export", {}),
    Route(
        "GET",
        "/assessments/simulate/{instrument_id}",
        {},
        params=lambda w: {"instrument_id": "shared-growth-evaluation"},
    ),
    Route(
        "POST",
        "/assessments/simulate/{instrument_id}",
        {},
        params=lambda w: {"instrument_id": "smart-factory-level"},
        body=smart_answers,
    ),
    Route(
        "GET",
        "/assessments/rankings/{instrument_id}",
        OPERATORS_ONLY,
        params=lambda w: {"instrument_id": "partner-certification"},
    ),
    Route(
        "GET",
        "/assessments/{assessment_id}",
        ASSESS_READ_A,
        params=lambda w: {"assessment_id": w.assess_a},
    ),
    Route(
        "POST",
        "/assessments/{assessment_id}/answers",
        ASSESS_WRITE_A,
        default=303,
        params=lambda w: {"assessment_id": w.draft_a},
        body=lambda w: {"a.P1": "3", "action": "submit"},
    ),
    Route(
        "GET",
        "/assessments/{assessment_id}/verify",
        ASSESS_VERIFY_A,
        params=lambda w: {"assessment_id": w.assess_a},
    ),
    Route(
        "POST",
        "/assessments/{assessment_id}/verify",
        ASSESS_VERIFY_A,
        default=303,
        params=lambda w: {"assessment_id": w.assess_a},
        body=lambda w: {**smart_answers(w), "note": "현장 확인"},
    ),
    Route(
        "POST",
        "/assessments/{assessment_id}/assessor",
        {**ASSESS_READ_A, "sme_a": 403, "eval_a": 403},
        default=303,
        params=lambda w: {"assessment_id": w.assess_a},
        body=lambda w: {"email": w.users["admin"].email},
    ),
    Route(
        "POST",
        "/assessments/plan/{plan_action_id}",
        ASSESS_WRITE_A,
        default=303,
        params=lambda w: {"plan_action_id": w.plan_a},
        body=lambda w: {"status": "doing"},
    ),
    Route(
        "GET",
        "/assessments/{assessment_id}/export",
        ASSESS_READ_A,
        params=lambda w: {"assessment_id": w.assess_a},
    ),
    Route(
        "GET",
        "/assessments/{assessment_id}/report.pdf",
        ASSESS_READ_A,
        params=lambda w: {"assessment_id": w.assess_a},
    ),
    Route("GET", "/api/v1/instruments", {}),
    Route(
        "GET",
        "/api/v1/instruments/{instrument_id}",
        {},
        params=lambda w: {"instrument_id": "smart-factory-level"},
    ),
    Route(
        "POST",
        "/api/v1/instruments/{instrument_id}/simulate",
        {},
        params=lambda w: {"instrument_id": "smart-factory-level"},
        body=lambda w: {"answers": {"P1": 3}},
    ),
    Route(
        "GET",
        "/api/v1/instruments/{instrument_id}/ranking",
        OPERATORS_ONLY,
        params=lambda w: {"instrument_id": "partner-certification"},
    ),
    Route("GET", "/api/v1/assessments", {}),
    Route(
        "POST",
        "/api/v1/assessments",
        EDIT_A,
        default=201,
        body=lambda w: {
            "organization_id": w.orgs["A"].id,
            "instrument_id": "innovation-capability",
        },
    ),
    Route(
        "GET",
        "/api/v1/assessments/{assessment_id}",
        ASSESS_READ_A,
        params=lambda w: {"assessment_id": w.assess_a},
    ),
    Route(
        "PATCH",
        "/api/v1/assessments/{assessment_id}",
        ASSESS_WRITE_A,
        params=lambda w: {"assessment_id": w.draft_a},
        body=lambda w: {"answers": {"P1": 2}},
    ),
    Route(
        "POST",
        "/api/v1/assessments/{assessment_id}/evidence",
        ASSESS_WRITE_A,
        params=lambda w: {"assessment_id": w.draft_a},
        body=lambda w: {"item_id": "P2", "file_id": w.file_a},
    ),
    Route(
        "POST",
        "/api/v1/assessments/{assessment_id}/submit",
        ASSESS_WRITE_A,
        params=lambda w: {"assessment_id": w.draft_a},
    ),
    Route(
        "POST",
        "/api/v1/assessments/{assessment_id}/verify",
        ASSESS_VERIFY_A,
        params=lambda w: {"assessment_id": w.assess_a},
        body=lambda w: {"answers": {k[2:]: int(v) for k, v in smart_answers(w).items()}},
    ),
    Route(
        "PATCH",
        "/api/v1/assessment-plan-actions/{plan_action_id}",
        ASSESS_WRITE_A,
        params=lambda w: {"plan_action_id": w.plan_a},
        body=lambda w: {"status": "done"},
    ),
    # --- programs (an open call of operator organization O)
    Route("GET", "/api/v1/programs", {}),
    Route("GET", "/api/v1/calls", {}),
    Route("POST", "/api/v1/programs", OPERATORS_ONLY, default=201, body=program_body),
    Route("GET", "/api/v1/programs/{program_id}", {}, params=lambda w: {"program_id": w.program_o}),
    Route(
        "POST",
        "/api/v1/programs/{program_id}/status",
        OPERATORS_ONLY,
        params=lambda w: {"program_id": w.program_o},
        body=lambda w: {"status": "closed"},
    ),
    Route(
        "GET",
        "/api/v1/programs/{program_id}/eligibility",
        {"sme_b": 404, "sponsor_s": 404},
        params=lambda w: {"program_id": w.program_o},
        query=lambda w: {"organization_id": w.orgs["A"].id},
    ),
    Route("GET", "/calls", {}, public=True),
    Route(
        "GET", "/calls/{program_id}", {}, public=True, params=lambda w: {"program_id": w.program_o}
    ),
    Route("GET", "/programs", {}),
    Route("GET", "/programs/new", OPERATORS_ONLY),
    Route("POST", "/programs", OPERATORS_ONLY, default=303, body=program_form),
    Route(
        "POST",
        "/programs/{program_id}/status",
        OPERATORS_ONLY,
        default=303,
        params=lambda w: {"program_id": w.program_o},
        body=lambda w: {"status": "closed"},
    ),
    Route(
        "GET",
        "/programs/{program_id}",
        OPERATORS_ONLY,
        params=lambda w: {"program_id": w.program_p},
    ),
    Route("GET", "/programs/{program_id}/overview.xlsx", OPERATORS_ONLY, params=program_p),
    Route("GET", "/programs/{program_id}/overdue.xlsx", OPERATORS_ONLY, params=program_p),
    Route(
        "GET",
        "/programs/{program_id}/edit",
        OPERATORS_ONLY,
        params=lambda w: {"program_id": w.program_o},
    ),
    Route(  # the call is open: its rules are fixed (409) — the matrix checks who gets that far
        "POST",
        "/programs/{program_id}/edit",
        OPERATORS_ONLY,
        default=409,
        params=lambda w: {"program_id": w.program_o},
        body=program_form,
    ),
    Route(
        "POST",
        "/programs/{program_id}/copy",
        OPERATORS_ONLY,
        default=303,
        params=lambda w: {"program_id": w.program_p},
        body=lambda w: {},
    ),
    Route(
        "GET",
        "/sponsor/programs",
        {"sme_a": 404, "sme_b": 404, "eval_a": 404, "operator": 404},
    ),
    Route(
        "GET",
        "/sponsor/programs.xlsx",
        {"sme_a": 404, "sme_b": 404, "eval_a": 404, "operator": 404},
    ),
    # --- applications (applicant pages and API)
    Route(
        "POST",
        "/calls/{program_id}/apply",
        {"sme_a": 303, "sme_b": 303},
        default=403,
        params=lambda w: {"program_id": w.program_o},
        body=lambda w: {},
    ),
    Route("GET", "/applications", {}),
    Route("GET", "/applications.xlsx", {}),
    Route("GET", "/applications/{application_id}", APP_A, params=app_a),
    Route("GET", "/applications/{application_id}/edit", APP_A_OWN, params=app_a),
    Route(
        "POST",
        "/applications/{application_id}/edit",
        APP_A_OWN,
        default=303,
        params=app_a,
        body=application_form,
    ),
    Route(
        "POST",
        "/applications/{application_id}/submit",
        APP_A_OWN,
        default=303,
        params=app_a,
        body=lambda w: {},
    ),
    Route(
        "POST",
        "/applications/{application_id}/withdraw",
        APP_A_OWN,
        default=303,
        params=app_a,
        body=lambda w: {},
    ),
    # B's objection is already waiting for an answer: B gets 409, managers may not lodge one.
    Route(
        "POST",
        "/applications/{application_id}/objections",
        {"sme_a": 404, "eval_a": 404, "sponsor_s": 404, "operator": 403, "admin": 403},
        default=409,
        params=app_b_p,
        body=lambda w: {"reason": "평가 점수 산정을 다시 확인해 주십시오."},
    ),
    Route("GET", "/evaluations", {}, sees_foreign=("eval_a",)),
    Route("GET", "/evaluations.xlsx", {}, sees_foreign=("eval_a",)),
    Route(
        "GET", "/evaluations/{assignment_id}", ASSIGN_B, params=assign_b, sees_foreign=("eval_a",)
    ),
    Route(  # already declared
        "POST",
        "/evaluations/{assignment_id}/declare",
        {**ASSIGN_B, "eval_a": 409},
        params=assign_b,
        body=lambda w: {"choice": "none"},
    ),
    Route(
        "POST",
        "/evaluations/{assignment_id}/score",
        ASSIGN_B,
        default=303,
        params=assign_b,
        body=sheet_scores,
    ),
    Route("GET", "/kpis", {}),
    Route("POST", "/kpis", OPERATORS_ONLY, default=303, body=lambda w: _new_kpi()),
    Route("GET", "/api/v1/kpis", {}),
    Route("POST", "/api/v1/kpis", OPERATORS_ONLY, default=201, body=lambda w: _new_kpi()),
    Route("GET", "/providers", {}),
    Route("GET", "/providers.xlsx", {}),
    Route(
        "POST",
        "/providers",
        OPERATORS_ONLY,
        default=303,
        body=lambda w: {"business_no": format_business_no(w.orgs["D"].business_no)},
    ),
    Route(
        "POST",
        "/providers/{provider_id}/solutions",
        OPERATORS_ONLY,
        default=303,
        params=lambda w: {"provider_id": w.provider_x},
        body=lambda w: {"name": "스마트 ERP", "solution_type": "ERP"},
    ),
    Route(
        "POST",
        "/api/v1/programs/{program_id}/applications",
        {"sme_a": 201, "sme_b": 201},
        default=403,
        params=lambda w: {"program_id": w.program_o},
    ),
    Route("GET", "/api/v1/applications", {}),
    Route("GET", "/api/v1/applications/{application_id}", APP_A, params=app_a),
    Route(
        "PUT",
        "/api/v1/applications/{application_id}",
        APP_A_OWN,
        params=app_a,
        body=application_body,
    ),
    # file_a is A's CSV: readable by sme_a, but not a type the call accepts as a document.
    Route(
        "POST",
        "/api/v1/applications/{application_id}/documents",
        {**APP_A_OWN, "sme_a": 422},
        params=app_a,
        body=lambda w: {"file_id": w.file_a, "document": "사업계획서"},
    ),
    Route("POST", "/api/v1/applications/{application_id}/submit", APP_A_OWN, params=app_a),
    Route("POST", "/api/v1/applications/{application_id}/withdraw", APP_A_OWN, params=app_a),
    Route(
        "POST",
        "/api/v1/applications/{application_id}/objections",
        {"sme_a": 404, "eval_a": 404, "sponsor_s": 404, "operator": 403, "admin": 403},
        default=409,
        params=app_b_p,
        body=lambda w: {"reason": "평가 점수 산정을 다시 확인해 주십시오."},
    ),
    Route("GET", "/api/v1/evaluations", {}, sees_foreign=("eval_a",)),
    Route(
        "POST",
        "/api/v1/evaluations/{assignment_id}/declaration",
        {**ASSIGN_B, "eval_a": 409},
        params=assign_b,
        body=lambda w: {"conflict": False},
    ),
    Route(
        "POST",
        "/api/v1/evaluations/{assignment_id}/scores",
        ASSIGN_B,
        params=assign_b,
        body=lambda w: {"answers": {k[2:]: 80 for k in sheet_scores(w)}},
        sees_foreign=("eval_a",),
    ),
    Route("GET", "/api/v1/providers", {}),
    Route(
        "POST",
        "/api/v1/providers",
        OPERATORS_ONLY,
        default=201,
        body=lambda w: {"business_no": w.orgs["D"].business_no},
    ),
    Route(
        "POST",
        "/api/v1/providers/{provider_id}/solutions",
        OPERATORS_ONLY,
        default=201,
        params=lambda w: {"provider_id": w.provider_x},
        body=lambda w: {"name": "스마트 ERP", "solution_type": "ERP"},
    ),
    Route("GET", "/api/v1/reference/ksic", {}),
    # --- funds, agreements and projects (project_a: A's signed project in program_p)
    Route("GET", "/programs/{program_id}/funds", OPERATORS_ONLY, params=program_p),
    Route(
        "POST",
        "/programs/{program_id}/funds/contributions",
        OPERATORS_ONLY,
        default=303,
        params=program_p,
        body=lambda w: {"source": "government", "amount": "1,000,000", "idempotency_key": "m1"},
    ),
    Route("GET", "/programs/{program_id}/funds.xlsx", OPERATORS_ONLY, params=program_p),
    Route("GET", "/programs/{program_id}/projects", OPERATORS_ONLY, params=program_p),
    Route("GET", "/programs/{program_id}/projects.xlsx", OPERATORS_ONLY, params=program_p),
    # app_a_p is already signed: its managers get 409, A's own members 403.
    Route(
        "POST",
        "/programs/{program_id}/applications/{application_id}/agreement",
        SIGN_A,
        default=409,
        params=lambda w: {"program_id": w.program_p, "application_id": w.app_a_p},
        body=agreement_dates,
    ),
    Route("GET", "/projects", {}),
    Route("GET", "/projects.xlsx", {}),
    Route("GET", "/projects/{project_id}", PROJECT_A, params=project_a),
    # kickoff_a is already reported: A gets 409; reporting is the company's alone.
    Route(
        "POST",
        "/projects/{project_id}/milestones/{milestone_id}/report",
        REPORTED_A,
        default=303,
        params=kickoff_a,
        body=lambda w: {"report": "착수 보고를 다시 제출합니다."},
    ),
    Route(
        "POST",
        "/projects/{project_id}/milestones/{milestone_id}/approve",
        PROJECT_A_MANAGE,
        default=303,
        params=kickoff_a,
        body=lambda w: {"note": ""},
    ),
    Route(
        "POST",
        "/projects/{project_id}/milestones/{milestone_id}/reject",
        PROJECT_A_MANAGE,
        default=303,
        params=kickoff_a,
        body=lambda w: {"note": "보고서를 보완해 주십시오."},
    ),
    Route(
        "POST",
        "/projects/{project_id}/inspections",
        PROJECT_A_MANAGE,
        default=303,
        params=project_a,
        body=inspection_form,
    ),
    Route(
        "POST",
        "/projects/{project_id}/budget-changes",
        COMPANY_A,
        default=303,
        params=project_a,
        body=lambda w: {
            "lines": "설비: 60,000,000\n소프트웨어: 40,000,000",
            "reason": "설비 사양 변경에 따른 비목 재배정입니다.",
        },
    ),
    Route(
        "POST",
        "/projects/{project_id}/budget-changes/{change_id}/decide",
        PROJECT_A_MANAGE,
        default=303,
        params=lambda w: {"project_id": w.project_a, "change_id": w.change_a},
        body=lambda w: {"decision": "approve"},
    ),
    Route(
        "POST",
        "/projects/{project_id}/suspend",
        PROJECT_A_MANAGE,
        default=303,
        params=project_a,
        body=lambda w: {"reason": "현장 점검 대기"},
    ),
    # project_a is active: resuming it is a 409 for its managers.
    Route(
        "POST",
        "/projects/{project_id}/resume",
        PROJECT_A_MANAGE,
        default=409,
        params=project_a,
        body=lambda w: {},
    ),
    Route(
        "POST",
        "/projects/{project_id}/cancel",
        PROJECT_A_MANAGE,
        default=303,
        params=project_a,
        body=lambda w: {"reason": "사업 포기 의사 표명", "recover_krw": "0"},
    ),
    # A KPI-report follow-up: the company or the program's managers mark it done.
    Route(
        "POST",
        "/projects/{project_id}/follow-ups/{follow_up_id}/done",
        PROJECT_A,
        default=303,
        params=lambda w: {"project_id": w.project_a, "follow_up_id": w.follow_up_a},
        body=lambda w: {"note": "성과 보고 완료"},
    ),
    Route("GET", "/api/v1/programs/{program_id}/funds", OPERATORS_ONLY, params=program_p),
    Route(
        "POST",
        "/api/v1/programs/{program_id}/contributions",
        OPERATORS_ONLY,
        default=201,
        params=program_p,
        body=lambda w: {"source_code": "government", "amount": 10**6, "idempotency_key": "m1"},
    ),
    Route("GET", "/api/v1/programs/{program_id}/projects", OPERATORS_ONLY, params=program_p),
    Route(
        "POST",
        "/api/v1/applications/{application_id}/agreement",
        SIGN_A,
        default=409,
        params=lambda w: {"application_id": w.app_a_p},
        body=agreement_dates,
    ),
    Route("GET", "/api/v1/projects/{project_id}", PROJECT_A, params=project_a),
    Route(
        "POST",
        "/api/v1/milestones/{milestone_id}/report",
        REPORTED_A,
        default=200,
        params=kickoff_a,
        body=lambda w: {"report": "착수 보고를 다시 제출합니다."},
    ),
    Route(
        "POST",
        "/api/v1/milestones/{milestone_id}/approve",
        PROJECT_A_MANAGE,
        params=kickoff_a,
        body=lambda w: {"note": ""},
    ),
    Route(
        "POST",
        "/api/v1/milestones/{milestone_id}/reject",
        PROJECT_A_MANAGE,
        params=kickoff_a,
        body=lambda w: {"note": "보고서를 보완해 주십시오."},
    ),
    Route(
        "POST",
        "/api/v1/projects/{project_id}/inspections",
        PROJECT_A_MANAGE,
        default=201,
        params=project_a,
        body=inspection_form,
    ),
    Route(
        "POST",
        "/api/v1/projects/{project_id}/budget-changes",
        COMPANY_A,
        default=201,
        params=project_a,
        body=lambda w: {
            "lines": {"설비": 60_000_000, "소프트웨어": 40_000_000},
            "reason": "설비 사양 변경에 따른 비목 재배정입니다.",
        },
    ),
    Route(
        "POST",
        "/api/v1/budget-changes/{change_id}/decision",
        PROJECT_A_MANAGE,
        params=lambda w: {"change_id": w.change_a},
        body=lambda w: {"approve": True},
    ),
    Route(
        "POST",
        "/api/v1/projects/{project_id}/status",
        PROJECT_A_MANAGE,
        params=project_a,
        body=lambda w: {"action": "suspend", "reason": "현장 점검 대기"},
    ),
    Route(
        "POST",
        "/api/v1/follow-ups/{follow_up_id}/done",
        PROJECT_A,
        params=lambda w: {"follow_up_id": w.follow_up_a},
        body=lambda w: {"note": "성과 보고 완료"},
    ),
    # --- KPI values of project_a (measurement_a: A's reported defect-rate baseline): A and the
    # program's managers read and report; only the managers verify or reject; the program's
    # queue is its managers'.
    Route("GET", "/projects/{project_id}/kpis", PROJECT_A, params=project_a),
    Route(
        "POST",
        "/projects/{project_id}/kpis",
        PROJECT_A,
        default=303,
        params=project_a,
        body=lambda w: kpi_form(),
    ),
    Route(
        "POST",
        "/projects/{project_id}/kpis/{measurement_id}/verify",
        PROJECT_A_MANAGE,
        default=303,
        params=measurement_a,
        body=lambda w: {},
    ),
    Route(
        "POST",
        "/projects/{project_id}/kpis/{measurement_id}/reject",
        PROJECT_A_MANAGE,
        default=303,
        params=measurement_a,
        body=lambda w: {"reason": "증빙의 기간이 다릅니다."},
    ),
    Route("GET", "/programs/{program_id}/kpis", OPERATORS_ONLY, params=program_p),
    Route("GET", "/programs/{program_id}/kpis.xlsx", OPERATORS_ONLY, params=program_p),
    Route(
        "POST",
        "/programs/{program_id}/kpis/{measurement_id}/verify",
        OPERATORS_ONLY,
        default=303,
        params=lambda w: {"program_id": w.program_p, "measurement_id": w.measurement_a},
        body=lambda w: {"status": "reported"},
    ),
    Route(
        "POST",
        "/programs/{program_id}/kpis/{measurement_id}/reject",
        OPERATORS_ONLY,
        default=303,
        params=lambda w: {"program_id": w.program_p, "measurement_id": w.measurement_a},
        body=lambda w: {"status": "reported", "reason": "증빙의 기간이 다릅니다."},
    ),
    Route("GET", "/api/v1/projects/{project_id}/kpis", PROJECT_A, params=project_a),
    # Auto-measured KPI values: A has no factory dataset here, so its member is told so (422);
    # the operator has no consent, so for it no measurement exists (404).
    Route("GET", "/api/v1/projects/{project_id}/kpis/auto/offers", PROJECT_A, params=project_a),
    Route(
        "GET",
        "/api/v1/projects/{project_id}/kpis/auto",
        {**AUTO_A, "sme_a": 422},
        params=project_a,
        query=lambda w: dict(AUTO_QUERY),
    ),
    Route(
        "POST",
        "/api/v1/projects/{project_id}/kpis/auto",
        {**AUTO_A, "sme_a": 422},
        params=project_a,
        body=lambda w: {**AUTO_QUERY, "stage": "baseline"},
    ),
    Route(
        "POST",
        "/projects/{project_id}/kpis/auto",
        {**AUTO_A, "sme_a": 422},
        params=project_a,
        body=lambda w: {**AUTO_QUERY, "stage": "baseline"},
    ),
    Route(
        "POST",
        "/api/v1/projects/{project_id}/kpis",
        PROJECT_A,
        default=201,
        params=project_a,
        body=lambda w: {**kpi_form(), "value": 61.5},
    ),
    Route(
        "POST",
        "/api/v1/kpi-measurements/{measurement_id}/verify",
        PROJECT_A_MANAGE,
        params=lambda w: {"measurement_id": w.measurement_a},
    ),
    Route(
        "POST",
        "/api/v1/kpi-measurements/{measurement_id}/reject",
        PROJECT_A_MANAGE,
        params=lambda w: {"measurement_id": w.measurement_a},
        body=lambda w: {"reason": "증빙의 기간이 다릅니다."},
    ),
    Route("GET", "/api/v1/programs/{program_id}/kpis", OPERATORS_ONLY, params=program_p),
    # --- the operator's selection pages and API (program_o: app_b under review, eval_a declared
    # on it; program_p: published, objection_b open). Strangers to an application learn nothing
    # (404); its applicant and its evaluator are refused (403); deciding and publishing program_o
    # are refused by the services (before the deadline; nothing decided yet).
    Route("GET", "/programs/{program_id}/applications", OPERATORS_ONLY, params=program_o),
    Route("GET", "/programs/{program_id}/applications.xlsx", OPERATORS_ONLY, params=program_o),
    Route(
        "GET",
        "/programs/{program_id}/applications/{application_id}/review",
        MANAGE_APP_B,
        params=program_o_app_b,
    ),
    Route(
        "GET",
        "/programs/{program_id}/applications/{application_id}/documents/{document_no}",
        # The world's documents are stored outside the app's file storage: the operator and the
        # administrator get through every check and find the file missing.
        {**MANAGE_APP_B, "operator": 404, "admin": 404},
        params=lambda w: {**program_o_app_b(w), "document_no": 1},
    ),
    Route(
        "POST",
        "/programs/{program_id}/applications/{application_id}/screen",
        MANAGE_APP_B,
        default=303,
        params=program_o_app_b,
        body=lambda w: {"decision": "pass"},
    ),
    Route(
        "POST",
        "/programs/{program_id}/applications/{application_id}/evaluators",
        MANAGE_APP_B,
        default=303,
        params=program_o_app_b,
        body=lambda w: {"email": w.users["eval_a"].email},
    ),
    Route("GET", "/programs/{program_id}/selection", OPERATORS_ONLY, params=program_o),
    # A refusal (the deadline has not passed) is a message on the selection page: 303.
    Route(
        "POST",
        "/programs/{program_id}/selection/decide",
        OPERATORS_ONLY,
        default=303,
        params=program_o,
        body=lambda w: {},
    ),
    Route(
        "POST",
        "/programs/{program_id}/selection/publish",
        OPERATORS_ONLY,
        default=303,
        params=program_o,
        body=lambda w: {},
    ),
    Route("GET", "/programs/{program_id}/objections", OPERATORS_ONLY, params=program_p),
    Route("GET", "/programs/{program_id}/objections.xlsx", OPERATORS_ONLY, params=program_p),
    Route(
        "POST",
        "/programs/{program_id}/objections/{objection_id}/answer",
        ANSWER_B_P,
        default=303,
        params=lambda w: {"program_id": w.program_p, "objection_id": w.objection_b},
        body=lambda w: {
            "outcome": "dismissed",
            "answer": "재검토 결과 점수 산정에 오류가 없습니다.",
        },
    ),
    Route("GET", "/api/v1/programs/{program_id}/applications", OPERATORS_ONLY, params=program_o),
    Route(
        "POST",
        "/api/v1/applications/{application_id}/screening",
        MANAGE_APP_B,
        params=lambda w: {"application_id": w.app_b},
        body=lambda w: {"passed": True},
    ),
    Route(
        "POST",
        "/api/v1/applications/{application_id}/evaluators",
        MANAGE_APP_B,
        default=201,
        params=lambda w: {"application_id": w.app_b},
        body=lambda w: {"email": w.users["eval_a"].email},
    ),
    Route("GET", "/api/v1/programs/{program_id}/selection", OPERATORS_ONLY, params=program_o),
    Route(
        "POST",
        "/api/v1/programs/{program_id}/selection/decide",
        {**OPERATORS_ONLY, "operator": 409, "admin": 409},  # before the deadline
        params=program_o,
    ),
    Route(
        "POST",
        "/api/v1/programs/{program_id}/selection/publish",
        {**OPERATORS_ONLY, "operator": 409, "admin": 409},  # nothing decided yet
        params=program_o,
    ),
    Route("GET", "/api/v1/programs/{program_id}/objections", OPERATORS_ONLY, params=program_p),
    Route(
        "POST",
        "/api/v1/objections/{objection_id}/answer",
        ANSWER_B_P,
        params=lambda w: {"objection_id": w.objection_b},
        body=lambda w: {"upheld": False, "answer": "재검토 결과 점수 산정에 오류가 없습니다."},
    ),
    Route("GET", "/api/v1/reference/regions", {}),
    # --- the performance report of program_p (operators, and its sponsor for its companies)
    Route("GET", "/programs/{program_id}/outcomes", OUTCOMES_P, params=program_p),
    Route("GET", "/programs/{program_id}/outcomes.xlsx", OUTCOMES_P, params=program_p),
    Route("GET", "/programs/{program_id}/outcomes.pdf", OUTCOMES_P, params=program_p),
    Route("GET", "/api/v1/programs/{program_id}/outcomes", OUTCOMES_P, params=program_p),
    # --- KPI sheet import into program_p: its managers, and A (project_a is A's); others 404.
    # The preview, commit and template routes use file_a (sme_a's): operators cannot read it.
    Route("GET", "/programs/{program_id}/kpis/import", KPI_IMPORT_P, params=program_p),
    Route(
        "POST",
        "/programs/{program_id}/kpis/import",
        KPI_IMPORT_P,
        default=303,
        params=program_p,
        upload=lambda w: {"mode": "all"},
    ),
    Route(
        "GET", "/programs/{program_id}/kpis/import/template.xlsx", KPI_IMPORT_P, params=program_p
    ),
    Route(
        "GET",
        "/programs/{program_id}/kpis/import/{file_id}",
        {**KPI_IMPORT_P, "operator": 404},
        params=lambda w: {"program_id": w.program_p, "file_id": w.file_a},
    ),
    Route(
        "POST",
        "/programs/{program_id}/kpis/import/{file_id}/commit",
        {**KPI_IMPORT_P, "operator": 404},
        default=303,
        params=lambda w: {"program_id": w.program_p, "file_id": w.file_a},
        body=lambda w: {"mode": "good"},
    ),
    Route(
        "POST",
        "/programs/{program_id}/kpis/import/{file_id}/template",
        {**KPI_IMPORT_P, "operator": 404},
        default=303,
        params=lambda w: {"program_id": w.program_p, "file_id": w.file_a},
        body=lambda w: {"name": "표준", "map_agreement_no": "0"},
    ),
]


ROUTES += [
    # --- firm-year panels (panel_o: O's, with firms A, B and D). The import preview, commit and
    # template routes use file_a (sme_a's): O's operator cannot read it.
    Route("GET", "/impact/panels", PANEL_USERS),
    Route("GET", "/impact/panels/new", OPERATORS_ONLY),
    Route(
        "POST",
        "/impact/panels/new",
        OPERATORS_ONLY,
        default=303,
        upload=lambda w: {
            "mode": "all",
            "name": "행정자료",
            "organization_id": str(w.orgs["O"].id),
        },
    ),
    Route("GET", "/impact/panels/template.xlsx", OPERATORS_ONLY),
    Route(
        "GET",
        "/impact/panels/import/{file_id}",
        {**OPERATORS_ONLY, "operator": 404},
        params=lambda w: {"file_id": w.file_a},
    ),
    Route(
        "POST",
        "/impact/panels/import/{file_id}/commit",
        {**OPERATORS_ONLY, "operator": 404},
        default=303,
        params=lambda w: {"file_id": w.file_a},
        body=lambda w: {"mode": "good", "name": "행정자료", "organization_id": str(w.orgs["O"].id)},
    ),
    Route(
        "POST",
        "/impact/panels/import/{file_id}/template",
        {**OPERATORS_ONLY, "operator": 404},
        default=303,
        params=lambda w: {"file_id": w.file_a},
        body=lambda w: {"name_template": "표준", "map_business_no": "0"},
    ),
    Route("GET", "/impact/panels/{panel_id}", PANEL_O, params=panel_o),
    Route("GET", "/impact/panels/{panel_id}/rows", PANEL_O_ROWS, params=panel_o),
    Route("GET", "/api/v1/impact/panels", PANEL_USERS),
    Route("GET", "/api/v1/impact/panels/{panel_id}", PANEL_O, params=panel_o),
    # --- impact studies (study_o; a new study runs at once and fails: no participants)
    Route("GET", "/impact/studies", PANEL_USERS),
    Route("GET", "/impact/studies/new", PANEL_USERS),
    Route("POST", "/impact/studies/new", PANEL_USERS, default=303, body=study_form),
    Route("GET", "/impact/studies/{study_id}", STUDY_O, params=study_o),
    Route("GET", "/impact/studies/{study_id}/status", STUDY_O, params=study_o),
    Route("GET", "/impact/studies/{study_id}.xlsx", STUDY_O, params=study_o),
    Route("GET", "/impact/studies/{study_id}.pdf", STUDY_O, params=study_o),
    Route(
        "POST",
        "/impact/studies/{study_id}/run",
        STUDY_O,
        default=303,
        params=study_o,
        body=lambda w: {},
    ),
    Route("GET", "/api/v1/impact/studies", PANEL_USERS),
    Route(
        "POST",
        "/api/v1/impact/studies",
        PANEL_USERS,
        default=202,
        body=lambda w: {"program_ids": [w.program_s], "panel_id": w.panel_o},
    ),
    Route("GET", "/api/v1/impact/studies/{study_id}", STUDY_O, params=study_o),
]

# Factory data: uploads by SMEs only (their own organizations); dataset_a is A's, consented to
# O's operator (who reads it and runs analyses but does not manage it); to everyone else it does
# not exist. The import routes use file_a (sme_a's file).
FACTORY_UPLOAD = {"eval_a": 403, "sponsor_s": 403, "operator": 403, "admin": 403}
FACTORY_FILE_A = {**FACTORY_UPLOAD, "sme_b": 404}
DATASET_A = {"sme_b": 404, "eval_a": 404, "sponsor_s": 404, "admin": 404}
DATASET_A_OWN = {**DATASET_A, "operator": 403}


STANDARD_A = {a: 404 for a in SIGNED_IN if a != "sme_a"}
SHIFT_FORM = {"name": "주간", "starts": "08:00", "ends": "17:00", "break_minutes": "60",
              "weekdays": "0"}  # fmt: skip
CYCLE_FORM = {"product": "브래킷", "machine": "M1", "ideal_cycle_seconds": "30"}


def shift_a(w: World) -> dict:
    return {"shift_id": w.shift_a}


def cycle_a(w: World) -> dict:
    return {"cycle_id": w.cycle_a}


def dataset_a(w: World) -> dict:
    return {"dataset_id": w.dataset_a}


def analysis_a(w: World) -> dict:
    return {"analysis_id": w.analysis_a}


def file_a_import(w: World) -> dict:
    return {"file_id": w.file_a}


ROUTES += [
    Route("GET", "/factory", {}),
    Route("GET", "/factory/datasets/new", FACTORY_UPLOAD),
    Route(
        "POST",
        "/factory/datasets/new",
        FACTORY_UPLOAD,
        default=303,
        upload=lambda w: {"kind": "production", "mode": "all"},
    ),
    Route(
        "GET",
        "/factory/datasets/template/{kind}.xlsx",
        FACTORY_UPLOAD,
        params=lambda w: {"kind": "orders"},
    ),
    Route("GET", "/factory/datasets/import/{file_id}", FACTORY_FILE_A, params=file_a_import),
    Route(
        "POST",
        "/factory/datasets/import/{file_id}/commit",
        FACTORY_FILE_A,
        default=303,
        params=file_a_import,
        body=lambda w: {"kind": "production", "mode": "all"},
    ),
    Route(
        "POST",
        "/factory/datasets/import/{file_id}/template",
        FACTORY_FILE_A,
        default=303,
        params=file_a_import,
        body=lambda w: {"kind": "production", "name_template": "MES", "map_machine": "0"},
    ),
    Route("GET", "/factory/datasets/{dataset_id}", DATASET_A, params=dataset_a),
    Route(
        "POST",
        "/factory/datasets/{dataset_id}/consents",
        DATASET_A_OWN,
        default=303,
        params=dataset_a,
        body=lambda w: {"program_id": str(w.program_p)},
    ),
    Route(
        "POST",
        "/factory/datasets/{dataset_id}/consents/{consent_id}/revoke",
        DATASET_A_OWN,
        default=303,
        params=lambda w: {"dataset_id": w.dataset_a, "consent_id": w.consent_a},
        body=lambda w: {},
    ),
    Route(
        "POST",
        "/factory/datasets/{dataset_id}/delete",
        DATASET_A_OWN,
        default=303,
        params=dataset_a,
        body=lambda w: {"confirm": "yes"},
    ),
    Route(
        "GET",
        "/factory/datasets/{dataset_id}/analyses/new",
        DATASET_A,
        params=dataset_a,
        query=lambda w: {"kind": "oee"},
    ),
    Route(
        "POST",
        "/factory/datasets/{dataset_id}/analyses/new",
        DATASET_A,
        default=303,
        params=dataset_a,
        body=lambda w: {"kind": "spc", "chart": "p"},
    ),
    Route("GET", "/factory/analyses/{analysis_id}", DATASET_A, params=analysis_a),
    Route("GET", "/factory/analyses/{analysis_id}/status", DATASET_A, params=analysis_a),
    Route("GET", "/factory/analyses/{analysis_id}.xlsx", DATASET_A, params=analysis_a),
    Route("GET", "/api/v1/factory/datasets", {}),
    Route("GET", "/api/v1/factory/datasets/{dataset_id}", DATASET_A, params=dataset_a),
    Route(
        "POST",
        "/api/v1/factory/datasets/{dataset_id}/analyses",
        DATASET_A,
        default=202,
        params=dataset_a,
        body=lambda w: {"kind": "oee", "by": ["machine", "day"]},
    ),
    Route("GET", "/api/v1/factory/analyses/{analysis_id}", DATASET_A, params=analysis_a),
    # The OEE standards: each SME its own (others: 403 on the lists, 404 on A's shift_a/cycle_a).
    Route("GET", "/factory/standards", FACTORY_UPLOAD),
    Route(
        "POST",
        "/factory/standards/shifts",
        FACTORY_UPLOAD,
        default=303,
        body=lambda w: {**SHIFT_FORM, "name": "야간"},
    ),
    Route("GET", "/factory/standards/shifts/{shift_id}", STANDARD_A, params=shift_a),
    Route(
        "POST",
        "/factory/standards/shifts/{shift_id}",
        STANDARD_A,
        default=303,
        params=shift_a,
        body=lambda w: dict(SHIFT_FORM),
    ),
    Route(
        "POST",
        "/factory/standards/shifts/{shift_id}/delete",
        STANDARD_A,
        default=303,
        params=shift_a,
        body=lambda w: {},
    ),
    Route(
        "POST",
        "/factory/standards/cycle-times",
        FACTORY_UPLOAD,
        default=303,
        body=lambda w: {**CYCLE_FORM, "product": "하우징"},
    ),
    Route(
        "POST",
        "/factory/standards/cycle-times/import",
        {**FACTORY_UPLOAD, "sme_a": 422, "sme_b": 422},  # the upload lacks the columns
        upload=lambda w: {},
    ),
    Route("GET", "/factory/standards/cycle-times/{cycle_id}", STANDARD_A, params=cycle_a),
    Route(
        "POST",
        "/factory/standards/cycle-times/{cycle_id}",
        STANDARD_A,
        default=303,
        params=cycle_a,
        body=lambda w: {**CYCLE_FORM, "ideal_cycle_seconds": "28"},
    ),
    Route(
        "POST",
        "/factory/standards/cycle-times/{cycle_id}/delete",
        STANDARD_A,
        default=303,
        params=cycle_a,
        body=lambda w: {},
    ),
]


def walk_routes(routes):
    """Every endpoint route, descending into included routers (FastAPI wraps them lazily)."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from walk_routes(route.original_router.routes)
        elif getattr(route, "methods", None) is not None:  # mounts (static files) have none
            yield route


def app_routes() -> set[tuple[str, str]]:
    app = create_app(Settings(database_url="sqlite://", secret_key="x"))
    routes = list(walk_routes(app.routes))
    assert sum(isinstance(r, APIRoute) for r in routes) > 20
    return {(m, r.path) for r in routes for m in r.methods - {"HEAD", "OPTIONS"}}


def test_every_route_is_classified():
    classified = {(r.method, r.path) for r in ROUTES}
    actual = app_routes()
    assert not actual - classified, f"routes nobody classified: {sorted(actual - classified)}"
    assert not classified - actual, (
        f"classified routes that no longer exist: {sorted(classified - actual)}"
    )


def _expected(route: Route, actor: str) -> int:
    if actor == "anon" and not route.public:
        return 401 if route.is_api else 303
    return route.expect.get(actor, route.default)


CASES = [(r, a) for r in ROUTES for a in ACTORS]


@pytest.mark.parametrize(
    ("route", "actor"), CASES, ids=[f"{r.method} {r.path} as {a}" for r, a in CASES]
)
def test_route_access(route: Route, actor: str, db, make_client, app):
    # Only file routes need a stored file (writing one costs an fsync).
    needs_file = any(
        part in route.path
        for part in (
            "/files",
            "/imports",
            "/assessment",
            "/documents",
            "/kpis/import",
            "/impact/panels",
            "/factory",
        )
    )
    world = build_world(
        db, app.state.storage if needs_file else None, with_assessments="/assessment" in route.path
    )
    project_route = any(part in route.path for part in PROJECT_PATHS)
    applicant_route = any(part in route.path for part in APPLICANT_PATHS)
    program_route = any(part in route.path for part in ("/programs", "/calls", "/objections"))
    # An anonymous caller is turned away before any object is looked up: the program world
    # (the costliest part) is built only for callers who get that far (ids stay 0 otherwise).
    turned_away = actor == "anon" and not route.public
    if (program_route or project_route or applicant_route) and not turned_away:
        _program_of_o(db, world)
    if ("{change_id}" in route.path or "{follow_up_id}" in route.path) and not turned_away:
        _project_extras_of_a(db, world)
    if "/impact/" in route.path and not turned_away:
        _panel_of_o(db, world)
    if "/impact/studies/{study_id}" in route.path and not turned_away:
        _study_of_o(db, world)
    factory_objects = "{dataset_id}" in route.path or "{analysis_id}" in route.path
    if factory_objects and not turned_away:
        _factory_of_a(db, world)
    if ("{shift_id}" in route.path or "{cycle_id}" in route.path) and not turned_away:
        _standards_of_a(db, world)
    client = make_client()
    headers: dict[str, str] = {}
    csrf = ""
    if actor != "anon":
        if route.is_api:
            headers["Authorization"] = f"Bearer {world.tokens[actor]}"
        else:
            cookie, csrf = world.cookies[actor]
            client.cookies.set("ss_session", cookie)
    else:
        client.get("/login")  # the anonymous CSRF cookie a real browser would hold
        csrf = client.cookies.get("ss_csrf") or ""
    url = route.path.format(**route.params(world))
    kwargs: dict = {"headers": headers}
    if route.query is not None:
        kwargs["params"] = route.query(world)
    if route.upload is not None:
        kwargs["files"] = {"file": ("a.csv", b"x,y\n1,2\n", "text/csv")}
        kwargs["data"] = route.upload(world)
        if not route.is_api:
            kwargs["data"]["csrf_token"] = csrf
    elif route.body is not None:
        body = route.body(world)
        if route.is_api:
            kwargs["json"] = body
        else:
            kwargs["data"] = {**body, "csrf_token": csrf}
    response = client.request(route.method, url, **kwargs)

    expected = _expected(route, actor)
    assert response.status_code == expected, response.text[:500]
    if actor == "anon" and not route.public:
        if route.is_api:
            assert response.json()["code"] == "not_authenticated"
        else:
            assert response.headers["location"].startswith("/login?next=")
    if route.is_api and response.status_code >= 400:
        assert set(response.json()) == {"code", "message", "details"}

    foreign = {"sme_b": "A"}.get(actor) or (
        "B" if actor in ("sme_a", "eval_a", "sponsor_s") else None
    )
    if foreign and actor not in route.sees_foreign:
        org = world.orgs[foreign]
        assert org.business_no not in response.text
        assert format_business_no(org.business_no) not in response.text
        assert org.name_ko not in response.text
