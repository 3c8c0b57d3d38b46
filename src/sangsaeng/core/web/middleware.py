"""Pure ASGI middleware: the request's language, security headers, the anonymous CSRF cookie.

Pure ASGI (not BaseHTTPMiddleware) so the locale context variable reaches the route's thread.
"""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sangsaeng.core import i18n
from sangsaeng.core.audit.service import client_ip
from sangsaeng.core.web.deps import ANON_CSRF_COOKIE, LANG_COOKIE

# The one inline style allowed: the map library's CSS that the vendored Plotly bundle injects when
# it loads (hash of that exact text; it changes only when Plotly is re-vendored).
_PLOTLY_MAPLIBRE_CSS = "'sha256-V2sIX92Uh6ZaGSFTKMHghsB85b9toJtmazgG09AI2uk='"
CSP = (
    "default-src 'self'; script-src 'self'; "
    f"style-src 'self' {_PLOTLY_MAPLIBRE_CSS}; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI sets inline styles on its elements; its page alone allows them.
CSP_API_DOCS = CSP.replace(
    f"style-src 'self' {_PLOTLY_MAPLIBRE_CSS}", "style-src 'self' 'unsafe-inline'"
)


def _cookies(scope: Scope) -> dict[str, str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar = SimpleCookie()
            jar.load(value.decode("latin-1"))
            return {k: m.value for k, m in jar.items()}
    return {}


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return value.decode("latin-1")
    return None


def choose_locale(scope: Scope, cookies: dict[str, str]) -> str:
    """Cookie choice first; the API also honours Accept-Language; pages default to Korean."""
    query = scope.get("query_string", b"").decode("latin-1")
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == "lang" and (code := i18n.normalize_locale(value)):
            return code
    if code := i18n.normalize_locale(cookies.get(LANG_COOKIE)):
        return code
    accept = _header(scope, b"accept-language")
    if scope["path"].startswith("/api/") and (code := i18n.locale_from_accept_language(accept)):
        return code
    return i18n.DEFAULT_LOCALE


class WebShellMiddleware:
    """``on_error`` renders unexpected errors here, inside, so even a 500 gets the headers."""

    def __init__(self, app: ASGIApp, on_error=None) -> None:
        self.app = app
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        state = scope.setdefault("state", {})
        new_anon_csrf = None
        if ANON_CSRF_COOKIE in cookies:
            state["anon_csrf"] = cookies[ANON_CSRF_COOKIE]
        else:
            new_anon_csrf = state["anon_csrf"] = secrets.token_urlsafe(32)
        https = scope.get("scheme") == "https"
        api_docs = scope["path"] == "/api/docs"

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Content-Security-Policy", CSP_API_DOCS if api_docs else CSP)
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if https:
                    headers.setdefault(
                        "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
                    )
                content_type = headers.get("content-type", "")
                if content_type.startswith("text/html"):
                    headers.setdefault("Cache-Control", "no-store")
                if new_anon_csrf and content_type.startswith("text/html"):
                    flags = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if https else "")
                    headers.append("Set-Cookie", f"{ANON_CSRF_COOKIE}={new_anon_csrf}; {flags}")
            await send(message)

        token = i18n.set_locale(choose_locale(scope, cookies))
        client = scope.get("client")
        ip_token = client_ip.set(client[0] if client else None)
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            if started or self.on_error is None:
                raise
            response = await self.on_error(Request(scope, receive), exc)
            await response(scope, receive, send_with_headers)
        finally:
            i18n.reset_locale(token)
            client_ip.reset(ip_token)
