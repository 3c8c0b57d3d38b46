"""Disbursements against shared funds on PostgreSQL: concurrent clients post milestone payments
from agreement holds through the ledger service, for a fixed time.

What a milestone approval does to the ledger (Programs, next, calls exactly this): one balanced
entry drawing the agreement's holds in the agreed shares, with an idempotency key. Clients are
separate processes (as web workers are), each with its own connection. Printed (one JSON object):
``ops_per_s`` (committed disbursements per second), ``p95_ms``, ``retries`` (deadlocks or
serialization failures retried; expected 0), ``violations`` (``ledger check`` afterwards), and the
baseline of the same run: bare contended single-row balance UPDATEs per second from as many
clients (``baseline_updates_per_s``) and the ratio.

    SANGSAENG_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python benchmarks/disbursements.py [--quick] [--clients 16] [--seconds 30]

Without SANGSAENG_DATABASE_URL a throwaway database is created (and dropped) on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from pg_common import check_target, create_database, database_url, drop_database  # noqa: E402


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def setup(url: str, run: str, funds: int, agreements: int) -> tuple[list[int], list[int]]:
    """Funds with money, and holds (signed agreements) drawing on them; returns (holds, payees)."""
    from sangsaeng.core.policy import SYSTEM_ACTOR
    from sangsaeng.db import make_engine, make_session_factory
    from sangsaeng.ledger import service as ledger

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        source = ledger.ensure_account(
            session, SYSTEM_ACTOR, code=f"{run}:source", kind="source", name="출연"
        ).id
        fund_ids = []
        for i in range(funds):
            fund = ledger.ensure_account(
                session, SYSTEM_ACTOR, code=f"{run}:fund:{i}", kind="fund", name=f"기금 {i}"
            ).id
            ledger.contribute(
                session,
                SYSTEM_ACTOR,
                fund_account_id=fund,
                source_account_id=source,
                amount=10**13,
                key=f"{run}:seed:{i}",
            )
            fund_ids.append(fund)
        payees = [
            ledger.ensure_account(
                session, SYSTEM_ACTOR, code=f"{run}:payee:{i}", kind="payee", name=f"공급기업 {i}"
            ).id
            for i in range(20)
        ]
        holds = []
        for i in range(agreements):
            held = ledger.hold(
                session,
                SYSTEM_ACTOR,
                account_id=fund_ids[i % funds],
                amount=10**11,
                key=f"{run}:hold:{i}",
            )
            holds.append(held.id)
        session.commit()
    engine.dispose()
    return holds, payees


def client(args: tuple) -> dict:
    url, run, number, holds, payees, seconds, start_at = args
    from sqlalchemy.exc import DBAPIError

    from sangsaeng.core.errors import Conflict, InvalidInput
    from sangsaeng.core.policy import SYSTEM_ACTOR
    from sangsaeng.db import make_engine, make_session_factory
    from sangsaeng.ledger import service as ledger

    engine = make_engine(url, pool_size=1)
    factory = make_session_factory(engine)
    rng = random.Random(number)
    latencies: list[float] = []
    retries = refused = 0
    while time.time() < start_at:
        time.sleep(0.005)
    deadline = start_at + seconds
    step = 0
    while time.time() < deadline:
        step += 1
        # Two sources per milestone (e.g. government and sponsor holds of one agreement).
        first = rng.randrange(len(holds))
        draws = {holds[first]: 600_000, holds[(first + 1) % len(holds)]: 400_000}
        key = f"{run}:c{number}:{step}"
        began = time.perf_counter()
        while True:
            try:
                with factory() as session:
                    ledger.disburse(
                        session,
                        SYSTEM_ACTOR,
                        draws=draws,
                        payee_account_id=rng.choice(payees),
                        key=key,
                    )
                    session.commit()
                latencies.append(time.perf_counter() - began)
                break
            except (Conflict, InvalidInput):
                refused += 1
                break
            except DBAPIError as exc:  # deadlock / serialization failure: retried, counted
                if getattr(exc.orig, "sqlstate", "") in ("40P01", "40001"):
                    retries += 1
                    continue
                raise
    engine.dispose()
    return {"latencies": latencies, "retries": retries, "refused": refused}


def baseline_client(args: tuple) -> int:
    url, account_id, seconds, start_at = args
    import psycopg

    done = 0
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        while time.time() < start_at:
            time.sleep(0.005)
        deadline = start_at + seconds
        while time.time() < deadline:
            conn.execute(
                "UPDATE ledger_balances SET balance = balance + 0 WHERE account_id = %s",
                (account_id,),
            )
            conn.commit()
            done += 1
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 s per phase, under a minute")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, help="timed seconds (default 30; quick 5)")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--db-name", default="sangsaeng_bench_disbursements")
    args = parser.parse_args(argv)
    seconds = args.seconds or (5.0 if args.quick else 30.0)
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
        run = f"bench-{uuid.uuid4().hex[:8]}"
        holds, payees = setup(url, run, funds=8, agreements=400)
        log(f"{len(holds)} agreements on 8 funds; {args.clients} clients for {seconds:.0f} s")
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(args.clients) as pool:
            start_at = time.time() + 2
            results = pool.map(
                client,
                [(url, run, n, holds, payees, seconds, start_at) for n in range(args.clients)],
            )
            from sangsaeng.db import make_engine, make_session_factory
            from sangsaeng.ledger import service as ledger
            from sangsaeng.ledger.models import LedgerAccount

            engine = make_engine(url)
            with make_session_factory(engine)() as session:
                from sqlalchemy import select

                hot = session.scalar(
                    select(LedgerAccount.id).where(LedgerAccount.code == f"{run}:fund:0")
                )
                check = ledger.check(session)
            engine.dispose()
            start_at = time.time() + 2
            baseline = pool.map(
                baseline_client, [(url, hot, seconds, start_at) for _ in range(args.clients)]
            )
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
            "entries_checked": check.entries,
            "clients": args.clients,
            "seconds": seconds,
            "baseline_updates_per_s": round(base, 1),
            "ratio_to_baseline": round(ops / base, 3) if base else None,
        }
    finally:
        if throwaway:
            drop_database(args.admin_url, args.db_name)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
