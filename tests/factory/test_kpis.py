"""KPIs measured from an SME's own datasets, on both databases, against values computed by hand
on small fixtures: defect rate (from production records, or from inspections when there are
none), on-time delivery (undelivered past-due orders count as late), productivity per run hour
with a day bootstrap, OEE from planned and ideal cycle times, Wilson intervals checked against
statsmodels; the dataset chosen, the query shown, a partial period warned, and who may measure
— the SME, a consented operator while consent stands, nobody else (404)."""

from __future__ import annotations

from datetime import date

import pytest
from statsmodels.stats.proportion import proportion_confint

from sangsaeng.core.errors import InvalidInput, NotFound
from sangsaeng.core.files import service as files
from sangsaeng.factory import datasets, kpis
from tests.factory.world import build

PRODUCTION_CSV = (
    "일자,설비,제품,생산수량,양품수량,불량수량,가동시간(분)\n"
    "2026-03-02,M1,브래킷,100,95,5,400\n"
    "2026-03-03,M1,브래킷,200,190,10,450\n"
    "2026-03-04,M2,하우징,50,45,,300\n"  # defects derived: 50 − 45
    "2026-03-05,M1,브래킷,120,114,6,420\n"
    "2026-03-06,M2,하우징,80,80,0,360\n"
    "2026-04-01,M1,브래킷,1000,900,100,480\n"  # outside March
)
INSPECTION_CSV = (
    "일자,로트,검사항목,측정값,하한규격,상한규격,판정\n"
    "2026-03-02,L1,길이,10.0,9.5,10.5,합격\n"
    "2026-03-02,L1,폭,5.0,4.5,5.5,불합격\n"  # L1 fails on one inspection
    "2026-03-03,L2,길이,10.6,9.5,10.5,\n"  # no verdict, above the USL: fails
    "2026-03-03,L3,길이,10.0,9.5,10.5,\n"
    "2026-03-04,L4,길이,,,,OK\n"
    "2026-04-02,L5,길이,12.0,9.5,10.5,불합격\n"  # outside March
)
ORDERS_CSV = (
    "제품,주문일,수량,납기일,납품일\n"
    "A,2026-02-20,10,2026-03-05,2026-03-04\n"  # on time
    "A,2026-02-25,10,2026-03-10,2026-03-12\n"  # late
    "A,2026-03-01,10,2026-03-15,2026-03-15\n"  # on the due date: on time
    "A,2026-03-02,10,2026-03-20,\n"  # never delivered, due in March: late
    "A,2026-03-03,10,,2026-03-08\n"  # no due date: left out
    "A,2026-03-10,10,2026-04-10,2026-04-09\n"  # delivered in April
    "A,2026-03-20,10,2026-04-30,\n"  # open, due in April
)
MARCH = (date(2026, 3, 2), date(2026, 3, 31))  # within every fixture's days


@pytest.fixture
def world(app, db, settings):
    files.configure_storage(files.LocalStorage(settings.data_dir / "files"))
    return build(db)


def upload(db, world, text: str, kind: str, name: str = ""):
    frame, _ = datasets.read_upload(text.encode("cp949"), f"{kind}.csv")
    result = datasets.import_dataset(db, world.sme, frame, kind=kind, name=name or kind)
    db.commit()
    assert result.committed, result.errors
    return datasets.get_dataset(db, world.sme, result.dataset_id)


def wilson_percent(k, n):
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return low * 100, high * 100


def test_defect_rate_from_inspections_then_from_production_records(db, world):
    inspections = upload(db, world, INSPECTION_CSV, "inspection")
    found = kpis.measure(db, world.sme, world.sme_org_id, "defect_rate", *MARCH)
    assert found.basis == "inspection" and found.datasets[0].id == inspections.id
    assert (found.numerator, found.denominator, found.n) == (2, 4, 4)  # L1, L2 of 4 lots
    assert found.value == pytest.approx(50.0)
    assert found.interval == pytest.approx(wilson_percent(2, 4))
    assert "FROM rows" in found.query and "2026-03-31" in found.query

    production = upload(db, world, PRODUCTION_CSV, "production", "3월 생산실적")
    found = kpis.measure(db, world.sme, world.sme_org_id, "defect_rate", *MARCH)
    assert found.basis == "production" and found.datasets[0].name == "3월 생산실적"
    assert (found.numerator, found.denominator, found.n) == (26, 550, 5)
    assert found.value == pytest.approx(26 / 550 * 100)
    assert found.unit == "%"
    assert found.interval == pytest.approx(wilson_percent(26, 550))
    assert found.covered == (date(2026, 3, 2), date(2026, 3, 6))
    assert found.warnings == ()
    # The query shown is the one that ran: run again, it gives the same numbers.
    again = datasets.query(production, found.query).iloc[0]
    assert (again["defects"], again["produced"]) == (26, 550)
    chosen = kpis.measure(
        db, world.sme, world.sme_org_id, "defect_rate", *MARCH, dataset_id=inspections.id
    )
    assert chosen.basis == "inspection" and chosen.value == pytest.approx(50.0)


def test_on_time_delivery_counts_undelivered_past_due_orders_as_late(db, world):
    upload(db, world, ORDERS_CSV, "orders")
    found = kpis.measure(db, world.sme, world.sme_org_id, "on_time_delivery", *MARCH)
    # Delivered in March with a due date: 3 (2 on time); open and past due in March: 1.
    assert (found.numerator, found.denominator) == (2, 4)
    assert found.value == pytest.approx(50.0)
    assert found.extra == {"open_past_due": 1, "without_due_date": 1, "delivered": 4}
    assert found.interval == pytest.approx(wilson_percent(2, 4))
    april = kpis.measure(
        db, world.sme, world.sme_org_id, "on_time_delivery", date(2026, 4, 1), date(2026, 4, 30)
    )
    assert (april.numerator, april.denominator) == (1, 1)  # the open April order is not due yet
    # … by the day the data were uploaded: a later period finds it past due.


def test_productivity_is_good_units_per_run_hour_with_a_day_bootstrap(db, world):
    upload(db, world, PRODUCTION_CSV, "production")
    found = kpis.measure(db, world.sme, world.sme_org_id, "productivity", *MARCH)
    run_hours = (400 + 450 + 300 + 420 + 360) / 60
    assert found.numerator == 524 and found.denominator == pytest.approx(run_hours)
    assert found.value == pytest.approx(524 / run_hours)
    assert found.unit == "units/run hour" and found.n == 5
    low, high = found.interval
    assert low < found.value < high
    assert kpis.measure(db, world.sme, world.sme_org_id, "productivity", *MARCH) == found
    few = kpis.measure(
        db, world.sme, world.sme_org_id, "productivity", date(2026, 3, 1), date(2026, 3, 3)
    )
    assert few.interval is None  # two days are too few to resample


def test_the_dataset_is_chosen_or_refused_with_a_reason(db, world):
    production = upload(db, world, PRODUCTION_CSV, "production")
    partial = kpis.measure(
        db, world.sme, world.sme_org_id, "defect_rate", date(2026, 2, 1), date(2026, 3, 31)
    )
    assert partial.value == pytest.approx(26 / 550 * 100) and partial.warnings
    with pytest.raises(InvalidInput) as refused:
        kpis.measure(
            db, world.sme, world.sme_org_id, "defect_rate", date(2025, 1, 1), date(2025, 12, 31)
        )
    assert "period_start" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:
        kpis.measure(db, world.sme, world.sme_org_id, "on_time_delivery", *MARCH)
    assert "period_start" in refused.value.fields  # no orders uploaded
    with pytest.raises(InvalidInput) as refused:
        kpis.measure(
            db, world.sme, world.sme_org_id, "on_time_delivery", *MARCH, dataset_id=production.id
        )
    assert "dataset_id" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:
        kpis.measure(db, world.sme, world.sme_org_id, "defect_rate", MARCH[1], MARCH[0])
    assert "period_end" in refused.value.fields
    with pytest.raises(InvalidInput):
        kpis.measure(db, world.sme, world.sme_org_id, "revenue", *MARCH)
    offered = {(a.kpi, a.dataset_id) for a in kpis.available(db, world.sme, world.sme_org_id)}
    # No planned times in the file and no shift calendar: OEE is not offered.
    assert offered == {("defect_rate", production.id), ("productivity", production.id)}
    assert not any(
        a.kpi == "on_time_delivery" for a in kpis.available(db, world.sme, world.sme_org_id)
    )


def test_only_the_sme_and_a_consented_operator_may_measure(db, world):
    production = upload(db, world, PRODUCTION_CSV, "production")
    for stranger in (world.other_sme, world.operator, world.stranger, world.admin):
        with pytest.raises(NotFound):
            kpis.measure(db, stranger, world.sme_org_id, "defect_rate", *MARCH)
        with pytest.raises(NotFound):
            kpis.available(db, stranger, world.sme_org_id)
    with pytest.raises(NotFound):  # another organization's dataset named by id
        kpis.measure(
            db,
            world.other_sme,
            world.other_sme_org_id,
            "defect_rate",
            *MARCH,
            dataset_id=production.id,
        )
    consent = datasets.grant_consent(db, world.sme, production.id, world.program_id)
    db.commit()
    seen = kpis.measure(db, world.operator, world.sme_org_id, "defect_rate", *MARCH)
    assert seen.value == pytest.approx(26 / 550 * 100)
    assert [a.dataset_id for a in kpis.available(db, world.operator, world.sme_org_id)] == [
        production.id
    ] * len(kpis.available(db, world.operator, world.sme_org_id))
    with pytest.raises(NotFound):
        kpis.measure(db, world.stranger, world.sme_org_id, "defect_rate", *MARCH)
    datasets.revoke_consent(db, world.sme, production.id, consent.id)
    db.commit()
    with pytest.raises(NotFound):
        kpis.measure(db, world.operator, world.sme_org_id, "defect_rate", *MARCH)


OEE_CSV = (
    "일자,설비,제품,계획시간(분),비가동시간(분),이상사이클타임(초),생산수량,양품수량\n"
    "2026-03-02,M1,A,480,60,30,700,665\n"
    "2026-03-03,M1,A,480,0,30,800,790\n"
    "2026-03-04,M2,B,400,100,60,250,240\n"
    "2026-03-05,M2,B,400,40,60,300,300\n"
    "2026-03-06,M1,A,480,120,30,600,560\n"
)


def test_oee_and_productivity_by_hand_from_planned_time_and_ideal_cycle_times(db, world):
    upload(db, world, OEE_CSV, "production")
    found = kpis.measure(db, world.sme, world.sme_org_id, "oee", *MARCH)
    # Ideal minutes of the good units: 665·0.5 + 790·0.5 + 240·1 + 300·1 + 560·0.5 = 1547.5;
    # planned: 480 + 480 + 400 + 400 + 480 = 2240.
    assert found.numerator == pytest.approx(1547.5) and found.denominator == 2240
    assert found.value == pytest.approx(1547.5 / 2240 * 100) and found.unit == "%"
    assert found.n == 5 and found.basis == "production"
    assert found.extra["availability"] == pytest.approx((2240 - 320) / 2240)
    assert found.extra["quality"] == pytest.approx(2555 / 2650)
    low, high = found.interval
    assert low < found.value < high
    assert "records" in found.query
    # Run hours where the file gives none: planned less downtime, 1920 minutes.
    productivity = kpis.measure(db, world.sme, world.sme_org_id, "productivity", *MARCH)
    assert productivity.value == pytest.approx(2555 / 32)
    offered = {a.kpi for a in kpis.available(db, world.sme, world.sme_org_id)}
    assert offered == {"defect_rate", "oee", "productivity"}
