"""Accounts: password policy and hashing, server-side sessions and their timeouts, login
throttling, password change, admin reset links and API tokens — mostly through HTTP."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from sangsaeng.core.accounts import service
from sangsaeng.core.accounts.passwords import verify_password
from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.i18n import Msg
from sangsaeng.core.models import (
    ApiToken,
    LoginAttempt,
    Organization,
    PasswordReset,
    User,
    UserSession,
    utcnow,
)
from sangsaeng.core.policy import SYSTEM_ACTOR
from sangsaeng.core.web.deps import SESSION_COOKIE
from sangsaeng.db import make_session_factory
from tests.factories import PASSWORD, api_token, bearer, csrf_from, login, make_org, make_user

NEW_PASSWORD = "purple monkey dishwasher"  # long, lowercase only: no composition rules
WRONG_PASSWORD = "not the right password"

MSG_CHECK_INPUT_KO = "입력 내용을 확인해 주십시오."
MSG_MIN_LENGTH_KO = "8자 이상 입력해 주십시오."
MSG_COMMON_KO = "너무 흔하거나 추측하기 쉬운 비밀번호입니다. 다른 비밀번호를 사용해 주십시오."
MSG_BAD_CREDENTIALS_KO = "이메일 또는 비밀번호가 올바르지 않습니다."
MSG_THROTTLED_KO = "로그인 실패 횟수가 너무 많습니다"
MSG_RESET_INVALID_KO = "유효하지 않거나 만료된 비밀번호 재설정 링크입니다."


# ---------------------------------------------------------------- helpers


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def set_cookie_header(response, name: str) -> str:
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, response.headers.get_list("set-cookie")
    return headers[0]


def cookie_parts(header: str) -> tuple[str, dict[str, str]]:
    """The value and the lower-cased attributes of one Set-Cookie header."""
    first, *rest = (p.strip() for p in header.split(";"))
    value = first.split("=", 1)[1]
    attrs = {}
    for part in rest:
        key, _, val = part.partition("=")
        attrs[key.strip().lower()] = val.strip().lower()
    return value, attrs


def post_login(client: TestClient, email: str, password: str = PASSWORD, csrf: str | None = None):
    """Submit the login form (fetching a fresh anonymous CSRF token unless one is given)."""
    if csrf is None:
        csrf = csrf_from(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf})


def fresh(db):
    """Forget cached ORM state so the next read sees what the app committed."""
    db.rollback()
    db.expire_all()
    return db


def session_count(db, user_id: int) -> int:
    fresh(db)
    return db.scalar(select(func.count()).where(UserSession.user_id == user_id))


def is_login_redirect(response) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.fixture
def client_at(app, db):
    """Clients whose requests come from a given IP address."""
    clients: list[TestClient] = []

    def factory(ip: str) -> TestClient:
        c = TestClient(app, follow_redirects=False, client=(ip, 50000))
        clients.append(c)
        return c

    yield factory
    for c in clients:
        c.close()


def admin_with_org(db) -> tuple[User, Organization]:
    org = make_org(db, kind="operator")
    return make_user(db, roles=[(org, "admin")]), org


# ---------------------------------------------------------------- password policy


@pytest.mark.parametrize("password", ["", "abc", "kq7vz3w"])
def test_password_shorter_than_8_characters_is_rejected(password):
    with pytest.raises(InvalidInput) as exc:
        service.check_password_strength(password)
    assert exc.value.fields == {"password": Msg("Use at least {n} characters.", n=8)}


@pytest.mark.parametrize("password", ["password1", "qwerty123", "QWERTY123", "iloveyou"])
def test_common_password_is_rejected(password):
    with pytest.raises(InvalidInput) as exc:
        service.check_password_strength(password)
    assert exc.value.fields == {
        "password": Msg("This password is too common or easy to guess. Choose another.")
    }


def test_password_equal_to_the_email_is_rejected():
    with pytest.raises(InvalidInput):
        service.check_password_strength("Kim.Minsu@example.kr", email="kim.minsu@example.kr")


@pytest.mark.parametrize(
    "password", ["kq7vz3wp", NEW_PASSWORD, "wintergardenlamp", "블루베리 치즈케이크"]
)
def test_no_composition_rules(password):
    service.check_password_strength(password)  # no digits/symbols/uppercase required


def test_api_password_errors_are_korean_by_default(make_client, db):
    admin, _org = admin_with_org(db)
    token = api_token(db, admin, scopes=("read", "write", "admin"))
    api = make_client()

    short = api.post(
        "/api/v1/users",
        json={"email": "new@example.kr", "name": "신규", "password": "short"},
        headers=bearer(token),
    )
    assert short.status_code == 422
    assert short.json() == {
        "code": "invalid_input",
        "message": MSG_CHECK_INPUT_KO,
        "details": {"password": MSG_MIN_LENGTH_KO},
    }
    common = api.post(
        "/api/v1/users",
        json={"email": "new@example.kr", "name": "신규", "password": "qwerty123"},
        headers=bearer(token),
    )
    assert common.status_code == 422
    assert common.json()["details"] == {"password": MSG_COMMON_KO}
    assert fresh(db).scalar(select(User.id).where(User.email == "new@example.kr")) is None


@pytest.mark.parametrize("accept", ["en", "en-US,en;q=0.9,ko;q=0.5"])
def test_api_password_errors_in_english_with_accept_language(make_client, db, accept):
    admin, _org = admin_with_org(db)
    token = api_token(db, admin, scopes=("read", "write", "admin"))
    response = make_client().post(
        "/api/v1/users",
        json={"email": "new@example.kr", "name": "New", "password": "password1"},
        headers={**bearer(token), "Accept-Language": accept},
    )
    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid_input",
        "message": "Please check your input.",
        "details": {"password": "This password is too common or easy to guess. Choose another."},
    }


def test_passphrase_accepted_and_stored_as_argon2id(make_client, db):
    admin, _org = admin_with_org(db)
    token = api_token(db, admin, scopes=("read", "write", "admin"))
    response = make_client().post(
        "/api/v1/users",
        json={"email": "Passphrase@Example.kr", "name": "박서연", "password": NEW_PASSWORD},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
    assert response.json()["email"] == "passphrase@example.kr"

    stored = fresh(db).scalar(
        select(User.password_hash).where(User.email == "passphrase@example.kr")
    )
    assert stored.startswith("$argon2id$")
    params = dict(p.split("=") for p in stored.split("$")[3].split(","))
    assert int(params["m"]) >= 19456
    assert int(params["t"]) >= 2
    assert NEW_PASSWORD not in stored
    assert verify_password(stored, NEW_PASSWORD)


# ---------------------------------------------------------------- sessions


def test_each_login_opens_a_new_server_side_session(make_client, db):
    user = make_user(db)
    db.commit()
    first = make_client()
    csrf = login(first, user.email)
    cookie_1 = first.cookies.get(SESSION_COOKIE)

    # Signing in again on the same browser (with a live session) issues a different session.
    again = post_login(first, user.email, csrf=csrf)
    assert again.status_code == 303
    cookie_2, _attrs = cookie_parts(set_cookie_header(again, SESSION_COOKIE))
    assert cookie_2 != cookie_1

    # The table stores only hashes of the cookie values.
    fresh(db)
    ids = set(db.scalars(select(UserSession.id).where(UserSession.user_id == user.id)))
    assert ids == {sha256(cookie_1), sha256(cookie_2)}

    # The old session was not logged out, so it still works — until it is.
    old = make_client()
    old.cookies.set(SESSION_COOKIE, cookie_1)
    assert old.get("/me").status_code == 200
    assert first.get("/me").status_code == 200
    logout = first.post("/logout", data={"csrf_token": csrf_from(first.get("/me").text)})
    assert logout.status_code == 303
    assert is_login_redirect(first.get("/me"))
    assert old.get("/me").status_code == 200
    assert session_count(db, user.id) == 1


def test_login_ignores_a_planted_session_cookie(make_client, db):
    user = make_user(db)
    db.commit()
    victim = make_client()
    csrf = csrf_from(victim.get("/login").text)
    victim.cookies.set(SESSION_COOKIE, "value-chosen-by-an-attacker")
    response = post_login(victim, user.email, csrf=csrf)
    assert response.status_code == 303
    value, _attrs = cookie_parts(set_cookie_header(response, SESSION_COOKIE))
    assert value != "value-chosen-by-an-attacker"
    assert len(value) >= 32


def test_session_cookie_flags_on_http(client, db, settings):
    user = make_user(db)
    db.commit()
    response = post_login(client, user.email)
    assert response.status_code == 303
    value, attrs = cookie_parts(set_cookie_header(response, SESSION_COOKIE))
    assert value == client.cookies.get(SESSION_COOKIE)
    assert "httponly" in attrs
    assert attrs["samesite"] == "lax"
    assert "secure" not in attrs
    assert attrs["path"] == "/"
    assert int(attrs["max-age"]) == settings.session_absolute_hours * 3600
    assert "strict-transport-security" not in response.headers
    assert "strict-transport-security" not in client.get("/me").headers


def test_session_cookie_is_secure_and_hsts_sent_on_https(make_client, db):
    user = make_user(db)
    db.commit()
    client = make_client("https://testserver")
    page = client.get("/login")
    assert "secure" in cookie_parts(set_cookie_header(page, "ss_csrf"))[1]
    response = post_login(client, user.email, csrf=csrf_from(page.text))
    assert response.status_code == 303
    _value, attrs = cookie_parts(set_cookie_header(response, SESSION_COOKIE))
    assert {"httponly", "secure"} <= attrs.keys()
    assert attrs["samesite"] == "lax"
    assert "secure" in cookie_parts(set_cookie_header(response, "ss_lang"))[1]
    hsts = response.headers["strict-transport-security"]
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 15552000  # at least 180 days
    me = client.get("/me")
    assert me.status_code == 200
    assert "strict-transport-security" in me.headers


def test_logout_ends_the_session_on_the_server(make_client, db):
    user = make_user(db)
    db.commit()
    browser = make_client()
    csrf = login(browser, user.email)
    raw = browser.cookies.get(SESSION_COOKIE)

    response = browser.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert fresh(db).get(UserSession, sha256(raw)) is None

    # Someone who kept a copy of the cookie cannot use it any more.
    replay = make_client()
    replay.cookies.set(SESSION_COOKIE, raw)
    page = replay.get("/")
    assert is_login_redirect(page)
    api = replay.get("/api/v1/me")
    assert api.status_code == 401
    assert api.json()["code"] == "not_authenticated"


def test_logout_needs_the_csrf_token(client, db):
    user = make_user(db)
    db.commit()
    login(client, user.email)
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/me").status_code == 200
    assert session_count(db, user.id) == 1


def _set_session_times(db, user_id: int, **values) -> None:
    fresh(db)
    db.execute(update(UserSession).where(UserSession.user_id == user_id).values(**values))
    db.commit()


def test_idle_timeout(client, db, settings):
    user = make_user(db)
    db.commit()
    login(client, user.email)
    idle = timedelta(minutes=settings.session_idle_minutes)

    _set_session_times(db, user.id, last_seen_at=utcnow() - idle + timedelta(minutes=2))
    assert client.get("/").status_code == 200

    _set_session_times(db, user.id, last_seen_at=utcnow() - idle - timedelta(minutes=1))
    response = client.get("/orgs?q=x")
    assert is_login_redirect(response)
    assert response.headers["location"] == "/login?next=/orgs%3Fq%3Dx"
    assert is_login_redirect(client.get("/"))  # stays refused
    assert client.get(response.headers["location"]).status_code == 200  # the login form
    # The dead row stays refused until the hourly purge deletes it (tests/test_jobs.py).
    assert session_count(db, user.id) == 1


def test_activity_keeps_the_session_alive(client, db, settings):
    user = make_user(db)
    db.commit()
    login(client, user.email)
    idle = timedelta(minutes=settings.session_idle_minutes)
    _set_session_times(db, user.id, last_seen_at=utcnow() - idle + timedelta(minutes=2))
    assert client.get("/").status_code == 200
    seen = fresh(db).scalar(select(UserSession.last_seen_at).where(UserSession.user_id == user.id))
    assert utcnow() - seen < timedelta(minutes=1)


def test_absolute_timeout(client, db, settings):
    user = make_user(db)
    db.commit()
    login(client, user.email)
    absolute = timedelta(hours=settings.session_absolute_hours)

    now = utcnow()
    _set_session_times(
        db, user.id, created_at=now - absolute + timedelta(minutes=5), last_seen_at=now
    )
    assert client.get("/").status_code == 200

    now = utcnow()
    _set_session_times(
        db, user.id, created_at=now - absolute - timedelta(minutes=1), last_seen_at=now
    )
    assert is_login_redirect(client.get("/"))
    assert client.get("/api/v1/me").status_code == 401


# ---------------------------------------------------------------- throttling


def _add_failures(db, n: int, *, email=None, ip=None, ago=timedelta(minutes=1)) -> None:
    at = utcnow() - ago
    db.add_all(
        LoginAttempt(
            email=email or f"nobody{i}@example.kr",
            ip=ip or f"198.51.100.{i + 1}",
            succeeded=False,
            at=at,
        )
        for i in range(n)
    )
    db.commit()


def test_ten_failures_for_one_account_lock_it(client_at, db, caplog):
    user = make_user(db)
    db.commit()
    _add_failures(db, 9, email=user.email)  # from nine different addresses

    # Nine recent failures: the right password still works.
    assert post_login(client_at("203.0.113.1"), user.email).status_code == 303

    with caplog.at_level(logging.INFO, logger="sangsaeng.auth"):
        failed = post_login(client_at("203.0.113.2"), user.email, WRONG_PASSWORD)
    assert failed.status_code == 400
    assert MSG_BAD_CREDENTIALS_KO in failed.text

    # The eleventh attempt is refused even with the right password, from yet another address.
    locked = post_login(client_at("203.0.113.3"), user.email.upper())
    assert locked.status_code == 429
    assert MSG_THROTTLED_KO in locked.text
    assert "5분" in locked.text
    assert SESSION_COOKIE not in locked.headers.get("set-cookie", "")
    assert session_count(db, user.id) == 1  # only the one opened before the lock

    failures = [
        r
        for r in caplog.records
        if r.name == "sangsaeng.auth" and r.levelno >= logging.WARNING and "failed" in r.message
    ]
    assert len(failures) == 1
    assert user.email in failures[0].message
    assert "203.0.113.2" in failures[0].message
    assert WRONG_PASSWORD not in caplog.text


def test_ten_failures_from_one_address_lock_it(client_at, db):
    user = make_user(db)
    db.commit()
    _add_failures(db, 9, ip="203.0.113.50")  # nine different unknown accounts
    first = post_login(client_at("203.0.113.50"), "someone-else@example.kr", WRONG_PASSWORD)
    assert first.status_code == 400

    blocked = post_login(client_at("203.0.113.50"), user.email)
    assert blocked.status_code == 429
    assert MSG_THROTTLED_KO in blocked.text
    # The account itself is not locked: from elsewhere it signs in.
    assert post_login(client_at("203.0.113.51"), user.email).status_code == 303


def test_failures_older_than_the_window_do_not_count(client_at, db, settings):
    user = make_user(db)
    db.commit()
    _add_failures(db, 10, email=user.email, ip="203.0.113.60")
    assert post_login(client_at("203.0.113.60"), user.email).status_code == 429

    window = timedelta(minutes=settings.login_window_minutes)
    fresh(db)
    db.execute(update(LoginAttempt).values(at=utcnow() - window - timedelta(seconds=30)))
    db.commit()
    assert post_login(client_at("203.0.113.60"), user.email).status_code == 303


def test_login_throttle_service_counts_per_account_and_per_ip(db):
    user = make_user(db)
    policy = service.ThrottlePolicy(max_failures=3, window=timedelta(minutes=5))
    now = utcnow()
    _add_failures(db, 3, email=user.email)
    with pytest.raises(service.TooManyRequests) as exc:
        service.login(
            db,
            email=user.email,
            password=PASSWORD,
            ip="192.0.2.1",
            user_agent=None,
            throttle=policy,
            attempts=make_session_factory(db.get_bind()),
            now=now,
        )
    assert exc.value.message == Msg(
        "Too many failed sign-in attempts. Please try again in {minutes} minutes.", minutes=5
    )
    # Evaluated at a later time the failures fall out of the window.
    raw, record, _user = service.login(
        db,
        email=user.email,
        password=PASSWORD,
        ip="192.0.2.1",
        user_agent="pytest",
        throttle=policy,
        attempts=make_session_factory(db.get_bind()),
        now=now + timedelta(minutes=6),
    )
    assert record.id == sha256(raw) and record.user_id == user.id


# ---------------------------------------------------------------- password change


def test_wrong_current_password_is_shown_beside_the_field(client, db):
    user = make_user(db)
    db.commit()
    csrf = login(client, user.email)
    before = fresh(db).scalar(select(User.password_hash).where(User.id == user.id))
    response = client.post(
        "/me/password",
        data={"current_password": WRONG_PASSWORD, "new_password": NEW_PASSWORD, "csrf_token": csrf},
    )
    assert response.status_code == 422
    error = "현재 비밀번호가 올바르지 않습니다."
    assert f'<p class="field-error" id="f-current_password-error">{error}</p>' in response.text
    assert 'id="f-current_password" name="current_password"' in response.text
    assert fresh(db).scalar(select(User.password_hash).where(User.id == user.id)) == before


def test_weak_new_password_is_shown_beside_the_field(client, db):
    user = make_user(db)
    db.commit()
    csrf = login(client, user.email)
    response = client.post(
        "/me/password",
        data={"current_password": PASSWORD, "new_password": "qwerty123", "csrf_token": csrf},
    )
    assert response.status_code == 422
    assert f'<p class="field-error" id="f-new_password-error">{MSG_COMMON_KO}</p>' in response.text


def test_password_change_ends_other_sessions_only(make_client, db):
    user = make_user(db)
    db.commit()
    here, elsewhere = make_client(), make_client()
    csrf = login(here, user.email)
    login(elsewhere, user.email)

    response = here.post(
        "/me/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "csrf_token": csrf},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/me?msg=password_changed"
    page = here.get(response.headers["location"])
    assert page.status_code == 200
    assert "비밀번호가 변경되었습니다." in page.text
    assert is_login_redirect(elsewhere.get("/me"))
    assert session_count(db, user.id) == 1

    assert post_login(make_client(), user.email, PASSWORD).status_code == 400
    assert post_login(make_client(), user.email, NEW_PASSWORD).status_code == 303


# ---------------------------------------------------------------- admin reset links


def _reset_link_from_page(html: str) -> str:
    match = re.search(r'id="reset-link">([^<]+)<', html)
    assert match, "no reset link on the page"
    return urlsplit(match.group(1)).path


def test_admin_reset_link_page_flow(make_client, db):
    admin, _org = admin_with_org(db)
    target = make_user(db, name="이서준")
    db.commit()
    target_browser = make_client()
    login(target_browser, target.email)

    admin_browser = make_client()
    csrf = login(admin_browser, admin.email)
    issued = admin_browser.post(f"/admin/users/{target.id}/reset-link", data={"csrf_token": csrf})
    assert issued.status_code == 200
    path = _reset_link_from_page(issued.text)
    assert path.startswith("/reset/")
    token = path.removeprefix("/reset/")
    row = fresh(db).scalar(select(PasswordReset).where(PasswordReset.user_id == target.id))
    assert row.token_hash == sha256(token)
    assert row.issued_by_id == admin.id

    anonymous = make_client()
    form = anonymous.get(path)
    assert form.status_code == 200
    assert target.email in form.text
    done = anonymous.post(
        path, data={"new_password": NEW_PASSWORD, "csrf_token": csrf_from(form.text)}
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/login?msg=password_reset"

    assert post_login(make_client(), target.email, NEW_PASSWORD).status_code == 303
    assert is_login_redirect(target_browser.get("/me"))  # a reset signs out everywhere

    # One use only.
    again = anonymous.get(path)
    assert again.status_code == 404
    assert MSG_RESET_INVALID_KO in again.text
    before = fresh(db).scalar(select(User.password_hash).where(User.id == target.id))
    reuse = anonymous.post(
        path, data={"new_password": "another fine passphrase", "csrf_token": csrf_from(form.text)}
    )
    assert reuse.status_code == 404
    assert fresh(db).scalar(select(User.password_hash).where(User.id == target.id)) == before


def test_reset_form_rejects_a_weak_password_and_keeps_the_link(make_client, db):
    target = make_user(db)
    raw, _reset = service.issue_password_reset(
        db, SYSTEM_ACTOR, user_id=target.id, valid_for=timedelta(hours=1)
    )
    db.commit()
    browser = make_client()
    form = browser.get(f"/reset/{raw}")
    response = browser.post(
        f"/reset/{raw}", data={"new_password": "short", "csrf_token": csrf_from(form.text)}
    )
    assert response.status_code == 422
    assert f'class="field-error" id="new_password-error">{MSG_MIN_LENGTH_KO}<' in response.text
    assert browser.get(f"/reset/{raw}").status_code == 200


def test_admin_reset_link_api_and_expiry(make_client, db, settings):
    admin, _org = admin_with_org(db)
    target = make_user(db)
    token = api_token(db, admin, scopes=("read", "write", "admin"))
    api = make_client()
    response = api.post(f"/api/v1/users/{target.id}/password-reset", headers=bearer(token))
    assert response.status_code == 201
    body = response.json()
    assert body["user_id"] == target.id
    path = urlsplit(body["url"]).path
    assert path.startswith("/reset/")

    browser = make_client()
    assert browser.get(path).status_code == 200

    fresh(db)
    row = db.scalar(select(PasswordReset).where(PasswordReset.user_id == target.id))
    assert row.expires_at - row.created_at == timedelta(hours=settings.password_reset_hours)
    db.execute(
        update(PasswordReset)
        .where(PasswordReset.id == row.id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.commit()
    expired = browser.get(path)
    assert expired.status_code == 404
    assert MSG_RESET_INVALID_KO in expired.text


def test_a_new_reset_link_cancels_the_previous_one(make_client, db):
    target = make_user(db)
    first, _ = service.issue_password_reset(
        db, SYSTEM_ACTOR, user_id=target.id, valid_for=timedelta(hours=1)
    )
    second, _ = service.issue_password_reset(
        db, SYSTEM_ACTOR, user_id=target.id, valid_for=timedelta(hours=1)
    )
    db.commit()
    browser = make_client()
    assert browser.get(f"/reset/{first}").status_code == 404
    assert browser.get(f"/reset/{second}").status_code == 200


def test_only_admins_issue_reset_links(make_client, db):
    org = make_org(db)
    sme = make_user(db, roles=[(org, "sme")])
    target = make_user(db)
    admin, _ = admin_with_org(db)
    sme_token = api_token(db, sme)
    admin_without_admin_scope = api_token(db, admin, scopes=("read", "write"))

    browser = make_client()
    csrf = login(browser, sme.email)
    page = browser.post(f"/admin/users/{target.id}/reset-link", data={"csrf_token": csrf})
    assert page.status_code == 403
    assert "접근 권한이 없습니다" in page.text
    assert 'id="reset-link"' not in page.text

    api = make_client()
    for token in (sme_token, admin_without_admin_scope):
        response = api.post(f"/api/v1/users/{target.id}/password-reset", headers=bearer(token))
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
    assert fresh(db).scalar(select(func.count()).select_from(PasswordReset)) == 0


# ---------------------------------------------------------------- API tokens


def test_api_token_is_shown_once_and_stored_hashed(client, db):
    org = make_org(db)
    user = make_user(db, roles=[(org, "sme")])
    db.commit()
    csrf = login(client, user.email)
    created = client.post(
        "/api/v1/tokens",
        json={"name": "ERP 연동", "scopes": ["read"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    raw = body["token"]
    assert raw.startswith("ssg_")
    assert len(raw) >= 40
    assert body["prefix"] == raw[:10]
    assert body["scopes"] == ["read"]

    fresh(db)
    row = db.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert row.token_hash == sha256(raw)
    stored = [getattr(row, c.key) for c in ApiToken.__table__.columns]
    assert not any(isinstance(v, str) and raw in v for v in stored)
    assert not any(isinstance(v, str) and raw[10:20] in v for v in stored)

    listed = client.get("/api/v1/tokens")
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()] == [row.id]
    assert "token" not in listed.json()[0]
    assert raw not in listed.text


def test_bearer_token_authenticates_and_records_last_use(make_client, db):
    user = make_user(db, name="최지우")
    raw = api_token(db, user)
    assert fresh(db).scalar(select(ApiToken.last_used_at)) is None

    response = make_client().get("/api/v1/me", headers=bearer(raw))
    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    used = fresh(db).scalar(select(ApiToken.last_used_at))
    assert used is not None
    assert utcnow() - used < timedelta(minutes=1)


def test_read_scope_cannot_write_or_administer(make_client, db):
    org = make_org(db, employees=40)
    user = make_user(db, roles=[(org, "sme"), (org, "admin")])
    read = api_token(db, user, scopes=("read",))
    write = api_token(db, user, scopes=("read", "write"))
    admin = api_token(db, user, scopes=("read", "write", "admin"))
    api = make_client()

    assert api.get(f"/api/v1/organizations/{org.id}", headers=bearer(read)).status_code == 200
    patch = api.patch(
        f"/api/v1/organizations/{org.id}", json={"employees": 41}, headers=bearer(read)
    )
    assert patch.status_code == 403
    assert patch.json()["code"] == "forbidden"
    assert fresh(db).scalar(select(Organization.employees).where(Organization.id == org.id)) == 40
    assert api.get("/api/v1/users", headers=bearer(read)).status_code == 403
    assert api.post("/api/v1/tokens", json={"name": "x"}, headers=bearer(read)).status_code == 403

    # The same user with broader tokens: write may write, only admin may administer.
    ok = api.patch(f"/api/v1/organizations/{org.id}", json={"employees": 41}, headers=bearer(write))
    assert ok.status_code == 200
    assert api.get("/api/v1/users", headers=bearer(write)).status_code == 403
    assert api.get("/api/v1/users", headers=bearer(admin)).status_code == 200


def test_token_cannot_grant_more_than_its_creator_holds(make_client, db):
    org = make_org(db)
    user = make_user(db, roles=[(org, "sme")])
    write = api_token(db, user, scopes=("read", "write"))
    response = make_client().post(
        "/api/v1/tokens", json={"name": "x", "scopes": ["admin"]}, headers=bearer(write)
    )
    assert response.status_code == 422
    assert response.json()["details"] == {
        "scopes": "관리자 권한 토큰은 관리자만 발급할 수 있습니다."
    }
    assert fresh(db).scalar(select(func.count()).select_from(ApiToken)) == 1


def test_revoked_token_is_refused(make_client, db):
    user = make_user(db)
    victim = api_token(db, user, scopes=("read",))
    manager = api_token(db, user, scopes=("read", "write"))
    api = make_client()
    assert api.get("/api/v1/me", headers=bearer(victim)).status_code == 200
    token_id = fresh(db).scalar(select(ApiToken.id).where(ApiToken.token_hash == sha256(victim)))

    revoked = api.delete(f"/api/v1/tokens/{token_id}", headers=bearer(manager))
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None

    refused = api.get("/api/v1/me", headers=bearer(victim))
    assert refused.status_code == 401
    assert refused.json() == {
        "code": "not_authenticated",
        "message": "로그인이 필요합니다.",
        "details": None,
    }
    assert refused.headers["www-authenticate"] == "Bearer"
    assert api.get("/api/v1/me", headers=bearer(manager)).status_code == 200


def test_cannot_revoke_another_users_token(make_client, db):
    owner, other = make_user(db), make_user(db)
    owners = api_token(db, owner)
    others = api_token(db, other)
    token_id = fresh(db).scalar(select(ApiToken.id).where(ApiToken.token_hash == sha256(owners)))
    api = make_client()

    response = api.delete(f"/api/v1/tokens/{token_id}", headers=bearer(others))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api.delete("/api/v1/tokens/999999", headers=bearer(others)).status_code == 404
    assert fresh(db).scalar(select(ApiToken.revoked_at).where(ApiToken.id == token_id)) is None
    assert api.get("/api/v1/me", headers=bearer(owners)).status_code == 200


@pytest.mark.parametrize(
    "value", ["ssg_" + "A" * 43, "not-a-token", "ssg_", "Bearer x", "ssg_" + "A" * 4000]
)
def test_unknown_bearer_token_is_refused(make_client, db, value):
    user = make_user(db)
    api_token(db, user)
    response = make_client().get("/api/v1/me", headers={"Authorization": f"Bearer {value}"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_token_page_shows_the_new_token_once(client, db):
    org = make_org(db)
    user = make_user(db, roles=[(org, "sme")])
    db.commit()
    login(client, user.email)
    csrf = csrf_from(client.get("/me/tokens").text)
    created = client.post(
        "/me/tokens",
        data={"name": "ERP 연동", "scopes": ["read", "write"], "csrf_token": csrf},
    )
    assert created.status_code == 200
    match = re.search(r'id="new-token">(ssg_[^<]+)<', created.text)
    assert match, created.text
    raw = match.group(1)

    fresh(db)
    row = db.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert row.token_hash == sha256(raw)
    assert row.scopes == "read,write"

    listing = client.get("/me/tokens")
    assert listing.status_code == 200
    assert raw not in listing.text
    assert row.prefix in listing.text
    assert "ERP 연동" in listing.text

    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200
    revoke = client.post(f"/me/tokens/{row.id}/revoke", data={"csrf_token": csrf})
    assert revoke.status_code == 303
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 401


def test_admin_exports_the_user_list_beyond_one_page(client, db):
    import io

    from openpyxl import load_workbook

    from sangsaeng.core.audit.models import AuditEvent
    from tests.factories import session_cookie

    office = make_org(db)
    admin = make_user(db, roles=[(office, "admin")])
    for i in range(210):
        make_user(db, email=f"bulk{i:03d}@example.kr")
    cookie, _csrf = session_cookie(db, admin)
    db.commit()
    client.cookies.set("ss_session", cookie)
    response = client.get("/admin/users/export.xlsx")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("id", "email", "name") and len(rows) == 1 + 211
    db.expire_all()
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "users.export")).all()
