"""How a company's KPIs moved beside the other companies of its program.

For each KPI of the project (its targets and whatever it reported): the company's own
improvement from its verified baseline to its latest verified later value, and the median of the
same improvement over the program's other companies with a verified pair, with their number n.
The median is withheld below ``MIN_OTHERS`` companies, so no single company's figure can be
read off it. Only verified values count; self-reported values wait for the operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from sangsaeng.core.i18n import N_
from sangsaeng.core.policy import Actor
from sangsaeng.core.reference.catalogue import kpi_catalogue
from sangsaeng.outcomes.engine.improvement import improvement
from sangsaeng.outcomes.models import VERIFIED, KpiMeasurement
from sangsaeng.programs import project_service as projects
from sangsaeng.programs.models import Application, Project

MIN_OTHERS = 5  # fewer other companies than this: the program's median is not shown

METHOD = N_(
    "Improvement = from the verified baseline to the latest verified later value (by the end of "
    "its period), signed so that better is positive; relative KPIs as a fraction of the "
    "baseline, count KPIs as the change itself. The program's figure is the median over the "
    "other companies of the program with both values verified (one value per company: the mean "
    "of its projects); it is not shown when fewer than {min_n} companies have one."
)

# Why the company's own figure is missing.
NO_BASELINE = N_("No verified baseline yet.")
NO_AFTER = N_("No verified value after the baseline yet.")
UNDEFINED = N_("Undefined: the baseline is 0.")


@dataclass(frozen=True)
class Pair:
    before: float
    before_end: date
    after: float
    after_end: date


@dataclass(frozen=True)
class KpiComparison:
    code: str
    name: str
    unit: str
    kind: str  # "relative" (a fraction of the baseline) or "difference" (in the KPI's unit)
    direction: str
    own: Pair | None
    own_improvement: float | None
    own_missing: str | None  # msgid of why own_improvement is missing
    program_median: float | None  # None when fewer than MIN_OTHERS others (or none)
    n_others: int  # other companies of the program with a verified pair
    suppressed: bool  # 0 < n_others < MIN_OTHERS


def _pairs(rows) -> dict[tuple[int, str], Pair]:
    """(project, KPI) → its verified baseline (the latest one verified) and latest verified
    later value. ``rows``: (project_id, kpi_code, stage, value, period_end, id)."""
    baselines: dict[tuple[int, str], tuple] = {}
    afters: dict[tuple[int, str], tuple] = {}
    for project_id, code, stage, value, period_end, row_id in rows:
        key = (project_id, code)
        target = baselines if stage == "baseline" else afters
        best = target.get(key)
        if best is None or (period_end, row_id) > (best[1], best[2]):
            target[key] = (value, period_end, row_id)
    return {
        key: Pair(before[0], before[1], afters[key][0], afters[key][1])
        for key, before in baselines.items()
        if key in afters
    }


def company_comparison(session: Session, actor: Actor, project_id: int) -> list[KpiComparison]:
    """For those who may read the project (its company, its program's operators)."""
    project = projects.get_project(session, actor, project_id)
    catalogue = kpi_catalogue(session)
    targets = session.scalar(
        select(Application.target_kpis).where(Application.id == project.application_id)
    )
    own_codes = [
        item.get("code") for item in (targets or []) if isinstance(item, dict) and item.get("code")
    ]
    own_codes += list(
        session.scalars(
            select(KpiMeasurement.kpi_code)
            .where(KpiMeasurement.project_id == project.id)
            .distinct()
            .order_by(KpiMeasurement.kpi_code)
        )
    )
    codes = [
        c
        for i, c in enumerate(own_codes)
        if c in catalogue and catalogue[c].category != "input" and c not in own_codes[:i]
    ]
    if not codes:
        return []
    rows = session.execute(
        select(
            KpiMeasurement.project_id,
            KpiMeasurement.kpi_code,
            KpiMeasurement.stage,
            KpiMeasurement.value,
            KpiMeasurement.period_end,
            KpiMeasurement.id,
            Project.organization_id,
        )
        .join(Project, Project.id == KpiMeasurement.project_id)
        .where(
            Project.program_id == project.program_id,
            KpiMeasurement.status == VERIFIED,
            KpiMeasurement.kpi_code.in_(codes),
        )
    ).all()
    org_of = {r[0]: r[6] for r in rows}
    pairs = _pairs(r[:6] for r in rows)
    out = []
    for code in codes:
        kpi = catalogue[code]
        by_company: dict[int, list[float]] = {}
        for (pid, kpi_code), pair in pairs.items():
            if kpi_code != code or org_of[pid] == project.organization_id:
                continue
            value = improvement(kpi.improvement, kpi.direction, pair.before, pair.after)
            if value is not None:
                by_company.setdefault(org_of[pid], []).append(value)
        others = [sum(v) / len(v) for v in by_company.values()]
        own = pairs.get((project.id, code))
        own_value, missing = None, None
        if own is None:
            has_base = any(r[0] == project.id and r[1] == code and r[2] == "baseline" for r in rows)
            missing = NO_AFTER if has_base else NO_BASELINE
        else:
            own_value = improvement(kpi.improvement, kpi.direction, own.before, own.after)
            missing = UNDEFINED if own_value is None else None
        shown = len(others) >= MIN_OTHERS
        out.append(
            KpiComparison(
                code=code,
                name=kpi.name,
                unit=kpi.unit,
                kind=kpi.improvement,
                direction=kpi.direction,
                own=own,
                own_improvement=own_value,
                own_missing=missing,
                program_median=median(others) if shown else None,
                n_others=len(others),
                suppressed=0 < len(others) < MIN_OTHERS,
            )
        )
    return out
