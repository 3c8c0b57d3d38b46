"""A pure, seeded plan of the demo's support programs (no database), with PLANTED ground truth.

Three calls of a win-win smart-factory program: last year's (every phase done, projects mostly
completed), this year's (projects in progress) and next year's open call. This module decides who
applies to which call, what each asks for, how the evaluators score it and what becomes of each
application and project; ``demo/programs.py`` carries the plan out through the program services.

Planted: a project completed last year is diagnosed again after completion, and its smart-factory
score rises by ``SupportEffect.expected(support type, support) + N(0, noise_sd)`` points — more
for an advanced (고도화) build than a basic (기초) one, and more the larger the support — raised
on the process and technology answers only, as close to the planted gain as whole answer steps
allow. Tests recover the effect from the database through the assessments service.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sangsaeng.assessments.engine import scoring
from sangsaeng.assessments.engine.instrument import Instrument

# The calls' eligibility rule: the diagnosed smart-factory level at most this (this year's call
# opened advanced builds to plants at level 4).
MAX_LEVELS = {"previous": 3, "current": 4, "next": 4}
APPLY_RATE = 0.97  # of the eligible companies, the share that applies to each call
TRY_WHEN_INELIGIBLE = 0.5  # of the ineligible, the share that starts a draft anyway

# Application outcomes (before any project).
INELIGIBLE, DRAFT, WITHDRAWN, SCREENED_OUT, REJECTED = (
    "ineligible",
    "draft",
    "withdrawn",
    "screened_out",
    "rejected",  # ranked below the quota: the reserve list or not selected
)
SUBMITTED = "submitted"  # the open call: submitted, not yet evaluated
UNSIGNED = "unsigned"  # selected, the agreement never signed (the company gave up)
# Project outcomes: the stage an active project has reached (the next milestone to approve), or
# how it ended.
KICKOFF, MIDTERM, COMPLETION, FINAL = "kickoff", "midterm", "completion", "final"
SUSPENDED, CANCELLED, CANCELLED_RECOVERED, COMPLETED = (
    "suspended",
    "cancelled",
    "cancelled_recovered",
    "completed",
)
PROJECT_FATES = (KICKOFF, MIDTERM, COMPLETION, FINAL, SUSPENDED, CANCELLED, CANCELLED_RECOVERED)
PROJECT_FATES += (COMPLETED,)
SELECTED_FATES = (*PROJECT_FATES, UNSIGNED)

# Selected applications by fate, for 320 companies (scaled with the number of companies).
PREVIOUS_SELECTED = {
    COMPLETED: 110,
    FINAL: 6,
    SUSPENDED: 5,
    CANCELLED_RECOVERED: 8,
    CANCELLED: 5,
    UNSIGNED: 2,
}
CURRENT_SELECTED = {
    KICKOFF: 8,
    MIDTERM: 60,
    COMPLETION: 35,
    FINAL: 12,
    SUSPENDED: 5,
    CANCELLED_RECOVERED: 5,
    CANCELLED: 5,
}
# Other outcomes as shares of the applicants.
OTHER_SHARES = ((DRAFT, 0.02), (WITHDRAWN, 0.007), (SCREENED_OUT, 0.045))
# Objections (이의신청) and budget changes (answer → count).
PREVIOUS_OBJECTIONS = {"dismissed": 8, "upheld": 1}
CURRENT_OBJECTIONS = {"dismissed": 4, "upheld": 1, "open": 5}
PREVIOUS_BUDGET_CHANGES = {"approved": 12, "rejected": 3}
CURRENT_BUDGET_CHANGES = {"approved": 10, "rejected": 3, "pending": 4}
OPEN_CALL = {DRAFT: 6, SUBMITTED: 4}

# Evaluation: a selected application's committee score lies in [84, 96], any other in [35, 70];
# each evaluator deviates by at most 4 points and bonus points add at most 2 per sponsor, so the
# ranking selects exactly the planned applications (checked when the demo is seeded).
SELECTED_SCORES, OTHER_SCORES = (84.0, 96.0), (35.0, 70.0)
EVALUATOR_SPREAD = 4
# Total project cost (KRW, in millions) by support type; the program pays 60 % of it.
TOTAL_MILLIONS = {"basic": (40, 66), "advanced": (90, 166)}


@dataclass(frozen=True)
class SupportEffect:
    """The planted gain (overall smart-factory score points, 0–100 scale) between the diagnosis
    attached to an application and the one after its project was completed."""

    basic_gain: float = 3.0
    advanced_gain: float = 8.0
    per_100m_krw: float = 5.0  # extra points per 100,000,000 KRW of support
    noise_sd: float = 1.5
    dimensions: tuple[str, ...] = ("process", "technology")

    def expected(self, support_type: str, support_krw: int) -> float:
        base = self.advanced_gain if support_type == "advanced" else self.basic_gain
        return base + self.per_100m_krw * support_krw / 100_000_000


PLANTED_SUPPORT_EFFECT = SupportEffect()


@dataclass
class AppPlan:
    key: str  # the company
    fate: str
    support_type: str = "basic"
    total_krw: int = 0
    score: float = 0.0  # the committee's score the evaluators aim at
    objection: str | None = None  # dismissed / upheld / open
    budget_change: str | None = None  # approved / rejected / pending

    @property
    def support_krw(self) -> int:
        """What the program pays (government and sponsor shares, 30 % + 30 %)."""
        return self.total_krw - self.total_krw * 4 // 10


@dataclass
class ProgramPlan:
    role: str  # previous / current / next
    apps: list[AppPlan] = field(default_factory=list)

    def of(self, *fates: str) -> list[AppPlan]:
        return [a for a in self.apps if a.fate in fates]

    @property
    def selected(self) -> list[AppPlan]:
        return self.of(*SELECTED_FATES)


def plan_programs(
    keys: list[str],
    levels: dict[str, int],
    single: set[str],
    *,
    seed: int,
    featured: str | None = None,
) -> dict[str, ProgramPlan]:
    """``keys``: the companies in a stable order; ``levels``: their diagnosed level now (what
    the services check eligibility against); ``single``: those diagnosed once (only they complete
    last year's projects, so that their diagnosis after completion is their second: see the
    module docstring); ``featured``: the demo login's company, which did not apply last year, has
    finished this year's build (its completion report approved, the final inspection ahead: it
    sees its KPIs before and after, demo/outcomes.py) and has not applied to the open call (the
    browser demo applies)."""
    rng = random.Random(seed * 13 + 5)
    scale = len(keys) / 320
    others = [k for k in keys if k != featured]
    previous = _call(
        rng, "previous", others, levels, PREVIOUS_SELECTED, scale, fixed={}, completing=single
    )
    fixed = {}
    if featured is not None and levels.get(featured, 99) <= MAX_LEVELS["current"]:
        fixed[featured] = FINAL
    current = _call(
        rng, "current", keys, levels, CURRENT_SELECTED, scale, fixed=fixed, completing=set(keys)
    )
    _objections(rng, previous, PREVIOUS_OBJECTIONS, scale)
    _objections(rng, current, CURRENT_OBJECTIONS, scale)
    _budget_changes(rng, previous, PREVIOUS_BUDGET_CHANGES, scale, (COMPLETED,))
    _budget_changes(rng, current, CURRENT_BUDGET_CHANGES, scale, (MIDTERM, COMPLETION, FINAL))
    upcoming = ProgramPlan("next")
    eligible = [k for k in others if levels[k] <= MAX_LEVELS["next"]]
    chosen = rng.sample(eligible, sum(OPEN_CALL.values()))
    fates = [fate for fate, n in OPEN_CALL.items() for _ in range(n)]
    upcoming.apps = [
        _ask(rng, AppPlan(k, fate), levels[k]) for k, fate in zip(chosen, fates, strict=True)
    ]
    return {"previous": previous, "current": current, "next": upcoming}


def _call(
    rng: random.Random,
    role: str,
    keys: list[str],
    levels: dict[str, int],
    selected: dict[str, int],
    scale: float,
    *,
    fixed: dict[str, str],
    completing: set[str],
) -> ProgramPlan:
    plan = ProgramPlan(role)
    fates: dict[str, str] = dict(fixed)
    pool = []
    for key in keys:
        if levels[key] > MAX_LEVELS[role]:
            if rng.random() < TRY_WHEN_INELIGIBLE:
                fates[key] = INELIGIBLE
        elif key in fixed or rng.random() < APPLY_RATE:
            pool.append(key)
    rng.shuffle(pool)
    free = [k for k in pool if k not in fixed]
    for fate, count in selected.items():
        wanted = max(1, round(count * scale))
        chosen = [k for k in free if fate != COMPLETED or k in completing][:wanted]
        fates.update(dict.fromkeys(chosen, fate))
        free = [k for k in free if k not in fates]
    for fate, share in OTHER_SHARES:
        chosen = free[: max(1, round(share * len(pool)))]
        fates.update(dict.fromkeys(chosen, fate))
        free = [k for k in free if k not in fates]
    fates.update(dict.fromkeys(free, REJECTED))
    for key in keys:  # in the companies' order, so that the plan reads naturally
        if key in fates:
            plan.apps.append(_ask(rng, AppPlan(key, fates[key]), levels[key]))
    return plan


def _ask(rng: random.Random, app: AppPlan, level: int) -> AppPlan:
    """What the company asks for: plants at level 2 or above mostly want an advanced build."""
    advanced = rng.random() < (0.7 if level >= 2 else 0.35)
    app.support_type = "advanced" if advanced else "basic"
    low, high = TOTAL_MILLIONS[app.support_type]
    app.total_krw = rng.randint(low, high) * 1_000_000
    band = SELECTED_SCORES if app.fate in SELECTED_FATES else OTHER_SCORES
    app.score = round(rng.uniform(*band), 1)
    return app


def _objections(
    rng: random.Random, plan: ProgramPlan, counts: dict[str, int], scale: float
) -> None:
    candidates = plan.of(REJECTED, SCREENED_OUT)
    rng.shuffle(candidates)
    answers = [answer for answer, n in counts.items() for _ in range(max(1, round(n * scale)))]
    for app, answer in zip(candidates, answers, strict=False):  # fewer when few qualify
        app.objection = answer


def _budget_changes(
    rng: random.Random, plan: ProgramPlan, counts: dict[str, int], scale: float, fates: tuple
) -> None:
    candidates = plan.of(*fates)
    rng.shuffle(candidates)
    answers = [answer for answer, n in counts.items() for _ in range(max(1, round(n * scale)))]
    for app, answer in zip(candidates, answers, strict=False):  # fewer when few qualify
        app.budget_change = answer


def planted_gain(rng: random.Random, app: AppPlan, effect: SupportEffect) -> float:
    """The gain planted for one completed project: its expected gain plus noise (never < 0)."""
    return max(
        0.0, effect.expected(app.support_type, app.support_krw) + rng.gauss(0, effect.noise_sd)
    )


def raised_answers(
    rng: random.Random,
    instrument: Instrument,
    answers: dict[str, float],
    gain: float,
    dimensions: tuple[str, ...],
) -> dict[str, float]:
    """``answers`` with answers of ``dimensions`` raised one step at a time (items tried in a
    random order) while a step brings the overall score closer to ``gain`` points above where it
    was: the result is within one answer step of the gain; answers at the top stay."""
    start = scoring.score(instrument, answers).overall
    raised, reached = dict(answers), start
    items = [i for d in instrument.dimensions if d.id in dimensions for i in d.items]
    while True:
        room = [i for i in items if i.scale.better_options(raised[i.id])]
        rng.shuffle(room)
        for item in room:
            trial = dict(raised, **{item.id: item.scale.better_options(raised[item.id])[0].value})
            overall = scoring.score(instrument, trial).overall
            if abs(overall - start - gain) < abs(reached - start - gain):
                raised, reached = trial, overall
                break
        else:
            return raised
