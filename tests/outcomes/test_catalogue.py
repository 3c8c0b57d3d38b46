"""Operators extend the KPI catalogue: the added KPI is checked like a shipped one, is offered
as an application target and can be reported; SMEs cannot add KPIs and codes stay unique."""

from __future__ import annotations

from datetime import date

import pytest

from sangsaeng.core.errors import Conflict, Forbidden, InvalidInput
from sangsaeng.core.models import User
from sangsaeng.core.reference.catalogue import define_kpi, kpi_catalogue
from sangsaeng.outcomes import service as outcomes
from sangsaeng.programs import application_service as applications
from tests.factories import session_cookie
from tests.programs import lifecycle
from tests.programs.test_lifecycle import _signed

SCRAP = {
    "code": "scrap_rate",
    "name_ko": "스크랩률",
    "name_en": "Scrap rate",
    "unit": "%",
    "direction": "lower",
    "min_value": "0",
    "max_value": "100",
    "category": "operations",
    "improvement": "relative",
}


def test_an_operator_adds_a_kpi_that_is_checked_like_the_shipped_ones(db):
    world = lifecycle.build(db)
    with pytest.raises(Forbidden):
        define_kpi(db, world.sme_actors[0], SCRAP)
    with pytest.raises(InvalidInput) as caught:
        define_kpi(db, world.operator, SCRAP | {"code": "Scrap Rate", "max_value": "-1"})
    assert set(caught.value.fields) == {"code", "max_value"}
    assert "scrap_rate" not in kpi_catalogue(db)  # nothing stored
    with pytest.raises(Conflict):
        define_kpi(db, world.operator, SCRAP | {"code": "defect_rate"})

    kpi = define_kpi(db, world.operator, SCRAP)
    assert kpi_catalogue(db)["scrap_rate"] == kpi
    assert "scrap_rate" in {k.code for k in applications.kpi_choices(db)}
    assert "annual_output" not in {k.code for k in applications.kpi_choices(db)}  # an input

    _apps, project = _signed(db, world)
    sme = world.sme_actors[0]
    base = outcomes.Report("scrap_rate", "baseline", date(2025, 1, 1), date(2025, 12, 31), 4.0, "%")
    assert outcomes.report(db, sme, project.id, base).unit == "%"
    too_high = outcomes.Report(
        "scrap_rate", "completion", date(2026, 7, 1), date(2026, 12, 31), 140.0, "%"
    )
    with pytest.raises(InvalidInput) as caught:
        outcomes.report(db, sme, project.id, too_high)
    assert "value" in caught.value.fields


def _browser(db, make_client, actor):
    cookie, csrf = session_cookie(db, db.get(User, actor.user_id))
    db.commit()
    client = make_client()
    client.cookies.set("ss_session", cookie)
    client.cookies.set("ss_lang", "en")
    return client, csrf


def test_the_catalogue_page_and_api(db, make_client):
    world = lifecycle.build(db)
    operator, csrf = _browser(db, make_client, world.operator)
    page = operator.get("/kpis")
    assert page.status_code == 200 and "Defect rate" in page.text and "Add a KPI" in page.text
    refused = operator.post("/kpis", data=SCRAP | {"code": "1bad", "csrf_token": csrf})
    assert refused.status_code == 422 and "lower-case letters" in refused.text
    assert "scrap_rate" not in kpi_catalogue(db)
    added = operator.post("/kpis", data=SCRAP | {"csrf_token": csrf}, follow_redirects=False)
    assert added.status_code == 303
    assert "Scrap rate" in operator.get("/kpis?msg=kpi-added").text
    sme, _csrf = _browser(db, make_client, world.sme_actors[0])
    assert "Add a KPI" not in sme.get("/kpis").text
    codes = [k["code"] for k in sme.get("/api/v1/kpis").json()]
    assert "scrap_rate" in codes and "defect_rate" in codes
