"""Ledger tables. Entries and postings are append-only: a correction is a reversing entry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sangsaeng.core.models import UtcDateTime, utcnow
from sangsaeng.db import Base

ACCOUNT_KINDS = ("fund", "source", "payee")
HOLD_ACTIVE, HOLD_POSTED, HOLD_RELEASED = "active", "posted", "released"


class LedgerAccount(Base):
    """``fund``: one source's pocket of one program fund (never below 0); ``source``: where
    money comes from (government, a sponsor, the SME's own share); ``payee``: who is paid."""

    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LedgerBalance(Base):
    """The cached balance of an account and the part of it held; locked (FOR UPDATE) by every
    write touching the account, so concurrent writes queue instead of overspending."""

    __tablename__ = "ledger_balances"
    __table_args__ = (CheckConstraint("held >= 0", name="held_not_negative"),)

    account_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_accounts.id", ondelete="RESTRICT"), primary_key=True
    )
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    held: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # contribution, disbursement, recovery, reversal
    memo: Mapped[str] = mapped_column(String(300), default="")
    reference: Mapped[str] = mapped_column(String(120), default="", index=True)
    # A reversal names the entry it reverses; an entry is reversed at most once.
    reverses_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="RESTRICT"), unique=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LedgerPosting(Base):
    """One line of an entry: a signed amount on one account (the lines of an entry sum to 0)."""

    __tablename__ = "ledger_postings"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index("ix_ledger_postings_account", "account_id", "entry_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="RESTRICT"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id", ondelete="RESTRICT"))
    amount: Mapped[int] = mapped_column(BigInteger)
    # The hold this line draws on (a disbursement from a reservation), if any.
    hold_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_holds.id", ondelete="RESTRICT"), index=True
    )


class LedgerHold(Base):
    """Money of a fund account reserved for one purpose (an agreement); drawn by disbursements,
    released once (when cancelled or closed). ``remaining`` is what may still be drawn."""

    __tablename__ = "ledger_holds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("remaining >= 0 AND released >= 0", name="parts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_accounts.id", ondelete="RESTRICT"), index=True
    )
    amount: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    released: Mapped[int] = mapped_column(
        BigInteger, default=0
    )  # drawn + remaining + released = amount
    status: Mapped[str] = mapped_column(String(16), default=HOLD_ACTIVE)
    reference: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LedgerRequest(Base):
    """Idempotency: the first request with a key stores its body's hash and its result; a retry
    with the same body gets that result again, another body under the same key is refused."""

    __tablename__ = "ledger_requests"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120))
    operation: Mapped[str] = mapped_column(String(30))
    request_hash: Mapped[str] = mapped_column(String(64))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_holds.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
