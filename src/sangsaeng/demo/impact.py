"""A synthetic firm-year panel for impact studies, with PLANTED ground truth.

What an operator would import from 국세청 / credit-bureau extracts: one row per firm and year
(revenue, operating profit, R&D spend, employees, exports) for the programs' participants and
for at least ten times as many non-participants. Participants cluster in a few manufacturing
divisions and mid revenue bands, as in real smart-factory programs; non-participants spread
over every manufacturing division and a wider range of revenue.

PLANTED (``PLANTED_IMPACT``):

- **Selection on pre-period growth.** Log revenue is ``level + trend · k + macro year effect +
  division-year shock + noise``: every firm has its own persistent trend, participants' trends
  are higher on average, so participants outgrow non-participants before, during and after any
  support and the naive participants-vs-all comparison is biased upwards. The yearly noise is
  small beside the spread of trends, so matching on the level in the year before the cohort and
  the growth over the two years before it (within KSIC division × revenue band) finds
  non-participants with nearly the same trend and removes most of that bias.
- **A staggered, heterogeneous effect** on log revenue from the year support was completed:
  ``base + per_year · e`` log points ``e`` years after completion, ``first_cohort_extra`` more
  for the earliest completion cohort; a smaller one on log employees; nothing before completion
  (so a study by start year sees none in the start year when completion came later). Operating
  profit, R&D spend and exports are fixed ratios of revenue with their own noise: they move with
  it. ``Truth`` states the true ATT(g, t) and the Callaway–Sant'Anna "simple" aggregate.

Data as extracts have them: a few values missing, a few firms absent some years (gaps, late
entry); business numbers carry a valid check digit and never collide with the demo's
organizations. ``seed_impact`` stores the demo's panel (demo/seed.py calls it): nine years up
to this year, every company with a project in the demo programs. Those projects complete in one
year (last year's call, completed this year) and start in two, so a study of the demo by
completion year has one cohort with one post-year, by start year two cohorts; staggered
completion cohorts show with ``synthetic_participants``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import case, func, insert, select
from sqlalchemy.orm import Session

from sangsaeng.core import reference
from sangsaeng.core.models import Organization, User, utcnow
from sangsaeng.demo.generator import DIVISION_WEIGHTS, REGION_WEIGHTS
from sangsaeng.impact.models import FirmPanel, FirmYear
from sangsaeng.programs.models import P_CANCELLED, P_COMPLETED, Program, Project


@dataclass(frozen=True)
class Participant:
    """A firm that took part: its identifiers and the years its support started and completed
    (``None``: not completed yet); ``revenue_krw`` / ``employees``, when known, anchor its
    figures in the panel's last year (before any effect)."""

    business_no: str
    ksic_code: str
    region_code: str | None
    completed: int | None
    started: int | None
    revenue_krw: int | None = None
    employees: int | None = None


@dataclass(frozen=True)
class PlantedImpact:
    # The effect, in log points, e years after completion (e ≥ 0).
    revenue_base: float = 0.03
    revenue_per_year: float = 0.02
    first_cohort_extra: float = 0.03  # the earliest completion cohort gained this much more
    employees_base: float = 0.01
    employees_per_year: float = 0.005
    # Selection: yearly trends of log revenue, participants above everyone else.
    trend_participants: float = 0.045
    trend_others: float = 0.02
    trend_sd_participants: float = 0.045
    trend_sd_others: float = 0.06
    noise_sd: float = 0.01  # yearly transitory noise of log revenue
    division_shock_sd: float = 0.01  # a division's shock in a year, shared by its firms
    employees_elasticity: float = 0.5  # employees grow by this share of the revenue trend

    def effect(self, outcome: str, cohort: int, year: int, boosted: bool) -> float:
        e = year - cohort
        if e < 0:
            return 0.0
        if outcome == "revenue":
            extra = self.first_cohort_extra if boosted else 0.0
            return self.revenue_base + self.revenue_per_year * e + extra
        if outcome == "employees":
            return self.employees_base + self.employees_per_year * e
        raise ValueError(f"no planted effect stated for {outcome!r}")


PLANTED_IMPACT = PlantedImpact()

PARTICIPANT_DIVISIONS = {"29": 25, "25": 20, "30": 20, "22": 15, "26": 10, "28": 10}
PARTICIPANT_REVENUE = (12e9, 0.55)  # median KRW, SD of log: mid bands (₩5–50bn)
# Non-participants: centred on the participants' median, spread from under ₩1bn to over ₩100bn
# (the SD of log revenue); centred elsewhere, size would enter the propensity score and
# matching would trade pre-period growth for size.
OTHERS_REVENUE_SD = 1.2
REVENUE_LIMITS = (2e8, 8e11)
EXPORTER_SHARE = (0.35, 0.22)  # participants, others
RND_SHARE = (0.8, 0.6)  # firms that report R&D spend: participants, others
MISSING_SHARE = 0.004  # of the non-revenue cells, missing
MISSING_REVENUE = 0.0005
GAP_SHARE = 0.01  # non-participants missing one interior year
LATE_SHARE = 0.03  # non-participants that enter the panel late (founded, or first filed)


@dataclass(frozen=True)
class Truth:
    """The planted effect, for the participants of one panel.

    ``completed`` / ``started``: participant business number → the year its support completed /
    started (participants not completed have no effect in the panel's years)."""

    years: tuple[int, ...]
    impact: PlantedImpact
    boosted_cohort: int | None  # the earliest completion cohort
    completed: Mapping[str, int] = field(repr=False)
    started: Mapping[str, int] = field(repr=False)

    @classmethod
    def of(
        cls,
        participants: Sequence[Participant],
        years: Sequence[int],
        impact: PlantedImpact = PLANTED_IMPACT,
    ) -> Truth:
        completed = {p.business_no: p.completed for p in participants if p.completed}
        started = {p.business_no: p.started for p in participants if p.started}
        return cls(
            tuple(years),
            impact,
            min(completed.values()) if completed else None,
            completed,
            started,
        )

    def att(self, cohort: int, year: int, outcome: str = "revenue") -> float:
        """The true ATT(g, t) of completion cohort ``cohort`` in ``year`` (log points)."""
        return self.impact.effect(outcome, cohort, year, cohort == self.boosted_cohort)

    def att_started(self, cohort: int, year: int, outcome: str = "revenue") -> float:
        """The true ATT(g, t) when cohorts are start years: the mean effect in ``year`` over
        the participants that started in ``cohort``, each from its own completion year (none
        before it, none for a participant not completed)."""
        effects = [
            self.att(self.completed[b], year, outcome) if b in self.completed else 0.0
            for b, g in self.started.items()
            if g == cohort
        ]
        return float(np.mean(effects)) if effects else 0.0

    def simple_att(
        self,
        cohort_sizes: Mapping[int, int],
        years: Sequence[int],
        outcome: str = "revenue",
        rule: str = "completed",
    ) -> float:
        """The true "simple" aggregate: the mean of ATT(g, t) over post-treatment cells
        (t ≥ g, t in ``years``), each weighted by its cohort's size — Callaway & Sant'Anna's
        (R did's aggte "simple") weights. ``cohort_sizes``: cohort → firms; ``rule``: cohorts
        are completion ("completed") or start ("started") years."""
        att = self.att if rule == "completed" else self.att_started
        num = den = 0.0
        for g, n in cohort_sizes.items():
            for t in years:
                if t >= int(g):
                    num += n * att(int(g), t, outcome)
                    den += n
        if not den:
            raise ValueError("no post-treatment cell")
        return num / den


# --- the generator (pure) --------------------------------------------------------------------

_WEIGHTS = np.array([1, 3, 7, 1, 3, 7, 1, 3, 5])
_GROUPS: dict[str, list[str]] = {}


def _groups(division: str) -> list[str]:
    if division not in _GROUPS:
        table = reference.ksic_table().values()
        found = [e.code for e in table if e.level == "group" and e.parent == division]
        _GROUPS[division] = found or [division]
    return _GROUPS[division]


def check_digits(first_nine: np.ndarray) -> np.ndarray:
    """The National Tax Service check digit of each nine-digit number (as core.ids, vectorised)."""
    digits = np.stack([(first_nine // 10 ** (8 - j)) % 10 for j in range(9)], axis=1)
    total = digits @ _WEIGHTS + (digits[:, 8] * 5) // 10
    return (10 - total % 10) % 10


def synthetic_business_numbers(
    rng: np.random.Generator, n: int, exclude: Collection[str] = ()
) -> np.ndarray:
    """``n`` distinct valid business numbers (tax office 101–899; corporate kinds 81–88 for
    four firms in five, individual 01–79 otherwise), none of them in ``exclude``."""
    taken = {int(b) for b in exclude if b.isdigit()}
    found: list[np.ndarray] = []
    have = 0
    while have < n:
        m = int((n - have) * 1.1) + 16
        office = rng.integers(101, 900, m)
        corporate = rng.random(m) < 0.8
        kind = np.where(corporate, rng.integers(81, 89, m), rng.integers(1, 80, m))
        serial = rng.integers(0, 10_000, m)
        first = office * 1_000_000 + kind * 10_000 + serial
        numbers = first * 10 + check_digits(first)
        numbers = numbers[~np.isin(numbers, list(taken))] if taken else numbers
        _, keep = np.unique(numbers, return_index=True)
        numbers = numbers[np.sort(keep)]
        found.append(numbers)
        taken.update(numbers.tolist())
        have += len(numbers)
    return np.char.zfill(np.concatenate(found)[:n].astype(str), 10)


def _weighted_choice(rng: np.random.Generator, weights: Mapping[str, float], n: int) -> np.ndarray:
    keys = np.array(list(weights))
    p = np.array(list(weights.values()), dtype=float)
    return keys[rng.choice(len(keys), n, p=p / p.sum())]


def _ksic_groups(rng: np.random.Generator, divisions: np.ndarray) -> np.ndarray:
    codes = np.empty(len(divisions), dtype=object)
    for division in np.unique(divisions):
        at = np.flatnonzero(divisions == division)
        groups = np.array(_groups(str(division)), dtype=object)
        codes[at] = groups[rng.integers(0, len(groups), len(at))]
    return codes


def _others_divisions() -> dict[str, float]:
    """Every manufacturing division, the demo's weights flattened (square root): the extract
    covers manufacturing at large, participants come from a few divisions."""
    divisions = [e.code for e in reference.ksic_divisions() if e.parent == "C"]
    return {d: max(DIVISION_WEIGHTS.get(d, 0.5), 0.5) ** 0.5 for d in divisions}


def _log_revenue(rng, n, median_sd):
    median, sd = median_sd
    low, high = np.log(REVENUE_LIMITS)
    return np.clip(rng.normal(np.log(median), sd, n), low, high)


def synthetic_participants(n: int, years: Sequence[int], seed: int = 0) -> list[Participant]:
    """``n`` participants for a benchmark or a test: clustered in a few manufacturing divisions
    and mid revenue bands; completion cohorts staggered over the panel's years from the fourth
    on (each cohort has two pre-years of growth and its base year), nine in ten completed, the
    rest started in the last year and still running."""
    years = sorted(years)
    if len(years) < 4:
        raise ValueError("staggered cohorts need at least four years")
    rng = np.random.default_rng([seed, 7])
    numbers = synthetic_business_numbers(rng, n)
    divisions = _weighted_choice(rng, PARTICIPANT_DIVISIONS, n)
    ksic = _ksic_groups(rng, divisions)
    regions = _weighted_choice(rng, REGION_WEIGHTS, n)
    revenue = np.exp(_log_revenue(rng, n, PARTICIPANT_REVENUE)).round(-6)
    cohorts = np.array(years[3:])
    completed = cohorts[rng.integers(0, len(cohorts), n)]
    running = rng.random(n) < 0.1
    started = np.where(running, years[-1], completed - rng.integers(0, 2, n))
    return [
        Participant(
            str(numbers[i]),
            str(ksic[i]),
            str(regions[i]),
            None if running[i] else int(completed[i]),
            int(started[i]),
            int(revenue[i]),
        )
        for i in range(n)
    ]


def _int_array(values: np.ndarray, missing: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)


def firm_year_panel(
    participants: Sequence[Participant],
    *,
    years: Sequence[int],
    non_participant_ratio: int = 12,
    seed: int = 2026,
    exclude: Collection[str] = (),
    impact: PlantedImpact = PLANTED_IMPACT,
) -> tuple[pd.DataFrame, Truth]:
    """Rows (business_no, year, ksic_code, region_code, revenue, operating_profit, rnd_spend,
    employees, exports; money in KRW, nullable integers) of ``participants`` and
    ``non_participant_ratio`` times as many non-participants (business numbers not in
    ``exclude`` nor among the participants'), and the planted ``Truth``. Vectorised: 100,000
    firms × 8 years take a few seconds."""
    years = sorted(int(y) for y in years)
    if years != list(range(years[0], years[0] + len(years))):
        raise ValueError("the panel's years must be consecutive")
    if non_participant_ratio < 10:
        raise ValueError("the demo panel has at least ten non-participants per participant")
    rng = np.random.default_rng([seed, 11])
    n_p = len(participants)
    n_o = non_participant_ratio * max(n_p, 1)
    n, t = n_p + n_o, len(years)
    own = [p.business_no for p in participants]
    numbers = np.concatenate(
        [np.array(own, dtype="U10"), synthetic_business_numbers(rng, n_o, {*exclude, *own})]
    )
    part = np.arange(n) < n_p

    ksic = np.concatenate(
        [
            np.array([p.ksic_code for p in participants], dtype=object),
            _ksic_groups(rng, _weighted_choice(rng, _others_divisions(), n_o)),
        ]
    )
    division = np.array([str(k)[:2] for k in ksic])
    regions = np.concatenate(
        [
            np.array([p.region_code for p in participants], dtype=object),
            _weighted_choice(rng, REGION_WEIGHTS, n_o).astype(object),
        ]
    )

    # Log revenue in the last year (before any effect): the participant's own when known.
    known = np.array([float(p.revenue_krw or 0) for p in participants])
    own_level = np.where(
        known > 0, np.log(np.maximum(known, 1)), _log_revenue(rng, n_p, PARTICIPANT_REVENUE)
    )
    centre = float(np.exp(np.median(own_level))) if n_p else PARTICIPANT_REVENUE[0]
    last_level = np.concatenate([own_level, _log_revenue(rng, n_o, (centre, OTHERS_REVENUE_SD))])
    trend = rng.normal(
        np.where(part, impact.trend_participants, impact.trend_others),
        np.where(part, impact.trend_sd_participants, impact.trend_sd_others),
    )
    k = np.arange(t) - (t - 1)  # years before the last: ≤ 0
    macro = np.cumsum(rng.normal(0.015, 0.025, t))
    macro -= macro[-1]
    div_codes, div_index = np.unique(division, return_inverse=True)
    shocks = rng.normal(0, impact.division_shock_sd, (len(div_codes), t))
    log_revenue = (
        last_level[:, None]
        + trend[:, None] * k
        + macro
        + shocks[div_index]
        + rng.normal(0, impact.noise_sd, (n, t))
    )

    # The planted effect, from each participant's completion year on.
    completed = np.array([p.completed or 0 for p in participants] + [0] * n_o)
    truth = Truth.of(participants, years, impact)
    e = np.array(years) - completed[:, None]
    treated = (completed[:, None] > 0) & (e >= 0)
    boost = np.where(completed == truth.boosted_cohort, impact.first_cohort_extra, 0.0)
    revenue_effect = np.where(
        treated, impact.revenue_base + impact.revenue_per_year * e + boost[:, None], 0.0
    )
    employees_effect = np.where(treated, impact.employees_base + impact.employees_per_year * e, 0.0)
    revenue = np.round(np.exp(log_revenue + revenue_effect), -3)

    # Employees: revenue per head of a manufacturing SME (~₩260m), growing with part of the
    # revenue trend; the participant's own head count when known.
    heads = np.array([float(p.employees or 0) for p in participants] + [0.0] * n_o)
    per_head = np.exp(rng.normal(np.log(2.6e8), 0.4, n))
    last_heads = np.where(heads > 0, np.log(np.maximum(heads, 1)), last_level - np.log(per_head))
    log_heads = (
        last_heads[:, None]
        + impact.employees_elasticity * (trend[:, None] * k + macro)
        + rng.normal(0, 0.03, (n, t))
        + employees_effect
    )
    employees = np.maximum(np.round(np.exp(log_heads)), 1)

    margin = rng.normal(0.05, 0.04, n)[:, None] + rng.normal(0, 0.025, (n, t))
    operating_profit = np.round(revenue * margin, -3)
    rnd_firm = rng.random(n) < np.where(part, RND_SHARE[0], RND_SHARE[1])
    rnd_rate = np.exp(rng.normal(np.log(0.02), 0.6, n))[:, None] * np.exp(
        rng.normal(0, 0.1, (n, t))
    )
    rnd_spend = np.where(rnd_firm[:, None], np.round(revenue * rnd_rate, -3), 0)
    exporter = rng.random(n) < np.where(part, EXPORTER_SHARE[0], EXPORTER_SHARE[1])
    export_rate = np.exp(rng.normal(np.log(0.2), 0.7, n))[:, None] * np.exp(
        rng.normal(0, 0.15, (n, t))
    )
    exports = np.where(exporter[:, None], np.round(revenue * np.minimum(export_rate, 0.95), -3), 0)

    # Rows present: a few non-participants skip an interior year or enter late.
    present = np.ones((n, t), dtype=bool)
    others = np.flatnonzero(~part)
    if t >= 3:
        gap = others[rng.random(n_o) < GAP_SHARE]
        present[gap, rng.integers(1, t - 1, len(gap))] = False
        late = others[rng.random(n_o) < LATE_SHARE]
        entry = rng.integers(1, max(2, t // 2), len(late))
        present[late] &= np.arange(t)[None, :] >= entry[:, None]
    keep = present.ravel()

    def cells(values: np.ndarray, share: float) -> pd.arrays.IntegerArray:
        missing = rng.random(n * t) < share
        return _int_array(values.ravel()[keep], missing[keep])

    frame = pd.DataFrame(
        {
            "business_no": np.repeat(numbers.astype(object), t)[keep],
            "year": np.tile(np.array(years, dtype=np.int64), n)[keep],
            "ksic_code": np.repeat(ksic, t)[keep],
            "region_code": np.repeat(regions, t)[keep],
            "revenue": cells(revenue, MISSING_REVENUE),
            "operating_profit": cells(operating_profit, MISSING_SHARE),
            "rnd_spend": cells(rnd_spend, MISSING_SHARE),
            "employees": cells(employees, MISSING_SHARE),
            "exports": cells(exports, MISSING_SHARE),
        }
    )
    return frame, truth


# --- the demo's panel (database) -------------------------------------------------------------

PANEL_YEARS = 9  # the extract's length: several pre-years before the demo's cohorts
PANEL_NAME = "국세청·신용평가 재무 추출 {first}–{last} (합성)"
PANEL_NOTE = (
    "데모용 합성 자료입니다. 사업 참여기업과 비참여기업(참여기업의 12배)의 연도별 매출액, "
    "영업이익, 연구개발비, 종업원 수, 수출액이며, 참여 효과와 성장세에 따른 선정 편의가 "
    "심어져 있습니다."
)
OPERATOR_LOGIN = "operator@demo.sangsaeng.kr"


@dataclass
class SeededImpact:
    panel_id: int
    name: str
    years: tuple[int, int]
    firms: int
    rows: int
    participants: int
    cohorts: dict[str, dict[int, int]]  # rule → cohort year → participants
    truth: Truth = field(repr=False)

    def summary(self) -> dict:
        return {
            "panel_id": self.panel_id,
            "name": self.name,
            "years": list(self.years),
            "firms": self.firms,
            "rows": self.rows,
            "participants": self.participants,
            "cohorts": {
                rule: {str(g): n for g, n in sorted(c.items())} for rule, c in self.cohorts.items()
            },
        }


def demo_participants(session: Session, program_ids: Collection[int]) -> list[Participant]:
    """Every company with a project in ``program_ids``, with the cohorts an impact study gives
    it: the year its first completed project was completed, and the year its first project not
    cancelled started (``None`` where there is none)."""
    rows = session.execute(
        select(
            Organization.business_no,
            Organization.ksic_code,
            Organization.region_code,
            func.min(case((Project.status == P_COMPLETED, Project.completed_on))),
            func.min(case((Project.status != P_CANCELLED, Project.starts_on))),
            Organization.revenue_krw,
            Organization.employees,
        )
        .join(Project, Project.organization_id == Organization.id)
        .where(Project.program_id.in_(list(program_ids)))
        .group_by(Organization.id)
        .order_by(Organization.business_no)
    ).all()
    return [
        Participant(
            business_no,
            ksic or "",
            region,
            _year(completed),
            _year(started),
            revenue,
            employees,
        )
        for business_no, ksic, region, completed, started, revenue, employees in rows
    ]


def _year(day: date | str | None) -> int | None:
    if day is None:
        return None
    return day.year if isinstance(day, date) else int(str(day)[:4])


def panel_years(participants: Sequence[Participant], today: date) -> list[int]:
    """The extract's years: up to this year (or the latest cohort), ``PANEL_YEARS`` long."""
    cohorts = [y for p in participants for y in (p.completed, p.started) if y]
    last = max([today.year, *cohorts])
    return list(range(last - PANEL_YEARS + 1, last + 1))


def _records(frame: pd.DataFrame, panel_id: int) -> list[dict]:
    """Plain Python values for the driver (None for missing)."""
    columns = {c: frame[c].astype(object).where(frame[c].notna(), None) for c in frame.columns}
    columns["year"] = frame["year"].astype(int).tolist()
    names = list(columns)
    values = [columns[c] if isinstance(columns[c], list) else columns[c].tolist() for c in names]
    return [
        {"panel_id": panel_id, **dict(zip(names, row, strict=True))}
        for row in zip(*values, strict=True)
    ]


def seed_impact(
    session: Session,
    *,
    program_ids: Mapping[str, int],
    seed: int,
    today: date | None = None,
) -> SeededImpact:
    """Called by seed_database once programs are seeded: one firm-year panel owned by the
    demo programs' operator, rows inserted in bulk. A panel of the same name already there is
    left as it is (seeding again changes nothing)."""
    today = today or utcnow().date()
    ids = sorted(program_ids.values())
    operator_org = session.scalar(
        select(Program.operator_org_id).where(Program.id.in_(ids)).order_by(Program.id).limit(1)
    )
    participants = demo_participants(session, ids)
    years = panel_years(participants, today)
    truth = Truth.of(participants, years)
    cohorts = {
        "completed": _counts(p.completed for p in participants),
        "started": _counts(p.started for p in participants),
    }
    name = PANEL_NAME.format(first=years[0], last=years[-1])
    existing = session.scalar(
        select(FirmPanel).where(FirmPanel.organization_id == operator_org, FirmPanel.name == name)
    )
    if existing is not None:
        return SeededImpact(
            existing.id,
            name,
            (years[0], years[-1]),
            existing.n_firms,
            existing.n_rows,
            len(participants),
            cohorts,
            truth,
        )
    exclude = set(session.scalars(select(Organization.business_no)))
    frame, truth = firm_year_panel(participants, years=years, seed=seed, exclude=exclude)
    importer = session.scalar(select(User.id).where(User.email == OPERATOR_LOGIN))
    panel = FirmPanel(
        organization_id=operator_org,
        name=name,
        source="administrative",
        note=PANEL_NOTE,
        imported_by_id=importer,
        n_firms=int(frame["business_no"].nunique()),
        n_rows=len(frame),
        year_min=years[0],
        year_max=years[-1],
    )
    session.add(panel)
    session.flush()
    session.execute(insert(FirmYear), _records(frame, panel.id))
    return SeededImpact(
        panel.id,
        name,
        (years[0], years[-1]),
        panel.n_firms,
        panel.n_rows,
        len(participants),
        cohorts,
        truth,
    )


def _counts(values) -> dict[int, int]:
    found: dict[int, int] = {}
    for v in values:
        if v:
            found[v] = found.get(v, 0) + 1
    return found
