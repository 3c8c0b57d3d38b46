"""The audit log: what is recorded, who may read it, and that it cannot be changed."""

from __future__ import annotations

import io
import json

import psycopg
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from sangsaeng.cli import app as cli_app
from sangsaeng.core.audit.models import AuditEvent
from sangsaeng.core.exports import FORMULA_TRIGGERS, neutralize, to_csv, to_xlsx
from sangsaeng.settings import get_settings
from tests.conftest import pg_admin_url
from tests.factories import PASSWORD, api_token, bearer, csrf_from, make_org, make_user


def events(db, action: str | None = None) -> list[AuditEvent]:
    db.expire_all()
    stmt = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(db.scalars(stmt))


def test_logins_are_recorded_with_ip(make_client, db):
    user = make_user(db, email="audit@example.kr")
    db.commit()
    client = make_client()
    page = client.get("/login")
    client.post(
        "/login",
        data={
            "email": "audit@example.kr",
            "password": "wrong password!",
            "csrf_token": csrf_from(page.text),
        },
    )
    client.post(
        "/login",
        data={
            "email": "audit@example.kr",
            "password": PASSWORD,
            "csrf_token": csrf_from(page.text),
        },
    )
    failed, ok = events(db, "login.failed"), events(db, "login.ok")
    assert len(failed) == 1 and failed[0].actor_email == "audit@example.kr"
    assert failed[0].ip == "testclient"
    assert ok[0].object_id == str(user.id)


def test_changes_keep_before_and_after(client, db):
    org = make_org(db, employees=40)
    user = make_user(db, roles=[(org, "sme")])
    db.commit()
    token = api_token(db, user)
    client.patch(f"/api/v1/organizations/{org.id}", json={"employees": 45}, headers=bearer(token))
    [update] = events(db, "org.update")
    assert update.details == {"employees": {"before": 40, "after": 45}}
    assert update.actor_user_id == user.id and update.organization_id == org.id
    assert events(db, "token.create")[0].details["scopes"] == ["read", "write"]


def test_denials_are_recorded_although_the_request_fails(client, db):
    mine, theirs = make_org(db), make_org(db)
    user = make_user(db, roles=[(mine, "sme")])
    db.commit()
    token = api_token(db, user)
    assert (
        client.get(f"/api/v1/organizations/{theirs.id}", headers=bearer(token)).status_code == 404
    )
    assert client.get("/api/v1/users", headers=bearer(token)).status_code == 403
    denied = events(db, "permission.denied")
    assert [(e.details["action"], e.object_id) for e in denied] == [
        ("org.read", str(theirs.id)),
        ("users.manage", None),
    ]


def test_admins_read_and_export_the_log(client, db):
    office = make_org(db, kind="other")
    admin = make_user(db, roles=[(office, "admin")])
    db.commit()
    token = api_token(db, admin, scopes=("read", "write", "admin"))
    body = {
        "business_no": "124-81-00998",
        "name_ko": '=HYPERLINK("http://x")',
        "ksic": "29",
        "region": "41",
        "size_class": "sme",
    }
    assert client.post("/api/v1/organizations", json=body, headers=bearer(token)).status_code == 201
    listed = client.get("/api/v1/audit", params={"action": "org."}, headers=bearer(token)).json()
    assert [e["action"] for e in listed["items"]] == ["org.create"]
    from tests.factories import session_cookie

    cookie, _csrf = session_cookie(db, admin)
    db.commit()
    client.cookies.set("ss_session", cookie)
    page = client.get("/admin/audit", params={"action": "org.create"})
    assert page.status_code == 200 and "org.create" in page.text
    csv_body = client.get("/admin/audit/export.csv", params={"action": "org.create"})
    assert csv_body.content.startswith(b"\xef\xbb\xbf")
    assert "'=HYPERLINK" not in csv_body.text  # inside the JSON details, not a cell start
    xlsx = client.get("/admin/audit/export.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    actions = [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "org.create" in actions
    assert events(db, "audit.export")  # downloads are logged too


@pytest.mark.parametrize("lead", FORMULA_TRIGGERS)
def test_export_neutralises_every_formula_lead(lead):
    value = f"{lead}1+1"
    assert str(neutralize(value)).startswith("'")
    csv_text = to_csv(["v"], [[value]]).decode("utf-8-sig")
    assert csv_text.splitlines()[1].lstrip('"').startswith("'")
    sheet = load_workbook(io.BytesIO(to_xlsx(["v"], [[value]]))).active
    cell = sheet.cell(row=2, column=1)
    assert cell.data_type == "s" and str(cell.value).startswith("'")


def test_plain_values_are_not_altered():
    assert neutralize("대성정밀") == "대성정밀"
    assert neutralize(12) == 12 and neutralize(-5) == -5  # numbers are not formulas


def test_audit_rows_cannot_be_changed_through_the_application(backend, engine, db):
    if backend != "postgres":
        pytest.skip("enforced by PostgreSQL (trigger and privileges)")
    make_user(db)
    db.commit()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_events (at, action) VALUES (now(), 'test.row')"))
    for statement in (
        "UPDATE audit_events SET action = 'forged'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert [e.action for e in events(db)] == ["test.row"]


def test_the_application_role_may_only_append(backend, settings, worker_name, monkeypatch):
    if backend != "postgres":
        pytest.skip("PostgreSQL roles")
    role = f"sangsaeng_app_{worker_name}".lower()
    with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {role}")
    admin_db_url = settings.database_url
    monkeypatch.setenv("SANGSAENG_DATABASE_URL", admin_db_url)
    get_settings.cache_clear()
    try:
        with psycopg.connect(admin_db_url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {role} LOGIN")
        result = CliRunner().invoke(cli_app, ["db", "grant-app-role", role, "--json"])
        assert result.exit_code == 0, result.stdout
        assert json.loads(result.stdout)["audit_events"] == ["SELECT", "INSERT"]
        app_url = admin_db_url.replace("+psycopg", "").replace("://postgres@", f"://{role}@")
        with psycopg.connect(app_url, autocommit=True) as conn:
            conn.execute("INSERT INTO audit_events (at, action) VALUES (now(), 'by.app')")
            conn.execute("SELECT count(*) FROM organizations")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("UPDATE audit_events SET action = 'x'")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("DELETE FROM audit_events")
    finally:
        get_settings.cache_clear()
        with psycopg.connect(admin_db_url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
        with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {role}")
