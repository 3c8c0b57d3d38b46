"""The demo's factory data (demo/factory_seed.py): three companies of the smart-factory program
with a year of production, inspection, process and order datasets whose Parquet files read back,
their shift calendars and cycle times, the logins that reach them and the one consent that lets
the program's operator read the showcase's production records. The planted degrading machine is
seen in the stored file.

Reads the demo seeded once per backend (tests/demo/conftest.py); nothing here seeds again.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from sangsaeng.core.accounts import service as accounts
from sangsaeng.core.accounts.passwords import verify_password
from sangsaeng.core.errors import NotFound
from sangsaeng.core.files.service import LocalStorage
from sangsaeng.core.models import Membership, User
from sangsaeng.demo import factory_production
from sangsaeng.demo.factory_seed import FACTORY_LOGINS, using_storage
from sangsaeng.demo.seed import DEMO_PASSWORD
from sangsaeng.factory import datasets
from sangsaeng.factory.engine import oee
from sangsaeng.factory.models import (
    DATASET_KINDS,
    PRODUCTION,
    CycleTime,
    DatasetConsent,
    FactoryDataset,
    Shift,
)
from tests.demo.conftest import DEMO_GROUP

pytestmark = DEMO_GROUP
LOGINS = ["sme@demo.sangsaeng.kr", *(email for email, _name in FACTORY_LOGINS)]


@pytest.fixture
def factory(demo):
    summary = demo[2]["factory"]
    # Reading goes through the storage the seed wrote beside (as the web app's would be).
    with using_storage(LocalStorage(Path(summary["folder"]).parent / "files")):
        yield summary


def _actor(session, email: str):
    return accounts.load_actor(
        session, session.scalars(select(User).where(User.email == email)).one()
    )


def test_three_program_companies_have_a_year_of_every_kind_of_dataset(demo, demo_db, factory):
    assert [c["login"] for c in factory["companies"]] == LOGINS
    start, end = (date.fromisoformat(d) for d in factory["period"])
    assert end - start == timedelta(days=364) and (end + timedelta(days=1)).day == 1
    assert set(LOGINS) <= {login["email"] for login in demo[2]["logins"]}
    sizes = {}
    for company in factory["companies"]:
        assert set(company["datasets"]) == set(DATASET_KINDS)
        owned = demo_db.scalars(
            select(FactoryDataset).where(
                FactoryDataset.organization_id == company["organization_id"]
            )
        ).all()
        assert {d.id for d in owned} == set(company["datasets"].values())
        for dataset in owned:
            assert dataset.storage_key and dataset.n_rows > 1000
            assert factory["period"][0] <= dataset.period_start < dataset.period_end
            assert dataset.period_end <= factory["period"][1]
            frame = datasets.read_frame(dataset)  # the Parquet, read with DuckDB
            assert len(frame) == dataset.n_rows
            sizes[(company["login"], dataset.kind)] = dataset.n_rows
        user = demo_db.scalars(select(User).where(User.email == company["login"])).one()
        assert verify_password(user.password_hash, DEMO_PASSWORD)
        roles = set(
            demo_db.execute(
                select(Membership.organization_id, Membership.role).where(
                    Membership.user_id == user.id
                )
            ).all()
        )
        assert (company["organization_id"], "sme") in roles
        shifts = demo_db.scalars(
            select(Shift).where(Shift.organization_id == company["organization_id"])
        ).all()
        assert {s.name for s in shifts} == {"주간", "야간"}
        cycles = demo_db.scalars(
            select(CycleTime).where(CycleTime.organization_id == company["organization_id"])
        ).all()
        assert len(cycles) == len(factory_production.standards().cycle_times)
    # The showcase has the most process lots.
    assert sizes[(LOGINS[0], "process")] > 2 * sizes[(LOGINS[1], "process")]
    assert sum(sizes.values()) == factory["rows"]


def test_the_operator_reads_the_consented_production_records_only(demo_db, factory):
    showcase = factory["companies"][0]
    (consent,) = factory["consents"]
    assert consent["dataset_id"] == showcase["datasets"][PRODUCTION]
    operator = _actor(demo_db, consent["operator_login"])
    visible = {d.id for d in datasets.list_datasets(demo_db, operator)}
    assert visible == {consent["dataset_id"]}
    assert datasets.get_dataset(demo_db, operator, consent["dataset_id"]).kind == PRODUCTION
    with pytest.raises(NotFound):
        datasets.get_dataset(demo_db, operator, showcase["datasets"]["inspection"])
    row = demo_db.scalars(select(DatasetConsent)).one()
    assert row.revoked_at is None and row.operator_org_id == consent["operator_org_id"]
    # Another company's login sees its own datasets and nothing of the showcase's.
    other = _actor(demo_db, LOGINS[1])
    assert {d.id for d in datasets.list_datasets(demo_db, other)} == set(
        factory["companies"][1]["datasets"].values()
    )


def test_the_stored_production_records_show_the_planted_degrading_machine(demo_db, factory):
    showcase = factory["companies"][0]
    dataset = demo_db.get(FactoryDataset, showcase["datasets"][PRODUCTION])
    stored = datasets.read_frame(dataset).drop(columns=["ideal_cycle_seconds"])
    cycles = pd.DataFrame(
        demo_db.execute(
            select(CycleTime.product, CycleTime.machine, CycleTime.ideal_cycle_seconds).where(
                CycleTime.organization_id == showcase["organization_id"]
            )
        ).all()
    )
    records = oee.prepare(stored.merge(cycles, on=["product", "machine"], how="left"))
    planted = factory_production.PLANTED_PRODUCTION["degrading"]
    machine = records.loc[records["machine"] == planted["machine"]]
    day = pd.to_datetime(machine["day"])
    first = oee.oee_table(machine.loc[day < day.min() + pd.Timedelta(days=91)])[0]
    last = oee.oee_table(machine.loc[day > day.max() - pd.Timedelta(days=91)])[0]
    assert first["availability"] - last["availability"] > 0.1
    assert last["losses"]["breakdown"] > 2 * first["losses"]["breakdown"]
    steady = oee.oee_table(records.loc[records["machine"] == "M-201"])[0]
    assert steady["availability"] == pytest.approx(
        factory_production.PLANTED_PRODUCTION["availability"]["M-201"], abs=0.015
    )
    assert steady["performance"] == pytest.approx(factory_production.performance("M-201"), abs=0.01)
