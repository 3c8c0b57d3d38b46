"""Program set-up, visibility and eligibility on both databases, through the service and the API."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from sangsaeng.core.errors import Forbidden, InvalidInput, NotFound
from sangsaeng.core.models import utcnow
from sangsaeng.programs import service
from sangsaeng.programs.models import Program
from tests.assessments.helpers import SMART, actor_of, submitted
from tests.factories import api_token, bearer, link, make_org, make_user


def program_values(**overrides) -> dict:
    values = {
        "name_ko": "2027 상생형 스마트공장 구축 — 한빛철강",
        "year": 2027,
        "kind": "smart_factory",
        "opens_on": date.today() - timedelta(days=1),
        "closes_at": utcnow() + timedelta(days=30),
        "quota": 40,
        "budget_krw": 4_000_000_000,
        "cap_per_company_krw": 100_000_000,
        "sources": [
            {"code": "government", "name_ko": "정부", "share": Decimal("0.3")},
            {"code": "sponsor", "name_ko": "후원기업", "share": Decimal("0.3")},
            {"code": "sme", "name_ko": "기업 부담", "share": Decimal("0.4"), "in_kind": False},
        ],
        "remainder_to": "sme",
        "score_sheet": "application-score-sheet",
        "eligibility_rules": [{"rule": "size_class", "in": ["sme", "micro"]}],
        "required_documents": [{"name_ko": "사업계획서", "required": True}],
    }
    values.update(overrides)
    return values


@pytest.fixture
def operators(db):
    mine = make_org(db, kind="operator", size_class="large", name_ko="추진단")
    theirs = make_org(db, kind="operator", size_class="large", name_ko="다른 추진단")
    return (
        mine,
        actor_of(db, make_user(db, roles=[(mine, "operator")])),
        actor_of(db, make_user(db, roles=[(theirs, "operator")])),
    )


def test_an_operator_sets_up_a_program_and_another_operator_cannot_see_its_draft(db, operators):
    org, operator, other = operators
    program = service.create_program(db, operator, org.id, program_values())
    assert [s.code for s in service.sources(db, program)] == ["government", "sponsor", "sme"]
    assert service.list_programs(db, other) == []
    with pytest.raises(NotFound):
        service.get_program(db, other, program.id)
    with pytest.raises(Forbidden):  # once open, others see the call but may not manage it
        service.set_status(db, operator, program.id, "open")
        service.set_status(db, other, program.id, "closed")
    assert service.get_program(db, other, program.id).status == "open"
    assert [p.id for p in service.open_calls(db)] == [program.id]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {
                "sources": [
                    {"code": "g", "name_ko": "정부", "share": Decimal("0.5")},
                    {"code": "s", "name_ko": "기업", "share": Decimal("0.4")},
                ]
            },
            "sources",
        ),
        ({"cap_per_company_krw": 5_000_000_000}, "cap_per_company_krw"),
        ({"closes_at": utcnow() - timedelta(hours=1)}, "closes_at"),
        ({"score_sheet": "smart-factory-level"}, "score_sheet"),
        ({"eligibility_rules": [{"rule": "region", "in": []}]}, "eligibility_rules"),
        ({"remainder_to": "nobody"}, "remainder_to"),
        ({"quota": 0}, "quota"),
    ],
)
def test_bad_set_up_is_refused_and_nothing_stored(db, operators, change, field):
    org, operator, _other = operators
    with pytest.raises(InvalidInput) as caught:
        service.create_program(db, operator, org.id, program_values(**change))
    assert field in caught.value.fields
    assert db.scalar(select(func.count(Program.id))) == 0


def test_only_operators_of_the_operating_organization_create(db, operators):
    org, _operator, other = operators
    with pytest.raises(Forbidden):
        service.create_program(db, other, org.id, program_values())
    sme_org = make_org(db)
    sme = actor_of(db, make_user(db, roles=[(sme_org, "sme")]))
    with pytest.raises(Forbidden):
        service.create_program(db, sme, org.id, program_values())


def test_eligibility_with_reasons_from_tiers_and_diagnosis(db, operators, app):
    org, operator, _other = operators
    sponsor = make_org(db, kind="sponsor", size_class="large")
    tier1, tier2 = make_org(db), make_org(db)
    link(db, sponsor, tier1)
    link(db, tier1, tier2)
    rules = [
        {"rule": "supplier_tier", "sponsor": sponsor.id, "max": 1},
        {"rule": "diagnosed_level", "instrument": SMART, "max_rank": 2},
    ]
    program = service.create_program(db, operator, org.id, program_values(eligibility_rules=rules))
    service.set_status(db, operator, program.id, "open")
    sme = actor_of(db, make_user(db, roles=[(tier2, "sme")]))
    result = service.check_eligibility(db, sme, program.id, tier2.id)
    assert not result.eligible
    assert [v.reason for v in result.failed] == [
        "tier {tier} supplier of the sponsor; allowed up to tier {max}",
        "no submitted diagnosis on record",
    ]
    submitted(db, sme, tier2, app.state.storage, value=2)  # level 1 (L1)
    result = service.check_eligibility(db, sme, program.id, tier2.id)
    assert [v.passed for v in result.verdicts] == [False, True]
    with pytest.raises(NotFound):  # another company's eligibility is not the SME's to read
        service.check_eligibility(db, sme, program.id, tier1.id)


def test_the_api_creates_and_explains_eligibility_in_korean(make_client, db, operators):
    org, _operator, _other = operators
    user = make_user(db, roles=[(org, "operator")])
    sme_org = make_org(db, size_class="midsize")
    sme_user = make_user(db, roles=[(sme_org, "sme")])
    client = make_client()
    body = program_values()
    body["opens_on"] = body["opens_on"].isoformat()
    body["closes_at"] = body["closes_at"].isoformat()
    body["sources"] = [{**s, "share": str(s["share"])} for s in body["sources"]]
    created = client.post(
        "/api/v1/programs",
        headers=bearer(api_token(db, user)),
        json={**body, "operator_org_id": org.id},
    )
    assert created.status_code == 201, created.text
    program_id = created.json()["id"]
    assert (
        client.post(
            f"/api/v1/programs/{program_id}/status",
            headers=bearer(api_token(db, user)),
            json={"status": "open"},
        ).status_code
        == 200
    )
    answer = client.get(
        f"/api/v1/programs/{program_id}/eligibility",
        params={"organization_id": sme_org.id},
        headers=bearer(api_token(db, sme_user)),
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "eligible": False,
        "rules": [
            {
                "rule": "size_class",
                "passed": False,
                "reason": "기업규모 중견기업, 허용: 중소기업, 소상공인",
            }
        ],
    }
    bad = client.post(
        "/api/v1/programs",
        headers=bearer(api_token(db, user)),
        json={**body, "operator_org_id": org.id, "quota": 0},
    )
    assert bad.status_code == 422 and "quota" in bad.json()["details"]


def test_the_public_call_page_and_an_smes_eligibility(make_client, db, operators):
    from tests.factories import login

    org, operator, _other = operators
    program = service.create_program(
        db,
        operator,
        org.id,
        program_values(
            eligibility_rules=[
                {"rule": "size_class", "in": ["sme", "micro"]},
                {"rule": "region", "in": ["47"]},
            ]
        ),
    )
    draft_id = program.id
    db.commit()
    anonymous = make_client()
    assert anonymous.get(f"/calls/{draft_id}").status_code == 404  # a draft is not public yet
    service.set_status(db, operator, program.id, "open")
    sme_org = make_org(db, region_code="41")
    sme_user = make_user(db, roles=[(sme_org, "sme")])
    db.commit()
    page = anonymous.get(f"/calls/{program.id}")
    assert page.status_code == 200
    assert "기업규모: 중소기업, 소상공인" in page.text and "경상북도" in page.text
    assert program.name_ko in anonymous.get("/calls").text
    signed_in = make_client()
    login(signed_in, sme_user.email)
    mine = signed_in.get(f"/calls/{program.id}")
    assert 'data-testid="eligibility"' in mine.text
    assert "✘ 지역 경기도, 허용: 경상북도" in mine.text  # the failed rule and why


def test_an_operator_sets_up_a_program_with_the_form(client, db, operators):
    from tests.factories import csrf_from, login

    org, _operator, _other = operators
    user = make_user(db, roles=[(org, "operator")])
    sponsor = make_org(db, kind="sponsor", size_class="large", name_ko="한빛철강")
    db.commit()
    login(client, user.email)
    form = client.get("/programs/new")
    assert form.status_code == 200
    deadline = (utcnow() + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "csrf_token": csrf_from(form.text),
        "operator_org_id": str(org.id),
        "name_ko": "2027 상생형 스마트공장 구축",
        "year": "2027",
        "kind": "smart_factory",
        "opens_on": date.today().isoformat(),
        "closes_at": deadline,
        "quota": "40",
        "budget_krw": "4,000,000,000",
        "cap_per_company_krw": "100000000",
        "score_sheet": "application-score-sheet",
        "src_code": ["government", "sponsor", "sme"],
        "src_name": ["정부", "후원기업", "기업 부담"],
        "src_share": ["30", "30", "35"],
        "src_form": ["cash", "cash", "in_kind"],
        "remainder_to": "sme",
        "rule_divisions": "C29, 25",
        "rule_sizes": ["sme", "micro"],
        "rule_tier_sponsor": str(sponsor.id),
        "rule_tier_max": "3",
        "rule_max_level": "2",
        "documents": "사업계획서\n재무제표",
        "sponsor_ids": [str(sponsor.id)],
    }
    refused = client.post("/programs", data=data)  # shares add up to 95 %
    assert refused.status_code == 422 and "분담 비율의 합" in refused.text
    assert db.scalar(select(func.count(Program.id))) == 0
    created = client.post("/programs", data={**data, "src_share": ["30", "30", "40"]})
    assert created.status_code == 303, created.text[:500]
    program = db.scalars(select(Program)).one()
    assert program.budget_krw == 4_000_000_000 and program.status == "draft"
    assert [r["rule"] for r in program.eligibility_rules] == [
        "ksic_division",
        "size_class",
        "supplier_tier",
        "diagnosed_level",
    ]
    assert program.eligibility_rules[0]["in"] == ["29", "25"]
    page = client.get(created.headers["location"])
    assert "한빛철강의 3차 이내 협력사" in page.text and "공고 게시" in page.text
