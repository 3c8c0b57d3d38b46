"""Program overview for its operators, and a sponsor's view of the programs it funds. Thin:
the figures come from ``dashboard_service``."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sangsaeng.assessments import service as assessments
from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import NotFound
from sangsaeng.core.exports import XLSX_MEDIA_TYPE, to_xlsx_sheets
from sangsaeng.core.i18n import Msg, get_locale, gettext
from sangsaeng.core.policy import Role
from sangsaeng.core.web.deps import CurrentActor, SessionDep
from sangsaeng.core.web.forms import spreadsheet_response
from sangsaeng.core.web.templating import render, seoul_time
from sangsaeng.programs import dashboard_service as dashboards
from sangsaeng.programs import service as programs
from sangsaeng.programs.models import Program

router = APIRouter(include_in_schema=False)

APPLICATION_STATUS = {
    "draft": Msg("Draft"),
    "submitted": Msg("Submitted, awaiting screening"),
    "screened_out": Msg("Screened out"),
    "review": Msg("Under evaluation"),
    "selected": Msg("Selected"),
    "reserve": Msg("Reserve list"),
    "rejected": Msg("Not selected"),
    "withdrawn": Msg("Withdrawn"),
}
PROJECT_STATUS = {
    "active": Msg("In progress"),
    "suspended": Msg("Suspended"),
    "cancelled": Msg("Cancelled"),
    "completed": Msg("Completed"),
}
MILESTONE_KIND = {
    "kickoff": Msg("Kickoff (착수)"),
    "midterm": Msg("Midterm check (중간점검)"),
    "completion": Msg("Completion (완료)"),
    "final": Msg("Final inspection (최종점검)"),
}
RULE_KIND = {
    "ksic_division": Msg("Industry"),
    "size_class": Msg("Size class"),
    "region": Msg("Region"),
    "supplier_tier": Msg("Supplier tier"),
    "years_since_founding": Msg("Years since founding"),
    "not_supported_recently": Msg("Earlier support"),
    "diagnosed_level": Msg("Diagnosed level"),
}
OVERDUE_KIND = {
    "milestone": Msg("Milestone"),
    "follow_up": Msg("Follow-up"),
    "objection": Msg("Objection unanswered"),
}


def _label(table: dict, key: str) -> str:
    return str(table.get(key, key))


FOLLOW_UP_KIND = {"kpi_report": Msg("KPI report"), "site_visit": Msg("Site visit")}


def overdue_item(item: dashboards.Overdue) -> str:
    """An overdue item in words: its agreement (or objection) and what is late."""
    if item.kind == "milestone":
        return f"{item.reference} {_label(MILESTONE_KIND, item.what)}"
    if item.kind == "follow_up":
        year = gettext("year {n}", n=item.year_no)
        return f"{item.reference} {_label(FOLLOW_UP_KIND, item.what)} ({year})"
    return item.reference


def _bar(chart_id: str, title: str, counts: dict[str, int]) -> dict:
    return {
        "id": chart_id,
        "type": "bar",
        "title": title,
        "x": list(counts),
        "y": list(counts.values()),
        "n": sum(counts.values()),
    }


@router.get("/programs/{program_id}")
def program_overview(request: Request, db: SessionDep, actor: CurrentActor, program_id: int):
    board = dashboards.overview(db, actor, program_id)
    instrument = assessments.get_instrument(programs.LEVEL_INSTRUMENT)
    level_names = {lv.id: lv.label.get(get_locale()) for lv in instrument.levels}
    charts = [
        _bar(
            "chart-applications",
            gettext("Applications by status"),
            {_label(APPLICATION_STATUS, k): v for k, v in board.applications_by_status.items()},
        ),
        _bar(
            "chart-projects",
            gettext("Projects by status"),
            {_label(PROJECT_STATUS, k): v for k, v in board.projects_by_status.items()},
        ),
    ]
    if board.level_distribution and board.level_distribution.n_assessed:
        charts.append(
            _bar(
                "chart-levels",
                gettext("Diagnosed levels of the applicants"),
                {level_names.get(k, k): v for k, v in board.level_distribution.counts.items()},
            )
        )
    charts = [c for c in charts if c["n"]]
    context = {
        "board": board,
        "program": board.program,
        "charts": charts,
        "application_status": lambda k: _label(APPLICATION_STATUS, k),
        "project_status": lambda k: _label(PROJECT_STATUS, k),
        "milestone_kind": lambda k: _label(MILESTONE_KIND, k),
        "rule_kind": lambda k: _label(RULE_KIND, k),
        "overdue_kind": lambda k: _label(OVERDUE_KIND, k),
        "overdue_item": overdue_item,
        "level_name": lambda k: level_names.get(k, k),
    }
    return render(request, "programs/overview.html", context)


def _logged(db, actor, action: str, program: Program, rows: int) -> None:
    # Every export of a program's figures is logged, as the applications export is.
    record(
        db,
        actor,
        action,
        object_type="program",
        object_id=program.id,
        organization_id=program.operator_org_id,
        details={"rows": rows},
    )


def _workbook(body: bytes, basename: str) -> Response:
    disposition = f'attachment; filename="{basename}.xlsx"'
    return Response(body, media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": disposition})


def _overdue_table(board: dashboards.Overview) -> tuple[list[str], list[list]]:
    headers = [gettext("Kind"), gettext("Overdue item"), gettext("Due"), gettext("Days late")]
    rows = [
        [_label(OVERDUE_KIND, o.kind), overdue_item(o), o.due_on.isoformat(), o.days_late]
        for o in board.overdue
    ]
    return headers, rows


@router.get("/programs/{program_id}/overdue.xlsx")
def overdue_export(db: SessionDep, actor: CurrentActor, program_id: int):
    """Every overdue item (the page shows the first 200)."""
    board = dashboards.overview(db, actor, program_id)
    headers, rows = _overdue_table(board)
    _logged(db, actor, "program.overdue.export", board.program, len(rows))
    name = f"overdue-{program_id}-{date.today().isoformat()}"
    return spreadsheet_response("xlsx", headers, rows, name)


def _counts(title: str, label: str, table: dict, counts: dict[str, int]) -> tuple:
    n = gettext("Count")
    return title, [label, n], [[_label(table, k), v] for k, v in counts.items()]


def _overview_sheets(board: dashboards.Overview) -> list[tuple[str, list[str], list[list]]]:
    """The overview's tables, one sheet each; every figure keeps its n."""
    change = board.level_change
    rate = board.selection_rate
    summary = [
        [gettext("Program"), board.program.name_ko],
        [gettext("As of (KST)"), seoul_time(board.as_of)],
        [gettext("Applications (drafts not counted)"), board.n_applications],
        [gettext("Drafts"), board.n_drafts],
        [gettext("Applications checked for eligibility"), board.n_checked],
        [gettext("Applications ranked"), board.n_ranked],
        [gettext("Applications selected"), board.n_selected],
        [gettext("Selection rate (%)"), round(rate * 100, 1) if rate is not None else None],
        [gettext("Projects"), sum(board.projects_by_status.values())],
        [gettext("Overdue items"), len(board.overdue)],
    ]
    return [
        (gettext("Summary"), [gettext("Figure"), gettext("Value")], summary),
        _counts(
            gettext("Applications by status"),
            gettext("Status"),
            APPLICATION_STATUS,
            board.applications_by_status,
        ),
        (
            gettext("Eligibility failures by rule"),
            [gettext("Rule"), gettext("Applications failing"), gettext("Applications checked")],
            [
                [_label(RULE_KIND, k), v, board.n_checked]
                for k, v in board.eligibility_failures.items()
            ],
        ),
        (
            gettext("Funds by source"),
            [
                gettext("Source"),
                gettext("In kind"),
                gettext("Contributed (KRW)"),
                gettext("Committed (KRW)"),
                gettext("Disbursed (KRW)"),
                gettext("Recovered (KRW)"),
                gettext("Free (KRW)"),
            ],
            [
                [
                    f.name,
                    gettext("Yes") if f.in_kind else gettext("No"),
                    f.contributed,
                    f.held,
                    f.disbursed,
                    f.recovered,
                    f.free,
                ]
                for f in board.funds
            ],
        ),
        (
            gettext("Contributions by sponsor"),
            [gettext("Sponsor"), gettext("Contributed (KRW)")],
            [[org.name_ko, amount] for org, amount in board.contributions_by_sponsor],
        ),
        _counts(
            gettext("Projects by status"),
            gettext("Status"),
            PROJECT_STATUS,
            board.projects_by_status,
        ),
        _counts(
            gettext("Active projects by stage"),
            gettext("Next milestone to approve"),
            MILESTONE_KIND,
            board.active_by_stage,
        ),
        (
            gettext("Level change"),
            [
                gettext("Completed projects with both diagnoses (n)"),
                gettext("Mean change of the overall score"),
                gettext("95% interval, low"),
                gettext("95% interval, high"),
                gettext("Moved up at least one level"),
                gettext("Method"),
            ],
            [
                [
                    board.n_level_pairs,
                    round(change.mean, 2) if change else None,
                    round(change.low, 2) if change and change.low is not None else None,
                    round(change.high, 2) if change and change.high is not None else None,
                    board.level_ups,
                    change.method if change else None,
                ]
            ],
        ),
    ]


@router.get("/programs/{program_id}/overview.xlsx")
def overview_export(db: SessionDep, actor: CurrentActor, program_id: int):
    board = dashboards.overview(db, actor, program_id)
    sheets = _overview_sheets(board)
    _logged(db, actor, "program.overview.export", board.program, len(sheets))
    name = f"overview-{program_id}-{date.today().isoformat()}"
    return _workbook(to_xlsx_sheets(sheets), name)


def _sponsor_views(db, actor) -> list:
    own = sorted(actor.org_ids(Role.SPONSOR))
    if not own and actor.is_admin:
        own = [o.id for o in programs.sponsor_choices(db)]
    if not own:
        raise NotFound()
    return [dashboards.sponsor_overview(db, actor, org_id) for org_id in own]


@router.get("/sponsor/programs")
def sponsor_programs(request: Request, db: SessionDep, actor: CurrentActor):
    """The programs the signed-in sponsor funds: its contributions and the companies reached."""
    return render(request, "programs/sponsor.html", {"views": _sponsor_views(db, actor)})


@router.get("/sponsor/programs.xlsx")
def sponsor_programs_export(db: SessionDep, actor: CurrentActor):
    headers = [
        gettext("Sponsor"),
        gettext("Program"),
        gettext("Program year"),
        gettext("Our contribution (KRW)"),
        gettext("Companies reached"),
        gettext("Tier 1"),
        gettext("Tier 2"),
        gettext("Tier 3+"),
        gettext("Outside"),
    ]
    rows = []
    for sponsor, funded in _sponsor_views(db, actor):
        for r in funded:
            tiers = [r.by_tier.get(t, 0) for t in ("1", "2", "3+", "-")]
            rows.append(
                [
                    sponsor.name_ko,
                    r.program.name_ko,
                    r.program.year,
                    r.contributed,
                    r.smes_reached,
                    *tiers,
                ]
            )
        record(
            db,
            actor,
            "sponsor.programs.export",
            object_type="organization",
            object_id=sponsor.id,
            organization_id=sponsor.id,
            details={"rows": len(funded)},
        )
    name = f"sponsor-programs-{date.today().isoformat()}"
    return spreadsheet_response("xlsx", headers, rows, name)
