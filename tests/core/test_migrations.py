"""Migrations go up and down on each backend, and the models have not drifted from them."""

from alembic import command
from sqlalchemy import inspect

from sangsaeng.cli import alembic_config
from sangsaeng.db import make_engine
from tests.conftest import fresh_database


def test_upgrade_check_downgrade(backend, worker_name, tmp_path):
    url, drop = fresh_database(backend, f"migrations_{worker_name}", tmp_path)
    try:
        config = alembic_config(url)
        command.upgrade(config, "head")
        command.check(config)  # raises when models and migrations disagree
        engine = make_engine(url)
        tables = set(inspect(engine).get_table_names())
        assert {
            "users",
            "organizations",
            "supplier_links",
            "memberships",
            "revenue_bands",
        } <= tables
        command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(config, "head")
        engine.dispose()
    finally:
        drop()
