"""The ledger on both databases: flows, refusals, idempotency, invariants, append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from sangsaeng.core.errors import Conflict, Forbidden, InvalidInput
from sangsaeng.core.policy import SYSTEM_ACTOR
from sangsaeng.ledger import service as ledger
from sangsaeng.ledger.models import LedgerEntry, LedgerPosting
from tests.assessments.helpers import actor_of
from tests.factories import make_org, make_user


def accounts(db, prefix: str = "p1"):
    fund = ledger.ensure_account(
        db, SYSTEM_ACTOR, code=f"{prefix}:fund:gov", kind="fund", name="정부 출연금"
    )
    source = ledger.ensure_account(db, SYSTEM_ACTOR, code="source:gov", kind="source", name="정부")
    payee = ledger.ensure_account(
        db, SYSTEM_ACTOR, code="payee:mes-co", kind="payee", name="공급기업"
    )
    return fund.id, source.id, payee.id


def test_contribute_hold_disburse_release_recover_reverse(db):
    fund, source, payee = accounts(db)
    ledger.contribute(
        db,
        SYSTEM_ACTOR,
        fund_account_id=fund,
        source_account_id=source,
        amount=100_000_000,
        key="c1",
    )
    held = ledger.hold(
        db, SYSTEM_ACTOR, account_id=fund, amount=60_000_000, key="h1", reference="agreement:1"
    )
    row = ledger.balance(db, SYSTEM_ACTOR, fund)
    assert (row.balance, row.held) == (100_000_000, 60_000_000)
    with pytest.raises(InvalidInput):  # only 40,000,000 is free
        ledger.hold(db, SYSTEM_ACTOR, account_id=fund, amount=40_000_001, key="h2")
    ledger.disburse(
        db,
        SYSTEM_ACTOR,
        draws={held.id: 20_000_000},
        payee_account_id=payee,
        key="d1",
        reference="milestone:1",
    )
    with pytest.raises(InvalidInput):  # more than the hold has left
        ledger.disburse(
            db, SYSTEM_ACTOR, draws={held.id: 40_000_001}, payee_account_id=payee, key="d2"
        )
    ledger.release(db, SYSTEM_ACTOR, hold_id=held.id, key="r1")
    with pytest.raises(Conflict):  # a hold is settled once
        ledger.release(db, SYSTEM_ACTOR, hold_id=held.id, key="r2")
    with pytest.raises(Conflict):
        ledger.disburse(db, SYSTEM_ACTOR, draws={held.id: 1}, payee_account_id=payee, key="d3")
    row = ledger.balance(db, SYSTEM_ACTOR, fund)
    assert (row.balance, row.held) == (80_000_000, 0)
    recovery = ledger.recover(
        db,
        SYSTEM_ACTOR,
        payee_account_id=payee,
        fund_account_id=fund,
        amount=5_000_000,
        key="v1",
        memo="환수",
    )
    with pytest.raises(InvalidInput):  # more than was ever paid
        ledger.recover(
            db,
            SYSTEM_ACTOR,
            payee_account_id=payee,
            fund_account_id=fund,
            amount=15_000_001,
            key="v2",
        )
    ledger.reverse(db, SYSTEM_ACTOR, entry_id=recovery.id, key="x1", memo="오류 정정")
    with pytest.raises(Conflict):
        ledger.reverse(db, SYSTEM_ACTOR, entry_id=recovery.id, key="x2")
    assert ledger.balance(db, SYSTEM_ACTOR, fund).balance == 80_000_000
    assert ledger.balance(db, SYSTEM_ACTOR, payee).balance == 20_000_000
    result = ledger.check(db)
    assert result.violations == [] and result.entries == 4


def test_a_disbursement_draws_several_sources_in_one_balanced_entry(db):
    gov = ledger.ensure_account(db, SYSTEM_ACTOR, code="p:fund:gov", kind="fund", name="정부")
    spon = ledger.ensure_account(db, SYSTEM_ACTOR, code="p:fund:sponsor", kind="fund", name="후원")
    src = ledger.ensure_account(db, SYSTEM_ACTOR, code="src", kind="source", name="출연")
    payee = ledger.ensure_account(db, SYSTEM_ACTOR, code="payee", kind="payee", name="공급기업")
    for fund, key in ((gov, "cg"), (spon, "cs")):
        ledger.contribute(
            db,
            SYSTEM_ACTOR,
            fund_account_id=fund.id,
            source_account_id=src.id,
            amount=1_000_000,
            key=key,
        )
    h_gov = ledger.hold(db, SYSTEM_ACTOR, account_id=gov.id, amount=300_000, key="hg")
    h_spon = ledger.hold(db, SYSTEM_ACTOR, account_id=spon.id, amount=300_000, key="hs")
    entry = ledger.disburse(
        db,
        SYSTEM_ACTOR,
        draws={h_gov.id: 300_000, h_spon.id: 300_000},
        payee_account_id=payee.id,
        key="d",
    )
    lines = db.scalars(select(LedgerPosting).where(LedgerPosting.entry_id == entry.id)).all()
    assert sorted(p.amount for p in lines) == [-300_000, -300_000, 600_000]
    db.refresh(h_gov)
    assert h_gov.status == "posted" and h_gov.remaining == 0
    assert ledger.check(db).violations == []


def test_idempotency_same_request_same_result_other_request_refused(db):
    fund, source, _payee = accounts(db)
    first = ledger.contribute(
        db, SYSTEM_ACTOR, fund_account_id=fund, source_account_id=source, amount=1_000, key="same"
    )
    again = ledger.contribute(
        db, SYSTEM_ACTOR, fund_account_id=fund, source_account_id=source, amount=1_000, key="same"
    )
    assert again.id == first.id
    assert db.scalar(select(func.count(LedgerEntry.id))) == 1
    with pytest.raises(Conflict):
        ledger.contribute(
            db,
            SYSTEM_ACTOR,
            fund_account_id=fund,
            source_account_id=source,
            amount=2_000,
            key="same",
        )
    with pytest.raises(InvalidInput):
        ledger.contribute(
            db, SYSTEM_ACTOR, fund_account_id=fund, source_account_id=source, amount=1_000, key=""
        )


def test_bad_amounts_and_accounts_are_refused_and_nothing_is_written(db):
    fund, source, payee = accounts(db)
    for amount in (0, -5, 1.5, True):
        with pytest.raises(InvalidInput):
            ledger.contribute(
                db,
                SYSTEM_ACTOR,
                fund_account_id=fund,
                source_account_id=source,
                amount=amount,
                key=f"bad-{amount}",
            )
    with pytest.raises(InvalidInput):  # money cannot be contributed into a payee
        ledger.contribute(
            db,
            SYSTEM_ACTOR,
            fund_account_id=payee,
            source_account_id=source,
            amount=10,
            key="wrong-kind",
        )
    db.rollback()
    assert db.scalar(select(func.count(LedgerEntry.id))) == 0


def test_only_operators_and_admins_write(db):
    org = make_org(db)
    sme = actor_of(db, make_user(db, roles=[(org, "sme")]))
    with pytest.raises(Forbidden):
        ledger.ensure_account(db, sme, code="x", kind="fund", name="x")


def test_entries_are_append_only_on_postgres(db, backend, engine):
    if backend != "postgres":
        pytest.skip("enforced by a PostgreSQL trigger")
    fund, source, _payee = accounts(db)
    entry = ledger.contribute(
        db, SYSTEM_ACTOR, fund_account_id=fund, source_account_id=source, amount=10, key="k"
    )
    db.commit()
    for statement in (
        f"UPDATE ledger_postings SET amount = 11 WHERE entry_id = {entry.id}",
        f"DELETE FROM ledger_entries WHERE id = {entry.id}",
        "TRUNCATE ledger_postings CASCADE",
    ):
        with engine.connect() as conn, pytest.raises(Exception, match="append-only"):
            conn.execute(text(statement))


def test_check_reports_a_tampered_balance(db, cli_env):
    import json

    from typer.testing import CliRunner

    from sangsaeng.cli import app

    fund, source, _payee = accounts(db)
    ledger.contribute(
        db, SYSTEM_ACTOR, fund_account_id=fund, source_account_id=source, amount=500, key="k"
    )
    db.commit()
    runner = CliRunner()
    clean = runner.invoke(app, ["ledger", "check", "--json"])
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout) == {"entries": 1, "violations": []}
    db.execute(text(f"UPDATE ledger_balances SET balance = 499 WHERE account_id = {fund}"))
    db.commit()
    broken = runner.invoke(app, ["ledger", "check", "--json"])
    assert broken.exit_code == 1
    rules = {v["rule"] for v in json.loads(broken.stdout)["violations"]}
    assert rules == {"cached_balance"}


def test_amounts_are_bounded_and_accounts_distinct(db):
    fund, source, payee = accounts(db)
    with pytest.raises(InvalidInput):
        ledger.contribute(
            db,
            SYSTEM_ACTOR,
            fund_account_id=fund,
            source_account_id=source,
            amount=10**15 + 1,
            key="huge",
        )
    with pytest.raises(InvalidInput):
        ledger.contribute(
            db, SYSTEM_ACTOR, fund_account_id=fund, source_account_id=fund, amount=10, key="self"
        )
    with pytest.raises(InvalidInput):
        ledger.recover(
            db, SYSTEM_ACTOR, payee_account_id=payee, fund_account_id=payee, amount=10, key="self2"
        )
