"""JSON shapes of the applications, evaluations and solution-provider API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class KpiTarget(BaseModel):
    code: str = Field(max_length=60)
    baseline: float
    target: float


class ApplicationIn(BaseModel):
    """The whole draft (PUT replaces it). Without ``requested`` the amounts per source are
    computed from the total by the program's shares; given, they must follow the shares."""

    title: str = Field(default="", max_length=1000)
    plan: str = Field(default="", max_length=40_000)
    support_type: str | None = Field(default=None, max_length=40)
    solution_id: int | None = None
    total_krw: int | None = None
    requested: dict[str, int] = Field(default_factory=dict)
    target_kpis: list[KpiTarget] = Field(default_factory=list, max_length=50)


class DocumentIn(BaseModel):
    """An already uploaded file (``POST /api/v1/files``) attached as one of the call's
    documents, by its name in the call (e.g. 사업계획서)."""

    file_id: str = Field(max_length=64)
    document: str = Field(max_length=200)


class ObjectionIn(BaseModel):
    reason: str = Field(max_length=4000)


class VerdictOut(BaseModel):
    passed: bool
    reason: str


class KpiOut(BaseModel):
    code: str
    name: str
    unit: str
    baseline: float | None
    target: float | None


class DocumentOut(BaseModel):
    file_id: str
    original_name: str


class ResultOut(BaseModel):
    status: str
    rank: int | None
    ranked: int
    base_score: float | None
    bonus_points: float | None
    final_score: float | None
    method: str
    method_text: str
    note: str
    objection_until: datetime | None


class ObjectionOut(BaseModel):
    id: int
    status: str
    reason: str
    answer: str
    lodged_at: datetime
    answered_at: datetime | None


class ApplicationOut(BaseModel):
    id: int
    program_id: int
    program_name: str
    organization_id: int
    status: str
    status_text: str
    title: str
    plan: str
    support_type: str | None
    solution_id: int | None
    solution: str
    total_krw: int | None
    requested: dict[str, int]
    support_krw: int
    target_kpis: list[KpiOut]
    documents: dict[str, list[DocumentOut]]
    eligible: bool | None
    eligibility: list[VerdictOut]
    diagnosis_assessment_id: int | None
    submitted_at: datetime | None
    result: ResultOut | None = None
    objections: list[ObjectionOut] = Field(default_factory=list)


class DeclarationIn(BaseModel):
    conflict: bool
    note: str = Field(default="", max_length=2000)


class ScoresIn(BaseModel):
    answers: dict[str, float | str | None]
    comments: dict[str, str] = Field(default_factory=dict)


class AssignmentOut(BaseModel):
    id: int
    application_id: int
    program_id: int
    program_name: str
    applicant_name: str
    declaration: str | None
    declared_at: datetime | None
    score: float | None
    scored_at: datetime | None


class SolutionIn(BaseModel):
    name: str = Field(max_length=1000)
    solution_type: str = Field(max_length=20)
    description: str = Field(default="", max_length=4000)


class SolutionOut(BaseModel):
    id: int
    name: str
    solution_type: str
    description: str


class ProviderIn(BaseModel):
    business_no: str = Field(max_length=20)


class ProviderOut(BaseModel):
    id: int
    organization_id: int
    name: str
    business_no: str
    solutions: list[SolutionOut]
