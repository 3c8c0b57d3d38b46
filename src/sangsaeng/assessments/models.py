"""Assessment tables: instrument versions as answered, responses, and their action plans."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sangsaeng.core.models import UtcDateTime, utcnow
from sangsaeng.db import Base

DRAFT, SUBMITTED, VERIFIED = "draft", "submitted", "verified"
STATUSES = (DRAFT, SUBMITTED, VERIFIED)
PLAN_STATUSES = ("todo", "doing", "done", "dropped")


class InstrumentVersion(Base):
    """The exact text of an instrument version once anyone answered it: re-scoring reads this,
    never the file on disk, so a result stays reproducible after the file changes."""

    __tablename__ = "assessment_instrument_versions"
    __table_args__ = (UniqueConstraint("instrument_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[str] = mapped_column(String(80))
    version: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Assessment(Base):
    __tablename__ = "assessments"
    __table_args__ = (
        Index("ix_assessments_org_instrument", "organization_id", "instrument_id", "assessed_on"),
        Index("ix_assessments_instrument_status", "instrument_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    # A supplier survey rates one buyer: the organization the answers are about.
    about_organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    instrument_id: Mapped[str] = mapped_column(String(80))
    instrument_version: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    # "self": answered here; "imported": recorded from a diagnosis held elsewhere (paper, an
    # earlier system), without evidence files — the result page says so.
    source: Mapped[str] = mapped_column(String(16), default="self")
    assessed_on: Mapped[date] = mapped_column(Date)
    cohort_year: Mapped[int | None] = mapped_column(Integer)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    comments: Mapped[dict] = mapped_column(JSON, default=dict)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)  # item id → [file id]
    overall: Mapped[float | None] = mapped_column(Float)
    level_id: Mapped[str | None] = mapped_column(String(40))
    level_rank: Mapped[int | None] = mapped_column(Integer)
    dimension_scores: Mapped[dict | None] = mapped_column(JSON)
    # Suppliers' mean survey answers as they stood at submission (evaluations fed by a survey).
    survey_means: Mapped[dict | None] = mapped_column(JSON)
    survey_responses: Mapped[int | None] = mapped_column(Integer)
    assessor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    verified_answers: Mapped[dict | None] = mapped_column(JSON)
    verified_overall: Mapped[float | None] = mapped_column(Float)
    verified_level_id: Mapped[str | None] = mapped_column(String(40))
    verified_level_rank: Mapped[int | None] = mapped_column(Integer)
    verification_note: Mapped[str] = mapped_column(Text, default="")
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def effective_overall(self) -> float | None:
        """The assessor's score once verified, the self-assessment's before."""
        return self.verified_overall if self.status == VERIFIED else self.overall

    @property
    def effective_level_rank(self) -> int | None:
        return self.verified_level_rank if self.status == VERIFIED else self.level_rank

    @property
    def effective_level_id(self) -> str | None:
        return self.verified_level_id if self.status == VERIFIED else self.level_id


class PlanAction(Base):
    """One action of the roadmap a result generated; its owner edits, assigns and ticks it off."""

    __tablename__ = "assessment_plan_actions"
    __table_args__ = (UniqueConstraint("assessment_id", "action_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    action_id: Mapped[str] = mapped_column(String(80))
    dimension_id: Mapped[str] = mapped_column(String(80))
    title: Mapped[str | None] = mapped_column(String(200))  # None: the instrument's wording
    rank: Mapped[int] = mapped_column(Integer)
    start: Mapped[int | None] = mapped_column(Integer)  # quarter from the plan start (1-based)
    end: Mapped[int | None] = mapped_column(Integer)
    impact: Mapped[int] = mapped_column(Integer)
    effort: Mapped[int] = mapped_column(Integer)
    requires: Mapped[list] = mapped_column(JSON, default=list)
    kpis: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="todo")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
