"""Shell pages: health check, dashboard, language switch, API documentation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from sangsaeng.core import i18n
from sangsaeng.core.accounts import service as accounts
from sangsaeng.core.web import dashboard
from sangsaeng.core.web.deps import (
    LANG_COOKIE,
    CsrfChecked,
    CurrentActor,
    OptionalActor,
    SessionDep,
    SettingsDep,
)
from sangsaeng.core.web.forms import safe_next, see_other
from sangsaeng.core.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz(db: SessionDep):
    db.execute(text("SELECT 1"))
    return JSONResponse({"status": "ok"})


@router.get("/")
def home(request: Request, db: SessionDep, settings: SettingsDep, actor: CurrentActor):
    board = dashboard.build(db, actor, cache_seconds=settings.dashboard_cache_seconds)
    context = {"board": board, "cache_seconds": int(settings.dashboard_cache_seconds)}
    return render(request, "dashboard.html", context)


@router.post("/lang", dependencies=[CsrfChecked])
def switch_language(
    db: SessionDep,
    actor: OptionalActor,
    locale: Annotated[str, Form()] = "ko",
    next: Annotated[str, Form()] = "/",
):
    response = see_other(safe_next(next))
    chosen = i18n.normalize_locale(locale) or i18n.DEFAULT_LOCALE
    if actor is not None:
        accounts.set_locale(db, actor, chosen)
    response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/api/docs")
def api_docs(request: Request):
    return render(request, "api_docs.html", {"openapi_url": request.app.openapi_url})
