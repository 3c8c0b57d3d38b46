"""Factory tables: an SME's production datasets (the rows live in Parquet files under the
organization's own folder; these tables hold what describes them), the consents that let a
program's operator read one, the standards OEE needs (shift calendar, ideal cycle times) and the
analyses run on the data."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sangsaeng.core.models import UtcDateTime, utcnow
from sangsaeng.db import Base

# What a dataset holds (DESIGN: production records, quality inspections, process parameters,
# orders and shipments).
PRODUCTION, INSPECTION, PROCESS, ORDERS = "production", "inspection", "process", "orders"
DATASET_KINDS = (PRODUCTION, INSPECTION, PROCESS, ORDERS)
ANALYSIS_KINDS = ("oee", "spc", "forecast", "root_cause")

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class FactoryDataset(Base):
    """One upload of an SME's own data, stored as Parquet (``storage_key``, relative to the
    installation's factory folder). A row exists only once its import succeeded (the import's
    progress and refusals are its job's). Re-uploading makes a new dataset; rows are never
    edited."""

    __tablename__ = "factory_datasets"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    storage_key: Mapped[str | None] = mapped_column(String(200))
    source_file_id: Mapped[str | None] = mapped_column(String(36))
    # Our column → the file's header it came from; what the rows hold (for the summary page).
    columns: Mapped[dict] = mapped_column(JSON, default=dict)
    extra_columns: Mapped[list] = mapped_column(JSON, default=list)  # process parameters etc.
    n_rows: Mapped[int] = mapped_column(Integer, default=0)
    period_start: Mapped[str | None] = mapped_column(String(10))  # ISO dates of the rows
    period_end: Mapped[str | None] = mapped_column(String(10))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DatasetConsent(Base):
    """The SME lets the operator of one of its programs read one dataset. Revoking keeps the
    row (who granted, who revoked, when): the history is the record of consent."""

    __tablename__ = "factory_dataset_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("factory_datasets.id", ondelete="CASCADE"), index=True
    )
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    operator_org_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Shift(Base):
    """A shift of the SME's calendar: planned production time is its length less breaks, on
    the weekdays it runs (Mon=0 … Sun=6), for every machine unless one is named."""

    __tablename__ = "factory_shifts"
    __table_args__ = (UniqueConstraint("organization_id", "name", "machine"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(40))
    machine: Mapped[str] = mapped_column(String(80), default="")  # "" = every machine
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)  # before ``starts`` = runs past midnight
    break_minutes: Mapped[int] = mapped_column(Integer, default=0)
    weekdays: Mapped[str] = mapped_column(String(7), default="01234")


class CycleTime(Base):
    """The ideal cycle time of a product on a machine ("" = any machine), which performance is
    measured against."""

    __tablename__ = "factory_cycle_times"
    __table_args__ = (UniqueConstraint("organization_id", "product", "machine"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    product: Mapped[str] = mapped_column(String(80))
    machine: Mapped[str] = mapped_column(String(80), default="")
    ideal_cycle_seconds: Mapped[float] = mapped_column(Float)


class FactoryAnalysis(Base):
    """An analysis of one dataset (OEE, SPC, forecast, root causes): what was asked, the job
    that ran it and its result (aggregates and charts' data)."""

    __tablename__ = "factory_analyses"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )  # the dataset's owner
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("factory_datasets.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    job_id: Mapped[str | None] = mapped_column(String(36))
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[dict | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
