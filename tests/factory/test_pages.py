"""Factory pages end to end on both databases: a CP949 production file uploaded, mapped,
previewed and imported as a job; the dataset's summary; consent given and revoked on the page
(the operator reads the dataset only meanwhile); SPC, root-cause and forecast analyses run as
jobs with their charts' data on the page, their workbook, and bad parameters refused in Korean."""

from __future__ import annotations

import io
import json
import re
from datetime import date

import numpy as np
import pytest
from openpyxl import load_workbook

from sangsaeng.core.files import service as files
from sangsaeng.demo import factory_demand, factory_process
from sangsaeng.factory import datasets
from sangsaeng.factory.models import FactoryAnalysis, FactoryDataset
from tests.factories import session_cookie
from tests.factory.world import build

PRODUCTION_CSV = (
    "일자,근무조,라인,설비,제품,생산수량,양품수량,불량수량,불량유형,계획시간(분),"
    "비가동시간(분),비가동사유,이상사이클타임(초)\n"
    "2026-03-02,주간,1라인,M1,브래킷,700,665,35,치수,480,60,설비 고장,30\n"
    "2026-03-02,야간,1라인,M1,브래킷,650,640,10,외관,480,30,금형 교체,30\n"
    "2026-03-03,주간,1라인,M2,하우징,800,790,10,치수,480,0,,30\n"
)


def inspection_csv() -> str:
    """25 lots of 4 measurements; lot 20 is far off (rule 1 fires there)."""
    lines = ["일자,로트,제품,검사항목,측정값,하한규격,상한규격,판정"]
    pattern = (0.0, 0.2, -0.2, 0.1, -0.1, 0.15, -0.15, 0.05)
    for lot in range(1, 26):
        for k in range(4):
            value = 10 + pattern[(lot + k) % len(pattern)] + (3.0 if lot == 20 else 0.0)
            verdict = "NG" if value > 12 else "OK"
            lines.append(f"2026-03-{lot:02d},L{lot:03d},브래킷,외경,{value:.2f},9,11,{verdict}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def world(app, db, settings):
    files.configure_storage(files.LocalStorage(settings.data_dir / "files"))
    return build(db)


def signed_in(make_client, db, user):
    client = make_client()
    cookie, csrf = session_cookie(db, user)
    db.commit()
    client.cookies.set("ss_session", cookie)
    return client, csrf


def upload(client, csrf, text: str, kind: str, encoding="cp949", name="데이터") -> str:
    response = client.post(
        "/factory/datasets/new",
        data={"csrf_token": csrf, "kind": kind, "name": name, "encoding": "auto", "mode": "all"},
        files={"file": ("records.csv", text.encode(encoding), "text/csv")},
    )
    assert response.status_code == 303, response.text[:500]
    return response.headers["location"]


def import_file(client, csrf, text: str, kind: str, name="데이터") -> int:
    preview_url = upload(client, csrf, text, kind, name=name)
    preview = client.get(preview_url)
    assert preview.status_code == 200
    file_id = preview_url.split("/import/")[1].split("?")[0]
    mapping = dict(re.findall(r'name="(map_[a-z_]+)" value="(\d+)"', preview.text))
    response = client.post(
        f"/factory/datasets/import/{file_id}/commit",
        data={"csrf_token": csrf, "kind": kind, "name": name, "mode": "all", **mapping},
    )
    assert response.status_code == 303
    job = client.get(response.headers["location"])
    assert job.status_code == 200
    return int(re.search(r"/factory/datasets/(\d+)", job.text).group(1))


def run_analysis(client, csrf, dataset_id: int, kind: str, **fields) -> int:
    response = client.post(
        f"/factory/datasets/{dataset_id}/analyses/new",
        data={"csrf_token": csrf, "kind": kind, **fields},
    )
    assert response.status_code == 303, response.text[:800]
    return int(response.headers["location"].rsplit("/", 1)[1])


def charts_of(page: str) -> list[dict]:
    found = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S)
    return json.loads(found.group(1)) if found else []


def test_upload_preview_import_and_summary_of_a_cp949_file(db, world, make_client):
    client, csrf = signed_in(make_client, db, world.users["sme"])
    preview_url = upload(client, csrf, PRODUCTION_CSV, "production")
    preview = client.get(preview_url)
    assert "CP949" in preview.text or "cp949" in preview.text
    assert "전체 3행 중 정상 3행, 오류 0행" in preview.text
    assert db.query(FactoryDataset).count() == 0  # the preview saves nothing

    dataset_id = import_file(client, csrf, PRODUCTION_CSV, "production", name="3월 실적")
    page = client.get(f"/factory/datasets/{dataset_id}")
    assert page.status_code == 200
    assert "3월 실적" in page.text and "생산수량" in page.text
    listing = client.get("/factory")
    assert f"/factory/datasets/{dataset_id}" in listing.text
    api = client.get(f"/api/v1/factory/datasets/{dataset_id}")
    assert api.status_code == 200 and api.json()["n_rows"] == 3


def test_a_refused_file_names_its_rows_and_stores_nothing(db, world, make_client):
    client, csrf = signed_in(make_client, db, world.users["sme"])
    bad = PRODUCTION_CSV.replace("800,790", "팔백,790")
    preview = client.get(upload(client, csrf, bad, "production"))
    assert "import-errors" in preview.text and "생산수량" in preview.text
    # An orders file offered as production records: the missing columns are named.
    orders = "제품,주문일,수량\n브래킷,2026-03-02,100\n"
    preview = client.get(upload(client, csrf, orders, "production"))
    assert 'id="mapping-error"' in preview.text and "설비" in preview.text
    assert db.query(FactoryDataset).count() == 0


def test_consent_on_the_page_lets_the_operator_read_until_revoked(db, world, make_client):
    client, csrf = signed_in(make_client, db, world.users["sme"])
    dataset_id = import_file(client, csrf, PRODUCTION_CSV, "production")
    operator, _ = signed_in(make_client, db, world.users["operator"])
    other, _ = signed_in(make_client, db, world.users["other_sme"])
    assert operator.get(f"/factory/datasets/{dataset_id}").status_code == 404
    assert other.get(f"/factory/datasets/{dataset_id}").status_code == 404

    response = client.post(
        f"/factory/datasets/{dataset_id}/consents",
        data={"csrf_token": csrf, "program_id": str(world.program_id)},
    )
    assert response.status_code == 303
    assert operator.get(f"/factory/datasets/{dataset_id}").status_code == 200
    assert [d["id"] for d in operator.get("/api/v1/factory/datasets").json()] == [dataset_id]
    assert other.get(f"/factory/datasets/{dataset_id}").status_code == 404

    consent_id = datasets.consents(db, db.get(FactoryDataset, dataset_id))[0].id
    client.post(
        f"/factory/datasets/{dataset_id}/consents/{consent_id}/revoke", data={"csrf_token": csrf}
    )
    assert operator.get(f"/factory/datasets/{dataset_id}").status_code == 404
    page = client.get(f"/factory/datasets/{dataset_id}")
    assert 'id="consent-list"' in page.text  # the history stays


def test_spc_on_inspections_flags_the_planted_lot_and_exports(db, world, make_client):
    client, csrf = signed_in(make_client, db, world.users["sme"])
    dataset_id = import_file(client, csrf, inspection_csv(), "inspection")
    analysis_id = run_analysis(client, csrf, dataset_id, "spc", chart="xbar-r", subgroup="lot")
    analysis = db.get(FactoryAnalysis, analysis_id)
    db.refresh(analysis)
    assert analysis.status == "done", analysis.error
    assert analysis.result["n_samples"] == 25
    flagged = {v["sample"] for v in analysis.result["violations"] if v["rule"] == 1}
    assert 20 in flagged
    page = client.get(f"/factory/analyses/{analysis_id}")
    assert page.status_code == 200 and "L020" in page.text
    charts = charts_of(page.text)
    assert [c["type"] for c in charts] == ["control", "control"]
    assert 19 in charts[0]["flagged"]
    assert analysis.result["capability"]["cpk"]["value"] is not None
    book = load_workbook(io.BytesIO(client.get(f"/factory/analyses/{analysis_id}.xlsx").content))
    assert book.worksheets[0].max_row == 26

    # p chart of the failed share per lot: the planted lot fails all four units.
    p_id = run_analysis(client, csrf, dataset_id, "spc", chart="p", subgroup="lot")
    p_result = db.get(FactoryAnalysis, p_id)
    db.refresh(p_result)
    assert p_result.result["points"][19] == 1.0 and p_result.result["points"][0] == 0.0


def test_bad_parameters_are_refused_in_korean_and_nothing_runs(db, world, make_client):
    client, csrf = signed_in(make_client, db, world.users["sme"])
    dataset_id = import_file(client, csrf, inspection_csv(), "inspection")
    response = client.post(
        f"/factory/datasets/{dataset_id}/analyses/new",
        data={
            "csrf_token": csrf,
            "kind": "spc",
            "chart": "xbar-r",
            "lsl": "열",
            "baseline_first": "10",
            "baseline_last": "3",
        },
    )
    assert response.status_code == 422
    assert "숫자로 입력해 주십시오" in response.text
    response = client.post(
        f"/factory/datasets/{dataset_id}/analyses/new",
        data={"csrf_token": csrf, "kind": "forecast"},
    )
    assert response.status_code == 422
    assert db.query(FactoryAnalysis).count() == 0


def test_analyses_are_the_datasets_owners_and_consented_operators_only(db, world, make_client):
    client, csrf = signed_in(make_client, db, world.users["sme"])
    dataset_id = import_file(client, csrf, inspection_csv(), "inspection")
    analysis_id = run_analysis(client, csrf, dataset_id, "spc", chart="imr")
    for name in ("operator", "other_sme", "stranger", "admin"):
        outsider, _ = signed_in(make_client, db, world.users[name])
        assert outsider.get(f"/factory/analyses/{analysis_id}").status_code == 404
        assert outsider.get(f"/api/v1/factory/analyses/{analysis_id}").status_code == 404
    assert make_client().get(f"/api/v1/factory/analyses/{analysis_id}").status_code == 401


def test_oee_of_a_dataset_equals_the_hand_computed_value(db, world, make_client):
    client, csrf = signed_in(make_client, db, world.users["sme"])
    dataset_id = import_file(client, csrf, PRODUCTION_CSV, "production")
    analysis_id = run_analysis(client, csrf, dataset_id, "oee", by="machine")
    analysis = db.get(FactoryAnalysis, analysis_id)
    db.refresh(analysis)
    assert analysis.status == "done", analysis.error
    total = analysis.result["total"]
    # 30 s × 2,095 good units ÷ 1,440 planned minutes; (1,440 − 90) ÷ 1,440; 2,095 ÷ 2,150.
    assert total["oee"] == pytest.approx(0.5 * 2095 / 1440)
    assert total["availability"] == pytest.approx(1350 / 1440)
    assert total["quality"] == pytest.approx(2095 / 2150)
    machines = {r["machine"]: r["oee"] for r in analysis.result["rows"]}
    assert machines["M2"] == pytest.approx(0.5 * 790 / 480)
    page = client.get(f"/factory/analyses/{analysis_id}")
    assert "72.7%" in page.text and "SELECT" in page.text  # the query that made the figures
    types = [c["type"] for c in charts_of(page.text)]
    assert types[:2] == ["pareto", "lines"] and "bar" in types
    pareto = charts_of(page.text)[0]
    assert pareto["y"] == sorted(pareto["y"], reverse=True) and pareto["cum"][-1] == 100.0


def test_root_cause_runs_as_a_job_with_its_charts(db, world, make_client, backend):
    if backend != "postgres":
        pytest.skip("the engine is the same; PostgreSQL is the stricter store of its JSON")
    client, csrf = signed_in(make_client, db, world.users["sme"])
    lots = factory_process.process_lots(
        np.random.default_rng(3), date(2025, 1, 1), date(2025, 2, 28)
    )
    process_id = import_file(client, csrf, lots.to_csv(index=False), "process")
    analysis_id = run_analysis(client, csrf, process_id, "root_cause", target="result")
    analysis = db.get(FactoryAnalysis, analysis_id)
    db.refresh(analysis)
    assert analysis.status == "done", analysis.error
    assert analysis.result["n_rows"] == len(lots)
    page = client.get(f"/factory/analyses/{analysis_id}")
    assert 'id="root-cause-factors"' in page.text and 'id="root-cause-lots"' in page.text
    assert charts_of(page.text)[0]["type"] == "bar"


def test_a_forecast_runs_as_a_job_and_exports(db, world, make_client, backend):
    if backend != "sqlite":
        pytest.skip("the engine is the same on both databases (root causes run on PostgreSQL)")
    client, csrf = signed_in(make_client, db, world.users["sme"])
    orders = factory_demand.order_file(np.random.default_rng(5), date(2024, 1, 1), 500)
    orders = orders.loc[orders["제품"].isin(sorted(set(orders["제품"]))[:2])]
    # The forecast is made on the first 400 days; the whole book arrives later as actuals.
    history = orders.loc[orders["주문일"] < date(2025, 2, 3)]
    orders_id = import_file(client, csrf, history.to_csv(index=False), "orders")
    later_id = import_file(client, csrf, orders.to_csv(index=False), "orders")
    response = client.post(
        f"/api/v1/factory/datasets/{orders_id}/analyses",
        json={"kind": "forecast", "freq": "W-MON", "horizon": 8},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 202
    result = client.get(f"/api/v1/factory/analyses/{response.json()['id']}").json()
    assert result["status"] == "done", result["errors"]
    series = result["result"]["series"]
    assert {s["id"] for s in series} == set(orders["제품"])
    assert all("SeasonalNaive" in s["cv"] and len(s["forecast"]) == 8 for s in series)
    page = client.get(f"/factory/analyses/{result['id']}?series={series[1]['id']}")
    chart = charts_of(page.text)[0]
    assert chart["type"] == "fan" and chart["x"][0] > chart["hx"][-1]
    book = load_workbook(io.BytesIO(client.get(f"/factory/analyses/{result['id']}.xlsx").content))
    assert book.worksheets[0].max_row == 1 + 8 * len(series)

    tracked = client.get(f"/factory/analyses/{result['id']}?actuals={later_id}")
    assert 'id="tracking-overall"' in tracked.text
    rows = re.findall(
        r"<tr><td>([^<]+)</td><td>[^<]+</td><td class=\"num\">(\d+)</td>", tracked.text
    )
    assert {name for name, _ in rows} == {s["id"] for s in series}
    assert all(int(n) == 8 for _, n in rows)  # every forecast week has its actual
    refused = client.get(f"/factory/analyses/{result['id']}?actuals={orders_id}")
    assert 'role="alert"' in refused.text  # the forecast's own data is not its actuals
