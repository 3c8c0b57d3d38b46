"""The whole demo (seed 2026, 320 companies, as `make demo` builds it), seeded once per backend
in a database of its own and only read by the tests of the demo's programs and outcomes (mark a
module with ``DEMO_GROUP`` so that xdist runs it on the worker that holds the seeded demo)."""

from __future__ import annotations

import pytest
from alembic import command

from sangsaeng.cli import alembic_config
from sangsaeng.core.files.service import LocalStorage
from sangsaeng.db import make_engine, make_session_factory
from sangsaeng.demo.seed import seed_database
from tests.conftest import fresh_database

SEED, SMES = 2026, 320
DEMO_GROUP = pytest.mark.xdist_group("demo-programs")


@pytest.fixture(scope="session")
def seeded_demos(worker_name, tmp_path_factory):
    """The whole demo, seeded once per backend and kept for the session: a parametrized
    session fixture would be torn down and seeded again whenever the test order switches
    backends (each seeding takes most of a minute)."""
    built: dict[str, tuple] = {}

    def get(backend: str):
        if backend not in built:
            url, drop = fresh_database(
                backend, f"demo_{worker_name}", tmp_path_factory.mktemp(f"demo-{backend}")
            )
            command.upgrade(alembic_config(url), "head")
            engine = make_engine(url)
            factory = make_session_factory(engine)
            storage = LocalStorage(tmp_path_factory.mktemp("demo-files"))
            summary = seed_database(factory, seed=SEED, sme_count=SMES, storage=storage)
            built[backend] = (url, factory, summary, engine, drop)
        return built[backend][:3]

    yield get
    for _url, _factory, _summary, engine, drop in built.values():
        engine.dispose()
        drop()


@pytest.fixture
def demo(backend, seeded_demos):
    """(database URL, session factory, seed summary) of the whole demo."""
    return seeded_demos(backend)


@pytest.fixture
def demo_db(demo):
    session = demo[1]()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
