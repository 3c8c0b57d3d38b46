"""Core tables: users, sessions, tokens, organizations, supply-chain links, memberships."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sangsaeng.db import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(5), default="ko")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("revenue_krw IS NULL OR revenue_krw >= 0", name="revenue_nonnegative"),
        CheckConstraint("employees IS NULL OR employees >= 0", name="employees_nonnegative"),
        Index("ix_organizations_region_ksic", "region_code", "ksic_code"),
        # The operators' usual list filter (region and size, ordered by name) reads the index alone.
        Index("ix_organizations_region_size_name", "region_code", "size_class", "name_ko", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_no: Mapped[str] = mapped_column(String(10), unique=True)
    name_ko: Mapped[str] = mapped_column(String(200), index=True)
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="sme", index=True)
    ksic_code: Mapped[str] = mapped_column(String(5), index=True)
    region_code: Mapped[str] = mapped_column(String(2))
    size_class: Mapped[str] = mapped_column(String(10), index=True)
    employees: Mapped[int | None] = mapped_column(Integer)
    revenue_krw: Mapped[int | None] = mapped_column(BigInteger)
    founded_year: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class SupplierLink(Base):
    """``buyer`` buys from ``supplier``; supplier tiers are derived from these edges.

    A link counts only once both sides confirmed it (an operator or admin confirms both at once):
    otherwise one company could make itself, or a stranger, part of another's supply chain —
    and so readable by that chain's sponsor.
    """

    __tablename__ = "supplier_links"
    __table_args__ = (
        UniqueConstraint("buyer_id", "supplier_id", name="uq_supplier_links_pair"),
        CheckConstraint("buyer_id <> supplier_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    supplier_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    buyer_confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    supplier_confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def active(self) -> bool:
        return self.buyer_confirmed_at is not None and self.supplier_confirmed_at is not None


def link_is_active(links=None):
    """SQL condition: both sides confirmed (``links`` is the table or an alias of it)."""
    table = links if links is not None else SupplierLink.__table__
    return table.c.buyer_confirmed_at.is_not(None) & table.c.supplier_confirmed_at.is_not(None)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "organization_id", "role", name="uq_memberships_triple"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class UserSession(Base):
    """A server-side login session; the cookie holds a random token, the table only its hash."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PasswordReset(Base):
    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LoginAttempt(Base):
    """Failed and successful logins, for throttling per account and per IP."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(45))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RevenueBand(Base):
    """Revenue bands used to compare firms of similar size; editable by an admin."""

    __tablename__ = "revenue_bands"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    label_ko: Mapped[str] = mapped_column(String(50))
    label_en: Mapped[str] = mapped_column(String(50))
    min_krw: Mapped[int] = mapped_column(BigInteger)
    max_krw: Mapped[int | None] = mapped_column(BigInteger)


class KpiDefinition(Base):
    """A KPI an operator added to the shipped catalogue (kpis.csv); the same fields, never
    edited once values may refer to it, so that stored measurements keep their meaning."""

    __tablename__ = "kpi_definitions"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_ko: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(30))
    direction: Mapped[str] = mapped_column(String(8))
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(16))
    improvement: Mapped[str] = mapped_column(String(16))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
