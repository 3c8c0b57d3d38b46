"""The assessment pages and API end to end through the app (forms, uploads, downloads)."""

from __future__ import annotations

import io
import json
import re
import zlib

import openpyxl
import pytest
from sqlalchemy import select

from sangsaeng.assessments import catalog
from sangsaeng.assessments.engine.scoring import score
from sangsaeng.assessments.models import Assessment, PlanAction
from tests.assessments.helpers import SMART, TINY_PDF, actor_of, answer_all, submitted
from tests.factories import api_token, bearer, csrf_from, login, make_org, make_user


def _chart_data(html: str) -> list[dict]:
    match = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def _pdf_objects(data: bytes) -> bytes:
    """The PDF's bytes with every Flate stream inflated (names hide in object streams)."""
    parts = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"".join(parts)


def test_an_sme_answers_submits_and_reads_its_result(client, db):
    org = make_org(db, name_ko="가온정밀(주)")
    user = make_user(db, roles=[(org, "sme")])
    db.commit()
    csrf = login(client, user.email)
    page = client.get("/assessments")
    assert "스마트공장" in page.text
    started = client.post(
        "/assessments", data={"csrf_token": csrf, "organization_id": org.id, "instrument_id": SMART}
    )
    assert started.status_code == 303
    url = started.headers["location"]
    form = client.get(url)
    assert form.status_code == 200 and 'name="a.P1"' in form.text
    csrf = csrf_from(form.text)  # the form carries the session's token itself
    # A value off the scale is refused with a Korean message, and nothing is saved.
    bad = client.post(f"{url}/answers", data={"csrf_token": csrf, "a.P1": "9", "action": "save"})
    assert bad.status_code == 422 and "척도" in bad.text
    answers = {f"a.{k}": str(int(v)) for k, v in answer_all(SMART, 2).items()}
    # Submitting without the required evidence names each question that lacks it.
    missing = client.post(
        f"{url}/answers", data={"csrf_token": csrf, **answers, "action": "submit"}
    )
    assert missing.status_code == 422 and "증빙" in missing.text
    files = [
        (f"e.{item}", ("evidence.pdf", TINY_PDF, "application/pdf"))
        for item in ("P2", "P3", "T1", "T3")
    ]
    done = client.post(
        f"{url}/answers", data={"csrf_token": csrf, **answers, "action": "submit"}, files=files
    )
    assert done.status_code == 303, done.text[:300]
    result = client.get(done.headers["location"])
    assert result.status_code == 200
    assert ("Level 1" in result.text and "레벨" not in result.text) or "Level 1" in result.text
    charts = _chart_data(result.text)
    radar = next(c for c in charts if c["type"] == "radar")
    assert radar["series"][0]["values"] == [25.0, 25.0, 25.0]
    assert "다음 수준까지" in result.text or "다음 수준" in result.text
    assert 'id="plan"' in result.text
    # The plan: one action edited from the page.
    assessment_id = int(url.rsplit("/", 1)[1])
    action = db.scalars(
        select(PlanAction)
        .where(PlanAction.assessment_id == assessment_id)
        .order_by(PlanAction.rank)
    ).first()
    saved = client.post(
        f"/assessments/plan/{action.id}",
        data={
            "csrf_token": csrf,
            "title": "생산실적 전산화(1단계)",
            "status": "doing",
            "assignee_id": str(user.id),
            "note": "생산팀 주관",
        },
    )
    assert saved.status_code == 303
    assert "생산실적 전산화(1단계)" in client.get(url).text


def test_another_sme_cannot_see_it(make_client, db, app):
    org, other = make_org(db), make_org(db, name_ko="다른기업(주)")
    owner = actor_of(db, make_user(db, roles=[(org, "sme")]))
    stranger = make_user(db, roles=[(other, "sme")])
    a = submitted(db, owner, org, app.state.storage)
    db.commit()
    client = make_client()
    login(client, stranger.email)
    for path in (
        f"/assessments/{a.id}",
        f"/assessments/{a.id}/report.pdf",
        f"/assessments/{a.id}/export",
    ):
        assert client.get(path).status_code == 404
    assert org.name_ko not in client.get("/assessments").text
    token = api_token(db, stranger)
    api = make_client()
    assert api.get(f"/api/v1/assessments/{a.id}", headers=bearer(token)).status_code == 404
    listed = api.get("/api/v1/assessments", headers=bearer(token)).json()
    assert listed["total"] == 0


def test_pdf_and_excel_downloads(client, db, app):
    org = make_org(db, name_ko="한빛금속(주)")
    user = make_user(db, roles=[(org, "sme")])
    a = submitted(db, actor_of(db, user), org, app.state.storage, value=3)
    db.commit()
    login(client, user.email)
    page = client.get(f"/assessments/{a.id}")
    assert "evidence.pdf" in page.text  # the organization's own evidence, linked per question
    pdf = client.get(f"/assessments/{a.id}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    objects = _pdf_objects(pdf.content)
    # The vendored Korean font (bound to the family "Sangsaeng Sans") is embedded, subset.
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+Sangsaeng-Sans", objects)
    assert b"/FontFile2" in objects
    xlsx = client.get(f"/assessments/{a.id}/export?format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    overall = next(r for r in rows if r[2] == "종합 점수")
    assert overall[4] == pytest.approx(50.0)
    assert any(r[0] == "실행계획" for r in rows)  # the plan follows the scores
    listing = client.get("/assessments/export?format=xlsx")
    assert listing.status_code == 200


def test_peer_benchmark_page_shows_a_percentile_and_no_peer(client, db, app):
    orgs = [make_org(db, name_ko=f"동종기업{i}(주)", ksic_code="291") for i in range(6)]
    users = []
    for index, org in enumerate(orgs):
        user = make_user(db, roles=[(org, "sme")])
        users.append(user)
        submitted(db, actor_of(db, user), org, app.state.storage, value=1 + 0.8 * index)
    db.commit()
    login(client, users[3].email)
    mine = db.scalars(select(Assessment).where(Assessment.organization_id == orgs[3].id)).one()
    page = client.get(f"/assessments/{mine.id}")
    assert 'data-testid="percentile"' in page.text
    for other in orgs[:3] + orgs[4:]:
        assert other.name_ko not in page.text
    api = client.get(f"/api/v1/assessments/{mine.id}")
    # Answers 1, 2, 3, 3, 4, 5 (the 4th is ours): 2 peers below, 1 equal → (2 + ½) / 5 = 50 %.
    assert api.json()["peers"] == {
        "n_peers": 5,
        "percentile": 50.0,
        "method": api.json()["peers"]["method"],
    }


def test_simulation_page_for_a_sponsor_saves_nothing(client, db):
    sponsor = make_org(db, kind="sponsor", size_class="large")
    user = make_user(db, roles=[(sponsor, "sponsor")])
    db.commit()
    csrf = login(client, user.email)
    form = client.get("/assessments/simulate/shared-growth-evaluation")
    assert form.status_code == 200 and 'name="s.SV-FAIR"' in form.text
    csrf = csrf_from(form.text)
    answers = {f"a.{k}": str(int(v)) for k, v in answer_all("shared-growth-evaluation", 4).items()}
    result = client.post(
        "/assessments/simulate/shared-growth-evaluation", data={"csrf_token": csrf, **answers}
    )
    assert result.status_code == 200 and 'id="simulation-result"' in result.text
    assert db.scalars(select(Assessment)).first() is None


def test_api_flow_start_answer_submit(make_client, db, app):
    org = make_org(db)
    user = make_user(db, roles=[(org, "sme")])
    token = api_token(db, user)
    client = make_client()
    headers = bearer(token)
    created = client.post(
        "/api/v1/assessments",
        headers=headers,
        json={"organization_id": org.id, "instrument_id": "innovation-capability"},
    )
    assert created.status_code == 201, created.text
    assessment_id = created.json()["id"]
    bad = client.patch(
        f"/api/v1/assessments/{assessment_id}", headers=headers, json={"answers": {"PR1": 17}}
    )
    assert bad.status_code == 422 and "PR1" in bad.json()["details"]
    answers = answer_all("innovation-capability", 3)
    saved = client.patch(
        f"/api/v1/assessments/{assessment_id}", headers=headers, json={"answers": answers}
    )
    assert saved.status_code == 200
    done = client.post(f"/api/v1/assessments/{assessment_id}/submit", headers=headers)
    if done.status_code == 422:  # evidence required: upload each file, then attach it
        for item in done.json()["details"]:
            uploaded = client.post(
                "/api/v1/files",
                headers=headers,
                data={"place": "evidence", "organization_id": str(org.id)},
                files={"file": ("e.pdf", TINY_PDF, "application/pdf")},
            )
            attached = client.post(
                f"/api/v1/assessments/{assessment_id}/evidence",
                headers=headers,
                json={"item_id": item, "file_id": uploaded.json()["id"]},
            )
            assert attached.status_code == 200, attached.text
        done = client.post(f"/api/v1/assessments/{assessment_id}/submit", headers=headers)
    assert done.status_code == 200, done.text
    detail = client.get(f"/api/v1/assessments/{assessment_id}", headers=headers).json()
    instrument = catalog.find("innovation-capability")
    assert detail["result"]["overall"] == score(instrument, answers).overall
    assert detail["result"]["method"]
    plan = detail["plan"]
    assert plan and all(p["year"] in (None, 1, 2, 3) for p in plan)
    moved = client.patch(
        f"/api/v1/assessment-plan-actions/{plan[0]['id']}",
        headers=headers,
        json={"status": "done", "note": "완료"},
    )
    assert moved.status_code == 200 and moved.json()["status"] == "done"
    action_url = f"/api/v1/assessment-plan-actions/{plan[0]['id']}"
    assigned = client.patch(action_url, headers=headers, json={"assignee_id": user.id})
    assert assigned.json()["assignee_id"] == user.id
    kept = client.patch(action_url, headers=headers, json={"note": "메모만 수정"})
    assert kept.json()["assignee_id"] == user.id  # a missing field changes nothing
    cleared = client.patch(action_url, headers=headers, json={"assignee_id": None})
    assert cleared.json()["assignee_id"] is None  # an explicit null unassigns


def test_verified_answers_beside_own_and_the_ranking_page(client, db, app):
    from sangsaeng.assessments import service

    operator_org = make_org(db, kind="operator", size_class="large")
    operator_user = make_user(db, roles=[(operator_org, "operator")])
    operator = actor_of(db, operator_user)
    entries = []
    for _ in range(2):  # identical answers: the tie is broken by the earlier submission
        org = make_org(db)
        actor = actor_of(db, make_user(db, roles=[(org, "sme")]))
        entries.append(
            submitted(
                db,
                actor,
                org,
                app.state.storage,
                instrument_id="partner-certification",
                value=4,
                cohort_year=2026,
            )
        )
        service.verify(db, operator, entries[-1].id, answer_all("partner-certification", 3), "")
    db.commit()
    login(client, operator_user.email)
    page = client.get(f"/assessments/{entries[0].id}")
    assert "평가위원 답변" in page.text and 'data-testid="verified-overall"' in page.text
    ranking = client.get("/assessments/rankings/partner-certification?year=2026")
    assert ranking.status_code == 200
    assert "먼저 제출" in ranking.text  # the tie-break that decided, in words


def test_a_supplier_survey_result_has_no_radar_and_no_peers(client, db, app):
    from tests.factories import link

    sponsor = make_org(db, kind="sponsor", size_class="large")
    supplier = make_org(db)
    link(db, sponsor, supplier)
    user = make_user(db, roles=[(supplier, "sme")])
    response = submitted(
        db,
        actor_of(db, user),
        supplier,
        app.state.storage,
        instrument_id="shared-growth-supplier-survey",
        value=4,
        about_organization_id=sponsor.id,
    )
    db.commit()
    login(client, user.email)
    page = client.get(f"/assessments/{response.id}")
    assert page.status_code == 200
    assert 'id="chart-radar"' not in page.text and 'data-testid="percentile"' not in page.text
    assert sponsor.name_ko in page.text  # the company it rates


def test_an_assessor_opens_the_result_with_an_earlier_diagnosis_on_record(make_client, db, app):
    from datetime import date

    from sangsaeng.assessments import service

    org = make_org(db)
    sme = actor_of(db, make_user(db, roles=[(org, "sme")]))
    submitted(db, sme, org, app.state.storage, value=2, on=date(2025, 1, 10))
    later = submitted(db, sme, org, app.state.storage, value=3)
    operator_org = make_org(db, kind="operator", size_class="large")
    operator = actor_of(db, make_user(db, roles=[(operator_org, "operator")]))
    assessor = make_user(db, email="onsite2@example.kr", roles=[(make_org(db), "adviser")])
    service.assign_assessor(db, operator, later.id, assessor.email)
    db.commit()
    client = make_client()
    login(client, assessor.email)
    page = client.get(f"/assessments/{later.id}")
    assert page.status_code == 200 and "평가위원 점수 입력" in page.text
    assert client.get(f"/assessments/{later.id}/report.pdf").status_code == 200


def test_a_refused_submission_keeps_the_draft_as_it_was(client, db):
    org = make_org(db)
    user = make_user(db, roles=[(org, "sme")])
    db.commit()
    login(client, user.email)
    started = client.post(
        "/assessments",
        data={
            "csrf_token": csrf_from(client.get("/assessments").text),
            "organization_id": org.id,
            "instrument_id": SMART,
        },
    )
    url = started.headers["location"]
    csrf = csrf_from(client.get(url).text)
    answers = {f"a.{k}": str(int(v)) for k, v in answer_all(SMART, 2).items()}
    refused = client.post(
        f"{url}/answers",
        data={"csrf_token": csrf, **answers, "action": "submit"},
        files=[("e.P2", ("e.pdf", TINY_PDF, "application/pdf"))],
    )
    assert refused.status_code == 422
    db.expire_all()
    draft = db.get(Assessment, int(url.rsplit("/", 1)[1]))
    assert draft.status == "draft" and draft.answers == {} and draft.evidence == {}
