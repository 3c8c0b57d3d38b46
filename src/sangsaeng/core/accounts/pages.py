"""Login, logout, own profile, password, API tokens, admin user list and password resets."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request

from sangsaeng.core.accounts import service
from sangsaeng.core.errors import InvalidInput, NotFound, TooManyRequests
from sangsaeng.core.policy import Scope
from sangsaeng.core.web.deps import (
    LANG_COOKIE,
    SESSION_COOKIE,
    CsrfChecked,
    CurrentActor,
    OptionalActor,
    SessionDep,
    SettingsDep,
    client_ip,
    is_https,
)
from sangsaeng.core.web.forms import (
    field_errors,
    notice,
    safe_next,
    see_other,
    spreadsheet_response,
)
from sangsaeng.core.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_form(request: Request, actor: OptionalActor, next: str = "/", msg: str | None = None):
    if actor is not None:
        return see_other(safe_next(next))
    return render(request, "account/login.html", {"next": next, "notice": notice(msg)})


@router.post("/login", dependencies=[CsrfChecked])
def login_submit(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
):
    throttle = service.ThrottlePolicy(
        max_failures=settings.login_max_failures,
        window=timedelta(minutes=settings.login_window_minutes),
    )
    try:
        raw, _record, user = service.login(
            db,
            email=email,
            password=password,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent"),
            throttle=throttle,
            attempts=request.app.state.session_factory,
        )
    except (InvalidInput, TooManyRequests) as exc:
        status = exc.status_code if isinstance(exc, TooManyRequests) else 400
        context = {"next": next, "email": email, "error": str(exc.message)}
        return render(request, "account/login.html", context, status)
    response = see_other(safe_next(next))
    secure = is_https(request, settings)
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=settings.session_absolute_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        LANG_COOKIE, user.locale, max_age=365 * 86400, samesite="lax", secure=secure
    )
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, db: SessionDep):
    if raw := request.cookies.get(SESSION_COOKIE):
        service.logout(db, raw)
    response = see_other("/login?msg=logged_out")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _profile(request: Request, db, actor, **extra):
    status = extra.pop("status", 200)
    user = service.get_user(db, actor)
    memberships = service.own_memberships(db, actor)
    context = {"user": user, "memberships": memberships, **extra}
    return render(request, "account/profile.html", context, status)


@router.get("/me")
def profile(request: Request, db: SessionDep, actor: CurrentActor, msg: str | None = None):
    return _profile(request, db, actor, notice=notice(msg))


@router.post("/me", dependencies=[CsrfChecked])
def profile_update(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    name: Annotated[str, Form()] = "",
    locale: Annotated[str, Form()] = "ko",
):
    try:
        user = service.update_profile(db, actor, name=name, locale=locale)
    except InvalidInput as exc:
        return _profile(request, db, actor, errors=field_errors(exc), status=422)
    response = see_other("/me?msg=saved")
    response.set_cookie(LANG_COOKIE, user.locale, max_age=365 * 86400, samesite="lax")
    return response


@router.post("/me/password", dependencies=[CsrfChecked])
def password_change(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
):
    try:
        service.change_password(db, actor, current=current_password, new=new_password)
    except InvalidInput as exc:
        return _profile(request, db, actor, errors=field_errors(exc), status=422)
    return see_other("/me?msg=password_changed")


def _tokens(request: Request, db, actor, **extra):
    status = extra.pop("status", 200)
    tokens = service.list_tokens(db, actor)
    context = {
        "tokens": tokens,
        "scopes": list(Scope),
        "token_scopes": service.token_scopes,
        **extra,
    }
    return render(request, "account/tokens.html", context, status)


@router.get("/me/tokens")
def tokens(request: Request, db: SessionDep, actor: CurrentActor, msg: str | None = None):
    return _tokens(request, db, actor, notice=notice(msg))


@router.post("/me/tokens", dependencies=[CsrfChecked])
def token_create(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    name: Annotated[str, Form()] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
):
    try:
        raw, token = service.create_token(db, actor, name=name, scopes=scopes or [])
    except InvalidInput as exc:
        return _tokens(request, db, actor, errors=field_errors(exc), status=422)
    return _tokens(request, db, actor, created=raw, created_name=token.name)


@router.post("/me/tokens/{token_id}/revoke", dependencies=[CsrfChecked])
def token_revoke(db: SessionDep, actor: CurrentActor, token_id: int):
    service.revoke_token(db, actor, token_id)
    return see_other("/me/tokens?msg=token_revoked")


@router.get("/admin/users")
def admin_users(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    q: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
):
    users, total = service.list_users(db, actor, query=q, page=page)
    context = {"users": users, "total": total, "q": q, "page": page}
    return render(request, "account/admin_users.html", context)


@router.get("/admin/users/export.{fmt}")
def admin_users_export(db: SessionDep, actor: CurrentActor, fmt: str, q: str = ""):
    if fmt not in ("csv", "xlsx"):
        raise NotFound()
    headers, rows = service.export_users(db, actor, query=q)
    return spreadsheet_response(fmt, headers, rows, f"users-{date.today().isoformat()}")


@router.post("/admin/users/{user_id}/reset-link", dependencies=[CsrfChecked])
def admin_reset_link(
    request: Request, db: SessionDep, settings: SettingsDep, actor: CurrentActor, user_id: int
):
    raw, reset = service.issue_password_reset(
        db, actor, user_id=user_id, valid_for=timedelta(hours=settings.password_reset_hours)
    )
    users, total = service.list_users(db, actor)
    link = str(request.url_for("reset_form", token=raw))
    context = {
        "users": users,
        "total": total,
        "q": "",
        "page": 1,
        "reset_link": link,
        "reset_user_id": user_id,
        "reset_expires": reset.expires_at,
    }
    return render(request, "account/admin_users.html", context)


@router.get("/reset/{token}", name="reset_form")
def reset_form(request: Request, db: SessionDep, token: str):
    _reset, user = service.find_password_reset(db, token)
    return render(request, "account/reset.html", {"token": token, "email": user.email})


@router.post("/reset/{token}", dependencies=[CsrfChecked])
def reset_submit(
    request: Request, db: SessionDep, token: str, new_password: Annotated[str, Form()] = ""
):
    try:
        service.complete_password_reset(db, token, new_password=new_password)
    except InvalidInput as exc:
        _reset, user = service.find_password_reset(db, token)
        context = {"token": token, "email": user.email, "errors": field_errors(exc)}
        return render(request, "account/reset.html", context, 422)
    response = see_other("/login?msg=password_reset")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
