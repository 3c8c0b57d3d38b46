"""The command line: JSON alone on stdout with --json, exit 2 for bad input."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from sangsaeng.cli import app
from tests.factories import make_org

runner = CliRunner()


def run_json(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_users_create_with_a_role(cli_env, db):
    org = make_org(db)
    db.commit()
    code, out = run_json(
        "users",
        "create",
        "kim@example.kr",
        "--name",
        "김담당",
        "--password",
        "a long enough passphrase",
        "--org",
        org.business_no,
        "--role",
        "sme",
    )
    assert code == 0, out
    assert out["email"] == "kim@example.kr" and out["roles"] == ["sme"]


def test_users_create_refuses_bad_input_with_exit_2(cli_env, db):
    code, out = run_json("users", "create", "not-an-email", "--name", "x", "--password", "password")
    assert code == 2
    assert out["code"] == "invalid_input"
    code, out = run_json(
        "users", "create", "a@example.kr", "--name", "x", "--password", "password1"
    )
    assert code == 2 and "password" in out["details"]


def test_demo_seed_then_if_empty_does_nothing(cli_env, db):
    code, out = run_json("demo", "seed", "--smes", "300", "--no-programs")
    assert code == 0 and out["seeded"] is True and out["organizations"] == 308
    code, out = run_json("demo", "seed", "--if-empty")
    assert code == 0 and out["seeded"] is False
    code, out = run_json("demo", "seed", "--smes", "10")
    assert code == 2


def test_orgs_create_validates(cli_env, db):
    code, out = run_json(
        "orgs",
        "create",
        "--business-no",
        "124-81-00998",
        "--name",
        "운영사무국",
        "--ksic",
        "84",
        "--region",
        "서울",
        "--size",
        "중소",
        "--kind",
        "other",
    )
    assert code == 0 and out["business_no"] == "1248100998"
    code, out = run_json(
        "orgs",
        "create",
        "--business-no",
        "124-81-00998",
        "--name",
        "중복",
        "--ksic",
        "C99",
        "--region",
        "서울",
        "--size",
        "중소",
    )
    assert code == 2 and set(out["details"]) == {"ksic"}
    code, out = run_json(
        "orgs",
        "create",
        "--business-no",
        "1248100998",
        "--name",
        "중복",
        "--ksic",
        "C29",
        "--region",
        "서울",
        "--size",
        "중소",
    )
    assert code == 2 and "이미 등록된" in out["details"]["business_no"]


def test_help_lists_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("serve", "worker", "db", "users", "demo"):
        assert name in result.stdout
