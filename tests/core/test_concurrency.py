"""Races that PostgreSQL must settle: one winner, a clear error for the rest, no 500s."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.models import Organization, SupplierLink
from sangsaeng.core.orgs import service, supply_chain
from sangsaeng.core.policy import SYSTEM_ACTOR
from sangsaeng.db import make_session_factory
from tests.factories import business_no, make_org


def run_together(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # collected and asserted on by the caller
            results[i] = exc

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture
def postgres_only(backend):
    if backend != "postgres":
        pytest.skip("concurrency guarantees are proven on PostgreSQL")


def test_same_business_number_registered_concurrently(postgres_only, engine, db):
    factory = make_session_factory(engine)
    number = business_no()

    def register(i: int):
        with factory() as session:
            values = {
                "business_no": number,
                "name_ko": f"동시등록{i}",
                "ksic": "29",
                "region": "41",
                "size_class": "sme",
            }
            org = service.create_org(session, SYSTEM_ACTOR, values)
            session.commit()
            return org.id

    results = run_together(8, register)
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if isinstance(r, InvalidInput)]
    assert len(winners) == 1 and len(losers) == 7, results
    assert all("business_no" in exc.fields for exc in losers)
    count = db.scalar(select(func.count()).where(Organization.business_no == number))
    assert count == 1


def test_same_supplier_link_added_concurrently(postgres_only, engine, db):
    buyer, supplier = make_org(db), make_org(db)
    db.commit()
    factory = make_session_factory(engine)

    def add(_i: int):
        with factory() as session:
            link = supply_chain.declare_link(
                session, SYSTEM_ACTOR, buyer.id, supplier.business_no, side="buyer"
            )
            session.commit()
            return link.id

    results = run_together(8, add)
    assert all(isinstance(r, int) for r in results), results
    count = db.scalar(select(func.count()).select_from(SupplierLink))
    assert count == 1


def test_parallel_password_guesses_cannot_pass_the_throttle(postgres_only, app, db):
    """Thirty wrong guesses at once: no more than the allowed ten reach the password check."""
    from fastapi.testclient import TestClient

    from tests.factories import csrf_from, make_user

    user = make_user(db, email="target@example.kr")
    db.commit()

    def guess(i: int) -> int:
        with TestClient(app, follow_redirects=False, client=(f"198.51.100.{i}", 1000)) as c:
            page = c.get("/login")
            response = c.post(
                "/login",
                data={
                    "email": user.email,
                    "password": f"wrong-{i}",
                    "csrf_token": csrf_from(page.text),
                },
            )
            return response.status_code

    statuses = run_together(30, guess)
    assert all(s in (400, 429) for s in statuses), statuses
    assert sum(s == 400 for s in statuses) <= 10
    assert sum(s == 429 for s in statuses) >= 20
