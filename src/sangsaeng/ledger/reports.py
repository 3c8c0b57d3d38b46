"""Read-only views of the ledger for dashboards: movements per account and entry kind."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sangsaeng.core.policy import Action, Actor, assert_can
from sangsaeng.ledger.models import (
    HOLD_ACTIVE,
    LedgerAccount,
    LedgerBalance,
    LedgerEntry,
    LedgerHold,
    LedgerPosting,
)


@dataclass
class AccountFigures:
    account_id: int
    code: str
    balance: int = 0
    held: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)  # entry kind → signed sum on account

    @property
    def free(self) -> int:
        return self.balance - self.held


def figures(session: Session, actor: Actor, codes: Iterable[str]) -> dict[str, AccountFigures]:
    """Balance, held and the signed sum per entry kind of each account (by code) that exists."""
    assert_can(session, actor, Action.LEDGER_READ)
    codes = list(codes)
    if not codes:
        return {}
    out: dict[str, AccountFigures] = {}
    ids: dict[int, str] = {}
    for account_id, code, balance, held in session.execute(
        select(LedgerAccount.id, LedgerAccount.code, LedgerBalance.balance, LedgerBalance.held)
        .join(LedgerBalance, LedgerBalance.account_id == LedgerAccount.id)
        .where(LedgerAccount.code.in_(codes))
    ):
        out[code] = AccountFigures(account_id, code, balance, held)
        ids[account_id] = code
    if ids:
        for account_id, kind, total in session.execute(
            select(LedgerPosting.account_id, LedgerEntry.kind, func.sum(LedgerPosting.amount))
            .join(LedgerEntry, LedgerEntry.id == LedgerPosting.entry_id)
            .where(LedgerPosting.account_id.in_(ids))
            .group_by(LedgerPosting.account_id, LedgerEntry.kind)
        ):
            out[ids[account_id]].by_kind[kind] = int(total)
    return out


def active_hold_total(session: Session, actor: Actor, hold_ids: Iterable[int]) -> int:
    assert_can(session, actor, Action.LEDGER_READ)
    ids = list(hold_ids)
    if not ids:
        return 0
    return int(
        session.scalar(
            select(func.coalesce(func.sum(LedgerHold.remaining), 0)).where(
                LedgerHold.id.in_(ids), LedgerHold.status == HOLD_ACTIVE
            )
        )
    )


def holds(session: Session, actor: Actor, hold_ids: Iterable[int]) -> dict[int, LedgerHold]:
    assert_can(session, actor, Action.LEDGER_READ)
    ids = list(hold_ids)
    if not ids:
        return {}
    return {
        h.id: h
        for h in session.scalars(
            select(LedgerHold)
            .where(LedgerHold.id.in_(ids))
            .execution_options(populate_existing=True)
        )
    }


def entries_for(session: Session, actor: Actor, reference_prefix: str, limit: int = 500) -> list:
    """Entries whose reference starts with the prefix (a program's, a project's), newest first,
    with their postings as (account code, amount)."""
    assert_can(session, actor, Action.LEDGER_READ)
    entries = list(
        session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.reference.startswith(reference_prefix, autoescape=True))
            .order_by(LedgerEntry.id.desc())
            .limit(limit)
        )
    )
    if not entries:
        return []
    lines: dict[int, list[tuple[str, int]]] = {}
    for entry_id, code, amount in session.execute(
        select(LedgerPosting.entry_id, LedgerAccount.code, LedgerPosting.amount)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .where(LedgerPosting.entry_id.in_([e.id for e in entries]))
        .order_by(LedgerPosting.id)
    ):
        lines.setdefault(entry_id, []).append((code, amount))
    return [(e, lines.get(e.id, [])) for e in entries]


def flows_between(
    session: Session, actor: Actor, from_ids: Iterable[int], into_ids: Iterable[int]
) -> dict[int, int]:
    """Per account of ``from_ids``: what it sent, in entries that credit an ``into_ids`` account
    (e.g. what each sponsor contributed to one program's funds), net of reversals."""
    assert_can(session, actor, Action.LEDGER_READ)
    sources, targets = list(from_ids), list(into_ids)
    if not sources or not targets:
        return {}
    touching = select(LedgerPosting.entry_id).where(LedgerPosting.account_id.in_(targets))
    rows = session.execute(
        select(LedgerPosting.account_id, func.sum(LedgerPosting.amount))
        .where(LedgerPosting.account_id.in_(sources), LedgerPosting.entry_id.in_(touching))
        .group_by(LedgerPosting.account_id)
    )
    return {account_id: -int(total) for account_id, total in rows}
