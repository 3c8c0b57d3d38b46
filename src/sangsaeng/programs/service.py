"""Program rules: set-up by operators (shares, caps, call period, eligibility rules, score sheet),
visibility (another operator's program does not exist for you), and eligibility checks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sangsaeng.assessments import service as assessments
from sangsaeng.core import reference
from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sangsaeng.core.i18n import Msg, get_locale
from sangsaeng.core.models import Organization, utcnow
from sangsaeng.core.orgs import graph
from sangsaeng.core.policy import SYSTEM_ACTOR, Action, Actor, Role, assert_can, can
from sangsaeng.programs.engine import eligibility as rules_engine
from sangsaeng.programs.engine import selection
from sangsaeng.programs.models import (
    A_DRAFT,
    CLOSED,
    DRAFT,
    OPEN,
    P_CANCELLED,
    PROGRAM_KINDS,
    Application,
    Program,
    ProgramSource,
    ProgramSponsor,
    Project,
)

_NEXT_STATUS = {DRAFT: {OPEN}, OPEN: {CLOSED}, CLOSED: set()}


@dataclass(frozen=True)
class SourceIn:
    code: str
    name_ko: str
    share: Decimal
    in_kind: bool = False


def _clean(values: dict, session: Session) -> tuple[dict, list[SourceIn], list[int]]:
    """Every field checked; all problems reported together, nothing stored on any of them."""
    errors: dict[str, Msg] = {}
    name = str(values.get("name_ko") or "").strip()
    if not name or len(name) > 200:
        errors["name_ko"] = Msg("Enter a name of at most {n} characters.", n=200)
    kind = values.get("kind")
    if kind not in PROGRAM_KINDS:
        errors["kind"] = Msg("Choose a listed value.")
    year = values.get("year")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        errors["year"] = Msg("Enter a year between 2000 and 2100.")
    opens_on, closes_at = values.get("opens_on"), values.get("closes_at")
    if not isinstance(opens_on, date):
        errors["opens_on"] = Msg("Enter a date.")
    if not isinstance(closes_at, datetime):
        errors["closes_at"] = Msg("Enter a date and time.")
    else:
        closes_at = closes_at if closes_at.tzinfo else closes_at.replace(tzinfo=UTC)
        if closes_at <= utcnow():
            errors["closes_at"] = Msg("The deadline must be in the future.")
        elif isinstance(opens_on, date) and closes_at.date() < opens_on:
            errors["closes_at"] = Msg("The deadline must come after the call opens.")
    money = {}
    for field in ("budget_krw", "cap_per_company_krw"):
        value = values.get(field)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            errors[field] = Msg("Enter a positive whole amount in KRW.")
        money[field] = value
    money_ok = "budget_krw" not in errors and "cap_per_company_krw" not in errors
    if money_ok and money["cap_per_company_krw"] > money["budget_krw"]:
        errors["cap_per_company_krw"] = Msg("The cap per company exceeds the budget.")
    quota = values.get("quota")
    if not isinstance(quota, int) or isinstance(quota, bool) or quota < 1:
        errors["quota"] = Msg("Enter a whole number of at least 1.")
    sources = _sources(values.get("sources"), errors)
    remainder_to = values.get("remainder_to") or None
    if remainder_to is not None and remainder_to not in {s.code for s in sources}:
        errors["remainder_to"] = Msg("Choose one of the program's funding sources.")
    sheet = values.get("score_sheet")
    instrument = assessments.available_instruments("score_sheet")
    if sheet not in {i.id for i in instrument}:
        errors["score_sheet"] = Msg("Choose an evaluation score sheet.")
    try:
        rules_engine.parse_rules(values.get("eligibility_rules") or [])
    except rules_engine.RuleError as error:
        index, reason = error.problems[0]
        errors["eligibility_rules"] = Msg(
            "Eligibility rule {n}: {reason}", n=index + 1, reason=Msg(reason)
        )
    documents = values.get("required_documents") or []
    if not isinstance(documents, list) or not all(
        isinstance(d, dict) and str(d.get("name_ko") or "").strip() for d in documents
    ):
        errors["required_documents"] = Msg("Name every required document.")
    support_types = _support_types(values.get("support_types") or [], errors)
    try:
        selection.parse_bonus_rules(values.get("bonus_rules") or [])
    except rules_engine.RuleError as error:
        index, reason = error.problems[0]
        errors["bonus_rules"] = Msg("Bonus rule {n}: {reason}", n=index + 1, reason=Msg(reason))
    combination = values.get("score_combination") or selection.TRIMMED
    if combination not in selection.COMBINATIONS:
        errors["score_combination"] = Msg("Choose a listed value.")
    small = {}
    for field, default, low, high in (
        ("reserve_size", 5, 0, 1000),
        ("follow_up_years", 3, 0, 10),
        ("objection_days", 7, 1, 60),
    ):
        value = values.get(field, default)
        if value is None or value == "":
            value = default
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors[field] = Msg("Enter a whole number from {low} to {high}.", low=low, high=high)
        small[field] = value
    sponsor_ids = list(dict.fromkeys(values.get("sponsor_ids") or []))
    if sponsor_ids:
        kinds = dict(
            session.execute(
                select(Organization.id, Organization.kind).where(Organization.id.in_(sponsor_ids))
            ).all()
        )
        if any(kinds.get(i) != "sponsor" for i in sponsor_ids):
            errors["sponsor_ids"] = Msg("Every sponsor must be a registered large company.")
    if errors:
        raise InvalidInput(errors)
    cleaned = {
        "name_ko": name,
        "name_en": (str(values.get("name_en") or "").strip() or None),
        "kind": kind,
        "year": year,
        "opens_on": opens_on,
        "closes_at": closes_at,
        "quota": quota,
        "budget_krw": money["budget_krw"],
        "cap_per_company_krw": money["cap_per_company_krw"],
        "description": str(values.get("description") or "").strip(),
        "eligibility_rules": list(values.get("eligibility_rules") or []),
        "required_documents": [
            {"name_ko": str(d["name_ko"]).strip(), "required": bool(d.get("required", True))}
            for d in documents
        ],
        "score_sheet": sheet,
        "remainder_to": remainder_to,
        "support_types": support_types,
        "bonus_rules": list(values.get("bonus_rules") or []),
        "score_combination": combination,
        **small,
    }
    return cleaned, sources, sponsor_ids


def _support_types(raw, errors: dict[str, Msg]) -> list[dict]:
    """[{code, name_ko, cap_krw}]: each with a unique code and a positive cap (or none)."""
    cleaned = []
    if not isinstance(raw, list):
        raw = None
    for item in raw or []:
        code = str(item.get("code") or "").strip() if isinstance(item, dict) else ""
        name = str(item.get("name_ko") or "").strip() if isinstance(item, dict) else ""
        cap = item.get("cap_krw") if isinstance(item, dict) else None
        cap_ok = cap is None or (isinstance(cap, int) and not isinstance(cap, bool) and cap > 0)
        if not code or not name or not cap_ok:
            errors["support_types"] = Msg(
                "Every support type needs a code, a name and a positive cap (or none)."
            )
            return []
        cleaned.append({"code": code, "name_ko": name, "cap_krw": cap})
    if raw is None or len({t["code"] for t in cleaned}) != len(cleaned):
        errors["support_types"] = Msg("Each support type may appear once.")
    return cleaned


def _sources(raw, errors: dict[str, Msg]) -> list[SourceIn]:
    sources: list[SourceIn] = []
    if not isinstance(raw, list) or not raw:
        errors["sources"] = Msg("Add at least one funding source.")
        return sources
    for item in raw:
        try:
            share = Decimal(str(item.get("share")))
        except (InvalidOperation, AttributeError, TypeError):
            errors["sources"] = Msg("Every share is a fraction between 0 and 1.")
            return []
        code = str(item.get("code") or "").strip()
        if not code or not str(item.get("name_ko") or "").strip() or not 0 <= share <= 1:
            errors["sources"] = Msg("Every source needs a code, a name and a share.")
            return []
        sources.append(
            SourceIn(code, str(item["name_ko"]).strip(), share, bool(item.get("in_kind", False)))
        )
    if len({s.code for s in sources}) != len(sources):
        errors["sources"] = Msg("Each funding source may appear once.")
    elif sum(s.share for s in sources) != Decimal(1):
        errors["sources"] = Msg(
            "The shares add up to {total}, not 1.", total=str(sum(s.share for s in sources))
        )
    return sources


def create_program(session: Session, actor: Actor, operator_org_id: int, values: dict) -> Program:
    operator_org = session.get(Organization, operator_org_id)
    if operator_org is None:
        raise NotFound()
    assert_can(session, actor, Action.PROGRAM_CREATE)
    assert_can(session, actor, Action.PROGRAM_MANAGE, operator_org)
    cleaned, sources, sponsor_ids = _clean(values, session)
    program = Program(
        operator_org_id=operator_org.id,
        status=DRAFT,
        created_by_id=actor.user_id or None,
        **cleaned,
    )
    session.add(program)
    session.flush()
    _add_parts(session, program, sources, sponsor_ids)
    record(
        session,
        actor,
        "program.create",
        object_type="program",
        object_id=program.id,
        organization_id=operator_org.id,
        details={"name": program.name_ko},
    )
    return program


def update_program(session: Session, actor: Actor, program_id: int, values: dict) -> Program:
    """Change a program still in preparation (once the call is open, its rules are fixed for
    every applicant)."""
    program = get_program(session, actor, program_id)
    if not _is_manager(session, actor, program):
        raise Forbidden()
    if program.status != DRAFT:
        raise Conflict(Msg("Only a program in preparation can be changed."))
    cleaned, new_sources, sponsor_ids = _clean(values, session)
    for field, value in cleaned.items():
        setattr(program, field, value)
    for old in sources(session, program):
        session.delete(old)
    for old in session.scalars(
        select(ProgramSponsor).where(ProgramSponsor.program_id == program.id)
    ):
        session.delete(old)
    session.flush()
    _add_parts(session, program, new_sources, sponsor_ids)
    record(
        session,
        actor,
        "program.update",
        object_type="program",
        object_id=program.id,
        organization_id=program.operator_org_id,
    )
    return program


def _add_parts(
    session: Session, program: Program, new_sources: list[SourceIn], sponsor_ids: list[int]
) -> None:
    session.add_all(
        ProgramSource(
            program_id=program.id, code=s.code, name_ko=s.name_ko, share=s.share, in_kind=s.in_kind
        )
        for s in new_sources
    )
    session.add_all(ProgramSponsor(program_id=program.id, organization_id=i) for i in sponsor_ids)
    session.flush()


def add_years(day, years: int = 1):
    """The same day ``years`` later (28 February for 29 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def copy_program(session: Session, actor: Actor, program_id: int) -> Program:
    """The program for the next year, in preparation: its rules, score sheet, shares, caps,
    support types and documents, the call period a year later — no applications."""
    original = get_program(session, actor, program_id)
    if not _is_manager(session, actor, original):
        raise Forbidden()
    year = original.year + 1
    copied_fields = (
        "kind", "quota", "budget_krw", "cap_per_company_krw", "description",
        "eligibility_rules", "required_documents", "score_sheet", "remainder_to",
        "support_types", "bonus_rules", "score_combination", "reserve_size",
        "follow_up_years", "objection_days",
    )  # fmt: skip
    copy = Program(
        name_ko=original.name_ko.replace(str(original.year), str(year)),
        name_en=(original.name_en or "").replace(str(original.year), str(year)) or None,
        year=year,
        operator_org_id=original.operator_org_id,
        status=DRAFT,
        opens_on=add_years(original.opens_on),
        closes_at=add_years(original.closes_at),
        copied_from_id=original.id,
        created_by_id=actor.user_id or None,
        **{f: getattr(original, f) for f in copied_fields},
    )
    session.add(copy)
    session.flush()
    _add_parts(
        session,
        copy,
        [SourceIn(s.code, s.name_ko, s.share, s.in_kind) for s in sources(session, original)],
        [o.id for o in sponsors(session, original)],
    )
    record(
        session,
        actor,
        "program.copy",
        object_type="program",
        object_id=copy.id,
        organization_id=copy.operator_org_id,
        details={"from": original.id},
    )
    return copy


def _is_manager(session: Session, actor: Actor, program: Program) -> bool:
    operator_org = session.get(Organization, program.operator_org_id)
    return can(session, actor, Action.PROGRAM_MANAGE, operator_org)


def get_program(session: Session, actor: Actor | None, program_id: int) -> Program:
    """Managers see their program in every state; everyone else only an open or closed call."""
    program = session.get(Program, program_id)
    if program is None:
        raise NotFound()
    if actor is not None and _is_manager(session, actor, program):
        return program
    if program.status == DRAFT:
        raise NotFound()  # another operator's draft does not exist for the caller
    return program


def can_manage(session: Session, actor: Actor, program: Program) -> bool:
    return _is_manager(session, actor, program)


def list_programs(session: Session, actor: Actor) -> list[Program]:
    """The programs the actor runs (all, for administrators); calls are listed by open_calls."""
    stmt = select(Program).order_by(Program.year.desc(), Program.id.desc())
    if not actor.is_admin:
        stmt = stmt.where(Program.operator_org_id.in_(actor.org_ids(Role.OPERATOR)))
    return list(session.scalars(stmt))


def open_calls(session: Session) -> list[Program]:
    """Calls (공고) open to applications now: public, no sign-in needed."""
    now = utcnow()
    return list(
        session.scalars(
            select(Program)
            .where(Program.status == OPEN, Program.opens_on <= now.date(), Program.closes_at > now)
            .order_by(Program.closes_at)
        )
    )


def set_status(session: Session, actor: Actor, program_id: int, status: str) -> Program:
    program = get_program(session, actor, program_id)
    if not _is_manager(session, actor, program):
        raise Forbidden()
    if status not in _NEXT_STATUS[program.status]:
        raise InvalidInput({"status": Msg("This change of status is not possible.")})
    before = program.status
    program.status = status
    session.flush()
    record(
        session,
        actor,
        "program.status",
        object_type="program",
        object_id=program.id,
        organization_id=program.operator_org_id,
        details={"before": before, "after": status},
    )
    return program


def sources(session: Session, program: Program) -> list[ProgramSource]:
    return list(
        session.scalars(
            select(ProgramSource)
            .where(ProgramSource.program_id == program.id)
            .order_by(ProgramSource.id)
        )
    )


def sponsors(session: Session, program: Program) -> list[Organization]:
    return list(
        session.scalars(
            select(Organization)
            .join(ProgramSponsor, ProgramSponsor.organization_id == Organization.id)
            .where(ProgramSponsor.program_id == program.id)
            .order_by(Organization.name_ko)
        )
    )


_NAMERS = {
    "size_class": lambda code: (
        reference.size_class(code).name if reference.size_class(code) else code
    ),
    "region": lambda code: reference.region(code).name if reference.region(code) else code,
    "ksic_division": lambda code: reference.ksic_label(code),
}


def rule_texts(session: Session, program: Program) -> list[str]:
    """The program's eligibility rules in the reader's language (for the public call page)."""
    texts = []
    for rule in rules_engine.parse_rules(program.eligibility_rules):
        msgid, params = rules_engine.describe(rule)
        name = _NAMERS.get(rule.kind)
        if "allowed" in params:
            params["allowed"] = ", ".join(name(c) if name else c for c in params["allowed"])
        if "sponsor" in params:
            sponsor = session.get(Organization, params["sponsor"])
            params["sponsor"] = sponsor.name_ko if sponsor else params["sponsor"]
        if "instrument" in params:
            instrument = assessments.available_instruments()
            titles = {i.id: i.title.get(get_locale()) for i in instrument}
            params["instrument"] = titles.get(params["instrument"], params["instrument"])
        texts.append(str(Msg(msgid, **params)))
    return texts


def readable_params(verdict: rules_engine.Verdict) -> dict:
    """A verdict's parameters with codes shown by name (size classes, regions, industries)."""
    name = _NAMERS.get(verdict.rule.kind)
    params = dict(verdict.params)
    if name is None:
        return params
    params["value"] = name(params["value"])
    params["allowed"] = ", ".join(name(c) for c in verdict.rule.params["in"])
    return params


def own_eligibility(
    session: Session, actor: Actor | None, program: Program
) -> rules_engine.Eligibility | None:
    """The verdicts for the signed-in company (an SME or a sponsor), None for anyone else."""
    if actor is None or not actor.org_ids(Role.SME, Role.SPONSOR):
        return None
    return check_eligibility(session, actor, program.id)


def check_eligibility(
    session: Session, actor: Actor, program_id: int, organization_id: int | None = None
) -> rules_engine.Eligibility:
    """Each of the program's rules with its verdict for one organization (the caller's own when
    none is named), before it applies."""
    program = get_program(session, actor, program_id)
    if organization_id is None:
        own = sorted(actor.org_ids(Role.SME, Role.SPONSOR)) or sorted(actor.org_ids())
        if not own:
            raise InvalidInput({"organization_id": Msg("Choose the organization to check.")})
        organization_id = own[0]
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound()
    if not (_is_manager(session, actor, program) or organization_id in actor.org_ids()):
        raise NotFound()
    rules = rules_engine.parse_rules(program.eligibility_rules)
    return rules_engine.evaluate(rules, facts_for(session, program, org, actor))


def facts_for(
    session: Session, program: Program, org: Organization, actor: Actor | None = None
) -> rules_engine.Facts:
    """What the rules (eligibility and bonus points) of this program look at, for one company:
    its profile, its supplier tiers, its diagnosed level and its earlier support."""
    rules = rules_engine.parse_rules(program.eligibility_rules)
    for item in program.bonus_rules or []:
        rules += rules_engine.parse_rules([{k: v for k, v in item.items() if k != "points"}])
    today = utcnow().date()
    tiers: dict[int, int] = {}
    for rule in rules:
        if rule.kind == "supplier_tier" and rule.params["sponsor"] not in tiers:
            sponsor = rule.params["sponsor"]
            tier = graph.supplier_tiers(session, sponsor).get(org.id)
            if tier is not None:
                tiers[sponsor] = tier
    levels: dict[str, int | None] = {}
    reader = actor or SYSTEM_ACTOR
    for rule in rules:
        if rule.kind == "diagnosed_level" and can(session, reader, Action.ASSESSMENT_READ, org):
            found = assessments.level_at(session, reader, org.id, rule.params["instrument"], today)
            if found is not None:
                levels[rule.params["instrument"]] = found.level.rank if found.level else None
    return rules_engine.Facts(
        ksic_code=org.ksic_code,
        size_class=org.size_class,
        region_code=org.region_code,
        founded_year=org.founded_year,
        on=today,
        supplier_tiers=tiers,
        level_ranks=levels,
        supported_years=supported_years(session, org.id),
    )


def supported_years(session: Session, organization_id: int) -> dict[str, list[int]]:
    """Program kind → the years the company had an agreement (cancelled ones do not count)."""
    rows = session.execute(
        select(Program.kind, Program.year)
        .join(Project, Project.program_id == Program.id)
        .where(Project.organization_id == organization_id, Project.status != P_CANCELLED)
    ).all()
    years: dict[str, list[int]] = {}
    for kind, year in rows:
        years.setdefault(kind, []).append(year)
    return years


def programs_of_organization(session: Session, organization_id: int) -> list[Program]:
    """The programs a company takes part in: it applied (beyond a draft) or holds an agreement."""
    applied = select(Application.program_id).where(
        Application.organization_id == organization_id, Application.status != A_DRAFT
    )
    agreed = select(Project.program_id).where(Project.organization_id == organization_id)
    return list(
        session.scalars(
            select(Program)
            .where(or_(Program.id.in_(applied), Program.id.in_(agreed)))
            .order_by(Program.year.desc(), Program.id.desc())
        )
    )


# --- the set-up form ----------

_SEOUL = ZoneInfo("Asia/Seoul")
LEVEL_INSTRUMENT = "smart-factory-level"


def ensure_can_create(session: Session, actor: Actor) -> None:
    assert_can(session, actor, Action.PROGRAM_CREATE)


def operator_orgs_for(session: Session, actor: Actor) -> list[Organization]:
    """The operating organizations the actor may run a program for."""
    stmt = (
        select(Organization).where(Organization.kind == "operator").order_by(Organization.name_ko)
    )
    if not actor.is_admin:
        stmt = stmt.where(Organization.id.in_(actor.org_ids(Role.OPERATOR)))
    return list(session.scalars(stmt))


def sponsor_choices(session: Session) -> list[Organization]:
    return list(
        session.scalars(
            select(Organization)
            .where(Organization.kind == "sponsor")
            .order_by(Organization.name_ko)
        )
    )


def score_sheets():
    return assessments.available_instruments("score_sheet")


def level_choices() -> list[tuple[int, str]]:
    instrument = assessments.get_instrument(LEVEL_INSTRUMENT)
    return [(level.rank, level.label.get(get_locale())) for level in instrument.levels]


def whole_or_none(text: str) -> int | None:
    return int(text) if re.fullmatch(r"[0-9]{1,12}", text or "") else None


def _whole(text: str):
    cleaned = (text or "").replace(",", "").strip()
    return int(cleaned) if re.fullmatch(r"-?[0-9]{1,18}", cleaned) else (cleaned or None)


def values_from_form(posted: dict) -> dict:
    """The set-up form's strings as the values ``create_program`` checks (bad ones pass through
    unconverted, so that the service names the field)."""
    try:
        opens_on = date.fromisoformat(posted["opens_on"])
    except ValueError:
        opens_on = None
    try:  # the form's deadline is Korean time
        closes_at = datetime.fromisoformat(posted["closes_at"]).replace(tzinfo=_SEOUL)
    except ValueError:
        closes_at = None
    sources = []
    for row in posted["sources"]:
        try:
            share = Decimal(row["share"].strip() or "x") / 100
        except InvalidOperation:
            share = "invalid"
        sources.append(
            {
                "code": row["code"].strip(),
                "name_ko": row["name_ko"].strip(),
                "share": share,
                "in_kind": row["in_kind"] == "in_kind",
            }
        )
    return {
        "name_ko": posted["name_ko"],
        "name_en": posted["name_en"],
        "year": _whole(posted["year"]),
        "kind": posted["kind"],
        "opens_on": opens_on,
        "closes_at": closes_at,
        "quota": _whole(posted["quota"]),
        "budget_krw": _whole(posted["budget_krw"]),
        "cap_per_company_krw": _whole(posted["cap_per_company_krw"]),
        "description": posted["description"],
        "sources": sources,
        "remainder_to": posted["remainder_to"].strip() or None,
        "score_sheet": posted["score_sheet"],
        "eligibility_rules": _rules_from_form(posted),
        "required_documents": [
            {"name_ko": line.strip(), "required": True}
            for line in posted["documents"].splitlines()
            if line.strip()
        ],
        "sponsor_ids": [int(i) for i in posted["sponsor_ids"] if re.fullmatch(r"[0-9]{1,12}", i)],
        "support_types": _support_types_from_form(posted.get("support_types", "")),
        "bonus_rules": _bonus_from_form(posted),
        "score_combination": posted.get("score_combination") or "trimmed",
        "reserve_size": _whole(posted.get("reserve_size", "5")),
        "follow_up_years": _whole(posted.get("follow_up_years", "3")),
        "objection_days": _whole(posted.get("objection_days", "7")),
    }


def _support_types_from_form(text: str) -> list:
    """One per line: ``code | name | cap in KRW`` (the cap may be left out)."""
    out: list = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        cap = _whole(parts[2]) if len(parts) > 2 and parts[2] else None
        out.append(
            {"code": parts[0], "name_ko": parts[1] if len(parts) > 1 else "", "cap_krw": cap}
        )
    return out


def _points(text: str):
    try:
        return float(text) if text.strip() else None
    except ValueError:
        return text


def _bonus_from_form(posted: dict) -> list[dict]:
    rules: list[dict] = []
    tier_points = _points(posted.get("bonus_tier_points", ""))
    if posted.get("bonus_tier_sponsor") and tier_points is not None:
        rules.append(
            {
                "rule": "supplier_tier",
                "sponsor": _whole(posted["bonus_tier_sponsor"]),
                "max": _whole(posted.get("bonus_tier_max") or "3"),
                "points": tier_points,
            }
        )
    region_points = _points(posted.get("bonus_region_points", ""))
    if posted.get("bonus_regions") and region_points is not None:
        rules.append(
            {"rule": "region", "in": list(posted["bonus_regions"]), "points": region_points}
        )
    return rules


def form_from_program(session: Session, program: Program) -> dict:
    """A stored program as the set-up form's strings (the edit form starts from these)."""
    rules = {r["rule"]: r for r in program.eligibility_rules or []}
    bonus = {r["rule"]: r for r in program.bonus_rules or []}
    closes = program.closes_at.astimezone(_SEOUL).strftime("%Y-%m-%dT%H:%M")
    return {
        "operator_org_id": str(program.operator_org_id),
        "name_ko": program.name_ko,
        "name_en": program.name_en or "",
        "year": str(program.year),
        "kind": program.kind,
        "opens_on": program.opens_on.isoformat(),
        "closes_at": closes,
        "quota": str(program.quota),
        "budget_krw": str(program.budget_krw),
        "cap_per_company_krw": str(program.cap_per_company_krw),
        "description": program.description,
        "remainder_to": program.remainder_to or "",
        "score_sheet": program.score_sheet,
        "sources": [
            {
                "code": s.code,
                "name_ko": s.name_ko,
                "share": f"{(Decimal(s.share) * 100).normalize():f}",
                "in_kind": "in_kind" if s.in_kind else "",
            }
            for s in sources(session, program)
        ],
        "rule_divisions": ", ".join(rules.get("ksic_division", {}).get("in", [])),
        "rule_sizes": rules.get("size_class", {}).get("in", []),
        "rule_regions": rules.get("region", {}).get("in", []),
        "rule_tier_sponsor": str(rules.get("supplier_tier", {}).get("sponsor", "")),
        "rule_tier_max": str(rules.get("supplier_tier", {}).get("max", "")),
        "rule_min_years": str(rules.get("years_since_founding", {}).get("min", "")),
        "rule_max_level": str(rules.get("diagnosed_level", {}).get("max_rank", "")),
        "rule_not_supported_years": str(rules.get("not_supported_recently", {}).get("years", "")),
        "documents": "\n".join(d["name_ko"] for d in program.required_documents or []),
        "sponsor_ids": [str(o.id) for o in sponsors(session, program)],
        "support_types": "\n".join(
            f"{t['code']} | {t['name_ko']} | {t.get('cap_krw') or ''}"
            for t in program.support_types or []
        ),
        "score_combination": program.score_combination,
        "reserve_size": str(program.reserve_size),
        "follow_up_years": str(program.follow_up_years),
        "objection_days": str(program.objection_days),
        "bonus_tier_sponsor": str(bonus.get("supplier_tier", {}).get("sponsor", "")),
        "bonus_tier_max": str(bonus.get("supplier_tier", {}).get("max", "")),
        "bonus_tier_points": str(bonus.get("supplier_tier", {}).get("points", "")),
        "bonus_regions": bonus.get("region", {}).get("in", []),
        "bonus_region_points": str(bonus.get("region", {}).get("points", "")),
    }


def _rules_from_form(posted: dict) -> list[dict]:
    rules: list[dict] = []
    if posted["rule_divisions"].strip():
        codes = []
        for token in re.split(r"[,\s]+", posted["rule_divisions"].strip()):
            parsed = reference.parse_ksic(token)
            codes.append(parsed[:2] if parsed else "")
        rules.append({"rule": "ksic_division", "in": codes if all(codes) else []})
    if posted["rule_sizes"]:
        rules.append({"rule": "size_class", "in": list(posted["rule_sizes"])})
    if posted["rule_regions"]:
        rules.append({"rule": "region", "in": list(posted["rule_regions"])})
    if posted["rule_tier_sponsor"]:
        rules.append(
            {
                "rule": "supplier_tier",
                "sponsor": _whole(posted["rule_tier_sponsor"]),
                "max": _whole(posted["rule_tier_max"] or "3"),
            }
        )
    if posted["rule_min_years"].strip():
        rules.append({"rule": "years_since_founding", "min": _whole(posted["rule_min_years"])})
    if posted.get("rule_not_supported_years", "").strip():
        rules.append(
            {
                "rule": "not_supported_recently",
                "kind": posted["kind"],
                "years": _whole(posted["rule_not_supported_years"]),
            }
        )
    if posted["rule_max_level"].strip():
        rules.append(
            {
                "rule": "diagnosed_level",
                "instrument": LEVEL_INSTRUMENT,
                "max_rank": _whole(posted["rule_max_level"]),
            }
        )
    return rules
