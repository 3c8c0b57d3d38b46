"""Small helpers for server-rendered forms: field errors, safe redirects, notices."""

from __future__ import annotations

from fastapi.responses import RedirectResponse, Response

from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.exports import XLSX_MEDIA_TYPE, to_csv, to_xlsx
from sangsaeng.core.i18n import Msg

# Notices shown after a redirect, by key, so no user text travels in the URL.
NOTICES = {
    "saved": Msg("Saved."),
    "password_changed": Msg("Your password has been changed."),
    "password_reset": Msg("Your password has been reset. Please sign in."),
    "logged_out": Msg("You have been signed out."),
    "token_revoked": Msg("The token has been revoked."),
    "link_declared": Msg(
        "The link has been registered. It counts once the other organization confirms it."
    ),
    "link_confirmed": Msg("The link has been confirmed."),
    "link_removed": Msg("The link has been removed."),
}


def choice(value: object, allowed: tuple[str, ...]) -> str:
    """The submitted value when it is one of ``allowed``, else the first (the default)."""
    text = str(value or "")
    return text if text in allowed else allowed[0]


def int_or_none(value: object) -> int | None:
    """A submitted id: digits only (and not absurdly long), else None."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def mapping_fields(fields) -> dict[str, int]:
    """``map_<column>=<index>`` fields of a form or a query: the user's column mapping."""
    return {
        key.removeprefix("map_"): int(str(value))
        for key, value in fields
        if key.startswith("map_") and str(value).lstrip("-").isdigit() and len(str(value)) < 6
    }


def field_errors(exc: InvalidInput) -> dict[str, str]:
    return {field: str(message) for field, message in exc.fields.items()}


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths, so a login link cannot send users elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def notice(key: str | None) -> str | None:
    message = NOTICES.get(key or "")
    return str(message) if message else None


def spreadsheet_response(fmt: str, headers, rows, basename: str) -> Response:
    """A download of ``rows`` as .xlsx or as CSV for Korean Excel (UTF-8 with BOM)."""
    if fmt == "xlsx":
        body, media = to_xlsx(headers, rows), XLSX_MEDIA_TYPE
    else:
        body, media = to_csv(headers, rows), "text/csv; charset=utf-8"
    disposition = f'attachment; filename="{basename}.{fmt}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})
