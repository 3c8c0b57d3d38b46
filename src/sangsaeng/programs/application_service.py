"""Applications to a call and the registry of solution providers (공급기업).

An SME saves its application as a draft (every value checked as it is saved), submits it before
the deadline — eligible, complete, with the required documents — and it is locked from then on.
Its latest smart-factory diagnosis is attached at submission.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import String, cast, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sangsaeng.assessments import service as assessments
from sangsaeng.core import reference
from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sangsaeng.core.files import service as files
from sangsaeng.core.i18n import Msg
from sangsaeng.core.models import Organization, utcnow
from sangsaeng.core.money import split_by_shares
from sangsaeng.core.policy import Action, Actor, Role, assert_can, can
from sangsaeng.core.reference.catalogue import kpi_catalogue
from sangsaeng.programs import service as programs
from sangsaeng.programs.models import (
    A_DRAFT,
    A_SUBMITTED,
    A_WITHDRAWN,
    NO_CONFLICT,
    OPEN,
    SOLUTION_TYPES,
    Application,
    EvaluatorAssignment,
    Milestone,
    Program,
    Project,
    Solution,
    SolutionProvider,
)

SME_SOURCE = "sme"  # the funding source that is the applicant's own money (자부담)
MAX_KPIS = 10

# --- solution providers ----------


def register_provider(session: Session, actor: Actor, organization_id: int) -> SolutionProvider:
    """Operators (and administrators) register a company as a solution provider."""
    assert_can(session, actor, Action.PROGRAM_CREATE)
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound()
    found = session.scalars(
        select(SolutionProvider).where(SolutionProvider.organization_id == org.id)
    ).first()
    if found is not None:
        return found
    provider = SolutionProvider(organization_id=org.id, registered_by_id=actor.user_id or None)
    session.add(provider)
    session.flush()
    record(
        session,
        actor,
        "provider.register",
        object_type="solution_provider",
        object_id=provider.id,
        organization_id=org.id,
    )
    return provider


def _provider(session: Session, provider_id: int) -> SolutionProvider:
    provider = session.get(SolutionProvider, provider_id)
    if provider is None:
        raise NotFound()
    return provider


def can_edit_provider(session: Session, actor: Actor, provider: SolutionProvider) -> bool:
    return can(session, actor, Action.PROGRAM_CREATE) or provider.organization_id in actor.org_ids(
        Role.SME, Role.SPONSOR
    )


def add_solution(
    session: Session,
    actor: Actor,
    provider_id: int,
    *,
    name: str,
    solution_type: str,
    description: str = "",
) -> Solution:
    """A provider's own members, operators or administrators list a solution."""
    provider = _provider(session, provider_id)
    if not can_edit_provider(session, actor, provider):
        raise Forbidden()
    errors: dict[str, Msg] = {}
    name = (name or "").strip()
    if not name or len(name) > 200:
        errors["name"] = Msg("Enter a name of at most {n} characters.", n=200)
    if solution_type not in SOLUTION_TYPES:
        errors["solution_type"] = Msg("Choose a listed value.")
    if errors:
        raise InvalidInput(errors)
    solution = Solution(
        provider_id=provider.id,
        name=name,
        solution_type=solution_type,
        description=(description or "").strip()[:4000],
    )
    session.add(solution)
    session.flush()
    return solution


@dataclass(frozen=True)
class ProviderRow:
    provider: SolutionProvider
    organization: Organization
    solutions: list[Solution]


def list_providers(session: Session, actor: Actor) -> list[ProviderRow]:
    """The registry: public to every signed-in user (applicants choose from it)."""
    assert_can(session, actor, Action.REFERENCE_READ)
    rows = session.execute(
        select(SolutionProvider, Organization)
        .join(Organization, Organization.id == SolutionProvider.organization_id)
        .where(SolutionProvider.active.is_(True))
        .order_by(Organization.name_ko)
    ).all()
    by_provider: dict[int, list[Solution]] = {}
    for solution in session.scalars(
        select(Solution).where(Solution.active.is_(True)).order_by(Solution.name)
    ):
        by_provider.setdefault(solution.provider_id, []).append(solution)
    return [ProviderRow(p, o, by_provider.get(p.id, [])) for p, o in rows]


def solution_label(session: Session, solution_id: int | None) -> str:
    if solution_id is None:
        return ""
    row = session.execute(
        select(Solution.name, Solution.solution_type, Organization.name_ko)
        .join(SolutionProvider, SolutionProvider.id == Solution.provider_id)
        .join(Organization, Organization.id == SolutionProvider.organization_id)
        .where(Solution.id == solution_id)
    ).first()
    return f"{row[2]} — {row[0]} ({row[1]})" if row else ""


def provider_org_of(session: Session, solution_id: int) -> int:
    return session.execute(
        select(SolutionProvider.organization_id)
        .join(Solution, Solution.provider_id == SolutionProvider.id)
        .where(Solution.id == solution_id)
    ).scalar_one()


# --- reading applications ----------


def _is_applicant(actor: Actor, application: Application) -> bool:
    return application.organization_id in actor.org_ids(Role.SME, Role.SPONSOR, Role.OPERATOR)


def _declared_evaluator(session: Session, actor: Actor, application: Application) -> bool:
    return (
        session.scalar(
            select(func.count())
            .select_from(EvaluatorAssignment)
            .where(
                EvaluatorAssignment.application_id == application.id,
                EvaluatorAssignment.evaluator_id == actor.user_id,
                EvaluatorAssignment.declaration == NO_CONFLICT,
            )
        )
        > 0
    )


def get_application(session: Session, actor: Actor, application_id: int) -> Application:
    """Readable by the applicant's members, the program's operators, and evaluators assigned to
    it once they declared no conflict of interest; nobody else learns it exists."""
    application = session.get(Application, application_id)
    if application is None:
        raise NotFound()
    program = session.get(Program, application.program_id)
    if (
        _is_applicant(actor, application)
        or programs.can_manage(session, actor, program)
        or (actor.user_id and _declared_evaluator(session, actor, application))
    ):
        return application
    raise NotFound()


def program_of(session: Session, application: Application) -> Program:
    return session.get(Program, application.program_id)


def _own(session: Session, actor: Actor, application_id: int) -> Application:
    application = get_application(session, actor, application_id)
    if not _is_applicant(actor, application):
        raise Forbidden()
    return application


def my_applications(session: Session, actor: Actor) -> list[tuple[Application, Program]]:
    own = actor.org_ids(Role.SME, Role.SPONSOR, Role.OPERATOR)
    return list(
        session.execute(
            select(Application, Program)
            .join(Program, Program.id == Application.program_id)
            .where(Application.organization_id.in_(own))
            .order_by(Application.created_at.desc())
        ).all()
    )


def list_applications(
    session: Session, actor: Actor, program_id: int, status: str | None = None
) -> list[tuple[Application, Organization]]:
    program = programs.get_program(session, actor, program_id)
    if not programs.can_manage(session, actor, program):
        raise Forbidden()
    stmt = (
        select(Application, Organization)
        .join(Organization, Organization.id == Application.organization_id)
        .where(Application.program_id == program.id, Application.status != A_DRAFT)
        .order_by(Application.rank.is_(None), Application.rank, Application.submitted_at)
    )
    if status:
        stmt = stmt.where(Application.status == status)
    return list(session.execute(stmt).all())


# --- applying ----------


def _accepting(program: Program) -> None:
    now = utcnow()
    if program.status != OPEN or program.opens_on > now.date():
        raise Conflict(Msg("This call is not open for applications."))
    if program.closes_at <= now:
        raise Conflict(Msg("The deadline has passed; applications are locked."))


def start(
    session: Session, actor: Actor, program_id: int, organization_id: int | None = None
) -> Application:
    """The company's application to this call (a new draft, or the one it already has)."""
    program = programs.get_program(session, actor, program_id)
    own = sorted(actor.org_ids(Role.SME))
    if organization_id is None:
        if not own:
            raise Forbidden(Msg("Only a company's members can apply."))
        organization_id = own[0]
    if organization_id not in own:
        raise NotFound()
    found = session.scalars(
        select(Application).where(
            Application.program_id == program.id, Application.organization_id == organization_id
        )
    ).first()
    if found is not None:
        return found
    _accepting(program)
    application = Application(program_id=program.id, organization_id=organization_id)
    try:
        with session.begin_nested():
            session.add(application)
            session.flush()
    except IntegrityError:  # created concurrently (one application per company and call)
        found = session.scalars(
            select(Application).where(
                Application.program_id == program.id,
                Application.organization_id == organization_id,
            )
        ).first()
        if found is None:
            raise
        return found
    record(
        session,
        actor,
        "application.start",
        object_type="application",
        object_id=application.id,
        organization_id=organization_id,
    )
    return application


def _shares(session: Session, program: Program) -> dict[str, Decimal]:
    return {s.code: Decimal(s.share) for s in programs.sources(session, program)}


def expected_split(session: Session, program: Program, total: int) -> dict[str, int]:
    return split_by_shares(total, _shares(session, program), program.remainder_to)


def support_of(requested: dict[str, int]) -> int:
    """What the program pays: every source but the applicant's own share."""
    return sum(v for k, v in requested.items() if k != SME_SOURCE)


def support_type(program: Program, code: str | None) -> dict | None:
    return next((t for t in program.support_types or [] if t.get("code") == code), None)


def _whole_krw(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _check_values(
    session: Session, program: Program, values: dict, *, complete: bool
) -> tuple[dict, dict[str, Msg]]:
    """The form's values checked; with ``complete`` every required field must be there."""
    errors: dict[str, Msg] = {}
    cleaned: dict = {}
    title = str(values.get("title") or "").strip()
    if len(title) > 200:
        errors["title"] = Msg("Enter a name of at most {n} characters.", n=200)
    elif complete and not title:
        errors["title"] = Msg("This field is required.")
    cleaned["title"] = title
    plan = str(values.get("plan") or "").strip()
    if len(plan) > 20000:
        errors["plan"] = Msg("Enter at most {n} characters.", n=20000)
    elif complete and len(plan) < 20:
        errors["plan"] = Msg("Describe the project plan in at least {n} characters.", n=20)
    cleaned["plan"] = plan

    kind = values.get("support_type") or None
    if kind is not None and support_type(program, kind) is None:
        errors["support_type"] = Msg("Choose a listed value.")
    elif complete and kind is None and program.support_types:
        errors["support_type"] = Msg("This field is required.")
    cleaned["support_type"] = kind

    solution_id = values.get("solution_id")
    if solution_id is not None:
        solution = session.get(Solution, solution_id) if isinstance(solution_id, int) else None
        if solution is None or not solution.active:
            errors["solution_id"] = Msg("Choose a registered solution.")
    elif complete:
        errors["solution_id"] = Msg("Choose a registered solution.")
    cleaned["solution_id"] = solution_id

    total = values.get("total_krw")
    requested = values.get("requested") or {}
    cleaned["total_krw"], cleaned["requested"] = None, {}
    if total is not None:
        if _whole_krw(total) is None or total <= 0:
            errors["total_krw"] = Msg("Enter a positive whole amount in KRW.")
        else:
            cleaned["total_krw"] = total
            expected = expected_split(session, program, total)
            given = {k: v for k, v in requested.items() if v is not None}
            if any(_whole_krw(v) is None or v < 0 for v in given.values()):
                errors["requested"] = Msg("Enter a positive whole amount in KRW.")
            elif given and set(given) != set(expected):
                errors["requested"] = Msg("Enter an amount for every funding source.")
            elif given and given != expected:
                errors["requested"] = Msg(
                    "The amounts per source do not follow the program's shares: expected {split}.",
                    split=", ".join(f"{k} {v:,}" for k, v in expected.items()),
                )
            else:
                cleaned["requested"] = expected
                support = support_of(expected)
                if support > program.cap_per_company_krw:
                    errors["total_krw"] = Msg(
                        "The support requested ({asked:,} KRW) exceeds the cap per company "
                        "({cap:,} KRW).",
                        asked=support,
                        cap=program.cap_per_company_krw,
                    )
                kind_rule = support_type(program, kind)
                if kind_rule and kind_rule.get("cap_krw") and support > kind_rule["cap_krw"]:
                    errors["total_krw"] = Msg(
                        "The support requested ({asked:,} KRW) exceeds the cap of this support "
                        "type ({cap:,} KRW).",
                        asked=support,
                        cap=kind_rule["cap_krw"],
                    )
    elif complete:
        errors["total_krw"] = Msg("This field is required.")

    kpis, kpi_error = _check_kpis(values.get("target_kpis") or [], kpi_catalogue(session))
    if kpi_error:
        errors["target_kpis"] = kpi_error
    elif complete and not kpis:
        errors["target_kpis"] = Msg("Choose at least one target KPI.")
    cleaned["target_kpis"] = kpis
    return cleaned, errors


def _check_kpis(raw: list, catalogue: dict[str, reference.Kpi]) -> tuple[list[dict], Msg | None]:
    kpis: list[dict] = []
    if len(raw) > MAX_KPIS:
        return [], Msg("Choose at most {n} KPIs.", n=MAX_KPIS)
    for item in raw:
        code = item.get("code")
        kpi = catalogue.get(code)
        if kpi is None:
            return [], Msg("Choose KPIs from the catalogue.")
        numbers = {}
        for field in ("baseline", "target"):
            value = item.get(field)
            if not isinstance(value, int | float) or isinstance(value, bool):
                return [], Msg("Enter a baseline and a target for {kpi}.", kpi=kpi.name)
            low, high = kpi.min_value, kpi.max_value
            if (low is not None and value < low) or (high is not None and value > high):
                return [], Msg(
                    "{kpi}: the value {value} is outside the valid range.",
                    kpi=kpi.name,
                    value=value,
                )
            numbers[field] = float(value)
        better = numbers["target"] > numbers["baseline"]
        if numbers["target"] == numbers["baseline"] or better != (kpi.direction == "higher"):
            return [], Msg("{kpi}: the target must improve on the baseline.", kpi=kpi.name)
        kpis.append({"code": code, **numbers})
    if len({k["code"] for k in kpis}) != len(kpis):
        return [], Msg("Each KPI may appear once.")
    return kpis, None


def _draft(session: Session, actor: Actor, application_id: int) -> Application:
    application = _own(session, actor, application_id)
    if application.status != A_DRAFT:
        raise Conflict(Msg("A submitted application is locked."))
    _accepting(program_of(session, application))
    return application


def save(session: Session, actor: Actor, application_id: int, values: dict) -> Application:
    """Save the draft: every value given is checked; on any error nothing is saved."""
    application = _draft(session, actor, application_id)
    program = program_of(session, application)
    cleaned, errors = _check_values(session, program, values, complete=False)
    if errors:
        raise InvalidInput(errors)
    for field, value in cleaned.items():
        setattr(application, field, value)
    _snapshot_eligibility(session, actor, application)
    session.flush()
    return application


def _snapshot_eligibility(session: Session, actor: Actor, application: Application) -> None:
    verdicts = programs.check_eligibility(
        session, actor, application.program_id, application.organization_id
    )
    application.eligibility = [
        {"rule": v.rule.kind, "passed": v.passed, "reason": v.reason, "params": _plain(v.params)}
        for v in verdicts.verdicts
    ]
    application.eligible = verdicts.eligible


def _plain(params) -> dict:
    return {k: (list(v) if isinstance(v, list | tuple) else v) for k, v in params.items()}


def required_documents(program: Program) -> list[str]:
    return [d["name_ko"] for d in program.required_documents or [] if d.get("required", True)]


def attach_document(
    session: Session,
    actor: Actor,
    storage: files.LocalStorage,
    application_id: int,
    document: str,
    *,
    data: bytes,
    filename: str,
) -> Application:
    application = _draft(session, actor, application_id)
    program = program_of(session, application)
    names = [d["name_ko"] for d in program.required_documents or []]
    if document not in names:
        raise InvalidInput({"document": Msg("This document is not asked for by the call.")})
    stored = files.store(
        session,
        actor,
        storage,
        data=data,
        filename=filename,
        place="program",
        organization_id=application.organization_id,
    )
    documents = {k: list(v) for k, v in (application.documents or {}).items()}
    documents.setdefault(document, []).append(stored.id)
    application.documents = documents
    session.flush()
    return application


def document_files(session: Session, application: Application) -> dict[str, list]:
    return {
        name: [session.get(files.StoredFile, i) for i in ids]
        for name, ids in (application.documents or {}).items()
    }


def submit(session: Session, actor: Actor, application_id: int) -> Application:
    """Submit before the deadline: eligible (each failed rule named), complete, with every
    required document. The latest diagnosis is attached; the application is locked."""
    application = _draft(session, actor, application_id)
    program = program_of(session, application)
    values = {
        "title": application.title,
        "plan": application.plan,
        "support_type": application.support_type,
        "solution_id": application.solution_id,
        "total_krw": application.total_krw,
        "requested": application.requested,
        "target_kpis": application.target_kpis,
    }
    _cleaned, errors = _check_values(session, program, values, complete=True)
    for name in required_documents(program):
        if not (application.documents or {}).get(name):
            errors[f"document:{name}"] = Msg("Attach the document: {name}", name=name)
    _snapshot_eligibility(session, actor, application)
    if not application.eligible:
        errors["eligibility"] = Msg("The company does not meet every eligibility rule.")
    if errors:
        session.flush()
        raise InvalidInput(errors)
    found = assessments.level_at(
        session, actor, application.organization_id, programs.LEVEL_INSTRUMENT, utcnow().date()
    )
    application.diagnosis_assessment_id = found.assessment_id if found else None
    application.status = A_SUBMITTED
    application.submitted_at = utcnow()
    session.flush()
    record(
        session,
        actor,
        "application.submit",
        object_type="application",
        object_id=application.id,
        organization_id=application.organization_id,
        details={"program": program.id, "total_krw": application.total_krw},
    )
    return application


def withdraw(session: Session, actor: Actor, application_id: int) -> Application:
    application = _own(session, actor, application_id)
    if application.status not in (A_DRAFT, A_SUBMITTED):
        raise Conflict(Msg("This application can no longer be withdrawn."))
    application.status = A_WITHDRAWN
    session.flush()
    record(
        session,
        actor,
        "application.withdraw",
        object_type="application",
        object_id=application.id,
        organization_id=application.organization_id,
    )
    return application


def _program_file_readable(session: Session, actor: Actor, stored) -> bool:
    """A program's operators read the documents and milestone deliverables of the companies in
    it; an evaluator who declared no conflict reads the documents of that application."""
    if stored.organization_id is None:
        return False
    mentioned = cast(Application.documents, String).contains(stored.id)
    for application in session.scalars(
        select(Application).where(Application.organization_id == stored.organization_id, mentioned)
    ):
        program = program_of(session, application)
        if programs.can_manage(session, actor, program):
            return True
        if actor.user_id and _declared_evaluator(session, actor, application):
            return True
    delivered = session.scalars(
        select(Project.program_id)
        .join(Milestone, Milestone.project_id == Project.id)
        .where(
            Project.organization_id == stored.organization_id,
            cast(Milestone.deliverables, String).contains(stored.id),
        )
    )
    return any(
        programs.can_manage(session, actor, session.get(Program, program_id))
        for program_id in set(delivered)
    )


files.register_reader("program", _program_file_readable)


def kpi_choices(session: Session) -> list[reference.Kpi]:
    """Targets are set on outcome KPIs; company inputs (annual output…) are not targets."""
    return [k for k in kpi_catalogue(session).values() if k.category != "input"]
