"""The program performance report as JSON under /api/v1 (thin: parse, call the service,
return its ``as_dict``)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from sangsaeng.core.web.deps import CurrentActor, SessionDep
from sangsaeng.outcomes import report_service

router = APIRouter(prefix="/api/v1", tags=["outcomes"])


@router.get("/programs/{program_id}/outcomes")
def program_outcomes(
    program_id: int,
    db: SessionDep,
    actor: CurrentActor,
    after: Literal["latest", "completion"] = "latest",
    sponsor: int | None = None,
) -> dict:
    """The performance report: participants, verified companies, the average improvement per
    company (mean, median, 10 % trimmed mean, 95 % bootstrap interval), per KPI, target
    achievement, the financial effect with its formulas, totals, breakdowns, level change,
    value counts and the method — every figure with its n. Ratios are fractions, money KRW.
    Operators of the program see it all (``sponsor`` narrows it to one sponsor's companies);
    a sponsor sees the companies it funds."""
    result = report_service.program_report(db, actor, program_id, sponsor_id=sponsor, after=after)
    return result.as_dict()
