"""Program tables: a program (its call, funding shares, caps, rules) and its sponsors."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sangsaeng.core.models import UtcDateTime, utcnow
from sangsaeng.db import Base

DRAFT, OPEN, CLOSED = "draft", "open", "closed"
PROGRAM_STATUSES = (DRAFT, OPEN, CLOSED)
PROGRAM_KINDS = ("smart_factory", "innovation", "consulting", "other")


class Program(Base):
    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_ko: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    operator_org_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    opens_on: Mapped[date] = mapped_column(Date)
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime)
    quota: Mapped[int] = mapped_column(Integer)
    budget_krw: Mapped[int] = mapped_column(BigInteger)
    cap_per_company_krw: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text, default="")
    eligibility_rules: Mapped[list] = mapped_column(JSON, default=list)
    required_documents: Mapped[list] = mapped_column(JSON, default=list)
    score_sheet: Mapped[str] = mapped_column(String(80))
    # The funding source that takes the won left over when a payment is split by shares.
    remainder_to: Mapped[str | None] = mapped_column(String(60))
    # [{code, name_ko, cap_krw}]: e.g. 기초/고도화 builds, each with its own cap of support.
    support_types: Mapped[list] = mapped_column(JSON, default=list)
    # 가점: eligibility-style rules, each with the points it adds ([{rule…, points}]).
    bonus_rules: Mapped[list] = mapped_column(JSON, default=list)
    # How evaluators' scores combine: "trimmed" drops the highest and lowest when five or more
    # scored (as Korean committees do); "mean" averages them all.
    score_combination: Mapped[str] = mapped_column(String(16), default="trimmed")
    reserve_size: Mapped[int] = mapped_column(Integer, default=5)
    follow_up_years: Mapped[int] = mapped_column(Integer, default=3)
    objection_days: Mapped[int] = mapped_column(Integer, default=7)
    results_published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    copied_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("programs.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ProgramSource(Base):
    """A funding source of the program and its share of every project's cost."""

    __tablename__ = "program_sources"
    __table_args__ = (UniqueConstraint("program_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(60))  # "government", "sponsor:12", "sme"
    name_ko: Mapped[str] = mapped_column(String(120))
    share: Mapped[Decimal] = mapped_column(Numeric(6, 5))
    in_kind: Mapped[bool] = mapped_column(Boolean, default=False)  # 현물 (not paid in cash)


class ProgramSponsor(Base):
    __tablename__ = "program_sponsors"

    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), primary_key=True
    )


# --- solution providers (공급기업) ----------

SOLUTION_TYPES = ("MES", "ERP", "QMS", "FEMS", "POP", "SCM", "PLM", "APS", "WMS", "CMMS", "OTHER")


class SolutionProvider(Base):
    """A company registered to deliver smart-factory solutions; milestone payments go to it."""

    __tablename__ = "solution_providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), unique=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Solution(Base):
    __tablename__ = "solutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("solution_providers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    solution_type: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


# --- applications ----------

A_DRAFT, A_SUBMITTED, A_SCREENED_OUT, A_UNDER_REVIEW = (
    "draft",
    "submitted",
    "screened_out",
    "review",
)
A_SELECTED, A_RESERVE, A_REJECTED, A_WITHDRAWN = "selected", "reserve", "rejected", "withdrawn"
APPLICATION_STATUSES = (
    A_DRAFT,
    A_SUBMITTED,
    A_SCREENED_OUT,
    A_UNDER_REVIEW,
    A_SELECTED,
    A_RESERVE,
    A_REJECTED,
    A_WITHDRAWN,
)


class Application(Base):
    """An SME's application to a call: one per company and program."""

    __tablename__ = "program_applications"
    __table_args__ = (UniqueConstraint("program_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="RESTRICT"))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=A_DRAFT, index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    plan: Mapped[str] = mapped_column(Text, default="")
    support_type: Mapped[str | None] = mapped_column(String(40))
    solution_id: Mapped[int | None] = mapped_column(ForeignKey("solutions.id", ondelete="RESTRICT"))
    total_krw: Mapped[int | None] = mapped_column(BigInteger)
    requested: Mapped[dict] = mapped_column(JSON, default=dict)  # source code → KRW
    target_kpis: Mapped[list] = mapped_column(JSON, default=list)  # [{code, baseline, target}]
    documents: Mapped[dict] = mapped_column(JSON, default=dict)  # document name → [file id]
    # The eligibility verdicts as they stood at the last save or submission (the dashboard counts
    # failures by rule from these).
    eligibility: Mapped[list] = mapped_column(JSON, default=list)
    eligible: Mapped[bool | None] = mapped_column(Boolean)
    diagnosis_assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessments.id", ondelete="SET NULL")
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    screening_note: Mapped[str] = mapped_column(Text, default="")
    base_score: Mapped[float | None] = mapped_column(Float)
    bonus_points: Mapped[float | None] = mapped_column(Float)
    final_score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


NO_CONFLICT, CONFLICT = "none", "conflict"


class EvaluatorAssignment(Base):
    """One evaluator on one application: a declaration of (no) conflict, then a score sheet."""

    __tablename__ = "program_evaluations"
    __table_args__ = (UniqueConstraint("application_id", "evaluator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("program_applications.id", ondelete="CASCADE"), index=True
    )
    evaluator_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    declaration: Mapped[str | None] = mapped_column(String(16))  # none / conflict
    declaration_note: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sheet_version: Mapped[str | None] = mapped_column(String(40))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    comments: Mapped[dict] = mapped_column(JSON, default=dict)
    score: Mapped[float | None] = mapped_column(Float)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


OBJECTION_OPEN, OBJECTION_UPHELD, OBJECTION_DISMISSED = "open", "upheld", "dismissed"


class Objection(Base):
    """이의신청: an applicant disputes a published result; the operator must answer."""

    __tablename__ = "program_objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("program_applications.id", ondelete="CASCADE"), index=True
    )
    lodged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    lodged_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=OBJECTION_OPEN)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# --- agreements and projects ----------

P_ACTIVE, P_SUSPENDED, P_CANCELLED, P_COMPLETED = "active", "suspended", "cancelled", "completed"
PROJECT_STATUSES = (P_ACTIVE, P_SUSPENDED, P_CANCELLED, P_COMPLETED)


class Project(Base):
    """A selected application's agreement (협약) and the project it governs."""

    __tablename__ = "program_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("program_applications.id", ondelete="RESTRICT"), unique=True
    )
    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="RESTRICT"), index=True
    )
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    provider_org_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    agreement_no: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=P_ACTIVE, index=True)
    total_krw: Mapped[int] = mapped_column(BigInteger)
    budget: Mapped[dict] = mapped_column(JSON)  # source code → KRW (the agreed split)
    cost_lines: Mapped[dict] = mapped_column(JSON, default=dict)  # 비목 → KRW, same total
    # The source that takes the won left over when a payment is split (stated in the agreement).
    remainder_to: Mapped[str | None] = mapped_column(String(60))
    holds: Mapped[dict] = mapped_column(JSON, default=dict)  # cash source code → ledger hold id
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    recovered_krw: Mapped[int] = mapped_column(BigInteger, default=0)
    completed_on: Mapped[date | None] = mapped_column(Date)
    completion_assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessments.id", ondelete="SET NULL")
    )


MILESTONE_KINDS = ("kickoff", "midterm", "completion", "final")
M_PLANNED, M_SUBMITTED, M_APPROVED, M_REJECTED = "planned", "submitted", "approved", "rejected"


class Milestone(Base):
    __tablename__ = "program_milestones"
    __table_args__ = (UniqueConstraint("project_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("program_projects.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    payment_krw: Mapped[int] = mapped_column(BigInteger, default=0)  # paid on approval
    status: Mapped[str] = mapped_column(String(16), default=M_PLANNED)
    deliverables: Mapped[list] = mapped_column(JSON, default=list)  # [file id]
    report: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    ledger_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="RESTRICT")
    )


INSPECTION_RESULTS = ("pass", "fix_required", "fail")


class Inspection(Base):
    __tablename__ = "program_inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("program_projects.id", ondelete="CASCADE"), index=True
    )
    milestone_id: Mapped[int | None] = mapped_column(
        ForeignKey("program_milestones.id", ondelete="SET NULL")
    )
    inspected_on: Mapped[date] = mapped_column(Date)
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    result: Mapped[str] = mapped_column(String(16))
    findings: Mapped[str] = mapped_column(Text)


CHANGE_REQUESTED, CHANGE_APPROVED, CHANGE_REJECTED = "requested", "approved", "rejected"


class BudgetChange(Base):
    """A re-allocation of an agreement's cost lines (same total), approved by the operator."""

    __tablename__ = "program_budget_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("program_projects.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    before: Mapped[dict] = mapped_column(JSON)
    after: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=CHANGE_REQUESTED)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


FOLLOW_UP_KINDS = ("kpi_report", "site_visit")


class FollowUp(Base):
    """사후관리: a yearly task after completion (the SME's KPI report, the operator's visit)."""

    __tablename__ = "program_follow_ups"
    __table_args__ = (UniqueConstraint("project_id", "year_no", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("program_projects.id", ondelete="CASCADE"), index=True
    )
    year_no: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    # When the reminders were sent that it is due soon and that it is overdue (once each).
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    overdue_reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
