"""Import of KPI sheets (CP949/UTF-8 CSV or .xlsx) into a program's projects.

Each row is one value of one project: 협약번호 (or 사업자등록번호 when the company has a single
project in the program), 성과지표, 단계, 연차, 기간 시작, 기간 종료, 값, 단위, 증빙. Every row goes
through ``service.prepare`` — the same check as the form and the API — with the project's stored
values plus the file's rows before it as the standing values, so a file may carry a KPI's
baseline and its completion value at once, and a jump against the previous value is flagged.
Rows are checked in the order a company reports them (baselines, then completion, then
follow-up years; earlier periods first), whatever their order in the file.

Two modes, stated in the result: ``all`` (any bad row and nothing is written) or ``good`` (the
good rows are written, each bad one is listed with its row number and the file's own header).
The service only flushes: the caller's one transaction commits or rolls back the whole import.

Who imports: the program's operators, for any of its projects, with the source "self" (sheets
collected from companies) or "imported" (administrative data); a company, for its own projects
only (a row of another company is refused like an unknown one) and always as "self".
"""

from __future__ import annotations

import math
import re
from bisect import insort
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from sangsaeng.core import reference
from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import InvalidInput, NotFound
from sangsaeng.core.files import service as files
from sangsaeng.core.i18n import Msg, get_locale, gettext
from sangsaeng.core.ids import normalize_business_no
from sangsaeng.core.imports import reader
from sangsaeng.core.imports.mapping import Column, auto_map
from sangsaeng.core.imports.reader import Table
from sangsaeng.core.imports.service import RowError
from sangsaeng.core.jobs.service import Reporter, register_kind
from sangsaeng.core.models import Organization
from sangsaeng.core.policy import Actor
from sangsaeng.outcomes import service as outcomes
from sangsaeng.outcomes.models import REJECTED, KpiMeasurement
from sangsaeng.programs import project_service as projects
from sangsaeng.programs import service as programs

Mode = Literal["all", "good"]
Progress = Callable[[int, int], None]
IMPORTER = "kpis"  # the mapping templates' importer name
JOB_KIND = "import.kpis"
_CHUNK = 2_000

KPI_COLUMNS: tuple[Column, ...] = (
    Column(
        "agreement_no",
        "협약번호",
        "Agreement no.",
        ("협약 번호", "협약서번호", "과제번호", "agreement", "agreement_no", "agreement number"),
    ),
    Column(
        "business_no",
        "사업자등록번호",
        "Business registration no.",
        ("사업자번호", "등록번호", "business_no", "business no", "brn"),
    ),
    Column(
        "kpi",
        "성과지표",
        "KPI",
        (
            "지표",
            "지표명",
            "성과지표명",
            "성과지표코드",
            "지표코드",
            "kpi code",
            "kpi_code",
            "indicator",
        ),
        True,
    ),
    Column("stage", "단계", "Stage", ("측정단계", "측정 시점", "구분", "phase"), True),
    Column(
        "year_no",
        "연차",
        "Follow-up year",
        ("사후관리 연차", "사후관리연차", "차년도", "year", "year_no", "follow_up_year"),
    ),
    Column(
        "period_start",
        "기간 시작",
        "Period start",
        ("시작일", "기간시작일", "측정 시작일", "측정기간 시작", "from", "start", "period_start"),
        True,
    ),
    Column(
        "period_end",
        "기간 종료",
        "Period end",
        ("종료일", "기간종료일", "측정 종료일", "측정기간 종료", "to", "end", "period_end"),
        True,
    ),
    Column("value", "값", "Value", ("측정값", "실적", "실적값", "수치", "value"), True),
    Column("unit", "단위", "Unit", ("unit",)),
    Column("evidence", "증빙", "Evidence", ("증빙자료", "증빙 자료", "evidence")),
)
# A refusal of ``service.prepare`` names a field of the value; the file names it by its column.
_COLUMN_OF_FIELD = {
    "kpi_code": "kpi",
    "stage": "stage",
    "year_no": "year_no",
    "period_start": "period_start",
    "period_end": "period_end",
    "value": "value",
    "unit": "unit",
    "evidence": "evidence",
}
# Where a field is reported when its own column is not in the file.
_FALLBACK_COLUMN = {"unit": "value", "year_no": "stage", "agreement_no": "business_no"}
_STAGE_RANK = {"baseline": 0, "completion": 1, "follow_up": 2}


# --- reading cells -----------------------------------------------------------------------------


def _key(text: str) -> str:
    return re.sub(r"[\s_\-·.,/()\[\]]", "", text.strip().lower())


_STAGE_WORDS = {
    "baseline": (
        "기준",
        "기준값",
        "기준선",
        "착수전",
        "사업전",
        "도입전",
        "사전",
        "baseline",
        "before",
    ),
    "completion": (
        "완료",
        "완료후",
        "사업완료",
        "종료",
        "도입후",
        "completion",
        "after",
        "completed",
    ),
    "follow_up": ("사후관리", "사후", "followup"),
}
_STAGES = {_key(word): stage for stage, words in _STAGE_WORDS.items() for word in words}
_YEAR = re.compile(r"(\d{1,2})(?:년차|차년도|차|년|year|y)?")
_DATE = re.compile(
    r"(\d{4})\s*[-./년]\s*(\d{1,2})\s*[-./월]\s*(\d{1,2})\s*[.일]?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 (after Excel's 1900 leap-year slip)


def parse_stage(text: str) -> tuple[str | None, int | None]:
    """(stage, follow-up year named with it): ``'기준'`` → baseline, ``'사후관리 2년차'`` →
    (follow_up, 2); (None, None) when the word is not one of the stages."""
    key = _key(text)
    if key in _STAGES:
        return _STAGES[key], None
    for word in ("사후관리", "사후", "followup"):
        for rest in (key.removeprefix(word), key.removesuffix(word)):
            if rest != key and (m := _YEAR.fullmatch(rest)):
                return "follow_up", int(m.group(1))
    return None, None


def parse_year(text: str) -> int | None:
    m = _YEAR.fullmatch(_key(text))
    return int(m.group(1)) if m else None


def parse_date(text: str) -> date | None:
    """2025-01-01, 2025.01.01, 2025. 1. 1., 2025/1/1, 2025년 1월 1일, 20250101, an Excel date
    cell (read as '2025-01-01 00:00:00') or an Excel serial day number (45658)."""
    text = text.strip()
    try:
        if m := _DATE.fullmatch(text):
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if re.fullmatch(r"\d{8}", text):
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if re.fullmatch(r"\d{5}(?:\.0+)?", text):
            serial = int(float(text))
            if 20_000 <= serial <= 80_000:  # 1954 to 2119: a day number, not a year or a value
                return _EXCEL_EPOCH + timedelta(days=serial)
    except ValueError:  # 2025-02-30
        return None
    return None


def parse_value(text: str) -> tuple[float | None, bool]:
    """(number, written with %): '1,234' → 1234.0, '3.2%' → (3.2, True), '−0.5' → -0.5."""
    cleaned = text.strip().replace(",", "").replace(" ", "").replace("\u2212", "-")
    percent = cleaned.endswith("%")
    cleaned = cleaned.removesuffix("%")
    try:
        number = float(cleaned)
    except ValueError:
        return None, percent
    return (number if math.isfinite(number) else None), percent


def _kpi_names(catalogue: dict[str, reference.Kpi]) -> dict[str, str]:
    names = {}
    for kpi in catalogue.values():
        for name in (kpi.name_en, kpi.name_ko, kpi.code):  # the code wins over a name
            names[_key(name)] = kpi.code
    return names


# --- who imports, for which projects -----------------------------------------------------------


@dataclass
class Scope:
    """The program, and the projects the actor may import values for."""

    program: object
    manages: bool
    by_agreement: dict[str, object]  # agreement no (as typed, upper-cased) → project
    by_company: dict[str, list]  # 사업자등록번호 (digits) → the company's projects
    organization_id: int | None  # the company importing (None for the operators)
    # Held for the import's length: the session's identity map keeps only referenced rows, and
    # ``prepare`` reads the program's operating organization for every row.
    held: tuple = ()


def scope_of(session: Session, actor: Actor, program_id: int) -> Scope:
    """The program's operators may import for every project of the program; a company for its
    own projects in it. Anyone else learns nothing of the program (404)."""
    program = programs.get_program(session, actor, program_id)
    if programs.can_manage(session, actor, program):
        pairs = projects.program_projects(session, actor, program.id)
        manages, own_org = True, None
    else:
        own = [p for p, _prog in projects.my_projects(session, actor) if p.program_id == program.id]
        if not own:
            raise NotFound()
        orgs = {
            o.id: o
            for o in session.scalars(
                select(Organization).where(Organization.id.in_({p.organization_id for p in own}))
            )
        }
        pairs = [(p, orgs[p.organization_id]) for p in own]
        manages, own_org = False, min(orgs)
    by_agreement, by_company = {}, {}
    for project, org in pairs:
        by_agreement[_agreement_key(project.agreement_no)] = project
        by_company.setdefault(org.business_no, []).append(project)
    held = (session.get(Organization, program.operator_org_id),)
    return Scope(program, manages, by_agreement, by_company, own_org, held)


def _agreement_key(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def ensure_can_import(session: Session, actor: Actor, program_id: int) -> Scope:
    return scope_of(session, actor, program_id)


def _source(scope: Scope, source: str) -> str:
    if source not in ("self", "imported"):
        raise InvalidInput({"source": Msg("Choose a listed value.")})
    if source == "imported" and not scope.manages:
        raise InvalidInput(
            {"source": Msg("Only the program's operators may import administrative data.")}
        )
    return source


# --- the import --------------------------------------------------------------------------------


@dataclass
class KpiImportResult:
    program_id: int
    encoding: str
    mode: Mode
    source: str
    total_rows: int
    created: int = 0
    rejected: list[RowError] = field(default_factory=list)
    flagged: list[RowError] = field(default_factory=list)  # stored, to be checked by the verifier
    by_stage: dict[str, int] = field(default_factory=dict)
    evidence_named: int = 0  # rows whose 증빙 cell named a document (not stored: upload the file)
    committed: bool = False

    def as_dict(self) -> dict:
        def rows(errors):
            return [{"row": e.row, "column": e.column, "reason": e.reason} for e in errors]

        return {
            "program_id": self.program_id,
            "encoding": self.encoding,
            "mode": self.mode,
            "source": self.source,
            "committed": self.committed,
            "total_rows": self.total_rows,
            "created": self.created,
            "updated": 0,  # a value is never edited: a correction is a new measurement
            "unchanged": 0,
            "by_stage": dict(self.by_stage),
            "evidence_named": self.evidence_named,
            "flagged": rows(self.flagged),
            "rejected": rows(self.rejected),
        }


def _mapping(table: Table, mapping: dict[str, int] | None) -> dict[str, int]:
    found = dict(mapping) if mapping is not None else auto_map(table.headers, KPI_COLUMNS)
    english = get_locale() == "en"
    missing = [
        c.label_en if english else c.label_ko
        for c in KPI_COLUMNS
        if c.required and c.key not in found
    ]
    if "agreement_no" not in found and "business_no" not in found:
        missing.insert(0, "Agreement no." if english else "협약번호")
    if missing:
        message = Msg("These required columns were not found: {names}", names=", ".join(missing))
        raise InvalidInput({"mapping": message}, message=message)
    if any(not 0 <= i < len(table.headers) for i in found.values()):
        raise InvalidInput(
            {"mapping": Msg("The column mapping refers to a column the file lacks.")}
        )
    return found


@dataclass
class _Row:
    number: int
    project: object | None = None
    report: outcomes.Report | None = None
    errors: dict[str, Msg] = field(default_factory=dict)  # column key → reason


def _parse_row(
    row: list[str],
    number: int,
    columns: dict[str, int],
    scope: Scope,
    kpi_names: dict[str, str],
    catalogue: dict[str, reference.Kpi],
    source: str,
) -> _Row:
    cell = {key: row[i] for key, i in columns.items()}
    parsed = _Row(number)
    errors = parsed.errors
    agreement = cell.get("agreement_no", "")
    business = cell.get("business_no", "")
    if agreement:
        parsed.project = scope.by_agreement.get(_agreement_key(agreement))
        if parsed.project is None:
            errors["agreement_no"] = Msg(
                "This program has no project with this agreement number that you may report for."
            )
        elif business:
            digits = normalize_business_no(business)
            if parsed.project not in scope.by_company.get(digits or "", []):
                errors["business_no"] = Msg(
                    "This agreement is not of the company with this business registration number."
                )
    elif business:
        digits = normalize_business_no(business)
        own = scope.by_company.get(digits, []) if digits else []
        if digits is None:
            errors["business_no"] = Msg(
                "Enter a valid business registration number (10 digits, e.g. 123-45-67891)."
            )
        elif not own:
            errors["business_no"] = Msg(
                "This program has no project of this company that you may report for."
            )
        elif len(own) > 1:
            errors["business_no"] = Msg(
                "This company has {n} projects in this program: give the agreement number.",
                n=len(own),
            )
        else:
            parsed.project = own[0]
    else:
        errors["agreement_no"] = Msg(
            "Enter the agreement number or the business registration number."
        )

    code = kpi_names.get(_key(cell.get("kpi", "")))
    if code is None:
        errors["kpi"] = Msg("Choose KPIs from the catalogue.")
    stage, year_in_stage = parse_stage(cell.get("stage", ""))
    if stage is None:
        errors["stage"] = Msg(
            "Write the stage as 기준, 완료 or 사후관리 (baseline, completion, follow-up)."
        )
    year_no = year_in_stage
    if cell.get("year_no"):
        year_no = parse_year(cell["year_no"])
        if year_no is None:
            errors["year_no"] = Msg("Enter a whole number of at least 1.")
    dates = {}
    for key in ("period_start", "period_end"):
        dates[key] = parse_date(cell.get(key, ""))
        if dates[key] is None:
            errors[key] = Msg("Enter a date as 2025-01-01, 2025.01.01 or 20250101.")
    value, percent = parse_value(cell.get("value", ""))
    if value is None:
        errors["value"] = Msg("Enter a number.")
    unit = cell.get("unit", "")
    if percent and unit and _key(unit) not in ("%", "percent", "퍼센트"):
        errors["value"] = Msg("The value is written with % but the unit is {unit}.", unit=unit)
    if errors:
        return parsed
    kpi = catalogue[code]
    parsed.report = outcomes.Report(
        kpi_code=code,
        stage=stage,
        period_start=dates["period_start"],
        period_end=dates["period_end"],
        value=value,
        unit=unit or ("%" if percent else kpi.unit),
        year_no=year_no,
        source=source,
    )
    return parsed


def _stored_standing(session: Session, project_ids: list[int]) -> dict[tuple[int, str], list]:
    """Every counting value (not rejected) of these projects, per (project, KPI), oldest period
    first — what ``service.prepare`` would read for each row."""
    standing: dict[tuple[int, str], list] = {}
    for start in range(0, len(project_ids), _CHUNK):
        chunk = project_ids[start : start + _CHUNK]
        for m in session.scalars(
            select(KpiMeasurement)
            .where(KpiMeasurement.project_id.in_(chunk), KpiMeasurement.status != REJECTED)
            .order_by(KpiMeasurement.period_end, KpiMeasurement.id)
        ):
            standing.setdefault((m.project_id, m.kpi_code), []).append(m)
    return standing


def _identity(m) -> tuple:
    year = m.year_no if m.stage == "follow_up" else None
    return (m.project_id, m.kpi_code, m.stage, year, m.period_start, m.period_end)


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def import_kpis(
    session: Session,
    actor: Actor,
    program_id: int,
    table: Table,
    *,
    mode: Mode = "all",
    source: str = "self",
    mapping: dict[str, int] | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> KpiImportResult:
    """Check every row with ``service.prepare``, then write the good ones (``good``) or all of
    them only when none is bad (``all``). A dry run (the preview) writes nothing."""
    if mode not in ("all", "good"):
        raise InvalidInput({"mode": Msg("Choose a listed value.")})
    scope = scope_of(session, actor, program_id)
    source = _source(scope, source)
    columns = _mapping(table, mapping)
    header_of = {key: table.headers[i] for key, i in columns.items()}

    def header(key: str) -> str:
        return header_of.get(key) or header_of.get(_FALLBACK_COLUMN.get(key, ""), "")

    result = KpiImportResult(
        program_id=scope.program.id,
        encoding=table.encoding,
        mode=mode,
        source=source,
        total_rows=len(table.rows),
    )
    for number in table.ragged_rows:
        result.rejected.append(
            RowError(number, "", str(Msg("This row has more cells than the header.")))
        )
    ragged = set(table.ragged_rows)
    catalogue = reference.kpis()
    kpi_names = _kpi_names(catalogue)
    total = len(table.rows) * 2

    rows: list[_Row] = []
    for index, cells in enumerate(table.rows):
        number = table.number(index)
        if number in ragged:
            continue
        parsed = _parse_row(cells, number, columns, scope, kpi_names, catalogue, source)
        if parsed.errors:
            result.rejected.extend(
                RowError(number, header(key), str(reason)) for key, reason in parsed.errors.items()
            )
        else:
            rows.append(parsed)
            if "evidence" in columns and cells[columns["evidence"]]:
                result.evidence_named += 1
        if index % 500 == 0:
            _report(progress, index // 2, total)

    standing = _stored_standing(session, sorted({r.project.id for r in rows}))
    seen: dict[tuple, int | None] = {
        _identity(m): None for values in standing.values() for m in values
    }  # identity → row number in this file (None: stored before)
    good: list[tuple[int, KpiMeasurement]] = []
    rows.sort(key=lambda r: (_STAGE_RANK[r.report.stage], r.report.period_end, r.number))
    for done, parsed in enumerate(rows, start=1):
        project, values = parsed.project, parsed.report
        earlier = standing.setdefault((project.id, values.kpi_code), [])
        try:
            measurement = outcomes.prepare(
                session, actor, project, values, catalogue=catalogue, standing=list(earlier)
            )
        except InvalidInput as exc:
            result.rejected.extend(
                RowError(parsed.number, header(_COLUMN_OF_FIELD.get(f, "")), str(reason))
                for f, reason in exc.fields.items()
            )
            continue
        identity = _identity(measurement)
        if identity in seen:
            row = seen[identity]
            reason = (
                Msg("This value is already recorded for the project.")
                if row is None
                else Msg(
                    "The same measurement (project, KPI, stage, year and period) is in row {row}.",
                    row=row,
                )
            )
            result.rejected.append(RowError(parsed.number, header("period_end"), str(reason)))
            continue
        seen[identity] = parsed.number
        insort(earlier, measurement, key=lambda m: m.period_end)
        good.append((parsed.number, measurement))
        for msgid, params in measurement.flags:
            result.flagged.append(
                RowError(parsed.number, header("value"), gettext(msgid, **params))
            )
        if done % 500 == 0:
            _report(progress, len(table.rows) // 2 + done // 2, total)

    result.rejected.sort(key=lambda e: (e.row, e.column))
    result.flagged.sort(key=lambda e: e.row)
    for _number, m in good:
        result.by_stage[m.stage] = result.by_stage.get(m.stage, 0) + 1
    if dry_run:
        result.created = len(good)
        return result
    if mode == "all" and result.rejected:
        result.by_stage, result.flagged = {}, []
        return result  # nothing written
    good.sort(key=lambda pair: pair[0])  # stored in the file's order
    rows_out = [_as_row(m) for _n, m in good]
    for start in range(0, len(rows_out), _CHUNK):
        chunk = rows_out[start : start + _CHUNK]
        session.execute(insert(KpiMeasurement), chunk)
        _report(progress, len(table.rows) + start + len(chunk), total)
    session.flush()
    result.created, result.committed = len(good), True
    _report(progress, total, total)
    record(
        session,
        actor,
        "kpi.import",
        object_type="program",
        object_id=scope.program.id,
        organization_id=scope.organization_id or scope.program.operator_org_id,
        details={
            "mode": mode,
            "source": source,
            "total_rows": result.total_rows,
            "created": result.created,
            "rejected": len(result.rejected),
            "flagged": len(result.flagged),
            "by_stage": result.by_stage,
        },
    )
    return result


_FIELDS = (
    "project_id",
    "organization_id",
    "kpi_code",
    "stage",
    "year_no",
    "period_start",
    "period_end",
    "value",
    "unit",
    "source",
    "status",
    "flags",
    "evidence",
    "reported_by_id",
)


def _as_row(m: KpiMeasurement) -> dict:
    return {name: getattr(m, name) for name in _FIELDS} | {"rejection_reason": ""}


# --- the background job ------------------------------------------------------------------------


def run_job(session: Session, actor: Actor, params: dict, report: Reporter) -> dict:
    """``import.kpis``: the uploaded sheet, read from storage and imported in the job's one
    transaction; an all-or-nothing import with bad rows fails and lists them on the job page."""
    report(1, gettext("Reading the file."))
    data = files.read_for_job(session, actor, files.current_storage(), params["file_id"])
    table = reader.read_table(data, params.get("filename", ""), params.get("encoding", "auto"))

    def progress(done: int, total: int) -> None:
        if total:
            report(
                5 + int(90 * done / total),
                gettext("Checked {done} of {total}.", done=f"{done:,}", total=f"{total:,}"),
            )

    mapping = params.get("mapping")
    if mapping is not None:
        mapping = {key: int(index) for key, index in mapping.items()}
    result = import_kpis(
        session,
        actor,
        int(params["program_id"]),
        table,
        mode=params.get("mode", "all"),
        source=params.get("source", "self"),
        mapping=mapping,
        progress=progress,
    )
    if not result.committed:
        refused = InvalidInput(
            {},
            message=Msg(
                "{n} rows were rejected; nothing was written (all-or-nothing).",
                n=len(result.rejected),
            ),
        )
        refused.details = result.as_dict()  # the job page lists every rejected row
        raise refused
    return result.as_dict()


def register() -> None:
    register_kind(JOB_KIND, Msg("Import KPI values"), run_job)
