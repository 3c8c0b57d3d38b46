"""Program tables: a program (its call, funding shares, caps, rules) and its sponsors."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
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
