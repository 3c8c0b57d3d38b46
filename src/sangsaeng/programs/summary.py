"""One line per program with its counts, for ``sangsaeng programs list``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sangsaeng.core.policy import Actor
from sangsaeng.programs import service as programs
from sangsaeng.programs.models import A_SELECTED, PROJECT_STATUSES, Application, Project


@dataclass(frozen=True)
class ProgramSummary:
    id: int
    name: str
    year: int
    kind: str
    status: str
    applications: int  # every application, drafts included
    submitted: int  # applications that were submitted (whatever became of them since)
    selected: int
    projects: dict[str, int]  # every project status → count

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "year": self.year,
            "kind": self.kind,
            "status": self.status,
            "applications": self.applications,
            "submitted": self.submitted,
            "selected": self.selected,
            "projects": self.projects,
        }


def summaries(session: Session, actor: Actor) -> list[ProgramSummary]:
    """The programs the actor runs (all of them for administrators and the system), newest
    year first, each with three grouped counting queries in all."""
    listed = programs.list_programs(session, actor)
    ids = [p.id for p in listed]
    by_status: dict[int, dict[str, int]] = {}
    submitted: dict[int, int] = {}
    projects: dict[int, dict[str, int]] = {}
    if ids:
        for program_id, status, n in session.execute(
            select(Application.program_id, Application.status, func.count())
            .where(Application.program_id.in_(ids))
            .group_by(Application.program_id, Application.status)
        ):
            by_status.setdefault(program_id, {})[status] = n
        submitted = dict(
            session.execute(
                select(Application.program_id, func.count())
                .where(Application.program_id.in_(ids), Application.submitted_at.is_not(None))
                .group_by(Application.program_id)
            ).all()
        )
        for program_id, status, n in session.execute(
            select(Project.program_id, Project.status, func.count())
            .where(Project.program_id.in_(ids))
            .group_by(Project.program_id, Project.status)
        ):
            projects.setdefault(program_id, {})[status] = n
    return [
        ProgramSummary(
            id=p.id,
            name=p.name_ko,
            year=p.year,
            kind=p.kind,
            status=p.status,
            applications=sum(by_status.get(p.id, {}).values()),
            submitted=submitted.get(p.id, 0),
            selected=by_status.get(p.id, {}).get(A_SELECTED, 0),
            projects={s: projects.get(p.id, {}).get(s, 0) for s in PROJECT_STATUSES},
        )
        for p in listed
    ]
