"""Checks on a reported KPI value before it is stored: impossible values are refused (with the
reason), suspicious ones are kept but flagged for the operator's verification.

Reasons are message ids (English); the caller translates them with their parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sangsaeng.outcomes.engine.improvement import N_

SUSPICIOUS_RATIO = 100.0  # a value 100× (or 1/100) of the company's previous one is suspicious

# Units that mean the same quantity; any other difference is a unit mismatch.
_SAME_UNIT = {"%": {"%", "percent", "퍼센트"}, "ppm": {"ppm"}}


@dataclass(frozen=True)
class KpiSpec:
    code: str
    unit: str
    min_value: float | None
    max_value: float | None


@dataclass(frozen=True)
class Reported:
    value: float
    unit: str
    period_start: date
    period_end: date


@dataclass
class Verdict:
    refused: dict[str, tuple[str, dict]] = field(default_factory=dict)  # field → (msgid, params)
    flags: list[tuple[str, dict]] = field(default_factory=list)  # (msgid, params)

    @property
    def ok(self) -> bool:
        return not self.refused


def _same_unit(expected: str, given: str) -> bool:
    given = given.strip().lower()
    return given == expected.lower() or given in _SAME_UNIT.get(expected, set())


def check(
    spec: KpiSpec,
    reported: Reported,
    *,
    baseline: Reported | None = None,
    previous: float | None = None,
) -> Verdict:
    """Refuse a value outside the KPI's valid range (a defect rate above 100 %, negative hours),
    in another unit than the catalogue's, with a period ending before it starts or — for a later
    measurement — ending before the baseline period; flag one that jumps by ``SUSPICIOUS_RATIO``
    or more against the company's previous value of the same KPI (often a unit slip)."""
    verdict = Verdict()
    if not _same_unit(spec.unit, reported.unit):
        verdict.refused["unit"] = (
            N_("The unit must be {expected} (given: {given})."),
            {"expected": spec.unit, "given": reported.unit},
        )
    low, high = spec.min_value, spec.max_value
    if (low is not None and reported.value < low) or (high is not None and reported.value > high):
        verdict.refused["value"] = (
            N_("{value} is outside the valid range {low} to {high}."),
            {
                "value": reported.value,
                "low": "" if low is None else low,
                "high": "" if high is None else high,
            },
        )
    if reported.period_end < reported.period_start:
        verdict.refused["period_end"] = (N_("The period ends before it starts."), {})
    elif baseline is not None and reported.period_end <= baseline.period_end:
        verdict.refused["period_end"] = (
            N_("A later measurement must end after the baseline period ({baseline})."),
            {"baseline": baseline.period_end.isoformat()},
        )
    # A move to or from 0 is no jump (a defect rate can reach 0); otherwise compare magnitudes.
    if verdict.ok and previous and reported.value:
        a, b = abs(previous), abs(reported.value)
        ratio = max(a, b) / min(a, b)
        if ratio >= SUSPICIOUS_RATIO:
            verdict.flags.append(
                (
                    N_("{ratio}× the previous value {previous}: check the unit before verifying."),
                    {"ratio": round(ratio), "previous": previous},
                )
            )
    return verdict
