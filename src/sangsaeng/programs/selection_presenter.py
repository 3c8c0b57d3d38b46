"""Shapes the evaluation services' results for the operator's selection pages, the JSON API and
the export. No rules here: permissions and decisions are the services'; this module only reads
what they allow and puts it in rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from sangsaeng.assessments import service as assessments
from sangsaeng.core import reference
from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import Conflict, Forbidden, NotFound
from sangsaeng.core.files import service as files
from sangsaeng.core.i18n import Msg, get_locale, gettext
from sangsaeng.core.models import Organization, User, utcnow
from sangsaeng.core.policy import SYSTEM_ACTOR, Actor
from sangsaeng.core.web.templating import seoul_time
from sangsaeng.programs import application_service as applications
from sangsaeng.programs import evaluation_service as evaluation
from sangsaeng.programs import service as programs
from sangsaeng.programs.engine import eligibility as rules_engine
from sangsaeng.programs.engine import selection
from sangsaeng.programs.models import (
    A_DRAFT,
    A_REJECTED,
    A_RESERVE,
    A_SCREENED_OUT,
    A_SELECTED,
    A_SUBMITTED,
    A_UNDER_REVIEW,
    A_WITHDRAWN,
    CONFLICT,
    NO_CONFLICT,
    OBJECTION_DISMISSED,
    OBJECTION_OPEN,
    OBJECTION_UPHELD,
    Application,
    EvaluatorAssignment,
    Objection,
    Program,
)

STATUS_LABELS = {
    A_DRAFT: Msg("Draft"),
    A_SUBMITTED: Msg("Submitted, awaiting screening"),
    A_SCREENED_OUT: Msg("Screened out"),
    A_UNDER_REVIEW: Msg("Under review"),
    A_SELECTED: Msg("Selected"),
    A_RESERVE: Msg("Reserve list"),
    A_REJECTED: Msg("Not selected"),
    A_WITHDRAWN: Msg("Withdrawn"),
}
# The statuses an operator filters the list by (drafts are the applicant's own business).
FILTER_STATUSES = tuple(s for s in STATUS_LABELS if s != A_DRAFT)
# What an upheld objection may change the outcome to (the service checks it again).
OBJECTION_STATUSES = (A_SELECTED, A_RESERVE, A_UNDER_REVIEW)
OBJECTION_LABELS = {
    OBJECTION_OPEN: Msg("Waiting for an answer"),
    OBJECTION_UPHELD: Msg("Upheld"),
    OBJECTION_DISMISSED: Msg("Dismissed"),
}
RULE_LABELS = {
    "ksic_division": Msg("Industry"),
    "size_class": Msg("Size class"),
    "region": Msg("Region"),
    "supplier_tier": Msg("Supplier tier"),
    "years_since_founding": Msg("Years since founding"),
    "not_supported_recently": Msg("Recent support"),
    "diagnosed_level": Msg("Diagnosed level"),
}
_OUTCOME_STATUS = {
    selection.SELECTED: A_SELECTED,
    selection.RESERVE: A_RESERVE,
    selection.REJECTED: A_REJECTED,
}
METHOD_TEXTS = {
    selection.TRIMMED: Msg(
        "With {n} or more evaluators the highest and lowest scores are dropped, as committees "
        "do; otherwise the mean.",
        n=selection.TRIM_FROM,
    ),
    selection.MEAN: Msg("The mean of all scores."),
}
APPLIED_METHODS = {selection.TRIMMED: Msg("Trimmed mean"), selection.MEAN: Msg("Mean")}
TIE_BREAK = Msg(
    "Ties go by the final score, then the score before bonus points, then the earlier "
    "submission, then the application number."
)


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def rule_label(kind: str) -> str:
    return str(RULE_LABELS.get(kind, kind))


def score_text(value: float | None) -> str:
    """Scores with at most two decimals and at least one (70.0, 72.33)."""
    if value is None:
        return "—"
    text = f"{value:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def valid_status(status: str | None) -> str | None:
    return status if status in FILTER_STATUSES else None


# --- permission-checked reads ----------


def managed_program(session: Session, actor: Actor, program_id: int) -> Program:
    """The program, for its operators and administrators (a draft stays unknown to others)."""
    program = programs.get_program(session, actor, program_id)
    if not programs.can_manage(session, actor, program):
        raise Forbidden()
    return program


def managed_application(
    session: Session, actor: Actor, program_id: int, application_id: int
) -> tuple[Application, Program]:
    """A submitted application of this program, for the program's operators. Strangers learn
    nothing (404); its applicant and its evaluators are refused (403), as the services do."""
    application = applications.get_application(session, actor, application_id)
    if application.program_id != program_id or application.status == A_DRAFT:
        raise NotFound()
    program = applications.program_of(session, application)
    if not programs.can_manage(session, actor, program):
        raise Forbidden()
    return application, program


def objection_in_program(session: Session, program_id: int, objection_id: int) -> None:
    """A page's objection must belong to the program in its address (checked before answering,
    so a mismatched address changes nothing)."""
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound()
    application = session.get(Application, objection.application_id)
    if application.program_id != program_id:
        raise NotFound()


# --- the list of applications ----------


@dataclass(frozen=True)
class ApplicationRow:
    application: Application
    organization: Organization
    support_type: str
    requested_support: int
    failed_rules: list[str]
    scored: int
    assigned: int  # evaluators who did not declare a conflict


def _evaluator_counts(session: Session, ids: list[int]) -> dict[int, tuple[int, int]]:
    if not ids:
        return {}
    rows = session.execute(
        select(
            EvaluatorAssignment.application_id,
            func.count(EvaluatorAssignment.score),  # counts the scores given (not NULL)
            func.count(),
        )
        .where(
            EvaluatorAssignment.application_id.in_(ids),
            or_(
                EvaluatorAssignment.declaration.is_(None),
                EvaluatorAssignment.declaration != CONFLICT,
            ),
        )
        .group_by(EvaluatorAssignment.application_id)
    )
    return {app_id: (scored, assigned) for app_id, scored, assigned in rows}


def support_type_name(program: Program, code: str | None) -> str:
    found = applications.support_type(program, code)
    return found.get("name_ko", code) if found else (code or "")


def application_rows(
    session: Session, actor: Actor, program_id: int, status: str | None = None
) -> tuple[Program, list[ApplicationRow]]:
    found = applications.list_applications(session, actor, program_id, valid_status(status))
    program = session.get(Program, program_id)
    counts = _evaluator_counts(session, [a.id for a, _o in found])
    rows = []
    for application, org in found:
        scored, assigned = counts.get(application.id, (0, 0))
        failed = [
            rule_label(v["rule"]) for v in application.eligibility or [] if not v.get("passed")
        ]
        rows.append(
            ApplicationRow(
                application=application,
                organization=org,
                support_type=support_type_name(program, application.support_type),
                requested_support=applications.support_of(application.requested or {}),
                failed_rules=failed,
                scored=scored,
                assigned=assigned,
            )
        )
    return program, rows


def export_table(
    session: Session, actor: Actor, program_id: int, status: str | None
) -> tuple[list[str], list[list]]:
    """The list as a spreadsheet (formulas are neutralised by ``core.exports``); logged, as
    every export of companies' data is."""
    program, rows = application_rows(session, actor, program_id, status)
    headers = [
        gettext("Application no."),
        gettext("Company"),
        gettext("Business registration no."),
        gettext("Title"),
        gettext("Support type"),
        gettext("Total project cost (KRW)"),
        gettext("Requested support (KRW)"),
        gettext("Status"),
        gettext("Eligible"),
        gettext("Failed rules"),
        gettext("Evaluators scored"),
        gettext("Evaluators assigned"),
        gettext("Score before bonus"),
        gettext("Bonus points"),
        gettext("Final score"),
        gettext("Rank"),
        gettext("Submitted (KST)"),
    ]
    table = [
        [
            r.application.id,
            r.organization.name_ko,
            r.organization.business_no,
            r.application.title,
            r.support_type,
            r.application.total_krw,
            r.requested_support,
            status_label(r.application.status),
            gettext("Yes") if r.application.eligible else gettext("No"),
            ", ".join(r.failed_rules),
            r.scored,
            r.assigned,
            r.application.base_score,
            r.application.bonus_points,
            r.application.final_score,
            r.application.rank,
            seoul_time(r.application.submitted_at) if r.application.submitted_at else None,
        ]
        for r in rows
    ]
    record(
        session,
        actor,
        "application.export",
        object_type="program",
        object_id=program.id,
        organization_id=program.operator_org_id,
        details={"rows": len(table), "status": valid_status(status)},
    )
    return headers, table


# --- one application under review ----------


@dataclass(frozen=True)
class EvaluatorView:
    assignment: EvaluatorAssignment
    user: User
    items: list[tuple[str, float | None, str]]  # (criterion, score, comment)


@dataclass(frozen=True)
class Review:
    program: Program
    application: Application
    organization: Organization
    solution: str
    support_type: str
    requested: list[tuple[str, int]]  # (source name, KRW)
    requested_support: int
    kpis: list[tuple[str, str, float, float]]  # (name, unit, baseline, target)
    documents: list[tuple[int, str, object]]  # (number, document name, stored file)
    eligibility: list[tuple[bool, str, str]]  # (passed, rule, reason)
    evaluators: list[EvaluatorView]
    objections: list[Objection]

    @property
    def screenable(self) -> bool:
        return self.program.results_published_at is None and self.application.status in (
            A_SUBMITTED,
            A_UNDER_REVIEW,
            A_SCREENED_OUT,
        )

    @property
    def assignable(self) -> bool:
        return (
            self.program.results_published_at is None and self.application.status == A_UNDER_REVIEW
        )


def verdict_text(stored: dict) -> str:
    """A stored verdict in the reader's language, codes shown by name (as on the call page)."""
    params = dict(stored.get("params") or {})
    rule_params = {}
    if isinstance(params.get("allowed"), str):
        rule_params["in"] = [c.strip() for c in params["allowed"].split(",") if c.strip()]
    verdict = rules_engine.Verdict(
        rules_engine.Rule(stored.get("rule", ""), rule_params),
        bool(stored.get("passed")),
        stored.get("reason", ""),
        params,
    )
    readable = programs.readable_params(verdict) if rule_params else params
    return gettext(verdict.reason, **readable)


def numbered_documents(application: Application) -> list[tuple[str, str]]:
    """(document name, file id) in a fixed order: the order they were attached in, per document
    (the list is locked once the application is submitted)."""
    return [
        (name, file_id) for name, ids in (application.documents or {}).items() for file_id in ids
    ]


def _criteria(program: Program, assignment: EvaluatorAssignment):
    try:
        instrument = assessments.get_instrument(program.score_sheet, assignment.sheet_version)
    except NotFound:  # a sheet version no longer shipped: show the codes
        return [(code, code) for code in sorted(assignment.answers or {})]
    return [(item.id, item.question.get(get_locale())) for item in instrument.items]


def review(session: Session, actor: Actor, program_id: int, application_id: int) -> Review:
    application, program = managed_application(session, actor, program_id, application_id)
    org = session.get(Organization, application.organization_id)
    names = {s.code: s.name_ko for s in programs.sources(session, program)}
    catalogue = reference.kpis()
    kpis = []
    for item in application.target_kpis or []:
        kpi = catalogue.get(item.get("code"))
        kpis.append(
            (
                kpi.name if kpi else item.get("code"),
                kpi.unit if kpi else "",
                item.get("baseline"),
                item.get("target"),
            )
        )
    stored = {
        f.id: f
        for f in (
            session.get(files.StoredFile, file_id)
            for _n, file_id in numbered_documents(application)
        )
        if f is not None
    }
    documents = [
        (number, name, stored.get(file_id))
        for number, (name, file_id) in enumerate(numbered_documents(application), start=1)
    ]
    evaluators = []
    for assignment, user in evaluation.assignments_of(session, application.id):
        items = []
        if assignment.score is not None:
            for code, title in _criteria(program, assignment):
                items.append(
                    (
                        title,
                        (assignment.answers or {}).get(code),
                        (assignment.comments or {}).get(code, ""),
                    )
                )
        evaluators.append(EvaluatorView(assignment, user, items))
    return Review(
        program=program,
        application=application,
        organization=org,
        solution=applications.solution_label(session, application.solution_id),
        support_type=support_type_name(program, application.support_type),
        requested=[
            (names.get(code, code), krw) for code, krw in (application.requested or {}).items()
        ],
        requested_support=applications.support_of(application.requested or {}),
        kpis=kpis,
        documents=documents,
        eligibility=[
            (bool(v.get("passed")), rule_label(v.get("rule", "")), verdict_text(v))
            for v in application.eligibility or []
        ],
        evaluators=evaluators,
        objections=evaluation.objections_of(session, application.id),
    )


def document(
    session: Session,
    actor: Actor,
    storage: files.LocalStorage,
    program_id: int,
    application_id: int,
    number: int,
):
    """A document of an application, for the program's operators. The file is the applicant's;
    the operator reads it as part of the application it was submitted with, so the read goes
    through the application's permission, and the download is logged under the operator."""
    application, _program = managed_application(session, actor, program_id, application_id)
    documents = numbered_documents(application)
    if not 1 <= number <= len(documents):
        raise NotFound()
    _name, file_id = documents[number - 1]
    stored = files.get(session, SYSTEM_ACTOR, file_id)
    try:
        data = files.read_for_job(session, SYSTEM_ACTOR, storage, file_id)
    except FileNotFoundError as exc:
        raise NotFound(Msg("The stored file is missing.")) from exc
    record(
        session,
        actor,
        "file.download",
        object_type="file",
        object_id=stored.id,
        organization_id=stored.organization_id,
        details={"application": application.id},
    )
    return stored, data


# --- ranking and selection ----------


@dataclass(frozen=True)
class SelectionRow:
    application: Application
    organization: Organization
    combined: selection.Combined | None
    bonus_points: float
    bonus_met: list[tuple[int, str, float]]  # (rule index, rule in words, points)
    final_score: float | None
    rank: int | None
    outcome: str | None  # an application status: selected / reserve / rejected
    reason: str
    pending: int
    requested_support: int


@dataclass(frozen=True)
class SelectionView:
    program: Program
    rows: list[SelectionRow]
    method: str
    method_text: str
    tie_break: str
    quota: int
    budget: int
    selected_support: int
    pending: int
    ready: bool
    decided: bool
    published_at: datetime | None


def bonus_rule_texts(session: Session, program: Program) -> list[str]:
    """Each bonus rule in words, in the program's order (the engine reports rule indexes)."""
    plain = [{k: v for k, v in r.items() if k != "points"} for r in program.bonus_rules or []]
    return programs.rule_texts(session, SimpleNamespace(eligibility_rules=plain))


def _scores_of(session: Session, ids: list[int]) -> dict[int, list[float]]:
    scores: dict[int, list[float]] = {}
    if ids:
        for app_id, value in session.execute(
            select(EvaluatorAssignment.application_id, EvaluatorAssignment.score).where(
                EvaluatorAssignment.application_id.in_(ids),
                EvaluatorAssignment.score.is_not(None),
            )
        ):
            scores.setdefault(app_id, []).append(value)
    return scores


def selection_view(session: Session, actor: Actor, program_id: int) -> SelectionView:
    """Before publication: the services' preview (what deciding now would store). After it: the
    decided ranking as stored (objections may have changed a status since)."""
    program = managed_program(session, actor, program_id)
    if program.results_published_at is not None:
        return _published(session, actor, program)
    texts = bonus_rule_texts(session, program)
    preview = evaluation.preview(session, actor, program_id)
    rows = []
    for r in preview.rows:
        final = round(r.combined.score + r.bonus.points, 4) if r.combined else None
        rows.append(
            SelectionRow(
                application=r.application,
                organization=r.organization,
                combined=r.combined,
                bonus_points=r.bonus.points,
                bonus_met=[(i, texts[i] if i < len(texts) else "", p) for i, p in r.bonus.earned],
                final_score=final,
                rank=r.decision.rank if r.decision else None,
                outcome=_OUTCOME_STATUS[r.decision.outcome] if r.decision else None,
                reason=gettext(r.decision.reason) if r.decision else "",
                pending=r.pending,
                requested_support=applications.support_of(r.application.requested or {}),
            )
        )
    return SelectionView(
        program=program,
        rows=rows,
        method=preview.method,
        method_text=str(METHOD_TEXTS.get(preview.method, preview.method)),
        tie_break=str(TIE_BREAK),
        quota=preview.quota,
        budget=preview.budget,
        selected_support=preview.selected_support,
        pending=sum(r.pending for r in preview.rows),
        ready=preview.ready,
        decided=any(r.application.rank is not None for r in preview.rows),
        published_at=None,
    )


def _published(session: Session, actor: Actor, program: Program) -> SelectionView:
    ranked = [
        (a, o)
        for a, o in applications.list_applications(session, actor, program.id)
        if a.rank is not None
    ]
    scores = _scores_of(session, [a.id for a, _o in ranked])
    rows = [
        SelectionRow(
            application=a,
            organization=o,
            combined=(
                selection.combine(scores[a.id], program.score_combination)
                if a.id in scores
                else None
            ),
            bonus_points=a.bonus_points or 0.0,
            bonus_met=[],
            final_score=a.final_score,
            rank=a.rank,
            outcome=a.status,
            reason="",
            pending=0,
            requested_support=applications.support_of(a.requested or {}),
        )
        for a, o in sorted(ranked, key=lambda pair: pair[0].rank)
    ]
    return SelectionView(
        program=program,
        rows=rows,
        method=program.score_combination,
        method_text=str(METHOD_TEXTS.get(program.score_combination, program.score_combination)),
        tie_break=str(TIE_BREAK),
        quota=program.quota,
        budget=program.budget_krw,
        selected_support=sum(r.requested_support for r in rows if r.outcome == A_SELECTED),
        pending=0,
        ready=False,
        decided=True,
        published_at=program.results_published_at,
    )


# Refusals of deciding or publishing, shown on the selection page after a redirect (a key
# travels in the address, never the text).
REFUSALS = {
    "deadline": Msg("Selection starts after the deadline."),
    "pending": Msg("Every application under review needs all its evaluators' scores."),
    "published": Msg("The results are published; the selection is closed."),
    "undecided": Msg("Decide the selection before publishing it."),
}
_OTHER_REFUSAL = Msg("This conflicts with existing data.")


def refusal_key(exc: Conflict) -> str:
    msgid = getattr(exc.message, "msgid", None)
    return next((key for key, msg in REFUSALS.items() if msg.msgid == msgid), "other")


def refusal_text(key: str | None) -> str | None:
    if not key:
        return None
    return str(REFUSALS.get(key, _OTHER_REFUSAL))


# --- objections ----------


@dataclass(frozen=True)
class ObjectionRow:
    objection: Objection
    application: Application
    organization: Organization
    days_open: int  # until now while open; until the answer once answered


def objection_rows(session: Session, actor: Actor, program_id: int) -> list[ObjectionRow]:
    """Every objection of the program, the open ones first (oldest first)."""
    program = managed_program(session, actor, program_id)
    found = session.execute(
        select(Objection, Application, Organization)
        .join(Application, Application.id == Objection.application_id)
        .join(Organization, Organization.id == Application.organization_id)
        .where(Application.program_id == program.id)
        .order_by(
            case((Objection.status == OBJECTION_OPEN, 0), else_=1),
            Objection.lodged_at,
            Objection.id,
        )
    ).all()
    now = utcnow()
    return [
        ObjectionRow(o, a, org, ((o.answered_at or now) - o.lodged_at).days) for o, a, org in found
    ]


def declaration_label(assignment: EvaluatorAssignment) -> str:
    if assignment.declaration == NO_CONFLICT:
        return gettext("No conflict of interest declared")
    if assignment.declaration == CONFLICT:
        return gettext("Conflict of interest declared")
    return gettext("Declaration pending")
