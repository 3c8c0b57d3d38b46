"""The audit log for administrators: filtered list and downloads (CSV, xlsx)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request

from sangsaeng.core.audit import service
from sangsaeng.core.errors import NotFound
from sangsaeng.core.web.deps import CurrentActor, SessionDep
from sangsaeng.core.web.forms import spreadsheet_response
from sangsaeng.core.web.templating import render, seoul_time

router = APIRouter(include_in_schema=False)
_SEOUL = ZoneInfo("Asia/Seoul")
EXPORT_HEADERS = (
    "id",
    "at_kst",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "organization_id",
    "ip",
    "details",
)


def _filters(action: str, email: str, since: date | None, until: date | None):
    def start_of(day: date | None) -> datetime | None:
        return datetime.combine(day, time.min, _SEOUL) if day else None

    return service.AuditFilters(
        action=action.strip(),
        actor_email=email,
        since=start_of(since),
        until=start_of(until + timedelta(days=1)) if until else None,
    )


@router.get("/admin/audit")
def audit_list(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    action: str = "",
    email: str = "",
    since: date | None = None,
    until: date | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
):
    result = service.list_events(db, actor, _filters(action, email, since, until), page=page)
    query = {"action": action, "email": email, "since": since or "", "until": until or ""}
    context = {"result": result, "query": query, "details_text": service.details_text}
    return render(request, "audit/list.html", context)


@router.get("/admin/audit/export.{fmt}")
def audit_export(
    db: SessionDep,
    actor: CurrentActor,
    fmt: str,
    action: str = "",
    email: str = "",
    since: date | None = None,
    until: date | None = None,
):
    if fmt not in ("csv", "xlsx"):
        raise NotFound()
    events = service.export_events(db, actor, _filters(action, email, since, until))
    rows = [
        (
            e.id,
            seoul_time(e.at),
            e.actor_email,
            e.action,
            e.object_type,
            e.object_id,
            e.organization_id,
            e.ip,
            service.details_text(e.details),
        )
        for e in events
    ]
    return spreadsheet_response(fmt, EXPORT_HEADERS, rows, f"audit-{date.today().isoformat()}")
