"""The operator's selection pages and API: screening, evaluators (a conflicted one refused with
the organization named), the ranking with a trimmed mean of five evaluators, deciding after the
deadline, publishing, objections, the export — and another operator kept out."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from sangsaeng.core.i18n import Msg, reset_locale, set_locale
from sangsaeng.core.models import User
from sangsaeng.programs import application_service as applications
from sangsaeng.programs import evaluation_service as evaluation
from sangsaeng.programs import service as programs
from sangsaeng.programs.models import EvaluatorAssignment, Objection
from tests.factories import api_token, bearer, make_user, session_cookie
from tests.programs import lifecycle
from tests.programs.lifecycle import close_call, evaluate_all, fill


def _korean(msgid: str, **params) -> str:
    """A message as a Korean page shows it (the catalog's Korean once merged)."""
    token = set_locale("ko")
    try:
        return str(Msg(msgid, **params))
    finally:
        reset_locale(token)


def _fresh(db) -> None:
    """See what the app committed (the test session does not expire its rows on commit)."""
    db.rollback()
    db.expire_all()


def _browser(db, make_client, actor):
    client = make_client()
    cookie, csrf = session_cookie(db, db.get(User, actor.user_id))
    client.cookies.set("ss_session", cookie)
    return client, csrf


def test_an_operator_screens_assigns_ranks_decides_publishes_and_answers(db, make_client, app):
    world = lifecycle.build(db, n_smes=3, n_evaluators=5)
    apps = [fill(db, world, i) for i in range(3)]
    # A second copy of the plan, kept in the application's own storage, to download.
    applications.attach_document(
        db,
        world.sme_actors[0],
        app.state.storage,
        apps[0].id,
        "사업계획서",
        data=lifecycle.PDF,
        filename="plan-v2.pdf",
    )
    for application, actor in zip(apps, world.sme_actors, strict=True):
        applications.submit(db, actor, application.id)
    # A member of the chosen solution provider: related to every applicant using its MES.
    conflicted = make_user(db, email="judge@example.kr", roles=[(world.provider, "evaluator")])
    ids = [a.id for a in apps]
    pid = world.program.id
    client, csrf = _browser(db, make_client, world.operator)
    db.commit()

    listing = client.get(f"/programs/{pid}/applications")
    assert listing.status_code == 200
    assert all(f"중소기업 {i}" in listing.text for i in range(3))
    assert "✓" in listing.text
    fragment = client.get(
        f"/programs/{pid}/applications", params={"status": "review"}, headers={"HX-Request": "1"}
    )
    assert "<html" not in fragment.text and "중소기업 0" not in fragment.text

    review = f"/programs/{pid}/applications/{ids[0]}"
    page = client.get(f"{review}/review")
    assert page.status_code == 200
    assert "MES 구축 0" in page.text and "plan-v2.pdf" in page.text
    download = client.get(f"{review}/documents/2")
    assert download.status_code == 200 and download.content == lifecycle.PDF

    refused = client.post(f"{review}/screen", data={"decision": "out", "csrf_token": csrf})
    assert refused.status_code == 422
    assert _korean("Give the reason the application is screened out.") in refused.text
    assert (
        client.post(f"{review}/screen", data={"decision": "pass", "csrf_token": csrf})
        .headers["location"]
        .endswith("?msg=screened")
    )

    conflict = client.post(
        f"{review}/evaluators", data={"email": conflicted.email, "csrf_token": csrf}
    )
    assert conflict.status_code == 422
    message = _korean(
        "This evaluator belongs to an organization related to the applicant ({orgs}).",
        orgs="스마트솔루션",
    )
    assert f'id="f-email-error">{message}</p>' in conflict.text
    assigned = client.post(
        f"{review}/evaluators", data={"email": world.evaluator_emails[0], "csrf_token": csrf}
    )
    assert assigned.status_code == 303
    _fresh(db)
    stored = db.scalars(
        select(EvaluatorAssignment.evaluator_id).where(EvaluatorAssignment.application_id == ids[0])
    ).all()
    assert stored == [world.evaluators[0].user_id]

    evaluate_all(
        db,
        world,
        ids,
        {ids[0]: [50, 60, 70, 80, 100], ids[1]: [65] * 5, ids[2]: [55] * 5},
    )
    db.commit()
    token = api_token(db, db.get(User, world.operator.user_id))

    preview = client.get(f"/programs/{pid}/selection")
    assert preview.status_code == 200
    assert (
        _korean(
            "With {n} or more evaluators the highest and lowest scores are dropped, as committees "
            "do; otherwise the mean.",
            n=5,
        )
        in preview.text
    )
    assert "70.0" in preview.text and "50.0, 100.0" in preview.text
    body = client.get(f"/api/v1/programs/{pid}/selection", headers=bearer(token)).json()
    first = body["rows"][0]
    assert first["application_id"] == ids[0]
    assert first["combined"] == {
        "score": 70.0,
        "method": "trimmed",
        "used": [60.0, 70.0, 80.0],
        "dropped": [50.0, 100.0],
    }
    assert [r["outcome"] for r in body["rows"]] == ["selected", "selected", "reserve"]
    assert (body["method"], body["quota"], body["pending"]) == ("trimmed", 2, 0)
    assert body["selected_support"] == 120_000_000

    early = client.post(f"/programs/{pid}/selection/decide", data={"csrf_token": csrf})
    assert early.headers["location"].endswith("?refused=deadline")
    shown = client.get(early.headers["location"])
    assert _korean("Selection starts after the deadline.") in shown.text
    close_call(db, world)
    db.commit()
    decided = client.post(f"/programs/{pid}/selection/decide", data={"csrf_token": csrf})
    assert decided.headers["location"].endswith("?msg=decided")
    published = client.post(f"/programs/{pid}/selection/publish", data={"csrf_token": csrf})
    assert published.headers["location"].endswith("?msg=published")
    after = client.get(f"/programs/{pid}/selection")
    assert 'data-testid="published"' in after.text
    assert "70.0" in after.text and "50.0, 100.0" in after.text

    _fresh(db)
    objection = evaluation.lodge_objection(
        db, world.sme_actors[2], ids[2], "평가 점수 산정을 다시 확인해 주십시오."
    )
    db.commit()
    listed = client.get(f"/programs/{pid}/objections")
    assert "평가 점수 산정을 다시 확인해 주십시오." in listed.text
    answer = f"/programs/{pid}/objections/{objection.id}/answer"
    short = client.post(
        answer, data={"outcome": "dismissed", "answer": "아니요", "csrf_token": csrf}
    )
    assert short.status_code == 422
    assert _korean("State the answer in at least {n} characters.", n=10) in short.text
    full = client.post(
        answer,
        data={
            "outcome": "upheld",
            "answer": "재검토 결과 선정 정원이 찼습니다.",
            "new_status": "selected",
            "csrf_token": csrf,
        },
    )
    assert full.status_code == 409  # the quota is filled: nothing changes
    done = client.post(
        answer,
        data={
            "outcome": "dismissed",
            "answer": "재검토 결과 점수 산정에 오류가 없습니다.",
            "csrf_token": csrf,
        },
    )
    assert done.status_code == 303
    _fresh(db)
    assert db.get(Objection, objection.id).status == "dismissed"
    assert (
        "재검토 결과 점수 산정에 오류가 없습니다." in client.get(f"/programs/{pid}/objections").text
    )


def test_another_operator_is_kept_out_and_the_export_neutralises_formulas(db, make_client):
    world = lifecycle.build(db, n_smes=1, n_evaluators=0)
    world.smes[0].name_ko = '=HYPERLINK("http://evil")'
    application = fill(db, world, 0)
    applications.submit(db, world.sme_actors[0], application.id)
    draft = programs.create_program(
        db, world.operator, world.operator_org.id, lifecycle.program_values(name_ko="준비 중 사업")
    )
    pid = world.program.id
    other, _csrf = _browser(db, make_client, world.other_operator)
    operator, _csrf = _browser(db, make_client, world.operator)
    token = api_token(db, db.get(User, world.other_operator.user_id))
    db.commit()

    assert other.get(f"/programs/{pid}/applications").status_code == 403
    assert other.get(f"/programs/{draft.id}/applications").status_code == 404
    assert other.get(f"/programs/{pid}/applications/{application.id}/review").status_code == 404
    assert other.get(f"/programs/{pid}/selection").status_code == 403
    assert other.get(f"/programs/{pid}/applications.xlsx").status_code == 403
    assert other.get(f"/api/v1/programs/{pid}/selection", headers=bearer(token)).status_code == 403
    assert (
        other.get(f"/api/v1/programs/{draft.id}/objections", headers=bearer(token)).status_code
        == 404
    )

    export = operator.get(f"/programs/{pid}/applications.xlsx")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == application.id
    assert rows[1][1] == '\'=HYPERLINK("http://evil")'
    assert db.scalar(select(func.count()).select_from(EvaluatorAssignment)) == 0
