"""Funds, agreements and projects through the browser pages and the JSON API: a contribution
booked once however often its form is sent, signing, a milestone paid at exactly its share,
cancellation with recovery, tenants kept apart, and the exports."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from sangsaeng.core.models import User
from sangsaeng.ledger.models import LedgerEntry
from sangsaeng.programs import application_service as applications
from sangsaeng.programs import evaluation_service as evaluation
from sangsaeng.programs import project_service as projects
from sangsaeng.programs.models import Project
from tests.factories import api_token, bearer, session_cookie
from tests.programs import lifecycle
from tests.programs.lifecycle import PDF, close_call, evaluate_all, fill


def _published(db):
    """A program whose results are published: SMEs 0 and 1 selected, 2 on the reserve list."""
    world = lifecycle.build(db)
    apps = [fill(db, world, i) for i in range(3)]
    for application, actor in zip(apps, world.sme_actors, strict=True):
        applications.submit(db, actor, application.id)
    close_call(db, world)
    scores = {apps[0].id: [90, 80, 85], apps[1].id: [70, 75, 72], apps[2].id: [60, 65, 61]}
    evaluate_all(db, world, [a.id for a in apps], scores)
    evaluation.decide(db, world.operator, world.program.id)
    evaluation.publish(db, world.operator, world.program.id)
    db.commit()
    return world, apps


def _browser(db, make_client, actor):
    cookie, csrf = session_cookie(db, db.get(User, actor.user_id))
    db.commit()
    client = make_client()
    client.cookies.set("ss_session", cookie)
    return client, csrf


def _figure(html: str, name: str) -> int:
    found = re.search(rf'id="fig-{name}" value="(-?\d+)"', html)
    assert found, f"no figure {name}"
    return int(found.group(1))


def _key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html).group(1)


def _entries(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(LedgerEntry))


def _sheet(body: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(body), read_only=True).active.iter_rows(values_only=True))


def test_contribute_sign_pay_and_cancel_through_the_pages(db, make_client):
    world, apps = _published(db)
    program_id = world.program.id
    operator, csrf = _browser(db, make_client, world.operator)
    funds_url = f"/programs/{program_id}/funds"

    page = operator.get(funds_url)
    assert page.status_code == 200
    assert _figure(page.text, "contributed") == 0
    form = {
        "csrf_token": csrf,
        "source": "government",
        "amount": "500,000,000",
        "memo": "정부 출연",
        "idempotency_key": _key(page.text),
    }
    before = _entries(db)
    for _ in range(2):  # a double submit books once
        sent = operator.post(f"{funds_url}/contributions", data=form)
        assert sent.status_code == 303
        assert sent.headers["location"] == f"{funds_url}?msg=contributed"
    assert _entries(db) == before + 1
    # The same key with another body is refused, and nothing is booked.
    refused = operator.post(f"{funds_url}/contributions", data={**form, "amount": "1"})
    assert refused.status_code == 409
    assert _entries(db) == before + 1
    sponsor_form = {
        **form,
        "source": "sponsor",
        "contributor": str(world.sponsor.id),
        "idempotency_key": _key(operator.get(funds_url).text),
    }
    assert operator.post(f"{funds_url}/contributions", data=sponsor_form).status_code == 303
    page = operator.get(funds_url)
    assert _figure(page.text, "contributed") == 1_000_000_000
    assert world.sponsor.name_ko in page.text  # contributions per sponsor
    disbursed_before = _figure(page.text, "disbursed")

    listing = operator.get(f"/programs/{program_id}/projects")
    assert listing.status_code == 200
    assert f"/applications/{apps[0].id}/agreement" in listing.text
    signed = operator.post(
        f"/programs/{program_id}/applications/{apps[0].id}/agreement",
        data={
            "csrf_token": csrf,
            "starts_on": date.today().isoformat(),
            "ends_on": (date.today() + timedelta(days=180)).isoformat(),
            "cost_lines": "설비: 60,000,000\n소프트웨어: 40,000,000",
        },
    )
    assert signed.status_code == 303, signed.text[:500]
    project_url = signed.headers["location"].split("?")[0]
    project_id = int(project_url.rsplit("/", 1)[1])

    company, company_csrf = _browser(db, make_client, world.sme_actors[0])
    mine = company.get("/projects")
    assert project_url in mine.text
    page = company.get(project_url)
    assert page.status_code == 200
    budget = _figure(page.text, "budget")
    assert (budget, _figure(page.text, "paid")) == (100_000_000, 0)
    assert "설비" in page.text

    kickoff = projects.milestones(db, project_id)[0]
    reported = company.post(
        f"{project_url}/milestones/{kickoff.id}/report",
        data={"csrf_token": company_csrf, "report": "착수 보고: 설비 발주와 일정을 확정했습니다."},
        files={"files": ("plan.pdf", PDF, "application/pdf")},
    )
    assert reported.status_code == 303, reported.text[:500]
    approved = operator.post(
        f"{project_url}/milestones/{kickoff.id}/approve", data={"csrf_token": csrf, "note": ""}
    )
    assert approved.status_code == 303, approved.text[:500]

    funds_page = operator.get(funds_url).text
    assert _figure(funds_page, "disbursed") - disbursed_before == budget * 30 // 100
    page = company.get(project_url).text
    assert _figure(page, "paid") == budget * 30 // 100
    assert "plan.pdf" in page

    cancelled = operator.post(
        f"{project_url}/cancel",
        data={"csrf_token": csrf, "reason": "사업 포기 의사 표명", "recover_krw": "10,000,000"},
    )
    assert cancelled.status_code == 303, cancelled.text[:500]
    page = operator.get(project_url).text
    assert _figure(page, "recovered") == 10_000_000
    assert _figure(page, "held") == 0
    assert _figure(operator.get(funds_url).text, "recovered") == 10_000_000

    other, _csrf = _browser(db, make_client, world.sme_actors[1])
    assert other.get(project_url).status_code == 404
    assert other.get(funds_url).status_code == 403

    ledger = operator.get(f"/programs/{program_id}/funds.xlsx")
    assert ledger.status_code == 200
    rows = _sheet(ledger.content)
    assert len(rows) > 5 and any(r[2] == "disbursement" for r in rows[1:])
    listing = operator.get(f"/programs/{program_id}/projects.xlsx")
    rows = _sheet(listing.content)
    assert rows[1][0] == db.get(Project, project_id).agreement_no


def test_a_fund_short_of_money_refuses_the_agreement_and_stores_nothing(db, make_client):
    world, apps = _published(db)
    operator, csrf = _browser(db, make_client, world.operator)
    refused = operator.post(
        f"/programs/{world.program.id}/applications/{apps[0].id}/agreement",
        data={
            "csrf_token": csrf,
            "starts_on": date.today().isoformat(),
            "ends_on": (date.today() + timedelta(days=90)).isoformat(),
        },
    )
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text
    assert db.scalar(select(func.count()).select_from(Project)) == 0
    bad = operator.post(
        f"/programs/{world.program.id}/applications/{apps[0].id}/agreement",
        data={"csrf_token": csrf, "starts_on": "tomorrow", "ends_on": "", "cost_lines": "x"},
    )
    assert bad.status_code == 422
    assert bad.text.count('class="field-error"') == 3


def test_the_api_books_one_entry_per_key_and_reads_the_project(db, client):
    world, apps = _published(db)
    token = api_token(db, db.get(User, world.operator.user_id))
    url = f"/api/v1/programs/{world.program.id}/contributions"
    body = {"source_code": "government", "amount": 10**9, "idempotency_key": "api-gov-1"}
    first = client.post(url, json=body, headers=bearer(token))
    again = client.post(url, json=body, headers=bearer(token))
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    other = client.post(url, json={**body, "amount": 5}, headers=bearer(token))
    assert other.status_code == 409
    sponsor = {
        "source_code": "sponsor",
        "amount": 10**9,
        "contributor_org_id": world.sponsor.id,
        "idempotency_key": "api-sponsor-1",
    }
    assert client.post(url, json=sponsor, headers=bearer(token)).status_code == 201
    funds = client.get(f"/api/v1/programs/{world.program.id}/funds", headers=bearer(token)).json()
    assert funds["total"]["contributed"] == 2 * 10**9
    signed = client.post(
        f"/api/v1/applications/{apps[0].id}/agreement",
        json={
            "starts_on": date.today().isoformat(),
            "ends_on": (date.today() + timedelta(days=90)).isoformat(),
        },
        headers=bearer(token),
    )
    assert signed.status_code == 201, signed.text
    project = signed.json()
    assert project["money"]["held"] == project["money"]["budget"] == 100_000_000
    assert [m["kind"] for m in project["milestones"]] == [
        "kickoff",
        "midterm",
        "completion",
        "final",
    ]
    suspended = client.post(
        f"/api/v1/projects/{project['id']}/status",
        json={"action": "suspend", "reason": "현장 점검 대기"},
        headers=bearer(token),
    )
    assert suspended.json()["status"] == "suspended"
    company = api_token(db, db.get(User, world.sme_actors[0].user_id))
    read = client.get(f"/api/v1/projects/{project['id']}", headers=bearer(company))
    assert read.status_code == 200
    stranger = api_token(db, db.get(User, world.sme_actors[1].user_id))
    hidden = client.get(f"/api/v1/projects/{project['id']}", headers=bearer(stranger))
    assert hidden.status_code == 404


def bare_project(db, program_id: int, organization_id: int, provider_org_id: int) -> Project:
    """A signed project with its milestones but no money in the ledger, for tests that only
    need one to exist (the walk over every page)."""
    from sangsaeng.programs.models import Application, Milestone

    starts_on = date.today()
    ends_on = starts_on + timedelta(days=90)
    application = Application(
        program_id=program_id,
        organization_id=organization_id,
        status="selected",
        title="MES 구축",
        total_krw=1_000_000,
        requested={"sme": 1_000_000},
    )
    db.add(application)
    db.flush()
    project = Project(
        application_id=application.id,
        program_id=program_id,
        organization_id=organization_id,
        provider_org_id=provider_org_id,
        agreement_no=f"TEST-{application.id:06d}",
        total_krw=1_000_000,
        budget={"sme": 1_000_000},
        cost_lines={"사업비": 1_000_000},
        holds={},
        starts_on=starts_on,
        ends_on=ends_on,
    )
    db.add(project)
    db.flush()
    for row in projects.milestone_plan(0, starts_on, ends_on):
        db.add(Milestone(project_id=project.id, **row))
    db.flush()
    return project
