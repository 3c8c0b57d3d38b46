"""JSON shapes of the assessments API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

METHOD = (
    "item fraction = position of the answer on its scale (lowest 0, best 1; unanswered = lowest); "
    "dimension score = 100 × weighted mean of its item fractions; overall = Σ dimension weight × "
    "dimension score; level = highest level whose overall minimum and dimension minima are met; "
    "scores rounded to 2 decimals before levels are read"
)


class LevelOut(BaseModel):
    id: str
    rank: int
    label: str
    group: str | None = None
    min_score: float


class DimensionOut(BaseModel):
    id: str
    title: str
    weight: float
    score: float
    grade: str | None
    answered: int
    total: int


class ItemOut(BaseModel):
    id: str
    dimension: str
    answer: float | None
    fraction: float
    points: float
    max_points: float
    gain_to_next: float


class StepOut(BaseModel):
    item: str
    from_value: float | None
    to_value: float
    gain: float


class ResultOut(BaseModel):
    overall: float
    level: LevelOut | None
    next_level: LevelOut | None
    points_to_next: float
    dimension_shortfalls: dict[str, float]
    path_to_next: list[StepOut]
    dimensions: list[DimensionOut]
    items: list[ItemOut]
    answered: int
    total: int
    method: str = METHOD


class PeersOut(BaseModel):
    n_peers: int
    percentile: float | None
    method: str = (
        "mid-rank percentile among other organizations of the same KSIC division and size class "
        "(latest result on the same instrument version); withheld below 5 peers"
    )


class PlanActionOut(BaseModel):
    id: int
    action_id: str
    title: str
    dimension: str
    rank: int
    start_quarter: int | None
    end_quarter: int | None
    year: int | None
    requires: list[str]
    kpis: list[str]
    impact: int
    effort: int
    status: str
    assignee_id: int | None
    note: str


class AssessmentOut(BaseModel):
    id: int
    organization_id: int
    about_organization_id: int | None
    instrument_id: str
    instrument_version: str
    kind: str
    status: str
    source: str
    assessed_on: date
    cohort_year: int | None
    answers: dict[str, float]
    comments: dict[str, str]
    evidence: dict[str, list[str]]
    overall: float | None
    level_id: str | None
    verified_overall: float | None
    verified_level_id: str | None
    submitted_at: datetime | None
    verified_at: datetime | None


class AssessmentDetailOut(AssessmentOut):
    result: ResultOut
    verified_result: ResultOut | None
    peers: PeersOut | None
    plan: list[PlanActionOut]


class AssessmentPageOut(BaseModel):
    items: list[AssessmentOut]
    total: int
    page: int
    pages: int


class AssessmentIn(BaseModel):
    organization_id: int
    instrument_id: str = Field(max_length=80)
    about_organization_id: int | None = None
    assessed_on: date | None = None
    cohort_year: int | None = Field(default=None, ge=2000, le=2100)


class AnswersIn(BaseModel):
    answers: dict[str, float | str | None] = Field(default_factory=dict)
    comments: dict[str, str] | None = None


class EvidenceIn(BaseModel):
    item_id: str = Field(max_length=80)
    file_id: str = Field(max_length=64)


class VerifyIn(BaseModel):
    answers: dict[str, float | str | None]
    note: str = Field(default="", max_length=4000)


class SimulateIn(BaseModel):
    answers: dict[str, float | str | None] = Field(default_factory=dict)
    survey_answers: dict[str, float | str | None] = Field(default_factory=dict)


class PlanActionPatch(BaseModel):
    title: str | None = Field(default=None, max_length=200)
    year: int | None = None
    quarter: int | None = None
    status: str | None = None
    assignee_id: int | None = None
    note: str | None = Field(default=None, max_length=2000)


class InstrumentOut(BaseModel):
    id: str
    version: str
    kind: str
    subject: str
    title: str
    origin: str
    sha256: str
    dimensions: int
    items: int
    levels: list[LevelOut]


class RankOut(BaseModel):
    rank: int
    assessment_id: int
    organization_id: int
    organization: str
    overall: float
    certified: bool
    reason: str
    decided_by: str | None
