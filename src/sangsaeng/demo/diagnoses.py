"""Synthetic smart-factory diagnoses with PLANTED ground truth (pure: no database).

Every SME gets a diagnosis. Its answers follow a latent maturity that grows with company size.
About 60 % are diagnosed again a year later; of those, the "improvers" (about half) answer every
process and technology question exactly one step higher (capped at the top), and everyone else
answers exactly as before. Tests recover this through the assessments service.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sangsaeng.assessments.engine.instrument import Instrument
from sangsaeng.demo.generator import OrgSpec

IMPROVED_DIMENSIONS = ("process", "technology")


@dataclass(frozen=True)
class DiagnosisSpec:
    org_key: str
    assessed_on: date
    answers: dict[str, float]


@dataclass
class DemoDiagnoses:
    diagnoses: list[DiagnosisSpec]
    improvers: set[str] = field(default_factory=set)  # re-diagnosed with the planted step up
    steady: set[str] = field(default_factory=set)  # re-diagnosed with identical answers


def _answer(rng: random.Random, latent: float, values: list[float]) -> float:
    wanted = latent + rng.gauss(0, 0.6)
    return min(values, key=lambda v: abs(v - wanted))


def generate_diagnoses(
    smes: list[OrgSpec],
    instrument: Instrument,
    seed: int = 2026,
    today: date | None = None,
    featured: str | None = None,
) -> DemoDiagnoses:
    """``featured``: an SME (the demo login's) that is always re-diagnosed with the step up."""
    rng = random.Random(seed * 7 + 1)
    today = today or date(2026, 11, 1)
    result = DemoDiagnoses(diagnoses=[])
    for spec in smes:
        latent = 2.1 + 0.45 * math.log(max(spec.employees, 5) / 10) + rng.gauss(0, 0.5)
        first_on = today - timedelta(days=rng.randint(400, 700))
        answers: dict[str, float] = {}
        for dim in instrument.dimensions:
            for item in dim.items:
                values = sorted(o.value for o in item.scale.options)
                offset = -0.3 if dim.id == "technology" else 0.0
                answers[item.id] = _answer(rng, latent + offset, values)
        result.diagnoses.append(DiagnosisSpec(spec.key, first_on, answers))
        if rng.random() >= 0.6 and spec.key != featured:
            continue
        second_on = first_on + timedelta(days=rng.randint(330, 400))
        improved = rng.random() < 0.5 or spec.key == featured
        later = dict(answers)
        if improved:
            for dim in instrument.dimensions:
                if dim.id not in IMPROVED_DIMENSIONS:
                    continue
                for item in dim.items:
                    better = item.scale.better_options(later[item.id])
                    if better:
                        later[item.id] = better[0].value
            result.improvers.add(spec.key)
        else:
            result.steady.add(spec.key)
        result.diagnoses.append(DiagnosisSpec(spec.key, second_on, later))
    return result
