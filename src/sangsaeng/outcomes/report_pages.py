"""The program performance report (성과보고서) as a page, an Excel workbook and a PDF to hand
out. Thin: the figures come from ``report_service``, their presentation from ``report_views``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from jinja2 import Environment
from sqlalchemy.orm import Session

from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.exports import XLSX_MEDIA_TYPE, to_xlsx_sheets
from sangsaeng.core.i18n import Msg
from sangsaeng.core.policy import Actor
from sangsaeng.core.reports import html_to_pdf
from sangsaeng.core.web.deps import CurrentActor, SessionDep
from sangsaeng.core.web.templating import register_template_dir, render
from sangsaeng.outcomes import report_service, report_views
from sangsaeng.outcomes.engine.summary import BOOTSTRAP_RESAMPLES
from sangsaeng.programs.service import whole_or_none

register_template_dir(Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)

PDF_TEMPLATE = "outcomes/report_pdf.html"


def _sponsor(text: str) -> int | None:
    if not text:
        return None
    found = whole_or_none(text)
    if found is None:
        raise InvalidInput({"sponsor": Msg("Choose a listed value.")})
    return found


def report_view(
    db: Session,
    actor: Actor,
    program_id: int,
    *,
    after: str = "latest",
    sponsor_id: int | None = None,
    page: int = 1,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> report_views.ReportView:
    result = report_service.program_report(
        db, actor, program_id, sponsor_id=sponsor_id, after=after, resamples=resamples, seed=seed
    )
    return report_views.build(db, actor, result, resamples=resamples, seed=seed, page=page)


def xlsx_bytes(view: report_views.ReportView) -> bytes:
    return to_xlsx_sheets(report_views.sheets(view))


def pdf_bytes(env: Environment, view: report_views.ReportView) -> bytes:
    """The 성과보고서 as PDF: the template rendered with static SVG charts (no scripts)."""
    html = env.get_template(PDF_TEMPLATE).render(
        {"view": view, "svg": report_views.pdf_charts(view), **report_views.helpers()}
    )
    return html_to_pdf(html)


def _logged(db: Session, actor: Actor, view: report_views.ReportView, kind: str) -> None:
    program = view.program
    record(
        db,
        actor,
        "outcomes.report.export",
        object_type="program",
        object_id=program.id,
        organization_id=program.operator_org_id,
        details={
            "format": kind,
            "after": view.result.after,
            "sponsor": view.result.sponsor.id if view.result.sponsor else None,
            "companies": len(view.result.companies),
        },
    )


def _basename(view: report_views.ReportView) -> str:
    scope = f"-sponsor-{view.result.sponsor.id}" if view.result.sponsor else ""
    return f"outcomes-{view.program.id}{scope}-{view.result.after}-{date.today().isoformat()}"


@router.get("/programs/{program_id}/outcomes")
def report_page(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    program_id: int,
    after: str = "latest",
    sponsor: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
):
    view = report_view(db, actor, program_id, after=after, sponsor_id=_sponsor(sponsor), page=page)
    context = {
        **report_views.helpers(),
        "view": view,
        "program": view.program,
        "charts": report_views.charts(view),
        "query": urlencode({"after": view.result.after, "sponsor": sponsor}),
    }
    return render(request, "outcomes/report.html", context)


@router.get("/programs/{program_id}/outcomes.xlsx")
def report_xlsx(
    db: SessionDep, actor: CurrentActor, program_id: int, after: str = "latest", sponsor: str = ""
):
    view = report_view(db, actor, program_id, after=after, sponsor_id=_sponsor(sponsor))
    body = xlsx_bytes(view)
    _logged(db, actor, view, "xlsx")
    disposition = f'attachment; filename="{_basename(view)}.xlsx"'
    return Response(body, media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": disposition})


@router.get("/programs/{program_id}/outcomes.pdf")
def report_pdf(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    program_id: int,
    after: str = "latest",
    sponsor: str = "",
):
    view = report_view(db, actor, program_id, after=after, sponsor_id=_sponsor(sponsor))
    body = pdf_bytes(request.app.state.templates.env, view)
    _logged(db, actor, view, "pdf")
    disposition = f'attachment; filename="{_basename(view)}.pdf"'
    return Response(
        body, media_type="application/pdf", headers={"Content-Disposition": disposition}
    )
