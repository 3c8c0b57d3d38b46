"""The demo's KPI values: the performance report on each demo program recovers the planted
effects (demo/outcomes.py), its n match what was seeded, bad data is refused or flagged as the
product meets it, and the demo SME login sees its own values.

Reads the demo seeded once per backend (tests/demo/conftest.py); nothing here seeds again.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import fmean

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sangsaeng.cli import app
from sangsaeng.core.accounts import service as accounts
from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.imports import reader
from sangsaeng.core.models import Organization, User, utcnow
from sangsaeng.core.policy import SYSTEM_ACTOR
from sangsaeng.demo import outcomes as demo_kpis
from sangsaeng.outcomes import report_service
from sangsaeng.outcomes import service as outcomes
from sangsaeng.outcomes.models import REJECTED, REPORTED, VERIFIED, KpiMeasurement
from sangsaeng.programs.models import Application, Program, Project
from sangsaeng.settings import get_settings
from tests.demo.conftest import DEMO_GROUP

pytestmark = DEMO_GROUP
RESAMPLES = 1000


def _programs(session) -> dict[str, Program]:
    year = utcnow().year
    found = {p.year: p for p in session.scalars(select(Program))}
    return {"previous": found[year - 1], "current": found[year]}


def _verified_pairs(session, program_id: int) -> dict[str, list[tuple[str, str | None]]]:
    """KPI → (support type, size) of each company with a verified baseline and a verified
    value after it, straight from the table."""
    stages: dict[tuple[int, str], set[str]] = defaultdict(set)
    rows = session.execute(
        select(KpiMeasurement.project_id, KpiMeasurement.kpi_code, KpiMeasurement.stage)
        .join(Project, Project.id == KpiMeasurement.project_id)
        .where(Project.program_id == program_id, KpiMeasurement.status == VERIFIED)
    )
    for project_id, code, stage in rows:
        stages[(project_id, code)].add("baseline" if stage == "baseline" else "after")
    kind = dict(
        session.execute(
            select(Project.id, Application.support_type)
            .join(Application, Application.id == Project.application_id)
            .where(Project.program_id == program_id)
        ).all()
    )
    size = dict(
        session.execute(
            select(Project.id, Organization.size_class)
            .join(Organization, Organization.id == Project.organization_id)
            .where(Project.program_id == program_id)
        ).all()
    )
    pairs: dict[str, list] = defaultdict(list)
    for (project_id, code), seen in stages.items():
        if seen == {"baseline", "after"}:
            pairs[code].append((kind[project_id], size[project_id]))
    return pairs


@pytest.fixture
def reports(demo_db):
    return {
        role: report_service.program_report(
            demo_db, SYSTEM_ACTOR, program.id, resamples=RESAMPLES
        ).as_dict()
        for role, program in _programs(demo_db).items()
    }


def test_the_report_recovers_the_planted_kpi_effects_within_its_intervals(demo_db, reports):
    for role, program in _programs(demo_db).items():
        report = reports[role]
        pairs = _verified_pairs(demo_db, program.id)
        checked = 0
        for code in demo_kpis.MAIN_KPIS:
            kpi = report["kpis"][code]
            assert kpi["n"] == len(pairs[code])
            if kpi["n"] < 5:  # this year's call: only the finished builds have pairs
                continue
            planted = fmean(
                demo_kpis.planted_improvement(code, *company) for company in pairs[code]
            )
            low, high = kpi["ci"]
            assert low <= planted <= high, (role, code, planted, kpi)
            checked += 1
        assert checked >= (4 if role == "previous" else 2)
    last = reports["previous"]
    assert last["n_participants"] > 100 and last["n_verified"] > 100
    assert all(kpi["n"] >= 50 for code, kpi in last["kpis"].items() if code in demo_kpis.MAIN_KPIS)


def test_advanced_builds_and_larger_firms_improve_more_as_planted(reports):
    groups = reports["previous"]["breakdowns"]
    by_type = groups["support_type"]
    assert by_type["advanced"]["n"] >= 30 and by_type["basic"]["n"] >= 30
    assert by_type["advanced"]["ci"][0] > by_type["basic"]["ci"][1]  # clearly apart
    assert sum(g["n"] for g in by_type.values()) == reports["previous"]["avg_improvement"]["n"]
    by_size = groups["size"]
    assert by_size["micro"]["n"] >= 5
    assert by_size["micro"]["mean"] < by_size["sme"]["mean"]  # micro firms: 0.6 of the effect
    assert demo_kpis.PLANTED_SIZE_FACTOR["micro"] < 1
    for code, effect in demo_kpis.PLANTED_KPI_EFFECT.items():
        assert effect.advanced > effect.basic, code


def test_the_counts_match_what_was_seeded(demo, reports):
    seeded = demo[2]["outcomes"]
    for role, report in reports.items():
        assert {c: k["n"] for c, k in report["kpis"].items()} == seeded["verified_pairs"][role]
    for status in (REPORTED, VERIFIED, REJECTED):
        assert sum(r["values"][status] for r in reports.values()) == seeded["values"][status]
    assert sum(r["values"]["flagged"] for r in reports.values()) == seeded["flagged"]
    assert seeded["flagged"] >= len(demo_kpis.UNIT_SLIPS)
    assert seeded["values"][REJECTED] == demo_kpis.REJECTIONS
    effect = reports["previous"]["financial_effect"]
    assert effect["n"] > 50 and effect["total"] > 0
    assert 0 < effect["n_missing"] <= seeded["without_inputs"]  # missing inputs, not 0 KRW
    assert reports["previous"]["target_achievement"]["n"] > 50


def test_values_are_realistic_and_flags_and_rejections_are_as_planted(demo_db):
    values = defaultdict(list)
    for code, stage, value in demo_db.execute(
        select(KpiMeasurement.kpi_code, KpiMeasurement.stage, KpiMeasurement.value).where(
            KpiMeasurement.status == VERIFIED
        )
    ):
        values[code, stage].append(value)
    assert min(values["defect_rate", "baseline"]) >= 0.5
    assert max(values["defect_rate", "baseline"]) <= 8.0
    assert min(values["defect_rate", "completion"]) > 0
    assert min(values["on_time_delivery", "baseline"]) >= 75
    assert max(values["on_time_delivery", "completion"]) < 100
    for code in ("productivity", "unit_cost", "revenue", "annual_output", "value_added_per_hour"):
        assert min(values[code, "baseline"]) > 0, code
    assert min(values["annual_labour_hours", "baseline"]) >= 1_000  # a few staff × ~2,000 h

    flagged = list(
        demo_db.scalars(
            select(KpiMeasurement).where(
                KpiMeasurement.status == REPORTED, KpiMeasurement.stage == "completion"
            )
        )
    )
    jumps = [m for m in flagged if m.flags]
    assert {m.kpi_code for m in jumps} == {code for code, _f in demo_kpis.UNIT_SLIPS}
    assert all(m.flags[0][1]["ratio"] >= 1000 for m in jumps)  # a unit slip, left to verify
    for m in demo_db.scalars(select(KpiMeasurement).where(KpiMeasurement.status == REJECTED)):
        assert m.rejection_reason in demo_kpis.REJECTION_REASONS and m.decided_by_id
        redone = demo_db.scalars(
            select(KpiMeasurement).where(
                KpiMeasurement.project_id == m.project_id,
                KpiMeasurement.kpi_code == m.kpi_code,
                KpiMeasurement.stage == m.stage,
                KpiMeasurement.status == VERIFIED,
            )
        ).one()
        assert redone.id > m.id and redone.value != m.value


def test_the_demo_sme_sees_its_values_some_verified_one_awaiting(demo_db):
    user = demo_db.scalars(select(User).where(User.email == "sme@demo.sangsaeng.kr")).one()
    actor = accounts.load_actor(demo_db, user)
    (org_id,) = actor.org_ids()
    project = demo_db.scalars(
        select(Project).where(
            Project.organization_id == org_id,
            Project.program_id == _programs(demo_db)["current"].id,
        )
    ).one()
    mine = outcomes.measurements_of(demo_db, actor, project.id)
    stages = {(m.stage, m.status) for m in mine}
    assert {("baseline", VERIFIED), ("completion", VERIFIED)} <= stages
    assert [m.status for m in mine if m.status != VERIFIED] == [REPORTED]  # one awaits


def test_the_demo_kpi_sheet_holds_good_rows_and_the_planted_bad_ones(
    demo, demo_db, tmp_path, monkeypatch
):
    program = _programs(demo_db)["current"]
    data = demo_kpis.kpi_sheet(demo_db, program.id)
    table = reader.read_csv(data)
    assert table.encoding == "cp949" and tuple(table.headers) == demo_kpis.SHEET_HEADERS
    planned = demo_kpis.sheet_rows(demo_db, program.id)
    assert [r.cells() for r in planned] == table.rows
    assert {r.planted for r in planned if r.planted} == set(demo_kpis.PLANTED_ROWS)
    assert sum(not r.planted for r in planned) >= 15

    # Every row through the rules of the form, the API and the import (service.prepare), in
    # the order a company reports: the bad rows are refused with their reason, nothing else.
    operator = accounts.load_actor(
        demo_db, demo_db.scalars(select(User).where(User.email == demo_kpis.OPERATOR_LOGIN)).one()
    )
    by_agreement = {
        p.agreement_no: p
        for p in demo_db.scalars(select(Project).where(Project.program_id == program.id))
    }
    refused, flagged = {}, {}
    order = sorted(range(len(planned)), key=lambda i: planned[i].stage != "baseline")
    for i in order:
        row = planned[i]
        values = outcomes.Report(
            row.code, row.stage, row.period_start, row.period_end, row.value, row.unit
        )
        try:
            m = outcomes.report(demo_db, operator, by_agreement[row.agreement_no].id, values)
        except InvalidInput as exc:
            refused[table.number(i)] = set(exc.fields)
            continue
        if m.flags:
            flagged[table.number(i)] = row.planted
    expected = {
        table.number(i): {demo_kpis.PLANTED_ROWS[r.planted]}
        for i, r in enumerate(planned)
        if r.planted and demo_kpis.PLANTED_ROWS[r.planted] != "flag"
    }
    assert refused == expected
    assert list(flagged.values()) == ["thousand_krw"]
    demo_db.rollback()

    # The command that writes it for the import demo.
    out = tmp_path / "sheet.csv"
    monkeypatch.setenv("SANGSAENG_DATABASE_URL", demo[0])
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["demo", "kpi-sheet", "--out", str(out), "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == data
