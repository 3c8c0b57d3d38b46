"""FastAPI dependencies: one database session per request (committed once, here), the actor."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from sangsaeng.core.accounts import service as accounts
from sangsaeng.core.errors import CsrfFailed, NotAuthenticated
from sangsaeng.core.policy import Actor
from sangsaeng.settings import Settings

SESSION_COOKIE = "ss_session"
ANON_CSRF_COOKIE = "ss_csrf"
LANG_COOKIE = "ss_lang"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# Dependencies that do no I/O are async: FastAPI runs sync ones in the thread pool, a hop each.
async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


_READ_METHODS = frozenset({"GET", "HEAD"})


def get_db(request: Request) -> Iterator[Session]:
    """Services flush; the request commits once when the route returned without error.

    GET requests change nothing but bookkeeping (a session's last-seen time), so they run in
    autocommit: each statement is its own transaction, as under READ COMMITTED anyway, and the
    BEGIN and COMMIT round trips are saved on the most frequent requests.
    """
    if request.method in _READ_METHODS:
        session = request.app.state.read_session_factory()
    else:
        session = request.app.state.session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_db, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def session_policy(settings: Settings) -> accounts.SessionPolicy:
    return accounts.SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_absolute_hours),
    )


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def expected_csrf_token(request: Request) -> str:
    # A plain string, not the ORM row: a rolled-back request expires its rows.
    if token := getattr(request.state, "session_csrf", None):
        return token
    return request.scope.get("state", {}).get("anon_csrf", "")


def check_csrf_value(request: Request, supplied: str | None) -> None:
    expected = expected_csrf_token(request)
    if not expected or not supplied or not hmac.compare_digest(expected, supplied):
        raise CsrfFailed()


def get_optional_actor(request: Request, db: SessionDep, settings: SettingsDep) -> Actor | None:
    """The signed-in actor from a bearer token or the session cookie, or ``None``."""
    if hasattr(request.state, "actor"):
        return request.state.actor
    actor: Actor | None = None
    if token := _bearer(request):
        actor = accounts.resolve_api_token(db, token)
        if actor is None:
            raise NotAuthenticated()
    elif raw := request.cookies.get(SESSION_COOKIE):
        found = accounts.resolve_session(db, raw, session_policy(settings))
        if found is not None:
            record, actor, unread = found
            request.state.session_csrf = record.csrf_token
            request.state.unread = unread
            # Cookie-authenticated API writes need the CSRF header; forms check their own field.
            if request.url.path.startswith("/api/") and request.method in _UNSAFE:
                check_csrf_value(request, request.headers.get(CSRF_HEADER))
    request.state.actor = actor
    return actor


OptionalActor = Annotated[Actor | None, Depends(get_optional_actor)]


async def get_actor(actor: OptionalActor) -> Actor:
    if actor is None:
        raise NotAuthenticated()
    return actor


CurrentActor = Annotated[Actor, Depends(get_actor)]


async def verify_form_csrf(request: Request, _actor: OptionalActor) -> None:
    """Every state-changing form (and htmx request) carries the CSRF token."""
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    check_csrf_value(request, supplied)


CsrfChecked = Depends(verify_form_csrf)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def is_https(request: Request, settings: Settings) -> bool:
    if settings.cookie_secure == "true":
        return True
    if settings.cookie_secure == "false":
        return False
    return request.url.scheme == "https"
