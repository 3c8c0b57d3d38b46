"""The KPI measurements API on both databases: report with evidence uploaded first, field
errors for bad input (nothing stored), verify and reject by the program's operators only, other
tenants kept out, the comparison, and the program's queue with its filters."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from sangsaeng.core.models import User
from sangsaeng.outcomes import service as outcomes
from sangsaeng.outcomes.models import KpiMeasurement
from tests.factories import api_token, bearer
from tests.programs import lifecycle
from tests.programs.lifecycle import PDF
from tests.programs.test_lifecycle import _signed


def _token(db, actor) -> dict:
    return bearer(api_token(db, db.get(User, actor.user_id)))


def _count(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(KpiMeasurement))


BODY = {
    "kpi_code": "defect_rate",
    "stage": "baseline",
    "period_start": "2025-01-01",
    "period_end": "2025-12-31",
    "value": 3.2,
    "unit": "%",
}


def test_report_verify_reject_and_read_through_the_api(db, client):
    world = lifecycle.build(db)
    _apps, project = _signed(db, world)
    company, operator = _token(db, world.sme_actors[0]), _token(db, world.operator)
    stranger = _token(db, world.sme_actors[1])
    other_operator = _token(db, world.other_operator)
    db.commit()
    url = f"/api/v1/projects/{project.id}/kpis"

    assert client.get(url).status_code == 401
    assert client.post(url, json=BODY).status_code == 401
    uploaded = client.post(
        "/api/v1/files",
        files={"file": ("ledger.pdf", PDF, "application/pdf")},
        data={"place": "kpi", "organization_id": str(project.organization_id)},
        headers=company,
    )
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["id"]
    sent = client.post(url, json={**BODY, "evidence": [file_id]}, headers=company)
    assert sent.status_code == 201, sent.text
    base = sent.json()
    assert (base["status"], base["source"], base["evidence"]) == ("reported", "self", [file_id])

    # Bad input: the field and the reason, nothing stored.
    before = _count(db)
    for body, field in (
        ({**BODY, "value": "many"}, "value"),
        ({**BODY, "stage": "later"}, "stage"),
        ({**BODY, "period_end": "2025-13-01"}, "period_end"),
        ({**BODY, "value": 140}, "value"),
        ({**BODY, "unit": "ppm"}, "unit"),
        ({**BODY, "kpi_code": "happiness"}, "kpi_code"),
        ({**BODY, "source": "imported"}, "source"),
        ({**BODY, "evidence": ["0" * 32]}, None),
    ):
        refused = client.post(url, json=body, headers=company)
        if field is None:
            assert refused.status_code == 404  # a file the caller cannot read does not exist
            continue
        assert refused.status_code == 422, (body, refused.text)
        assert field in refused.json()["details"], refused.json()
    assert _count(db) == before

    # Other tenants: another company learns nothing; another program's operator neither.
    assert client.get(url, headers=stranger).status_code == 404
    assert client.post(url, json=BODY, headers=stranger).status_code == 404
    verify = f"/api/v1/kpi-measurements/{base['id']}/verify"
    reject = f"/api/v1/kpi-measurements/{base['id']}/reject"
    assert client.post(verify, headers=company).status_code == 403
    assert client.post(verify, headers=stranger).status_code == 404
    assert client.post(verify, headers=other_operator).status_code == 404
    assert (
        client.post("/api/v1/kpi-measurements/999999/verify", headers=operator).status_code == 404
    )

    done = client.post(verify, headers=operator)
    assert done.status_code == 200 and done.json()["status"] == "verified"
    assert client.post(verify, headers=operator).status_code == 409
    assert (
        client.post(reject, json={"reason": "기간 불일치입니다."}, headers=operator).status_code
        == 409
    )

    later = client.post(
        url,
        json={
            **BODY,
            "stage": "completion",
            "period_start": "2026-07-01",
            "period_end": "2026-12-31",
            "value": 1.6,
        },
        headers=company,
    ).json()
    later_reject = f"/api/v1/kpi-measurements/{later['id']}/reject"
    missing = client.post(later_reject, json={}, headers=operator)
    assert missing.status_code == 422 and "reason" in missing.json()["details"]
    short = client.post(later_reject, json={"reason": "no"}, headers=operator)
    assert short.status_code == 422 and "reason" in short.json()["details"]
    rejected = client.post(
        later_reject, json={"reason": "증빙의 기간이 다릅니다."}, headers=operator
    )
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["rejection_reason"] == "증빙의 기간이 다릅니다."

    read = client.get(url, headers=company).json()
    assert read["targets"] == [{"kpi_code": "defect_rate", "baseline": 3.0, "target": 1.5}]
    assert [m["status"] for m in read["measurements"]] == ["verified", "rejected"]
    [defect] = read["comparison"]
    # The later value was rejected: no verified pair, and the reason says so.
    assert (defect["before"], defect["improvement"]) == (None, None) and defect["missing"]
    assert defect["n_others"] == 0 and read["min_others"] == 5 and read["method"]


def test_the_program_queue_through_the_api(db, client):
    world = lifecycle.build(db)
    _apps, project = _signed(db, world)
    sme = world.sme_actors[0]
    outcomes.report(
        db,
        sme,
        project.id,
        outcomes.Report(
            "unit_cost", "baseline", date(2025, 1, 1), date(2025, 12, 31), 15_000, "KRW/unit"
        ),
    )
    slip = outcomes.report(
        db,
        sme,
        project.id,
        outcomes.Report(
            "unit_cost", "completion", date(2026, 1, 1), date(2026, 12, 31), 14_500_000, "KRW/unit"
        ),
    )
    base = outcomes.report(
        db,
        sme,
        project.id,
        outcomes.Report("defect_rate", "baseline", date(2025, 1, 1), date(2025, 12, 31), 3.2, "%"),
    )
    outcomes.verify(db, world.operator, base.id)
    operator, company = _token(db, world.operator), _token(db, sme)
    db.commit()
    url = f"/api/v1/programs/{world.program.id}/kpis"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=company).status_code == 403
    everything = client.get(url, headers=operator).json()
    assert everything["total"] == 3
    assert {i["company"] for i in everything["items"]} == {world.smes[0].name_ko}
    reported = client.get(url, params={"status": "reported"}, headers=operator).json()
    assert reported["total"] == 2
    flagged = client.get(url, params={"flagged": "true"}, headers=operator).json()
    assert [i["id"] for i in flagged["items"]] == [slip.id] and flagged["items"][0]["flags"]
    by_kpi = client.get(url, params={"kpi": "defect_rate"}, headers=operator).json()
    assert [i["id"] for i in by_kpi["items"]] == [base.id]
    paged = client.get(url, params={"per_page": 2, "page": 2}, headers=operator).json()
    assert (paged["total"], len(paged["items"])) == (3, 1)
    bad = client.get(url, params={"status": "maybe"}, headers=operator)
    assert bad.status_code == 422 and "status" in bad.json()["details"]
