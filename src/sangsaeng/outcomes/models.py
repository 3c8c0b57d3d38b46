"""Outcome tables: KPI measurements of a project, with their source and verification."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sangsaeng.core.models import UtcDateTime, utcnow
from sangsaeng.db import Base

STAGES = ("baseline", "completion", "follow_up")
# Where a value comes from — always shown beside it.
SOURCES = ("self", "auto", "imported")  # self-reported, measured from factory data, admin data
REPORTED, VERIFIED, REJECTED = "reported", "verified", "rejected"


class KpiMeasurement(Base):
    """One KPI value of one project for one period. Never edited: a correction is a new
    measurement, and a rejected one stays on record with its reason."""

    __tablename__ = "kpi_measurements"
    __table_args__ = (Index("ix_kpi_measurements_project_kpi", "project_id", "kpi_code", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("program_projects.id", ondelete="RESTRICT"))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    kpi_code: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(16))
    year_no: Mapped[int | None] = mapped_column(Integer)  # follow-up year
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(16), default="self")
    status: Mapped[str] = mapped_column(String(16), default=REPORTED)
    flags: Mapped[list] = mapped_column(JSON, default=list)  # [[msgid, params]] to check
    evidence: Mapped[list] = mapped_column(JSON, default=list)  # [file id]
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
