"""Auto-measured KPI values on both databases: Outcomes offers the value Factory measures from
the company's own data (the same number as ``factory.kpis.measure``, in the catalogue's unit),
records it with the source "auto" and its provenance (dataset, query, method) as evidence and
in the audit, re-measures rather than trusting the form, refuses "auto" typed by hand; an
operator sees it only while the company's consent stands; strangers get 404, anonymous 401."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from sangsaeng.core.audit.models import AuditEvent
from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.files import service as files
from sangsaeng.core.files.models import StoredFile
from sangsaeng.core.models import User
from sangsaeng.factory import datasets, kpis
from sangsaeng.outcomes import measured
from sangsaeng.outcomes import service as outcomes
from sangsaeng.outcomes.models import KpiMeasurement
from tests.factories import api_token, bearer, session_cookie
from tests.programs import lifecycle
from tests.programs.test_lifecycle import _signed

PRODUCTION_CSV = (
    "일자,설비,제품,생산수량,양품수량,불량수량,가동시간(분)\n"
    "2026-03-02,M1,브래킷,100,95,5,400\n"
    "2026-03-03,M1,브래킷,200,190,10,450\n"
    "2026-03-04,M2,하우징,50,45,,300\n"
    "2026-06-01,M1,브래킷,400,396,4,480\n"
    "2026-06-02,M2,하우징,100,98,2,480\n"
)
MARCH = (date(2026, 3, 2), date(2026, 3, 31))
JUNE = (date(2026, 6, 1), date(2026, 6, 30))


@pytest.fixture
def setup(app, db, settings):
    files.configure_storage(files.LocalStorage(settings.data_dir / "files"))
    world = lifecycle.build(db)
    _apps, project = _signed(db, world)
    sme = world.sme_actors[0]
    frame, _ = datasets.read_upload(PRODUCTION_CSV.encode("cp949"), "production.csv")
    result = datasets.import_dataset(db, sme, frame, kind="production", name="생산실적 2026")
    assert result.committed
    db.commit()
    return world, project, sme, result.dataset_id


def report(kpi_code, stage, period):
    return outcomes.Report(kpi_code, stage, *period, 0.0, "")


def test_the_value_offered_is_factory_s_and_is_recorded_with_its_provenance(db, setup):
    world, project, sme, dataset_id = setup
    org = project.organization_id
    factory = kpis.measure(db, sme, org, "defect_rate", *MARCH)
    offered = measured.measure(db, sme, project.id, "defect_rate", *MARCH)
    assert offered.value == pytest.approx(factory.value) == pytest.approx(20 / 350 * 100)
    assert offered.unit == "%" and offered.measurement.query == factory.query
    ppm = measured.measure(db, sme, project.id, "defect_ppm", *MARCH)
    assert ppm.value == pytest.approx(factory.value * 10_000) and ppm.unit == "ppm"
    with pytest.raises(InvalidInput) as refused:  # labour hours are not in the data
        measured.measure(db, sme, project.id, "productivity", *MARCH)
    assert "kpi_code" in refused.value.fields
    with pytest.raises(InvalidInput):  # no planned time, no calendar: no OEE, said so
        measured.measure(db, sme, project.id, "oee", *MARCH)
    machine = measured.measure(db, sme, project.id, "machine_productivity", *MARCH)
    productivity = kpis.measure(db, sme, org, "productivity", *MARCH)
    assert machine.value == pytest.approx(productivity.value) and machine.unit == "units/run hour"
    codes = {o.kpi_code for o in measured.offers(db, sme, project.id)}
    assert codes == {"defect_rate", "defect_ppm", "machine_productivity"}  # no OEE: no planned

    base = measured.report(db, sme, project.id, report("defect_rate", "baseline", MARCH))
    after = measured.report(db, sme, project.id, report("defect_rate", "completion", JUNE))
    db.commit()
    assert (base.source, base.value, base.unit) == ("auto", round(factory.value, 6), "%")
    assert after.value == pytest.approx(6 / 500 * 100)
    sheet = db.get(StoredFile, base.evidence[0])
    text = files.current_storage().read(sheet.storage_key).decode("utf-8-sig")
    assert factory.query.splitlines()[0] in text and "생산실적 2026" in text
    event = db.scalar(
        select(AuditEvent).where(AuditEvent.action == "kpi.report").order_by(AuditEvent.id)
    )
    assert event.details["measured"]["query"] == factory.query
    assert event.details["measured"]["datasets"][0]["id"] == dataset_id
    # "auto" typed by hand is refused, for the company and the program office alike.
    typed = outcomes.Report(
        "defect_rate",
        "follow_up",
        date(2026, 7, 1),
        date(2026, 7, 31),
        1.0,
        "%",
        year_no=1,
        source="auto",
    )
    for actor in (sme, world.operator):
        with pytest.raises(InvalidInput) as refused:
            outcomes.report(db, actor, project.id, typed)
        assert "source" in refused.value.fields


def _browser(db, make_client, actor):
    cookie, csrf = session_cookie(db, db.get(User, actor.user_id))
    db.commit()
    client = make_client()
    client.cookies.set("ss_session", cookie)
    client.cookies.set("ss_lang", "en")
    return client, csrf


def _form(csrf, **overrides):
    values = {
        "csrf_token": csrf,
        "kpi_code": "defect_rate",
        "stage": "baseline",
        "year_no": "",
        "period_start": MARCH[0].isoformat(),
        "period_end": MARCH[1].isoformat(),
        "value": "",
        "unit": "",
    }
    values.update(overrides)
    return values


def test_the_kpi_page_fills_the_auto_measured_value_and_records_it(db, setup, make_client):
    world, project, sme, _dataset_id = setup
    url = f"/projects/{project.id}/kpis"
    company, csrf = _browser(db, make_client, sme)
    page = company.get(url)
    assert f'formaction="{url}/auto"' in page.text and "생산실적 2026" in page.text
    filled = company.post(f"{url}/auto", data=_form(csrf))
    assert filled.status_code == 200, filled.text[:800]
    expected = kpis.measure(db, sme, project.organization_id, "defect_rate", *MARCH)
    shown = f"{round(expected.value, 6):.6f}".rstrip("0")
    assert f'value="{shown}"' in filled.text and 'id="auto-provenance"' in filled.text
    assert "FROM rows" in filled.text and 'name="auto" value="1"' in filled.text
    nothing = company.post(
        f"{url}/auto", data=_form(csrf, period_start="2024-01-01", period_end="2024-12-31")
    )
    assert nothing.status_code == 422 and 'class="field-error"' in nothing.text
    # The number in the form is not trusted: the value is measured again.
    sent = company.post(url, data=_form(csrf, value="0.1", unit="%", auto="1", dataset_id=""))
    assert sent.status_code == 303, sent.text[:800]
    stored = db.scalar(select(KpiMeasurement))
    assert (stored.source, stored.value) == ("auto", round(expected.value, 6))
    assert 'data-source="auto"' in company.get(url).text

    operator, op_csrf = _browser(db, make_client, world.operator)
    assert f'formaction="{url}/auto"' not in operator.get(url).text  # no consent, no offer
    assert operator.post(f"{url}/auto", data=_form(op_csrf)).status_code == 404
    stranger, st_csrf = _browser(db, make_client, world.sme_actors[1])
    assert stranger.post(f"{url}/auto", data=_form(st_csrf)).status_code == 404
    anonymous = make_client()
    anonymous.get("/login")  # the anonymous CSRF cookie a browser holds
    turned = anonymous.post(f"{url}/auto", data=_form(anonymous.cookies.get("ss_csrf")))
    assert turned.status_code == 303 and turned.headers["location"].startswith("/login?next=")


def test_the_api_gives_and_records_the_auto_measured_value(db, setup, client):
    world, project, sme, dataset_id = setup
    company = bearer(api_token(db, db.get(User, sme.user_id)))
    operator = bearer(api_token(db, db.get(User, world.operator.user_id)))
    stranger = bearer(api_token(db, db.get(User, world.sme_actors[1].user_id)))
    other_operator = bearer(api_token(db, db.get(User, world.other_operator.user_id)))
    db.commit()
    base = f"/api/v1/projects/{project.id}/kpis/auto"
    query = {"kpi_code": "defect_rate", "period_start": "2026-03-02", "period_end": "2026-03-31"}
    body = {**query, "stage": "baseline"}
    assert client.get(base, params=query).status_code == 401
    assert client.post(base, json=body).status_code == 401
    assert client.get(f"{base}/offers").status_code == 401
    got = client.get(base, params=query, headers=company)
    assert got.status_code == 200, got.text
    expected = kpis.measure(db, sme, project.organization_id, "defect_rate", *MARCH)
    data = got.json()
    assert data["value"] == pytest.approx(expected.value) and data["query"] == expected.query
    assert data["datasets"] == [{"id": dataset_id, "name": "생산실적 2026", "kind": "production"}]
    assert data["n"] == 3 and (data["numerator"], data["denominator"]) == (20, 350)
    assert data["interval"] == pytest.approx(list(expected.interval)) and data["details"] == {}
    assert client.get(base, params=query, headers=operator).status_code == 404
    assert client.get(base, params=query, headers=stranger).status_code == 404
    assert client.get(f"{base}/offers", headers=operator).json() == []
    assert client.get(f"{base}/offers", headers=stranger).status_code == 404
    offers = client.get(f"{base}/offers", headers=company).json()
    assert {
        "kpi_code": "defect_rate",
        "dataset_id": dataset_id,
        "dataset_name": "생산실적 2026",
        "period_start": "2026-03-02",
        "period_end": "2026-06-02",
    } in offers
    assert client.post(base, json=body, headers=operator).status_code == 404
    # Under the company's consent the program's operator sees the same value; revoked, nothing.
    consent = datasets.grant_consent(db, sme, dataset_id, world.program.id)
    db.commit()
    seen = client.get(base, params=query, headers=operator)
    assert seen.status_code == 200 and seen.json()["value"] == data["value"]
    assert client.get(base, params=query, headers=other_operator).status_code == 404
    datasets.revoke_consent(db, sme, dataset_id, consent.id)
    db.commit()
    assert client.get(base, params=query, headers=operator).status_code == 404
    sent = client.post(base, json=body, headers=company)
    assert sent.status_code == 201, sent.text
    assert (sent.json()["source"], sent.json()["value"]) == ("auto", round(expected.value, 6))
    assert len(sent.json()["evidence"]) == 1
