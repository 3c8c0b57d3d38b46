"""Milestone approvals on PostgreSQL: concurrent operators approve reported milestones of signed
projects of one program through ``project_service.approve_milestone`` — each approval checks the
order, draws the agreement's holds in the agreed shares and pays the solution provider through the
ledger — for a fixed time, against the program's shared funds (one fund account per source).

Printed (one JSON object): ``ops_per_s`` (committed paying approvals per second), ``p95_ms``,
``retries`` (deadlocks or serialization failures retried; expected 0), ``refused``, ``violations``
(``ledger check`` afterwards), ``paid_matches`` (every approved milestone's payment equals what
the ledger disbursed for it), and the baseline of the same run: bare ``ledger.disburse`` calls per
second from as many clients on the same funds (``baseline_disbursements_per_s``) and the ratio.

    .venv/bin/python benchmarks/milestone_approvals.py [--quick] [--clients 16] [--seconds 30]

A throwaway database is created (and dropped) on 127.0.0.1, or SANGSAENG_DATABASE_URL is used.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from pg_common import check_target, create_database, database_url, drop_database  # noqa: E402


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def setup(url: str, projects: int) -> dict:
    """One program of an operator, with ``projects`` selected applications signed (their cash
    held on the program's funds) and their kickoff and midterm reported."""
    from sqlalchemy import update

    from sangsaeng.core.models import Membership, Organization, User, utcnow
    from sangsaeng.core.policy import SYSTEM_ACTOR, Actor
    from sangsaeng.db import make_engine, make_session_factory
    from sangsaeng.programs import application_service as applications
    from sangsaeng.programs import project_service as project_svc
    from sangsaeng.programs import service as programs
    from sangsaeng.programs.models import A_SELECTED, Application, Milestone

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        tag = uuid.uuid4().hex[:6]

        def org(name: str, kind: str, n: int) -> Organization:
            from sangsaeng.core.ids import business_no_check_digit

            body = f"{(n * 7919 + 1000) % 1000:03d}{(n // 1000) % 100:02d}{n % 10000:04d}"
            number = body + str(business_no_check_digit(body))
            created = Organization(
                business_no=number,
                name_ko=name,
                kind=kind,
                ksic_code="C29",
                region_code="47",
                size_class="large" if kind != "sme" else "sme",
            )
            session.add(created)
            session.flush()
            return created

        operator_org = org(f"추진단 {tag}", "operator", 1)
        user = User(email=f"op-{tag}@bench.kr", name="운영", password_hash="x")
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, organization_id=operator_org.id, role="operator"))
        operator = Actor(
            user_id=user.id,
            email=user.email,
            name="운영",
            memberships=frozenset({(operator_org.id, "operator")}),
        )
        program = programs.create_program(
            session,
            operator,
            operator_org.id,
            {
                "name_ko": "벤치마크 상생형 스마트공장",
                "year": 2027,
                "kind": "smart_factory",
                "opens_on": date.today(),
                "closes_at": utcnow() + timedelta(days=30),
                "quota": projects,
                "budget_krw": 10**14,
                "cap_per_company_krw": 10**9,
                "sources": [
                    {"code": "government", "name_ko": "정부", "share": Decimal("0.3")},
                    {"code": "sponsor", "name_ko": "후원기업", "share": Decimal("0.3")},
                    {"code": "sme", "name_ko": "기업 부담", "share": Decimal("0.4")},
                ],
                "remainder_to": "sme",
                "score_sheet": "application-score-sheet",
            },
        )
        provider_org = org(f"공급기업 {tag}", "sme", 2)
        provider = applications.register_provider(session, SYSTEM_ACTOR, provider_org.id)
        solution = applications.add_solution(
            session, SYSTEM_ACTOR, provider.id, name="MES", solution_type="MES"
        )
        for code in ("government", "sponsor"):
            project_svc.contribute(
                session, operator, program.id, source_code=code, amount=10**13, key=code
            )
        total = 100_000_000
        split = applications.expected_split(session, program, total)
        application_ids = []
        for n in range(projects):
            sme = org(f"중소기업 {n}", "sme", 10 + n)
            application = Application(
                program_id=program.id,
                organization_id=sme.id,
                status=A_SELECTED,
                title="MES",
                solution_id=solution.id,
                total_krw=total,
                requested=split,
                rank=n + 1,
                submitted_at=utcnow(),
            )
            session.add(application)
            session.flush()
            application_ids.append(application.id)
        program.results_published_at = utcnow()  # selected and published (set up directly)
        session.flush()
        milestones = []
        for n, application_id in enumerate(application_ids):
            project = project_svc.sign(
                session,
                operator,
                application_id,
                starts_on=date.today(),
                ends_on=date.today() + timedelta(days=180),
            )
            ms = project_svc.milestones(session, project.id)
            milestones.append([ms[0].id, ms[1].id])
            if n % 200 == 199:
                log(f"  {n + 1} agreements signed")
        session.execute(
            update(Milestone)
            .where(Milestone.kind.in_(("kickoff", "midterm")))
            .values(status="submitted", report="보고", submitted_at=utcnow())
        )
        session.commit()
    engine.dispose()
    return {"operator": operator, "milestones": milestones}


def client(args: tuple) -> dict:
    url, number, clients, world, seconds, start_at = args
    from sqlalchemy.exc import DBAPIError

    from sangsaeng.core.errors import Conflict, InvalidInput
    from sangsaeng.db import make_engine, make_session_factory
    from sangsaeng.programs import project_service as project_svc

    engine = make_engine(url, pool_size=1)
    factory = make_session_factory(engine)
    latencies: list[float] = []
    retries = refused = 0
    # Each client owns every clients-th project: its kickoff, then its midterm (in order).
    queue = [m for pair in world["milestones"][number::clients] for m in pair]
    while time.time() < start_at:
        time.sleep(0.005)
    deadline = start_at + seconds
    for milestone_id in queue:
        if time.time() >= deadline:
            break
        began = time.perf_counter()
        while True:
            try:
                with factory() as session:
                    project_svc.approve_milestone(session, world["operator"], milestone_id)
                    session.commit()
                latencies.append(time.perf_counter() - began)
                break
            except (Conflict, InvalidInput):
                refused += 1
                break
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", "") in ("40P01", "40001"):
                    retries += 1
                    continue
                raise
    engine.dispose()
    return {
        "latencies": latencies,
        "retries": retries,
        "refused": refused,
        "ran_out": len(latencies) == len(queue),
    }


def baseline_client(args: tuple) -> int:
    """Bare ledger disbursements drawing the same program's fund accounts (fresh holds)."""
    url, number, holds, payee, seconds, start_at = args
    from sangsaeng.core.policy import SYSTEM_ACTOR
    from sangsaeng.db import make_engine, make_session_factory
    from sangsaeng.ledger import service as ledger

    engine = make_engine(url, pool_size=1)
    factory = make_session_factory(engine)
    done = 0
    while time.time() < start_at:
        time.sleep(0.005)
    deadline = start_at + seconds
    step = 0
    while time.time() < deadline:
        step += 1
        with factory() as session:
            ledger.disburse(
                session,
                SYSTEM_ACTOR,
                draws={holds[0]: 1_000, holds[1]: 1_000},
                payee_account_id=payee,
                key=f"baseline:{number}:{step}:{uuid.uuid4().hex[:6]}",
            )
            session.commit()
        done += 1
    engine.dispose()
    return done


def _baseline_holds(url: str) -> tuple[list[int], int]:
    from sqlalchemy import select

    from sangsaeng.core.policy import SYSTEM_ACTOR
    from sangsaeng.db import make_engine, make_session_factory
    from sangsaeng.ledger import service as ledger
    from sangsaeng.ledger.models import LedgerAccount

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        funds = (
            session.scalars(
                select(LedgerAccount.id)
                .where(LedgerAccount.kind == "fund", LedgerAccount.code.like("%:government"))
                .order_by(LedgerAccount.id.desc())
            ).all()[:1]
            + session.scalars(
                select(LedgerAccount.id)
                .where(LedgerAccount.kind == "fund", LedgerAccount.code.like("%:sponsor"))
                .order_by(LedgerAccount.id.desc())
            ).all()[:1]
        )
        holds = [
            ledger.hold(
                session,
                SYSTEM_ACTOR,
                account_id=f,
                amount=10**11,
                key=f"baseline-hold:{uuid.uuid4()}",
            ).id
            for f in funds
        ]
        payee = ledger.ensure_account(
            session,
            SYSTEM_ACTOR,
            code=f"payee:baseline:{uuid.uuid4().hex[:6]}",
            kind="payee",
            name="기준",
        ).id
        session.commit()
    engine.dispose()
    return holds, payee


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer projects, 5 s per phase")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, help="timed seconds (default 30; quick 5)")
    parser.add_argument("--projects", type=int, help="signed projects (default 3000; quick 400)")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--db-name", default="sangsaeng_bench_milestones")
    args = parser.parse_args(argv)
    seconds = args.seconds or (5.0 if args.quick else 30.0)
    n_projects = args.projects or (400 if args.quick else 3000)
    given = os.environ.get("SANGSAENG_DATABASE_URL", "")
    throwaway = not given
    if throwaway:
        check_target(parser, args.admin_url, args.db_name)
        create_database(args.admin_url, args.db_name)
        url = database_url(args.admin_url, args.db_name)
    else:
        if not given.startswith("postgresql"):
            parser.error("SANGSAENG_DATABASE_URL must be a PostgreSQL database")
        url = given
    try:
        from alembic import command as alembic_command

        from sangsaeng.cli import alembic_config

        alembic_command.upgrade(alembic_config(url), "head")
        began = time.perf_counter()
        world = setup(url, n_projects)
        log(
            f"{n_projects} agreements signed in {time.perf_counter() - began:.0f} s; "
            f"{args.clients} clients for {seconds:.0f} s"
        )
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(args.clients) as pool:
            start_at = time.time() + 2
            results = pool.map(
                client,
                [(url, n, args.clients, world, seconds, start_at) for n in range(args.clients)],
            )
            holds, payee = _baseline_holds(url)
            start_at = time.time() + 2
            baseline = pool.map(
                baseline_client,
                [(url, n, holds, payee, seconds, start_at) for n in range(args.clients)],
            )
        from sqlalchemy import func, select

        from sangsaeng.db import make_engine, make_session_factory
        from sangsaeng.ledger import service as ledger
        from sangsaeng.ledger.models import LedgerPosting
        from sangsaeng.programs.models import Milestone

        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            check = ledger.check(session)
            approved = session.execute(
                select(Milestone.payment_krw, Milestone.ledger_entry_id).where(
                    Milestone.status == "approved"
                )
            ).all()
            paid = dict(
                session.execute(
                    select(LedgerPosting.entry_id, func.sum(LedgerPosting.amount))
                    .where(
                        LedgerPosting.entry_id.in_([e for _p, e in approved]),
                        LedgerPosting.amount > 0,
                    )
                    .group_by(LedgerPosting.entry_id)
                ).all()
            )
        engine.dispose()
        latencies = sorted(x for r in results for x in r["latencies"])
        ops = len(latencies) / seconds
        base = sum(baseline) / seconds
        figures = {
            "ops_per_s": round(ops, 1),
            "p95_ms": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 1)
            if latencies
            else None,
            "retries": sum(r["retries"] for r in results),
            "refused": sum(r["refused"] for r in results),
            "violations": len(check.violations),
            "paid_matches": all(paid.get(e) == p for p, e in approved),
            "approvals_checked": len(approved),
            "clients_ran_out_of_work": sum(r["ran_out"] for r in results),
            "projects": n_projects,
            "clients": args.clients,
            "seconds": seconds,
            "baseline_disbursements_per_s": round(base, 1),
            "ratio_to_baseline": round(ops / base, 3) if base else None,
        }
    finally:
        if throwaway:
            drop_database(args.admin_url, args.db_name)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
