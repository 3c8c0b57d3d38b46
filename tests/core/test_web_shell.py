"""The web shell: security headers, CSRF, safe GETs, Korean error pages, the language switch,
one JSON error shape for the API, health check and API documentation."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from fastapi.routing import RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sangsaeng.app import create_app
from sangsaeng.core.accounts import service
from sangsaeng.core.audit.models import AuditEvent
from sangsaeng.core.files import service as files
from sangsaeng.core.jobs.models import Job
from sangsaeng.core.models import ApiToken, Organization, User
from sangsaeng.core.policy import SYSTEM_ACTOR
from sangsaeng.db import Base
from tests.factories import api_token, bearer, csrf_from, link, login, make_org, make_user

MSG_CSRF_KO = "입력 양식이 만료되었습니다. 페이지를 새로 고친 후 다시 시도해 주십시오."
MSG_NOT_FOUND_TITLE_KO = "페이지를 찾을 수 없습니다"


# ---------------------------------------------------------------- helpers


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    directives = {}
    for item in policy.split(";"):
        name, *values = item.split()
        directives[name.lower()] = values
    return directives


def assert_security_headers(response) -> None:
    csp = csp_directives(response)
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert "'unsafe-eval'" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] in {
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }
    assert "strict-transport-security" not in response.headers  # plain http


def assert_no_inline_script(html: str) -> None:
    """The CSP allows only script files from this site, so pages must not rely on inline code."""
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert 'src="/' in tag or 'type="application/json"' in tag, tag
        assert 'src="//' not in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"


def fresh(db):
    db.rollback()
    db.expire_all()
    return db


def user_name(db, user_id: int) -> str:
    return fresh(db).scalar(select(User.name).where(User.id == user_id))


def sme_with_org(db, **org):
    organization = make_org(db, **org)
    return make_user(db, roles=[(organization, "sme")]), organization


# ---------------------------------------------------------------- security headers


def test_security_headers_on_the_login_page(client, db):
    page = client.get("/login")
    assert page.status_code == 200
    assert_security_headers(page)
    assert page.headers["cache-control"] == "no-store"
    assert_no_inline_script(page.text)


def test_security_headers_on_the_dashboard(client, db):
    org = make_org(db, kind="sponsor")
    supplier = make_org(db)
    link(db, org, supplier)
    user = make_user(db, roles=[(org, "sponsor"), (org, "admin")])
    db.commit()
    login(client, user.email)
    page = client.get("/")
    assert page.status_code == 200
    assert 'id="chart-data"' in page.text  # the page with charts and a JSON data island
    assert_security_headers(page)
    assert_no_inline_script(page.text)


def test_security_headers_on_the_404_page(client, db):
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert_security_headers(page)


def test_security_headers_on_json_and_static_responses(client, db):
    for path in ("/healthz", "/api/v1/openapi.json", "/static/app.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


# ---------------------------------------------------------------- CSRF


def test_form_post_without_csrf_token_is_refused(client, db):
    user, _org = sme_with_org(db)
    db.commit()
    login(client, user.email)
    response = client.post("/me", data={"name": "바뀐 이름", "locale": "ko"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert MSG_CSRF_KO in response.text
    assert user_name(db, user.id) == "테스트 사용자"


def test_form_post_with_a_wrong_csrf_token_is_refused(make_client, db):
    user, _org = sme_with_org(db)
    other = make_user(db)
    db.commit()
    browser, attacker = make_client(), make_client()
    own = login(browser, user.email)
    foreign = login(attacker, other.email)  # a real token, but of another session
    for token in ("x" * 43, foreign, own[:-1], ""):
        response = browser.post("/me", data={"name": "바뀐 이름", "csrf_token": token})
        assert response.status_code == 403, token
    assert user_name(db, user.id) == "테스트 사용자"
    ok = browser.post("/me", data={"name": "바뀐 이름", "locale": "ko", "csrf_token": own})
    assert ok.status_code == 303
    assert user_name(db, user.id) == "바뀐 이름"


def test_htmx_request_with_csrf_header_is_accepted(client, db):
    user, _org = sme_with_org(db)
    db.commit()
    csrf = login(client, user.email)
    page = client.get("/me")
    assert f'data-csrf="{csrf}"' in page.text  # where app.js takes the header value from
    response = client.post(
        "/me",
        data={"name": "htmx 이름", "locale": "ko"},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert response.status_code == 303
    assert user_name(db, user.id) == "htmx 이름"


def test_login_form_needs_the_anonymous_csrf_token(client, db):
    user = make_user(db)
    db.commit()
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": "whatever"})
    assert response.status_code == 403
    assert "ss_session" not in response.headers.get("set-cookie", "")


def test_cookie_authenticated_api_write_needs_the_csrf_header(client, db):
    user, org = sme_with_org(db, employees=40)
    db.commit()
    csrf = login(client, user.email)
    refused = client.patch(f"/api/v1/organizations/{org.id}", json={"employees": 99})
    assert refused.status_code == 403
    assert refused.json() == {"code": "csrf_failed", "message": MSG_CSRF_KO, "details": None}
    wrong = client.patch(
        f"/api/v1/organizations/{org.id}",
        json={"employees": 99},
        headers={"X-CSRF-Token": "wrong"},
    )
    assert wrong.status_code == 403
    assert fresh(db).scalar(select(Organization.employees).where(Organization.id == org.id)) == 40

    ok = client.patch(
        f"/api/v1/organizations/{org.id}", json={"employees": 99}, headers={"X-CSRF-Token": csrf}
    )
    assert ok.status_code == 200
    assert ok.json()["employees"] == 99
    # Reads need no token.
    assert client.get(f"/api/v1/organizations/{org.id}").status_code == 200


def test_bearer_api_writes_need_no_csrf_token(make_client, db):
    user, org = sme_with_org(db, employees=40)
    token = api_token(db, user)
    response = make_client().patch(
        f"/api/v1/organizations/{org.id}", json={"employees": 41}, headers=bearer(token)
    )
    assert response.status_code == 200
    assert fresh(db).scalar(select(Organization.employees).where(Organization.id == org.id)) == 41


# ---------------------------------------------------------------- no state change on GET

# Columns a read may touch: session and token bookkeeping.
_BOOKKEEPING = {("user_sessions", "last_seen_at"), ("api_tokens", "last_used_at")}
# A read may append to the audit log (downloads and denials are logged), nothing else.
_ACCESS_LOG = "audit_events"
_READ_EVENTS = {
    "audit.export",
    "org.export",
    "users.export",
    "file.download",
    "permission.denied",
    "assessment.export",
    "assessment.report",
    "application.export",
    "objection.export",
    "program.overdue.export",
    "program.overview.export",
    "sponsor.programs.export",
    "evaluation.export",
    "provider.export",
    "project.export",
    "outcomes.report.export",
    "kpi.export",
    "impact.study.export",
}


def snapshot(engine) -> dict[str, list[tuple]]:
    state = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name == _ACCESS_LOG:
                continue
            columns = [c for c in table.columns if (table.name, c.name) not in _BOOKKEEPING]
            rows = conn.execute(select(*columns)).all()
            state[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return state


def get_routes(app) -> list[RouteContext]:
    """Every GET endpoint, including those behind ``include_router`` (FastAPI no longer
    flattens included routers into ``app.routes``)."""
    return [r for r in iter_route_contexts(app.routes) if "GET" in (r.methods or ())]


def test_no_get_route_changes_state(app, client, make_client, db, engine):
    sponsor = make_org(db, kind="sponsor")
    supplier = make_org(db)
    link(db, sponsor, supplier)
    admin = make_user(db, roles=[(sponsor, "admin"), (sponsor, "sponsor")])
    # Factory data are read by their SME's own members only (not by administrators).
    sme = make_user(db, roles=[(supplier, "sme")])
    other = make_user(db)
    api_token(db, admin)
    reset_raw, _reset = service.issue_password_reset(
        db, SYSTEM_ACTOR, user_id=other.id, valid_for=timedelta(hours=1)
    )
    job = Job(
        id="b" * 32, kind="import.organizations", owner_user_id=admin.id, status="failed", params={}
    )
    db.add(job)
    stored = files.store(
        db,
        SYSTEM_ACTOR,
        app.state.storage,
        data=b"%PDF-1.4 x",
        filename="a.pdf",
        place="evidence",
        organization_id=sponsor.id,
    )
    from tests.assessments.helpers import submitted

    diagnosis = submitted(db, SYSTEM_ACTOR, supplier, app.state.storage, value=2)
    from sangsaeng.programs import service as programs
    from tests.programs.test_programs import program_values

    operator_org = make_org(db, kind="operator", size_class="large")
    program = programs.create_program(db, SYSTEM_ACTOR, operator_org.id, program_values())
    programs.set_status(db, SYSTEM_ACTOR, program.id, "open")
    from tests.programs.test_project_pages import bare_project

    project = bare_project(db, program.id, sponsor.id, supplier.id)
    from sangsaeng.core.models import utcnow
    from sangsaeng.programs.models import Application, EvaluatorAssignment

    # A submitted application with one document (the operator's review and its download), and
    # the administrator assigned to evaluate it, not yet declared.
    application = Application(
        program_id=program.id,
        organization_id=supplier.id,
        status="submitted",
        title="MES 구축",
        documents={"사업계획서": [stored.id]},
        submitted_at=utcnow(),
    )
    db.add(application)
    db.flush()
    assignment = EvaluatorAssignment(application_id=application.id, evaluator_id=admin.id)
    db.add(assignment)
    from sangsaeng.core.imports import reader
    from sangsaeng.impact import panels

    extract = f"사업자등록번호,연도,업종코드,매출액\n{supplier.business_no},2023,C291,1000\n"
    panel_id = panels.import_panel(
        db,
        SYSTEM_ACTOR,
        reader.read_table(extract.encode(), "panel.csv"),
        name="행정자료",
        organization_id=operator_org.id,
    ).panel_id
    from sangsaeng.core.accounts.service import load_actor
    from sangsaeng.impact import service as studies

    # Runs at commit (and fails: the program has no participants); its pages and exports work.
    study = studies.create_study(
        db, load_actor(db, admin), program_ids=[program.id], panel_id=panel_id
    )
    from sangsaeng.factory import analyses, datasets

    records = (
        "일자,설비,제품,생산수량,양품수량,계획시간(분),이상사이클타임(초)\n"
        "2026-03-02,M1,A,10,9,60,30\n"
    )
    frame, _ = datasets.read_upload(records.encode(), "records.csv")
    as_sme = load_actor(db, sme)
    dataset_id = datasets.import_dataset(db, as_sme, frame, kind="production").dataset_id
    analysis = analyses.create_analysis(db, as_sme, dataset_id, "oee", {})  # runs at commit
    from sangsaeng.factory import standards

    shift = {"name": "주간", "starts": "08:00", "ends": "17:00", "weekdays": "01234"}
    shift_id = standards.add_shift(db, as_sme, shift).id
    cycle = {"product": "A", "machine": "M1", "ideal_cycle_seconds": "30"}
    cycle_id = standards.add_cycle_time(db, as_sme, cycle).id
    upload = files.store(
        db,
        as_sme,
        app.state.storage,
        data=records.encode(),
        filename="records.csv",
        place="import",
        organization_id=supplier.id,
    )
    db.commit()
    token_id = fresh(db).scalar(select(ApiToken.id))
    login(client, admin.email)
    anonymous = make_client()
    sme_client = make_client()
    login(sme_client, sme.email)
    params = {
        "org_id": sponsor.id,
        "supplier_id": supplier.id,
        "user_id": other.id,
        "token_id": token_id,
        "token": reset_raw,
        "fmt": "csv",
        "file_id": stored.id,
        "job_id": job.id,
        "assessment_id": diagnosis.id,
        "instrument_id": "partner-certification",
        "program_id": program.id,
        "project_id": project.id,
        "application_id": application.id,
        "document_no": 1,
        "assignment_id": assignment.id,
        "panel_id": panel_id,
        "study_id": study.id,
        "dataset_id": dataset_id,
        "analysis_id": analysis.id,
        "shift_id": shift_id,
        "cycle_id": cycle_id,
        "kind": "production",
    }

    routes = get_routes(app)
    assert len(routes) >= 15, [r.path for r in routes]
    before = snapshot(engine)
    logged_before = fresh(db).scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    logged_before = [(e.id, e.action, e.details) for e in logged_before]
    visited = {}
    for route in routes:
        unknown = set(route.param_convertors) - params.keys()
        assert not unknown, f"add a value for {unknown} of {route.path}"
        factory = "/factory" in route.path
        values = {**params, "file_id": upload.id} if factory else params
        path = route.path_format.format(**{k: values[k] for k in route.param_convertors})
        signed_in = ("sme", sme_client) if factory else ("admin", client)
        for who, browser in (signed_in, ("anonymous", anonymous)):
            response = browser.get(path)
            assert response.status_code < 500, (who, path, response.text[:500])
            visited[(who, route.path)] = response.status_code
    after = snapshot(engine)

    assert {t: len(rows) for t, rows in after.items()} == {
        t: len(rows) for t, rows in before.items()
    }
    assert after == before
    logged = [
        (e.id, e.action, e.details)
        for e in fresh(db).scalars(select(AuditEvent).order_by(AuditEvent.id))
    ]
    assert logged[: len(logged_before)] == logged_before
    assert {action for _id, action, _d in logged[len(logged_before) :]} <= _READ_EVENTS
    # The walk really reached the pages (not just login redirects).
    odd = {p: s for (who, p), s in visited.items() if who != "anonymous" and s not in (200, 303)}
    assert odd == {"/api/v1/projects/{project_id}/kpis/auto": 422}  # it needs its query
    for path in (
        "/",
        "/orgs",
        "/orgs/{org_id}",
        "/admin/users",
        "/api/v1/organizations",
        "/programs/{program_id}/outcomes",
        "/programs/{program_id}/outcomes.xlsx",
        "/programs/{program_id}/outcomes.pdf",
        "/api/v1/programs/{program_id}/outcomes",
    ):
        assert visited[("admin", path)] == 200, path
    assert visited[("admin", "/reset/{token}")] == 200
    for path in ("", "/template.xlsx", "/{file_id}"):  # the KPI sheet import (a dry run)
        assert visited[("admin", "/programs/{program_id}/kpis/import" + path)] == 200, path
    for path in (
        "",
        "/new",
        "/template.xlsx",
        "/import/{file_id}",
        "/{panel_id}",
        "/{panel_id}/rows",
    ):
        assert visited[("admin", "/impact/panels" + path)] == 200, path  # the preview: a dry run
    assert visited[("admin", "/api/v1/impact/panels/{panel_id}")] == 200
    for path in (
        "",
        "/new",
        "/{study_id}",
        "/{study_id}/status",
        "/{study_id}.xlsx",
        "/{study_id}.pdf",
    ):
        assert visited[("admin", "/impact/studies" + path)] == 200, path
    assert visited[("admin", "/api/v1/impact/studies/{study_id}")] == 200
    for path in (
        "/factory",
        "/factory/datasets/new",
        "/factory/datasets/template/{kind}.xlsx",
        "/factory/datasets/import/{file_id}",  # the preview: a dry run
        "/factory/datasets/{dataset_id}",
        "/factory/datasets/{dataset_id}/analyses/new",
        "/factory/analyses/{analysis_id}",
        "/factory/analyses/{analysis_id}/status",
        "/factory/analyses/{analysis_id}.xlsx",
        "/api/v1/factory/datasets/{dataset_id}",
        "/api/v1/factory/analyses/{analysis_id}",
        "/factory/standards",
        "/factory/standards/shifts/{shift_id}",
        "/factory/standards/cycle-times/{cycle_id}",
    ):
        assert visited[("sme", path)] == 200, path


# ---------------------------------------------------------------- error pages and bodies


def test_unknown_page_is_a_korean_404(client, db):
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="ko">' in page.text
    assert MSG_NOT_FOUND_TITLE_KO in page.text


def test_unknown_organization_is_a_korean_404(client, db):
    user, _org = sme_with_org(db)
    db.commit()
    login(client, user.email)
    page = client.get("/orgs/999999")
    assert page.status_code == 404
    assert MSG_NOT_FOUND_TITLE_KO in page.text


def test_admin_page_for_an_sme_is_a_korean_403(client, db):
    user, _org = sme_with_org(db)
    db.commit()
    login(client, user.email)
    page = client.get("/admin/users")
    assert page.status_code == 403
    assert "접근 권한이 없습니다" in page.text
    assert "이 작업을 수행할 권한이 없습니다." in page.text
    assert_security_headers(page)


@pytest.fixture
def failing_app(settings):
    application = create_app(settings)

    @application.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    @application.get("/api/v1/boom")
    def api_boom():
        raise RuntimeError("secret internal detail")

    yield application
    application.state.engine.dispose()


def test_server_error_is_a_korean_500_page_with_headers(failing_app, db, caplog):
    with (
        caplog.at_level(logging.ERROR, logger="sangsaeng.web"),
        TestClient(failing_app, follow_redirects=False) as c,
    ):
        page = c.get("/boom")
        api = c.get("/api/v1/boom")
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "서버 오류" in page.text
    assert "예기치 않은 오류가 발생했습니다" in page.text
    assert "secret internal detail" not in page.text
    assert_security_headers(page)

    assert api.status_code == 500
    assert api.json() == {
        "code": "internal_error",
        "message": "예기치 않은 오류가 발생했습니다. 잠시 후 다시 시도해 주십시오.",
        "details": None,
    }
    assert "secret internal detail" in caplog.text  # in the log, for the operator


def test_unknown_api_path_is_a_json_404(client, db):
    for path in ("/api/v1/nothing-here", "/api/unknown"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {
            "code": "not_found",
            "message": "요청하신 항목을 찾을 수 없습니다.",
            "details": None,
        }


def test_validation_error_body(make_client, db):
    operator_org = make_org(db, kind="operator")
    operator = make_user(db, roles=[(operator_org, "operator")])
    token = api_token(db, operator)
    api = make_client()
    body = {
        "business_no": "1208147521",
        "name_ko": "검증주식회사",
        "ksic": "291",
        "region": "41",
        "size_class": "sme",
        "revenue_krw": "lots",
    }
    count = fresh(db).scalar(select(func.count()).select_from(Organization))
    response = api.post("/api/v1/organizations", json=body, headers=bearer(token))
    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid_input",
        "message": "입력 내용을 확인해 주십시오.",
        "details": {"revenue_krw": "정수로 입력해 주십시오."},
    }
    english = api.post(
        "/api/v1/organizations", json=body, headers={**bearer(token), "Accept-Language": "en"}
    )
    assert english.json()["details"] == {"revenue_krw": "Enter a whole number."}
    assert english.json()["message"] == "Please check your input."
    assert fresh(db).scalar(select(func.count()).select_from(Organization)) == count


def test_every_api_error_has_the_same_shape(make_client, db):
    user, org = sme_with_org(db)
    token = api_token(db, user)
    api = make_client()
    responses = {
        401: api.get("/api/v1/me"),
        403: api.get("/api/v1/users", headers=bearer(token)),
        404: api.get("/api/v1/organizations/999999", headers=bearer(token)),
        405: api.put("/api/v1/me", headers=bearer(token)),
        422: api.post("/api/v1/organizations", content=b"{not json", headers=bearer(token)),
    }
    for status, response in responses.items():
        assert response.status_code == status, (status, response.text)
        body = response.json()
        assert set(body) == {"code", "message", "details"}, body
        assert isinstance(body["code"], str) and body["code"]
        assert re.search("[가-힣]", body["message"]), body  # Korean by default
    service_error = api.patch(
        f"/api/v1/organizations/{org.id}", json={"region": "99"}, headers=bearer(token)
    )
    assert service_error.status_code == 422
    assert set(service_error.json()) == {"code", "message", "details"}
    assert "region" in service_error.json()["details"]


# ---------------------------------------------------------------- language


def switch_language(browser: TestClient, locale: str, next_path: str = "/"):
    csrf = csrf_from(browser.get(next_path).text)
    return browser.post("/lang", data={"locale": locale, "next": next_path, "csrf_token": csrf})


def test_language_switch_for_anonymous_visitors(client, db):
    assert "<h1>로그인</h1>" in client.get("/login").text
    response = switch_language(client, "en", "/login")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "ss_lang=en" in response.headers["set-cookie"]
    page = client.get("/login")
    assert '<html lang="en">' in page.text
    assert "<h1>Sign in</h1>" in page.text

    switch_language(client, "ko", "/login")
    assert "<h1>로그인</h1>" in client.get("/login").text


def test_language_switch_needs_csrf_and_stays_on_site(client, db):
    client.get("/login")
    assert client.post("/lang", data={"locale": "en"}).status_code == 403
    csrf = csrf_from(client.get("/login").text)
    response = client.post(
        "/lang", data={"locale": "en", "next": "//evil.example/", "csrf_token": csrf}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    unknown = client.post("/lang", data={"locale": "fr", "csrf_token": csrf})
    assert "ss_lang=ko" in unknown.headers["set-cookie"]


def test_signed_in_language_choice_is_stored_and_restored(make_client, db):
    user, _org = sme_with_org(db)
    db.commit()
    browser = make_client()
    login(browser, user.email)
    assert "<h1>대시보드</h1>" in browser.get("/").text

    assert switch_language(browser, "en").status_code == 303
    page = browser.get("/")
    assert "<h1>Dashboard</h1>" in page.text
    assert "대시보드" not in page.text
    assert fresh(db).scalar(select(User.locale).where(User.id == user.id)) == "en"

    # Another browser, no language cookie yet: the stored choice comes back at login.
    laptop = make_client()
    assert "<h1>로그인</h1>" in laptop.get("/login").text
    login(laptop, user.email)
    assert laptop.cookies.get("ss_lang") == "en"
    assert "<h1>Dashboard</h1>" in laptop.get("/").text

    switch_language(laptop, "ko")
    assert "<h1>대시보드</h1>" in laptop.get("/").text
    assert fresh(db).scalar(select(User.locale).where(User.id == user.id)) == "ko"


# ---------------------------------------------------------------- health, OpenAPI, docs


def test_healthz_needs_no_sign_in(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_lists_the_api_only(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/organizations" in paths
    assert "/api/v1/tokens" in paths
    assert not [p for p in paths if not p.startswith("/api/v1/")]


def test_api_docs_load_only_same_origin_scripts(client, db):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    sources = re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="([^"]+)"', page.text)
    assert any("swagger-ui-bundle" in s for s in sources)
    for source in sources:
        assert source.startswith("/") and not source.startswith("//"), source
        assert "http" not in source
        assert client.get(source).status_code == 200, source
    assert_no_inline_script(page.text)
    assert csp_directives(page)["script-src"] == ["'self'"]
    assert 'data-openapi-url="/api/v1/openapi.json"' in page.text
