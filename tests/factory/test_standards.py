"""The SME's shift calendar and cycle times on both databases: added, changed and removed by the
SME only (403 naming another SME, 404 for another's rows), checked field by field, audited, and
cycle times imported from a CP949 table all-or-nothing with each bad row named."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select

from sangsaeng.core.audit.models import AuditEvent
from sangsaeng.core.errors import Forbidden, InvalidInput, NotFound
from sangsaeng.core.imports import reader
from sangsaeng.factory import standards
from sangsaeng.factory.models import CycleTime
from tests.factory.world import build

DAY = {
    "name": "주간",
    "machine": "",
    "starts": "08:00",
    "ends": "17:00",
    "break_minutes": "60",
    "weekdays": "01234",
}


@pytest.fixture
def world(db):
    return build(db)


def test_the_sme_keeps_its_shift_calendar(db, world):
    day = standards.add_shift(db, world.sme, DAY)
    night = standards.add_shift(
        db, world.sme, {**DAY, "name": "야간", "starts": "22:00", "ends": "06:00",
                        "break_minutes": 30, "weekdays": ["0", "1", "2", "3"]},
    )  # fmt: skip
    db.commit()
    assert (day.organization_id, day.starts, day.weekdays) == (world.sme_org_id, time(8), "01234")
    assert [s.name for s in standards.list_shifts(db, world.sme)] == ["주간", "야간"]
    standards.update_shift(db, world.sme, night.id, {**DAY, "name": "야간", "machine": "M1"})
    db.commit()
    assert standards.calendar_of(db, world.sme_org_id)[1]["machine"] == "M1"
    standards.delete_shift(db, world.sme, day.id)
    db.commit()
    assert [s.name for s in standards.list_shifts(db, world.sme)] == ["야간"]
    actions = db.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("factory.shift%"))
    ).all()
    assert sorted(actions) == sorted(
        ["factory.shift_add", "factory.shift_add", "factory.shift_update", "factory.shift_delete"]
    )


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"name": ""}, "name", "shift name"),
        ({"starts": "25:00"}, "starts", "HH:MM"),
        ({"break_minutes": "-5"}, "break_minutes", "break minutes"),
        ({"break_minutes": "540"}, "break_minutes", "breaks must be shorter"),
        ({"weekdays": ""}, "weekdays", "weekday"),
        ({"weekdays": "7"}, "weekdays", "weekday"),
    ],
)
def test_a_bad_shift_is_refused_naming_the_field(db, world, change, field, says):
    with pytest.raises(InvalidInput) as refused:
        standards.add_shift(db, world.sme, {**DAY, **change})
    assert field in refused.value.fields
    assert says in refused.value.fields[field].msgid  # translated when shown


def test_a_shift_name_is_unique_per_machine(db, world):
    standards.add_shift(db, world.sme, DAY)
    standards.add_shift(db, world.sme, {**DAY, "machine": "M2"})  # M2's own day shift
    with pytest.raises(InvalidInput) as refused:
        standards.add_shift(db, world.sme, DAY)
    assert "name" in refused.value.fields


def test_cycle_times_and_who_may_touch_them(db, world):
    cycle = standards.add_cycle_time(
        db, world.sme, {"product": "브래킷", "machine": "M1", "ideal_cycle_seconds": "30"}
    )
    shift = standards.add_shift(db, world.sme, DAY)
    db.commit()
    with pytest.raises(InvalidInput) as refused:
        standards.add_cycle_time(db, world.sme, {"product": "하우징", "ideal_cycle_seconds": "0"})
    assert "seconds" in refused.value.fields["ideal_cycle_seconds"].msgid
    standards.update_cycle_time(
        db, world.sme, cycle.id, {"product": "브래킷", "machine": "", "ideal_cycle_seconds": 32.5}
    )
    db.commit()
    assert standards.cycle_times_of(db, world.sme_org_id) == [
        {"product": "브래킷", "machine": "", "ideal_cycle_seconds": 32.5}
    ]
    for outsider in (world.other_sme, world.operator, world.admin):
        with pytest.raises(NotFound):
            standards.update_cycle_time(
                db, outsider, cycle.id, {"product": "x", "ideal_cycle_seconds": 1}
            )
        with pytest.raises(NotFound):
            standards.delete_shift(db, outsider, shift.id)
    with pytest.raises(Forbidden):
        standards.list_shifts(db, world.other_sme, world.sme_org_id)
    for outsider in (world.operator, world.admin):
        with pytest.raises(Forbidden):
            standards.add_cycle_time(db, outsider, {"product": "x", "ideal_cycle_seconds": 1})
    assert standards.list_cycle_times(db, world.other_sme) == []
    standards.delete_cycle_time(db, world.sme, cycle.id)
    db.commit()
    assert standards.list_cycle_times(db, world.sme) == []


CYCLES_CSV = '제품,설비,표준사이클타임(초)\n브래킷,M1,30\n브래킷,,35\n하우징,M2,"1,200"\n'
BAD_CYCLES_CSV = (
    "제품,설비,표준사이클타임(초)\n"
    "브래킷,M1,30\n"  # 2: fine
    ",M1,30\n"  # 3: no product
    "하우징,M2,빠름\n"  # 4: not a number
    "브래킷,M1,31\n"  # 5: the pair of row 2 again
    "축,M3,-2\n"  # 6: not positive
)


def table_of(text: str) -> reader.Table:
    return reader.read_table(text.encode("cp949"), "cycles.csv")


def test_cycle_times_are_imported_all_or_nothing(db, world):
    refused = standards.import_cycle_times(db, world.sme, table_of(BAD_CYCLES_CSV))
    db.commit()
    assert not refused.committed
    assert {(e.row, e.column) for e in refused.rejected} == {
        (3, "제품"),
        (4, "표준사이클타임(초)"),
        (5, "제품"),
        (6, "표준사이클타임(초)"),
    }
    assert "2" in next(e.reason for e in refused.rejected if e.row == 5)
    assert db.scalars(select(CycleTime)).all() == []

    standards.add_cycle_time(db, world.sme, {"product": "브래킷", "machine": "M1",
                                             "ideal_cycle_seconds": 28})  # fmt: skip
    result = standards.import_cycle_times(db, world.sme, table_of(CYCLES_CSV))
    db.commit()
    assert result.committed and (result.created, result.updated, result.unchanged) == (2, 1, 0)
    assert {
        (c["product"], c["machine"]): c["ideal_cycle_seconds"]
        for c in standards.cycle_times_of(db, world.sme_org_id)
    } == {("브래킷", "M1"): 30.0, ("브래킷", ""): 35.0, ("하우징", "M2"): 1200.0}
    again = standards.import_cycle_times(db, world.sme, table_of(CYCLES_CSV))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert (
        db.scalar(
            select(AuditEvent.details).where(AuditEvent.action == "factory.cycle_time_import")
        )["created"]
        == 2
    )
    with pytest.raises(InvalidInput):
        standards.import_cycle_times(db, world.sme, table_of("설비,수량\nM1,3\n"))
    with pytest.raises(Forbidden):
        standards.import_cycle_times(db, world.operator, table_of(CYCLES_CSV))
