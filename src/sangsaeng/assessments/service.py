"""Assessment rules: who may answer, submit, verify and read; scoring, plans, peers, history.

Functions take (session, actor, ...), check permissions through the policy and only flush; the
request commits. Layers above (Programs, Outcomes) call :func:`level_at`, :func:`change_between`
and :func:`level_distribution`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sangsaeng.assessments import catalog
from sangsaeng.assessments.engine import ranking as ranking_engine
from sangsaeng.assessments.engine import roadmap, scoring
from sangsaeng.assessments.engine.instrument import Instrument, Level
from sangsaeng.assessments.models import (
    DRAFT,
    PLAN_STATUSES,
    SUBMITTED,
    VERIFIED,
    Assessment,
    InstrumentVersion,
    PlanAction,
)
from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sangsaeng.core.files import service as files
from sangsaeng.core.files.models import StoredFile
from sangsaeng.core.i18n import Msg, get_locale
from sangsaeng.core.models import (
    Membership,
    Organization,
    SupplierLink,
    User,
    link_is_active,
    utcnow,
)
from sangsaeng.core.notifications import service as notifications
from sangsaeng.core.pagination import Page, paginate
from sangsaeng.core.policy import Action, Actor, Role, assert_can, can

MIN_SURVEY_RESPONSES = 3
KIND_SUBJECT = {"sme": "sme", "sponsor": "sponsor"}
DONE_STATUSES = (SUBMITTED, VERIFIED)
# Instruments whose scores say something comparable about the organization itself.
PEER_KINDS = ("diagnosis", "evaluation", "certification")


# --- instruments ---------------------------------------------------------------------------------


def available_instruments(kind: str | None = None) -> list[Instrument]:
    return [i for i in catalog.catalog().latest() if kind is None or i.kind == kind]


def get_instrument(instrument_id: str, version: str | None = None) -> Instrument:
    instrument = catalog.find(instrument_id, version)
    if instrument is None:
        raise NotFound(Msg("No such assessment instrument."))
    return instrument


_REGISTERED = "assessments.registered"


@event.listens_for(Session, "after_soft_rollback")
def _forget_registrations(session: Session, _previous) -> None:
    # A rolled-back registration is gone: the next response checks the table again.
    session.info.pop(_REGISTERED, None)


def _register(session: Session, instrument: Instrument) -> None:
    """Keep the text of the version being answered; refuse a changed file under an old version."""
    checked = session.info.setdefault(_REGISTERED, set())
    if (instrument.id, instrument.version, instrument.sha256) in checked:
        return  # already checked in this transaction (bulk recording)
    stored = _stored_version(session, instrument.id, instrument.version)
    if stored is None:
        try:
            with session.begin_nested():
                session.add(
                    InstrumentVersion(
                        instrument_id=instrument.id,
                        version=instrument.version,
                        sha256=instrument.sha256,
                        source=instrument.source,
                    )
                )
        except IntegrityError:  # registered concurrently by another request
            stored = _stored_version(session, instrument.id, instrument.version)
    if stored is None or stored.sha256 == instrument.sha256:
        checked.add((instrument.id, instrument.version, instrument.sha256))
    if stored is not None and stored.sha256 != instrument.sha256:
        raise Conflict(
            Msg(
                "The instrument {id} version {version} was changed after it was first answered. "
                "Give the changed file a new version.",
                id=instrument.id,
                version=instrument.version,
            )
        )


def _stored_version(session: Session, instrument_id: str, version: str) -> InstrumentVersion | None:
    return session.scalars(
        select(InstrumentVersion).where(
            InstrumentVersion.instrument_id == instrument_id,
            InstrumentVersion.version == version,
        )
    ).first()


def instrument_of(session: Session, assessment: Assessment) -> Instrument:
    """The exact version the response was answered on (from the stored text, not the file)."""
    stored = _stored_version(session, assessment.instrument_id, assessment.instrument_version)
    if stored is None:  # pragma: no cover - every response registers its version first
        return get_instrument(assessment.instrument_id, assessment.instrument_version)
    return catalog.parse_stored(
        stored.source, f"{assessment.instrument_id}@{assessment.instrument_version}"
    )


# --- access -------------------------------------------------------------------------------------


def _org(session: Session, org_id: int) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound()
    return org


def get_assessment(
    session: Session, actor: Actor, assessment_id: int, *, lock: bool = False
) -> Assessment:
    """``lock``: the row is locked until the transaction ends (status changes are serialized)."""
    assessment = session.get(
        Assessment, assessment_id, with_for_update=lock or None, populate_existing=lock
    )
    if assessment is None:
        raise NotFound()
    if assessment.assessor_id is not None and assessment.assessor_id == actor.user_id:
        return assessment
    org = _org(session, assessment.organization_id)
    if not can(session, actor, Action.ASSESSMENT_READ, org):
        raise NotFound()  # another organization's diagnosis does not exist for the caller
    return assessment


def can_write(session: Session, actor: Actor, assessment: Assessment) -> bool:
    org = _org(session, assessment.organization_id)
    return can(session, actor, Action.ASSESSMENT_WRITE, org)


def _writable(session: Session, actor: Actor, assessment_id: int) -> Assessment:
    assessment = get_assessment(session, actor, assessment_id, lock=True)
    assert_can(session, actor, Action.ASSESSMENT_WRITE, _org(session, assessment.organization_id))
    return assessment


def _draft(session: Session, actor: Actor, assessment_id: int) -> Assessment:
    """A response the actor may still change (answers, comments, evidence)."""
    assessment = _writable(session, actor, assessment_id)
    if assessment.status != DRAFT:
        raise Conflict(Msg("A submitted assessment can no longer be changed."))
    return assessment


def can_verify(session: Session, actor: Actor, assessment: Assessment) -> bool:
    if actor.scopes is not None and not ({"write", "admin"} & actor.scopes):
        return False  # a read-only API token records nothing
    if assessment.organization_id in actor.org_ids():
        return False  # nobody verifies their own organization's self-assessment
    if assessment.assessor_id is not None and assessment.assessor_id == actor.user_id:
        return True
    return can(session, actor, Action.ASSESSMENT_VERIFY)


# --- starting and answering ---------------------------------------------------------------------


def startable_instruments(session: Session, actor: Actor, org: Organization) -> list[Instrument]:
    """Instruments this organization may answer: by its kind; surveys when it has buyers."""
    if not can(session, actor, Action.ASSESSMENT_WRITE, org):
        return []
    subject = KIND_SUBJECT.get(org.kind)
    offered = []
    for instrument in available_instruments():
        if instrument.kind == "survey":
            if rateable_buyers(session, org.id):
                offered.append(instrument)
        elif instrument.kind != "score_sheet" and instrument.subject == subject:
            offered.append(instrument)
    return offered


def rateable_buyers(session: Session, org_id: int) -> list[Organization]:
    """Sponsors this organization supplies through a confirmed link (whom a survey may rate)."""
    stmt = (
        select(Organization)
        .join(SupplierLink, SupplierLink.buyer_id == Organization.id)
        .where(SupplierLink.supplier_id == org_id, link_is_active(), Organization.kind == "sponsor")
        .order_by(Organization.name_ko)
    )
    return list(session.scalars(stmt))


def start(
    session: Session,
    actor: Actor,
    *,
    organization_id: int,
    instrument_id: str,
    about_organization_id: int | None = None,
    assessed_on: date | None = None,
    cohort_year: int | None = None,
) -> Assessment:
    org = _org(session, organization_id)
    assert_can(session, actor, Action.ASSESSMENT_READ, org)
    assert_can(session, actor, Action.ASSESSMENT_WRITE, org)
    instrument = catalog.find(instrument_id)
    if instrument is None:
        raise InvalidInput({"instrument_id": Msg("No such assessment instrument.")})
    if instrument.kind == "score_sheet":
        raise InvalidInput(
            {"instrument_id": Msg("Score sheets are filled in by evaluators within a program.")}
        )
    if instrument.kind == "survey":
        buyers = {b.id for b in rateable_buyers(session, org.id)}
        if about_organization_id not in buyers:
            raise InvalidInput({"about_organization_id": Msg("Choose a large company you supply.")})
    else:
        about_organization_id = None
        if instrument.subject != KIND_SUBJECT.get(org.kind):
            raise InvalidInput(
                {"instrument_id": Msg("This instrument is not for this kind of organization.")}
            )
    on = assessed_on or date.today()
    if on > date.today():
        raise InvalidInput({"assessed_on": Msg("The date cannot be in the future.")})
    if instrument.kind == "certification":
        cohort_year = cohort_year or on.year
        applied = session.scalar(
            select(Assessment.id).where(
                Assessment.organization_id == org.id,
                Assessment.instrument_id == instrument.id,
                Assessment.cohort_year == cohort_year,
            )
        )
        if applied is not None:  # one place in a cohort's ranking per organization
            raise InvalidInput(
                {"instrument_id": Msg("This organization has already applied in this cohort.")}
            )
    _register(session, instrument)
    assessment = Assessment(
        organization_id=org.id,
        about_organization_id=about_organization_id,
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        kind=instrument.kind,
        status=DRAFT,
        assessed_on=on,
        cohort_year=(cohort_year or on.year) if instrument.kind == "certification" else None,
        answers={},
        comments={},
        evidence={},
        created_by_id=actor.user_id or None,
    )
    session.add(assessment)
    session.flush()
    record(
        session,
        actor,
        "assessment.create",
        object_type="assessment",
        object_id=assessment.id,
        organization_id=org.id,
        details={"instrument": instrument.id, "version": instrument.version},
    )
    return assessment


def parse_answer(raw: object) -> float | None:
    """A form or JSON value as a number; blank means "not answered"."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise ValueError(raw)
    value = float(str(raw).strip().replace(",", "")) if isinstance(raw, str) else float(raw)
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


def clean_answers(instrument: Instrument, raw: dict[str, object]) -> dict[str, float | None]:
    """Answers parsed and checked against the instrument; every problem named by item id."""
    errors: dict[str, Msg] = {}
    answers: dict[str, float | None] = {}
    for item_id, value in raw.items():
        item = instrument.item(item_id)
        if item is None:
            errors[item_id] = Msg("This question is not part of the instrument.")
            continue
        if item.respondent != "self":
            continue  # taken from the suppliers' survey, never typed in by the organization
        try:
            answers[item_id] = parse_answer(value)
        except (TypeError, ValueError):
            errors[item_id] = Msg("Enter a number.")
    for item_id, reason in scoring.check_answers(instrument, answers).items():
        errors.setdefault(item_id, Msg(reason))
    if errors:
        raise InvalidInput(errors)
    return answers


def save_answers(
    session: Session,
    actor: Actor,
    assessment_id: int,
    answers: dict[str, object],
    comments: dict[str, str] | None = None,
) -> Assessment:
    assessment = _draft(session, actor, assessment_id)
    instrument = instrument_of(session, assessment)
    cleaned = clean_answers(instrument, answers)
    merged = dict(assessment.answers)
    for item_id, value in cleaned.items():
        if value is None:
            merged.pop(item_id, None)
        else:
            merged[item_id] = value
    assessment.answers = merged
    if comments is not None:
        kept = dict(assessment.comments)
        for item_id, text in comments.items():
            if instrument.item(item_id) is None:
                continue
            text = (text or "").strip()[:2000]
            if text:
                kept[item_id] = text
            else:
                kept.pop(item_id, None)
        assessment.comments = kept
    assessment.updated_at = utcnow()
    session.flush()
    return assessment


def attach_evidence(
    session: Session,
    actor: Actor,
    storage: files.LocalStorage,
    assessment_id: int,
    item_id: str,
    *,
    data: bytes,
    filename: str,
) -> Assessment:
    assessment = _draft(session, actor, assessment_id)
    if instrument_of(session, assessment).item(item_id) is None:
        raise InvalidInput({item_id: Msg("This question is not part of the instrument.")})
    stored = files.store(
        session,
        actor,
        storage,
        data=data,
        filename=filename,
        place="evidence",
        organization_id=assessment.organization_id,
    )
    _add_evidence(assessment, item_id, stored.id)
    session.flush()
    return assessment


def link_evidence(
    session: Session, actor: Actor, assessment_id: int, item_id: str, file_id: str
) -> Assessment:
    """Attach a file already uploaded (``POST /api/v1/files``) for the same organization."""
    assessment = _draft(session, actor, assessment_id)
    if instrument_of(session, assessment).item(item_id) is None:
        raise InvalidInput({"item_id": Msg("This question is not part of the instrument.")})
    stored = files.get(session, actor, file_id)
    if stored.organization_id != assessment.organization_id or stored.place != "evidence":
        raise InvalidInput({"file_id": Msg("Upload the evidence for this organization first.")})
    _add_evidence(assessment, item_id, stored.id)
    session.flush()
    return assessment


def _add_evidence(assessment: Assessment, item_id: str, file_id: str) -> None:
    evidence = {k: list(v) for k, v in assessment.evidence.items()}
    if file_id not in evidence.setdefault(item_id, []):
        evidence[item_id].append(file_id)
    assessment.evidence = evidence


# --- scoring, submitting, verifying -------------------------------------------------------------


@dataclass(frozen=True)
class SurveyFeed:
    n_responses: int
    means: dict[str, float]  # survey item id → mean answer (only when n ≥ MIN_SURVEY_RESPONSES)


def survey_feed(session: Session, instrument: Instrument, sponsor_id: int) -> SurveyFeed | None:
    """Suppliers' mean answers about one sponsor, from each supplier's latest submitted response.

    A mean is given only for items at least :data:`MIN_SURVEY_RESPONSES` distinct suppliers
    answered; individual responses are never returned. Callers freeze the result at submission
    (a live mean would let a sponsor difference out one supplier's answer as responses arrive).
    """
    if not instrument.survey:
        return None
    ranked = (
        select(
            Assessment.answers,
            func.row_number()
            .over(
                partition_by=Assessment.organization_id,
                order_by=(Assessment.submitted_at.desc(), Assessment.id.desc()),
            )
            .label("position"),
        )
        .where(
            Assessment.instrument_id == instrument.survey,
            Assessment.about_organization_id == sponsor_id,
            Assessment.status.in_(DONE_STATUSES),
        )
        .subquery()
    )
    responses = session.scalars(select(ranked.c.answers).where(ranked.c.position == 1)).all()
    sums: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for answers in responses:
        for item_id, value in answers.items():
            if value is not None:
                sums[item_id] += float(value)
                counts[item_id] += 1
    means = {k: round(sums[k] / counts[k], 2) for k in counts if counts[k] >= MIN_SURVEY_RESPONSES}
    return SurveyFeed(len(responses), means)


def _frozen_feed(assessment: Assessment) -> SurveyFeed | None:
    if assessment.survey_means is None:
        return None
    return SurveyFeed(assessment.survey_responses or 0, dict(assessment.survey_means))


def full_answers(
    session: Session, instrument: Instrument, assessment: Assessment, answers: dict
) -> dict[str, float | None]:
    """The organization's answers plus, for survey-fed items, the suppliers' mean answers as
    frozen when the evaluation was submitted (none for a draft: they count as the lowest)."""
    merged: dict[str, float | None] = dict(answers)
    feed = _frozen_feed(assessment)
    for item in instrument.items:
        if item.respondent != "supplier":
            continue
        mean = feed.means.get(item.survey_item or item.id) if feed else None
        # A mean off this item's scale (a survey version with another scale) is not used.
        if mean is not None and not item.scale.lowest <= mean <= item.scale.highest:
            mean = None
        merged[item.id] = mean
    return merged


def _missing(session: Session, instrument: Instrument, assessment: Assessment) -> dict[str, Msg]:
    errors: dict[str, Msg] = {}
    threshold = instrument.comment_required_below
    for item in instrument.items:
        if item.respondent != "self":
            continue
        value = assessment.answers.get(item.id)
        if value is None:
            errors[item.id] = Msg("Please answer this question.")
            continue
        if item.evidence == "required" and not assessment.evidence.get(item.id):
            errors[item.id] = Msg("Attach evidence for this answer.")
        if (
            threshold is not None
            and item.scale.fraction(value) < threshold
            and not assessment.comments.get(item.id)
        ):
            errors[item.id] = Msg("A comment is required for a score this low.")
    return errors


def submit(session: Session, actor: Actor, assessment_id: int) -> Assessment:
    assessment = _writable(session, actor, assessment_id)
    if assessment.status != DRAFT:
        raise Conflict(Msg("This assessment has already been submitted."))
    instrument = instrument_of(session, assessment)
    if errors := _missing(session, instrument, assessment):
        raise InvalidInput(errors)
    if feed := survey_feed(session, instrument, assessment.organization_id):
        assessment.survey_means = feed.means
        assessment.survey_responses = feed.n_responses
    result = scoring.score(
        instrument, full_answers(session, instrument, assessment, assessment.answers)
    )
    _mark_submitted(session, actor, assessment, instrument, result)
    return assessment


def _write_plan(
    session: Session, assessment: Assessment, instrument: Instrument, result: scoring.Result
) -> None:
    for planned in roadmap.plan(instrument, result):
        session.add(
            PlanAction(
                assessment_id=assessment.id,
                organization_id=assessment.organization_id,
                action_id=planned.action_id,
                dimension_id=planned.dimension_id,
                rank=planned.rank,
                start=planned.start,
                end=planned.end,
                impact=planned.impact,
                effort=planned.effort,
                requires=list(planned.requires),
                kpis=list(planned.kpis),
            )
        )


def import_submitted(
    session: Session,
    actor: Actor,
    *,
    organization_id: int,
    instrument_id: str,
    answers: dict[str, object],
    assessed_on: date,
) -> Assessment:
    """Record a diagnosis carried out elsewhere (on paper, in an earlier system) as submitted.

    Every answer is still checked and scored here; evidence is not asked for, and the response
    is marked ``imported`` so nobody mistakes it for one answered with evidence in Sangsaeng.
    """
    org = _org(session, organization_id)
    assert_can(session, actor, Action.ASSESSMENT_WRITE, org)
    instrument = get_instrument(instrument_id)
    if instrument.kind not in ("diagnosis", "evaluation") or instrument.subject != KIND_SUBJECT.get(
        org.kind
    ):
        raise InvalidInput(
            {"instrument_id": Msg("This instrument is not for this kind of organization.")}
        )
    cleaned = {k: v for k, v in clean_answers(instrument, answers).items() if v is not None}
    missing = [i.id for i in instrument.items if i.respondent == "self" and i.id not in cleaned]
    if missing:
        raise InvalidInput({item_id: Msg("Please answer this question.") for item_id in missing})
    _register(session, instrument)
    assessment = Assessment(
        organization_id=org.id,
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        kind=instrument.kind,
        status=DRAFT,
        source="imported",
        assessed_on=assessed_on,
        answers=cleaned,
        comments={},
        evidence={},
        created_by_id=actor.user_id or None,
    )
    result = scoring.score(instrument, full_answers(session, instrument, assessment, cleaned))
    session.add(assessment)  # inserted with its scores by the flush in _mark_submitted
    _mark_submitted(session, actor, assessment, instrument, result)
    return assessment


def _mark_submitted(
    session: Session,
    actor: Actor,
    assessment: Assessment,
    instrument: Instrument,
    result: scoring.Result,
) -> None:
    assessment.overall = result.overall
    assessment.level_id = result.level.id if result.level else None
    assessment.level_rank = result.level.rank if result.level else None
    assessment.dimension_scores = {d.id: d.score for d in result.dimensions}
    assessment.status = SUBMITTED
    assessment.submitted_at = utcnow()
    assessment.submitted_by_id = actor.user_id or None
    session.flush()  # the plan rows need the assessment's id
    _write_plan(session, assessment, instrument, result)
    session.flush()
    record(
        session,
        actor,
        "assessment.submit",
        object_type="assessment",
        object_id=assessment.id,
        organization_id=assessment.organization_id,
        details={
            "overall": result.overall,
            "level": assessment.level_id,
            "source": assessment.source,
        },
    )


def assign_assessor(session: Session, actor: Actor, assessment_id: int, email: str) -> Assessment:
    assessment = get_assessment(session, actor, assessment_id, lock=True)
    assert_can(session, actor, Action.ASSESSMENTS_MANAGE)
    if assessment.status != SUBMITTED:
        raise Conflict(Msg("Only a submitted assessment can be verified."))
    if instrument_of(session, assessment).verification == "none":
        raise Conflict(Msg("This instrument is not verified on site."))
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.is_active:
        raise InvalidInput({"email": Msg("No active user with this e-mail address.")})
    member_of = set(
        session.scalars(select(Membership.organization_id).where(Membership.user_id == user.id))
    )
    if member_of & {assessment.organization_id, assessment.about_organization_id}:
        raise InvalidInput(
            {"email": Msg("An assessor cannot verify their own organization's assessment.")}
        )
    assessment.assessor_id = user.id
    session.flush()
    notifications.notify(
        session,
        [user.id],
        title=Msg("You have been assigned an on-site verification."),
        body=Msg("Please check the self-assessment on site and enter your own scores."),
        link=f"/assessments/{assessment.id}",
    )
    record(
        session,
        actor,
        "assessment.assign_assessor",
        object_type="assessment",
        object_id=assessment.id,
        organization_id=assessment.organization_id,
        details={"assessor": user.email},
    )
    return assessment


def verify(
    session: Session, actor: Actor, assessment_id: int, answers: dict[str, object], note: str
) -> Assessment:
    """The assessor's own scores, kept beside the self-assessment (which is never overwritten)."""
    assessment = get_assessment(session, actor, assessment_id, lock=True)
    if not can_verify(session, actor, assessment):
        raise Forbidden()
    instrument = instrument_of(session, assessment)
    if instrument.verification == "none":
        raise Conflict(Msg("This instrument is not verified on site."))
    if assessment.status != SUBMITTED:
        raise Conflict(Msg("Only a submitted assessment can be verified."))
    cleaned = clean_answers(instrument, answers)
    verified = {k: v for k, v in cleaned.items() if v is not None}
    missing = {
        item.id: Msg("Please answer this question.")
        for item in instrument.items
        if item.respondent == "self" and item.id not in verified
    }
    if missing:
        raise InvalidInput(missing)
    result = scoring.score(instrument, full_answers(session, instrument, assessment, verified))
    assessment.verified_answers = verified
    assessment.verified_overall = result.overall
    assessment.verified_level_id = result.level.id if result.level else None
    assessment.verified_level_rank = result.level.rank if result.level else None
    assessment.verification_note = (note or "").strip()[:4000]
    assessment.verified_at = utcnow()
    assessment.assessor_id = assessment.assessor_id or actor.user_id or None
    assessment.status = VERIFIED
    session.flush()
    notifications.notify(
        session,
        notifications.members_of(session, assessment.organization_id, ("sme", "sponsor")),
        title=Msg("The on-site verification of your assessment has been recorded."),
        body=Msg("Verified score {score}.", score=result.overall),
        link=f"/assessments/{assessment.id}",
    )
    record(
        session,
        actor,
        "assessment.verify",
        object_type="assessment",
        object_id=assessment.id,
        organization_id=assessment.organization_id,
        details={"self": assessment.overall, "verified": result.overall},
    )
    return assessment


def simulate(
    session: Session,
    actor: Actor,
    instrument_id: str,
    answers: dict[str, object],
    survey_answers: dict[str, object] | None = None,
) -> tuple[Instrument, scoring.Result]:
    """Score without saving anything (a sponsor tries its grade before submitting)."""
    assert_can(session, actor, Action.REFERENCE_READ)
    instrument = get_instrument(instrument_id)
    cleaned = clean_answers(instrument, answers)
    for item in instrument.items:
        if item.respondent == "supplier" and survey_answers and item.id in survey_answers:
            try:
                cleaned[item.id] = parse_answer(survey_answers[item.id])
            except (TypeError, ValueError):
                raise InvalidInput({item.id: Msg("Enter a number.")}) from None
    problems = scoring.check_answers(instrument, cleaned)
    if problems:
        raise InvalidInput({k: Msg(v) for k, v in problems.items()})
    return instrument, scoring.score(instrument, cleaned)


def score_sheet(
    instrument_id: str,
    answers: dict[str, object],
    comments: dict[str, str] | None = None,
    version: str | None = None,
) -> tuple[Instrument, scoring.Result]:
    """An evaluator's score sheet (Programs name one per program): every criterion scored, and a
    comment wherever a score falls below the sheet's threshold. Nothing is stored here."""
    instrument = get_instrument(instrument_id, version)
    if instrument.kind != "score_sheet":
        raise InvalidInput({"instrument_id": Msg("This instrument is not a score sheet.")})
    cleaned = clean_answers(instrument, answers)
    comments = comments or {}
    errors: dict[str, Msg] = {}
    for item in instrument.items:
        value = cleaned.get(item.id)
        if value is None:
            errors[item.id] = Msg("Please answer this question.")
        elif (
            instrument.comment_required_below is not None
            and item.scale.fraction(value) < instrument.comment_required_below
            and not (comments.get(item.id) or "").strip()
        ):
            errors[item.id] = Msg("A comment is required for a score this low.")
    if errors:
        raise InvalidInput(errors)
    return instrument, scoring.score(instrument, cleaned)


# --- reading results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryPoint:
    assessment_id: int
    assessed_on: date
    overall: float
    level_id: str | None
    status: str


@dataclass(frozen=True)
class ResultView:
    assessment: Assessment
    instrument: Instrument
    result: scoring.Result
    verified: scoring.Result | None
    plan: list[PlanAction]
    peers: ranking_engine.PeerStanding | None
    history: list[HistoryPoint]
    survey: SurveyFeed | None
    organization: Organization
    about: Organization | None


def current_result(session: Session, instrument: Instrument, assessment: Assessment):
    return scoring.score(
        instrument, full_answers(session, instrument, assessment, assessment.answers)
    )


def result_view(session: Session, actor: Actor, assessment_id: int) -> ResultView:
    assessment = get_assessment(session, actor, assessment_id)
    instrument = instrument_of(session, assessment)
    result = current_result(session, instrument, assessment)
    verified = None
    if assessment.verified_answers:
        verified = scoring.score(
            instrument, full_answers(session, instrument, assessment, assessment.verified_answers)
        )
    plan = list(
        session.scalars(
            select(PlanAction)
            .where(PlanAction.assessment_id == assessment.id)
            .order_by(PlanAction.start.is_(None), PlanAction.start, PlanAction.rank)
        )
    )
    org = _org(session, assessment.organization_id)
    return ResultView(
        assessment=assessment,
        instrument=instrument,
        result=result,
        verified=verified,
        plan=plan,
        peers=peer_standing(session, assessment, org)
        if assessment.status != DRAFT and assessment.kind in PEER_KINDS
        else None,
        # The caller may read this response (an assigned assessor too): so may it its history.
        history=_history(session, assessment.organization_id, assessment.instrument_id),
        survey=_frozen_feed(assessment),
        organization=org,
        about=session.get(Organization, assessment.about_organization_id)
        if assessment.about_organization_id
        else None,
    )


def _latest_per_org(
    instrument_id: str,
    org_ids,
    *,
    on: date | None = None,
    version: str | None = None,
):
    """Each organization's latest submitted response (by date, then id) on one instrument, as a
    subquery with the columns that say its effective score and level (one pass, no self-join)."""
    conditions = [
        Assessment.instrument_id == instrument_id,
        Assessment.status.in_(DONE_STATUSES),
        Assessment.organization_id.in_(org_ids),
    ]
    if version is not None:
        conditions.append(Assessment.instrument_version == version)
    if on is not None:
        conditions.append(Assessment.assessed_on <= on)
    ranked = (
        select(
            Assessment.status,
            Assessment.overall,
            Assessment.level_id,
            Assessment.verified_overall,
            Assessment.verified_level_id,
            func.row_number()
            .over(
                partition_by=Assessment.organization_id,
                order_by=(Assessment.assessed_on.desc(), Assessment.id.desc()),
            )
            .label("position"),
        )
        .where(*conditions)
        .subquery()
    )
    return select(
        ranked.c.status,
        ranked.c.overall,
        ranked.c.level_id,
        ranked.c.verified_overall,
        ranked.c.verified_level_id,
    ).where(ranked.c.position == 1)


def peer_standing(
    session: Session, assessment: Assessment, org: Organization
) -> ranking_engine.PeerStanding | None:
    """Percentile among other organizations of the same KSIC division and size class (their
    latest result on the same instrument version). Only the percentile and n leave this function."""
    if assessment.effective_overall is None or not org.ksic_code or not org.size_class:
        return None
    peers_stmt = select(Organization.id).where(
        Organization.ksic_code.startswith(org.ksic_code[:2]),  # the KSIC division
        Organization.size_class == org.size_class,
        Organization.id != org.id,
    )
    latest = _latest_per_org(
        assessment.instrument_id, peers_stmt, version=assessment.instrument_version
    )
    scores = [
        score
        for status, overall, _level, verified_overall, _vlevel in session.execute(latest)
        if (score := verified_overall if status == VERIFIED else overall) is not None
    ]
    return ranking_engine.peer_percentile(assessment.effective_overall, scores)


def history(
    session: Session, actor: Actor, organization_id: int, instrument_id: str
) -> list[HistoryPoint]:
    assert_can(session, actor, Action.ASSESSMENT_READ, _org(session, organization_id))
    return _history(session, organization_id, instrument_id)


def _history(session: Session, organization_id: int, instrument_id: str) -> list[HistoryPoint]:
    rows = session.scalars(
        select(Assessment)
        .where(
            Assessment.organization_id == organization_id,
            Assessment.instrument_id == instrument_id,
            Assessment.status.in_(DONE_STATUSES),
        )
        .order_by(Assessment.assessed_on, Assessment.id)
    )
    return [
        HistoryPoint(a.id, a.assessed_on, a.effective_overall, a.effective_level_id, a.status)
        for a in rows
        if a.effective_overall is not None
    ]


# --- plans --------------------------------------------------------------------------------------


def plan_title(instrument: Instrument, action: PlanAction, locale: str | None = None) -> str:
    if action.title:
        return action.title
    spec = next((a for a in instrument.actions if a.id == action.action_id), None)
    return spec.title.get(locale or get_locale()) if spec else action.action_id


def plan_milestone(instrument: Instrument, action: PlanAction):
    spec = next((a for a in instrument.actions if a.id == action.action_id), None)
    return spec.milestone if spec else None


def update_plan_action(
    session: Session,
    actor: Actor,
    plan_action_id: int,
    *,
    title: str | None = None,
    year: int | None = None,
    quarter: int | None = None,
    status: str | None = None,
    assignee_id: int | None = None,
    clear_assignee: bool = False,
    note: str | None = None,
) -> PlanAction:
    action = session.get(PlanAction, plan_action_id)
    if action is None:
        raise NotFound()
    assessment = _writable(session, actor, action.assessment_id)
    errors: dict[str, Msg] = {}
    if title is not None:
        title = title.strip()
        if len(title) > 200:
            errors["title"] = Msg("Use at most {n} characters.", n=200)
    if status is not None and status not in PLAN_STATUSES:
        errors["status"] = Msg("Choose a listed value.")
    if assignee_id is not None:
        member = session.scalars(
            select(Membership.user_id).where(
                Membership.user_id == assignee_id,
                Membership.organization_id == assessment.organization_id,
            )
        ).first()
        if member is None:
            errors["assignee_id"] = Msg("Assign the action to a member of the organization.")
    start = None
    if year is not None or quarter is not None:
        instrument = instrument_of(session, assessment)
        if year is None or quarter is None or not 1 <= quarter <= 4:
            errors["quarter"] = Msg("Choose a year and a quarter.")
        elif not 1 <= year <= instrument.plan_years:
            errors["year"] = Msg("Choose a year of the plan.")
        else:
            start = roadmap.period(year, quarter)
            blocker = _order_blocker(session, action, start)
            if blocker is not None:
                errors["year"] = Msg(
                    "This would put the action before its prerequisite or after an action that "
                    "needs it: {other}.",
                    other=plan_title(instrument, blocker),
                )
    if errors:
        raise InvalidInput(errors)
    before = {"title": action.title, "start": action.start, "status": action.status}
    if title is not None:
        action.title = title or None
    if start is not None:
        length = (action.end - action.start) if action.start and action.end else 0
        action.start, action.end = start, start + length
    if status is not None:
        action.done_at = utcnow() if status == "done" else None
        action.status = status
    if clear_assignee:
        action.assignee_id = None
    elif assignee_id is not None:
        action.assignee_id = assignee_id
    if note is not None:
        action.note = note.strip()[:2000]
    session.flush()
    record(
        session,
        actor,
        "assessment.plan_update",
        object_type="plan_action",
        object_id=action.id,
        organization_id=action.organization_id,
        details={
            "before": before,
            "after": {"title": action.title, "start": action.start, "status": action.status},
        },
    )
    return action


def _order_blocker(session: Session, action: PlanAction, start: int) -> PlanAction | None:
    siblings = {
        a.action_id: a
        for a in session.scalars(
            select(PlanAction).where(PlanAction.assessment_id == action.assessment_id)
        )
    }
    items = {a_id: (a.start, a.end, tuple(a.requires)) for a_id, a in siblings.items()}
    if items[action.action_id][0] is None:
        # An action beyond the horizon takes one quarter when it is brought into the plan.
        items[action.action_id] = (start, start, tuple(action.requires))
    blocker = roadmap.check_move(items, action.action_id, start)
    return siblings.get(blocker) if blocker else None


def evidence_files(
    session: Session, actor: Actor, assessment: Assessment
) -> dict[str, list[StoredFile]]:
    """The evidence attached per question, for those who may open the organization's files."""
    if not (actor.is_admin or assessment.organization_id in actor.org_ids()):
        return {}
    ids = {file_id for file_ids in assessment.evidence.values() for file_id in file_ids}
    if not ids:
        return {}
    stored = {f.id: f for f in session.scalars(select(StoredFile).where(StoredFile.id.in_(ids)))}
    return {
        item_id: [stored[f] for f in file_ids if f in stored]
        for item_id, file_ids in assessment.evidence.items()
    }


def members(session: Session, organization_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organization_id == organization_id)
            .order_by(User.name)
        )
    )


# --- lists, rankings, exports -------------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentFilters:
    instrument_id: str = ""
    status: str = ""
    organization_id: int | None = None


def _readable_assessments(actor: Actor):
    stmt = select(Assessment)
    if actor.is_admin or actor.has_role(Role.OPERATOR):
        return stmt
    own = actor.org_ids()
    return stmt.where(
        Assessment.organization_id.in_(own) | (Assessment.assessor_id == actor.user_id)
    )


def list_assessments(
    session: Session,
    actor: Actor,
    filters: AssessmentFilters,
    *,
    page: int = 1,
    per_page: int = 20,
) -> Page:
    stmt = _filtered(actor, filters).order_by(Assessment.assessed_on.desc(), Assessment.id.desc())
    return paginate(session, stmt, page, per_page)


def _filtered(actor: Actor, filters: AssessmentFilters):
    stmt = _readable_assessments(actor)
    if filters.instrument_id:
        stmt = stmt.where(Assessment.instrument_id == filters.instrument_id)
    if filters.status:
        stmt = stmt.where(Assessment.status == filters.status)
    if filters.organization_id:
        stmt = stmt.where(Assessment.organization_id == filters.organization_id)
    return stmt


def export_assessments(session: Session, actor: Actor, filters: AssessmentFilters) -> list:
    rows = list(session.scalars(_filtered(actor, filters).order_by(Assessment.id).limit(100_000)))
    record(
        session,
        actor,
        "assessment.export",
        object_type="assessment",
        details={"rows": len(rows), "instrument": filters.instrument_id or None},
    )
    return rows


def organization_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(Organization.id, Organization.name_ko).where(Organization.id.in_(ids))
    )
    return {org_id: name for org_id, name in rows}


@dataclass(frozen=True)
class RankRow:
    ranked: ranking_engine.Ranked
    assessment: Assessment
    organization_name: str


def certification_ranking(
    session: Session, actor: Actor, instrument_id: str, year: int
) -> tuple[Instrument, list[RankRow]]:
    """One cohort's ranking: every submitted response of the year on the instrument's versions."""
    assert_can(session, actor, Action.ASSESSMENTS_MANAGE)
    instrument = get_instrument(instrument_id)
    if instrument.kind != "certification" or instrument.ranking is None:
        raise NotFound(Msg("No such assessment instrument."))
    responses = list(
        session.scalars(
            select(Assessment).where(
                Assessment.instrument_id == instrument_id,
                Assessment.cohort_year == year,
                Assessment.status.in_(DONE_STATUSES),
            )
        )
    )
    entries = [
        ranking_engine.Entry(
            key=a.id,
            overall=a.effective_overall or 0.0,
            dimensions=_effective_dimensions(session, a),
            submitted_at=a.submitted_at or a.created_at,
            eligible=instrument.verification != "required" or a.status == VERIFIED,
        )
        for a in responses
    ]
    ranked = ranking_engine.rank_entries(
        entries,
        top_n=instrument.ranking.top_n,
        min_score=instrument.ranking.min_score,
        tie_breaks=instrument.ranking.tie_breaks,
    )
    by_id = {a.id: a for a in responses}
    names = organization_names(session, {a.organization_id for a in responses})
    return instrument, [
        RankRow(r, by_id[r.key], names.get(by_id[r.key].organization_id, "")) for r in ranked
    ]


def _effective_dimensions(session: Session, assessment: Assessment) -> dict[str, float]:
    if assessment.status == VERIFIED and assessment.verified_answers:
        instrument = instrument_of(session, assessment)
        result = scoring.score(
            instrument, full_answers(session, instrument, assessment, assessment.verified_answers)
        )
        return {d.id: d.score for d in result.dimensions}
    return dict(assessment.dimension_scores or {})


# --- for the layers above -----------------------------------------------------------------------


@dataclass(frozen=True)
class LevelAt:
    assessment_id: int
    assessed_on: date
    instrument_version: str
    overall: float
    level: Level | None
    verified: bool


def level_at(
    session: Session, actor: Actor, organization_id: int, instrument_id: str, on: date
) -> LevelAt | None:
    """The organization's level on a date: its latest submitted result dated on or before it."""
    org = _org(session, organization_id)
    assert_can(session, actor, Action.ASSESSMENT_READ, org)
    assessment = session.scalars(
        select(Assessment)
        .where(
            Assessment.organization_id == organization_id,
            Assessment.instrument_id == instrument_id,
            Assessment.status.in_(DONE_STATUSES),
            Assessment.assessed_on <= on,
        )
        .order_by(Assessment.assessed_on.desc(), Assessment.id.desc())
        .limit(1)
    ).first()
    if assessment is None:
        return None
    instrument = instrument_of(session, assessment)
    level_id = assessment.effective_level_id
    return LevelAt(
        assessment_id=assessment.id,
        assessed_on=assessment.assessed_on,
        instrument_version=assessment.instrument_version,
        overall=assessment.effective_overall or 0.0,
        level=instrument.level_by_id(level_id) if level_id else None,
        verified=assessment.status == VERIFIED,
    )


@dataclass(frozen=True)
class Change:
    first_id: int
    second_id: int
    days: int
    overall_change: float
    level_change: int | None
    dimension_changes: dict[str, float]
    same_version: bool


def change_between(session: Session, actor: Actor, first_id: int, second_id: int) -> Change:
    """How the second diagnosis differs from the first (same organization and instrument)."""
    first = get_assessment(session, actor, first_id)
    second = get_assessment(session, actor, second_id)
    if (
        first.organization_id != second.organization_id
        or first.instrument_id != second.instrument_id
    ):
        raise InvalidInput(
            {"second_id": Msg("Compare two assessments of one organization on one instrument.")}
        )
    if first.status not in DONE_STATUSES or second.status not in DONE_STATUSES:
        raise InvalidInput({"second_id": Msg("Only submitted assessments can be compared.")})
    dims_first = _effective_dimensions(session, first)
    dims_second = _effective_dimensions(session, second)
    ranks = (first.effective_level_rank, second.effective_level_rank)
    return Change(
        first_id=first.id,
        second_id=second.id,
        days=(second.assessed_on - first.assessed_on).days,
        overall_change=round((second.effective_overall or 0) - (first.effective_overall or 0), 2),
        level_change=None if None in ranks else ranks[1] - ranks[0],
        dimension_changes={
            d: round(dims_second[d] - dims_first[d], 2) for d in dims_second if d in dims_first
        },
        same_version=first.instrument_version == second.instrument_version,
    )


@dataclass(frozen=True)
class Distribution:
    instrument_id: str
    n_organizations: int
    n_assessed: int
    counts: dict[str, int]  # level id → organizations (their latest result on or before ``on``)


def level_distribution(
    session: Session,
    actor: Actor,
    organization_ids: list[int],
    instrument_id: str,
    on: date | None = None,
) -> Distribution:
    """Levels over a set of organizations (each one's latest result on or before ``on``); the
    unassessed are counted apart. Every organization must be readable by the actor."""
    on = on or date.today()
    wanted = sorted(set(organization_ids))
    if not (actor.is_admin or actor.has_role(Role.OPERATOR)):
        foreign = set(wanted) - actor.org_ids()
        if foreign:
            raise NotFound()
    counts: Counter[str] = Counter()
    assessed = 0
    for start in range(0, len(wanted), 1000):  # bounded IN lists
        chunk = wanted[start : start + 1000]
        rows = session.execute(_latest_per_org(instrument_id, chunk, on=on))
        for status, _overall, level_id, _verified_overall, verified_level_id in rows:
            assessed += 1
            counts[(verified_level_id if status == VERIFIED else level_id) or "-"] += 1
    return Distribution(instrument_id, len(wanted), assessed, dict(counts))
