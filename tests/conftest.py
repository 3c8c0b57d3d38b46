"""Test fixtures: a database per xdist worker and backend, built by Alembic; rows cleared after
each test. SQLite always; PostgreSQL too when SANGSAENG_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from sangsaeng import all_models  # noqa: F401
from sangsaeng.app import create_app
from sangsaeng.cli import alembic_config
from sangsaeng.core.models import RevenueBand
from sangsaeng.core.reference import DEFAULT_REVENUE_BANDS
from sangsaeng.db import Base, make_engine, make_session_factory
from sangsaeng.settings import Settings, get_settings

PG_URL = os.environ.get("SANGSAENG_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"] if PG_URL else ["sqlite"]


def pg_admin_url() -> str:
    assert PG_URL
    return PG_URL.replace("postgresql+psycopg://", "postgresql://")


def create_pg_database(name: str) -> str:
    with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return re.sub(r"/[^/]*$", f"/{name}", pg_admin_url())


def drop_pg_database(name: str) -> None:
    with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def worker_name(request) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


def fresh_database(backend: str, label: str, tmp_dir: Path) -> tuple[str, callable]:
    """A new empty database and a function that removes it."""
    if backend == "sqlite":
        path = tmp_dir / f"{label}.db"
        return f"sqlite:///{path}", lambda: None
    name = f"sangsaeng_test_{label}_{os.getpid()}"  # two suites at once never share a database
    return create_pg_database(name), lambda: drop_pg_database(name)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(backend, worker_name, tmp_path_factory) -> Iterator[str]:
    url, drop = fresh_database(backend, f"app_{worker_name}", tmp_path_factory.mktemp(backend))
    command.upgrade(alembic_config(url), "head")
    yield url
    drop()


@pytest.fixture(scope="session")
def settings(database_url, tmp_path_factory) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("data"),
        secret_key="test-secret-key",
        dashboard_cache_seconds=0,
        jobs_immediate=True,
    )


@pytest.fixture(scope="session")
def engine(settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


def clear_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            # The audit table refuses TRUNCATE by trigger; test set-up (as superuser) skips it.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            # Self-references (a reversal names the entry it reverses) are checked at commit.
            conn.execute(text("PRAGMA defer_foreign_keys = ON"))
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
        conn.execute(
            insert(RevenueBand),
            [
                {
                    "code": c,
                    "position": i,
                    "label_ko": ko,
                    "label_en": en,
                    "min_krw": lo,
                    "max_krw": hi,
                }
                for i, (c, ko, en, lo, hi) in enumerate(DEFAULT_REVENUE_BANDS)
            ],
        )


@pytest.fixture
def db(engine) -> Iterator[Session]:
    """A session for arranging and inspecting data; commit to make rows visible to the app.

    Tables are emptied before each test (not after: the next test does it), which halves the cost.
    """
    clear_tables(engine)
    session = make_session_factory(engine)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@pytest.fixture(scope="session")
def app(settings):
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app, db) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def cli_env(monkeypatch, settings, engine):
    """CLI commands (which read settings from the environment) pointed at the test database."""
    clear_tables(engine)
    monkeypatch.setenv("SANGSAENG_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SANGSAENG_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def make_client(app, db):
    """Clients with their own cookie jars, for tests with several users at once."""
    clients: list[TestClient] = []

    def factory(base_url: str = "http://testserver") -> TestClient:
        c = TestClient(app, follow_redirects=False, base_url=base_url)
        clients.append(c)
        return c

    yield factory
    for c in clients:
        c.close()
