"""Organizations: validation with Korean/English errors and nothing stored, derived revenue bands
and supplier tiers, scoped lists and searches."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from sangsaeng.core.models import Organization
from sangsaeng.core.orgs import graph
from tests.factories import (
    api_token,
    bearer,
    business_no,
    link,
    make_org,
    make_user,
    session_cookie,
)


@pytest.fixture
def operator(db):
    office = make_org(db, kind="operator", ksic_code="84", name_ko="운영기관")
    user = make_user(db, roles=[(office, "operator")])
    db.commit()
    return {"user": user, "org": office, "token": api_token(db, user)}


def count_orgs(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Organization))


def valid_body(**overrides) -> dict:
    body = {
        "business_no": business_no(),
        "name_ko": "한결정밀(주)",
        "ksic": "C29",
        "region": "경기",
        "size_class": "중소",
        "employees": 35,
        "revenue_krw": 6_200_000_000,
        "founded_year": 2004,
    }
    body.update(overrides)
    return body


def test_create_accepts_the_short_forms_and_derives_the_band(client, db, operator):
    response = client.post(
        "/api/v1/organizations", json=valid_body(ksic="291"), headers=bearer(operator["token"])
    )
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["ksic"]["code"] == "291" and data["ksic_division"]["code"] == "29"
    assert data["region"]["code"] == "41" and data["size_class"]["code"] == "sme"
    assert data["revenue_band"]["code"] == "5b-10b"
    assert data["business_no_display"].count("-") == 2


@pytest.mark.parametrize("ksic", ["D35", "J62", "62", "C10"])
def test_any_division_can_register(client, db, operator, ksic):
    response = client.post(
        "/api/v1/organizations", json=valid_body(ksic=ksic), headers=bearer(operator["token"])
    )
    assert response.status_code == 201, response.text


BAD_INPUT = [
    ("business_no", "123-45-67890", "올바른 사업자등록번호", "valid business registration number"),
    ("ksic", "C99", "알 수 없는 표준산업분류 코드", "Unknown KSIC industry code"),
    ("revenue_krw", -5, "매출액은 음수일 수 없습니다", "Revenue cannot be negative"),
    ("region", "평양", "17개 시·도", "17 metropolitan cities"),
]


@pytest.mark.parametrize(("field", "value", "korean", "english"), BAD_INPUT)
def test_bad_input_is_refused_in_korean_and_english_and_stores_nothing(
    client, db, operator, field, value, korean, english
):
    before = count_orgs(db)
    response = client.post(
        "/api/v1/organizations",
        json=valid_body(**{field: value}),
        headers=bearer(operator["token"]),
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert body["message"] == "입력 내용을 확인해 주십시오."
    assert korean in body["details"][field]
    english_response = client.post(
        "/api/v1/organizations",
        json=valid_body(**{field: value}),
        headers={**bearer(operator["token"]), "Accept-Language": "en-US,en;q=0.9"},
    )
    assert english in english_response.json()["details"][field]
    assert count_orgs(db) == before


def test_duplicate_business_number_is_refused_and_keeps_the_original(client, db, operator):
    existing = make_org(db, name_ko="원래기업")
    db.commit()
    before = count_orgs(db)
    response = client.post(
        "/api/v1/organizations",
        json=valid_body(business_no=existing.business_no, name_ko="중복기업"),
        headers=bearer(operator["token"]),
    )
    assert response.status_code == 422
    assert "이미 등록된 사업자등록번호" in response.json()["details"]["business_no"]
    assert count_orgs(db) == before
    db.expire_all()
    assert db.get(Organization, existing.id).name_ko == "원래기업"


def test_several_errors_are_reported_together(client, db, operator):
    response = client.post(
        "/api/v1/organizations",
        json=valid_body(business_no="1", ksic="ZZ", revenue_krw=-1, founded_year=1500),
        headers=bearer(operator["token"]),
    )
    assert set(response.json()["details"]) >= {"business_no", "ksic", "revenue_krw", "founded_year"}


def test_form_shows_each_error_beside_its_field_and_keeps_the_input(client, db, operator):
    cookie, csrf = session_cookie(db, operator["user"])
    db.commit()
    client.cookies.set("ss_session", cookie)
    before = count_orgs(db)
    form = {k: str(v) for k, v in valid_body(ksic="C99", revenue_krw="-3").items()}
    response = client.post("/orgs", data={**form, "csrf_token": csrf})
    assert response.status_code == 422
    html = response.text
    assert 'id="f-ksic-error"' in html and "알 수 없는 표준산업분류 코드" in html
    assert 'id="f-revenue_krw-error"' in html and "매출액은 음수일 수 없습니다" in html
    assert 'id="f-name_ko-error"' not in html
    assert 'value="한결정밀(주)"' in html
    assert count_orgs(db) == before


def test_non_numeric_revenue_in_a_form_gets_a_field_error(client, db, operator):
    cookie, csrf = session_cookie(db, operator["user"])
    db.commit()
    client.cookies.set("ss_session", cookie)
    form = {k: str(v) for k, v in valid_body(revenue_krw="십억").items()}
    response = client.post("/orgs", data={**form, "csrf_token": csrf})
    assert response.status_code == 422
    assert "정수로 입력해 주십시오" in response.text


def test_business_number_and_type_cannot_be_changed_by_members(client, db):
    org = make_org(db)
    user = make_user(db, roles=[(org, "sme")])
    db.commit()
    token = api_token(db, user)
    response = client.patch(
        f"/api/v1/organizations/{org.id}", json={"kind": "sponsor"}, headers=bearer(token)
    )
    assert response.status_code == 422
    assert "관리자만" in response.json()["details"]["kind"]
    response = client.patch(
        f"/api/v1/organizations/{org.id}", json={"employees": 55}, headers=bearer(token)
    )
    assert response.status_code == 200 and response.json()["employees"] == 55


def test_supplier_tiers_are_the_shortest_path_per_sponsor(db):
    sponsor = make_org(db, kind="sponsor", size_class="large")
    other_sponsor = make_org(db, kind="sponsor", size_class="large")
    a, b, c, d = (make_org(db) for _ in range(4))
    link(db, sponsor, a)
    link(db, a, b)
    link(db, b, c)
    link(db, c, a)  # a cycle must not run away
    link(db, other_sponsor, c)
    link(db, c, d)
    db.commit()
    assert graph.supplier_tiers(db, sponsor.id) == {a.id: 1, b.id: 2, c.id: 3, d.id: 4}
    assert graph.supplier_tiers(db, other_sponsor.id) == {c.id: 1, d.id: 2, a.id: 2, b.id: 3}
    assert [(o.id, t) for o, t in graph.tiers_of(db, d.id)] == [
        (other_sponsor.id, 2),
        (sponsor.id, 4),
    ]
    link(db, sponsor, c)  # a shortcut makes c a direct supplier
    db.commit()
    assert graph.supplier_tiers(db, sponsor.id)[c.id] == 1
    assert graph.supplier_tiers(db, sponsor.id)[d.id] == 2


def test_a_link_counts_only_once_both_sides_confirm(client, db):
    sponsor = make_org(db, kind="sponsor", size_class="large", name_ko="후원")
    stranger = make_org(db, name_ko="낯선기업")
    sponsor_user = make_user(db, roles=[(sponsor, "sponsor")])
    stranger_user = make_user(db, roles=[(stranger, "sme")])
    db.commit()
    sponsor_token, stranger_token = api_token(db, sponsor_user), api_token(db, stranger_user)
    declared = client.post(
        f"/api/v1/organizations/{sponsor.id}/suppliers",
        json={"supplier_business_no": stranger.business_no},
        headers=bearer(sponsor_token),
    )
    assert declared.status_code == 201 and declared.json()["active"] is False
    assert set(declared.json()) == {"link_id", "active"}  # nothing about the other company
    # Declaring a link does not let the sponsor read the company.
    hidden = client.get(f"/api/v1/organizations/{stranger.id}", headers=bearer(sponsor_token))
    assert hidden.status_code == 404
    assert graph.supplier_tiers(db, sponsor.id) == {}
    # The supplier sees the request and confirms it.
    own = client.get(f"/api/v1/organizations/{stranger.id}", headers=bearer(stranger_token)).json()
    assert own["buyers"] == [
        {
            "link_id": declared.json()["link_id"],
            "organization_id": sponsor.id,
            "name": "후원",
            "status": "awaiting_us",
        }
    ]
    assert own["supplier_tiers"] == []
    confirmed = client.post(
        f"/api/v1/organizations/{stranger.id}/links/{declared.json()['link_id']}/confirm",
        headers=bearer(stranger_token),
    )
    assert confirmed.json()["active"] is True
    detail = client.get(f"/api/v1/organizations/{stranger.id}", headers=bearer(sponsor_token))
    assert detail.status_code == 200
    assert detail.json()["supplier_tiers"] == [
        {"sponsor_id": sponsor.id, "sponsor_name": "후원", "tier": 1}
    ]
    self_link = client.post(
        f"/api/v1/organizations/{sponsor.id}/suppliers",
        json={"supplier_business_no": sponsor.business_no},
        headers=bearer(sponsor_token),
    )
    assert self_link.status_code == 422


def test_a_supplier_cannot_join_a_chain_uninvited(client, db):
    sponsor = make_org(db, kind="sponsor", size_class="large")
    intruder = make_org(db)
    user = make_user(db, roles=[(intruder, "sme")])
    db.commit()
    token = api_token(db, user)
    declared = client.post(
        f"/api/v1/organizations/{intruder.id}/buyers",
        json={"buyer_business_no": sponsor.business_no},
        headers=bearer(token),
    )
    assert declared.status_code == 201 and declared.json()["active"] is False
    assert graph.supplier_tiers(db, sponsor.id) == {}
    # It may withdraw its own declaration.
    link_id = declared.json()["link_id"]
    removed = client.delete(
        f"/api/v1/organizations/{intruder.id}/links/{link_id}", headers=bearer(token)
    )
    assert removed.status_code == 204


def test_operators_register_links_for_both_sides(client, db, operator):
    buyer, supplier = make_org(db), make_org(db)
    db.commit()
    declared = client.post(
        f"/api/v1/organizations/{buyer.id}/suppliers",
        json={"supplier_business_no": supplier.business_no},
        headers=bearer(operator["token"]),
    )
    assert declared.json()["active"] is True
    assert graph.supplier_tiers(db, buyer.id) == {supplier.id: 1}


def test_competitors_do_not_see_each_other_through_a_shared_supplier(client, db):
    ours = make_org(db, kind="sponsor", size_class="large", name_ko="우리후원사")
    rival = make_org(db, kind="sponsor", size_class="large", name_ko="경쟁후원사")
    shared = make_org(db, name_ko="공동협력사")
    link(db, ours, shared)
    link(db, rival, shared)
    user = make_user(db, roles=[(ours, "sponsor")])
    db.commit()
    response = client.get(f"/api/v1/organizations/{shared.id}", headers=bearer(api_token(db, user)))
    assert response.status_code == 200
    assert "경쟁후원사" not in response.text and str(rival.business_no) not in response.text
    assert [b["name"] for b in response.json()["buyers"]] == ["우리후원사"]


def test_lists_are_scoped_to_what_the_actor_may_read(client, db):
    sponsor = make_org(db, kind="sponsor", size_class="large")
    tier1, tier2, stranger = make_org(db), make_org(db), make_org(db)
    link(db, sponsor, tier1)
    link(db, tier1, tier2)
    sponsor_user = make_user(db, roles=[(sponsor, "sponsor")])
    sme_user = make_user(db, roles=[(tier2, "sme")])
    db.commit()
    seen = client.get("/api/v1/organizations", headers=bearer(api_token(db, sponsor_user))).json()
    assert {o["id"] for o in seen["items"]} == {sponsor.id, tier1.id, tier2.id}
    seen = client.get("/api/v1/organizations", headers=bearer(api_token(db, sme_user))).json()
    assert [o["id"] for o in seen["items"]] == [tier2.id]
    assert stranger.id not in {o["id"] for o in seen["items"]}


def test_search_and_filters(client, db, operator):
    make_org(db, name_ko="부산정밀", region_code="26", ksic_code="25")
    target = make_org(
        db, name_ko="경기오토텍", region_code="41", ksic_code="303", revenue_krw=12_000_000_000
    )
    make_org(db, name_ko="경기식품", region_code="41", ksic_code="107", size_class="micro")
    db.commit()
    headers = bearer(operator["token"])

    def ids(**params):
        response = client.get("/api/v1/organizations", params=params, headers=headers)
        assert response.status_code == 200
        return {o["id"] for o in response.json()["items"]}

    assert ids(q="오토텍") == {target.id}
    assert ids(q=f"{target.business_no[:3]}-{target.business_no[3:5]}") >= {target.id}
    assert target.id in ids(region="41", ksic="30", size="sme", band="10b-50b")
    assert target.id not in ids(band="5b-10b")
    assert ids(region="26", ksic="30") == set()


def test_pagination(client, db, operator):
    for i in range(45):
        make_org(db, name_ko=f"페이지기업{i:02d}")
    db.commit()
    headers = bearer(operator["token"])
    page3 = client.get(
        "/api/v1/organizations", params={"q": "페이지기업", "page": 3}, headers=headers
    ).json()
    assert page3["total"] == 45 and page3["pages"] == 3 and len(page3["items"]) == 5
    cookie, _csrf = session_cookie(db, operator["user"])
    db.commit()
    client.cookies.set("ss_session", cookie)
    html = client.get("/orgs", params={"q": "페이지기업", "page": 2})
    assert html.status_code == 200
    assert "2/3쪽" in html.text
    assert html.text.count("페이지기업") == 20 + 1  # 20 rows, plus the search box's value
    assert "페이지기업20" in html.text and "페이지기업19" not in html.text


def test_revenue_bands_are_editable_and_apply_at_once(client, db):
    platform = make_org(db, kind="other")
    admin = make_user(db, roles=[(platform, "admin")])
    org = make_org(db, revenue_krw=7_000_000_000)
    db.commit()
    token = api_token(db, admin, scopes=("read", "write", "admin"))
    bands = [
        {
            "code": "s",
            "label_ko": "50억 미만",
            "label_en": "Under ₩5bn",
            "min_krw": 0,
            "max_krw": 5_000_000_000,
        },
        {
            "code": "l",
            "label_ko": "50억 이상",
            "label_en": "₩5bn+",
            "min_krw": 5_000_000_000,
            "max_krw": None,
        },
    ]
    assert client.put("/api/v1/revenue-bands", json=bands, headers=bearer(token)).status_code == 200
    detail = client.get(f"/api/v1/organizations/{org.id}", headers=bearer(token)).json()
    assert detail["revenue_band"]["code"] == "l"
    gap = [dict(bands[0], max_krw=4_000_000_000), bands[1]]
    response = client.put("/api/v1/revenue-bands", json=gap, headers=bearer(token))
    assert response.status_code == 422
    assert "빈틈없이" in response.json()["details"]["bands"]
    assert len(client.get("/api/v1/revenue-bands", headers=bearer(token)).json()) == 2


def test_members_see_all_their_links_and_outsiders_only_readable_ones(client, db):
    sponsor = make_org(db, kind="sponsor", size_class="large", name_ko="구매대기업")
    me = make_org(db, name_ko="우리회사")
    my_supplier = make_org(db, name_ko="하위협력사")
    link(db, sponsor, me)
    link(db, me, my_supplier)
    user = make_user(db, roles=[(me, "sme")])
    db.commit()
    token = api_token(db, user)
    detail = client.get(f"/api/v1/organizations/{me.id}", headers=bearer(token)).json()
    assert [b["name"] for b in detail["buyers"]] == ["구매대기업"]
    assert [s["name"] for s in detail["suppliers"]] == ["하위협력사"]  # its own, even unreadable
    stranger = make_org(db)
    stranger_user = make_user(db, roles=[(stranger, "sme")])
    sponsor_user = make_user(db, roles=[(sponsor, "sponsor")])
    db.commit()
    seen = client.get(
        f"/api/v1/organizations/{me.id}", headers=bearer(api_token(db, sponsor_user))
    ).json()
    assert [s["name"] for s in seen["suppliers"]] == ["하위협력사"]  # in the sponsor's chain
    assert (
        client.get(
            f"/api/v1/organizations/{me.id}", headers=bearer(api_token(db, stranger_user))
        ).status_code
        == 404
    )


def test_list_export_is_scoped_filtered_neutralised_and_logged(client, db):
    import io

    from openpyxl import load_workbook

    from sangsaeng.core.audit.models import AuditEvent

    sponsor = make_org(db, kind="sponsor", size_class="large", name_ko="후원사")
    mine = make_org(db, name_ko="=CMD()정밀", region_code="41")
    make_org(db, name_ko="남의회사")  # not in the sponsor's chain
    link(db, sponsor, mine)
    user = make_user(db, roles=[(sponsor, "sponsor")])
    cookie, _csrf = session_cookie(db, user)
    db.commit()
    client.cookies.set("ss_session", cookie)
    csv_file = client.get("/orgs/export.csv", params={"region": "41"})
    assert csv_file.status_code == 200
    assert csv_file.content.startswith(b"\xef\xbb\xbf")
    lines = csv_file.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith(
        "사업자등록번호,기업명,업종코드,지역,기업규모,종업원수,매출액,설립연도"
    )
    assert len(lines) == 3  # header, the sponsor itself (경기), its supplier
    assert any("'=CMD()정밀" in line for line in lines)
    assert "남의회사" not in csv_file.text
    xlsx = client.get("/orgs/export.xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert {r[1] for r in rows[1:]} == {"후원사", "'=CMD()정밀"}
    db.expire_all()
    logged = db.scalars(select(AuditEvent).where(AuditEvent.action == "org.export")).all()
    assert [e.details["rows"] for e in logged] == [2, 2]


def test_admin_edits_revenue_bands_in_a_form(client, db):
    platform = make_org(db, kind="other")
    admin = make_user(db, roles=[(platform, "admin")])
    cookie, csrf = session_cookie(db, admin)
    db.commit()
    client.cookies.set("ss_session", cookie)
    page = client.get("/admin/revenue-bands")
    assert page.status_code == 200 and 'value="10억 미만"' in page.text
    gap = {
        "code": ["a", "b"],
        "label_ko": ["가", "나"],
        "label_en": ["A", "B"],
        "min_krw": ["0", "2000000000"],
        "max_krw": ["1000000000", ""],
        "csrf_token": csrf,
    }
    refused = client.post("/admin/revenue-bands", data=gap)
    assert refused.status_code == 422 and "빈틈없이" in refused.text
    assert (
        len(client.get("/api/v1/revenue-bands", headers=bearer(api_token(db, admin))).json()) == 7
    )
    good = dict(gap, min_krw=["0", "1,000,000,000"], code=["a", "b"], max_krw=["1000000000", ""])
    assert client.post("/admin/revenue-bands", data=good).status_code == 303
    bands = client.get("/api/v1/revenue-bands", headers=bearer(api_token(db, admin))).json()
    assert [(b["code"], b["max_krw"]) for b in bands] == [("a", 1_000_000_000), ("b", None)]
