"""Impact studies on both databases: a small panel of participants (with projects in a
program) and non-participants, with planted selection on growth and a planted effect, run end to
end through the wizard and the job; the field errors; a study the data cannot support; who
sees which study; the exports and the API. Only aggregates ever leave the service."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import numpy as np
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select

from sangsaeng.core.audit.models import AuditEvent
from sangsaeng.core.errors import Forbidden, InvalidInput
from sangsaeng.core.jobs.models import Job
from sangsaeng.core.policy import Actor
from sangsaeng.impact import service
from sangsaeng.impact.models import FirmPanel, FirmYear, ImpactStudy
from sangsaeng.programs import service as programs
from sangsaeng.programs.models import Project
from tests.assessments.helpers import actor_of
from tests.factories import business_no, make_org, make_user, session_cookie
from tests.programs.lifecycle import program_values
from tests.programs.test_project_pages import bare_project

YEARS = list(range(2016, 2025))
EFFECT = 0.10  # log points on revenue from the completion year on
COHORTS = (2020, 2022)
N_PARTICIPANTS, N_OTHERS = 40, 400


@dataclass
class World:
    users: dict
    actors: dict[str, Actor]
    program_id: int  # run by the office, funded by the sponsor
    other_program_id: int  # run by the office, funded by the other sponsor; no projects
    panel_id: int
    firms: list[str]  # every business number of the panel


def _revenue_rows(rng, firms: list[str], participant: np.ndarray, cohort: np.ndarray) -> list:
    n = len(firms)
    # Selection on pre-period growth: participants' trends are higher.
    trend = rng.normal(0.02, 0.04, n) + np.where(participant, 0.05, 0.0)
    level = rng.normal(np.log(3e9), 0.3, n)
    ksic = np.where(rng.random(n) < 0.5, "C291", "C251")
    rows = []
    for k, year in enumerate(YEARS):
        treated = participant & (year >= cohort)
        y = level + trend * k + np.where(treated, EFFECT, 0.0) + rng.normal(0, 0.01, n)
        revenue = np.exp(y).round().astype(np.int64)
        rows += [
            {
                "business_no": firms[i],
                "year": year,
                "ksic_code": str(ksic[i]),
                "revenue": int(revenue[i]),
                "employees": 40,
            }
            for i in range(n)
        ]
    return rows


def build(db, seed: int = 5) -> World:
    rng = np.random.default_rng(seed)
    office = make_org(db, kind="operator", size_class="large", name_ko="추진단")
    sponsor = make_org(db, kind="sponsor", size_class="large", name_ko="후원철강")
    other_sponsor = make_org(db, kind="sponsor", size_class="large", name_ko="다른후원")
    provider = make_org(db, kind="other", name_ko="공급기업")
    sme = make_org(db, name_ko="중소기업")
    stranger_org = make_org(db, kind="operator", size_class="large", name_ko="다른 추진단")
    platform = make_org(db, kind="other", name_ko="플랫폼")
    users = {
        "operator": make_user(db, roles=[(office, "operator")]),
        "sponsor": make_user(db, roles=[(sponsor, "sponsor")]),
        "other_sponsor": make_user(db, roles=[(other_sponsor, "sponsor")]),
        "sme": make_user(db, roles=[(sme, "sme")]),
        "stranger": make_user(db, roles=[(stranger_org, "operator")]),
        "admin": make_user(db, roles=[(platform, "admin")]),
    }
    actors = {k: actor_of(db, u) for k, u in users.items()}
    program = programs.create_program(
        db, actors["operator"], office.id, program_values(sponsor_ids=[sponsor.id])
    )
    other = programs.create_program(
        db, actors["operator"], office.id, program_values(sponsor_ids=[other_sponsor.id])
    )
    programs.create_program(db, actors["stranger"], stranger_org.id, program_values())
    participant = np.arange(N_PARTICIPANTS + N_OTHERS) < N_PARTICIPANTS
    cohort = np.where(participant, np.resize(np.array(COHORTS), len(participant)), 0)
    firms = []
    for i in range(N_PARTICIPANTS):
        company = make_org(db, name_ko=f"참여기업{i}")
        firms.append(company.business_no)
        project = bare_project(db, program.id, company.id, provider.id)
        project.starts_on = date(int(cohort[i]) - 1, 3, 1)
        project.ends_on = date(int(cohort[i]), 2, 28)
        project.status = "completed"
        project.completed_on = date(int(cohort[i]), 2, 28)
    firms += [business_no(20_000 + i) for i in range(N_OTHERS)]
    rows = _revenue_rows(rng, firms, participant, cohort)
    panel = FirmPanel(
        organization_id=office.id,
        name="2016–2024 행정자료",
        n_firms=len(firms),
        n_rows=len(rows),
        year_min=YEARS[0],
        year_max=YEARS[-1],
    )
    db.add(panel)
    db.flush()
    db.execute(insert(FirmYear), [{**r, "panel_id": panel.id} for r in rows])
    db.commit()
    return World(users, actors, program.id, other.id, panel.id, firms)


def signed_in(client, db, user) -> str:
    cookie, csrf = session_cookie(db, user)
    db.commit()
    client.cookies.set("ss_session", cookie)
    return csrf


def wizard_form(w: World, csrf: str, **overrides) -> dict:
    form = {
        "csrf_token": csrf,
        "program": str(w.program_id),
        "panel": str(w.panel_id),
        "title": "스마트공장 매출 효과",
        "outcome": "revenue",
        "transform": "log",
        "cohort_rule": "completed",
        "match_level": "division",
        "refine": "pscore",
        "ratio": "1",
        "caliper": "0.2",
        "control": "never",
        "method": "dr",
        "bootstrap": "0",
        "seed": "7",
        "base_year": "",
        "end_year": "",
    }
    form.update(overrides)
    return form


def no_firm_in(text: str, w: World) -> bool:
    return not any(firm in text for firm in w.firms)


def test_a_study_through_the_wizard_recovers_the_planted_effect(client, db):
    w = build(db)
    csrf = signed_in(client, db, w.users["operator"])
    assert client.get("/impact/studies").status_code == 200
    first = client.get("/impact/studies/new")
    assert first.status_code == 200 and f'value="{w.program_id}"' in first.text
    assert 'id="study-form"' not in first.text  # programs first
    second = client.get(f"/impact/studies/new?program={w.program_id}")
    assert second.status_code == 200 and f'<option value="{w.panel_id}"' in second.text

    created = client.post("/impact/studies/new", data=wizard_form(w, csrf, bootstrap="199"))
    assert created.status_code == 303, created.text[:500]
    study_id = int(created.headers["location"].rsplit("/", 1)[1])
    db.expire_all()
    study = db.get(ImpactStudy, study_id)
    job = db.get(Job, study.job_id)
    assert job.kind == "impact.study" and job.status == "succeeded"
    assert study.status == "done" and study.error == [] and study.finished_at is not None
    result = study.result
    simple = result["did"]["aggregations"]["simple"]
    assert simple["ci"][0] <= EFFECT <= simple["ci"][1]
    naive = result["naive"]
    assert naive["ci"][0] > EFFECT + 0.1  # selection on growth inflates it
    growth = {b["variable"]: b for b in result["balance"]}["pre_growth"]
    assert abs(growth["smd_after"]) < abs(growth["smd_before"])
    assert result["n"]["participants"] == N_PARTICIPANTS
    assert result["n"]["non_participants"] == N_OTHERS
    assert {int(g) for g in result["n"]["cohorts"]} == set(COHORTS)
    assert result["did"]["se_type"] == "bootstrap"
    assert all(e["band"] is not None for e in result["did"]["aggregations"]["dynamic"]["by_event"])

    page = client.get(f"/impact/studies/{study_id}")
    assert page.status_code == 200
    for anchor in (
        'id="headline"',
        'id="warnings"',
        'id="event-study-chart"',
        'id="chart-data"',
        'id="balance-pre_growth"',
        'id="steps"',
        'id="aggregations"',
        'id="att-gt"',
        'id="descriptive-all_non_participants"',
        'id="naive"',
        'id="method"',
        "plotly-strict",
    ):
        assert anchor in page.text, anchor
    assert "hx-get" not in page.text  # finished: no polling
    link = f'href="/impact/studies?program={w.program_id}"'
    assert link in client.get(f"/programs/{w.program_id}").text  # the program's subnav
    assert no_firm_in(page.text, w)
    status = client.get(f"/impact/studies/{study_id}/status")
    assert status.status_code == 200 and status.headers["HX-Refresh"] == "true"

    workbook = client.get(f"/impact/studies/{study_id}.xlsx")
    assert workbook.status_code == 200
    book = load_workbook(io.BytesIO(workbook.content))
    assert len(book.sheetnames) == 7 and book.sheetnames[1] == "ATT(g,t)"
    att_rows = list(book.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert len(att_rows) == len(result["did"]["att_gt"])
    cells = " ".join(
        str(v)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for v in row
    )
    assert no_firm_in(cells, w)
    pdf = client.get(f"/impact/studies/{study_id}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    pdfium = pytest.importorskip("pypdfium2")
    document = pdfium.PdfDocument(pdf.content)
    assert len(document) >= 2
    text = document[0].get_textpage().get_text_range()
    assert "스마트공장 매출 효과" in text and no_firm_in(text, w)

    # A fresh run of the same specification: a new study, the same figures (same seed).
    again = client.post(f"/impact/studies/{study_id}/run", data={"csrf_token": csrf})
    assert again.status_code == 303
    rerun_id = int(again.headers["location"].rsplit("/", 1)[1])
    assert rerun_id != study_id
    db.expire_all()
    rerun = db.get(ImpactStudy, rerun_id)
    assert rerun.status == "done" and rerun.spec == study.spec
    assert rerun.result["did"]["aggregations"]["simple"] == simple
    assert db.get(ImpactStudy, study_id).result == result  # the earlier run is kept
    actions = [
        a
        for (a,) in db.execute(
            select(AuditEvent.action).where(AuditEvent.action.startswith("impact.study"))
        )
    ]
    assert sorted(actions) == sorted(
        [
            "impact.study.create",
            "impact.study.export",
            "impact.study.export",
            "impact.study.run",
        ]
    )


def test_field_errors_name_each_field(client, db):
    w = build(db)
    operator = w.actors["operator"]
    with pytest.raises(InvalidInput) as caught:
        service.create_study(
            db,
            operator,
            program_ids=[],
            panel_id=None,
            spec={"outcome": "weight", "bootstrap": "5", "ratio": "0", "caliper": "abc"},
        )
    assert set(caught.value.fields) == {
        "programs",
        "panel",
        "outcome",
        "bootstrap",
        "ratio",
        "caliper",
    }
    with pytest.raises(InvalidInput) as caught:
        service.create_study(
            db,
            operator,
            program_ids=[w.program_id],
            panel_id=w.panel_id,
            spec={
                "bootstrap": "10000",
                "caliper": "9",
                "base_year": "2023",
                "end_year": "2019",
                "covariates": ["pre_level", "size"],
                "control": "sometimes",
                "seed": "-1",
            },
            title="가" * 201,
        )
    assert set(caught.value.fields) == {
        "bootstrap",
        "caliper",
        "end_year",
        "covariates",
        "control",
        "seed",
        "title",
    }
    # A year outside the panel; a panel and programs the caller may not use.
    with pytest.raises(InvalidInput) as caught:
        service.create_study(
            db,
            operator,
            program_ids=[w.program_id],
            panel_id=w.panel_id,
            spec={"base_year": "2010"},
        )
    assert set(caught.value.fields) == {"base_year"}
    stranger_panel = FirmPanel(organization_id=db.scalar(select(Project.provider_org_id)), name="x")
    db.add(stranger_panel)
    db.flush()
    with pytest.raises(InvalidInput) as caught:
        service.create_study(db, operator, program_ids=[w.program_id], panel_id=stranger_panel.id)
    assert set(caught.value.fields) == {"panel"}
    with pytest.raises(InvalidInput) as caught:
        service.create_study(
            db, w.actors["stranger"], program_ids=[w.program_id], panel_id=w.panel_id
        )
    assert set(caught.value.fields) == {"programs"}
    with pytest.raises(Forbidden):
        service.create_study(db, w.actors["sme"], program_ids=[w.program_id])
    db.rollback()

    csrf = signed_in(client, db, w.users["operator"])
    refused = client.post("/impact/studies/new", data=wizard_form(w, csrf, bootstrap="5"))
    assert refused.status_code == 422 and 'id="f-bootstrap-error"' in refused.text
    assert 'value="5"' in refused.text  # the form keeps what was typed
    assert db.scalar(select(func.count()).select_from(ImpactStudy)) == 0


def test_a_study_the_data_cannot_support_fails_with_its_reasons(client, db):
    w = build(db)
    csrf = signed_in(client, db, w.users["operator"])
    # The other program has no participants: none is in the panel.
    created = client.post(
        "/impact/studies/new", data=wizard_form(w, csrf, program=str(w.other_program_id))
    )
    assert created.status_code == 303
    db.expire_all()
    study = db.scalars(select(ImpactStudy)).one()
    assert study.status == "failed" and study.result is None
    assert study.error == [["None of the programs' participants is in the panel.", {}]]
    page = client.get(f"/impact/studies/{study.id}")
    assert page.status_code == 200 and 'id="study-errors"' in page.text
    assert 'id="event-study-chart"' not in page.text
    assert client.get(f"/impact/studies/{study.id}.xlsx").status_code == 200
    assert client.get(f"/impact/studies/{study.id}.pdf").content.startswith(b"%PDF")
    # By start year, cohorts begin a year earlier; by completion with no project completed, the
    # participants are left out of both groups and the study fails too.
    db.execute(
        Project.__table__.update()
        .where(Project.program_id == w.program_id)
        .values(status="active", completed_on=None)
    )
    db.commit()
    again = service.create_study(
        db, w.actors["operator"], program_ids=[w.program_id], panel_id=w.panel_id
    )
    db.commit()
    db.expire_all()
    assert db.get(ImpactStudy, again.id).status == "failed"


def test_cohorts_come_from_the_programs_projects(db):
    w = build(db)
    by_completion, left_out = service.participant_cohorts(db, [w.program_id], "completed")
    assert len(by_completion) == N_PARTICIPANTS and left_out == set()
    assert set(by_completion.values()) == set(COHORTS)
    by_start, _ = service.participant_cohorts(db, [w.program_id], "started")
    assert {by_start[f] for f in by_completion} == {g - 1 for g in COHORTS}
    first, second, third = db.scalars(
        select(Project).where(Project.program_id == w.program_id).order_by(Project.id).limit(3)
    ).all()
    first.status, first.completed_on = "active", None  # still running
    second.status = "cancelled"
    third.program_id = w.other_program_id  # took part in another program
    db.flush()
    cohorts, left_out = service.participant_cohorts(db, [w.program_id], "completed")
    assert len(cohorts) == N_PARTICIPANTS - 3 and len(left_out) == 3
    cohorts, left_out = service.participant_cohorts(db, [w.program_id], "started")
    assert len(cohorts) == N_PARTICIPANTS - 2 and len(left_out) == 2  # active counts by start


def test_who_sees_which_study(client, make_client, db):
    w = build(db)
    study = service.create_study(
        db, w.actors["operator"], program_ids=[w.program_id], panel_id=w.panel_id
    )
    db.commit()
    paths = [
        f"/impact/studies/{study.id}",
        f"/impact/studies/{study.id}/status",
        f"/impact/studies/{study.id}.xlsx",
    ]
    anonymous = make_client()
    for path in ["/impact/studies", "/impact/studies/new", *paths]:
        response = anonymous.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert anonymous.get("/api/v1/impact/studies").status_code == 401
    assert anonymous.get(f"/api/v1/impact/studies/{study.id}").status_code == 401

    # The program's sponsor sees it, reruns it and may start its own.
    sponsor = make_client()
    csrf = signed_in(sponsor, db, w.users["sponsor"])
    listing = sponsor.get("/impact/studies")
    assert listing.status_code == 200 and f'href="/impact/studies/{study.id}"' in listing.text
    for path in paths:
        assert sponsor.get(path).status_code == 200, path
    assert no_firm_in(sponsor.get(paths[0]).text, w)
    assert f'href="/impact/studies?program={w.program_id}"' in sponsor.get("/sponsor/programs").text
    assert (
        sponsor.post(f"/impact/studies/{study.id}/run", data={"csrf_token": csrf}).status_code
        == 303
    )
    made = sponsor.post("/impact/studies/new", data=wizard_form(w, csrf, title="후원사 분석"))
    assert made.status_code == 303

    # Another program's sponsor, another operator: the study is not there. An SME: no studies.
    for key, listed in (("other_sponsor", 200), ("stranger", 200), ("sme", 403)):
        other = make_client()
        signed_in(other, db, w.users[key])
        response = other.get("/impact/studies")
        assert response.status_code == listed
        assert f"/impact/studies/{study.id}" not in response.text
        for path in paths:
            assert other.get(path).status_code == 404, (key, path)
        assert other.get(f"/api/v1/impact/studies/{study.id}").status_code == 404
    other = make_client()
    signed_in(other, db, w.users["other_sponsor"])
    wizard = other.get("/impact/studies/new").text
    assert f'name="program" value="{w.program_id}"' not in wizard
    assert f'name="program" value="{w.other_program_id}"' in wizard


def test_the_api_creates_queues_and_returns_the_study(client, db):
    w = build(db)
    from tests.factories import api_token, bearer

    headers = bearer(api_token(db, w.users["operator"]))
    db.commit()
    created = client.post(
        "/api/v1/impact/studies",
        headers=headers,
        json={
            "program_ids": [w.program_id],
            "panel_id": w.panel_id,
            "spec": {"refine": "mahalanobis", "caliper": None, "ratio": 2, "seed": 3},
        },
    )
    assert created.status_code == 202, created.text
    body = created.json()
    assert body["job_id"] and body["status"] == "queued"
    detail = client.get(f"/api/v1/impact/studies/{body['id']}", headers=headers).json()
    assert detail["status"] == "done" and detail["spec"]["caliper"] is None
    assert detail["spec"]["ratio"] == 2 and detail["result"]["n"]["treated"] > 0
    assert detail["title"]  # named after the program and the outcome
    assert no_firm_in(str(detail), w)
    listed = client.get("/api/v1/impact/studies", headers=headers).json()
    assert [s["id"] for s in listed] == [body["id"]] and listed[0]["status"] == "done"
    refused = client.post(
        "/api/v1/impact/studies",
        headers=headers,
        json={"program_ids": [w.program_id], "panel_id": w.panel_id, "spec": {"bootstrap": 5}},
    )
    assert refused.status_code == 422 and "bootstrap" in refused.json()["details"]
