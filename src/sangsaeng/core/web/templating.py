"""Jinja2 templates with the translation and formatting helpers every page uses."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from sangsaeng import __version__
from sangsaeng.core import reference
from sangsaeng.core.i18n import SUPPORTED_LOCALES, Msg, get_locale, gettext
from sangsaeng.core.ids import format_business_no
from sangsaeng.core.money import format_krw
from sangsaeng.core.web.deps import expected_csrf_token

TEMPLATE_DIRS: list[Path] = [Path(__file__).parent / "templates"]


def register_template_dir(path: Path) -> None:
    """Domain modules add their ``templates/`` folder here."""
    if path not in TEMPLATE_DIRS:
        TEMPLATE_DIRS.append(path)


def _json_script(value: Any) -> Markup:
    """JSON safe to embed in <script type="application/json"> (no '</script>' breakout)."""
    text = json.dumps(value, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above


_ROLE_LABELS = {
    "operator": Msg("Operator"),
    "sponsor": Msg("Sponsor"),
    "sme": Msg("SME"),
    "adviser": Msg("Adviser"),
    "evaluator": Msg("Evaluator"),
    "admin": Msg("Administrator"),
}
_KIND_LABELS = {
    "sme": Msg("SME"),
    "sponsor": Msg("Sponsor (large company / public enterprise)"),
    "operator": Msg("Program operator"),
    "other": Msg("Other"),
}


_JOB_STATUS_LABELS = {
    "queued": Msg("Waiting"),
    "running": Msg("Running"),
    "succeeded": Msg("Done"),
    "failed": Msg("Failed"),
}


def job_status_label(status: str) -> str:
    return str(_JOB_STATUS_LABELS.get(status, status))


def role_label(role: str) -> str:
    return str(_ROLE_LABELS.get(role, role))


def kind_label(kind: str) -> str:
    return str(_KIND_LABELS.get(kind, kind))


_SEOUL = ZoneInfo("Asia/Seoul")


def seoul_time(moment: datetime) -> str:
    return moment.astimezone(_SEOUL).strftime("%Y-%m-%d %H:%M:%S")


def nav_own_org(actor) -> int | None:
    """The organization an SME or sponsor user works for (the first, if several)."""
    owned = sorted(org for org, role in actor.memberships if role in ("sme", "sponsor"))
    return owned[0] if owned else None


def _number(value: int | float | None) -> str:
    return "—" if value is None else f"{value:,}"


def build_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=[str(p) for p in TEMPLATE_DIRS])
    env = templates.env
    # Templates ship with the package: no stat() of every template file on every render.
    env.auto_reload = False
    env.globals.update(
        _=gettext,
        get_locale=get_locale,
        locales=SUPPORTED_LOCALES,
        format_krw=format_krw,
        format_business_no=format_business_no,
        ksic_label=reference.ksic_label,
        region=reference.region,
        size_class=reference.size_class,
        json_script=_json_script,
        number=_number,
        role_label=role_label,
        job_status_label=job_status_label,
        nav_own_org=nav_own_org,
        seoul_time=seoul_time,
        kind_label=kind_label,
        version=__version__,
    )
    return templates


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
):
    templates: Jinja2Templates = request.app.state.templates
    ctx = {
        "actor": getattr(request.state, "actor", None),
        "csrf_token": expected_csrf_token(request),
        "unread": getattr(request.state, "unread", 0),
        "path": request.url.path,
        "full_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
