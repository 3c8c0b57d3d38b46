"""One JSON error body ``{code, message, details}`` for the API; Korean error pages for the rest."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from sangsaeng.core.audit import service as audit
from sangsaeng.core.errors import InvalidInput, NotAuthenticated, SangsaengError
from sangsaeng.core.i18n import N_, Msg, gettext
from sangsaeng.core.web.templating import render

log = logging.getLogger("sangsaeng.web")

# Pydantic error types → our wording (pydantic's own messages are English only).
_VALIDATION_MESSAGES = {
    "missing": N_("This field is required."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "string_type": N_("Enter text."),
    "string_too_short": N_("This field is too short."),
    "string_too_long": N_("This field is too long."),
    "too_short": N_("Choose at least one."),
    "enum": N_("Choose one of the allowed values."),
    "literal_error": N_("Choose one of the allowed values."),
    "bool_parsing": N_("Enter true or false."),
    "json_invalid": N_("The request body is not valid JSON."),
    "model_attributes_type": N_("The request body must be a JSON object."),
    "dict_type": N_("The request body must be a JSON object."),
}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _details(details: object) -> object:
    if isinstance(details, dict):
        return {k: str(v) if isinstance(v, Msg) else v for k, v in details.items()}
    return details


def error_body(code: str, message: object, details: object = None) -> dict:
    return {"code": code, "message": str(message), "details": _details(details)}


def _status_page(request: Request, status: int, message: object) -> Response:
    titles = {
        401: Msg("Please sign in."),
        403: Msg("Access denied"),
        404: Msg("Page not found"),
        405: Msg("Method not allowed"),
        422: Msg("Please check your input."),
        429: Msg("Too many requests"),
        500: Msg("Server error"),
    }
    title = titles.get(status, Msg("Error"))
    return render(
        request, "error.html", {"status": status, "title": title, "message": message}, status
    )


def _log_denial(request: Request, exc: SangsaengError) -> None:
    actor = getattr(request.state, "actor", None)
    if exc.denial is None or actor is None:
        return
    audit.record_separately(
        request.app.state.session_factory,
        actor,
        "permission.denied",
        object_type=exc.denial["object_type"],
        object_id=exc.denial["object_id"],
        details={
            "action": exc.denial["action"],
            "method": request.method,
            "path": request.url.path,
        },
    )


async def handle_app_error(request: Request, exc: SangsaengError) -> Response:
    await run_in_threadpool(_log_denial, request, exc)
    if is_api(request):
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), exc.status_code, headers=headers
        )
    if isinstance(exc, NotAuthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    return _status_page(request, exc.status_code, exc.message)


async def handle_validation_error(request: Request, exc: RequestValidationError) -> Response:
    fields: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "form")]
        key = ".".join(loc) or "body"
        text = _VALIDATION_MESSAGES.get(error.get("type", ""), N_("This value is not valid."))
        fields.setdefault(key, gettext(text))
    invalid = InvalidInput({})
    if is_api(request):
        return JSONResponse(error_body(invalid.code, invalid.message, fields), 422)
    return _status_page(request, 422, invalid.message)


async def handle_http_error(request: Request, exc: StarletteHTTPException) -> Response:
    known = {
        404: ("not_found", Msg("The requested item was not found.")),
        405: ("method_not_allowed", Msg("This method is not allowed here.")),
    }
    code, message = known.get(
        exc.status_code, ("http_error", Msg("The request could not be processed."))
    )
    if is_api(request):
        return JSONResponse(error_body(code, message), exc.status_code, headers=exc.headers)
    return _status_page(request, exc.status_code, message)


async def handle_unstorable_input(request: Request, exc: Exception) -> Response:
    """Values the database cannot hold (a NUL character, a number beyond 64 bits) are bad input,
    not a server error; the request's transaction was rolled back."""
    log.warning(
        "input refused by the database on %s %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
    )
    message = Msg("The input contains characters or values that cannot be stored.")
    if is_api(request):
        return JSONResponse(error_body("invalid_input", message), 422)
    return _status_page(request, 422, message)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    message = Msg("An unexpected error occurred. Please try again later.")
    if is_api(request):
        return JSONResponse(error_body("internal_error", message), 500)
    return _status_page(request, 500, message)


def install(app: FastAPI) -> None:
    app.add_exception_handler(SangsaengError, handle_app_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(DataError, handle_unstorable_input)
    app.add_exception_handler(OverflowError, handle_unstorable_input)
    app.add_exception_handler(Exception, handle_unexpected)
