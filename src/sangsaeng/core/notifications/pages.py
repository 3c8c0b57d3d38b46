"""The inbox (every user) and the e-mail outbox (administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from sangsaeng.core.notifications import service
from sangsaeng.core.web.deps import CsrfChecked, CurrentActor, SessionDep
from sangsaeng.core.web.forms import safe_next, see_other
from sangsaeng.core.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/notifications")
def inbox(
    request: Request, db: SessionDep, actor: CurrentActor, page: Annotated[int, Query(ge=1)] = 1
):
    return render(
        request, "notifications/inbox.html", {"result": service.inbox(db, actor, page=page)}
    )


@router.post("/notifications/read", dependencies=[CsrfChecked])
def read_all(db: SessionDep, actor: CurrentActor):
    service.mark_read(db, actor)
    return see_other("/notifications")


@router.post("/notifications/{notification_id}/read", dependencies=[CsrfChecked])
def read_one(
    db: SessionDep, actor: CurrentActor, notification_id: int, next: str = "/notifications"
):
    service.mark_read(db, actor, notification_id)
    return see_other(safe_next(next, "/notifications"))


@router.get("/admin/outbox")
def outbox(
    request: Request, db: SessionDep, actor: CurrentActor, page: Annotated[int, Query(ge=1)] = 1
):
    result = service.outbox(db, actor, page=page)
    smtp = bool(request.app.state.settings.smtp_url)
    return render(request, "notifications/outbox.html", {"result": result, "smtp": smtp})
