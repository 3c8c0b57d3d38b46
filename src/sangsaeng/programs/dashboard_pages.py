"""Program overview for its operators, and a sponsor's view of the programs it funds. Thin:
the figures come from ``dashboard_service``."""

from __future__ import annotations

from fastapi import APIRouter, Request

from sangsaeng.assessments import service as assessments
from sangsaeng.core.errors import NotFound
from sangsaeng.core.i18n import Msg, get_locale, gettext
from sangsaeng.core.policy import Role
from sangsaeng.core.web.deps import CurrentActor, SessionDep
from sangsaeng.core.web.templating import render
from sangsaeng.programs import dashboard_service as dashboards
from sangsaeng.programs import service as programs

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
        "level_name": lambda k: level_names.get(k, k),
    }
    return render(request, "programs/overview.html", context)


@router.get("/sponsor/programs")
def sponsor_programs(request: Request, db: SessionDep, actor: CurrentActor):
    """The programs the signed-in sponsor funds: its contributions and the companies reached."""
    own = sorted(actor.org_ids(Role.SPONSOR))
    if not own and actor.is_admin:
        own = [o.id for o in programs.sponsor_choices(db)]
    if not own:
        raise NotFound()
    views = [dashboards.sponsor_overview(db, actor, org_id) for org_id in own]
    return render(request, "programs/sponsor.html", {"views": views})
