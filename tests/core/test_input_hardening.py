"""Hostile or odd input: clear errors, never a 500, never a second copy of the same company."""

from __future__ import annotations

import logging
import re

import pytest

from sangsaeng.core.ids import normalize_business_no
from sangsaeng.core.money import format_krw
from sangsaeng.core.web.logs import RedactSecretsFilter
from tests.factories import (
    api_token,
    bearer,
    business_no,
    csrf_from,
    login,
    make_org,
    make_user,
    session_cookie,
)


@pytest.fixture
def operator_token(db):
    office = make_org(db, kind="operator", ksic_code="84")
    user = make_user(db, roles=[(office, "operator")])
    db.commit()
    return api_token(db, user)


def test_full_width_digits_are_the_same_number():
    assert normalize_business_no("１２４－８１－００９９８".replace("－", "-")) == "1248100998"
    assert normalize_business_no("12481009９8") == "1248100998"
    assert normalize_business_no("123456789²") is None  # a superscript is not a digit here


def test_full_width_duplicate_is_refused(client, db, operator_token):
    org = make_org(db)
    db.commit()
    wide = "".join(chr(ord(c) + 0xFEE0) for c in org.business_no)
    response = client.post(
        "/api/v1/organizations",
        json={
            "business_no": wide,
            "name_ko": "복제",
            "ksic": "29",
            "region": "41",
            "size_class": "sme",
        },
        headers=bearer(operator_token),
    )
    assert response.status_code == 422
    assert "이미 등록된" in response.json()["details"]["business_no"]


@pytest.mark.parametrize("page", ["99999999999999999999", "0", "-3"])
def test_absurd_page_numbers_do_not_fail(client, db, operator_token, page):
    response = client.get(
        "/api/v1/organizations", params={"page": page}, headers=bearer(operator_token)
    )
    assert response.status_code in (200, 422)


def test_page_far_past_the_end_is_an_empty_page(client, db, operator_token):
    response = client.get(
        "/api/v1/organizations", params={"page": 10**6}, headers=bearer(operator_token)
    )
    assert response.status_code == 200 and response.json()["items"] == []


def test_nul_characters_are_refused_without_a_server_error(client, db, operator_token):
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "email": "x\x00@example.kr",
            "password": "whatever123",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code in (400, 422)
    created = client.post(
        "/api/v1/organizations",
        json={
            "business_no": business_no(),
            "name_ko": "널\x00문자",
            "ksic": "29",
            "region": "41",
            "size_class": "sme",
        },
        headers=bearer(operator_token),
    )
    assert created.status_code in (201, 422)  # SQLite stores NUL; PostgreSQL refuses it
    assert created.status_code != 500


def test_search_wildcards_are_literal(client, db, operator_token):
    make_org(db, name_ko="백퍼센트%정밀")
    make_org(db, name_ko="보통정밀")
    db.commit()
    found = client.get(
        "/api/v1/organizations", params={"q": "%"}, headers=bearer(operator_token)
    ).json()
    assert [o["name_ko"] for o in found["items"]] == ["백퍼센트%정밀"]


def test_ksic_filter_accepts_the_usual_forms(client, db, operator_token):
    target = make_org(db, ksic_code="291")
    make_org(db, ksic_code="25")
    db.commit()
    headers = bearer(operator_token)
    for code in ("C29", "29", "291"):
        items = client.get("/api/v1/organizations", params={"ksic": code}, headers=headers)
        assert [o["id"] for o in items.json()["items"]] == [target.id], code
    bad = client.get("/api/v1/organizations", params={"ksic": "C99"}, headers=headers)
    assert bad.status_code == 422 and "ksic" in bad.json()["details"]


def test_required_fields_cannot_be_blanked_on_edit(client, db):
    org = make_org(db, name_ko="원래이름")
    user = make_user(db, roles=[(org, "sme")])
    db.commit()
    token = api_token(db, user)
    response = client.patch(
        f"/api/v1/organizations/{org.id}", json={"name_ko": ""}, headers=bearer(token)
    )
    assert response.status_code == 422 and "name_ko" in response.json()["details"]
    cookie, csrf = session_cookie(db, user)
    db.commit()
    client.cookies.set("ss_session", cookie)
    page = client.post(
        f"/orgs/{org.id}/edit",
        data={
            "name_ko": "",
            "ksic": "291",
            "region": "41",
            "size_class": "sme",
            "csrf_token": csrf,
        },
    )
    assert page.status_code == 422 and 'id="f-name_ko-error"' in page.text


def test_operators_create_smes_but_not_sponsors(client, db, operator_token):
    response = client.post(
        "/api/v1/organizations",
        json={
            "business_no": business_no(),
            "name_ko": "자칭대기업",
            "ksic": "29",
            "region": "41",
            "size_class": "large",
            "kind": "sponsor",
        },
        headers=bearer(operator_token),
    )
    assert response.status_code == 422 and "kind" in response.json()["details"]


def test_a_token_cannot_mint_tokens(client, db):
    user = make_user(db)
    db.commit()
    token = api_token(db, user)
    response = client.post("/api/v1/tokens", json={"name": "child"}, headers=bearer(token))
    assert response.status_code == 403
    assert "로그인한 상태에서만" in response.json()["message"]


def test_every_form_on_every_page_carries_the_csrf_token(client, db):
    org = make_org(db)
    admin = make_user(db, roles=[(org, "admin"), (org, "sme")])
    db.commit()
    login(client, admin.email)
    for path in (
        "/",
        "/orgs",
        f"/orgs/{org.id}",
        f"/orgs/{org.id}/edit",
        "/orgs/new",
        "/me",
        "/me/tokens",
        "/admin/users",
        "/admin/audit",
    ):
        html = client.get(path).text
        forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S)
        assert forms, path
        for form in forms:
            match = re.search(r'name="csrf_token" value="([^"]*)"', form)
            assert match and match.group(1), (path, form[:200])


def test_reset_tokens_are_redacted_from_the_access_log():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1", "GET", "/reset/SeCrEt-token_123", "1.1", 200),
        None,
    )
    RedactSecretsFilter().filter(record)
    assert "SeCrEt" not in record.getMessage()
    assert "/reset/[redacted]" in record.getMessage()


def test_krw_keeps_two_decimals_of_eok():
    assert format_krw(104_000_000) == "1.04억원"  # Korean is the default locale
    assert format_krw(1_250_000_000) == "12.5억원"
