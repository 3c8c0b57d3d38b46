"""The verification queue of a program: every KPI value its companies reported, for the
program's operators, filtered by status (reported by default), KPI, flagged values and company
name, oldest first so that nothing waits forever."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, String, cast, func, select
from sqlalchemy.orm import Session

from sangsaeng.core.errors import Forbidden, NotFound
from sangsaeng.core.models import Organization
from sangsaeng.core.pagination import Page, contains_pattern, paginate
from sangsaeng.core.policy import Actor
from sangsaeng.outcomes.models import REJECTED, REPORTED, VERIFIED, KpiMeasurement
from sangsaeng.programs import service as programs
from sangsaeng.programs.models import Program, Project

STATUSES = (REPORTED, VERIFIED, REJECTED)
EXPORT_LIMIT = 100_000  # rows in one spreadsheet at most


@dataclass(frozen=True)
class Filters:
    status: str | None = REPORTED  # None: every status
    kpi: str = ""
    flagged: bool = False
    company: str = ""


@dataclass(frozen=True)
class Row:
    measurement: KpiMeasurement
    company: str
    agreement_no: str


def managed_program(session: Session, actor: Actor, program_id: int) -> Program:
    program = programs.get_program(session, actor, program_id)
    if not programs.can_manage(session, actor, program):
        raise Forbidden()
    return program


def _statement(program_id: int, filters: Filters) -> Select:
    stmt = (
        select(KpiMeasurement)
        .join(Project, Project.id == KpiMeasurement.project_id)
        .where(Project.program_id == program_id)
    )
    if filters.status in STATUSES:
        stmt = stmt.where(KpiMeasurement.status == filters.status)
    if filters.kpi:
        stmt = stmt.where(KpiMeasurement.kpi_code == filters.kpi)
    if filters.flagged:
        # Flags are a JSON list; an empty one is stored as "[]".
        stmt = stmt.where(func.length(cast(KpiMeasurement.flags, String)) > 2)
    if filters.company.strip():
        like = contains_pattern(filters.company.strip())
        stmt = stmt.join(Organization, Organization.id == KpiMeasurement.organization_id).where(
            Organization.name_ko.ilike(like, escape="\\")
            | Organization.name_en.ilike(like, escape="\\")
        )
    return stmt.order_by(KpiMeasurement.reported_at, KpiMeasurement.id)


def _rows(session: Session, found: list[KpiMeasurement]) -> list[Row]:
    project_ids = {m.project_id for m in found}
    if not project_ids:
        return []
    named = session.execute(
        select(Project.id, Project.agreement_no, Organization.name_ko)
        .join(Organization, Organization.id == Project.organization_id)
        .where(Project.id.in_(project_ids))
    ).all()
    names = {pid: (agreement, company) for pid, agreement, company in named}
    return [Row(m, names[m.project_id][1], names[m.project_id][0]) for m in found]


def queue(
    session: Session,
    actor: Actor,
    program_id: int,
    filters: Filters,
    *,
    page: int = 1,
    per_page: int = 50,
) -> Page[Row]:
    """One page of the program's values matching ``filters``, for its managers only."""
    program = managed_program(session, actor, program_id)
    found = paginate(session, _statement(program.id, filters), page, per_page)
    return Page(_rows(session, found.items), found.total, found.page, found.per_page)


def all_rows(session: Session, actor: Actor, program_id: int, filters: Filters) -> list[Row]:
    """Every matching value (up to ``EXPORT_LIMIT``), for the spreadsheet."""
    program = managed_program(session, actor, program_id)
    found = list(session.scalars(_statement(program.id, filters).limit(EXPORT_LIMIT)))
    return _rows(session, found)


def measurement_in(session: Session, program_id: int, measurement_id: int) -> KpiMeasurement:
    """A value named under a program's address must be of one of that program's projects."""
    found = session.get(KpiMeasurement, measurement_id)
    if found is None:
        raise NotFound()
    program_of = session.scalar(select(Project.program_id).where(Project.id == found.project_id))
    if program_of != program_id:
        raise NotFound()
    return found
