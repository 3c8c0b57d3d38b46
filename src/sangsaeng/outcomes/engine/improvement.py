"""KPI improvements, target achievement and the financial effect, as pure functions.

Improvements are signed so that better is positive, whatever the KPI's direction: a defect rate
falling from 4 % to 3 % is a relative improvement of (4 − 3) / 4 = 0.25; productivity rising from
10 to 12 units per hour is (12 − 10) / 10 = 0.2. A relative improvement from a value of 0 is
undefined (None), never 0 or infinite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

HIGHER, LOWER = "higher", "lower"
RELATIVE, DIFFERENCE = "relative", "difference"


def improvement(kind: str, direction: str, before: float, after: float) -> float | None:
    """The improvement from ``before`` to ``after``: a fraction of ``before`` (``relative``) or
    the change itself (``difference``); positive when the KPI got better."""
    if direction not in (HIGHER, LOWER):
        raise ValueError(f"unknown direction {direction!r}")
    change = after - before if direction == HIGHER else before - after
    if kind == DIFFERENCE:
        return change
    if kind != RELATIVE:
        raise ValueError(f"unknown improvement kind {kind!r}")
    if before == 0:
        return None
    return change / abs(before)


def target_achievement(direction: str, before: float, target: float, after: float) -> float | None:
    """목표달성률: the improvement achieved ÷ the improvement targeted (1.0 = target met; above 1
    = exceeded; below 0 = got worse). Undefined when the target asked for no change."""
    aimed = target - before if direction == HIGHER else before - target
    if aimed <= 0:
        return None
    achieved = after - before if direction == HIGHER else before - after
    return achieved / aimed


def company_average(improvements: Mapping[str, float | None]) -> float | None:
    """One company's average improvement: the mean of its defined relative improvements (each
    KPI counts once, whatever its unit); None when it has none."""
    values = [v for v in improvements.values() if v is not None]
    return sum(values) / len(values) if values else None


# --- the annual financial effect --------------------------------------------------------------


@dataclass(frozen=True)
class CompanyInputs:
    """A company's own baseline figures the effect is valued with (None = not reported)."""

    annual_output: float | None = None  # units per year
    unit_cost: float | None = None  # KRW per unit
    annual_hours: float | None = None  # labour hours per year
    value_added_per_hour: float | None = None  # KRW of value added per labour hour


@dataclass(frozen=True)
class EffectPart:
    kind: str  # "defect_rate", "unit_cost", "productivity"
    krw: float
    formula: str
    inputs: dict[str, float]


def N_(msgid: str) -> str:
    """Marks a message id for the translation catalog; the caller translates it."""
    return msgid


FORMULAS = {
    "defect_rate": N_(
        "(defect rate before − after) / 100 × annual output × unit cost (the company's own)"
    ),
    "unit_cost": N_("(unit cost before − after) × annual output (the company's own)"),
    "productivity": N_(
        "(productivity after − before) / productivity before × annual labour hours × value "
        "added per hour (the company's own)"
    ),
}


def financial_effect(
    before: Mapping[str, float], after: Mapping[str, float], inputs: CompanyInputs
) -> tuple[list[EffectPart], list[str]]:
    """The company's annual effect in KRW from its cost-side KPIs and productivity, valued with
    its own baseline inputs. Returns (parts, missing): a KPI measured before and after whose
    inputs are not reported is listed in ``missing`` — counted as missing, never as 0."""
    parts: list[EffectPart] = []
    missing: list[str] = []
    if "defect_rate" in before and "defect_rate" in after:
        if inputs.annual_output is None or inputs.unit_cost is None:
            missing.append("defect_rate")
        else:
            krw = (
                (before["defect_rate"] - after["defect_rate"])
                / 100
                * inputs.annual_output
                * inputs.unit_cost
            )
            parts.append(
                EffectPart(
                    "defect_rate",
                    krw,
                    FORMULAS["defect_rate"],
                    {
                        "before": before["defect_rate"],
                        "after": after["defect_rate"],
                        "annual_output": inputs.annual_output,
                        "unit_cost": inputs.unit_cost,
                    },
                )
            )
    if "unit_cost" in before and "unit_cost" in after:
        if inputs.annual_output is None:
            missing.append("unit_cost")
        else:
            krw = (before["unit_cost"] - after["unit_cost"]) * inputs.annual_output
            parts.append(
                EffectPart(
                    "unit_cost",
                    krw,
                    FORMULAS["unit_cost"],
                    {
                        "before": before["unit_cost"],
                        "after": after["unit_cost"],
                        "annual_output": inputs.annual_output,
                    },
                )
            )
    if "productivity" in before and "productivity" in after:
        if (
            inputs.annual_hours is None
            or inputs.value_added_per_hour is None
            or before["productivity"] == 0
        ):
            missing.append("productivity")
        else:
            gain = (after["productivity"] - before["productivity"]) / before["productivity"]
            krw = gain * inputs.annual_hours * inputs.value_added_per_hour
            parts.append(
                EffectPart(
                    "productivity",
                    krw,
                    FORMULAS["productivity"],
                    {
                        "before": before["productivity"],
                        "after": after["productivity"],
                        "annual_hours": inputs.annual_hours,
                        "value_added_per_hour": inputs.value_added_per_hour,
                    },
                )
            )
    return parts, missing
