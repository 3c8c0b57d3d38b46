"""JSON API of the audit log (administrators)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from sangsaeng.core.audit import service
from sangsaeng.core.web.deps import CurrentActor, SessionDep

router = APIRouter(prefix="/api/v1", tags=["audit"])


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_user_id: int | None
    actor_email: str | None
    action: str
    object_type: str | None
    object_id: str | None
    organization_id: int | None
    ip: str | None
    details: dict | None


class AuditPageOut(BaseModel):
    items: list[AuditEventOut]
    total: int
    page: int
    per_page: int


@router.get("/audit", response_model=AuditPageOut)
def list_audit_events(
    db: SessionDep,
    actor: CurrentActor,
    action: str = "",
    actor_email: str = "",
    object_type: str = "",
    object_id: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
):
    filters = service.AuditFilters(
        action=action,
        actor_email=actor_email,
        object_type=object_type,
        object_id=object_id,
        since=since,
        until=until,
    )
    result = service.list_events(db, actor, filters, page=page, per_page=per_page)
    return AuditPageOut(
        items=result.items, total=result.total, page=result.page, per_page=result.per_page
    )
