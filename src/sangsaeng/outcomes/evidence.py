"""Evidence files of KPI values: stored through core files under the place ``kpi`` and readable
by those who may read the value they support — the project's company and its program's
operators (core lets members of the owning organization read a file; this adds the operators,
and the company for a file its program office uploaded)."""

from __future__ import annotations

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from sangsaeng.core.errors import NotFound
from sangsaeng.core.files import service as files
from sangsaeng.core.files.models import StoredFile
from sangsaeng.core.policy import Actor
from sangsaeng.outcomes.models import KpiMeasurement
from sangsaeng.outcomes.service import EVIDENCE_PLACE, is_company
from sangsaeng.programs import project_service as projects


def store(
    session: Session,
    actor: Actor,
    storage: files.LocalStorage,
    project,
    *,
    data: bytes,
    filename: str,
) -> StoredFile:
    """One uploaded evidence file of ``project``: the company files it under its own
    organization; the program office (which may not edit the company's profile) under none."""
    return files.store(
        session,
        actor,
        storage,
        data=data,
        filename=filename,
        place=EVIDENCE_PLACE,
        organization_id=project.organization_id if is_company(actor, project) else None,
    )


def _readable(session: Session, actor: Actor, stored: StoredFile) -> bool:
    stmt = select(KpiMeasurement.project_id).where(
        cast(KpiMeasurement.evidence, String).contains(stored.id)
    )
    if stored.organization_id is not None:
        stmt = stmt.where(KpiMeasurement.organization_id == stored.organization_id)
    for project_id in set(session.scalars(stmt)):
        try:
            projects.get_project(session, actor, project_id)
        except NotFound:
            continue
        return True
    return False


files.register_reader(EVIDENCE_PLACE, _readable)
