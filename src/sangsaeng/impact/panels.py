"""Firm-year panels: administrative or credit-bureau extracts of firms' outcomes by year, for
program participants and non-participants alike.

A panel belongs to the operator organization that imported it. Its operators (and the
administrators) read its firm-level rows; sponsors and operators of that organization's programs
may use it in impact studies, which report aggregates only, and see its summary — never a row.

The import reads CP949/UTF-8 CSV or .xlsx with one firm-year per row: 사업자등록번호, 연도, KSIC
업종코드, 지역 (optional) and the outcomes 매출액, 영업이익, 연구개발비, 종업원수, 수출액 (each
optional, integer KRW or persons; "1,234" and "△1,234" are read, text is refused). Every row is
checked — check digit, year range, known KSIC code, impossible values, duplicate firm-years in
the file and against the panel's stored rows — before anything is written. Two modes, stated in
the result: ``all`` (any bad row and nothing is written, not even a new panel) or ``good`` (the
good rows are written, each bad one listed with its row number and the file's own header).
Missing years between a firm's first and last year are warnings listed per firm, never errors.
The service only flushes: the caller's one transaction commits or rolls back the whole import.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import pandas as pd
from sqlalchemy import distinct, func, insert, select
from sqlalchemy.orm import Session

from sangsaeng.core import reference
from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import Forbidden, InvalidInput, NotFound
from sangsaeng.core.files import service as files
from sangsaeng.core.i18n import Msg, get_locale, gettext
from sangsaeng.core.ids import normalize_business_no
from sangsaeng.core.imports import jobs as import_jobs
from sangsaeng.core.imports import reader
from sangsaeng.core.imports.mapping import Column, auto_map
from sangsaeng.core.imports.reader import Table
from sangsaeng.core.imports.service import RowError
from sangsaeng.core.jobs.service import Reporter, register_kind
from sangsaeng.core.models import Organization
from sangsaeng.core.pagination import Page, paginate
from sangsaeng.core.policy import Actor, Role
from sangsaeng.impact.models import OUTCOMES, PANEL_SOURCES, FirmPanel, FirmYear
from sangsaeng.programs.models import Program, ProgramSponsor

Mode = Literal["all", "good"]
Progress = Callable[[int, int], None]
IMPORTER = "impact_panel"  # the mapping templates' importer name
JOB_KIND = "import.impact_panel"
FIRST_YEAR = 1990
# Extracts state amounts in won, 천원 or 백만원 (DART and credit-bureau files mostly in 천원).
AMOUNT_UNITS: dict[str, int] = {"won": 1, "thousand": 1_000, "million": 1_000_000}
MONEY = ("revenue", "operating_profit", "rnd_spend", "exports")
_UNIT_SUFFIX = (
    re.compile(  # a unit after a separator: "매출액(천원)", "매출액_백만원", "revenue [KRW]"
        r"[\s_]*[(\[_\s]\s*(백만\s*원|천\s*원|원|krw|mn\s*krw|k\s*krw)\s*[)\]]?\s*$", re.I
    )
)
_SUFFIX_SCALE = {
    "백만원": 1_000_000,
    "천원": 1_000,
    "원": 1,
    "krw": 1,
    "mnkrw": 1_000_000,
    "kkrw": 1_000,
}
MAX_AMOUNT = 10**15  # KRW: no Korean firm's figure comes near 1,000조 원; a unit slip does
MAX_EMPLOYEES = 10_000_000
MAX_NAME, MAX_NOTE = 200, 2_000
GAPS_LISTED = 200  # firms with gaps listed on the summary page (all of them are counted)
_CHUNK = 5_000

PANEL_COLUMNS: tuple[Column, ...] = (
    Column(
        "business_no",
        "사업자등록번호",
        "Business registration no.",
        ("사업자번호", "등록번호", "business_no", "business no", "biz_no", "brn"),
        True,
    ),
    Column(
        "year",
        "연도",
        "Year",
        ("년도", "기준연도", "결산연도", "회계연도", "사업연도", "year", "fiscal year"),
        True,
    ),
    Column(
        "ksic",
        "KSIC 업종코드",
        "KSIC code",
        (
            "업종코드",
            "업종",
            "표준산업분류",
            "표준산업분류코드",
            "산업분류코드",
            "ksic",
            "ksic_code",
            "industry",
            "industry code",
        ),
        True,
    ),
    Column("region", "지역", "Region", ("시도", "시·도", "소재지", "region", "province")),
    Column("revenue", "매출액", "Revenue", ("매출", "연매출", "sales", "revenue_krw")),
    Column(
        "operating_profit",
        "영업이익",
        "Operating profit",
        ("영업손익", "영업이익액", "operating income", "operating_profit"),
    ),
    Column(
        "rnd_spend",
        "연구개발비",
        "R&D spending",
        ("연구개발비용", "R&D", "R&D비", "rnd", "rnd_spend", "r&d spending"),
    ),
    Column(
        "employees",
        "종업원수",
        "Employees",
        ("상시근로자수", "근로자수", "직원수", "종업원", "staff", "headcount"),
    ),
    Column("exports", "수출액", "Exports", ("수출", "수출실적", "export", "exports_krw")),
)
# The columns of ``load_rows`` (and of a firm-year), in order.
ROW_COLUMNS = ("business_no", "year", "ksic_code", "region_code", *OUTCOMES)
SOURCE_LABELS = {
    "administrative": Msg("Administrative data"),
    "credit_bureau": Msg("Credit bureau"),
    "survey": Msg("Survey"),
    "other": Msg("Other"),
}
OUTCOME_LABELS = {
    "revenue": Msg("Revenue"),
    "operating_profit": Msg("Operating profit"),
    "rnd_spend": Msg("R&D spending"),
    "employees": Msg("Employees"),
    "exports": Msg("Exports"),
}


# --- who may do what ---------------------------------------------------------------------------


def operator_orgs(session: Session, actor: Actor) -> list[Organization]:
    """The organizations the actor may import panels for: those it is an operator of that run
    at least one program (every such organization, for administrators)."""
    stmt = (
        select(Organization)
        .where(Organization.id.in_(select(Program.operator_org_id).distinct()))
        .order_by(Organization.name_ko, Organization.id)
    )
    if not actor.is_admin:
        stmt = stmt.where(Organization.id.in_(actor.org_ids(Role.OPERATOR)))
    return list(session.scalars(stmt))


def ensure_can_import(session: Session, actor: Actor) -> list[Organization]:
    """The organizations the actor may import for; 403 for anyone who is not an operator of a
    program-running organization nor an administrator."""
    orgs = operator_orgs(session, actor)
    if not orgs and not actor.is_admin:
        raise Forbidden()
    return orgs


def _usable_org_ids(session: Session, actor: Actor) -> set[int] | None:
    """Owners of the panels the actor may use in studies (None: all, for administrators): its
    own operator organizations, and the operators of programs its sponsor organizations fund."""
    if actor.is_admin:
        return None
    owners = set(actor.org_ids(Role.OPERATOR))
    if sponsors := actor.org_ids(Role.SPONSOR):
        owners |= set(
            session.scalars(
                select(Program.operator_org_id)
                .join(ProgramSponsor, ProgramSponsor.program_id == Program.id)
                .where(ProgramSponsor.organization_id.in_(sponsors))
                .distinct()
            )
        )
    return owners


def may_list(actor: Actor) -> bool:
    return actor.is_admin or actor.has_role(Role.OPERATOR, Role.SPONSOR)


def get_panel(session: Session, actor: Actor, panel_id: int) -> FirmPanel:
    """The panel, if the actor may use it in studies (404 otherwise, existence included)."""
    panel = session.get(FirmPanel, panel_id)
    owners = _usable_org_ids(session, actor)
    if panel is None or (owners is not None and panel.organization_id not in owners):
        raise NotFound()
    return panel


def can_read_rows(session: Session, actor: Actor, panel: FirmPanel) -> bool:
    """Firm-level rows are the importing organization's operators' (and administrators') only."""
    return actor.is_admin or panel.organization_id in actor.org_ids(Role.OPERATOR)


def get_readable_panel(session: Session, actor: Actor, panel_id: int) -> FirmPanel:
    """The panel, if the actor may read its rows: to anyone else it is not there (404)."""
    panel = get_panel(session, actor, panel_id)
    if not can_read_rows(session, actor, panel):
        raise NotFound()
    return panel


def panels_for_programs(
    session: Session, actor: Actor, program_ids: Iterable[int]
) -> list[FirmPanel]:
    """Panels owned by the operator organizations of these programs that the actor may use."""
    ids = list(dict.fromkeys(int(i) for i in program_ids))
    if not ids:
        return []
    owners = set(session.scalars(select(Program.operator_org_id).where(Program.id.in_(ids))))
    usable = _usable_org_ids(session, actor)
    if usable is not None:
        owners &= usable
    if not owners:
        return []
    return list(
        session.scalars(
            select(FirmPanel)
            .where(FirmPanel.organization_id.in_(owners))
            .order_by(FirmPanel.imported_at.desc(), FirmPanel.id.desc())
        )
    )


@dataclass(frozen=True)
class PanelListing:
    panel: FirmPanel
    organization: str  # the importing organization's name
    rows_readable: bool


def list_panels(session: Session, actor: Actor) -> list[PanelListing]:
    """Every panel the actor may use, newest first (403 for roles that run no studies)."""
    if not may_list(actor):
        raise Forbidden()
    stmt = (
        select(FirmPanel, Organization.name_ko)
        .join(Organization, Organization.id == FirmPanel.organization_id)
        .order_by(FirmPanel.imported_at.desc(), FirmPanel.id.desc())
    )
    owners = _usable_org_ids(session, actor)
    if owners is not None:
        stmt = stmt.where(FirmPanel.organization_id.in_(owners))
    return [
        PanelListing(panel, name, can_read_rows(session, actor, panel))
        for panel, name in session.execute(stmt)
    ]


def importable_panels(session: Session, actor: Actor) -> list[FirmPanel]:
    """Panels the actor may append rows to (those of its operator organizations)."""
    stmt = select(FirmPanel).order_by(FirmPanel.name, FirmPanel.id)
    if not actor.is_admin:
        stmt = stmt.where(FirmPanel.organization_id.in_(actor.org_ids(Role.OPERATOR)))
    return list(session.scalars(stmt))


# --- reading the rows (for studies) ------------------------------------------------------------


def load_rows(session: Session, panel_id: int) -> pd.DataFrame:
    """One row per firm-year, by firm and year: business_no, year, ksic_code, region_code (None
    when not given) and the outcomes as float64 (NaN where the extract had no figure). The
    caller has checked that the actor may use the panel. No ORM objects: on PostgreSQL a COPY
    read by pandas' CSV parser (100,000 firm-years in about a tenth of a second), elsewhere plain
    tuples."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        frame = _copied_rows(connection, int(panel_id))
    else:
        columns = [getattr(FirmYear, name) for name in ROW_COLUMNS]
        rows = session.execute(
            select(*columns)
            .where(FirmYear.panel_id == panel_id)
            .order_by(FirmYear.business_no, FirmYear.year)
        ).all()
        frame = pd.DataFrame.from_records(rows, columns=list(ROW_COLUMNS))
    frame = frame.astype(
        {"business_no": object, "year": "int64", "ksic_code": object, "region_code": object}
        | dict.fromkeys(OUTCOMES, "float64")
    )
    frame["region_code"] = frame["region_code"].where(frame["region_code"].notna(), None)
    return frame


def _copied_rows(connection, panel_id: int) -> pd.DataFrame:
    sql = (
        "COPY (SELECT business_no, year, ksic_code, region_code, revenue, operating_profit, "
        "rnd_spend, employees, exports FROM impact_firm_years WHERE panel_id = %s "
        "ORDER BY business_no, year) TO STDOUT (FORMAT CSV)"
    )
    buffer = io.BytesIO()
    cursor = connection.connection.driver_connection.cursor()
    with cursor, cursor.copy(sql, (panel_id,)) as copy:
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    text_columns = ("business_no", "ksic_code", "region_code")
    return pd.read_csv(
        buffer,
        header=None,
        names=list(ROW_COLUMNS),
        dtype=dict.fromkeys(text_columns, str) | {"year": "int64"},
        keep_default_na=False,  # a NULL is an empty field: only those are missing
        na_values={name: [""] for name in ("region_code", *OUTCOMES)},
    )


# --- reading cells -----------------------------------------------------------------------------

_YEAR = re.compile(r"(\d{4})\s*(?:년|년도)?(?:\.0+)?")
# Optional minus (ASCII, Unicode, or △ as Korean statements write a loss), digits with or
# without thousands separators, an optional ".0" that a spreadsheet may add to a whole number.
_WHOLE = re.compile(r"([-\u2212△]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?")
_SPACES = re.compile(r"[\s\u00a0]+")


def parse_whole(text: str) -> int | None:
    """'1,234' → 1234, '-5' / '−5' / '△5' → -5; None for anything else (text, decimals)."""
    match = _WHOLE.fullmatch(_SPACES.sub("", text))
    if match is None:
        return None
    number = int(match.group(2).replace(",", ""))
    return -number if match.group(1) else number


def parse_panel_year(text: str) -> int | None:
    match = _YEAR.fullmatch(text.strip())
    return int(match.group(1)) if match else None


# --- the import --------------------------------------------------------------------------------


@dataclass
class PanelImportResult:
    encoding: str
    mode: Mode
    total_rows: int
    panel_id: int | None = None  # None in a preview for a new panel
    panel_name: str = ""
    new_panel: bool = True
    organization_id: int | None = None
    created: int = 0
    rejected: list[RowError] = field(default_factory=list)
    # Firms with missing years between their first and last year: (business no, missing years).
    gaps: list[tuple[str, list[int]]] = field(default_factory=list)
    ksic_changes: int = 0  # firms of the file whose KSIC code differs between years
    firms: int = 0  # firms among the valid rows
    year_min: int | None = None
    year_max: int | None = None
    committed: bool = False
    amount_scales: dict[str, int] = field(default_factory=dict)  # money column → factor to won

    @property
    def warnings(self) -> list[str]:
        notes = []
        scaled = [key for key, scale in self.amount_scales.items() if scale != 1]
        if scaled:
            notes.append(
                gettext(
                    "Amounts converted to won: {columns}.",
                    columns=", ".join(
                        gettext(
                            "{column} × {scale}",
                            column=_column_label(key),
                            scale=f"{self.amount_scales[key]:,}",
                        )
                        for key in scaled
                    ),
                )
            )
        if self.gaps:
            notes.append(
                gettext(
                    "{n} firms have missing years between their first and last year. A gap is "
                    "a warning, not an error: their rows are kept.",
                    n=len(self.gaps),
                )
            )
        if self.ksic_changes:
            notes.append(
                gettext(
                    "{n} firms change KSIC industry code between years (allowed).",
                    n=self.ksic_changes,
                )
            )
        return notes

    def as_dict(self) -> dict:
        return {
            "panel_id": self.panel_id,
            "panel_name": self.panel_name,
            "new_panel": self.new_panel,
            "organization_id": self.organization_id,
            "encoding": self.encoding,
            "mode": self.mode,
            "committed": self.committed,
            "total_rows": self.total_rows,
            "created": self.created,
            "updated": 0,  # a firm-year is never edited in place
            "unchanged": 0,
            "firms": self.firms,
            "years": [self.year_min, self.year_max],
            "ksic_changes": self.ksic_changes,
            "gap_firms": len(self.gaps),
            "gaps_are_errors": False,
            "amount_scales": dict(self.amount_scales),
            "gaps": [{"business_no": b, "missing": years} for b, years in self.gaps],
            "warnings": self.warnings,
            "rejected": [
                {"row": e.row, "column": e.column, "reason": e.reason} for e in self.rejected
            ],
        }


def _column_label(key: str) -> str:
    column = next(c for c in PANEL_COLUMNS if c.key == key)
    return column.label_en if get_locale() == "en" else column.label_ko


@dataclass(frozen=True)
class Target:
    """Where the rows go: an existing panel, or a new one described by name, source and note."""

    panel: FirmPanel | None
    name: str
    source: str
    note: str
    organization_id: int


def resolve_target(
    session: Session,
    actor: Actor,
    *,
    panel_id: int | None = None,
    name: str = "",
    source: str = "administrative",
    note: str = "",
    organization_id: int | None = None,
) -> Target:
    """Check who imports and into what: 403 for non-operators, 404 for a panel the actor may not
    use, 403 for one it may use but not add to; field errors for a bad new panel."""
    orgs = ensure_can_import(session, actor)
    if panel_id is not None:
        panel = get_panel(session, actor, panel_id)
        if not can_read_rows(session, actor, panel):
            raise Forbidden()
        return Target(panel, panel.name, panel.source, panel.note, panel.organization_id)
    errors: dict[str, Msg] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = Msg("Enter a name.")
    elif len(name) > MAX_NAME:
        errors["name"] = Msg("Use at most {n} characters.", n=MAX_NAME)
    if source not in PANEL_SOURCES:
        errors["source"] = Msg("Choose a listed value.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = Msg("Use at most {n} characters.", n=MAX_NOTE)
    owner = None
    if organization_id is None and len(orgs) == 1:
        owner = orgs[0]
    elif organization_id is None:
        errors["organization_id"] = Msg("Choose the operator organization that owns the panel.")
    else:
        owner = next((o for o in orgs if o.id == organization_id), None)
        if owner is None:
            errors["organization_id"] = Msg(
                "Choose an organization you operate that runs at least one program."
            )
    if errors:
        raise InvalidInput(errors)
    return Target(None, name, source, note, owner.id)


def header_unit(header: str) -> tuple[str, int | None]:
    """A header without its unit suffix ("매출액(천원)" → "매출액") and the scale it states."""
    match = _UNIT_SUFFIX.search(header)
    if not match or match.start() == 0:
        return header, None
    unit = re.sub(r"\s", "", match.group(1)).lower()
    return header[: match.start()], _SUFFIX_SCALE[unit]


def amount_scales(table: Table, columns: dict[str, int], amount_unit: str) -> dict[str, int]:
    """The factor to won of each money column: the unit chosen for the whole file, or ("auto")
    the unit its header states, won when it states none."""
    if amount_unit != "auto":
        return {key: AMOUNT_UNITS[amount_unit] for key in MONEY if key in columns}
    return {
        key: header_unit(table.headers[columns[key]])[1] or 1 for key in MONEY if key in columns
    }


def _mapping(table: Table, mapping: dict[str, int] | None) -> dict[str, int]:
    found = (
        dict(mapping)
        if mapping is not None
        else auto_map([header_unit(h)[0] for h in table.headers], PANEL_COLUMNS)
    )
    english = get_locale() == "en"
    missing = [
        c.label_en if english else c.label_ko
        for c in PANEL_COLUMNS
        if c.required and c.key not in found
    ]
    if missing:
        message = Msg("These required columns were not found: {names}", names=", ".join(missing))
        raise InvalidInput({"mapping": message}, message=message)
    if any(not 0 <= i < len(table.headers) for i in found.values()):
        raise InvalidInput(
            {"mapping": Msg("The column mapping refers to a column the file lacks.")}
        )
    if len(set(found.values())) < len(found):
        raise InvalidInput({"mapping": Msg("Each column of the file may be used only once.")})
    return found


def _amount(text: str, key: str, errors: dict[str, Msg], scale: int = 1) -> int | None:
    if not text:
        return None
    value = parse_whole(text)
    if value is None:
        errors[key] = Msg("Enter a whole number; thousands separators are allowed (1,234).")
        return None
    value *= scale
    if value < 0 and key != "operating_profit":
        errors[key] = Msg("A negative value is impossible here.")
    elif key == "employees" and value > MAX_EMPLOYEES:
        errors[key] = Msg(
            "More than {n} employees is impossible; check the column.", n=f"{MAX_EMPLOYEES:,}"
        )
    elif abs(value) > MAX_AMOUNT:
        errors[key] = Msg(
            "An amount above 10^15 won (1,000조 원) is impossible; amounts are in won, "
            "check the unit."
        )
    return value


def _parse_row(
    cells: list[str], columns: dict[str, int], last_year: int, scales: dict[str, int] | None = None
) -> tuple[dict | None, dict[str, Msg]]:
    cell = {key: cells[i] for key, i in columns.items()}
    errors: dict[str, Msg] = {}
    business = cell["business_no"]
    digits = normalize_business_no(business) if business else None
    if not business:
        errors["business_no"] = Msg("Enter the business registration number.")
    elif digits is None:
        errors["business_no"] = Msg(
            "Enter a valid business registration number (10 digits, e.g. 123-45-67891)."
        )
    year = parse_panel_year(cell["year"])
    if year is None:
        errors["year"] = Msg("Enter the year as four digits (e.g. 2023).")
    elif not FIRST_YEAR <= year <= last_year:
        errors["year"] = Msg(
            "The year must be between {first} and {last}.", first=FIRST_YEAR, last=last_year
        )
    ksic = reference.parse_ksic(cell["ksic"]) if cell["ksic"] else None
    if not cell["ksic"]:
        errors["ksic"] = Msg("Enter the KSIC industry code.")
    elif ksic is None:
        errors["ksic"] = Msg(
            "Unknown KSIC industry code '{value}'. Enter a code such as C29, 29 or 291.",
            value=cell["ksic"][:20],
        )
    region = None
    if cell.get("region"):
        region = reference.parse_region(cell["region"])
        if region is None:
            errors["region"] = Msg("Choose one of the 17 metropolitan cities and provinces.")
    scales = scales or {}
    values = {key: _amount(cell.get(key, ""), key, errors, scales.get(key, 1)) for key in OUTCOMES}
    if errors:
        return None, errors
    return {
        "business_no": digits,
        "year": year,
        "ksic_code": ksic,
        "region_code": region,
        **values,
    }, errors


def _stored_firm_years(
    session: Session, panel_id: int, firms: list[str]
) -> dict[str, dict[int, str]]:
    """business no → {year: KSIC code} of the panel's stored rows of these firms."""
    stored: dict[str, dict[int, str]] = {}
    for start in range(0, len(firms), _CHUNK):
        chunk = firms[start : start + _CHUNK]
        for business, year, ksic in session.execute(
            select(FirmYear.business_no, FirmYear.year, FirmYear.ksic_code).where(
                FirmYear.panel_id == panel_id, FirmYear.business_no.in_(chunk)
            )
        ):
            stored.setdefault(business, {})[year] = ksic
    return stored


def _gaps(years_of: dict[str, set[int]]) -> list[tuple[str, list[int]]]:
    gaps = []
    for business in sorted(years_of):
        years = years_of[business]
        if max(years) - min(years) + 1 > len(years):
            gaps.append((business, sorted(set(range(min(years), max(years) + 1)) - years)))
    return gaps


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def import_panel(
    session: Session,
    actor: Actor,
    table: Table,
    *,
    panel_id: int | None = None,
    name: str = "",
    source: str = "administrative",
    note: str = "",
    organization_id: int | None = None,
    mode: Mode = "all",
    mapping: dict[str, int] | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
    today: date | None = None,
    amount_unit: str = "auto",
) -> PanelImportResult:
    """Check every row, then write the good ones (``good``) or all of them only when none is bad
    (``all``) into the panel ``panel_id`` or a new panel (name, source, note, owner). A dry run
    (the preview) writes nothing and creates no panel."""
    if mode not in ("all", "good"):
        raise InvalidInput({"mode": Msg("Choose a listed value.")})
    if amount_unit != "auto" and amount_unit not in AMOUNT_UNITS:
        raise InvalidInput({"amount_unit": Msg("Choose a listed value.")})
    target = resolve_target(
        session,
        actor,
        panel_id=panel_id,
        name=name,
        source=source,
        note=note,
        organization_id=organization_id,
    )
    columns = _mapping(table, mapping)
    header_of = {key: table.headers[i] for key, i in columns.items()}
    scales = amount_scales(table, columns, amount_unit)
    result = PanelImportResult(
        amount_scales=scales,
        encoding=table.encoding,
        mode=mode,
        total_rows=len(table.rows),
        panel_id=target.panel.id if target.panel else None,
        panel_name=target.name,
        new_panel=target.panel is None,
        organization_id=target.organization_id,
    )
    last_year = (today or date.today()).year
    total = len(table.rows) * 2
    ragged = set(table.ragged_rows)
    for number in table.ragged_rows:
        result.rejected.append(
            RowError(number, "", str(Msg("This row has more cells than the header.")))
        )

    good: list[tuple[int, dict]] = []
    for index, cells in enumerate(table.rows):
        number = table.number(index)
        if number in ragged:
            continue
        row, errors = _parse_row(cells, columns, last_year, scales)
        if row is None:
            result.rejected.extend(
                RowError(number, header_of.get(key, ""), str(reason))
                for key, reason in errors.items()
            )
        else:
            good.append((number, row))
        if index % 1_000 == 0:
            _report(progress, index, total)

    firms = sorted({row["business_no"] for _n, row in good})
    stored = _stored_firm_years(session, target.panel.id, firms) if target.panel else {}
    seen: dict[tuple[str, int], int] = {}  # (firm, year) → its row in this file
    kept: list[dict] = []
    for number, row in good:
        key = (row["business_no"], row["year"])
        if row["year"] in stored.get(row["business_no"], {}):
            reason = Msg("This firm's year is already in the panel.")
        elif key in seen:
            reason = Msg("The same firm and year are in row {row}.", row=seen[key])
        else:
            seen[key] = number
            kept.append(row)
            continue
        result.rejected.append(RowError(number, header_of["year"], str(reason)))
    result.rejected.sort(key=lambda e: (e.row, e.column))

    years_of: dict[str, set[int]] = {}
    codes_of: dict[str, set[str]] = {}
    for row in kept:
        years_of.setdefault(row["business_no"], set()).add(row["year"])
        codes_of.setdefault(row["business_no"], set()).add(row["ksic_code"])
    for business in years_of:
        earlier = stored.get(business, {})
        years_of[business] |= set(earlier)
        codes_of[business] |= set(earlier.values())
    result.gaps = _gaps(years_of)
    result.ksic_changes = sum(len(codes) > 1 for codes in codes_of.values())
    result.firms = len(years_of)
    if kept:
        result.year_min = min(r["year"] for r in kept)
        result.year_max = max(r["year"] for r in kept)
    result.created = len(kept)
    if dry_run:
        return result
    if not kept or (mode == "all" and result.rejected):
        result.created = 0  # nothing written: all-or-nothing, or no valid row at all
        return result

    panel = target.panel
    if panel is None:
        panel = FirmPanel(
            organization_id=target.organization_id,
            name=target.name,
            source=target.source,
            note=target.note,
            imported_by_id=actor.user_id or None,
        )
        session.add(panel)
        session.flush()
    result.panel_id = panel.id
    for start in range(0, len(kept), _CHUNK):
        chunk = kept[start : start + _CHUNK]
        _insert_firm_years(session, panel.id, chunk)
        _report(
            progress, len(table.rows) + (start + len(chunk)) * len(table.rows) // len(kept), total
        )
    _refresh_counts(session, panel)
    result.committed = True
    _report(progress, total, total)
    record(
        session,
        actor,
        "impact.panel.import",
        object_type="impact_panel",
        object_id=panel.id,
        organization_id=panel.organization_id,
        details={
            "new_panel": result.new_panel,
            "mode": mode,
            "total_rows": result.total_rows,
            "created": result.created,
            "rejected": len(result.rejected),
            "gap_firms": len(result.gaps),
        },
    )
    return result


def _insert_firm_years(session: Session, panel_id: int, rows: list[dict]) -> None:
    """Validated rows into the table in the import's transaction: on PostgreSQL by COPY (several
    times faster than INSERTs for a 100,000-row extract), elsewhere as an executemany."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(FirmYear), [{"panel_id": panel_id, **row} for row in rows])
        return
    cursor = connection.connection.driver_connection.cursor()
    names = ("panel_id", *ROW_COLUMNS)
    with cursor, cursor.copy(f"COPY impact_firm_years ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((panel_id, *(row[c] for c in ROW_COLUMNS)))


def _refresh_counts(session: Session, panel: FirmPanel) -> None:
    rows, firms, first, last = session.execute(
        select(
            func.count(),
            func.count(distinct(FirmYear.business_no)),
            func.min(FirmYear.year),
            func.max(FirmYear.year),
        ).where(FirmYear.panel_id == panel.id)
    ).one()
    panel.n_rows, panel.n_firms, panel.year_min, panel.year_max = rows, firms, first, last
    session.flush()


# --- the summary and the rows ------------------------------------------------------------------


@dataclass
class PanelSummary:
    panel: FirmPanel
    organization: str
    rows_readable: bool
    by_year: list[tuple[int, int]]  # (year, firms)
    by_division: list[tuple[str, str, int]]  # (KSIC division, its name, firms)
    outcome_share: dict[str, float | None]  # share of firm-years with the outcome present
    gap_firms: int
    gaps: list[tuple[str, list[int]]]  # the first GAPS_LISTED firms; empty unless rows_readable
    ksic_changes: int

    def as_dict(self) -> dict:
        p = self.panel
        return {
            "id": p.id,
            "name": p.name,
            "source": p.source,
            "note": p.note,
            "organization": {"id": p.organization_id, "name": self.organization},
            "imported_at": p.imported_at.isoformat() if p.imported_at else None,
            "n_firms": p.n_firms,
            "n_rows": p.n_rows,
            "years": [p.year_min, p.year_max],
            "by_year": [{"year": y, "firms": n} for y, n in self.by_year],
            "by_division": [
                {"division": code, "name": name, "firms": n} for code, name, n in self.by_division
            ],
            "outcome_share": dict(self.outcome_share),
            "gap_firms": self.gap_firms,
            "ksic_changes": self.ksic_changes,
            "rows_readable": self.rows_readable,
        }


def summarise(session: Session, actor: Actor, panel_id: int) -> PanelSummary:
    """Counts per year and KSIC division, the share of firm-years with each outcome, firms with
    gaps and with KSIC changes: aggregates anyone who may use the panel sees. The firms with
    gaps are named only to those who may read the rows."""
    panel = get_panel(session, actor, panel_id)
    readable = can_read_rows(session, actor, panel)
    mine = FirmYear.panel_id == panel.id
    by_year = [
        (year, firms)
        for year, firms in session.execute(
            select(FirmYear.year, func.count(distinct(FirmYear.business_no)))
            .where(mine)
            .group_by(FirmYear.year)
            .order_by(FirmYear.year)
        )
    ]
    division = func.substr(FirmYear.ksic_code, 1, 2)
    by_division = []
    for code, firms in session.execute(
        select(division, func.count(distinct(FirmYear.business_no)))
        .where(mine)
        .group_by(division)
        .order_by(division)
    ):
        entry = reference.ksic_entry(code)
        by_division.append((code, entry.name if entry else code, firms))
    counts = session.execute(
        select(func.count(), *(func.count(getattr(FirmYear, o)) for o in OUTCOMES)).where(mine)
    ).one()
    share = {o: (counts[i + 1] / counts[0] if counts[0] else None) for i, o in enumerate(OUTCOMES)}
    spans = (
        select(FirmYear.business_no)
        .where(mine)
        .group_by(FirmYear.business_no)
        .having(func.max(FirmYear.year) - func.min(FirmYear.year) + 1 > func.count())
    )
    gap_firms = session.scalar(select(func.count()).select_from(spans.subquery())) or 0
    changes = (
        select(FirmYear.business_no)
        .where(mine)
        .group_by(FirmYear.business_no)
        .having(func.count(distinct(FirmYear.ksic_code)) > 1)
    )
    ksic_changes = session.scalar(select(func.count()).select_from(changes.subquery())) or 0
    gaps: list[tuple[str, list[int]]] = []
    if readable and gap_firms:
        listed = list(session.scalars(spans.order_by(FirmYear.business_no).limit(GAPS_LISTED)))
        years_of: dict[str, set[int]] = {}
        for business, year in session.execute(
            select(FirmYear.business_no, FirmYear.year).where(
                mine, FirmYear.business_no.in_(listed)
            )
        ):
            years_of.setdefault(business, set()).add(year)
        gaps = _gaps(years_of)
    owner = session.get(Organization, panel.organization_id)
    return PanelSummary(
        panel,
        owner.name_ko if owner else "",
        readable,
        by_year,
        by_division,
        share,
        gap_firms,
        gaps,
        ksic_changes,
    )


@dataclass(frozen=True)
class RowFilters:
    business_no: str = ""  # digits, or the start of them
    year: int | None = None
    ksic: str = ""  # a KSIC code prefix (division 29, class 291…)

    @property
    def query(self) -> str:
        parts = [f"business_no={self.business_no}"] if self.business_no else []
        if self.year is not None:
            parts.append(f"year={self.year}")
        if self.ksic:
            parts.append(f"ksic={self.ksic}")
        return "&".join(parts)


def clean_filters(business_no: str = "", year: str = "", ksic: str = "") -> RowFilters:
    """Filters from a query string; anything unreadable is dropped rather than refused."""
    digits = re.sub(r"\D", "", business_no or "")[:10]
    parsed_year = parse_panel_year(year) if year else None
    code = re.sub(r"[^0-9]", "", ksic or "")[:5]
    return RowFilters(digits, parsed_year, code)


def panel_rows(
    session: Session,
    actor: Actor,
    panel_id: int,
    filters: RowFilters,
    *,
    page: int = 1,
    per_page: int = 50,
) -> tuple[FirmPanel, Page]:
    """A page of the panel's firm-years, by firm and year: for row readers only (404 else)."""
    panel = get_readable_panel(session, actor, panel_id)
    stmt = select(FirmYear).where(FirmYear.panel_id == panel.id)
    if filters.business_no:
        stmt = stmt.where(FirmYear.business_no.startswith(filters.business_no))
    if filters.year is not None:
        stmt = stmt.where(FirmYear.year == filters.year)
    if filters.ksic:
        stmt = stmt.where(FirmYear.ksic_code.startswith(filters.ksic))
    stmt = stmt.order_by(FirmYear.business_no, FirmYear.year)
    return panel, paginate(session, stmt, page, per_page)


# --- the blank sheet ---------------------------------------------------------------------------


def template_rows() -> tuple[list[str], list[list[object]]]:
    """The headers in the reader's language and an example row (its business number fails the
    check digit, so a sheet sent back unchanged stores nothing)."""
    english = get_locale() == "en"
    headers = [c.label_en if english else c.label_ko for c in PANEL_COLUMNS]
    example = ["123-45-67890", 2023, "C291", "경기" if not english else "Gyeonggi-do"]
    example += [1_250_000_000, -35_000_000, 48_000_000, 42, 310_000_000]
    return headers, [example]


# --- the background job ------------------------------------------------------------------------


def run_job(session: Session, actor: Actor, params: dict, report: Reporter) -> dict:
    """``import.impact_panel``: the uploaded extract, read from storage and imported in the job's
    one transaction; an all-or-nothing import with bad rows fails and lists them."""
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
    panel_id = params.get("panel_id")
    organization_id = params.get("organization_id")
    result = import_panel(
        session,
        actor,
        table,
        panel_id=int(panel_id) if panel_id is not None else None,
        name=params.get("name", ""),
        source=params.get("source", "administrative"),
        note=params.get("note", ""),
        organization_id=int(organization_id) if organization_id is not None else None,
        mode=params.get("mode", "all"),
        mapping=mapping,
        progress=progress,
        amount_unit=params.get("amount_unit", "auto"),
    )
    if not result.committed:
        raise import_jobs.refused(
            result.as_dict(), rejected=len(result.rejected), all_or_nothing=result.mode == "all"
        )
    return result.as_dict()


def register() -> None:
    register_kind(JOB_KIND, Msg("Import a firm-year panel"), run_job)
