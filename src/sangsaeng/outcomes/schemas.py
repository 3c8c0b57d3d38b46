"""JSON shapes of the KPI measurements API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field


class MeasurementIn(BaseModel):
    kpi_code: str = Field(min_length=1, max_length=40)
    stage: Literal["baseline", "completion", "follow_up"]
    year_no: int | None = Field(default=None, ge=1, le=50)
    period_start: date
    period_end: date
    value: float = Field(allow_inf_nan=False)
    unit: str = Field(min_length=1, max_length=30)
    source: Literal["self", "imported"] = "self"
    # Files uploaded first with ``POST /api/v1/files`` (place ``kpi``).
    evidence: list[str] = Field(default_factory=list, max_length=20)


class RejectIn(BaseModel):
    reason: str = Field(min_length=1, max_length=4000)


class MeasurementOut(BaseModel):
    id: int
    project_id: int
    organization_id: int
    kpi_code: str
    stage: str
    year_no: int | None
    period_start: date
    period_end: date
    value: float
    unit: str
    source: str
    status: str
    rejection_reason: str
    flags: list[str]  # in the caller's language
    evidence: list[str]
    reported_by_id: int | None
    reported_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None


class TargetOut(BaseModel):
    kpi_code: str
    baseline: float | None
    target: float | None


class ComparisonOut(BaseModel):
    kpi_code: str
    kind: str  # "relative": a fraction of the baseline; "difference": in the KPI's unit
    before: float | None
    after: float | None
    improvement: float | None
    missing: str | None
    program_median: float | None
    n_others: int
    suppressed: bool


class ProjectKpisOut(BaseModel):
    project_id: int
    targets: list[TargetOut]
    measurements: list[MeasurementOut]
    comparison: list[ComparisonOut]
    min_others: int
    method: str


class QueueItemOut(MeasurementOut):
    company: str
    agreement_no: str


class QueueOut(BaseModel):
    items: list[QueueItemOut]
    total: int
    page: int
    per_page: int


class AutoReportIn(BaseModel):
    """An auto-measured value to record: its number is measured on the server, never sent."""

    kpi_code: str = Field(min_length=1, max_length=40)
    stage: Literal["baseline", "completion", "follow_up"]
    year_no: int | None = Field(default=None, ge=1, le=50)
    period_start: date
    period_end: date
    dataset_id: int | None = Field(default=None, ge=1)  # default: the newest covering the period
    evidence: list[str] = Field(default_factory=list, max_length=20)


class DatasetRefOut(BaseModel):
    id: int
    name: str
    kind: str


class AutoValueOut(BaseModel):
    kpi_code: str
    value: float
    unit: str
    interval: list[float] | None  # 95 %, in the KPI's unit
    interval_method: str
    period_start: date
    period_end: date
    n: int  # records, lots or orders used
    numerator: float
    denominator: float
    basis: str  # the kind of dataset measured from
    datasets: list[DatasetRefOut]
    covered: list[date] | None  # first and last day with rows in the period
    warnings: list[str]
    # By KPI: on-time delivery's open past-due orders and orders without a due date, OEE's
    # availability, performance, quality and records left out, productivity's days.
    details: dict[str, float | int | None]
    method: str
    query: str  # DuckDB SQL over the dataset as the table ``rows``


class AutoOfferOut(BaseModel):
    kpi_code: str
    dataset_id: int
    dataset_name: str
    period_start: date
    period_end: date
