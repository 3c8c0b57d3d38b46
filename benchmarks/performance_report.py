"""The program performance report (성과보고서) on PostgreSQL: one program with 30,000 projects ×
8 KPIs × 4 measurements (baseline, completion, follow-up years 1 and 2), about 90 % of the
values verified (the rest awaiting verification, some flagged, or rejected), company inputs
(annual output, labour hours, value added per hour) for most companies, and varied groups:
sponsors (named, pooled, two sponsors, none), supplier tiers, KSIC divisions, regions, sizes,
support types and start years.

Timed: ``report_service.program_report`` as the program's operator with 2,000 bootstrap
resamples, in a fresh process (so that its peak RSS is the report's, not the set-up's):

- ``report_s``: the first call on a new engine (cold: empty statement caches; PostgreSQL
  buffers as the bulk load and ANALYZE left them); ``report_warm_s``: the median of the next
  calls;
- ``fetch_s`` = ``report_s`` − ``engine_s``: everything before and after the engine (queries,
  row decoding, grouping in Python); split into ``query_s`` (cursor executes, i.e. PostgreSQL
  and the transfer) and ``assembly_s`` (the rest); ``engine_s``: ``build_report`` alone;
- ``peak_python_mb``: tracemalloc's peak of Python allocations during one more call (run
  apart from the timed calls: tracing slows Python down); ``peak_rss_mb``: the process's peak
  resident set size (``resource.getrusage``), interpreter and imports included
  (``rss_before_mb`` is the same figure before the first call).

Baseline of the same run: the same companies (as fetched for the report) through the naive
engine — a plain loop per company and one ``summarize`` (its own bootstrap) per statistic —
with the same resamples; ``ratio`` = naive seconds ÷ ``engine_s``. Its means must equal the
report's (``same_means``).

    .venv/bin/python benchmarks/performance_report.py            # 30,000 projects
    .venv/bin/python benchmarks/performance_report.py --quick    # 2,000 projects, under a minute

A throwaway database is created (and dropped) on 127.0.0.1. Set-up time (bulk load with COPY)
is printed, not part of the figures. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from pg_common import check_target, create_database, database_url, drop_database  # noqa: E402

TARGET = {"report_s": 5, "peak_mb": 1024}
# code → (typical baseline, relative gain at completion, spread); directions from the catalogue.
KPIS = {
    "productivity": (50.0, 0.18, 0.20),
    "defect_rate": (3.0, 0.25, 0.30),
    "on_time_delivery": (88.0, 0.04, 0.05),
    "unit_cost": (12_000.0, 0.08, 0.10),
    "lead_time": (72.0, 0.15, 0.20),
    "oee": (60.0, 0.10, 0.12),
    "new_hires": (3.0, 0.0, 0.0),  # a count: the change itself
    "investment": (2.0e8, 0.30, 0.50),
}
INPUTS = {
    "annual_output": 200_000.0,
    "annual_labour_hours": 60_000.0,
    "value_added_per_hour": 45_000.0,
}
PERIODS = {  # stage, follow-up year → period
    ("baseline", None): (date(2025, 1, 1), date(2025, 12, 31)),
    ("completion", None): (date(2026, 7, 1), date(2026, 12, 31)),
    ("follow_up", 1): (date(2027, 1, 1), date(2027, 12, 31)),
    ("follow_up", 2): (date(2028, 1, 1), date(2028, 12, 31)),
}
REGIONS = ["11", "26", "27", "28", "29", "30", "31", "36", "41", "43", "44", "46", "47", "48"]
DIVISIONS = ["10", "13", "20", "22", "24", "25", "26", "27", "28", "29", "30", "31", "33"]
SIZES = ["sme"] * 6 + ["micro"] * 3 + ["midsize"]
SUPPORT_TYPES = ["basic"] * 5 + ["advanced"] * 3 + ["expert"] * 2
SPONSORS = 6
FLAG = json.dumps([["Changed by more than {pct} % since the last period.", {"pct": 50}]])


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def mb(kilobytes: int) -> float:
    return round(kilobytes / 1024, 1)  # ru_maxrss is in KiB on Linux


# --- set-up ---------------------------------------------------------------------------------


def setup(url: str, n_projects: int, seed: int) -> dict:
    """The program, its sponsors and operator through the services; companies, supplier links,
    applications, projects and measurements bulk-loaded with COPY."""
    import psycopg
    from sqlalchemy import select, text

    from sangsaeng.core.ids import business_no_check_digit
    from sangsaeng.core.models import Membership, Organization, User, utcnow
    from sangsaeng.core.policy import Actor
    from sangsaeng.core.reference import kpis
    from sangsaeng.db import make_engine, make_session_factory
    from sangsaeng.programs import service as programs

    rng = random.Random(seed)
    catalogue = kpis()
    engine = make_engine(url)

    def business_no(n: int) -> str:
        body = f"{100 + n % 800:03d}{81 + n // 100000 % 8}{n % 100000:05d}"[:9]
        return body + str(business_no_check_digit(body))

    with make_session_factory(engine)() as session:

        def org(n: int, name: str, kind: str, size: str) -> Organization:
            created = Organization(
                business_no=business_no(n),
                name_ko=name,
                kind=kind,
                ksic_code="C29",
                region_code="41",
                size_class=size,
            )
            session.add(created)
            session.flush()
            return created

        operator_org = org(1, "스마트제조혁신추진단", "operator", "sme")
        user = User(email="operator@bench.kr", name="운영", password_hash="x")
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, organization_id=operator_org.id, role="operator"))
        operator = Actor(
            user_id=user.id,
            email=user.email,
            name="운영",
            memberships=frozenset({(operator_org.id, "operator")}),
        )
        sponsors = [
            org(10 + s, f"후원 대기업 {s + 1}", "sponsor", "large").id for s in range(SPONSORS)
        ]
        provider = org(2, "공급기업", "sme", "sme").id
        named = sponsors[:-1]  # the last sponsor only gives to the pool
        program = programs.create_program(
            session,
            operator,
            operator_org.id,
            {
                "name_ko": "벤치마크 상생형 스마트공장",
                "year": 2026,
                "kind": "smart_factory",
                "opens_on": date.today(),
                "closes_at": utcnow() + timedelta(days=30),
                "quota": n_projects,
                "budget_krw": 10**14,
                "cap_per_company_krw": 10**9,
                "sources": [
                    {"code": "government", "name_ko": "정부", "share": Decimal("0.3")},
                    *(
                        {"code": f"sponsor:{s}", "name_ko": f"후원 {s}", "share": Decimal("0.05")}
                        for s in named
                    ),
                    {"code": "sponsor", "name_ko": "후원 공동", "share": Decimal("0.05")},
                    {"code": "sme", "name_ko": "기업 부담", "share": Decimal("0.4")},
                ],
                "remainder_to": "sme",
                "score_sheet": "application-score-sheet",
                "sponsor_ids": sponsors,
                "support_types": [
                    {"code": c, "name_ko": c, "cap_krw": 10**8}
                    for c in ("basic", "advanced", "expert")
                ],
            },
        )
        session.commit()
        program_id = program.id
        first_id = session.scalar(select(Organization.id).order_by(Organization.id.desc())) + 1
    now = utcnow()

    # Companies (one project each), ids given so that the other rows can refer to them.
    org_ids = list(range(first_id, first_id + n_projects))
    orgs = [
        (
            org_ids[n],
            business_no(1000 + n),
            f"벤치기업{n}",
            "sme",
            rng.choice(DIVISIONS) + str(rng.randint(1, 9)),
            rng.choice(REGIONS),
            rng.choice(SIZES),
            now,
            now,
        )
        for n in range(n_projects)
    ]
    # Who funds each project and how (named sponsor, the pool, two sponsors, none), and its
    # supplier tier under its sponsor (1, 2, 3 or outside the chain).
    budgets, links, sponsor_tier1 = [], [], {s: [] for s in sponsors}
    for n in range(n_projects):
        draw = rng.random()
        budget = {"government": 30_000_000, "sme": 40_000_000}
        funder = rng.choice(named)
        if draw < 0.60:
            budget[f"sponsor:{funder}"] = 30_000_000
        elif draw < 0.75:
            budget["sponsor"] = 30_000_000
            funder = rng.choice(sponsors)
        elif draw < 0.80:
            other = rng.choice([s for s in named if s != funder])
            budget[f"sponsor:{funder}"] = 20_000_000
            budget[f"sponsor:{other}"] = 10_000_000
        else:
            budget["government"] = 60_000_000
            funder = None
        budgets.append(budget)
        if funder is None:
            continue
        tier = rng.random()
        chain = sponsor_tier1[funder]
        if tier < 0.35 or not chain:
            links.append((funder, org_ids[n]))
            chain.append(org_ids[n])
        elif tier < 0.65:
            links.append((rng.choice(chain), org_ids[n]))  # tier 2 (or 3 via a tier-2 buyer)
        elif tier < 0.75:
            middle = rng.choice(org_ids[:n]) if n else None
            if middle is not None and middle != org_ids[n]:
                links.append((middle, org_ids[n]))
    links = list(dict.fromkeys(links))

    app_ids = list(range(1, n_projects + 1))
    applications, projects = [], []
    for n in range(n_projects):
        support = rng.choice(SUPPORT_TYPES)
        total = sum(budgets[n].values())
        targets = [
            {"code": code, "target": target_for(code, rng)}
            for code in ("productivity", "defect_rate", "lead_time", "unit_cost")
            if rng.random() < 0.8
        ]
        applications.append(
            (
                app_ids[n],
                program_id,
                org_ids[n],
                "selected",
                "MES 구축",
                "",
                support,
                total,
                json.dumps(budgets[n]),
                json.dumps(targets),
                "{}",
                "[]",
                "",
                now,
                now,
                now,
            )
        )
        starts = date(2026 if rng.random() < 0.8 else 2025, rng.randint(1, 12), 1)
        status = "cancelled" if rng.random() < 0.01 else rng.choice(["active", "completed"])
        projects.append(
            (
                app_ids[n],
                app_ids[n],
                program_id,
                org_ids[n],
                provider,
                f"BENCH-{n:06d}",
                status,
                total,
                json.dumps(budgets[n]),
                "{}",
                "{}",
                now,
                starts,
                starts + timedelta(days=180),
                "",
                0,
            )
        )

    measurements = []
    counts = {"verified": 0, "reported": 0, "rejected": 0}
    for n in range(n_projects):
        for code, (typical, gain, spread) in KPIS.items():
            kpi = catalogue[code]
            base = typical * rng.lognormvariate(0, 0.4)
            if code == "new_hires":
                base = float(rng.randint(0, 6))
            values = {("baseline", None): base}
            step = rng.gauss(gain, spread)
            for k, key in enumerate(list(PERIODS)[1:]):
                if code == "new_hires":
                    after = float(max(0, round(base + rng.gauss(1 + k * 0.5, 2))))
                else:
                    move = step * (1 + 0.1 * k) + rng.gauss(0, spread / 4)
                    after = base * (1 + move) if kpi.direction == "higher" else base * (1 - move)
                    after = max(0.0, after)
                if kpi.max_value is not None:
                    after = min(after, kpi.max_value)
                values[key] = after
            for (stage, year_no), value in values.items():
                measurements.append(
                    measurement(n, org_ids[n], app_ids[n], code, kpi.unit, stage, year_no, value)
                )
        if rng.random() < 0.85:  # company inputs for valuing the effect
            for code, typical in INPUTS.items():
                value = typical * rng.lognormvariate(0, 0.5)
                unit = catalogue[code].unit
                measurements.append(
                    measurement(n, org_ids[n], app_ids[n], code, unit, "baseline", None, value)
                )
    for i, row in enumerate(measurements):
        draw = rng.random()
        status = "verified" if draw < 0.90 else ("reported" if draw < 0.97 else "rejected")
        counts[status] += 1
        flags = FLAG if status == "reported" and rng.random() < 0.3 else "[]"
        reason = "증빙 기간이 맞지 않습니다." if status == "rejected" else ""
        decided = now if status != "reported" else None
        measurements[i] = (*row, status, flags, now, decided, reason)

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        with conn.cursor() as cur:
            copy_rows(
                cur,
                "organizations (id, business_no, name_ko, kind, ksic_code, region_code, "
                "size_class, created_at, updated_at)",
                orgs,
            )
            copy_rows(
                cur,
                "supplier_links (buyer_id, supplier_id, created_at, buyer_confirmed_at, "
                "supplier_confirmed_at)",
                [(b, s, now, now, now) for b, s in links],
            )
            copy_rows(
                cur,
                "program_applications (id, program_id, organization_id, status, title, plan, "
                "support_type, total_krw, requested, target_kpis, documents, eligibility, "
                "screening_note, submitted_at, created_at, updated_at)",
                applications,
            )
            copy_rows(
                cur,
                "program_projects (id, application_id, program_id, organization_id, "
                "provider_org_id, agreement_no, status, total_krw, budget, cost_lines, holds, "
                "signed_at, starts_on, ends_on, status_reason, recovered_krw)",
                projects,
            )
            copy_rows(
                cur,
                "kpi_measurements (project_id, organization_id, kpi_code, stage, year_no, "
                "period_start, period_end, value, unit, source, status, flags, evidence, "
                "reported_at, decided_at, rejection_reason)",
                measurements,
            )
            for table in ("organizations", "program_applications", "program_projects"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        conn.commit()
    with engine.connect() as conn:  # what autovacuum does after a bulk load
        conn.execute(text("ANALYZE"))
        conn.commit()
    engine.dispose()
    return {
        "program_id": program_id,
        "operator": operator,
        "measurements": len(measurements),
        "statuses": counts,
        "supplier_links": len(links),
    }


def target_for(code: str, rng: random.Random) -> float:
    typical, gain, _spread = KPIS[code]
    return round(typical * (1 + gain * rng.uniform(0.5, 1.5)), 3)


def measurement(n, org_id, project_id, code, unit, stage, year_no, value) -> tuple:
    start, end = PERIODS[(stage, year_no)]
    return (project_id, org_id, code, stage, year_no, start, end, value, unit, "self")


def copy_rows(cur, target: str, rows: list[tuple]) -> None:
    columns = target[target.index("(") + 1 : -1].replace(" ", "").split(",")
    evidence = "evidence" in columns
    with cur.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            if evidence:  # measurements: evidence (no files) goes before reported_at
                row = (*row[:12], "[]", *row[12:])
            copy.write_row(row)


# --- the timed part, in a fresh process ------------------------------------------------------


def measure(args: tuple) -> dict:
    url, program_id, operator, resamples, warm_runs = args
    import tracemalloc

    from sqlalchemy import event

    from sangsaeng.db import make_engine, make_session_factory
    from sangsaeng.outcomes import report_service

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = {"query": 0.0, "engine": 0.0, "pairs": 0.0}

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, _cursor, _statement, _params, _context, _many):
        conn.info["began"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, _cursor, _statement, _params, _context, _many):
        clock["query"] += time.perf_counter() - conn.info.pop("began")

    build_report = report_service.build_report_data
    captured: dict = {}

    def timed_build(data, **kwargs):
        began = time.perf_counter()
        try:
            return build_report(data, **kwargs)
        finally:
            clock["engine"] += time.perf_counter() - began
            captured["data"] = data

    report_service.build_report_data = timed_build
    read_pairs = report_service._pair_columns

    def timed_pairs(*args, **kwargs):
        # On PostgreSQL the pairs arrive by a binary COPY on the driver's cursor, which the
        # engine's cursor events do not see: timed here, and counted as query time.
        began = time.perf_counter()
        try:
            return read_pairs(*args, **kwargs)
        finally:
            clock["pairs"] += time.perf_counter() - began

    report_service._pair_columns = timed_pairs

    def call() -> tuple[float, dict, object]:
        clock.update(query=0.0, engine=0.0, pairs=0.0)
        with factory() as session:
            began = time.perf_counter()
            result = report_service.program_report(
                session, operator, program_id, resamples=resamples
            )
            elapsed = time.perf_counter() - began
        return elapsed, dict(clock), result

    cold_s, cold_clock, result = call()
    log(
        f"  cold {cold_s:.2f} s (query {cold_clock['query']:.2f} s, "
        f"engine {cold_clock['engine']:.2f} s)"
    )
    warm = []
    for _ in range(warm_runs):
        warm.append(call())
        log(f"  warm {warm[-1][0]:.2f} s")
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    call()
    _current, peak_python = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    report_service.build_report_data = build_report
    report_service._pair_columns = read_pairs
    engine.dispose()

    data = result.as_dict()
    warm_s = statistics.median(w[0] for w in warm) if warm else None
    companies, rules = companies_from(captured["data"])
    naive = naive_report(captured["data"].n_participants, companies, rules, resamples=resamples)
    same = abs(naive["avg"] - data["avg_improvement"]["mean"]) < 1e-9 and all(
        abs(naive["kpis"][c] - s["mean"]) < 1e-9 for c, s in data["kpis"].items()
    )
    return {
        "report_s": round(cold_s, 3),
        "report_warm_s": round(warm_s, 3) if warm_s is not None else None,
        "fetch_s": round(cold_s - cold_clock["engine"], 3),
        "engine_s": round(cold_clock["engine"], 3),
        "query_s": round(cold_clock["query"] + cold_clock["pairs"], 3),
        "pairs_read_s": round(cold_clock["pairs"], 3),
        "assembly_s": round(
            cold_s - cold_clock["engine"] - cold_clock["query"] - cold_clock["pairs"], 3
        ),
        "warm_split": {
            "fetch_s": round(statistics.median(w[0] - w[1]["engine"] for w in warm), 3),
            "engine_s": round(statistics.median(w[1]["engine"] for w in warm), 3),
            "query_s": round(statistics.median(w[1]["query"] + w[1]["pairs"] for w in warm), 3),
            "pairs_read_s": round(statistics.median(w[1]["pairs"] for w in warm), 3),
        }
        if warm
        else None,
        "peak_python_mb": round(peak_python / 2**20, 1),
        "peak_rss_mb": mb(peak_rss),
        "rss_before_mb": mb(rss_before),
        "checks": {
            "n_participants": data["n_participants"],
            "n_verified": data["n_verified"],
            "avg_improvement": data["avg_improvement"],
            "kpis": sorted(data["kpis"]),
            "groups": {name: len(groups) for name, groups in data["breakdowns"].items()},
            "financial_effect": {
                k: data["financial_effect"][k] for k in ("n", "n_missing", "per_company")
            },
            "values": data["values"],
        },
        "baseline": {
            "what": "naive engine: a loop per company and one summarize (own bootstrap) per "
            "statistic, on the same fetched companies and resamples",
            "naive_engine_s": round(naive["seconds"], 3),
            "statistics": naive["statistics"],
            "same_means": same,
        },
        "ratio": round(naive["seconds"] / cold_clock["engine"], 1)
        if cold_clock["engine"]
        else None,
    }


def companies_from(data) -> tuple[list, dict]:
    """The report's array inputs as one object per company (the plain representation the
    naive baseline loops over); not timed."""
    import math

    from sangsaeng.outcomes.engine.report import CompanyOutcome, Pair

    pairs: list[dict] = [{} for _ in range(data.n_companies)]
    for i, k, before, after, target in zip(
        data.pair_company.tolist(),
        data.pair_kpi.tolist(),
        data.before.tolist(),
        data.after.tolist(),
        data.target.tolist(),
        strict=True,
    ):
        pairs[i][data.kpi_codes[k]] = Pair(before, after, None if math.isnan(target) else target)
    groups = [
        {name: labels[index[i]] for name, (index, labels) in data.groups.items() if index[i] >= 0}
        for i in range(data.n_companies)
    ]
    companies = [CompanyOutcome(i, groups[i], pairs[i]) for i in range(data.n_companies)]
    return companies, dict(zip(data.kpi_codes, data.rules, strict=True))


def naive_report(n_participants, companies, rules, *, resamples: int) -> dict:
    """The report's statistics the plain way: each one summarized with its own bootstrap."""
    from collections import defaultdict

    from sangsaeng.outcomes.engine.improvement import (
        RELATIVE,
        company_average,
        improvement,
        target_achievement,
    )
    from sangsaeng.outcomes.engine.summary import summarize

    began = time.perf_counter()
    averages, per_kpi, achieved = [], defaultdict(list), []
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for company in companies:
        relative = {}
        for code, pair in company.pairs.items():
            rule = rules[code]
            value = improvement(rule.improvement, rule.direction, pair.before, pair.after)
            if value is not None:
                per_kpi[code].append(value)
            if rule.improvement == RELATIVE:
                relative[code] = value
            if pair.target is not None:
                reached = target_achievement(rule.direction, pair.before, pair.target, pair.after)
                if reached is not None:
                    achieved.append(reached)
        average = company_average(relative)
        averages.append(average)
        if average is not None:
            for name, group in company.groups.items():
                groups[(name, group)].append(average)
    avg = summarize(averages, resamples=resamples)
    kpis = {code: summarize(v, resamples=resamples).mean for code, v in per_kpi.items()}
    summarize(achieved, resamples=resamples)
    for values in groups.values():
        summarize(values, resamples=resamples)
    return {
        "seconds": time.perf_counter() - began,
        "avg": avg.mean,
        "kpis": kpis,
        "statistics": 2 + len(kpis) + len(groups),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 projects, under a minute")
    parser.add_argument("--projects", type=int, help="projects (default 30000; quick 2000)")
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--warm", type=int, help="warm calls, median reported (default 3)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--db-name", default="sangsaeng_bench_performance_report")
    args = parser.parse_args(argv)
    check_target(parser, args.admin_url, args.db_name)
    n_projects = args.projects or (2000 if args.quick else 30000)
    warm_runs = args.warm if args.warm is not None else (2 if args.quick else 3)

    from alembic import command as alembic_command

    from sangsaeng.cli import alembic_config

    url = database_url(args.admin_url, args.db_name)
    # The measuring process is started first, while this one is small: a child inherits the
    # parent's peak RSS at the fork, so a later start would count the set-up's rows as well.
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(1)
    create_database(args.admin_url, args.db_name)
    try:
        alembic_command.upgrade(alembic_config(url), "head")
        began = time.perf_counter()
        world = setup(url, n_projects, args.seed)
        setup_s = time.perf_counter() - began
        log(
            f"set-up {setup_s:.1f} s: {n_projects} projects, {world['measurements']} "
            f"measurements {world['statuses']}, {world['supplier_links']} supplier links"
        )
        figures = pool.apply(
            measure, ((url, world["program_id"], world["operator"], args.resamples, warm_runs),)
        )
    finally:
        pool.close()
        pool.join()
        drop_database(args.admin_url, args.db_name)
    result = {
        "projects": n_projects,
        "kpis": len(KPIS),
        "measurements": len(PERIODS),
        "resamples": args.resamples,
        "rows": world["measurements"],
        "setup_s": round(setup_s, 1),
        **figures,
        "memory_note": "peak_python_mb: tracemalloc peak of Python allocations during one "
        "report call; peak_rss_mb: the measuring process's peak resident set (getrusage), "
        "interpreter and imports included",
        "target": TARGET,
        "meets_target": figures["report_s"] < TARGET["report_s"]
        and figures["peak_rss_mb"] < TARGET["peak_mb"],
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
