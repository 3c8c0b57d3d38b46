"""Jobs end to end: an import requested through the API runs as a job; a refused one shows its
rows; a worker killed mid-job leaves nothing behind and the job can be run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from sangsaeng.core.files import service as files
from sangsaeng.core.ids import business_no_check_digit
from sangsaeng.core.jobs import service as job_service
from sangsaeng.core.jobs.models import Job
from sangsaeng.core.models import Organization, utcnow
from sangsaeng.core.policy import SYSTEM_ACTOR
from sangsaeng.db import make_session_factory
from sangsaeng.jobs import build_huey, register_tasks
from tests.factories import api_token, bearer, make_org, make_user

HEADER = "사업자등록번호,기업명,업종코드,지역,기업규모,종업원수,매출액,설립연도\n"


def unique_business_no(i: int) -> str:
    first = f"{200 + i // 10_000:03d}86{i % 10_000:04d}"
    return first + str(business_no_check_digit(first))


def csv_rows(count: int, start: int = 0, bad_row: int | None = None) -> bytes:
    lines = [HEADER]
    for i in range(start, start + count):
        number = "123-45-67890" if i == bad_row else unique_business_no(i)
        lines.append(
            f"{number},작업테스트{i},C29,경기,중소,{10 + i % 50},{(i + 1) * 10_000_000},2001\n"
        )
    return "".join(lines).encode("cp949")


@pytest.fixture
def operator(db):
    office = make_org(db, kind="operator", ksic_code="84")
    user = make_user(db, roles=[(office, "operator")])
    db.commit()
    return user


def upload(client, token, data):
    response = client.post(
        "/api/v1/files",
        headers=bearer(token),
        data={"place": "import"},
        files={"file": ("기업.csv", data, "text/csv")},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def count_orgs(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Organization))


def test_an_import_runs_as_a_job(client, db, operator):
    token = api_token(db, operator)
    file_id = upload(client, token, csv_rows(30))
    before = count_orgs(db)
    started = client.post(
        "/api/v1/imports/organizations",
        json={"file_id": file_id, "mode": "all"},
        headers=bearer(token),
    )
    assert started.status_code == 202
    job = client.get(f"/api/v1/jobs/{started.json()['id']}", headers=bearer(token)).json()
    assert job["status"] == "succeeded" and job["progress"] == 100
    assert job["result"]["created"] == 30 and job["result"]["encoding"] == "cp949"
    assert count_orgs(db) == before + 30
    refused = client.post(f"/api/v1/jobs/{job['id']}/retry", headers=bearer(token))
    assert refused.status_code == 422  # only a failed job runs again
    from tests.factories import session_cookie

    cookie, _csrf = session_cookie(db, operator)
    db.commit()
    client.cookies.set("ss_session", cookie)
    page = client.get(f"/jobs/{job['id']}")
    assert page.status_code == 200 and "완료" in page.text and "hx-trigger" not in page.text


def test_a_refused_import_job_lists_its_rows_and_writes_nothing(client, db, operator):
    token = api_token(db, operator)
    file_id = upload(client, token, csv_rows(20, bad_row=7))
    before = count_orgs(db)
    started = client.post(
        "/api/v1/imports/organizations",
        json={"file_id": file_id, "mode": "all"},
        headers=bearer(token),
    )
    job = client.get(f"/api/v1/jobs/{started.json()['id']}", headers=bearer(token)).json()
    assert job["status"] == "failed"
    assert "아무것도 저장하지 않았습니다" in job["error"]
    assert [(r["row"], r["column"]) for r in job["result"]["rejected"]] == [(9, "사업자등록번호")]
    assert count_orgs(db) == before
    retried = client.post(f"/api/v1/jobs/{job['id']}/retry", headers=bearer(token)).json()
    assert retried["attempts"] == 1  # read before the retried run updated the row
    again = client.get(f"/api/v1/jobs/{job['id']}", headers=bearer(token)).json()
    assert again["status"] == "failed" and again["attempts"] == 2
    assert count_orgs(db) == before


def test_a_killed_worker_leaves_nothing_and_the_job_reruns(
    backend, settings, engine, db, operator, tmp_path
):
    if backend != "postgres":
        pytest.skip("proven on the production setup (PostgreSQL and a separate worker)")
    worker_settings = settings.model_copy(update={"data_dir": tmp_path, "jobs_immediate": False})
    factory = make_session_factory(engine)
    huey = build_huey(worker_settings)
    register_tasks(huey, worker_settings, factory)
    storage = files.LocalStorage(tmp_path / "files")
    rows = 40_000
    with factory() as session:
        operator_actor = job_service.load_actor(session, operator)
        stored = files.store(
            session,
            operator_actor,
            storage,
            data=csv_rows(rows),
            filename="big.csv",
            place="import",
            organization_id=None,
        )
        previous = job_service.dispatcher
        job_service.dispatcher = huey.run_job
        try:
            job = job_service.submit(
                session,
                operator_actor,
                "import.organizations",
                {"file_id": stored.id, "mode": "all"},
            )
            session.commit()  # enqueues the job for the worker
        finally:
            job_service.dispatcher = previous
        job_id = job.id
    before = count_orgs(db)
    env = {
        **os.environ,
        "SANGSAENG_DATABASE_URL": settings.database_url,
        "SANGSAENG_DATA_DIR": str(tmp_path),
        "SANGSAENG_SECRET_KEY": "test",
    }
    command = [sys.executable, "-m", "sangsaeng.cli", "worker", "--workers", "1"]

    def start_worker():
        return subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def job_row() -> Job:
        db.expire_all()
        return db.get(Job, job_id)

    worker = start_worker()
    try:
        deadline = time.monotonic() + 60
        while job_row().progress < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job_row().status == "running", "the worker never started the job"
        os.killpg(worker.pid, signal.SIGKILL)  # mid-job, no chance to clean up
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    assert job_row().status == "running"
    assert count_orgs(db) == before  # nothing half-applied

    with factory() as session:  # the reaper's periodic run, a few minutes later
        later = utcnow() + job_service.STALLED_AFTER + job_service.STALLED_AFTER
        assert job_service.reap_stalled(session, now=later) == 1
        session.commit()
    assert job_row().status == "failed"

    with factory() as session:
        job_service.dispatcher = huey.run_job
        try:
            job_service.retry(session, SYSTEM_ACTOR, job_id)
            session.commit()
        finally:
            job_service.dispatcher = previous
    worker = start_worker()
    try:
        deadline = time.monotonic() + 120
        while job_row().status not in ("succeeded", "failed") and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=20)
    final = job_row()
    assert final.status == "succeeded", final.error
    assert final.attempts == 2 and final.result["created"] == rows
    assert count_orgs(db) == before + rows  # the same end state as one clean run


def test_a_saved_mapping_template_fits_a_file_whose_columns_moved(client, db, operator):
    from tests.factories import session_cookie

    token = api_token(db, operator)
    first = "회사 이름,사업번호,업종,지역,기업규모\n작업양식일,124-81-00998,C29,경기,중소\n"
    moved = "지역,기업규모,사업번호,업종,회사 이름\n부산,중소,220-81-62517,C25,작업양식이\n"
    first_id = upload(client, token, first.encode("cp949"))
    moved_id = upload(client, token, moved.encode("utf-8"))
    cookie, csrf = session_cookie(db, operator)
    db.commit()
    client.cookies.set("ss_session", cookie)
    mapping = {
        "map_name_ko": "0",
        "map_business_no": "1",
        "map_ksic": "2",
        "map_region": "3",
        "map_size_class": "4",
    }
    saved = client.post(
        f"/imports/{first_id}/template",
        data={"name": "추진단 양식", "encoding": "auto", "csrf_token": csrf, **mapping},
    )
    assert saved.status_code == 303
    template_id = saved.headers["location"].rsplit("template=", 1)[1]
    preview = client.get(f"/imports/{moved_id}", params={"template": template_id})
    assert preview.status_code == 200
    assert "총 1행: 신규 1건" in preview.text
    assert 'id="mapping-error"' not in preview.text
    assert '<option value="4" selected>회사 이름</option>' in preview.text


def test_jobs_travel_through_redis_when_it_is_configured(
    backend, settings, engine, db, operator, tmp_path
):
    """RedisHuey on the production-like setup: the job goes into Redis and out to a worker."""
    import redis
    from huey import RedisHuey

    if backend != "postgres":
        pytest.skip("the production-like setup: PostgreSQL and Redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running at 127.0.0.1:6379 (see .ci/run)")
    redis_settings = settings.model_copy(
        update={"redis_url": url, "data_dir": tmp_path, "jobs_immediate": False}
    )
    huey = build_huey(redis_settings)
    assert isinstance(huey, RedisHuey)
    huey.flush()
    factory = make_session_factory(engine)
    register_tasks(huey, redis_settings, factory)
    storage = files.LocalStorage(tmp_path / "files")
    with factory() as session:
        actor = job_service.load_actor(session, operator)
        stored = files.store(
            session,
            actor,
            storage,
            data=csv_rows(5),
            filename="r.csv",
            place="import",
            organization_id=None,
        )
        previous = job_service.dispatcher
        job_service.dispatcher = huey.run_job
        try:
            job = job_service.submit(
                session, actor, "import.organizations", {"file_id": stored.id, "mode": "all"}
            )
            session.commit()
        finally:
            job_service.dispatcher = previous
    assert huey.pending_count() == 1
    earlier = files._configured  # the app's storage, which later tests in this worker use
    files.configure_storage(storage)
    try:
        task = huey.dequeue()  # what a worker does, against the same Redis
        huey.execute(task)
    finally:
        files.configure_storage(earlier)
    db.expire_all()
    finished = db.get(Job, job.id)
    assert finished.status == "succeeded" and finished.result["created"] == 5
    huey.flush()
