"""JSON shapes of the programs API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field


class SourceBody(BaseModel):
    code: str = Field(max_length=60)
    name_ko: str = Field(max_length=120)
    share: Decimal
    in_kind: bool = False


class DocumentBody(BaseModel):
    name_ko: str = Field(max_length=200)
    required: bool = True


class ProgramIn(BaseModel):
    operator_org_id: int
    name_ko: str = Field(max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    year: int
    kind: str
    opens_on: date
    closes_at: datetime
    quota: int
    budget_krw: int
    cap_per_company_krw: int
    description: str = Field(default="", max_length=20_000)
    sources: list[SourceBody]
    remainder_to: str | None = None
    score_sheet: str
    eligibility_rules: list[dict] = Field(default_factory=list)
    required_documents: list[DocumentBody] = Field(default_factory=list)
    sponsor_ids: list[int] = Field(default_factory=list)


class SourceOut(BaseModel):
    code: str
    name_ko: str
    share: Decimal
    in_kind: bool


class ProgramOut(BaseModel):
    id: int
    name_ko: str
    name_en: str | None
    year: int
    kind: str
    status: str
    operator_org_id: int
    opens_on: date
    closes_at: datetime
    quota: int
    budget_krw: int
    cap_per_company_krw: int
    description: str
    eligibility_rules: list[dict]
    required_documents: list[dict]
    score_sheet: str
    remainder_to: str | None
    sources: list[SourceOut]
    sponsor_ids: list[int]


class StatusIn(BaseModel):
    status: str


class VerdictOut(BaseModel):
    rule: str
    passed: bool
    reason: str


class EligibilityOut(BaseModel):
    eligible: bool
    rules: list[VerdictOut]
