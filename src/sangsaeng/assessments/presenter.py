"""Shapes service results for the assessment pages and downloads (no rules here)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sangsaeng.assessments import service
from sangsaeng.assessments.engine import roadmap
from sangsaeng.assessments.engine.instrument import Instrument, Text
from sangsaeng.assessments.models import PLAN_STATUSES, STATUSES, Assessment, PlanAction
from sangsaeng.core import reference
from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import Forbidden
from sangsaeng.core.i18n import N_, Msg, get_locale
from sangsaeng.core.models import Organization
from sangsaeng.core.policy import Action, Actor, can
from sangsaeng.core.reports import svg_radar

STATUS_LABELS = {
    "draft": Msg("Draft"),
    "submitted": Msg("Submitted result"),
    "verified": Msg("Verified on site"),
}
PLAN_STATUS_LABELS = {
    "todo": Msg("To do"),
    "doing": Msg("In progress"),
    "done": Msg("Done"),
    "dropped": Msg("Dropped"),
}
KIND_LABELS = {
    "diagnosis": Msg("Diagnosis"),
    "evaluation": Msg("Evaluation"),
    "certification": Msg("Certification"),
    "score_sheet": Msg("Score sheet"),
    "survey": Msg("Supplier survey"),
}
SELF_COLOUR, VERIFIED_COLOUR, PREVIOUS_COLOUR = "#1f5fa8", "#c0392b", "#7f8c8d"


def t(text: Text | None) -> str:
    return text.get(get_locale()) if text else ""


def common(instrument: Instrument | None = None) -> dict:
    return {
        "t": t,
        "status_label": lambda s: str(STATUS_LABELS.get(s, s)),
        "plan_status_label": lambda s: str(PLAN_STATUS_LABELS.get(s, s)),
        "kind_label_of": lambda k: str(KIND_LABELS.get(k, k)),
        "quarter_label": quarter_label,
        "kpi_names": lambda codes: ", ".join(reference.kpi_name(c) for c in codes),
        "tie_break_label": lambda name: tie_break_label(instrument, name) if instrument else "",
        "instrument": instrument,
    }


def tie_break_label(instrument: Instrument, name: str | None) -> str:
    if not name:
        return ""
    if name == "submitted_at":
        return str(Msg("Earlier submission"))
    if name == "key":
        return str(Msg("Registration order"))
    dim = next((d for d in instrument.dimensions if d.id == name), None)
    return str(Msg("Higher {dimension} score", dimension=t(dim.title))) if dim else name


def quarter_label(start: int | None) -> str:
    if start is None:
        return str(Msg("Beyond the plan"))
    year, quarter = roadmap.year_quarter(start)
    return str(Msg("Year {year} Q{quarter}", year=year, quarter=quarter))


def list_context(db: Session, actor: Actor, result, filters) -> dict:
    orgs = db.query(Organization).filter(Organization.id.in_(actor.org_ids())).all()
    startable = []
    for org in sorted(orgs, key=lambda o: o.name_ko):
        offered = service.startable_instruments(db, actor, org)
        if offered:
            startable.append((org, offered, service.rateable_buyers(db, org.id)))
    names = service.organization_names(
        db,
        {a.organization_id for a in result.items}
        | {a.about_organization_id for a in result.items if a.about_organization_id},
    )
    instruments = service.available_instruments()
    return {
        **common(),
        "result": result,
        "filters": filters,
        "startable": startable,
        "names": names,
        "instruments": instruments,
        "titles": {i.id: t(i.title) for i in instruments},
        "statuses": STATUSES,
        "rankings": [i for i in instruments if i.kind == "certification"]
        if can(db, actor, Action.ASSESSMENTS_MANAGE)
        else [],
        "errors": {},
    }


def answers_from_form(form) -> tuple[dict[str, str], dict[str, str]]:
    answers = {k[2:]: str(v) for k, v in form.items() if k.startswith("a.")}
    comments = {k[2:]: str(v) for k, v in form.items() if k.startswith("c.")}
    return answers, comments


def _value_text(value) -> str:
    if value is None:
        return ""
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


def form_context(db: Session, actor: Actor, assessment, posted=None, errors=None) -> dict:
    instrument = service.instrument_of(db, assessment)
    values = {k: _value_text(v) for k, v in assessment.answers.items()}
    if posted:
        values.update(posted)
    return {
        **common(instrument),
        "assessment": assessment,
        "organization": db.get(Organization, assessment.organization_id),
        "values": values,
        "comments": assessment.comments,
        "evidence": assessment.evidence,
        "errors": errors or {},
        "answered": sum(1 for i in instrument.items if values.get(i.id)),
        "answerable": sum(1 for i in instrument.items if i.respondent == "self"),
    }


def result_context(db: Session, actor: Actor, assessment_id: int) -> dict:
    view = service.result_view(db, actor, assessment_id)
    instrument = view.instrument
    can_edit = service.can_write(db, actor, view.assessment) and view.assessment.status != "draft"
    previous = [h for h in view.history if h.assessed_on < view.assessment.assessed_on]
    charts = []
    show_radar = len(instrument.dimensions) >= 3  # a radar needs three axes; fewer: a table
    if show_radar:
        charts.append(
            _radar_chart(view, previous[-1].assessment_id if previous else None, db, actor)
        )
    if len(view.history) > 1:
        charts.append(
            {
                "id": "chart-history",
                "type": "line",
                "x": [h.assessed_on.isoformat() for h in view.history],
                "y": [h.overall for h in view.history],
                "name": str(Msg("Overall score")),
            }
        )
    return {
        **common(instrument),
        "view": view,
        "charts": charts,
        "show_radar": show_radar,
        "plan_titles": {p.id: service.plan_title(instrument, p) for p in view.plan},
        "plan_milestones": {p.id: t(service.plan_milestone(instrument, p)) for p in view.plan},
        "plan_years": list(range(1, instrument.plan_years + 1)),
        "plan_statuses": PLAN_STATUSES,
        "members": service.members(db, view.assessment.organization_id) if can_edit else [],
        "can_edit_plan": can_edit,
        "can_verify": view.assessment.status == "submitted"
        and instrument.verification != "none"
        and service.can_verify(db, actor, view.assessment),
        "can_assign": instrument.verification != "none"
        and view.assessment.status == "submitted"
        and can(db, actor, Action.ASSESSMENTS_MANAGE),
        "dimension_titles": {d.id: t(d.title) for d in instrument.dimensions},
        "item_of": instrument.item,
        "evidence": service.evidence_files(db, actor, view.assessment),
        "plan_errors": {},
        "errors": {},
    }


def _radar_chart(view, previous_id, db, actor) -> dict:
    labels = [t(d.title) for d in view.instrument.dimensions]
    series = [
        {
            "name": str(Msg("Self-assessment")),
            "values": [d.score for d in view.result.dimensions],
            "colour": SELF_COLOUR,
        }
    ]
    if view.verified is not None:
        series.append(
            {
                "name": str(Msg("On-site verification")),
                "values": [d.score for d in view.verified.dimensions],
                "colour": VERIFIED_COLOUR,
            }
        )
    if previous_id is not None:
        # Already in the history the caller may see (an assigned assessor included).
        earlier = db.get(Assessment, previous_id)
        if (
            earlier.dimension_scores
            and earlier.instrument_version == view.assessment.instrument_version
        ):
            series.append(
                {
                    "name": str(Msg("Previous ({date})", date=earlier.assessed_on.isoformat())),
                    "values": [
                        earlier.dimension_scores.get(d.id, 0.0) for d in view.instrument.dimensions
                    ],
                    "colour": PREVIOUS_COLOUR,
                }
            )
    return {"id": "chart-radar", "type": "radar", "labels": labels, "series": series}


def radar_svg(view) -> str:
    labels = [t(d.title) for d in view.instrument.dimensions]
    series = [("self", [d.score for d in view.result.dimensions], SELF_COLOUR)]
    if view.verified is not None:
        series.append(("verified", [d.score for d in view.verified.dimensions], VERIFIED_COLOUR))
    return svg_radar(labels, series)


def verify_context(db: Session, actor: Actor, assessment_id: int, posted=None, errors=None) -> dict:
    view = service.result_view(db, actor, assessment_id)
    if not service.can_verify(db, actor, view.assessment):
        raise Forbidden()
    source = view.assessment.verified_answers or view.assessment.answers
    values = {k: _value_text(v) for k, v in source.items()}
    if posted:
        values.update(posted)
    return {**common(view.instrument), "view": view, "values": values, "errors": errors or {}}


def simulate_context(instrument, answers, result, errors, survey=None) -> dict:
    return {
        **common(instrument),
        "values": answers,
        "survey_values": survey or {},
        "result": result,
        "errors": errors,
        "dimension_titles": {d.id: t(d.title) for d in instrument.dimensions},
        "item_of": instrument.item,
    }


def assessment_of_action(db: Session, plan_action_id: int) -> int:
    action = db.get(PlanAction, plan_action_id)
    return action.assessment_id if action else 0


def export_rows(db: Session, actor: Actor, filters) -> tuple[list[str], list[list]]:
    rows = service.export_assessments(db, actor, filters)
    names = service.organization_names(db, {a.organization_id for a in rows})
    headers = [
        str(Msg(h))
        for h in (
            N_("ID"),
            N_("Organization"),
            N_("Instrument"),
            N_("Version"),
            N_("Date"),
            N_("Status"),
            N_("Score"),
            N_("Level"),
            N_("Verified score"),
            N_("Verified level"),
        )
    ]
    titles = {i.id: t(i.title) for i in service.available_instruments()}
    body = [
        [
            a.id,
            names.get(a.organization_id, ""),
            titles.get(a.instrument_id, a.instrument_id),
            a.instrument_version,
            a.assessed_on.isoformat(),
            str(STATUS_LABELS[a.status]),
            a.overall,
            a.level_id or "",
            a.verified_overall,
            a.verified_level_id or "",
        ]
        for a in rows
    ]
    return headers, body


def result_rows(db: Session, actor: Actor, assessment_id: int) -> tuple[list[str], list[list]]:
    """Item by item: answer, points, and the assessor's answer beside it."""
    view = service.result_view(db, actor, assessment_id)
    record(
        db,
        actor,
        "assessment.export",
        object_type="assessment",
        object_id=assessment_id,
        organization_id=view.assessment.organization_id,
    )
    headers = [
        str(Msg(h))
        for h in (
            N_("Dimension"),
            N_("Item"),
            N_("Question"),
            N_("Answer"),
            N_("Points"),
            N_("Maximum"),
            N_("Assessor's answer"),
            N_("Assessor's points"),
        )
    ]
    rows: list[list] = []
    verified = {i.item_id: i for i in view.verified.items} if view.verified else {}
    for item_result in view.result.items:
        item = view.instrument.item(item_result.item_id)
        dim = view.instrument.dimension_of(item.id)
        v = verified.get(item.id)
        rows.append(
            [
                t(dim.title),
                item.id,
                t(item.question),
                t(item_result.label) or _value_text(item_result.answer),
                item_result.points,
                item_result.max_points,
                (t(v.label) or _value_text(v.answer)) if v else "",
                v.points if v else "",
            ]
        )
    for d in view.result.dimensions:
        rows.append(
            [
                t(d.title),
                "",
                str(Msg("Dimension score")),
                t(d.grade.label) if d.grade else "",
                d.score,
                100,
                "",
                "",
            ]
        )
    rows.append(
        [
            "",
            "",
            str(Msg("Overall score")),
            t(view.result.level.label) if view.result.level else "",
            view.result.overall,
            100,
            t(view.verified.level.label) if view.verified and view.verified.level else "",
            view.verified.overall if view.verified else "",
        ]
    )
    if view.plan:
        rows.append([])
        rows.append(
            [
                str(Msg("Action plan")),
                "",
                str(Msg("Action item")),
                str(Msg("When")),
                str(Msg("KPIs it moves")),
                str(Msg("Status")),
                str(Msg("Note")),
                "",
            ]
        )
        dimension_titles = {d.id: t(d.title) for d in view.instrument.dimensions}
        for p in view.plan:
            rows.append(
                [
                    dimension_titles.get(p.dimension_id, p.dimension_id),
                    p.action_id,
                    service.plan_title(view.instrument, p),
                    quarter_label(p.start),
                    ", ".join(reference.kpi_name(c) for c in p.kpis),
                    str(PLAN_STATUS_LABELS.get(p.status, p.status)),
                    p.note,
                    "",
                ]
            )
    return headers, rows


def log_download(db: Session, actor: Actor, assessment) -> None:
    record(
        db,
        actor,
        "assessment.report",
        object_type="assessment",
        object_id=assessment.id,
        organization_id=assessment.organization_id,
    )
