"""An SME's own factory datasets: import (checked by row, all-or-nothing or keep-the-good), storage
as Parquet under the organization's own folder, reading with DuckDB, and who may read them.

Nobody but the SME's own members may read a dataset — not the platform's administrators — unless
the SME consents, per dataset, to the operator of one of its programs. Consent is recorded and
revocable; its history is kept.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import Forbidden, InvalidInput, NotFound
from sangsaeng.core.files import service as files
from sangsaeng.core.i18n import Msg, get_locale, gettext
from sangsaeng.core.imports import jobs as import_jobs
from sangsaeng.core.imports import reader
from sangsaeng.core.imports.mapping import auto_map
from sangsaeng.core.imports.reader import Table
from sangsaeng.core.imports.service import RowError
from sangsaeng.core.jobs.service import Reporter, register_kind
from sangsaeng.core.models import Organization, utcnow
from sangsaeng.core.policy import Actor, Role
from sangsaeng.factory import schema
from sangsaeng.factory.models import (
    DATASET_KINDS,
    PROCESS,
    PRODUCTION,
    DatasetConsent,
    FactoryDataset,
)
from sangsaeng.programs import service as programs

JOB_KIND = "import.factory_dataset"
Progress = Callable[[int, int], None]
FIRST_DAY = date(2000, 1, 1)
ERRORS_LISTED = 500  # rejected rows listed in the result (all of them are counted)
KIND_LABELS = {
    "production": Msg("Production records"),
    "inspection": Msg("Quality inspections"),
    "process": Msg("Process parameters"),
    "orders": Msg("Orders and shipments"),
}


@dataclass
class DatasetImportResult:
    encoding: str
    mode: str
    total_rows: int
    stored_rows: int = 0
    rejected_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    committed: bool = False
    dataset_id: int | None = None

    def as_dict(self) -> dict:
        return {
            "encoding": self.encoding,
            "mode": self.mode,
            "committed": self.committed,
            "dataset_id": self.dataset_id,
            "total_rows": self.total_rows,
            "stored_rows": self.stored_rows,
            "rejected_rows": self.rejected_rows,
            "rejected": [
                {"row": e.row, "column": e.column, "reason": e.reason} for e in self.errors
            ],
            "warnings": self.warnings,
        }


# --- storage ----------


def storage_root() -> Path:
    """Factory data sits beside the uploads, in the installation's data folder."""
    return files.current_storage().root.parent / "factory"


def dataset_path(dataset: FactoryDataset) -> Path:
    if not dataset.storage_key:
        raise NotFound()
    return storage_root() / dataset.storage_key


def _write_parquet(frame: pd.DataFrame, organization_id: int) -> str:
    key = f"org-{organization_id}/{secrets.token_hex(12)}.parquet"
    target = storage_root() / key
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), partial)
    partial.replace(target)  # readers never see half a file
    return key


def query(dataset: FactoryDataset, sql: str, params: list | None = None) -> pd.DataFrame:
    """Run ``sql`` with the dataset's rows as the table ``rows`` (DuckDB reads the Parquet)."""
    with duckdb.connect() as connection:
        connection.execute("SET threads TO 2")
        connection.read_parquet(str(dataset_path(dataset))).create_view("rows")
        return connection.execute(sql, params or []).df()


def read_frame(dataset: FactoryDataset) -> pd.DataFrame:
    return query(dataset, "SELECT * FROM rows")


def summarise(dataset: FactoryDataset) -> list[dict]:
    """Per column: its type, how many values are present, distinct values and, for numbers and
    dates, the range and (numbers) the mean — DuckDB's SUMMARIZE over the whole file."""
    frame = query(dataset, "SUMMARIZE rows")
    out = []
    for row in frame.itertuples(index=False):
        numeric = row.column_type in ("DOUBLE", "FLOAT", "BIGINT", "INTEGER")
        present = round(row.count * (1 - float(row.null_percentage) / 100))
        out.append(
            {
                "column": row.column_name,
                "type": "number" if numeric else str(row.column_type).lower(),
                "present": present,
                "distinct": int(row.approx_unique),
                "min": None if row.min is None else str(row.min)[:40],
                "max": None if row.max is None else str(row.max)[:40],
                "mean": float(row.avg) if numeric and row.avg is not None else None,
            }
        )
    return out


def delete_dataset(session: Session, actor: Actor, dataset_id: int) -> None:
    """The SME removes its data: the row (its consents and analyses go with it) and the file."""
    dataset = get_owned(session, actor, dataset_id)
    path = dataset_path(dataset) if dataset.storage_key else None
    record(
        session,
        actor,
        "factory.dataset_delete",
        object_type="factory_dataset",
        object_id=dataset.id,
        organization_id=dataset.organization_id,
        details={"kind": dataset.kind, "rows": dataset.n_rows, "name": dataset.name},
    )
    session.delete(dataset)
    session.flush()
    if path is not None:
        path.unlink(missing_ok=True)  # after the row is gone: a failed flush keeps both


# --- who may do what ----------


def owner_orgs(actor: Actor) -> set[int]:
    """The SMEs whose data the actor speaks for."""
    return actor.org_ids(Role.SME)


def _consented_operator(session: Session, actor: Actor, dataset: FactoryDataset) -> bool:
    operators = actor.org_ids(Role.OPERATOR)
    if not operators:
        return False
    hit = session.scalar(
        select(DatasetConsent.id).where(
            DatasetConsent.dataset_id == dataset.id,
            DatasetConsent.operator_org_id.in_(operators),
            DatasetConsent.revoked_at.is_(None),
        )
    )
    return hit is not None


def can_read(session: Session, actor: Actor, dataset: FactoryDataset) -> bool:
    if actor.system or dataset.organization_id in owner_orgs(actor):
        return True
    return _consented_operator(session, actor, dataset)


def get_dataset(session: Session, actor: Actor, dataset_id: int) -> FactoryDataset:
    """404 unless the actor may read it: even its existence is the SME's own."""
    dataset = session.get(FactoryDataset, dataset_id)
    if dataset is None or not can_read(session, actor, dataset):
        raise NotFound()
    return dataset


def get_owned(session: Session, actor: Actor, dataset_id: int) -> FactoryDataset:
    """The SME's own dataset: consented operators may read it but not manage it (403)."""
    dataset = get_dataset(session, actor, dataset_id)
    if not actor.system and dataset.organization_id not in owner_orgs(actor):
        raise Forbidden()
    return dataset


def list_datasets(session: Session, actor: Actor) -> list[FactoryDataset]:
    consented = (
        select(DatasetConsent.dataset_id).where(
            DatasetConsent.operator_org_id.in_(actor.org_ids(Role.OPERATOR)),
            DatasetConsent.revoked_at.is_(None),
        )
        if actor.has_role(Role.OPERATOR)
        else None
    )
    clauses = [FactoryDataset.organization_id.in_(owner_orgs(actor))]
    if consented is not None:
        clauses.append(FactoryDataset.id.in_(consented))
    stmt = select(FactoryDataset).where(or_(*clauses))
    return list(session.scalars(stmt.order_by(FactoryDataset.uploaded_at.desc())))


def ensure_can_upload(session: Session, actor: Actor) -> list[Organization]:
    """The organizations the actor may upload for (its SMEs); 403 for everyone else."""
    orgs = [session.get(Organization, i) for i in sorted(owner_orgs(actor))]
    if not orgs:
        raise Forbidden()
    return [o for o in orgs if o is not None]


def upload_org(session: Session, actor: Actor, organization_id: int | None) -> int:
    orgs = ensure_can_upload(session, actor)
    if organization_id is None:
        return orgs[0].id
    if organization_id not in {o.id for o in orgs}:
        raise Forbidden()
    return organization_id


# --- consent ----------


def consent_choices(session: Session, actor: Actor, dataset: FactoryDataset) -> list:
    """The programs the SME takes part in, whose operators it may let read the dataset."""
    get_owned(session, actor, dataset.id)
    return programs.programs_of_organization(session, dataset.organization_id)


def consents(session: Session, dataset: FactoryDataset) -> list[DatasetConsent]:
    return list(
        session.scalars(
            select(DatasetConsent)
            .where(DatasetConsent.dataset_id == dataset.id)
            .order_by(DatasetConsent.granted_at.desc(), DatasetConsent.id.desc())
        )
    )


def grant_consent(
    session: Session, actor: Actor, dataset_id: int, program_id: object
) -> DatasetConsent:
    dataset = get_owned(session, actor, dataset_id)
    text = str(program_id or "").strip()
    choices = {p.id: p for p in consent_choices(session, actor, dataset)}
    program = choices.get(int(text)) if text.isdigit() and len(text) < 12 else None
    if program is None:
        raise InvalidInput({"program_id": Msg("Choose one of the programs you take part in.")})
    active = session.scalar(
        select(DatasetConsent).where(
            DatasetConsent.dataset_id == dataset.id,
            DatasetConsent.program_id == program.id,
            DatasetConsent.revoked_at.is_(None),
        )
    )
    if active is not None:
        return active  # consenting twice changes nothing
    consent = DatasetConsent(
        dataset_id=dataset.id,
        program_id=program.id,
        operator_org_id=program.operator_org_id,
        granted_by_id=actor.user_id or None,
    )
    session.add(consent)
    session.flush()
    record(
        session,
        actor,
        "factory.consent_grant",
        object_type="factory_dataset",
        object_id=dataset.id,
        organization_id=dataset.organization_id,
        details={"program_id": program.id, "operator_org_id": program.operator_org_id},
    )
    return consent


def revoke_consent(session: Session, actor: Actor, dataset_id: int, consent_id: int) -> None:
    dataset = get_owned(session, actor, dataset_id)
    consent = session.get(DatasetConsent, consent_id)
    if consent is None or consent.dataset_id != dataset.id:
        raise NotFound()
    if consent.revoked_at is not None:
        return
    consent.revoked_at, consent.revoked_by_id = utcnow(), actor.user_id or None
    session.flush()
    record(
        session,
        actor,
        "factory.consent_revoke",
        object_type="factory_dataset",
        object_id=dataset.id,
        organization_id=dataset.organization_id,
        details={"program_id": consent.program_id},
    )


# --- checking rows ----------


def _rows_of(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask)


class _Checker:
    """Collects row errors against the file's own headers; a row with any error is rejected."""

    def __init__(self, n: int, first_row: int):
        self.bad = np.zeros(n, dtype=bool)
        self.errors: list[RowError] = []
        self.first_row = first_row

    def flag(self, mask, header: str, reason: Msg) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        self.bad |= mask
        text = str(reason)
        for index in _rows_of(mask)[:ERRORS_LISTED]:
            self.errors.append(RowError(int(index) + self.first_row, header, text))


_DOTTED_DATE = r"^(\d{4})[./]\s*(\d{1,2})[./]\s*(\d{1,2})\.?"
_BLANKS = {"", "-", "nan", "none", "null", "n/a"}


def _blank(raw: pd.Series) -> pd.Series:
    return raw.isna() | raw.astype(str).str.strip().str.lower().isin(_BLANKS)


def _numbers(raw: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(raw):
        return raw.astype(float)
    cleaned = raw.astype(str).str.strip().str.replace(",", "", regex=False)
    return pd.to_numeric(cleaned, errors="coerce")


def _dates(raw: pd.Series, with_time: bool) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(raw):
        values = raw
    else:
        text = raw.astype(str).str.strip()
        # Korean spreadsheets write 2026.03.02, 2026/03/02 or 2026. 3. 2.
        text = text.str.replace(
            r"^(\d{4})[./]\s*(\d{1,2})[./]\s*(\d{1,2})\.?", r"\1-\2-\3", regex=True
        )
        values = pd.to_datetime(text, errors="coerce", format="mixed")
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("Asia/Seoul").dt.tz_localize(None)
    return values if with_time else values.dt.normalize()


def _header(columns: dict[str, int], headers: list[str], key: str) -> str:
    return headers[columns[key]] if key in columns else key


def check_rows(
    kind: str,
    frame: pd.DataFrame,
    columns: dict[str, int],
    *,
    first_row: int = 2,
    today: date | None = None,
) -> tuple[pd.DataFrame, _Checker, list[str]]:
    """Our typed columns from the file's (mapped by ``columns``: our key → column index), with
    every rule checked per row. Returns the clean frame (all rows), the checker and warnings."""
    headers = [str(h) for h in frame.columns]
    types = schema.field_types(kind)
    required = {f.key for f in schema.FIELDS[kind] if f.column.required}
    check = _Checker(len(frame), first_row)
    last_day = pd.Timestamp(today or date.today()) + pd.Timedelta(days=366)
    out = pd.DataFrame(index=frame.index)
    warnings: list[str] = []
    for key, kind_of_value in types.items():
        header = _header(columns, headers, key)
        if key not in columns:
            out[key] = np.nan if kind_of_value == schema.NUMBER else None
            continue
        raw = frame.iloc[:, columns[key]]
        blank = _blank(raw).to_numpy()
        if key in required:
            check.flag(blank, header, Msg("This value is required."))
        if kind_of_value == schema.NUMBER:
            values = _numbers(raw)
            check.flag(values.isna().to_numpy() & ~blank, header, Msg("Enter a number."))
            check.flag((values < 0).to_numpy(), header, Msg("Enter zero or a positive number."))
            out[key] = values.astype(float)
        elif kind_of_value in (schema.DATE, schema.DATETIME):
            values = _dates(raw, kind_of_value == schema.DATETIME)
            check.flag(values.isna().to_numpy() & ~blank, header, Msg("Enter a date (YYYY-MM-DD)."))
            outside = ((values < pd.Timestamp(FIRST_DAY)) | (values > last_day)).to_numpy()
            check.flag(
                outside & ~values.isna().to_numpy(),
                header,
                Msg(
                    "The date must fall between {first} and {last}.",
                    first=FIRST_DAY.isoformat(),
                    last=last_day.date().isoformat(),
                ),
            )
            out[key] = values
        else:
            out[key] = raw.astype(str).str.strip().where(~blank, None)
    _check_kind(kind, out, columns, headers, check, warnings)
    if kind in schema.KEEPS_EXTRA_COLUMNS:
        _extra_columns(frame, columns, out, warnings)
    return out, check, warnings


def _check_kind(kind, out, columns, headers, check: _Checker, warnings: list[str]) -> None:
    def h(key: str) -> str:
        return _header(columns, headers, key)

    if kind == PRODUCTION:
        check.flag(
            (out["good_count"] > out["total_count"]).to_numpy(),
            h("good_count"),
            Msg("More good units than units produced."),
        )
        produced = out["good_count"] + out["defect_count"]
        check.flag(
            (produced > out["total_count"] + 1e-9).to_numpy(),
            h("defect_count"),
            Msg("Good and defective units add up to more than the units produced."),
        )
        check.flag(
            (out["downtime_minutes"] > out["planned_minutes"]).to_numpy(),
            h("downtime_minutes"),
            Msg("Downtime is longer than the planned time."),
        )
        if "start" in columns and "end" in columns:
            start = _dates(pd.Series(out["start"]), True)
            end = _dates(pd.Series(out["end"]), True)
            given = out["start"].notna() & out["end"].notna()
            check.flag(
                (given & (start.isna() | end.isna())).to_numpy(),
                h("start"),
                Msg("Enter a date and time (YYYY-MM-DD HH:MM)."),
            )
            check.flag(
                (given & (end < start)).to_numpy(),
                h("end"),
                Msg("The end time is before the start time."),
            )
            out["start"], out["end"] = start, end
            if "run_minutes" not in columns:
                span = (end - start).dt.total_seconds() / 60
                out["run_minutes"] = (span - out["downtime_minutes"].fillna(0)).clip(lower=0)
        else:
            out["start"] = out["end"] = pd.NaT
        missing_defects = out["defect_count"].isna()
        out.loc[missing_defects, "defect_count"] = (out["total_count"] - out["good_count"])[
            missing_defects
        ]
    elif kind == "inspection":
        check.flag(
            (out["lsl"] > out["usl"]).to_numpy(),
            h("lsl"),
            Msg("The lower specification limit is above the upper one."),
        )
        neither = out["value"].isna() & out["result"].isna()
        check.flag(
            neither.to_numpy(), h("value"), Msg("Enter a measured value or a pass/fail result.")
        )
    elif kind == "orders":
        check.flag(
            (out["delivery_date"] < out["order_date"]).to_numpy(),
            h("delivery_date"),
            Msg("The delivery date is before the order date."),
        )
        check.flag(
            (out["due_date"] < out["order_date"]).to_numpy(),
            h("due_date"),
            Msg("The due date is before the order date."),
        )
    elif kind == PROCESS:
        if "date" not in columns and "time" not in columns:
            raise InvalidInput(
                {"mapping": Msg("A date or a date-and-time column is required.")},
                message=Msg("A date or a date-and-time column is required."),
            )
        if "time" in columns:
            out["date"] = pd.to_datetime(out["date"]).fillna(out["time"].dt.normalize())
        check.flag(out["date"].isna().to_numpy(), h("date"), Msg("This value is required."))


def _extra_columns(frame, columns, out, warnings) -> None:
    """Every column the file has beyond ours is kept: numbers where the column reads as numbers."""
    used = set(columns.values())
    for index, header in enumerate(frame.columns):
        name = str(header).strip()
        if index in used or not name or name in out.columns:
            continue
        raw = frame.iloc[:, index]
        blank = _blank(raw)
        values = _numbers(raw)
        if (values.notna() | blank).all() and values.notna().any():
            out[name] = values.astype(float)
        else:
            out[name] = raw.astype(str).str.strip().where(~blank, None)


def _mapping(kind: str, headers: list[str], mapping: dict[str, int] | None) -> dict[str, int]:
    found = dict(mapping) if mapping is not None else auto_map(headers, schema.columns(kind))
    missing = [f.column for f in schema.FIELDS[kind] if f.column.required and f.key not in found]
    if missing:
        english = get_locale() == "en"
        names = ", ".join(c.label_en if english else c.label_ko for c in missing)
        message = Msg(
            "These required columns were not found: {names}. Is this a file of another kind "
            "or layout? Map its columns below.",
            names=names,
        )
        raise InvalidInput({"mapping": message}, message=message)
    if any(not 0 <= i < len(headers) for i in found.values()):
        raise InvalidInput(
            {"mapping": Msg("The column mapping refers to a column the file lacks.")}
        )
    return found


def table_frame(table: Table) -> pd.DataFrame:
    frame = pd.DataFrame(table.rows, columns=range(len(table.headers)), dtype=object)
    frame.columns = table.headers
    return frame


def read_upload(data: bytes, filename: str, encoding: str = "auto") -> tuple[pd.DataFrame, str]:
    """The uploaded file as text cells under its own headers (Parquet keeps its types)."""
    if data[:4] == b"PAR1" or filename.lower().endswith(".parquet"):
        try:
            frame = pq.read_table(pa.BufferReader(data)).to_pandas()
        except (pa.ArrowInvalid, OSError) as exc:
            raise InvalidInput({"file": Msg("The Parquet file cannot be read.")}) from exc
        if len(frame) > reader.MAX_ROWS:
            raise InvalidInput(
                {"file": Msg("The file has more than {n} rows.", n=f"{reader.MAX_ROWS:,}")}
            )
        return frame, "parquet"
    table = reader.read_table(data, filename, encoding)
    return table_frame(table), table.encoding


# --- the import ----------


def template_rows(kind: str) -> tuple[list[str], list[list]]:
    """Our headers of one kind (Korean, required ones marked *) and a row saying which are."""
    fields = schema.FIELDS[kind]
    headers = [f.column.label_ko for f in fields]
    note = [gettext("required") if f.column.required else "" for f in fields]
    return headers, [note]


def clean_name(name: str, kind: str) -> str:
    text = " ".join(str(name or "").split())
    if len(text) > 200:
        raise InvalidInput({"name": Msg("Enter a name of 1 to 200 characters.")})
    return text or f"{KIND_LABELS[kind]} {date.today().isoformat()}"


def check_kind(kind: object) -> str:
    if kind not in DATASET_KINDS:
        raise InvalidInput({"kind": Msg("Choose what the file holds.")})
    return str(kind)


def import_dataset(
    session: Session,
    actor: Actor,
    frame: pd.DataFrame,
    *,
    kind: str,
    name: str = "",
    organization_id: int | None = None,
    encoding: str = "utf-8",
    mode: str = "all",
    mapping: dict[str, int] | None = None,
    first_row: int = 2,
    source_file_id: str | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> DatasetImportResult:
    """Check every row; store the good ones as Parquet (``all``: only when none is bad)."""
    kind = check_kind(kind)
    org_id = upload_org(session, actor, organization_id)
    name = clean_name(name, kind)
    mode = mode if mode in ("all", "good") else "all"
    headers = [str(h) for h in frame.columns]
    columns = _mapping(kind, headers, mapping)
    result = DatasetImportResult(encoding=encoding, mode=mode, total_rows=len(frame))
    if progress:
        progress(1, 4)
    clean, check, warnings = check_rows(kind, frame, columns, first_row=first_row)
    result.errors = sorted(check.errors, key=lambda e: (e.row, e.column))
    result.rejected_rows = int(check.bad.sum())
    result.warnings = warnings
    good = clean.loc[~check.bad]
    result.stored_rows = len(good)
    if progress:
        progress(2, 4)
    if dry_run:
        return result
    if (mode == "all" and result.rejected_rows) or good.empty:
        result.stored_rows = 0
        return result  # nothing written
    key = _write_parquet(good.reset_index(drop=True), org_id)
    if progress:
        progress(3, 4)
    days = (good["date"] if "date" in good else good["order_date"]).dropna()
    dataset = FactoryDataset(
        organization_id=org_id,
        kind=kind,
        name=name,
        storage_key=key,
        source_file_id=source_file_id,
        columns={k: headers[i] for k, i in columns.items()},
        extra_columns=[c for c in good.columns if c not in schema.field_types(kind)],
        n_rows=len(good),
        period_start=days.min().date().isoformat()
        if days is not None and days.notna().any()
        else None,
        period_end=days.max().date().isoformat()
        if days is not None and days.notna().any()
        else None,
        uploaded_by_id=actor.user_id or None,
    )
    session.add(dataset)
    session.flush()
    result.committed, result.dataset_id = True, dataset.id
    record(
        session,
        actor,
        "factory.dataset_import",
        object_type="factory_dataset",
        object_id=dataset.id,
        organization_id=org_id,
        details={"kind": kind, "rows": len(good), "rejected": result.rejected_rows, "mode": mode},
    )
    if progress:
        progress(4, 4)
    return result


def run_job(session: Session, actor: Actor, params: dict, report: Reporter) -> dict:
    """``import.factory_dataset``: the uploaded file read from storage, checked and stored."""
    report(1, gettext("Reading the file."))
    data = files.read_for_job(session, actor, files.current_storage(), params["file_id"])
    frame, encoding = read_upload(data, params.get("filename", ""), params.get("encoding", "auto"))

    def progress(done: int, total: int) -> None:
        report(
            5 + int(90 * done / total),
            gettext("Checked {done} of {total}.", done=done, total=total),
        )

    mapping = params.get("mapping")
    if mapping is not None:
        mapping = {key: int(index) for key, index in mapping.items()}
    result = import_dataset(
        session,
        actor,
        frame,
        kind=params.get("kind", ""),
        name=params.get("name", ""),
        organization_id=params.get("organization_id"),
        encoding=encoding,
        mode=params.get("mode", "all"),
        mapping=mapping,
        first_row=1 if encoding == "parquet" else 2,
        source_file_id=params["file_id"],
        progress=progress,
    )
    if not result.committed:
        raise import_jobs.refused(
            result.as_dict(), rejected=result.rejected_rows, all_or_nothing=result.mode == "all"
        )
    return {**result.as_dict(), "link": f"/factory/datasets/{result.dataset_id}"}


def register() -> None:
    register_kind(JOB_KIND, Msg("Import a factory dataset"), run_job)
