"""Shapes applications, evaluations and the provider registry for the applicant pages, the
evaluator pages and the JSON API. No rules are decided here: the services decide; this module
reads what they return and puts it into words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from sangsaeng.assessments import service as assessments
from sangsaeng.core import reference
from sangsaeng.core.errors import Forbidden, InvalidInput
from sangsaeng.core.files import service as files
from sangsaeng.core.i18n import Msg, get_locale, gettext
from sangsaeng.core.models import Organization, utcnow
from sangsaeng.core.money import format_krw
from sangsaeng.core.policy import Actor, Role
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
    A_SUBMITTED,
    OBJECTION_OPEN,
    OPEN,
    Application,
    EvaluatorAssignment,
    Program,
)

STATUS_LABELS = {
    "draft": Msg("Draft"),
    "submitted": Msg("Application submitted"),
    "screened_out": Msg("Screened out"),
    "review": Msg("Under review"),
    "selected": Msg("Selected"),
    "reserve": Msg("Reserve list"),
    "rejected": Msg("Not selected"),
    "withdrawn": Msg("Withdrawn"),
}
OBJECTION_LABELS = {
    "open": Msg("Waiting for an answer"),
    "upheld": Msg("Upheld"),
    "dismissed": Msg("Dismissed"),
}
METHOD_TEXT = {
    selection.TRIMMED: Msg(
        "The highest and the lowest score are dropped when 5 or more evaluators scored; "
        "the other scores are averaged."
    ),
    selection.MEAN: Msg("The mean of all evaluators' scores."),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def objection_label(status: str) -> str:
    return str(OBJECTION_LABELS.get(status, status))


def method_text(method: str) -> str:
    return str(METHOD_TEXT.get(method, method))


def labels() -> dict:
    """Helpers every applicant and evaluator template uses."""
    return {
        "app_status_label": status_label,
        "objection_label": objection_label,
        "method_text": method_text,
        "t": lambda text: text.get(get_locale()) if text else "",
        "kpi_value": kpi_value,
    }


def kpi_value(value) -> str:
    if value is None or value == "":
        return ""
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"


# --- who may do what (mirrors of the services' own checks, for showing the right buttons; the
# services check again on every write) ----------


def is_applicant(actor: Actor, application: Application) -> bool:
    return application.organization_id in actor.org_ids(Role.SME, Role.SPONSOR, Role.OPERATOR)


def accepting(program: Program) -> bool:
    now = utcnow()
    return program.status == OPEN and program.opens_on <= now.date() and program.closes_at > now


def open_draft(application: Application, program: Program) -> bool:
    """A draft of a call still accepting applications (locked for everyone otherwise)."""
    return application.status == A_DRAFT and accepting(program)


def editable(actor: Actor, application: Application, program: Program) -> bool:
    return is_applicant(actor, application) and open_draft(application, program)


def read_as_evaluator(session: Session, actor: Actor, application: Application) -> bool:
    """Neither the applicant nor the program's office: a declared evaluator, who reads the
    application as on the evaluation page (no result, no objections, no downloads)."""
    program = applications.program_of(session, application)
    return not is_applicant(actor, application) and not programs.can_manage(session, actor, program)


def ensure_applicant(actor: Actor, application: Application) -> None:
    if not is_applicant(actor, application):
        raise Forbidden()


def objection_allowed(application: Application, program: Program, objections: list) -> bool:
    published = program.results_published_at
    if application.status not in (A_SCREENED_OUT, A_REJECTED, A_RESERVE):
        return False
    if published is None and application.status != A_SCREENED_OUT:
        return False
    if published is not None and utcnow() > published + timedelta(days=program.objection_days):
        return False
    return not any(o.status == OBJECTION_OPEN for o in objections)


# --- the application in words ----------


@dataclass(frozen=True)
class RuleRow:
    passed: bool
    reason: str


def stored_eligibility(application: Application) -> list[RuleRow]:
    """The verdicts stored on the application (at its last save or submission), each reason
    in the reader's language with codes named (size classes, regions, industries)."""
    rows = []
    for stored in application.eligibility or []:
        params = dict(stored.get("params") or {})
        if "allowed" in params and "value" in params:
            allowed = [c for c in str(params["allowed"]).split(", ") if c]
            verdict = rules_engine.Verdict(
                rules_engine.Rule(stored.get("rule", ""), {"in": allowed}),
                bool(stored.get("passed")),
                stored.get("reason", ""),
                params,
            )
            params = programs.readable_params(verdict)
        rows.append(
            RuleRow(bool(stored.get("passed")), gettext(stored.get("reason", ""), **params))
        )
    return rows


def fresh_eligibility(session: Session, actor: Actor, application: Application) -> list[RuleRow]:
    """The verdicts as they stand now (before submission they can still change)."""
    result = programs.check_eligibility(
        session, actor, application.program_id, application.organization_id
    )
    return [
        RuleRow(v.passed, gettext(v.reason, **programs.readable_params(v))) for v in result.verdicts
    ]


@dataclass(frozen=True)
class KpiRow:
    code: str
    name: str
    unit: str
    baseline: float
    target: float


def kpi_rows(target_kpis: list[dict]) -> list[KpiRow]:
    catalogue = reference.kpis()
    rows = []
    for item in target_kpis or []:
        kpi = catalogue.get(item.get("code"))
        rows.append(
            KpiRow(
                item.get("code", ""),
                kpi.name if kpi else item.get("code", ""),
                kpi.unit if kpi else "",
                item.get("baseline"),
                item.get("target"),
            )
        )
    return rows


@dataclass(frozen=True)
class AmountRow:
    code: str
    name: str
    share: float
    krw: int | None


def amount_rows(session: Session, program: Program, requested: dict[str, int]) -> list[AmountRow]:
    return [
        AmountRow(s.code, s.name_ko, float(s.share), (requested or {}).get(s.code))
        for s in programs.sources(session, program)
    ]


def support_type_name(program: Program, code: str | None) -> str:
    found = applications.support_type(program, code)
    return found["name_ko"] if found else ""


def application_context(
    session: Session,
    actor: Actor,
    application: Application,
    *,
    for_evaluator: bool = False,
) -> dict:
    """Everything the read-only application view shows. Evaluators do not see the result,
    the objections or download links (documents are the company's files)."""
    program = applications.program_of(session, application)
    applicant = is_applicant(actor, application)
    objections = [] if for_evaluator else evaluation.objections_of(session, application.id)
    result = None
    if not for_evaluator:
        result = evaluation.result_for_applicant(session, actor, application.id)
    return {
        "application": application,
        "program": program,
        "organization_name": programs_org_name(session, application.organization_id),
        "eligibility": stored_eligibility(application),
        "support_type_name": support_type_name(program, application.support_type),
        "solution": applications.solution_label(session, application.solution_id),
        "amounts": amount_rows(session, program, application.requested),
        "support_krw": applications.support_of(application.requested or {}),
        "kpis": kpi_rows(application.target_kpis),
        "documents": applications.document_files(session, application),
        "links": applicant and not for_evaluator,
        "result": result,
        "objections": objections,
        "can_object": applicant
        and not for_evaluator
        and objection_allowed(application, program, objections),
        "can_edit": not for_evaluator and editable(actor, application, program),
        "can_withdraw": not for_evaluator
        and applicant
        and application.status in (A_DRAFT, A_SUBMITTED),
        "for_evaluator": for_evaluator,
    }


def programs_org_name(session: Session, organization_id: int) -> str:
    org = session.get(Organization, organization_id)
    return org.name_ko if org else ""


# --- the draft form ----------

_WHOLE = re.compile(r"[0-9]{1,15}")
_NUMBER = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,6})?")


def krw_from_text(text: str):
    """Whole KRW from a form ("1,000,000" and "1 000 000" allowed); anything else passes through
    unconverted so that the service names the field; empty is None."""
    cleaned = (text or "").replace(",", "").replace(" ", "").strip()
    if not cleaned:
        return None
    return int(cleaned) if _WHOLE.fullmatch(cleaned) else cleaned


def number_from_text(text: str):
    cleaned = (text or "").replace(",", "").strip()
    if not cleaned:
        return None
    return float(cleaned) if _NUMBER.fullmatch(cleaned) else cleaned


def whole_or_text(text: str):
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    return int(cleaned) if _WHOLE.fullmatch(cleaned) else cleaned


def values_from_form(form, source_codes: list[str]) -> tuple[dict, dict]:
    """(values for ``application_service.save``, the posted strings to show again)."""
    posted = {
        key: str(form.get(key, ""))
        for key in ("title", "plan", "support_type", "solution_id", "total_krw")
    }
    posted["requested"] = {code: str(form.get(f"req.{code}", "")) for code in source_codes}
    rows = list(
        zip(
            form.getlist("kpi_code"),
            form.getlist("kpi_baseline"),
            form.getlist("kpi_target"),
            strict=False,
        )
    )
    posted["kpis"] = [
        {"code": str(c), "baseline": str(b), "target": str(t)}
        for c, b, t in rows
        if str(c).strip() or str(b).strip() or str(t).strip()
    ]
    given = {c: krw_from_text(v) for c, v in posted["requested"].items() if v.strip()}
    values = {
        "title": posted["title"],
        "plan": posted["plan"],
        "support_type": posted["support_type"] or None,
        "solution_id": whole_or_text(posted["solution_id"]),
        "total_krw": krw_from_text(posted["total_krw"]),
        "requested": given,
        "target_kpis": [
            {
                "code": row["code"],
                "baseline": number_from_text(row["baseline"]),
                "target": number_from_text(row["target"]),
            }
            for row in posted["kpis"]
        ],
    }
    return values, posted


def posted_from_application(application: Application) -> dict:
    return {
        "title": application.title,
        "plan": application.plan,
        "support_type": application.support_type or "",
        "solution_id": str(application.solution_id or ""),
        "total_krw": f"{application.total_krw:,}" if application.total_krw else "",
        "requested": {},
        "kpis": [
            {
                "code": k["code"],
                "baseline": kpi_value(k["baseline"]),
                "target": kpi_value(k["target"]),
            }
            for k in application.target_kpis or []
        ],
    }


MIN_KPI_ROWS = 3


def form_context(
    session: Session,
    actor: Actor,
    application: Application,
    posted: dict | None = None,
    errors: dict | None = None,
    eligibility: list[RuleRow] | None = None,
) -> dict:
    program = applications.program_of(session, application)
    posted = posted or posted_from_application(application)
    kpis = list(posted["kpis"])
    kpis += [{"code": "", "baseline": "", "target": ""}] * max(
        MIN_KPI_ROWS - len(kpis), 1 if len(kpis) < applications.MAX_KPIS else 0
    )
    total = krw_from_text(posted["total_krw"])
    split = (
        applications.expected_split(session, program, total)
        if isinstance(total, int) and total > 0
        else {}
    )
    documents = applications.document_files(session, application)
    return {
        "application": application,
        "program": program,
        "values": posted,
        "kpi_rows": kpis,
        "errors": errors or {},
        "support_types": [
            (t["code"], _support_type_option(t)) for t in program.support_types or []
        ],
        "solution_groups": solution_groups(session, actor),
        "kpi_options": [
            (k.code, f"{k.name} ({k.unit})") for k in applications.kpi_choices(session)
        ],
        "sources": amount_rows(session, program, split),
        "required_documents": [
            (i, d["name_ko"], d.get("required", True), documents.get(d["name_ko"], []))
            for i, d in enumerate(program.required_documents or [])
        ],
        "eligibility": eligibility
        if eligibility is not None
        else fresh_eligibility(session, actor, application),
    }


def _support_type_option(kind: dict) -> str:
    if kind.get("cap_krw"):
        return str(
            Msg(
                "{name} (support up to {cap})",
                name=kind["name_ko"],
                cap=format_krw(kind["cap_krw"]),
            )
        )
    return kind["name_ko"]


def solution_groups(session: Session, actor: Actor) -> list[tuple[str, list[tuple[int, str]]]]:
    return [
        (row.organization.name_ko, [(s.id, f"{s.name} ({s.solution_type})") for s in row.solutions])
        for row in applications.list_providers(session, actor)
        if row.solutions
    ]


def document_uploads(program: Program, uploads: list[tuple[str, str, bytes]]):
    """Form uploads named ``doc.<n>`` as (field, document name, filename, bytes)."""
    names = [d["name_ko"] for d in program.required_documents or []]
    found = []
    for field, filename, data in uploads:
        index = field[4:]
        if _WHOLE.fullmatch(index) and int(index) < len(names):
            found.append((field, names[int(index)], filename, data))
    return found


def first_message(exc: InvalidInput) -> Msg | str:
    return next(iter(exc.fields.values()), exc.message)


# --- evaluations ----------


def assignment_row(
    session: Session, actor: Actor, assignment_id: int
) -> tuple[EvaluatorAssignment, Application, Program, object]:
    """The evaluator's own assignment with its application, program and applicant (what the
    pledge shows before the application opens)."""
    assignment = evaluation.get_assignment(session, actor, assignment_id)
    for row in evaluation.my_assignments(session, actor):
        if row[0].id == assignment.id:
            return row
    raise AssertionError("an assignment the evaluator holds is in their list")  # pragma: no cover


def score_sheet_of(program: Program, assignment: EvaluatorAssignment):
    return assessments.get_instrument(program.score_sheet, assignment.sheet_version)


def sheet_values(assignment: EvaluatorAssignment) -> dict[str, str]:
    return {k: kpi_value(v) for k, v in (assignment.answers or {}).items()}


def answers_from_form(form) -> tuple[dict[str, str], dict[str, str]]:
    answers = {k[2:]: str(v) for k, v in form.items() if k.startswith("a.")}
    comments = {k[2:]: str(v) for k, v in form.items() if k.startswith("c.")}
    return answers, comments


# --- exports ----------


def export_rows(session: Session, actor: Actor) -> tuple[list[str], list[list]]:
    headers = [
        gettext("Program"),
        gettext("Title"),
        gettext("Status"),
        gettext("Submitted (KST)"),
        gettext("Total project cost (KRW)"),
        gettext("Support requested (KRW)"),
        gettext("Final score"),
        gettext("Rank"),
    ]
    rows = []
    for application, program in applications.my_applications(session, actor):
        published = program.results_published_at is not None
        rows.append(
            [
                program.name_ko,
                application.title,
                status_label(application.status),
                _seoul(application.submitted_at),
                application.total_krw,
                applications.support_of(application.requested or {}) or None,
                application.final_score if published else None,
                application.rank if published else None,
            ]
        )
    return headers, rows


def _seoul(moment) -> str:
    return seoul_time(moment) if moment else ""


def file_bytes(session: Session, actor: Actor, storage: files.LocalStorage, file_id: str):
    """An uploaded file the caller may read: (its record, its bytes)."""
    stored = files.get(session, actor, file_id)
    return stored, files.read_for_job(session, actor, storage, file_id)
