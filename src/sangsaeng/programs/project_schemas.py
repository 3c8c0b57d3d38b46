"""JSON shapes of the funds, agreements and projects API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictInt


class SourceFiguresOut(BaseModel):
    code: str
    name: str
    contributed: int
    held: int
    disbursed: int
    recovered: int
    reversed: int
    balance: int
    free: int


class ContributorOut(BaseModel):
    label: str
    organization_id: int | None
    amount: int


class EntryOut(BaseModel):
    id: int
    kind: str
    created_at: datetime
    reference: str
    memo: str
    postings: list[tuple[str, int]]


class FundsOut(BaseModel):
    program_id: int
    method: str
    sources: list[SourceFiguresOut]
    total: SourceFiguresOut
    contributors: list[ContributorOut]
    recent_entries: list[EntryOut]


class ContributionIn(BaseModel):
    source_code: str = Field(max_length=60)
    amount: StrictInt
    contributor_org_id: int | None = None
    memo: str = Field(default="", max_length=300)
    idempotency_key: str = Field(min_length=1, max_length=64)


class AgreementIn(BaseModel):
    starts_on: date
    ends_on: date
    cost_lines: dict[str, StrictInt] | None = None


class MoneyOut(BaseModel):
    budget: int
    paid: int
    held: int
    released: int
    recovered: int


class MilestoneOut(BaseModel):
    id: int
    kind: str
    seq: int
    due_on: date
    payment_krw: int
    status: str
    report: str
    deliverables: list[str]
    submitted_at: datetime | None
    decided_at: datetime | None
    decision_note: str
    ledger_entry_id: int | None


class InspectionOut(BaseModel):
    id: int
    milestone_id: int | None
    inspected_on: date
    result: str
    findings: str


class BudgetChangeOut(BaseModel):
    id: int
    status: str
    before: dict[str, int]
    after: dict[str, int]
    reason: str
    requested_at: datetime
    decided_at: datetime | None


class FollowUpOut(BaseModel):
    id: int
    year_no: int
    kind: str
    due_on: date
    done_at: datetime | None
    note: str


class ProjectOut(BaseModel):
    id: int
    program_id: int
    application_id: int
    organization_id: int
    provider_org_id: int
    agreement_no: str
    status: str
    status_reason: str
    total_krw: int
    budget: dict[str, int]
    cost_lines: dict[str, int]
    remainder_to: str | None
    signed_at: datetime
    starts_on: date
    ends_on: date
    completed_on: date | None
    money: MoneyOut
    milestones: list[MilestoneOut]
    inspections: list[InspectionOut]
    budget_changes: list[BudgetChangeOut]
    follow_ups: list[FollowUpOut]


class ProjectRowOut(BaseModel):
    id: int
    agreement_no: str
    organization_id: int
    company: str
    provider: str
    status: str
    total_krw: int
    paid: int
    held: int
    next_milestone: str | None
    next_due_on: date | None
    overdue: bool


class ReportIn(BaseModel):
    report: str = Field(max_length=20_000)
    file_ids: list[str] = Field(default_factory=list, max_length=20)


class NoteIn(BaseModel):
    note: str = Field(default="", max_length=4000)


class InspectionIn(BaseModel):
    inspected_on: date
    result: str
    findings: str = Field(max_length=20_000)
    milestone_id: int | None = None


class BudgetChangeIn(BaseModel):
    lines: dict[str, StrictInt]
    reason: str = Field(max_length=4000)


class DecisionIn(BaseModel):
    approve: bool


class StatusIn(BaseModel):
    action: Literal["suspend", "resume", "cancel"]
    reason: str = Field(default="", max_length=4000)
    recover_krw: StrictInt = 0
