"""Applicant, evaluator and provider pages (and their API) end to end through the app: forms with
CSRF, uploads, errors beside each field in Korean, nothing stored on refusal."""

from __future__ import annotations

import io
import re

import openpyxl
from sqlalchemy import select

from sangsaeng.core.models import User
from sangsaeng.programs import application_service as applications
from sangsaeng.programs import evaluation_service as evaluation
from sangsaeng.programs.models import Application, EvaluatorAssignment, SolutionProvider
from tests.factories import api_token, bearer, business_no, login, make_org, make_user
from tests.programs import lifecycle
from tests.programs.lifecycle import PDF, SHEET_ITEMS, fill

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def field_error(html: str, field: str) -> str:
    """The error shown beside one field (empty when there is none)."""
    found = re.search(rf'id="f-{re.escape(field)}-error"[^>]*>([^<]*)<', html)
    return found.group(1) if found else ""


def draft_form(world, csrf: str, total: str = "100,000,000", **extra) -> dict:
    data = {
        "csrf_token": csrf,
        "from_form": "1",
        "title": "MES 구축",
        "plan": "생산 실적을 실시간으로 수집하여 불량률을 낮추는 MES 구축 계획입니다.",
        "support_type": "advanced",
        "solution_id": str(world.solution_id),
        "total_krw": total,
        "kpi_code": ["defect_rate", "", ""],
        "kpi_baseline": ["3.0", "", ""],
        "kpi_target": ["1.5", "", ""],
    }
    data.update(extra)
    return data


def test_an_sme_applies_saves_uploads_and_submits(client, db):
    world = lifecycle.build(db, n_smes=1, n_evaluators=0)
    user_email = world.sme_actors[0].email
    db.commit()
    csrf = login(client, user_email)
    call = client.get(f"/calls/{world.program.id}")
    assert f'action="/calls/{world.program.id}/apply"' in call.text
    started = client.post(f"/calls/{world.program.id}/apply", data={"csrf_token": csrf})
    assert started.status_code == 303
    edit_url = started.headers["location"]
    application_id = int(edit_url.split("/")[2])
    form = client.get(edit_url)
    assert form.status_code == 200
    assert form.text.count('name="kpi_code"') >= 3 and "스마트솔루션" in form.text
    url = f"/applications/{application_id}"

    # Support of 60 % of 200,000,000 is over the cap: the error beside the total, nothing stored.
    over = client.post(f"{url}/edit", data=draft_form(world, csrf, total="200,000,000"))
    assert over.status_code == 422
    assert "한도(60,000,000원)" in field_error(over.text, "total_krw")
    # Amounts per source that do not follow the shares: the service's error beside the amounts.
    skewed = client.post(
        f"{url}/edit",
        data=draft_form(
            world, csrf, **{"req.government": "50000000", "req.sponsor": "0", "req.sme": "1"}
        ),
    )
    assert skewed.status_code == 422 and field_error(skewed.text, "requested")
    # A forbidden file type: the error beside its document; the valid fields are not saved either.
    refused = client.post(
        f"{url}/edit",
        data=draft_form(world, csrf),
        files={"doc.0": ("plan.exe", EXE, "application/octet-stream")},
    )
    assert refused.status_code == 422
    assert "허용되지 않는 파일 형식" in field_error(refused.text, "doc-0")
    db.expire_all()
    stored = db.get(Application, application_id)
    assert (stored.title, stored.total_krw, stored.documents) == ("", None, {})

    # Submitting without the required document names it beside the upload.
    missing = client.post(f"{url}/edit", data=draft_form(world, csrf))  # saved, no document
    assert missing.status_code == 303
    refused = client.post(f"{url}/submit", data={"csrf_token": csrf})
    assert refused.status_code == 422 and "사업계획서" in field_error(refused.text, "doc-0")
    assert db.get(Application, application_id).status == "draft"

    saved = client.post(
        f"{url}/edit",
        data=draft_form(world, csrf),
        files={"doc.0": ("plan.pdf", PDF, "application/pdf")},
    )
    assert saved.status_code == 303
    db.expire_all()
    stored = db.get(Application, application_id)
    assert stored.total_krw == 100_000_000
    assert stored.requested == {"government": 30_000_000, "sponsor": 30_000_000, "sme": 40_000_000}
    assert stored.target_kpis == [{"code": "defect_rate", "baseline": 3.0, "target": 1.5}]
    assert len(stored.documents["사업계획서"]) == 1
    submitted = client.post(f"{url}/submit", data=draft_form(world, csrf))
    assert submitted.status_code == 303
    page = client.get(submitted.headers["location"])
    assert page.status_code == 200
    assert "제출" in page.text and "불량률" in page.text and "plan.pdf" in page.text
    assert "30,000,000" in page.text or "3,000만원" in page.text
    assert client.get(edit_url).headers["location"].endswith("msg=locked")
    listing = client.get("/applications")
    assert "MES 구축" in listing.text and world.program.name_ko in listing.text


def _under_review(db, n_evaluators=1):
    world = lifecycle.build(db, n_smes=1, n_evaluators=n_evaluators)
    application = fill(db, world, 0)
    applications.submit(db, world.sme_actors[0], application.id)
    evaluation.screen(db, world.operator, application.id, passed=True)
    assignments = [
        evaluation.assign(db, world.operator, application.id, email)
        for email in world.evaluator_emails
    ]
    db.commit()
    return world, application, assignments


def test_an_evaluator_pledges_then_scores_with_comments_for_low_scores(client, db):
    world, _application, (assignment,) = _under_review(db)
    csrf = login(client, world.evaluator_emails[0])
    listing = client.get("/evaluations")
    assert "중소기업 0" in listing.text and f"/evaluations/{assignment.id}" in listing.text
    url = f"/evaluations/{assignment.id}"
    pledge = client.get(url)
    assert "스마트솔루션" in pledge.text and 'name="choice"' in pledge.text
    assert "불량률" not in pledge.text  # the application stays closed until the pledge
    assert client.post(f"{url}/declare", data={"csrf_token": csrf}).status_code == 422
    declared = client.post(f"{url}/declare", data={"csrf_token": csrf, "choice": "none"})
    assert declared.status_code == 303
    sheet = client.get(url)
    assert 'name="a.necessity_score"' in sheet.text and "불량률" in sheet.text
    scores = {f"a.{k}": "80" for k in SHEET_ITEMS}
    low = client.post(
        f"{url}/score", data={"csrf_token": csrf, **scores, "a.necessity_score": "40"}
    )
    assert low.status_code == 422 and "의견" in low.text
    db.expire_all()
    assert db.get(EvaluatorAssignment, assignment.id).score is None
    done = client.post(
        f"{url}/score",
        data={
            "csrf_token": csrf,
            **scores,
            "a.necessity_score": "40",
            "c.necessity_score": "필요성 근거가 부족합니다.",
        },
    )
    assert done.status_code == 303
    db.expire_all()
    assert db.get(EvaluatorAssignment, assignment.id).score == 72.0


def test_an_evaluator_with_a_conflict_never_sees_the_application(client, db):
    world, application, (assignment,) = _under_review(db)
    csrf = login(client, world.evaluator_emails[0])
    url = f"/evaluations/{assignment.id}"
    client.post(f"{url}/declare", data={"csrf_token": csrf, "choice": "conflict", "note": "거래처"})
    page = client.get(url)
    assert 'data-testid="conflict"' in page.text and "불량률" not in page.text
    assert client.get(f"/applications/{application.id}").status_code == 404
    scored = client.post(
        f"{url}/score", data={"csrf_token": csrf, **{f"a.{k}": "90" for k in SHEET_ITEMS}}
    )
    assert scored.status_code == 403
    db.expire_all()
    stored = db.get(EvaluatorAssignment, assignment.id)
    assert (stored.declaration, stored.score) == ("conflict", None)


def test_the_export_neutralises_formulas(client, db):
    world = lifecycle.build(db, n_smes=1, n_evaluators=0)
    application = fill(db, world, 0, title='=HYPERLINK("http://evil.example","x")')
    db.commit()
    login(client, world.sme_actors[0].email)
    response = client.get("/applications.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][1] == "'" + application.title
    assert rows[1][4] == 100_000_000


def test_the_api_applies_attaches_an_uploaded_file_and_submits(client, db):
    world = lifecycle.build(db, n_smes=1, n_evaluators=0)
    user = db.get(User, world.sme_actors[0].user_id)
    headers = bearer(api_token(db, user))
    started = client.post(f"/api/v1/programs/{world.program.id}/applications", headers=headers)
    assert started.status_code == 201, started.text
    url = f"/api/v1/applications/{started.json()['id']}"
    body = {
        "title": "MES 구축",
        "plan": "생산 실적을 실시간으로 수집하여 불량률을 낮추는 MES 구축 계획입니다.",
        "support_type": "advanced",
        "solution_id": world.solution_id,
        "total_krw": 300_000_000,
        "target_kpis": [{"code": "defect_rate", "baseline": 3.0, "target": 1.5}],
    }
    over = client.put(url, headers=headers, json=body)
    assert over.status_code == 422 and set(over.json()["details"]) == {"total_krw"}
    saved = client.put(url, headers=headers, json={**body, "total_krw": 100_000_000})
    assert saved.status_code == 200 and saved.json()["requested"]["sme"] == 40_000_000
    uploaded = client.post(
        "/api/v1/files",
        headers=headers,
        files={"file": ("plan.pdf", PDF, "application/pdf")},
        data={"place": "program", "organization_id": str(world.smes[0].id)},
    )
    assert uploaded.status_code == 201
    attached = client.post(
        f"{url}/documents",
        headers=headers,
        json={"file_id": uploaded.json()["id"], "document": "사업계획서"},
    )
    assert attached.status_code == 200 and attached.json()["documents"]["사업계획서"]
    wrong = client.post(
        f"{url}/documents",
        headers=headers,
        json={"file_id": uploaded.json()["id"], "document": "없는 서류"},
    )
    assert wrong.status_code == 422
    submitted = client.post(f"{url}/submit", headers=headers)
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert client.put(url, headers=headers, json=body).status_code == 409


def test_operators_register_providers_by_business_number(client, db):
    operator_org = make_org(db, kind="operator", size_class="large")
    operator = make_user(db, roles=[(operator_org, "operator")])
    provider = make_org(db, name_ko="공급솔루션(주)", business_no=business_no(8101))
    db.commit()
    csrf = login(client, operator.email)
    unknown = client.post("/providers", data={"csrf_token": csrf, "business_no": "123-45-67891"})
    assert unknown.status_code == 422 and field_error(unknown.text, "business_no")
    done = client.post("/providers", data={"csrf_token": csrf, "business_no": business_no(8101)})
    assert done.status_code == 303
    provider_id = db.scalar(
        select(SolutionProvider.id).where(SolutionProvider.organization_id == provider.id)
    )
    bad = client.post(
        f"/providers/{provider_id}/solutions",
        data={"csrf_token": csrf, "name": "", "solution_type": "XYZ"},
    )
    assert bad.status_code == 422
    added = client.post(
        f"/providers/{provider_id}/solutions",
        data={"csrf_token": csrf, "name": "클라우드 MES", "solution_type": "MES"},
    )
    assert added.status_code == 303
    page = client.get("/providers")
    assert "공급솔루션(주)" in page.text and "클라우드 MES" in page.text


def test_a_published_result_with_its_method_and_an_objection(client, db):
    world = lifecycle.build(db)
    apps = [fill(db, world, i) for i in range(3)]
    for application, actor in zip(apps, world.sme_actors, strict=True):
        applications.submit(db, actor, application.id)
    lifecycle.close_call(db, world)
    scores = {apps[0].id: [90, 80, 85], apps[1].id: [70, 75, 72], apps[2].id: [60, 65, 61]}
    lifecycle.evaluate_all(db, world, [a.id for a in apps], scores)
    evaluation.decide(db, world.operator, world.program.id)
    evaluation.publish(db, world.operator, world.program.id)
    db.commit()
    csrf = login(client, world.sme_actors[2].email)
    url = f"/applications/{apps[2].id}"
    page = client.get(url)
    assert "예비 선정" in page.text and "3개 중 3위" in page.text
    assert "기본 62.0 + 가점 0 = 62.0" in page.text and "최고점과 최저점" in page.text
    short = client.post(f"{url}/objections", data={"csrf_token": csrf, "reason": "다시"})
    assert short.status_code == 422 and field_error(short.text, "reason")
    lodged = client.post(
        f"{url}/objections",
        data={"csrf_token": csrf, "reason": "평가 점수 산정을 다시 확인해 주십시오."},
    )
    assert lodged.status_code == 303
    page = client.get(url)
    assert "답변 대기" in page.text and 'name="reason"' not in page.text  # one open at a time
    client.post("/lang", data={"csrf_token": csrf, "locale": "en", "next": url})
    english = client.get(url)
    assert "Reserve list" in english.text and "3 of 3" in english.text
