"""Read models of the KPI pages and their API: a project's KPIs with their targets, values,
sources, statuses, flags and evidence, the comparison with the program, and the program's
verification queue. No rules live here: reading and writing go through the services."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sangsaeng.core import reference
from sangsaeng.core.errors import InvalidInput, NotFound
from sangsaeng.core.files.models import StoredFile
from sangsaeng.core.i18n import Msg, gettext
from sangsaeng.core.models import Organization, User
from sangsaeng.core.policy import Actor
from sangsaeng.core.reference.catalogue import kpi_catalogue
from sangsaeng.outcomes import comparison as comparisons
from sangsaeng.outcomes import service
from sangsaeng.outcomes.models import SOURCES, STAGES, KpiMeasurement
from sangsaeng.programs import project_service as projects
from sangsaeng.programs import service as programs
from sangsaeng.programs.models import Application, FollowUp, Program, Project

_SEOUL = ZoneInfo("Asia/Seoul")

STAGE_LABELS = {
    "baseline": Msg("Baseline (before the project)"),
    "completion": Msg("Completion"),
    "follow_up": Msg("Follow-up"),
}
SOURCE_LABELS = {
    "self": Msg("Self-reported"),
    "auto": Msg("Auto-measured"),
    "imported": Msg("Administrative data"),
}
STATUS_LABELS = {
    "reported": Msg("Reported"),
    "verified": Msg("Verified"),
    "rejected": Msg("Rejected with a reason"),
}
CATEGORY_LABELS = {
    "operations": Msg("Process and quality"),
    "business": Msg("Business results"),
    "input": Msg("Inputs for valuing the financial effect"),
}
CATEGORY_ORDER = ("operations", "business", "input")


def stage_text(stage: str, year_no: int | None) -> str:
    if stage == "follow_up" and year_no:
        return gettext("Follow-up year {n}", n=year_no)
    return str(STAGE_LABELS.get(stage, stage))


def format_value(value: float | None) -> str:
    """A value as people read it: thousands separated, no float noise (3.2, not 3.2000001)."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    text = f"{value:,.4f}".rstrip("0").rstrip(".")
    return text


def improvement_text(kind: str, value: float | None, unit: str) -> str:
    """A relative improvement as a percentage, a difference in the KPI's unit; the sign says
    better (+) or worse (−) whatever the KPI's direction."""
    if value is None:
        return "—"
    if kind == "relative":
        return f"{value * 100:+.1f} %"
    sign = "+" if value >= 0 else "−"
    return f"{sign}{format_value(abs(value))} {unit}"


def flag_texts(flags: list) -> list[str]:
    out = []
    for item in flags or []:
        msgid, params = (item[0], item[1]) if len(item) == 2 else (str(item), {})
        out.append(gettext(msgid, **(params or {})))
    return out


def kpi_label(kpi: reference.Kpi) -> str:
    return f"{kpi.name} ({kpi.unit})"


# --- one project ----------------------------------------------------------------------------------


@dataclass
class ValueRow:
    m: KpiMeasurement
    stage: str
    flags: list[str]
    evidence: list[tuple[str, str]]  # (file id, name)
    reporter: str
    decider: str


@dataclass
class KpiBlock:
    kpi: reference.Kpi
    target: dict | None  # {baseline, target} from the application
    rows: list[ValueRow]
    comparison: comparisons.KpiComparison | None = None


@dataclass
class Group:
    category: str
    title: str
    blocks: list[KpiBlock]


@dataclass
class ProjectKpis:
    project: Project
    program: Program
    company: str
    is_company: bool
    is_manager: bool
    groups: list[Group]
    open_follow_ups: list[FollowUp]
    method: str
    min_others: int = comparisons.MIN_OTHERS
    catalogue: dict[str, reference.Kpi] = field(default_factory=dict)


def _names(session: Session, user_ids) -> dict[int, str]:
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def _files(session: Session, file_ids) -> dict[str, str]:
    ids = {i for i in file_ids if i}
    if not ids:
        return {}
    found = session.execute(
        select(StoredFile.id, StoredFile.original_name).where(StoredFile.id.in_(ids))
    )
    return dict(found.all())


def value_rows(
    session: Session, found: list[KpiMeasurement], *, with_flags: bool
) -> list[ValueRow]:
    users = _names(session, [m.reported_by_id for m in found] + [m.decided_by_id for m in found])
    files = _files(session, [f for m in found for f in (m.evidence or [])])
    return [
        ValueRow(
            m=m,
            stage=stage_text(m.stage, m.year_no),
            flags=flag_texts(m.flags) if with_flags else [],
            evidence=[(f, files.get(f, f)) for f in (m.evidence or [])],
            reporter=users.get(m.reported_by_id, "—"),
            decider=users.get(m.decided_by_id, ""),
        )
        for m in found
    ]


def project_kpis(session: Session, actor: Actor, project_id: int) -> ProjectKpis:
    found = service.measurements_of(session, actor, project_id)  # checks who asks
    project = projects.get_project(session, actor, project_id)
    program = session.get(Program, project.program_id)
    manager = programs.can_manage(session, actor, program)
    catalogue = kpi_catalogue(session)
    targets = {
        item.get("code"): item
        for item in session.scalar(
            select(Application.target_kpis).where(Application.id == project.application_id)
        )
        or []
        if isinstance(item, dict)
    }
    compared = {c.code: c for c in comparisons.company_comparison(session, actor, project_id)}
    rows = value_rows(session, found, with_flags=manager)
    # Targets first, then every other KPI with values, then the inputs — each KPI once.
    codes = list(
        dict.fromkeys(
            [
                *targets,
                *(r.m.kpi_code for r in rows),
                *(c for c, k in catalogue.items() if k.category == "input"),
            ]
        )
    )
    blocks: dict[str, list[KpiBlock]] = {c: [] for c in CATEGORY_ORDER}
    for code in codes:
        kpi = catalogue.get(code)
        if kpi is None:  # a code no longer catalogued still shows its values
            kpi = reference.Kpi(code, code, code, "", "higher", None, None)
        blocks.setdefault(kpi.category, []).append(
            KpiBlock(
                kpi=kpi,
                target=targets.get(code),
                rows=[r for r in rows if r.m.kpi_code == code],
                comparison=compared.get(code),
            )
        )
    groups = [
        Group(c, str(CATEGORY_LABELS.get(c, c)), blocks[c])
        for c in [*CATEGORY_ORDER, *(k for k in blocks if k not in CATEGORY_ORDER)]
        if blocks.get(c)
    ]
    company = session.scalar(
        select(Organization.name_ko).where(Organization.id == project.organization_id)
    )
    open_follow_ups = [
        f
        for f in projects.follow_ups(session, project.id)
        if f.kind == service.KPI_REPORT and f.done_at is None
    ]
    return ProjectKpis(
        project=project,
        program=program,
        company=company or "",
        is_company=service.is_company(actor, project),
        is_manager=manager,
        groups=groups,
        open_follow_ups=open_follow_ups,
        method=gettext(comparisons.METHOD, min_n=comparisons.MIN_OTHERS),
        catalogue=catalogue,
    )


def measurement_in(session: Session, project_id: int, measurement_id: int) -> KpiMeasurement:
    """A value named under a project's address must be that project's."""
    found = session.get(KpiMeasurement, measurement_id)
    if found is None or found.project_id != project_id:
        raise NotFound()
    return found


def kpi_options(catalogue: dict[str, reference.Kpi]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The catalogue as (group title, [(code, "name (unit)")]) for a select with groups."""
    out = []
    for category in CATEGORY_ORDER:
        items = [(k.code, kpi_label(k)) for k in catalogue.values() if k.category == category]
        if items:
            out.append((str(CATEGORY_LABELS[category]), items))
    return out


def stage_options() -> list[tuple[str, str]]:
    return [(s, str(STAGE_LABELS[s])) for s in STAGES]


def source_options() -> list[tuple[str, str]]:
    return [(s, str(SOURCE_LABELS[s])) for s in SOURCES if s != "auto"]


# --- the form -------------------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(text: str) -> float | None:
    """A number as typed: thousands commas and spaces allowed; never NaN or infinite."""
    cleaned = re.sub(r"[,\s]", "", (text or "").strip())
    if not _NUMBER.match(cleaned):
        return None
    value = float(cleaned)
    return value if math.isfinite(value) else None


def parse_period(values: dict[str, str]) -> tuple[date, date]:
    """The form's period; InvalidInput naming each date that cannot be read."""
    errors: dict[str, Msg] = {}
    dates = {}
    for name in ("period_start", "period_end"):
        try:
            dates[name] = date.fromisoformat(values.get(name, "").strip())
        except ValueError:
            errors[name] = Msg("Enter a date.")
    if errors:
        raise InvalidInput(errors)
    return dates["period_start"], dates["period_end"]


def parse_dataset_id(text: str) -> int | None:
    """The dataset an auto-measured value was measured from; blank: the newest covering it."""
    text = (text or "").strip()
    if not text:
        return None
    if not (text.isdecimal() and text.isascii() and len(text) < 12):
        raise InvalidInput({"dataset_id": Msg("Choose a listed value.")})
    return int(text)


def parse_report(values: dict[str, str], evidence: tuple[str, ...] = ()) -> service.Report:
    """The form's text as a ``Report``; InvalidInput with every field that cannot be read."""
    errors: dict[str, Msg] = {}
    kpi = values.get("kpi_code", "").strip()
    if not kpi:
        errors["kpi_code"] = Msg("Choose KPIs from the catalogue.")
    stage = values.get("stage", "").strip()
    if stage not in STAGES:
        errors["stage"] = Msg("Choose a listed value.")
    year_no = None
    if stage == "follow_up":
        text = values.get("year_no", "").strip()
        year_no = int(text) if text.isdecimal() and text.isascii() else None
        if year_no is None or year_no < 1 or year_no > 50:
            errors["year_no"] = Msg("Enter a whole number of at least 1.")
    dates = {}
    for name in ("period_start", "period_end"):
        try:
            dates[name] = date.fromisoformat(values.get(name, "").strip())
        except ValueError:
            errors[name] = Msg("Enter a date.")
    value = parse_number(values.get("value", ""))
    if value is None:
        errors["value"] = Msg("Enter a number.")
    unit = values.get("unit", "").strip()
    if not unit:
        errors["unit"] = Msg("Enter the unit.")
    if errors:
        raise InvalidInput(errors)
    return service.Report(
        kpi_code=kpi,
        stage=stage,
        period_start=dates["period_start"],
        period_end=dates["period_end"],
        value=value,
        unit=unit,
        year_no=year_no,
        source=values.get("source", "").strip() or "self",
        evidence=evidence,
    )


# --- the program's queue --------------------------------------------------------------------------


def seoul(moment) -> str:
    return moment.astimezone(_SEOUL).strftime("%Y-%m-%d %H:%M") if moment else ""


EXPORT_HEADERS = (
    "Company",
    "Agreement no.",
    "KPI",
    "KPI code",
    "Stage",
    "Period start",
    "Period end",
    "Value",
    "Unit",
    "Source",
    "Status",
    "Reason for rejection",
    "Flags",
    "Evidence files",
    "Reported by",
    "Reported (KST)",
    "Decided (KST)",
)


def export_rows(session: Session, rows) -> list[list]:
    """Spreadsheet rows in the reader's words; values stay numbers, dates ISO, times KST."""
    shown = value_rows(session, [r.measurement for r in rows], with_flags=True)
    catalogue = kpi_catalogue(session)
    out = []
    for row, view in zip(rows, shown, strict=True):
        m = row.measurement
        kpi = catalogue.get(m.kpi_code)
        out.append(
            [
                row.company,
                row.agreement_no,
                kpi.name if kpi else m.kpi_code,
                m.kpi_code,
                view.stage,
                m.period_start.isoformat(),
                m.period_end.isoformat(),
                m.value,
                m.unit,
                str(SOURCE_LABELS.get(m.source, m.source)),
                str(STATUS_LABELS.get(m.status, m.status)),
                m.rejection_reason,
                " / ".join(view.flags),
                ", ".join(name for _id, name in view.evidence),
                view.reporter,
                seoul(m.reported_at),
                seoul(m.decided_at),
            ]
        )
    return out
