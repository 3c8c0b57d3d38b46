"""Assessment rules on both databases: answering, submitting, verifying, plans, peers, surveys."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from sangsaeng.assessments import service
from sangsaeng.assessments.models import Assessment, InstrumentVersion, PlanAction
from sangsaeng.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sangsaeng.core.files.service import LocalStorage
from sangsaeng.core.models import User
from tests.assessments.helpers import SMART, actor_of, answer_all, submitted
from tests.factories import link, make_org, make_user


@pytest.fixture
def storage(settings):
    return LocalStorage(settings.data_dir / "files")


def test_draft_answers_are_checked_per_item_and_nothing_half_saved(db):
    org = make_org(db)
    sme = actor_of(db, make_user(db, roles=[(org, "sme")]))
    a = service.start(db, sme, organization_id=org.id, instrument_id=SMART)
    service.save_answers(db, sme, a.id, {"P1": "2"})
    with pytest.raises(InvalidInput) as caught:
        service.save_answers(db, sme, a.id, {"P1": "4", "P2": "9", "NOPE": 1, "T1": "abc"})
    assert set(caught.value.fields) == {"P2", "NOPE", "T1"}
    db.refresh(a)
    assert a.answers == {"P1": 2.0}  # the valid P1 change did not go in either


def test_submit_needs_every_answer_and_the_required_evidence(db, storage):
    org = make_org(db)
    sme = actor_of(db, make_user(db, roles=[(org, "sme")]))
    a = service.start(db, sme, organization_id=org.id, instrument_id=SMART)
    service.save_answers(db, sme, a.id, answer_all(SMART, 3))
    with pytest.raises(InvalidInput) as caught:
        service.submit(db, sme, a.id)
    assert set(caught.value.fields) == {"P2", "P3", "T1", "T3"}  # evidence: required
    assert db.get(Assessment, a.id).status == "draft"


def test_submitted_result_is_stored_with_its_version_and_plan(db, storage):
    org = make_org(db)
    sme = actor_of(db, make_user(db, roles=[(org, "sme")]))
    a = submitted(db, sme, org, storage, value=2)
    assert a.status == "submitted" and a.overall == pytest.approx(25.0)
    assert a.level_id == "L1"
    stored = db.scalars(select(InstrumentVersion)).one()
    assert (stored.instrument_id, stored.version) == (SMART, "2026.1")
    plan = db.scalars(select(PlanAction).where(PlanAction.assessment_id == a.id)).all()
    assert plan, "a level-1 result yields a roadmap"
    placed = {p.action_id: p for p in plan}
    for p in plan:
        for required in p.requires:
            assert p.start is None or placed[required].end < p.start
    with pytest.raises(Conflict):
        service.save_answers(db, sme, a.id, {"P1": 5})


def test_rescoring_reads_the_stored_version_not_the_file(db, storage, monkeypatch):
    org = make_org(db)
    sme = actor_of(db, make_user(db, roles=[(org, "sme")]))
    a = submitted(db, sme, org, storage, value=3)
    first = service.result_view(db, sme, a.id).result
    assert first.level.id == "L2"
    # The shipped file changes under the same version: old results still score the same…
    from sangsaeng.assessments import catalog

    original = catalog.find(SMART)
    changed = catalog.parse_stored(
        original.source.replace("min_score: 40", "min_score: 55"), "changed"
    )
    assert changed.level_by_id("L2").min_score == 55
    monkeypatch.setattr(catalog, "find", lambda *_a, **_k: changed)
    again = service.result_view(db, sme, a.id).result
    assert (again.overall, again.level.id) == (first.overall, "L2")
    # …and a new response is refused until the file gets a new version.
    with pytest.raises(Conflict):
        service.start(db, sme, organization_id=org.id, instrument_id=SMART)


def test_other_tenants_and_sponsors_cannot_read_a_diagnosis(db, storage):
    org, other = make_org(db), make_org(db)
    sponsor = make_org(db, kind="sponsor", size_class="large")
    link(db, sponsor, org)
    sme = actor_of(db, make_user(db, roles=[(org, "sme")]))
    a = submitted(db, sme, org, storage)
    for outsider in (
        actor_of(db, make_user(db, roles=[(other, "sme")])),
        actor_of(db, make_user(db, roles=[(sponsor, "sponsor")])),
    ):
        with pytest.raises(NotFound):
            service.get_assessment(db, outsider, a.id)
        with pytest.raises((NotFound, Forbidden)):
            service.start(db, outsider, organization_id=org.id, instrument_id=SMART)
    operator_org = make_org(db, kind="operator", size_class="large")
    operator = actor_of(db, make_user(db, roles=[(operator_org, "operator")]))
    assert service.get_assessment(db, operator, a.id).id == a.id  # operators follow SMEs


def test_instrument_must_fit_the_organization(db):
    sponsor = make_org(db, kind="sponsor", size_class="large")
    actor = actor_of(db, make_user(db, roles=[(sponsor, "sponsor")]))
    with pytest.raises(InvalidInput):
        service.start(db, actor, organization_id=sponsor.id, instrument_id=SMART)
    with pytest.raises(InvalidInput):
        service.start(
            db, actor, organization_id=sponsor.id, instrument_id="application-score-sheet"
        )


def test_plan_edits_keep_prerequisite_order(db, storage):
    org = make_org(db)
    user = make_user(db, roles=[(org, "sme")])
    sme = actor_of(db, user)
    a = submitted(db, sme, org, storage, value=1)
    plan = {
        p.action_id: p
        for p in db.scalars(select(PlanAction).where(PlanAction.assessment_id == a.id))
    }
    dependant = next(p for p in plan.values() if p.requires and p.start)
    with pytest.raises(InvalidInput) as caught:
        service.update_plan_action(db, sme, dependant.id, year=1, quarter=1)
    assert "year" in caught.value.fields
    edited = service.update_plan_action(
        db,
        sme,
        dependant.id,
        title="MES 구축(1차)",
        status="doing",
        assignee_id=user.id,
        note="담당: 생산팀",
    )
    assert (edited.title, edited.status, edited.assignee_id) == ("MES 구축(1차)", "doing", user.id)
    stranger = make_user(db)
    with pytest.raises(InvalidInput):
        service.update_plan_action(db, sme, dependant.id, assignee_id=stranger.id)


def test_peer_benchmark_needs_five_peers_and_names_none(db, storage):
    orgs = [make_org(db, ksic_code="291", size_class="sme") for _ in range(6)]
    make_org(db, ksic_code="291", size_class="midsize")  # another size class: not a peer
    results = []
    for index, org in enumerate(orgs):
        actor = actor_of(db, make_user(db, roles=[(org, "sme")]))
        results.append((actor, submitted(db, actor, org, storage, value=1 + index * 0.8)))
    actor, mine = results[0]
    standing = service.result_view(db, actor, mine.id).peers
    assert standing.n_peers == 5 and standing.percentile == 0.0
    # With one peer fewer, nothing is shown.
    db.delete(results[-1][1])
    db.flush()
    standing = service.result_view(db, actor, mine.id).peers
    assert standing.n_peers == 4 and standing.percentile is None


def test_verification_keeps_both_scores_and_refuses_insiders(db, storage):
    org = make_org(db)
    sme_user = make_user(db, roles=[(org, "sme")])
    sme = actor_of(db, sme_user)
    a = submitted(db, sme, org, storage, value=4)
    operator_org = make_org(db, kind="operator", size_class="large")
    operator = actor_of(db, make_user(db, roles=[(operator_org, "operator")]))
    adviser_org = make_org(db, kind="other")
    adviser_user = make_user(db, email="assessor@example.kr", roles=[(adviser_org, "adviser")])
    with pytest.raises(InvalidInput):
        service.assign_assessor(db, operator, a.id, sme_user.email)  # own organization
    service.assign_assessor(db, operator, a.id, "assessor@example.kr")
    adviser = actor_of(db, adviser_user)
    with pytest.raises(Forbidden):
        service.verify(db, sme, a.id, answer_all(SMART, 5), "")
    service.verify(db, adviser, a.id, answer_all(SMART, 2), "현장 확인 결과 하향")
    db.refresh(a)
    assert a.status == "verified"
    assert a.overall == pytest.approx(75.0) and a.verified_overall == pytest.approx(25.0)
    assert a.effective_overall == pytest.approx(25.0)
    view = service.result_view(db, adviser, a.id)
    assert view.verified.overall == pytest.approx(25.0) and view.result.overall == 75.0


def test_survey_means_feed_the_sponsor_evaluation_without_revealing_responses(db, storage):
    sponsor = make_org(db, kind="sponsor", size_class="large")
    sponsor_actor = actor_of(db, make_user(db, roles=[(sponsor, "sponsor")]))
    responses = []
    for value in (5, 4, 3):
        supplier = make_org(db)
        link(db, sponsor, supplier)
        supplier_actor = actor_of(db, make_user(db, roles=[(supplier, "sme")]))
        responses.append(
            submitted(
                db,
                supplier_actor,
                supplier,
                storage,
                instrument_id="shared-growth-supplier-survey",
                value=value,
                about_organization_id=sponsor.id,
            )
        )
    evaluation = submitted(
        db, sponsor_actor, sponsor, storage, instrument_id="shared-growth-evaluation", value=3
    )
    view = service.result_view(db, sponsor_actor, evaluation.id)
    assert view.survey.n_responses == 3
    supplier_dim = view.result.dimension("supplier")
    assert supplier_dim.score == pytest.approx(75.0)  # mean answer 4 on a 1–5 scale
    for response in responses:
        with pytest.raises(NotFound):
            service.get_assessment(db, sponsor_actor, response.id)
    # The means are frozen at submission: a fourth response later changes nothing shown.
    late = make_org(db)
    link(db, sponsor, late)
    late_actor = actor_of(db, make_user(db, roles=[(late, "sme")]))
    submitted(
        db,
        late_actor,
        late,
        storage,
        instrument_id="shared-growth-supplier-survey",
        value=1,
        about_organization_id=sponsor.id,
    )
    again = service.result_view(db, sponsor_actor, evaluation.id)
    assert again.result.dimension("supplier").score == pytest.approx(75.0)
    assert again.survey.n_responses == 3


def test_one_supplier_answering_three_times_is_one_respondent(db, storage):
    sponsor = make_org(db, kind="sponsor", size_class="large")
    sponsor_actor = actor_of(db, make_user(db, roles=[(sponsor, "sponsor")]))
    supplier = make_org(db)
    link(db, sponsor, supplier)
    supplier_actor = actor_of(db, make_user(db, roles=[(supplier, "sme")]))
    for value in (5, 5, 5):
        submitted(
            db,
            supplier_actor,
            supplier,
            storage,
            instrument_id="shared-growth-supplier-survey",
            value=value,
            about_organization_id=sponsor.id,
        )
    draft = service.start(
        db, sponsor_actor, organization_id=sponsor.id, instrument_id="shared-growth-evaluation"
    )
    # A draft shows no survey means at all (they are computed at submission).
    assert service.result_view(db, sponsor_actor, draft.id).result.dimension("supplier").score == 0
    evaluation = submitted(
        db, sponsor_actor, sponsor, storage, instrument_id="shared-growth-evaluation", value=3
    )
    view = service.result_view(db, sponsor_actor, evaluation.id)
    assert view.survey.n_responses == 1 and view.survey.means == {}
    assert view.result.dimension("supplier").score == 0  # too few suppliers: the lowest answer


def test_survey_only_about_a_confirmed_buyer(db):
    sponsor = make_org(db, kind="sponsor", size_class="large")
    supplier = make_org(db)
    link(db, sponsor, supplier, confirmed=False)
    actor = actor_of(db, make_user(db, roles=[(supplier, "sme")]))
    with pytest.raises(InvalidInput):
        service.start(
            db,
            actor,
            organization_id=supplier.id,
            instrument_id="shared-growth-supplier-survey",
            about_organization_id=sponsor.id,
        )


def test_simulation_saves_nothing(db):
    sponsor = make_org(db, kind="sponsor", size_class="large")
    actor = actor_of(db, make_user(db, roles=[(sponsor, "sponsor")]))
    answers = answer_all("shared-growth-evaluation", 5)
    survey = dict.fromkeys(
        ("SV-FAIR", "SV-PAYMENT", "SV-WINWIN", "SV-INDEX", "SV-TECH", "SV-TALK", "SV-SUPPORT"), 5
    )
    _instrument, result = service.simulate(db, actor, "shared-growth-evaluation", answers, survey)
    assert result.overall == pytest.approx(100.0) and result.level.id == "stage5"
    assert all(d.grade.id == "high" or d.grade is not None for d in result.dimensions)
    assert db.scalars(select(Assessment)).first() is None


def test_certification_ranking_by_cohort(db, storage):
    operator_org = make_org(db, kind="operator", size_class="large")
    operator = actor_of(db, make_user(db, roles=[(operator_org, "operator")]))
    made = []
    for value in (5, 4, 4, 2, 5):
        org = make_org(db)
        actor = actor_of(db, make_user(db, roles=[(org, "sme")]))
        made.append(
            submitted(
                db,
                actor,
                org,
                storage,
                instrument_id="partner-certification",
                value=value,
                cohort_year=2026,
            )
        )
    # The certification needs an on-site check: the last applicant has not had it yet.
    for assessment, value in zip(made[:4], (5, 4, 4, 2), strict=True):
        service.verify(db, operator, assessment.id, answer_all("partner-certification", value), "")
    _instrument, rows = service.certification_ranking(db, operator, "partner-certification", 2026)
    assert [r.ranked.rank for r in rows] == [1, 2, 3, 4, 5]
    assert [r.assessment.id for r in rows] == [
        made[0].id,
        made[4].id,
        made[1].id,
        made[2].id,
        made[3].id,
    ]
    assert rows[0].ranked.certified
    assert (rows[1].ranked.certified, rows[1].ranked.reason) == (False, "ineligible")
    assert rows[1].ranked.decided_by == "submitted_at"  # same score: earlier submission first
    assert rows[3].ranked.decided_by == "submitted_at"
    assert rows[2].ranked.certified and rows[3].ranked.certified
    assert not rows[4].ranked.certified and rows[4].ranked.reason == "min_score"
    sme = actor_of(db, make_user(db, roles=[(make_org(db), "sme")]))
    with pytest.raises(Forbidden):
        service.certification_ranking(db, sme, "partner-certification", 2026)


def test_level_at_change_and_distribution(db, storage):
    org, second_org, unassessed = make_org(db), make_org(db), make_org(db)
    actor = actor_of(db, make_user(db, roles=[(org, "sme")]))
    first = submitted(db, actor, org, storage, value=2, on=date(2025, 3, 1))
    later = submitted(db, actor, org, storage, value=4, on=date(2026, 3, 1))
    other = actor_of(db, make_user(db, roles=[(second_org, "sme")]))
    submitted(db, other, second_org, storage, value=2, on=date(2025, 6, 1))
    assert service.level_at(db, actor, org.id, SMART, date(2024, 1, 1)) is None
    assert service.level_at(db, actor, org.id, SMART, date(2025, 12, 31)).level.id == "L1"
    assert service.level_at(db, actor, org.id, SMART, date(2026, 3, 1)).level.id == "L4"
    change = service.change_between(db, actor, first.id, later.id)
    assert change.overall_change == pytest.approx(50.0) and change.level_change == 3
    assert change.days == 365 and change.same_version
    operator_org = make_org(db, kind="operator", size_class="large")
    operator = actor_of(db, make_user(db, roles=[(operator_org, "operator")]))
    dist = service.level_distribution(
        db, operator, [org.id, second_org.id, unassessed.id], SMART, date(2026, 6, 1)
    )
    assert (dist.n_organizations, dist.n_assessed, dist.counts) == (3, 2, {"L4": 1, "L1": 1})
    with pytest.raises(NotFound):
        service.level_at(db, other, org.id, SMART, date(2026, 6, 1))


def test_score_sheet_needs_every_criterion_and_comments_on_low_scores():
    with pytest.raises(InvalidInput) as caught:
        service.score_sheet("application-score-sheet", {"necessity_score": 90})
    assert "feasibility_score" in caught.value.fields
    answers = {
        "necessity_score": 90,
        "feasibility_score": 50,  # below 60 %: a comment is required
        "capability_score": 80,
        "impact_score": 70,
        "cooperation_score": 100,
    }
    with pytest.raises(InvalidInput) as caught:
        service.score_sheet("application-score-sheet", answers)
    assert set(caught.value.fields) == {"feasibility_score"}
    _sheet, result = service.score_sheet(
        "application-score-sheet", answers, {"feasibility_score": "추진 일정이 불명확함"}
    )
    # 0.20·90 + 0.25·50 + 0.20·80 + 0.20·70 + 0.15·100 = 18 + 12.5 + 16 + 14 + 15 = 75.5
    assert result.overall == pytest.approx(75.5)
    with pytest.raises(InvalidInput):
        service.score_sheet("smart-factory-level", {})


def test_distribution_only_over_readable_organizations(db, storage):
    own, other = make_org(db), make_org(db)
    actor = actor_of(db, make_user(db, roles=[(own, "sme")]))
    submitted(db, actor, own, storage, value=2)
    assert service.level_distribution(db, actor, [own.id], SMART).counts == {"L1": 1}
    with pytest.raises(NotFound):
        service.level_distribution(db, actor, [own.id, other.id], SMART)


def test_peer_and_history_use_the_latest_result_by_date(db, storage):
    org = make_org(db)
    actor = actor_of(db, make_user(db, roles=[(org, "sme")]))
    # Recorded out of order: the later id holds the earlier diagnosis.
    submitted(db, actor, org, storage, value=4, on=date(2026, 5, 1))
    submitted(db, actor, org, storage, value=2, on=date(2025, 5, 1))
    dist = service.level_distribution(db, actor, [org.id], SMART, date(2026, 6, 1))
    assert dist.counts == {"L4": 1}
    points = service.history(db, actor, org.id, SMART)
    assert [p.assessed_on for p in points] == [date(2025, 5, 1), date(2026, 5, 1)]


def test_assessor_and_organization_are_notified(db, storage):
    from sangsaeng.core.notifications.models import Notification

    org = make_org(db)
    sme_user = make_user(db, roles=[(org, "sme")])
    a = submitted(db, actor_of(db, sme_user), org, storage, value=3)
    operator_org = make_org(db, kind="operator", size_class="large")
    operator = actor_of(db, make_user(db, roles=[(operator_org, "operator")]))
    assessor = make_user(db, email="onsite@example.kr", roles=[(make_org(db), "adviser")])
    service.assign_assessor(db, operator, a.id, "onsite@example.kr")
    service.verify(db, actor_of(db, assessor), a.id, answer_all(SMART, 3), "")
    inbox = {(n.user_id, n.link) for n in db.scalars(select(Notification))}
    assert inbox == {(assessor.id, f"/assessments/{a.id}"), (sme_user.id, f"/assessments/{a.id}")}


def test_review_fixes_on_assessors_cohorts_and_tokens(db, storage):
    from dataclasses import replace

    org = make_org(db)
    sme = actor_of(db, make_user(db, roles=[(org, "sme")]))
    operator_org = make_org(db, kind="operator", size_class="large")
    operator = actor_of(db, make_user(db, roles=[(operator_org, "operator")]))
    draft = service.start(db, sme, organization_id=org.id, instrument_id=SMART)
    make_user(db, email="assessor2@example.kr", roles=[(make_org(db), "adviser")])
    with pytest.raises(Conflict):  # nothing to verify yet
        service.assign_assessor(db, operator, draft.id, "assessor2@example.kr")
    earlier = submitted(db, sme, org, storage, value=2, on=date(2025, 1, 10))
    later = submitted(db, sme, org, storage, value=3)
    service.assign_assessor(db, operator, later.id, "assessor2@example.kr")
    assessor_user = db.scalars(select(User).where(User.email == "assessor2@example.kr")).one()
    assessor = actor_of(db, assessor_user)
    assert service.can_verify(db, assessor, later)
    assert not service.can_verify(db, replace(assessor, scopes=frozenset({"read"})), later)
    with pytest.raises(NotFound):  # only the response the assessor was assigned to
        service.get_assessment(db, assessor, earlier.id)
    # A certification: one application per organization and cohort.
    submitted(
        db, sme, org, storage, instrument_id="partner-certification", value=4, cohort_year=2026
    )
    with pytest.raises(InvalidInput):
        service.start(
            db, sme, organization_id=org.id, instrument_id="partner-certification", cohort_year=2026
        )
