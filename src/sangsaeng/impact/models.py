"""Impact tables: firm-year panels imported from administrative or credit-bureau extracts, and
the impact studies run on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sangsaeng.core.models import UtcDateTime, utcnow
from sangsaeng.db import Base

PANEL_SOURCES = ("administrative", "credit_bureau", "survey", "other")
# Outcomes a firm-year can carry; all optional, money in KRW.
OUTCOMES = ("revenue", "operating_profit", "rnd_spend", "employees", "exports")

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STUDY_STATUSES = (QUEUED, RUNNING, DONE, FAILED)


class FirmPanel(Base):
    """One imported extract of firm-year outcomes, for participants and non-participants alike.

    Its firm-level rows are visible only to the operator organization that imported it; studies
    built on it report aggregates only."""

    __tablename__ = "impact_panels"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20), default="administrative")
    note: Mapped[str] = mapped_column(Text, default="")
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    n_firms: Mapped[int] = mapped_column(Integer, default=0)
    n_rows: Mapped[int] = mapped_column(Integer, default=0)
    year_min: Mapped[int | None] = mapped_column(Integer)
    year_max: Mapped[int | None] = mapped_column(Integer)


class FirmYear(Base):
    """One firm's outcomes in one year, as the extract states them (never edited in place)."""

    __tablename__ = "impact_firm_years"
    __table_args__ = (
        UniqueConstraint("panel_id", "business_no", "year", name="uq_impact_firm_year"),
        Index("ix_impact_firm_years_panel_year", "panel_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("impact_panels.id", ondelete="CASCADE"))
    business_no: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(Integer)
    ksic_code: Mapped[str] = mapped_column(String(5))
    region_code: Mapped[str | None] = mapped_column(String(2))
    revenue: Mapped[int | None] = mapped_column(BigInteger)
    operating_profit: Mapped[int | None] = mapped_column(BigInteger)
    rnd_spend: Mapped[int | None] = mapped_column(BigInteger)
    employees: Mapped[int | None] = mapped_column(Integer)
    exports: Mapped[int | None] = mapped_column(BigInteger)


class ImpactStudy(Base):
    """A reproducible impact study: its specification, the job that ran it and its result.

    ``spec`` holds what the wizard chose (outcome, transform, cohort rule, matching, control group,
    estimation method, covariates, bootstrap draws, seed, descriptive years); ``result`` the
    aggregate figures only — never firm-level rows."""

    __tablename__ = "impact_studies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )  # the organization of whoever created it
    program_ids: Mapped[list] = mapped_column(JSON, default=list)
    panel_id: Mapped[int] = mapped_column(ForeignKey("impact_panels.id", ondelete="RESTRICT"))
    spec: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[list] = mapped_column(JSON, default=list)  # [[msgid, params]]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
