"""Factory datasets on both databases: CP949 production records stored as Parquet and read back
with DuckDB, every refused row named with the file's header (text in a number column, end before
start, negative quantities, a file of another kind), nothing stored when refused, keep-the-good,
Parquet and xlsx uploads, the import job, and who may read a dataset — the SME, and an operator
only while the SME's consent stands."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from sangsaeng.core.errors import Forbidden, InvalidInput, NotFound
from sangsaeng.core.files import service as files
from sangsaeng.core.jobs import service as jobs
from sangsaeng.core.jobs.models import Job
from sangsaeng.factory import datasets
from sangsaeng.factory.models import DatasetConsent, FactoryDataset
from tests.factory.world import build

PRODUCTION_CSV = (
    "일자,근무조,라인,설비,제품,생산수량,양품수량,불량수량,불량유형,가동시간(분),"
    "비가동시간(분),비가동사유\n"
    "2026-03-02,주간,1라인,M1,브래킷,700,665,35,치수,420,60,설비 고장\n"
    "2026.03.02,야간,1라인,M1,브래킷,650,640,10,외관,450,30,금형 교체\n"
    '2026/03/03,주간,1라인,M2,하우징,"1,200",1190,10,치수,480,0,\n'
)


def frame_of(text: str, encoding="cp949") -> pd.DataFrame:
    frame, _ = datasets.read_upload(text.encode(encoding), "records.csv")
    return frame


def stored_files(settings) -> set:
    root = settings.data_dir / "factory"
    return set(root.rglob("*.parquet")) if root.exists() else set()


@pytest.fixture
def world(app, db, settings):  # the app registers the job kinds
    files.configure_storage(files.LocalStorage(settings.data_dir / "files"))
    return build(db)


def test_a_cp949_production_file_is_stored_as_parquet_and_read_back(db, world):
    result = datasets.import_dataset(
        db, world.sme, frame_of(PRODUCTION_CSV), kind="production", name="3월 생산실적"
    )
    db.commit()
    assert result.committed and result.stored_rows == 3 and not result.errors
    dataset = datasets.get_dataset(db, world.sme, result.dataset_id)
    assert dataset.organization_id == world.sme_org_id
    assert (dataset.period_start, dataset.period_end) == ("2026-03-02", "2026-03-03")
    assert f"org-{world.sme_org_id}/" in dataset.storage_key
    assert dataset.columns["total_count"] == "생산수량"
    totals = datasets.query(
        dataset, "SELECT machine, sum(total_count) AS n FROM rows GROUP BY 1 ORDER BY 1"
    )
    assert totals.to_dict("records") == [
        {"machine": "M1", "n": 1350.0},
        {"machine": "M2", "n": 1200.0},
    ]
    rows = datasets.read_frame(dataset)
    assert rows["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2026-03-02",
        "2026-03-02",
        "2026-03-03",
    ]


BAD_CSV = (
    "일자,설비,제품,생산수량,양품수량,시작시각,종료시각\n"
    "2026-03-02,M1,브래킷,칠백,665,2026-03-02 08:00,2026-03-02 16:00\n"  # 2: text
    "2026-03-02,M1,브래킷,700,665,2026-03-02 16:00,2026-03-02 08:00\n"  # 3: end < start
    "2026-03-03,M2,하우징,-5,0,2026-03-03 08:00,2026-03-03 16:00\n"  # 4: negative
    "2026-03-03,M2,하우징,500,510,2026-03-03 08:00,2026-03-03 16:00\n"  # 5: good > total
    "2026-13-03,M2,하우징,500,490,2026-03-03 08:00,2026-03-03 16:00\n"  # 6: no such date
    "2026-03-04,M2,하우징,500,490,2026-03-04 08:00,2026-03-04 16:00\n"  # 7: good
)


def test_bad_rows_are_named_with_the_files_headers_and_nothing_is_stored(db, world, settings):
    before = stored_files(settings)
    result = datasets.import_dataset(db, world.sme, frame_of(BAD_CSV), kind="production")
    db.commit()
    assert not result.committed and result.rejected_rows == 5
    found = {(e.row, e.column) for e in result.errors}
    expected = {(2, "생산수량"), (3, "종료시각"), (4, "생산수량"), (5, "양품수량"), (6, "일자")}
    assert expected <= found
    reasons = {e.row: e.reason for e in result.errors}
    assert reasons[2] == "숫자로 입력해 주십시오."
    assert db.scalar(select(func.count()).select_from(FactoryDataset)) == 0
    assert stored_files(settings) == before


def test_keep_the_good_rows_stores_them_and_reports_the_rest(db, world):
    result = datasets.import_dataset(
        db, world.sme, frame_of(BAD_CSV), kind="production", mode="good"
    )
    db.commit()
    assert result.committed and result.stored_rows == 1 and result.rejected_rows == 5
    dataset = datasets.get_dataset(db, world.sme, result.dataset_id)
    assert dataset.n_rows == 1
    run = datasets.query(dataset, "SELECT run_minutes FROM rows")["run_minutes"].tolist()
    assert run == [480.0]  # from the start and end times


def test_a_file_of_another_kind_is_refused_naming_the_missing_columns(db, world):
    orders = "제품,주문일,수량,납기일,납품일\n브래킷,2026-03-02,100,2026-03-10,2026-03-09\n"
    with pytest.raises(InvalidInput) as refused:
        datasets.import_dataset(db, world.sme, frame_of(orders), kind="production")
    assert "설비" in str(refused.value.message) and "생산수량" in str(refused.value.message)
    late = "제품,주문일,수량,납기일,납품일\n브래킷,2026-03-02,100,2026-03-01,2026-02-28\n"
    result = datasets.import_dataset(db, world.sme, frame_of(late), kind="orders")
    assert {e.column for e in result.errors} == {"납기일", "납품일"}


def test_parquet_and_xlsx_uploads(db, world):
    buffer = io.BytesIO()
    pd.DataFrame(
        {
            "일시": pd.to_datetime(["2026-03-02 08:10", "2026-03-02 09:10"]),
            "로트": ["L1", "L2"],
            "온도(°C)": [205.5, 214.0],
            "판정": ["합격", "불합격"],
        }
    ).to_parquet(buffer)
    frame, encoding = datasets.read_upload(buffer.getvalue(), "process.parquet")
    assert encoding == "parquet"
    result = datasets.import_dataset(db, world.sme, frame, kind="process", first_row=1)
    db.commit()
    dataset = datasets.get_dataset(db, world.sme, result.dataset_id)
    assert dataset.extra_columns == ["온도(°C)"]
    rows = datasets.read_frame(dataset)
    assert rows["온도(°C)"].tolist() == [205.5, 214.0]
    assert rows["date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-03-02"] * 2

    book = Workbook()
    sheet = book.active
    sheet.append(["제품", "주문일", "수량"])
    sheet.append(["브래킷", "2026-03-02", 100])
    data = io.BytesIO()
    book.save(data)
    frame, _ = datasets.read_upload(data.getvalue(), "orders.xlsx")
    result = datasets.import_dataset(db, world.sme, frame, kind="orders")
    assert result.committed and result.stored_rows == 1


def run_import_job(db, world, settings, text: str, **params) -> Job:
    """Upload ``text`` as a CP949 CSV and run the import job on it (immediately, in tests)."""
    stored = files.store(
        db,
        world.sme,
        files.LocalStorage(settings.data_dir / "files"),
        data=text.encode("cp949"),
        filename="upload.csv",
        place="import",
        organization_id=world.sme_org_id,
    )
    job = jobs.submit(
        db,
        world.sme,
        datasets.JOB_KIND,
        {"file_id": stored.id, "filename": "upload.csv", "kind": "production", **params},
        organization_id=world.sme_org_id,
    )
    db.commit()
    db.expire_all()
    return db.get(Job, job.id)


def test_the_import_job_reads_the_upload_and_reports_refused_rows(db, world, settings):
    failed = run_import_job(db, world, settings, BAD_CSV, mode="all")
    assert failed.status == "failed"
    assert failed.result["rejected_rows"] == 5 and len(failed.result["rejected"]) == 6
    done = run_import_job(db, world, settings, PRODUCTION_CSV, name="3월")
    assert done.status == "succeeded", done.error
    assert datasets.get_dataset(db, world.sme, done.result["dataset_id"]).name == "3월"


def test_only_the_sme_reads_its_data_and_an_operator_only_with_consent(db, world):
    result = datasets.import_dataset(db, world.sme, frame_of(PRODUCTION_CSV), kind="production")
    db.commit()
    dataset_id = result.dataset_id
    for outsider in (world.operator, world.stranger, world.other_sme, world.admin):
        with pytest.raises(NotFound):
            datasets.get_dataset(db, outsider, dataset_id)
        assert datasets.list_datasets(db, outsider) == []
    with pytest.raises(Forbidden):
        datasets.ensure_can_upload(db, world.operator)

    dataset = datasets.get_dataset(db, world.sme, dataset_id)
    assert [p.id for p in datasets.consent_choices(db, world.sme, dataset)] == [world.program_id]
    with pytest.raises(InvalidInput):
        datasets.grant_consent(db, world.sme, dataset_id, "999")
    consent = datasets.grant_consent(db, world.sme, dataset_id, str(world.program_id))
    assert datasets.grant_consent(db, world.sme, dataset_id, world.program_id).id == consent.id
    db.commit()
    assert datasets.get_dataset(db, world.operator, dataset_id).id == dataset_id
    assert [d.id for d in datasets.list_datasets(db, world.operator)] == [dataset_id]
    with pytest.raises(Forbidden):  # reading is not managing
        datasets.grant_consent(db, world.operator, dataset_id, world.program_id)
    for outsider in (world.stranger, world.other_sme, world.admin):
        with pytest.raises(NotFound):
            datasets.get_dataset(db, outsider, dataset_id)

    datasets.revoke_consent(db, world.sme, dataset_id, consent.id)
    db.commit()
    with pytest.raises(NotFound):
        datasets.get_dataset(db, world.operator, dataset_id)
    history = db.scalars(select(DatasetConsent)).all()
    assert len(history) == 1 and history[0].revoked_at is not None
