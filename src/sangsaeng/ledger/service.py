"""Ledger rules: balanced, immutable entries in integer KRW; holds; idempotent writes.

Every write appends its rows first and changes balances last, each by one guarded UPDATE (the
check and the change in one statement; holds first, then balances, each in id order so concurrent
writes never deadlock). A fund account never falls below 0 nor below what it holds.

Every write carries an idempotency key: the same key with the same request returns the first
result (one entry); the same key with another request is refused (409).
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import case, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as lite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from sangsaeng.core.errors import Conflict, InvalidInput, NotFound, SangsaengError
from sangsaeng.core.i18n import Msg
from sangsaeng.core.models import utcnow
from sangsaeng.core.policy import Action, Actor, assert_can
from sangsaeng.ledger.models import (
    ACCOUNT_KINDS,
    HOLD_ACTIVE,
    HOLD_POSTED,
    HOLD_RELEASED,
    LedgerAccount,
    LedgerBalance,
    LedgerEntry,
    LedgerHold,
    LedgerPosting,
    LedgerRequest,
)


def _atomic(operation):
    """Run a write in a savepoint: refused halfway (money short, a settled hold), it leaves
    nothing behind — no balance change, no claimed idempotency key — even if the caller's
    transaction goes on and commits."""

    @functools.wraps(operation)
    def run(session: Session, *args, **kwargs):
        with session.begin_nested():
            return operation(session, *args, **kwargs)

    return run


@dataclass(frozen=True)
class Line:
    account_id: int
    amount: int
    hold_id: int | None = None


# --- accounts -----------------------------------------------------------------------------------


def ensure_account(
    session: Session,
    actor: Actor,
    *,
    code: str,
    kind: str,
    name: str,
    organization_id: int | None = None,
) -> LedgerAccount:
    """The account with this code, created (with its zero balance) if it does not exist."""
    assert_can(session, actor, Action.LEDGER_WRITE)
    if kind not in ACCOUNT_KINDS:
        raise InvalidInput({"kind": Msg("Choose a listed value.")})
    found = session.scalars(select(LedgerAccount).where(LedgerAccount.code == code)).first()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            account = LedgerAccount(
                code=code, kind=kind, name=name, organization_id=organization_id
            )
            session.add(account)
            session.flush()
            session.add(LedgerBalance(account_id=account.id, balance=0, held=0))
    except IntegrityError:  # created concurrently
        return session.scalars(select(LedgerAccount).where(LedgerAccount.code == code)).one()
    return account


def balance(session: Session, actor: Actor, account_id: int) -> LedgerBalance:
    assert_can(session, actor, Action.LEDGER_READ)
    row = session.get(LedgerBalance, account_id, populate_existing=True)
    if row is None:
        raise NotFound()
    return row


# --- idempotency --------------------------------------------------------------------------------


def _digest(operation: str, payload: dict) -> str:
    text = json.dumps([operation, payload], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class _Claim:
    request_id: int | None  # set when this request is the first with its key
    earlier: LedgerRequest | None  # the stored request when this is a retry of it


def _claim(session: Session, key: str, operation: str, payload: dict) -> _Claim:
    """Claim an idempotency key; a retry of the same request gets the stored one back.

    ``INSERT … ON CONFLICT DO NOTHING``: a concurrent first use of the key makes this wait until
    that transaction ends, then see its row (READ COMMITTED) — one winner, no savepoint needed.
    """
    _check_key(key)
    digest = _digest(operation, payload)
    dialect_insert = pg_insert if _on_postgres(session) else lite_insert
    claimed = session.execute(
        dialect_insert(LedgerRequest)
        .values(key=key, operation=operation, request_hash=digest, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(LedgerRequest.id)
    ).scalar()
    if claimed is not None:
        return _Claim(claimed, None)
    return _Claim(None, _earlier(session, key, digest))


def _check_key(key: str) -> None:
    if not key or len(key) > 120:
        raise InvalidInput({"idempotency_key": Msg("Every ledger write needs an idempotency key.")})


def _earlier(session: Session, key: str, digest: str) -> LedgerRequest:
    """The stored request under a taken key, if it was this same request."""
    earlier = session.scalars(select(LedgerRequest).where(LedgerRequest.key == key)).one()
    if earlier.request_hash != digest:
        raise Conflict(Msg("This idempotency key was already used for a different request."))
    return earlier


def _on_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _record(
    session: Session, claim: _Claim, *, entry_id: int | None = None, hold_id: int | None = None
) -> None:
    """Store the result under the claimed key (what a retry will be given)."""
    session.execute(
        update(LedgerRequest)
        .where(LedgerRequest.id == claim.request_id)
        .values(entry_id=entry_id, hold_id=hold_id)
        .execution_options(synchronize_session=False)
    )


# --- writing -------------------------------------------------------------------------------------
#
# Rows are written first and balances changed last, each by one guarded UPDATE (the check and the
# change in one statement, in account-id order): a row lock is then held only from that UPDATE to
# the commit, so writes on a hot fund queue for milliseconds, and the refused ones roll back.

_SHORT = Msg("The fund does not have enough money for this.")


def _kinds(session: Session, account_ids: set[int]) -> dict[int, str]:
    rows = session.execute(
        select(LedgerAccount.id, LedgerAccount.kind).where(LedgerAccount.id.in_(account_ids))
    )
    return {account_id: kind for account_id, kind in rows}


def _expect_kinds(session: Session, wanted: dict[int, str]) -> None:
    _check_kinds(_kinds(session, set(wanted)), wanted)


def _check_kinds(kinds: dict[int, str], wanted: dict[int, str]) -> None:
    for account_id, kind in wanted.items():
        if account_id not in kinds:
            raise NotFound(Msg("No such ledger account."))
        if kinds[account_id] != kind:
            raise InvalidInput({"account": Msg("This account cannot be used here.")})


def _insert_entry(
    session: Session,
    actor: Actor,
    kind: str,
    lines: list[Line],
    *,
    memo: str = "",
    reference: str = "",
    reverses: int | None = None,
) -> LedgerEntry:
    if sum(line.amount for line in lines) != 0 or any(line.amount == 0 for line in lines):
        raise InvalidInput({"amount": Msg("A ledger entry must balance.")})
    entry = LedgerEntry(
        kind=kind,
        memo=memo[:300],
        reference=reference[:120],
        reverses_entry_id=reverses,
        created_by_id=actor.user_id or None,
    )
    session.add(entry)
    session.flush()
    session.execute(
        insert(LedgerPosting),
        [
            {
                "entry_id": entry.id,
                "account_id": line.account_id,
                "amount": line.amount,
                "hold_id": line.hold_id,
            }
            for line in lines
        ],
    )
    return entry


def _move(session: Session, kinds: dict[int, str], changes: dict[int, tuple[int, int]]) -> None:
    """Apply (balance, held) changes per account, each refused unless the account stays sound:
    a fund keeps balance ≥ held ≥ 0, a payee never goes below 0."""
    moving = {account_id: change for account_id, change in sorted(changes.items()) if any(change)}
    if not moving:
        return
    move = _move_at_once if _on_postgres(session) else _move_in_turn
    moved = move(session, kinds, moving)
    for account_id in moving:  # the first refused, in account-id order, says why
        if account_id not in moved:
            if kinds[account_id] == "payee":
                raise InvalidInput({"amount": Msg("More would be recovered than was paid.")})
            raise InvalidInput({"amount": _SHORT})


def _move_in_turn(
    session: Session, kinds: dict[int, str], moving: dict[int, tuple[int, int]]
) -> set[int]:
    moved: set[int] = set()
    for account_id, (d_balance, d_held) in moving.items():
        new_balance = LedgerBalance.balance + d_balance
        new_held = LedgerBalance.held + d_held
        guard = [LedgerBalance.account_id == account_id]
        if kinds[account_id] == "fund":
            guard += [new_balance - new_held >= 0, new_held >= 0]
        elif kinds[account_id] == "payee" and d_balance < 0:
            guard.append(new_balance >= 0)
        done = session.execute(
            update(LedgerBalance)
            .where(*guard)
            .values(balance=new_balance, held=new_held)
            .returning(LedgerBalance.account_id)
            .execution_options(synchronize_session=False)
        ).first()
        if done is None:
            break
        moved.add(account_id)
    return moved


def _move_at_once(
    session: Session, kinds: dict[int, str], moving: dict[int, tuple[int, int]]
) -> set[int]:
    """``_move_in_turn`` in one statement (PostgreSQL)."""
    params = {}
    for i, (account_id, (d_balance, d_held)) in enumerate(moving.items()):
        params |= {f"account{i}": account_id, f"kind{i}": kinds[account_id]}
        params |= {f"d_balance{i}": d_balance, f"d_held{i}": d_held}
    return set(session.scalars(_move_statement(len(moving)), params))


_MOVE_STEP = """
    UPDATE ledger_balances
    SET balance = balance + :d_balance{i}, held = held + :d_held{i}
    WHERE account_id = :account{i} AND CASE CAST(:kind{i} AS varchar)
        WHEN 'fund' THEN balance + :d_balance{i} >= held + :d_held{i} AND held + :d_held{i} >= 0
        WHEN 'payee' THEN :d_balance{i} >= 0 OR balance + :d_balance{i} >= 0
        ELSE true
    END{after}
    RETURNING account_id"""


@functools.cache
def _move_statement(accounts: int):
    chain = _chain("move", _MOVE_STEP, accounts)
    return text(f"WITH {chain} SELECT * FROM move")  # noqa: S608 - no value is formatted in


def _chain(name: str, step: str, count: int, *, first: str = "") -> str:
    """WITH items running ``step`` (a guarded one-row UPDATE … RETURNING) for rows 0, 1, …, each
    only once the one before has updated its row, and ``name``, all they returned: one statement
    that locks its rows in the given order, as separate statements would, and stops at the first
    refused. (Locking the rows first by SELECT … ORDER BY … FOR UPDATE, then updating them,
    would lock each twice in one statement: that deadlocks against concurrent writes.)
    """
    items, rows = [], []
    for i in range(count):
        after = first if i == 0 else f" AND EXISTS (SELECT FROM {name}{i - 1})"
        items.append(f"{name}{i} AS ({step.format(i=i, after=after)}\n)")
        rows.append(f"SELECT * FROM {name}{i}")  # noqa: S608 - no value is formatted in
    return ", ".join([*items, f"{name} AS ({' UNION ALL '.join(rows)})"])


def _changes(lines: list[Line], held: dict[int, int] | None = None) -> dict[int, tuple[int, int]]:
    out: dict[int, tuple[int, int]] = {}
    for line in lines:
        b, h = out.get(line.account_id, (0, 0))
        out[line.account_id] = (b + line.amount, h)
    for account_id, d_held in (held or {}).items():
        b, h = out.get(account_id, (0, 0))
        out[account_id] = (b, h + d_held)
    return out


MAX_AMOUNT = 10**15  # ₩1,000조: far above any program, far below BIGINT's limit even summed


def _positive(amount: int) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT:
        raise InvalidInput({"amount": Msg("Enter a positive whole amount in KRW.")})


def _distinct(*account_ids: int) -> None:
    if len(set(account_ids)) != len(account_ids):
        raise InvalidInput({"account": Msg("This account cannot be used here.")})


def _settled_or_short(session: Session, hold_id: int, short: Msg) -> SangsaengError:
    """Why a guarded hold update matched no row."""
    found = session.get(LedgerHold, hold_id, populate_existing=True)
    if found is None:
        return NotFound(Msg("No such hold."))
    if found.status != HOLD_ACTIVE:
        return Conflict(Msg("This hold has already been settled."))
    return InvalidInput({"amount": short})


# --- operations ---------------------------------------------------------------------------------


def _transfer(
    session: Session,
    actor: Actor,
    operation: str,
    entry_kind: str,
    payload: dict,
    key: str,
    *,
    into: tuple[int, str],
    out_of: tuple[int, str],
    amount: int,
) -> LedgerEntry:
    """One amount from one account into another (account id, expected kind), idempotently."""
    claim = _claim(session, key, operation, payload)
    if claim.earlier is not None:
        return session.get(LedgerEntry, claim.earlier.entry_id)
    _distinct(into[0], out_of[0])
    kinds = dict([into, out_of])
    _expect_kinds(session, kinds)
    lines = [Line(into[0], amount), Line(out_of[0], -amount)]
    entry = _insert_entry(
        session, actor, entry_kind, lines, memo=payload["memo"], reference=payload["reference"]
    )
    _record(session, claim, entry_id=entry.id)
    _move(session, kinds, _changes(lines))
    return entry


@_atomic
def contribute(
    session: Session,
    actor: Actor,
    *,
    fund_account_id: int,
    source_account_id: int,
    amount: int,
    key: str,
    memo: str = "",
    reference: str = "",
) -> LedgerEntry:
    """Money from a source (출연, government allocation, an SME's own share) into a fund."""
    assert_can(session, actor, Action.LEDGER_WRITE)
    _positive(amount)
    payload = {
        "fund": fund_account_id,
        "source": source_account_id,
        "amount": amount,
        "memo": memo,
        "reference": reference,
    }
    return _transfer(
        session,
        actor,
        "contribute",
        "contribution",
        payload,
        key,
        into=(fund_account_id, "fund"),
        out_of=(source_account_id, "source"),
        amount=amount,
    )


@_atomic
def hold(
    session: Session,
    actor: Actor,
    *,
    account_id: int,
    amount: int,
    key: str,
    reference: str = "",
) -> LedgerHold:
    """Reserve money of a fund account (signing an agreement); refused beyond what is free."""
    assert_can(session, actor, Action.LEDGER_WRITE)
    _positive(amount)
    claim = _claim(
        session, key, "hold", {"account": account_id, "amount": amount, "reference": reference}
    )
    if claim.earlier is not None:
        return session.get(LedgerHold, claim.earlier.hold_id)
    _expect_kinds(session, {account_id: "fund"})
    created = LedgerHold(
        account_id=account_id,
        amount=amount,
        remaining=amount,
        released=0,
        status=HOLD_ACTIVE,
        reference=reference[:120],
    )
    session.add(created)
    session.flush()
    _record(session, claim, hold_id=created.id)
    _move(session, {account_id: "fund"}, {account_id: (0, amount)})
    return created


@_atomic
def disburse(
    session: Session,
    actor: Actor,
    *,
    draws: dict[int, int],
    payee_account_id: int,
    key: str,
    memo: str = "",
    reference: str = "",
) -> LedgerEntry:
    """Pay a payee from holds (hold id → amount), in one balanced entry. A hold is drawn only
    while active and never beyond what remains; drawn to 0 it is posted."""
    assert_can(session, actor, Action.LEDGER_WRITE)
    if not draws:
        raise InvalidInput({"amount": Msg("Enter a positive whole amount in KRW.")})
    for amount in draws.values():
        _positive(amount)
    _positive(sum(draws.values()))
    payload = {
        "draws": {str(k): v for k, v in sorted(draws.items())},
        "payee": payee_account_id,
        "memo": memo,
        "reference": reference,
    }
    if _on_postgres(session):
        return _disburse_at_once(
            session, actor, draws, payee_account_id, key, payload, memo=memo, reference=reference
        )
    claim = _claim(session, key, "disburse", payload)
    if claim.earlier is not None:
        return session.get(LedgerEntry, claim.earlier.entry_id)
    _expect_kinds(session, {payee_account_id: "payee"})
    now = utcnow()
    accounts: dict[int, int] = {}
    for hold_id, amount in sorted(draws.items()):  # holds first, in id order, then balances
        left = LedgerHold.remaining - amount
        drawn = session.execute(
            update(LedgerHold)
            .where(
                LedgerHold.id == hold_id,
                LedgerHold.status == HOLD_ACTIVE,
                LedgerHold.remaining >= amount,
            )
            .values(
                remaining=left,
                status=case((left == 0, HOLD_POSTED), else_=LedgerHold.status),
                resolved_at=case((left == 0, now), else_=LedgerHold.resolved_at),
            )
            .returning(LedgerHold.account_id)
            .execution_options(synchronize_session=False)
        ).first()
        if drawn is None:
            raise _settled_or_short(session, hold_id, _HOLD_SHORT)
        accounts[hold_id] = drawn[0]
    lines = _payment_lines(draws, accounts, payee_account_id)
    entry = _insert_entry(session, actor, "disbursement", lines, memo=memo, reference=reference)
    _record(session, claim, entry_id=entry.id)
    _move(session, *_payment_changes(lines, payee_account_id))
    return entry


_HOLD_SHORT = Msg("This is more than the hold has left.")


def _payment_lines(draws: dict[int, int], accounts: dict[int, int], payee: int) -> list[Line]:
    """The lines of a disbursement: each hold's fund (``accounts``) gives, the payee receives."""
    lines = [Line(accounts[h], -amount, h) for h, amount in sorted(draws.items())]
    return [*lines, Line(payee, sum(draws.values()))]


def _payment_changes(lines: list[Line], payee: int) -> tuple[dict, dict]:
    """(kinds, changes) for ``_move``: a fund holds what it gives from its holds that much less."""
    released_from: dict[int, int] = {}
    for line in lines:
        if line.hold_id is not None:
            released_from[line.account_id] = released_from.get(line.account_id, 0) + line.amount
    kinds = {account: "fund" for account in released_from} | {payee: "payee"}
    return kinds, _changes(lines, released_from)


# On PostgreSQL the rows of a disbursement are written by one statement (one round trip rather
# than one per step), then its balances by one more (``_move``), so that the hot fund balances
# are locked only from there to the commit. The steps keep their order, each reading what the
# one before returned: the key is claimed before any hold is locked, and the holds are drawn in
# id order (``_chain``). The entry id is drawn from its sequence up front so that the claimed
# request can name it (the statements of one WITH do not see each other's rows, so the request
# could not be updated afterwards); the entry is therefore written whenever the key is claimed,
# refused or not: raising rolls the savepoint back.
_DRAW_STEP = """
    UPDATE ledger_holds
    SET remaining = remaining - :amount{i},
        status = CASE WHEN remaining = :amount{i} THEN 'posted' ELSE status END,
        resolved_at = CASE WHEN remaining = :amount{i} THEN :now ELSE resolved_at END
    WHERE id = :hold{i} AND status = 'active' AND remaining >= :amount{i}{after}
    RETURNING id, account_id, CAST(:amount{i} AS bigint) AS amount"""


_DISBURSE_HEAD = """
WITH claim AS (
    INSERT INTO ledger_requests (key, operation, request_hash, created_at, entry_id)
    VALUES (:key, 'disburse', :request_hash, :now,
            nextval(pg_get_serial_sequence('ledger_entries', 'id')))
    ON CONFLICT (key) DO NOTHING
    RETURNING entry_id
), entry AS (
    INSERT INTO ledger_entries (id, kind, memo, reference, created_by_id, created_at)
    SELECT entry_id, 'disbursement', CAST(:memo AS varchar), CAST(:reference AS varchar),
           CAST(:created_by AS integer), :now
    FROM claim
    RETURNING id
), payee AS (
    SELECT kind FROM ledger_accounts WHERE id = :payee AND EXISTS (SELECT FROM claim)
), """

_DISBURSE_TAIL = """, posted AS (  -- only once every hold is drawn
    INSERT INTO ledger_postings (entry_id, account_id, amount, hold_id)
    SELECT entry.id, drawn.account_id, -drawn.amount, drawn.id FROM entry, drawn
    WHERE (SELECT count(*) FROM drawn) = :draws
    UNION ALL
    SELECT entry.id, :payee, :total, NULL FROM entry
    WHERE (SELECT count(*) FROM drawn) = :draws
)
SELECT (SELECT entry_id FROM claim) AS entry_id,
       (SELECT kind FROM payee) AS payee_kind,
       ARRAY(SELECT ARRAY[id, account_id] FROM drawn) AS drawn
"""


@functools.cache
def _disburse_statement(holds: int):
    paid = " AND (SELECT kind FROM payee) = 'payee'"
    return text(_DISBURSE_HEAD + _chain("drawn", _DRAW_STEP, holds, first=paid) + _DISBURSE_TAIL)


def _disburse_at_once(
    session: Session,
    actor: Actor,
    draws: dict[int, int],
    payee_account_id: int,
    key: str,
    payload: dict,
    *,
    memo: str,
    reference: str,
) -> LedgerEntry:
    """``disburse`` on PostgreSQL, refusing for the same reasons in the same order."""
    _check_key(key)
    digest = _digest("disburse", payload)
    hold_ids = sorted(draws)
    entry = LedgerEntry(
        kind="disbursement",
        memo=memo[:300],
        reference=reference[:120],
        reverses_entry_id=None,
        created_by_id=actor.user_id or None,
        created_at=utcnow(),
    )
    params = {
        "key": key,
        "request_hash": digest,
        "now": entry.created_at,
        "memo": entry.memo,
        "reference": entry.reference,
        "created_by": entry.created_by_id,
        "payee": payee_account_id,
        "total": sum(draws.values()),
        "draws": len(hold_ids),
    }
    for i, hold_id in enumerate(hold_ids):
        params |= {f"hold{i}": hold_id, f"amount{i}": draws[hold_id]}
    row = session.execute(_disburse_statement(len(hold_ids)), params).one()
    if row.entry_id is None:  # the key was taken
        return session.get(LedgerEntry, _earlier(session, key, digest).entry_id)
    found = {payee_account_id: row.payee_kind} if row.payee_kind is not None else {}
    _check_kinds(found, {payee_account_id: "payee"})
    accounts = dict(row.drawn)
    for hold_id in hold_ids:
        if hold_id not in accounts:
            raise _settled_or_short(session, hold_id, _HOLD_SHORT)
    lines = _payment_lines(draws, accounts, payee_account_id)
    _move(session, *_payment_changes(lines, payee_account_id))
    entry.id = row.entry_id
    return _as_loaded(session, entry)


def _as_loaded(session: Session, obj):
    """Put an object whose row a statement wrote into the session as if loaded from it, rather
    than read the row back."""
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


@_atomic
def release(session: Session, actor: Actor, *, hold_id: int, key: str) -> LedgerHold:
    """Give back what a hold has left (a cancelled or closed agreement). Once."""
    assert_can(session, actor, Action.LEDGER_WRITE)
    claim = _claim(session, key, "release", {"hold": hold_id})
    if claim.earlier is not None:
        return session.get(LedgerHold, claim.earlier.hold_id)
    _record(session, claim, hold_id=hold_id)
    settled = session.execute(
        update(LedgerHold)
        .where(LedgerHold.id == hold_id, LedgerHold.status == HOLD_ACTIVE)
        .values(
            released=LedgerHold.remaining, remaining=0, status=HOLD_RELEASED, resolved_at=utcnow()
        )
        .returning(LedgerHold.account_id, LedgerHold.released)
        .execution_options(synchronize_session=False)
    ).first()
    if settled is None:
        raise _settled_or_short(session, hold_id, _SHORT)
    account_id, released = settled
    _move(session, {account_id: "fund"}, {account_id: (0, -released)})
    return session.get(LedgerHold, hold_id, populate_existing=True)


@_atomic
def recover(
    session: Session,
    actor: Actor,
    *,
    payee_account_id: int,
    fund_account_id: int,
    amount: int,
    key: str,
    memo: str = "",
    reference: str = "",
) -> LedgerEntry:
    """Money paid out comes back to the fund (환수 after a cancellation)."""
    assert_can(session, actor, Action.LEDGER_WRITE)
    _positive(amount)
    payload = {
        "payee": payee_account_id,
        "fund": fund_account_id,
        "amount": amount,
        "memo": memo,
        "reference": reference,
    }
    return _transfer(
        session,
        actor,
        "recover",
        "recovery",
        payload,
        key,
        into=(fund_account_id, "fund"),
        out_of=(payee_account_id, "payee"),
        amount=amount,
    )


@_atomic
def reverse(
    session: Session, actor: Actor, *, entry_id: int, key: str, memo: str = ""
) -> LedgerEntry:
    """Correct an entry by its mirror image (entries are never changed or deleted). Money a
    reversed disbursement returns to the fund is free again, not held."""
    assert_can(session, actor, Action.LEDGER_WRITE)
    claim = _claim(session, key, "reverse", {"entry": entry_id, "memo": memo})
    if claim.earlier is not None:
        return session.get(LedgerEntry, claim.earlier.entry_id)
    original = session.get(LedgerEntry, entry_id)
    if original is None:
        raise NotFound()
    if original.kind == "reversal":
        raise Conflict(Msg("A reversal cannot itself be reversed."))
    postings = session.execute(
        select(LedgerPosting.account_id, LedgerPosting.amount).where(
            LedgerPosting.entry_id == entry_id
        )
    ).all()
    lines = [Line(account_id, -amount) for account_id, amount in postings]
    try:
        with session.begin_nested():
            entry = _insert_entry(
                session,
                actor,
                "reversal",
                lines,
                memo=memo,
                reference=original.reference,
                reverses=entry_id,
            )
    except IntegrityError:  # reversed already, or concurrently
        raise Conflict(Msg("This entry has already been reversed.")) from None
    _record(session, claim, entry_id=entry.id)
    _move(session, _kinds(session, {line.account_id for line in lines}), _changes(lines))
    return entry


# --- verification -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    entries: int
    violations: list[dict]


def check(session: Session) -> CheckResult:
    """Re-verify every invariant over the whole ledger (what an operator runs after a restore).

    On a live database run it in one REPEATABLE READ transaction (the CLI does), so that every
    statement reads the same snapshot and concurrent writes cannot show up as violations.
    """
    violations: list[dict] = []
    entries = session.scalar(select(func.count(LedgerEntry.id))) or 0
    unbalanced = session.execute(
        select(LedgerPosting.entry_id, func.sum(LedgerPosting.amount), func.count())
        .group_by(LedgerPosting.entry_id)
        .having((func.sum(LedgerPosting.amount) != 0) | (func.count() < 2))
    ).all()
    violations += [
        {"rule": "entry_balances", "entry": e, "sum": int(s), "lines": n} for e, s, n in unbalanced
    ]
    without_lines = session.scalars(
        select(LedgerEntry.id).where(
            ~select(LedgerPosting.id).where(LedgerPosting.entry_id == LedgerEntry.id).exists()
        )
    ).all()
    violations += [{"rule": "entry_has_lines", "entry": e} for e in without_lines]
    trial = session.scalar(select(func.coalesce(func.sum(LedgerPosting.amount), 0))) or 0
    if trial != 0:
        violations.append({"rule": "trial_balance", "sum": int(trial)})
    replay = dict(
        session.execute(
            select(LedgerPosting.account_id, func.sum(LedgerPosting.amount)).group_by(
                LedgerPosting.account_id
            )
        ).all()
    )
    held = dict(
        session.execute(
            select(LedgerHold.account_id, func.sum(LedgerHold.remaining))
            .where(LedgerHold.status == HOLD_ACTIVE)
            .group_by(LedgerHold.account_id)
        ).all()
    )
    kinds = dict(session.execute(select(LedgerAccount.id, LedgerAccount.kind)).all())
    fresh = {"populate_existing": True}  # rows may have moved under earlier loaded objects
    for row in session.scalars(select(LedgerBalance).execution_options(**fresh)):
        expected = int(replay.get(row.account_id, 0))
        if row.balance != expected:
            violations.append(
                {
                    "rule": "cached_balance",
                    "account": row.account_id,
                    "cached": row.balance,
                    "replayed": expected,
                }
            )
        expected_held = int(held.get(row.account_id, 0))
        if row.held != expected_held:
            violations.append(
                {
                    "rule": "cached_held",
                    "account": row.account_id,
                    "cached": row.held,
                    "holds": expected_held,
                }
            )
        if kinds.get(row.account_id) == "fund" and (expected < 0 or expected < expected_held):
            violations.append(
                {
                    "rule": "fund_not_overspent",
                    "account": row.account_id,
                    "balance": expected,
                    "held": expected_held,
                }
            )
        if kinds.get(row.account_id) == "payee" and expected < 0:
            violations.append(
                {"rule": "payee_not_negative", "account": row.account_id, "balance": expected}
            )
    strays = session.execute(
        select(LedgerPosting.id, LedgerPosting.hold_id)
        .join(LedgerHold, LedgerHold.id == LedgerPosting.hold_id)
        .where(LedgerPosting.account_id != LedgerHold.account_id)
    ).all()
    violations += [
        {"rule": "hold_drawn_from_its_account", "posting": p, "hold": h} for p, h in strays
    ]
    drawn = dict(
        session.execute(
            select(LedgerPosting.hold_id, -func.sum(LedgerPosting.amount))
            .where(LedgerPosting.hold_id.is_not(None))
            .group_by(LedgerPosting.hold_id)
        ).all()
    )
    for h in session.scalars(select(LedgerHold).execution_options(**fresh)):
        taken = int(drawn.get(h.id, 0))
        if taken + h.remaining + h.released != h.amount:
            violations.append(
                {
                    "rule": "hold_adds_up",
                    "hold": h.id,
                    "amount": h.amount,
                    "drawn": taken,
                    "remaining": h.remaining,
                    "released": h.released,
                }
            )
        settled = h.status in (HOLD_POSTED, HOLD_RELEASED)
        if settled != (h.resolved_at is not None) or (settled and h.remaining != 0):
            violations.append({"rule": "hold_settled_once", "hold": h.id, "status": h.status})
        if h.status == HOLD_POSTED and h.released != 0:
            violations.append({"rule": "hold_settled_once", "hold": h.id, "status": h.status})
    reversals = session.execute(
        select(LedgerEntry.id, LedgerEntry.reverses_entry_id).where(
            LedgerEntry.reverses_entry_id.is_not(None)
        )
    ).all()
    for reversal_id, original_id in reversals:
        mirror = _lines_of(session, reversal_id)
        original = _lines_of(session, original_id)
        if sorted((a, -m) for a, m in mirror) != sorted(original):
            violations.append(
                {"rule": "reversal_mirrors", "entry": reversal_id, "reverses": original_id}
            )
    return CheckResult(int(entries), violations)


def _lines_of(session: Session, entry_id: int) -> list[tuple[int, int]]:
    return [
        (a, int(m))
        for a, m in session.execute(
            select(LedgerPosting.account_id, LedgerPosting.amount).where(
                LedgerPosting.entry_id == entry_id
            )
        )
    ]
