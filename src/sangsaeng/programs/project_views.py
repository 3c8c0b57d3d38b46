"""Read models for the funds, projects and project pages and their JSON API: figures from the
ledger's read-only reports and the project service, shaped once for both. No rules live here:
every write goes through ``project_service``; reading checks who asks through the services."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sangsaeng.core.errors import Forbidden, InvalidInput, NotFound
from sangsaeng.core.files.models import StoredFile
from sangsaeng.core.i18n import Msg
from sangsaeng.core.models import Organization
from sangsaeng.core.policy import SYSTEM_ACTOR, Actor, Role
from sangsaeng.ledger import reports as ledger_reports
from sangsaeng.programs import application_service as applications
from sangsaeng.programs import dashboard_service as dashboards
from sangsaeng.programs import project_service as projects
from sangsaeng.programs import service as programs
from sangsaeng.programs.models import (
    M_APPROVED,
    P_ACTIVE,
    PROJECT_STATUSES,
    Application,
    BudgetChange,
    FollowUp,
    Milestone,
    Program,
    Project,
)

_SEOUL = ZoneInfo("Asia/Seoul")
RECENT_ENTRIES = 50
# How many of a program's ledger entries the page reads at most (newest first).
ENTRY_WINDOW = 5000


def today() -> date:
    return datetime.now(_SEOUL).date()


def managed_program(db: Session, actor: Actor, program_id: int) -> Program:
    """The program, for its managers (operators of its operating organization, admins)."""
    program = programs.get_program(db, actor, program_id)
    if not programs.can_manage(db, actor, program):
        raise Forbidden()
    return program


# --- amounts typed into forms -------------------------------------------------------------------

_KRW = re.compile(r"[0-9]{1,16}")


def parse_krw(text: str) -> int | None:
    """A whole won amount as typed: digits with optional thousands commas, spaces or a trailing
    원 ("1,000,000원"); ASCII digits only ("²".isdigit() is true, int("²") fails)."""
    cleaned = re.sub(r"[,\s]", "", (text or "").strip()).removesuffix("원")
    return int(cleaned) if _KRW.fullmatch(cleaned) else None


def parse_lines(text: str, field_name: str) -> dict[str, int] | None:
    """Cost lines typed one per line as ``name: amount``; ``None`` when the box is empty."""
    lines: dict[str, int] = {}
    for raw in (text or "").splitlines():
        if not raw.strip():
            continue
        name, sep, amount = raw.rpartition(":")
        value = parse_krw(amount) if sep else None
        if not name.strip() or value is None:
            raise InvalidInput({field_name: Msg('Write one cost line per line as "name: amount".')})
        name = name.strip()[:100]
        lines[name] = lines.get(name, 0) + value
    return lines or None


def lines_text(lines: dict[str, int] | None) -> str:
    return "\n".join(f"{name}: {amount:,}" for name, amount in (lines or {}).items())


# --- funds --------------------------------------------------------------------------------------


@dataclass
class SourceFigures:
    code: str
    name: str
    contributed: int = 0
    held: int = 0
    disbursed: int = 0
    recovered: int = 0
    reversed: int = 0
    balance: int = 0
    free: int = 0


_SUMMED = ("contributed", "held", "disbursed", "recovered", "reversed", "balance", "free")


@dataclass
class Funds:
    sources: list[SourceFigures]
    total: SourceFigures
    contributors: list[tuple[str, int | None, int]]  # (label, organization id, amount)
    entries: list  # (LedgerEntry, [(account code, amount)]), newest first
    entries_complete: bool


def _program_entries(db: Session, actor: Actor, program_id: int) -> tuple[list, bool]:
    """The program's own entries: every reference of a program's entry starts with
    ``program:<id>:`` (the colon keeps program 12 out of program 1's)."""
    found = ledger_reports.entries_for(db, actor, f"program:{program_id}:", limit=ENTRY_WINDOW)
    return found, len(found) < ENTRY_WINDOW


def funds_of(db: Session, actor: Actor, program: Program) -> Funds:
    """Per cash source of the program: contributed (출연, allocations, companies' deposits),
    held for agreements, disbursed to providers, recovered (환수), balance and free balance —
    the signed sums of the ledger postings on the program's fund accounts, by entry kind."""
    cash = [s for s in programs.sources(db, program) if not s.in_kind]
    rows = [
        SourceFigures(**{k: v for k, v in vars(f).items() if k != "in_kind"})
        for f in dashboards.fund_figures(db, program)
        if not f.in_kind
    ]
    total = SourceFigures(code="", name="")
    for row in rows:
        for name in _SUMMED:
            setattr(total, name, getattr(total, name) + getattr(row, name))
    entries, complete = _program_entries(db, actor, program.id)
    return Funds(rows, total, _contributors(db, program, cash, entries), entries, complete)


def _contributors(
    db: Session, program: Program, cash, entries
) -> list[tuple[str, int | None, int]]:
    """Who put the money in: each sponsor (its ``source:org:<id>`` account), the government
    and other allocations by source, and the companies' own cash shares together."""
    fund_codes = {projects.fund_code(program.id, s.code) for s in cash}
    source_names = {projects.source_code_for(s.code, None): s.name_ko for s in cash}
    sponsors = {o.id: o.name_ko for o in programs.sponsors(db, program)}
    sums: dict[tuple[str, int | None], int] = {}
    for entry, lines in entries:
        if entry.kind != "contribution" or not any(c in fund_codes for c, _a in lines):
            continue
        for code, amount in lines:
            if amount >= 0:
                continue
            key = _contributor_key(code, source_names, sponsors)
            sums[key] = sums.get(key, 0) - amount
    return sorted(((label, org, amount) for (label, org), amount in sums.items()), key=_by_amount)


def _by_amount(row: tuple[str, int | None, int]):
    return (-row[2], row[0])


_OWN_SHARES = Msg("Companies' own cash shares")


def _contributor_key(code: str, names: dict[str, str], sponsors: dict[int, str]):
    if code.startswith("source:org:"):
        org_id = int(code.rsplit(":", 1)[1])
        if org_id in sponsors:
            return (sponsors[org_id], org_id)
        return (str(_OWN_SHARES), None)
    return (names.get(code, code), None)


def contribution_choices(db: Session, program: Program) -> list[tuple[str, str]]:
    return [
        (s.code, s.name_ko)
        for s in programs.sources(db, program)
        if not s.in_kind and s.code != applications.SME_SOURCE
    ]


def entry_rows(entries) -> list[list]:
    """One spreadsheet row per posting, so every amount stands in its own cell."""
    rows = []
    for entry, lines in entries:
        for code, amount in lines:
            rows.append(
                [
                    entry.id,
                    entry.created_at.astimezone(_SEOUL).strftime("%Y-%m-%d %H:%M:%S"),
                    entry.kind,
                    code,
                    amount,
                    entry.reference,
                    entry.memo,
                ]
            )
    return rows


# --- projects of a program -----------------------------------------------------------------------


@dataclass
class ProjectRow:
    project: Project
    company: str
    provider: str
    paid: int
    held: int
    next_milestone: Milestone | None
    overdue: bool


def _paid_and_held(db: Session, found: list[Project]) -> dict[int, tuple[int, int]]:
    """Paid and still held per project from one read of all their holds (the same arithmetic
    as ``project_service.money_of``: paid = amount − remaining − released)."""
    ids = [h for p in found for h in (p.holds or {}).values()]
    holds = ledger_reports.holds(db, SYSTEM_ACTOR, ids)
    out = {}
    for p in found:
        mine = [holds[h] for h in (p.holds or {}).values() if h in holds]
        held = sum(h.remaining for h in mine)
        paid = sum(h.amount - h.remaining - h.released for h in mine)
        out[p.id] = (paid, held)
    return out


def _next_milestones(db: Session, project_ids: list[int]) -> dict[int, Milestone]:
    out: dict[int, Milestone] = {}
    if not project_ids:
        return out
    for m in db.scalars(
        select(Milestone)
        .where(Milestone.project_id.in_(project_ids), Milestone.status != M_APPROVED)
        .order_by(Milestone.project_id, Milestone.seq)
    ):
        out.setdefault(m.project_id, m)
    return out


def _org_names(db: Session, ids) -> dict[int, str]:
    ids = set(ids)
    if not ids:
        return {}
    rows = db.execute(select(Organization.id, Organization.name_ko).where(Organization.id.in_(ids)))
    return {org_id: name for org_id, name in rows}


def project_rows(db: Session, actor: Actor, program_id: int, status: str = "") -> list[ProjectRow]:
    found = projects.program_projects(db, actor, program_id)
    if status in PROJECT_STATUSES:
        found = [(p, org) for p, org in found if p.status == status]
    return _rows(db, [(p, org.name_ko) for p, org in found])


def _rows(db: Session, found: list[tuple[Project, str]]) -> list[ProjectRow]:
    """``found``: each project with its company's name."""
    plain = [p for p, _org in found]
    money = _paid_and_held(db, plain)
    upcoming = _next_milestones(db, [p.id for p in plain])
    providers = _org_names(db, (p.provider_org_id for p in plain))
    day = today()
    rows = []
    for p, company in found:
        nxt = upcoming.get(p.id)
        rows.append(
            ProjectRow(
                project=p,
                company=company,
                provider=providers.get(p.provider_org_id, ""),
                paid=money[p.id][0],
                held=money[p.id][1],
                next_milestone=nxt,
                overdue=p.status == P_ACTIVE and nxt is not None and nxt.due_on < day,
            )
        )
    return rows


def my_project_rows(db: Session, actor: Actor) -> list[tuple[ProjectRow, Program]]:
    found = projects.my_projects(db, actor)
    orgs = _org_names(db, (p.organization_id for p, _prog in found))
    rows = _rows(db, [(p, orgs.get(p.organization_id, "")) for p, _prog in found])
    return list(zip(rows, [prog for _p, prog in found], strict=True))


def project_export_rows(
    rows: list[ProjectRow], status_label, kind_label, overdue: str
) -> list[list]:
    """Spreadsheet rows in the reader's words (labels passed in by the page)."""
    out = []
    for r in rows:
        p, nxt = r.project, r.next_milestone
        out.append(
            [
                p.agreement_no,
                r.company,
                r.provider,
                status_label(p.status),
                p.total_krw,
                r.paid,
                r.held,
                kind_label(nxt.kind) if nxt else "",
                nxt.due_on.isoformat() if nxt else "",
                overdue if r.overdue else "",
                p.starts_on.isoformat(),
                p.ends_on.isoformat(),
            ]
        )
    return out


def unsigned(db: Session, actor: Actor, program: Program) -> list[tuple[Application, str]]:
    """Selected applications still without an agreement, with their company's name."""
    found = projects.selected_without_agreement(db, program.id)
    names = _org_names(db, (a.organization_id for a in found))
    return [(a, names.get(a.organization_id, "")) for a in found]


def application_in(db: Session, actor: Actor, program_id: int, application_id: int):
    """The application when the caller may read it and it belongs to this program."""
    application = applications.get_application(db, actor, application_id)
    if application.program_id != program_id:
        raise NotFound()
    return application


# --- one project ----------------------------------------------------------------------------------


@dataclass
class ProjectView:
    project: Project
    program: Program
    company: str
    provider: str
    money: projects.Money
    milestones: list[Milestone]
    inspections: list
    changes: list[BudgetChange]
    follow_ups: list[FollowUp]
    source_names: dict[str, str]
    files: dict[str, StoredFile] = field(default_factory=dict)
    is_company: bool = False
    is_manager: bool = False


def project_view(db: Session, actor: Actor, project_id: int) -> ProjectView:
    project = projects.get_project(db, actor, project_id)
    program = db.get(Program, project.program_id)
    milestones = projects.milestones(db, project.id)
    file_ids = [f for m in milestones for f in (m.deliverables or [])]
    stored = (
        {f.id: f for f in db.scalars(select(StoredFile).where(StoredFile.id.in_(file_ids)))}
        if file_ids
        else {}
    )
    names = _org_names(db, (project.organization_id, project.provider_org_id))
    return ProjectView(
        project=project,
        program=program,
        company=names.get(project.organization_id, ""),
        provider=names.get(project.provider_org_id, ""),
        money=projects.money_of(db, project),
        milestones=milestones,
        inspections=projects.inspections(db, project.id),
        changes=projects.budget_changes(db, project.id),
        follow_ups=projects.follow_ups(db, project.id),
        source_names={s.code: s.name_ko for s in programs.sources(db, program)},
        files=stored,
        is_company=project.organization_id in actor.org_ids(Role.SME, Role.SPONSOR, Role.OPERATOR),
        is_manager=programs.can_manage(db, actor, program),
    )


def milestone_in(db: Session, project_id: int, milestone_id: int) -> Milestone:
    """A milestone named under a project's address must be that project's."""
    found = db.get(Milestone, milestone_id)
    if found is None or found.project_id != project_id:
        raise NotFound()
    return found


def change_in(db: Session, project_id: int, change_id: int) -> BudgetChange:
    found = db.get(BudgetChange, change_id)
    if found is None or found.project_id != project_id:
        raise NotFound()
    return found


def follow_up_in(db: Session, project_id: int, follow_up_id: int) -> FollowUp:
    found = db.get(FollowUp, follow_up_id)
    if found is None or found.project_id != project_id:
        raise NotFound()
    return found
