"""Assessments: scoring throughput, result pages and level distributions on PostgreSQL.

Figures, each against a baseline measured in the same run:

- engine: ``score`` + ``plan`` (scores, level, path to the next level, feedback, roadmap) per
  smart-factory response, against the bare weighted mean of the same answers;
- recording: ``import_submitted`` diagnoses per second through the service (checks, scoring,
  roadmap rows, audit row), against inserting the same assessment rows alone;
- result view: ``result_view`` (result, plan, peer percentile among the same KSIC division and
  size class, history) p50/p95, against loading the assessment row by id;
- distribution: ``level_distribution`` over every organization (latest result per organization by
  date, one windowed query per 1,000), against a plain ``GROUP BY level_id``.

    .venv/bin/python benchmarks/assessments.py            # full: 20,000 organizations
    .venv/bin/python benchmarks/assessments.py --quick    # 1,000 organizations, under a minute

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from pg_common import check_target, create_database, database_url, drop_database  # noqa: E402


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def engine_figures(instrument, responses: list[dict]) -> dict:
    from sangsaeng.assessments.engine import roadmap, scoring

    start = time.perf_counter()
    for answers in responses:
        roadmap.plan(instrument, scoring.score(instrument, answers))
    full = time.perf_counter() - start
    weights = {
        i.id: d.weight * i.weight / sum(x.weight for x in d.items)
        for d in instrument.dimensions
        for i in d.items
    }
    start = time.perf_counter()
    for answers in responses:
        sum(weights[k] * (v - 1) / 4 for k, v in answers.items())
    bare = time.perf_counter() - start
    return {
        "responses": len(responses),
        "per_second": round(len(responses) / full),
        "bare_weighted_mean_per_second": round(len(responses) / bare),
        "ratio_to_bare": round(full / bare, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run, under a minute")
    parser.add_argument("--orgs", type=int, help="organizations (default 20000; quick 1000)")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--db-name", default="sangsaeng_bench_assessments")
    args = parser.parse_args(argv)
    check_target(parser, args.admin_url, args.db_name)
    n_orgs = args.orgs or (1000 if args.quick else 20000)
    rng = random.Random(2026)

    from alembic import command as alembic_command
    from sqlalchemy import func, insert, select, text

    from sangsaeng.assessments import catalog, service
    from sangsaeng.assessments.models import Assessment
    from sangsaeng.cli import alembic_config
    from sangsaeng.core.ids import business_no_check_digit
    from sangsaeng.core.models import Organization
    from sangsaeng.core.policy import SYSTEM_ACTOR
    from sangsaeng.db import make_engine, make_session_factory

    instrument = catalog.find("smart-factory-level")
    items = [i.id for i in instrument.items]
    responses = [{k: float(rng.randint(1, 5)) for k in items} for _ in range(n_orgs)]
    figures: dict = {"orgs": n_orgs, "engine": engine_figures(instrument, responses)}
    log(f"engine: {figures['engine']}")

    url = database_url(args.admin_url, args.db_name)
    create_database(args.admin_url, args.db_name)
    try:
        alembic_command.upgrade(alembic_config(url), "head")
        engine = make_engine(url)
        factory = make_session_factory(engine)
        divisions = ["25", "26", "28", "29", "30", "20", "22", "24"]
        with factory() as session:
            rows = []
            for n in range(n_orgs):
                first = f"{100 + n % 800:03d}{81 + n // 10000 % 8}{n % 10000:04d}"
                rows.append(
                    {
                        "business_no": first + str(business_no_check_digit(first)),
                        "name_ko": f"벤치기업{n}",
                        "kind": "sme",
                        "ksic_code": rng.choice(divisions) + str(rng.randint(1, 9)),
                        "region_code": "41",
                        "size_class": rng.choice(["sme", "micro", "midsize"]),
                        "employees": rng.randint(5, 290),
                        "revenue_krw": rng.randint(1, 90) * 10**8,
                        "founded_year": rng.randint(1980, 2020),
                    }
                )
            session.execute(insert(Organization), rows)
            session.commit()
            org_ids = list(session.scalars(select(Organization.id).order_by(Organization.id)))

        log("recording diagnoses through the service …")
        today = date(2026, 11, 1)
        dated = [
            (org_ids[i], responses[i], today - timedelta(days=rng.randint(0, 700)))
            for i in range(n_orgs)
        ]
        start = time.perf_counter()
        with factory() as session:
            for index, (org_id, answers, on) in enumerate(dated):
                service.import_submitted(
                    session,
                    SYSTEM_ACTOR,
                    organization_id=org_id,
                    instrument_id=instrument.id,
                    answers=answers,
                    assessed_on=on,
                )
                if index % 500 == 499:
                    session.commit()
            session.commit()
        recorded = time.perf_counter() - start
        with factory() as session:  # baseline: the same rows, inserted bare
            template = session.scalars(select(Assessment).limit(1)).one()
            bare_rows = [
                {
                    c.name: getattr(template, c.key)
                    for c in Assessment.__table__.columns
                    if c.name != "id"
                }
                for _ in range(n_orgs)
            ]
            start = time.perf_counter()
            for begin in range(0, n_orgs, 500):
                session.execute(insert(Assessment), bare_rows[begin : begin + 500])
            bare_insert = time.perf_counter() - start
            session.rollback()
        with engine.connect() as conn:  # what autovacuum does after a bulk load
            conn.execute(text("ANALYZE"))
            conn.commit()
        figures["recording"] = {
            "per_second": round(n_orgs / recorded),
            "bare_insert_per_second": round(n_orgs / bare_insert),
            "ratio_to_bare": round(recorded / bare_insert, 1),
        }
        log(f"recording: {figures['recording']}")

        with factory() as session:
            ids = list(session.scalars(select(Assessment.id)))
        sample = rng.sample(ids, min(200, len(ids)))
        views, bares = [], []
        for assessment_id in sample:
            with factory() as session:
                start = time.perf_counter()
                view = service.result_view(session, SYSTEM_ACTOR, assessment_id)
                views.append(time.perf_counter() - start)
                assert view.peers is not None
            with factory() as session:
                start = time.perf_counter()
                session.get(Assessment, assessment_id)
                bares.append(time.perf_counter() - start)
        figures["result_view_ms"] = {
            "p50": round(1000 * statistics.median(views), 2),
            "p95": round(1000 * percentile(views, 0.95), 2),
            "row_by_id_p50": round(1000 * statistics.median(bares), 2),
            "ratio_p50": round(statistics.median(views) / statistics.median(bares), 1),
            "samples": len(sample),
        }
        log(f"result view: {figures['result_view_ms']}")

        with factory() as session:
            start = time.perf_counter()
            dist = service.level_distribution(session, SYSTEM_ACTOR, org_ids, instrument.id, today)
            windowed = time.perf_counter() - start
            start = time.perf_counter()
            session.execute(
                select(Assessment.level_id, func.count()).group_by(Assessment.level_id)
            ).all()
            grouped = time.perf_counter() - start
        assert dist.n_assessed == n_orgs
        figures["distribution"] = {
            "organizations": len(org_ids),
            "seconds": round(windowed, 3),
            "plain_group_by_seconds": round(grouped, 3),
            "ratio_to_group_by": round(windowed / grouped, 1),
            "levels": dist.counts,
        }
        engine.dispose()
    finally:
        drop_database(args.admin_url, args.db_name)
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
