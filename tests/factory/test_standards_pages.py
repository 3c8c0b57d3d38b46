"""The OEE standards pages on both databases: the SME adds, edits and removes shifts and cycle
times, bad values come back beside their fields, a CP949 table of cycle times is imported
all-or-nothing with its bad rows listed; others get 403 (naming the SME) or 404 (its rows)."""

from __future__ import annotations

import pytest

from sangsaeng.core.files import service as files
from sangsaeng.factory import standards
from sangsaeng.factory.models import CycleTime, Shift
from tests.factory.test_pages import signed_in
from tests.factory.world import build


@pytest.fixture
def world(app, db, settings):
    files.configure_storage(files.LocalStorage(settings.data_dir / "files"))
    return build(db)


SHIFT = {"name": "주간", "machine": "", "starts": "08:00", "ends": "17:00",
         "break_minutes": "60", "weekdays": ["0", "1", "2", "3", "4"]}  # fmt: skip


def test_the_sme_keeps_its_calendar_and_cycle_times_on_the_page(db, world, make_client):
    client, csrf = signed_in(make_client, db, world.users["sme"])
    page = client.get("/factory/standards")
    assert page.status_code == 200 and 'id="shift-form"' in page.text

    added = client.post("/factory/standards/shifts", data={"csrf_token": csrf, **SHIFT})
    assert added.status_code == 303 and added.headers["location"].endswith("#shifts")
    night = {**SHIFT, "name": "야간", "starts": "22:00", "ends": "06:00", "break_minutes": "30"}
    client.post("/factory/standards/shifts", data={"csrf_token": csrf, **night})
    refused = client.post(
        "/factory/standards/shifts", data={"csrf_token": csrf, **SHIFT, "weekdays": []}
    )
    assert refused.status_code == 422 and 'name="weekdays"' in refused.text
    assert "field-error" in refused.text
    listing = client.get("/factory/standards")
    assert "08:00–17:00" in listing.text and "22:00–06:00" in listing.text

    shift = db.query(Shift).filter_by(name="야간").one()
    form = client.get(f"/factory/standards/shifts/{shift.id}")
    assert form.status_code == 200 and 'value="22:00"' in form.text
    changed = client.post(
        f"/factory/standards/shifts/{shift.id}",
        data={"csrf_token": csrf, **night, "machine": "M2", "break_minutes": "45"},
    )
    assert changed.status_code == 303
    db.expire_all()
    assert (db.get(Shift, shift.id).machine, db.get(Shift, shift.id).break_minutes) == ("M2", 45)
    removed = client.post(f"/factory/standards/shifts/{shift.id}/delete", data={"csrf_token": csrf})
    assert removed.status_code == 303
    assert [s.name for s in standards.list_shifts(db, world.sme)] == ["주간"]

    cycle = {"csrf_token": csrf, "product": "브래킷", "machine": "", "ideal_cycle_seconds": "30"}
    assert client.post("/factory/standards/cycle-times", data=cycle).status_code == 303
    bad = client.post("/factory/standards/cycle-times", data={**cycle, "ideal_cycle_seconds": "x"})
    assert bad.status_code == 422
    saved = db.query(CycleTime).one()
    edit = client.post(
        f"/factory/standards/cycle-times/{saved.id}",
        data={**cycle, "ideal_cycle_seconds": "32.5"},
    )
    assert edit.status_code == 303
    db.expire_all()
    assert db.get(CycleTime, saved.id).ideal_cycle_seconds == 32.5


def upload_cycles(client, csrf, text: str):
    return client.post(
        "/factory/standards/cycle-times/import",
        data={"csrf_token": csrf, "encoding": "auto"},
        files={"file": ("cycles.csv", text.encode("cp949"), "text/csv")},
    )


def test_cycle_times_are_imported_from_a_cp949_table(db, world, make_client):
    client, csrf = signed_in(make_client, db, world.users["sme"])
    refused = upload_cycles(
        client, csrf, "제품,설비,이상사이클타임(초)\n브래킷,M1,30\n하우징,M2,빠름\n"
    )
    assert refused.status_code == 422 and 'id="import-result"' in refused.text
    assert "이상사이클타임(초)" in refused.text and db.query(CycleTime).count() == 0
    done = upload_cycles(client, csrf, "제품,설비,이상사이클타임(초)\n브래킷,M1,30\n하우징,,45\n")
    assert done.status_code == 200 and db.query(CycleTime).count() == 2
    other = upload_cycles(client, csrf, "설비,수량\nM1,3\n")
    assert other.status_code == 422 and "제품" in other.text


def test_others_cannot_see_or_touch_the_smes_standards(db, world, make_client):
    shift = standards.add_shift(db, world.sme, {**SHIFT, "weekdays": "01234"})
    db.commit()
    for who in ("other_sme", "operator", "admin"):
        client, csrf = signed_in(make_client, db, world.users[who])
        assert client.get(f"/factory/standards/shifts/{shift.id}").status_code == 404
        deleted = client.post(
            f"/factory/standards/shifts/{shift.id}/delete", data={"csrf_token": csrf}
        )
        assert deleted.status_code == 404
        named = client.get(f"/factory/standards?org={world.sme_org_id}")
        assert named.status_code == 403
    assert standards.list_shifts(db, world.sme) != []
    client, csrf = signed_in(make_client, db, world.users["operator"])
    assert client.get("/factory/standards").status_code == 403
